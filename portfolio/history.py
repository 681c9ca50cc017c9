"""An entry's audit trail: django-simple-history records of the entry, its unit links,
targets, milestones and reports, newest first, as (who, when, what, before → after)."""
import datetime
from decimal import Decimal

from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.utils.text import Truncator
from simple_history.models import DeletedObject

from projects.formatting import money
from projects.models import Item, ItemUnit
from reporting.models import AnnualTarget, Milestone, StatusReport

ACTIONS = {"+": "新增", "~": "修改", "-": "删除"}
EXCLUDED = ["updated_at", "version", "source_line"]  # bookkeeping, not what a person changed


def _label(record, model):
    if model is Item:
        return "事项"
    if model is ItemUnit:
        unit = _related(record, ItemUnit._meta.get_field("unit"))
        return f"责任单位 {_display(ItemUnit, 'unit', unit)}"
    if model is AnnualTarget:
        return f"{record.year} 年度计划"
    if model is Milestone:
        return f"节点“{record.name}”"
    return f"{record.month:%Y-%m} 进度报告（第 {record.version} 版）"


def _display(model, field, value):
    """A field's value as the pages show it: choices by their label, money with two decimals, a
    related row by its name (an entry with its plan's period), never a model's repr."""
    f = model._meta.get_field(field)
    if getattr(f, "choices", None):
        return dict(f.choices).get(value, value)
    if value is None:
        return ""
    if isinstance(value, DeletedObject):
        # a related row deleted since (or a link that was empty: simple-history's pk=None)
        return f"已删除的{value.model._meta.verbose_name}（编号 {value.pk}）" if value.pk is not None else ""
    if isinstance(value, Item):
        return f"{value.plan.period_name} {value.get_list_kind_display()} #{value.seq} {value.name}"
    if isinstance(value, models.Model):
        return getattr(value, "username", None) or str(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return money(value) if f.get_internal_type() == "DecimalField" and f.decimal_places == 4 else f"{value:.2f}"
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.strftime("%Y-%m-%d")
    return Truncator(str(value)).chars(80)


def _values(record, model):
    """A deleted row's fields that held something, as (label, value) changes."""
    changes = []
    for f in model._meta.concrete_fields:
        if f.name in EXCLUDED or f.primary_key or f.name == "item":
            continue
        value = getattr(record, f.name, None) if not f.is_relation else _related(record, f)
        shown = _display(model, f.name, value)
        if shown not in ("", None):
            changes.append({"field": f.verbose_name, "old": None, "new": shown})
    return changes


def _related(record, f):
    try:
        return getattr(record, f.name)
    except ObjectDoesNotExist:
        return DeletedObject(f.related_model, getattr(record, f.attname))


def item_history(item, limit=200):
    entries = []
    sources = [
        (Item, Item.history.filter(id=item.pk)),
        (ItemUnit, ItemUnit.history.filter(item_id=item.pk).select_related("unit")),
        (AnnualTarget, AnnualTarget.history.filter(item_id=item.pk)),
        (Milestone, Milestone.history.filter(item_id=item.pk)),
        (StatusReport, StatusReport.history.filter(item_id=item.pk)),
    ]
    for model, qs in sources:
        records = list(qs.select_related("history_user").order_by("-history_date")[:limit])
        for record in records:
            changes = []
            if record.history_type == "~":
                previous = record.prev_record
                if previous is not None:
                    delta = record.diff_against(previous, excluded_fields=EXCLUDED, foreign_keys_are_objs=True)
                    for change in delta.changes:
                        name = model._meta.get_field(change.field).verbose_name
                        changes.append({"field": name, "old": _display(model, change.field, change.old),
                                        "new": _display(model, change.field, change.new)})
            elif record.history_type == "-":  # what was removed, as it stood
                changes = _values(record, model)
            entries.append({
                "when": record.history_date, "who": record.history_user,
                "what": _label(record, model), "action": ACTIONS.get(record.history_type, ""),
                "changes": changes,
            })
    entries.sort(key=lambda e: e["when"], reverse=True)
    return entries[:limit]
