"""Celery tasks of the indicators: thin wrappers taking ids."""
from celery import shared_task

from projects.tasks import RELIABLE

from .notifications import notify_indicator_changes


@shared_task(**RELIABLE)
def notify_indicators_task(status_ids):
    return notify_indicator_changes(status_ids)
