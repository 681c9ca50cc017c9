"""Issue 23, item 6: reminders and escalations to 钉钉 / 企业微信 group robots, besides the e-mails,
against a robot served by this suite (http.server in a thread): the 加签 signature verifies, the
markdown arrives, a robot answering 500 / errcode≠0 / nothing is retried later until it takes the
message, a message failing every time stays visible as failed, nothing is posted twice, and a
reminder run never waits for a robot. docs/architecture.md, "Channels"."""
import base64
import datetime
import hashlib
import hmac
import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from projects.channels import announce
from projects.models import Channel, ChannelKind, ChannelMessage, Role, Unit
from projects.webhooks import failed_count, send_due
from supervision.models import Colour, OrderState, Problem, ProblemState
from supervision.reminders import send_order_reminders, send_problem_reminders

from .conftest import ROOT, UNIT_A, make_user
from .test_durable_work import stop, subprocess_env
from .test_reports_status import in_progress  # noqa: F401 (a fixture)
from .test_supervision import days, make_order, make_problem, unit_a, unit_b, unit_item  # noqa: F401 (fixtures)

SECRET = "SECtest0123456789abcdef"


class Robot:
    """A group robot on a free loopback port. `replies` is consumed one per request: "ok",
    an HTTP status (500), ("errcode", n) or ("hang", seconds); when empty, "ok"."""

    def __init__(self):
        self.received, self.replies, self.lock = [], [], threading.Lock()
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with robot.lock:
                    robot.received.append({"path": self.path, "query": parse_qs(urlsplit(self.path).query),
                                           "body": json.loads(body.decode("utf-8")), "at": time.time()})
                    reply = robot.replies.pop(0) if robot.replies else "ok"
                if isinstance(reply, tuple) and reply[0] == "hang":
                    time.sleep(reply[1])
                    reply = "ok"
                if isinstance(reply, int):
                    self.send_response(reply)
                    self.end_headers()
                    return
                code = reply[1] if isinstance(reply, tuple) else 0
                data = json.dumps({"errcode": code, "errmsg": "ok" if code == 0 else "sign not match"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a client that gave up waiting (the timeout tests)

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def robot(settings):
    settings.TRACKER_CHANNEL_HOSTS = ["127.0.0.1"]
    settings.TRACKER_CHANNEL_TIMEOUT = 1.0
    served = Robot()
    yield served
    served.close()


def channel(robot, name, unit=None, kind=ChannelKind.DINGTALK, secret=SECRET):
    path = "/robot/send?access_token=tok" if kind == ChannelKind.DINGTALK else "/cgi-bin/webhook/send?key=k"
    made = Channel(name=name, kind=kind, webhook_url=robot.url + path, secret=secret if kind == "dingtalk" else "",
                   unit=unit)
    made.full_clean()
    made.save()
    return made


def later(minutes):
    return timezone.now() + datetime.timedelta(minutes=minutes)


# ---------------------------------------------------------------- the robots' protocols

def test_a_dingtalk_message_arrives_as_signed_markdown_once(robot, unit_a):
    group = channel(robot, "甲单位群", unit_a)
    with transaction.atomic():
        assert announce("t:1", "【红色督办】督办单 #1", "**甲单位**：已超过办理期限", units=[unit_a.pk]) == 1
    assert robot.received == []  # queued, not posted by the announcing transaction
    assert send_due() == 1
    [got] = robot.received
    assert got["path"].startswith("/robot/send?access_token=tok&timestamp=")
    timestamp = got["query"]["timestamp"][0]
    assert abs(int(timestamp) / 1000 - time.time()) < 60
    expected = base64.b64encode(hmac.new(SECRET.encode(), f"{timestamp}\n{SECRET}".encode(),
                                         hashlib.sha256).digest()).decode()
    assert got["query"]["sign"] == [expected]  # parse_qs undoes the URL-encoding of + / =
    assert got["body"]["msgtype"] == "markdown"
    assert got["body"]["markdown"]["title"] == "【红色督办】督办单 #1"
    assert "**甲单位**：已超过办理期限" in got["body"]["markdown"]["text"]
    message = ChannelMessage.objects.get()
    assert message.state == ChannelMessage.State.SENT and message.sent_at
    group.refresh_from_db()
    assert group.last_sent_at and group.last_error == ""
    assert send_due() == 0  # sent once, however often the task runs
    announce("t:1", "【红色督办】督办单 #1", "again", units=[unit_a.pk])  # the same reminder queued again
    assert send_due() == 0 and len(robot.received) == 1
    from projects.webhooks import prune

    assert prune(timezone.now() + datetime.timedelta(days=89)) == 0
    assert prune(timezone.now() + datetime.timedelta(days=91)) == 1  # the record of sent messages is kept 90 days


def test_a_wecom_message_carries_its_markdown_as_content_unsigned(robot, unit_a):
    channel(robot, "甲单位企业微信群", unit_a, kind=ChannelKind.WECOM)
    announce("t:2", "六重清单填报提醒", "- 项目 1. 某某工程", units=[unit_a.pk])
    assert send_due() == 1
    [got] = robot.received
    assert "timestamp" not in got["query"] and "sign" not in got["query"]
    assert got["body"] == {"msgtype": "markdown", "markdown": {"content": "#### 六重清单填报提醒\n\n- 项目 1. 某某工程"}}


def test_a_robot_failing_is_retried_with_backoff_until_it_takes_the_message(robot, unit_a):
    group = channel(robot, "甲单位群", unit_a)
    robot.replies = [500, ("errcode", 310000), ("hang", 3)]
    announce("t:3", "标题", "内容", units=[unit_a.pk])
    message = ChannelMessage.objects.get()
    errors = []
    for attempt, now in enumerate((timezone.now(), later(2), later(10)), start=1):
        assert send_due(now=now) == 0
        message.refresh_from_db()
        assert message.state == ChannelMessage.State.PENDING and message.attempts == attempt
        errors.append(message.last_error)
        assert send_due(now=now) == 0  # not due again before its backoff
        assert len(robot.received) == attempt
    assert errors == ["机器人服务器返回 HTTP 500", "机器人拒收：errcode 310000，sign not match",
                      "机器人服务器 1.0 秒内未答复"]
    assert message.next_attempt_at > timezone.now() + datetime.timedelta(minutes=3)  # 1, 2, then 4 minutes
    group.refresh_from_db()
    assert group.last_error == "机器人服务器 1.0 秒内未答复"
    assert send_due(now=later(30)) == 1
    message.refresh_from_db()
    assert message.state == ChannelMessage.State.SENT and len(robot.received) == 4


def test_a_robot_gets_at_most_its_rate_a_minute_and_no_robot_waits_for_anothers_backlog(robot, unit_a, unit_b,
                                                                                         settings):
    settings.TRACKER_CHANNEL_PER_MINUTE = 3
    busy, quiet = channel(robot, "甲单位群", unit_a), channel(robot, "乙单位群", unit_b)
    for n in range(5):
        announce(f"burst:{n}", f"督办单 #{n}", "内容", units=[unit_a.pk])
    announce("quiet:1", "乙单位的提醒", "内容", units=[unit_b.pk])
    assert send_due() == 4  # three of the busy robot's, and the quiet robot's one behind them
    assert send_due() == 0  # the busy robot has had its three this minute; nothing counted as failed
    assert set(ChannelMessage.objects.filter(state="pending").values_list("attempts", flat=True)) == {0}
    assert send_due(now=later(1.1)) == 2
    titles = [r["body"]["markdown"]["title"] for r in robot.received]
    assert titles == ["督办单 #0", "督办单 #1", "督办单 #2", "乙单位的提醒", "督办单 #3", "督办单 #4"]
    assert not ChannelMessage.objects.exclude(state="sent").exists()
    del busy, quiet


def test_a_message_failing_every_time_stays_visible_as_failed(robot, unit_a, client, settings):
    settings.TRACKER_CHANNEL_MAX_ATTEMPTS = 2
    channel(robot, "甲单位群", unit_a)
    robot.replies = [500] * 5
    announce("t:4", "【红色督办】督办单 #9", "内容", units=[unit_a.pk])
    send_due()
    send_due(now=later(5))
    failed = ChannelMessage.objects.get()
    assert failed.state == ChannelMessage.State.FAILED and failed.next_attempt_at is None
    assert failed_count() == 1
    from health_check.exceptions import ServiceWarning

    from portfolio.health import Channels

    with pytest.raises(ServiceWarning, match="1 group-robot messages failed"):
        Channels().run()
    assert send_due(now=later(500)) == 0 and len(robot.received) == 2  # given up: no more attempts
    client.force_login(make_user("channel_planner", Role.PLANNER))
    page = client.get("/admin/projects/channelmessage/?state__exact=failed").content.decode()
    assert "【红色督办】督办单 #9" in page and "机器人服务器返回 HTTP 500" in page
    page = client.get("/admin/projects/channel/").content.decode()
    assert "机器人服务器返回 HTTP 500" in page
    robot.replies = []  # the robot is mended; the planner sends the message again
    response = client.post("/admin/projects/channelmessage/", {"action": "send_again", "_selected_action": [failed.pk]},
                           follow=True)
    assert "1 条消息将重新发送" in response.content.decode()
    assert send_due() == 1 and failed_count() == 0


def test_a_reminder_run_never_waits_for_a_robot_that_hangs_nor_for_a_broker_that_is_down(
        robot, unit_a, leader, django_capture_on_commit_callbacks):
    from kombu.exceptions import OperationalError as BrokerDown

    channel(robot, "甲单位群", unit_a)
    robot.replies = [("hang", 5)]
    make_order(unit_a, leader, state=OrderState.SIGNED, deadline=days(-1))  # red
    started = time.monotonic()
    down = mock.patch("projects.tasks.send_channel_messages_task.delay", side_effect=BrokerDown("Redis down"))
    with down as queued, django_capture_on_commit_callbacks(execute=True):
        send_order_reminders(timezone.localdate())
    assert queued.called  # the send was queued after the commit, and its failure did not matter
    assert time.monotonic() - started < 1
    assert ChannelMessage.objects.get().state == ChannelMessage.State.PENDING  # the beat's run will send it
    started = time.monotonic()
    send_due()  # the worker waits at most the timeout, then counts a failure
    assert time.monotonic() - started < 3
    assert ChannelMessage.objects.get().attempts == 1


def test_a_save_goes_through_while_the_robot_is_down(robot, unit_a, unit_a_user, leader, client):
    channel(robot, "甲单位群", unit_a)
    robot.close()  # nothing listens any more
    order = make_order(unit_a, leader, deadline=days(-1))
    send_order_reminders(timezone.localdate())
    client.force_login(unit_a_user)
    started = time.monotonic()
    response = client.post(f"/orders/{order.pk}/sign/", {"sign-text": "已签收"})
    assert response.status_code == 302 and time.monotonic() - started < 2
    assert send_due() == 0
    message = ChannelMessage.objects.get()
    assert message.attempts == 1 and message.last_error.startswith("无法连接机器人服务器")


# ---------------------------------------------------------------- which reminders go where

def test_order_reminders_go_to_the_units_group_and_red_ones_to_the_office_group_once(robot, unit_a, unit_b,
                                                                                     leader):
    mine, other, office = channel(robot, "甲单位群", unit_a), channel(robot, "乙单位群", unit_b), \
        channel(robot, "规划办群", None, kind=ChannelKind.WECOM)
    d = datetime.date(2026, 6, 10)
    order = make_order(unit_a, leader, state=OrderState.SIGNED, issued_on=d, deadline=d + datetime.timedelta(days=5))
    send_order_reminders(d + datetime.timedelta(days=2))  # blue: the unit only
    send_order_reminders(d + datetime.timedelta(days=2))
    send_order_reminders(d + datetime.timedelta(days=6))  # red: the unit and the office
    send_order_reminders(d + datetime.timedelta(days=7))
    sent = list(ChannelMessage.objects.order_by("pk").values_list("channel", "title"))
    assert sent == [(mine.pk, f"【蓝色督办】临近办理期限：督办单 #{order.pk}"),
                    (mine.pk, f"【红色督办】已超过办理期限：督办单 #{order.pk}"),
                    (office.pk, f"【红色督办】已超过办理期限：督办单 #{order.pk}")]
    assert not ChannelMessage.objects.filter(channel=other).exists()
    assert send_due() == 3
    assert "甲" not in json.dumps(robot.received)  # the unit's name is the real one
    assert any(unit_a.name in r["body"]["markdown"].get("text", r["body"]["markdown"].get("content", ""))
               for r in robot.received)
    order.refresh_from_db()
    assert order.notified_colour == Colour.RED


def test_an_inactive_channel_gets_nothing(robot, unit_a, leader):
    group = channel(robot, "甲单位群", unit_a)
    group.active = False
    group.save()
    make_order(unit_a, leader, state=OrderState.SIGNED, deadline=days(-1))
    send_order_reminders(timezone.localdate())
    assert not ChannelMessage.objects.exists()


def test_an_overdue_problem_is_reminded_once_per_change_by_mail_and_robot(robot, real_plan, unit_a, unit_b,
                                                                         planner, unit_a_user, unit_b_user):
    coordinating, office = channel(robot, "乙单位群", unit_b), channel(robot, "规划办群")
    unit_b_user.email, planner.email = "b@example.org", "planner@example.org"
    unit_b_user.save()
    planner.save()
    item = unit_item(UNIT_A)
    problem = make_problem(item, unit_b, unit_a_user, state=ProblemState.COORDINATING, deadline=days(-1))
    waiting = make_problem(item, unit_b, unit_a_user, deadline=days(-2), description="待分办已逾期")
    today = timezone.localdate()
    assert send_problem_reminders(today) == 2
    assert send_problem_reminders(today) == 0  # once
    by_subject = {m.subject: m.to for m in mail.outbox}
    assert by_subject == {f"【问题逾期】问题 #{problem.pk} 已超过办理期限": ["b@example.org"],
                          f"【问题逾期】问题 #{waiting.pk} 已超过办理期限": ["planner@example.org"]}
    assert sorted(ChannelMessage.objects.values_list("channel", "key")) == sorted([
        (coordinating.pk, f"problem:{problem.pk}:overdue:{today}"),
        (office.pk, f"problem:{problem.pk}:overdue:{today}"),
        (office.pk, f"problem:{waiting.pk}:overdue:{today}")])  # awaiting triage: the office's own
    # answered: no longer overdue, marked back silently; reopened past its deadline: reminded again
    Problem.objects.filter(pk=problem.pk).update(state=ProblemState.ANSWERED)
    mail.outbox.clear()
    assert send_problem_reminders(today) == 0
    assert not Problem.objects.get(pk=problem.pk).notified_overdue
    Problem.objects.filter(pk=problem.pk).update(state=ProblemState.COORDINATING)
    tomorrow = today + datetime.timedelta(days=1)
    assert send_problem_reminders(tomorrow) == 1
    assert ChannelMessage.objects.filter(key=f"problem:{problem.pk}:overdue:{tomorrow}").count() == 2
    assert send_due() == 5
    text = robot.received[0]["body"]["markdown"]["text"]
    assert "已逾期" in text and "问题描述" in text


def test_the_problem_reminder_task_runs_the_same_function(real_plan, unit_b, unit_a_user):
    from supervision.tasks import problem_reminders_task

    unit_b.contact_email = "b-contact@example.org"
    unit_b.save()
    make_problem(unit_item(UNIT_A), unit_b, unit_a_user, state=ProblemState.COORDINATING, deadline=days(-3))
    assert problem_reminders_task.apply(args=[f"{timezone.localdate():%Y-%m-%d}"]).get() == 1
    assert problem_reminders_task.apply(args=[f"{timezone.localdate():%Y-%m-%d}"]).get() == 0
    assert mail.outbox[0].to == ["b-contact@example.org"]


def test_missing_report_reminders_go_to_the_units_group_once_a_day(robot, unit_a, unit_b, in_progress,  # noqa: F811
                                                                   monkeypatch):
    from reporting.status import send_missing_report_reminders

    from .clock import freeze
    from .test_reports_status import DUE, TODAY, file

    freeze(monkeypatch, TODAY)
    a, b = in_progress
    for item in b:
        file(item)  # unit B has filed everything: its group hears nothing
    mine, other = channel(robot, "甲单位群", unit_a), channel(robot, "乙单位群", unit_b)
    send_missing_report_reminders(DUE)  # nobody has an e-mail address: the group is told all the same
    send_missing_report_reminders(DUE)  # the button pressed twice the same day
    [message] = ChannelMessage.objects.all()
    assert message.channel == mine and message.title == f"六重清单填报提醒：{DUE:%Y年%m月} 尚有 4 项未报"
    assert send_due() == 1
    text = robot.received[0]["body"]["markdown"]["text"]
    assert unit_a.name in text and all(item.name in text for item in a)
    assert not ChannelMessage.objects.filter(channel=other).exists()


# ---------------------------------------------------------------- the planner sets a robot up

def test_a_planner_adds_a_robot_in_the_admin_and_bad_settings_are_refused_on_the_field(robot, client, unit_a,
                                                                                       settings):
    planner = make_user("robot_planner", Role.PLANNER)
    client.force_login(planner)
    form = {"name": "甲单位群", "kind": "wecom", "unit": unit_a.pk, "webhook_url": robot.url + "/send?key=k",
            "secret": SECRET, "active": "on"}
    page = client.post("/admin/projects/channel/add/", form).content.decode()
    assert "企业微信群机器人没有加签密钥，请留空。" in page
    page = client.post("/admin/projects/channel/add/", {**form, "kind": "dingtalk", "secret": "abc"}).content.decode()
    assert "钉钉加签密钥以 SEC 开头" in page
    settings.TRACKER_CHANNEL_HOSTS = ["oapi.dingtalk.com", "qyapi.weixin.qq.com"]
    page = client.post("/admin/projects/channel/add/", {**form, "secret": ""}).content.decode()
    assert "“127.0.0.1”不是允许的机器人地址" in page
    page = client.post("/admin/projects/channel/add/", {**form, "secret": "", "webhook_url": "ftp://x/y"}).content.decode()
    assert "Webhook 地址" in page and not Channel.objects.exists()
    settings.TRACKER_CHANNEL_HOSTS = ["127.0.0.1"]
    response = client.post("/admin/projects/channel/add/", {**form, "secret": ""})
    assert response.status_code == 302
    made = Channel.objects.get()
    response = client.post("/admin/projects/channel/", {"action": "send_test_message", "_selected_action": [made.pk]},
                           follow=True)
    assert "甲单位群：测试消息已发送。" in response.content.decode()
    assert "六重清单群机器人测试" in robot.received[0]["body"]["markdown"]["content"]
    robot.replies = [("errcode", 93000)]
    response = client.post("/admin/projects/channel/", {"action": "send_test_message", "_selected_action": [made.pk]},
                           follow=True)
    assert "甲单位群：发送失败，机器人拒收：errcode 93000" in response.content.decode()


def test_a_unit_user_cannot_see_or_manage_robots(client, unit_a_user):
    client.force_login(unit_a_user)
    assert client.get("/admin/projects/channel/").status_code in (302, 403)


# ---------------------------------------------------------------- the real worker

def worker_env():
    return dict(subprocess_env(), TRACKER_CHANNEL_HOSTS="127.0.0.1", TRACKER_CHANNEL_TIMEOUT="1")


@pytest.mark.django_db(transaction=True)
def test_the_worker_posts_a_committed_message_once_however_often_its_task_is_delivered(robot, real_plan, tmp_path):
    """The message written by a committed transaction is posted by a real Celery worker; the task
    delivered three more times (a redelivery, the beat) posts nothing more."""
    from config.celery_app import app
    from projects.tasks import send_channel_messages_task

    unit = Unit.objects.get(name=UNIT_A)
    channel(robot, "甲单位群", unit)
    robot.replies = [("hang", 0.5)]  # slow enough for deliveries to overlap
    app.control.purge()
    log_path = tmp_path / "worker.log"
    celery_bin = Path(sys.executable).with_name("celery")
    with open(log_path, "w") as log:
        worker = subprocess.Popen([str(celery_bin), "-A", "config", "worker", "--pool=prefork", "--concurrency=2",
                                   "-l", "warning"], cwd=ROOT, env=worker_env(), stdout=log,
                                  stderr=subprocess.STDOUT)
        try:
            with transaction.atomic():  # queues the task once it commits
                announce("worker:1", "【红色督办】督办单 #1", "内容", units=[unit.pk])
            for _ in range(3):
                send_channel_messages_task.delay()
            deadline = time.monotonic() + 90
            while not ChannelMessage.objects.filter(state=ChannelMessage.State.SENT).exists():
                assert worker.poll() is None and time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.3)
            time.sleep(2)  # the other deliveries run meanwhile
        finally:
            stop(worker)
    assert len(robot.received) == 1, log_path.read_text()


def test_the_robot_admin_lists_answer_bad_filters_without_a_500(client, real_plan):
    client.force_login(make_user("robot_fuzz", Role.PLANNER))
    client.raise_request_exception = False
    for url in ("/admin/projects/channelmessage/?next_attempt_at__gte=0001-01-01",
                "/admin/projects/channelmessage/?channel__id__exact=99999999999999999999",
                "/admin/projects/channelmessage/?state__exact=%00", "/admin/projects/channel/?unit__isnull=x",
                "/admin/projects/channel/?q=%F0%9F%98%80", "/admin/projects/channelmessage/?o=99"):
        assert client.get(url).status_code < 500, url
    response = client.get("/admin/projects/channelmessage/?state__exact=%00")
    assert response.status_code == 400 and "含有不允许的控制字符" in response.content.decode()
