"""Browser tests: headless Chromium (Playwright) against pytest-django's live_server.

Each test saves full-page screenshots under screenshots/ (git-ignored) for a human look.
"""
import os
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

# Playwright's sync API keeps an event loop on this thread; the ORM calls made by the tests
# themselves are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from django.core.management import call_command  # noqa: E402
from django.db.models import Exists, F, OuterRef  # noqa: E402

from projects.models import Category, Item, ItemStatus, ItemUnit, ListKind, Role, Unit
from reporting.models import StatusReport
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, PLAN_CODE, SHOTS, UNIT_A, make_user  # noqa: E402,F401

sync_api = pytest.importorskip("playwright.sync_api")

CATEGORY = "基础设施项目"
TIMEOUT_MS = 20_000


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN",
                                  accept_downloads=True)
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    errors = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    # A content security policy violation shows as a console error: the page broke its own rules.
    pg.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    pg.js_errors = errors
    yield pg
    context.close()


def shot(page, name):
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def login(page, live_server, username, password):
    page.goto(live_server.url + "/accounts/login/")
    assert page.locator("h1").inner_text() == "登录"
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_load_state()
    assert "/accounts/login/" not in page.url, page.locator("main").inner_text()
    assert username in page.locator("nav.navbar").inner_text()


def assert_no_raw_none(page):
    text = page.locator("body").inner_text()
    assert not re.search(r"\bNone\b", text), "raw None shown on " + page.url
    assert "nan" not in re.findall(r"\b[a-zA-Z]+\b", text.lower()), "raw nan shown on " + page.url


def table_seqs(page):
    return [int(t) for t in page.locator("table.item-table tbody tr td:first-child").all_inner_texts()]


def result_count(page):
    m = re.fullmatch(r"共 (\d+) 项", page.locator("#result-count").inner_text().strip())
    assert m, page.locator("#result-count").inner_text()
    return int(m.group(1))


def query(url):
    return {k: v for k, v in parse_qs(urlparse(url).query).items() if any(x for x in v)}


def test_leader_filters_sorts_opens_detail_returns_and_exports(page, live_server, real_plan):
    from openpyxl import load_workbook

    make_user("leader_b", Role.LEADER)
    category = Category.objects.get(plan=real_plan, list_kind=ListKind.PROJECT, name=CATEGORY)
    unit = Unit.objects.get(name=UNIT_A)
    expected = list(
        Item.objects.filter(plan=real_plan, list_kind=ListKind.PROJECT, category=category)
        .filter(Exists(ItemUnit.objects.filter(item=OuterRef("pk"), unit=unit)))
        .order_by(F("total_investment").desc(nulls_last=True), "seq")
        .values_list("seq", flat=True)
    )
    assert len(expected) > 1, "the filter should select several projects"

    login(page, live_server, "leader_b", "pw-leader_b")
    page.locator("nav.navbar").get_by_role("link", name="重大项目", exact=True).click()
    page.wait_for_url(re.compile(r"/lists/project/"))
    assert page.locator("h1").inner_text() == "重大项目清单"

    page.locator("#id_category").select_option(label=CATEGORY)
    page.locator("#id_unit").select_option(label=UNIT_A)
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url(re.compile(r"category=\d+"))
    assert query(page.url)["category"] == [str(category.pk)]
    assert query(page.url)["unit"] == [str(unit.pk)]
    assert result_count(page) == len(expected)
    assert sorted(table_seqs(page)) == sorted(expected)

    header = page.locator("table.item-table thead th").filter(has_text="总投资（亿元）").first.locator("a")
    header.click()
    page.wait_for_url(re.compile(r"sort=total_investment"))
    page.locator("table.item-table thead th").filter(has_text="总投资（亿元）").first.locator("a").click()
    page.wait_for_url(re.compile(r"sort=-total_investment"))
    list_url = page.url
    q = query(list_url)
    assert q["category"] == [str(category.pk)] and q["unit"] == [str(unit.pk)], list_url
    assert table_seqs(page) == expected
    # The filter form still shows the chosen filters after sorting.
    assert page.locator("#id_category option:checked").inner_text() == CATEGORY
    assert page.locator("#id_unit option:checked").inner_text() == UNIT_A
    assert_no_raw_none(page)
    shot(page, "1_list_filtered_sorted")

    first = page.locator("table.item-table tbody tr").first
    name = first.locator("td.item-name a").inner_text()
    first.locator("td.item-name a").click()
    page.wait_for_url(re.compile(r"/items/\d+/"))
    assert name in page.locator("h1").inner_text()
    assert page.locator("#units").inner_text().count(UNIT_A) == 1
    assert_no_raw_none(page)
    shot(page, "1_detail")

    back = page.locator("#back-to-list")
    assert back.inner_text().startswith("← 返回")
    back.click()
    page.wait_for_url(re.compile(r"/lists/project/"))
    assert urlparse(page.url).path == urlparse(list_url).path
    assert query(page.url) == query(list_url)
    assert table_seqs(page) == expected
    assert result_count(page) == len(expected)

    with page.expect_download() as info:
        page.locator("#export-xlsx").click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    path = SHOTS / "1_export.xlsx"
    download.save_as(str(path))
    try:
        sheet = load_workbook(path, read_only=True).active
        rows = list(sheet.iter_rows(values_only=True))
    finally:
        path.unlink(missing_ok=True)
    header_row, data = rows[0], rows[1:]
    assert header_row[0] == "序号"
    assert [r[0] for r in data] == expected
    col = header_row.index("总投资（亿元）")
    totals = dict(Item.objects.filter(plan=real_plan, list_kind=ListKind.PROJECT, seq__in=expected)
                  .values_list("seq", "total_investment"))
    for r in data:
        want = totals[r[0]]
        assert r[col] == ("待定" if want is None else pytest.approx(float(want))), r
    assert not page.js_errors, page.js_errors


