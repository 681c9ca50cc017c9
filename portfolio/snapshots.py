"""Dashboard figures stored per (scope, plan, date) and reused while the data version is unchanged;
the everyone scope is also kept per plan and per group of plans, reused while those plans are unchanged.

Only read and written in autocommit: the version moves when a change commits, so inside a
transaction that may have written rows a stored figure could miss them (and the page is computed live)."""
import datetime
import json
from collections import defaultdict
from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from projects.models import Item, ListKind, Plan, Role, Unit, role_of
from projects.versioning import current_version, plan_versions

from .models import DashboardPart, Snapshot
from .summary import PART_FORMAT, empty_part, merge_parts, plan_parts, ranking_of, summary_of

RANKING_SHOWN = 15
LIGHTS_ORDER = ["red", "yellow", "green", "done"]
# Decimal figures, stored as strings so no precision is lost (summary, then unit ranking).
MONEY_KEYS = {"total", "plan", "completed", "expected", "known_total", "completed_known",
              "completion_rate", "expected_rate", "actual_rate", "planned",
              "actual", "pace_pct", "report_pct", "score"}


def scope_key(user) -> str:
    """Users who see the same entries share stored figures: everyone for planners and leaders,
    else the set of the user's units."""
    role = role_of(user)
    if role in (Role.PLANNER, Role.LEADER):
        return "all"
    units = sorted(Unit.objects.filter(members=user).values_list("pk", flat=True))
    return "units:" + ",".join(map(str, units))


def _num(value):
    return float(value) if value is not None else 0


BUCKET_PLANS = 32  # plans summed into one stored bucket: a change re-sums one bucket, then the buckets


def _plan_parts(as_of: datetime.date, plan_ids: list, versions, every_plan=False) -> dict:
    """These plans' parts for a date: stored ones where the plan has not changed since, the
    others computed in one pass and stored."""
    parts = {}
    for plan_id, version, payload in DashboardPart.objects.filter(as_of=as_of, plan_id__in=plan_ids) \
            .values_list("plan_id", "version", "payload"):
        if version == versions[plan_id] and payload.get("format") == PART_FORMAT:
            parts[plan_id] = payload
    stale = [plan_id for plan_id in plan_ids if plan_id not in parts]
    if not stale:
        return parts
    # Every plan at once (after a full evaluation) is one pass over all entries, not a list of ids.
    items = Item.objects.all() if every_plan and len(stale) == len(plan_ids) else Item.objects.filter(plan_id__in=stale)
    computed = plan_parts(items, as_of)
    fresh = {plan_id: computed.get(plan_id) or empty_part() for plan_id in stale}
    try:
        DashboardPart.objects.bulk_create(
            [DashboardPart(plan_id=plan_id, as_of=as_of, version=versions[plan_id], payload=payload)
             for plan_id, payload in sorted(fresh.items())],
            batch_size=500, update_conflicts=True, unique_fields=["plan", "as_of"],
            update_fields=["version", "payload", "built_at"])
    except IntegrityError:
        pass  # a plan deleted meanwhile: its part is simply not kept
    parts.update(fresh)
    return parts


