"""The evaluation clock and the data version, and the cache keyed by them.

`EvaluationState` holds the date every entry's stored figures are evaluated at and a random data
version replaced after every committed change; every cached read-side result names the version
it was computed from (docs/architecture.md, "What is cached"). Shared by every app that caches or
reads "the figures' date"."""
import datetime
import hashlib
import secrets

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, IntegerField, Value
from django.db.models.functions import Mod
from django.utils import timezone

from .idsets import id_set
from .models import DataSlice, EvaluationState, Item, Plan, Role, Unit, organisation_of, role_of

STATE_ID = 1
SLICES = 32  # the plans in slices by id (`sliced`): a change recomputes one slice's sums of 32 (the
# statistics of migration 0014 name this number)
SCHEMA = 7  # raise when the shape of a cached result changes: results of another shape are never read


def state() -> EvaluationState:
    row = EvaluationState.objects.filter(pk=STATE_ID).first()
    return row or EvaluationState(pk=STATE_ID)


def request_state(request) -> EvaluationState:
    """The evaluation state read once per request (kept on the request as `evaluation_row`)."""
    row = getattr(request, "evaluation_row", None)
    if row is None:
        row = request.evaluation_row = state()
    return row


def figures_date() -> datetime.date:
    """The date every entry's stored figures are evaluated at (today before the first evaluation)."""
    return state().as_of or timezone.localdate()


def data_version() -> int:
    return state().version


def raise_version(items=None):
    """Replace the data version once the current transaction commits: cached results keyed by
    the old version are never read again. A random number, not a counter, so a database
    restored from a backup never meets results cached for other data under its number.

    items: the entries a change was confined to (ids; empty: none, e.g. an indicator), whose
    plans' slices move (`sliced`); None (the default): anything may have changed, the base
    version moves and with it every slice. An entry no longer there (deleted) moves the base."""
    ids = None if items is None else set(items) - {None}

    def replace():
        version = secrets.randbits(62)
        fields = {"version": version}
        with transaction.atomic():
            # the slices first, in the same transaction: a reader that sees the new data version
            # sees the new slice versions too (versions are read in that order)
            if ids is None or not _move_slices(ids, version):
                fields["base_version"] = version
            if not EvaluationState.objects.filter(pk=STATE_ID).update(**fields):
                EvaluationState.objects.get_or_create(pk=STATE_ID, defaults=fields)
    transaction.on_commit(replace, robust=True)


def _move_slices(item_ids, version) -> bool:
    """Move the slices of these entries' plans; False when some entry is gone (its plan unknown)."""
    if not item_ids:
        return True
    found, buckets = 0, set()
    for plan_id, n in (Item.objects.filter(pk__in=id_set(item_ids)).order_by().values("plan_id")
                       .annotate(n=Count("pk")).values_list("plan_id", "n")):
        found += n
        buckets.add(slice_of(plan_id))
    if found != len(item_ids):
        return False
    DataSlice.objects.bulk_create([DataSlice(bucket=b, version=version) for b in sorted(buckets)],
                                  update_conflicts=True, unique_fields=["bucket"], update_fields=["version"])
    return True


def scope_key(user) -> str:
    """Users who see the same entries share cached figures: planners and leaders of one scope
    (the set of organisations they act on), unit users of the same set of units."""
    if role_of(user) in (Role.PLANNER, Role.LEADER):
        if user.is_superuser and organisation_of(user) is None:
            return "all"
        return f"org:{organisation_of(user).pk}"  # its subtree: a tree edit moves the data version
    return "units:" + ",".join(map(str, sorted(Unit.objects.filter(members=user).values_list("pk", flat=True))))


def thresholds_key() -> str:
    """The rule thresholds (TRACKER_*) as one string: stored with every full evaluation
    (EvaluationState.thresholds; when they differ from the settings everything is evaluated
    again) and part of every cache key."""
    return "|".join(map(str, [settings.TRACKER_REPORTING_DAY, settings.TRACKER_REPORTING_START,
                              settings.TRACKER_REPORT_MISSING_RED_MONTHS, settings.TRACKER_UNDERFUNDED_YELLOW_POINTS,
                              settings.TRACKER_UNDERFUNDED_RED_POINTS, settings.TRACKER_START_LATE_RED_MONTHS]))


