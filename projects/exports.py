"""CSV and XLSX files: list exports read their columns from the list's Table; every sheet and
CSV writes text as text (never a live formula) and money as numbers, 待定 as 待定.

Text cells: XLSX cells are typed as strings; CSV cells starting with = + - @, a tab or a CR
get a leading apostrophe (OWASP's advice against formula injection)."""
import csv
import inspect
import tempfile
from decimal import Decimal
from urllib.parse import quote

from django.http import FileResponse, StreamingHttpResponse

from .formatting import MONEY_FORMAT, PENDING, round_money

FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def content_disposition(filename):
    return f"attachment; filename*=UTF-8''{quote(filename)}"


# ---------------------------------------------------------------- columns from a Table

def _getter(table, bound):
    """A fast value getter for one exported column: the Table's value_<name> method if it has one,
    else the record's value under the column's accessor."""
    accessor = str(bound.accessor)
    method = getattr(table, f"value_{bound.name}", None)
    if method is None:
        return lambda record: record.get(accessor)
    wants = set(inspect.signature(method).parameters)
    if wants == {"value"}:
        return lambda record: method(value=record.get(accessor))
    if wants == {"record"}:
        return lambda record: method(record=record)
    return lambda record: method(value=record.get(accessor), record=record)


def export_columns(table):
    """[(header, getter, is_money)] of every exported column of the table, hidden ones included."""
    return [(str(bound.header), _getter(table, bound), getattr(bound.column, "is_money", False))
            for bound in table.columns.iterall() if not bound.column.exclude_from_export]


def table_rows(table, chunk_size=2000):
    """(values, money flags) for every row of the table's ordered data, read in chunks."""
    columns = export_columns(table)
    flags = [m for _, _, m in columns]
    getters = [g for _, g, _ in columns]
    for record in table.data.data.iterator(chunk_size=chunk_size):
        yield [get(record) for get in getters], flags


def table_header(table):
    return [h for h, _, _ in export_columns(table)]


# ---------------------------------------------------------------- cells

def safe_text(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def csv_value(value, is_money=False):
    if is_money and not isinstance(value, str):  # a money column's text (未报) is written as text
        return PENDING if value is None else f"{round_money(value):.2f}"
    if value is None:
        return ""
    if isinstance(value, (int, float, Decimal)):
        return value
    return safe_text(str(value))


class _Echo:
    def write(self, value):
        return value


def stream_csv(header, rows, filename):
    """rows yields (values, money flags); UTF-8 with BOM so Excel shows the Chinese."""
    writer = csv.writer(_Echo())

    def generate():
        yield "\ufeff" + writer.writerow([csv_value(h) for h in header])
        for values, flags in rows:
            yield writer.writerow([csv_value(v, m) for v, m in zip(values, flags)])

    response = StreamingHttpResponse(generate(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition(filename)
    return response


def xlsx_cell(sheet, value, is_money=False):
    """A write-only cell: money as a number (待定 as text), text always a string cell."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment

    if is_money and value is None:
        cell = WriteOnlyCell(sheet, value=PENDING)
        cell.alignment = Alignment(horizontal="right")
        return cell
    if isinstance(value, Decimal):
        # Written as the decimal's own digits, never a float; money as shown on the pages.
        cell = WriteOnlyCell(sheet, value=round_money(value) if is_money else value)
        cell.number_format = MONEY_FORMAT if is_money else "0.0"
        return cell
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would store '=...' as a formula
    return cell


def set_page_setup(sheet, header_rows=1):
    """A4 landscape, fit to the page width, the header rows repeated on every printed page."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = "9"  # A4 (openpyxl Worksheet.PAPERSIZE_A4)
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    if header_rows:
        sheet.print_title_rows = f"1:{header_rows}"


def header_cells(sheet, header):
    """A header row's cells: bold, centred, wrapped."""
    from openpyxl.styles import Alignment, Font

    cells = []
    for h in header:
        cell = xlsx_cell(sheet, h)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cells.append(cell)
    return cells


def write_sheet(sheet, header, rows, widths=None):
    from openpyxl.utils import get_column_letter

    sheet.freeze_panes = "A2"
    set_page_setup(sheet)
    for i, width in enumerate(widths or [], start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.append(header_cells(sheet, header))
    for values, flags in rows:
        sheet.append([xlsx_cell(sheet, v, m) for v, m in zip(values, flags)])


WIDE = {"名称": 40, "建设规模和内容": 60, "工作目标任务": 60, "责任单位": 36}


def xlsx_response(title, header, rows, filename, note=""):
    """One sheet; `note` (e.g. how a figure is computed) goes in a row below the data."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    write_sheet(sheet, header, rows, [WIDE.get(h, 14) for h in header])
    if note:
        sheet.append([])
        sheet.append([xlsx_cell(sheet, note)])
    tmp = tempfile.TemporaryFile()
    book.save(tmp)
    tmp.seek(0)
    return FileResponse(tmp, as_attachment=True, filename=filename, content_type=XLSX_TYPE)


def export_table(table, fmt, title, filename):
    """The table's ordered rows (all of them, not the page) as CSV (streamed) or XLSX."""
    header = table_header(table)
    if fmt == "csv":
        return stream_csv(header, table_rows(table), filename)
    return xlsx_response(title, header, table_rows(table), filename)
