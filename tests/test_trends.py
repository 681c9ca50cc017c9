"""Trends (issue 24 part 4): month-end figures stored by the nightly run at each month end — the
lights taken once from the stored figures of the evaluation after the month's end and kept, the
investment and reporting refreshed until the reporting deadline (a month is then final), a
missed night caught up — back-filled from the reports to the same rows, read by the dashboard
(the plan's for planners and leaders, its own units' for a unit user) and never recomputed per
view."""
import datetime
import json
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from portfolio.models import MonthEndFigures
from portfolio.outbox import nightly
from portfolio.summary import compute_dashboard
from portfolio.trends import backfill, write_month_ends
from projects.models import Item, ItemStatus, ItemUnit, ListKind, Plan, PlanState, ProjectType, Unit
from reporting.models import AnnualTarget, Milestone, StatusReport
from tests.conftest import UNIT_A, UNIT_B

pytestmark = pytest.mark.django_db
D = datetime.date
FIELDS = ("red", "yellow", "green", "done", "year_planned", "year_completed", "reports_due", "reports_on_time")


def filed(item, month, amount, on):
    """A report for `month` filed on the day `on` (Asia/Shanghai noon)."""
    report = StatusReport.objects.create(item=item, month=month, status=ItemStatus.IN_PROGRESS,
                                         month_investment=amount, progress_text="按计划推进")
    at = timezone.make_aware(datetime.datetime.combine(on, datetime.time(12)))
    StatusReport.objects.filter(pk=report.pk).update(filed_at=at)
    return report


@pytest.fixture
def zone(real_plan):
    """A plan of another period (十五五) with two projects of two units and one reform entry."""
    plan = Plan.objects.create(code="t-15", name="测试十五五规划", start_year=2026, end_year=2030,
                               state=PlanState.ACTIVE)
    a, b = Unit.objects.get(name=UNIT_A), Unit.objects.get(name=UNIT_B)

    def entry(kind, seq, unit, **fields):
        item = Item.objects.create(plan=plan, list_kind=kind, seq=seq, name=f"趋势测试{kind}{seq}",
                                   status=ItemStatus.IN_PROGRESS, start_year=2026, end_year=2027, **fields)
        ItemUnit.objects.create(item=item, unit=unit)
        return item

    p1 = entry(ListKind.PROJECT, 1, a, project_type=ProjectType.CONTINUING, total_investment=Decimal("10"))
    p2 = entry(ListKind.PROJECT, 2, b, project_type=ProjectType.CONTINUING, total_investment=Decimal("20"))
    t1 = entry(ListKind.REFORM, 1, a)
    AnnualTarget.objects.create(item=p1, year=2026, planned_investment=Decimal("6"))
    AnnualTarget.objects.create(item=p2, year=2026, planned_investment=Decimal("12"))
    for m in (1, 2, 3):
        filed(p1, D(2026, m, 1), Decimal("1.25"), D(2026, m + 1, 10 if m == 3 else 3))  # March's late
    for m in (1, 2):
        filed(p2, D(2026, m, 1), Decimal("2"), D(2026, m + 1, 2))
    filed(t1, D(2026, 1, 1), None, D(2026, 2, 4))
    return {"plan": plan, "a": a, "b": b, "p1": p1, "p2": p2, "t1": t1}


def stored(plan, **filters):
    return {(r.unit_id, r.month): tuple(getattr(r, f) for f in FIELDS)
            for r in MonthEndFigures.objects.filter(plan=plan, **filters)}


def row(plan, month, unit=None):
    return MonthEndFigures.objects.get(plan=plan, month=month, unit=unit)


def test_the_nightly_run_writes_the_month_just_ended(zone):
    plan = zone["plan"]
    nightly(D(2026, 5, 1))
    # only the month just ended: history before the first stored month is the backfill's
    assert list(MonthEndFigures.objects.filter(plan=plan, unit=None).values_list("month", flat=True)) == [D(2026, 4, 1)]
    april = row(plan, D(2026, 4, 1))
    assert april.written_on == D(2026, 5, 1) and april.lights_as_of == D(2026, 5, 1)
    assert april.year_planned == Decimal("18") and april.year_completed == Decimal("7.75")
    assert (april.reports_due, april.reports_on_time) == (3, 0)  # April's reports not yet filed
    # the lights at the month's end are the stored ones of the evaluation after it (the night of
    # the 1st, which counts April as elapsed): what the dashboard showed that day
    shown = compute_dashboard(_planner(), D(2026, 5, 1), plan)
    counts = {light: sum(k["lights"][light] for k in shown["per_list"]) for light in ("red", "yellow", "green", "done")}
    assert (april.red, april.yellow, april.green, april.done) == tuple(counts.values())
    assert april.red + april.yellow + april.green + april.done == 3
    # per unit: an entry counts for its unit
    mine = row(plan, D(2026, 4, 1), zone["a"])
    assert mine.year_completed == Decimal("3.75") and mine.year_planned == Decimal("6")
    assert mine.reports_due == 2 and mine.red + mine.yellow + mine.green + mine.done == 2
    assert row(plan, D(2026, 4, 1), zone["b"]).year_completed == Decimal("4")


