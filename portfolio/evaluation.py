"""The evaluation: from the registry's rows to each entry's figures, flags and light.

`evaluate(as_of, item_ids)` runs after every committed change for the entries it touched, and
nightly (Celery beat, or `manage.py evaluate_flags`) for every entry. It writes only what
changed: a night on which no data changed and no date boundary passed writes no flag or figure
row, only the evaluation date. See docs/architecture.md, "From a saved report to a light".
"""
import contextlib
import datetime
import gc
import json
from dataclasses import dataclass, field

from django.core.exceptions import EmptyResultSet
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import ExtractYear
from django.utils import timezone

from projects.idsets import id_set
from projects.models import Item, ItemUnit, PlanState
from reporting.calendar import late_month
from reporting.models import AnnualTarget, Milestone, StatusReport

from .facts import CHAIN_DEPTH, live_data_facts, on_time_condition, on_time_months, with_facts
from projects.versions import (  # noqa: F401  (re-exported)
    STATE_ID, data_version, figures_date, raise_version, state, thresholds_key,
)

from .models import Flag, ItemFigures, ItemYearFigures
from .rules import RULES, SEVERITY_RANK, Severity, findings, with_findings

ADVISORY_LOCK_ID = 7_614_202  # serialises evaluations on PostgreSQL (SQLite writes one at a time)
DATA_COLUMNS = ("last_month", "cumulative", "milestone_name", "milestone_due", "start_planned_index", "start_met")
DATE_COLUMNS = ("reports_on_time", "expected_pct", "actual_pct", "year_expected_pct", "year_actual_pct")
DERIVED_COLUMNS = ("points_behind", "expected_amount", "light")


@dataclass
class EvaluationResult:
    as_of: datetime.date
    opened: int = 0
    updated: int = 0
    resolved: int = 0
    figures_written: int = 0
    to_notify: list = field(default_factory=list)  # flag ids that opened or got worse

    def as_dict(self):
        return {"opened": self.opened, "updated": self.updated, "resolved": self.resolved,
                "figures_written": self.figures_written}


def refresh_if_thresholds_changed() -> bool:
    """The drain task's first step (every 5 minutes): if the thresholds moved since the last full
    evaluation, evaluate every entry of the plans in force at the figures' date with the new
    ones, so no stored light or flag stays on the old thresholds."""
    row = state()
    if row.as_of is None or row.thresholds == thresholds_key():
        return False
    evaluate(row.as_of)
    return True


def _lock():
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_LOCK_ID])


NOT_NULL_DEFAULTS = {"reports_on_time": 0, "light": "green"}


