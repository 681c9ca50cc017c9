"""The flag list (预警, issue 24 part 3): red first then the longest open, sortable columns, unit,
list, category, rule and plan filters (?plan=CODE honoured), CSV and XLSX of the filtered rows,
text written as text, scoped to a unit user's units."""
import csv
import datetime
import io
import re

import pytest
from openpyxl import load_workbook

from portfolio.models import Flag
from projects.models import Category, Item, ItemUnit, ListKind, Plan, PlanState, Unit
from tests.conftest import PLAN_CODE, UNIT_A

pytestmark = pytest.mark.django_db

SEVERITY_RANK = {"红": 0, "黄": 1, "提示": 2}


def csv_rows(response):
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]


def open_flags(**filters):
    return Flag.objects.filter(resolved_on__isnull=True, **filters)


def test_red_flags_come_before_yellow_and_the_longest_open_first(client, leader):
    reds = list(open_flags(severity="red").order_by("pk")[:3])
    yellows = list(open_flags(severity="yellow").order_by("pk")[:3])
    assert len(reds) == 3 and len(yellows) == 3
    # a yellow flag open for a long time still comes after every red one
    Flag.objects.filter(pk=yellows[0].pk).update(opened_on=datetime.date(2026, 1, 2))
    Flag.objects.filter(pk=reds[1].pk).update(opened_on=datetime.date(2026, 3, 1))
    Flag.objects.filter(pk=reds[2].pk).update(opened_on=datetime.date(2026, 5, 1))
    client.force_login(leader)
    header, rows = csv_rows(client.get("/flags/?_export=csv"))
    assert header[:2] == ["严重程度", "已持续（天）"]
    keys = [(SEVERITY_RANK[r["严重程度"]], -int(r["已持续（天）"])) for r in rows]
    assert keys == sorted(keys)
    same = [r for r in rows if r["严重程度"] == "红" and r["发现日期"] == rows[3]["发现日期"]]
    assert len(same) > 1 and same == sorted(same, key=lambda r: int(r["事项"].split(".")[0]))  # then by 序号
    assert rows[0]["事项"].endswith(reds[1].item.name) and rows[1]["事项"].endswith(reds[2].item.name)
    first_yellow = next(r for r in rows if r["严重程度"] == "黄")
    assert first_yellow["事项"].endswith(yellows[0].item.name)
    # the page shows the same order
    html = client.get("/flags/").content.decode()
    badges = [{"red": 0, "yellow": 1, "info": 2}[b] for b in re.findall(r'data-severity="(\w+)"', html)]
    assert badges == sorted(badges) and badges[0] == 0
    assert html.index(reds[1].item.name) < html.index(reds[2].item.name)


def test_columns_sort_both_ways(client, leader):
    client.force_login(leader)
    _, rows = csv_rows(client.get("/flags/?_export=csv&sort=opened_on"))
    dates = [r["发现日期"] for r in rows]
    assert dates == sorted(dates)
    _, rows = csv_rows(client.get("/flags/?_export=csv&sort=-severity"))
    ranks = [SEVERITY_RANK[r["严重程度"]] for r in rows]
    assert ranks == sorted(ranks, reverse=True)
    _, rows = csv_rows(client.get("/flags/?_export=csv&sort=list_kind"))
    order = {k.label: i for i, k in enumerate(ListKind)}
    lists = [order[r["清单"]] for r in rows]
    assert lists == sorted(lists) and len(set(lists)) > 1
    page = client.get("/flags/?sort=-days_open").content.decode()
    assert 'id="flag-table"' in page and "已持续（天）" in page


