"""Progress of one plan indicator (指标体系) as of a year: 年度监测 and 中期评估.

Pure Python, no database and no Django models: the caller builds a ``Target`` and a
``Baseline`` (from ``indicators.parsing`` parsed values with ``target_from_parsed`` /
``baseline_from_parsed``, or from stored model fields) and passes the yearly actual values.
All arithmetic is Decimal (28 significant digits); floats are refused.

Forms of target
---------------
* level (水平目标): the straight path from (baseline year, baseline) to (end year, target);
  the actual of the year is compared with the path's value of that year. When the plan prints a
  年均增长 rate beside the level (规上工业总产值 287.2 → 462.6, 10%) and that rate leads from the
  baseline to the target (within 5 %), the path is the plan's own: baseline × (1 + rate)^years
  (2021: 315.92), never past the target.
* relative (相对目标, [-50%] or 降低 50% on an indicator not measured in %): the end-year level is
  baseline × (1 − 50%), then judged as a level target (亿元GDP生产安全事故死亡率 0.016 → 0.008).
* growth (年均增长 r%): compound yearly rate; the rate achieved from the baseline to the
  actual of the year, (actual / baseline) ^ (1 / years) - 1, is compared with r.
* cumulative ([15]): the running sum of the yearly actuals from the first plan year to the
  year, against the target prorated evenly over the plan years.
* text (按上级任务 …) and missing (—) targets are not evaluated.
* rates (``evaluate_rates``): a row whose yearly values are that year's growth rates (地区生产总值
  增长, 年均 6.8): the yearly rates are chained into the average rate since the baseline, compared
  with the target rate; the expected and compared figures are both rates.

A year without its own value is 无数据. A year with a value is never 无数据: without a baseline
a level is judged against the target itself — reached is 已达成, a ceiling ('<', '以下') exceeded
or the end year missed is 滞后 — and otherwise it is 不评价 with the reason (no path can be drawn).

Direction: 'ge' (以上) is met at or above, 'le' (以下) at or below, 'gt' (>) only above and 'lt' (<)
only below (strict). A target without a
qualifier is 'reach at least' unless ``direction="down"`` is passed for a decreasing
indicator (单位GDP能耗 …); a negative cumulative target without a qualifier ([-50%], a
five-year decrease) is always read downward, since its running sum starts at 0. A
cumulative target on the other side of 0 from its direction (a positive total with 'le': a
ceiling) is a limit: within it the running sum is judged against the prorated path, and it
is achieved only once the period has ended within it.

Figures computed here (the path value, the prorated sum, the rate achieved) are rounded
half-up to two decimals — more when the printed figures carry more — and the status is
decided on the rounded figure, so the sentence in ``rule`` always agrees with the status.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation, localcontext
from typing import TYPE_CHECKING

from indicators.promise import NUMERIC_FORMS, is_relative, printed_rate, promised_cell  # pure Python

if TYPE_CHECKING:  # only for the annotations: importing the parser needs Django set up
    from indicators.parsing import ParsedValue

ACHIEVED, ON_TRACK, LAGGING, NO_DATA, NOT_EVALUATED = (
    "achieved", "on_track", "lagging", "no_data", "not_evaluated")
STATUS_LABELS = {
    ACHIEVED: "已达成",
    ON_TRACK: "进度正常",
    LAGGING: "滞后",
    NO_DATA: "无数据",
    NOT_EVALUATED: "不评价",
}
FORMS = ("level", "growth", "cumulative", "text", "missing", "relative")
QUALIFIERS = ("", "ge", "le", "gt", "lt")
QUALIFIER_WORDS = {"ge": "以上", "le": "以下", "gt": "（大于）", "lt": "（小于）"}
RATE_FIT = Decimal("0.05")  # a printed rate gives the path when it leads to the target within 5 %
DIRECTIONS = ("up", "down")
PRECISION = 28
MAX_PLACES = 6


@dataclass(frozen=True)
class Target:
    """What the plan promises for the indicator."""
    form: str               # 'level' | 'growth' | 'cumulative' | 'relative' | 'text' | 'missing'
    value: Decimal | None   # level at end year; yearly growth rate in %; five-year total; change in %
    qualifier: str          # '' | 'ge' | 'le' | 'gt' | 'lt'
    printed: str            # as printed, for messages
    start_year: int         # the plan period's first year (2021)
    end_year: int           # its last year (2025)
    rate: Decimal | None = None  # the 年均增长 rate (%) printed beside a level target


@dataclass(frozen=True)
class Baseline:
    value: Decimal | None
    year: int | None        # 2020, or 2019 when printed '2019年 32.21'; None: the year before start


@dataclass(frozen=True)
class Evaluation:
    status: str             # one of STATUS_LABELS
    label: str              # its Chinese label
    expected: Decimal | None  # the value the path expects by the year
    actual: Decimal | None    # the value compared: level, running sum, or growth rate achieved (%)
    rule: str               # one Chinese sentence: how the status was decided, with the figures


# ---------------------------------------------------------------- helpers

def _decimal(value, what: str) -> Decimal | None:
    """Decimal, int or numeric str as Decimal; None stays None; floats are refused."""
    if value is None or isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"{what} must be Decimal, int or str, not {type(value).__name__}")
    elif isinstance(value, (int, str)):
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise ValueError(f"{what} is not a number: {value!r}") from None
    else:
        raise TypeError(f"{what} must be Decimal, int or str, not {type(value).__name__}")
    if result is not None and not result.is_finite():
        raise ValueError(f"{what} is not a finite number: {value!r}")
    return result


def _round(value: Decimal, *printed: Decimal) -> Decimal:
    """A computed figure rounded half-up to two decimals, or as many as the printed figures it
    comes from carry, and at least three significant digits (0.0138, not 0.01)."""
    places = 2
    for v in printed:
        exponent = v.as_tuple().exponent
        if isinstance(exponent, int):
            places = max(places, -exponent)
    if value:
        places = max(places, 2 - value.adjusted())
    places = min(places, MAX_PLACES)
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _fmt(value: Decimal | None) -> str:
    """A figure as written: '40.10', '50', '-50' (never exponent notation)."""
    if value is None:
        return "—"
    return format(value.copy_abs() if value.is_zero() else value, "f")  # never '-0.00'


def _meets(value: Decimal, bound: Decimal, down: bool) -> bool:
    return value <= bound if down else value >= bound


def reaches(value: Decimal, bound: Decimal, down: bool, qualifier: str = "") -> bool:
    """Whether a value meets the target itself: '>' and '<' are strict, else at or beyond."""
    if qualifier == "gt":
        return value > bound
    if qualifier == "lt":
        return value < bound
    return _meets(value, bound, down)


def _words(down: bool, qualifier: str) -> tuple[str, str]:
    """(met, missed) as said of the target: '不低于' / '低于', '高于' / '未高于' (strict) …"""
    return {"gt": ("高于", "未高于"), "lt": ("低于", "未低于")}.get(
        qualifier, ("不高于", "高于") if down else ("不低于", "低于"))


def _goes_down(target: Target, direction: str) -> bool:
    if target.qualifier in ("le", "lt"):
        return True
    if target.qualifier in ("ge", "gt"):
        return False
    if target.form in ("cumulative", "relative") and target.value is not None and target.value < 0:
        return True
    return direction == "down"


def _span(first: int, last: int) -> str:
    return f"{first} 年" if first == last else f"{first}—{last} 年"


def _result(status: str, rule: str, expected=None, actual=None) -> Evaluation:
    return Evaluation(status, STATUS_LABELS[status], expected, actual, rule)


def _heading(kind: str, target: Target, down: bool, *shown: str, limit: str = "") -> str:
    """'水平目标', '水平目标（印刷“60以上”）', '水平目标（越低越好）', '累计目标（上限）' …"""
    notes = [limit] if limit else []
    printed = (target.printed or "").strip()
    if printed and printed not in (*shown, _fmt(target.value)):
        notes.append(f"印刷“{printed}”")
    if down and target.qualifier not in ("le", "lt") and not limit:
        notes.append("越低越好")
    return kind + (f"（{'，'.join(notes)}）" if notes else "")


# ---------------------------------------------------------------- evaluation

def evaluate_indicator(target: Target, baseline: Baseline, actuals: dict[int, Decimal], year: int,
                       direction: str = "up") -> Evaluation:
    """The status of one indicator as of ``year`` (the year whose actual is compared)."""
    if target.form not in FORMS:
        raise ValueError(f"unknown target form {target.form!r}")
    if target.qualifier not in QUALIFIERS:
        raise ValueError(f"unknown qualifier {target.qualifier!r}")
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be 'up' or 'down', not {direction!r}")
    if target.end_year < target.start_year:
        raise ValueError("the plan period ends before it starts")

    printed = (target.printed or "").strip()
    if target.form == "text":
        return _result(NOT_EVALUATED, f"目标为文字表述“{printed}”，不作数值评价")
    if target.form == "missing":
        shown = f"（印刷为“{printed}”）" if printed else ""
        return _result(NOT_EVALUATED, f"规划未给出目标值{shown}，不作数值评价")
    value = _decimal(target.value, "target.value")
    if value is None:
        return _result(NOT_EVALUATED, f"目标“{printed}”不是单一数值，不作数值评价")
    if year < target.start_year:
        return _result(NOT_EVALUATED,
                       f"{year} 年早于规划期（{target.start_year}—{target.end_year} 年），不作评价")

    target = Target(target.form, value, target.qualifier, printed, target.start_year, target.end_year,
                    _decimal(target.rate, "target.rate"))
    base = Baseline(_decimal(baseline.value, "baseline.value"),
                    baseline.year if baseline.year is not None else target.start_year - 1)
    facts = {int(y): _decimal(v, f"actuals[{y}]") for y, v in (actuals or {}).items()}
    facts = {y: v for y, v in facts.items() if v is not None}
    down = _goes_down(target, direction)
    with localcontext(Context(prec=PRECISION)):
        if target.form == "level":
            return _level(target, base, facts, year, down)
        if target.form == "growth":
            return _growth(target, base, facts, year, down)
        if target.form == "relative":
            return _relative(target, base, facts, year, down)
        return _cumulative(target, facts, year, down)


def _rate_path(target: Target, base: Baseline, down: bool) -> Decimal | None:
    """The printed 年均 rate when it leads from the baseline to the target (within RATE_FIT)."""
    r, b, t = target.rate, base.value, target.value
    if r is None or b is None or b <= 0 or t <= 0 or (r > 0) != (t > b) or (r > 0) == down:
        return None
    reached = b * (1 + r / 100) ** (target.end_year - base.year)
    return r if abs(reached - t) <= RATE_FIT * t else None


def _path_value(target: Target, base: Baseline, year: int, down: bool) -> tuple[Decimal, Decimal | None]:
    """(the level expected by the year, the printed rate when it gives the path) of a level target
    with a baseline before its end year: the target from the end year on; before, the plan's rate
    path when it has one (never past the target), else the straight line."""
    b, t, end = base.value, target.value, target.end_year
    rate = _rate_path(target, base, down)
    if year >= end:
        return t, rate
    if rate is not None:
        expected = _round(b * (1 + rate / 100) ** max(year - base.year, 0), b, t)
        return (min(expected, t) if t > b else max(expected, t)), rate
    return _round(b + (t - b) * max(year - base.year, 0) / (end - base.year), b, t), rate


def _relative_level(target: Target, base: Baseline) -> Target:
    """[-50%] from a baseline of 0.016: a level target of 0.008."""
    level = (base.value * (100 + target.value) / 100).normalize()
    level = _round(level, base.value) if level.as_tuple().exponent < -MAX_PLACES else level
    return Target("level", level, target.qualifier, target.printed, target.start_year, target.end_year)


def path_values(target: Target, baseline: Baseline, years, direction: str = "up") -> list:
    """The path the evaluation compares with, per year (None outside baseline year … end year, or
    when the target has no path: cumulative, text, no baseline). For the indicator page's chart."""
    b = _decimal(baseline.value, "baseline.value")
    if target.value is None or b is None or baseline.year is None or baseline.year >= target.end_year:
        return []
    target = Target(target.form, _decimal(target.value, "target.value"), target.qualifier, target.printed,
                    target.start_year, target.end_year, _decimal(target.rate, "target.rate"))
    down = _goes_down(target, direction)
    with localcontext(Context(prec=PRECISION)):
        if target.form == "relative":
            target = _relative_level(target, Baseline(b, baseline.year))
        if target.form == "level":
            base = Baseline(b, baseline.year)
            return [_path_value(target, base, y, down)[0] if baseline.year <= y <= target.end_year else None
                    for y in years]
        if target.form == "growth" and b > 0:
            return [_round(b * (1 + target.value / 100) ** (y - baseline.year), b)
                    if baseline.year <= y <= target.end_year else None for y in years]
    return []


