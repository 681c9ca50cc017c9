"""The rules of DESIGN.md, each one SQL expression over all entries, evaluated as of a date.

`findings(as_of)` runs one query over every entry (annotations and subqueries, no per-entry
queries); `evaluate_flags(as_of)` turns the findings into opened / updated / resolved flags.
"""
import csv
import datetime
import io
import json
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import (
    BooleanField, Case, DecimalField, Exists, ExpressionWrapper, F, OuterRef, Q, Subquery, Sum, Value, When,
)
from django.db.models.functions import Cast, Coalesce, ExtractYear, Greatest, Least, NullIf

from projects.models import (
    AnnualTarget, Item, ItemStatus, ItemUnit, ListKind, Milestone, ProjectType, StatusReport,
)
from projects.versioning import bump_version

from .models import SEVERITY_RANK, Flag, FlagKind, Light, Severity, update_flags

DEC = DecimalField(max_digits=20, decimal_places=6)
CLOSED = [ItemStatus.COMPLETED, ItemStatus.CANCELLED]
ADVISORY_LOCK_ID = 7_614_202  # serialises concurrent evaluations on PostgreSQL


def previous_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def due_report_month(as_of: datetime.date) -> datetime.date:
    """The latest month whose report is due by as_of: last month once the reporting day has passed."""
    month = previous_month(as_of)
    return month if as_of.day > settings.TRACKER_REPORTING_DAY else previous_month(month)


def reporting_start() -> datetime.date:
    """The first month units were asked to report (TRACKER_REPORTING_START, YYYY-MM)."""
    return datetime.date.fromisoformat(settings.TRACKER_REPORTING_START + "-01")


def months_between(earlier: datetime.date, later: datetime.date) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def _bool(q):
    return ExpressionWrapper(q, output_field=BooleanField())


def _dec(expr):
    return Cast(expr, DEC)


def annotate_rules(queryset, as_of: datetime.date):
    """Annotate each entry with every rule's condition and the figures its detail needs."""
    year, month = as_of.year, as_of.month
    due_month = due_report_month(as_of)
    reports = StatusReport.objects.filter(item=OuterRef("pk"), month__lte=as_of).order_by("-month")
    late_milestones = Milestone.objects.filter(
        item=OuterRef("pk"), met_on__isnull=True, due_date__lt=as_of
    ).order_by("due_date", "pk")
    targets_before = (
        AnnualTarget.objects.filter(item=OuterRef("pk"), year__lt=year)
        .values("item").annotate(s=Sum("planned_investment")).values("s")
    )
    target_now = AnnualTarget.objects.filter(item=OuterRef("pk"), year=year).values("planned_investment")[:1]
    total = NullIf(F("total_investment"), Value(Decimal("0")))
    period_months = (F("end_year") - F("start_year") + 1) * 12
    months_done = Greatest(Value(0), Least(Value(year * 12 + month - 1) - F("start_year") * 12, period_months))
    even_pct = _dec(months_done) * Value(Decimal("100")) / _dec(period_months)
    target_pct = (
        (Coalesce(Subquery(targets_before, output_field=DEC), Value(Decimal("0")))
         + Coalesce(Subquery(target_now, output_field=DEC), Value(Decimal("0"))) * Value(Decimal(month - 1)) / Value(Decimal("12")))
        * Value(Decimal("100")) / total
    )
    is_open = ~Q(status__in=CLOSED)
    # Never reported: a report is due only for months since the entry started and reporting began.
    never_reported_due = Q(last_month__isnull=True) & (
        Q(start_year__isnull=True) | Q(start_year__lte=due_month.year)
    ) if due_month >= reporting_start() else Q(pk__in=[])
    qs = queryset.annotate(
        last_month=Subquery(reports.values("month")[:1]),
        # a report filed without the figure keeps the last known one
        cumulative=Subquery(reports.filter(cumulative_investment__isnull=False)
                            .values("cumulative_investment")[:1]),
        has_unit=Exists(ItemUnit.objects.filter(item=OuterRef("pk"))),
        has_targets=Exists(AnnualTarget.objects.filter(item=OuterRef("pk"))),
        late_milestone=Subquery(late_milestones.values("name")[:1]),
        late_milestone_due=Subquery(late_milestones.values("due_date")[:1]),
    ).annotate(
        expected_pct=ExpressionWrapper(
            Least(Case(When(has_targets=True, then=target_pct), default=even_pct, output_field=DEC),
                  Value(Decimal("100"))),
            output_field=DEC),
        actual_pct=ExpressionWrapper(
            Coalesce(F("cumulative"), Value(Decimal("0"))) * Value(Decimal("100")) / total, output_field=DEC),
    ).annotate(
        points_behind=ExpressionWrapper(F("expected_pct") - F("actual_pct"), output_field=DEC),
    ).annotate(
        rule_overdue=_bool(is_open & Q(end_year__lt=year)),
        rule_milestone_overdue=_bool(is_open & Q(late_milestone_due__isnull=False)),
        rule_report_missing=_bool(
            Q(status=ItemStatus.IN_PROGRESS) & (never_reported_due | Q(last_month__lt=due_month))
        ),
        rule_underfunded=_bool(
            is_open & Q(list_kind=ListKind.PROJECT, total_investment__gt=0, start_year__isnull=False,
                        end_year__isnull=False, points_behind__gt=settings.TRACKER_UNDERFUNDED_YELLOW_POINTS)
        ),
        rule_unassigned=_bool(is_open & Q(has_unit=False)),
        rule_investment_unknown=_bool(
            is_open & Q(list_kind=ListKind.PROJECT, total_investment__isnull=True,
                        project_type__in=[ProjectType.NEW, ProjectType.CONTINUING])
        ),
    )
    return qs


