"""Issue 23, item 3: 开工滞后 and 投资滞后 measured against the year's target (docs/architecture.md,
"Facts and rules"). Each case is checked in the SQL form, the Python form and the stored
evaluation."""
import datetime
from decimal import Decimal as D

import pytest

from portfolio.evaluation import evaluate
from portfolio.facts import facts_for, with_facts
from portfolio.models import Flag, ItemFigures
from portfolio.rules import RULES_BY_CODE, Severity, findings, findings_in_python
from projects.models import Item, ItemStatus, ItemUnit, ListKind, Plan, ProjectType, Unit
from reporting.models import AnnualTarget, Milestone, StatusReport

from .test_access_and_reports import item_a  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db
day = datetime.date


@pytest.fixture
def plan(db):
    return Plan.objects.create(code="t-23", name="测试“十五五”清单", start_year=2026, end_year=2030)


def project(plan, name, total=None, start=2026, end=2028, kind=ProjectType.NEW, status=ItemStatus.NOT_STARTED):
    seq = Item.objects.filter(plan=plan, list_kind=ListKind.PROJECT).count() + 1
    item = Item.objects.create(plan=plan, list_kind=ListKind.PROJECT, seq=seq, name=name, project_type=kind,
                               start_year=start, end_year=end, status=status,
                               total_investment=None if total is None else D(str(total)))
    ItemUnit.objects.create(item=item, unit=Unit.objects.get_or_create(name="测试单位")[0], role=ItemUnit.Role.LEAD)
    return item


def found(item, kind, as_of):
    """The finding of one rule on one entry, after checking both forms agree."""
    items = Item.objects.filter(pk=item.pk)
    sql, python = findings(as_of, items), findings_in_python(as_of, items)
    assert sql == python, as_of
    hit = sql.get((item.pk, kind))
    return hit[0] if hit else None


def pct(value):
    return None if value is None else D(value).quantize(D("0.1"))


# ---------------------------------------------------------------- 投资滞后 against the year's target

def test_a_280_project_with_a_target_of_20_and_nothing_reported_is_behind_the_year(plan):
    """The issue's finding: measured against the total it showed nothing."""
    item = project(plan, "大项目", total=280, start=2026, end=2035, kind=ProjectType.CONTINUING,
                   status=ItemStatus.IN_PROGRESS)
    AnnualTarget.objects.create(item=item, year=2026, planned_investment=D("20"))
    assert found(item, "underfunded", day(2026, 2, 15)) is None  # 1 month of 12: 8.3 points
    assert found(item, "underfunded", day(2026, 3, 15)) == Severity.YELLOW  # 16.7 points
    assert found(item, "underfunded", day(2026, 6, 15)) == Severity.RED  # 5 of 12: 41.7 points
    facts = facts_for(item, day(2026, 6, 15))
    assert (pct(facts.year_expected_pct), pct(facts.year_actual_pct), pct(facts.points_behind)) == (
        D("41.7"), D("0.0"), D("41.7"))
    evaluate(day(2026, 6, 15), item_ids=[item.pk])
    flag = Flag.objects.select_related("item__figures").get(item=item, kind="underfunded", resolved_on__isnull=True)
    assert flag.severity == Severity.RED
    assert flag.describe(day(2026, 6, 15)) == "年度序时进度 41.7%，年度计划完成 0.0%，落后 41.7 个百分点"


def test_the_year_measure_counts_the_months_reported_this_year(plan):
    item = project(plan, "年度项目", total=100, start=2025, end=2027, kind=ProjectType.CONTINUING,
                   status=ItemStatus.IN_PROGRESS)
    AnnualTarget.objects.create(item=item, year=2026, planned_investment=D("12"))
    for m, amount in ((12, "50"), (1, "1"), (2, "1"), (3, "1"), (4, "1.5")):
        year = 2025 if m == 12 else 2026
        StatusReport.objects.create(item=item, month=day(year, m, 1), status=ItemStatus.IN_PROGRESS,
                                    month_investment=D(amount))
    # 1 July 2026: 6 of 12 months = 50 %; 4.5 of 12 done (December 2025 is last year's) = 37.5 %.
    facts = facts_for(item, day(2026, 7, 1))
    assert (pct(facts.year_expected_pct), pct(facts.year_actual_pct), pct(facts.points_behind)) == (
        D("50.0"), D("37.5"), D("12.5"))
    assert found(item, "underfunded", day(2026, 7, 1)) == Severity.YELLOW
    # The period figures do not move: 18 of 36 months, the cumulative share.
    assert pct(facts.expected_pct) == D("50.0")


