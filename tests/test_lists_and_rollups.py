"""List pages, exports, dashboard totals, rollups and the unit ranking, read as a user reads them.

Every expected figure is computed here from the entries themselves (Python over the rows
fetched with plain ORM filters), never taken from the application's own aggregates, and
compared with what the page, the export file or the rollup workbook shows.
"""
import csv
import datetime
import html
import io
import re
import zipfile
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from portfolio.evaluation import evaluate_changed_entries
from portfolio.models import Flag, ItemFigures
from portfolio.summary import ranking_formula
from projects.models import Category, Item, ItemStatus, ItemUnit, ListKind, Unit
from reporting.models import StatusReport

from .conftest import PLAN_CODE, UNIT_A, UNIT_B

D = Decimal
CENT = D("0.01")
BOM = b"\xef\xbb\xbf"
PENDING = "待定"
AS_OF = datetime.date(2024, 4, 10)

ROLLUP_SHEETS = ["重大项目", "十大（类）百亿工程", "重大平台", "重大产业", "重大改革", "重大政策", "重大要素", "汇总"]
PROJECT_HEADINGS = ["一、基础设施项目", "二、产业发展项目", "三、房地产项目", "四、公共服务项目", "五、生态保护项目"]


# ---------------------------------------------------------------- reading pages and files

class _Page(HTMLParser):
    """Tables (head texts, rows of cells) and links of a rendered page."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tables, self.links, self.ids = [], [], {}
        self._stack, self._row, self._cell, self._id_text = [], None, None, []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a":
            self.links.append(a)
        if "id" in a or "data-figure" in a:
            key = a["id"] if "id" in a else "figure:" + a["data-figure"]
            self._id_text.append([key, tag, a, "", 0])
        for entry in self._id_text:
            if entry[1] == tag:
                entry[4] += 1
        if tag == "table":
            table = {"attrs": a, "head": [], "rows": []}
            self.tables.append(table)
            self._stack.append(table)
        elif tag == "tr" and self._stack:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = {"tag": tag, "attrs": a, "text": ""}

    def handle_endtag(self, tag):
        for entry in list(self._id_text):
            if entry[1] == tag:
                entry[4] -= 1
                if entry[4] == 0:
                    self.ids[entry[0]] = {"attrs": entry[2], "text": " ".join(entry[3].split())}
                    self._id_text.remove(entry)
        if tag in ("td", "th") and self._cell is not None:
            self._cell["text"] = " ".join(self._cell["text"].split())
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            table = self._stack[-1]
            if self._row and all(c["tag"] == "th" for c in self._row):
                table["head"] = [c["text"] for c in self._row]
            elif self._row:
                table["rows"].append(self._row)
            self._row = None
        elif tag == "table" and self._stack:
            self._stack.pop()

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data
        for entry in self._id_text:
            entry[3] += data

    def table(self, css_class=None, table_id=None):
        for t in self.tables:
            if table_id and t["attrs"].get("id") == table_id:
                return t
            if css_class and css_class in (t["attrs"].get("class") or "").split():
                return t
        raise AssertionError(f"no table {css_class or table_id} on the page")


def selected_options(text, name):
    match = re.search(rf'<select name="{name}"[^>]*>.*?</select>', text, re.S)
    assert match, f"no {name} select on the page"
    return re.findall(r'<option value="([^"]*)" selected>', match.group(0))


def input_value(text, name):
    """The value of the form's <input name=...> (attributes in any order)."""
    match = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', text)
    assert match, f"no {name} input on the page"
    value = re.search(r'\bvalue="([^"]*)"', match.group(0))
    return html.unescape(value.group(1)) if value else None


def page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.content[:500])
    return response


def list_rows(response):
    """The item table of a list page as dicts keyed by the column headings shown."""
    doc = _Page(response.content.decode())
    table = doc.table(css_class="item-table")
    head = table["head"]
    rows = []
    for cells in table["rows"]:
        if len(cells) != len(head):
            continue  # the "no entries" row
        rows.append({h: c["text"] for h, c in zip(head, cells)})
    return rows


def shown_seqs(response):
    return [int(r["序号"]) for r in list_rows(response)]


def result_count(response):
    match = re.search(r'id="result-count">共 (\d+) 项<', response.content.decode())
    assert match, "the list page shows no result count"
    return int(match.group(1))


def body(response):
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def csv_rows(data: bytes):
    assert data.startswith(BOM), "CSV must start with the UTF-8 BOM so Excel shows the Chinese"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def xlsx_book(data):
    return load_workbook(io.BytesIO(data) if isinstance(data, bytes) else data)


def sheet_rows(ws):
    return [list(r) for r in ws.iter_rows(values_only=True)]


def as_dicts(rows):
    header = rows[0]
    return [dict(zip(header, r)) for r in rows[1:]]


def num(value):
    """A cell's number as Decimal (cents); fails on anything that is not a number."""
    assert isinstance(value, (int, float)) and not isinstance(value, bool), f"{value!r} is not a numeric cell"
    return D(str(value)).quantize(CENT)


def dec(value):
    return None if value is None else D(value).quantize(CENT)


def money_sum(values):
    """Sum of the known amounts (None / 待定 left out), to the cent."""
    return sum((D(str(v)) for v in values if v is not None and v != PENDING and v != ""), D(0)).quantize(CENT)


# ---------------------------------------------------------------- the entries, independently of the app

def entries(plan, kind=ListKind.PROJECT):
    """All entries of a list as plain dicts, with their unit ids and names."""
    links = {}
    for item_id, unit_id, unit_name in ItemUnit.objects.filter(item__plan=plan).values_list(
            "item_id", "unit_id", "unit__name"):
        links.setdefault(item_id, []).append((unit_id, unit_name))
    rows = list(Item.objects.filter(plan=plan, list_kind=kind).values(
        "pk", "seq", "name", "content", "category_id", "project_type", "status", "start_year", "end_year",
        "total_investment", "plan_investment", "units_as_printed"))
    for r in rows:
        r["unit_ids"] = {u for u, _ in links.get(r["pk"], [])}
        r["unit_names"] = [n for _, n in links.get(r["pk"], [])]
    return rows


def total_desc_order(rows):
    """总投资 from largest to smallest, 待定 last, ties by 序号 (what the list promises)."""
    return sorted(rows, key=lambda r: (r["total_investment"] is None, -(r["total_investment"] or 0), r["seq"]))


def unit(name):
    return Unit.objects.get(name=name)


def project_category(plan, label):
    return Category.objects.get(plan=plan, list_kind=ListKind.PROJECT, printed_label=label)


