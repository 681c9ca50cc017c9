"""填报情况: who has reported for a month, per unit, in grouped queries; and the reminder to the
units still missing. "Due" is reporting.owing.owes_report, the one definition of who owes a
month's report; a report is on time when filed by the month's deadline (the reporting day of
the next month)."""
import datetime
from collections import defaultdict

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from projects.channels import announce
from projects.models import Item, ItemUnit, Unit
from reporting.calendar import month_asked, month_choices, report_deadline
from reporting.models import StatusReport
from reporting.owing import entries_due, reported_for

from projects.params import BadParameter


def month_param(request, today: datetime.date) -> datetime.date:
    """?month=YYYY-MM among month_choices; default the month asked for (reporting.calendar.month_asked)."""
    raw = request.GET.get("month") or request.POST.get("month") or ""
    choices = month_choices(today)
    if not raw:
        due = month_asked(today)
        return due if due in choices else (choices[-1] if choices else due)
    try:
        month = datetime.date.fromisoformat(raw + "-01") if len(raw) == 7 else None
    except ValueError:
        month = None
    if month is None or month not in choices:
        span = f"{choices[-1]:%Y-%m} 至 {choices[0]:%Y-%m}" if choices else "（尚未开始填报）"
        raise BadParameter(f"月份“{raw[:20]}”不可选：应为 YYYY-MM，在 {span} 之间。")
    return month


def _deadline_end(month):
    """The first moment after the month's deadline (Asia/Shanghai)."""
    day = report_deadline(month) + datetime.timedelta(days=1)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def late_report(month: datetime.date, item_ref="pk"):
    """Exists(the entry's report for `month`, filed after the month's deadline)."""
    return Exists(StatusReport.objects.filter(item=OuterRef(item_ref), month=month, filed_at__gte=_deadline_end(month)))


def filed_on_time(month: datetime.date, item_ref="pk"):
    """Exists(the entry's report for `month`, filed by the month's deadline): reported, not late."""
    return Exists(StatusReport.objects.filter(item=OuterRef(item_ref), month=month, filed_at__lt=_deadline_end(month)))


def _due_links(month, plan=None, scope=None):
    """scope: the entries the reader sees (Item.objects.visible_to), default every entry."""
    items = entries_due(Item.objects.all() if scope is None else scope, month)
    if plan is not None:
        items = items.filter(plan=plan)
    return ItemUnit.objects.filter(item__in=items.values("pk"))


def unit_status(month: datetime.date, today: datetime.date, plan=None, scope=None):
    """One row per unit owing reports for the month: due, reported, of them late, missing, and
    whether the deadline has passed — one grouped query, plus one for the units' contacts."""
    counts = (_due_links(month, plan, scope)
              .annotate(reported=reported_for(month, "item"), late=late_report(month, "item"))
              .values("unit_id")
              .annotate(due=Count("pk"), reported_n=Count("pk", filter=Q(reported=True)),
                        late_n=Count("pk", filter=Q(late=True)))
              .order_by())
    units = Unit.objects.in_bulk([row["unit_id"] for row in counts])
    past_deadline = today > report_deadline(month)
    rows = []
    for row in counts:
        missing = row["due"] - row["reported_n"]
        rows.append({"unit": units[row["unit_id"]], "due": row["due"], "reported": row["reported_n"],
                     "late": row["late_n"], "missing": missing, "overdue": missing if past_deadline else 0})
    rows.sort(key=lambda r: (-r["missing"], r["unit"].name))
    return rows


def unit_contacts(units) -> dict:
    """{unit id: {person, phone, email, from_users}}: the unit's contact as recorded on the unit;
    where none is recorded, its active users — the people the reminder e-mail reaches."""
    users = defaultdict(list)
    for unit_id, first, last, username, email in (
            User.objects.filter(is_active=True, units__in=list(units)).order_by("username")
            .values_list("units", "first_name", "last_name", "username", "email")):
        users[unit_id].append(((last + first) or username, email))
    contacts = {}
    for unit in units:
        names = "、".join(name for name, _ in users[unit.pk])
        emails = "、".join(email for _, email in users[unit.pk] if email)
        contacts[unit.pk] = {"person": unit.contact_person or names, "phone": unit.contact_phone,
                             "email": unit.contact_email or emails,
                             "from_users": not unit.contact_person and bool(names)}
    return contacts


def entry_totals(month: datetime.date, plan=None, scope=None) -> dict:
    """The month's entries due, reported, reported late and missing, each entry counted once
    (the per-unit rows count an entry once per responsible unit)."""
    items = entries_due(Item.objects.all() if scope is None else scope, month)
    if plan is not None:
        items = items.filter(plan=plan)
    sums = items.aggregate(due=Count("pk"), reported=Count("pk", filter=reported_for(month)),
                           late=Count("pk", filter=late_report(month)))
    return {**sums, "missing": sums["due"] - sums["reported"]}


def missing_by_unit(month: datetime.date, plan=None, scope=None):
    """{unit id: [entries still missing the month's report]}."""
    missing = defaultdict(list)
    links = (_due_links(month, plan, scope).filter(~reported_for(month, "item"))
             .select_related("item").order_by("unit_id", "item__list_kind", "item__seq"))
    for link in links:
        missing[link.unit_id].append(link.item)
    return missing


def send_missing_report_reminders(month: datetime.date, plan=None, scope=None) -> int:
    """One e-mail per unit still missing reports for the month, to its contact and its users."""
    missing = missing_by_unit(month, plan, scope)
    if not missing:
        return 0
    members = defaultdict(set)
    for unit_id, email in (User.objects.filter(is_active=True, units__in=list(missing)).exclude(email="")
                           .values_list("units", "email")):
        members[unit_id].add(email)
    sent = 0
    deadline = report_deadline(month)
    for unit in Unit.objects.filter(pk__in=list(missing)).order_by("name"):
        recipients = sorted(members[unit.pk] | ({unit.contact_email} if unit.contact_email else set()))
        entries = [f"{item.get_list_kind_display()} {item.seq}. {item.name}" for item in missing[unit.pk]]
        subject = f"六重清单填报提醒：{month:%Y年%m月} 尚有 {len(entries)} 项未报"
        asked = f"贵单位以下 {len(entries)} 项事项尚未填报 {month:%Y年%m月} 进度（截止 {deadline:%Y年%m月%d日}）："
        advice = "请登录系统“我的事项”填报，或下载月度模板批量填报后上传。"
        # The unit's group robot too, at most once a day per month asked (projects/channels.py).
        announce(f"reports:{month:%Y-%m}:{unit.pk}:{timezone.localdate()}", subject,
                 "\n".join([f"**{unit.name}**：{asked}", "", *(f"- {e}" for e in entries), "", advice]),
                 units=[unit.pk])
        if not recipients:
            continue
        body = [f"{unit.contact_person or unit.name}，您好：", "", asked, *(f"  {e}" for e in entries), "", advice]
        send_mail(subject, "\n".join(body), settings.DEFAULT_FROM_EMAIL, recipients)
        sent += 1
    return sent

