"""Issue 23 in headless Chromium: a problem sent back is revised and resubmitted by its unit with
the reason in sight; a planner sets up a group robot in the admin, sends a test message and sees
a message that failed. Screenshots go to screenshots/."""
import datetime
import re

import pytest
from django.utils import timezone

from projects.channels import announce
from projects.models import Channel, Role, Unit
from projects.webhooks import send_due
from supervision.models import Problem, ProblemKind, ProblemLevel, ProblemState
from tests.conftest import UNIT_A, UNIT_B, make_user
from tests.test_browser import assert_no_raw_none, login, shot

from .test_channels import Robot
from .test_reports_browser import new_page
from .test_supervision import unit_item

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_unit_resubmits_and_a_planner_sets_up_a_robot_in_the_browser(browser, live_server, real_plan, settings):
    settings.TRACKER_CHANNEL_HOSTS = ["127.0.0.1"]
    settings.TRACKER_CHANNEL_TIMEOUT = 1.0
    robot = Robot()
    try:
        raiser = make_user("unit_resubmit", Role.UNIT, [UNIT_A])
        make_user("planner_robot", Role.PLANNER)
        unit_a, unit_b = Unit.objects.get(name=UNIT_A), Unit.objects.get(name=UNIT_B)
        problem = Problem.objects.create(
            item=unit_item(UNIT_A), kind=ProblemKind.LAND, level=ProblemLevel.ZONE, coordinating_unit=unit_b,
            deadline=timezone.localdate() + datetime.timedelta(days=10), raised_by=raiser, leader_name="张主任",
            description="用地指标未落实", state=ProblemState.RETURNED, return_reason="请写明缺口面积和需协调的层级")

        unit = new_page(browser)
        login(unit, live_server, "unit_resubmit", "pw-unit_resubmit")
        unit.goto(f"{live_server.url}/problems/{problem.pk}/")
        assert unit.locator("#return-reason").inner_text() == "请写明缺口面积和需协调的层级"
        unit.locator("#id_resubmit-description").fill("用地指标未落实，缺口 120 亩，需市自然资源局调剂")
        unit.locator("#id_resubmit-level").select_option("higher")
        unit.locator("#id_resubmit-deadline").fill(f"{timezone.localdate() - datetime.timedelta(days=1):%Y-%m-%d}")
        unit.locator("#id_resubmit-note").fill("  ")  # blank: the browser lets it through, the server refuses it
        unit.locator("#do-resubmit").click()
        unit.wait_for_load_state()
        assert "已过，应不早于今天" in unit.locator("#action-resubmit").inner_text()
        assert "请说明针对退回理由作了哪些修改" in unit.locator("#action-resubmit").inner_text()
        assert "上级" not in unit.locator("#problem-fields").inner_text()  # what is saved, not what was refused
        shot(unit, "23_problem_resubmit_refused")
        unit.locator("#id_resubmit-deadline").fill(f"{timezone.localdate() + datetime.timedelta(days=20):%Y-%m-%d}")
        unit.locator("#id_resubmit-note").fill("已补充缺口面积，改为上级协调")
        unit.locator("#do-resubmit").click()
        unit.wait_for_load_state()
        assert unit.locator("#problem-state").inner_text() == "待分办"
        assert "上次退回理由" in unit.locator("#problem-fields").inner_text()
        assert_no_raw_none(unit)
        shot(unit, "23_problem_resubmitted")

        planner = new_page(browser)
        login(planner, live_server, "planner_robot", "pw-planner_robot")
        planner.goto(f"{live_server.url}/admin/projects/channel/add/")
        planner.locator("#id_name").fill("瓯江口开发建设投资集团群")
        planner.locator("#id_kind").select_option("dingtalk")
        planner.locator("#id_webhook_url").fill(robot.url + "/robot/send?access_token=abc")
        planner.locator("#id_secret").fill("SECabcdef0123456789")
        planner.evaluate("([name, pk]) => document.getElementById('id_unit').add(new Option(name, pk, true, true))",
                         [unit_a.name, str(unit_a.pk)])  # what choosing in the autocomplete does
        shot(planner, "23_channel_add")
        planner.locator("input[name=_save]").click()
        planner.wait_for_url(re.compile(r"/admin/projects/channel/$"))
        channel = Channel.objects.get()
        assert channel.unit == unit_a
        planner.locator(f"input[name=_selected_action][value='{channel.pk}']").check()
        planner.locator("select[name=action]").select_option("send_test_message")
        planner.locator("button[name=index]").click()
        planner.wait_for_load_state()
        assert "测试消息已发送" in planner.locator("ul.messagelist").inner_text()
        assert robot.received[0]["query"]["sign"]
        shot(planner, "23_channel_list")

        robot.replies = [500] * 10
        settings.TRACKER_CHANNEL_MAX_ATTEMPTS = 1
        announce("browser:1", "【红色督办】已超过办理期限：督办单 #1", "内容", units=[unit_a.pk])
        send_due()
        planner.goto(f"{live_server.url}/admin/projects/channelmessage/")
        assert "发送失败" in planner.locator("#result_list").inner_text()
        assert "机器人服务器返回 HTTP 500" in planner.locator("#result_list").inner_text()
        shot(planner, "23_channel_messages")
    finally:
        robot.close()
