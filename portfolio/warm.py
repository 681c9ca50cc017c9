"""After the nightly run: the dashboards planners and leaders open first thing, computed into the
cache by Celery (docs/architecture.md, "Sums by slice of plans")."""
import datetime

from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.utils import timezone

from projects.models import Role, role_of
from projects.versions import scope_key, state
from supervision.summary import loop_counts

from .summary import dashboard, ranking_of_scope, overview, unit_ranking
from .trends import trends

WARM_ACTIVE_DAYS = 14


def warm_dashboards(today: datetime.date | None = None) -> int:
    """Compute the dashboards (figures, ranking, 总体情况, the loop's counts, trends) the planners and
    leaders who logged in lately will open first thing, one per scope, into the cache: the
    nightly run moved every key, and the first page of a province's morning would compute
    every slice of plans at once. Also the ranking of all units (unit users' places). Only the
    cache is written; returns how many scopes. Run by Celery after the nightly run; nothing to
    do when the cache is the worker's own memory (the embedded default: the web process has its
    own, which this cannot fill)."""
    row = state()
    if row.as_of is None or isinstance(caches["default"], (LocMemCache, DummyCache)):
        return 0
    today = today or timezone.localdate()
    since = timezone.now() - datetime.timedelta(days=WARM_ACTIVE_DAYS)
    scopes = set()
    for user in get_user_model().objects.filter(is_active=True, last_login__gte=since).order_by("-last_login"):
        if role_of(user) not in (Role.PLANNER, Role.LEADER) or scope_key(user) in scopes:
            continue
        scopes.add(scope_key(user))
        # the page's own calls and arguments (portfolio/dashboard.py): the figures' date, today's month asked
        dashboard(user, row.as_of, None, row, asked_on=today)
        unit_ranking(user, row.as_of, None, row)
        overview(user, row.as_of, None, row=row)
        loop_counts(user, today, row)
        trends(user, None, row.as_of, row)
    if scopes:
        ranking_of_scope(None, "all", row.as_of, None, row)
    return len(scopes)