def test_one_years_small_target_does_not_move_the_period_figure(plan):
    """The issue's finding: a target of 0.6 moved 应完成 from 73% to 7.5%."""
    item = project(plan, "长期项目", total=8, start=2021, end=2025, kind=ProjectType.CONTINUING,
                   status=ItemStatus.IN_PROGRESS)
    as_of = day(2024, 9, 10)  # 44 of 60 months: 73.3 %
    before = facts_for(item, as_of).expected_pct
    AnnualTarget.objects.create(item=item, year=2022, planned_investment=D("0.6"))
    item = Item.objects.get(pk=item.pk)
    assert pct(before) == pct(facts_for(item, as_of).expected_pct) == D("73.3")
    row = with_facts(Item.objects.filter(pk=item.pk), as_of).values("expected_pct", "year_expected_pct")[0]
    assert (pct(row["expected_pct"]), row["year_expected_pct"]) == (D("73.3"), None)
    # A target of the year itself adds the year's measure; the period figure still stays.
    AnnualTarget.objects.create(item=item, year=2024, planned_investment=D("0.6"))
    evaluate(as_of, item_ids=[item.pk])
    figures = ItemFigures.objects.get(item=item)
    assert (pct(figures.expected_pct), pct(figures.year_expected_pct)) == (D("73.3"), D("66.7"))


def test_without_a_target_of_the_year_the_period_measure_stays(plan):
    item = project(plan, "无年度计划", total=100, start=2026, end=2027, kind=ProjectType.CONTINUING,
                   status=ItemStatus.IN_PROGRESS)
    AnnualTarget.objects.create(item=item, year=2027, planned_investment=D("50"))  # next year's only
    AnnualTarget.objects.create(item=item, year=2026, planned_investment=D("0"))  # a zero plan is no plan
    facts = facts_for(item, day(2026, 9, 1))  # 8 of 24 months: 33.3 % expected, nothing done
    assert facts.year_expected_pct is None
    assert pct(facts.points_behind) == D("33.3")
    assert found(item, "underfunded", day(2026, 9, 1)) == Severity.RED


# ---------------------------------------------------------------- 开工滞后

def test_a_new_project_not_started_after_january_of_its_start_year(plan, settings):
    item = project(plan, "新建项目", start=2026)
    assert found(item, "start_late", day(2026, 1, 31)) is None
    assert found(item, "start_late", day(2026, 2, 1)) == Severity.YELLOW
    assert found(item, "start_late", day(2026, 3, 31)) == Severity.YELLOW
    assert found(item, "start_late", day(2026, 4, 1)) == Severity.RED  # 3 months late
    settings.TRACKER_START_LATE_RED_MONTHS = 6
    assert found(item, "start_late", day(2026, 4, 1)) == Severity.YELLOW
    Item.objects.filter(pk=item.pk).update(status=ItemStatus.IN_PROGRESS)
    assert found(item, "start_late", day(2026, 4, 1)) is None