def test_unit_user_files_a_report(page, live_server, real_plan):
    make_user("unit_dev_b", Role.UNIT, [UNIT_A])
    item = (Item.objects.filter(plan=real_plan, list_kind=ListKind.PROJECT, status=ItemStatus.IN_PROGRESS)
            .filter(Exists(ItemUnit.objects.filter(item=OuterRef("pk"), unit__name=UNIT_A)))
            .exclude(Exists(StatusReport.objects.filter(item=OuterRef("pk"))))
            .order_by("seq").first())
    assert item is not None, "the unit should have an in-progress project"

    login(page, live_server, "unit_dev_b", "pw-unit_dev_b")
    page.locator("nav.navbar").get_by_role("link", name="我的事项").click()
    page.wait_for_url(re.compile(r"/my/$"))
    assert page.locator("h1").inner_text() == "我的事项"
    assert page.locator("#my-items tbody tr").count() == (
        Item.objects.filter(Exists(ItemUnit.objects.filter(item=OuterRef("pk"), unit__name=UNIT_A))).count())
    assert_no_raw_none(page)
    shot(page, "2_my_items")

    page.locator(f'#my-items a[href="/items/{item.pk}/"]').click()
    page.wait_for_url(re.compile(rf"/items/{item.pk}/"))
    assert "推进中" in page.locator("h1 + div").inner_text()
    page.locator("#file-report").click()
    page.wait_for_url(re.compile(rf"/items/{item.pk}/report/"))
    assert page.locator("#id_month").get_attribute("type") == "month"

    page.get_by_label("月份").fill("2026-10")
    page.get_by_label("状态").select_option(label="推进中")
    page.get_by_label("形象进度（%）").fill("35")
    page.get_by_label("本月完成投资（亿元）").fill("0.5")
    page.get_by_label("累计完成投资（亿元）").fill("3.5")
    page.get_by_label("进展情况").fill("主体工程施工中，完成桩基 80%。")
    assert_no_raw_none(page)
    shot(page, "2_report_form")
    page.locator("#submit-report").click()
    page.wait_for_url(re.compile(rf"/items/{item.pk}/(#reports)?$"))

    assert "已保存 2026年10月 进度" in page.locator(".alert-success").inner_text()
    row = page.locator("#report-table tbody tr").first
    cells = row.locator("td").all_inner_texts()
    assert cells[0].strip() == "2026-10"
    assert cells[1].strip() == "推进中"
    assert cells[2].strip() == "35%"
    assert cells[3].strip() == "0.50"
    assert cells[4].strip() == "3.50"
    assert "主体工程施工中" in cells[5]
    assert "unit_dev_b" in cells[6]
    assert "3.50 亿元（截至 2026年10月）" in page.locator("dl.plan-fields").inner_text()
    assert_no_raw_none(page)
    shot(page, "2_detail_after_report")

    report = StatusReport.objects.get(item=item)
    assert str(report.month) == "2026-10-01" and float(report.cumulative_investment) == 3.5
    assert not page.js_errors, page.js_errors


