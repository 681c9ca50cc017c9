"""The plan's and its entries' lifecycle as planners change it: closing and reopening a plan (saves
of the Plan, so django-simple-history keeps who did it, when, and why), and many entries' status at
once. The change tracker re-evaluates what changed (a closed plan's entries at its closing date;
the nightly run leaves them alone from then on)."""
import datetime

from django.db import transaction
from simple_history.utils import bulk_update_with_history

from .changes import entries_changed
from .models import FROZEN_WHAT, Item, PlanState, frozen_reason  # noqa: F401  (the freeze: defined with the Plan)


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


def set_status(item_ids, status, user=None) -> int:
    """Set many entries' status at once (a planner's bulk change from a list): one history record
    per entry, the entries re-evaluated when the change commits. Returns how many changed."""
    with transaction.atomic():
        items = list(Item.objects.select_for_update().filter(pk__in=item_ids).exclude(status=status).order_by("pk"))
        for item in items:
            item.status = status
        # bulk_update sends no save signals: the history rows are written here, the evaluation marked below.
        bulk_update_with_history(items, Item, ["status"], default_user=user, default_change_reason="批量设置状态")
        entries_changed([item.pk for item in items])
    return len(items)