RULE_FIELDS = {
    FlagKind.OVERDUE: "rule_overdue",
    FlagKind.MILESTONE_OVERDUE: "rule_milestone_overdue",
    FlagKind.REPORT_MISSING: "rule_report_missing",
    FlagKind.UNDERFUNDED: "rule_underfunded",
    FlagKind.UNASSIGNED: "rule_unassigned",
    FlagKind.INVESTMENT_UNKNOWN: "rule_investment_unknown",
}


def _pct(value):
    return str(Decimal(value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)) if value is not None else None


def findings(as_of: datetime.date, items=None):
    """{(item_id, kind): (severity, detail)} for every rule that holds, in one query."""
    queryset = items if items is not None else Item.objects.all()
    any_rule = Q()
    for name in RULE_FIELDS.values():
        any_rule |= Q(**{name: True})
    rows = annotate_rules(queryset, as_of).filter(any_rule).values(
        "pk", "end_year", "start_year", "last_month", "late_milestone", "late_milestone_due",
        "expected_pct", "actual_pct", "points_behind", *RULE_FIELDS.values(),
    )
    return _findings_from_rows(rows, as_of)


def _findings_from_rows(rows, as_of):
    due_month = due_report_month(as_of)
    red_months = settings.TRACKER_REPORT_MISSING_RED_MONTHS
    result = {}
    for row in rows:
        pk = row["pk"]
        if row["rule_overdue"]:
            days = (as_of - datetime.date(row["end_year"], 12, 31)).days
            result[(pk, FlagKind.OVERDUE)] = (Severity.RED, {"end_year": row["end_year"], "days_overdue": days})
        if row["rule_milestone_overdue"]:
            due = row["late_milestone_due"]
            result[(pk, FlagKind.MILESTONE_OVERDUE)] = (Severity.RED, {
                "milestone": row["late_milestone"], "due_date": due.isoformat(), "days_overdue": (as_of - due).days,
            })
        if row["rule_report_missing"]:
            if row["last_month"]:
                missed = months_between(row["last_month"], due_month)
            else:
                # Never reported: count from the later of the entry's start and the go-live of reporting.
                since = max(datetime.date(row["start_year"] or due_month.year, 1, 1), reporting_start())
                missed = months_between(since, due_month) + 1
            severity = Severity.RED if missed >= red_months else Severity.YELLOW
            result[(pk, FlagKind.REPORT_MISSING)] = (severity, {
                "month": due_month.strftime("%Y-%m"), "missed_months": missed,
                "last_month": row["last_month"].strftime("%Y-%m") if row["last_month"] else None,
            })
        if row["rule_underfunded"]:
            points = Decimal(row["points_behind"])
            severity = Severity.RED if points > settings.TRACKER_UNDERFUNDED_RED_POINTS else Severity.YELLOW
            result[(pk, FlagKind.UNDERFUNDED)] = (severity, {
                "expected_pct": _pct(row["expected_pct"]), "actual_pct": _pct(row["actual_pct"]),
                "points_behind": _pct(points),
            })
        if row["rule_unassigned"]:
            result[(pk, FlagKind.UNASSIGNED)] = (Severity.YELLOW, {})
        if row["rule_investment_unknown"]:
            result[(pk, FlagKind.INVESTMENT_UNKNOWN)] = (Severity.INFO, {})
    return result