def test_dashboard_charts_and_category_drilldown(page, live_server, real_plan):
    # Like scripts/run.sh after an import: evaluate the rules so the lights are real.
    call_command("evaluate_flags", "--plan", PLAN_CODE, "--no-notify", stdout=open(os.devnull, "w"))
    make_user("leader_c", Role.LEADER)
    login(page, live_server, "leader_c", "pw-leader_c")
    page.goto(live_server.url + "/")
    assert page.locator("h1").inner_text() == "六重清单总览"
    for chart in ("chart-category", "chart-years", "chart-lights", "chart-ranking"):
        div = page.locator(f"#{chart}")
        page.wait_for_selector(f'#{chart}[data-ready="1"] canvas', state="attached")
        assert div.get_attribute("data-ready") == "1"
        box = div.locator("canvas").first.bounding_box()
        assert box and box["width"] > 100 and box["height"] > 100, (chart, box)
    assert_no_raw_none(page)
    page.wait_for_timeout(800)  # let ECharts finish its entry animation before the screenshot
    shot(page, "3_dashboard")

    first_row = page.locator("#by-category tbody tr").first
    category_name = first_row.locator("td").first.inner_text().strip()
    figure = page.locator('a[data-figure="category-1"]')
    n = int(figure.inner_text())
    expected = Item.objects.filter(plan=real_plan, list_kind=ListKind.PROJECT, category__name=category_name).count()
    assert n == expected > 0
    figure.click()
    page.wait_for_url(re.compile(r"/lists/project/\?(plan=\d+&)?category=\d+"))
    assert urlparse(page.url).path == "/lists/project/"
    category = Category.objects.get(plan=real_plan, list_kind=ListKind.PROJECT, name=category_name)
    assert query(page.url)["category"] == [str(category.pk)]
    assert page.locator("#id_category option:checked").inner_text() == category_name
    assert result_count(page) == n
    per_page = int(page.locator("#per_page option:checked").inner_text())
    assert len(table_seqs(page)) == min(n, per_page)
    assert_no_raw_none(page)
    shot(page, "3_list_from_dashboard")

    # The red-light figure leads to the same number of red projects.
    page.goto(live_server.url + "/")
    red = page.locator('a[data-figure="light-red"]')
    n_red = int(re.fullmatch(r"红 (\d+)", red.inner_text().strip()).group(1))
    assert n_red > 0, "after evaluation some projects of the real plan are red (e.g. overdue)"
    red.click()
    page.wait_for_url(re.compile(r"light=red"))
    assert result_count(page) == n_red
    assert page.locator("#id_light option:checked").inner_text() == "红灯"
    badges = page.locator("table.item-table tbody .light-badge").all_inner_texts()
    assert badges and set(badges) == {"红灯"}, set(badges)
    assert not page.js_errors, page.js_errors


def test_chinese_text_and_pending_money(page, live_server, real_plan):
    make_user("leader_d", Role.LEADER)
    item = Item.objects.get(plan__code=PLAN_CODE, list_kind=ListKind.PROJECT, seq=41)
    assert item.total_investment is None and item.plan_investment is None

    login(page, live_server, "leader_d", "pw-leader_d")
    page.goto(live_server.url + "/lists/project/?per_page=100")
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert "重大项目清单" in page.title()
    row = page.locator("table.item-table tbody tr").filter(
        has=page.locator("td:first-child", has_text=re.compile(r"^41$")))
    assert row.count() == 1
    money = row.locator("td.money").all_inner_texts()
    assert money[:2] == ["待定", "待定"], money
    assert_no_raw_none(page)
    # Column headers are Chinese (django-tables2 must not fall back to English field names).
    headers = page.locator("table.item-table thead th").all_inner_texts()
    assert all(re.search(r"[\u4e00-\u9fff]", h) for h in headers), headers
    # 196 projects at 100 a page: the pager is there and speaks Chinese.
    pager = page.locator("ul.pagination")
    assert pager.count() == 1
    assert "下一页" in pager.inner_text() and not re.search(r"[A-Za-z]", pager.inner_text()), pager.inner_text()
    shot(page, "4_list_page1")

    row.locator("td.item-name a").click()
    page.wait_for_url(re.compile(rf"/items/{item.pk}/"))
    assert page.locator("#total-investment").inner_text().strip() == "待定"
    plan_fields = page.locator("dl.plan-fields").inner_text()
    assert "“十四五”投资\n待定" in plan_fields or re.search(r"“十四五”投资\s+待定", plan_fields), plan_fields
    assert_no_raw_none(page)
    assert "330 国道" in page.locator("h1").inner_text()
    shot(page, "4_detail_pending")
    assert not page.js_errors, page.js_errors


