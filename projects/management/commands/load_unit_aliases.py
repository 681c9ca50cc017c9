import csv

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from projects.importer import normalise_unit_name
from projects.models import Unit, UnitAlias


class Command(BaseCommand):
    help = "载入单位别名（CSV：别名,规范名称），导入时据此合并名称变体。"

    def add_arguments(self, parser):
        parser.add_argument("file")

    @transaction.atomic
    def handle(self, *args, **opts):
        created = 0
        with open(opts["file"], encoding="utf-8-sig", newline="") as fh:
            for n, row in enumerate(csv.reader(fh), start=1):
                if not row or row[0].startswith("#") or row[0] == "别名":
                    continue
                if len(row) != 2:
                    raise CommandError(f"{opts['file']} 第 {n} 行: 应为“别名,规范名称”两列")
                alias, canonical = normalise_unit_name(row[0]), normalise_unit_name(row[1])
                unit, _ = Unit.objects.get_or_create(name=canonical)
                _, made = UnitAlias.objects.update_or_create(name=alias, defaults={"unit": unit})
                created += made
        self.stdout.write(f"单位别名：新增 {created} 条")
