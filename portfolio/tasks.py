"""Celery tasks: thin wrappers taking ids and dates, calling ordinary functions."""
import datetime

from celery import shared_task
from django.utils import timezone

from indicators.evaluation import evaluate_indicators
from indicators.notifications import notify_indicator_changes

from .evaluation import evaluate
from .notifications import notify_flag_changes, send_leader_digest, send_unit_reminders


def _date(value):
    return datetime.date.fromisoformat(value) if value else timezone.localdate()


@shared_task
def evaluate_flags_task(as_of=None, item_ids=None):
    result = evaluate(_date(as_of), item_ids=item_ids)
    notify_flag_changes(result.to_notify)
    if item_ids is None:  # the nightly run: plan indicators too (a new year adds its statuses)
        notify_indicator_changes(evaluate_indicators(as_of=_date(as_of)).to_notify)
    return result.as_dict()


@shared_task
def send_unit_reminders_task(as_of=None):
    return send_unit_reminders(_date(as_of))


@shared_task
def send_leader_digest_task(as_of=None):
    return send_leader_digest(_date(as_of))


@shared_task
def notify_flags_task(flag_ids):
    return notify_flag_changes(flag_ids)
