"""Import of a plan's indicator tables (指标体系) from its text, CSV or XLSX into the registry.

The parser (indicators/parsing.py) reads every table; this module checks what the
models can hold, then writes all tables of the plan in one transaction or nothing. Rows are
keyed by plan + table title + position, so re-running changes nothing; a responsible unit
assigned since is kept. The 十三五 completion tables' actual values and the history tables'
yearly figures become IndicatorValue rows (source 规划文本), never over a value a user entered.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from indicators.parsing import ParsedIndicatorDocument, parse_indicator_rows
from indicators.models import (
    Attribute,
    Direction,
    Indicator,
    IndicatorTable,
    IndicatorValue,
    TableKind,
    ValueMeaning,
)
from indicators.promise import promised_cell
from projects.models import Plan
from projects.organisations import owner_of
from projects.validation import ImportFailed, check_length, read_rows

# Direction comes from what the indicator measures, never from its figures: a target printed
# below its baseline (a share reclassified, 87 → 60) does not make a share "lower is better".
# A row measured as a falling figure (死亡率, PM2.5 浓度 …) is better lower; a row named as the
# fall itself (单位GDP能耗降低 [15]) is better higher; every other (shares, outputs, counts) higher.
_LOWER_IS_BETTER = re.compile(r"浓度|死亡率|不良贷款率|近视率|耗地量|能耗|排放量|排放强度|用水量|失业率|发生率")
_NAMED_AS_FALL = re.compile(r"降低|下降|减少|削减")
_RATE_NAME = re.compile(r"增长|增速")


def _value_fields(slot, value, default_year=None):
    if value is None:
        return {f"{slot}_printed": "", f"{slot}_number": None, f"{slot}_qualifier": "",
                f"{slot}_form": "", f"{slot}_year": None}
    return {
        f"{slot}_printed": value.printed[:100], f"{slot}_number": value.number,
        f"{slot}_qualifier": value.qualifier, f"{slot}_form": value.form,
        f"{slot}_year": value.year if value.year is not None else default_year,
    }


def chosen_target(parsed):
    """The value the plan promises (indicators/promise.py, the one definition)."""
    return promised_cell(parsed.target, parsed.growth)


def direction_of(name: str) -> str:
    """越高越好 or 越低越好, from the indicator's name (its meaning); a planner may override it."""
    if _NAMED_AS_FALL.search(name):
        return Direction.UP
    if _LOWER_IS_BETTER.search(name):
        return Direction.DOWN
    return Direction.UP


def value_meaning_of(parsed) -> str:
    """A growth target on a row measured in % (地区生产总值增长 %, 年均 6.8): its baseline and
    yearly values are that year's growth rates, not levels."""
    target = chosen_target(parsed)
    if target is not None and target.form == "growth" and parsed.unit in ("%", "") and _RATE_NAME.search(parsed.name):
        return ValueMeaning.RATE
    return ValueMeaning.LEVEL


def _row_fields(table, parsed):
    fields = {
        "category": parsed.category, "seq": parsed.seq, "parent_name": parsed.parent_name, "name": parsed.name,
        "unit": parsed.unit, "attribute": parsed.attribute, "is_new": parsed.is_new, "notes": parsed.notes,
        "source_line": parsed.line,
    }
    if table.kind != TableKind.HISTORY:
        fields["direction"] = direction_of(parsed.name)
        fields["value_meaning"] = value_meaning_of(parsed)
    defaults = {"baseline": table.baseline_year, "target": table.target_year, "growth": table.target_year,
                "planned": table.target_year, "actual": table.target_year, "actual_growth": table.target_year}
    for slot in Indicator.SLOTS:
        fields.update(_value_fields(slot, getattr(parsed, slot), defaults[slot]))
    return fields


def _printed_values(table, parsed):
    """{year: number} the plan text itself gives as actual values: a completion table's
    完成情况, a history table's yearly figures."""
    if table.kind == TableKind.HISTORY:
        return {year: v.number for year, v in parsed.series.items()
                if v.number is not None and v.form in ("level", "cumulative")}
    if table.kind == TableKind.COMPLETION and parsed.actual is not None and parsed.actual.number is not None \
            and parsed.actual.form in ("level", "cumulative"):
        return {parsed.actual.year or table.target_year: parsed.actual.number}
    return {}


LENGTH_CHECKS = (("category", "category"), ("seq", "seq"), ("parent_name", "parent_name"), ("name", "name"),
                 ("unit", "unit"))


def check_document(doc: ParsedIndicatorDocument):
    """Row errors for what the models cannot hold (lengths); raises ImportFailed with all of them."""
    errors = []
    for table in doc.tables:
        try:
            check_length(table.title, IndicatorTable, "title")
        except ValueError as exc:
            errors.append(f'{doc.file_label} {table.where} 标题 "{table.title[:40]}": {exc}')
        for ind in table.indicators:
            for attr, field_name in LENGTH_CHECKS:
                try:
                    check_length(getattr(ind, attr), Indicator, field_name)
                except ValueError as exc:
                    errors.append(f'{doc.file_label} {ind.where} {Indicator._meta.get_field(field_name).verbose_name} '
                                  f'"{getattr(ind, attr)[:40]}": {exc}')
    titles = [t.title for t in doc.tables]
    for table in doc.tables:
        if titles.count(table.title) > 1:
            errors.append(f"{doc.file_label} {table.where} 标题 \"{table.title}\": 同一规划中表名重复")
    if errors:
        raise ImportFailed(errors)


