"""Trends (趋势): a plan's figures at each month's end, stored in MonthEndFigures for the whole
plan and per responsible unit; the dashboard reads the stored rows (docs/architecture.md,
"Trends").

A month M's row holds
* lights: the entries' lights as of M's last day (`summary.entry_figures`: the stored figures
  when they are of that day, else derived live with the same SQL);
* investment: the 总体情况's figure with month M — the projects' (cancelled ones left out)
  reported month figures of January–M of M's year, against the sum of their annual targets of
  that year (NULL when none is set);
* reporting: month M's reports — the entries owing them (`reporting.owing.owes_report`) and
  those filed by M's deadline (`reporting.status`: reported less reported late).

The nightly run writes the months that ended since the first stored one and are not final (a
row is final once written after M's reporting deadline, when no on-time report can still
arrive): the first night of a month writes the month just ended, the nights up to its deadline
write it again, and a missed night is caught up. `backfill` writes every month of a plan from
its start (or the reporting start) the same way; both call `write_month`.
"""
import datetime
from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from projects.models import Item, ItemStatus, ItemUnit, ListKind, Plan, PlanState, Role, Unit, role_of
from reporting.calendar import add_months, previous_month, report_deadline, reporting_start
from reporting.models import AnnualTarget, StatusReport
from reporting.status import entry_totals, unit_status

from projects.versions import cached, raise_version, scope_key

from .models import MonthEndFigures
from .rules import Light
from .summary import entry_figures, rate, stored_date

LIGHTS = [Light.RED.value, Light.YELLOW.value, Light.GREEN.value, Light.DONE.value]
RECENT_MONTHS = 12


def month_end(month: datetime.date) -> datetime.date:
    return add_months(month, 1) - datetime.timedelta(days=1)


def first_month(plan) -> datetime.date:
    """The first month a plan's trend has: January of its start year, not before the reporting start."""
    return max(datetime.date(plan.start_year, 1, 1), reporting_start())


def last_month(plan, as_of: datetime.date):
    """The last month ended by `as_of` within the plan's period (and before its closing)."""
    last = previous_month(as_of)
    last = min(last, datetime.date(plan.end_year, 12, 1))
    if plan.state == PlanState.CLOSED and plan.closed_on:
        last = min(last, previous_month(plan.closed_on + datetime.timedelta(days=1)))
    return last if last >= first_month(plan) else None


def _blank():
    return {**dict.fromkeys(LIGHTS, 0), "year_planned": None, "year_completed": Decimal(0),
            "reports_due": 0, "reports_on_time": 0}


def compute_month(plan, month: datetime.date, stored_as_of=None) -> dict:
    """{unit id or None (the whole plan): figures} of the plan at the month's end."""
    from projects.versions import state

    stored_as_of = stored_date(plan, stored_as_of if stored_as_of is not None else state().as_of)
    end = month_end(month)
    items = Item.objects.filter(plan=plan)
    units_of = defaultdict(list)
    for item_id, unit_id in ItemUnit.objects.filter(item__plan=plan).values_list("item_id", "unit_id"):
        units_of[item_id].append(unit_id)
    rows = defaultdict(_blank)

    def add(item_id, key, amount):
        for scope in (None, *units_of.get(item_id, ())):
            row = rows[scope]
            row[key] = amount if row[key] is None else row[key] + amount

    figures, _ = entry_figures(items, end, stored_as_of)
    for item_id, light in figures.order_by().values_list("pk", "light").iterator(chunk_size=5000):
        add(item_id, light, 1)
    projects = items.filter(list_kind=ListKind.PROJECT).exclude(status=ItemStatus.CANCELLED).values("pk")
    completed = (StatusReport.objects.filter(item__in=projects, month__gte=month.replace(month=1), month__lte=month,
                                             month_investment__isnull=False)
                 .order_by().values("item_id").annotate(s=Sum("month_investment")).values_list("item_id", "s"))
    for item_id, amount in completed:
        add(item_id, "year_completed", amount)
    planned = (AnnualTarget.objects.filter(item__in=projects, year=month.year, planned_investment__isnull=False)
               .values_list("item_id", "planned_investment"))
    for item_id, amount in planned:
        add(item_id, "year_planned", amount)
    totals = entry_totals(month, plan)
    rows[None].update(reports_due=totals["due"], reports_on_time=totals["reported"] - totals["late"])
    for r in unit_status(month, end, plan):
        rows[r["unit"].pk].update(reports_due=r["due"], reports_on_time=r["reported"] - r["late"])
    rows[None]  # the plan's row is written even when it has no entries
    return dict(rows)