def _insert_select(model, key, targets, selected, sql, params, columns, constants=(), touched=()) -> int:
    """INSERT INTO model's table (targets) SELECT the subquery's `selected` columns, then
    `constants` (one parameter each); a row whose `key` exists is updated only where one of
    `columns` differs (and then `touched` too). Set-based: one statement whatever the number of
    rows. Returns the number of rows written."""
    table = model._meta.db_table
    quote = connection.ops.quote_name
    select = ", ".join([*(f"s.{quote(n)}" for n in selected), *("%s" for _ in constants)])
    distinct = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    updates = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in [*columns, *touched])
    changed = " OR ".join(f"{table}.{quote(c)} {distinct} EXCLUDED.{quote(c)}" for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(  # WHERE true: SQLite's parser needs it before ON CONFLICT
            f"INSERT INTO {table} ({', '.join(map(quote, targets))}) SELECT {select} FROM ({sql}) s WHERE true "
            f"ON CONFLICT ({', '.join(map(quote, key))}) DO UPDATE SET {updates} WHERE {changed}",
            [*constants, *params])
        return cursor.rowcount


def _upsert(queryset, columns, touch=None):
    """INSERT ... SELECT the queryset's columns into ItemFigures; existing rows are updated only
    where a value differs. touch: {column: value} written with every row written. Returns the
    number of rows written."""
    defaults = {**{k: v for k, v in NOT_NULL_DEFAULTS.items() if k not in columns}, **(touch or {})}
    try:
        sql, params = queryset.order_by().values("pk", *columns).query.sql_with_params()
    except EmptyResultSet:  # no entries to write
        return 0
    return _insert_select(ItemFigures, ["item_id"], ["item_id", *columns, *defaults], ["pk", *columns],
                          sql, params, columns, tuple(defaults.values()), tuple(touch or ()))


def write_data_figures(items, read_at=None) -> int:
    """The facts taken from the entries' reports and milestones, and their completed investment
    per year; `facts_at` records when they were read (the night compares it with the rows'
    updated_at, `stale_entries`)."""
    read_at = read_at or timezone.now()
    written = _upsert(live_data_facts(items, None), DATA_COLUMNS, touch={"facts_at": read_at})
    # the rows read but unchanged (those written carry it already)
    ItemFigures.objects.filter(item__in=items).exclude(facts_at=read_at).update(facts_at=read_at)
    # The years' sums, upserted where they differ, and the years left without reports removed:
    # two statements, however many entries (a first run writes 150,000 rows at 50,000 entries).
    years = (StatusReport.objects.filter(item__in=items).annotate(y=ExtractYear("month")).order_by()
             .values("item_id", "y").annotate(s=Sum("month_investment")))
    try:
        sql, params = years.query.sql_with_params()
    except EmptyResultSet:
        return written
    written += _insert_select(ItemYearFigures, ["item_id", "year"], ["item_id", "year", "completed"],
                              ["item_id", "y", "s"], sql, params, ["completed"])
    without_reports = ItemYearFigures.objects.filter(item__in=items).exclude(Exists(
        StatusReport.objects.filter(item=OuterRef("item"), month__year=OuterRef("year"))))
    return written + without_reports.delete()[0]


def date_key(as_of: datetime.date):
    """What the date's figures depend on: the month (序时进度 moves by month) and the report
    month due (which moves on the reporting day)."""
    return as_of.year, as_of.month, late_month(as_of)


def write_date_figures(items, as_of, stale=None) -> int:
    """Figures that move with the date, from the stored facts and the entries' targets and
    reports (for `stale` entries only, when given); then the figures derived from those, and
    the light, from the stored columns (two steps, so the date's subqueries run once per
    entry, not once per rule)."""
    entries = items if stale is None else stale
    if connection.vendor == "postgresql":  # the on-time count in one grouped pass, not per entry
        written = _upsert_date_figures(entries, as_of)
    else:
        written = _upsert(with_facts(entries, as_of, source="stored"), DATE_COLUMNS)
    return written + _upsert(with_findings(items, as_of, source="figures"), DERIVED_COLUMNS)


def _upsert_date_figures(items, as_of) -> int:
    """The date's figures of `items` on PostgreSQL, with reports_on_time counted set-based: the
    reports of the last due months filed by their deadlines (facts.on_time_condition, the
    condition the per-entry `reports_on_time_expression` counts) in one grouped pass, joined to
    the entries' other figures; one upsert. Over a province's entries: one scan of six months'
    reports instead of an index probe per entry (1.9 s → 0.6 s at 200,000 entries)."""
    others = [c for c in DATE_COLUMNS if c != "reports_on_time"]
    counts = (StatusReport.objects.filter(on_time_condition(as_of), month__in=on_time_months(as_of),
                                          item__in=items.order_by().values("pk"))
              .order_by().annotate(entry=F("item_id")).values("entry").annotate(n=Count("pk")))
    try:
        facts_sql, facts_params = with_facts(items, as_of, source="stored").order_by().values(
            "pk", *others).query.sql_with_params()
        counts_sql, counts_params = counts.query.sql_with_params()
    except EmptyResultSet:  # no entries to write
        return 0
    sql = (f"SELECT f.*, COALESCE(c.n, 0) AS reports_on_time FROM ({facts_sql}) f "
           f"LEFT JOIN ({counts_sql}) c ON c.entry = f.pk")
    defaults = {k: v for k, v in NOT_NULL_DEFAULTS.items() if k not in DATE_COLUMNS}
    return _insert_select(ItemFigures, ["item_id"], ["item_id", *DATE_COLUMNS, *defaults], ["pk", *DATE_COLUMNS],
                          sql, [*facts_params, *counts_params], DATE_COLUMNS, tuple(defaults.values()))


def sync_flags(items, as_of, result: EvaluationResult, mark_notified=False):
    """Open, change and resolve flags so that the open flags are exactly the findings.
    mark_notified: the flags that open or get worse are marked notified (declined, not owed)."""
    found = findings(as_of, items, source="figures")
    if connection.vendor == "postgresql":
        return _sync_flags_in_sql(items, as_of, found, result, mark_notified)
    open_flags = {
        (item_id, kind): (pk, severity, detail)
        for pk, item_id, kind, severity, detail in Flag.objects.filter(resolved_on__isnull=True, item__in=items)
        .values_list("pk", "item_id", "kind", "severity", "detail").iterator(chunk_size=20000)
    }
    new, changed = [], []
    for key, (severity, detail) in found.items():
        current = open_flags.pop(key, None)
        if current is None:
            new.append(Flag(item_id=key[0], kind=key[1], severity=severity, detail=detail, opened_on=as_of,
                            changed_on=as_of, notified_severity=severity if mark_notified else ""))
            continue
        pk, old_severity, old_detail = current
        if old_severity != severity or old_detail != detail:
            worse = SEVERITY_RANK[Severity(severity)] > SEVERITY_RANK[Severity(old_severity)]
            changed.append(Flag(pk=pk, severity=severity, detail=detail, changed_on=as_of,
                                notified_severity=severity if worse and mark_notified else None))
            if worse:
                result.to_notify.append(pk)
    gone = [pk for pk, _, _ in open_flags.values()]
    Flag.objects.bulk_create(new, batch_size=5000)
    Flag.objects.bulk_update(changed, ["severity", "detail", "changed_on"], batch_size=1000)
    Flag.objects.bulk_update([f for f in changed if f.notified_severity], ["notified_severity"], batch_size=1000)
    Flag.objects.filter(pk__in=id_set(gone)).update(resolved_on=as_of, changed_on=as_of)
    result.opened, result.updated, result.resolved = len(new), len(changed), len(gone)
    if new:
        # SQLite's bulk_create may not return ids: look the new flags up.
        result.to_notify += list(Flag.objects.filter(
            resolved_on__isnull=True, opened_on=as_of, notified_severity=F("severity") if mark_notified else "",
            item_id__in={f.item_id for f in new}, kind__in={f.kind for f in new}).values_list("pk", flat=True))


def _sync_flags_in_sql(items, as_of, found, result, mark_notified):
    """sync_flags on PostgreSQL: the findings go into a temporary table (one JSON parameter per
    20,000), and three statements resolve, change and open flags against it; no open flag is read
    into Python. The same decisions as the loop above: a flag changes when its severity or its
    facts (jsonb equality) differ; it got worse when its severity's rank rose."""
    flag = Flag._meta.db_table
    rank = "CASE {} " + " ".join(f"WHEN '{sev.value}' THEN {n}" for sev, n in SEVERITY_RANK.items()) + " ELSE 0 END"
    scope, scope_params = items.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE IF NOT EXISTS evaluation_found "
                       "(i bigint, k text, s text, d jsonb, PRIMARY KEY (i, k)) ON COMMIT DROP")
        cursor.execute("TRUNCATE evaluation_found")
        rows = [{"i": i, "k": k, "s": sev, "d": detail} for (i, k), (sev, detail) in found.items()]
        for start in range(0, len(rows), 20000):
            cursor.execute("INSERT INTO evaluation_found SELECT * FROM jsonb_to_recordset(%s::jsonb) "
                           "AS t(i bigint, k text, s text, d jsonb)",
                           [json.dumps(rows[start:start + 20000], cls=DjangoJSONEncoder)])
        cursor.execute("ANALYZE evaluation_found")
        cursor.execute(
            f"UPDATE {flag} f SET resolved_on = %s, changed_on = %s WHERE f.resolved_on IS NULL "
            f"AND f.item_id IN ({scope}) AND NOT EXISTS "
            "(SELECT 1 FROM evaluation_found t WHERE t.i = f.item_id AND t.k = f.kind)",
            [as_of, as_of, *scope_params])
        result.resolved = cursor.rowcount
        cursor.execute(
            f"UPDATE {flag} f SET severity = x.s, detail = x.d, changed_on = %s, "
            "notified_severity = CASE WHEN %s AND x.worse THEN x.s ELSE f.notified_severity END "
            f"FROM (SELECT o.id, t.s, t.d, {rank.format('t.s')} > {rank.format('o.severity')} AS worse "
            f"      FROM evaluation_found t JOIN {flag} o ON o.item_id = t.i AND o.kind = t.k "
            "      WHERE o.resolved_on IS NULL AND (o.severity <> t.s OR o.detail <> t.d)) x "
            "WHERE f.id = x.id RETURNING f.id, x.worse", [as_of, mark_notified])
        changed = cursor.fetchall()
        result.updated = len(changed)
        result.to_notify += [pk for pk, worse in changed if worse]
        cursor.execute(
            f"INSERT INTO {flag} (item_id, kind, severity, detail, opened_on, changed_on, notified_severity) "
            "SELECT t.i, t.k, t.s, t.d, %s, %s, CASE WHEN %s THEN t.s ELSE '' END FROM evaluation_found t "
            f"WHERE NOT EXISTS (SELECT 1 FROM {flag} f WHERE f.resolved_on IS NULL AND f.item_id = t.i AND f.kind = t.k) "
            "RETURNING id", [as_of, as_of, mark_notified])
        opened = [row[0] for row in cursor.fetchall()]
        result.opened = len(opened)
        result.to_notify += opened


