"""Celery tasks: thin wrappers taking ids and dates, calling ordinary functions."""
import datetime

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .notifications import notify_flag_changes, send_leader_digest, send_unit_reminders
from .rules import evaluate_flags
from .snapshots import warm_dashboard


def _date(value):
    return datetime.date.fromisoformat(value) if value else timezone.localdate()


@shared_task
def evaluate_flags_task(as_of=None, plan_id=None, item_ids=None):
    from projects.models import Plan

    plan = Plan.objects.get(pk=plan_id) if plan_id else None
    result = evaluate_flags(_date(as_of), plan=plan, item_ids=item_ids)
    notify_flag_changes(result.to_notify)
    if plan is None and item_ids is None:
        warm_dashboard(result.as_of)
    return result.as_dict()


@shared_task
def warm_dashboard_task(as_of=None):
    """Rebuild the leaders' stored dashboard after a change, at most once per
    TRACKER_DASHBOARD_REBUILD_SECONDS; a rebuild put off is retried when that time has passed."""
    wait = warm_dashboard(_date(as_of), min_age_seconds=settings.TRACKER_DASHBOARD_REBUILD_SECONDS)
    if wait:
        warm_dashboard_task.apply_async(kwargs={"as_of": as_of}, countdown=wait + 1)


@shared_task
def send_unit_reminders_task(as_of=None):
    return send_unit_reminders(_date(as_of))


@shared_task
def send_leader_digest_task(as_of=None):
    return send_leader_digest(_date(as_of))
