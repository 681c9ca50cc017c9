"""Flags: the rules on both sides of their boundaries, idempotence, lights, concurrency,
notifications, the evaluate_flags command, the one-query rule evaluation and a real Celery worker.

Rule tests build a small plan of their own (plan code "t-flags") and evaluate only it, so the
real 瓯江口 plan loaded by conftest does not interfere; the command, query-count, concurrency and
worker tests run over the real plan.
"""
import datetime
import io
import os
import re
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portfolio.evaluation import evaluate as evaluate_flags
from portfolio.models import Flag, ItemFigures
from portfolio.notifications import notify_flag_changes, send_leader_digest, send_unit_reminders
from portfolio.facts import with_facts
from portfolio.rules import RULES, RULES_BY_CODE, Light, Severity, findings
from projects.models import Item, ItemStatus, ItemUnit, ListKind, Plan, ProjectType, Role, Unit
from reporting.models import AnnualTarget, Milestone, StatusReport

from .conftest import PLAN_CODE, ROOT, make_user
from .test_durable_work import stop

D = Decimal
day = datetime.date
DEFAULT_UNIT = "测试牵头单位"
REAL_AS_OF = day(2026, 11, 23)  # a Monday


# ---------------------------------------------------------------- helpers

@pytest.fixture
def plan(db):
    return Plan.objects.create(code="t-flags", name="预警测试规划", start_year=2021, end_year=2025)


def make_item(plan, name, unit=DEFAULT_UNIT, **fields):
    """A clean entry (重大改革 list, 2021-2027, not started, one lead unit) unless fields say otherwise."""
    values = dict(list_kind=ListKind.REFORM, start_year=2021, end_year=2027, status=ItemStatus.NOT_STARTED)
    values.update(fields)
    seq = Item.objects.filter(plan=plan, list_kind=values["list_kind"]).count() + 1
    item = Item.objects.create(plan=plan, seq=seq, name=name, **values)
    if unit is not None:
        unit_obj = unit if isinstance(unit, Unit) else Unit.objects.get_or_create(name=unit)[0]
        ItemUnit.objects.create(item=item, unit=unit_obj, role=ItemUnit.Role.LEAD)
    return item


def make_project(plan, name, total, start=2021, end=2025, **fields):
    fields.setdefault("project_type", ProjectType.CONTINUING)
    return make_item(plan, name, list_kind=ListKind.PROJECT, start_year=start, end_year=end,
                     total_investment=None if total is None else D(str(total)), **fields)


def report(item, month, cumulative=None, status=ItemStatus.IN_PROGRESS):
    return StatusReport.objects.create(
        item=item, month=month, status=status,
        cumulative_investment=None if cumulative is None else D(str(cumulative)))


def found_for(item, as_of):
    """{kind: (severity, detail)} the rules find for one entry as of a date."""
    found = findings(as_of, Item.objects.filter(pk=item.pk))
    return {str(kind): (str(sev), detail) for (pk, kind), (sev, detail) in found.items() if pk == item.pk}


def pace_of(item, as_of):
    """The entry's 序时进度 figures as of a date, rounded as shown (expected, actual, points behind)."""
    row = with_facts(Item.objects.filter(pk=item.pk), as_of).values("expected_pct", "actual_pct", "points_behind")[0]
    return tuple(None if row[k] is None else str(D(row[k]).quantize(D("0.1"))) for k in row)


def described(item, kind, as_of):
    """The flag as shown on a date: found by the rules, put in words by its rule."""
    severity, detail = found_for(item, as_of)[kind]
    return RULES_BY_CODE[kind].describe(detail, as_of)


def severity_of(item, kind, as_of):
    hit = found_for(item, as_of).get(kind)
    return hit[0] if hit else None


def open_flags_of(item):
    return {f.kind: f for f in Flag.objects.filter(item=item, resolved_on__isnull=True)}


def normalise(found):
    return {(pk, str(kind)): (str(sev), detail) for (pk, kind), (sev, detail) in found.items()}


def open_flag_map(qs=None):
    qs = Flag.objects.filter(resolved_on__isnull=True) if qs is None else qs
    return {(f.item_id, f.kind): (f.severity, f.detail) for f in qs}


def flag_rows():
    return sorted(Flag.objects.values_list(
        "pk", "item_id", "kind", "severity", "opened_on", "changed_on", "resolved_on", "detail",
        "notified_severity"))


# ---------------------------------------------------------------- overdue

