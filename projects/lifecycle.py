"""Closing and reopening a plan: saves of the Plan, so django-simple-history keeps who did it,
when, and why (`history_change_reason`), and the change tracker re-evaluates its entries (a
closed plan's at its closing date; the nightly run leaves it alone from then on)."""
import datetime

from django.db import transaction

from .models import FROZEN_WHAT, PlanState, frozen_reason  # noqa: F401  (the freeze: defined with the Plan)


def mark_closed(plan, as_of: datetime.date, user=None):
    """Mark the plan 已收官 as of a date."""
    with transaction.atomic():
        plan.state, plan.closed_on = PlanState.CLOSED, as_of
        plan._change_reason = f"收官（评估日期 {as_of:%Y-%m-%d}）"
        if user is not None:
            plan._history_user = user
        plan.save(update_fields=["state", "closed_on"])


def mark_reopened(plan, user=None, reason=""):
    """Back to 执行中: the nightly run watches it again."""
    with transaction.atomic():
        plan.state = PlanState.ACTIVE
        closed = f"（原收官日期 {plan.closed_on:%Y-%m-%d}）" if plan.closed_on else ""
        plan._change_reason = reason or f"重新开启{closed}"
        if user is not None:
            plan._history_user = user
        plan.save(update_fields=["state"])
