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

    def has_perm(self, perm, obj=None):
        return True


class Command(BaseCommand):
    help = ("按清单附件版式导出汇总：XLSX；或 CSV——输出文件以 .zip 结尾时为每个工作表一个 CSV 的 zip，"
            "否则为一个 CSV（各工作表依次排列，每块以表名开头）。")

    def add_arguments(self, parser):
        parser.add_argument("--plan", required=True)
        parser.add_argument("--format", choices=["xlsx", "csv"], required=True)
        parser.add_argument("--output", required=True, help="输出文件；--format csv 时以 .zip 结尾则写 zip")
        parser.add_argument("--as-of", help="YYYY-MM-DD（默认今天）")

    def handle(self, *args, **opts):
        plan = Plan.objects.filter(code=opts["plan"]).first()
        if plan is None:
            raise CommandError(f"没有代码为“{opts['plan']}”的规划")
        try:
            as_of = datetime.date.fromisoformat(opts["as_of"]) if opts["as_of"] else timezone.localdate()
        except ValueError:
            raise CommandError(f"--as-of 应为 YYYY-MM-DD，收到“{opts['as_of']}”") from None
        fmt = opts["format"]
        if fmt == "csv" and opts["output"].lower().endswith(".zip"):
            fmt = "zip"
        with open(opts["output"], "wb") as fh:
            write_rollup(plan, _Everything(), fmt, as_of, fh)
        self.stdout.write(f"已导出 {plan.name} 汇总（截至 {as_of}）到 {opts['output']}")