def test_overdue_from_the_first_day_after_the_end_year(plan):
    item = make_item(plan, "到期项目", end_year=2025)
    assert severity_of(item, "overdue", day(2025, 12, 31)) is None
    sev, detail = found_for(item, day(2026, 1, 1))["overdue"]
    assert sev == Severity.RED
    assert detail == {"end_year": 2025}

    result = evaluate_flags(day(2026, 1, 1), plan=plan)
    assert result.opened == 1
    flag = Flag.objects.get(item=item, kind="overdue")
    assert flag.severity == Severity.RED and flag.resolved_on is None
    assert flag.describe(day(2026, 1, 1)) == "建设期限 2025 年已过，逾期 1 天"
    # The days are counted when shown; the next nights write nothing.
    assert evaluate_flags(day(2026, 1, 9), plan=plan).as_dict() == {
        "opened": 0, "updated": 0, "resolved": 0, "figures_written": 0}
    assert Flag.objects.get(pk=flag.pk).describe(day(2026, 1, 9)) == "建设期限 2025 年已过，逾期 9 天"


@pytest.mark.parametrize("status", [ItemStatus.COMPLETED, ItemStatus.CANCELLED])
def test_closed_entries_are_never_overdue(plan, status):
    item = make_item(plan, "已关闭项目", end_year=2025, status=status)
    assert found_for(item, day(2026, 1, 1)) == {}
    assert found_for(item, day(2030, 6, 1)) == {}


def test_suspended_entry_past_its_end_year_is_overdue(plan):
    item = make_item(plan, "暂停项目", end_year=2025, status=ItemStatus.SUSPENDED)
    assert severity_of(item, "overdue", day(2026, 1, 1)) == Severity.RED


def test_overdue_resolves_when_the_entry_is_completed(plan):
    item = make_item(plan, "收尾项目", end_year=2025)
    evaluate_flags(day(2026, 1, 1), plan=plan)
    assert set(open_flags_of(item)) == {"overdue"}
    Item.objects.filter(pk=item.pk).update(status=ItemStatus.COMPLETED)
    result = evaluate_flags(day(2026, 1, 2), plan=plan)
    assert result.resolved == 1
    assert open_flags_of(item) == {}
    assert Flag.objects.get(item=item, kind="overdue").resolved_on == day(2026, 1, 2)


# ---------------------------------------------------------------- milestone_overdue

def test_milestone_overdue_the_day_after_its_due_date(plan):
    item = make_item(plan, "节点项目")
    Milestone.objects.create(item=item, name="主体完工", due_date=day(2026, 6, 30))
    assert severity_of(item, "milestone_overdue", day(2026, 6, 30)) is None
    sev, detail = found_for(item, day(2026, 7, 1))["milestone_overdue"]
    assert sev == Severity.RED
    assert detail == {"milestone": "主体完工", "due_date": "2026-06-30"}
    assert described(item, "milestone_overdue", day(2026, 7, 4)) == "节点“主体完工”计划 2026-06-30，逾期 4 天"


def test_an_earlier_milestone_changes_the_flag_and_odd_names_survive(plan):
    """Quotes, backslashes and tabs in a milestone name survive the flag's detail."""
    name = '一期\\二期 “主体”\t"完工"'
    item = make_item(plan, "节点项目")
    Milestone.objects.create(item=item, name="竣工", due_date=day(2026, 6, 30))
    assert evaluate_flags(day(2026, 7, 1), plan=plan).opened == 1
    Milestone.objects.create(item=item, name=name, due_date=day(2026, 5, 31))
    result = evaluate_flags(day(2026, 7, 5), plan=plan)
    assert (result.opened, result.updated, result.resolved) == (0, 1, 0)
    flag = open_flags_of(item)["milestone_overdue"]
    assert flag.detail == {"milestone": name, "due_date": "2026-05-31"}
    assert (flag.severity, flag.opened_on, flag.changed_on) == (Severity.RED, day(2026, 7, 1), day(2026, 7, 5))


def test_milestone_flag_resolves_when_the_milestone_is_met(plan):
    item = make_item(plan, "节点项目")
    ms = Milestone.objects.create(item=item, name="开工", due_date=day(2026, 6, 30))
    assert evaluate_flags(day(2026, 7, 2), plan=plan).opened == 1
    assert open_flags_of(item)["milestone_overdue"].severity == Severity.RED

    ms.met_on = day(2026, 7, 3)
    ms.save()
    result = evaluate_flags(day(2026, 7, 4), plan=plan)
    assert (result.opened, result.resolved) == (0, 1)
    assert open_flags_of(item) == {}
    assert Flag.objects.get(item=item, kind="milestone_overdue").resolved_on == day(2026, 7, 4)


def test_met_or_closed_milestones_raise_nothing(plan):
    met = make_item(plan, "已完成节点")
    Milestone.objects.create(item=met, name="开工", due_date=day(2026, 3, 1), met_on=day(2026, 4, 1))
    done = make_item(plan, "已完成事项", status=ItemStatus.COMPLETED)
    Milestone.objects.create(item=done, name="开工", due_date=day(2026, 3, 1))
    assert found_for(met, day(2026, 7, 1)) == {}
    assert found_for(done, day(2026, 7, 1)) == {}