def everyone_part(as_of: datetime.date, plan=None) -> dict:
    """The everyone-scope figures of one plan, or of every plan, as one part (autocommit only).

    Every plan's part is kept with the plan's data version, and the sums of BUCKET_PLANS
    consecutive plans with the versions they were summed at: after a change to one plan, its
    part is computed afresh and summed with the rest of its bucket, then the buckets are summed."""
    versions = plan_versions()  # read before computing: a change landing meanwhile moves it on
    if plan is not None:
        return merge_parts(_plan_parts(as_of, [plan.pk], versions).values())
    buckets = defaultdict(list)
    for plan_id in Plan.objects.order_by("pk").values_list("pk", flat=True):
        buckets[plan_id // BUCKET_PLANS].append(plan_id)
    keys = {bucket: f"bucket|{as_of.isoformat()}|{bucket}" for bucket in buckets}
    stored = dict(Snapshot.objects.filter(key__in=keys.values()).values_list("key", "payload"))
    sums, stale = {}, []
    for bucket, plan_ids in buckets.items():
        payload = stored.get(keys[bucket])
        if payload and payload["part"].get("format") == PART_FORMAT and \
                payload["versions"] == {str(p): versions[p] for p in plan_ids}:
            sums[bucket] = payload["part"]
        else:
            stale.append(bucket)
    if stale:
        parts = _plan_parts(as_of, [p for bucket in stale for p in buckets[bucket]], versions,
                            every_plan=len(stale) == len(buckets))
        rows = []
        for bucket in stale:
            sums[bucket] = merge_parts(parts[p] for p in buckets[bucket])
            bucket_versions = {str(p): versions[p] for p in buckets[bucket]}
            rows.append(Snapshot(key=keys[bucket], version=max(bucket_versions.values()),
                                 payload={"versions": bucket_versions, "part": sums[bucket]}))
        Snapshot.objects.bulk_create(rows, update_conflicts=True, unique_fields=["key"],
                                     update_fields=["version", "payload", "built_at"])
        # Figures for other dates a leader looked at once are not kept beyond a day.
        day_ago = timezone.now() - datetime.timedelta(days=1)
        DashboardPart.objects.filter(built_at__lt=day_ago).exclude(as_of=as_of).delete()
        Snapshot.objects.filter(key__startswith="bucket|", built_at__lt=day_ago) \
            .exclude(key__startswith=f"bucket|{as_of.isoformat()}|").delete()
    return merge_parts(sums[bucket] for bucket in sorted(sums))


def compute_dashboard(user, as_of: datetime.date, plan=None) -> dict:
    """The dashboard's figures as plain data (JSON-ready): summary, red entries, chart series and
    the whole unit ranking (its page reads it from here too).

    Summed from per-plan parts; for the everyone scope, outside a transaction, the parts of
    plans unchanged since they were stored are reused."""
    items = Item.objects.visible_to(user)
    if plan is not None:
        items = items.filter(plan=plan)
    if not connection.in_atomic_block and scope_key(user) == "all":
        part = everyone_part(as_of, plan)
    else:
        part = merge_parts(plan_parts(items, as_of).values())
    s = summary_of(part, items)
    ranking = [dict(r, unit={"pk": r["unit"].pk, "name": r["unit"].name}) for r in ranking_of(part)]
    top = ranking[:RANKING_SHOWN]
    cats = [r["category__name"] for r in s["by_category"]]
    s["per_list"] = [{"value": kind.value, "label": kind.label, "n": n} for kind, n in s["per_list"]]
    s["red_items"] = [{
        "pk": r["item"].pk, "seq": r["item"].seq, "name": r["item"].name,
        "list_label": ListKind(r["item"].list_kind).label,
        "flags": [{"label": f.get_kind_display(), "description": f.description} for f in r["flags"]],
    } for r in s["red_items"]]
    charts = {
        "category": {"names": cats, "total": [_num(r["total"]) for r in s["by_category"]],
                     "plan": [_num(r["plan"]) for r in s["by_category"]],
                     "completed": [_num(r["completed"]) for r in s["by_category"]]},
        "years": {"years": [str(r["year"]) for r in s["by_year"]],
                  "planned": [_num(r["planned"]) for r in s["by_year"]],
                  "completed": [_num(r["completed"]) for r in s["by_year"]]},
        "lights": {"names": cats, "series": {light: [s["lights_by_category"].get(c, {}).get(light, 0) for c in cats]
                                             for light in LIGHTS_ORDER}},
        "ranking": {"names": [r["unit"]["name"] for r in top][::-1],
                    "score": [float(r["score"]) for r in top][::-1]},
    }
    # Round-trip through JSON so a live page and a stored one render from exactly the same data.
    return json.loads(json.dumps({"s": s, "charts": charts, "ranking": ranking}, cls=DjangoJSONEncoder))


def _decimals(value, key=None):
    if isinstance(value, dict):
        return {k: _decimals(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_decimals(v) for v in value]
    if key in MONEY_KEYS and isinstance(value, str):
        return Decimal(value)
    return value


def default_plan():
    """The plan a dashboard shows when none is asked for: the only one, else all of them (None)."""
    plans = list(Plan.objects.order_by("pk")[:2])
    return plans[0] if len(plans) == 1 else None


def _key(scope, as_of, plan):
    return f"dashboard|{scope}|{plan.pk if plan else '*'}|{as_of.isoformat()}"


def dashboard_figures(user, as_of: datetime.date, plan=None) -> dict:
    if connection.in_atomic_block:
        return _decimals(compute_dashboard(user, as_of, plan))
    key = _key(scope_key(user), as_of, plan)
    version = current_version()
    stored = Snapshot.objects.filter(key=key, version=version).values_list("payload", flat=True).first()
    if stored is not None:
        return _decimals(stored)
    payload = compute_dashboard(user, as_of, plan)
    _store(key, version, payload)
    return _decimals(payload)


def _store(key, version, payload):
    try:
        with transaction.atomic():
            Snapshot.objects.update_or_create(key=key, defaults={"version": version, "payload": payload})
            # Figures from older versions are never read again.
            Snapshot.objects.filter(key__startswith="dashboard|", version__lt=version).delete()
    except IntegrityError:
        pass  # a concurrent request stored the same figures first


def warm_dashboard(as_of: datetime.date | None = None, min_age_seconds: int = 0) -> float:
    """Store the everyone-scope dashboard for a date (today by default) unless it is current.

    One rebuilt less than min_age_seconds ago is left for now: returns the seconds to wait
    before trying again, else 0 (current or rebuilt)."""
    from django.contrib.auth.models import User

    as_of = as_of or timezone.localdate()
    plan = default_plan()
    key = _key("all", as_of, plan)
    version = current_version()
    row = Snapshot.objects.filter(key=key).values("version", "built_at").first()
    if row and row["version"] == version:
        return 0
    if row and min_age_seconds:
        age = (timezone.now() - row["built_at"]).total_seconds()
        if age < min_age_seconds:
            return min_age_seconds - age
    viewer = User(username="dashboard-snapshot", is_superuser=True)  # unsaved: sees what leaders see
    _store(key, version, compute_dashboard(viewer, as_of, plan))
    return 0
