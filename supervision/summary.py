"""Counts of the loop for the dashboard and the unit's 我的事项, scoped like everything else."""
import datetime

from django.db.models import Count, Q

from projects.versions import cached, scope_key

from .models import (
    COLOUR_RANK, OPEN_PROBLEM_STATES, OWING_PROBLEM_STATES, Colour, Order, OrderState, Problem, ProblemState,
)


def month_start(today):
    return today.replace(day=1)


def problem_counts(user, today: datetime.date):
    """{open, overdue, solved_month}: one grouped query over the user's problems. Overdue: still
    owing its answer (待分办 / 协调中) after its deadline; solved this month: 销号 since the 1st
    (Asia/Shanghai)."""
    start = month_start(today)
    return Problem.objects.visible_to(user).aggregate(
        open=Count("pk", filter=Q(state__in=OPEN_PROBLEM_STATES)),
        overdue=Count("pk", filter=Q(state__in=OWING_PROBLEM_STATES, deadline__lt=today)),
        solved_month=Count("pk", filter=Q(state=ProblemState.CLOSED, closed_at__date__gte=start)),
    )


def order_counts(user, today: datetime.date):
    """{open, red, yellow, blue}: one query over the user's orders not 办结, by colour."""
    rows = (Order.objects.visible_to(user).exclude(state=OrderState.CLOSED).with_colour(today)
            .order_by().values("colour").annotate(n=Count("pk")))
    counts = {c.value: 0 for c in (Colour.RED, Colour.YELLOW, Colour.BLUE, Colour.NONE)}
    for row in rows:
        counts[row["colour"]] = row["n"]
    counts["open"] = sum(counts.values())
    return counts


def worst(colours):
    return max(colours, key=lambda c: COLOUR_RANK[Colour(c)], default=Colour.NONE)


def loop_counts(user, today: datetime.date, row=None):
    """{"problems": problem_counts, "orders": order_counts} for the dashboard, kept in Django's
    cache under the data version: every saved problem or order moves it (supervision/apps.py
    tracks both), and the key names the date (overdue and colours move with it)."""
    return cached("supervision", scope_key(user), None, today,
                  lambda _: {"problems": problem_counts(user, today), "orders": order_counts(user, today)}, row)
