"""Celery tasks of supervision: thin wrappers taking dates."""
import datetime

from celery import shared_task
from django.utils import timezone

from projects.tasks import RELIABLE

from .reminders import send_order_reminders


@shared_task(**RELIABLE)
def order_reminders_task(as_of=None):
    """催办 (beat, hourly): e-mail the orders whose colour changed since they were last reminded."""
    return send_order_reminders(datetime.date.fromisoformat(as_of) if as_of else timezone.localdate())