@dataclass
class EvaluationResult:
    as_of: datetime.date
    opened: int = 0
    updated: int = 0
    resolved: int = 0
    to_notify: list = field(default_factory=list)  # flag ids that opened or got worse

    def as_dict(self):
        return {"opened": self.opened, "updated": self.updated, "resolved": self.resolved}


def on_time_filter(as_of: datetime.date, months: int = 6) -> Q:
    """Reports for the last `months` due months, filed by the reporting day of the month after."""
    from django.utils import timezone

    due = [due_report_month(as_of)]
    while len(due) < months:
        due.append(previous_month(due[-1]))
    condition = Q(pk__in=[])
    for month in due:
        deadline = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=settings.TRACKER_REPORTING_DAY)
        end = timezone.make_aware(datetime.datetime.combine(deadline + datetime.timedelta(days=1), datetime.time()))
        condition |= Q(month=month, filed_at__lt=end)
    return condition


FIGURE_COLUMNS = [
    "last_month", "cumulative", "expected_pct", "actual_pct", "points_behind", "expected_amount",
    "late_milestone", "late_milestone_due", "reports_on_time", *RULE_FIELDS.values(),
]


def write_figures(as_of: datetime.date, items, scope=None):
    """Materialise every entry's rule inputs and figures as of a date: two INSERT ... SELECT statements."""
    from .models import ItemFigures

    on_time = (StatusReport.objects.filter(on_time_filter(as_of), item=OuterRef("pk"))
               .values("item").annotate(n=models.Count("pk")).values("n"))
    annotated = annotate_rules(items, as_of).annotate(
        expected_amount=ExpressionWrapper(
            Coalesce(F("expected_pct"), Value(Decimal("0"))) * Coalesce(F("total_investment"), Value(Decimal("0")))
            / Value(Decimal("100")), output_field=DEC),
        reports_on_time=Coalesce(Subquery(on_time, output_field=models.IntegerField()), Value(0)),
        figure_item_id=F("pk"),
    ).order_by().values("figure_item_id", *FIGURE_COLUMNS)
    sql, params = annotated.query.sql_with_params()
    table = ItemFigures._meta.db_table
    quote = connection.ops.quote_name
    columns = ["item_id", "as_of", *FIGURE_COLUMNS, "light"]
    rules = set(RULE_FIELDS.values())  # SQL's three-valued logic: a rule that is NULL does not hold
    select = ", ".join(["s.figure_item_id", "%s", *(f"COALESCE(s.{quote(c)}, false)" if c in rules
                                                    else f"s.{quote(c)}" for c in FIGURE_COLUMNS), "%s"])
    updates = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in columns[1:])
    # Rows whose figures did not change are not rewritten (the light is set after the flags).
    distinct = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    changed = " OR ".join(f"{table}.{quote(c)} {distinct} EXCLUDED.{quote(c)}" for c in columns[1:-1])
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(map(quote, columns))}) SELECT {select} FROM ({sql}) s WHERE true "
            f"ON CONFLICT (item_id) DO UPDATE SET {updates.replace(', ' + quote('light') + ' = EXCLUDED.' + quote('light'), '')} "
            f"WHERE {changed}",
            [as_of, Light.GREEN, *params],
        )
    write_year_figures(as_of, items, scope)