def _level(target: Target, base: Baseline, facts: dict, year: int, down: bool, head: str = "") -> Evaluation:
    t, end, q = target.value, target.end_year, target.qualifier
    head = head or _heading("水平目标", target, down, f"{_fmt(t)}%")
    actual = facts.get(year)
    if actual is None:
        return _result(NO_DATA, f"{head}：缺少 {year} 年实际值，无法评价")
    reached = reaches(actual, t, down, q)
    met, missed = _words(down, q)
    if base.value is None or base.year >= end:
        why = "缺少基期值" if base.value is None else f"基期年份 {base.year} 年不早于目标年份"
        said = f"{head}：{end} 年目标 {_fmt(t)}，{year} 年实际 {_fmt(actual)}"
        if reached:
            return _result(ACHIEVED, f"{said}，{met}目标值，已达成", None, actual)
        if year >= end:
            return _result(LAGGING, f"{said}，{missed}目标值，规划期末未达成，滞后", t, actual)
        if q in ("le", "lt"):
            return _result(LAGGING, f"{said}，超出上限，滞后", t, actual)
        return _result(NOT_EVALUATED, f"{said}，尚未达到目标；{why}，无法推算 {year} 年应达值，不判断进度"
                                      f"（至 {end} 年仍未达到即为滞后）", None, actual)
    b = base.value
    expected, rate = _path_value(target, base, year, down)
    how = f"按规划年均增长 {_fmt(rate)}% 推进" if rate is not None else "直线推进"
    path = (f"{head}：由 {base.year} 年 {_fmt(b)} {how}至 {end} 年 {_fmt(t)}，"
            f"{year} 年应达 {_fmt(expected)}，实际 {_fmt(actual)}")
    if reached:
        return _result(ACHIEVED, f"{path}，{met}目标值 {_fmt(t)}，已达成", expected, actual)
    if year >= end:
        return _result(LAGGING, f"{path}，{missed}目标值，规划期末未达成，滞后", expected, actual)
    if _meets(actual, expected, down):
        return _result(ON_TRACK, f"{path}，{'不高于' if down else '不低于'}应达值，进度正常", expected, actual)
    return _result(LAGGING, f"{path}，{'高于' if down else '低于'}应达值，滞后", expected, actual)


