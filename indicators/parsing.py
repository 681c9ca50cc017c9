"""Parser for the indicator tables (指标体系) of five-year-plan documents.

Pure Python, no database: it walks the rows that ``projects.importer.read_rows`` gives for a
plan text (tab-separated table lines), a CSV or an XLSX file, finds every titled indicator
table and returns what each row printed, with every value cell parsed into number,
qualifier, form and reference year.

A table is a title row (one non-empty cell: contains 表 or 指标 and ends with 表, or starts
with 表N) followed by a header row (first non-empty cell 序号, 类别, 领域 or 指标…), an optional
second header row (years under 规划目标 / 完成情况 …), data rows, repeated headers where a
page broke, and footnotes (注：… / 备注： 1. … 2. …).

PDF conversion breaks rows in a few recurring ways; each data row is therefore tried against
a handful of alignments (as printed; with an extra sub-indicator column; with the dropped
category cell restored; with a sub-indicator name slipped into the first column) and the
first one in which every cell makes sense is taken. A row that fits none is an error.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from indicators.promise import PERCENT_UNITS
from projects.importer import ImportFailed, Row, halfwidth, read_rows, squeeze

# ---------------------------------------------------------------- results


@dataclass
class ParsedValue:
    printed: str            # the cell as printed (whitespace-normalised), '' if empty
    number: Decimal | None  # the number; None for text, missing, or a list of several numbers
    qualifier: str          # '' | 'ge' | 'le' | 'gt' | 'lt' (> and < are strict)
    form: str               # 'level' | 'growth' | 'cumulative' | 'text' | 'missing'
    year: int | None        # the column's year, or the year printed in the cell
    percent: bool           # a % sign was printed in the cell
    starred: bool = False   # the cell carried a '*' (its meaning is given by a footnote)
    numbers: tuple = ()     # every number printed, e.g. [21.2、20.3、15、15] -> four


@dataclass
class ParsedIndicator:
    line: int
    where: str
    category: str
    seq: str
    name: str
    parent_name: str
    unit: str
    attribute: str          # 'expected' | 'binding' | ''
    is_new: bool
    baseline: ParsedValue | None
    target: ParsedValue | None
    growth: ParsedValue | None
    planned: ParsedValue | None
    actual: ParsedValue | None
    notes: str
    actual_growth: ParsedValue | None = None          # completion tables: 完成情况 年均增幅
    series: dict = field(default_factory=dict)         # history tables: {year: ParsedValue}


@dataclass
class ParsedTable:
    title: str
    kind: str               # 'targets' | 'completion' | 'history'
    line: int
    headers: list
    indicators: list
    footnotes: list
    baseline_year: int | None
    target_year: int | None
    where: str = ""


@dataclass
class ParsedIndicatorDocument:
    file_label: str
    plan_name: str
    start_year: int | None
    end_year: int | None
    tables: list
    warnings: list


# ---------------------------------------------------------------- text helpers

_CJK = r"\u2e80-\u2fff\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef“”‘’"
_CJK_SPACE = re.compile(rf"\s+(?=[{_CJK}])|(?<=[{_CJK}])\s+")
_VALUE_CHARS = str.maketrans({
    "％": "%", "＞": ">", "＜": "<", "≧": "≥", "≦": "≤", "［": "[", "］": "]", "【": "[", "】": "]",
    "（": "(", "）": ")", "＋": "+", "＊": "*", "，": ",", "−": "-",
})


def collapse(text) -> str:
    """Fold white space only: for titles, header cells and footnotes as printed."""
    return re.sub(r"\s+", " ", str(text or "").replace("\u00a0", " ")).strip()


def tidy(text) -> str:
    """Undo PDF wrapping in names, units and categories: drop any white space next to a CJK
    character ('综合 实力' -> '综合实力', 'R&D 经费支出占 GDP 比重' -> 'R&D经费支出占GDP比重')."""
    return _CJK_SPACE.sub("", squeeze(str(text or "")))


def _strip_markup(text: str) -> str:
    """Drop Markdown heading/bold/list markers left by the text conversion."""
    text = collapse(text)
    text = re.sub(r"^#+\s*", "", text)
    text = re.sub(r"^[-•]\s+", "", text)
    return text.replace("**", "").strip()


# ---------------------------------------------------------------- periods

_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def _cn_number(text: str) -> int | None:
    """'十四' -> 14, '九' -> 9, '二十一' -> 21."""
    if not text or any(ch not in _CN_DIGITS and ch != "十" for ch in text):
        return None
    if "十" not in text:
        return _CN_DIGITS[text] if len(text) == 1 else None
    tens, _, units = text.partition("十")
    value = (_CN_DIGITS.get(tens, 0) if tens else 1) * 10 + (_CN_DIGITS.get(units, 0) if units else 0)
    return value if (not tens or tens in _CN_DIGITS) and (not units or units in _CN_DIGITS) else None


def _plan_years(n: int) -> tuple[int, int]:
    # 1st 1953-57, 2nd 1958-62, then three adjustment years: 3rd 1966-70 … 14th 2021-25.
    start = 1953 + 5 * (n - 1) if n <= 2 else 1966 + 5 * (n - 3)
    return start, start + 4


_FYP_SHORT = re.compile(r"(?<![一二三四五六七八九十])十([一二三四五六七八九])五(?![年个])")
_FYP_TENTH = re.compile(r"[“\"「]十五[”\"」]")
_FYP_LONG = re.compile(r"第([一二三四五六七八九十]{1,3})个五年")
_YEAR_RANGE = re.compile(r"((?:19|20)\d{2})\s*年?\s*(?:[-—–~～]+|至|到)\s*((?:19|20)\d{2})")


def period_of_text(text: str) -> tuple[int | None, int | None]:
    """The five-year period named in a text: '“十五五”' -> (2026, 2030), '第十四个五年规划' ->
    (2021, 2025); failing that an explicit range such as '规划期 2022—2026 年' -> (2022, 2026)."""
    text = text or ""
    found = []
    for match in _FYP_SHORT.finditer(text):
        found.append((match.start(), 10 + _CN_DIGITS[match[1]]))
    for match in _FYP_TENTH.finditer(text):
        found.append((match.start(), 10))
    for match in _FYP_LONG.finditer(text):
        n = _cn_number(match[1])
        if n:
            found.append((match.start(), n))
    if found:
        return _plan_years(min(found)[1])
    match = _YEAR_RANGE.search(text)
    if match:
        start, end = int(match[1]), int(match[2])
        if start <= end <= start + 15:
            return start, end
    return None, None


# ---------------------------------------------------------------- values

_MISSING_MARK = re.compile(r"[—\-/－–\\~]{1,3}")
_MISSING_WORDS = {"", "无", "暂无", "无统计", "未有统计", "未统计", "无数据", "暂无数据", "未出"}
_KNOWN_TEXT = [re.compile(p) for p in (
    r"按(上级|省|市|国家)?.{0,6}(任务|要求|目标|下达)",        # 按上级任务
    r"完成(上级|省|市)?下达(的)?(目标|任务|指标)?",             # 完成下达目标
    r"与.{1,8}同步",                                          # 与经济增长同步
    r"(稳步|持续|逐步|稳定|不断)(提升|提高|增长|下降|降低|改善)",  # 稳步提升
    r"保持.{0,8}(水平|稳定)",                                  # 保持省平均水平
    r"达到(国家|省|市).{0,8}(要求|标准|水平)",
    rf"[{_CJK}()]+为[+-]?\d+(\.\d+)?%?",                       # 研发费用占营业收入比重为3.4%
)]
_GE_PREFIX = (">=", "≥", "不低于", "不少于", "不小于")
_LE_PREFIX = ("<=", "≤", "不高于", "不超过", "不大于", "控制在")
_GT_PREFIX = (">", "大于", "高于", "超过")   # strict: '>80' is not met by 80
_LT_PREFIX = ("<", "低于", "小于")
_GE_SUFFIX = ("及以上", "以上")
_LE_SUFFIX = ("及以下", "以下", "以内")
_FALL_PREFIX = ("降低", "下降", "减少")  # '降低15%': a change from the baseline, like [-15%]
_APPROX = ("左右",)
_NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?|[+-]?\.\d+")
_INFINITE = {"nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "∞", "+∞", "-∞"}
LIMIT = Decimal("1e12")
BAD_NUMBER = "无法识别的数值（应为数字、—、[累计值] 或“按上级任务”等文字表述）"


def _number(text: str) -> Decimal:
    if text.lower() in _INFINITE:
        raise ValueError("不是有限的数值（NaN/无穷大）")
    if not _NUMBER.fullmatch(text):
        raise ValueError(BAD_NUMBER)
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise ValueError(BAD_NUMBER) from None
    if not value.is_finite():
        raise ValueError("不是有限的数值（NaN/无穷大）")
    if abs(value) > LIMIT:
        raise ValueError("数值超出范围（绝对值不能超过 10 的 12 次方）")
    return value


def parse_value(raw: str, *, year: int | None = None, growth_column: bool = False) -> ParsedValue:
    """One value cell. Raises ValueError (reason in Chinese) for a cell that is neither a
    number in a known form, a missing mark, nor a known text form.

    '≥93.3' -> 93.3 ge; '>80' -> 80 gt (strict); '70%以上' -> 70 ge percent; '[-50%]' and '降低50%'
    -> -50 cumulative percent;
    '2019年 32.21' -> 32.21 of 2019; '按上级任务' -> text; '—', '-', '/', '' -> missing.
    """
    printed = squeeze(str(raw or ""))
    text = halfwidth(printed).translate(_VALUE_CHARS).replace(" ", "")
    starred = text.startswith("*") or text.endswith("*")
    text = text.strip("*")
    if text in _MISSING_WORDS or _MISSING_MARK.fullmatch(text):
        return ParsedValue(printed, None, "", "missing", year, False, starred)
    match = re.fullmatch(r"((?:19|20)\d{2})年(.+)", text)
    if match:  # a value from another year: '2019年 32.21'
        year, text = int(match[1]), match[2]
    percent = "%" in text
    if any(p.fullmatch(text) for p in _KNOWN_TEXT):
        return ParsedValue(printed, None, "", "text", year, percent, starred)

    form = "growth" if growth_column else "level"
    match = re.fullmatch(r"\[(.*)\]", text)
    if match:  # [ ] holds a five-year cumulative value
        form, text = "cumulative", match[1]
    elif text.endswith("(累计)") or text.startswith("累计"):
        form, text = "cumulative", text.replace("(累计)", "").removeprefix("累计")
    else:
        for prefix in ("年均增长", "年均增速", "年均"):
            if text.startswith(prefix):
                form, text = "growth", text[len(prefix):]
                break
    sign = ""
    if form != "cumulative":
        for word in _FALL_PREFIX:
            if text.startswith(word) and "%" in text:
                form, text, sign = "cumulative", text[len(word):], "-"
                break
    qualifier = ""
    for words, kind, at_start in ((_GE_PREFIX, "ge", True), (_LE_PREFIX, "le", True),
                                  (_GT_PREFIX, "gt", True), (_LT_PREFIX, "lt", True),
                                  (_GE_SUFFIX, "ge", False), (_LE_SUFFIX, "le", False),
                                  (_APPROX, "", False)):
        for word in words:
            if at_start and text.startswith(word):
                text, qualifier = text[len(word):], kind or qualifier
                break
            if not at_start and text.endswith(word):
                text, qualifier = text[: -len(word)], kind or qualifier
                break
    text = text.removeprefix("约").replace("%", "")
    numbers = tuple(_number(sign + p) for p in text.split("、"))  # '21.2、20.3、15、15' lists several
    return ParsedValue(printed, numbers[0] if len(numbers) == 1 else None, qualifier, form, year,
                       percent, starred, numbers)


def _value_like(text: str) -> bool:
    """A number, a missing mark or a bracketed value — never a name, unit or category."""
    try:
        return parse_value(text).form != "text"
    except ValueError:
        return False


ATTRIBUTES = {"预期性": "expected", "预测性": "expected", "约束性": "binding"}


# ---------------------------------------------------------------- header layout

@dataclass
class _Column:
    role: str          # category seq name subname unit value growth attribute notes
    label: str         # as printed (both header rows combined)
    year: int | None = None
    slot: str = ""     # value: baseline/target/planned/actual/series; growth: growth/actual_growth


_HEADER_STARTS = ("序号", "类别", "领域", "分类", "指标", "指标名称")
_NAME_LABELS = ("指标", "指标名称", "名称", "指标内容")
_SUBHEADER_WORD = re.compile(r"(?:19|20)\d{2}\s*年|年均|增幅|增长|累计|目标|实际|规划|完成")
_GROWTH_WORD = re.compile(r"年均|增幅|增长率|增速|累计")
_TITLE_START = re.compile(r"^表\s*[0-9一二三四五六七八九十]")


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text or "")


def _is_indicator_header(cells) -> bool:
    compact = [_compact(c) for c in cells]
    filled = [c for c in compact if c]
    return (len(filled) >= 2 and filled[0] in _HEADER_STARTS
            and any(c in _NAME_LABELS for c in compact))


def _is_subheader(cells) -> bool:
    filled = [collapse(c) for c in cells if collapse(c)]
    return bool(filled) and not collapse(cells[0]) and all(_SUBHEADER_WORD.search(c) for c in filled)


def _layout(head, sub) -> list[_Column]:
    """Column roles from the header row and the optional second header row."""
    head = [collapse(c) for c in head]
    sub = [collapse(c) for c in sub or []]
    labels, group = [], ""
    for i in range(max(len(head), len(sub))):
        top = head[i] if i < len(head) else ""
        low = sub[i] if i < len(sub) else ""
        group = top or group
        labels.append(f"{top or group} {low}".strip() if low else top)
    while labels and not labels[-1]:
        labels.pop()
    compact = [_compact(label) for label in labels]
    name_at = next(i for i, c in enumerate(compact) if c in _NAME_LABELS)
    columns = []
    for i, (label, c) in enumerate(zip(labels, compact)):
        year = re.search(r"((?:19|20)\d{2})年?", c)
        if not c:
            role = "category" if i < name_at else "subname" if i == name_at + 1 else "notes"
        elif "序号" in c:
            role = "seq"
        elif "属性" in c:
            role = "attribute"
        elif c in ("类别", "领域", "分类", "类型", "方面"):
            role = "category"
        elif i == name_at:
            role = "name"
        elif c.startswith("单位"):
            role = "unit"
        elif "备注" in c or "说明" in c:
            role = "notes"
        elif _GROWTH_WORD.search(c):
            role = "growth"
        elif year:
            role = "value"
        else:
            role = "notes"
        columns.append(_Column(role, label, int(year[1]) if role == "value" and year else None))
    return columns


def _kind(title: str, columns) -> str:
    values = [c for c in columns if c.role == "value"]
    labels = [_compact(c.label) for c in values]
    if "完成情况" in _compact(title) or any("完成" in c or "规划值" in c for c in labels):
        return "completion"
    if (len(values) >= 3 and not any(re.search("目标|规划", c) for c in labels)
            and not any(c.role in ("growth", "attribute") for c in columns)):
        return "history"
    return "targets"


def _assign_slots(kind: str, columns) -> None:
    values = [c for c in columns if c.role == "value"]
    years = [c.year for c in values]
    for c in columns:
        c.slot = ""
    for c in columns:
        label = _compact(c.label)
        if c.role == "growth":
            c.slot = "actual_growth" if kind == "completion" and re.search("完成|实际", label) else "growth"
        elif c.role == "value" and kind == "history":
            c.slot = "series"
        elif c.role == "value" and kind == "completion":
            if re.search("完成|实际", label) and c.year == max(years):
                c.slot = "actual"
            elif re.search("规划|目标", label):
                c.slot = "planned"
        elif c.role == "value":
            if re.search("目标|规划", label):
                c.slot = "target"
            elif re.search("实际|现状|基期|基数", label):
                c.slot = "baseline"
    # Unlabelled year columns: the earliest is the baseline, the latest the target.
    end_slot = "planned" if kind == "completion" else "target"
    free = sorted((c for c in values if not c.slot), key=lambda c: c.year)
    taken = {c.slot for c in values}
    if free and "baseline" not in taken:
        free.pop(0).slot = "baseline"
    if free and end_slot not in taken:
        free.pop().slot = end_slot
    for c in free:
        c.slot = "series"


def _slot_year(columns, slot):
    return next((c.year for c in columns if c.slot == slot), None)


# ---------------------------------------------------------------- data rows

def _check_cell(col: _Column, text: str, growth_year):
    """(parsed, error reason or None) for one cell of an alignment."""
    if col.role == "seq":
        ok = not text or re.fullmatch(r"\d{1,3}[.、]?", text)
        return text.rstrip(".、"), None if ok else "序号应为数字"
    if col.role in ("category", "name", "subname"):
        return text, "这里应为文字，不应是数值" if text and _value_like(text) else None
    if col.role == "unit":
        return text, "单位不应是数值" if text and _value_like(text) and not _MISSING_MARK.fullmatch(text) else None
    if col.role in ("value", "growth"):
        try:
            year = growth_year if col.role == "growth" else col.year
            return parse_value(text, year=year, growth_column=col.role == "growth"), None
        except ValueError as exc:
            return None, str(exc)
    if col.role == "attribute":
        compact = _compact(text)
        if compact and compact not in ATTRIBUTES:
            return None, "属性应为预期性、约束性（或预测性）"
        return ATTRIBUTES.get(compact, ""), None
    return text, None


def _read_alignment(columns, cells, growth_year):
    """Parse cells against columns: (fields, errors). fields maps role/slot to values."""
    fields = {"notes": [], "values": []}
    errors = []
    for i, col in enumerate(columns):
        raw = cells[i] if i < len(cells) else ""
        text = raw if col.role in ("value", "growth") else tidy(raw)
        parsed, reason = _check_cell(col, text, growth_year)
        if reason:
            errors.append((col.label or "指标名称", collapse(raw), reason))  # '' = sub-indicator column
        elif col.role in ("value", "growth"):
            fields["values"].append((col, parsed))
        elif col.role == "notes":
            if parsed:
                fields["notes"].append(parsed)
        else:
            fields[col.role] = parsed
    fields["notes"] += [tidy(c) for c in cells[len(columns):] if tidy(c)]
    name_label = next(c.label for c in columns if c.role == "name")
    if not errors and not (fields.get("name") or fields.get("subname")):
        errors.append((name_label, "", "缺少指标名称"))
    if not errors and not fields.get("attribute") and not any(
            v.form != "missing" for _, v in fields["values"]):
        errors.append((name_label, fields.get("name") or fields.get("subname"), "这一行没有任何数值"))
    return fields, errors


def _alignments(columns, cells, first_errors):
    """Other readings of a row the PDF conversion shifted, most likely first."""
    roles = [c.role for c in columns]
    name_at = roles.index("name")
    if "subname" not in roles and "unit" not in roles and len(columns) > name_at + 1 < len(cells):
        # a sub-indicator printed in a column the (repeated) header does not have
        extra = tidy(cells[name_at + 1])
        if first_errors[0][0] == columns[name_at + 1].label and len(re.findall(rf"[{_CJK}]", extra)) >= 2:
            widened = columns[: name_at + 1] + [_Column("subname", "")] + columns[name_at + 1:]
            yield widened, cells
    if "category" in roles and len(cells) < len(columns):
        # the category cell (merged from the row above) was dropped, shifting the row left
        at = roles.index("category")
        yield columns, cells[:at] + [""] + cells[at:]
    last_label = roles.index("subname") if "subname" in roles else name_at
    if cells and tidy(cells[0]) and not any(tidy(c) for c in cells[1:name_at + 1]):
        # a sub-indicator's name slipped into the first column, its values follow
        rest = cells[1:]
        while rest and not tidy(rest[0]):
            rest.pop(0)
        yield columns, [""] * last_label + [cells[0]] + rest


def _split_unit(name: str) -> tuple[str, str]:
    """'地区生产总值(亿元)' -> ('地区生产总值', '亿元') when the table has no 单位 column."""
    match = re.fullmatch(r"(.+?)\s*[(（]([^()（）]{1,10})[)）]", name)
    if match and not re.search(r"[A-Za-z0-9、，,]|累计", match[2]):
        return match[1], match[2]
    return name, ""


def _strip_star(name: str) -> tuple[str, bool]:
    stripped = name.strip("*＊").strip()
    return stripped, stripped != name


# ---------------------------------------------------------------- footnotes

_NOTE_START = re.compile(r"^(?:注|备注|说明|数据来源|资料来源)\s*\d*\s*[:：]|^注\s*\d")
_NOTE_NUMBERED = re.compile(r"^\d{1,2}\s*[.．、]")
_STAR_YEAR = re.compile(r"\*\s*(?:表示|为|系|是)?\s*(?:为)?\s*((?:19|20)\d{2})\s*年")


def _note_items(text: str) -> list[str]:
    """'注：1.甲；2.乙' -> ['1.甲', '2.乙']; '备注：' -> []; '- 3. 丙' -> ['3. 丙']."""
    text = squeeze(_strip_markup(text))
    if not text.startswith(("数据来源", "资料来源")):
        text = re.sub(r"^(?:注|备注|说明)\s*[:：]\s*", "", text)
    items = re.split(r"\s*[；;]\s*(?=\d{1,2}\s*[.．、]|\*)", text)
    return [item for item in items if item]


# ---------------------------------------------------------------- documents

def _title_of(row: Row) -> str | None:
    filled = [c for c in row.cells if c and str(c).strip()]
    if len(filled) != 1:
        return None
    text = _strip_markup(filled[0])
    if len(text) > 60:
        return None
    if _TITLE_START.match(text) or (("表" in text or "指标" in text) and text.endswith("表")):
        return text
    return None


def _plan_name(rows) -> str:
    for row in rows[:80]:
        filled = [c for c in row.cells if c and str(c).strip()]
        if len(filled) != 1:
            continue
        text = squeeze(_strip_markup(filled[0]))
        if len(text) > 60 or re.search(r"关于|印发|通知|《|》|〔|文件", text):
            continue
        if re.search(r"(规划|纲要)(?:[(（][^()（）]*[)）])?$", text):
            return text
    return ""


class _TableReader:
    """Walks one table from its title row; collects row errors rather than stopping."""

    def __init__(self, rows, file_label, errors, warnings):
        self.rows, self.file_label = rows, file_label
        self.errors, self.warnings = errors, warnings

    def error(self, row, column, value, reason):
        self.errors.append(f'{self.file_label} {row.where} {column} "{value}": {reason}')

    def header_at(self, k):
        """(columns, next row index) for the header row at k and an optional second row."""
        head = self.rows[k].cells
        sub = None
        if k + 1 < len(self.rows) and _is_subheader(self.rows[k + 1].cells):
            sub, k = self.rows[k + 1].cells, k + 1
        columns = _layout(head, sub)
        self.kind = self.kind or _kind(self.title, columns)  # decided by the first header
        _assign_slots(self.kind, columns)
        for c in columns:
            if c.role == "attribute":
                self.attribute_label = self.attribute_label or c.label
        return columns, k + 1

    def read(self, title_at, header_at):
        title_row, header_row = self.rows[title_at], self.rows[header_at]
        self.title = _title_of(title_row)
        self.kind, self.attribute_label = "", ""
        columns, k = self.header_at(header_at)
        if self.kind == "history":  # the span of the printed years
            years = [c.year for c in columns if c.slot == "series"]
            first_year, last_year = min(years), max(years)
        else:
            first_year = _slot_year(columns, "baseline")
            last_year = _slot_year(columns, "planned" if self.kind == "completion" else "target")
        table = ParsedTable(
            title=self.title, kind=self.kind, line=title_row.line,
            headers=[collapse(c) for c in header_row.cells[: len(columns)]],
            indicators=[], footnotes=[], baseline_year=first_year, target_year=last_year,
            where=title_row.where,
        )
        self.category, in_notes = "", False
        while k < len(self.rows):
            row = self.rows[k]
            filled = [c for c in row.cells if c and str(c).strip()]
            if not filled:
                k += 1
                continue
            if _is_indicator_header(row.cells):
                if in_notes:
                    break
                columns, k = self.header_at(k)  # the header repeated after a page break
                continue
            if len(filled) == 1:
                text = _strip_markup(filled[0])
                if _NOTE_START.match(text) or (in_notes and _NOTE_NUMBERED.match(text)):
                    table.footnotes += _note_items(text)
                    in_notes = True
                    k += 1
                    continue
                break
            if in_notes:
                break
            indicator = self.data_row(row, columns, table)
            if indicator:
                table.indicators.append(indicator)
            k += 1
        self.finish(table)
        return table, k

    def data_row(self, row, columns, table):
        cells = [str(c or "") for c in row.cells]
        while cells and not cells[-1].strip():
            cells.pop()
        growth_year = table.target_year if self.kind != "history" else None
        fields, errors = _read_alignment(columns, cells, growth_year)
        if errors:
            for other_columns, other_cells in _alignments(columns, cells, errors):
                other, other_errors = _read_alignment(other_columns, other_cells, growth_year)
                if not other_errors:
                    fields, errors, columns = other, [], other_columns
                    break
        if errors:
            for column, value, reason in errors:
                self.error(row, column, value, reason)
            return None

        seq, name, sub = fields.get("seq", ""), fields.get("name", ""), fields.get("subname", "")
        self.category = fields.get("category") or self.category
        last = table.indicators[-1] if table.indicators else None
        parent = ""
        if name and sub:
            parent, name = name, sub
        elif sub or (not seq and last and last.parent_name):
            # continues the sub-indicators of the row above (序号 and 指标 cells merged)
            if not (last and last.parent_name):
                self.error(row, "指标名称", sub, "子指标前没有上级指标")
                return None
            parent, name, seq = last.parent_name, sub or name, seq or last.seq
        name, is_new = _strip_star(name)
        unit = fields.get("unit", "")
        if not any(c.role == "unit" for c in columns):  # units printed in the name: '地区生产总值(亿元)'
            name, unit = _split_unit(name)
            parent = _split_unit(parent)[0]

        values = {c.slot: v for c, v in fields["values"]}
        growth = values.get("growth")
        if self.kind == "targets" and growth_is_end_level(unit, values.get("baseline"), values.get("target"), growth):
            growth.form = "level"
        indicator = ParsedIndicator(
            line=row.line, where=row.where, category=self.category, seq=seq, name=name,
            parent_name=parent, unit=unit, attribute=fields.get("attribute", ""), is_new=is_new,
            baseline=values.get("baseline"), target=None, growth=values.get("growth"),
            planned=None, actual=None, notes=" ".join(fields["notes"]),
            actual_growth=values.get("actual_growth"),
            series={c.year: v for c, v in fields["values"] if c.slot == "series"},
        )
        # A cumulative or text value printed in the 年均/累计 column stands in for the
        # missing end-of-period value ('—' under 2025年, '[15]' under 年均/累计).
        if self.kind == "completion":
            indicator.planned = _with_fallback(values.get("planned"), indicator.growth)
            indicator.actual = _with_fallback(values.get("actual"), indicator.actual_growth)
        elif self.kind == "targets":
            indicator.target = _with_fallback(values.get("target"), indicator.growth)
        return indicator

    def finish(self, table):
        if not table.indicators:
            self.warnings.append(f"{table.title}（{table.where}）：表头之后没有指标行")
            return
        # A 属性 cell merged over the sub-indicators of one 序号 is printed on one row only.
        groups = {}
        for ind in table.indicators:
            if ind.parent_name:
                groups.setdefault((ind.seq, ind.parent_name), []).append(ind)
        for members in groups.values():
            found = {m.attribute for m in members if m.attribute}
            if len(found) == 1:
                for m in members:
                    m.attribute = m.attribute or next(iter(found))
        if self.attribute_label:
            for ind in table.indicators:
                if not ind.attribute:
                    self.errors.append(
                        f'{self.file_label} {ind.where} {self.attribute_label} "": 缺少属性（应为预期性或约束性）')
        # '*表示为2020年数据': a starred value belongs to that year.
        star_year = next((int(m[1]) for note in table.footnotes for m in [_STAR_YEAR.search(note)] if m), None)
        if star_year:
            for ind in table.indicators:
                for value in _values_of(ind):
                    if value.starred:
                        value.year = star_year


def is_percent_unit(unit) -> bool:
    return squeeze(str(unit or "")).replace(" ", "") in PERCENT_UNITS


def growth_is_end_level(unit, baseline, target, growth) -> bool:
    """A bare number (no %) in the 年均/累计 column of a row measured in a unit other than %, that
    prints neither a baseline nor an end-year value, is that end-year level, not a rate:
    每万名就业人员中研发人员 (人年): 未有统计, 未有统计, 120. Cells are anything with `form`,
    `number` and `printed` (parsed values, or the stored columns)."""
    return (growth is not None and growth.form == "growth" and growth.number is not None
            and "%" not in halfwidth(growth.printed or "").replace("％", "%")
            and bool(squeeze(str(unit or ""))) and not is_percent_unit(unit)
            and (target is None or target.form == "missing")
            and (baseline is None or baseline.form == "missing"))


def _with_fallback(value, growth):
    if (value is None or value.form == "missing") and growth and growth.form in ("cumulative", "text"):
        return growth
    return value


def _values_of(ind):
    values = [ind.baseline, ind.target, ind.growth, ind.planned, ind.actual, ind.actual_growth]
    return [v for v in values + list(ind.series.values()) if v is not None]


def _next_filled(rows, k):
    while k < len(rows):
        if any(str(c or "").strip() for c in rows[k].cells):
            return k
        k += 1
    return None


def parse_indicator_rows(rows: list[Row], file_label: str) -> ParsedIndicatorDocument:
    """Every indicator table in the rows; raises ImportFailed with all row errors at once."""
    errors, warnings, tables = [], [], []
    plan_name = _plan_name(rows)
    start, end = period_of_text(plan_name)
    if start is None:
        for row in rows:
            text = " ".join(str(c or "") for c in row.cells)
            if "规划期" in text:
                start, end = period_of_text(text[text.index("规划期"):])
                if start:
                    break
    k = 0
    while k < len(rows):
        title = _title_of(rows[k])
        if title is None:
            k += 1
            continue
        header_at = _next_filled(rows, k + 1)
        if header_at is not None and _is_indicator_header(rows[header_at].cells):
            table, k = _TableReader(rows, file_label, errors, warnings).read(k, header_at)
            tables.append(table)
            continue
        if re.search("指标|目标", title):
            warnings.append(f"{title}（{rows[k].where}）：只有标题，表格内容缺失（可能为图片）")
        k += 1
    if errors:
        raise ImportFailed(errors)
    return ParsedIndicatorDocument(file_label, plan_name, start, end, tables, warnings)


def parse_indicator_file(path) -> ParsedIndicatorDocument:
    """A plan text, CSV or XLSX file, read with projects.importer.read_rows."""
    path = Path(path)
    return parse_indicator_rows(read_rows(path), path.name)
