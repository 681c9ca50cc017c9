"""Rollups in the layout of the plan's attachment (XLSX, or CSV files in a zip), within the user's scope.

Category 小计 and list 合计 rows are sums computed by the database from the rows shown;
the printed figures are never copied. 待定 stays 待定 and is left out of sums.
"""
import csv
import datetime
import io
import tempfile
import zipfile
from decimal import Decimal

from django.db.models import Count, Sum
from django.http import FileResponse

from projects.models import ItemUnit, ListKind, ProjectType

from .exports import XLSX_TYPE
from .formatting import PENDING, units_text
from .summary import portfolio_summary, project_figures, rate
from .tables import LIGHT_BADGES
from .queries import tracked_items

CN_NUM = "一二三四五六七八九十"
PROJECT_HEADER = ["序号", "项目名称", "建设规模和内容", "项目类型", "建设期限", "总投资（亿元）",
                  "“十四五”投资（亿元）", "责任单位", "状态", "累计完成投资（亿元）", "投资完成率（%）", "红黄绿灯"]
PROJECT_MONEY = {5, 6, 9}
PROJECT_PCT = {10}
OTHER_HEADER = {
    ListKind.PLATFORM: ["序号", "平台名称", "工作目标任务", "责任单位"],
    ListKind.INDUSTRY: ["序号", "产业名称", "工作目标任务", "责任单位"],
    ListKind.REFORM: ["序号", "项目名称", "工作目标任务", "责任单位"],
    ListKind.POLICY: ["序号", "领域", "政策名称", "工作目标任务", "责任单位"],
    ListKind.ELEMENT: ["序号", "类别", "工作目标任务", "责任单位"],
}
TRACKING = ["状态", "最近填报月份", "红黄绿灯"]


def _light(value):
    return LIGHT_BADGES.get(value, ("", ""))[1]


def _project_row(i):
    completion = rate(i.cumulative, i.total_investment) if i.last_month and i.total_investment else None
    return [
        i.seq, i.name, i.content, i.get_project_type_display(), i.period_display,
        i.total_investment, i.plan_investment, units_text(i) or PENDING, i.get_status_display(),
        i.cumulative if i.last_month else None, completion, _light(i.light),
    ]


def _other_row(i):
    lead = [i.seq, i.domain, i.name] if i.list_kind == ListKind.POLICY else [i.seq, i.name]
    return lead + [i.content, units_text(i) or PENDING, i.get_status_display(),
                   i.last_month.strftime("%Y-%m") if i.last_month else "未报", _light(i.light)]


def build_rollup(plan, user, as_of: datetime.date):
    """Sheets as lists of (row kind, values): 'head', 'category', 'item', 'subtotal', 'total'."""
    items = tracked_items(user, as_of).filter(plan=plan)
    projects = project_figures(items, as_of).select_related("category").prefetch_related("unit_links__unit")
    sheets = []
    # 重大项目: category heading, rows, 小计 computed by the database, 合计 at the end.
    rows = [("head", PROJECT_HEADER)]
    subtotals = {
        r["category_id"]: r for r in projects.order_by().values("category_id").annotate(
            total=Sum("total_investment"), plan=Sum("plan_investment"), completed=Sum("cumulative"))
    }
    grand = projects.aggregate(total=Sum("total_investment"), plan=Sum("plan_investment"), completed=Sum("cumulative"))
    current = object()
    ordered = list(projects.order_by("category__order", "seq"))
    for idx, item in enumerate(ordered):
        if item.category_id != current:
            current = item.category_id
            label = item.category.printed_label if item.category else "未分类"
            rows.append(("category", [label] + [""] * (len(PROJECT_HEADER) - 1)))
        rows.append(("item", _project_row(item)))
        last_of_category = idx + 1 == len(ordered) or ordered[idx + 1].category_id != current
        if last_of_category:
            s = subtotals.get(current, {})
            rows.append(("subtotal", ["小计", "", "", "", "", s.get("total"), s.get("plan"), "", "",
                                      s.get("completed"), rate(s.get("completed"), s.get("total")), ""]))
    rows.append(("total", ["合计", "", "", "", "", grand["total"], grand["plan"], "", "", grand["completed"],
                           rate(grand["completed"], grand["total"]), ""]))
    sheets.append(("重大项目", rows, PROJECT_MONEY, PROJECT_PCT))

    # 十大（类）百亿工程
    prog_rows = [("head", ["序号", "项目名称", "建设内容", "建设年限", "总投资（亿元）"])]
    programmes = list(plan.programmes.order_by("seq"))
    for p in programmes:
        period = "待定" if p.start_year is None else (
            str(p.start_year) if p.start_year == p.end_year else f"{p.start_year}-{p.end_year}")
        prog_rows.append(("item", [p.seq, p.name, p.content, period, p.total_investment]))
    prog_total = plan.programmes.aggregate(s=Sum("total_investment"))["s"]
    prog_rows.append(("total", ["合计", "", "", "", prog_total]))
    sheets.append(("十大（类）百亿工程", prog_rows, {4}, set()))

    for kind, header in OTHER_HEADER.items():
        krows = [("head", header + TRACKING)]
        current = object()
        for item in items.filter(list_kind=kind).order_by("category__order", "seq"):
            if item.category_id and item.category_id != current:
                current = item.category_id
                krows.append(("category", [item.category.printed_label] + [""] * (len(header) + len(TRACKING) - 1)))
            krows.append(("item", _other_row(item)))
        sheets.append((ListKind(kind).label, krows, set(), set()))

    sheets.append(("汇总", summary_rows(plan, user, as_of, projects), {2, 3, 4, 5}, {6}))
    return sheets


