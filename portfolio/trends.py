"""Trends (趋势): a plan's figures at each month's end, stored in MonthEndFigures for the whole
plan and per responsible unit; the dashboard reads the stored rows (docs/architecture.md,
"Trends").

A month M's row holds
* lights: the entries' lights at the turn of the month — the stored lights (ItemFigures.light)
  of the first evaluation after M's last day, i.e. the nightly run of the 1st, whose date counts M
  as elapsed (序时进度, milestones and planned starts due within M); read once, when the row is
  first written, and kept (`lights_as_of`);
* investment: the 总体情况's figure with month M — the projects' (cancelled ones left out)
  reported month figures of January–M of M's year, against the sum of their annual targets of
  that year (NULL when none is set);
* reporting: month M's reports — the entries owing them (`reporting.owing.owes_report`) and
  those filed by M's deadline (`reporting.status.filed_on_time`).

Every figure is a grouped query over all the plans written at once, per plan and per plan and
unit (an entry counts for each of its units); rows are replaced in one transaction.

The nightly run writes the months that ended since the first stored one and are not final (a
row is final once written after M's reporting deadline, when no on-time report can still
arrive): the first night of a month writes the month just ended with its lights, the nights up
to its deadline refresh its investment and reporting (the lights stay), and a missed night is
caught up (with the lights of the evaluation that catches it up). `backfill` writes the months
of plans that have no row yet, their lights derived for the 1st after each month with the same
SQL (`summary.entry_figures`); both call `write_month`.
"""
import datetime
from collections import defaultdict
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, F, Sum

from projects.models import Item, ItemUnit, Plan, PlanState, Role, Unit, role_of
from projects.versions import cached, raise_version, scope_key, state
from reporting.calendar import add_months, previous_month, report_deadline, reporting_start
from reporting.owing import owes_report
from reporting.status import filed_on_time

from .models import MonthEndFigures
from .rules import Light
from .summary import entry_figures, rate, stored_date, year_projects, year_to_month

LIGHTS = [Light.RED.value, Light.YELLOW.value, Light.GREEN.value, Light.DONE.value]
REFRESHED = ("year_planned", "year_completed", "reports_due", "reports_on_time")
FIELDS = (*LIGHTS, *REFRESHED)
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


def lights_day(plan, month: datetime.date) -> datetime.date:
    """The day a backfill derives month M's lights for: the 1st after M (the date of the nightly
    run that first stores them), a closed plan's closing date when that is earlier."""
    day = add_months(month, 1)
    if plan.state == PlanState.CLOSED and plan.closed_on:
        day = min(day, plan.closed_on)
    return day


def _grouped(items, by=(), **aggregates) -> dict:
    """{(plan id, unit id or None, *by): aggregates} over `items`: per plan, and per plan and unit
    (an entry counts for each of its units) — two grouped queries, every plan at once."""
    out = {}
    for r in items.order_by().values("plan_id", *by).annotate(**aggregates):
        out[(r["plan_id"], None, *(r[b] for b in by))] = r
    for r in (items.order_by().values("plan_id", *by, unit_id=F("unit_links__unit_id")).annotate(**aggregates)
              .filter(unit_id__isnull=False)):
        out[(r["plan_id"], r["unit_id"], *(r[b] for b in by))] = r
    return out


def _lights(plans, day: datetime.date, stored_as_of) -> dict:
    """{(plan id, unit id or None): {light: n}} of the plans' entries as of `day`
    (`summary.entry_figures`): the stored lights when `day` is the stored figures' date — two
    grouped queries —, else derived live in one query listing each entry's light once, counted
    per plan and unit here (a second live query per unit would double a backfill's cost)."""
    items = Item.objects.filter(plan__in=plans).listed(day)  # an entry 调出 by then is not counted
    figures, stored = entry_figures(items, day, stored_as_of)
    out = defaultdict(lambda: dict.fromkeys(LIGHTS, 0))
    if stored:
        for (plan_id, unit_id, light), r in _grouped(figures, ("light",), n=Count("pk")).items():
            out[(plan_id, unit_id)][light] = r["n"]
        return out
    units = defaultdict(list)
    for item_id, unit_id in ItemUnit.objects.filter(item__in=items.values("pk")).values_list("item_id", "unit_id"):
        units[item_id].append(unit_id)
    for item_id, plan_id, light in figures.order_by().values_list("pk", "plan_id", "light").iterator(chunk_size=10000):
        for unit_id in (None, *units.get(item_id, ())):
            out[(plan_id, unit_id)][light] += 1
    return out


