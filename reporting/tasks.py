"""Celery tasks of reporting: thin wrappers taking ids and dates."""
import datetime

from celery import shared_task

from django.contrib.auth import get_user_model

from projects.models import Item, Plan
from projects.tasks import RELIABLE

from .status import send_missing_report_reminders


@shared_task(**RELIABLE)
def remind_missing_reports_task(month, plan_id=None, user_id=None):
    """E-mail the units still missing the month's reports (the 填报情况 page's button): of the
    entries the planner who pressed it sees (user_id), or of every entry."""
    plan = Plan.objects.filter(pk=plan_id).first() if plan_id else None
    scope = None
    if user_id is not None:
        user = get_user_model().objects.filter(pk=user_id).first()
        scope = Item.objects.visible_to(user) if user is not None else Item.objects.none()
    return send_missing_report_reminders(datetime.date.fromisoformat(month), plan, scope)
