"""Counts of the loop for the dashboard and the unit's 我的事项, scoped like everything else."""
import datetime

from django.db.models import Count, Q
from django.db.models.functions import Coalesce

from projects.versions import cached, scope_key, slice_expression

from .models import (
    COLOUR_RANK, OPEN_PROBLEM_STATES, OWING_PROBLEM_STATES, Colour, Order, OrderState, Problem, ProblemState,
    answered_on_time, solved_on_time,
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


def add_timeliness(into: dict, part: dict):
    for unit_id, counts in part.items():
        row = into.setdefault(unit_id, _no_timeliness())
        for key, n in counts.items():
            row[key] += n


def timeliness_parts(as_of: datetime.date, items, by_slice=False) -> dict:
    """{slice: {unit id: {problems_due, problems_on_time, orders_due, orders_on_time}}}: two
    grouped queries. Problems of `items` by their coordinating unit (`Problem.objects.due_by`,
    `solved_on_time`); orders on `items` or on their problems by the unit they are addressed to
    (`Order.objects.due_by`, `answered_on_time`). by_slice: by the slice of the entry's plan
    (projects.versions.slice_of), else all in slice 0."""
    ids = items.order_by().values("pk")
    result = {}

    def part_of(plan_field):
        return slice_expression(by_slice, plan_field)

    problems = (Problem.objects.due_by(as_of).filter(item__in=ids).order_by()
                .values("coordinating_unit_id", part=part_of("item__plan_id"))
                .annotate(due=Count("pk"), on_time=Count("pk", filter=solved_on_time(as_of))))
    for r in problems:
        result.setdefault(r["part"], {}).setdefault(r["coordinating_unit_id"], _no_timeliness()).update(
            problems_due=r["due"], problems_on_time=r["on_time"])
    # an order has one subject (order_one_subject): its entry, or its problem's entry, tested
    # against the entries once
    orders = (Order.objects.due_by(as_of).annotate(subject_item=Coalesce("item_id", "problem__item_id"))
              .filter(subject_item__in=ids).order_by()
              .values("unit_id", part=part_of(Coalesce("item__plan_id", "problem__item__plan_id")))
              .annotate(due=Count("pk"), on_time=Count("pk", filter=answered_on_time(as_of))))
    for r in orders:
        result.setdefault(r["part"], {}).setdefault(r["unit_id"], _no_timeliness()).update(
            orders_due=r["due"], orders_on_time=r["on_time"])
    return result


def unit_alone_timeliness(as_of: datetime.date) -> dict:
    """{unit id: {orders_due, orders_on_time}} of the orders addressed to a unit alone (no entry,
    no problem): they count in every ranking the unit is in."""
    rows = (Order.objects.due_by(as_of).filter(item__isnull=True, problem__isnull=True).order_by().values("unit_id")
            .annotate(due=Count("pk"), on_time=Count("pk", filter=answered_on_time(as_of))))
    return {r["unit_id"]: {"orders_due": r["due"], "orders_on_time": r["on_time"]} for r in rows}


def _no_timeliness():
    return {"problems_due": 0, "problems_on_time": 0, "orders_due": 0, "orders_on_time": 0}
