"""Upload of annual targets (年度推进计划) from XLSX: every row checked, all or nothing."""
from decimal import Decimal, InvalidOperation

from django.db import transaction

from .importer import ImportFailed, _cell_text
from .models import AnnualTarget, Item, ListKind, Plan

HEADER = ["规划代码", "清单", "序号", "年度", "计划投资（亿元）", "年度目标"]
LIST_BY_LABEL = {label: value for value, label in ListKind.choices}


def import_targets(fileobj, filename="targets.xlsx"):
    from openpyxl import load_workbook

    try:
        book = load_workbook(fileobj, read_only=True, data_only=True)
    except Exception:
        raise ImportFailed([f"{filename}: 不是有效的 XLSX 文件"]) from None
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    errors, parsed = [], []
    if not rows or [_cell_text(c).strip() for c in rows[0][:len(HEADER)]] != HEADER:
        raise ImportFailed([f"{filename} 第 1 行: 表头应为 {'、'.join(HEADER)}"])
    plans = {p.code: p for p in Plan.objects.all()}
    seen = set()
    for n, row in enumerate(rows[1:], start=2):
        cells = [_cell_text(c).strip() for c in (list(row) + [None] * 6)[:6]]
        if not any(cells):
            continue
        code, kind_label, seq, year, amount, text = cells
        where = f"{filename} 第 {n} 行"
        plan = plans.get(code)
        if plan is None:
            errors.append(f'{where} 规划代码 "{code}": 没有这个规划')
            continue
        kind = LIST_BY_LABEL.get(kind_label, kind_label if kind_label in ListKind.values else None)
        if kind is None:
            errors.append(f'{where} 清单 "{kind_label}": 应为 {"、".join(LIST_BY_LABEL)}')
            continue
        item = Item.objects.filter(plan=plan, list_kind=kind, seq=int(seq) if seq.isdigit() else -1).first()
        if item is None:
            errors.append(f'{where} 序号 "{seq}": {kind_label}中没有这个序号')
            continue
        if not (year.isdigit() and 2000 <= int(year) <= 2100):
            errors.append(f'{where} 年度 "{year}": 应为四位年份')
            continue
        if item.start_year and item.end_year and not (item.start_year <= int(year) <= item.end_year):
            errors.append(f'{where} 年度 "{year}": 不在建设期限 {item.period_display} 内')
            continue
        value = None
        if amount not in ("", "待定"):
            try:
                value = Decimal(amount)
            except InvalidOperation:
                errors.append(f'{where} 计划投资 "{amount}": 不是数字')
                continue
            if value < 0:
                errors.append(f'{where} 计划投资 "{amount}": 金额不能为负数')
                continue
        if (item.pk, int(year)) in seen:
            errors.append(f'{where} 年度 "{year}": 同一事项同一年度重复')
            continue
        seen.add((item.pk, int(year)))
        parsed.append((item, int(year), value, text))
    if errors:
        raise ImportFailed(errors)
    created = updated = 0
    with transaction.atomic():
        for item, year, value, text in parsed:
            _, made = AnnualTarget.objects.update_or_create(
                item=item, year=year, defaults={"planned_investment": value, "target_text": text})
            created += made
            updated += not made
    return created, updated
