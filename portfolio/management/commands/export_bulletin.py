import datetime

from django.core.management.base import BaseCommand, CommandError

from portfolio.bulletin import bulletin_date, write_bulletin
from projects.models import Organisation, Plan, acting_for

from .export_rollup import _Everything


class Command(BaseCommand):
    help = "导出某规划某月的推进情况通报（Word 文档，A4 纵向），数字与驾驶舱一致（规划处视角：全部事项）。"

    def add_arguments(self, parser):
        parser.add_argument("--plan", help="规划代码；与 --org 二选一")
        parser.add_argument("--org", help="组织代码：该组织及其下级执行中的全部规划合并通报")
        parser.add_argument("--month", required=True, help="YYYY-MM：通报的月份（1–N 月累计至该月）")
        parser.add_argument("--output", required=True, help="输出文件（.docx）")
        parser.add_argument("--as-of", help="YYYY-MM-DD：数据截至日期（默认该月报送截止日次日，不晚于今天）")

    def handle(self, *args, **opts):
        user, organisation, plan = _Everything(), None, None
        if bool(opts.get("plan")) == bool(opts.get("org")):
            raise CommandError("请用 --plan 指定规划，或用 --org 指定组织（二选一）。")
        if opts.get("org"):
            organisation = Organisation.objects.filter(code=opts["org"]).first()
            if organisation is None:
                raise CommandError(f"没有代码为“{opts['org']}”的组织")
            user = acting_for(user, organisation)
        else:
            plan = Plan.objects.filter(code=opts["plan"]).first()
            if plan is None:
                raise CommandError(f"没有代码为“{opts['plan']}”的规划")
        raw = opts["month"]
        try:
            month = datetime.date.fromisoformat(raw + "-01") if len(raw) == 7 else None
        except ValueError:
            month = None
        if month is None:
            raise CommandError(f"--month 应为 YYYY-MM，收到“{raw}”")
        try:
            as_of = datetime.date.fromisoformat(opts["as_of"]) if opts["as_of"] else bulletin_date(month)
        except ValueError:
            raise CommandError(f"--as-of 应为 YYYY-MM-DD，收到“{opts['as_of']}”") from None
        if as_of < month:
            raise CommandError(f"--as-of {as_of} 早于通报月份 {raw}")
        with open(opts["output"], "wb") as fh:
            write_bulletin(plan, user, month, fh, as_of, title=organisation.name if organisation else None)
        name = plan.name if plan is not None else organisation.name
        self.stdout.write(f"已导出 {name} {month.year}年{month.month}月通报（截至 {as_of}）到 {opts['output']}")
