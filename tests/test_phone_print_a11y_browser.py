"""Issue 24 parts 6 and 9 in headless Chromium: every navigation page and one detail page per
list, for each role, at 1440 px and on a 390-px phone — no serious or critical axe-core
violation, and no page wider than the phone. The to-do badge shows without opening the menu;
the dashboard's cards and the lists print. Screenshots go to screenshots/.

axe-core is vendored under tests/vendor/axe-core/ (from npm, version pinned in its package.json;
refresh with scripts/vendor_static.sh). It is loaded into the page under test only."""
import datetime
import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from django.utils import timezone

from projects.continuation import set_predecessor
from projects.models import Item, ItemStatus, ListKind, Plan, PlanState, Role, Unit
from supervision.models import Order, Problem, ProblemLevel
from tests.conftest import SHOTS, UNIT_A, make_user
from tests.test_browser import TIMEOUT_MS

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
INDICATOR_TEXT = Path(__file__).resolve().parent.parent / "fixtures" / "plans" / "004_oujiangkou_14th.txt"
SERIOUS = ("serious", "critical")
ALWAYS = ("landmark-unique", "landmark-no-duplicate-main", "landmark-no-duplicate-banner", "scrollable-region-focusable")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}

ROLES = {"planner": (Role.PLANNER, ()), "leader": (Role.LEADER, ()), "unit_dev": (Role.UNIT, (UNIT_A,))}


def navigation_pages(role):
    pages = ["/"] + [f"/lists/{kind.value}/" for kind in ListKind]
    if role == "unit_dev":
        pages.append("/my/")
    if role in ("unit_dev", "planner"):
        pages.append("/reports/batch/")
    if role in ("planner", "leader"):
        pages.append("/reports/status/")
    pages += ["/flags/", "/problems/", "/orders/", "/ranking/", "/indicators/", "/plans/"]
    if role == "planner":
        pages.append("/targets/upload/")
    return pages


def detail_pages(role, problem, order, carried):
    """One entry per list (of UNIT_A, so every role sees it), a problem and an order; the change
    log and a plan's review for planners and leaders, the report form for those who report."""
    entries = [Item.objects.filter(list_kind=kind, unit_links__unit__name=UNIT_A).order_by("seq").first()
               for kind in ListKind]
    pages = [f"/items/{item.pk}/" for item in entries if item] + [f"/problems/{problem.pk}/", f"/orders/{order.pk}/"]
    if role in ("planner", "leader"):
        pages += [f"/items/{problem.item_id}/?tab=history", f"/plans/{problem.item.plan.code}/review/",
                  f"/items/{carried.pk}/"]
    if role in ("planner", "unit_dev"):
        pages.append(f"/items/{problem.item_id}/report/")
    return pages


SHOWN = {"/reports/status/", "/reports/batch/", "/ranking/", "/flags/", "/indicators/"}  # screenshots for a look


@pytest.fixture
def loop_rows(real_plan):
    """A problem and a 督办 order on UNIT_A's first project, seen by every role; the plan's
    indicator tables (wide, scrolling); a second plan with a long name for the plan switcher."""
    from indicators.importer import import_indicators

    import_indicators(INDICATOR_TEXT, real_plan.code)
    draft = Plan.objects.create(code="ojk-15-draft", name="瓯江口产业集聚区发展“十五五”规划重大项目、重大平台、重大产业清单（动态调整征求意见稿）",
                        start_year=2026, end_year=2030, state=PlanState.DRAFT)
    planner = make_user("a11y_planner_rows", Role.PLANNER)
    unit = Unit.objects.get(name=UNIT_A)
    item = Item.objects.filter(list_kind=ListKind.PROJECT, unit_links__unit=unit).order_by("seq").first()
    deadline = timezone.localdate() + datetime.timedelta(days=10)
    problem = Problem.objects.create(item=item, level=ProblemLevel.ZONE, coordinating_unit=unit, deadline=deadline,
                                     raised_by=planner, description="征地拆迁进度滞后", kind="land")
    order = Order.objects.create(unit=unit, item=item, issued_by=planner, deadline=deadline,
                                 issued_on=timezone.localdate(), requirement="请于期限前完成征地")
    # a change for the change log, and the entry carried into the next plan (its page shows this one)
    item.status, item._history_user = ItemStatus.IN_PROGRESS, planner
    item.save()
    carried = Item.objects.create(plan=draft, list_kind=ListKind.PROJECT, seq=1, name=item.name,
                                  status=ItemStatus.NOT_STARTED, start_year=2026, end_year=2028)
    set_predecessor(carried, item, planner)
    return problem, order, carried


