"""The ranking in headless Chromium: a leader reads the formula and the shared ranks; a unit user
sees its own rank as a number on its dashboard and on the ranking page, also at phone width.
Screenshots go to screenshots/."""
import pytest

from projects.models import Role
from tests.conftest import make_user
from tests.test_browser import assert_no_raw_none, login, shot

from .test_ranking import AS_OF, FIRST, NONE, THIRD, zone  # noqa: F401  (zone: fixture)
from .test_reports_browser import new_page

pytestmark = pytest.mark.django_db(transaction=True)


def test_leader_reads_the_formula_and_shared_ranks_and_a_unit_its_own_rank(browser, live_server, zone):
    make_user("rank_leader", Role.LEADER)
    make_user("rank_unit", Role.UNIT, [THIRD])
    url = f"{live_server.url}/ranking/?plan=t-rank&as_of={AS_OF}"

    page = new_page(browser)
    login(page, live_server, "rank_leader", "pw-rank_leader")
    page.goto(url)
    formula = page.locator("#ranking-formula").inner_text()
    assert "问题按期办结率" in formula and "得分相同的单位名次相同" in formula
    rows = page.locator("#ranking-table tbody tr")
    assert [rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())] == ["1", "2", "2", "4", "5"]
    assert rows.nth(4).locator("td").nth(1).inner_text() == NONE and "未报送" in rows.nth(4).inner_text()
    assert_no_raw_none(page)
    shot(page, "ranking_leader")
    assert not page.js_errors

    unit = new_page(browser)
    login(unit, live_server, "rank_unit", "pw-rank_unit")
    unit.goto(f"{live_server.url}/?plan=t-rank&as_of={AS_OF}")
    assert unit.locator("#own-rank").inner_text().strip() == f"{THIRD}：第 2 名 / 共 5 个单位（得分 50.0）"
    unit.locator("#chart-ranking canvas").first.wait_for()
    shot(unit, "ranking_unit_dashboard")
    unit.goto(url)
    assert "第 2 名 / 共 5 个单位" in unit.locator(".own-rank").inner_text()
    assert FIRST not in unit.locator("main").inner_text()
    shot(unit, "ranking_unit_page")
    assert not unit.js_errors

    unit.set_viewport_size({"width": 390, "height": 844})  # a phone
    unit.goto(url)
    assert unit.evaluate("document.documentElement.scrollWidth") <= 390
    shot(unit, "ranking_unit_phone")
