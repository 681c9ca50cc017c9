"""One validation path for every upload (plan import, annual targets, monthly reports, indicator
values): reading the file safely, and checking each cell.

Reading: a file over TRACKER_UPLOAD_MAX_BYTES, an XLSX whose unpacked size or declared rows
exceed the limits (a zip bomb), a sheet over TRACKER_UPLOAD_MAX_ROWS, or a formula without a
cached value is refused before any row is used. Cells: money, 序号, years, lengths and unit
cells are checked against the same bounds the models keep, so a value that cannot be shown is
never stored. Every refusal reads `file 第 N 行 column "value": reason`.
"""
from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.conf import settings

MIN_YEAR, MAX_YEAR = 1949, 2100
MAX_SEQ = 99_999
MONEY_INTEGER_DIGITS, MONEY_PLACES = 10, 4  # MONEY fields: max_digits=14, decimal_places=4
UNKNOWN = {"待定", ""}
PLACEHOLDER_UNITS = {"", "待定", "业主单位", "无", "/", "-", "—"}
UNIT_SEPARATORS = "、；;，, "
FORMULA_NOT_CACHED = "公式没有缓存值，请在 Excel 中保存后再导入"

_FULLWIDTH = str.maketrans("０１２３４５６７８９．－～　", "0123456789.-~ ")
_PERIOD_DASH = re.compile(r"\s*[-~—–至]+\s*")
_DIGITS = re.compile(r"[0-9]+")


class ImportFailed(Exception):
    """Raised with every validation error; nothing has been written."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


def cell_error(file_label, where, column, raw, reason) -> str:
    value = str(raw)
    if len(value) > 40:
        value = value[:40] + "…"
    return f'{file_label} {where} {column} "{value}": {reason}'


def halfwidth(text: str) -> str:
    return (text or "").translate(_FULLWIDTH).strip()


# ---------------------------------------------------------------- cells (raise ValueError(reason))

def parse_money(raw: str):
    """'7.3' → (7.3, False); '约 200' → (200, True); '待定' or '' → (None, False)."""
    text = halfwidth(str(raw)).replace(" ", "").replace(",", "")
    if text in UNKNOWN:
        return None, False
    approx = False
    if text.startswith("约"):
        approx, text = True, text[1:]
    if not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text):
        raise ValueError("不是数字（应为亿元金额或“待定”）")
    value = Decimal(text)
    if value < 0:
        raise ValueError("金额不能为负数")
    if value.as_tuple().exponent < -MONEY_PLACES or value >= Decimal(10) ** MONEY_INTEGER_DIGITS:
        raise ValueError(f"金额超出范围（最多 {MONEY_INTEGER_DIGITS} 位整数、{MONEY_PLACES} 位小数，单位亿元）")
    return value, approx


def parse_number(raw, *, low=None, high=None, places=2, label="数值"):
    """A plain decimal within bounds (progress %, amounts of a month); '' → None."""
    text = halfwidth(str(raw)).replace(" ", "").replace(",", "")
    if text == "":
        return None
    if not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text):
        raise ValueError(f"{label}应为数字")
    value = Decimal(text)
    if value.as_tuple().exponent < -places:
        raise ValueError(f"{label}最多 {places} 位小数")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{label}应在 {low} 到 {high} 之间")
    return value


def parse_year(raw) -> int:
    text = halfwidth(str(raw)).replace("年", "")
    if not re.fullmatch(r"[0-9]{4}", text):
        raise ValueError("年份应为四位数字")
    year = int(text)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"年份应在 {MIN_YEAR} 至 {MAX_YEAR} 之间")
    return year


def parse_period(raw: str):
    """'2021-2025' → (2021, 2025); '2021' → (2021, 2021); '待定' → (None, None)."""
    text = halfwidth(str(raw)).replace(" ", "").replace("年", "")
    if text in UNKNOWN:
        return None, None
    parts = [p for p in _PERIOD_DASH.split(text) if p]
    if not all(re.fullmatch(r"[0-9]{4}", p) for p in parts) or len(parts) not in (1, 2):
        raise ValueError("建设期限应为“YYYY-YYYY”、“YYYY”或“待定”")
    start, end = parse_year(parts[0]), parse_year(parts[-1])
    if end < start:
        raise ValueError("结束年份早于开始年份")
    return start, end


def parse_seq(raw) -> int:
    """序号: a positive whole number of ASCII (or full-width) digits, at most MAX_SEQ."""
    text = halfwidth(str(raw))
    if not _DIGITS.fullmatch(text):
        raise ValueError("序号应为正整数")
    if len(text) > 6 or not 1 <= int(text) <= MAX_SEQ:
        raise ValueError(f"序号应在 1 至 {MAX_SEQ} 之间")
    return int(text)


_ID = re.compile(r"[0-9]{1,19}")


def parse_id(raw):
    """A primary key from a query string: ASCII digits within a bigint, else None. str.isdigit()
    is no test: it accepts '²' and '١', which int() refuses or reads."""
    text = str(raw or "")
    return int(text) if _ID.fullmatch(text) and 0 < int(text) < 2**63 else None


def is_seq(raw) -> bool:
    return bool(_DIGITS.fullmatch(halfwidth(str(raw))))


def check_length(text: str, model, field_name: str, label: str | None = None) -> str:
    """The text, if it fits the model field; else ValueError naming the limit."""
    limit = model._meta.get_field(field_name).max_length
    if limit is not None and len(text) > limit:
        raise ValueError(f"{label or model._meta.get_field(field_name).verbose_name}超过 {limit} 字（{len(text)} 字）")
    return text


def split_unit_cell(text: str) -> list[str]:
    """Split a normalised 责任单位 cell on 、；; outside brackets; drop placeholders (待定, 业主单位).
    A cell of separators only is refused (it names no unit and no placeholder)."""
    if text and all(ch in UNIT_SEPARATORS for ch in text):
        raise ValueError("责任单位只有分隔符，没有单位名称")
    names, depth, current = [], 0, []
    for ch in text:
        if ch in "（(":
            depth += 1
        elif ch in "）)":
            depth = max(0, depth - 1)
        if ch in "、；;" and depth == 0:
            names.append("".join(current))
            current = []
        else:
            current.append(ch)
    names.append("".join(current))
    result = []
    for name in (n.strip() for n in names):
        if name not in PLACEHOLDER_UNITS and name not in result:
            result.append(name)
    return result


# ---------------------------------------------------------------- files

@dataclass
class Row:
    where: str
    line: int
    cells: list
    sheet: str = ""


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        # Excel holds 15 significant digits; a cached =SUM() such as 525.9300000000001 is 525.93.
        if value != value or value in (float("inf"), float("-inf")):
            return "NaN"
        return format(Decimal(f"{value:.15g}").normalize(), "f")
    return str(value)


def _limits():
    return (getattr(settings, "TRACKER_UPLOAD_MAX_BYTES", 20 * 1024 * 1024),
            getattr(settings, "TRACKER_UPLOAD_MAX_ROWS", 100_000))


def read_bytes(source, name: str) -> bytes:
    """The file's bytes, refused when larger than the upload limit (read no further)."""
    max_bytes, _ = _limits()
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise ImportFailed([f"{source}: 文件不存在"])
        if path.stat().st_size > max_bytes:
            raise ImportFailed([f"{name}: 文件超过 {max_bytes // (1024 * 1024)} MB，请拆分后再导入"])
        return path.read_bytes()
    data = source.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ImportFailed([f"{name}: 文件超过 {max_bytes // (1024 * 1024)} MB，请拆分后再导入"])
    return data


