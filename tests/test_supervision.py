"""Issue 23, items 1 and 2: problems (问题协调) and 督办 orders — the loop, its record, the
colour rule in both forms, reminders once per colour change, refusals on the field in Chinese,
nothing half-saved, and a unit never seeing another unit's problems or orders."""
import datetime
import io
import random
import re

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_fsm_log.models import StateLog
from openpyxl import load_workbook

from projects.models import Item, ListKind, Unit, reach_to_filter, role_of
from reporting.models import StatusReport
from supervision.models import (
    Colour, Order, OrderState, Problem, ProblemKind, ProblemLevel, ProblemState, colour_of,
)
from supervision.reminders import send_order_reminders
from supervision.summary import order_counts, problem_counts

from .conftest import UNIT_A, UNIT_B, make_user

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def unit_item(name, kind=ListKind.PROJECT):
    """An entry whose only unit is `name` (so another unit cannot see it)."""
    for item in Item.objects.filter(unit_links__unit__name=name, list_kind=kind).order_by("seq"):
        if item.unit_links.count() == 1:
            return item
    raise AssertionError(f"no entry of {name} alone")


@pytest.fixture
def item_a(real_plan):
    return unit_item(UNIT_A)


@pytest.fixture
def item_b(real_plan):
    return unit_item(UNIT_B, ListKind.POLICY)


@pytest.fixture
def unit_a(real_plan):
    return Unit.objects.get(name=UNIT_A)


@pytest.fixture
def unit_b(real_plan):
    return Unit.objects.get(name=UNIT_B)


def days(n):
    return TODAY() + datetime.timedelta(days=n)


def make_problem(item, unit, user, state=ProblemState.PENDING, deadline=None, **kw):
    kw = {"description": "征地拆迁未完成", "kind": ProblemKind.LAND, "leader_name": "张主任", **kw}
    return Problem.objects.create(item=item, level=ProblemLevel.ZONE, coordinating_unit=unit,
                                  deadline=deadline or days(10), raised_by=user, state=state, **kw)


def make_order(unit, issuer, item=None, state=OrderState.ISSUED, deadline=None, issued_on=None, **kw):
    kw = {"requirement": "请于期限前完成征地", **kw}
    return Order.objects.create(unit=unit, item=item, issued_by=issuer, deadline=deadline or days(10),
                                issued_on=issued_on or TODAY(), state=state, **kw)


def field_errors(response):
    """{field name: [messages]} as the page shows them, on the field."""
    html = response.content.decode()
    found = {}
    for name, text in re.findall(r'data-field="([^"]+)">([^<]+)<', html):
        found.setdefault(name, []).append(text)
    return found


# ---------------------------------------------------------------- problems: the loop

def test_unit_raises_a_problem_from_its_report_with_its_problems_text_prefilled(client, unit_a_user, item_a, unit_b):
    report = StatusReport.objects.create(item=item_a, month=TODAY().replace(day=1), status="in_progress",
                                         progress_text="推进中", problems="用地指标未落实，需自然资源部门协调")
    client.force_login(unit_a_user)
    page = client.get(f"/items/{item_a.pk}/report/?month={report.month:%Y-%m}")
    assert f"/items/{item_a.pk}/problems/new/?report={report.pk}" in page.content.decode()
    form = client.get(f"/items/{item_a.pk}/problems/new/?report={report.pk}")
    assert form.status_code == 200
    assert form.context["form"].initial["description"] == "用地指标未落实，需自然资源部门协调"
    response = client.post(f"/items/{item_a.pk}/problems/new/", {
        "report": report.pk, "description": report.problems, "kind": "land", "level": "zone",
        "coordinating_unit": unit_b.pk, "leader_name": "王副主任", "deadline": f"{days(14):%Y-%m-%d}"})
    problem = Problem.objects.get(item=item_a)
    assert response.status_code == 302 and response["Location"] == f"/problems/{problem.pk}/"
    assert (problem.state, problem.report, problem.raised_by, problem.coordinating_unit) == \
        (ProblemState.PENDING, report, unit_a_user, unit_b)
    log = StateLog.objects.for_(problem).get()
    assert (log.transition, log.by, log.description) == ("raise", unit_a_user, report.problems)


