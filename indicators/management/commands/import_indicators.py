from django.core.management.base import BaseCommand, CommandError

from indicators.importer import import_indicators
from projects.organisations import organisation_by_code
from projects.changes import check_follow_up, follow_up_failures
from projects.validation import ImportFailed


class Command(BaseCommand):
    help = "导入规划的指标体系（规划文本、CSV 或 XLSX）：每张指标表一行汇总；全部校验通过才写入，重复导入不改变数据。"

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--plan", required=True, help="规划代码，例如 ojk-14；不存在时按文本中的规划期新建")
        parser.add_argument("--name", help="规划名称（新建时默认取自文本标题）")
        parser.add_argument("--org", help="规划所属组织的代码（见 load_organisations），例如 ojk；库中只有一个顶级组织时可省略")
        parser.add_argument("--dry-run", action="store_true", help="只校验并打印汇总，不写入")

    def handle(self, *args, **opts):
        organisation = None
        if opts.get("org"):
            try:
                organisation = organisation_by_code(opts["org"])
            except ValueError as exc:
                raise CommandError(f"--org：{exc}") from None
        failures = follow_up_failures()
        try:
            report = import_indicators(opts["file"], opts["plan"], name=opts.get("name"), dry_run=opts["dry_run"],
                                 organisation=organisation)
        except ImportFailed as exc:
            for line in exc.errors:
                self.stderr.write(line)
            raise CommandError(f"导入失败：{len(exc.errors)} 处错误，未写入任何数据。")
        for line in report.lines():
            self.stdout.write(line)
        check_follow_up(self, failures)
