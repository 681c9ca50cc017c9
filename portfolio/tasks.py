"""Celery tasks: thin wrappers taking ids and dates, calling ordinary functions.

Every task is idempotent and acknowledged late (config/settings.py: CELERY_TASK_ACKS_LATE,
CELERY_TASK_REJECT_ON_WORKER_LOST): a worker killed mid-task leaves it to be redelivered. Database
and broker errors are retried with exponential backoff."""
import datetime

from celery import shared_task
from django.utils import timezone

from indicators.tasks import notify_indicators_task  # noqa: F401  (part of this module's API)
from projects.tasks import RELIABLE

from .evaluation import evaluate
from .notifications import notify_flag_changes, send_leader_digest, send_unit_reminders

def _date(value):
    return datetime.date.fromisoformat(value) if value else timezone.localdate()


@shared_task(**RELIABLE)
def evaluate_flags_task(as_of=None, item_ids=None):
    """item_ids: those entries now. None: the nightly run (recorded, see portfolio/outbox.py)."""
    from .outbox import nightly

    if item_ids is None:
        result = nightly(_date(as_of))
        try:  # the morning's dashboards, computed now rather than by the first to open them
            warm_dashboards_task.delay()
        except Exception:  # broker down: the first page computes them, as after any change
            pass
        return result
    result = evaluate(_date(as_of), item_ids=item_ids)
    notify_flag_changes(result.to_notify)
    return result.as_dict()


@shared_task(**RELIABLE)
def warm_dashboards_task():
    """After the nightly run: planners' and leaders' dashboards into the cache (portfolio/warm.py)."""
    from .warm import warm_dashboards

    return warm_dashboards()


@shared_task(**RELIABLE)
def drain_outbox_task():
    """The re-evaluations whose after-commit attempt failed (beat every 5 minutes, and queued
    after a failure); every entry again when the thresholds changed (a deploy with new TRACKER_*
    settings: here, not in a user's request); then every alert still owed."""
    from .evaluation import refresh_if_thresholds_changed
    from .outbox import drain, send_owed_alerts

    refresh_if_thresholds_changed()
    done = drain()
    return {"drained": done, "alerts": send_owed_alerts()}


@shared_task(**RELIABLE)
def send_unit_reminders_task(as_of=None):
    return send_unit_reminders(_date(as_of), once=True)


@shared_task(**RELIABLE)
def send_leader_digest_task(as_of=None):
    return send_leader_digest(_date(as_of), once=True)


@shared_task(**RELIABLE)
def notify_flags_task(flag_ids):
    return notify_flag_changes(flag_ids)


@shared_task(**RELIABLE)
def backfill_trends_task(plan_id, as_of=None):
    """A planner's 补算趋势 button: the plan's month-end rows still missing, from the reports (idempotent)."""
    from projects.models import Plan

    from .trends import backfill

    plan = Plan.objects.filter(pk=plan_id).first()
    return backfill(plan, _date(as_of)) if plan is not None else 0