def lights(r):
    return r.red, r.yellow, r.green, r.done


def test_reruns_refresh_reporting_until_the_deadline_keep_the_lights_and_catch_up_missed_nights(zone):
    plan, p1 = zone["plan"], zone["p1"]
    nightly(D(2026, 5, 1))
    first = lights(row(plan, D(2026, 4, 1)))
    assert first[0] == 0
    filed(p1, D(2026, 4, 1), Decimal("1.25"), D(2026, 5, 3))
    # a milestone entered late turns p2 red in the stored lights of May 4
    Milestone.objects.create(item=zone["p2"], name="主体完工", due_date=D(2026, 4, 15))
    nightly(D(2026, 5, 4))  # again: April's reports are still coming in
    april = row(plan, D(2026, 4, 1))
    assert april.written_on == D(2026, 5, 4) and april.reports_on_time == 1
    assert april.year_completed == Decimal("9")
    assert lights(april) == first and april.lights_as_of == D(2026, 5, 1)  # April's lights are kept
    assert compute_dashboard(_planner(), D(2026, 5, 4), plan)["lights"]["red"] == 1
    assert MonthEndFigures.objects.filter(plan=plan, month=D(2026, 4, 1)).count() == 3  # plan + two units
    nightly(D(2026, 5, 6))  # the first night after the deadline: final
    nightly(D(2026, 5, 7))
    assert row(plan, D(2026, 4, 1)).written_on == D(2026, 5, 6)
    # nights of June 1 to July 1 missed: July 2 writes May and June, with the lights of its evaluation
    nightly(D(2026, 7, 2))
    months = sorted(MonthEndFigures.objects.filter(plan=plan, unit=None).values_list("month", "written_on",
                                                                                        "lights_as_of"))
    assert months == [(D(2026, 4, 1), D(2026, 5, 6), D(2026, 5, 1)), (D(2026, 5, 1), D(2026, 7, 2), D(2026, 7, 2)),
                      (D(2026, 6, 1), D(2026, 7, 2), D(2026, 7, 2))]
    assert row(plan, D(2026, 6, 1)).reports_due == 3 and row(plan, D(2026, 6, 1)).reports_on_time == 0
    shown = compute_dashboard(_planner(), D(2026, 7, 2), plan)["per_list"]
    assert lights(row(plan, D(2026, 6, 1))) == tuple(sum(k["lights"][light] for k in shown)
                                                     for light in ("red", "yellow", "green", "done"))


def test_the_nightly_step_reads_stored_lights_and_never_derives_them_live(zone, monkeypatch):
    import portfolio.summary

    def live(*args, **kwargs):
        raise AssertionError("the nightly trend step derived lights live")

    nightly(D(2026, 5, 1))  # the evaluation first, then the trend step under watch
    MonthEndFigures.objects.all().delete()
    monkeypatch.setattr(portfolio.summary, "with_findings", live)
    write_month_ends(D(2026, 5, 1))
    assert row(zone["plan"], D(2026, 4, 1)).lights_as_of == D(2026, 5, 1)
    # without an evaluation after the month's end the month waits (it is not derived live)
    MonthEndFigures.objects.all().delete()
    assert write_month_ends(D(2026, 6, 1)) == 0 and not MonthEndFigures.objects.filter(month=D(2026, 5, 1)).exists()