def test_problem_goes_from_triage_to_answer_to_closing_and_reopening_with_every_step_recorded(
        client, planner, unit_a_user, unit_b_user, item_a, unit_b):
    problem = make_problem(item_a, unit_b, unit_a_user)
    client.force_login(planner)
    page = client.get(f"/problems/{problem.pk}/")
    assert set(page.context["forms"]) == {"accept", "merge", "send_back"}
    response = client.post(f"/problems/{problem.pk}/accept/", {
        "accept-kind": "approval", "accept-level": "department", "accept-coordinating_unit": unit_b.pk,
        "accept-leader": planner.pk, "accept-leader_name": "", "accept-deadline": f"{days(20):%Y-%m-%d}",
        "accept-note": "请经济发展局牵头协调"})
    assert response.status_code == 302
    problem.refresh_from_db()
    assert (problem.state, problem.kind, problem.leader, problem.deadline) == \
        (ProblemState.COORDINATING, "approval", planner, days(20))

    client.force_login(unit_b_user)  # the coordinating unit
    assert set(client.get(f"/problems/{problem.pk}/").context["forms"]) == {"reply"}
    client.post(f"/problems/{problem.pk}/reply/", {"reply-text": "已召开协调会，下周完成审批"})
    client.post(f"/problems/{problem.pk}/reply/", {"reply-text": "审批已完成"})  # may answer again
    problem.refresh_from_db()
    assert (problem.state, problem.answer) == (ProblemState.ANSWERED, "审批已完成")

    client.force_login(planner)
    client.post(f"/problems/{problem.pk}/close/", {"close-text": "经核实已解决"})
    problem.refresh_from_db()
    assert (problem.state, problem.close_note) == (ProblemState.CLOSED, "经核实已解决")
    client.post(f"/problems/{problem.pk}/reopen/", {"reopen-text": "审批被撤回，需继续协调"})
    problem.refresh_from_db()
    assert problem.state == ProblemState.COORDINATING

    log = [(e.transition, e.by.username, e.source_state, e.state, e.description)
           for e in StateLog.objects.for_(problem).order_by("timestamp", "pk")]
    assert log == [
        ("accept", "planner_t", "pending", "coordinating", "请经济发展局牵头协调"),
        ("reply", "unit_b_t", "coordinating", "answered", "已召开协调会，下周完成审批"),
        ("reply", "unit_b_t", "answered", "answered", "审批已完成"),
        ("close", "planner_t", "answered", "closed", "经核实已解决"),
        ("reopen", "planner_t", "closed", "coordinating", "审批被撤回，需继续协调"),
    ]
    page = client.get(f"/problems/{problem.pk}/").content.decode()
    assert "审批被撤回，需继续协调" in page and "unit_b_t" in page


def test_planner_merges_a_problem_into_another_or_sends_it_back_with_a_reason(client, planner, unit_a_user, item_a,
                                                                              unit_b):
    first, second, third = (make_problem(item_a, unit_b, unit_a_user) for _ in range(3))
    client.force_login(planner)
    client.post(f"/problems/{second.pk}/merge/", {"merge-into": first.pk, "merge-text": "同一用地问题"})
    second.refresh_from_db()
    assert (second.state, second.merged_into) == (ProblemState.MERGED, first)
    response = client.post(f"/problems/{third.pk}/send_back/", {"send_back-text": "  "})
    assert field_errors(response) == {"text": ["请填写退回理由，不能为空。"]}
    client.post(f"/problems/{third.pk}/send_back/", {"send_back-text": "属企业自身事项"})
    third.refresh_from_db()
    assert (third.state, third.return_reason) == (ProblemState.RETURNED, "属企业自身事项")
    response = client.post(f"/problems/{first.pk}/merge/", {"merge-into": third.pk})
    assert field_errors(response) == {"into": [f"问题 #{third.pk} 已退回，不能作为合并目标。"]}
    response = client.post(f"/problems/{first.pk}/merge/", {"merge-into": first.pk})
    assert field_errors(response) == {"into": ["不能合并到问题自身。"]}


# ---------------------------------------------------------------- problems: bad input

