"""Issue 23 in headless Chromium: the whole loop, one role at a time. A unit raises a problem from
its report; the planner accepts and assigns it; the coordinating unit answers; the planner closes it
(销号) with a file. A leader issues a 督办 order on a red entry; the unit signs and answers; the
leader closes it. Screenshots go to screenshots/."""
import datetime
import re

import pytest
from django.utils import timezone

from projects.models import Item, ListKind, Role, Unit
from reporting.models import StatusReport
from supervision.models import Order, OrderState, Problem, ProblemState
from tests.conftest import UNIT_A, UNIT_B, make_user
from tests.test_browser import assert_no_raw_none, login, shot

from .test_reports_browser import new_page

pytestmark = pytest.mark.django_db(transaction=True)


def red_entry_of(unit_name):
    items = Item.objects.filter(unit_links__unit__name=unit_name, list_kind=ListKind.PROJECT).order_by("seq")
    return items.filter(figures__light="red").first() or items.first()


def test_the_loop_in_the_browser_for_each_role(browser, live_server, real_plan, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    make_user("unit_raiser", Role.UNIT, [UNIT_A])
    make_user("unit_coord", Role.UNIT, [UNIT_B])
    make_user("planner_loop", Role.PLANNER)
    make_user("leader_loop", Role.LEADER)
    item = red_entry_of(UNIT_A)
    month = timezone.localdate().replace(day=1)
    StatusReport.objects.create(item=item, month=month, status="in_progress", progress_text="土建施工中",
                                problems="项目东侧地块用地指标尚未落实，影响二期开工")
    deadline = timezone.localdate() + datetime.timedelta(days=20)
    unit_b = Unit.objects.get(name=UNIT_B)

    # 1. The unit raises the problem from its report.
    unit = new_page(browser)
    login(unit, live_server, "unit_raiser", "pw-unit_raiser")
    unit.goto(f"{live_server.url}/items/{item.pk}/report/?month={month:%Y-%m}")
    unit.locator("#raise-problem").click()
    unit.wait_for_url(re.compile(rf"/items/{item.pk}/problems/new/"))
    assert unit.locator("#id_description").input_value() == "项目东侧地块用地指标尚未落实，影响二期开工"
    unit.locator("#id_kind").select_option("land")
    unit.locator("#id_level").select_option("zone")
    unit.locator("#id_coordinating_unit").select_option(str(unit_b.pk))
    unit.locator("#id_leader_name").fill("王副主任")
    unit.locator("#id_deadline").fill(f"{deadline:%Y-%m-%d}")
    shot(unit, "23_problem_raise_form")
    unit.locator("#submit-problem").click()
    unit.wait_for_url(re.compile(r"/problems/\d+/$"))
    problem = Problem.objects.get(item=item)
    assert unit.locator("#problem-state").inner_text() == "待分办"

    # 2. The planner accepts and assigns it.
    planner = new_page(browser)
    login(planner, live_server, "planner_loop", "pw-planner_loop")
    planner.locator("nav.navbar").get_by_role("link", name="问题协调").click()
    planner.wait_for_url(re.compile(r"/problems/$"))
    planner.locator("table.problem-table").get_by_role("link", name=f"#{problem.pk}").click()
    planner.locator("#id_accept-level").select_option("department")
    planner.locator("#id_accept-note").fill("请经济发展局会同自然资源部门协调用地指标")
    planner.locator("#do-accept").click()
    planner.wait_for_load_state()
    assert planner.locator("#problem-state").inner_text() == "协调中"

    # 3. The coordinating unit answers (it finds the problem in 我的事项).
    coord = new_page(browser)
    login(coord, live_server, "unit_coord", "pw-unit_coord")
    coord.locator("nav.navbar").get_by_role("link", name="我的事项").click()
    coord.locator("#my-problems").get_by_role("link", name=f"问题 #{problem.pk}").click()
    coord.locator("#id_reply-text").fill("已召开专题协调会，用地指标将于下月调剂到位")
    coord.locator("#do-reply").click()
    coord.wait_for_load_state()
    assert coord.locator("#problem-state").inner_text() == "已答复"

    # 4. The planner closes it with a note and a file.
    evidence = tmp_path / "协调会纪要.pdf"
    evidence.write_bytes(b"%PDF-1.4 meeting minutes")
    planner.reload()
    planner.locator("#id_close-text").fill("用地指标已调剂，经核实问题解决")
    planner.locator("#id_close-file").set_input_files(str(evidence))
    planner.locator("#do-close").click()
    planner.wait_for_load_state()
    assert planner.locator("#problem-state").inner_text() == "已销号"
    assert planner.locator("#close-file").inner_text() == "协调会纪要.pdf"
    assert len(planner.locator("#log-table tbody tr").all()) == 4
    assert_no_raw_none(planner)
    shot(planner, "23_problem_closed")
    problem.refresh_from_db()
    assert problem.state == ProblemState.CLOSED

    # 5. A leader issues an order on the red entry.
    leader = new_page(browser)
    login(leader, live_server, "leader_loop", "pw-leader_loop")
    leader.goto(f"{live_server.url}/items/{item.pk}/")
    leader.locator("#issue-order").click()
    leader.wait_for_url(re.compile(r"/orders/new/\?item="))
    leader.locator("#id_requirement").fill("请于月底前完成二期开工准备，并反馈进展")
    leader.locator("#id_deadline").fill(f"{timezone.localdate() + datetime.timedelta(days=2):%Y-%m-%d}")
    leader.locator("#submit-order").click()
    leader.wait_for_url(re.compile(r"/orders/\d+/$"))
    order = Order.objects.get(item=item)
    assert leader.locator("#order-state").inner_text() == "已下发"
    assert leader.locator(".colour-badge").first.inner_text() == "蓝色"  # due within 3 days

    # 6. The unit signs and answers.
    unit.locator("nav.navbar").get_by_role("link", name="督办").click()
    unit.wait_for_url(re.compile(r"/orders/$"))
    unit.locator("table.order-table").get_by_role("link", name=f"#{order.pk}").click()
    unit.locator("#do-sign").click()
    unit.wait_for_load_state()
    assert unit.locator("#order-state").inner_text() == "已签收"
    unit.locator("#do-reply").click()  # an empty answer is refused on the field
    unit.wait_for_load_state()
    assert unit.locator('.field-error[data-field="text"]').inner_text() == "请填写反馈内容，不能为空。"
    unit.locator("#id_reply-text").fill("施工许可已办结，二期已进场")
    unit.locator("#do-reply").click()
    unit.wait_for_load_state()
    assert unit.locator("#order-state").inner_text() == "已反馈"
    assert_no_raw_none(unit)
    shot(unit, "23_order_answered_by_unit")

    # 7. The leader closes it.
    leader.reload()
    leader.locator("#id_close-text").fill("同意办结")
    leader.locator("#do-close").click()
    leader.wait_for_load_state()
    assert leader.locator("#order-state").inner_text() == "已办结"
    shot(leader, "23_order_closed")
    order.refresh_from_db()
    assert order.state == OrderState.CLOSED
    leader.goto(f"{live_server.url}/")
    shot(leader, "23_dashboard_loop_counts")
    assert "本月销号 1" in leader.locator("#supervision-card").inner_text()
    for pg in (unit, planner, coord, leader):
        assert not pg.js_errors, pg.js_errors
