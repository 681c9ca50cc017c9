"""XLSX templates to fill in and upload: a unit's month of reports (the columns are defined by
projects/report_workbook.py, which reads the file back), annual targets and a plan's lists.
Text is written as text, every sheet has page setup (projects/exports.py)."""
import tempfile

from django.db.models import OuterRef, Subquery
from django.http import FileResponse
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from reporting.cumulative import CHAIN_REPORTS
from projects.importer import COLUMN_LABELS, DEFAULT_REQUIRED, REQUIRED_COLUMNS
from projects.models import ItemStatus, ListKind, PlanState
from reporting.calendar import add_months, report_deadline
from reporting.models import AnnualTarget, StatusReport
from reporting.owing import entries_due
from reporting.report_workbook import HEADER_ROWS, HEADERS, INDEX, row_key
from reporting.targets import HEADER as TARGET_HEADER, START_MONTH

from projects.exports import XLSX_TYPE, set_page_setup

WIDTHS = {"plan": 24, "owes": 8, "name": 36, "ref_progress": 30, "progress_text": 40, "problems": 28, "next_steps": 28, "list_kind": 10,
          "seq": 6, "status": 10}
REFERENCE_FILL = PatternFill("solid", fgColor="EEEEEE")
LIST_ORDER = {kind.value: i for i, kind in enumerate(ListKind)}


def _text(cell, value):
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula, whatever the text starts with
    return cell


def _response(book, filename):
    tmp = tempfile.TemporaryFile()
    book.save(tmp)
    tmp.seek(0)
    return FileResponse(tmp, as_attachment=True, filename=filename, content_type=XLSX_TYPE)


def _header(sheet, headers, row=1):
    for column, label in enumerate(headers, start=1):
        cell = _text(sheet.cell(row=row, column=column), label)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def month_rows(items, month):
    """(entry, the month's report if filed, whether the entry owes the month's report) for the
    entries of plans not closed (a closed plan is frozen), with last month's cumulative and
    progress for reference; by plan, list and 序号."""
    before = StatusReport.objects.filter(item=OuterRef("pk"), month=add_months(month, -1))
    items = items.exclude(plan__state=PlanState.CLOSED)
    owes = set(entries_due(items, month).values_list("pk", flat=True))
    # last month's cumulative is the project's, across its chain of plans (reporting/cumulative.py)
    chain = StatusReport.objects.filter(CHAIN_REPORTS, month=add_months(month, -1),
                                        cumulative_investment__isnull=False).order_by("-pk")
    items = (items.annotate(ref_cumulative=Subquery(chain.values("cumulative_investment")[:1]),
                            ref_progress=Subquery(before.values("progress_text")[:1]))
             .select_related("plan").order_by().only("pk", "list_kind", "seq", "name", "status", "plan__name",
                                                     "plan__code", "plan__start_year"))
    filed = {r.item_id: r for r in StatusReport.objects.filter(item__in=items.values("pk"), month=month)}
    rows = sorted(items, key=lambda item: (item.plan.start_year, item.plan.code, LIST_ORDER[item.list_kind],
                                           item.seq, item.pk))
    return [(item, filed.get(item.pk), item.pk in owes) for item in rows]


def month_template(items, month, title, filename):
    """The month's template for the entries given (already scoped to the user)."""
    book = Workbook()
    sheet = book.active
    sheet.title = f"{month:%Y年%m月}进度"
    _text(sheet.cell(row=1, column=2),
          f"{title} {month:%Y年%m月} 进度填报，{report_deadline(month):%m月%d日}前填报“本月应报”为“是”的事项"
          "（灰色列仅供参考；非重大项目不填投资；请勿增删行、勿改第一列）")
    sheet.cell(row=1, column=2).font = Font(bold=True)
    _header(sheet, HEADERS, row=HEADER_ROWS)
    status_labels = dict(ItemStatus.choices)
    last = HEADER_ROWS
    for last, (item, report, owes) in enumerate(month_rows(items, month), start=HEADER_ROWS + 1):
        values = {
            "key": row_key(item.pk, month, report.version if report else 0), "plan": item.plan.name,
            "owes": "是" if owes else "否", "list_kind": item.get_list_kind_display(), "seq": item.seq, "name": item.name,
            "ref_cumulative": item.ref_cumulative, "ref_progress": item.ref_progress or "",
            "status": status_labels[report.status if report else item.status],
        }
        if report:
            values.update({name: getattr(report, name) for name in
                           ("progress_pct", "month_investment", "cumulative_investment",
                            "progress_text", "problems", "next_steps")})
        for name, column in INDEX.items():
            value = values.get(name)
            if value is None or value == "":
                continue
            cell = _text(sheet.cell(row=last, column=column + 1), value)  # a Decimal stays a Decimal
            if name in ("ref_cumulative", "month_investment", "cumulative_investment", "progress_pct"):
                cell.number_format = "0.00"
        for name in ("plan", "list_kind", "seq", "name", "owes", "ref_cumulative", "ref_progress"):
            sheet.cell(row=last, column=INDEX[name] + 1).fill = REFERENCE_FILL
    if last > HEADER_ROWS:
        _validations(sheet, HEADER_ROWS + 1, last)
    for name, column in INDEX.items():
        letter = get_column_letter(column + 1)
        sheet.column_dimensions[letter].width = WIDTHS.get(name, 14)
        if name not in ("name",):
            for row in sheet.iter_rows(min_row=HEADER_ROWS + 1, min_col=column + 1, max_col=column + 1):
                row[0].alignment = Alignment(wrap_text=True, vertical="top")
    sheet.column_dimensions["A"].hidden = True
    sheet.freeze_panes = sheet.cell(row=HEADER_ROWS + 1, column=INDEX["status"] + 1)
    set_page_setup(sheet, header_rows=HEADER_ROWS)
    return _response(book, filename)


