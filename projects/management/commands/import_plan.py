import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from projects.organisations import organisation_by_code
from projects.changes import check_follow_up, follow_up_failures
from projects.importer import ImportFailed, import_plan
from projects.validation import parse_period


class Command(BaseCommand):
    help = "导入规划的六重清单（规划文本、CSV 或 XLSX）：全部校验通过才写入，重复导入就地更新。"

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--plan", required=True, help="规划代码，例如 ojk-14")
        parser.add_argument("--name", help="规划名称（默认取自附件标题）")
        parser.add_argument("--period", help="规划期 YYYY-YYYY（默认取自“十X五”投资列或标题）")
        parser.add_argument("--predecessor", help="上一期规划代码：按名称接续其事项，例如 ojk-14")
        parser.add_argument("--org", help="规划所属组织的代码（见 load_organisations），例如 ojk；库中只有一个顶级组织时可省略")
        parser.add_argument("--dry-run", action="store_true", help="只校验并打印汇总，不写入")
        parser.add_argument("--date", help="动态调整的日期 YYYY-MM-DD（默认今天）：新增事项自此日列入，调出事项自此日不再计入")
        parser.add_argument("--document-no", default="", help="动态调整的文号，例如 瓯管〔2027〕3号")
        parser.add_argument("--withdraw-missing", metavar="原因",
                            help="调出文件中缺少的全部事项，并记下原因（已完成、合并、取消、不具备条件或其他文字）；"
                                 "不给出时这些事项保留")

    def handle(self, *args, **opts):
        period = None
        if opts.get("period"):
            try:
                period = parse_period(opts["period"])
            except ValueError as exc:
                raise CommandError(f"--period “{opts['period']}”：{exc}") from None
            if None in period:
                raise CommandError(f"--period “{opts['period']}”：应为 YYYY-YYYY")
        adjusted_on = timezone.localdate()
        if opts.get("date"):
            try:
                adjusted_on = datetime.date.fromisoformat(opts["date"])
            except ValueError:
                raise CommandError(f"--date “{opts['date']}”：应为 YYYY-MM-DD") from None
        organisation = None
        if opts.get("org"):
            try:
                organisation = organisation_by_code(opts["org"])
            except ValueError as exc:
                raise CommandError(f"--org：{exc}") from None
        failures = follow_up_failures()
        try:
            report = import_plan(opts["file"], opts["plan"], name=opts.get("name"), dry_run=opts["dry_run"],
                                 period=period, predecessor=opts.get("predecessor"), adjusted_on=adjusted_on,
                                 withdraw=opts.get("withdraw_missing"), document_no=opts.get("document_no") or "",
                                 organisation=organisation)
        except ImportFailed as exc:
            for line in exc.errors:
                self.stderr.write(line)
            raise CommandError(f"导入失败：{len(exc.errors)} 处错误，未写入任何数据。")
        for line in report.lines():
            self.stdout.write(line)
        check_follow_up(self, failures)