def _relative(target: Target, base: Baseline, facts: dict, year: int, down: bool) -> Evaluation:
    """[-50%]: the end-year level is the baseline changed by 50 %, judged as a level target."""
    v, end = target.value, target.end_year
    change = f"{'降低' if v < 0 else '提高'} {_fmt(abs(v))}%"
    head = _heading("相对目标", target, down, "")
    if base.value is None:
        actual = facts.get(year)
        if actual is None:
            return _result(NO_DATA, f"{head}：缺少 {year} 年实际值，无法评价")
        return _result(NOT_EVALUATED, f"{head}：{end} 年较基期{change}；缺少基期值，无法换算目标水平，"
                                      f"{year} 年实际 {_fmt(actual)}，不判断进度", None, actual)
    as_level = _relative_level(target, base)
    level = as_level.value
    head = f"{head}：{end} 年较 {base.year} 年 {_fmt(base.value)} {change}，即 {_fmt(level)}；水平目标"
    return _level(as_level, base, facts, year, down, head)


def _growth(target: Target, base: Baseline, facts: dict, year: int, down: bool) -> Evaluation:
    r, end = target.value, target.end_year
    qual = QUALIFIER_WORDS.get(target.qualifier, "")
    head = _heading("增速目标", target, down, f"{_fmt(r)}%{qual}", f"{_fmt(r)}{qual}")
    head += f"：年均增长 {_fmt(r)}%{qual}"
    actual = facts.get(year)
    missing = ([f"{year} 年实际值"] if actual is None else []) + (["基期值"] if base.value is None else [])
    if actual is None:
        return _result(NO_DATA, f"{head}，缺少{'和'.join(missing)}，无法计算年均增速")
    if missing:
        return _result(NOT_EVALUATED, f"{head}，{year} 年实际 {_fmt(actual)}；缺少基期值，无法计算年均增速，"
                                      f"不判断进度", None, actual)
    b, years = base.value, year - base.year
    if years <= 0:
        return _result(NOT_EVALUATED, f"{head}，{year} 年不晚于基期 {base.year} 年，无法计算年均增速")
    if b <= 0 or actual < 0:
        return _result(NOT_EVALUATED, f"{head}，基期值 {_fmt(b)} 或 {year} 年实际值 {_fmt(actual)} "
                                      f"不为正数，无法按复合增速计算")
    expected = _round(b * (1 + r / 100) ** years, b)
    if actual == 0:
        rate = Decimal(-100)
    else:
        rate = ((actual / b).ln() / years).exp() * 100 - 100
    rate = _round(rate, r)
    on_track = reaches(rate, r, down, target.qualifier)
    than, worse = _words(down, target.qualifier)
    sentence = (f"{head}，以 {base.year} 年 {_fmt(b)} 为基数按复合增速推算，{year} 年水平应达 "
                f"{_fmt(expected)}，实际 {_fmt(actual)}，{years} 年年均增长 {_fmt(rate)}%")
    if on_track and year >= end:
        return _result(ACHIEVED, f"{sentence}，{than}目标增速 {_fmt(r)}%，已达成", expected, rate)
    if on_track:
        return _result(ON_TRACK, f"{sentence}，{than}目标增速 {_fmt(r)}%，进度正常", expected, rate)
    return _result(LAGGING, f"{sentence}，{worse}目标增速 {_fmt(r)}%，滞后", expected, rate)


