import time

from django.core.management.base import BaseCommand

from portfolio.synthetic import generate


class Command(BaseCommand):
    help = "写入合成数据（规划代码 syn-NNNN，名称含“合成”）：每个规划 200 项、每项 24 个月填报，50 个问题、20 张督办单。"

    def add_arguments(self, parser):
        parser.add_argument("--plans", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--units", type=int, default=600, help="跨规划共享的单位数")

    def handle(self, *args, **opts):
        started = time.monotonic()
        counts = generate(opts["plans"], seed=opts["seed"], units=opts["units"], log=self.stdout.write)
        self.stdout.write(
            f"合成数据：{counts['plans']} 个规划，{counts['items']} 项，{counts['reports']} 条填报，"
            f"{counts['milestones']} 个节点，{counts['targets']} 条年度计划，{counts['units']} 个单位，"
            f"{counts['problems']} 个问题，{counts['orders']} 张督办单；"
            f"用时 {time.monotonic() - started:.1f} 秒"
        )
