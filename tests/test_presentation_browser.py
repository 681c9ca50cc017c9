"""Headless Chromium on the pages of issue 15's presentation half: a unit without projects'
dashboard, 我的事项 on a 390-px phone, printing (A4 landscape, no navigation) and the planner's
bulk status change. Screenshots go to screenshots/ (git-ignored) for a human look."""
import os
import re

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from projects.models import Item, ItemStatus, ItemUnit, ListKind, Role  # noqa: E402
from tests.conftest import UNIT_A, UNIT_B, make_user  # noqa: E402
from tests.test_browser import login, page, shot  # noqa: E402,F401  (page is a fixture)


def test_a_unit_without_projects_sees_a_dashboard_of_its_lists(page, live_server, real_plan):
    make_user("econ_b", Role.UNIT, [UNIT_B])
    mine = Item.objects.filter(unit_links__unit__name=UNIT_B).distinct()
    login(page, live_server, "econ_b", "pw-econ_b")
    page.goto(live_server.url + "/")
    assert page.locator("h1").inner_text() == "本单位事项概况"
    assert "尚无填报" in page.locator("#no-reports").inner_text()
    assert page.locator("#reporting-card").is_visible() and page.locator("#reasons-card").is_visible()
    for kind in ListKind:
        assert page.locator(f'[data-figure="count-{kind.value}"]').inner_text() == \
            str(mine.filter(list_kind=kind).count())
    assert page.locator("#due-items tbody tr").count() == mine.filter(status=ItemStatus.IN_PROGRESS).count()
    assert page.locator("#flagged-items tbody tr").count() == mine.count()
    assert page.locator("#chart-category").count() == 0 and page.locator("#no-projects").is_visible()
    assert page.js_errors == []
    shot(page, "dashboard_unit_without_projects")


def test_my_items_fits_a_390px_phone(browser, live_server, real_plan):
    make_user("phone_dev", Role.UNIT, [UNIT_A])
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True,
                                  device_scale_factor=2)
    phone = context.new_page()
    try:
        phone.goto(live_server.url + "/accounts/login/")  # the navigation is folded away on a phone
        phone.get_by_label("用户名").fill("phone_dev")
        phone.get_by_label("密码").fill("pw-phone_dev")
        phone.get_by_role("button", name="登录", exact=True).click()
        phone.wait_for_url(live_server.url + "/")
        phone.goto(live_server.url + "/my/")
        buttons = phone.locator("#my-items a.report-button")
        assert buttons.count() == ItemUnit.objects.filter(unit__name=UNIT_A).values("item").distinct().count()
        for i in range(buttons.count()):
            box = buttons.nth(i).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390, (i, box)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        phone.screenshot(path=str(shot_path("my_items_390px")), full_page=False)
        buttons.first.click()
        phone.wait_for_url(re.compile(r"/items/\d+/report/$"))
    finally:
        context.close()


def shot_path(name):
    from tests.test_browser import SHOTS

    return SHOTS / f"{name}.png"


@pytest.mark.parametrize("path", ["/", "/lists/project/"])
def test_pages_print_on_a4_landscape_without_navigation(page, live_server, real_plan, path):
    make_user("printer", Role.LEADER)
    login(page, live_server, "printer", "pw-printer")
    page.goto(live_server.url + path)
    page.emulate_media(media="print")
    assert not page.locator("nav.navbar").is_visible()
    assert not page.locator(".btn").first.is_visible()
    if path != "/":
        assert page.locator("table.item-table thead").evaluate("e => getComputedStyle(e).display") == \
            "table-header-group"
    pdf = page.pdf(prefer_css_page_size=True)
    width, height = map(float, re.search(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf).groups())
    assert (round(width), round(height)) == (842, 595)  # A4 landscape, in points


def test_planner_sets_statuses_of_a_whole_page_in_the_browser(page, live_server, real_plan):
    make_user("bulk_planner", Role.PLANNER)
    login(page, live_server, "bulk_planner", "pw-bulk_planner")
    page.goto(live_server.url + "/lists/reform/")
    page.locator("#select-all").check()
    assert page.locator("input.row-select:checked").count() == 12
    page.locator("#bulk-status select").select_option(ItemStatus.SUSPENDED.value)
    page.locator("#bulk-status-submit").click()
    page.wait_for_load_state()
    assert "已将 12 项设为“暂停”" in page.locator("main").inner_text()
    assert set(Item.objects.filter(plan=real_plan, list_kind=ListKind.REFORM).values_list("status", flat=True)) \
        == {ItemStatus.SUSPENDED}
    assert page.js_errors == []
    shot(page, "bulk_status_done")
