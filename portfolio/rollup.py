"""Rollups in the layout of the plan's attachment (XLSX, or one CSV per sheet in a zip), within
the user's scope: a unit user's rollup holds only its own units' entries on every sheet.

Entry rows take their columns from the list Table (portfolio/tables.py); category 小计 and list
合计 rows are sums of the rows shown (待定 left out, 待定 only when nothing is known); printed
figures are never copied.
"""
import csv
import datetime
import io
import tempfile
import zipfile
from decimal import Decimal

from django.db.models import Count, F, Q, Sum
from django.http import FileResponse

from projects.models import Item, ListKind, ProjectType, Role, Unit, period_text, role_of
from projects.names import pinyin_key

from projects.exports import XLSX_TYPE, csv_value, safe_text, set_page_setup
from projects.formatting import MONEY_FORMAT, PENDING, round_money
from projects.permissions import can
from .rules import Unassigned
from .summary import dashboard, entry_figures, rate, scoped_items
from .tables import ItemTable, list_records, not_reported, with_list_figures

PROJECT_SEQUENCE = ("seq", "name", "content", "project_type", "period", "total_investment", "plan_investment",
                    "units", "status", "cumulative", "completion", "light")
OTHER_SEQUENCE = ("seq", "domain", "name", "content", "units", "status", "last_month", "light")


def _rollup_table(records, list_kind, period_label):
    """The list columns in the attachment's order, plus the investment completion rate."""
    import django_tables2 as tables

    class Table(ItemTable):
        completion = tables.Column("投资完成率（%）", empty_values=())

        class Meta(ItemTable.Meta):
            sequence = PROJECT_SEQUENCE if list_kind == ListKind.PROJECT else \
                tuple(c for c in OTHER_SEQUENCE if c != "domain" or list_kind == ListKind.POLICY)

        def value_completion(self, record):
            if not_reported(record):
                return None
            return rate(record["cumulative"], record["total_investment"])

        def value_cumulative(self, record):
            return NOT_REPORTED if not_reported(record) else record["cumulative"]

    table = Table(records, list_kind=list_kind, period_label=period_label,
                  exclude=[] if list_kind == ListKind.PROJECT else ["completion"])
    return table


NOT_REPORTED = "未报"  # an entry's cumulative investment before its first report


def _sum(values):
    known = [Decimal(v) for v in values if v is not None]
    return sum(known, Decimal(0)) if known else None


def money_subtotal(values):
    """(sum of the known figures, how many are 待定, how many 未报): 待定 only when nothing is
    known at all; entries that have not reported add nothing to a cumulative sum."""
    known = [Decimal(v) for v in values if isinstance(v, (int, float, Decimal))]
    pending = sum(1 for v in values if v is None)
    unreported = sum(1 for v in values if v == NOT_REPORTED)
    total = sum(known, Decimal(0)) if known or unreported else None
    return total, pending if known else 0, unreported


def _columns(table):
    from projects.exports import export_columns

    return [c for c in export_columns(table) if c[0] != "类别"]


def _list_sheet(title, items, list_kind, period_label, with_totals, as_of):
    """(title, rows, money columns, percent columns) for one list: heading, category rows, entries,
    小计 after each category and 合计 at the end (projects)."""
    records = list_records(with_list_figures(items.filter(list_kind=list_kind), as_of)) \
        .order_by("category__order", "seq")
    table = _rollup_table(records, list_kind, period_label)
    columns = _columns(table)
    header = [h for h, _, _ in columns]
    money = {i for i, (_, _, m) in enumerate(columns) if m}
    pct = {i for i, (h, _, _) in enumerate(columns) if h.endswith("（%）")}
    rows = [("head", header)]
    blank = [""] * len(header)
    current, group = object(), []
    every = []
    labels = dict(items.filter(list_kind=list_kind, category__isnull=False)
                  .values_list("category_id", "category__printed_label").distinct())

    def subtotal(label, group_rows):
        """The sums of the rows shown; the second cell says which figures were left out."""
        values = [label] + [""] * (len(header) - 1)
        notes = []
        for i in sorted(money):
            values[i], pending, unreported = money_subtotal([r[i] for r in group_rows])
            name = header[i].replace("（亿元）", "")
            if pending:
                notes.append(f"{name}不含待定 {pending} 项")
            if unreported:
                notes.append(f"{name}不含未报 {unreported} 项")
        if notes:
            values[1] = "；".join(notes)
        if pct:
            total_i = header.index("总投资（亿元）")
            done_i = header.index("累计完成（亿元）")
            values[min(pct)] = rate(values[done_i], values[total_i])
        return values

    for record in records.iterator(chunk_size=2000):
        if record_category(record) != current:
            if with_totals and group:
                rows.append(("subtotal", subtotal("小计", group)))
            current, group = record_category(record), []
            if current is not None:
                rows.append(("category", [labels.get(current) or ""] + blank[1:]))
        values = [get(record) for _, get, _ in columns]
        group.append(values)
        every.append(values)
        rows.append(("item", values))
    if with_totals:
        if group:
            rows.append(("subtotal", subtotal("小计", group)))
        rows.append(("total", subtotal("合计", every)))
    return title, rows, money, pct