def test_the_annual_targets_start_month_comes_first_then_a_start_milestone(plan):
    item = project(plan, "有计划开工月", start=2026)
    Milestone.objects.create(item=item, name="项目开工", due_date=day(2026, 3, 10))
    assert found(item, "start_late", day(2026, 4, 2)) == Severity.YELLOW  # March passed
    target = AnnualTarget.objects.create(item=item, year=2026, planned_investment=D("1"), planned_start_month=6)
    assert found(item, "start_late", day(2026, 6, 30)) is None
    assert found(item, "start_late", day(2026, 7, 1)) == Severity.YELLOW
    evaluate(day(2026, 9, 1), item_ids=[item.pk])
    flag = Flag.objects.get(item=item, kind="start_late", resolved_on__isnull=True)
    assert (flag.severity, flag.detail) == (Severity.RED, {"planned": "2026-06"})
    assert flag.describe(day(2026, 9, 1)) == "计划 2026-06 开工，至今未开工，已滞后 3 个月"
    assert ItemFigures.objects.get(item=item).light == "red"
    target.delete()
    assert found(item, "start_late", day(2026, 9, 1)) == Severity.RED  # the milestone's March


def test_a_met_start_milestone_ends_it(plan):
    item = project(plan, "已开工未改状态", start=2026)
    Milestone.objects.create(item=item, name="开工", due_date=day(2026, 2, 1), met_on=day(2026, 5, 20))
    assert found(item, "start_late", day(2026, 5, 19)) == Severity.RED
    assert found(item, "start_late", day(2026, 5, 20)) is None


def test_a_preparatory_project_only_with_a_planned_start(plan):
    item = project(plan, "前期项目", start=2026, kind=ProjectType.PREPARATORY)
    assert found(item, "start_late", day(2026, 12, 1)) is None
    AnnualTarget.objects.create(item=item, year=2026, planned_investment=None, planned_start_month=10)
    assert found(item, "start_late", day(2026, 12, 1)) == Severity.YELLOW
    continuing = project(plan, "续建项目", start=2025, kind=ProjectType.CONTINUING)
    assert found(continuing, "start_late", day(2026, 12, 1)) is None


def test_start_late_is_explained_and_thresholds_are_in_settings():
    rule = RULES_BY_CODE["start_late"]
    assert rule.label == "开工滞后"
    assert "3 个月起为红灯" in rule.explain()


# ---------------------------------------------------------------- the planned start month in the targets upload

def test_targets_upload_takes_an_optional_planned_start_month(client, planner, item_a):
    from .test_access_and_reports import PLAN_CODE, body_of, login, xlsx_upload

    header = ("规划代码", "清单", "序号", "年度", "计划投资（亿元）", "年度目标", "计划开工月份")
    rows = [(PLAN_CODE, "重大项目", 1, 2024, 2.5, "开工建设", 6), (PLAN_CODE, "重大项目", 1, 2025, 3, "", "")]
    html = body_of(login(client, planner).post("/targets/upload/", {"file": xlsx_upload(rows, header=header)},
                                               follow=True))
    assert "新增 2 条" in html
    assert dict(AnnualTarget.objects.filter(item=item_a).values_list("year", "planned_start_month")) == {
        2024: 6, 2025: None}
    assert "<td>6 月</td>" in body_of(client.get(f"/items/{item_a.pk}/"))
    # A file without the column leaves the stored month alone.
    client.post("/targets/upload/", {"file": xlsx_upload([(PLAN_CODE, "重大项目", 1, 2024, 2, "")])})
    assert AnnualTarget.objects.get(item=item_a, year=2024).planned_start_month == 6
    # A month that is no month is refused on its cell, and nothing is written.
    bad = [(PLAN_CODE, "重大项目", 1, 2024, 2.5, "", 13)]
    html = body_of(client.post("/targets/upload/", {"file": xlsx_upload(bad, header=header)}))
    assert "计划开工月份 &quot;13&quot;: 应为 1 至 12 的月份" in html
    assert AnnualTarget.objects.get(item=item_a, year=2024).planned_investment == D("2")
    # The template carries the column, filled.
    from openpyxl import load_workbook
    import io
    response = client.get(f"/targets/template/?plan={PLAN_CODE}")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content) if response.streaming
                                    else response.content))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][6] == "计划开工月份"
    assert any(r[3] in (2024, "2024") and r[6] in (6, "6") for r in rows[1:])