XSS = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"


def test_no_script_runs_from_reflected_parameters(page, live_server, real_plan):
    make_user("xss_leader", Role.LEADER)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    login(page, live_server, "xss_leader", "pw-xss_leader")
    item = Item.objects.filter(plan__code=PLAN_CODE).first()
    for path in (f"/lists/project/?_export={XSS}", f"/ranking/?_export={XSS}", f"/rollup/?format={IMG}",
                 f"/lists/project/?q={XSS}&sort={IMG}", f"/?as_of={XSS}", f"/?plan={IMG}", f"/flags/?kind={IMG}",
                 f"/items/{item.pk}/?back=/lists/project/{XSS}", f"/items/{item.pk}/report/?month={XSS}"):
        page.goto(live_server.url + path)
        page.wait_for_timeout(150)
        assert XSS not in page.content() and IMG not in page.content(), path
    assert dialogs == []
    assert page.js_errors == []


# ---------------------------------------------------------------- plan indicators (指标体系)
# Here rather than in a module of their own: the session's one Playwright instance is this module's.

INDICATOR_PLANS = Path(__file__).resolve().parent.parent / "fixtures" / "plans"
INDICATOR_SHOTS = Path(os.environ.get("TRACKER_SHOTS", "/tmp/dev/shots/issue-17"))


def indicator_shot(pg, name):
    INDICATOR_SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(INDICATOR_SHOTS / f"{name}.png"), full_page=True)


def test_unit_user_enters_an_indicator_value_and_sees_status_light_and_trend(page, live_server, real_plan):
    """A unit user enters 2023's value by form; the status and light change on the page, the
    trend charts draw, the dashboard card counts it, the 中期评估 exports."""
    import io

    from indicators.importer import import_indicators
    from indicators.models import Indicator, IndicatorValue
    from tests.conftest import UNIT_B

    import_indicators(INDICATOR_PLANS / "004_oujiangkou_14th.txt", PLAN_CODE)
    import_indicators(INDICATOR_PLANS / "002_linhai_city_14th.txt", "linhai-14")
    unit = Unit.objects.get(name=UNIT_B)
    output = Indicator.objects.get(plan=real_plan, table__kind="targets", name="规上工业总产值")
    for indicator in Indicator.objects.filter(plan=real_plan, table__kind="targets", category="经济发展"):
        indicator.responsible_unit = unit
        indicator.save()
    make_user("stat_unit", Role.UNIT, [UNIT_B])
    make_user("leader_i", Role.LEADER)

    login(page, live_server, "stat_unit", "pw-stat_unit")
    page.locator("nav.navbar").get_by_role("link", name="规划指标").click()
    page.wait_for_url(re.compile(r"/indicators/"))
    page.get_by_label("规划", exact=True).select_option(PLAN_CODE)
    page.get_by_label("年度", exact=True).select_option("2023")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url(re.compile(r"year=2023"))
    rows = page.locator(".indicator-section tbody tr")
    assert rows.count() == 12  # 经济发展's twelve rows, the unit's own only
    page.locator("#enter-values").click()
    page.wait_for_url(re.compile(r"/indicators/values/"))
    page.get_by_label("规上工业总产值", exact=True).fill("130")
    indicator_shot(page, "values_form")
    page.locator("#save-values").click()
    page.wait_for_url(re.compile(r"/indicators/\?"))
    assert "2023 年实际值已保存：新增 1" in page.locator(".alert-success").inner_text()
    row = page.locator(".indicator-section tbody tr", has_text="规上工业总产值")
    badge = row.locator("[data-status]")
    assert badge.inner_text() == "滞后" and badge.get_attribute("data-light") == "yellow"
    assert "2023 年应达 137.39，实际 130" in row.inner_text()  # the plan's 34% path
    page.wait_for_selector(".indicator-trend[data-ready='1']")
    assert row.locator(".indicator-trend svg").count() == 1
    assert IndicatorValue.objects.get(indicator=output, year=2023).entered_by.username == "stat_unit"
    assert_no_raw_none(page)
    indicator_shot(page, "unit_page_2023")
    assert not page.js_errors, page.js_errors

    page.context.clear_cookies()
    login(page, live_server, "leader_i", "pw-leader_i")
    page.goto(live_server.url + f"/?plan={PLAN_CODE}")
    card = page.locator("#indicator-card")
    assert card.locator("[data-count='lagging']").inner_text() == "1"
    assert card.locator("[data-count='yellow']").inner_text() == "1"
    indicator_shot(page, "dashboard_card")
    page.goto(live_server.url + f"/indicators/midterm/?plan={PLAN_CODE}")
    assert "评估年份 2023 年" in page.locator("main").inner_text()
    assert page.locator(".indicator-section").count() == 2
    page.wait_for_selector(".indicator-trend[data-ready='1']")
    assert_no_raw_none(page)
    indicator_shot(page, "midterm_leader")
    with page.expect_download() as download:
        page.locator("#export-xlsx").click()
    from openpyxl import load_workbook

    assert download.value.suggested_filename == f"{PLAN_CODE}_中期评估_2023.xlsx"
    book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert len(book.sheetnames) == 2
    page.goto(live_server.url + "/indicators/?plan=linhai-14&year=2023")
    page.wait_for_selector(".indicator-trend[data-ready='1']")
    indicator_shot(page, "linhai_city_2023")
    assert not page.js_errors, page.js_errors