def test_problem_with_a_past_deadline_is_refused_on_the_field(client, unit_a_user, item_a, unit_b):
    client.force_login(unit_a_user)
    yesterday = days(-1)
    response = client.post(f"/items/{item_a.pk}/problems/new/", {
        "description": "资金缺口", "kind": "funding", "level": "zone", "coordinating_unit": unit_b.pk,
        "leader_name": "李主任", "deadline": f"{yesterday:%Y-%m-%d}"})
    assert response.status_code == 200
    assert field_errors(response) == {"deadline": [f"办理期限 {yesterday:%Y-%m-%d} 已过，应不早于今天（{TODAY():%Y-%m-%d}）。"]}
    assert not Problem.objects.exists()


def test_problem_without_description_or_leader_is_refused_on_each_field(client, unit_a_user, item_a, unit_b):
    client.force_login(unit_a_user)
    response = client.post(f"/items/{item_a.pk}/problems/new/", {
        "description": "   ", "kind": "funding", "level": "zone", "coordinating_unit": unit_b.pk,
        "deadline": f"{days(3):%Y-%m-%d}"})
    assert field_errors(response) == {"description": ["请填写问题描述，不能为空。"],
                                      "leader_name": ["请选择分管领导或填写其姓名。"]}
    assert not Problem.objects.exists()


def test_empty_answer_and_answer_after_closing_are_refused_on_the_field(client, unit_a_user, unit_b_user, item_a,
                                                                       unit_b):
    problem = make_problem(item_a, unit_b, unit_a_user, state=ProblemState.COORDINATING)
    client.force_login(unit_b_user)
    response = client.post(f"/problems/{problem.pk}/reply/", {"reply-text": " \n "})
    assert field_errors(response) == {"text": ["请填写答复内容，不能为空。"]}
    problem.state = ProblemState.CLOSED
    problem.save()
    response = client.post(f"/problems/{problem.pk}/reply/", {"reply-text": "补充答复"})
    assert field_errors(response) == {"text": ["问题已销号，不能再答复；如需继续协调，请规划人员重新打开。"]}
    problem.refresh_from_db()
    assert problem.answer == "" and not StateLog.objects.for_(problem).exists()


def test_only_the_coordinating_unit_answers_and_only_planners_triage(client, unit_a_user, leader, item_a, unit_b):
    problem = make_problem(item_a, unit_b, unit_a_user, state=ProblemState.COORDINATING)
    client.force_login(unit_a_user)  # raised it, does not coordinate it
    assert client.post(f"/problems/{problem.pk}/reply/", {"reply-text": "自己答复"}).status_code == 403
    assert client.get(f"/problems/{problem.pk}/").context["forms"] == {}
    pending = make_problem(item_a, unit_b, unit_a_user)
    client.force_login(leader)
    assert client.post(f"/problems/{pending.pk}/send_back/", {"send_back-text": "x"}).status_code == 403
    assert client.get(f"/items/{item_a.pk}/problems/new/").status_code == 403  # leaders read, they do not raise
    problem.refresh_from_db()
    pending.refresh_from_db()
    assert (problem.state, pending.state) == (ProblemState.COORDINATING, ProblemState.PENDING)


