from pathlib import Path

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

from projects.changes import check_follow_up, follow_up_failures
from reporting.report_workbook import import_reports
from projects.validation import ImportFailed


class Command(BaseCommand):
    help = "导入填好的月度进度模板（XLSX）：全部行校验通过才写入，校验规则与网页填报相同。"

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--user", help="记为填报人的用户名（默认不记），并只允许该用户可填报的事项")
        parser.add_argument("--dry-run", action="store_true", help="只校验并打印汇总，不写入")

    def handle(self, *args, **opts):
        user = None
        if opts.get("user"):
            user = User.objects.filter(username=opts["user"]).first()
            if user is None:
                raise CommandError(f"没有用户“{opts['user']}”。")
        path = Path(opts["file"])
        failures = follow_up_failures()
        try:
            result = import_reports(path, path.name, user, dry_run=opts["dry_run"])
        except ImportFailed as exc:
            for line in exc.errors:
                self.stderr.write(line)
            raise CommandError(f"导入失败：{len(exc.errors)} 处错误，未写入任何数据。")
        self.stdout.write(("（试运行，未写入）" if opts["dry_run"] else "") + result.summary())
        check_follow_up(self, failures)
