import datetime

from django.contrib.auth.models import AnonymousUser
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from portfolio.rollup import write_rollup
from projects.models import Plan


class _Everything(AnonymousUser):
    """The command runs with the planning office's view: every entry."""
    is_authenticated = True
    is_superuser = True


class Command(BaseCommand):
    help = "按清单附件版式导出汇总（XLSX，或每个工作表一个 CSV 的 zip）。"

    def add_arguments(self, parser):
        parser.add_argument("--plan", required=True)
        parser.add_argument("--format", choices=["xlsx", "csv"], required=True)
        parser.add_argument("--output", required=True)
        parser.add_argument("--as-of", help="YYYY-MM-DD（默认今天）")

    def handle(self, *args, **opts):
        plan = Plan.objects.filter(code=opts["plan"]).first()
        if plan is None:
            raise CommandError(f"没有代码为“{opts['plan']}”的规划")
        try:
            as_of = datetime.date.fromisoformat(opts["as_of"]) if opts["as_of"] else timezone.localdate()
        except ValueError:
            raise CommandError(f"--as-of 应为 YYYY-MM-DD，收到“{opts['as_of']}”") from None
        with open(opts["output"], "wb") as fh:
            write_rollup(plan, _Everything(), opts["format"], as_of, fh)
        self.stdout.write(f"已导出 {plan.name} 汇总（截至 {as_of}）到 {opts['output']}")
