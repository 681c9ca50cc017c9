"""催办: an e-mail to an order's unit when its colour changes (docs/architecture.md, "Problems and
督办"). The colour announced last is stored on the order (`notified_colour`), so a reminder goes out
once per change, however often the task runs or is redelivered. A change to 正常 or 已办结 is
stored and sends nothing."""
import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F

from .models import Colour, Order, OrderState

SUBJECTS = {
    Colour.BLUE: "【蓝色督办】临近办理期限",
    Colour.YELLOW: "【黄色督办】未按时签收或反馈被退回",
    Colour.RED: "【红色督办】已超过办理期限",
}


def recipients(order):
    """The unit's contact and active users with an e-mail; a red order's issuer too. An order
    whose answer stands (已反馈) waits for its issuer: only the issuer is reminded."""
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    emails = set()
    if order.state != OrderState.ANSWERED:
        emails |= set(users.filter(units=order.unit_id).values_list("email", flat=True))
        if order.unit.contact_email:
            emails.add(order.unit.contact_email)
    if order.colour == Colour.RED or order.state == OrderState.ANSWERED:
        if order.issued_by.is_active and order.issued_by.email:
            emails.add(order.issued_by.email)
    return sorted(emails)


def body(order, as_of):
    subject = order.problem and f"问题 #{order.problem_id}" or order.item and order.item.name or order.unit.name
    return (f"{order.unit.name}：\n\n督办单 #{order.pk}（{subject}）当前为{Colour(order.colour).label}，"
            f"状态“{order.get_state_display()}”，办理期限 {order.deadline:%Y-%m-%d}（截至 {as_of:%Y-%m-%d}）。\n"
            f"督办要求：{order.requirement}\n\n请登录六重清单推进系统“督办”页面办理。")


def send_order_reminders(as_of: datetime.date):
    """Remind every order whose colour differs from the one announced last. Each order is locked
    (others running at the same time skip it), mailed and marked in one transaction: a failed
    send rolls its mark back and the next run tries again."""
    changed = (Order.objects.with_colour(as_of).exclude(notified_colour=F("colour"))
               .order_by("pk").values_list("pk", flat=True))
    sent = 0
    for pk in list(changed):
        with transaction.atomic():
            order = (Order.objects.with_colour(as_of).select_for_update(skip_locked=True, of=("self",))
                     .select_related("unit", "issued_by", "item", "problem").filter(pk=pk).first())
            if order is None or order.notified_colour == order.colour:
                continue
            if order.colour in SUBJECTS:
                to = recipients(order)
                if to:
                    send_mail(f"{SUBJECTS[order.colour]}：督办单 #{order.pk}", body(order, as_of),
                              settings.DEFAULT_FROM_EMAIL, to)
                    sent += 1
            Order.objects.filter(pk=order.pk).update(notified_colour=order.colour)
    return sent
