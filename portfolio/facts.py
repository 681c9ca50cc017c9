"""What the rules look at: each entry's facts as of a date, in two forms that must agree.

* SQL: `with_facts(queryset, as_of, source)` annotates entries with every fact, for all of them
  in one query. `source="live"` derives the data facts (last report, cumulative investment,
  first unmet milestone, on-time reports) from the registry's rows as of the date;
  `source="stored"` reads them from `ItemFigures`, which the evaluation keeps fresh.
* Python: `facts_for(item, as_of)` derives the same facts for one entry from its own rows.

tests/test_rules_agree.py proves the two forms give the same findings (docs/architecture.md).
"""
import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    BooleanField, Case, Count, DecimalField, Exists, ExpressionWrapper, F, FilteredRelation, IntegerField, OuterRef, Q,
    Subquery, Sum, Value, When,
)
from django.db.models.functions import Cast, Coalesce, ExtractMonth, ExtractYear, Greatest, Least, NullIf

from projects.models import ItemUnit, ListKind, ProjectType
from reporting.calendar import add_months, first_month_due, late_month, months_between, previous_month, report_deadline, reporting_start
from reporting.cumulative import CHAIN_DEPTH, CHAIN_REPORTS, chain_of, cumulative_report_of
from reporting.models import AnnualTarget, Milestone, StatusReport

DEC = DecimalField(max_digits=30, decimal_places=10)
ZERO = Decimal("0")
HUNDRED = Decimal("100")
ON_TIME_MONTHS = 6  # the on-time reporting rate looks at the last six due months
START_WORD = "开工"  # a milestone whose name holds it is a 开工 milestone (开工滞后)


class AsDecimal(Cast):
    """A number as a decimal in SQL arithmetic, so that no division is an integer division:
    numeric on PostgreSQL; REAL on SQLite (the embedded default), whose NUMERIC keeps a whole
    number an integer and divides 20 * 11 / 12 into 18 (docs/architecture.md, "Money")."""

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="CAST(%(expressions)s AS REAL)", **extra_context)


def _dec(expr):
    return AsDecimal(expr, DEC)


def _month_index(year, month):
    return year * 12 + month - 1


def on_time_months(as_of: datetime.date) -> list:
    """The last ON_TIME_MONTHS due months, latest first."""
    months = [late_month(as_of)]
    while len(months) < ON_TIME_MONTHS:
        months.append(previous_month(months[-1]))
    return months


def on_time_condition(as_of: datetime.date, prefix="") -> Q:
    """Reports of the last due months that were filed by their deadline (Asia/Shanghai days)."""
    from django.utils import timezone

    condition = Q(pk__in=[])
    for month in on_time_months(as_of):
        end = timezone.make_aware(datetime.datetime.combine(report_deadline(month) + datetime.timedelta(days=1),
                                                            datetime.time()))
        condition |= Q(**{f"{prefix}month": month, f"{prefix}filed_at__lt": end})
    return condition


def planned_start_expression():
    """The explicit planned start month index (year × 12 + month − 1): the earliest annual target
    with a planned start month, else the earliest-due 开工 milestone; NULL when neither exists."""
    target = (AnnualTarget.objects.filter(item=OuterRef("pk"), planned_start_month__isnull=False)
              .order_by("year").annotate(i=F("year") * 12 + F("planned_start_month") - 1).values("i")[:1])
    milestone = (Milestone.objects.filter(item=OuterRef("pk"), name__contains=START_WORD).order_by("due_date", "pk")
                 .annotate(i=ExtractYear("due_date") * 12 + ExtractMonth("due_date") - 1).values("i")[:1])
    return Coalesce(Subquery(target, output_field=IntegerField()), Subquery(milestone, output_field=IntegerField()))


def live_data_facts(queryset, as_of: datetime.date | None):
    """Data facts derived from reports and milestones (as of a date; None: every row there is)."""
    reports = StatusReport.objects.filter(item=OuterRef("pk"))
    unmet = Milestone.objects.filter(item=OuterRef("pk"))
    started = Milestone.objects.filter(item=OuterRef("pk"), name__contains=START_WORD, met_on__isnull=False)
    if as_of is None:
        unmet = unmet.filter(met_on__isnull=True)
    else:
        reports = reports.filter(month__lte=as_of)
        unmet = unmet.filter(Q(met_on__isnull=True) | Q(met_on__gt=as_of))
        started = started.filter(met_on__lte=as_of)
    # The cumulative investment is the project's (projects/continuation.py: CHAIN_REPORTS).
    chain = StatusReport.objects.filter(CHAIN_REPORTS, cumulative_investment__isnull=False)
    if as_of is not None:
        chain = chain.filter(month__lte=as_of)
    reports = reports.order_by("-month")
    unmet = unmet.order_by("due_date", "pk")
    return queryset.annotate(
        last_month=Subquery(reports.values("month")[:1]),
        # a report filed without the figure keeps the last known one
        cumulative=Subquery(chain.order_by("-month", "-pk").values("cumulative_investment")[:1]),
        milestone_name=Subquery(unmet.values("name")[:1]),
        milestone_due=Subquery(unmet.values("due_date")[:1]),
        start_planned_index=planned_start_expression(),
        start_met=Exists(started),
    )