def test_closing_evidence_is_checked_for_type_size_and_content(client, planner, unit_a_user, item_a, unit_b,
                                                               settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.TRACKER_PROBLEM_FILE_MAX_BYTES = 1000
    problem = make_problem(item_a, unit_b, unit_a_user, state=ProblemState.ANSWERED)
    client.force_login(planner)

    def close(name, content):
        upload = io.BytesIO(content)
        upload.name = name
        return client.post(f"/problems/{problem.pk}/close/", {"close-text": "已解决", "close-file": upload})

    assert field_errors(close("run.exe", b"MZ....")) == {"file": [
        "文件类型“exe”不允许，可上传：pdf、doc、docx、xls、xlsx、jpg、jpeg、png、zip。"]}
    assert field_errors(close("big.pdf", b"%PDF" + b"0" * 2000)) == {"file": ["文件 0.0 MB，超过上限 0 MB。"]}
    assert field_errors(close("fake.pdf", b"MZ not a pdf")) == {"file": ["文件内容不是 pdf 格式，请检查后重新上传。"]}
    problem.refresh_from_db()
    assert problem.state == ProblemState.ANSWERED and not problem.close_file
    response = close("会议纪要.pdf", b"%PDF-1.4 minutes")
    assert response.status_code == 302
    problem.refresh_from_db()
    assert problem.state == ProblemState.CLOSED and problem.close_file_name == "会议纪要.pdf"
    assert problem.close_file.name.startswith("problems/") and "会议" not in problem.close_file.name
    download = client.get(f"/problems/{problem.pk}/file/")
    assert b"".join(download.streaming_content) == b"%PDF-1.4 minutes"


def test_a_failed_save_leaves_neither_the_new_state_nor_its_record(client, planner, unit_a_user, item_a, unit_b,
                                                                  monkeypatch):
    problem = make_problem(item_a, unit_b, unit_a_user, state=ProblemState.ANSWERED)
    client.force_login(planner)
    client.raise_request_exception = False

    def broken(self, *args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Problem, "save", broken)
    response = client.post(f"/problems/{problem.pk}/close/", {"close-text": "已解决"})
    assert response.status_code == 500
    monkeypatch.undo()
    problem.refresh_from_db()
    assert problem.state == ProblemState.ANSWERED and problem.close_note == ""
    assert not StateLog.objects.for_(problem).exists()


# ---------------------------------------------------------------- orders: the loop and bad input

def test_order_is_signed_answered_twice_sent_back_and_closed_by_its_issuer(client, leader, unit_a_user, item_a,
                                                                          unit_a):
    client.force_login(leader)
    response = client.post("/orders/new/", {"item": item_a.pk, "unit": unit_a.pk, "requirement": "月底前开工",
                                            "deadline": f"{days(7):%Y-%m-%d}"})
    order = Order.objects.get()
    assert response["Location"] == f"/orders/{order.pk}/"
    assert (order.item, order.unit, order.issued_by, order.state) == (item_a, unit_a, leader, OrderState.ISSUED)

    client.force_login(unit_a_user)
    assert set(client.get(f"/orders/{order.pk}/").context["forms"]) == {"sign"}
    client.post(f"/orders/{order.pk}/sign/", {"sign-text": ""})
    client.post(f"/orders/{order.pk}/reply/", {"reply-text": "已完成施工许可"})
    client.post(f"/orders/{order.pk}/reply/", {"reply-text": "已进场施工"})  # answers again
    client.force_login(leader)
    assert set(client.get(f"/orders/{order.pk}/").context["forms"]) == {"close", "send_back"}
    client.post(f"/orders/{order.pk}/send_back/", {"send_back-text": "请附开工照片"})
    order.refresh_from_db()
    assert order.state == OrderState.RETURNED and order.colour() == Colour.YELLOW
    client.force_login(unit_a_user)
    client.post(f"/orders/{order.pk}/reply/", {"reply-text": "已补充开工照片"})
    client.force_login(leader)
    client.post(f"/orders/{order.pk}/close/", {"close-text": "同意办结"})
    order.refresh_from_db()
    assert order.state == OrderState.CLOSED and order.colour() == Colour.DONE
    log = [(e.transition, e.by.username, e.description) for e in StateLog.objects.for_(order).order_by("timestamp", "pk")]
    assert log == [("issue", "leader_t", "月底前开工"), ("sign", "unit_a_t", None), ("reply", "unit_a_t", "已完成施工许可"),
                   ("reply", "unit_a_t", "已进场施工"), ("send_back", "leader_t", "请附开工照片"),
                   ("reply", "unit_a_t", "已补充开工照片"), ("close", "leader_t", "同意办结")]


def test_order_to_a_unit_outside_the_issuers_reach_is_refused_on_the_field(client, planner, item_a, unit_b):
    client.force_login(planner)
    response = client.post("/orders/new/", {"item": item_a.pk, "unit": unit_b.pk, "requirement": "加快推进",
                                            "deadline": f"{days(5):%Y-%m-%d}"})
    assert field_errors(response) == {"unit": [
        f"“{UNIT_B}”不在您可督办的范围内（督办事项或问题时，只能发给其责任单位或协调单位）。"]}
    lonely = Unit.objects.create(name="没有事项的单位")
    response = client.post("/orders/new/", {"for_unit": lonely.pk, "unit": lonely.pk, "requirement": "加快推进",
                                            "deadline": f"{days(5):%Y-%m-%d}"})
    assert "unit" in field_errors(response)
    assert not Order.objects.exists()


def test_order_with_a_past_deadline_or_no_requirement_is_refused_on_the_field(client, leader, unit_a):
    client.force_login(leader)
    response = client.post("/orders/new/", {"for_unit": unit_a.pk, "unit": unit_a.pk, "requirement": " ",
                                            "deadline": f"{days(-3):%Y-%m-%d}"})
    assert field_errors(response) == {
        "requirement": ["请填写督办要求，不能为空。"],
        "deadline": [f"办理期限 {days(-3):%Y-%m-%d} 已过，应不早于今天（{TODAY():%Y-%m-%d}）。"]}
    assert not Order.objects.exists() and not StateLog.objects.exists()


def test_empty_answer_and_answer_after_the_order_is_closed_are_refused_on_the_field(client, leader, unit_a_user,
                                                                                   unit_a):
    order = make_order(unit_a, leader, state=OrderState.SIGNED)
    client.force_login(unit_a_user)
    assert field_errors(client.post(f"/orders/{order.pk}/reply/", {"reply-text": ""})) == \
        {"text": ["请填写反馈内容，不能为空。"]}
    order.state = OrderState.CLOSED
    order.save()
    assert field_errors(client.post(f"/orders/{order.pk}/reply/", {"reply-text": "补充反馈"})) == \
        {"text": ["督办已办结，不能再反馈。"]}
    order.refresh_from_db()
    assert order.answer == "" and not StateLog.objects.for_(order).exists()


def test_units_do_not_issue_orders_and_only_the_issuer_closes(client, unit_a_user, leader, planner, unit_a):
    client.force_login(unit_a_user)
    assert client.get("/orders/new/").status_code == 403
    assert client.post("/orders/new/", {"for_unit": unit_a.pk, "unit": unit_a.pk, "requirement": "x",
                                        "deadline": f"{days(3):%Y-%m-%d}"}).status_code == 403
    order = make_order(unit_a, leader, state=OrderState.ANSWERED)
    client.force_login(planner)  # not its issuer
    assert client.post(f"/orders/{order.pk}/close/", {"close-text": ""}).status_code == 403
    client.force_login(leader)
    assert client.post(f"/orders/{order.pk}/sign/", {}).status_code == 403  # only the unit signs
    order.refresh_from_db()
    assert order.state == OrderState.ANSWERED


# ---------------------------------------------------------------- colour: one rule, two forms

def test_colour_rule_cases(settings, leader, unit_a):
    settings.TRACKER_ORDER_BLUE_DAYS, settings.TRACKER_ORDER_SIGN_DAYS = 3, 2
    d = datetime.date(2026, 6, 10)

    def colour(state, deadline, issued_on=d - datetime.timedelta(days=1)):
        return colour_of(Order(state=state, deadline=deadline, issued_on=issued_on), d)

    assert colour(OrderState.SIGNED, d + datetime.timedelta(days=10)) == Colour.NONE
    assert colour(OrderState.SIGNED, d + datetime.timedelta(days=3)) == Colour.BLUE
    assert colour(OrderState.SIGNED, d) == Colour.BLUE  # the deadline day itself is not overdue
    assert colour(OrderState.SIGNED, d - datetime.timedelta(days=1)) == Colour.RED
    assert colour(OrderState.ANSWERED, d + datetime.timedelta(days=1)) == Colour.NONE  # waits for its issuer
    assert colour(OrderState.ANSWERED, d - datetime.timedelta(days=1)) == Colour.RED  # overdue and not 办结
    assert colour(OrderState.ISSUED, d + datetime.timedelta(days=10), d - datetime.timedelta(days=2)) == Colour.NONE
    assert colour(OrderState.ISSUED, d + datetime.timedelta(days=10), d - datetime.timedelta(days=3)) == Colour.YELLOW
    assert colour(OrderState.RETURNED, d + datetime.timedelta(days=10)) == Colour.YELLOW
    assert colour(OrderState.CLOSED, d - datetime.timedelta(days=30)) == Colour.DONE


def test_colour_annotation_and_python_function_agree(leader, unit_a, settings):
    rng = random.Random(23)
    base = datetime.date(2026, 3, 1)
    for _ in range(200):
        issued = base + datetime.timedelta(days=rng.randint(0, 40))
        make_order(unit_a, leader, state=rng.choice(OrderState.values), issued_on=issued,
                   deadline=issued + datetime.timedelta(days=rng.randint(0, 20)))
    seen = set()
    for blue, sign in ((3, 2), (0, 0), (7, 5)):
        settings.TRACKER_ORDER_BLUE_DAYS, settings.TRACKER_ORDER_SIGN_DAYS = blue, sign
        for offset in range(0, 75, 3):
            as_of = base + datetime.timedelta(days=offset)
            sql = dict(Order.objects.with_colour(as_of).values_list("pk", "colour"))
            python = {o.pk: colour_of(o, as_of) for o in Order.objects.all()}
            assert sql == python, as_of
            seen |= set(sql.values())
    assert seen == set(Colour.values)


# ---------------------------------------------------------------- 催办

def test_reminder_is_sent_once_per_colour_change(leader, unit_a_user, unit_a):
    unit_a_user.email = "a@example.org"
    unit_a_user.save()
    leader.email = "leader@example.org"
    leader.save()
    d = datetime.date(2026, 6, 10)
    order = make_order(unit_a, leader, state=OrderState.SIGNED, issued_on=d, deadline=d + datetime.timedelta(days=5))
    assert send_order_reminders(d) == 0  # 正常: stored, nothing sent
    assert mail.outbox == []
    assert send_order_reminders(d + datetime.timedelta(days=2)) == 1  # turns blue
    assert send_order_reminders(d + datetime.timedelta(days=2)) == 0  # again: nothing (idempotent)
    assert send_order_reminders(d + datetime.timedelta(days=4)) == 0  # still blue
    assert send_order_reminders(d + datetime.timedelta(days=6)) == 1  # red: the unit and the issuer
    assert [m.subject for m in mail.outbox] == [f"【蓝色督办】临近办理期限：督办单 #{order.pk}",
                                               f"【红色督办】已超过办理期限：督办单 #{order.pk}"]
    assert mail.outbox[0].to == ["a@example.org"]
    assert mail.outbox[1].to == ["a@example.org", "leader@example.org"]
    order.refresh_from_db()
    assert order.notified_colour == Colour.RED


def test_reminder_task_runs_the_same_function(leader, unit_a):
    from supervision.tasks import order_reminders_task

    make_order(unit_a, leader, state=OrderState.RETURNED)
    unit_a.contact_email = "contact@example.org"
    unit_a.save()
    assert order_reminders_task.apply(args=[f"{TODAY():%Y-%m-%d}"]).get() == 1
    assert order_reminders_task.apply(args=[f"{TODAY():%Y-%m-%d}"]).get() == 0
    assert mail.outbox[0].to == ["contact@example.org"]


# ---------------------------------------------------------------- a unit never sees another unit's

@pytest.fixture
def both_units_loop(planner, leader, unit_a_user, unit_b_user, item_a, item_b, unit_a, unit_b):
    """A problem and an order of each unit; neither unit coordinates the other's problem."""
    return {
        "pa": make_problem(item_a, unit_a, unit_a_user, description="甲单位的问题"),
        "pb": make_problem(item_b, unit_b, unit_b_user, description="乙单位的问题", deadline=days(1)),
        "oa": make_order(unit_a, leader, item=item_a, requirement="甲单位的督办"),
        "ob": make_order(unit_b, leader, item=item_b, requirement="乙单位的督办", deadline=days(-1)),
    }


def test_a_unit_never_sees_another_units_problems_or_orders(client, unit_a_user, both_units_loop):
    loop = both_units_loop
    client.force_login(unit_a_user)
    for url in ("/problems/", "/orders/", "/my/", "/", f"/items/{loop['pa'].item_id}/"):
        html = client.get(url).content.decode()
        assert "乙单位" not in html, url
    assert "甲单位的问题" in client.get("/problems/").content.decode()
    assert "甲单位的督办" in client.get("/orders/").content.decode()
    for url in (f"/problems/{loop['pb'].pk}/", f"/orders/{loop['ob'].pk}/", f"/problems/{loop['pb'].pk}/file/"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/orders/{loop['ob'].pk}/sign/", {}).status_code == 404
    assert client.post(f"/problems/{loop['pb'].pk}/reply/", {"reply-text": "x"}).status_code == 404
    assert client.get(f"/orders/new/?item={loop['pb'].item_id}").status_code == 403
    for url in ("/problems/?_export=xlsx", "/orders/?_export=xlsx"):
        book = load_workbook(io.BytesIO(b"".join(client.get(url).streaming_content
                                                 if hasattr(client.get(url), "streaming_content")
                                                 else [client.get(url).content])))
        text = " ".join(str(c.value) for row in book.active.iter_rows() for c in row if c.value is not None)
        assert "甲单位" in text and "乙单位" not in text, url
    csv = client.get("/problems/?_export=csv")
    assert "乙单位" not in b"".join(csv.streaming_content).decode("utf-8-sig")


def test_counts_are_scoped_to_the_users_units(unit_a_user, unit_b_user, leader, both_units_loop):
    today = TODAY()
    assert problem_counts(unit_a_user, today) == {"open": 1, "overdue": 0, "solved_month": 0}
    assert problem_counts(leader, today)["open"] == 2
    assert order_counts(unit_a_user, today)["open"] == 1 and order_counts(unit_a_user, today)["red"] == 0
    assert order_counts(unit_b_user, today)["red"] == 1
    assert order_counts(leader, today)["open"] == 2


def test_the_coordinating_unit_sees_the_problem_it_coordinates_but_not_the_others(client, unit_a_user, unit_b_user,
                                                                                  item_a, unit_b):
    mine = make_problem(item_a, unit_b, unit_a_user, description="请乙单位协调")
    make_problem(item_a, Unit.objects.get(name=UNIT_A), unit_a_user, description="甲单位自己协调")
    client.force_login(unit_b_user)
    html = client.get("/problems/").content.decode()
    assert "请乙单位协调" in html and "甲单位自己协调" not in html
    assert client.get(f"/problems/{mine.pk}/").status_code == 200
    assert problem_counts(unit_b_user, TODAY())["open"] == 1


def test_dashboard_counts_open_overdue_and_solved_this_month(client, planner, unit_a_user, item_a, unit_b):
    make_problem(item_a, unit_b, unit_a_user)
    late = make_problem(item_a, unit_b, unit_a_user, state=ProblemState.COORDINATING)
    Problem.objects.filter(pk=late.pk).update(deadline=days(-2))
    make_problem(item_a, unit_b, unit_a_user, state=ProblemState.CLOSED, closed_at=timezone.now())
    client.force_login(planner)
    role_of(planner), reach_to_filter(planner)  # the role and the organisations are read once per user
    with CaptureQueriesContext(connection) as queries:
        counts = problem_counts(planner, TODAY())
    assert counts == {"open": 2, "overdue": 1, "solved_month": 1} and len(queries) == 1
    html = client.get("/").content.decode()
    assert 'data-figure="problems-open">未办结 2<' in html and 'data-figure="problems-overdue">逾期 1<' in html
    assert 'data-figure="problems-solved">本月销号 1<' in html


def test_entry_page_and_my_items_show_the_units_problems_and_orders(client, unit_a_user, leader, item_a, unit_a,
                                                                    unit_b):
    problem = make_problem(item_a, unit_b, unit_a_user)
    order = make_order(unit_a, leader, item=item_a)
    client.force_login(unit_a_user)
    detail = client.get(f"/items/{item_a.pk}/").content.decode()
    assert f"/problems/{problem.pk}/" in detail and f"/orders/{order.pk}/" in detail and 'id="raise-problem"' in detail
    assert 'id="issue-order"' not in detail
    mine = client.get("/my/").content.decode()
    assert f"/problems/{problem.pk}/" in mine and f"/orders/{order.pk}/" in mine
    client.force_login(leader)
    assert 'id="issue-order"' in client.get(f"/items/{item_a.pk}/").content.decode()


def test_problem_list_filters_by_state_type_unit_leader_and_age(client, planner, unit_a_user, item_a, unit_a, unit_b):
    old = make_problem(item_a, unit_b, unit_a_user, description="老问题", leader_name="赵书记")
    Problem.objects.filter(pk=old.pk).update(raised_on=days(-40))
    make_problem(item_a, unit_a, unit_a_user, description="新问题", state=ProblemState.COORDINATING,
                 kind=ProblemKind.FUNDING)
    client.force_login(planner)

    def shown(query):
        return {r["description"] for r in client.get("/problems/?" + query).context["table"].data.data}

    assert shown("") == {"老问题", "新问题"}
    assert shown("state=coordinating") == {"新问题"}
    assert shown("kind=land") == {"老问题"}
    assert shown(f"unit={unit_b.pk}") == {"老问题"}
    assert shown("leader=赵") == {"老问题"}
    assert shown("age=30") == {"老问题"}
    assert shown("open=true") == {"老问题", "新问题"}


def test_supervision_pages_write_nothing_on_get(client, unit_a_user, leader, both_units_loop):
    loop = both_units_loop
    for user in (unit_a_user, leader):
        client.force_login(user)
        for url in ("/problems/", "/orders/", f"/problems/{loop['pa'].pk}/", f"/orders/{loop['oa'].pk}/",
                    "/orders/?_export=csv", "/problems/?_export=xlsx", "/", "/my/"):
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(url)
                if hasattr(response, "streaming_content"):
                    b"".join(response.streaming_content)
            assert response.status_code == 200, url
            writes = [q["sql"] for q in ctx.captured_queries
                      if re.match(r"\s*(INSERT|UPDATE|DELETE)", q["sql"], re.I)
                      and "django_session" not in q["sql"]]
            assert writes == [], (url, writes)


def test_order_list_filters_by_colour_state_and_unit(client, leader, unit_a, unit_b):
    make_order(unit_a, leader, requirement="快到期", deadline=days(1))
    make_order(unit_b, leader, requirement="已超期", deadline=days(-1), state=OrderState.SIGNED)
    make_order(unit_b, leader, requirement="已办结", state=OrderState.CLOSED)
    client.force_login(leader)

    def shown(query):
        return {r["requirement"] for r in client.get("/orders/?" + query).context["table"].data.data}

    assert shown("colour=blue") == {"快到期"}
    assert shown("colour=red") == {"已超期"}
    assert shown("state=closed") == {"已办结"}
    assert shown(f"unit={unit_b.pk}") == {"已超期", "已办结"}
    assert client.get("/orders/?colour=purple").status_code == 200  # a bad choice is the form's, never a 500


def test_planners_manage_problems_and_orders_in_the_admin(client, planner, unit_a_user, leader, item_a, unit_a):
    problem = make_problem(item_a, unit_a, unit_a_user)
    make_order(unit_a, leader)
    problem.send_back(by=planner, description="不属于协调范围")
    problem.save()
    client.force_login(planner)
    for url in ("/admin/supervision/problem/", "/admin/supervision/order/"):
        assert client.get(url).status_code == 200, url
    page = client.get(f"/admin/supervision/problem/{problem.pk}/change/").content.decode()
    assert "不属于协调范围" in page  # the transition record, read-only


def test_two_people_acting_on_the_same_problem_cannot_both_win(planner, unit_a_user, item_a, unit_b):
    from django_fsm import ConcurrentTransition

    problem = make_problem(item_a, unit_b, unit_a_user)
    first, second = Problem.objects.get(pk=problem.pk), Problem.objects.get(pk=problem.pk)
    first.send_back(by=planner, description="不属于协调范围")
    first.save()
    second.merge(first, by=planner, description="重复")
    with pytest.raises(ConcurrentTransition), transaction.atomic():  # as every view saves
        second.save()
    problem.refresh_from_db()
    assert (problem.state, problem.merged_into) == (ProblemState.RETURNED, None)


def test_a_stale_page_posting_a_transition_is_told_it_moved_on(client, planner, unit_a_user, item_a, unit_b):
    problem = make_problem(item_a, unit_b, unit_a_user)
    Problem.objects.filter(pk=problem.pk).update(state=ProblemState.RETURNED)
    client.force_login(planner)
    response = client.post(f"/problems/{problem.pk}/send_back/", {"send_back-text": "再次退回"})
    assert field_errors(response) == {"text": ["当前状态为“已退回”，不能执行此操作。"]}