def open_as(browser, live_server, username, viewport):
    context = browser.new_context(viewport=viewport, locale="zh-CN", is_mobile=viewport is PHONE,
                                  has_touch=viewport is PHONE, accept_downloads=True,
                                  bypass_csp=True)  # axe is injected into the page under test
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill("pw-" + username)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(live_server.url + "/")
    return page


def axe_findings(page):
    """The serious and critical violations axe-core finds on the page, one line per element."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact,
            nodes: v.nodes.map(n => n.target.join(' ') + ' — ' + (n.failureSummary || '').split('\\n').slice(1, 2).join(''))}));
    }""")
    return [f"{v['id']} ({v['impact']}): {node}" for v in result if v["impact"] in SERIOUS or v["id"] in ALWAYS for node in v["nodes"][:5]]


def overflow(page):
    """How far the page is wider than the window, and the widest elements that make it so."""
    return page.evaluate("""() => {
        const w = document.documentElement.clientWidth;
        const extra = document.documentElement.scrollWidth - w;
        if (extra <= 0) return null;
        const wide = [...document.querySelectorAll('body *')].filter(e => {
            const r = e.getBoundingClientRect(); return r.right > w + 1 && r.width > 0;
        }).slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
            (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\\s+/).join('.') : ''));
        return {extra, wide};
    }""")


@pytest.mark.parametrize("width", ["desktop", "phone"])
@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_passes_axe_and_fits_the_window(browser, live_server, real_plan, loop_rows, role, width):
    kind, units = ROLES[role]
    username = f"{role}_{width}"
    make_user(username, kind, units)
    viewport = PHONE if width == "phone" else DESKTOP
    page = open_as(browser, live_server, username, viewport)
    problems = {}
    try:
        for path in navigation_pages(role) + detail_pages(role, *loop_rows):
            response = page.goto(live_server.url + path)
            assert response.status == 200, (path, response.status)
            if role == "planner" and (path in SHOWN or "tab=history" in path or path.endswith(f"/{loop_rows[2].pk}/")):
                name = path.strip("/").replace("/", "_").replace("?tab=", "_") or "home"
                page.screenshot(path=str(SHOTS / f"24_{name}_{width}.png"), full_page=width == "desktop")
            found = axe_findings(page)
            if width == "phone":
                wide = overflow(page)
                if wide:
                    found.append(f"scrolls sideways by {wide['extra']} px: {', '.join(wide['wide'])}")
            if found:
                problems[path] = found
        if width == "phone":
            page.goto(live_server.url + "/")
            page.screenshot(path=str(SHOTS / f"24_dashboard_{role}_390px.png"), full_page=False)
    finally:
        page.context.close()
    (SHOTS / f"axe_{role}_{width}.json").write_text(json.dumps(problems, ensure_ascii=False, indent=1))
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)


