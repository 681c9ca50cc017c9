"""Dashboard figures stored per (scope, plan, date) and reused while the data version is unchanged.

Only read and written in autocommit: the version moves when a change commits, so inside a
transaction that may have written rows a stored figure could miss them (and the page is computed live)."""
import datetime
import json
from decimal import Decimal

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from projects.models import ListKind, Plan, Role, Unit, role_of
from projects.versioning import current_version

from .models import Snapshot
from .summary import portfolio_summary, unit_ranking

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


def compute_dashboard(user, as_of: datetime.date, plan=None) -> dict:
    """The dashboard's figures as plain data (JSON-ready): summary, red entries, chart series and
    the whole unit ranking (its page reads it from here too)."""
    s = portfolio_summary(user, as_of, plan)
    ranking = [dict(r, unit={"pk": r["unit"].pk, "name": r["unit"].name})
               for r in unit_ranking(user, as_of, plan)]
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
            Snapshot.objects.filter(version__lt=version).delete()
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