def _refreshed(plans, month: datetime.date) -> dict:
    """{(plan id, unit id or None): investment and reporting figures of month M}: grouped sums
    and counts over the plans' entries, written again until M's deadline has passed."""
    items = Item.objects.filter(plan__in=plans).listed(month_end(month))
    projects = year_projects(items)
    out = defaultdict(lambda: {"year_planned": None, "year_completed": Decimal(0), "reports_due": 0,
                               "reports_on_time": 0})
    completed = _grouped(projects.filter(year_to_month(month, "reports__")), s=Sum("reports__month_investment"))
    for key, r in completed.items():
        out[key]["year_completed"] = r["s"] or Decimal(0)
    planned = _grouped(projects.filter(annual_targets__year=month.year), s=Sum("annual_targets__planned_investment"))
    for key, r in planned.items():
        out[key]["year_planned"] = r["s"]
    due = _grouped(items.filter(owes_report(month)), due=Count("pk"), on_time=Count("pk", filter=filed_on_time(month)))
    for key, r in due.items():
        out[key].update(reports_due=r["due"], reports_on_time=r["on_time"])
    return out


def write_month(plans, month: datetime.date, written_on: datetime.date, lights_on=None) -> int:
    """Store the plans' rows of one month in one transaction (idempotent). Investment and
    reporting are computed now. The lights of a plan that already has the month are kept; the
    others' are read as of `lights_on` (the nightly run: its evaluation's date, so the stored
    lights) or, when None, as of `lights_day` (a backfill). Only rows whose figures changed are
    written again (with `written_on` moved on every row); returns their number."""
    plans = list(plans)
    ids = [p.pk for p in plans]
    stored = state().as_of
    kept = {(r["plan_id"], r["unit_id"]): r for r in MonthEndFigures.objects.filter(plan__in=ids, month=month)
            .values("pk", "plan_id", "unit_id", "lights_as_of", *FIELDS)}
    by_day = defaultdict(list)
    for plan in plans:
        if (plan.pk, None) not in kept:
            by_day[(lights_on or lights_day(plan, month), stored_date(plan, stored))].append(plan)
    lights, days = {}, {plan_id: r["lights_as_of"] for (plan_id, unit_id), r in kept.items() if unit_id is None}
    for (day, stored_as_of), group in by_day.items():
        lights.update(_lights(group, day, stored_as_of))
        days.update({p.pk: day for p in group})
    figures = _refreshed(plans, month)
    blank = dict.fromkeys(LIGHTS, 0)
    rows = []
    for plan_id, unit_id in set(figures) | set(lights) | set(kept) | {(pk, None) for pk in ids}:
        source = kept if (plan_id, None) in kept else lights
        row = {"plan_id": plan_id, "unit_id": unit_id, "lights_as_of": days[plan_id],
               **{light: (source.get((plan_id, unit_id)) or blank)[light] for light in LIGHTS},
               **{f: figures[(plan_id, unit_id)][f] for f in REFRESHED}}
        old = kept.get((plan_id, unit_id))
        if old is None or any(old[f] != row[f] for f in ("lights_as_of", *FIELDS)):
            rows.append(row)
    with transaction.atomic():
        replaced = [kept[(r["plan_id"], r["unit_id"])]["pk"] for r in rows if (r["plan_id"], r["unit_id"]) in kept]
        for start in range(0, len(replaced), 10000):
            MonthEndFigures.objects.filter(pk__in=replaced[start:start + 10000]).delete()
        _insert([{**r, "month": month, "written_on": written_on} for r in rows])
        MonthEndFigures.objects.filter(plan__in=ids, month=month).exclude(written_on=written_on) \
            .update(written_on=written_on)
        if rows:
            raise_version(())  # the trends are cached under the data version; no slice of sums moved
    return len(rows)


