import io

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from indicators.views import indicator_sections, write_monitoring_csv, write_monitoring_xlsx
from indicators.evaluation import midterm_year
from projects.models import Plan


class Command(BaseCommand):
    help = "导出规划指标的年度监测表（XLSX 或 CSV，按规划原表格式，含该年实际值和状态）。"

    def add_arguments(self, parser):
        parser.add_argument("--plan", required=True, help="规划代码")
        parser.add_argument("--year", type=int, help="监测年度（默认中期评估年份，即规划期第三年）")
        parser.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
        parser.add_argument("--output", required=True, help="输出文件")
        parser.add_argument("--user", help="按该用户的权限范围导出（默认全部指标）")

    def handle(self, *args, **opts):
        plan = Plan.objects.filter(code=opts["plan"]).first()
        if plan is None:
            raise CommandError(f"没有代码为“{opts['plan']}”的规划")
        year = opts["year"] or midterm_year(plan)
        if not plan.start_year - 5 <= year <= plan.end_year:
            raise CommandError(f"--year 应在 {plan.start_year - 5}—{plan.end_year} 年之间")
        if opts["user"]:
            user = get_user_model().objects.filter(username=opts["user"]).first()
            if user is None:
                raise CommandError(f"没有用户“{opts['user']}”")
        else:
            user = get_user_model()(is_superuser=True)  # the command line reads everything
        _, sections = indicator_sections(user, plan, year)
        if opts["format"] == "csv":
            out = io.StringIO()
            out.write("\ufeff")
            write_monitoring_csv(plan, year, sections, out)
            with open(opts["output"], "w", encoding="utf-8", newline="") as fh:
                fh.write(out.getvalue())
        else:
            with open(opts["output"], "wb") as fh:
                write_monitoring_xlsx(plan, year, sections, fh)
        count = sum(len(t.rows) for _, t in sections)
        self.stdout.write(f"已导出 {plan.code} {year} 年监测表：{len(sections)} 张表，{count} 项指标 → {opts['output']}")
