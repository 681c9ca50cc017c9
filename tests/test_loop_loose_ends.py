"""Issue 23, loose ends of the closed loop: a problem sent back is revised and resubmitted by its
unit with the reason in sight; the planner's assignment refuses a past deadline on the field and
saves nothing; the order list's CSV and the problem's resubmission stay within the unit's scope."""
import pytest
from django_fsm_log.models import StateLog

from supervision.models import Problem, ProblemState

from .test_supervision import (  # noqa: F401 (fixtures)
    days, field_errors, item_a, item_b, make_order, make_problem, unit_a, unit_b,
)

pytestmark = pytest.mark.django_db


def resubmission(unit, **changes):
    return {"resubmit-description": "征地拆迁未完成，缺口 120 亩，需市自然资源局协调指标", "resubmit-kind": "land",
            "resubmit-level": "higher", "resubmit-coordinating_unit": unit.pk, "resubmit-leader_name": "张主任",
            "resubmit-deadline": f"{days(20):%Y-%m-%d}", "resubmit-note": "已补充缺口面积并改为上级协调", **changes}


def test_a_unit_resubmits_a_problem_sent_back_with_the_reason_in_sight(client, planner, unit_a_user, item_a, unit_b):
    problem = make_problem(item_a, unit_b, unit_a_user)
    client.force_login(planner)
    client.post(f"/problems/{problem.pk}/send_back/", {"send_back-text": "请写明缺口面积和需协调的层级"})

    client.force_login(unit_a_user)
    page = client.get(f"/problems/{problem.pk}/")
    html = page.content.decode()
    assert set(page.context["forms"]) == {"resubmit"}
    assert 'id="return-reason">请写明缺口面积和需协调的层级' in html and "修改后重新提交" in html
    response = client.post(f"/problems/{problem.pk}/resubmit/", resubmission(unit_b))
    assert response.status_code == 302
    problem.refresh_from_db()
    assert (problem.state, problem.level, problem.deadline) == (ProblemState.PENDING, "higher", days(20))
    assert problem.description.startswith("征地拆迁未完成，缺口 120 亩")
    log = StateLog.objects.for_(problem).order_by("pk").last()
    assert (log.transition, log.by, log.description) == ("resubmit", unit_a_user, "已补充缺口面积并改为上级协调")
    html = client.get(f"/problems/{problem.pk}/").content.decode()
    assert "上次退回理由" in html and "重新提交" in html  # the record names the step

    client.force_login(planner)  # back in triage
    assert set(client.get(f"/problems/{problem.pk}/").context["forms"]) == {"accept", "merge", "send_back"}


def test_a_resubmission_is_refused_on_its_fields_and_saves_nothing(client, planner, unit_a_user, item_a, unit_b):
    problem = make_problem(item_a, unit_b, unit_a_user, state=ProblemState.RETURNED, return_reason="请补充")
    client.force_login(unit_a_user)
    yesterday = days(-1)
    response = client.post(f"/problems/{problem.pk}/resubmit/", resubmission(
        unit_b, **{"resubmit-deadline": f"{yesterday:%Y-%m-%d}", "resubmit-note": " ", "resubmit-description": ""}))
    assert response.status_code == 200
    errors = field_errors(response)
    assert errors["deadline"] == [f"办理期限 {yesterday:%Y-%m-%d} 已过，应不早于今天（{days(0):%Y-%m-%d}）。"]
    assert errors["description"] == ["请填写问题描述，不能为空。"]
    assert errors["note"] == ["请说明针对退回理由作了哪些修改，不能为空。"]
    assert 'id="problem-description">征地拆迁未完成<' in response.content.decode()  # the saved text, not the refused
    problem.refresh_from_db()
    assert (problem.state, problem.description) == (ProblemState.RETURNED, "征地拆迁未完成")
    assert not StateLog.objects.for_(problem).exists()
    problem.state = ProblemState.PENDING  # resubmitted meanwhile from another page
    problem.save()
    response = client.post(f"/problems/{problem.pk}/resubmit/", resubmission(unit_b))  # a stale page
    assert field_errors(response) == {"note": ["问题当前状态为“待分办”，不能重新提交。"]}


def test_only_the_units_of_the_entry_resubmit(client, unit_a_user, unit_b_user, item_a, unit_b):
    """The coordinating unit sees the problem sent back but did not raise it: it cannot resubmit."""
    problem = make_problem(item_a, unit_b, unit_a_user, state=ProblemState.RETURNED, return_reason="请补充")
    client.force_login(unit_b_user)
    assert client.get(f"/problems/{problem.pk}/").context["forms"] == {}
    assert client.post(f"/problems/{problem.pk}/resubmit/", resubmission(unit_b)).status_code == 403
    assert Problem.objects.get(pk=problem.pk).state == ProblemState.RETURNED


def test_the_planners_assignment_refuses_a_past_deadline_on_the_field(client, planner, unit_a_user, item_a, unit_b):
    problem = make_problem(item_a, unit_b, unit_a_user)
    client.force_login(planner)
    response = client.post(f"/problems/{problem.pk}/accept/", {
        "accept-kind": "land", "accept-level": "zone", "accept-coordinating_unit": unit_b.pk,
        "accept-leader": "", "accept-leader_name": "王主任", "accept-deadline": f"{days(-3):%Y-%m-%d}"})
    assert "deadline" in field_errors(response)
    problem.refresh_from_db()
    assert problem.state == ProblemState.PENDING and problem.deadline == days(10)
    assert not StateLog.objects.for_(problem).exists()


def test_the_order_csv_of_a_unit_holds_only_its_orders(client, leader, unit_a_user, item_a, item_b, unit_a, unit_b):
    make_order(unit_a, leader, item=item_a, requirement="甲单位的督办")
    make_order(unit_b, leader, item=item_b, requirement="乙单位的督办")
    client.force_login(unit_a_user)
    text = b"".join(client.get("/orders/?_export=csv").streaming_content).decode("utf-8-sig")
    assert item_a.name in text and item_b.name not in text and unit_b.name not in text
