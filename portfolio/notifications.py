"""Emails in Chinese: alerts when flags open or get worse, weekly reminders and the leaders' digest."""
import datetime
from collections import defaultdict

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db.models import Count, F

from projects.models import PlanState, Role

from indicators.notifications import indicator_digest_lines

from .models import Flag, Severity


def _recipients_by_item(item_ids):
    users = defaultdict(set)
    rows = User.objects.filter(is_active=True, units__item_links__item_id__in=item_ids).exclude(email="") \
        .values_list("pk", "units__item_links__item_id")
    for user_id, item_id in rows:
        users[user_id].add(item_id)
    return users


def notify_flag_changes(flag_ids):
    """One email per unit user for the flags that opened or got worse; never the same alert twice."""
    # Plain tuples first: a province's first evaluation opens 300,000 flags, most of them on
    # entries whose units have no one to email.
    pending = list(
        Flag.objects.filter(pk__in=flag_ids, resolved_on__isnull=True).exclude(severity=Severity.INFO)
        .exclude(notified_severity=F("severity")).values_list("pk", "item_id", "severity")
    )
    if not pending:
        return 0
    by_user = _recipients_by_item({item_id for _, item_id, _ in pending})
    emailed_items = set().union(*by_user.values())
    by_item = defaultdict(list)
    for flag in Flag.objects.filter(pk__in=[pk for pk, item_id, _ in pending if item_id in emailed_items]) \
            .select_related("item__figures").order_by("pk"):
        by_item[flag.item_id].append(flag)
    users = User.objects.in_bulk(list(by_user))
    sent = 0
    for user_id, item_ids in by_user.items():
        mine = [f for item_id in sorted(item_ids) for f in by_item[item_id]]
        lines = [f"【{f.get_severity_display()}】{f.item.name}：{f.get_kind_display()}，{f.describe(f.changed_on)}" for f in mine]
        send_mail(
            f"六重清单预警：{len(mine)} 项新增或升级",
            "您好，\n\n以下事项出现新的预警或预警升级：\n\n" + "\n".join(lines) + "\n\n请登录系统查看并及时填报。",
            settings.DEFAULT_FROM_EMAIL, [users[user_id].email],
        )
        sent += 1
    # One UPDATE per severity: bulk_update's CASE over every flag is quadratic in PostgreSQL and
    # never finished on a province's first evaluation.
    by_severity = defaultdict(list)
    for pk, _, severity in pending:
        by_severity[severity].append(pk)
    for severity, ids in by_severity.items():
        for start in range(0, len(ids), 10000):
            Flag.objects.filter(pk__in=ids[start:start + 10000]).update(notified_severity=severity)
    return sent


def _already_sent(once, kind, key, recipient) -> bool:
    from .models import SentMail

    return once and SentMail.objects.filter(kind=kind, key=key, recipient=recipient).exists()


def _mark_sent(once, kind, key, recipient):
    from .models import SentMail

    if once:
        SentMail.objects.get_or_create(kind=kind, key=key, recipient=recipient)


def send_unit_reminders(as_of: datetime.date, once: bool = False):
    """Monday reminder to each unit's users: their red and yellow entries and missing reports.
    once (the scheduled task): a recipient already sent this date's reminder is skipped."""
    # a closed plan keeps its flags as they stood at closing: nobody is reminded of them
    open_flags = Flag.objects.filter(resolved_on__isnull=True, severity__in=[Severity.RED, Severity.YELLOW],
                                     item__plan__state=PlanState.ACTIVE).select_related("item__figures")
    by_item = defaultdict(list)
    for f in open_flags:
        by_item[f.item_id].append(f)
    by_user = _recipients_by_item(list(by_item))
    users = User.objects.in_bulk(list(by_user))
    sent = 0
    for user_id, item_ids in by_user.items():
        lines, missing = [], []
        for item_id in sorted(item_ids):
            for f in by_item[item_id]:
                (missing if f.kind == "report_missing" else lines).append(
                    f"【{f.get_severity_display()}】{f.item.name}：{f.get_kind_display()}，{f.describe(as_of)}")
        body = [f"您好，截至 {as_of:%Y年%m月%d日}，贵单位负责的事项情况如下。"]
        if lines:
            body += ["", "红黄灯事项："] + lines
        if missing:
            body += ["", "未按期填报："] + missing
        body += ["", "请登录系统“我的事项”处理。"]
        if _already_sent(once, "unit-reminder", as_of.isoformat(), users[user_id].email):
            continue
        send_mail(f"六重清单每周提醒（{as_of:%m月%d日}）", "\n".join(body), settings.DEFAULT_FROM_EMAIL,
                  [users[user_id].email])
        _mark_sent(once, "unit-reminder", as_of.isoformat(), users[user_id].email)
        sent += 1
    return sent


def send_leader_digest(as_of: datetime.date, once: bool = False):
    """Weekly digest to leaders: new red flags, resolved flags, units with most red flags.
    once (the scheduled task): not sent again for the same date."""
    since = as_of - datetime.timedelta(days=7)
    leaders = list(User.objects.filter(is_active=True, groups__name=Role.LEADER).exclude(email="")
                   .values_list("email", flat=True))
    if not leaders or _already_sent(once, "leader-digest", as_of.isoformat(), "*"):
        return 0
    new_red = Flag.objects.filter(severity=Severity.RED, opened_on__gt=since, opened_on__lte=as_of) \
        .select_related("item__figures")
    resolved = Flag.objects.filter(resolved_on__gt=since, resolved_on__lte=as_of).select_related("item__figures")
    units = (Flag.objects.filter(resolved_on__isnull=True, severity=Severity.RED, item__plan__state=PlanState.ACTIVE)
             .values("item__unit_links__unit__name").annotate(n=Count("pk", distinct=True)).order_by("-n")[:10])
    body = [f"本周（{since + datetime.timedelta(days=1):%m月%d日}—{as_of:%m月%d日}）六重清单动态：", "",
            f"新增红灯 {new_red.count()} 项："]
    body += [f"  {f.item.name}：{f.get_kind_display()}，{f.describe(as_of)}" for f in new_red[:50]]
    body += ["", f"解除预警 {resolved.count()} 项："]
    body += [f"  {f.item.name}：{f.get_kind_display()}" for f in resolved[:50]]
    body += ["", *indicator_digest_lines(since, as_of)]
    body += ["", "红灯最多的单位："]
    body += [f"  {u['item__unit_links__unit__name'] or '（责任未落实）'}：{u['n']} 项" for u in units]
    send_mail(f"六重清单周报（{as_of:%Y-%m-%d}）", "\n".join(body), settings.DEFAULT_FROM_EMAIL, leaders)
    _mark_sent(once, "leader-digest", as_of.isoformat(), "*")
    return len(leaders)