def cached(kind, scope, plan, as_of, compute, row=None):
    """compute() under a key naming every input: schema, thresholds, scope, plan, date and the
    data version (read first: a change landing meanwhile moves it on, so nothing stale is kept).
    row: the evaluation state the request already read."""
    row = row or state()
    if connection.in_atomic_block:
        # Inside a transaction an uncommitted change may be visible that the version does not name.
        return compute(row.as_of)
    key = ":".join(["tracker", str(SCHEMA), hashlib.sha1(thresholds_key().encode()).hexdigest()[:10], kind, scope, str(plan.pk if plan else "*"),
                    as_of.isoformat(), str(row.version), str(row.as_of)])
    value = cache.get(key)
    if value is None:
        value = compute(row.as_of)
        cache.set(key, value, settings.TRACKER_CACHE_SECONDS)
    return value


def options_key(user, row=None):
    """What the plan and unit options depend on: the data and whose units they are; None (not
    cached) inside a transaction, where the version may not name an uncommitted change.
    row: the evaluation state the request already read."""
    if connection.in_atomic_block:
        return None
    return f"{(row or state()).version}:{scope_key(user)}"


def per_version(kind, compute, row=None):
    """compute() once per data version, kept in Django's cache: small facts about the whole
    registry that every list and dashboard asks (which plans are in force). Computed afresh
    inside a transaction (an uncommitted change is not named by the version) and when the cache
    is down. row: the evaluation state the request already read."""
    if connection.in_atomic_block:
        return compute()
    key = f"tracker:{SCHEMA}:{kind}:{(row or state()).version}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, settings.TRACKER_CACHE_SECONDS)
    return value


def in_force_plan_ids(row=None) -> list:
    """The ids of the plans in force (PlanQuerySet.in_force, the one definition), read once per
    data version: any change to a plan, its state or its entries moves the version."""
    return per_version("in-force", lambda: sorted(Plan.objects.in_force().values_list("pk", flat=True)), row)


def in_force_plans(row=None):
    """Plan.objects.in_force() from the ids read once per data version (one array parameter)."""
    return Plan.objects.filter(pk__in=id_set(in_force_plan_ids(row)))


def slice_of(plan_id: int) -> int:
    return plan_id % SLICES


def slice_expression(by_slice: bool, plan_field="plan_id"):
    """SQL form of slice_of: the slice of the plan named by `plan_field` (a field path or an
    expression), or one constant slice when the sums are not kept by slice."""
    if not by_slice:
        return Value(0, output_field=IntegerField())
    return Mod(plan_field, Value(SLICES))


def sliced(kind, scope, as_of, compute, row=None) -> dict:
    """{slice: partial sums} of the plans in force in each slice (plan id modulo SLICES), each
    kept in Django's cache under the slice's own version (DataSlice, moved by a change confined
    to entries of its plans) and the base version (moved by every other change), so the page
    after a change recomputes the changed slice only and adds the others' cached sums.

    compute(plan_ids) -> {slice: partial}: the partial sums of the entries of these plans (None:
    of every plan), by slice; a slice without entries may be left out (an empty dict stands for
    it). kind names the computation and every other input (dates, settings), scope whose entries.
    Inside a transaction, and for anything the cache cannot give, computed afresh."""
    row = row or state()
    if connection.in_atomic_block:
        return _all_slices(compute(None))
    versions = dict(DataSlice.objects.values_list("bucket", "version"))  # read after the data version
    in_force = in_force_plan_ids(row)
    prefix = ":".join(["tracker", str(SCHEMA), hashlib.sha1(thresholds_key().encode()).hexdigest()[:10], "slice",
                       kind, scope, as_of.isoformat(), str(row.as_of), str(row.base_version),
                       hashlib.sha1(",".join(map(str, in_force)).encode()).hexdigest()[:10]])
    keys = {b: f"{prefix}:{b}:{versions.get(b, 0)}" for b in range(SLICES)}
    found = cache.get_many(list(keys.values()))
    parts = {b: found[key] for b, key in keys.items() if key in found}
    missing = [b for b in range(SLICES) if b not in parts]
    if missing:
        if len(missing) > SLICES // 2:
            fresh = compute(None)
        else:
            plans = [pk for pk in in_force if slice_of(pk) in missing]
            fresh = compute(plans) if plans else {}
        for b in missing:
            parts[b] = fresh.get(b) or {}
        cache.set_many({keys[b]: parts[b] for b in missing}, settings.TRACKER_CACHE_SECONDS)
    return parts


def _all_slices(parts: dict) -> dict:
    return {b: parts.get(b) or {} for b in range(SLICES)}