def stale_entries(items):
    """Entries whose facts were read before a row they depend on changed (the entry itself, its
    units, reports, milestones or targets), or never read: the nightly run reads them again, so
    a re-evaluation lost after a commit is repaired by the next night. Deletions are repaired
    through the outbox (projects.PendingWork), which the night drains first."""
    read_at = OuterRef("figures__facts_at")
    changed = Q(figures__isnull=True) | Q(updated_at__gt=F("figures__facts_at"))
    for model in (StatusReport, Milestone, AnnualTarget, ItemUnit):
        changed |= Exists(model.objects.filter(item=OuterRef("pk"), updated_at__gt=read_at))
    ids = set(items.filter(changed).values_list("pk", flat=True))
    successors = ids
    for _ in range(CHAIN_DEPTH):  # their cumulative is the project's
        successors = set(items.filter(predecessor_id__in=id_set(successors)).values_list("pk", flat=True))
        ids |= successors
    return ids


@contextlib.contextmanager
def _without_cyclic_gc():
    """A full evaluation builds some 100,000 short-lived rows, dicts and findings; Python's cyclic
    collector walked them again and again (40% of the Python time of a night at 50,000 entries).
    Reference counting still frees them; the collector is back on when the evaluation ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def evaluate(as_of: datetime.date, item_ids=None, plan=None, refresh=False, mark_notified=False) -> EvaluationResult:
    """Evaluate entries as of a date and store the outcome.

    item_ids (or plan): only these entries, after a change to them: their facts are read again
    from their rows. Neither: every entry (the nightly run): facts are read again only for
    entries that have no figures yet (the first run, new entries), or for all with
    refresh=True; every change since re-evaluated its own entries. mark_notified: the alerts of
    this run are declined (`evaluate_flags --no-notify`): the flags that open or get worse are
    written as notified."""
    result = EvaluationResult(as_of)
    read_at = timezone.now()
    # The nightly run watches the plans 执行中; a closed plan keeps what its closing evaluated.
    items = Item.objects.all() if item_ids is not None or plan is not None else \
        Item.objects.filter(plan__state=PlanState.ACTIVE)
    if item_ids is not None:
        items = items.filter(pk__in=id_set(item_ids))
    if plan is not None:
        items, item_ids = items.filter(plan=plan), item_ids or ()
    with _without_cyclic_gc(), transaction.atomic():
        _lock()
        previous = state().as_of
        if item_ids is not None or refresh:
            stale = items
        else:  # read now: once their figures are written these entries no longer lack them
            stale = Item.objects.filter(pk__in=id_set(stale_entries(items)))
        written = write_data_figures(stale, read_at)
        # Within one month and reporting period, on the same thresholds, the date's figures of
        # unchanged entries stand.
        same_period = (item_ids is None and not refresh and previous and date_key(previous) == date_key(as_of)
                       and state().thresholds == thresholds_key())
        written += write_date_figures(items, as_of, stale=stale if same_period else None)
        sync_flags(items, as_of, result, mark_notified)
        result.figures_written = written
        if item_ids is None:
            row = state()
            moved = row.as_of != as_of
            moved = moved or row.thresholds != thresholds_key()
            row.as_of, row.evaluated_at, row.thresholds = as_of, timezone.now(), thresholds_key()
            row.save()
        else:
            moved = False
        if written or moved or result.opened or result.updated or result.resolved:
            # a change's entries move their plans' slices; a whole evaluation moves everything
            raise_version(item_ids if item_ids is not None and plan is None and not moved else None)
    return result


def evaluate_changed_entries(item_ids):
    """After a committed change: re-evaluate the entries it touched, and the entries that
    continue them (their cumulative investment is the project's), each at its plan's date: the
    figures' date for plans 执行中, the closing date for closed plans; drafts are not watched."""
    ids = set(item_ids)
    for _ in range(CHAIN_DEPTH):
        ids |= set(Item.objects.filter(predecessor_id__in=id_set(ids)).values_list("pk", flat=True))
    by_date = {}
    rows = Item.objects.filter(pk__in=id_set(ids)).values_list("pk", "plan__state", "plan__closed_on")
    for pk, plan_state, closed_on in rows:
        if plan_state == PlanState.ACTIVE:
            by_date.setdefault(None, []).append(pk)
        elif plan_state == PlanState.CLOSED:
            by_date.setdefault(closed_on, []).append(pk)
    result = EvaluationResult(figures_date())
    for day, pks in by_date.items():
        outcome = evaluate(day or figures_date(), item_ids=pks)
        if day is None:  # closed plans raise no new alarms
            result.to_notify += outcome.to_notify
    return result


__all__ = ["evaluate", "evaluate_changed_entries", "figures_date", "data_version", "raise_version", "RULES"]
