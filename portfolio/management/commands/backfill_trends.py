import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from projects.models import Plan, PlanState

from portfolio.trends import backfill


class Command(BaseCommand):
    help = ("按月报补算规划各月末数据（趋势图所用：红黄绿灯、年度投资完成、按期报送）：只写尚无数据的月份，"
            "已有月份保留。")

    def add_arguments(self, parser):
        parser.add_argument("--plan", action="append", default=[], help="规划代码，例如 ojk-14（可重复）")
        parser.add_argument("--all", action="store_true", help="所有执行中的规划")
        parser.add_argument("--as-of", help="补算到此日期之前结束的月份 YYYY-MM-DD（默认今天）")

    def handle(self, *args, **opts):
        if not opts["plan"] and not opts["all"]:
            raise CommandError("请用 --plan 指定规划代码，或用 --all 补算所有执行中的规划。")
        plans = list(Plan.objects.filter(code__in=opts["plan"]))
        unknown = sorted(set(opts["plan"]) - {p.code for p in plans})
        if unknown:
            raise CommandError(f"没有代码为“{'、'.join(unknown)}”的规划。")
        if opts["all"]:
            plans += list(Plan.objects.filter(state=PlanState.ACTIVE).exclude(pk__in=[p.pk for p in plans]))
        try:
            as_of = datetime.date.fromisoformat(opts["as_of"]) if opts["as_of"] else timezone.localdate()
        except ValueError:
            raise CommandError(f"--as-of “{opts['as_of']}” 格式不正确，应为 YYYY-MM-DD。") from None
        names = "、".join(p.name for p in plans[:3]) + (f" 等 {len(plans)} 个规划" if len(plans) > 3 else "")
        months = backfill(plans, as_of)
        if months:
            self.stdout.write(f"{names}：已按月报写入 {months} 个规划月的月末数据（截至 {as_of:%Y-%m-%d} 前结束、尚无数据的月份）。")
        else:
            self.stdout.write(f"{names}：截至 {as_of:%Y-%m-%d} 前结束的月份都已有月末数据（或尚无结束的月份），未写入。")