def write_year_figures(as_of: datetime.date, items, scope):
    """Completed investment per entry and year; re-summed only when the scope's reports changed."""
    from .models import FiguresState, ItemYearFigures

    reports = StatusReport.objects.filter(item__in=items, month__lte=as_of)
    state = None
    if scope is not None:
        seen = reports.aggregate(n=models.Count("pk"), last=models.Max("updated_at"))
        fingerprint = f"{seen['n']}|{seen['last']}"
        state = FiguresState.objects.filter(scope=scope).first()
        if state is not None and state.fingerprint == fingerprint:
            return
    years = (reports.annotate(y=ExtractYear("month")).order_by()
             .values("item_id", "y").annotate(s=Sum("month_investment")))
    ysql, yparams = years.query.sql_with_params()
    ItemYearFigures.objects.filter(item__in=items).delete()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ItemYearFigures._meta.db_table} (item_id, {connection.ops.quote_name('year')}, "
            f"completed) SELECT s.item_id, s.y, s.s FROM ({ysql}) s WHERE true", yparams)
    if scope is not None:
        FiguresState.objects.update_or_create(scope=scope, defaults={"fingerprint": fingerprint})


def findings_from_figures(as_of: datetime.date, items):
    """The same findings as `findings`, read from the figures written for this date."""
    from .models import ItemFigures

    any_rule = Q()
    for name in RULE_FIELDS.values():
        any_rule |= Q(**{name: True})
    rows = ItemFigures.objects.filter(any_rule, item__in=items, as_of=as_of).values(
        "item_id", "last_month", "late_milestone", "late_milestone_due", "expected_pct", "actual_pct",
        "points_behind", *RULE_FIELDS.values(), end_year=F("item__end_year"), start_year=F("item__start_year"),
    )
    return _findings_from_rows(({**r, "pk": r["item_id"]} for r in rows), as_of)


def update_lights(items):
    """Each entry's light in its figures: the worst severity of its open flags."""
    from .models import ItemFigures

    def open_flag(severity):
        return Exists(Flag.objects.filter(item_id=OuterRef("item_id"), resolved_on__isnull=True, severity=severity))

    light = Case(
        When(open_flag(Severity.RED), then=Value(Light.RED)),
        When(open_flag(Severity.YELLOW), then=Value(Light.YELLOW)),
        default=Value(Light.GREEN), output_field=models.CharField(),
    )
    (ItemFigures.objects.filter(item__in=items).annotate(new_light=light)
     .exclude(light=F("new_light")).update(light=light))


def _lock():
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_ID])


