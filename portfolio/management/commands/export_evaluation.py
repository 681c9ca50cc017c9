from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from projects.models import Plan

from portfolio.plan_review import review_heading, write_review


class Command(BaseCommand):
    help = "导出规划的后评估（按清单、类别、项目类型、牵头单位；转入下一期；收官红灯；百亿工程）。"

    def add_arguments(self, parser):
        parser.add_argument("--plan", required=True, help="规划代码，例如 ojk-14")
        parser.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
        parser.add_argument("--output", required=True, help="输出文件")
        parser.add_argument("--user", help="按此用户的可见范围导出（默认全部，规划人员视角）")

    def handle(self, *args, **opts):
        plan = Plan.objects.filter(code=opts["plan"]).first()
        if plan is None:
            raise CommandError(f"没有代码为“{opts['plan']}”的规划。")
        user = None
        if opts.get("user"):
            user = get_user_model().objects.filter(username=opts["user"]).first()
            if user is None:
                raise CommandError(f"没有用户“{opts['user']}”。")
        else:
            user = _Everyone()
        target = Path(opts["output"])
        with target.open("wb") as out:
            write_review(plan, user, opts["format"], out)
        self.stdout.write(f"已导出 {plan.name} 后评估（{review_heading(plan)}）→ {target}")


class _Everyone:
    """The command line reads as a planner when no user is named and there is no superuser."""

    is_authenticated = True
    is_superuser = True
    is_active = True
    pk = None

    def has_perm(self, perm, obj=None):
        return True  # the planning office's view: every permission
