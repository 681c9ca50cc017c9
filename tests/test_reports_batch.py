"""Issue 15, Excel batch reporting: the month template of a unit, the upload through the report
form's own rules (all rows or none), the planners' command, and the other templates.

Runs on the real 瓯江口 plan (conftest): unit A (UNIT_A) is linked to 36 重大项目 and one 重大要素
entry; unit B to entries of the other five lists.
"""
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.html import escape
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from projects.importer import parse_rows
from projects.models import Item, ItemUnit, ListKind, Unit
from reporting.models import AnnualTarget, StatusReport
from reporting.report_workbook import HEADERS, INDEX
from reporting.calendar import month_asked
from reporting.targets import import_targets
from projects.validation import read_rows

from .conftest import UNIT_A, UNIT_B
from .test_access_and_reports import XLSX_TYPE, body_of_bytes, body_of, item_a, login, month_back, ym  # noqa: F401

DATA_ROW = 3  # a title row, the header row, then the entries
STATUS_COLUMN = get_column_letter(INDEX["status"] + 1)


def unit_items(name):
    return Item.objects.filter(Exists(ItemUnit.objects.filter(item=OuterRef("pk"), unit__name=name)))


def download(client, month=None, unit=None):
    params = {"month": ym(month or month_back(1))}
    if unit is not None:
        params["unit"] = unit.pk
    response = client.get("/reports/template/", params)
    assert response.status_code == 200, body_of(response)
    assert response["Content-Type"] == XLSX_TYPE
    return load_workbook(io.BytesIO(body_of_bytes(response)))


def rows_by_seq(sheet, kind_label="重大项目"):
    return {row[INDEX["seq"]].value: row for row in sheet.iter_rows(min_row=DATA_ROW)
            if row[INDEX["list_kind"]].value == kind_label}


def project_rows(sheet):
    """The template's 重大项目 rows in order; the first is item_a (序号 1)."""
    return [row for _, row in sorted(rows_by_seq(sheet).items())]


def fill(row, **values):
    for name, value in values.items():
        row[INDEX[name]].value = value


def as_upload(book, name="进度.xlsx"):
    buf = io.BytesIO()
    book.save(buf)
    return SimpleUploadedFile(name, buf.getvalue(), content_type=XLSX_TYPE)


def upload(client, book, name="进度.xlsx"):
    return client.post("/reports/batch/", {"file": as_upload(book, name)}, follow=True)


# ---------------------------------------------------------------- the template

def test_unit_template_lists_its_entries_with_last_months_figures(client, unit_a_user, item_a):
    StatusReport.objects.create(item=item_a, month=month_back(2), status="in_progress", progress_text="桩基完成",
                                cumulative_investment=Decimal("3.00"), filed_by=unit_a_user)
    sheet = download(login(client, unit_a_user)).active
    assert [c.value for c in sheet[2]] == HEADERS
    rows = list(sheet.iter_rows(min_row=DATA_ROW))
    assert len(rows) == unit_items(UNIT_A).count()
    keys = {row[0].value for row in rows}
    assert f"{item_a.pk}:{ym(month_back(1))}:0" in keys
    row = rows_by_seq(sheet)[1]
    assert row[INDEX["ref_cumulative"]].value == 3.0 and row[INDEX["ref_progress"]].value == "桩基完成"
    assert row[INDEX["status"]].value == item_a.get_status_display()
    # The key column is hidden; status and numbers are validated; it prints on A4 landscape.
    assert sheet.column_dimensions["A"].hidden
    kinds = sorted(v.type for v in sheet.data_validations.dataValidation)
    assert kinds == ["decimal", "decimal", "list"]
    status = next(v for v in sheet.data_validations.dataValidation if v.type == "list")
    assert "推进中" in status.formula1 and f"{STATUS_COLUMN}{DATA_ROW}:{STATUS_COLUMN}{len(rows) + 2}" in str(status.sqref)
    assert sheet.page_setup.orientation == "landscape" and int(sheet.page_setup.paperSize) == 9
    assert sheet.page_setup.fitToWidth == 1 and sheet.print_title_rows.replace("$", "") == "1:2"


def test_template_prefills_a_month_already_filed_with_its_version(client, unit_a_user, item_a):
    StatusReport.objects.create(item=item_a, month=month_back(1), status="in_progress", progress_text="已报内容",
                                cumulative_investment=Decimal("1.50"), version=3, filed_by=unit_a_user)
    row = rows_by_seq(download(login(client, unit_a_user)).active)[1]
    assert row[0].value == f"{item_a.pk}:{ym(month_back(1))}:3"
    assert row[INDEX["progress_text"]].value == "已报内容" and row[INDEX["cumulative_investment"]].value == 1.5


def test_text_that_looks_like_a_formula_stays_text(client, unit_a_user, item_a):
    StatusReport.objects.create(item=item_a, month=month_back(1), status="in_progress",
                                progress_text="=HYPERLINK(\"http://x\")", filed_by=unit_a_user)
    response = login(client, unit_a_user).get("/reports/template/", {"month": ym(month_back(1))})
    book = load_workbook(io.BytesIO(body_of_bytes(response)))
    cell = rows_by_seq(book.active)[1][INDEX["progress_text"]]
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK")