def live_year_completed(as_of: datetime.date):
    """Investment reported in the date's year up to the date: the sum of the months' figures."""
    done = (StatusReport.objects.filter(item=OuterRef("pk"), month__year=as_of.year, month__lte=as_of)
            .order_by().values("item").annotate(s=Sum("month_investment")).values("s"))
    return Subquery(done, output_field=DEC)


def with_stored_year_completed(queryset, as_of: datetime.date):
    """The same from ItemYearFigures (the year's reports, summed by the evaluation): a join on the
    entry's one row of the year (unique per entry and year), which PostgreSQL hashes once for
    every entry instead of probing per entry."""
    return queryset.annotate(year_row=FilteredRelation("year_figures", condition=Q(year_figures__year=as_of.year))) \
        .annotate(year_completed=F("year_row__completed"))


def reports_on_time_expression(as_of: datetime.date):
    # month__in repeats what the condition says, so that each entry's six months are looked up
    # in the (item, month) index instead of every report of the entry being read
    on_time = (StatusReport.objects.filter(on_time_condition(as_of), item=OuterRef("pk"), month__in=on_time_months(as_of))
               .order_by().values("item").annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(on_time, output_field=IntegerField()), Value(0))


def stored_data_facts(queryset):
    return queryset.annotate(
        last_month=F("figures__last_month"), cumulative=F("figures__cumulative"),
        milestone_name=F("figures__milestone_name"), milestone_due=F("figures__milestone_due"),
        start_planned_index=F("figures__start_planned_index"), start_met=F("figures__start_met"),
    )


def year_time_pct(as_of: datetime.date) -> Decimal:
    """The year's 序时进度 as of a date: the months of the year completed ÷ 12, in %."""
    return Decimal(as_of.month - 1) * HUNDRED / Decimal(12)


def date_facts(queryset, as_of: datetime.date):
    """The facts of the date that need other rows: reports filed on time in the last due months;
    over the construction period, the share of the total investment expected by now (spread
    evenly by month) and done; with an annual target of the date's year (年度计划投资 > 0), the
    year's 序时进度 and 完成率 (the queryset carries `year_completed`)."""
    year, month = as_of.year, as_of.month
    # the year's target (one per entry and year), joined once: a subquery would run for every
    # entry in each of the three expressions that name it
    queryset = queryset.annotate(target_now=FilteredRelation("annual_targets", condition=Q(annual_targets__year=year)))
    total = _dec(NullIf(F("total_investment"), Value(ZERO)))
    period_months = (F("end_year") - F("start_year") + 1) * 12
    months_done = Greatest(Value(0), Least(Value(year * 12 + month - 1) - F("start_year") * 12, period_months))
    even_pct = _dec(months_done) * Value(HUNDRED) / _dec(period_months)
    return queryset.annotate(
        reports_on_time=reports_on_time_expression(as_of),
        year_planned=F("target_now__planned_investment"),
    ).annotate(
        # LEAST ignores NULL on PostgreSQL but not on SQLite: only known shares reach it.
        expected_pct=Case(
            When(start_year__isnull=False, end_year__isnull=False, then=Least(even_pct, Value(HUNDRED))),
            default=None, output_field=DEC),
        actual_pct=ExpressionWrapper(Coalesce(F("cumulative"), Value(ZERO)) * Value(HUNDRED) / total, output_field=DEC),
        year_expected_pct=Case(
            When(year_planned__gt=0, then=_dec(Value(month - 1)) * Value(HUNDRED) / _dec(Value(12))),
            default=None, output_field=DEC),
        year_actual_pct=Case(
            When(year_planned__gt=0, then=Coalesce(F("year_completed"), Value(ZERO)) * Value(HUNDRED)
                 / _dec(F("year_planned"))),
            default=None, output_field=DEC),
    )


def stored_date_facts(queryset):
    return queryset.annotate(reports_on_time=F("figures__reports_on_time"), expected_pct=F("figures__expected_pct"),
                             actual_pct=F("figures__actual_pct"), year_expected_pct=F("figures__year_expected_pct"),
                             year_actual_pct=F("figures__year_actual_pct"))


