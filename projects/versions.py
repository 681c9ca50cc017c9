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
from django.utils import timezone

from .idsets import id_set
from .models import EvaluationState, Plan, Role, Unit, organisation_of, role_of

STATE_ID = 1
SCHEMA = 6  # raise when the shape of a cached result changes: results of another shape are never read


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


def raise_version():
    """Replace the data version once the current transaction commits: cached results keyed by
    the old version are never read again. A random number, not a counter, so a database
    restored from a backup never meets results cached for other data under its number."""
    def replace():
        version = secrets.randbits(62)
        if not EvaluationState.objects.filter(pk=STATE_ID).update(version=version):
            EvaluationState.objects.get_or_create(pk=STATE_ID, defaults={"version": version})
    transaction.on_commit(replace, robust=True)


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