def make_tracked_project(plan, *, seq=9001, total=D("10"), plan_inv=D("8"), units=(UNIT_A, UNIT_B),
                         reports=((1, "1.0", "1.0"), (2, "1.5", "2.5"), (3, "1.5", "4.0"))):
    """A new 基础设施 project with two units and monthly 2024 reports (month, month amount, cumulative)."""
    item = Item.objects.create(
        plan=plan, list_kind=ListKind.PROJECT, category=project_category(plan, PROJECT_HEADINGS[0]), seq=seq,
        name=f"测试双单位项目{seq}", content="用于核对汇总不重复计算", project_type="new",
        start_year=2023, end_year=2025, total_investment=total, plan_investment=plan_inv,
        status=ItemStatus.IN_PROGRESS, units_as_printed="、".join(units),
    )
    for i, name in enumerate(units):
        ItemUnit.objects.create(item=item, unit=unit(name), role="lead" if i == 0 else "support")
    for month, amount, cumulative in reports:
        StatusReport.objects.create(
            item=item, month=datetime.date(2024, month, 1), status=ItemStatus.IN_PROGRESS, progress_pct=D("10") * month,
            month_investment=D(amount), cumulative_investment=D(cumulative), progress_text=f"{month} 月进展",
        )
    evaluate_changed_entries([item.pk])  # what the commit of these rows does
    return item


# ---------------------------------------------------------------- list pages: search, filters, sorting, paging

@pytest.mark.django_db
def test_quick_search_covers_name_content_and_unit_name(client, planner, real_plan):
    client.force_login(planner)
    rows = entries(real_plan)

    def expected(term):
        t = term.lower()
        return {r["seq"] for r in rows if t in r["name"].lower() or t in r["content"].lower()
                or t in r["units_as_printed"].lower() or any(t in n.lower() for n in r["unit_names"])}

    # A word of a name, a word only in a 建设规模和内容, a unit's name.
    cases = {"瓯江口大道": "name", "吹填土": "content", "温州幸福轨道交通股份有限公司": "unit"}
    for term, where in cases.items():
        want = expected(term)
        assert want, term
        response = page(client, f"/lists/project/?q={term}&per_page=200")
        assert set(shown_seqs(response)) == want, term
        assert result_count(response) == len(want)
        hits = [r for r in rows if r["seq"] in want]
        if where == "content":
            assert any(term not in r["name"] for r in hits)
        if where == "unit":
            assert any(term not in r["name"] and term not in r["content"] for r in hits)

    # Searching by a unit works on the other lists too.
    reforms = entries(real_plan, ListKind.REFORM)
    want = {r["seq"] for r in reforms if any(UNIT_B in n for n in r["unit_names"]) or UNIT_B in r["name"]
            or UNIT_B in r["content"] or UNIT_B in r["units_as_printed"]}
    assert want
    assert set(shown_seqs(page(client, f"/lists/reform/?q={UNIT_B}&per_page=200"))) == want
    # Nothing matches: an empty list, not everything.
    response = page(client, "/lists/project/?q=不存在的词语XYZ&per_page=200")
    assert shown_seqs(response) == [] and result_count(response) == 0
    assert "没有符合条件的事项" in response.content.decode()


@pytest.mark.django_db
def test_each_filter_shows_exactly_the_matching_projects(client, planner, real_plan):
    client.force_login(planner)
    infra = project_category(real_plan, PROJECT_HEADINGS[0])
    ojk = unit(UNIT_A)
    # Give a few entries a status and open flags, so status and light filters have something to find.
    by_seq = {i.seq: i for i in Item.objects.filter(plan=real_plan, list_kind=ListKind.PROJECT)}
    Item.objects.filter(pk__in=[by_seq[2].pk, by_seq[5].pk]).update(status=ItemStatus.SUSPENDED)
    Item.objects.filter(pk__in=[by_seq[3].pk, by_seq[6].pk]).update(status=ItemStatus.COMPLETED)
    # The evaluation sets each entry's light; here a few are set by hand so each light has entries.
    lights = {1: "red", 4: "yellow", 3: "done", 6: "done"}
    ItemFigures.objects.filter(item__plan=real_plan, item__list_kind=ListKind.PROJECT).update(light="green")
    for seq, light in lights.items():
        ItemFigures.objects.filter(item=by_seq[seq]).update(light=light)
    rows = entries(real_plan)
    light = {r["seq"]: lights.get(r["seq"], "green") for r in rows}

    cases = [
        (f"category={infra.pk}", lambda r: r["category_id"] == infra.pk),
        ("project_type=new", lambda r: r["project_type"] == "new"),
        ("project_type=research", lambda r: r["project_type"] == "research"),
        ("status=suspended", lambda r: r["status"] == "suspended"),
        ("status=in_progress", lambda r: r["status"] == "in_progress"),
        (f"unit={ojk.pk}", lambda r: ojk.pk in r["unit_ids"]),
        ("year=2023", lambda r: r["start_year"] is not None and r["start_year"] <= 2023 <= r["end_year"]),
        ("end_year=2023", lambda r: r["end_year"] == 2023),
        ("total_min=10", lambda r: r["total_investment"] is not None and r["total_investment"] >= 10),
        ("total_max=1.5", lambda r: r["total_investment"] is not None and r["total_investment"] <= D("1.5")),
        ("total_min=10&total_max=30", lambda r: r["total_investment"] is not None and 10 <= r["total_investment"] <= 30),
        ("light=red", lambda r: light[r["seq"]] == "red"),
        ("light=yellow", lambda r: light[r["seq"]] == "yellow"),
        ("light=done", lambda r: light[r["seq"]] == "done"),
        ("light=green", lambda r: light[r["seq"]] == "green"),
        (f"year=2022&unit={ojk.pk}&category={infra.pk}",
         lambda r: r["start_year"] is not None and r["start_year"] <= 2022 <= r["end_year"]
         and ojk.pk in r["unit_ids"] and r["category_id"] == infra.pk),
    ]
    for query, keep in cases:
        want = sorted(r["seq"] for r in rows if keep(r))
        assert want, query
        assert len(want) < len(rows), query
        response = page(client, f"/lists/project/?{query}&per_page=200")
        assert sorted(shown_seqs(response)) == want, query
        assert result_count(response) == len(want), query
    assert {r["seq"] for r in rows if light[r["seq"]] == "red"} == {1}
    assert {r["seq"] for r in rows if light[r["seq"]] == "done"} == {3, 6}


@pytest.mark.django_db
def test_sorting_by_total_investment_desc_puts_pending_last(client, planner, real_plan):
    client.force_login(planner)
    rows = entries(real_plan)
    response = page(client, "/lists/project/?sort=-total_investment&per_page=200")
    shown = list_rows(response)
    assert [int(r["序号"]) for r in shown] == [r["seq"] for r in total_desc_order(rows)]
    totals = [r["总投资（亿元）"] for r in shown]
    pending = [t for t in totals if t == PENDING]
    assert len(pending) == sum(1 for r in rows if r["total_investment"] is None) == 9
    assert totals[-len(pending):] == pending, "待定 must come after every known amount"
    known = [D(t.replace(",", "")) for t in totals[:-len(pending)]]
    assert known == sorted(known, reverse=True)
    assert known[0] == max(r["total_investment"] for r in rows if r["total_investment"] is not None)


