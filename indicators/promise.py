"""An indicator's promised target, defined once (docs/architecture.md, "Indicators").

Pure Python, no Django: the importer (indicators/importer.py), the evaluation
(indicators/evaluation.py over stored rows, indicators/status.py over parsed rows) and the
indicator page's trend chart (indicators/views.py) all read the promise through
`promised_cell`.
"""
NUMERIC_FORMS = ("level", "growth", "cumulative")


def promised_cell(end_cell, growth_cell):
    """Of a row's end-year cell (目标值, or 规划值 in a completion table) and its 年均/累计 cell (either
    None when not printed), the one the plan promises: the first that is a number (level, 年均
    growth or five-year cumulative with one number), else the first text (按上级任务), else the first
    numeric form with no single number ('21.2、20.3、15、15'); None when neither says anything (missing).
    Cells are anything with `form` and `number` (parsed values, or the stored columns)."""
    cells = [c for c in (end_cell, growth_cell) if c is not None]
    return (next((c for c in cells if c.form in NUMERIC_FORMS and c.number is not None), None)
            or next((c for c in cells if c.form == "text"), None)
            or next((c for c in cells if c.form in NUMERIC_FORMS), None))


def printed_rate(end_cell, growth_cell):
    """The 年均增长 rate printed beside a level promise (规上工业总产值 287.2 → 462.6, 10%), or None.
    indicators/status.py takes the path from it when it leads from the baseline to the target."""
    promise = promised_cell(end_cell, growth_cell)
    if (promise is not None and promise is end_cell and promise.form == "level" and growth_cell is not None
            and growth_cell.form == "growth" and growth_cell.number is not None):
        return growth_cell.number
    return None


PERCENT_UNITS = ("%", "％", "百分点", "个百分点")


def is_relative(cell, unit) -> bool:
    """A promised change printed in % on an indicator not measured in % ([-50%] of 亿元GDP生产安全事故
    死亡率, 人/亿元; '降低15%') is relative to the baseline: the end-year level is baseline × (1 − 50%).
    On a row measured in % ([15] of 万元GDP用水量降低, %) it is the sum of the yearly figures."""
    printed = (cell.printed or "").replace("％", "%") if cell is not None else ""
    return (cell is not None and cell.form == "cumulative" and cell.number is not None and "%" in printed
            and "".join(str(unit or "").split()) not in PERCENT_UNITS)
