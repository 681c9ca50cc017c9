"""The operator's health endpoint (/health/, django-health-check): the database, the cache, the
broker, the age of the last nightly run, re-evaluations and group-robot messages owed. 200 when all pass, 500 with the failing checks
named otherwise; ?format=json or text for monitors (README, "Health endpoint")."""
import dataclasses
import datetime
from concurrent.futures import ThreadPoolExecutor

from django.db import connections

from django.utils import timezone
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker accepts a connection (Redis, or the embedded filesystem broker)."""

    timeout: datetime.timedelta = dataclasses.field(default=datetime.timedelta(seconds=3), repr=False)

    def run(self):
        from config.celery_app import app

        try:
            with app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, timeout=self.timeout.total_seconds())
        except Exception as exc:
            raise ServiceUnavailable(f"broker unreachable ({type(exc).__name__})") from exc


@dataclasses.dataclass
class NightlyRunAge(HealthCheck):
    """The last nightly run succeeded and is at most 26 hours old (portfolio.outbox.nightly_problem)."""

    def run(self):
        from .outbox import nightly_problem

        problem = nightly_problem(timezone.now())
        if problem:
            raise ServiceUnavailable(problem)


@dataclasses.dataclass
class Outbox(HealthCheck):
    """Re-evaluations still owed after a failure (shown to planners too); a warning, not down."""

    def run(self):
        from health_check.exceptions import ServiceWarning

        from .outbox import pending_count

        pending = pending_count()
        if pending:
            raise ServiceWarning(f"{pending} pending re-evaluations")


@dataclasses.dataclass
class Channels(HealthCheck):
    """Group-robot messages given up on after their retries (projects/webhooks.py); a warning."""

    def run(self):
        from health_check.exceptions import ServiceWarning

        from projects.webhooks import failed_count

        failed = failed_count()
        if failed:
            raise ServiceWarning(f"{failed} group-robot messages failed (admin: 群机器人消息)")


class _ClosingExecutor(ThreadPoolExecutor):
    """Runs the synchronous checks in threads of this request that close their database
    connections when done (a thread of the default pool would keep one open per thread)."""

    def submit(self, fn, /, *args, **kwargs):
        def run():
            try:
                return fn(*args, **kwargs)
            finally:
                connections.close_all()
        return super().submit(run)


class TrackerHealthView(HealthCheckView):
    def get_executor(self):
        return _ClosingExecutor(max_workers=5)


health = TrackerHealthView.as_view(checks=[
    "health_check.checks.Database",
    "health_check.checks.Cache",
    Broker,
    NightlyRunAge,
    Outbox,
    Channels,
])