# ---------------------------------------------------------------- report_missing

def test_report_missing_after_the_reporting_day(plan):
    item = make_item(plan, "月报项目", status=ItemStatus.IN_PROGRESS)
    report(item, day(2026, 1, 1))  # January's report, filed
    # February's report is due by 5 March: not missing on the 5th, missing on the 6th.
    assert severity_of(item, "report_missing", day(2026, 3, 5)) is None
    sev, detail = found_for(item, day(2026, 3, 6))["report_missing"]
    assert sev == Severity.YELLOW
    assert detail == {"since": "2026-02", "last_month": "2026-01"}
    assert described(item, "report_missing", day(2026, 3, 6)) == \
        "2026-02 月进度未报，已连续 1 个月未报（最近一次填报 2026-01）"
    assert found_for(item, day(2026, 4, 6))["report_missing"][0] == Severity.YELLOW  # Feb, Mar
    assert found_for(item, day(2026, 5, 5))["report_missing"][0] == Severity.YELLOW  # Apr not due yet
    sev, detail = found_for(item, day(2026, 5, 6))["report_missing"]  # Feb, Mar, Apr
    assert sev == Severity.RED
    assert detail == {"since": "2026-02", "last_month": "2026-01"}  # the facts do not move with the date
    assert described(item, "report_missing", day(2026, 5, 6)) == \
        "2026-04 月进度未报，已连续 3 个月未报（最近一次填报 2026-01）"


def test_report_missing_opens_escalates_and_resolves_when_filed(plan):
    item = make_item(plan, "月报项目", status=ItemStatus.IN_PROGRESS)
    report(item, day(2026, 1, 1))
    assert evaluate_flags(day(2026, 3, 6), plan=plan).opened == 1
    assert open_flags_of(item)["report_missing"].severity == Severity.YELLOW

    result = evaluate_flags(day(2026, 5, 6), plan=plan)
    assert (result.opened, result.updated, result.resolved) == (0, 1, 0)
    flag = open_flags_of(item)["report_missing"]
    assert flag.severity == Severity.RED
    assert flag.describe(day(2026, 5, 6)) == "2026-04 月进度未报，已连续 3 个月未报（最近一次填报 2026-01）"
    assert (flag.opened_on, flag.changed_on) == (day(2026, 3, 6), day(2026, 5, 6))

    for month in (2, 3, 4):
        report(item, day(2026, month, 1))
    result = evaluate_flags(day(2026, 5, 6), plan=plan)
    assert (result.opened, result.resolved) == (0, 1)
    assert open_flags_of(item) == {}


def test_entry_without_any_report_counts_months_since_its_start_year(plan):
    item = make_item(plan, "新开工项目", status=ItemStatus.IN_PROGRESS, start_year=2026)
    sev, detail = found_for(item, day(2026, 3, 6))["report_missing"]  # January and February
    assert (sev, detail) == (Severity.YELLOW, {"since": "2026-01", "last_month": None})
    assert described(item, "report_missing", day(2026, 3, 6)) == "2026-02 月进度未报，已连续 2 个月未报（从未填报）"
    assert found_for(item, day(2026, 4, 6))["report_missing"][0] == Severity.RED  # Jan–Mar


def test_never_reported_entry_counts_from_the_reporting_start(plan, settings):
    settings.TRACKER_REPORTING_START = "2026-01"
    item = make_item(plan, "续建老项目", status=ItemStatus.IN_PROGRESS, start_year=2021)
    sev, detail = found_for(item, day(2026, 2, 6))["report_missing"]  # January only, not 2021-2025
    assert (sev, detail["since"]) == (Severity.YELLOW, "2026-01")
    assert "已连续 1 个月未报" in described(item, "report_missing", day(2026, 2, 6))
    sev, detail = found_for(item, day(2026, 4, 6))["report_missing"]
    assert (sev, detail["since"]) == (Severity.RED, "2026-01")
    assert "已连续 3 个月未报" in described(item, "report_missing", day(2026, 4, 6))


@pytest.mark.parametrize("start_year", [2026, 2021], ids=["entry-starts-2026", "reporting-starts-2026-01"])
def test_no_report_is_due_for_a_month_before_the_entry_or_reporting_starts(plan, settings, start_year):
    # December 2025's report (due 5 January 2026) concerns neither an entry starting in 2026 nor any
    # entry when reporting only began with January 2026: on 6 January the entry must not be flagged
    # "2025-12 月进度未报"; on 6 February January's report is due.
    settings.TRACKER_REPORTING_START = "2026-01"
    item = make_item(plan, "新开工项目", status=ItemStatus.IN_PROGRESS, start_year=start_year)
    assert severity_of(item, "report_missing", day(2026, 1, 6)) is None
    assert severity_of(item, "report_missing", day(2026, 2, 6)) == Severity.YELLOW