def test_leader_reads_relative_and_rate_path_targets_and_a_year_without_values(page, live_server, real_plan):
    """Issue 24 on the page: lh-14 #32 [-50%] judged on the rate against its baseline, the
    十三五 table's like-with-like comparison, lhkfq-14 #1 on its 10% path, 2025 without values."""
    from decimal import Decimal

    from indicators.importer import import_indicators
    from indicators.models import Indicator, IndicatorValue

    import_indicators(INDICATOR_PLANS / "002_linhai_city_14th.txt", "linhai-14")
    import_indicators(INDICATOR_PLANS / "000_linhai_kfq_14th.txt", "lhkfq-14")
    safety = Indicator.objects.get(plan__code="linhai-14", table__kind="targets", name="亿元GDP生产安全事故死亡率")
    for year, rate in ((2021, "0.014"), (2022, "0.012"), (2023, "0.010")):
        IndicatorValue.objects.create(indicator=safety, year=year, value=Decimal(rate), source="form")
    output = Indicator.objects.get(plan__code="lhkfq-14", table__kind="targets", name="规上工业总产值")
    IndicatorValue.objects.create(indicator=output, year=2021, value=Decimal("320"), source="form")
    make_user("leader_rel", Role.LEADER)
    login(page, live_server, "leader_rel", "pw-leader_rel")

    page.goto(live_server.url + "/indicators/?plan=linhai-14&year=2023")
    row = page.locator(".indicator-section[data-kind='targets'] tbody tr", has_text="亿元GDP生产安全事故死亡率")
    assert row.locator("[data-status]").inner_text() == "进度正常"
    assert "2023 年应达 0.0112，实际 0.01，" in row.inner_text()
    completion = page.locator(".indicator-section[data-kind='completion']")
    assert "[-20.47]" in completion.locator("tbody tr", has_text="万元生产总值耗地量").inner_text()
    assert "口径不同" in completion.locator("tbody tr", has_text="单位生产总值二氧化碳排放降低").inner_text()
    page.wait_for_selector(".indicator-trend[data-ready='1']")
    assert_no_raw_none(page)
    indicator_shot(page, "issue24_linhai_2023")

    page.goto(live_server.url + "/indicators/?plan=linhai-14&year=2025")
    assert "2025 年尚无填报值" in page.locator("#indicator-no-values").inner_text()
    assert page.locator("#indicator-counts").count() == 0
    indicator_shot(page, "issue24_linhai_2025")

    page.goto(live_server.url + "/indicators/?plan=lhkfq-14&year=2021")
    row = page.locator(".indicator-section[data-kind='targets'] tbody tr", has_text="规上工业总产值")
    assert row.locator("[data-status]").inner_text() == "进度正常"
    assert "按规划年均增长 10% 推进" in row.inner_text() and "2021 年应达 315.92，实际 320" in row.inner_text()
    page.wait_for_selector(".indicator-trend[data-ready='1']")
    indicator_shot(page, "issue24_lhkfq_2021")
    assert not page.js_errors, page.js_errors
