"""问题与督办 for the monthly 通报 (portfolio/bulletin.py): the problems and orders still open at
the month's end, and those solved or closed within the month, in the reader's scope."""
import datetime

from django.db.models import Q

from .models import OPEN_PROBLEM_STATES, Colour, Order, OrderState, Problem, ProblemState


def _month_end(month: datetime.date) -> datetime.date:
    return (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1) - datetime.timedelta(days=1)


def lines(plan, user, month: datetime.date, as_of: datetime.date) -> list:
    """Rows of 事项, 类型, 责任单位, 状态, 期限: problems first (by deadline), then orders."""
    end = _month_end(month)
    problems = Problem.objects.visible_to(user).filter(raised_on__lte=end).filter(
        Q(state__in=OPEN_PROBLEM_STATES) | Q(state=ProblemState.CLOSED, closed_at__date__gte=month,
                                             closed_at__date__lte=end))
    orders = Order.objects.visible_to(user).filter(issued_on__lte=end).filter(
        ~Q(state=OrderState.CLOSED) | Q(closed_at__date__gte=month, closed_at__date__lte=end))
    if plan is not None:
        problems = problems.filter(item__plan=plan)
        orders = orders.filter(Q(item__plan=plan) | Q(problem__item__plan=plan) | Q(item__isnull=True,
                                                                                    problem__isnull=True))
    rows = [[p.item.name, f"问题·{p.get_kind_display()}", p.coordinating_unit.name if p.coordinating_unit_id else "—",
             p.get_state_display(), f"{p.deadline:%Y-%m-%d}"]
            for p in problems.select_related("item", "coordinating_unit").order_by("deadline", "pk")]
    colours = dict(Colour.choices)
    for order in orders.with_colour(as_of).select_related("item", "problem__item", "unit").order_by("deadline", "pk"):
        subject = order.item or (order.problem.item if order.problem_id else None)
        colour = colours.get(order.colour, "") if order.state != OrderState.CLOSED else colours[Colour.DONE]
        rows.append([subject.name if subject else order.unit.name, f"督办·{colour}", order.unit.name,
                     order.get_state_display(), f"{order.deadline:%Y-%m-%d}"])
    return rows
