"""Issue 23 item 4 and issue 24 item 5: the unit ranking with problems solved on time and 督办
answered on time, standard competition ranks (1, 2, 2, 4), units that filed nothing placed after
every unit that files, a unit's own rank as a number, and the 通报's table equal to the page's.

A second plan of another period (十五五, 2026–2030) with five units, evaluated live for a date
other than the stored figures' date (and, for the pages, the same date)."""
import datetime
import io
from decimal import Decimal as D

import pytest
from django.utils import timezone
from docx import Document

from portfolio.bulletin import RANKING_HEADER, build_bulletin, ranking_row
from portfolio.dashboard import RANKING_HEADER as EXPORT_HEADER
from portfolio.summary import compute_ranking, ranking_formula, unit_ranking
from projects.models import Item, ItemStatus, ItemUnit, ListKind, Plan, ProjectType, Role, Unit
from reporting.models import Milestone, StatusReport
from supervision.models import Order, OrderState, Problem, ProblemKind, ProblemLevel, ProblemState

from .conftest import make_user

pytestmark = pytest.mark.django_db
AS_OF = datetime.date(2026, 11, 20)  # late month 2026-10: the window is May–October
MONTHS = [datetime.date(2026, m, 1) for m in range(1, 11)]
WINDOW = MONTHS[4:]  # May–October
FIRST, SECOND, THIRD, FOURTH, NONE = "测试排名甲", "测试排名乙", "测试排名丙", "测试排名丁", "测试排名戊"