@pytest.mark.parametrize("params, status", [
    ({"month": "2026-13"}, 400), ({"month": "2099-01"}, 400), ({"month": "<b>x"}, 400),
    ({"unit": "999999"}, 404),
])
def test_template_parameters_are_checked(client, unit_a_user, params, status):
    assert login(client, unit_a_user).get("/reports/template/", params).status_code == status


def test_unit_user_cannot_download_another_units_template(client, unit_a_user, leader):
    other = Unit.objects.get(name=UNIT_B)
    assert login(client, unit_a_user).get("/reports/template/", {"unit": other.pk}).status_code == 404
    assert login(client, leader).get("/reports/template/").status_code == 404


def test_planner_downloads_any_units_template(client, planner):
    unit = Unit.objects.get(name=UNIT_B)
    sheet = download(login(client, planner), unit=unit).active
    assert len(list(sheet.iter_rows(min_row=DATA_ROW))) == unit_items(UNIT_B).count()


# ---------------------------------------------------------------- the upload

def test_unit_uploads_its_month(client, unit_a_user, item_a):
    book = download(login(client, unit_a_user))
    rows = project_rows(book.active)
    fill(rows[0], status="推进中", progress_pct=30, month_investment=0.5, cumulative_investment=2.5,
         progress_text="主体施工", next_steps="完成桥面")
    fill(rows[1], progress_text="前期手续办理中")
    html = body_of(upload(client, book))
    assert f"已保存 2 条进度（{month_back(1):%Y年%m月}）" in html, html
    report = StatusReport.objects.get(item=item_a, month=month_back(1))
    assert (report.progress_pct, report.month_investment, report.cumulative_investment) == (
        Decimal("30"), Decimal("0.5"), Decimal("2.5"))
    assert report.filed_by == unit_a_user and report.next_steps == "完成桥面" and report.version == 1
    assert StatusReport.objects.filter(month=month_back(1)).count() == 2

    # The same file again changes nothing; a corrected one makes version 2.
    assert "已保存 0 条进度；未改动 2 条" in body_of(upload(client, book))
    book = download(client)
    fill(rows_by_seq(book.active)[1], progress_text="主体施工（更正）")
    assert "已保存 1 条进度" in body_of(upload(client, book))
    report.refresh_from_db()
    assert (report.version, report.progress_text, report.history.count()) == (2, "主体施工（更正）", 2)


def test_a_bad_row_saves_nothing_and_names_row_column_value_and_reason(client, unit_a_user, item_a):
    StatusReport.objects.create(item=item_a, month=month_back(2), status="in_progress",
                                cumulative_investment=Decimal("3.00"), filed_by=unit_a_user)
    book = download(login(client, unit_a_user))
    rows = project_rows(book.active)
    fill(rows[0], month_investment=50, cumulative_investment=3.8, progress_text="the issue's case")
    fill(rows[1], progress_text="这一行本身没问题")
    fill(rows[2], status="进行中", progress_text="状态写错")
    fill(rows[3], progress_pct=130, progress_text="百分比超出")
    element = next(r for r in book.active.iter_rows(min_row=DATA_ROW) if r[INDEX["list_kind"]].value == "重大要素")
    fill(element, month_investment=1, progress_text="要素不填投资")
    html = body_of(upload(client, book))
    where = "进度.xlsx 工作表「{}」第 {} 行".format(book.active.title, "{}")
    expected = [
        f'{where.format(rows[0][0].row)} 累计完成投资（亿元） "3.8": 累计完成投资 3.80 亿元应等于上月（{month_back(2):%Y年%m月}）'
        f'累计 3.00 亿元加本月完成投资 50.00 亿元，即 53.00 亿元',
        f'{where.format(rows[2][0].row)} 状态 "进行中": 应为 未开工、推进中、已完成、暂停、已取消',
        f'{where.format(rows[3][0].row)} 形象进度/完成度（%） "130": 形象进度应在 0 到 100 之间',
        f'{where.format(element[0].row)} 本月完成投资（亿元） "1": 重大要素不填报投资',
    ]
    for error in expected:
        assert escape(error) in html, error
    assert "导入失败，未写入任何数据" in html
    assert not StatusReport.objects.filter(month=month_back(1)).exists()


def test_upload_checks_the_form_rules_and_the_months_bounds(client, unit_a_user, item_a):
    book = download(login(client, unit_a_user))
    fill(rows_by_seq(book.active)[1], progress_text="改了键")
    rows_by_seq(book.active)[1][0].value = f"{item_a.pk}:2099-01:0"
    html = body_of(upload(client, book))
    assert escape(f'第 {DATA_ROW} 行 键 "{item_a.pk}:2099-01:0": 不能填报未来的月份') in html, html
    assert not StatusReport.objects.filter(item=item_a).exists()


def test_another_units_rows_are_refused(client, unit_a_user, unit_b_user, item_a):
    book = download(login(client, unit_a_user))
    fill(rows_by_seq(book.active)[1], progress_text="冒名填报")
    html = body_of(upload(login(client, unit_b_user), book))
    assert "没有这个事项，或您无权填报" in html
    assert not StatusReport.objects.filter(item=item_a).exists()