def _insert(rows: list) -> None:
    """Insert MonthEndFigures rows given as {column: value}: on PostgreSQL one INSERT ... SELECT
    FROM unnest(one array per column) — no per-value work in Python for tens of thousands of
    rows —, elsewhere bulk_create."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        MonthEndFigures.objects.bulk_create([MonthEndFigures(**r) for r in rows], batch_size=2000)
        return
    names = list(rows[0])
    fields = [MonthEndFigures._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    arrays = ", ".join(f"%s::{f.db_type(connection).split('(')[0]}[]" for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {quote(MonthEndFigures._meta.db_table)} ({columns}) SELECT * FROM unnest({arrays})",
                       [[r[name] for r in rows] for name in names])


def months_owed(plan, as_of: datetime.date, written=None) -> list:
    """The months the nightly run of `as_of` writes: those ended since the first stored one (the
    month just ended when none is) that are missing or were written before their deadline passed.
    written: {month: written_on} of the plan's stored rows (read when not given)."""
    last = last_month(plan, as_of)
    if last is None:
        return []
    if written is None:
        written = dict(MonthEndFigures.objects.filter(plan=plan, unit__isnull=True).values_list("month", "written_on"))
    month = max(min(written, default=last), first_month(plan))
    months = []
    while month <= last:
        if month not in written or written[month] <= report_deadline(month):
            months.append(month)
        month = add_months(month, 1)
    return months


def write_month_ends(as_of: datetime.date) -> int:
    """The nightly run's step, after its evaluation: every plan 执行中, the months it owes
    (`months_owed`), all plans of a month in one `write_month`. A month not stored yet takes the
    stored lights, so it waits for an evaluation dated after its end (the nightly run's own);
    nothing here derives lights live. Returns the number of rows written."""
    stored = state().as_of
    plans = list(Plan.objects.filter(state=PlanState.ACTIVE).order_by("pk"))
    written = defaultdict(dict)
    for plan_id, month, written_on in MonthEndFigures.objects.filter(plan__in=plans, unit__isnull=True) \
            .values_list("plan_id", "month", "written_on"):
        written[plan_id][month] = written_on
    by_month = defaultdict(list)
    for plan in plans:
        for month in months_owed(plan, as_of, written[plan.pk]):
            if month in written[plan.pk] or (stored is not None and stored > month_end(month)):
                by_month[month].append(plan)
    return sum(write_month(group, month, as_of, lights_on=stored) for month, group in sorted(by_month.items()))


def backfill(plans, as_of: datetime.date) -> int:
    """The months ended by `as_of` of each plan (one, or several), from its first month, that have
    no row yet — written from the reports as the nightly run writes them, the lights derived for
    `lights_day`: one `write_month` per month for all the plans. Rows already stored are kept
    (their lights are final). Returns the number of plan-months written."""
    plans = [plans] if isinstance(plans, Plan) else list(plans)
    spans = {p.pk: (first_month(p), last_month(p, as_of)) for p in plans}
    spans = {pk: span for pk, span in spans.items() if span[1] is not None}
    if not spans:
        return 0
    done = set(MonthEndFigures.objects.filter(plan__in=list(spans), unit__isnull=True).values_list("plan_id", "month"))
    month, end, n = min(a for a, _ in spans.values()), max(b for _, b in spans.values()), 0
    while month <= end:
        group = [p for p in plans if p.pk in spans and spans[p.pk][0] <= month <= spans[p.pk][1]
                 and (p.pk, month) not in done]
        if group:
            write_month(group, month, as_of)
            n += len(group)
        month = add_months(month, 1)
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
    plans = [plan] if plan is not None else list(Plan.objects.visible_to(user).in_force())
    rows = MonthEndFigures.objects.filter(plan__in=plans, month__gte=min(year_months[0], recent[0]), month__lte=last)
    if role_of(user) == Role.UNIT:
        rows = rows.filter(unit__in=Unit.objects.filter(members=user))
    else:
        rows = rows.filter(unit__isnull=True)
    fields = FIELDS
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
