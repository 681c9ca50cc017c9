"""An entry's audit trail: django-simple-history records of the entry, its unit links,
targets, milestones and reports, newest first, as (who, when, what, before → after)."""
from decimal import Decimal

from projects.models import Item, ItemUnit
from reporting.models import AnnualTarget, Milestone, StatusReport

ACTIONS = {"+": "新增", "~": "修改", "-": "删除"}


def _label(record, model):
    if model is Item:
        return "事项"
    if model is ItemUnit:
        return f"责任单位 {record.unit.name if record.unit_id else ''}"
    if model is AnnualTarget:
        return f"{record.year} 年度计划"
    if model is Milestone:
        return f"节点“{record.name}”"
    return f"{record.month:%Y-%m} 进度报告（第 {record.version} 版）"


def _display(model, field, value):
    f = model._meta.get_field(field)
    if getattr(f, "choices", None):
        return dict(f.choices).get(value, value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


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
                    delta = record.diff_against(previous, excluded_fields=["updated_at", "version", "source_line"],
                                                foreign_keys_are_objs=True)
                    for change in delta.changes:
                        name = model._meta.get_field(change.field).verbose_name
                        changes.append({"field": name, "old": _display(model, change.field, change.old),
                                        "new": _display(model, change.field, change.new)})
            entries.append({
                "when": record.history_date, "who": record.history_user,
                "what": _label(record, model), "action": ACTIONS.get(record.history_type, ""),
                "changes": changes,
            })
    entries.sort(key=lambda e: e["when"], reverse=True)
    return entries[:limit]
