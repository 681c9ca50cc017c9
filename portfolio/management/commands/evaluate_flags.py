import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from portfolio.models import FlagKind, Severity
from portfolio.notifications import notify_flag_changes
from portfolio.rules import evaluate_flags, open_counts
from portfolio.snapshots import warm_dashboard
from projects.models import Plan


class Command(BaseCommand):
    help = "按指定日期评估全部预警规则（与夜间任务相同），输出每类预警的未解除数量。"

    def add_arguments(self, parser):
        parser.add_argument("--as-of", help="评估日期 YYYY-MM-DD（默认今天，Asia/Shanghai）")
        parser.add_argument("--plan", help="只评估该规划代码")
        parser.add_argument("--no-notify", action="store_true", help="不发送新增/升级预警邮件")

    def handle(self, *args, **opts):
        try:
            as_of = datetime.date.fromisoformat(opts["as_of"]) if opts["as_of"] else timezone.localdate()
        except ValueError:
            raise CommandError(f"--as-of 应为 YYYY-MM-DD，收到“{opts['as_of']}”") from None
        plan = None
        if opts["plan"]:
            plan = Plan.objects.filter(code=opts["plan"]).first()
            if plan is None:
                raise CommandError(f"没有代码为“{opts['plan']}”的规划")
        result = evaluate_flags(as_of, plan=plan)
        if not opts["no_notify"]:
            notify_flag_changes(result.to_notify)
        if plan is None:
            warm_dashboard(as_of)  # leaders' first look after the evaluation is served from storage
        counts = open_counts(plan=plan)
        for kind in FlagKind:
            for severity in Severity:
                n = counts.get((kind.value, severity.value))
                if n:
                    self.stdout.write(f"{kind.value} {severity.value} {n}")
        self.stdout.write(f"opened {result.opened} updated {result.updated} resolved {result.resolved}")
