"""Celery tasks of supervision: thin wrappers taking dates."""
import datetime

from celery import shared_task
from django.utils import timezone

from projects.tasks import RELIABLE

from .reminders import send_order_reminders, send_problem_reminders


@shared_task(**RELIABLE)
def order_reminders_task(as_of=None):
    """催办 (beat, hourly): e-mail the orders whose colour changed since they were last reminded."""
    return send_order_reminders(datetime.date.fromisoformat(as_of) if as_of else timezone.localdate())


@shared_task(**RELIABLE)
def problem_reminders_task(as_of=None):
    """Overdue problems (beat, hourly): remind those that became overdue since the last run, once."""
    return send_problem_reminders(datetime.date.fromisoformat(as_of) if as_of else timezone.localdate())