def test_the_to_do_badge_shows_on_a_phone_without_opening_the_menu(browser, live_server, real_plan):
    make_user("badge_dev", Role.UNIT, [UNIT_A])
    page = open_as(browser, live_server, "badge_dev", PHONE)
    try:
        assert not page.locator("#nav").is_visible()  # the menu is folded
        badge = page.locator("#nav-todo")
        assert badge.is_visible()
        box = badge.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert int(badge.locator(".badge").inner_text()) > 0
        page.screenshot(path=str(SHOTS / "24_badge_390px.png"), clip={"x": 0, "y": 0, "width": 390, "height": 120})
        badge.click()
        page.wait_for_url(live_server.url + "/my/")
    finally:
        page.context.close()
    page = open_as(browser, live_server, "badge_dev", DESKTOP)  # on a desktop: at the end of the bar
    try:
        box = page.locator("#nav-todo").bounding_box()
        assert page.locator("#nav-todo").is_visible() and box["x"] + box["width"] <= DESKTOP["width"]
        page.screenshot(path=str(SHOTS / "24_badge_1440px.png"), clip={"x": 0, "y": 0, "width": 1440, "height": 120})
    finally:
        page.context.close()


def card_texts(page):
    """Each card on the page: its header (or first line) and whether it prints something beyond it."""
    return page.evaluate("""() => [...document.querySelectorAll('main .card')].map(card => {
        const header = card.querySelector('.card-header');
        const title = (header ? header.innerText : card.innerText.split('\\n')[0]).trim();
        const text = card.innerText.trim();
        const box = card.getBoundingClientRect();
        return {title, visible: box.width > 0 && box.height > 0, content: text.length - title.length};
    })""")


@pytest.mark.parametrize("role", ["leader", "unit_dev"])
def test_every_dashboard_card_prints_with_its_figures(browser, live_server, real_plan, role):
    kind, units = ROLES[role]
    make_user("print_" + role, kind, units)
    page = open_as(browser, live_server, "print_" + role, DESKTOP)
    try:
        page.wait_for_selector("#chart-ranking[data-ready]")
        page.emulate_media(media="print")
        cards = card_texts(page)
        assert len(cards) >= 8
        blank = [c["title"] for c in cards if not c["visible"] or c["content"] < 4]
        assert not blank, blank
        lights = page.locator("#light-totals-card")
        for light in ("red", "yellow", "green", "done"):
            assert page.locator(f'[data-figure="light-{light}"]').is_visible()
        assert "红 " in lights.inner_text() and "完成 " in lights.inner_text()
        # Every chart prints as its figures: the canvas is left out, its table shown.
        for chart in ("chart-category", "chart-years", "chart-lights", "chart-ranking"):
            assert not page.locator("#" + chart).is_visible()
            table = page.locator(f"#{chart}-table")
            assert table.is_visible() and table.locator("tbody tr").count() > 0, chart
        names = page.locator("#chart-lights-table tbody th").all_inner_texts()
        assert names and all(names)
        page.screenshot(path=str(SHOTS / f"24_dashboard_print_{role}.png"), full_page=True)
        (SHOTS / f"24_dashboard_print_{role}.pdf").write_bytes(page.pdf(prefer_css_page_size=True))
        page.emulate_media(media="screen")  # on the screen the tables are for screen readers only
        assert page.locator("#chart-lights").is_visible()
        assert page.locator("#chart-lights-table").evaluate(
            "e => getComputedStyle(e.closest('.chart-data-wrap')).clip") == "rect(0px, 0px, 0px, 0px)"
    finally:
        page.context.close()


def test_a_list_prints_as_a_table_with_its_head_on_every_page(browser, live_server, real_plan):
    make_user("print_list", Role.LEADER)
    page = open_as(browser, live_server, "print_list", DESKTOP)
    try:
        page.goto(live_server.url + "/lists/project/")
        page.emulate_media(media="print")
        table = page.locator("table.item-table")
        assert table.evaluate("e => getComputedStyle(e).display") == "table"
        assert table.locator("thead").evaluate("e => getComputedStyle(e).display") == "table-header-group"
        region = page.locator(".table-responsive").first
        assert region.evaluate("e => getComputedStyle(e).overflowX") == "visible"  # nothing cut off at the edge
        assert table.locator("tbody tr").first.is_visible()
        page.screenshot(path=str(SHOTS / "24_list_print.png"), full_page=False)
    finally:
        page.context.close()
