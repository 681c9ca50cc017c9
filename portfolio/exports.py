"""CSV and XLSX exports of list rows: money as numbers, 待定 as 待定, streamed row by row."""
import csv
import tempfile
from decimal import Decimal

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone

from projects.models import ListKind

from .formatting import PENDING, units_text
from .tables import LIGHT_BADGES

FORMATS = ("csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def item_columns(list_kind):
    """(header, getter, is_money) for each exported column of a list."""
    cols = [("序号", lambda i: i.seq, False),
            ("项目名称" if list_kind == ListKind.PROJECT else "名称", lambda i: i.name, False)]
    if list_kind not in (ListKind.REFORM, ListKind.POLICY):
        cols.append(("类别", lambda i: i.category.name if i.category else "", False))
    if list_kind == ListKind.POLICY:
        cols.append(("领域", lambda i: i.domain, False))
    cols.append(("建设规模和内容" if list_kind == ListKind.PROJECT else "工作目标任务", lambda i: i.content, False))
    if list_kind == ListKind.PROJECT:
        cols += [
            ("项目类型", lambda i: i.get_project_type_display(), False),
            ("建设期限", lambda i: i.period_display, False),
            ("总投资（亿元）", lambda i: i.total_investment, True),
            ("“十四五”投资（亿元）", lambda i: i.plan_investment, True),
        ]
    cols += [("责任单位", lambda i: units_text(i) or PENDING, False),
             ("状态", lambda i: i.get_status_display(), False)]
    if list_kind == ListKind.PROJECT:
        cols += [("累计完成投资（亿元）", lambda i: i.cumulative if i.last_month else None, True),
                 ("最近填报月份", lambda i: i.last_month.strftime("%Y-%m") if i.last_month else "", False)]
    cols.append(("红黄绿灯", lambda i: LIGHT_BADGES.get(i.light, ("", ""))[1], False))
    return cols


def _rows(queryset, columns):
    for item in queryset.iterator(chunk_size=2000):
        yield [get(item) for _, get, _ in columns], [m for _, _, m in columns]


def _csv_value(value, is_money):
    if is_money:
        return PENDING if value is None else f"{Decimal(value):.2f}"
    return "" if value is None else value


class _Echo:
    def write(self, value):
        return value


def stream_csv(header, rows, filename):
    """rows yields (values, money_flags); UTF-8 with BOM so Excel shows the Chinese."""
    writer = csv.writer(_Echo())

    def generate():
        yield "\ufeff" + writer.writerow(header)
        for values, flags in rows:
            yield writer.writerow([_csv_value(v, m) for v, m in zip(values, flags)])

    response = StreamingHttpResponse(generate(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition(filename)
    return response


def content_disposition(filename):
    from urllib.parse import quote

    return f"attachment; filename*=UTF-8''{quote(filename)}"


def xlsx_value(value, is_money):
    if is_money:
        return PENDING if value is None else float(value)
    return value


def write_item_sheet(sheet, header, rows, widths=None):
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font

    bold = Font(bold=True)
    sheet.freeze_panes = "A2"
    for i, width in enumerate(widths or [], start=1):
        from openpyxl.utils import get_column_letter
        sheet.column_dimensions[get_column_letter(i)].width = width
    head = []
    for h in header:
        c = WriteOnlyCell(sheet, value=h)
        c.font = bold
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        head.append(c)
    sheet.append(head)
    for values, flags in rows:
        out = []
        for v, m in zip(values, flags):
            c = WriteOnlyCell(sheet, value=xlsx_value(v, m))
            if m and v is not None:
                c.number_format = "#,##0.00"
            if m and v is None:
                c.alignment = Alignment(horizontal="right")
            out.append(c)
        sheet.append(out)


def item_widths(columns):
    wide = {"项目名称": 40, "名称": 36, "建设规模和内容": 60, "工作目标任务": 60, "责任单位": 36}
    return [wide.get(h, 14) for h, _, _ in columns]


def export_items(queryset, list_kind, fmt):
    columns = item_columns(list_kind)
    header = [h for h, _, _ in columns]
    stamp = timezone.localdate().strftime("%Y%m%d")
    name = f"{ListKind(list_kind).label}清单_{stamp}.{fmt}"
    if fmt == "csv":
        return stream_csv(header, _rows(queryset, columns), name)
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(ListKind(list_kind).label)
    write_item_sheet(sheet, header, _rows(queryset, columns), item_widths(columns))
    tmp = tempfile.TemporaryFile()
    book.save(tmp)
    tmp.seek(0)
    return FileResponse(tmp, as_attachment=True, filename=name, content_type=XLSX_TYPE)