def _cumulative(target: Target, facts: dict, year: int, down: bool) -> Evaluation:
    t, start, end = target.value, target.start_year, target.end_year
    # The running sum starts at 0. A target on the good side of 0 (a total to reach: [15],
    # or [-50%] read downward) is achieved once reached. One on the other side is a limit
    # (a positive total with 'le' is a ceiling, a negative one with 'ge' a floor): the sum
    # meets it from the start, so it is achieved only when the period has ended within it.
    limit = (down and t > 0) or (not down and t < 0)
    head = _heading("累计目标", target, down, f"[{_fmt(t)}]", f"[{_fmt(t)}%]",
                    limit=("上限" if down else "下限") if limit else "")
    head += f"：规划期（{start}—{end} 年）累计 {_fmt(t)}"
    last = min(year, end)
    missing = [y for y in range(start, last + 1) if y not in facts]
    if missing:
        years = "、".join(str(y) for y in missing)
        # the year's own value missing is 无数据; with it there, the earlier years' gap is said
        status = NO_DATA if last in missing else NOT_EVALUATED
        return _result(status, f"{head}，缺少 {years} 年实际值，无法计算 {_span(start, last)}累计")
    total = sum((facts[y] for y in range(start, last + 1)), Decimal(0))
    expected = _round(t * (last - start + 1) / (end - start + 1), t)
    sentence = (f"{head}，按年平均分摊 {last} 年应累计 {_fmt(expected)}，"
                f"{_span(start, last)}实际累计 {_fmt(total)}")
    than, worse = ("不高于", "高于") if down else ("不低于", "低于")
    met, _ = _words(down, target.qualifier)
    if reaches(total, t, down, target.qualifier) and (not limit or year >= end):
        return _result(ACHIEVED, f"{sentence}，{met}目标值 {_fmt(t)}，已达成", expected, total)
    if year >= end and not limit:
        return _result(LAGGING, f"{sentence}，未达到目标值 {_fmt(t)}，规划期末未达成，滞后", expected, total)
    if _meets(total, expected, down):
        return _result(ON_TRACK, f"{sentence}，{than}应累计值，进度正常", expected, total)
    return _result(LAGGING, f"{sentence}，{worse}应累计值，滞后", expected, total)


