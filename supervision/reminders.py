"""催办: an e-mail to an order's unit when its colour changes, and to a problem's coordinating unit
(or the planners, while it waits for triage) when it becomes overdue (docs/architecture.md,
"Problems and 督办"). What was announced last is stored on the row (`Order.notified_colour`,
`Problem.notified_overdue`), so a reminder goes out once per change, however often the task runs
or is redelivered. A change to 正常 / 已办结 / no longer overdue is stored and sends nothing.

Each reminder also goes to the group robots (projects/channels.py): what is mailed to the unit
to the unit's channels, what is mailed to the issuer side (a red order's issuer, an answer
awaiting its issuer, an overdue problem) to the office-wide channels. The messages are queued in
the transaction that marks the row, and posted after it commits."""
import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F

from projects.channels import announce
from projects.models import Role, organisation_of

from .models import Colour, Order, OrderState, Problem, ProblemState

SUBJECTS = {
    Colour.BLUE: "【蓝色督办】临近办理期限",
    Colour.YELLOW: "【黄色督办】未按时签收或反馈被退回",
    Colour.RED: "【红色督办】已超过办理期限",
}


def tells_unit(order):
    """An order whose answer stands (已反馈) waits for its issuer: its unit is not reminded."""
    return order.state != OrderState.ANSWERED


def tells_issuer(order):
    return order.colour == Colour.RED or order.state == OrderState.ANSWERED


def recipients(order):
    """The unit's contact and active users with an e-mail (`tells_unit`); the issuer (`tells_issuer`)."""
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    emails = set()
    if tells_unit(order):
        emails |= set(users.filter(units=order.unit_id).values_list("email", flat=True))
        if order.unit.contact_email:
            emails.add(order.unit.contact_email)
    if tells_issuer(order) and order.issued_by.is_active and order.issued_by.email:
        emails.add(order.issued_by.email)
    return sorted(emails)


def subject_of(order):
    return order.problem and f"问题 #{order.problem_id}" or order.item and order.item.name or order.unit.name


def body(order, as_of):
    return (f"{order.unit.name}：\n\n督办单 #{order.pk}（{subject_of(order)}）当前为{Colour(order.colour).label}，"
            f"状态“{order.get_state_display()}”，办理期限 {order.deadline:%Y-%m-%d}（截至 {as_of:%Y-%m-%d}）。\n"
            f"督办要求：{order.requirement}\n\n请登录六重清单推进系统“督办”页面办理。")


def markdown(order, as_of):
    return (f"**{order.unit.name}**：督办单 #{order.pk}（{subject_of(order)}）当前为**{Colour(order.colour).label}**，"
            f"状态“{order.get_state_display()}”，办理期限 {order.deadline:%Y-%m-%d}（截至 {as_of:%Y-%m-%d}）。\n\n"
            f"> 督办要求：{order.requirement}\n\n请登录六重清单推进系统“督办”页面办理。")


def order_organisation(order):
    """The organisation whose planning office hears of an order: the owner of its entry's plan (or
    its problem's entry's), else its issuer's."""
    item = order.item or (order.problem.item if order.problem_id else None)
    if item is not None:
        return item.plan.organisation
    return organisation_of(order.issued_by)


def send_order_reminders(as_of: datetime.date):
    """Remind every order whose colour differs from the one announced last. Each order is locked
    (others running at the same time skip it), mailed, queued to its channels and marked in one
    transaction: a failed send rolls its mark back and the next run tries again."""
    changed = (Order.objects.with_colour(as_of).exclude(notified_colour=F("colour"))
               .order_by("pk").values_list("pk", flat=True))
    sent = 0
    for pk in list(changed):
        with transaction.atomic():
            order = (Order.objects.with_colour(as_of).select_for_update(skip_locked=True, of=("self",))
                     .select_related("unit", "issued_by", "item__plan__organisation", "problem__item__plan__organisation")
                     .filter(pk=pk).first())
            if order is None or order.notified_colour == order.colour:
                continue
            if order.colour in SUBJECTS:
                subject = f"{SUBJECTS[order.colour]}：督办单 #{order.pk}"
                announce(f"order:{order.pk}:{order.colour}:{as_of}", subject, markdown(order, as_of),
                         units=[order.unit_id] if tells_unit(order) else [], office=tells_issuer(order),
                         organisation=order_organisation(order))
                to = recipients(order)
                if to:
                    send_mail(subject, body(order, as_of), settings.DEFAULT_FROM_EMAIL, to)
                    sent += 1
            Order.objects.filter(pk=order.pk).update(notified_colour=order.colour)
    return sent


def problem_recipients(problem):
    """Waiting for triage (待分办): the planners; being coordinated: the coordinating unit's users
    and contact, and the leader in charge when a user."""
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    if problem.state == ProblemState.PENDING:
        return sorted(set(users.filter(groups__name=Role.PLANNER).values_list("email", flat=True)))
    emails = set(users.filter(units=problem.coordinating_unit_id).values_list("email", flat=True))
    if problem.coordinating_unit.contact_email:
        emails.add(problem.coordinating_unit.contact_email)
    if problem.leader_id and problem.leader.is_active and problem.leader.email:
        emails.add(problem.leader.email)
    return sorted(emails)


def problem_text(problem, as_of, bold=False):
    owed = "等待规划人员受理分办" if problem.state == ProblemState.PENDING else \
        f"等待协调单位（{problem.coordinating_unit.name}）答复"
    late = (as_of - problem.deadline).days
    name = f"**{problem.item.name}**" if bold else problem.item.name
    return (f"问题 #{problem.pk}（{name}，{problem.get_kind_display()}）办理期限 {problem.deadline:%Y-%m-%d}，"
            f"已逾期 {late} 天（截至 {as_of:%Y-%m-%d}），{owed}。\n\n"
            f"{'> ' if bold else ''}问题描述：{problem.description[:500]}\n\n请登录六重清单推进系统“问题协调”页面办理。")


def send_problem_reminders(as_of: datetime.date):
    """Remind every problem that became overdue (`Problem.objects.overdue`: the answer still owed
    past the deadline) since the last run, once; a problem no longer overdue (answered, closed,
    returned) is marked back silently, so it is reminded again if it becomes overdue again."""
    overdue = Problem.objects.overdue(as_of)
    changed = set(overdue.filter(notified_overdue=False).values_list("pk", flat=True)) | set(
        Problem.objects.filter(notified_overdue=True).exclude(pk__in=overdue.values("pk")).values_list("pk", flat=True))
    sent = 0
    for pk in sorted(changed):
        with transaction.atomic():
            problem = (Problem.objects.select_for_update(skip_locked=True, of=("self",))
                       .select_related("item__plan__organisation", "coordinating_unit", "leader").filter(pk=pk).first())
            if problem is None or problem.is_overdue(as_of) == problem.notified_overdue:
                continue
            if problem.is_overdue(as_of):
                subject = f"【问题逾期】问题 #{problem.pk} 已超过办理期限"
                coordinating = problem.state != ProblemState.PENDING
                announce(f"problem:{problem.pk}:overdue:{as_of}", subject, problem_text(problem, as_of, bold=True),
                         units=[problem.coordinating_unit_id] if coordinating else [], office=True,
                         organisation=problem.item.plan.organisation)
                to = problem_recipients(problem)
                if to:
                    send_mail(subject, problem_text(problem, as_of), settings.DEFAULT_FROM_EMAIL, to)
                    sent += 1
            Problem.objects.filter(pk=problem.pk).update(notified_overdue=problem.is_overdue(as_of))
    return sent
