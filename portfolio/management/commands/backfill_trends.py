import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from projects.models import Plan

from portfolio.trends import backfill


class Command(BaseCommand):
    help = "按月报补算规划各月末数据（趋势图所用：红黄绿灯、年度投资完成、按期报送），已有的月份重写。"

    def add_arguments(self, parser):
        parser.add_argument("--plan", required=True, help="规划代码，例如 ojk-14")
        parser.add_argument("--as-of", help="补算到此日期之前结束的月份 YYYY-MM-DD（默认今天）")

    def handle(self, *args, **opts):
        plan = Plan.objects.filter(code=opts["plan"]).first()
        if plan is None:
            raise CommandError(f"没有代码为“{opts['plan']}”的规划。")
        try:
            as_of = datetime.date.fromisoformat(opts["as_of"]) if opts["as_of"] else timezone.localdate()
        except ValueError:
            raise CommandError(f"--as-of “{opts['as_of']}” 格式不正确，应为 YYYY-MM-DD。") from None
        months = backfill(plan, as_of)
        if months:
            self.stdout.write(f"{plan.name}：已按月报写入 {months} 个月的月末数据（截至 {as_of:%Y-%m-%d} 前结束的月份）。")
        else:
            self.stdout.write(f"{plan.name}：截至 {as_of:%Y-%m-%d} 尚无结束的月份（自填报开始月起），未写入。")