def missed_since_expression():
    """The month index from which an entry's reports are missing (over entries annotated with
    last_month): the month after its last report, not before its first due month."""
    start_index = _month_index(reporting_start().year, reporting_start().month)
    # reporting.calendar.first_month_due: January of the entry's start year and of its plan's,
    # whichever is later (an entry without its own period: its plan's), not before the reporting start
    first_due = Greatest(Coalesce(F("start_year"), F("plan__start_year")) * 12, F("plan__start_year") * 12,
                         Value(start_index))
    after_last = Coalesce(ExtractYear("last_month") * 12 + ExtractMonth("last_month"), Value(0))
    return Greatest(after_last, first_due)


def months_missed_expression(as_of: datetime.date):
    """How many months up to the late month (reporting.calendar.late_month) an entry has not reported."""
    due = late_month(as_of)
    return Greatest(Value(_month_index(due.year, due.month)) - missed_since_expression() + 1, Value(0))


def start_due_expression():
    """The month index a project is due to start by (开工滞后): for a 新建 project its explicit
    planned start, else January of its start year; for a 前期 one its explicit planned start only."""
    return Case(
        When(list_kind=ListKind.PROJECT, project_type=ProjectType.NEW,
             then=Coalesce(F("start_planned_index"), F("start_year") * 12)),
        When(list_kind=ListKind.PROJECT, project_type=ProjectType.PREPARATORY, then=F("start_planned_index")),
        default=None, output_field=IntegerField())


def derived_facts(queryset, as_of: datetime.date):
    """Facts computed from the others by arithmetic: months of reports missed, points behind
    序时进度 (the year's when the year has a target, else the period's), the amount expected by
    now, and how many months a start is late."""
    return queryset.annotate(
        has_unit=Exists(ItemUnit.objects.filter(item=OuterRef("pk"))),
        missed_since_index=missed_since_expression(),
        months_missed=months_missed_expression(as_of),
        points_behind=Case(
            When(year_expected_pct__isnull=False, then=F("year_expected_pct") - F("year_actual_pct")),
            default=F("expected_pct") - F("actual_pct"), output_field=DEC),
        start_due_index=start_due_expression(),
    ).annotate(
        start_months_late=ExpressionWrapper(Value(_month_index(as_of.year, as_of.month)) - F("start_due_index"),
                                            output_field=IntegerField()),
        expected_amount=ExpressionWrapper(
            Coalesce(F("expected_pct"), Value(ZERO)) * Coalesce(F("total_investment"), Value(ZERO)) / _dec(Value(HUNDRED)),
            output_field=DEC),
    )


SOURCES = ("live", "stored", "figures")


def with_facts(queryset, as_of: datetime.date, source="live"):
    """Entries annotated with every fact the rules and the figures need, as of a date.

    source="live": every fact from the registry's rows as of the date (any date);
    source="stored": the rows' facts from ItemFigures (kept fresh after every change), the
    date's facts computed (the evaluation's first step);
    source="figures": every fact from ItemFigures as evaluated (its second step, which derives
    the light from simple columns instead of repeating the subqueries for each rule)."""
    if source == "figures":
        queryset = stored_date_facts(stored_data_facts(queryset))
    elif source == "stored":
        queryset = date_facts(with_stored_year_completed(stored_data_facts(queryset), as_of), as_of)
    else:
        queryset = date_facts(live_data_facts(queryset, as_of).annotate(year_completed=live_year_completed(as_of)),
                              as_of)
    # the start year of the plan that carries the entry on, if one does (rules stop from then)
    return derived_facts(queryset, as_of).annotate(carried_year=F("successor__plan__start_year"))


