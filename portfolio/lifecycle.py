"""Closing and reopening a plan. Closing stores the plan's evaluation as of the closing date
(figures, lights and flags of its entries, as they stood then) and marks it 已收官; the nightly
run leaves it alone from then on. Both are saves of the Plan, so django-simple-history keeps
who did it, when, and why (`history_change_reason`)."""
import datetime

from django.db import transaction

from projects.models import PlanState

from .evaluation import evaluate


def close_plan(plan, as_of: datetime.date, user=None):
    """Mark the plan 已收官 as of a date and evaluate its entries at that date."""
    with transaction.atomic():
        plan.state, plan.closed_on = PlanState.CLOSED, as_of
        plan._change_reason = f"收官（评估日期 {as_of:%Y-%m-%d}）"
        if user is not None:
            plan._history_user = user
        plan.save(update_fields=["state", "closed_on"])
    # The commit re-evaluated the entries through the change tracking; evaluating again at the
    # closing date makes the stored outcome explicit and returns it to the caller.
    return evaluate(as_of, plan=plan)


def reopen_plan(plan, user=None, reason=""):
    """Back to 执行中: the nightly run watches it again (its next run re-evaluates it)."""
    with transaction.atomic():
        plan.state = PlanState.ACTIVE
        closed = f"（原收官日期 {plan.closed_on:%Y-%m-%d}）" if plan.closed_on else ""
        plan._change_reason = reason or f"重新开启{closed}"
        if user is not None:
            plan._history_user = user
        plan.save(update_fields=["state"])
    from .evaluation import figures_date

    return evaluate(figures_date(), plan=plan)