def test_report_missing_only_for_entries_in_progress(plan):
    idle = make_item(plan, "未开工事项", status=ItemStatus.NOT_STARTED)
    paused = make_item(plan, "暂停事项", status=ItemStatus.SUSPENDED)
    assert severity_of(idle, "report_missing", day(2026, 6, 10)) is None
    assert severity_of(paused, "report_missing", day(2026, 6, 10)) is None


# ---------------------------------------------------------------- underfunded

def _targets(item, **by_year):
    for year, amount in by_year.items():
        AnnualTarget.objects.create(item=item, year=int(year[1:]), planned_investment=D(str(amount)))


@pytest.mark.parametrize("done, expected", [
    ("4.8", None),                # 50 % of the year expected, 40 % done: exactly 10 points behind
    ("4.79", Severity.YELLOW),    # 10.08 points
    ("2.4", Severity.YELLOW),     # exactly 30 points
    ("2.39", Severity.RED),       # 30.08 points
])
def test_underfunded_thresholds_with_annual_targets(plan, done, expected):
    """With a target of the date's year: the year's 序时进度 (months done ÷ 12) against the
    investment reported this year ÷ the year's planned investment (issue 23)."""
    item = make_project(plan, "投资项目", total=100)
    _targets(item, y2021=40, y2022=12)
    StatusReport.objects.create(item=item, month=day(2022, 3, 1), status=ItemStatus.IN_PROGRESS,
                                month_investment=D(done), cumulative_investment=D(60))
    StatusReport.objects.create(item=item, month=day(2021, 12, 1), status=ItemStatus.IN_PROGRESS,
                                month_investment=D(30), cumulative_investment=D(50))  # last year's: not counted
    assert severity_of(item, "underfunded", day(2022, 7, 1)) == expected
    assert pace_of(item, day(2022, 7, 1))[0] == "30.0"  # the period figure: 18 of 60 months, targets aside


def test_underfunded_target_share_counts_completed_months_of_the_current_year(plan):
    item = make_project(plan, "投资项目", total=100)
    _targets(item, y2021=40, y2022=20)
    StatusReport.objects.create(item=item, month=day(2022, 6, 1), status=ItemStatus.IN_PROGRESS,
                                month_investment=D(6), cumulative_investment=D(20))
    # 1 July 2022: 6 of 12 months = 50 % of the year; 6 of 20 = 30 % done: 20 points → yellow.
    sev, detail = found_for(item, day(2022, 7, 1))["underfunded"]
    assert (sev, detail) == (Severity.YELLOW, {})
    # 1 December: 11 of 12 = 91.7 % → 61.7 points → red.
    assert severity_of(item, "underfunded", day(2022, 12, 1)) == Severity.RED
    # The flag is put in words from the entry's figures as evaluated.
    evaluate_flags(day(2022, 12, 1), plan=plan)
    flag = Flag.objects.select_related("item__figures").get(item=item, kind="underfunded")
    assert flag.describe(day(2022, 12, 1)) == "年度序时进度 91.7%，年度计划完成 30.0%，落后 61.7 个百分点"
    # In a year without a target the period measure is back: 24 of 60 months = 40 %, 20 % done.
    assert pace_of(item, day(2023, 1, 1)) == ("40.0", "20.0", "20.0")


@pytest.mark.parametrize("as_of, cumulative, expected", [
    (day(2021, 7, 1), "0", Severity.YELLOW),   # 6 of 24 months = 25 % expected, 25 points
    (day(2021, 7, 1), "3.6", None),            # 15 % done: exactly 10 points
    (day(2021, 7, 1), "3.59", Severity.YELLOW),
    (day(2022, 1, 1), "4.8", Severity.YELLOW),  # 12 of 24 months = 50 %, 20 % done: exactly 30 points
    (day(2022, 1, 1), "4.79", Severity.RED),
])
def test_underfunded_even_monthly_spread_without_targets(plan, as_of, cumulative, expected):
    item = make_project(plan, "均衡投资项目", total=24, start=2021, end=2022)
    report(item, day(2021, 6, 1), cumulative)
    assert severity_of(item, "underfunded", as_of) == expected
    if as_of == day(2021, 7, 1):
        assert pace_of(item, as_of)[0] == "25.0"


def test_blank_cumulative_in_latest_report_keeps_the_last_known_figure(plan):
    # October's report says 12 of 24 done; November's report is filed without an investment figure.
    # The entry has not lost its investment: as of 1 Dec 2021 (11 of 24 months = 45.8 % expected,
    # 50 % done) it is not behind at all.
    item = make_project(plan, "未填投资项目", total=24, start=2021, end=2022)
    report(item, day(2021, 10, 1), "12")
    report(item, day(2021, 11, 1), None)
    assert severity_of(item, "underfunded", day(2021, 12, 1)) is None