def summary_rows(plan, user, as_of, projects):
    s = portfolio_summary(user, as_of, plan)
    rows = [("category", [f"汇总（截至 {as_of:%Y-%m-%d}）", "", "", "", "", "", ""])]
    head = ["分组", "名称", "总投资（亿元）", "“十四五”投资（亿元）", "累计完成投资（亿元）", "序时应完成（亿元）", "完成率（%）"]

    def block(title, groups):
        rows.append(("category", [title] + [""] * 6))
        rows.append(("head", head))
        for name, r in groups:
            rows.append(("item", [title, name, r.get("total"), r.get("plan"), r.get("completed"), r.get("expected"),
                                  rate(r.get("completed"), r.get("total"))]))

    block("按类别", [(r["category__name"] or "未分类", r) for r in s["by_category"]])
    block("按项目类型", [(ProjectType(r["project_type"]).label if r["project_type"] else "—", r) for r in s["by_type"]])
    by_unit = (ItemUnit.objects.filter(item__in=projects).values("unit__name")
               .annotate(count=Count("item", distinct=True)).order_by("unit__name"))
    unit_money = {}
    figures = {p.pk: p for p in projects}
    for link in ItemUnit.objects.filter(item__in=projects).values("unit__name", "item_id"):
        p = figures[link["item_id"]]
        acc = unit_money.setdefault(link["unit__name"], {"total": None, "plan": None, "completed": None, "expected": None})
        for key, value in (("total", p.total_investment), ("plan", p.plan_investment),
                           ("completed", p.cumulative), ("expected", p.expected_amount)):
            if value is not None:
                acc[key] = (acc[key] or Decimal(0)) + Decimal(value)
    block("按责任单位（多单位事项计入每个单位）", [(u["unit__name"], unit_money.get(u["unit__name"], {})) for u in by_unit])
    rows.append(("category", ["按年度", "", "", "", "", "", ""]))
    rows.append(("head", ["分组", "年度", "年度计划投资（亿元）", "", "完成投资（亿元）", "", "完成率（%）"]))
    for r in s["by_year"]:
        rows.append(("item", ["按年度", r["year"], r["planned"], None, r["completed"], None,
                              rate(r["completed"], r["planned"])]))
    return rows


def _xlsx_value(value, is_money):
    if isinstance(value, Decimal):
        return float(value)
    if is_money and value is None:
        return PENDING
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
                cell.border = Border(top=thin, bottom=thin, left=thin, right=thin)
                if kind == "head":
                    cell.font, cell.fill = bold, head_fill
                    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
                elif kind == "category":
                    cell.font, cell.fill = bold, cat_fill
                elif kind in ("subtotal", "total"):
                    cell.font = bold
                if is_money and isinstance(cell.value, float):
                    cell.number_format = "#,##0.00"
                elif (c - 1) in pct_cols and isinstance(cell.value, float):
                    cell.number_format = "0.0"
                elif is_money:
                    cell.alignment = Alignment(horizontal="right")
                if kind == "item" and isinstance(value, str) and len(value) > 30:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
                length = min(len(str(value)) if value is not None else 0, 60)
                widths[c] = max(widths.get(c, 6), length * 1.6 if kind != "category" else 8)
        for c, w in widths.items():
            ws.column_dimensions[get_column_letter(c)].width = max(8, min(w, 60))
        if rows and rows[0][0] == "head":
            ws.freeze_panes = "A2"
    book.save(target)


def write_csv_zip(sheets, target):
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for title, rows, money_cols, _ in sheets:
            buf = io.StringIO()
            writer = csv.writer(buf)
            for kind, values in rows:
                out = []
                for c, v in enumerate(values):
                    if c in money_cols and kind in ("item", "subtotal", "total"):
                        out.append(PENDING if v is None else f"{Decimal(v):.2f}")
                    elif isinstance(v, Decimal):
                        out.append(f"{v:.2f}")
                    else:
                        out.append("" if v is None else v)
                writer.writerow(out)
            zf.writestr(f"{title}.csv", "\ufeff" + buf.getvalue())


def write_rollup(plan, user, fmt, as_of, target):
    sheets = build_rollup(plan, user, as_of)
    (write_xlsx if fmt == "xlsx" else write_csv_zip)(sheets, target)


def rollup_response(plan, user, fmt, as_of):
    tmp = tempfile.TemporaryFile()
    write_rollup(plan, user, fmt, as_of, tmp)
    tmp.seek(0)
    ext = "xlsx" if fmt == "xlsx" else "zip"
    name = f"{plan.name}六重清单汇总_{as_of:%Y%m%d}.{ext}"
    return FileResponse(tmp, as_attachment=True, filename=name,
                        content_type=XLSX_TYPE if fmt == "xlsx" else "application/zip")


def single_sheet_xlsx(title, header, data, filename, note=""):
    rows = [("head", header)] + [("item", values) for values, _ in data]
    if note:
        rows.append(("category", [note] + [""] * (len(header) - 1)))
    money = {i for i, m in enumerate(data[0][1]) if m} if data else set()
    tmp = tempfile.TemporaryFile()
    write_xlsx([(title, rows, money, set())], tmp)
    tmp.seek(0)
    return FileResponse(tmp, as_attachment=True, filename=filename, content_type=XLSX_TYPE)


