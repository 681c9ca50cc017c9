"""Issue 24 part 7: money shows two decimals in forms, pages and exports; XLSX money cells are
numbers formatted 0.00 holding what the page shows; the 汇总 sheet says 未报 where nothing was
reported, has 合计 rows, and lists the projects without a unit under 责任未落实."""
import datetime
import io
from decimal import Decimal as D

from openpyxl import load_workbook

from projects.formatting import money_input
from projects.models import Item, ListKind
from reporting.models import StatusReport
from tests.conftest import REAL_AS_OF, UNIT_A

MONTH = datetime.date(2026, 10, 1)


def body(response):
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def first_project():
    return Item.objects.filter(list_kind=ListKind.PROJECT, unit_links__unit__name=UNIT_A).order_by("seq").first()


def test_the_report_form_opens_a_filed_amount_with_two_decimals(client, unit_a_user):
    item = first_project()
    StatusReport.objects.create(item=item, month=MONTH, status=item.status, month_investment=D("0.1500"),
                                cumulative_investment=D("2.1234"), progress_text="施工中")
    client.force_login(unit_a_user)
    html = client.get(f"/items/{item.pk}/report/?month={MONTH:%Y-%m}").content.decode()
    assert 'name="month_investment" value="0.15"' in html
    # A figure with more digits keeps them: saving the form again changes nothing.
    assert 'name="cumulative_investment" value="2.1234"' in html


def test_money_input_keeps_every_stored_digit():
    assert [money_input(v) for v in (D("0.1500"), D(3), D("12.3000"), D("0.1234"), None)] == \
        ["0.15", "3.00", "12.30", "0.1234", None]


def test_xlsx_money_cells_are_numbers_formatted_0_00_holding_what_the_page_shows(client, leader):
    item = first_project()
    item.total_investment = D("27.7602")
    item.save()
    client.force_login(leader)
    page = client.get("/lists/project/", {"q": item.name}).content.decode()
    assert "27.76" in page and "27.7602" not in page
    response = client.get("/lists/project/", {"q": item.name, "_export": "xlsx"})
    assert response.status_code == 200, body(response)[:500]
    book = load_workbook(io.BytesIO(body(response)))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("总投资（亿元）") + 1)
    assert cell.value == 27.76 and cell.number_format == "0.00"
    csv_text = body(client.get("/lists/project/", {"q": item.name, "_export": "csv"})).decode("utf-8-sig")
    assert "27.76" in csv_text and "27.7602" not in csv_text
    rollup = load_workbook(io.BytesIO(body(client.get(f"/rollup/?format=xlsx&as_of={REAL_AS_OF}"))))
    money_cells = [c for row in rollup["重大项目"].iter_rows(min_row=2) for c in row
                   if isinstance(c.value, (int, float)) and c.number_format not in ("General", "0.0")]
    assert money_cells and all(c.number_format == "0.00" for c in money_cells)
    assert any(c.value == 27.76 for c in money_cells)


def summary_rows(client):
    book = load_workbook(io.BytesIO(body(client.get(f"/rollup/?format=xlsx&as_of={REAL_AS_OF}"))))
    return [list(r) for r in book["汇总"].iter_rows(values_only=True)]


def test_the_summary_sheet_says_unreported_totals_each_block_and_lists_unassigned_projects(client, leader,
                                                                                            real_plan):
    client.force_login(leader)
    rows = summary_rows(client)
    head = next(r for r in rows if r[0] == "分组")
    completed, count = head.index("累计完成投资（亿元）"), head.index("项目数")
    projects = Item.objects.filter(plan=real_plan, list_kind=ListKind.PROJECT)
    by_category = [r for r in rows if r[0] == "按类别" and r[1]]
    assert by_category and all(r[completed] == "未报" for r in by_category)  # nothing reported yet
    groups = [r for r in rows if r[1] and r[0] != "按年度"]
    assert "待定" not in [r[completed] for r in groups]  # 待定 is planned money not yet known
    totals = [r for r in rows if str(r[0]).startswith("合计")]
    assert len(totals) == 4  # 按类别, 按项目类型, 按责任单位, 按年度
    for total in totals[:3]:
        assert total[count] == projects.count()
        assert total[completed] == "未报"
    unassigned = projects.filter(unit_links__isnull=True)
    assert unassigned.exists()
    row = next(r for r in rows if r[0].startswith("按责任单位") and r[1] == "责任未落实")
    assert row[count] == unassigned.count()
    known = [v for v in unassigned.values_list("total_investment", flat=True) if v is not None]
    assert D(str(row[2])) == sum(known, D(0)).quantize(D("0.01"))
    # Once a project reports, its figure is counted and the block's 合计 holds it.
    item = first_project()
    StatusReport.objects.create(item=item, month=MONTH, status=item.status, cumulative_investment=D("1.2345"),
                                progress_text="施工中")
    from portfolio.evaluation import evaluate_changed_entries

    evaluate_changed_entries([item.pk])
    rows = summary_rows(client)
    total = next(r for r in rows if r[0] == "合计")
    assert total[completed] == 1.23