@dataclass
class TableResult:
    title: str
    kind: str
    count: int
    expected: int
    binding: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    values: int = 0
    absent: list = field(default_factory=list)

    @property
    def kind_label(self) -> str:
        return TableKind(self.kind).label

    def line(self):
        return (f"{self.title}｜{self.kind_label}｜{self.count} 项指标｜"
                f"预期性 {self.expected}，约束性 {self.binding}｜"
                f"新建 {self.created}，更新 {self.updated}，未变 {self.unchanged}"
                + (f"｜文本中的实际值 {self.values} 个" if self.values else ""))


@dataclass
class IndicatorImportReport:
    plan: Plan
    doc: ParsedIndicatorDocument
    dry_run: bool
    plan_created: bool
    tables: list = field(default_factory=list)
    absent: list = field(default_factory=list)

    def lines(self):
        head = "试运行（未写入）" if self.dry_run else "导入完成"
        made = "（新建规划）" if self.plan_created else ""
        out = [f"{head}：{self.doc.file_label} → 规划 {self.plan.code} {self.plan.name}{made}，"
               f"规划期 {self.plan.start_year}—{self.plan.end_year} 年，指标表 {len(self.tables)} 张"]
        out += [t.line() for t in self.tables]
        out += [f"提示：{w}" for w in self.doc.warnings]
        out += [f"提示：{a} 在库中但不在本文件中，未作改动" for a in self.absent]
        return out


def _changed(obj, values):
    return any(getattr(obj, k) != v for k, v in values.items())


def write_indicators(doc: ParsedIndicatorDocument, code: str, name: str | None = None,
                     dry_run: bool = False, organisation=None) -> IndicatorImportReport:
    check_document(doc)
    with transaction.atomic():
        plan = Plan.objects.filter(code=code).first()
        created = plan is None
        if created:
            if doc.start_year is None:
                raise ImportFailed([f"{doc.file_label}: 无法从文本识别规划期（如“十四五”或“规划期 2022—2026 年”），"
                                    f"请先建立规划 {code}"])
            plan = Plan(code=check_length(code, Plan, "code"),
                        name=check_length(name or doc.plan_name or code, Plan, "name"),
                        start_year=doc.start_year, end_year=doc.end_year)
        owner = owner_of(plan, organisation, doc.file_label)
        if created or (name and plan.name != name) or plan.organisation_id != owner.pk:
            plan.name = check_length(name, Plan, "name") if name else plan.name
            plan.organisation = owner
            plan.save()
        report = IndicatorImportReport(plan, doc, dry_run, created)
        existing_tables = {t.title: t for t in plan.indicator_tables.all()}
        for order, parsed_table in enumerate(doc.tables, start=1):
            result = _write_table(plan, order, parsed_table, existing_tables.pop(parsed_table.title, None))
            report.tables.append(result)
            report.absent += result.absent
        report.absent += [f"指标表「{t.title}」" for t in existing_tables.values()]
        if dry_run:
            transaction.set_rollback(True)
    return report


def _write_table(plan, order, parsed_table, table):
    values = {"order": order, "kind": parsed_table.kind, "baseline_year": parsed_table.baseline_year,
              "target_year": parsed_table.target_year, "headers": parsed_table.headers,
              "footnotes": parsed_table.footnotes, "source_line": parsed_table.line}
    if table is None:
        table = IndicatorTable.objects.create(plan=plan, title=parsed_table.title, **values)
    elif _changed(table, values):
        for k, v in values.items():
            setattr(table, k, v)
        table.save()
    rows = parsed_table.indicators
    result = TableResult(parsed_table.title, parsed_table.kind, len(rows),
                         sum(r.attribute == Attribute.EXPECTED for r in rows),
                         sum(r.attribute == Attribute.BINDING for r in rows))
    existing = {i.order: i for i in table.indicators.all()}
    printed = {}
    for position, parsed in enumerate(rows, start=1):
        fields = _row_fields(table, parsed)
        indicator = existing.pop(position, None)
        if indicator is not None and indicator.direction_fixed:  # a planner's direction is kept
            fields.pop("direction", None)
        if indicator is None:
            indicator = Indicator.objects.create(table=table, plan=plan, order=position, **fields)
            result.created += 1
        elif _changed(indicator, fields):
            for k, v in fields.items():
                setattr(indicator, k, v)
            indicator.save()
            result.updated += 1
        else:
            result.unchanged += 1
        for year, number in _printed_values(table, parsed).items():
            printed[(indicator.pk, year)] = number
    result.absent = [f"「{table.title}」第 {i.order} 行「{i}」" for i in existing.values()]
    result.values = _write_printed_values(printed)
    return result


def _write_printed_values(printed):
    """The values the text prints, kept unless a user has entered that year's value."""
    if not printed:
        return 0
    current = {(v.indicator_id, v.year): v for v in IndicatorValue.objects.filter(
        indicator_id__in={k[0] for k in printed})}
    for (indicator_id, year), number in printed.items():
        row = current.get((indicator_id, year))
        if row is None:
            IndicatorValue.objects.create(indicator_id=indicator_id, year=year, value=number,
                                          source=IndicatorValue.Source.PLAN_TEXT)
        elif row.source == IndicatorValue.Source.PLAN_TEXT and row.value != number:
            row.value = number
            row.save()
    return len(printed)


def import_indicators(source, code: str, name: str | None = None, dry_run: bool = False,
                      filename: str | None = None, organisation=None) -> IndicatorImportReport:
    """A plan text, CSV or XLSX (a path or an uploaded file): every indicator table, all or nothing."""
    filename = filename or Path(str(source)).name
    doc = parse_indicator_rows(read_rows(source, filename), filename)
    return write_indicators(doc, code, name=name, dry_run=dry_run, organisation=organisation)
