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
