"""Plan indicators on the read side: each indicator's status per year (年度监测, 中期评估), stored
in IndicatorStatus after every committed change to an indicator or its values, and the rows
the indicator page and the 年度监测表 export show. docs/architecture.md, “Indicators”.

The arithmetic is indicators/status.py (pure Python); this module builds its inputs
from the stored rows and writes only the statuses that changed.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from projects.lights import Light
from projects.models import Plan
from projects.versions import figures_date, raise_version

from indicators.promise import promised_cell

from .models import (
    Attribute, Direction, Indicator, IndicatorStatus, IndicatorTable, IndicatorValue, TableKind, ValueForm, ValueMeaning,
)
from .status import (
    ACHIEVED, LAGGING, NO_DATA, NOT_EVALUATED, ON_TRACK, STATUS_LABELS, Baseline, Evaluation, Target,
    evaluate_indicator, evaluate_rates, mid_term_year, reaches, target_of_cells,
)

STATUS_ORDER = [LAGGING, ON_TRACK, ACHIEVED, NO_DATA, NOT_EVALUATED]
STATUS_CHOICES = [(s, STATUS_LABELS[s]) for s in STATUS_ORDER]
NUMERIC = (ValueForm.LEVEL, ValueForm.GROWTH, ValueForm.CUMULATIVE)


# ---------------------------------------------------------------- inputs of the evaluation

def plain(number):
    """A stored figure as printed: 57.100000 → 57.1, 250.000000 → 250 (the rule sentences show it)."""
    if number is None:
        return None
    normal = number.normalize()
    return normal.quantize(1) if normal == normal.to_integral_value() else normal


class Cell(NamedTuple):
    """One stored value cell of an indicator."""

    form: str
    number: Decimal | None
    qualifier: str
    printed: str
    year: int | None


def _value(ind, slot):
    """(form, number, qualifier, printed, year) of one stored value, or None when not printed."""
    form = getattr(ind, f"{slot}_form")
    if not form:
        return None
    return Cell(form, plain(getattr(ind, f"{slot}_number")), getattr(ind, f"{slot}_qualifier"),
                getattr(ind, f"{slot}_printed"), getattr(ind, f"{slot}_year"))


def end_slot(table) -> str:
    """The cell a table prints its promise in: 规划值 in a completion table, else 目标值."""
    return "planned" if table.kind == TableKind.COMPLETION else "target"


def promised(ind, slot):
    """The stored cell the plan promises (indicators/promise.py, the one definition), or a
    missing cell keeping what was printed."""
    cells = [_value(ind, slot), _value(ind, "growth")]
    return (promised_cell(*cells)
            or Cell(ValueForm.MISSING, None, "", next((c.printed for c in cells if c and c.printed), ""), None))


def period_of(ind, plan: Plan, table: IndicatorTable):
    """(first year, last year) the indicator's target covers: the plan's own period for its
    targets (to the table's target year), the previous period for a completion table."""
    if table.kind == TableKind.COMPLETION:
        end = table.target_year or plan.start_year - 1
        return (table.baseline_year + 1 if table.baseline_year else end - 4), end
    return plan.start_year, table.target_year or plan.end_year


def target_of(ind, plan, table) -> Target:
    """The stored row's promise, read as indicators/status.target_of_cells reads a parsed row."""
    start, end = period_of(ind, plan, table)
    return target_of_cells(_value(ind, end_slot(table)), _value(ind, "growth"), start, end, ind.unit)


def baseline_of(ind, target: Target) -> Baseline:
    """Only a level is a baseline: '[40.8]' (the previous period's total) and text are not."""
    base = _value(ind, "baseline")
    if base is None or base.form != ValueForm.LEVEL:
        return Baseline(None, target.start_year - 1)
    return Baseline(base.number, base.year if base.year is not None else target.start_year - 1)


def evaluate_one(ind, plan, table, actuals: dict, year: int) -> Evaluation:
    """The status of one indicator as of a year, from its stored row and yearly values."""
    if table.kind == TableKind.COMPLETION:
        return evaluate_completion(ind, plan, table)
    target = target_of(ind, plan, table)
    base = baseline_of(ind, target)
    if ind.value_meaning == ValueMeaning.RATE and target.form == ValueForm.GROWTH:
        return evaluate_rates(target, base.year, actuals, year, ind.direction)
    return evaluate_indicator(target, base, actuals, year, ind.direction)


FORM_WORDS = {ValueForm.LEVEL: "水平值", ValueForm.CUMULATIVE: "五年累计值", ValueForm.GROWTH: "年均增幅",
              ValueForm.TEXT: "文字表述"}


def evaluate_completion(ind, plan, table) -> Evaluation:
    """A completion table (表一) compares like with like, at its period's end: the planned level
    with the achieved level, the planned five-year total ([-9.88]) with the achieved total
    ([-20.47]), the planned 年均增幅 with the achieved one. Cells of different kinds ([18] beside
    '2019年0.546') are not compared, and the page says so."""
    target = target_of(ind, plan, table)
    end = target.end_year
    kind = ValueForm.CUMULATIVE if target.form == "relative" else target.form
    if kind not in NUMERIC or target.value is None:
        return evaluate_indicator(target, Baseline(None, None), {}, end, ind.direction)
    achieved = [c for c in (_value(ind, "actual"), _value(ind, "actual_growth")) if c is not None]
    same = next((c for c in achieved if c.form == kind and c.number is not None), None)
    if same is None:
        shown = next((c for c in achieved if c.form != ValueForm.MISSING), None)
        if shown is None:
            return Evaluation(NO_DATA, STATUS_LABELS[NO_DATA], None, None,
                              f"规划值“{target.printed}”，文本未印刷完成值，无法评价")
        return Evaluation(NOT_EVALUATED, STATUS_LABELS[NOT_EVALUATED], None, None,
                          f"规划值“{target.printed}”为{FORM_WORDS[kind]}，完成值“{shown.printed}”为"
                          f"{FORM_WORDS.get(shown.form, '其他形式')}，口径不同，不作比较")
    down = (target.qualifier in ("le", "lt") or (target.qualifier not in ("ge", "gt")
            and (ind.direction == Direction.DOWN or (kind == ValueForm.CUMULATIVE and target.value < 0))))
    when = f"（{same.year} 年）" if same.year and same.year != end else ""
    said = (f"完成情况（{FORM_WORDS[kind]}对{FORM_WORDS[kind]}）：{end} 年规划 {target.printed}，"
            f"完成 {same.printed}{when}")
    if reaches(same.number, target.value, down, target.qualifier):
        return Evaluation(ACHIEVED, STATUS_LABELS[ACHIEVED], target.value, same.number,
                          f"{said}，{'不高于' if down else '不低于'}规划值，已达成")
    return Evaluation(LAGGING, STATUS_LABELS[LAGGING], target.value, same.number,
                      f"{said}，未达到规划值，滞后")


def light_of(status: str, attribute: str) -> str:
    """约束性 lagging is red, any other lagging yellow; on track or achieved green; else none."""
    if status == LAGGING:
        return Light.RED if attribute == Attribute.BINDING else Light.YELLOW
    if status in (ON_TRACK, ACHIEVED):
        return Light.GREEN
    return ""


def actuals_by_indicator(indicator_ids) -> dict:
    values = {}
    for indicator_id, year, value in IndicatorValue.objects.filter(indicator_id__in=indicator_ids) \
            .values_list("indicator_id", "year", "value"):
        values.setdefault(indicator_id, {})[year] = plain(value)
    return values


# ---------------------------------------------------------------- stored statuses

def monitored_years(plan: Plan, table: IndicatorTable, as_of: datetime.date):
    """The years a targets table is evaluated for: its plan's years up to as_of's year (at least
    the first); a year further on has no value yet, and gets its rows when its evaluation date comes."""
    end = table.target_year or plan.end_year
    last = min(end, max(as_of.year, plan.start_year))
    return range(plan.start_year, last + 1)


@dataclass
class IndicatorResult:
    created: int = 0
    updated: int = 0
    to_notify: list = None


def evaluate_indicators(indicator_ids=None, as_of: datetime.date | None = None) -> IndicatorResult:
    """Evaluate the targets-table indicators (all, or the given ones) for each monitored year and
    write the statuses that changed; a run over unchanged data writes nothing."""
    as_of = as_of or figures_date()
    today = timezone.localdate()
    indicators = Indicator.objects.filter(table__kind=TableKind.TARGETS).select_related("table", "plan")
    if indicator_ids is not None:
        indicators = indicators.filter(pk__in=list(indicator_ids))
    indicators = list(indicators)
    actuals = actuals_by_indicator([i.pk for i in indicators])
    stored = {(s.indicator_id, s.year): s for s in IndicatorStatus.objects.filter(indicator__in=indicators)}
    new, changed = [], []
    for ind in indicators:
        for year in monitored_years(ind.plan, ind.table, as_of):
            result = evaluate_one(ind, ind.plan, ind.table, actuals.get(ind.pk, {}), year)
            values = {"status": result.status, "light": light_of(result.status, ind.attribute),
                      "expected": result.expected, "actual": result.actual, "rule": result.rule}
            row = stored.get((ind.pk, year))
            if row is None:
                new.append(IndicatorStatus(indicator=ind, year=year, changed_on=today, **values))
            elif any(getattr(row, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(row, k, v)
                row.changed_on = today
                changed.append(row)
    with transaction.atomic():
        IndicatorStatus.objects.bulk_create(new)
        IndicatorStatus.objects.bulk_update(changed, ["status", "light", "expected", "actual", "rule", "changed_on"])
    worse = [s.pk for s in new + changed if s.light in (Light.RED, Light.YELLOW) and s.light != s.notified_light]
    if new or changed:
        raise_version(())  # no entry's sums moved: the slices of plans stand
    return IndicatorResult(len(new), len(changed), worse)


# ---------------------------------------------------------------- what pages and exports read

def default_year(plan: Plan, as_of: datetime.date) -> int:
    """The year a plan's indicator page opens on: the latest year of its period that has an
    entered value, else the last year already over, within the period."""
    latest = IndicatorValue.objects.filter(indicator__plan=plan, indicator__table__kind=TableKind.TARGETS,
                                           year__gte=plan.start_year, year__lte=min(plan.end_year, as_of.year)) \
        .exclude(source=IndicatorValue.Source.PLAN_TEXT).aggregate(y=Max("year"))["y"]
    return latest or min(max(as_of.year - 1, plan.start_year), plan.end_year)


def year_bounds(plan: Plan):
    return plan.start_year, plan.end_year


@dataclass
class Row:
    indicator: Indicator
    table: IndicatorTable
    value: Decimal | None        # the year's actual value
    evaluation: Evaluation | None  # None for history tables
    light: str
    series: dict                 # {year: value} every stored value


def indicator_rows(indicators, plan: Plan, year: int):
    """Rows for the page and the export: each indicator with the year's value and status. Targets
    tables read the stored status of the year when it is there; completion tables are judged
    as of their own end year; history tables have no status."""
    indicators = list(indicators.select_related("table", "responsible_unit"))
    ids = [i.pk for i in indicators]
    actuals = actuals_by_indicator(ids)
    stored = {s.indicator_id: s for s in IndicatorStatus.objects.filter(indicator_id__in=ids, year=year)}
    rows = []
    for ind in indicators:
        series = actuals.get(ind.pk, {})
        table = ind.table
        evaluation, light = None, ""
        if table.kind == TableKind.TARGETS:
            status = stored.get(ind.pk)
            if status is not None:
                evaluation = Evaluation(status.status, STATUS_LABELS[status.status], status.expected,
                                        status.actual, status.rule)
            else:  # a year not monitored (before the period or not yet evaluated): computed, not stored
                evaluation = evaluate_one(ind, plan, table, series, year)
            light = light_of(evaluation.status, ind.attribute)
        elif table.kind == TableKind.COMPLETION:
            evaluation = evaluate_completion(ind, plan, table)
            light = light_of(evaluation.status, ind.attribute)
        rows.append(Row(ind, table, series.get(year), evaluation, light, series))
    return rows


def status_counts(indicators, year: int) -> dict:
    """{status: n, 'red': n, 'yellow': n} of the targets-table indicators for the year (stored)."""
    rows = IndicatorStatus.objects.filter(indicator__in=indicators, year=year) \
        .values("status", "light").annotate(n=Count("pk"))
    counts = {s: 0 for s in STATUS_ORDER}
    counts.update({"red": 0, "yellow": 0, "total": 0})
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + r["n"]
        counts["total"] += r["n"]
        if r["light"] in ("red", "yellow"):
            counts[r["light"]] += r["n"]
    return counts


def midterm_year(plan: Plan) -> int:
    return mid_term_year(plan.start_year, plan.end_year)


def with_status(indicators, year: int, status: str):
    """Filter a queryset of indicators by the stored status of a year."""
    return indicators.filter(Q(statuses__year=year, statuses__status=status))
