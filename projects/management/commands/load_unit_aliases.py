import csv

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from projects.changes import entries_changed
from projects.importer import normalise_unit_name
from projects.models import ItemUnit, Unit, UnitAlias


def merge_unit(duplicate: Unit, unit: Unit) -> int:
    """Move a duplicate unit's entry links and members to `unit` and delete it; an entry linked
    to both keeps one link (lead if either was). Returns the number of entries touched."""
    touched = set()
    for link in ItemUnit.objects.filter(unit=duplicate).select_related("item"):
        touched.add(link.item_id)
        kept = ItemUnit.objects.filter(item_id=link.item_id, unit=unit).first()
        if kept is None:
            link.unit = unit
            link.save(update_fields=["unit"])
            continue
        if link.role == ItemUnit.Role.LEAD and kept.role != ItemUnit.Role.LEAD:
            kept.role = ItemUnit.Role.LEAD
            kept.save(update_fields=["role"])
        link.delete()
    unit.members.add(*duplicate.members.all())
    UnitAlias.objects.filter(unit=duplicate).update(unit=unit)
    duplicate.delete()
    entries_changed(touched)
    return len(touched)


class Command(BaseCommand):
    help = "载入单位别名（CSV：别名,规范名称），导入时据此合并名称变体；库中已有的同名重复单位并入规范单位。"

    def add_arguments(self, parser):
        parser.add_argument("file")

    @transaction.atomic
    def handle(self, *args, **opts):
        created = merged = 0
        with open(opts["file"], encoding="utf-8-sig", newline="") as fh:
            for n, row in enumerate(csv.reader(fh), start=1):
                if not row or row[0].startswith("#") or row[0] == "别名":
                    continue
                if len(row) != 2:
                    raise CommandError(f"{opts['file']} 第 {n} 行: 应为“别名,规范名称”两列")
                alias, canonical = normalise_unit_name(row[0]), normalise_unit_name(row[1])
                unit, _ = Unit.objects.get_or_create(name=canonical)
                duplicate = Unit.objects.filter(name=alias).exclude(pk=unit.pk).first()
                if duplicate is not None:
                    merge_unit(duplicate, unit)
                    merged += 1
                _, made = UnitAlias.objects.update_or_create(name=alias, defaults={"unit": unit})
                created += made
        self.stdout.write(f"单位别名：新增 {created} 条" + (f"，合并重复单位 {merged} 个" if merged else ""))
