import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, F
from django.utils import timezone

from portfolio.evaluation import evaluate
from indicators.evaluation import evaluate_indicators
from indicators.models import IndicatorStatus
from indicators.notifications import notify_indicator_changes
from portfolio.models import Flag
from portfolio.notifications import notify_flag_changes
from portfolio.rules import RULES
from projects.models import Plan


class Command(BaseCommand):
    help = "按指定日期评估全部预警规则（与夜间任务相同），输出每类预警的未解除数量。"

    def add_arguments(self, parser):
        parser.add_argument("--as-of", help="评估日期 YYYY-MM-DD（默认今天，Asia/Shanghai）")
        parser.add_argument("--plan", help="只评估该规划代码的事项")
        parser.add_argument("--refresh", action="store_true", help="从填报和节点重新读取全部事项的数据（通常不需要）")
        parser.add_argument("--no-notify", action="store_true", help="不发送本次新增/升级预警邮件（视为已通知，夜间任务也不补发）")

    def handle(self, *args, **opts):
        try:
            as_of = datetime.date.fromisoformat(opts["as_of"]) if opts["as_of"] else timezone.localdate()
        except ValueError:
            raise CommandError(f"--as-of 应为 YYYY-MM-DD，收到“{opts['as_of']}”") from None
        if not datetime.date(2000, 1, 1) <= as_of <= timezone.localdate() + datetime.timedelta(days=366):
            raise CommandError(f"--as-of {as_of} 超出范围（2000-01-01 至一年后）")
        plan = None
        if opts["plan"]:
            plan = Plan.objects.filter(code=opts["plan"]).first()
            if plan is None:
                raise CommandError(f"没有代码为“{opts['plan']}”的规划")
        # --no-notify: the flags that open or get worse are written as notified
        result = evaluate(as_of, plan=plan, refresh=opts["refresh"], mark_notified=opts["no_notify"])
        indicators = evaluate_indicators(
            None if plan is None else plan.indicators.values_list("pk", flat=True), as_of=as_of)
        if not opts["no_notify"]:
            notify_flag_changes(result.to_notify)
            notify_indicator_changes(indicators.to_notify)
        else:  # not sent now, and not owed: the nightly run sends alerts still owed (portfolio/outbox.py)
            IndicatorStatus.objects.filter(pk__in=indicators.to_notify or []).update(notified_light=F("light"))
        counts = {(r["kind"], r["severity"]): r["n"] for r in Flag.objects.filter(resolved_on__isnull=True)
                  .values("kind", "severity").annotate(n=Count("pk"))}
        for rule in RULES:
            for severity in ("red", "yellow", "info"):
                if counts.get((rule.code, severity)):
                    self.stdout.write(f"{rule.code} {severity} {counts[(rule.code, severity)]}")
        self.stdout.write(f"opened {result.opened} updated {result.updated} resolved {result.resolved} "
                          f"figures {result.figures_written}")
        if indicators.created or indicators.updated:
            self.stdout.write(f"indicator statuses created {indicators.created} updated {indicators.updated}")