def record_category(record):
    return record.get("category_id")


def build_rollup(plan, user, as_of: datetime.date):
    """Sheets as (title, rows, money columns, percent columns); rows are (kind, values) with kind
    head, category, item, subtotal or total."""
    items = scoped_items(user, plan, as_of)
    label = plan.period_name
    sheets = [_list_sheet("重大项目", items, ListKind.PROJECT, label, True, as_of)]
    sheets.append(programme_sheet(plan, user))
    for kind in (ListKind.PLATFORM, ListKind.INDUSTRY, ListKind.REFORM, ListKind.POLICY, ListKind.ELEMENT):
        sheets.append(_list_sheet(kind.label, items, kind, label, False, as_of))
    sheets.append(summary_sheet(plan, user, as_of))
    return sheets


def programme_sheet(plan, user):
    header = ["序号", "项目名称", "建设内容", "建设年限", "总投资（亿元）"]
    rows = [("head", header)]
    if not can(user, "tracker.read_overview", plan):
        # The programme rows carry no responsible unit: they are not any one unit's entries.
        rows.append(("category", ["十大（类）百亿工程不按责任单位划分，仅规划人员和领导可见。", "", "", "", ""]))
        return "十大（类）百亿工程", rows, {4}, set()
    programmes = list(plan.programmes.order_by("seq"))
    for p in programmes:
        rows.append(("item", [p.seq, p.name, p.content, period_text(p.start_year, p.end_year), p.total_investment]))
    rows.append(("total", ["合计", "", "", "", _sum(p.total_investment for p in programmes)]))
    return "十大（类）百亿工程", rows, {4}, set()


def summary_sheet(plan, user, as_of):
    s = dashboard(user, as_of, plan)
    period = plan.period_name
    head = ["分组", "名称", "总投资（亿元）", f"“{period}”投资（亿元）", "累计完成投资（亿元）",
            "序时应完成（亿元）", "完成率（%）", "项目数"]
    width = len(head)
    rows = [("category", [f"汇总（截至 {as_of:%Y-%m-%d}）"] + [""] * (width - 1))]

    def line(kind, title, name, r):
        return (kind, [title, name, r.get("total"), r.get("plan"), reported(r.get("completed")),
                       r.get("expected"), rate(r.get("completed"), r.get("total")), r.get("count")])

    def block(title, groups, total_name="合计"):
        rows.append(("category", [title] + [""] * (width - 1)))
        rows.append(("head", head))
        rows.extend(line("item", title, name, r) for name, r in groups)
        rows.append(line("total", total_name, "", s["totals"]))

    block("按类别", [(r["name"], r) for r in s["by_category"]])
    block("按项目类型", [(r["label"], r) for r in s["by_type"]])
    block("按责任单位（多单位事项计入每个单位）", unit_groups(user, plan, as_of), "合计（每个项目计一次）")
    rows.append(("category", ["按年度"] + [""] * (width - 1)))
    rows.append(("head", ["分组", "年度", "年度计划投资（亿元）", "完成投资（亿元）", "累计计划投资（亿元）",
                          "累计完成投资（亿元）", "完成率（%）"]))
    planned_sum = completed_sum = None
    for r in s["by_year"]:
        planned_sum = _sum([planned_sum, r["planned"]])
        completed_sum = _sum([completed_sum, r["completed"]])
        rows.append(("item", ["按年度", r["year"], r["planned"], reported(r["completed"]), planned_sum,
                              reported(completed_sum), rate(r["completed"], r["planned"])]))
    if s["by_year"]:
        rows.append(("total", ["合计", "", planned_sum, reported(completed_sum), "", "",
                               rate(completed_sum, planned_sum)]))
    return "汇总", rows, {2, 3, 4, 5}, {6}


def reported(completed):
    """A completed amount of a group: 未报 when none of its projects has reported a figure (as the
    lists say per entry); 待定 is for planned money that is NULL."""
    return NOT_REPORTED if completed is None else completed


UNASSIGNED = Unassigned.label  # 责任未落实: no unit link, as the rule reads the fact has_unit


