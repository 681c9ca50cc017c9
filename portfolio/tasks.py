"""Celery tasks: thin wrappers taking ids and dates, calling ordinary functions."""
import datetime

from celery import shared_task
from django.utils import timezone

from .evaluation import evaluate
from .indicators import evaluate_indicators
from .notifications import notify_flag_changes, notify_indicator_changes, send_leader_digest, send_unit_reminders
from .reporting_status import send_missing_report_reminders


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


@shared_task
def notify_indicators_task(status_ids):
    return notify_indicator_changes(status_ids)


@shared_task
def remind_missing_reports_task(month, plan_id=None):
    """E-mail the units still missing the month's reports (the 填报情况 page's button)."""
    from projects.models import Plan

    plan = Plan.objects.filter(pk=plan_id).first() if plan_id else None
    return send_missing_report_reminders(datetime.date.fromisoformat(month), plan)
