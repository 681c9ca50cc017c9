"""Monthly reports in Excel: the columns of the month template, and the upload.

The template (written by reporting/report_templates.py) holds one row per entry with a hidden
key — entry id, month, the report's version when the template was made — last month's figures
for reference, and the cells to fill. The upload reads it through the shared validation path
(projects/validation.py) and checks every filled row with the report form itself
(StatusReportForm): one rule set for the web form and the file. All rows are saved or none.
"""
from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from django.db import transaction

from projects.lifecycle import frozen_reason
from projects.models import Item, ItemStatus, ListKind
from projects.validation import ImportFailed, cell_error, read_rows
from reporting.forms import ReportConflict, StatusReportForm, save_report
from reporting.models import StatusReport

KEY = "键"
# (form field or role, header); the order of the template's columns.
COLUMNS = [
    ("key", KEY),
    ("plan", "规划"),
    ("list_kind", "清单"),
    ("seq", "序号"),
    ("name", "名称"),
    ("owes", "本月应报"),
    ("ref_cumulative", "上月累计完成投资（亿元，参考）"),
    ("ref_progress", "上月进展（参考）"),
    ("status", "状态"),
    ("progress_pct", "形象进度/完成度（%）"),
    ("month_investment", "本月完成投资（亿元）"),
    ("cumulative_investment", "累计完成投资（亿元）"),
    ("progress_text", "进展情况/工作进展"),
    ("problems", "存在问题"),
    ("next_steps", "下步计划"),
]
HEADERS = [label for _, label in COLUMNS]
INDEX = {name: i for i, (name, _) in enumerate(COLUMNS)}
# Templates downloaded before the 规划 and 本月应报 reference columns existed are still read.
ADDED = ("plan", "owes")
LEGACY_HEADERS = [label for name, label in COLUMNS if name not in ADDED]
FILLED = ["progress_pct", "month_investment", "cumulative_investment", "progress_text", "problems", "next_steps"]
MONEY = ("month_investment", "cumulative_investment")
STATUS_BY_LABEL = {label: value for value, label in ItemStatus.choices}
KEY_PATTERN = re.compile(r"^(\d{1,10}):(\d{4}-\d{2}):(\d{1,6})$")
HEADER_ROWS = 2  # a title row, then the header row


def row_key(item_id, month: datetime.date, version: int) -> str:
    return f"{item_id}:{month:%Y-%m}:{version}"


@dataclass
class ReportImport:
    saved: list = field(default_factory=list)  # (item, report)
    saved_rows: list = field(default_factory=list)  # (where in the file, item, report), in file order
    unchanged: int = 0
    blank: int = 0
    dry_run: bool = False

    def summary(self) -> str:
        verb = "可保存" if self.dry_run else "已保存"
        months = sorted({f"{report.month:%Y年%m月}" for _, report in self.saved})
        return (f"{verb} {len(self.saved)} 条进度{'（' + '、'.join(months) + '）' if months else ''}；"
                f"未改动 {self.unchanged} 条，未填写 {self.blank} 条。")


def _header_row(rows, filename):
    """(index of the header row, whether the file has the legacy layout)."""
    for index, row in enumerate(rows[:5]):
        if row.cells and row.cells[0].strip() == KEY:
            found = [c.strip() for c in (row.cells + [""] * len(HEADERS))[:len(HEADERS)]]
            if found[:len(LEGACY_HEADERS)] == LEGACY_HEADERS and not any(found[len(LEGACY_HEADERS):]):
                return index, True
            if found != HEADERS:
                raise ImportFailed([f"{filename} {row.where}: 表头应为 {'、'.join(HEADERS)}，请使用下载的模板"])
            return index, False
    raise ImportFailed([f"{filename}: 没有找到表头（第一列为“{KEY}”），请使用下载的模板"])


def _unchanged(report, form):
    return report is not None and all(getattr(report, name) == form.cleaned_data[name] for name in form.report_fields)