def evaluate_rates(target: Target, base_year: int, rates: dict[int, Decimal], year: int,
                   direction: str = "up") -> Evaluation:
    """A row whose yearly values are that year's growth rates in % (地区生产总值增长, 年均 6.8): the
    rates from the year after ``base_year`` to ``year`` chained into their average yearly rate,
    compared with the target rate. Expected and compared figures are both rates (%)."""
    if target.form != "growth" or target.value is None:
        return evaluate_indicator(target, Baseline(None, base_year), rates, year, direction)
    r, start, end = _decimal(target.value, "target.value"), target.start_year, target.end_year
    down = _goes_down(target, direction)
    qual = QUALIFIER_WORDS.get(target.qualifier, "")
    head = f"年度值为当年增速（%）：目标年均增长 {_fmt(r)}%{qual}"
    if year < start:
        return _result(NOT_EVALUATED, f"{year} 年早于规划期（{start}—{end} 年），不作评价")
    facts = {int(y): _decimal(v, f"rates[{y}]") for y, v in (rates or {}).items() if v is not None}
    if year not in facts:
        return _result(NO_DATA, f"{head}，缺少 {year} 年增速，无法评价")
    years = range(base_year + 1, year + 1)
    missing = [str(y) for y in years if y not in facts]
    if missing:
        return _result(NOT_EVALUATED, f"{head}，缺少 {'、'.join(missing)} 年增速，无法计算 "
                                      f"{_span(base_year + 1, year)}年均增速", None, None)
    with localcontext(Context(prec=PRECISION)):
        index = Decimal(1)
        for y in years:
            index *= 1 + facts[y] / 100
        if index <= 0:
            return _result(NOT_EVALUATED, f"{head}，增速连乘不为正数，无法计算年均增速")
        average = _round((index.ln() / len(years)).exp() * 100 - 100, r)
    listed = "、".join(f"{_fmt(facts[y])}%" for y in years)
    sentence = f"{head}，{_span(base_year + 1, year)}增速 {listed}，{len(years)} 年年均增长 {_fmt(average)}%"
    met, missed = _words(down, target.qualifier)
    if reaches(average, r, down, target.qualifier):
        status = ACHIEVED if year >= end else ON_TRACK
        return _result(status, f"{sentence}，{met}目标增速 {_fmt(r)}%，{STATUS_LABELS[status]}", r, average)
    return _result(LAGGING, f"{sentence}，{missed}目标增速 {_fmt(r)}%，滞后", r, average)