def _validations(sheet, first, last):
    def column(name):
        letter = get_column_letter(INDEX[name] + 1)
        return f"{letter}{first}:{letter}{last}"

    status = DataValidation(type="list", formula1='"' + ",".join(label for _, label in ItemStatus.choices) + '"',
                            allow_blank=True, showErrorMessage=True, errorTitle="状态", error="请从列表中选择状态")
    status.add(column("status"))
    percent = DataValidation(type="decimal", operator="between", formula1="0", formula2="100", allow_blank=True,
                             showErrorMessage=True, errorTitle="百分比", error="应为 0 到 100 之间的数字")
    percent.add(column("progress_pct"))
    money = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
                           showErrorMessage=True, errorTitle="金额", error="应为不小于 0 的数字（亿元）")
    money.add(column("month_investment"))
    money.add(column("cumulative_investment"))
    for validation in (status, percent, money):
        sheet.add_data_validation(validation)


def targets_template(items, filename):
    """年度推进计划: the upload's header, the entries' targets already set (to edit), and the
    entries' names in an extra column the upload ignores."""
    book = Workbook()
    sheet = book.active
    sheet.title = "年度推进计划"
    _header(sheet, TARGET_HEADER + [START_MONTH, "名称（参考，导入时忽略）"])
    targets = (AnnualTarget.objects.filter(item__in=items).select_related("item__plan")
               .order_by("item__plan__code", "item__list_kind", "item__seq", "year"))
    row = 1
    for row, target in enumerate(targets, start=2):
        item = target.item
        values = [item.plan.code, item.get_list_kind_display(), item.seq, target.year,
                  target.planned_investment if target.planned_investment is not None else "待定",
                  target.target_text, target.planned_start_month or "", item.name]
        for column, value in enumerate(values, start=1):
            _text(sheet.cell(row=row, column=column), value)
    validation = DataValidation(type="whole", operator="between", formula1="1949", formula2="2100", allow_blank=True,
                                showErrorMessage=True, error="年度应为四位年份")
    validation.add(f"D2:D{max(row, 2) + 500}")
    sheet.add_data_validation(validation)
    months = DataValidation(type="whole", operator="between", formula1="1", formula2="12", allow_blank=True,
                            showErrorMessage=True, error="计划开工月份应为 1 至 12")
    months.add(f"G2:G{max(row, 2) + 500}")
    sheet.add_data_validation(months)
    for letter, width in zip("ABCDEFGH", (12, 10, 6, 8, 14, 40, 12, 40)):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    set_page_setup(sheet)
    return _response(book, filename)


def plan_template(filename, period_name):
    """An empty plan in the importer's layout: the 附件 title, then one sheet per list with its
    header row (the period investment column named after `period_name`, e.g. 十五五); category
    headings (一、…) and entry rows go below it."""
    book = Workbook()
    book.remove(book.active)
    for index, kind in enumerate(ListKind):
        sheet = book.create_sheet(kind.label)
        labels = [f"“{period_name}”投资" if c == "plan_investment" else COLUMN_LABELS[c]
                  for c in REQUIRED_COLUMNS.get(kind, DEFAULT_REQUIRED)]
        labels = [label + "（亿元）" if label.endswith("投资") else label for label in labels]
        first = 1
        if index == 0:
            _text(sheet.cell(row=1, column=1), "附件：（规划名称）“六重”清单")
            first = 2
        _header(sheet, labels, row=first)
        for column, label in enumerate(labels, start=1):
            sheet.column_dimensions[get_column_letter(column)].width = 40 if "内容" in label or "名称" in label else 14
        set_page_setup(sheet, header_rows=first)
    return _response(book, filename)