def read_rows(source, name: str | None = None) -> list[Row]:
    """Rows of a plan text (tab-separated), CSV or XLSX file, from a path or an uploaded file."""
    name = name or Path(str(source)).name
    data = read_bytes(source, name)
    if not data.strip():
        raise ImportFailed([f"{name}: 文件为空"])
    if data[:4] == b"PK\x03\x04":
        return read_xlsx_rows(data, name)
    if b"\x00" in data[:4096]:
        raise ImportFailed([f"{name}: 不是表格文件（应为规划文本、CSV 或 XLSX）"])
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFailed([f"{name}: 无法识别的文本编码（应为 UTF-8 或 GB18030）"])
    lines = text.splitlines()
    _, max_rows = _limits()
    if len(lines) > max_rows:
        raise ImportFailed([f"{name}: 超过 {max_rows} 行，请拆分后再导入"])
    if any("\t" in line for line in lines):
        return [Row(f"第 {n} 行", n, line.split("\t")) for n, line in enumerate(lines, start=1)]
    reader = csv.reader(io.StringIO(text))
    return [Row(f"第 {n} 行", n, cells) for n, cells in enumerate(reader, start=1)]


_ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s>]")
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension ref="[A-Z]+[0-9]+:?[A-Z]*([0-9]*)"')