def month_of_index(index) -> datetime.date | None:
    return None if index is None else datetime.date(index // 12, index % 12 + 1, 1)


# ---------------------------------------------------------------- the Python form

@dataclass
class Facts:
    """One entry's facts as of a date (the Python form of `with_facts`)."""

    pk: int
    list_kind: str
    status: str
    project_type: str
    start_year: int | None
    end_year: int | None
    total_investment: Decimal | None
    last_month: datetime.date | None
    cumulative: Decimal | None
    milestone_name: str | None
    milestone_due: datetime.date | None
    reports_on_time: int
    has_unit: bool
    missed_since: datetime.date
    months_missed: int
    expected_pct: Decimal | None
    actual_pct: Decimal | None
    points_behind: Decimal | None
    expected_amount: Decimal
    year_expected_pct: Decimal | None = None
    year_actual_pct: Decimal | None = None
    start_planned_index: int | None = None
    start_met: bool = False
    start_due_index: int | None = None
    start_months_late: int | None = None
    carried_year: int | None = None
    added_on: datetime.date | None = None  # the lists' dates (projects.models.listed_q)
    withdrawn_on: datetime.date | None = None

    def get(self, name):
        return getattr(self, name)


def facts_for(item, as_of: datetime.date) -> Facts:
    """Derive an entry's facts from its own rows (reports, milestones, targets, unit links),
    prefetched or not, in plain Python."""
    reports = sorted((r for r in item.reports.all() if r.month <= as_of), key=lambda r: r.month, reverse=True)
    last_month = reports[0].month if reports else None
    holder = cumulative_report_of(r for entry in chain_of(item) for r in entry.reports.all() if r.month <= as_of)
    cumulative = holder.cumulative_investment if holder else None
    unmet = sorted((m for m in item.milestones.all() if m.met_on is None or m.met_on > as_of),
                   key=lambda m: (m.due_date, m.pk))
    on_time = set(on_time_months(as_of))
    reports_on_time = sum(
        1 for r in item.reports.all()
        if r.month in on_time and _local_date(r.filed_at) <= report_deadline(r.month))

    due = late_month(as_of)
    since = first_month_due(item.start_year, item.plan.start_year)
    if last_month is not None:
        since = max(since, add_months(last_month, 1))
    months_missed = max(months_between(since, due) + 1, 0)

    total = item.total_investment or None
    targets = sorted(item.annual_targets.all(), key=lambda t: t.year)
    expected_pct = None
    if item.start_year is not None and item.end_year is not None:
        period = (item.end_year - item.start_year + 1) * 12
        done = max(0, min(as_of.year * 12 + as_of.month - 1 - item.start_year * 12, period))
        expected_pct = min(Decimal(done) * HUNDRED / Decimal(period), HUNDRED)
    actual_pct = (cumulative or ZERO) * HUNDRED / total if total else None
    year_planned = next((t.planned_investment for t in targets if t.year == as_of.year), None)
    year_expected_pct = year_actual_pct = None
    if year_planned is not None and year_planned > 0:
        year_done = sum((r.month_investment for r in item.reports.all()
                         if r.month.year == as_of.year and r.month <= as_of and r.month_investment is not None), ZERO)
        year_expected_pct = year_time_pct(as_of)
        year_actual_pct = year_done * HUNDRED / year_planned
        points_behind = year_expected_pct - year_actual_pct
    else:
        points_behind = expected_pct - actual_pct if expected_pct is not None and actual_pct is not None else None

    start_planned_index = next((_month_index(t.year, t.planned_start_month) for t in targets
                                if t.planned_start_month is not None), None)
    start_milestones = sorted((m for m in item.milestones.all() if START_WORD in m.name),
                              key=lambda m: (m.due_date, m.pk))
    if start_planned_index is None and start_milestones:
        start_planned_index = _month_index(start_milestones[0].due_date.year, start_milestones[0].due_date.month)
    start_met = any(m.met_on is not None and m.met_on <= as_of for m in start_milestones)
    start_due_index = None
    if item.list_kind == ListKind.PROJECT and item.project_type == ProjectType.NEW:
        start_due_index = start_planned_index if start_planned_index is not None else (
            item.start_year * 12 if item.start_year is not None else None)
    elif item.list_kind == ListKind.PROJECT and item.project_type == ProjectType.PREPARATORY:
        start_due_index = start_planned_index
    return Facts(
        pk=item.pk, list_kind=item.list_kind, status=item.status, project_type=item.project_type,
        start_year=item.start_year, end_year=item.end_year, total_investment=item.total_investment,
        last_month=last_month, cumulative=cumulative,
        milestone_name=unmet[0].name if unmet else None, milestone_due=unmet[0].due_date if unmet else None,
        reports_on_time=reports_on_time, has_unit=bool(list(item.unit_links.all())),
        missed_since=since, months_missed=months_missed,
        expected_pct=expected_pct, actual_pct=actual_pct, points_behind=points_behind,
        expected_amount=(expected_pct or ZERO) * (item.total_investment or ZERO) / HUNDRED,
        year_expected_pct=year_expected_pct, year_actual_pct=year_actual_pct,
        start_planned_index=start_planned_index, start_met=start_met, start_due_index=start_due_index,
        start_months_late=(None if start_due_index is None
                           else _month_index(as_of.year, as_of.month) - start_due_index),
        carried_year=successor.plan.start_year if (successor := getattr(item, "successor", None)) else None,
        added_on=item.added_on, withdrawn_on=item.withdrawn_on,
    )


def _local_date(moment):
    from django.utils import timezone

    return timezone.localtime(moment).date()


__all__ = ["CHAIN_DEPTH", "with_facts", "facts_for", "Facts", "on_time_condition", "month_of_index", "ListKind", "BooleanField"]
