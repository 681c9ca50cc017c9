"""Headless Chromium on issue 24's flag list and trend chart: the flag list sorted red first,
re-sorted by a column and exported; the dashboard's month-end trend drawn from the stored rows
(both ranges). Screenshots go to screenshots/ for a human look."""
import datetime
import os

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from projects.models import Role  # noqa: E402
from portfolio.trends import backfill  # noqa: E402
from tests.conftest import SHOTS, make_user  # noqa: E402
from tests.test_browser import login, page, shot  # noqa: E402,F401  (page is a fixture)
from tests.test_trends import zone  # noqa: E402,F401  (a fixture)


def test_the_dashboard_draws_the_stored_month_end_trends(page, live_server, zone):  # noqa: F811
    backfill(zone["plan"], datetime.date(2026, 7, 6))
    make_user("trend_leader", Role.LEADER)
    login(page, live_server, "trend_leader", "pw-trend_leader")
    page.goto(live_server.url + "/?plan=t-15&as_of=2026-07-06")
    card = page.locator("#trends-card")
    assert "月度趋势" in card.inner_text() and "截至 2026-06" in card.inner_text()
    for chart in ("trend-investment", "trend-lights", "trend-reports"):
        page.wait_for_selector(f"#{chart}[data-ready='year'] canvas")
    card.scroll_into_view_if_needed()
    card.screenshot(path=str(SHOTS / "trends_year.png"))
    page.get_by_role("button", name="近 12 个月").click()
    page.wait_for_selector("#trend-lights[data-ready='recent']")
    assert page.get_by_role("button", name="近 12 个月").get_attribute("aria-pressed") == "true"
    card.screenshot(path=str(SHOTS / "trends_recent.png"))
    assert page.js_errors == []


def test_the_flag_list_sorts_and_exports_in_the_browser(page, live_server, real_plan):  # noqa: F811
    make_user("flag_leader", Role.LEADER)
    login(page, live_server, "flag_leader", "pw-flag_leader")
    page.goto(live_server.url + "/flags/")
    badges = page.locator("#flag-table tbody [data-severity]")
    assert badges.first.get_attribute("data-severity") == "red"
    shot(page, "flag_list")
    page.screenshot(path=str(SHOTS / "flag_list_top.png"))
    page.locator("#flag-table thead a", has_text="发现日期").click()
    page.wait_for_url("**sort=opened_on**")
    dates = page.locator("#flag-table tbody tr td:last-child").all_inner_texts()
    assert dates == sorted(dates)
    page.select_option("#id_severity", "yellow")
    page.locator("#apply-filters").click()
    page.wait_for_url("**severity=yellow**")
    assert set(page.locator("#flag-table tbody [data-severity]").evaluate_all(
        "els => els.map(e => e.dataset.severity)")) == {"yellow"}
    with page.expect_download() as info:
        page.locator("#export-csv").click()
    path = SHOTS / "flags_export.csv"
    info.value.save_as(str(path))
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    finally:
        path.unlink(missing_ok=True)
    assert lines[0].startswith("严重程度,已持续（天）,预警规则,清单,类别,事项,责任单位,规划,说明,发现日期")
    assert len(lines) > 1 and all(line.startswith("黄,") for line in lines[1:])
    assert page.js_errors == []