def _check_xlsx_archive(data: bytes, name: str):
    """Refuse a zip bomb from the archive's own table of contents, before unpacking anything."""
    max_bytes, max_rows = _limits()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except zipfile.BadZipFile:
        raise ImportFailed([f"{name}: 不是有效的 XLSX 文件"]) from None
    unpacked = sum(m.file_size for m in members)
    if unpacked > 10 * max_bytes:
        raise ImportFailed([f"{name}: 解压后超过 {10 * max_bytes // (1024 * 1024)} MB，请拆分后再导入"])
    too_many = ImportFailed([f"{name}: 超过 {max_rows} 行，请拆分后再导入"])
    rows = 0
    for member in members:
        if not (member.filename.startswith("xl/worksheets/") and member.filename.endswith(".xml")):
            continue
        with archive.open(member) as sheet:
            head = sheet.read(4096)
            match = _DIMENSION.search(head)
            if match and match.group(1) and int(match.group(1)) > max_rows:
                raise too_many
            # Count the rows in the raw XML, a stream of bytes, before any parser builds them.
            tail, chunk = b"", head
            while chunk:
                rows += len(_ROW_TAG.findall(tail + chunk)) - len(_ROW_TAG.findall(tail))
                if rows > max_rows:
                    raise too_many
                tail, chunk = chunk[-16:], sheet.read(1 << 20)


def read_xlsx_rows(data: bytes, name: str) -> list[Row]:
    from openpyxl import load_workbook

    _check_xlsx_archive(data, name)
    _, max_rows = _limits()
    try:
        values = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        formulas = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise ImportFailed([f"{name}: 不是有效的 XLSX 文件（{exc.__class__.__name__}）"]) from None
    rows, errors, seen = [], [], 0
    for sheet, raw_sheet in zip(values.worksheets, formulas.worksheets):
        not_finite = unreadable = False
        try:
            for n, (cached, raw) in enumerate(zip(sheet.iter_rows(values_only=True),
                                                  raw_sheet.iter_rows(values_only=True)), start=1):
                seen += 1
                if seen > max_rows:
                    raise ImportFailed([f"{name}: 超过 {max_rows} 行，请拆分后再导入"])
                where = f"工作表「{sheet.title}」第 {n} 行"
                for column, (value, formula) in enumerate(zip(cached, raw), start=1):
                    if value is None and isinstance(formula, str) and formula.startswith("="):
                        errors.append(cell_error(name, where, f"第 {column} 列", formula, FORMULA_NOT_CACHED))
                    elif isinstance(value, float) and not math.isfinite(value):
                        not_finite = True
                rows.append(Row(where, n, [cell_text(v) for v in cached], sheet.title))
        except (ValueError, TypeError, OverflowError) as exc:
            # openpyxl casts a stored number with int() or float(): "NaN" or "1.5.3" stops the sheet.
            unreadable = exc
        if not_finite or unreadable:
            found = _bad_numbers(data, sheet._worksheet_path)
            errors.extend(cell_error(name, f"工作表「{sheet.title}」第 {row} 行", f"第 {column} 列", text, NOT_FINITE)
                          for row, column, text in found)
            if unreadable and not found:
                errors.append(f"{name} 工作表「{sheet.title}」: 无法读取（{unreadable.__class__.__name__}），"
                              "请在 Excel 中另存为 XLSX 后再导入")
    values.close()
    formulas.close()
    if errors:
        raise ImportFailed(errors)
    return rows


NOT_FINITE = "不是有限的数字（NaN、无穷大或无法识别）"


def _bad_numbers(data: bytes, worksheet_path: str) -> list[tuple[int, int, str]]:
    """(row, column, stored text) of every numeric cell of a sheet whose stored number is not a
    finite number: NaN, an infinity, 1e309 (beyond a double), or no number at all."""
    from xml.etree.ElementTree import iterparse

    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    found = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open(worksheet_path.lstrip("/")) as sheet:
        for _, element in iterparse(sheet):
            if element.tag.rsplit("}", 1)[-1] != "c":
                continue
            if element.get("t", "n") == "n":
                stored = next((child.text for child in element if child.tag.rsplit("}", 1)[-1] == "v"), None)
                if stored is not None:
                    try:
                        finite = math.isfinite(float(stored))
                    except ValueError:
                        finite = False
                    if not finite:
                        try:
                            letters, row = coordinate_from_string(element.get("r") or "")
                            column = column_index_from_string(letters)
                        except (ValueError, TypeError):  # a cell without its optional reference
                            row = column = "?"
                        found.append((row, column, stored.strip()))
            element.clear()
    return found


def parse_cells(cells, error):
    """{column: parsed value} for [(column, raw, parser)], or None when any cell fails; each
    failure is reported through error(column, raw, reason), so a row names all its bad cells."""
    parsed = {}
    for column, raw, parse in cells:
        try:
            parsed[column] = parse(raw)
        except ValueError as exc:
            error(column, raw, str(exc))
    return parsed if len(parsed) == len(cells) else None