def test_a_template_older_than_the_report_is_a_conflict(client, unit_a_user, planner, item_a):
    book = download(login(client, unit_a_user))
    fill(rows_by_seq(book.active)[1], progress_text="单位的版本")
    StatusReport.objects.create(item=item_a, month=month_back(1), status="in_progress", progress_text="规划人员先报",
                                filed_by=planner)
    html = body_of(upload(client, book))
    assert "该月报告在下载模板后已被修改（现为第 1 版），请重新下载模板" in html
    assert StatusReport.objects.get(item=item_a, month=month_back(1)).progress_text == "规划人员先报"


def test_not_a_template_is_refused(client, unit_a_user):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["序号", "名称"])
    html = body_of(upload(login(client, unit_a_user), book))
    assert "没有找到表头" in html


def test_planner_uploads_for_a_unit_from_the_web(client, planner, item_a):
    book = download(login(client, planner), unit=Unit.objects.get(name=UNIT_A))
    fill(rows_by_seq(book.active)[1], progress_text="规划人员代填")
    assert "已保存 1 条进度" in body_of(upload(client, book))
    assert StatusReport.objects.get(item=item_a, month=month_back(1)).filed_by == planner


def test_import_reports_command_with_dry_run(client, planner, item_a, tmp_path):
    book = download(login(client, planner), unit=Unit.objects.get(name=UNIT_A))
    fill(rows_by_seq(book.active)[1], status="推进中", cumulative_investment=1.2, progress_text="命令导入")
    path = tmp_path / "reports.xlsx"
    book.save(path)
    out = io.StringIO()
    call_command("import_reports", str(path), "--dry-run", stdout=out)
    assert "（试运行，未写入）可保存 1 条进度" in out.getvalue()
    assert not StatusReport.objects.filter(item=item_a).exists()
    call_command("import_reports", str(path), "--user", "planner_t", stdout=out)
    report = StatusReport.objects.get(item=item_a, month=month_back(1))
    assert report.progress_text == "命令导入" and report.filed_by == planner

    fill(project_rows(book.active)[1], month_investment="很多", progress_text="x")
    book.save(path)
    err = io.StringIO()
    with pytest.raises(CommandError, match="导入失败：1 处错误"):
        call_command("import_reports", str(path), stdout=io.StringIO(), stderr=err)
    assert '本月完成投资（亿元） "很多"' in err.getvalue()


def test_batch_page_roles(client, unit_a_user, leader, planner):
    html = body_of(login(client, unit_a_user).get("/reports/batch/"))
    assert "下载 XLSX 模板" in html and UNIT_A in html and UNIT_B not in html
    assert f'value="{ym(month_asked(timezone.localdate()))}" selected' in html
    assert login(client, leader).get("/reports/batch/").status_code == 404
    assert UNIT_B in body_of(login(client, planner).get("/reports/batch/"))


# ---------------------------------------------------------------- the other templates

def test_targets_template_round_trips(client, planner, item_a):
    AnnualTarget.objects.create(item=item_a, year=2025, planned_investment=Decimal("1.5"), target_text="收尾")
    response = login(client, planner).get("/targets/template/")
    assert response.status_code == 200
    data = body_of_bytes(response)
    sheet = load_workbook(io.BytesIO(data)).active
    assert [c.value for c in sheet[1]][:6] == ["规划代码", "清单", "序号", "年度", "计划投资（亿元）", "年度目标"]
    assert sheet.page_setup.orientation == "landscape" and sheet.print_title_rows.replace("$", "") == "1:1"
    assert import_targets(io.BytesIO(data), "t.xlsx") == (0, 1, [])


def test_plan_template_is_read_by_the_importer(client, planner):
    data = body_of_bytes(login(client, planner).get("/plans/template/"))
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == [k.label for k in ListKind]
    assert all(sheet.print_title_rows for sheet in book.worksheets)
    assert "“十五五”投资（亿元）" in [c.value for c in book["重大项目"][2]]  # the plan after the 十四五 one
    # A planner fills in a category heading and an entry under the header: the importer reads it.
    sheet = book["重大政策"]
    header = [c.value for c in sheet[1]]
    assert header == ["序号", "领域", "名称", "建设规模和内容", "责任单位"]
    sheet.append(["一、营商环境"])
    sheet.append([1, "营商环境", "企业开办一件事", "压缩开办时间", "市场监管局"])
    buf = io.BytesIO()
    book.save(buf)
    buf.seek(0)
    parsed = parse_rows(read_rows(buf, "plan.xlsx"), "plan.xlsx")
    assert [(i.list_kind, i.seq, i.name, i.units) for i in parsed.items] == [
        (ListKind.POLICY, 1, "企业开办一件事", ["市场监管局"])]


@pytest.mark.parametrize("url", ["/targets/template/", "/plans/template/"])
def test_templates_for_planners_only(client, unit_a_user, leader, url):
    assert login(client, unit_a_user).get(url).status_code == 404
    assert login(client, leader).get(url).status_code == 404
