"""Issue 15, 填报情况: per unit and month, entries due, reported, late, missing and the unit's
contact; the reminder e-mails sent through Celery; the unit users' to-do count.

Runs on the real 瓯江口 plan (conftest). Entries due for a month are 推进中 entries whose start
year has come (reporting/owing.py); the real plan's entries are imported 未开工, so each test
sets a few in progress.
"""
import datetime
import re

import pytest
from django.db.models import Exists, OuterRef
from django.utils import timezone

from reporting.status import missing_by_unit, send_missing_report_reminders, unit_status
from reporting.tasks import remind_missing_reports_task
from projects.models import Item, ItemStatus, ItemUnit, Unit
from reporting.models import StatusReport
from reporting.calendar import month_asked, report_deadline

from .clock import freeze
from .conftest import REAL_AS_OF, UNIT_A, UNIT_B, make_user
from .test_access_and_reports import body_of, login, ym

TODAY = REAL_AS_OF  # after the reporting day: the month asked for is past its deadline
DUE = month_asked(TODAY)


@pytest.fixture(autouse=True)
def today(monkeypatch):
    return freeze(monkeypatch, TODAY)


def linked(name):
    return Item.objects.filter(Exists(ItemUnit.objects.filter(item=OuterRef("pk"), unit__name=name)))


@pytest.fixture
def in_progress(real_plan):
    """Four of unit A's entries and three of unit B's in progress; one of A's starts next year."""
    Item.objects.update(status=ItemStatus.NOT_STARTED)
    a = list(linked(UNIT_A).order_by("list_kind", "seq")[:5])
    b = list(linked(UNIT_B).order_by("list_kind", "seq")[:3])
    Item.objects.filter(pk__in=[i.pk for i in a + b]).update(status=ItemStatus.IN_PROGRESS, start_year=2021,
                                                              end_year=2030)
    Item.objects.filter(pk=a[4].pk).update(start_year=DUE.year + 1)  # not due yet
    return a[:4], b


def on_time(month):
    return timezone.make_aware(datetime.datetime.combine(report_deadline(month), datetime.time(9)))


def file(item, month=DUE, filed_at=None, user=None):
    """A report of the month, filed on its deadline day unless `filed_at` says otherwise."""
    report = StatusReport.objects.create(item=item, month=month, status="in_progress", progress_text="进展",
                                         filed_by=user)
    StatusReport.objects.filter(pk=report.pk).update(filed_at=filed_at or on_time(month))
    return report