def test_underfunded_only_for_open_projects_with_a_known_total(plan):
    closed = make_project(plan, "已取消项目", total=24, start=2021, end=2022, status=ItemStatus.CANCELLED)
    platform = make_item(plan, "平台", list_kind=ListKind.PLATFORM, start_year=2021, end_year=2022,
                         total_investment=D("24"))
    for item in (closed, platform):
        assert severity_of(item, "underfunded", day(2022, 1, 1)) is None


# ---------------------------------------------------------------- unassigned, investment_unknown

def test_unassigned_entry_is_yellow(plan):
    orphan = make_item(plan, "无责任单位", unit=None)
    owned = make_item(plan, "有责任单位")
    closed = make_item(plan, "已完成无单位", unit=None, status=ItemStatus.COMPLETED)
    assert found_for(orphan, day(2026, 1, 10)) == {"unassigned": (Severity.YELLOW, {})}
    assert found_for(owned, day(2026, 1, 10)) == {}
    assert found_for(closed, day(2026, 1, 10)) == {}


@pytest.mark.parametrize("project_type, expected", [
    (ProjectType.NEW, Severity.INFO),
    (ProjectType.CONTINUING, Severity.INFO),
    (ProjectType.RESEARCH, None),
    (ProjectType.PREPARATORY, None),
])
def test_investment_unknown_only_for_new_and_continuing(plan, project_type, expected):
    # starting next year: not yet 开工滞后
    item = make_project(plan, "投资待定项目", total=None, start=2027, end=2028, project_type=project_type)
    assert found_for(item, day(2026, 1, 10)) == ({"investment_unknown": (expected, {})} if expected else {})


# ---------------------------------------------------------------- idempotence and lights

def _mixed_plan(plan):
    """One entry per rule."""
    make_item(plan, "逾期", end_year=2025)
    m = make_item(plan, "节点")
    Milestone.objects.create(item=m, name="开工", due_date=day(2026, 6, 1))
    r = make_item(plan, "月报", status=ItemStatus.IN_PROGRESS)
    report(r, day(2026, 8, 1))
    u = make_project(plan, "投资滞后", total=24, start=2025, end=2026)
    report(u, day(2026, 8, 1), "1")
    make_item(plan, "无单位", unit=None)
    make_project(plan, "投资待定", total=None, start=2026, end=2028, project_type=ProjectType.NEW)  # and 开工滞后


def figure_rows():
    return sorted(ItemFigures.objects.values_list(
        "item_id", "last_month", "cumulative", "milestone_name", "milestone_due", "reports_on_time",
        "expected_pct", "actual_pct", "points_behind", "expected_amount", "light"))


def test_a_night_without_changes_writes_nothing(real_plan, plan):
    _mixed_plan(plan)
    first = evaluate_flags(REAL_AS_OF)
    assert first.opened == 7 and first.updated == first.resolved == 0
    assert {f.kind for f in Flag.objects.filter(item__plan=plan)} == {rule.code for rule in RULES}
    flags, figures = flag_rows(), figure_rows()
    # The next nights of the same month: no data changed, no boundary passed.
    for night in (day(2026, 11, 24), day(2026, 11, 25), day(2026, 11, 30)):
        result = evaluate_flags(night)
        assert result.as_dict() == {"opened": 0, "updated": 0, "resolved": 0, "figures_written": 0}, night
        assert result.to_notify == []
        assert flag_rows() == flags
        assert figure_rows() == figures


def test_light_is_the_worst_open_severity_and_done_when_completed(plan):
    red = make_item(plan, "红灯", end_year=2025, unit=None)                   # overdue + unassigned
    make_item(plan, "黄灯", unit=None)                                        # unassigned
    make_project(plan, "提示", total=None, start=2027, end=2029,
                 project_type=ProjectType.NEW)                                  # investment_unknown only
    make_item(plan, "绿灯")
    make_item(plan, "完成", end_year=2025, status=ItemStatus.COMPLETED, unit=None)
    was_yellow = make_item(plan, "已解除", status=ItemStatus.IN_PROGRESS)          # report_missing → filed
    report(was_yellow, day(2026, 9, 1))
    evaluate_flags(day(2026, 11, 10), plan=plan)
    assert open_flags_of(was_yellow)["report_missing"].severity == Severity.YELLOW

    def lights():
        return dict(Item.objects.filter(plan=plan).values_list("name", "figures__light"))

    report(was_yellow, day(2026, 10, 1))
    evaluate_flags(day(2026, 11, 10), plan=plan)
    assert lights() == {"红灯": Light.RED, "黄灯": Light.YELLOW, "提示": Light.GREEN, "绿灯": Light.GREEN,
                        "完成": Light.DONE, "已解除": Light.GREEN}
    assert set(open_flags_of(red)) == {"overdue", "unassigned"}