def write_month(plan, month: datetime.date, written_on: datetime.date, stored_as_of=None) -> int:
    """Compute and store the plan's rows of one month, replacing those stored (idempotent)."""
    figures = compute_month(plan, month, stored_as_of)
    with transaction.atomic():
        MonthEndFigures.objects.filter(plan=plan, month=month).delete()
        MonthEndFigures.objects.bulk_create([
            MonthEndFigures(plan=plan, unit_id=unit_id, month=month, written_on=written_on, **values)
            for unit_id, values in figures.items()], batch_size=2000)
        raise_version()  # the dashboard's trends are cached under the data version
    return len(figures)


def months_owed(plan, as_of: datetime.date) -> list:
    """The months the nightly run of `as_of` writes: those ended since the first stored one (the
    month just ended when none is) that are missing or were written before their deadline passed."""
    last = last_month(plan, as_of)
    if last is None:
        return []
    written = dict(MonthEndFigures.objects.filter(plan=plan, unit__isnull=True).values_list("month", "written_on"))
    month = max(min(written, default=last), first_month(plan))
    months = []
    while month <= last:
        if month not in written or written[month] <= report_deadline(month):
            months.append(month)
        month = add_months(month, 1)
    return months


def write_month_ends(as_of: datetime.date) -> int:
    """The nightly run's step: every plan 执行中, the months it owes (`months_owed`)."""
    written = 0
    for plan in Plan.objects.filter(state=PlanState.ACTIVE).order_by("pk"):
        for month in months_owed(plan, as_of):
            written += write_month(plan, month, as_of)
    return written


def backfill(plan, as_of: datetime.date) -> int:
    """Every month of the plan ended by `as_of`, from its first month, written from the reports
    as the nightly run writes them. Returns the number of months."""
    last = last_month(plan, as_of)
    month, n = first_month(plan), 0
    while last is not None and month <= last:
        write_month(plan, month, as_of)
        month, n = add_months(month, 1), n + 1
    return n


# ---------------------------------------------------------------- what the dashboard shows

def _float(value):
    return None if value is None else float(value)


def trends(user, plan, as_of: datetime.date, row=None) -> dict:
    """`trend_series`, cached under the data version (writing month-end rows moves it)."""
    return cached(f"trends@{previous_month(as_of):%Y%m}", scope_key(user), plan, as_of,
                  lambda stored_as_of: trend_series(user, plan, as_of), row)


def trend_series(user, plan, as_of: datetime.date) -> dict:
    """The stored month-end figures the user may see (a unit user: its units' rows summed; others:
    the plan's rows), for the year of the last month ended and for the last 12 months: one query."""
    last = previous_month(as_of)
    year_months = [datetime.date(last.year, m, 1) for m in range(1, 13)]
    recent = [add_months(last, -i) for i in range(RECENT_MONTHS - 1, -1, -1)]
    plans = [plan] if plan is not None else list(Plan.objects.in_force())
    rows = MonthEndFigures.objects.filter(plan__in=plans, month__gte=min(year_months[0], recent[0]), month__lte=last)
    if role_of(user) == Role.UNIT:
        rows = rows.filter(unit__in=Unit.objects.filter(members=user))
    else:
        rows = rows.filter(unit__isnull=True)
    fields = [*LIGHTS, "year_planned", "year_completed", "reports_due", "reports_on_time"]
    by_month = {r["month"]: r for r in rows.order_by().values("month").annotate(**{f: Sum(f) for f in fields})}

    def series(months, label):
        out = {key: [] for key in ("labels", *fields, "completed_pct", "time_pct", "on_time_pct")}
        for m in months:
            r = by_month.get(m)
            out["labels"].append(label(m))
            for f in fields:
                out[f].append(_float(r[f]) if r else None)
            out["completed_pct"].append(_float(rate(r["year_completed"], r["year_planned"])) if r else None)
            out["time_pct"].append(_float(rate(m.month, 12)) if r else None)
            out["on_time_pct"].append(_float(rate(r["reports_on_time"], r["reports_due"])) if r else None)
        return out

    return {"year": series(year_months, lambda m: f"{m.month}月"), "year_label": f"{last.year}年",
            "recent": series(recent, lambda m: f"{m:%Y-%m}"), "stored": bool(by_month),
            "last": f"{last:%Y-%m}"}