# ---------------------------------------------------------------- building inputs

def target_of_cells(target, growth, start_year: int, end_year: int, unit: str = "") -> Target:
    """The promise of a row (parsed values or stored cells: anything with form, number,
    qualifier, printed): the end-year value when it is a number, else the 年均/累计 column's
    number (年均增长 6.8, [15]), else a text form (按上级任务), else missing; a change in %
    on a row not measured in % is relative to the baseline; the rate printed beside a level.

    A cell listing several numbers ('21.2、20.3、15、15') keeps its form with no value and is
    reported as not a single number."""
    chosen = promised_cell(target, growth)  # indicators/promise.py, the one definition
    if chosen is None:
        printed = next((v.printed for v in (target, growth) if v is not None and v.printed), "")
        return Target("missing", None, "", printed, start_year, end_year)
    number = chosen.number if chosen.form in NUMERIC_FORMS else None
    form = "relative" if is_relative(chosen, unit) else chosen.form
    return Target(form, number, chosen.qualifier if number is not None else "",
                  chosen.printed, start_year, end_year, printed_rate(target, growth))


def target_from_parsed(target: ParsedValue | None, growth: ParsedValue | None,
                       start_year: int, end_year: int, unit: str = "") -> Target:
    return target_of_cells(target, growth, start_year, end_year, unit)


def baseline_from_parsed(value: ParsedValue | None, default_year: int | None) -> Baseline:
    """The parsed baseline cell: its number and year (the printed '2019年' or the column's),
    ``default_year`` when the cell has none. Only a level is a baseline: text, missing, and a
    previous period's total ('[40.8]') give no value."""
    if value is None:
        return Baseline(None, default_year)
    number = value.number if value.form == "level" else None
    return Baseline(number, value.year if value.year is not None else default_year)


def mid_term_year(start_year: int, end_year: int) -> int:
    """The year the mid-term evaluation looks at: the period's third year (2023 for 2021–2025)."""
    if end_year < start_year:
        raise ValueError("the plan period ends before it starts")
    return min(start_year + 2, end_year)
