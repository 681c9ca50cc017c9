import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from projects.models import Plan, PlanState

from portfolio.lifecycle import close_plan, reopen_plan
from portfolio.models import ItemFigures


class Command(BaseCommand):
    help = "规划收官：按指定日期评估并保存各事项的灯色和预警，标记为已收官（--reopen 重新开启）。"

    def add_arguments(self, parser):
        parser.add_argument("--plan", required=True, help="规划代码，例如 ojk-14")
        parser.add_argument("--as-of", help="收官评估日期 YYYY-MM-DD（默认规划期最后一天）")
        parser.add_argument("--reopen", action="store_true", help="重新开启已收官的规划")
        parser.add_argument("--reason", default="", help="重新开启的原因（记入历史）")
        parser.add_argument("--unless-succeeded", action="store_true",
                            help="已收官或已有下一期规划时不做改动（供启动脚本重复运行）")

    def handle(self, *args, **opts):
        plan = Plan.objects.filter(code=opts["plan"]).first()
        if plan is None:
            raise CommandError(f"没有代码为“{opts['plan']}”的规划。")
        if opts["unless_succeeded"] and (plan.is_closed or plan.successors.exists()):
            state = f"已于 {plan.closed_on:%Y-%m-%d} 收官" if plan.is_closed else "已有下一期规划"
            self.stdout.write(f"{plan.name} {state}，未作改动。")
            return
        if opts["reopen"]:
            if plan.state != PlanState.CLOSED:
                raise CommandError(f"{plan.name} 未收官，无需重新开启。")
            reopen_plan(plan, reason=opts["reason"][:100])
            self.stdout.write(f"{plan.name} 已重新开启（执行中）。")
            return
        try:
            as_of = datetime.date.fromisoformat(opts["as_of"]) if opts["as_of"] else datetime.date(plan.end_year, 12, 31)
        except ValueError:
            raise CommandError(f"--as-of “{opts['as_of']}” 格式不正确，应为 YYYY-MM-DD。") from None
        if not datetime.date(plan.start_year, 1, 1) <= as_of <= datetime.date(plan.end_year + 5, 12, 31):
            raise CommandError(f"--as-of {as_of} 应在 {plan.start_year}-01-01 至 {plan.end_year + 5}-12-31 之间。")
        result = close_plan(plan, as_of)
        lights = dict(ItemFigures.objects.filter(item__plan=plan).order_by().values("light")
                      .annotate(n=Count("pk")).values_list("light", "n"))
        self.stdout.write(f"{plan.name} 已收官，评估日期 {as_of:%Y-%m-%d}：红灯 {lights.get('red', 0)}，"
                          f"黄灯 {lights.get('yellow', 0)}，绿灯 {lights.get('green', 0)}，已完成 {lights.get('done', 0)}；"
                          f"预警新增 {result.opened}，变化 {result.updated}，解除 {result.resolved}。")
