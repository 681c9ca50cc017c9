import csv
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from projects.importer import normalise_unit_name
from projects.models import Organisation, OrganisationMember, Role, Unit
from projects.organisations import load_tree

DEMO_FILE = Path(settings.BASE_DIR) / "fixtures" / "demo_users.csv"
ORG_FILE = Path(settings.BASE_DIR) / "fixtures" / "organisations.csv"


def ensure_role_groups():
    """One group per role; planners hold every permission of the tracker's models."""
    from django.contrib.auth.models import Permission

    groups = {role: Group.objects.get_or_create(name=role)[0] for role in Role.values}
    planner_perms = Permission.objects.filter(
        content_type__app_label__in=["projects", "reporting", "indicators", "supervision", "portfolio", "auth",
                                     "django_celery_beat", "django_fsm_log"]
    )
    groups[Role.PLANNER].permissions.set(planner_perms)
    return groups


class Command(BaseCommand):
    help = "创建演示用户（规划人员、领导、两个不同单位的用户），仅供本地运行。"

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(DEMO_FILE))
        parser.add_argument("--demo", "--force", dest="demo", action="store_true",
                            help="确认创建演示用户（密码公开，见 fixtures/demo_users.csv，仅供本地演示）")

    @transaction.atomic
    def handle(self, *args, **opts):
        # An explicit option, not DEBUG: the embedded default runs with DEBUG off (scripts/run.sh).
        if not opts["demo"]:
            raise CommandError("演示用户的密码是公开的，只用于本地演示：确认创建请加 --demo。")
        groups = ensure_role_groups()
        with open(opts["file"], encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        named = {(r.get("organisation") or "").strip() for r in rows} - {""}
        if named - set(Organisation.objects.filter(code__in=named).values_list("code", flat=True)) \
                and ORG_FILE.exists():  # the demo's organisations come with it (as scripts/run.sh loads them)
            load_tree(ORG_FILE)
        for row in rows:
            user, _ = User.objects.get_or_create(username=row["username"])
            user.set_password(row["password"])
            user.is_staff = row["role"] == Role.PLANNER
            user.save()
            user.groups.set([groups[row["role"]]])
            org_code = (row.get("organisation") or "").strip()
            if row["role"] in (Role.PLANNER, Role.LEADER):
                org = (Organisation.objects.filter(code=org_code).first() if org_code
                       else Organisation.objects.default_root())
                if org is None:
                    raise CommandError(f"{opts['file']}: 用户 {row['username']} 的组织“{org_code}”不存在，请先导入组织树。")
                OrganisationMember.objects.update_or_create(user=user, defaults={"organisation": org})
            names = [normalise_unit_name(n) for n in row["units"].split("|") if n.strip()]
            for name in names:
                unit = Unit.objects.filter(name=name).first()
                if unit is None:
                    raise CommandError(f"{opts['file']}: 用户 {row['username']} 的单位“{name}”不存在，请先导入规划。")
                unit.members.add(user)
            where = "、".join(names) or OrganisationMember.objects.get(user=user).organisation.name + " 及下级"
            self.stdout.write(f"  {Role(row['role']).label:<6} {row['username']:<15} 密码 {row['password']}  {where}")