def at(day: datetime.date, hour=10):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def deadline_of(month):  # the 5th of the next month
    return datetime.date(month.year + month.month // 12, month.month % 12 + 1, 5)


def entry(plan, unit, name, kind=ListKind.POLICY, **kw):
    seq = Item.objects.filter(plan=plan, list_kind=kind).count() + 1
    item = Item.objects.create(plan=plan, list_kind=kind, seq=seq, name=name, status=ItemStatus.IN_PROGRESS, **kw)
    ItemUnit.objects.create(item=item, unit=unit, role=ItemUnit.Role.LEAD)
    return item


def file_reports(item, late_in_window=0):
    """Reports for January–October; the last `late_in_window` months of the window filed late."""
    for month in MONTHS:
        late = month in WINDOW[len(WINDOW) - late_in_window:] if late_in_window else False
        filed = deadline_of(month) + datetime.timedelta(days=15 if late else 0)
        report = StatusReport.objects.create(item=item, month=month, status=ItemStatus.IN_PROGRESS)
        StatusReport.objects.filter(pk=report.pk).update(filed_at=at(filed), updated_at=at(filed))


def problem(item, unit, raiser, state, deadline, closed=None, raised=datetime.date(2026, 9, 1)):
    return Problem.objects.create(
        item=item, description="用地指标未落实", kind=ProblemKind.LAND, level=ProblemLevel.ZONE, coordinating_unit=unit,
        deadline=deadline, state=state, raised_by=raiser, raised_on=raised, raised_at=at(raised),
        closed_at=at(closed) if closed else None)


def order(unit, issuer, state, deadline, answered=None, item=None, issued=datetime.date(2026, 9, 1)):
    return Order.objects.create(
        unit=unit, item=item, requirement="限期反馈", deadline=deadline, state=state, issued_by=issuer,
        issued_on=issued, issued_at=at(issued), answered_at=at(answered) if answered else None)


@pytest.fixture
def zone(real_plan, planner):
    """Five units of a 十五五 plan:
    甲 files every month on time and has problems and orders (some on time, some not);
    乙 and 丙 file on time in 3 of the window's 6 months (equal scores);
    丁 files every month late and carries two red lights (overdue milestones);
    戊 owes its reports and has filed none (one red light, 逾期未报)."""
    plan = Plan.objects.create(code="t-rank", name="测试“十五五”排名清单", start_year=2026, end_year=2030)
    units = {name: Unit.objects.create(name=name) for name in (FIRST, SECOND, THIRD, FOURTH, NONE)}
    first = entry(plan, units[FIRST], "甲的政策")
    file_reports(first)
    for name in (SECOND, THIRD):
        file_reports(entry(plan, units[name], f"{name}的政策"), late_in_window=3)
    for n in range(2):
        project = entry(plan, units[FOURTH], f"丁的项目{n}", kind=ListKind.PROJECT, project_type=ProjectType.NEW,
                        start_year=2026, end_year=2028)
        file_reports(project, late_in_window=6)
        Milestone.objects.create(item=project, name="主体完工", due_date=datetime.date(2026, 6, 1))
    entry(plan, units[NONE], "戊的政策")

    day = datetime.date
    # Problems 甲 coordinates: 3 due by AS_OF (past the deadline or closed by then), 1 closed in time.
    problem(first, units[FIRST], planner, ProblemState.CLOSED, day(2026, 10, 31), closed=day(2026, 10, 20))  # on time
    problem(first, units[FIRST], planner, ProblemState.COORDINATING, day(2026, 11, 10))  # overdue
    problem(first, units[FIRST], planner, ProblemState.CLOSED, day(2026, 9, 30), closed=day(2026, 10, 15))  # late
    problem(first, units[FIRST], planner, ProblemState.RETURNED, day(2026, 10, 1))  # sent back: not counted
    problem(first, units[FIRST], planner, ProblemState.PENDING, day(2026, 12, 31))  # not due yet
    problem(first, units[FIRST], planner, ProblemState.CLOSED, day(2026, 12, 31), closed=day(2026, 11, 22))  # after
    problem(Item.objects.filter(plan=real_plan).first(), units[FIRST], planner, ProblemState.CLOSED, day(2026, 10, 31),
            closed=day(2026, 10, 1))  # another plan's entry: not this plan's ranking
    # Orders addressed to 甲: 4 due, 1 answered in time with the answer standing.
    order(units[FIRST], planner, OrderState.ANSWERED, day(2026, 11, 15), answered=day(2026, 11, 10))  # on time
    order(units[FIRST], planner, OrderState.CLOSED, day(2026, 10, 31), answered=day(2026, 11, 2), item=first)  # late
    order(units[FIRST], planner, OrderState.RETURNED, day(2026, 11, 1), answered=day(2026, 10, 30))  # sent back
    order(units[FIRST], planner, OrderState.ISSUED, day(2026, 11, 5))  # overdue, never answered
    order(units[FIRST], planner, OrderState.SIGNED, day(2026, 12, 10))  # not due yet
    order(units[FIRST], planner, OrderState.ANSWERED, day(2026, 11, 15), answered=day(2026, 11, 1),
          issued=day(2026, 11, 25))  # issued after the date
    return plan, units


def by_name(rows):
    return {r["unit"]["name"]: r for r in rows}


def test_problems_and_orders_count_in_the_score_as_the_formula_says(zone, settings):
    plan, _ = zone
    first = by_name(compute_ranking(AS_OF, plan))[FIRST]
    assert (first["problems_due"], first["problems_on_time"], first["problem_pct"]) == (3, 1, D("33.3"))
    assert (first["orders_due"], first["orders_on_time"], first["order_pct"]) == (4, 1, D("25.0"))
    assert (first["reports_due"], first["reports_on_time"], first["report_pct"]) == (6, 6, D("100.0"))
    assert first["pace_pct"] is None  # no project money: that component and its weight are left out
    # 100 × (0.4 × 1 + 0.2 × 1/3 + 0.2 × 1/4) ÷ (0.4 + 0.2 + 0.2)
    assert first["score"] == D("64.6")

    settings.TRACKER_RANKING_WEIGHT_PROBLEMS = D("0")  # weights come from settings
    settings.TRACKER_RANKING_WEIGHT_ORDERS = D("0.4")
    assert by_name(compute_ranking(AS_OF, plan))[FIRST]["score"] == D("62.5")  # (0.4 + 0.4 × 1/4) ÷ 0.8
    assert "0.4 × 督办按期反馈率" in ranking_formula() and "0 × 问题按期办结率" in ranking_formula()


def test_equal_scores_share_a_rank_and_a_unit_that_filed_nothing_comes_after_every_filer(zone):
    plan, _ = zone
    rows = compute_ranking(AS_OF, plan)
    assert [(r["rank"], r["unit"]["name"], r["score"]) for r in rows] == [
        (1, FIRST, D("64.6")),
        (2, THIRD, D("50.0")) if THIRD < SECOND else (2, SECOND, D("50.0")),
        (2, SECOND, D("50.0")) if THIRD < SECOND else (2, THIRD, D("50.0")),
        (4, FOURTH, D("-10.0")),  # files, late, two red lights
        (5, NONE, D("-5.0")),  # a higher score, but nothing filed: after every unit that files
    ]
    none = by_name(rows)[NONE]
    assert none["filed_nothing"] and (none["reports_due"], none["report_pct"]) == (6, D("0.0"))
    assert not by_name(rows)[FOURTH]["filed_nothing"] and by_name(rows)[FOURTH]["red"] == 2
    assert {r["of"] for r in rows} == {5}


def test_the_page_shows_the_formula_and_the_ranks_and_the_export_has_the_new_columns(client, zone, leader):
    client.force_login(leader)
    page = client.get(f"/ranking/?plan=t-rank&as_of={AS_OF}").content.decode()
    assert "问题按期办结率" in page and "督办按期反馈率" in page
    assert "一份月报也未报送的单位，排在所有报送了月报的单位之后" in page
    assert "1/3（33.3%）" in page and "1/4（25.0%）" in page and "未报送</span>" in page
    csv_text = b"".join(client.get(f"/ranking/?plan=t-rank&as_of={AS_OF}&_export=csv").streaming_content)
    lines = csv_text.decode("utf-8-sig").splitlines()
    assert lines[0].split(",") == EXPORT_HEADER
    first = next(line.split(",") for line in lines[1:] if FIRST in line)
    assert first[EXPORT_HEADER.index("到期问题")] == "3" and first[EXPORT_HEADER.index("按期反馈督办单")] == "1"
    assert [line.split(",")[0] for line in lines[1:]] == ["1", "2", "2", "4", "5"]


def test_a_unit_sees_its_own_rank_as_a_number(client, zone):
    plan, _ = zone
    user = make_user("rank_third", Role.UNIT, [THIRD])
    client.force_login(user)
    mine = unit_ranking(user, AS_OF, plan)
    assert [(r["unit"]["name"], r["rank"], r["of"]) for r in mine] == [(THIRD, 2, 5)]
    dashboard = client.get(f"/?plan=t-rank&as_of={AS_OF}").content.decode()
    assert f"<strong>{THIRD}</strong>：第 2 名 / 共 5 个单位（得分 50.0）" in dashboard
    page = client.get(f"/ranking/?plan=t-rank&as_of={AS_OF}").content.decode()
    assert "第 2 名 / 共 5 个单位" in page
    assert FIRST not in page and SECOND not in page  # only its own row


def test_the_bulletins_ranking_is_the_dashboards_ranking(zone, planner, client):
    plan, _ = zone
    document = build_bulletin(plan, planner, datetime.date(2026, 10, 1), AS_OF)
    buffer = io.BytesIO()
    document.save(buffer)
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in Document(buffer).tables]
    table = next(t for t in tables if t[0] == RANKING_HEADER)
    shown = unit_ranking(planner, AS_OF, plan)
    assert table[1:] == [["—" if v is None else str(v) for v in ranking_row(r)] for r in shown]
    assert [row[1] for row in table[1:]][:1] == [FIRST] and table[1][5] == "33.3" and table[1][6] == "25.0"
    # and the dashboard's chart shows the same scores in the same order
    client.force_login(planner)
    charts = client.get(f"/?plan=t-rank&as_of={AS_OF}").context["charts"]["ranking"]
    assert charts["score"][::-1] == [float(row[-1]) for row in table[1:]]