def test_completing_an_entry_shows_it_done_once_the_save_commits(plan, django_capture_on_commit_callbacks):
    red = make_item(plan, "红灯", end_year=2025, unit=None)
    with django_capture_on_commit_callbacks(execute=True):
        evaluate_flags(day(2026, 11, 10), plan=plan)
    assert ItemFigures.objects.get(item=red).light == Light.RED
    red.status = ItemStatus.COMPLETED
    with django_capture_on_commit_callbacks(execute=True):
        red.save()
    assert ItemFigures.objects.get(item=red).light == Light.DONE
    assert open_flags_of(red) == {}


# ---------------------------------------------------------------- concurrency

@pytest.mark.django_db(transaction=True)
def test_concurrent_evaluations_leave_one_open_flag_per_item_and_kind(real_plan):
    Flag.objects.all().delete()
    expected = normalise(findings(REAL_AS_OF, Item.objects.all()))
    assert len(expected) > 50
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=30)
            results.append(evaluate_flags(REAL_AS_OF))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert errors == []

    dupes = (Flag.objects.filter(resolved_on__isnull=True).values("item", "kind")
             .annotate(n=Count("pk")).filter(n__gt=1))
    assert list(dupes) == []
    assert open_flag_map() == expected
    assert sorted(r.opened for r in results) == [0, len(expected)]
    assert Flag.objects.count() == len(expected)

    # The partial unique index itself refuses a second open flag of the same kind ...
    flag = Flag.objects.filter(resolved_on__isnull=True).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        Flag.objects.create(item_id=flag.item_id, kind=flag.kind, severity=flag.severity,
                            opened_on=REAL_AS_OF, changed_on=REAL_AS_OF)
    # ... but keeps any number of resolved ones.
    Flag.objects.create(item_id=flag.item_id, kind=flag.kind, severity=flag.severity,
                        opened_on=day(2026, 1, 1), changed_on=day(2026, 1, 1), resolved_on=day(2026, 2, 1))
    assert Flag.objects.filter(item_id=flag.item_id, kind=flag.kind).count() == 2


# ---------------------------------------------------------------- notifications

def test_alert_emails_only_when_a_flag_opens_or_gets_worse(plan, settings, mailoutbox):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    unit = Unit.objects.create(name="预警测试单位")
    other = Unit.objects.create(name="无关单位")
    user = make_user("alert_u", Role.UNIT, [unit.name])
    user.email = "unit@example.cn"
    user.save()
    bystander = make_user("alert_other", Role.UNIT, [other.name])
    bystander.email = "other@example.cn"
    bystander.save()

    item = make_item(plan, "围垦区块综合改革", unit=unit, status=ItemStatus.IN_PROGRESS)
    report(item, day(2026, 1, 1))
    make_project(plan, "总投资待定的新建项目", total=None, start=2027, end=2029,
                 project_type=ProjectType.NEW, unit=unit)        # info flag: never mailed
    make_item(plan, "无关单位事项", unit=other)                     # no flag at all

    first = evaluate_flags(day(2026, 3, 10), plan=plan)
    assert first.opened == 2
    assert notify_flag_changes(first.to_notify) == 1
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["unit@example.cn"]
    assert mail.subject == "六重清单预警：1 项新增或升级"
    assert "【黄】围垦区块综合改革：逾期未报，2026-02 月进度未报，已连续 1 个月未报" in mail.body.replace(
        "（最近一次填报 2026-01）", "")
    assert "总投资待定的新建项目" not in mail.body
    assert "请登录系统查看并及时填报" in mail.body

    # The same alert is never sent twice.
    assert notify_flag_changes(first.to_notify) == 0
    # Next night, nothing changed: no email.
    second = evaluate_flags(day(2026, 3, 11), plan=plan)
    assert (second.opened, second.updated, second.resolved) == (0, 0, 0)
    assert notify_flag_changes(second.to_notify) == 0
    assert len(mailoutbox) == 1

    # Two months later the report is three months late: yellow → red, mailed again.
    third = evaluate_flags(day(2026, 5, 6), plan=plan)
    assert third.updated == 1
    assert notify_flag_changes(third.to_notify) == 1
    assert len(mailoutbox) == 2
    assert mailoutbox[1].to == ["unit@example.cn"]
    assert "【红】围垦区块综合改革：逾期未报，2026-04 月进度未报，已连续 3 个月未报" in mailoutbox[1].body

    # Still red the next day: silent.
    fourth = evaluate_flags(day(2026, 5, 7), plan=plan)
    assert notify_flag_changes(fourth.to_notify) == 0
    assert len(mailoutbox) == 2


