"""Print-ready files: every XLSX export has page setup, and the rollup's sheets read right
(重大要素 names under 名称, 小计 sums of the known figures saying what they leave out, the 汇总
sheet's blocks with a head over every column).

Runs on the real 瓯江口 plan (conftest), evaluated as of 2026-11-23, with no reports filed.
"""
import datetime
import io
import zipfile
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from projects.models import Item, ListKind
from reporting.models import StatusReport

from .conftest import REAL_AS_OF

pytestmark = pytest.mark.django_db

ROLLUP = f"/rollup/?format=xlsx&as_of={REAL_AS_OF}"


def workbook(response):
    assert response.status_code == 200
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def rows(ws):
    return [list(r) for r in ws.iter_rows(values_only=True)]


def assert_print_ready(ws):
    setup = ws.page_setup
    assert setup.orientation == "landscape", ws.title
    assert str(setup.paperSize) == "9", ws.title  # A4
    assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
    assert (setup.fitToWidth, setup.fitToHeight) == (1, 0), ws.title  # one page wide, as long as needed
    assert ws.print_title_rows == "$1:$1", ws.title  # the head row repeated on every printed page


@pytest.mark.parametrize("url", [f"/lists/{kind.value}/?_export=xlsx" for kind in ListKind]
                         + ["/ranking/?_export=xlsx", ROLLUP])
def test_every_xlsx_export_prints_landscape_on_a4_one_page_wide_with_repeated_heads(client, leader, real_plan,
                                                                                    url):
    client.force_login(leader)
    book = workbook(client.get(url))
    for ws in book.worksheets:
        assert_print_ready(ws)


def test_the_element_sheet_has_names_under_name_and_categories_as_headings(client, leader, real_plan):
    client.force_login(leader)
    sheet = rows(workbook(client.get(ROLLUP))["重大要素"])
    head = sheet[0]
    assert "类别" not in head
    name_col = head.index("名称")
    elements = {i.seq: i.name for i in Item.objects.filter(plan=real_plan, list_kind=ListKind.ELEMENT)}
    entries = [r for r in sheet[1:] if isinstance(r[0], int)]
    assert {r[0]: r[name_col] for r in entries} == elements
    headings = [r[0] for r in sheet[1:] if isinstance(r[0], str)]
    assert headings == ["一、土地保障", "二、资金保障", "三、人才保障"]
    assert all(not any(r[1:]) for r in sheet[1:] if isinstance(r[0], str))


def project_blocks(sheet):
    blocks, current = [], None
    for r in sheet[1:]:
        if isinstance(r[0], int):
            current["items"].append(r)
        elif r[0] == "小计":
            current["subtotal"] = r
        elif r[0] == "合计":
            return blocks, r
        else:
            current = {"label": r[0], "items": [], "subtotal": None}
            blocks.append(current)
    raise AssertionError("no 合计 row")


def test_subtotals_sum_the_known_figures_and_say_what_they_leave_out(client, leader, real_plan):
    client.force_login(leader)
    sheet = rows(workbook(client.get(ROLLUP))["重大项目"])
    head = sheet[0]
    total, done = head.index("总投资（亿元）"), head.index("累计完成（亿元）")
    blocks, grand = project_blocks(sheet)
    for block in blocks:
        items, sub = block["items"], block["subtotal"]
        assert {r[done] for r in items} == {"未报"}, block["label"]  # no report yet: 未报, not 待定
        assert sub[done] == 0, block["label"]  # the sum of the known figures: none reported yet
        pending = [r for r in items if r[total] == "待定"]
        known = sum((Decimal(str(r[total])) for r in items if r[total] != "待定"), Decimal(0))
        assert Decimal(str(sub[total])).quantize(Decimal("0.01")) == known.quantize(Decimal("0.01"))
        note = sub[1] or ""
        assert f"累计完成不含未报 {len(items)} 项" in note, block["label"]
        if pending:
            assert f"总投资不含待定 {len(pending)} 项" in note, block["label"]
        else:
            assert "总投资不含待定" not in note, block["label"]
    assert any("总投资不含待定" in (b["subtotal"][1] or "") for b in blocks)
    assert grand[done] == 0 and "总投资不含待定 9 项" in grand[1]


def test_a_subtotal_counts_the_reports_there_are(client, leader, real_plan, django_capture_on_commit_callbacks):
    item = Item.objects.get(plan=real_plan, list_kind=ListKind.PROJECT, seq=1)
    with django_capture_on_commit_callbacks(execute=True):
        StatusReport.objects.create(item=item, month=datetime.date(2026, 10, 1), status=item.status,
                                    cumulative_investment=Decimal("2.50"), month_investment=Decimal("0.5"))
    client.force_login(leader)
    sheet = rows(workbook(client.get(ROLLUP))["重大项目"])
    done = sheet[0].index("累计完成（亿元）")
    blocks, grand = project_blocks(sheet)
    infra = blocks[0]
    assert infra["subtotal"][done] == 2.5 and grand[done] == 2.5
    assert f"累计完成不含未报 {len(infra['items']) - 1} 项" in infra["subtotal"][1]


def test_the_subtotal_note_is_in_the_csv_rollup_too(client, leader, real_plan):
    client.force_login(leader)
    response = client.get(f"/rollup/?format=csv&as_of={REAL_AS_OF}")
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as zf:
        text = zf.read("重大项目.csv").decode("utf-8-sig")
    subtotal = next(line for line in text.splitlines() if line.startswith("小计,"))
    assert "累计完成不含未报" in subtotal and ",0.00," in subtotal
    assert ",未报," in text


def test_every_summary_block_has_a_head_over_each_of_its_columns(client, leader, real_plan):
    client.force_login(leader)
    sheet = rows(workbook(client.get(ROLLUP))["汇总"])
    head, seen_years = None, False
    for r in sheet[1:]:
        if r[0] == "分组":
            head = r
        elif r[1] is not None and head is not None:  # a data row of the current block
            seen_years |= r[0] == "按年度"
            for col, value in enumerate(r):
                if value not in (None, ""):
                    assert head[col] not in (None, ""), (r[0], col, value)
    assert seen_years