def _save_changed_flags(changed):
    """Writes (pk, severity, detail, last seen) of flags that stay open. Most open flags change
    every night (days overdue move on), so on PostgreSQL the rows go in with COPY and one
    UPDATE ... FROM: bulk_update's CASE per row is quadratic in the batch size."""
    if not changed:
        return
    if connection.vendor != "postgresql":
        Flag.objects.bulk_update(
            [Flag(pk=pk, severity=severity, detail=detail, last_seen_on=last_seen)
             for pk, severity, detail, last_seen in changed],
            ["severity", "detail", "last_seen_on"], batch_size=500)
        return
    rows = io.StringIO()
    writer = csv.writer(rows)
    for pk, severity, detail, last_seen in changed:
        writer.writerow([pk, severity, json.dumps(detail), last_seen.isoformat()])
    rows.seek(0)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE flag_changes (id bigint, severity varchar(10), detail jsonb, "
                       "last_seen date) ON COMMIT DROP")
        cursor.cursor.copy_expert("COPY flag_changes FROM STDIN WITH (FORMAT csv)", rows)
        cursor.execute("ANALYZE flag_changes")
        cursor.execute(f"UPDATE {Flag._meta.db_table} AS f SET severity = c.severity, detail = c.detail, "
                       "last_seen_on = c.last_seen FROM flag_changes AS c WHERE f.id = c.id")
        cursor.execute("DROP TABLE flag_changes")


def evaluate_flags(as_of: datetime.date, plan=None, item_ids=None) -> EvaluationResult:
    """Open, update and resolve flags so that the open flags are exactly the findings as of a date."""
    items = Item.objects.all()
    if plan is not None:
        items = items.filter(plan=plan)
    if item_ids is not None:
        item_ids = list(item_ids)
        items = items.filter(pk__in=item_ids)
    result = EvaluationResult(as_of)
    with transaction.atomic():
        _lock()
        write_figures(as_of, items, scope=None if item_ids is not None else f"plan:{plan.pk}" if plan else "all")
        found = findings_from_figures(as_of, items)
        # Plain tuples, not models: the advisory lock already serialises evaluations.
        open_flags = {
            (item_id, kind): (pk, severity, detail, last_seen)
            for pk, item_id, kind, severity, detail, last_seen in Flag.objects.filter(
                resolved_on__isnull=True, item__in=items).values_list(
                "pk", "item_id", "kind", "severity", "detail", "last_seen_on").iterator(chunk_size=20000)
        }
        new, changed, gone = [], [], []
        for key, (severity, detail) in found.items():
            current = open_flags.pop(key, None)
            if current is None:
                new.append(Flag(item_id=key[0], kind=key[1], severity=severity, detail=detail,
                                opened_on=as_of, last_seen_on=as_of))
                continue
            pk, old_severity, old_detail, last_seen = current
            if old_severity != severity or old_detail != detail or last_seen < as_of:
                if old_severity != severity or old_detail != detail:
                    result.updated += 1
                changed.append((pk, severity, detail, max(last_seen, as_of)))
                if SEVERITY_RANK[severity] > SEVERITY_RANK[Severity(old_severity)]:
                    result.to_notify.append(pk)
        gone = [pk for pk, *_ in open_flags.values()]
        Flag.objects.bulk_create(new, batch_size=2000)
        _save_changed_flags(changed)
        update_flags(gone, resolved_on=as_of)
        result.opened, result.resolved = len(new), len(gone)
        update_lights(items)
        result.to_notify += [f.pk for f in new if f.pk is not None]
        if connection.vendor != "postgresql" and new:
            # SQLite's bulk_create may not return ids: look the new flags up once.
            result.to_notify += list(
                Flag.objects.filter(resolved_on__isnull=True, opened_on=as_of,
                                    item_id__in=[f.item_id for f in new], notified_severity="")
                .exclude(pk__in=result.to_notify).values_list("pk", flat=True)
            )
        # Flags, lights and figures moved: stored dashboard figures of these entries are out of date.
        if item_ids is not None:
            bump_version(items=item_ids)
        else:
            bump_version(plans=[plan.pk] if plan is not None else None)
    return result


def open_counts(plan=None, items=None):
    """{(kind, severity): n} of open flags."""
    qs = Flag.objects.filter(resolved_on__isnull=True)
    if plan is not None:
        qs = qs.filter(item__plan=plan)
    if items is not None:
        qs = qs.filter(item__in=items)
    return {(r["kind"], r["severity"]): r["n"] for r in qs.values("kind", "severity").annotate(n=models.Count("pk"))}
