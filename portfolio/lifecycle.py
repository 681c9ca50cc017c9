"""Closing and reopening a plan, with the evaluation that follows (the writes are
projects/lifecycle.py). Closing stores the plan's evaluation as of the closing date (figures,
lights and flags of its entries, as they stood then)."""
import datetime

from projects.lifecycle import mark_closed, mark_reopened

from .evaluation import evaluate, figures_date


def close_plan(plan, as_of: datetime.date, user=None):
    """Mark the plan 已收官 as of a date and evaluate its entries at that date."""
    mark_closed(plan, as_of, user)
    # The commit re-evaluated the entries through the change tracking; evaluating again at the
    # closing date makes the stored outcome explicit and returns it to the caller.
    return evaluate(as_of, plan=plan)


def reopen_plan(plan, user=None, reason=""):
    """Back to 执行中, evaluated at the figures' date."""
    mark_reopened(plan, user, reason)
    return evaluate(figures_date(), plan=plan)
