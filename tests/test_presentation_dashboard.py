"""A unit's dashboard covers all six lists, and the first screen explains its lights.

Runs on the real 瓯江口 plan (conftest), evaluated as of 2026-11-23, with no reports filed.
经济发展局（统计局，科技局） (unit B) has no 重大项目: its entries are platforms, industries,
reforms, policies and elements.
"""
import datetime
import re

import pytest
from django.db.models import Count

from portfolio.models import Flag, ItemFigures
from portfolio.summary import compute_dashboard
from projects.models import Item, ItemStatus, ListKind
from reporting.models import StatusReport

from .clock import freeze
from .conftest import REAL_AS_OF, UNIT_A, UNIT_B

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def on_the_figures_date(monkeypatch):
    """Today is the figures' date: the reporting card asks for today's month (2026-10)."""
    freeze(monkeypatch, REAL_AS_OF)


def figure(html, name):
    match = re.search(rf'data-figure="{re.escape(name)}"[^>]*>\s*([0-9]+)', html)
    assert match, name
    return int(match.group(1))


def unit_items(unit_name):
    return Item.objects.filter(unit_links__unit__name=unit_name).distinct()


def test_a_unit_without_projects_sees_its_lists_reports_and_flags(client, unit_b_user, real_plan):
    mine = unit_items(UNIT_B)
    assert not mine.filter(list_kind=ListKind.PROJECT).exists()
    client.force_login(unit_b_user)
    html = client.get("/").content.decode()
    # counts by list: every list it has entries on, none of another unit's
    for kind in ListKind:
        assert figure(html, f"count-{kind.value}") == mine.filter(list_kind=kind).count()
    # its reports due this month, per list
    owing = mine.filter(status=ItemStatus.IN_PROGRESS).count()
    assert owing > 0
    assert figure(html, "owing") == owing
    for kind in ListKind:
        n = mine.filter(list_kind=kind).count()
        if n:
            assert figure(html, f"owing-{kind.value}") == n
    assert "2026年10月 进度填报" in html
    # its open flags, by rule and entry by entry
    open_flags = Flag.objects.filter(item__in=mine, resolved_on__isnull=True)
    assert figure(html, "reason-report_missing") == open_flags.filter(kind="report_missing").count()
    flagged = re.search(r'<table[^>]*id="flagged-items".*?</table>', html, re.S).group(0)
    flagged_names = set(mine.filter(figures__light__in=["red", "yellow"]).values_list("name", flat=True))
    assert flagged_names and all(name in flagged for name in flagged_names)
    assert "逾期未报：2026-10 月进度未报" in flagged
    # no project money where there are no projects, and it says why
    assert 'data-figure="total"' not in html and 'id="chart-category"' not in html
    assert 'id="no-projects"' in html
    assert "本单位没有重大项目" in html


def test_a_unit_with_projects_keeps_its_project_money(client, unit_a_user, real_plan):
    client.force_login(unit_a_user)
    html = client.get("/").content.decode()
    assert 'data-figure="total"' in html and 'id="chart-category"' in html
    assert 'id="no-projects"' not in html
    assert figure(html, "count-project") == unit_items(UNIT_A).filter(list_kind=ListKind.PROJECT).count()


def test_a_unit_dashboard_lists_only_its_own_entries(client, unit_b_user, real_plan):
    client.force_login(unit_b_user)
    html = client.get("/").content.decode()
    others = Item.objects.exclude(pk__in=unit_items(UNIT_B).values("pk"))
    for pk in others.values_list("pk", flat=True):
        assert f'href="/items/{pk}/"' not in html


def test_the_first_screen_says_why_every_light_is_red_or_yellow(client, leader, real_plan):
    """On the real plan with no reports, no entry is green, and the page says why, with the
    number of entries per reason."""
    lights = set(ItemFigures.objects.filter(item__plan=real_plan).values_list("light", flat=True))
    assert lights <= {"red", "yellow"}
    client.force_login(leader)
    html = client.get("/").content.decode()
    banner = re.search(r'<div class="alert alert-warning" id="no-reports">(.*?)</div>', html, re.S).group(1)
    assert "尚无填报" in banner and f"{Item.objects.count()} 项事项还没有任何进度填报" in banner
    per_kind = dict(Flag.objects.filter(resolved_on__isnull=True).values("kind").annotate(n=Count("pk"))
                    .values_list("kind", "n"))
    assert per_kind["report_missing"] and per_kind["overdue"]
    for code, label in (("overdue", "逾期"), ("report_missing", "逾期未报"), ("underfunded", "投资滞后"),
                        ("unassigned", "责任未落实")):
        assert f"{label} {per_kind[code]} 项" in banner
        assert figure(html, f"reason-{code}") == per_kind[code]