def test_backfill_from_the_reports_equals_what_the_nightly_run_wrote(zone):
    plan, p1 = zone["plan"], zone["p1"]
    nightly(D(2026, 5, 1))
    filed(p1, D(2026, 4, 1), Decimal("1.25"), D(2026, 5, 3))
    for day in (D(2026, 5, 4), D(2026, 5, 6), D(2026, 6, 1), D(2026, 6, 6), D(2026, 7, 1), D(2026, 7, 6)):
        nightly(day)
    nightly_rows = stored(plan)
    assert {m for _, m in nightly_rows} == {D(2026, 4, 1), D(2026, 5, 1), D(2026, 6, 1)}
    MonthEndFigures.objects.filter(plan=plan).delete()
    call_command("backfill_trends", "--plan", "t-15", "--as-of", "2026-07-06", stdout=open("/dev/null", "w"))
    back = stored(plan)
    assert {m for _, m in back} == {D(2026, m, 1) for m in range(1, 7)}  # from the plan's first month
    assert {k: v for k, v in back.items() if k[1] >= D(2026, 4, 1)} == nightly_rows
    january = row(plan, D(2026, 1, 1))
    assert (january.reports_due, january.reports_on_time, january.year_completed) == (3, 3, Decimal("3.25"))
    march = row(plan, D(2026, 3, 1))
    assert (march.reports_due, march.reports_on_time) == (3, 0)  # p1's March report came late
    # the lights are derived for the 1st after each month, the date the nightly run reads them
    assert set(MonthEndFigures.objects.filter(plan=plan).values_list("month", "lights_as_of")) == \
        {(D(2026, m, 1), D(2026, m + 1, 1)) for m in range(1, 7)}
    # a second backfill keeps the rows stored
    assert backfill(plan, D(2026, 7, 6)) == 0 and stored(plan) == back


def _planner():
    from django.contrib.auth.models import User

    from tests.conftest import make_user
    from projects.models import Role

    return User.objects.filter(username="trend_planner").first() or make_user("trend_planner", Role.PLANNER)


def trends_on(html):
    return json.loads(re.search(r'<script id="trends-data" type="application/json">(.*?)</script>', html, re.S)
                      .group(1))


def test_the_dashboard_reads_the_stored_rows_scoped_to_the_users_units(client, zone, leader, unit_a_user):
    plan = zone["plan"]
    backfill(plan, D(2026, 7, 6))
    client.force_login(leader)
    data = trends_on(client.get("/?plan=t-15&as_of=2026-07-06").content.decode())
    assert data["year_label"] == "2026年" and data["year"]["labels"][:2] == ["1月", "2月"]
    assert data["year"]["year_completed"][:6] == [3.25, 6.5, 7.75, 7.75, 7.75, 7.75]
    assert data["year"]["year_completed"][6:] == [None] * 6
    assert data["year"]["completed_pct"][0] == 18.1  # 3.25 of 18, rounded half up
    assert data["recent"]["labels"][-1] == "2026-06" and len(data["recent"]["labels"]) == 12
    # stored, not recomputed: a report filed now shows after the next write
    filed(zone["p2"], D(2026, 3, 1), Decimal("5"), D(2026, 7, 6))
    assert trends_on(client.get("/?plan=t-15&as_of=2026-07-06").content.decode())["year"]["year_completed"][2] == 7.75
    client.force_login(unit_a_user)
    mine = trends_on(client.get("/?plan=t-15&as_of=2026-07-06").content.decode())
    assert mine["year"]["year_completed"][:3] == [1.25, 2.5, 3.75]  # only its own project
    assert mine["year"]["reports_due"][0] == 2 and mine["year"]["year_planned"][0] == 6.0


def test_without_rows_the_dashboard_says_so_and_planners_get_the_backfill_button(
        client, zone, planner, leader, monkeypatch):
    from portfolio.tasks import backfill_trends_task

    client.force_login(leader)
    html = client.get("/?plan=t-15").content.decode()
    assert 'id="trends-empty"' in html and 'id="trends-backfill"' not in html
    assert client.post("/trends/backfill/", {"plan": "t-15"}).status_code == 403
    client.force_login(planner)
    assert 'id="trends-backfill"' in client.get("/?plan=t-15").content.decode()
    assert client.get("/trends/backfill/").status_code == 405
    assert client.post("/trends/backfill/", {"plan": "nope"}).status_code == 400
    monkeypatch.setitem(backfill_trends_task.app.conf, "task_always_eager", True)
    response = client.post("/trends/backfill/", {"plan": "t-15"})
    assert response.status_code == 302 and response["Location"] == "/?plan=t-15"
    last = timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
    assert MonthEndFigures.objects.filter(plan=zone["plan"], unit=None).count() == \
        (last.year - 2026) * 12 + last.month