def test_unit_list_category_and_rule_filters(client, leader, real_plan):
    client.force_login(leader)
    unit = Unit.objects.get(name=UNIT_A)
    category = Category.objects.filter(plan=real_plan, list_kind=ListKind.PROJECT,
                                       items__flags__kind="overdue",
                                       items__unit_links__unit__name=UNIT_A).distinct().first()
    query = f"unit={unit.pk}&list_kind=project&category={category.pk}&kind=overdue"
    _, rows = csv_rows(client.get(f"/flags/?{query}&_export=csv"))
    expected = open_flags(kind="overdue", item__list_kind=ListKind.PROJECT, item__category=category,
                          item__unit_links__unit=unit).distinct()
    assert expected.exists()
    assert len(rows) == expected.count()
    for r in rows:
        assert r["预警规则"] == "逾期" and r["清单"] == "重大项目" and r["类别"] == category.name
        assert UNIT_A in r["责任单位"] and r["规划"] == real_plan.name
    html = client.get(f"/flags/?{query}").content.decode()
    assert f"共 {expected.count()} 条" in html


def test_the_plan_filter_takes_the_plans_code(client, leader, real_plan):
    other = Plan.objects.create(code="t-15", name="测试十五五规划", start_year=2026, end_year=2030,
                                state=PlanState.ACTIVE)
    item = Item.objects.create(plan=other, list_kind=ListKind.PROJECT, seq=1, name="十五五测试项目")
    Flag.objects.create(item=item, kind="unassigned", severity="yellow", opened_on=datetime.date(2026, 2, 1),
                        changed_on=datetime.date(2026, 2, 1))
    client.force_login(leader)
    _, rows = csv_rows(client.get("/flags/?plan=t-15&_export=csv"))
    assert [r["事项"] for r in rows] == ["1. 十五五测试项目"] and rows[0]["规划"] == "测试十五五规划"
    _, rows = csv_rows(client.get(f"/flags/?plan={PLAN_CODE}&_export=csv"))
    assert len(rows) == open_flags(item__plan=real_plan).count()
    assert all(r["规划"] == real_plan.name for r in rows)
    html = client.get("/flags/?plan=t-15").content.decode()
    assert "共 1 条" in html and re.search(r'<option value="t-15"[^>]*selected', html)
    bad = client.get("/flags/?plan=nope")
    assert bad.status_code == 200 and "选择一个有效的选项" in bad.content.decode()


def test_exports_write_text_as_text_and_stay_within_a_unit_users_units(client, unit_a_user, real_plan):
    mine = Item.objects.filter(unit_links__unit__name=UNIT_A).distinct()
    item = mine.filter(flags__resolved_on__isnull=True).first()
    Item.objects.filter(pk=item.pk).update(name="=HYPERLINK(\"http://x\")")
    client.force_login(unit_a_user)
    _, rows = csv_rows(client.get("/flags/?_export=csv"))
    assert len(rows) == open_flags(item__in=mine).count() > 0
    assert all(UNIT_A in r["责任单位"] for r in rows)
    assert any(r["事项"] == f"{item.seq}. =HYPERLINK(\"http://x\")" for r in rows)
    response = client.get("/flags/?_export=xlsx")
    assert response["Content-Disposition"].startswith("attachment")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = list(sheet.values)
    assert list(values[0][:3]) == ["严重程度", "已持续（天）", "预警规则"]
    assert len(values) - 1 == len(rows)
    names = [c for c in sheet["F"][1:] if c.value and "HYPERLINK" in c.value]
    assert names and all(c.data_type == "s" for c in names)
    # another unit's flags are not reachable by filtering for its unit: the choice is refused
    other = ItemUnit.objects.exclude(item__in=mine).values_list("unit_id", flat=True).first()
    _, rows = csv_rows(client.get(f"/flags/?unit={other}&_export=csv"))
    assert rows and all(UNIT_A in r["责任单位"] for r in rows)
    assert "选择一个有效的选项" in client.get(f"/flags/?unit={other}").content.decode()


def test_the_flag_page_has_one_navigation_landmark_without_a_name(client, leader):
    client.force_login(leader)
    html = client.get("/flags/").content.decode()
    assert html.count("<main") == 1
    unnamed = [tag for tag in re.findall(r"<nav[^>]*>", html) if "aria-label" not in tag]
    assert len(unnamed) <= 1, unnamed
