"""Celery tasks of reporting: thin wrappers taking ids and dates."""
import datetime

from celery import shared_task

from projects.models import Plan
from projects.tasks import RELIABLE

from .status import send_missing_report_reminders


@shared_task(**RELIABLE)
def remind_missing_reports_task(month, plan_id=None):
    """E-mail the units still missing the month's reports (the 填报情况 page's button)."""
    plan = Plan.objects.filter(pk=plan_id).first() if plan_id else None
    return send_missing_report_reminders(datetime.date.fromisoformat(month), plan)