def import_reports(fileobj, filename, user, dry_run=False) -> ReportImport:
    """Check every row, then save all of them in one transaction; raises ImportFailed listing
    every bad row (nothing written). `user` files the reports and bounds the entries (None: a
    planner's command, every entry)."""
    rows = read_rows(fileobj, filename)
    header, legacy = _header_row(rows, filename)
    start = header + 1
    items = Item.objects.all() if user is None else Item.objects.editable_by(user)
    keyed, errors, result = [], [], ReportImport(dry_run=dry_run)
    for row in rows[start:]:
        cells = [c.strip() for c in (row.cells + [""] * len(HEADERS))[:len(HEADERS)]]
        if legacy:
            for name in ADDED:
                cells.insert(INDEX[name], "")
            cells = cells[:len(HEADERS)]
        if not any(cells[INDEX[name]] for name in FILLED):
            result.blank += any(cells)
            continue
        match = KEY_PATTERN.match(cells[0])
        if not match:
            errors.append(cell_error(filename, row.where, KEY, cells[0], "没有有效的键，无法识别事项（请勿增删行或改动第一列）"))
            continue
        keyed.append((row, cells, int(match.group(1)), match.group(2), int(match.group(3))))
    found = items.select_related("plan").in_bulk([item_id for _, _, item_id, _, _ in keyed])
    forms, seen = [], set()
    for row, cells, item_id, month, version in keyed:
        def error(name, reason):
            errors.append(cell_error(filename, row.where, HEADERS[INDEX[name]], cells[INDEX[name]], reason))

        item = found.get(item_id)
        if item is None:
            error("key", "没有这个事项，或您无权填报")
            continue
        frozen = frozen_reason(item.plan)
        if frozen:
            error("key", frozen.rstrip("。"))
            continue
        if (item_id, month) in seen:
            error("key", "同一事项同一月份重复")
            continue
        seen.add((item_id, month))
        status = cells[INDEX["status"]]
        data = {"month": month, "version": version, "status": STATUS_BY_LABEL.get(status, item.status if not status else "")}
        if status and status not in STATUS_BY_LABEL:
            error("status", f"应为 {'、'.join(STATUS_BY_LABEL)}")
            continue
        if item.list_kind != ListKind.PROJECT:
            money = [name for name in MONEY if cells[INDEX[name]]]
            for name in money:
                error(name, f"{item.get_list_kind_display()}不填报投资")
            if money:
                continue
        data.update({name: cells[INDEX[name]] for name in FILLED})
        form = StatusReportForm(data, item=item)
        if not form.is_valid():
            for name, messages in form.errors.items():
                column = name if name in INDEX else "key" if name in ("month", "version") else "progress_text"
                for message in messages:
                    error(column, message.rstrip("。"))
            continue
        forms.append((row, item, form))
    if errors:
        raise ImportFailed(errors)
    current = {(r.item_id, r.month): r for r in StatusReport.objects.filter(
        item__in=[item for _, item, _ in forms], month__in={f.cleaned_data["month"] for _, _, f in forms})}
    with transaction.atomic():
        for row, item, form in forms:
            report = current.get((item.pk, form.cleaned_data["month"]))
            if _unchanged(report, form):  # the same file uploaded twice adds no version
                result.unchanged += 1
                continue
            try:
                report = save_report(form, item, user)
                result.saved.append((item, report))
                result.saved_rows.append((row.where, item, report))
            except ReportConflict as conflict:
                other = conflict.args[0]
                errors.append(cell_error(filename, row.where, KEY, row.cells[0],
                                         f"该月报告在下载模板后已被修改（现为第 {other.version if other else 1} 版），"
                                         f"请重新下载模板"))
        if errors:
            raise ImportFailed(errors)  # leaving the block by an exception rolls every row back
        if dry_run:
            transaction.set_rollback(True)
    return result