def status_rows(html):
    body = re.search(r'<table[^>]*id="status-table".*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        rows[cells[0]] = cells[1:]
    return rows


def test_status_page_counts_due_reported_late_and_shows_contacts(client, planner, in_progress):
    a, b = in_progress
    Unit.objects.filter(name=UNIT_A).update(contact_person="张三", contact_phone="0577-1234567",
                                            contact_email="zhangsan@example.com")
    late = timezone.make_aware(datetime.datetime.combine(report_deadline(DUE) + datetime.timedelta(days=1),
                                                         datetime.time(9)))
    file(a[0])
    file(a[1], filed_at=late)
    file(b[0])
    file(a[2], month=datetime.date(DUE.year, 1, 1) if DUE.month > 1 else datetime.date(DUE.year - 1, 12, 1))
    html = body_of(login(client, planner).get("/reports/status/"))
    assert f"填报情况：{DUE.year}年{DUE.month}月" in html
    rows = status_rows(html)
    # 应报, 已报, 逾期报送, 未报, 联系人, 电话, 邮箱
    assert rows[UNIT_A] == ["4", "2", "1", "2", "张三", "0577-1234567", "zhangsan@example.com"]
    assert rows[UNIT_B][:4] == ["3", "1", "0", "2"]
    assert 'id="remind-missing"' in html

    # Filing one more moves the counts; filed today, after the deadline, it is late.
    assert TODAY > report_deadline(DUE)
    file(a[3], filed_at=timezone.now())
    assert status_rows(body_of(client.get("/reports/status/")))[UNIT_A][:4] == ["4", "3", "2", "1"]


def test_status_of_another_month(client, leader, in_progress):
    a, _ = in_progress
    earlier = DUE.replace(day=1) - datetime.timedelta(days=1)
    earlier = earlier.replace(day=1)
    file(a[0], month=earlier)
    html = body_of(login(client, leader).get("/reports/status/", {"month": ym(earlier)}))
    assert status_rows(html)[UNIT_A][:4] == ["4", "1", "0", "3"]
    assert 'id="remind-missing"' not in html  # leaders read; planners send


@pytest.mark.parametrize("month", ["2026-13", "1999-01", "2099-01", "abc", "2026-1"])
def test_status_month_is_bounded(client, planner, month):
    response = login(client, planner).get("/reports/status/", {"month": month})
    assert response.status_code == 400
    assert "不可选" in body_of(response)


def test_status_page_is_for_planners_and_leaders(client, unit_a_user):
    assert login(client, unit_a_user).get("/reports/status/").status_code == 404
    assert client.post("/reports/status/remind/", {"month": ym(DUE)}).status_code == 404


def test_status_is_grouped_queries_not_a_loop_over_units(django_assert_max_num_queries, in_progress):
    with django_assert_max_num_queries(2):
        rows = unit_status(DUE, TODAY)
    assert len(rows) >= 2


def test_reminders_go_to_units_still_missing(in_progress, mailoutbox):
    a, b = in_progress
    Unit.objects.filter(name=UNIT_A).update(contact_person="张三", contact_email="zhangsan@example.com")
    member = make_user("unit_a_mail", "unit", [UNIT_A])
    member.email = "member@example.com"
    member.save()
    for item in b:
        file(item)  # unit B has filed everything
    file(a[0])
    sent = remind_missing_reports_task(DUE.isoformat())  # the task's own function, run here
    assert sent == 1 and len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert sorted(mail.to) == ["member@example.com", "zhangsan@example.com"]
    assert mail.subject == f"六重清单填报提醒：{DUE:%Y年%m月} 尚有 3 项未报"
    assert mail.body.startswith("张三，您好")
    for item in a[1:]:
        assert item.name in mail.body
    assert a[0].name not in mail.body


def test_remind_button_queues_the_task(client, planner, in_progress, mailoutbox, monkeypatch):
    a, _ = in_progress
    Unit.objects.filter(name=UNIT_A).update(contact_email="a@example.com")
    monkeypatch.setitem(remind_missing_reports_task.app.conf, "task_always_eager", True)
    response = login(client, planner).post("/reports/status/remind/", {"month": ym(DUE)}, follow=True)
    assert f"已安排向 {DUE:%Y年%m月} 尚未填报的单位发送提醒邮件。" in body_of(response)
    assert [m.to for m in mailoutbox] == [["a@example.com"]]
    assert login(client, planner).get("/reports/status/remind/").status_code == 405


def test_missing_by_unit_names_the_entries(in_progress):
    a, _ = in_progress
    file(a[0])
    unit = Unit.objects.get(name=UNIT_A)
    assert [i.pk for i in missing_by_unit(DUE)[unit.pk]] == [i.pk for i in a[1:]]
    assert send_missing_report_reminders(DUE) == 0  # no one has an e-mail address yet


def test_unit_user_sees_reports_to_file_in_the_navigation(client, unit_a_user, planner, in_progress):
    a, _ = in_progress
    nav = re.compile(r'id="nav-todo"[^>]*>待填报 <span[^>]*>(\d+)</span>')
    assert nav.search(body_of(login(client, unit_a_user).get("/my/"))).group(1) == "4"
    file(a[0])
    file(a[1], user=unit_a_user)
    assert nav.search(body_of(client.get("/"))).group(1) == "2"
    assert 'id="nav-todo"' not in body_of(login(client, planner).get("/"))


def test_no_to_do_badge_when_everything_is_filed(client, unit_a_user, in_progress):
    a, _ = in_progress
    for item in a:
        file(item)
    html = body_of(login(client, unit_a_user).get("/my/"))
    assert "我的事项" in html and 'id="nav-todo"' not in html


# ---------------------------------------------------------------- who may open what; GETs write nothing

PAGES = {  # url: status per role (anonymous is sent to log in)
    "/reports/status/": {"unit": 404, "leader": 200, "planner": 200},
    f"/reports/status/?month={ym(DUE)}": {"unit": 404, "leader": 200, "planner": 200},
    "/reports/batch/": {"unit": 200, "leader": 404, "planner": 200},
    "/reports/template/": {"unit": 200, "leader": 404, "planner": 200},
    "/targets/template/": {"unit": 404, "leader": 404, "planner": 200},
    "/plans/template/": {"unit": 404, "leader": 404, "planner": 200},
}


@pytest.mark.parametrize("role", ["anonymous", "unit", "leader", "planner"])
def test_new_pages_by_role_and_no_get_writes(client, real_plan, role):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if role != "anonymous":
        client.force_login(make_user(f"pages_{role}", role, [UNIT_A] if role == "unit" else []))
    for url, expected in PAGES.items():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
            if hasattr(response, "streaming_content"):
                b"".join(response.streaming_content)
        if role == "anonymous":
            assert response.status_code == 302 and "/accounts/login/" in response.url, url
            continue
        assert response.status_code == expected[role], (url, role)
        writes = [q["sql"] for q in ctx.captured_queries
                  if re.match(r"\s*(INSERT|UPDATE|DELETE|CREATE|DROP|ALTER)", q["sql"], re.I)]
        assert writes == [], (url, writes)
