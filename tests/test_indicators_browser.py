"""The plan indicator page in headless Chromium: a unit user enters 2023's value by form, the
status and light change on the page, the trend charts draw, the dashboard card counts it."""
import io
import os
import re
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from projects.indicators import import_indicators  # noqa: E402
from projects.models import Indicator, IndicatorValue, Role, Unit  # noqa: E402
from tests.conftest import PLAN_CODE, UNIT_B, make_user  # noqa: E402
from tests.test_browser import assert_no_raw_none, browser, login, page  # noqa: E402,F401

PLANS = Path(__file__).resolve().parent.parent / "fixtures" / "plans"
SHOTS = Path(os.environ.get("TRACKER_SHOTS", "/tmp/dev/shots/issue-17"))


def shot(pg, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_unit_user_enters_a_value_and_sees_status_light_and_trend(page, live_server, real_plan):  # noqa: F811
    import_indicators(PLANS / "004_oujiangkou_14th.txt", PLAN_CODE)
    import_indicators(PLANS / "002_linhai_city_14th.txt", "linhai-14")
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
    page.get_by_label("规上工业总产值", exact=True).fill("150")
    shot(page, "values_form")
    page.locator("#save-values").click()
    page.wait_for_url(re.compile(r"/indicators/\?"))
    assert "2023 年实际值已保存：新增 1" in page.locator(".alert-success").inner_text()
    row = page.locator(".indicator-section tbody tr", has_text="规上工业总产值")
    badge = row.locator("[data-status]")
    assert badge.inner_text() == "滞后" and badge.get_attribute("data-light") == "yellow"
    assert "2023 年应达 172.84，实际 150" in row.inner_text()
    page.wait_for_selector(".indicator-trend[data-ready='1']")
    assert row.locator(".indicator-trend svg").count() == 1
    assert IndicatorValue.objects.get(indicator=output, year=2023).entered_by.username == "stat_unit"
    assert_no_raw_none(page)
    shot(page, "unit_page_2023")
    assert not page.js_errors, page.js_errors

    page.context.clear_cookies()
    login(page, live_server, "leader_i", "pw-leader_i")
    page.goto(live_server.url + f"/?plan={PLAN_CODE}")
    card = page.locator("#indicator-card")
    assert card.locator("[data-count='lagging']").inner_text() == "1"
    assert card.locator("[data-count='yellow']").inner_text() == "1"
    shot(page, "dashboard_card")
    page.goto(live_server.url + f"/indicators/midterm/?plan={PLAN_CODE}")
    assert "评估年份 2023 年" in page.locator("main").inner_text()
    assert page.locator(".indicator-section").count() == 2
    page.wait_for_selector(".indicator-trend[data-ready='1']")
    assert_no_raw_none(page)
    shot(page, "midterm_leader")
    with page.expect_download() as download:
        page.locator("#export-xlsx").click()
    from openpyxl import load_workbook

    assert download.value.suggested_filename == f"{PLAN_CODE}_中期评估_2023.xlsx"
    book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert len(book.sheetnames) == 2
    page.goto(live_server.url + "/indicators/?plan=linhai-14&year=2023")
    page.wait_for_selector(".indicator-trend[data-ready='1']")
    shot(page, "linhai_city_2023")
    assert not page.js_errors, page.js_errors