def test_weekly_unit_reminder_and_leader_digest(plan, settings, mailoutbox):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    unit_a = Unit.objects.create(name="提醒测试甲单位")
    unit_b = Unit.objects.create(name="提醒测试乙单位")
    user_a = make_user("remind_a", Role.UNIT, [unit_a.name])
    user_b = make_user("remind_b", Role.UNIT, [unit_b.name])
    boss = make_user("digest_leader", Role.LEADER)
    for user, email in ((user_a, "a@example.cn"), (user_b, "b@example.cn"), (boss, "leader@example.cn")):
        user.email = email
        user.save()
    make_user("no_mail_leader", Role.LEADER)  # no address: skipped
    Flag.objects.exclude(item__plan=plan).delete()  # the real plan's flags would fill the digest

    make_item(plan, "甲单位逾期工程", unit=unit_a, end_year=2025)
    late = make_item(plan, "甲单位未报改革", unit=unit_a, status=ItemStatus.IN_PROGRESS)
    report(late, day(2026, 9, 1))
    make_project(plan, "甲单位投资待定项目", total=None, start=2027, end=2029,
                 project_type=ProjectType.NEW, unit=unit_a)
    new_red = make_item(plan, "甲单位节点滞后工程", unit=unit_a)
    Milestone.objects.create(item=new_red, name="竣工验收", due_date=day(2026, 11, 20))
    fixed = make_item(plan, "甲单位已补节点工程", unit=unit_a)
    fixed_ms = Milestone.objects.create(item=fixed, name="开工", due_date=day(2026, 11, 1))
    make_item(plan, "乙单位逾期工程", unit=unit_b, end_year=2025)

    evaluate_flags(day(2026, 11, 10), plan=plan)
    fixed_ms.met_on = day(2026, 11, 15)
    fixed_ms.save()
    evaluate_flags(REAL_AS_OF, plan=plan)
    mailoutbox.clear()

    assert send_unit_reminders(REAL_AS_OF) == 2
    by_to = {tuple(m.to): m for m in mailoutbox}
    assert set(by_to) == {("a@example.cn",), ("b@example.cn",)}
    a = by_to[("a@example.cn",)]
    assert a.subject == "六重清单每周提醒（11月23日）"
    assert "截至 2026年11月23日" in a.body
    listed, missing = a.body.split("未按期填报：")
    assert "红黄灯事项：" in listed
    assert "【红】甲单位逾期工程：逾期，建设期限 2025 年已过" in listed
    assert "【红】甲单位节点滞后工程：节点逾期，节点“竣工验收”计划 2026-11-20，逾期 3 天" in listed
    assert "【黄】甲单位未报改革：逾期未报，2026-10 月进度未报" in missing
    for absent in ("甲单位投资待定项目", "甲单位已补节点工程", "乙单位逾期工程"):
        assert absent not in a.body
    b = by_to[("b@example.cn",)]
    assert "【红】乙单位逾期工程" in b.body and "甲单位" not in b.body

    mailoutbox.clear()
    assert send_leader_digest(REAL_AS_OF) == 1
    assert len(mailoutbox) == 1
    digest = mailoutbox[0]
    assert digest.to == ["leader@example.cn"]
    assert digest.subject == "六重清单周报（2026-11-23）"
    body = digest.body
    assert "本周（11月17日—11月23日）" in body
    new_part, rest = body.split("解除预警")
    assert "新增红灯 1 项：" in new_part
    assert "甲单位节点滞后工程：节点逾期" in new_part
    assert "甲单位逾期工程" not in new_part and "乙单位逾期工程" not in new_part  # opened 13 days ago
    resolved_part, units_part = rest.split("红灯最多的单位：")
    assert resolved_part.startswith(" 1 项：")
    assert "甲单位已补节点工程：节点逾期" in resolved_part
    assert "提醒测试甲单位：2 项" in units_part
    assert "提醒测试乙单位：1 项" in units_part
    assert units_part.index("提醒测试甲单位") < units_part.index("提醒测试乙单位")


# ---------------------------------------------------------------- the management command

LINE = re.compile(r"^(\w+) (red|yellow|info) (\d+)$")
TOTALS = re.compile(r"^opened (\d+) updated (\d+) resolved (\d+) figures (\d+)$")


def run_command(*args):
    out = io.StringIO()
    call_command("evaluate_flags", *args, stdout=out)
    lines = out.getvalue().strip().splitlines()
    counts = {}
    for line in lines[:-1]:
        m = LINE.match(line)
        assert m, f"unexpected line {line!r}"
        counts[(m[1], m[2])] = int(m[3])
    m = TOTALS.match(lines[-1])
    assert m, f"unexpected last line {lines[-1]!r}"
    return counts, tuple(int(g) for g in m.groups())