@pytest.mark.django_db
def test_pagination_with_per_page(client, planner, real_plan):
    client.force_login(planner)
    everything = [r["seq"] for r in total_desc_order(entries(real_plan))]
    assert len(everything) == 196
    pages = []
    for n in range(1, 9):
        response = page(client, f"/lists/project/?sort=-total_investment&per_page=25&page={n}")
        assert result_count(response) == 196
        pages.append(shown_seqs(response))
    assert [len(p) for p in pages] == [25] * 7 + [21]
    assert [s for p in pages for s in p] == everything
    assert shown_seqs(page(client, "/lists/project/?sort=-total_investment&per_page=100&page=2")) == everything[100:]
    # The page-size choice offered on the page is the one in the URL.
    doc = response.content.decode()
    assert re.search(r'<option value="25" selected>25</option>', doc)
    # A size the page does not offer falls back to the default of 50, and the page says so.
    for odd in ("10", "100000", "-5", "0", "abc"):
        response = page(client, f"/lists/project/?per_page={odd}")
        assert len(shown_seqs(response)) == 50, f"per_page={odd}"
        assert selected_options(response.content.decode(), "per_page") == ["50"]
    assert len(shown_seqs(page(client, "/lists/project/"))) == 50


@pytest.mark.django_db
def test_a_bad_filter_value_is_explained_in_chinese_beside_its_field(client, leader, real_plan):
    client.force_login(leader)
    response = client.get("/lists/project/?category=abc&status=bogus", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.status_code == 200
    text = response.content.decode()
    errors = re.findall(r'<label class="form-label" for="id_(\w+)">[^<]*</label>\s*'
                        r'<div class="small text-danger filter-error">([^<]*)</div>', text)
    assert {name for name, _ in errors} == {"category", "status"}
    assert all("选择一个有效的选项" in message for _, message in errors), errors
    assert "valid choice" not in text


@pytest.mark.django_db
def test_url_holds_the_filters_and_export_links_carry_the_same_query(client, planner, real_plan):
    client.force_login(planner)
    infra = project_category(real_plan, PROJECT_HEADINGS[0])
    ojk = unit(UNIT_A)
    rows = entries(real_plan)

    def searched(r):
        return "工程" in r["name"] or "工程" in r["content"] or any("工程" in n for n in r["unit_names"])

    def covers(r, year):
        return r["start_year"] is not None and r["start_year"] <= year <= r["end_year"]

    cases = [
        # Several pages: the second page of a search with year and amount bounds.
        ({"q": "工程", "year": "2022", "total_min": "1", "total_max": "50", "sort": "-total_investment",
          "per_page": "25"}, 2,
         lambda r: searched(r) and covers(r, 2022) and r["total_investment"] is not None
         and 1 <= r["total_investment"] <= 50),
        # Category, unit and status selects, sorted the other way.
        ({"category": str(infra.pk), "unit": str(ojk.pk), "status": "not_started", "sort": "seq",
          "per_page": "50"}, 1,
         lambda r: r["category_id"] == infra.pk and ojk.pk in r["unit_ids"] and r["status"] == "not_started"),
    ]
    for query, page_no, keep in cases:
        url = "/lists/project/?" + "&".join(f"{k}={v}" for k, v in query.items())
        if query["sort"] == "seq":
            want = sorted(r["seq"] for r in rows if keep(r))
        else:
            want = [r["seq"] for r in total_desc_order(rows) if keep(r)]
        size = int(query["per_page"])
        assert len(want) > size * (page_no - 1), "the case needs that page"
        response = page(client, url + f"&page={page_no}")
        assert shown_seqs(response) == want[size * (page_no - 1):size * page_no], query
        assert result_count(response) == len(want)
        text = response.content.decode()
        doc = _Page(text)
        # The form shows the filters in force.
        for name in ("q", "year", "total_min", "total_max"):
            if name in query:
                assert input_value(text, name) == query[name], name
        for name in ("category", "unit", "status", "per_page"):
            if name in query:
                assert selected_options(text, name) == [query[name]], name
        assert f'name="sort" value="{query["sort"]}"' in text
        # Both export links hold the same filters and sort (all rows, so no page).
        for fmt in ("xlsx", "csv"):
            href = doc.ids[f"export-{fmt}"]["attrs"]["href"]
            params = {k: v[0] for k, v in parse_qs(urlsplit(html.unescape(href)).query).items()}
            assert params == dict(query, _export=fmt), fmt
        # Pagination links keep the filters too.
        page_links = [parse_qs(urlsplit(a["href"]).query) for a in doc.links
                      if "page-link" in (a.get("class") or "") and "page=" in (a.get("href") or "")]
        if len(want) > size:
            assert page_links
        for params in page_links:
            assert {k: v[0] for k, v in params.items() if k != "page"} == query
        # Following the export links gives every matching row, in the order of the page.
        href = html.unescape(doc.ids["export-csv"]["attrs"]["href"])
        exported = csv_rows(body(page(client, "/lists/project/" + href)))
        assert [int(r[0]) for r in exported[1:]] == want
        href = html.unescape(doc.ids["export-xlsx"]["attrs"]["href"])
        exported = sheet_rows(xlsx_book(body(page(client, "/lists/project/" + href))).worksheets[0])
        assert [r[0] for r in exported[1:]] == want


# ---------------------------------------------------------------- the newcomer's question, and exports

@pytest.mark.django_db
def test_newcomer_new_infrastructure_projects_of_the_dev_group_ending_2023(client, planner, real_plan):
    """所有新建的基础设施项目，温州市瓯江口开发建设投资集团有限公司牵头或配合，2023 年完成，按总投资从大到小。"""
    client.force_login(planner)
    infra = project_category(real_plan, "一、基础设施项目")
    ojk = unit(UNIT_A)
    linked = ItemUnit.objects.filter(unit=ojk).values_list("item_id", flat=True)
    expected = list(Item.objects.filter(
        plan=real_plan, list_kind=ListKind.PROJECT, category=infra, project_type="new", end_year=2023,
        pk__in=linked))
    expected.sort(key=lambda i: (i.total_investment is None, -(i.total_investment or 0), i.seq))
    assert len(expected) >= 3
    url = (f"/lists/project/?category={infra.pk}&project_type=new&unit={ojk.pk}&end_year=2023"
           f"&sort=-total_investment")

    response = page(client, url)
    assert shown_seqs(response) == [i.seq for i in expected]
    assert result_count(response) == len(expected)

    exported = page(client, url + "&_export=xlsx")
    assert exported["Content-Type"].startswith("application/vnd.openxmlformats")
    book = xlsx_book(body(exported))
    ws = book.worksheets[0]
    assert ws.freeze_panes == "A2"
    rows = as_dicts(sheet_rows(ws))
    assert [r["序号"] for r in rows] == [i.seq for i in expected]
    for r, item in zip(rows, expected):
        assert r["项目名称"] == item.name
        assert r["类别"] == infra.name
        assert r["项目类型"] == "新建"
        assert r["建设期限"].endswith("2023")
        assert num(r["总投资（亿元）"]) == dec(item.total_investment)
        assert num(r["“十四五”投资（亿元）"]) == dec(item.plan_investment)
        assert UNIT_A in r["责任单位"]


@pytest.mark.django_db
def test_xlsx_export_money_numeric_and_pending_as_text(client, planner, real_plan):
    client.force_login(planner)
    expected = total_desc_order(entries(real_plan))
    book = xlsx_book(body(page(client, "/lists/project/?sort=-total_investment&per_page=25&_export=xlsx")))
    rows = as_dicts(sheet_rows(book.worksheets[0]))
    assert [r["序号"] for r in rows] == [e["seq"] for e in expected]
    for r, e in zip(rows, expected):
        for col, field in (("总投资（亿元）", "total_investment"), ("“十四五”投资（亿元）", "plan_investment")):
            if e[field] is None:
                assert r[col] == PENDING, (e["seq"], col, r[col])
            else:
                assert num(r[col]) == dec(e[field]), (e["seq"], col)
    row41 = next(r for r in rows if r["序号"] == 41)
    assert row41["项目名称"] == "330 国道（灵昆段）拓宽工程"
    assert row41["总投资（亿元）"] == PENDING and row41["“十四五”投资（亿元）"] == PENDING
    assert money_sum(r["总投资（亿元）"] for r in rows) == D("2370.36")


@pytest.mark.django_db
def test_csv_export_has_every_row_not_only_the_page(client, planner, real_plan):
    client.force_login(planner)
    expected = total_desc_order(entries(real_plan))
    response = page(client, "/lists/project/?sort=-total_investment&per_page=25&page=3&_export=csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = csv_rows(body(response))
    header, data = rows[0], rows[1:]
    assert header[:2] == ["序号", "项目名称"]
    assert len(data) == 196
    records = [dict(zip(header, r)) for r in data]
    assert [int(r["序号"]) for r in records] == [e["seq"] for e in expected]
    for r, e in zip(records, expected):
        want = PENDING if e["total_investment"] is None else f"{e['total_investment']:.2f}"
        assert r["总投资（亿元）"] == want
        assert r["项目名称"] == e["name"]
    assert money_sum(r["“十四五”投资（亿元）"] for r in records) == D("1612.30")


@pytest.mark.django_db
def test_unknown_export_format_is_rejected(client, planner):
    client.force_login(planner)
    for url in ("/lists/project/?_export=pdf", "/lists/platform/?_export=xls", "/rollup/?format=pdf",
                "/ranking/?_export=pdf"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert "xlsx" in response.content.decode() or "不支持" in response.content.decode()


# ---------------------------------------------------------------- query counts do not grow with the rows

def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response, [q["sql"] for q in ctx.captured_queries]


def _add_activity(items):
    """Reports, a second unit and open flags on entries, so any per-row lookup would show."""
    other = unit(UNIT_B)
    for n, item in enumerate(items):
        ItemUnit.objects.get_or_create(item=item, unit=other, defaults={"role": "support"})
        StatusReport.objects.create(item=item, month=datetime.date(2024, 1 + n % 3, 1), status="in_progress",
                                    cumulative_investment=D("0.5"), month_investment=D("0.5"))
    Item.objects.filter(pk__in=[item.pk for item in items]).update(status="in_progress")
    evaluate_changed_entries([item.pk for item in items])  # what committing these rows does
    assert Flag.objects.filter(item__in=items, resolved_on__isnull=True).exists()


@pytest.mark.django_db
def test_project_list_query_count_does_not_grow_with_rows(client, planner, real_plan):
    client.force_login(planner)
    _add_activity(list(Item.objects.filter(plan=real_plan, list_kind=ListKind.PROJECT)[:150]))
    client.get("/lists/project/?per_page=25")  # warm up (session, content types)
    small, r_small, _ = _queries(client, "/lists/project/?per_page=25")
    large, r_large, sql = _queries(client, "/lists/project/?per_page=200")
    assert len(shown_seqs(r_small)) == 25 and len(shown_seqs(r_large)) == 196
    assert small == large, "\n".join(sql)
    # Same for the sorted, filtered view a leader opens from the dashboard.
    small, _, _ = _queries(client, "/lists/project/?per_page=25&sort=-total_investment&q=项目")
    large, _, sql = _queries(client, "/lists/project/?per_page=200&sort=-total_investment&q=项目")
    assert small == large, "\n".join(sql)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", [k for k in ListKind if k != ListKind.PROJECT])
def test_other_list_query_count_does_not_grow_with_rows(client, leader, real_plan, kind):
    client.force_login(leader)
    category = Category.objects.filter(plan=real_plan, list_kind=kind).order_by("order").first()
    extra = [Item.objects.create(plan=real_plan, list_kind=kind, category=category, seq=500 + n,
                                 name=f"测试事项{n}", content="工作目标", domain="测试领域" if kind == "policy" else "")
             for n in range(60)]
    for item in extra:
        ItemUnit.objects.create(item=item, unit=unit(UNIT_A), role="lead")
    _add_activity(extra + list(Item.objects.filter(plan=real_plan, list_kind=kind, seq__lt=500)))
    total = Item.objects.filter(plan=real_plan, list_kind=kind).count()
    assert total > 60
    client.get(f"/lists/{kind.value}/?per_page=25")
    small, r_small, _ = _queries(client, f"/lists/{kind.value}/?per_page=25")
    large, r_large, sql = _queries(client, f"/lists/{kind.value}/?per_page=200")
    assert len(shown_seqs(r_small)) == 25 and len(shown_seqs(r_large)) == total
    assert small == large, "\n".join(sql)
    if kind == ListKind.PLATFORM:
        assert total == 79


@pytest.mark.django_db
def test_unit_user_list_query_count_does_not_grow_with_rows(client, unit_a_user, real_plan):
    client.force_login(unit_a_user)
    mine = list(Item.objects.filter(plan=real_plan, list_kind=ListKind.PROJECT, unit_links__unit__name=UNIT_A))
    _add_activity(mine)
    client.get("/lists/project/?per_page=25")
    small, r_small, _ = _queries(client, "/lists/project/?per_page=25")
    large, r_large, sql = _queries(client, "/lists/project/?per_page=200")
    assert len(shown_seqs(r_small)) == 25 and len(shown_seqs(r_large)) == len(mine) == 36
    assert small == large, "\n".join(sql)


# ---------------------------------------------------------------- money rendering

@pytest.mark.django_db
def test_pending_money_is_shown_as_pending_on_list_and_detail(client, leader, real_plan):
    client.force_login(leader)
    item = Item.objects.get(plan=real_plan, list_kind=ListKind.PROJECT, seq=41)
    assert item.name == "330 国道（灵昆段）拓宽工程" and item.total_investment is None
    response = page(client, "/lists/project/?q=灵昆段）拓宽&per_page=200")
    [row] = [r for r in list_rows(response) if r["序号"] == "41"]
    assert row["总投资（亿元）"] == PENDING
    assert row["“十四五”投资（亿元）"] == PENDING
    assert row["建设期限"] == PENDING
    assert row["责任单位"] == PENDING
    assert row["累计完成（亿元）"] == "未报"
    assert not any("None" in value for value in row.values()), row
    # Sorted by 总投资 the same row still reads 待定.
    row = next(r for r in list_rows(page(client, "/lists/project/?sort=total_investment&per_page=200"))
               if r["序号"] == "41")
    assert row["总投资（亿元）"] == PENDING

    detail = page(client, f"/items/{item.pk}/")
    text = detail.content.decode()
    doc = _Page(text)
    assert doc.ids["total-investment"]["text"] == PENDING
    assert re.search(r"“十四五”投资</dt><dd[^>]*>待定</dd>", text)
    assert "None" not in text
    assert not re.search(r'class="col-sm-9 money"[^>]*>\s*0(\.00)?\s*(亿元)?\s*<', text)


# ---------------------------------------------------------------- dashboard totals

@pytest.mark.django_db
def test_dashboard_figures_equal_sums_over_the_rows(client, leader, real_plan):
    client.force_login(leader)
    rows = entries(real_plan)
    response = page(client, f"/?as_of={AS_OF}")
    s = response.context["s"]
    totals = s["totals"]
    assert totals["count"] == len(rows) == 196
    assert dec(totals["total"]) == money_sum(r["total_investment"] for r in rows) == D("2370.36")
    assert dec(totals["plan"]) == money_sum(r["plan_investment"] for r in rows) == D("1612.30")
    assert totals["completed"] is None or dec(totals["completed"]) == 0

    per_list = {r["value"]: r["n"] for r in s["per_list"]}
    for kind in ListKind:
        assert per_list[kind.value] == Item.objects.filter(plan=real_plan, list_kind=kind).count()
    assert per_list == {"project": 196, "platform": 19, "industry": 16, "reform": 12, "policy": 20, "element": 17}

    cats = {c.pk: c for c in Category.objects.filter(plan=real_plan, list_kind=ListKind.PROJECT)}
    shown = {r["name"]: r for r in s["by_category"]}
    assert list(shown) == [cats[pk].name for pk in sorted(cats, key=lambda pk: cats[pk].order)]
    for pk, cat in cats.items():
        mine = [r for r in rows if r["category_id"] == pk]
        assert shown[cat.name]["count"] == len(mine)
        assert dec(shown[cat.name]["total"]) == money_sum(r["total_investment"] for r in mine), cat.name
        assert dec(shown[cat.name]["plan"]) == money_sum(r["plan_investment"] for r in mine), cat.name
    assert dec(shown["生态保护项目"]["plan"]) == D("35.98")
    for r in s["by_type"]:
        mine = [x for x in rows if x["project_type"] == r["project_type"]]
        assert r["count"] == len(mine)
        known = [x["total_investment"] for x in mine if x["total_investment"] is not None]
        assert (r["total"] is None and not known) or dec(r["total"]) == money_sum(known)

    # What the page prints is those figures.
    doc = _Page(response.content.decode())
    assert D(doc.ids["figure:total"]["text"].replace(",", "")) == D("2370.36")
    table = doc.table(table_id="by-category")
    printed = {cells[0]["text"]: cells for cells in table["rows"]}
    for cat in cats.values():
        mine = [r for r in rows if r["category_id"] == cat.pk]
        cells = printed[cat.name]
        assert int(cells[1]["text"]) == len(mine)
        assert D(cells[2]["text"].replace(",", "")) == money_sum(r["total_investment"] for r in mine)
        assert D(cells[3]["text"].replace(",", "")) == money_sum(r["plan_investment"] for r in mine)
    assert D(printed["合计"][2]["text"].replace(",", "")) == D("2370.36")
    assert D(printed["合计"][3]["text"].replace(",", "")) == D("1612.30")
    assert int(printed["合计"][1]["text"]) == 196


@pytest.mark.django_db
def test_entry_with_two_units_and_several_reports_counts_once(client, leader, unit_a_user, unit_b_user, real_plan):
    item = make_tracked_project(real_plan)
    rows = entries(real_plan)
    infra_rows = [r for r in rows if r["category_id"] == item.category_id]

    client.force_login(leader)
    s = page(client, f"/?as_of={AS_OF}").context["s"]
    assert s["totals"]["count"] == 197
    assert dec(s["totals"]["total"]) == D("2380.36")
    assert dec(s["totals"]["plan"]) == D("1620.30")
    assert dec(s["totals"]["completed"]) == D("4.00"), "only the latest report's cumulative, once"
    infra = next(r for r in s["by_category"] if r["name"] == "基础设施项目")
    assert infra["count"] == len(infra_rows) == 48
    assert dec(infra["total"]) == money_sum(r["total_investment"] for r in infra_rows) == D("896.38")
    assert dec(infra["completed"]) == D("4.00")
    year_2024 = next(r for r in s["by_year"] if r["year"] == 2024)
    assert dec(year_2024["completed"]) == D("4.00"), "monthly amounts 1.0 + 1.5 + 1.5"
    # As of a date before the March report: the February cumulative.
    s = page(client, "/?as_of=2024-02-20").context["s"]
    assert dec(s["totals"]["completed"]) == D("2.50")

    # Each unit sees the entry once.
    for user, name in ((unit_a_user, UNIT_A), (unit_b_user, UNIT_B)):
        client.force_login(user)
        mine = [r for r in rows if unit(name).pk in r["unit_ids"]]
        s = page(client, f"/?as_of={AS_OF}").context["s"]
        assert s["totals"]["count"] == len(mine), name
        assert dec(s["totals"]["total"]) == money_sum(r["total_investment"] for r in mine), name
        assert dec(s["totals"]["completed"]) == D("4.00"), name

    # The rollup: the entry's row, its category 小计 and the 合计 each count the latest cumulative once.
    client.force_login(leader)
    ws = xlsx_book(body(page(client, f"/rollup/?format=xlsx&as_of={AS_OF}")))["重大项目"]
    blocks, grand = project_blocks(ws)
    [row] = [r for b in blocks for r in b["items"] if r[0] == 9001]
    assert num(row[9]) == D("4.00")
    infra_block = blocks[0]
    assert infra_block["label"] == "一、基础设施项目" and len(infra_block["items"]) == 48
    assert num(infra_block["subtotal"][5]) == D("896.38")
    assert num(infra_block["subtotal"][9]) == D("4.00")
    assert num(grand[5]) == D("2380.36")
    assert num(grand[9]) == D("4.00")
    # 汇总 by unit: the entry counts for each of its two units, once each.
    by_unit = summary_blocks(xlsx_book(body(page(client, f"/rollup/?format=xlsx&as_of={AS_OF}")))["汇总"])
    by_unit = next(v for k, v in by_unit.items() if k.startswith("按责任单位"))
    for name in (UNIT_A, UNIT_B):
        mine = [r for r in rows if unit(name).pk in r["unit_ids"]]
        assert num(by_unit[name][2]) == money_sum(r["total_investment"] for r in mine), name
        assert num(by_unit[name][4]) == D("4.00"), name
    # The ranking: each unit's actual completed investment is the entry's latest cumulative, once.
    ranking = {r[1]: r for r in _ranking_table(page(client, f"/ranking/?as_of={AS_OF}"))}
    assert D(ranking[UNIT_A][4]) == D("4.00")
    assert D(ranking[UNIT_B][4]) == D("4.00")
    assert int(ranking[UNIT_B][2]) == 1


# ---------------------------------------------------------------- rollup workbook

def project_blocks(ws):
    """The 重大项目 sheet as category blocks: heading, item rows, 小计 row; and the 合计 row."""
    rows = sheet_rows(ws)
    assert rows[0][0] == "序号"
    blocks, grand = [], None
    for r in rows[1:]:
        first = r[0]
        assert grand is None, "nothing may follow the 合计 row"
        if first == "小计":
            assert blocks and blocks[-1]["subtotal"] is None, "one 小计 per category"
            blocks[-1]["subtotal"] = r
        elif first == "合计":
            grand = r
        elif isinstance(first, int):
            assert blocks and blocks[-1]["subtotal"] is None, "item row outside a category"
            blocks[-1]["items"].append(r)
        else:
            blocks.append({"label": first, "items": [], "subtotal": None})
    assert grand is not None, "the sheet ends with a 合计 row"
    return blocks, grand


def summary_blocks(ws):
    """The 汇总 sheet as {block title: {name: row}} (rows keyed by their 名称 column)."""
    blocks = {}
    for r in sheet_rows(ws):
        if r[0] in (None, "分组") or str(r[0]).startswith("汇总"):
            continue
        if r[1] is None:
            blocks[r[0]] = {}
        else:
            blocks[r[0]][r[1]] = r
    return blocks


def assert_project_sheet(ws, plan, rows):
    """Headings, rows, 小计 and 合计 of the 重大项目 sheet, against the entries `rows`."""
    assert ws.freeze_panes == "A2"
    blocks, grand = project_blocks(ws)
    cats = {c.pk: c for c in Category.objects.filter(plan=plan, list_kind=ListKind.PROJECT)}
    present = sorted({r["category_id"] for r in rows}, key=lambda pk: cats[pk].order)
    assert [b["label"] for b in blocks] == [cats[pk].printed_label for pk in present]
    all_items = []
    for block, pk in zip(blocks, present):
        mine = sorted((r for r in rows if r["category_id"] == pk), key=lambda r: r["seq"])
        assert [r[0] for r in block["items"]] == [r["seq"] for r in mine], block["label"]
        for cells, entry in zip(block["items"], mine):
            for col, field in ((5, "total_investment"), (6, "plan_investment")):
                if entry[field] is None:
                    assert cells[col] == PENDING, (entry["seq"], col)
                else:
                    assert num(cells[col]) == dec(entry[field]), (entry["seq"], col)
        sub = block["subtotal"]
        assert sub is not None, f"{block['label']} has no 小计 row"
        # 小计 = the sum of the item rows above it on the sheet (待定 left out).
        assert num(sub[5]) == money_sum(c[5] for c in block["items"]), block["label"]
        assert num(sub[6]) == money_sum(c[6] for c in block["items"]), block["label"]
        all_items += block["items"]
    assert num(grand[5]) == money_sum(c[5] for c in all_items)
    assert num(grand[6]) == money_sum(c[6] for c in all_items)
    return blocks, grand


@pytest.mark.django_db
def test_rollup_command_xlsx(tmp_path, real_plan):
    target = tmp_path / "rollup.xlsx"
    out = io.StringIO()
    call_command("export_rollup", "--plan", PLAN_CODE, "--format", "xlsx", "--output", str(target),
                 "--as-of", str(AS_OF), stdout=out)
    book = load_workbook(target)
    assert book.sheetnames == ROLLUP_SHEETS
    rows = entries(real_plan)
    blocks, grand = assert_project_sheet(book["重大项目"], real_plan, rows)
    assert [b["label"] for b in blocks] == PROJECT_HEADINGS
    by_label = {b["label"]: b for b in blocks}
    # The computed figures, never the printed ones.
    assert num(by_label["五、生态保护项目"]["subtotal"][6]) == D("35.98")
    assert num(by_label["五、生态保护项目"]["subtotal"][5]) == D("36.84")
    assert num(by_label["一、基础设施项目"]["subtotal"][5]) == D("886.38")
    assert num(grand[5]) == D("2370.36")
    assert num(grand[6]) == D("1612.30")
    assert sum(len(b["items"]) for b in blocks) == 196
    pending = [c[5] for b in blocks for c in b["items"] if isinstance(c[5], str)]
    assert pending == [PENDING] * 9
    # Money is numeric everywhere else on the sheet.
    for b in blocks:
        for c in b["items"]:
            for col in (5, 6):
                assert c[col] == PENDING or isinstance(c[col], (int, float)), (c[0], col, c[col])

    programmes = sheet_rows(book["十大（类）百亿工程"])
    assert programmes[0][0] == "序号"
    items = [r for r in programmes[1:] if isinstance(r[0], int)]
    assert [r[0] for r in items] == list(range(1, 11))
    assert programmes[-1][0] == "合计"
    assert num(programmes[-1][4]) == money_sum(r[4] for r in items) == D("2510.00")
    assert book["十大（类）百亿工程"].freeze_panes == "A2"

    for title, kind, headings in (
        ("重大平台", ListKind.PLATFORM, ["一、重大开放平台", "二、重大产业平台", "三、重大科创平台", "四、现代农业发展平台"]),
        ("重大产业", ListKind.INDUSTRY, None), ("重大改革", ListKind.REFORM, []),
        ("重大政策", ListKind.POLICY, []), ("重大要素", ListKind.ELEMENT, None),
    ):
        ws = book[title]
        assert ws.freeze_panes == "A2", title
        sheet = sheet_rows(ws)
        assert sheet[0][0] == "序号"
        seqs = [r[0] for r in sheet[1:] if isinstance(r[0], int)]
        labels = [r[0] for r in sheet[1:] if not isinstance(r[0], int)]
        want = Item.objects.filter(plan=real_plan, list_kind=kind)
        assert sorted(seqs) == sorted(want.values_list("seq", flat=True)), title
        expected_labels = list(Category.objects.filter(plan=real_plan, list_kind=kind).order_by("order")
                               .values_list("printed_label", flat=True))
        assert labels == expected_labels, title
        if headings is not None and headings:
            assert labels == headings
    # 汇总: per category and per project type, the sums of the 重大项目 rows.
    summary = summary_blocks(book["汇总"])
    assert list(summary["按类别"]) == [label.split("、", 1)[1] for label in PROJECT_HEADINGS]
    for b in blocks:
        r = summary["按类别"][b["label"].split("、", 1)[1]]
        assert num(r[2]) == money_sum(c[5] for c in b["items"]), b["label"]
        assert num(r[3]) == money_sum(c[6] for c in b["items"]), b["label"]
    assert num(summary["按类别"]["生态保护项目"][3]) == D("35.98")
    items = [c for b in blocks for c in b["items"]]
    assert set(summary["按项目类型"]) == {c[3] for c in items}
    for type_label, r in summary["按项目类型"].items():
        mine = [c for c in items if c[3] == type_label]
        known = [c[5] for c in mine if c[5] != PENDING]
        assert (r[2] == PENDING and not known) or num(r[2]) == money_sum(known), type_label
    assert "已导出" in out.getvalue()


@pytest.mark.django_db
def test_rollup_download_equals_command_output(client, planner, tmp_path, real_plan):
    target = tmp_path / "rollup.xlsx"
    call_command("export_rollup", "--plan", PLAN_CODE, "--format", "xlsx", "--output", str(target),
                 "--as-of", str(AS_OF), stdout=io.StringIO())
    client.force_login(planner)
    response = page(client, f"/rollup/?format=xlsx&plan={PLAN_CODE}&as_of={AS_OF}")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    web = xlsx_book(body(response))
    cmd = load_workbook(target)
    assert web.sheetnames == ROLLUP_SHEETS
    for title in ROLLUP_SHEETS:
        assert sheet_rows(web[title]) == sheet_rows(cmd[title]), title
    assert_project_sheet(web["重大项目"], real_plan, entries(real_plan))
    # The dashboard's download link leads here.
    doc = _Page(page(client, f"/?as_of={AS_OF}").content.decode())
    href = html.unescape(doc.ids["rollup-xlsx"]["attrs"]["href"])
    assert href.startswith("/rollup/?format=xlsx")
    assert sheet_rows(xlsx_book(body(page(client, href)))["重大项目"]) == sheet_rows(cmd["重大项目"])


@pytest.mark.django_db
def test_export_rollup_csv_writes_one_csv_unless_the_output_is_a_zip(tmp_path, real_plan):
    """`--format csv --output x.csv` writes what its name says: one CSV, each sheet a block under
    its title (as the 后评估's CSV); a zip of one CSV per sheet only for an output ending in .zip."""
    one, many = tmp_path / "rollup.csv", tmp_path / "rollup.zip"
    for target in (one, many):
        call_command("export_rollup", "--plan", PLAN_CODE, "--format", "csv", "--output", str(target),
                     "--as-of", str(AS_OF), stdout=io.StringIO())
    assert not zipfile.is_zipfile(one)
    rows = csv_rows(one.read_bytes())
    with zipfile.ZipFile(many) as zf:
        sheets = {name[:-4]: csv_rows(zf.read(name)) for name in zf.namelist()}
    assert list(sheets) == ROLLUP_SHEETS
    expected = []
    for title in ROLLUP_SHEETS:
        expected += [[title], *sheets[title], []]
    assert rows == expected


@pytest.mark.django_db
def test_rollup_csv_is_a_zip_of_one_bom_csv_per_sheet(client, planner, tmp_path, real_plan):
    target = tmp_path / "rollup.zip"
    call_command("export_rollup", "--plan", PLAN_CODE, "--format", "csv", "--output", str(target),
                 "--as-of", str(AS_OF), stdout=io.StringIO())
    client.force_login(planner)
    response = page(client, f"/rollup/?format=csv&as_of={AS_OF}")
    assert response["Content-Type"] == "application/zip"
    for source in (target.read_bytes(), body(response)):
        with zipfile.ZipFile(io.BytesIO(source)) as zf:
            assert zf.namelist() == [f"{t}.csv" for t in ROLLUP_SHEETS]
            sheets = {name[:-4]: csv_rows(zf.read(name)) for name in zf.namelist()}
        projects = sheets["重大项目"]
        assert projects[0][0] == "序号"
        blocks, current = {}, None
        for r in projects[1:]:
            if r[0] in PROJECT_HEADINGS:
                current = r[0]
                blocks[current] = {"items": [], "sub": None}
            elif r[0] == "小计":
                blocks[current]["sub"] = r
            elif r[0].isdigit():
                blocks[current]["items"].append(r)
        assert list(blocks) == PROJECT_HEADINGS
        for label, b in blocks.items():
            assert D(b["sub"][5]) == money_sum(r[5] for r in b["items"]), label
            assert D(b["sub"][6]) == money_sum(r[6] for r in b["items"]), label
        assert blocks["五、生态保护项目"]["sub"][6] == "35.98"
        assert projects[-1][0] == "合计" and projects[-1][5] == "2370.36" and projects[-1][6] == "1612.30"
        row41 = next(r for r in projects if r[0] == "41")
        assert row41[5] == PENDING and row41[6] == PENDING
        assert sheets["十大（类）百亿工程"][-1][4] == "2510.00"
        assert len([r for r in sheets["重大政策"][1:] if r[0].isdigit()]) == 20


# ---------------------------------------------------------------- scope of a unit user

@pytest.mark.django_db
@pytest.mark.parametrize("who, name", [("unit_a_user", UNIT_A), ("unit_b_user", UNIT_B)])
def test_unit_user_sees_only_own_entries_in_rollup_export_dashboard(client, request, real_plan, who, name):
    user = request.getfixturevalue(who)
    client.force_login(user)
    me = unit(name)
    mine = {kind: [r for r in entries(real_plan, kind) if me.pk in r["unit_ids"]] for kind in ListKind}
    projects = mine[ListKind.PROJECT]
    assert sum(len(v) for v in mine.values()) > 0

    # Dashboard.
    s = page(client, f"/?as_of={AS_OF}").context["s"]
    assert {r["value"]: r["n"] for r in s["per_list"]} == {k.value: len(v) for k, v in mine.items()}
    assert s["totals"]["count"] == len(projects)
    if projects:
        assert dec(s["totals"]["total"]) == money_sum(r["total_investment"] for r in projects)
        assert dec(s["totals"]["plan"]) == money_sum(r["plan_investment"] for r in projects)
    else:
        assert not s["totals"]["total"]

    # List export.
    for kind in ListKind:
        data = csv_rows(body(page(client, f"/lists/{kind.value}/?per_page=25&_export=csv")))
        assert sorted(int(r[0]) for r in data[1:]) == sorted(r["seq"] for r in mine[kind]), kind

    # Rollup.
    book = xlsx_book(body(page(client, f"/rollup/?format=xlsx&as_of={AS_OF}")))
    if projects:
        blocks, grand = assert_project_sheet(book["重大项目"], real_plan, projects)
        assert num(grand[5]) == money_sum(r["total_investment"] for r in projects)
        orm_total = Item.objects.filter(plan=real_plan, list_kind=ListKind.PROJECT, unit_links__unit=me) \
            .values_list("total_investment", flat=True)
        assert num(grand[5]) == money_sum(orm_total)
    else:
        assert not [r for r in sheet_rows(book["重大项目"])[1:] if isinstance(r[0], int)]
    for title, kind in (("重大平台", ListKind.PLATFORM), ("重大产业", ListKind.INDUSTRY),
                        ("重大改革", ListKind.REFORM), ("重大政策", ListKind.POLICY), ("重大要素", ListKind.ELEMENT)):
        seqs = [r[0] for r in sheet_rows(book[title])[1:] if isinstance(r[0], int)]
        assert sorted(seqs) == sorted(r["seq"] for r in mine[kind]), title


@pytest.mark.django_db
def test_unit_a_rollup_total_is_the_orm_sum_over_its_items(client, unit_a_user, real_plan):
    client.force_login(unit_a_user)
    linked = ItemUnit.objects.filter(unit__name=UNIT_A).values_list("item_id", flat=True)
    orm = Item.objects.filter(plan=real_plan, list_kind=ListKind.PROJECT, pk__in=linked)
    want_total = money_sum(orm.values_list("total_investment", flat=True))
    want_plan = money_sum(orm.values_list("plan_investment", flat=True))
    assert orm.count() == 36 and want_total < D("2370.36")
    _, grand = project_blocks(xlsx_book(body(page(client, f"/rollup/?format=xlsx&as_of={AS_OF}")))["重大项目"])
    assert (num(grand[5]), num(grand[6])) == (want_total, want_plan)
    s = page(client, f"/?as_of={AS_OF}").context["s"]
    assert (dec(s["totals"]["total"]), dec(s["totals"]["plan"])) == (want_total, want_plan)
    rows = csv_rows(body(page(client, "/lists/project/?_export=csv")))
    assert money_sum(r[rows[0].index("总投资（亿元）")] for r in rows[1:]) == want_total


# ---------------------------------------------------------------- unit ranking

def _ranking_table(response):
    table = _Page(response.content.decode()).table(table_id="ranking-table")
    return [[c["text"] for c in cells] for cells in table["rows"]]


@pytest.mark.django_db
def test_unit_ranking_shows_formula_and_exports(client, leader, real_plan, django_capture_on_commit_callbacks):
    # Some progress, so scores differ between units.
    with django_capture_on_commit_callbacks(execute=True):
        for item in Item.objects.filter(plan=real_plan, list_kind=ListKind.PROJECT,
                                        unit_links__unit__name=UNIT_A)[:5]:
            item.status = ItemStatus.IN_PROGRESS
            item.save()
            StatusReport.objects.create(item=item, month=datetime.date(2024, 2, 1), status="in_progress",
                                        cumulative_investment=D("1.25"), month_investment=D("1.25"))
    client.force_login(leader)
    response = page(client, "/ranking/")
    doc = _Page(response.content.decode())
    formula = doc.ids["ranking-formula"]["text"]
    assert formula == " ".join(ranking_formula().split())
    assert formula.startswith("得分 =") and "按时填报率" in formula and "投资序时完成度" in formula
    assert "问题按期办结率" in formula and "督办按期反馈率" in formula and "一份月报也未报送" in formula
    shown = _ranking_table(response)
    assert len(shown) == Unit.objects.filter(item_links__isnull=False).distinct().count()
    ranks = [int(r[0]) for r in shown]  # standard competition ranking: 1, 2, 2, 4
    assert ranks[0] == 1 and ranks == sorted(ranks)
    assert all(rank == position or rank == ranks[position - 2] for position, rank in enumerate(ranks, start=1))
    ojk_row = next(r for r in shown if r[1] == UNIT_A)
    assert D(ojk_row[4]) == D("6.25")

    exports = {}
    for a in doc.links:
        href = html.unescape(a.get("href") or "")
        if "_export=" in href:
            exports[parse_qs(urlsplit(href).query)["_export"][0]] = href
    assert set(exports) == {"csv", "xlsx"}

    csv_data = csv_rows(body(page(client, "/ranking/" + exports["csv"])))
    header = csv_data[0]
    assert header[:2] == ["名次", "责任单位"] and header[-1] == "得分"
    assert [(r[0], r[1], r[-1]) for r in csv_data[1:]] == [(r[0], r[1], r[-1]) for r in shown]
    ojk = next(r for r in csv_data[1:] if r[1] == UNIT_A)
    assert ojk[header.index("实际累计完成投资（亿元）")] == "6.25"

    book = xlsx_book(body(page(client, "/ranking/" + exports["xlsx"])))
    ws = book.worksheets[0]
    assert ws.freeze_panes == "A2"
    rows = sheet_rows(ws)
    assert rows[0][:2] == ["名次", "责任单位"]
    ranked = [r for r in rows[1:] if isinstance(r[0], int)]
    assert [(str(r[0]), r[1]) for r in ranked] == [(r[0], r[1]) for r in shown]
    assert [num(r[-1]) for r in ranked] == [D(r[-1]) for r in shown]
    ojk = next(r for r in ranked if r[1] == UNIT_A)
    assert num(ojk[4]) == D("6.25")
    assert any(isinstance(r[0], str) and r[0].startswith("得分 =") for r in rows[1:]), "the formula goes with the file"


@pytest.mark.django_db
def test_unit_ranking_export_links_keep_the_as_of_date(client, leader, real_plan):
    """A leader looking at the ranking as of a date downloads that ranking, not today's."""
    make_tracked_project(real_plan, units=(UNIT_A,))
    client.force_login(leader)
    response = page(client, f"/ranking/?as_of={AS_OF}")
    shown = _ranking_table(response)
    doc = _Page(response.content.decode())
    hrefs = [html.unescape(a["href"]) for a in doc.links if "_export=" in (a.get("href") or "")]
    assert hrefs
    for href in hrefs:
        assert parse_qs(urlsplit(href).query).get("as_of") == [str(AS_OF)], href
    csv_data = csv_rows(body(page(client, "/ranking/" + next(h for h in hrefs if "csv" in h))))
    assert [(r[0], r[1], r[-1]) for r in csv_data[1:]] == [(r[0], r[1], r[-1]) for r in shown]


@pytest.mark.django_db
def test_dashboard_rollup_links_keep_the_as_of_date(client, leader, real_plan):
    """The dashboard as of a date offers the rollup as of that date (the figures it shows)."""
    make_tracked_project(real_plan)
    client.force_login(leader)
    response = page(client, "/?as_of=2024-02-20")
    s = response.context["s"]
    assert dec(s["totals"]["completed"]) == D("2.50")
    doc = _Page(response.content.decode())
    href = html.unescape(doc.ids["rollup-xlsx"]["attrs"]["href"])
    assert parse_qs(urlsplit(href).query).get("as_of") == ["2024-02-20"], href
    _, grand = project_blocks(xlsx_book(body(page(client, href)))["重大项目"])
    assert num(grand[9]) == D("2.50")