def test_the_explanation_goes_once_a_report_is_filed(client, unit_b_user, real_plan,
                                                     django_capture_on_commit_callbacks):
    item = unit_items(UNIT_B).filter(status=ItemStatus.IN_PROGRESS).order_by("pk").first()
    client.force_login(unit_b_user)
    before = client.get("/").content.decode()
    assert 'id="no-reports"' in before
    with django_capture_on_commit_callbacks(execute=True):
        StatusReport.objects.create(item=item, month=datetime.date(2026, 10, 1), status=ItemStatus.IN_PROGRESS,
                                    progress_text="已完成年度方案", filed_by=unit_b_user)
    after = client.get("/").content.decode()
    assert 'id="no-reports"' not in after
    assert figure(after, "owing") == figure(before, "owing") - 1


def test_stored_and_live_dashboards_explain_the_same(unit_b_user, leader, real_plan):
    """The reasons and the reporting figures are the same whether read from the stored figures
    or derived live for the same date (a back-dated view uses the live path)."""
    for user in (unit_b_user, leader):
        stored = compute_dashboard(user, REAL_AS_OF, real_plan, stored_as_of=REAL_AS_OF)
        live = compute_dashboard(user, REAL_AS_OF, real_plan, stored_as_of=datetime.date(2000, 1, 1))
        assert stored["reasons"] == live["reasons"]
        assert stored["reporting"] == live["reporting"]
        assert [(r["pk"], r["flags"]) for r in stored["flagged_items"]] == \
            [(r["pk"], r["flags"]) for r in live["flagged_items"]]


def test_unit_dashboards_are_cached_per_unit(client, unit_a_user, unit_b_user, real_plan):
    client.force_login(unit_a_user)
    a = client.get("/").content.decode()
    client.force_login(unit_b_user)
    b = client.get("/").content.decode()
    assert figure(a, "count-project") > 0 and figure(b, "count-project") == 0


def test_entries_of_a_plan_not_yet_begun_are_not_counted_as_owing(leader, real_plan):
    from projects.models import Plan

    before = compute_dashboard(leader, REAL_AS_OF, None, stored_as_of=datetime.date(2000, 1, 1))["reporting"]
    future = Plan.objects.create(code="t-16th", name="测试“十六五”清单", start_year=2031, end_year=2035)
    Item.objects.create(plan=future, list_kind=ListKind.REFORM, seq=1, name="未来改革", status=ItemStatus.IN_PROGRESS)
    after = compute_dashboard(leader, REAL_AS_OF, None, stored_as_of=datetime.date(2000, 1, 1))["reporting"]
    assert after["in_progress"] == before["in_progress"] + 1
    assert after["owing"] == before["owing"]


def test_the_run_commands_demo_users_see_a_dashboard_that_explains_itself(client, real_plan):
    """scripts/run.sh creates the users of fixtures/demo_users.csv on the real plan: each one's
    first screen says why its lights are red or yellow."""
    import csv

    from projects.models import Role

    from .conftest import ROOT, make_user

    with open(ROOT / "fixtures" / "demo_users.csv", encoding="utf-8") as fh:
        demo = list(csv.DictReader(fh))
    assert {row["role"] for row in demo} == {Role.PLANNER, Role.LEADER, Role.UNIT}
    for row in demo:
        user = make_user("demo_" + row["username"], row["role"], [row["units"]] if row["units"] else [])
        client.force_login(user)
        html = client.get("/").content.decode()
        banner = re.search(r'id="no-reports">(.*?)</div>', html, re.S)
        assert banner and "尚无填报" in banner.group(1), row["username"]
        assert re.search(r"逾期未报 \d+ 项", banner.group(1)), row["username"]
        assert 'id="reasons"' in html and 'id="reporting-card"' in html