def test_evaluate_flags_command_on_the_real_plan(real_plan):
    Flag.objects.all().delete()
    counts, totals = run_command("--as-of", "2026-11-23")
    db_counts = {(r["kind"], r["severity"]): r["n"] for r in
                 Flag.objects.filter(resolved_on__isnull=True).values("kind", "severity").annotate(n=Count("pk"))}
    assert counts == db_counts
    assert totals == (Flag.objects.count(), 0, 0, 0)
    assert sum(counts.values()) == totals[0] > 0

    # Cross-check with the plan itself: every open entry whose period ended by 2025 is overdue.
    closed = [ItemStatus.COMPLETED, ItemStatus.CANCELLED]
    overdue = Item.objects.filter(plan=real_plan, end_year__lte=2025).exclude(status__in=closed).count()
    assert overdue > 0 and counts.get(("overdue", "red"), 0) == overdue
    unknown = Item.objects.filter(plan=real_plan, list_kind=ListKind.PROJECT, total_investment__isnull=True,
                                  project_type__in=[ProjectType.NEW, ProjectType.CONTINUING]).count()
    assert counts.get(("investment_unknown", "info"), 0) == unknown

    again_counts, again_totals = run_command("--as-of", "2026-11-23", "--plan", PLAN_CODE)
    assert again_totals == (0, 0, 0, 0)
    assert again_counts == counts


def test_evaluate_flags_command_rejects_a_bad_date(real_plan):
    before = flag_rows()
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("evaluate_flags", "--as-of", "23/11/2026", stdout=io.StringIO())
    with pytest.raises(CommandError, match="超出范围"):
        call_command("evaluate_flags", "--as-of", "0001-01-01", stdout=io.StringIO())
    assert flag_rows() == before


# ---------------------------------------------------------------- one query

def test_findings_over_the_whole_plan_is_a_constant_number_of_queries(real_plan, plan,
                                                                      django_assert_max_num_queries):
    with django_assert_max_num_queries(2), CaptureQueriesContext(connection) as before:
        found_before = findings(REAL_AS_OF)
    assert len(found_before) > 50

    for n in range(40):  # 40 more entries, each with a report, a milestone and a target
        item = make_project(plan, f"批量项目{n}", total=10, start=2024, end=2027)
        report(item, day(2026, 6, 1), "1")
        Milestone.objects.create(item=item, name="开工", due_date=day(2026, 3, 1))
        AnnualTarget.objects.create(item=item, year=2025, planned_investment=D("3"))

    with django_assert_max_num_queries(2), CaptureQueriesContext(connection) as after:
        found_after = findings(REAL_AS_OF)
    assert len(after.captured_queries) == len(before.captured_queries)
    new_items = set(Item.objects.filter(plan=plan).values_list("pk", flat=True))
    assert {pk for pk, kind in found_after if kind == "milestone_overdue"} >= new_items
    assert len(found_after) > len(found_before)


# ---------------------------------------------------------------- a real Celery worker

@pytest.mark.django_db(transaction=True)
def test_real_celery_worker_evaluates_flags_sent_through_redis(real_plan, tmp_path):
    from config.celery_app import app
    from portfolio.tasks import evaluate_flags_task

    broker = os.environ.get("TEST_REDIS_URL")
    assert broker, "run through scripts/test.sh (TEST_REDIS_URL names the throwaway Redis)"
    assert os.environ.get("CELERY_BROKER_URL") == broker

    Flag.objects.all().delete()
    expected = normalise(findings(REAL_AS_OF))
    assert len(expected) > 50

    test_db = connection.settings_dict["NAME"]
    if not test_db.startswith("test_"):
        test_db = "test_" + test_db
    parts = urlsplit(os.environ["DATABASE_URL"])
    env = dict(os.environ, DATABASE_URL=urlunsplit(parts._replace(path="/" + test_db)), CELERY_BROKER_URL=broker)
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    celery_bin = Path(sys.executable).with_name("celery")
    assert celery_bin.exists()

    app.control.purge()  # nothing queued by earlier tests may run first
    log_path = tmp_path / "worker.log"
    with open(log_path, "w") as log:
        worker = subprocess.Popen(
            [str(celery_bin), "-A", "config", "worker", "--pool=solo", "--concurrency=1", "-l", "warning"],
            cwd=str(ROOT), env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            evaluate_flags_task.delay(as_of=REAL_AS_OF.isoformat())
            deadline = time.monotonic() + 60
            seen = 0
            while time.monotonic() < deadline:
                assert worker.poll() is None, "worker died:\n" + log_path.read_text()
                seen = Flag.objects.filter(resolved_on__isnull=True, opened_on=REAL_AS_OF).count()
                if seen >= len(expected):
                    break
                time.sleep(0.5)
            assert seen == len(expected), f"worker produced {seen} flags:\n" + log_path.read_text()
        finally:
            stop(worker)
    assert open_flag_map() == expected
    assert set(Flag.objects.values_list("opened_on", flat=True)) == {REAL_AS_OF}
