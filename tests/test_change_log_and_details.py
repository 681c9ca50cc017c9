"""Issue 24 part 10 and its smaller findings: the change log speaks Chinese with field labels and
values, never a model's repr; a carried entry's page shows its predecessor's closing status, light
and period investment; 填报情况 shows each unit's contact; a batch upload lists the rows it saved."""
import datetime
import re
from decimal import Decimal as D

from django.utils.html import escape

from projects.continuation import set_predecessor
from projects.lifecycle import mark_closed
from projects.models import Item, ItemStatus, ListKind, Plan, PlanState, Role, Unit
from tests.conftest import UNIT_A, make_user
from tests.test_access_and_reports import body_of, login, month_back
from tests.test_reports_batch import download, fill, project_rows, upload


def history_text(client, item):
    html = body_of(client.get(f"/items/{item.pk}/?tab=history"))
    table = re.search(r'<table class="table table-sm" id="history-table">(.*?)</table>', html, re.DOTALL).group(1)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", table))


def carried_entry(old_plan):
    """A 十五五 plan continuing the real one, and its entry carrying on 重大项目 1."""
    old = Item.objects.get(plan=old_plan, list_kind=ListKind.PROJECT, seq=1)
    plan = Plan.objects.create(code="ojk-15", name="瓯江口产业集聚区发展“十五五”规划", start_year=2026, end_year=2030,
                               state=PlanState.ACTIVE, predecessor=old_plan)
    new = Item.objects.create(plan=plan, list_kind=ListKind.PROJECT, seq=7, name=old.name, status=ItemStatus.IN_PROGRESS,
                              start_year=2026, end_year=2028, total_investment=D(30), plan_investment=D(12))
    return old, new


def test_the_change_log_names_fields_and_values_in_chinese(client, planner, real_plan):
    old, new = carried_entry(real_plan)
    set_predecessor(new, old, planner)
    new.status = ItemStatus.COMPLETED
    new.total_investment = D("31.5")
    new.save()
    text = history_text(login(client, planner), new)
    assert "Deleted" not in text and "pk=" not in text and "None" not in text, text
    assert f"：（空） → 十四五 重大项目 #1 {old.name}" in text, text  # the link names the entry it continues
    assert "状态 ：推进中 → 已完成" in text and "总投资（亿元） ：30.00 → 31.50" in text, text
    assert "新增" in text, text  # the entry's creation
    # A removed unit link says what was removed, in words.
    link = old.unit_links.first()
    link._history_user = planner
    link.delete()
    text = history_text(client, old)
    assert f"责任单位 {link.unit.name} 删除" in text and "单位 ：" + link.unit.name in text, text
    assert "Deleted" not in text and "None" not in text, text


def test_a_carried_entry_shows_its_predecessors_closing_status_light_and_investment(client, planner, real_plan):
    old, new = carried_entry(real_plan)
    set_predecessor(new, old, planner)
    real_plan.state = PlanState.ACTIVE
    mark_closed(real_plan, datetime.date(2025, 12, 31))
    html = body_of(login(client, planner).get(f"/items/{new.pk}/"))
    block = re.search(r'id="predecessor-closing">(.*?)</dl>', html, re.DOTALL).group(1)
    assert "十四五 #1" in block and "2025-12-31 收官时" in block
    assert f'data-figure="predecessor-status">{old.get_status_display()}<' in block
    assert 'data-light="' + old.figures.light + '"' in block
    assert "“十四五”投资" in block
    expected = "待定" if old.plan_investment is None else f"{old.plan_investment:.2f}"
    assert expected in block


def test_the_reporting_status_shows_whom_to_call(client, planner, leader, real_plan):
    unit_user = make_user("econ_contact", Role.UNIT, [UNIT_A])
    unit_user.first_name, unit_user.last_name, unit_user.email = "伟", "王", "wangwei@example.com"
    unit_user.save()
    html = body_of(login(client, leader).get(f"/reports/status/?month={month_back(1):%Y-%m}"))
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", html, re.DOTALL) if escape(UNIT_A) in r)
    assert "王伟" in row and "wangwei@example.com" in row and "本单位用户" in row
    Unit.objects.filter(name=UNIT_A).update(contact_person="张三", contact_phone="0577-1234567")
    html = body_of(client.get(f"/reports/status/?month={month_back(1):%Y-%m}"))
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", html, re.DOTALL) if escape(UNIT_A) in r)
    assert "张三" in row and "0577-1234567" in row and "本单位用户" not in row


def test_a_batch_upload_lists_the_rows_it_saved(client, unit_a_user, real_plan):
    item_a = Item.objects.get(plan=real_plan, list_kind=ListKind.PROJECT, seq=1)
    book = download(login(client, unit_a_user))
    rows = project_rows(book.active)
    fill(rows[0], status="推进中", month_investment=0.5, cumulative_investment=2.5, progress_text="主体施工")
    fill(rows[2], progress_text="前期手续办理中")
    html = body_of(upload(client, book))
    saved = re.search(r'id="saved-rows">(.*?)</table>', html, re.DOTALL).group(1)
    lines = re.findall(r"<tr><td[^>]*>([^<]*第 \d+ 行)</td><td><a href=\"/items/(\d+)/\">", saved)
    assert [int(pk) for _, pk in lines] == [item_a.pk, project_items_in_template_order(rows)[2]]
    assert "2.50" in saved and f"{month_back(1):%Y年}{month_back(1).month}月" in saved
    # Sending the same file again saves nothing, and lists nothing.
    assert 'id="saved-rows"' not in body_of(upload(client, book))


def project_items_in_template_order(rows):
    from reporting.report_workbook import KEY_PATTERN

    return [int(KEY_PATTERN.match(row[0].value).group(1)) for row in rows]
