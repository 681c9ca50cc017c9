"""E-mails about plan indicators: an alert when one turns lagging, and the digest's lines."""
from collections import defaultdict

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db.models import F

from projects.lights import Severity

from .models import IndicatorStatus


def notify_indicator_changes(status_ids):
    """One email per user of the responsible units for the plan indicators that turned lagging
    (约束性 red, 预期性 yellow); never the same alert twice."""
    pending = list(IndicatorStatus.objects.filter(pk__in=status_ids, light__in=[Severity.RED, Severity.YELLOW])
                   .exclude(notified_light=F("light")).select_related("indicator__plan"))
    if not pending:
        return 0
    unit_ids = {s.indicator.responsible_unit_id for s in pending if s.indicator.responsible_unit_id}
    by_user = defaultdict(list)
    for user in User.objects.filter(is_active=True, units__in=unit_ids).exclude(email="") \
            .prefetch_related("units").distinct():
        mine = {u.pk for u in user.units.all()}
        by_user[user] = [s for s in pending if s.indicator.responsible_unit_id in mine]
    sent = 0
    for user, statuses in by_user.items():
        lines = [f"【{'红' if s.light == Severity.RED else '黄'}】{s.indicator.plan.name}·{s.indicator}"
                 f"（{s.year} 年）：{s.rule}" for s in statuses]
        send_mail(f"规划指标预警：{len(statuses)} 项滞后", "您好，\n\n以下规划指标评价为滞后：\n\n" + "\n".join(lines)
                  + "\n\n请登录系统“规划指标”查看并填报年度实际值。", settings.DEFAULT_FROM_EMAIL, [user.email])
        sent += 1
    for light in (Severity.RED, Severity.YELLOW):
        IndicatorStatus.objects.filter(pk__in=[s.pk for s in pending if s.light == light]).update(notified_light=light)
    return sent


def indicator_digest_lines(since, as_of):
    """The digest's indicators: those that turned lagging this week, 约束性 (red) first."""
    lagging = IndicatorStatus.objects.filter(light__in=[Severity.RED, Severity.YELLOW], changed_on__gt=since,
                                             changed_on__lte=as_of).select_related("indicator") \
        .order_by("light", "indicator__plan_id", "year")
    lines = [f"本周评价为滞后的规划指标 {lagging.count()} 项："]
    lines += [f"  【{'红' if s.light == Severity.RED else '黄'}】{s.indicator}（{s.year} 年）：{s.get_light_display()}"
              for s in lagging[:50]]
    return lines