def unit_groups(user, plan, as_of):
    """[(unit name, sums)] of the projects each unit leads or supports, within the user's scope,
    then the projects without a responsible unit as 责任未落实."""
    figures, _ = entry_figures(scoped_items(user, plan, as_of).filter(list_kind=ListKind.PROJECT), as_of)
    sums = {"count": Count("pk"), "total": Sum("total_investment"), "plan": Sum("plan_investment"),
            "completed": Sum("cumulative"), "expected": Sum("expected_amount")}
    rows = figures.order_by().values(unit=F("unit_links__unit__name")).annotate(**sums).filter(unit__isnull=False)
    if role_of(user) == Role.UNIT:
        rows = rows.filter(unit_links__unit__in=Unit.objects.filter(members=user))
    groups = sorted(((r["unit"], r) for r in rows), key=lambda pair: pinyin_key(pair[0]))
    unassigned = figures.filter(unit_links__isnull=True).aggregate(**sums)
    if unassigned["count"]:
        groups.append((UNASSIGNED, unassigned))
    return groups


# ---------------------------------------------------------------- writers

def _xlsx_value(value, is_money):
    if is_money and value is None:
        return PENDING
    if is_money and isinstance(value, (Decimal, float, int)) and not isinstance(value, bool):
        return round_money(value)
    return value


def write_xlsx(sheets, target):
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    cat_fill = PatternFill("solid", fgColor="F2F2F2")
    thin = Side(style="thin", color="BBBBBB")
    for title, rows, money_cols, pct_cols in sheets:
        ws = book.create_sheet(title[:31])
        widths = {}
        for r, (kind, values) in enumerate(rows, start=1):
            for c, value in enumerate(values, start=1):
                is_money = (c - 1) in money_cols and kind in ("item", "subtotal", "total")
                cell = ws.cell(row=r, column=c, value=_xlsx_value(value, is_money))
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text stays text: never a live formula
                cell.border = Border(top=thin, bottom=thin, left=thin, right=thin)
                if kind == "head":
                    cell.font, cell.fill = bold, head_fill
                    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
                elif kind == "category":
                    cell.font, cell.fill = bold, cat_fill
                elif kind in ("subtotal", "total"):
                    cell.font = bold
                if is_money and isinstance(cell.value, (Decimal, float)):
                    cell.number_format = MONEY_FORMAT
                elif (c - 1) in pct_cols and isinstance(cell.value, (Decimal, float)):
                    cell.number_format = "0.0"
                elif is_money:
                    cell.alignment = Alignment(horizontal="right")
                if kind == "item" and isinstance(value, str) and len(value) > 30:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
                if kind != "category":
                    length = min(len(str(value)) if value is not None else 0, 60)
                    widths[c] = max(widths.get(c, 6), length * 1.6)
        for c, w in widths.items():
            ws.column_dimensions[get_column_letter(c)].width = max(8, min(w, 60))
        if rows and rows[0][0] == "head":
            ws.freeze_panes = "A2"
        set_page_setup(ws, 1 if rows else 0)  # the column heads, or the 汇总 sheet's title
    book.save(target)


def _write_csv_rows(writer, rows, money_cols):
    for kind, values in rows:
        writer.writerow([csv_value(v, c in money_cols and kind in ("item", "subtotal", "total"))
                         for c, v in enumerate(values)])


def write_csv_zip(sheets, target):
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for title, rows, money_cols, _ in sheets:
            buf = io.StringIO()
            _write_csv_rows(csv.writer(buf), rows, money_cols)
            zf.writestr(f"{title}.csv", "\ufeff" + buf.getvalue())


def write_csv(sheets, target):
    """One CSV (UTF-8 with BOM): each sheet as a block under its title, then a blank row — the
    same cells as the zip's one CSV per sheet (`export_rollup --format csv --output x.csv`)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    for title, rows, money_cols, _ in sheets:
        writer.writerow([csv_value(title)])
        _write_csv_rows(writer, rows, money_cols)
        writer.writerow([])
    target.write(("\ufeff" + buf.getvalue()).encode("utf-8"))


WRITERS = {"xlsx": write_xlsx, "csv": write_csv, "zip": write_csv_zip}


def write_rollup(plan, user, fmt, as_of, target):
    """fmt: "xlsx", "csv" (one CSV) or "zip" (one CSV per sheet)."""
    sheets = build_rollup(plan, user, as_of)
    WRITERS[fmt](sheets, target)


def rollup_response(plan, user, fmt, as_of):
    tmp = tempfile.TemporaryFile()
    # The page's CSV download is a zip of one CSV per sheet.
    write_rollup(plan, user, "xlsx" if fmt == "xlsx" else "zip", as_of, tmp)
    tmp.seek(0)
    ext = "xlsx" if fmt == "xlsx" else "zip"
    name = f"{plan.name}六重清单汇总_{as_of:%Y%m%d}.{ext}"
    return FileResponse(tmp, as_attachment=True, filename=name,
                        content_type=XLSX_TYPE if fmt == "xlsx" else "application/zip")


__all__ = ["build_rollup", "write_rollup", "rollup_response", "safe_text", "Item", "Q", "ProjectType"]
