"""Upload of annual targets (年度推进计划) from XLSX or CSV: every row checked through the shared
validation path (projects/validation.py), all or nothing."""
from django.db import transaction

from projects.lifecycle import frozen_reason
from projects.models import Item, ListKind, Plan
from projects.validation import ImportFailed, cell_error, check_length, parse_cells, parse_money, parse_seq, parse_year, read_rows
from reporting.models import AnnualTarget

HEADER = ["规划代码", "清单", "序号", "年度", "计划投资（亿元）", "年度目标"]
# Optional seventh column: the month of the year the project is planned to start (开工滞后). A file
# without it (or with another seventh column, such as the old template's names) leaves the stored
# planned start month as it is.
START_MONTH = "计划开工月份"


def parse_start_month(raw):
    """1–12, also written “6月” or “06”; blank: none."""
    text = raw.strip().removesuffix("月")
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= 12:
        raise ValueError("应为 1 至 12 的月份")
    return int(text)
LIST_BY_LABEL = {label: value for value, label in ListKind.choices}


def import_targets(fileobj, filename="targets.xlsx", plans=None):
    """Returns (created, updated, warnings); raises ImportFailed with every bad row. plans: the
    plans the uploader may change (Plan.objects.editable_by); another's code is "没有这个规划"."""
    rows = read_rows(fileobj, filename)
    if not rows or [c.strip() for c in (rows[0].cells + [""] * 6)[:len(HEADER)]] != HEADER:
        raise ImportFailed([f"{filename} 第 1 行: 表头应为 {'、'.join(HEADER)}"])
    with_start = len(rows[0].cells) > 6 and rows[0].cells[6].strip() == START_MONTH
    plans = {p.code: p for p in (Plan.objects.all() if plans is None else plans)}
    errors, warnings, parsed, seen = [], [], [], set()
    for row in rows[1:]:
        cells = [c.strip() for c in (row.cells + [""] * 7)[:7 if with_start else 6]]
        if not any(cells):
            continue
        code, kind_label, seq, year, amount, text = cells[:6]
        start = cells[6] if with_start else ""

        def error(column, raw, reason):
            errors.append(cell_error(filename, row.where, column, raw, reason))

        plan = plans.get(code)
        if plan is None:
            error("规划代码", code, "没有这个规划，或它不属于您的组织")
            continue
        if frozen_reason(plan, "target"):
            error("规划代码", code, frozen_reason(plan, "target").rstrip("。"))
            continue
        kind = LIST_BY_LABEL.get(kind_label, kind_label if kind_label in ListKind.values else None)
        if kind is None:
            error("清单", kind_label, f"应为 {'、'.join(LIST_BY_LABEL)}")
            continue
        try:
            number = parse_seq(seq)
        except ValueError as exc:
            error("序号", seq, str(exc))
            continue
        item = Item.objects.filter(plan=plan, list_kind=kind, seq=number).first()
        if item is None:
            error("序号", seq, f"{kind_label}中没有这个序号")
            continue
        checked = parse_cells([("年度", year, parse_year), ("计划投资", amount, lambda v: parse_money(v)[0]),
                               ("年度目标", text, lambda v: check_length(v, AnnualTarget, "target_text")),
                               (START_MONTH, start, parse_start_month)], error)
        if checked is None:
            continue
        year_value, value = checked["年度"], checked["计划投资"]
        if (item.pk, year_value) in seen:
            error("年度", year, "同一事项同一年度重复")
            continue
        seen.add((item.pk, year_value))
        if item.start_year and item.end_year and not item.start_year <= year_value <= item.end_year:
            # Projects slip: a year outside the printed period is kept, with a word of warning.
            warnings.append(f"{filename} {row.where} 年度 \"{year}\": 不在印刷的建设期限 {item.period_display} 内，已按实际进度保存")
        parsed.append((item, year_value, value, text, checked[START_MONTH]))
    if errors:
        raise ImportFailed(errors)
    created = updated = 0
    with transaction.atomic():
        for item, year, value, text, start in parsed:
            defaults = {"planned_investment": value, "target_text": text}
            if with_start:
                defaults["planned_start_month"] = start
            _, made = AnnualTarget.objects.update_or_create(item=item, year=year, defaults=defaults)
            created += made
            updated += not made
    return created, updated, warnings
