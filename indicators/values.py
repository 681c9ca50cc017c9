"""Yearly actual values of plan indicators: entered by form or by an XLSX template (prefilled
download, upload all or nothing), through the shared validation path (projects/validation.py).

Who may enter what: `Indicator.objects.editable_by(user)` — planners every indicator, a unit
user those its units are responsible for. A blank value removes that year's value.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from indicators.models import Indicator, IndicatorValue, TableKind
from projects.models import Plan
from projects.validation import (
    ImportFailed, cell_error, check_length, halfwidth, parse_cells, parse_id, parse_number, parse_year, read_rows,
)

TEMPLATE_HEADER = ["指标编号", "规划代码", "指标表", "序号", "指标名称", "单位", "年度", "实际值", "数据来源说明"]
TEMPLATE_NOTE = ("填写说明：只修改“实际值”和“数据来源说明”两列；实际值为数字（可带 %），留空表示该年无数据"
                 "（已有的值将删除）。整个文件全部校验通过才会保存。")
VALUE_LIMIT = Decimal("1e12")


def parse_actual(raw) -> Decimal | None:
    """An actual value: a number, '89.01%' as 89.01; '' (or —) is no value."""
    text = halfwidth(str(raw or "")).replace("％", "%").strip()
    if text in ("", "—", "-", "/"):
        return None
    if text.endswith("%"):
        text = text[:-1]
    return parse_number(text, low=-VALUE_LIMIT, high=VALUE_LIMIT, places=6, label="实际值")


def monitored_indicators(plan: Plan):
    """The indicators whose yearly values are entered: the plan's targets tables."""
    return Indicator.objects.filter(plan=plan, table__kind=TableKind.TARGETS) \
        .select_related("table").order_by("table__order", "order")


def check_year(year: int, plan: Plan) -> int:
    if not plan.start_year <= year <= plan.end_year:
        raise ValueError(f"年度应在规划期 {plan.start_year}—{plan.end_year} 年之内")
    return year


@dataclass
class SaveResult:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0

    def message(self, year):
        return (f"{year} 年实际值已保存：新增 {self.created}，修改 {self.updated}，删除 {self.deleted}，"
                f"未变 {self.unchanged}。指标状态已重新评价。")


def save_values(changes, user, source) -> SaveResult:
    """changes: [(indicator, year, value or None, note)]; one transaction, rows that differ only."""
    result = SaveResult()
    with transaction.atomic():
        current = {(v.indicator_id, v.year): v for v in IndicatorValue.objects.select_for_update().filter(
            indicator_id__in={c[0].pk for c in changes}, year__in={c[1] for c in changes})}
        for indicator, year, value, note in changes:
            row = current.get((indicator.pk, year))
            if value is None:
                if row is not None:
                    row.delete()
                    result.deleted += 1
                else:
                    result.unchanged += 1
            elif row is None:
                IndicatorValue.objects.create(indicator=indicator, year=year, value=value, note=note,
                                              source=source, entered_by=user)
                result.created += 1
            elif row.value != value or row.note != note:
                row.value, row.note, row.source, row.entered_by = value, note, source, user
                row.save()
                result.updated += 1
            else:
                result.unchanged += 1
    return result


# ---------------------------------------------------------------- the XLSX template

def values_template(indicators, plan: Plan, year: int) -> bytes:
    """The year's template for the given indicators, prefilled with their current values."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill, Protection

    current = {v.indicator_id: v for v in IndicatorValue.objects.filter(indicator__in=indicators, year=year)}
    book = Workbook()
    sheet = book.active
    sheet.title = f"{year}年实际值"
    sheet.append(TEMPLATE_HEADER)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    editable = PatternFill("solid", fgColor="FFF2CC")
    for ind in indicators:
        row = current.get(ind.pk)
        values = [ind.pk, plan.code, ind.table.title, ind.seq, ind.full_name, ind.unit, year,
                  row.value if row else None, row.note if row else ""]
        sheet.append(values)
        r = sheet.max_row
        for col in (2, 3, 4, 5, 6, 9):
            cell = sheet.cell(r, col)
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text stays text, never a formula
        for col in (8, 9):
            sheet.cell(r, col).fill = editable
            sheet.cell(r, col).protection = Protection(locked=False)
    sheet.append([])
    note = sheet.cell(sheet.max_row + 1, 1, TEMPLATE_NOTE)
    note.data_type = "s"
    for letter, width in zip("ABCDEFGHI", (10, 12, 30, 6, 40, 12, 8, 14, 30)):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = "9"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def import_values(fileobj, filename: str, user, allowed) -> SaveResult:
    """An uploaded template: every row checked, then all saved or none. `allowed` is the
    queryset of indicators the user may enter values for."""
    rows = read_rows(fileobj, filename)
    width = len(TEMPLATE_HEADER)
    if not rows or [c.strip() for c in (rows[0].cells + [""] * width)[:width]] != TEMPLATE_HEADER:
        raise ImportFailed([f"{filename} 第 1 行: 表头应为 {'、'.join(TEMPLATE_HEADER)}"])
    ids = set()
    for row in rows[1:]:
        number = parse_id(halfwidth(str((row.cells or [""])[0])))
        if number is not None:
            ids.add(number)
    allowed = {i.pk: i for i in allowed.filter(pk__in=ids).select_related("plan")}
    errors, changes, seen = [], [], set()
    for row in rows[1:]:
        cells = [str(c or "").strip() for c in (row.cells + [""] * width)[:width]]
        if not any(cells) or cells[0].startswith("填写说明"):
            continue

        def error(column, raw, reason):
            errors.append(cell_error(filename, row.where, column, raw, reason))

        raw_id, raw_year, raw_value, note = cells[0], cells[6], cells[7], cells[8]
        indicator = allowed.get(parse_id(halfwidth(raw_id)))
        if indicator is None:
            error("指标编号", raw_id, "没有这个指标，或您无权填报该指标")
            continue
        checked = parse_cells([
            ("年度", raw_year, lambda v: check_year(parse_year(v), indicator.plan)),
            ("实际值", raw_value, parse_actual),
            ("数据来源说明", note, lambda v: check_length(v, IndicatorValue, "note"))], error)
        if checked is None:
            continue
        key = (indicator.pk, checked["年度"])
        if key in seen:
            error("指标编号", raw_id, f"同一指标 {checked['年度']} 年重复填报")
            continue
        seen.add(key)
        changes.append((indicator, checked["年度"], checked["实际值"], checked["数据来源说明"]))
    if errors:
        raise ImportFailed(errors)
    if not changes:
        raise ImportFailed([f"{filename}: 没有任何指标行"])
    return save_values(changes, user, IndicatorValue.Source.UPLOAD)
