"""Who may see and do what, and the write side a unit uses: monthly reports, milestones,
the planners' annual-target upload and the audit trail.

Runs on the real 瓯江口 plan (conftest). Unit A (温州市瓯江口开发建设投资集团有限公司) leads 36
重大项目 and one 重大要素 entry; unit B (经济发展局（统计局，科技局）) is lead or support on
entries of the other five lists; no entry is linked to both.
"""
import datetime
import io
import json
import re
import threading
from decimal import Decimal

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.utils import timezone
from django.utils.html import escape
from openpyxl import Workbook, load_workbook

from portfolio.models import Flag
from portfolio.evaluation import evaluate as evaluate_flags
from reporting.forms import StatusReportForm
from projects.models import Category, Item, ItemUnit, ListKind, Unit
from reporting.models import AnnualTarget, Milestone, StatusReport
from reporting.views import ReportConflict, save_report

from .conftest import PLAN_CODE, UNIT_A, UNIT_B

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# ---------------------------------------------------------------- helpers

def today():
    return timezone.localdate()


def month_back(n):
    """First day of the month n months before the current one (Asia/Shanghai)."""
    day = today().replace(day=1)
    for _ in range(n):
        day = (day - datetime.timedelta(days=1)).replace(day=1)
    return day


def month_ahead():
    first = today().replace(day=1)
    return (first + datetime.timedelta(days=32)).replace(day=1)


def ym(day):
    return day.strftime("%Y-%m")


def report_data(month=None, **overrides):
    """POST data of the report form; month is a date or the text typed (default: last month)."""
    if month is None:
        month = month_back(1)
    data = {
        "month": month if isinstance(month, str) else ym(month),
        "status": "in_progress",
        "progress_pct": "20",
        "month_investment": "0.50",
        "cumulative_investment": "1.00",
        "progress_text": "桩基施工完成",
        "problems": "",
        "next_steps": "",
        "version": "0",
    }
    data.update(overrides)
    return data


def body_of(response):
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8")
    return response.content.decode("utf-8")


def body_of_bytes(response):
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def names_in(text, names):
    """The names that occur in text as typed, HTML-escaped, CSV-quoted or JSON-escaped."""
    found = []
    for name in names:
        forms_of_name = {name, escape(name), name.replace('"', '""'), json.dumps(name)[1:-1]}
        if any(f in text for f in forms_of_name):
            found.append(name)
    return found


def login(client, user):
    if user is not None:
        client.force_login(user)
    return client


def xlsx_upload(rows, name="targets.xlsx", header=("规划代码", "清单", "序号", "年度", "计划投资（亿元）", "年度目标")):
    book = Workbook()
    sheet = book.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    buf = io.BytesIO()
    book.save(buf)
    return SimpleUploadedFile(name, buf.getvalue(), content_type=XLSX_TYPE)


def history_rows(html):
    """The rows of the history table as plain text (tags removed), one string per row."""
    match = re.search(r'<table[^>]*id="history-table".*?<tbody>(.*?)</tbody>', html, re.S)
    assert match, "history table missing"
    rows = re.findall(r"<tr>(.*?)</tr>", match.group(1), re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r)).strip() for r in rows]


# ---------------------------------------------------------------- fixtures

@pytest.fixture
def item_a(real_plan):
    """重大项目 1: unit A leads it alone, 2021-2025, 总投资 7.30 亿元."""
    item = Item.objects.get(plan=real_plan, list_kind=ListKind.PROJECT, seq=1)
    assert [link.unit.name for link in item.unit_links.all()] == [UNIT_A]
    assert item.total_investment == Decimal("7.3") and (item.start_year, item.end_year) == (2021, 2025)
    return item


@pytest.fixture
def item_b(real_plan):
    """An entry unit B is linked to (and unit A is not)."""
    item = (Item.objects.filter(plan=real_plan, unit_links__unit__name=UNIT_B)
            .order_by("list_kind", "seq").first())
    assert not item.unit_links.filter(unit__name=UNIT_A).exists()
    return item


@pytest.fixture
def milestone_a(item_a):
    return Milestone.objects.create(item=item_a, name="完成施工图设计", due_date=today() - datetime.timedelta(days=20))


# ---------------------------------------------------------------- permission matrix

LOGIN = "login redirect"
ADMIN_LOGIN = "admin login redirect"
ROLES = ["anonymous", "unit_a", "unit_b", "leader", "planner"]
ROLE_FIXTURE = {"unit_a": "unit_a_user", "unit_b": "unit_b_user", "leader": "leader", "planner": "planner"}


def everyone(status=200):
    return {"anonymous": LOGIN, "unit_a": status, "unit_b": status, "leader": status, "planner": status}


OWN_A = {"anonymous": LOGIN, "unit_a": 200, "unit_b": 404, "leader": 200, "planner": 200}
WRITE_A = {"anonymous": LOGIN, "unit_a": 302, "unit_b": 404, "leader": 403, "planner": 302}
PLANNER_ONLY = {"anonymous": LOGIN, "unit_a": 404, "unit_b": 404, "leader": 404, "planner": 200}

# case: (method, url, expected per role); {a}, {b}, {m} are filled in with item_a, item_b, milestone_a.
MATRIX = {
    **{f"list-{kind}": ("get", f"/lists/{kind}/", everyone()) for kind in ListKind.values},
    "detail-a": ("get", "/items/{a}/", OWN_A),
    "detail-a-history": ("get", "/items/{a}/?tab=history", OWN_A),
    "detail-b": ("get", "/items/{b}/", {"anonymous": LOGIN, "unit_a": 404, "unit_b": 200, "leader": 200, "planner": 200}),
    "export-xlsx": ("get", "/lists/project/?_export=xlsx", everyone()),
    "export-csv": ("get", "/lists/project/?_export=csv", everyone()),
    "report-form-a": ("get", "/items/{a}/report/", {**OWN_A, "leader": 403}),
    "report-form-b": ("get", "/items/{b}/report/",
                      {"anonymous": LOGIN, "unit_a": 404, "unit_b": 200, "leader": 403, "planner": 200}),
    "report-post-a": ("post", "/items/{a}/report/", WRITE_A),
    "milestone-met-a": ("post", "/milestones/{m}/met/", WRITE_A),
    "targets-upload": ("get", "/targets/upload/", PLANNER_ONLY),
    "targets-upload-post": ("post", "/targets/upload/", {**PLANNER_ONLY, "planner": 302}),
    "dashboard": ("get", "/", everyone()),
    "my-items": ("get", "/my/", everyone()),
    "flags": ("get", "/flags/", everyone()),
    "ranking": ("get", "/ranking/", everyone()),
    "rollup-xlsx": ("get", "/rollup/?format=xlsx", everyone()),
    "admin": ("get", "/admin/", {"anonymous": ADMIN_LOGIN, "unit_a": ADMIN_LOGIN, "unit_b": ADMIN_LOGIN,
                                 "leader": ADMIN_LOGIN, "planner": 200}),
}
MATRIX_PARAMS = [pytest.param(case, role, id=f"{case}-{role}") for case in MATRIX for role in ROLES]


@pytest.mark.parametrize("case, role", MATRIX_PARAMS)
def test_permission_matrix(case, role, request, client, item_a, item_b, milestone_a):
    method, url, expected_by_role = MATRIX[case]
    expected = expected_by_role[role]
    user = request.getfixturevalue(ROLE_FIXTURE[role]) if role != "anonymous" else None
    login(client, user)
    url = url.format(a=item_a.pk, b=item_b.pk, m=milestone_a.pk)
    month = month_back(1)
    if case == "report-post-a":
        response = client.post(url, report_data(month))
    elif case == "milestone-met-a":
        response = client.post(url, {"met_on": today().isoformat()})
    elif case == "targets-upload-post":
        response = client.post(url, {"file": xlsx_upload([(PLAN_CODE, "重大项目", 1, 2023, 2.5, "主体完工")])})
    else:
        response = client.get(url)

    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")
    elif expected == ADMIN_LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    else:
        assert response.status_code == expected

    # What the request did (or did not) change.
    if case == "report-post-a":
        filed = StatusReport.objects.filter(item=item_a, month=month).exists()
        assert filed == (expected == 302)
        if filed:
            assert response["Location"] == f"/items/{item_a.pk}/#reports"
    if case == "milestone-met-a":
        milestone_a.refresh_from_db()
        assert (milestone_a.met_on is not None) == (expected == 302)
        if expected == 302:
            assert response["Location"] == f"/items/{item_a.pk}/#milestones"
    if case == "targets-upload-post":
        assert AnnualTarget.objects.filter(item=item_a, year=2023).exists() == (expected == 302)
    if expected == 200 and case.startswith("export-"):
        assert response["Content-Disposition"].startswith("attachment")
    if expected == 200 and case == "rollup-xlsx":
        assert response["Content-Type"] == XLSX_TYPE


def test_unit_users_see_no_history_tab(client, unit_a_user, leader, item_a):
    item_a.name = "温州港瓯江港区灵昆作业区 24~28#通用泊位工程（调整）"
    item_a.save()
    html = body_of(login(client, unit_a_user).get(f"/items/{item_a.pk}/?tab=history"))
    assert 'id="history-table"' not in html and 'id="history-tab"' not in html
    html = body_of(login(client, leader).get(f"/items/{item_a.pk}/?tab=history"))
    assert 'id="history-table"' in html and "（调整）" in html


# ---------------------------------------------------------------- nothing of another unit leaks

LEAK_PAGES = ([f"/lists/{kind}/?per_page=200" for kind in ListKind.values]
              + ["/", "/flags/", "/ranking/", "/my/"]
              + [f"/lists/{kind}/?_export=csv" for kind in ListKind.values])


def other_unit_names(unit_name):
    """Names of entries not linked to the unit, leaving out any that is part of one of the unit's names."""
    own = set(Item.objects.filter(unit_links__unit__name=unit_name).values_list("name", flat=True))
    others = set(Item.objects.exclude(unit_links__unit__name=unit_name).values_list("name", flat=True))
    return own, sorted(o for o in others if not any(o in name for name in own))


@pytest.fixture
def flags_evaluated(real_plan):
    evaluate_flags(today())
    assert Flag.objects.filter(resolved_on__isnull=True).exclude(item__unit_links__unit__name=UNIT_A).exists()


@pytest.mark.parametrize("user_fixture, unit_name", [("unit_a_user", UNIT_A), ("unit_b_user", UNIT_B)])
def test_unit_pages_never_name_other_units_entries(request, client, flags_evaluated, user_fixture, unit_name):
    own, forbidden = other_unit_names(unit_name)
    assert len(forbidden) > 150 and own
    login(client, request.getfixturevalue(user_fixture))
    leaks = {}
    seen_own = set()
    for url in LEAK_PAGES:
        response = client.get(url)
        assert response.status_code == 200, url
        text = body_of(response)
        if url.startswith("/lists/"):
            seen_own.update(names_in(text, own))
        found = names_in(text, forbidden)
        if found:
            leaks[url] = found[:5]
    assert leaks == {}
    assert seen_own == own  # the check reads the pages that do list entries


def rollup_names(book):
    """The entry names of each list sheet of a rollup workbook, from its item rows (序号 in column A)."""
    names = {}
    for title in [kind.label for kind in ListKind]:
        sheet = book[title]
        name_col = 2 if title == ListKind.POLICY.label else 1
        names[title] = {row[name_col] for row in sheet.iter_rows(min_row=2, values_only=True)
                        if isinstance(row[0], int)}
    return names


def test_unit_rollup_xlsx_holds_only_their_entries(client, flags_evaluated, unit_a_user, real_plan):
    response = login(client, unit_a_user).get("/rollup/?format=xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(body_of_bytes(response)), data_only=True)
    names = rollup_names(book)
    for kind in ListKind:
        expected = set(Item.objects.filter(list_kind=kind, unit_links__unit__name=UNIT_A).values_list("name", flat=True))
        assert names[kind.label] == expected, kind.label
    # 合计 of 重大项目 sums unit A's projects only.
    total_row = [r for r in book["重大项目"].iter_rows(values_only=True) if r[0] == "合计"][0]
    own_total = sum(Item.objects.filter(list_kind=ListKind.PROJECT, unit_links__unit__name=UNIT_A)
                    .exclude(total_investment__isnull=True).values_list("total_investment", flat=True))
    assert Decimal(str(total_row[5])).quantize(Decimal("0.01")) == own_total.quantize(Decimal("0.01"))
    # No cell of any sheet names another unit's entry, nor a 十大（类）百亿工程 row or its total:
    # those programmes belong to no unit.
    _, forbidden = other_unit_names(UNIT_A)
    cells = "\n".join(str(v) for ws in book.worksheets
                      for row in ws.iter_rows(values_only=True) for v in row if v is not None)
    assert names_in(cells, forbidden) == []
    programmes = [r for r in book["十大（类）百亿工程"].iter_rows(values_only=True) if isinstance(r[0], int)]
    assert programmes == []
    assert not any(name in cells for name in real_plan.programmes.values_list("name", flat=True))
    assert "2510" not in cells



# ---------------------------------------------------------------- report validation

@pytest.mark.parametrize("overrides, message", [
    pytest.param({"month": ym(month_ahead())}, "不能填报未来的月份。", id="future-month"),
    pytest.param({"progress_pct": "101"}, "形象进度应在 0 到 100 之间。", id="progress-101"),
    pytest.param({"progress_pct": "-1"}, "形象进度应在 0 到 100 之间。", id="progress-negative"),
    pytest.param({"month_investment": "-0.5"}, "金额不能为负数。", id="negative-month-investment"),
    pytest.param({"cumulative_investment": "-2"}, "金额不能为负数。", id="negative-cumulative"),
    pytest.param({"month": ""}, "这个字段是必填项。", id="month-missing"),
])
def test_invalid_report_is_rejected_with_chinese_message(client, unit_a_user, item_a, overrides, message):
    response = login(client, unit_a_user).post(f"/items/{item_a.pk}/report/", report_data(**overrides))
    assert response.status_code == 200
    html = body_of(response)
    assert message in html
    assert "This field" not in html and "Enter a" not in html
    assert "桩基施工完成" in html  # what the user typed is still in the form
    assert not StatusReport.objects.filter(item=item_a).exists()


def test_cumulative_below_previous_month_is_rejected(client, unit_a_user, item_a):
    StatusReport.objects.create(item=item_a, month=month_back(2), status="in_progress",
                                cumulative_investment=Decimal("3.00"), filed_by=unit_a_user)
    # Without the month's amount only the order of cumulative figures is checked.
    response = login(client, unit_a_user).post(
        f"/items/{item_a.pk}/report/", report_data(month_back(1), cumulative_investment="2.50", month_investment=""))
    assert response.status_code == 200
    html = body_of(response)
    assert f"累计完成投资不能低于 {month_back(2):%Y年%m月} 已报的 3.00 亿元。" in html
    assert not StatusReport.objects.filter(item=item_a, month=month_back(1)).exists()
    # Equal to the previous month is fine.
    response = client.post(f"/items/{item_a.pk}/report/",
                           report_data(month_back(1), cumulative_investment="3.00", month_investment=""))
    assert response.status_code == 302
    assert StatusReport.objects.get(item=item_a, month=month_back(1)).cumulative_investment == Decimal("3")


def test_cumulative_above_total_investment_is_saved_with_a_warning(client, unit_a_user, item_a):
    response = login(client, unit_a_user).post(
        f"/items/{item_a.pk}/report/", report_data(cumulative_investment="8.00"), follow=True)
    assert response.redirect_chain == [(f"/items/{item_a.pk}/#reports", 302)]
    html = body_of(response)
    assert "累计完成投资 8.00 亿元已超过总投资 7.30 亿元，请核实。" in html
    assert "alert-warning" in html
    report = StatusReport.objects.get(item=item_a, month=month_back(1))
    assert report.cumulative_investment == Decimal("8") and report.filed_by == unit_a_user


# ---------------------------------------------------------------- one report per entry and month

def test_filing_again_edits_the_month_and_keeps_the_earlier_version(client, unit_a_user, planner, item_a):
    month = month_back(1)
    url = f"/items/{item_a.pk}/report/"
    login(client, unit_a_user)
    assert client.post(url, report_data(month, progress_text="第一次填报", cumulative_investment="1.00")).status_code == 302

    # Opening the month again shows the current version in the form.
    html = body_of(client.get(f"{url}?month={ym(month)}"))
    assert re.search(r'<input type="hidden" name="version" value="1"', html)
    assert "第一次填报" in html and "当前第 1 版" in html

    response = client.post(url, report_data(month, progress_text="第二次填报", cumulative_investment="2.00",
                                            version="1"), follow=True)
    assert f"已保存 {month:%Y年%m月} 进度（第 2 版）" in body_of(response)
    report = StatusReport.objects.get(item=item_a, month=month)
    assert StatusReport.objects.filter(item=item_a).count() == 1
    assert (report.version, report.progress_text, report.cumulative_investment) == (2, "第二次填报", Decimal("2"))
    assert report.history.count() == 2
    assert report.history.earliest().progress_text == "第一次填报"

    rows = history_rows(body_of(login(client, planner).get(f"/items/{item_a.pk}/?tab=history")))
    edit = [r for r in rows if "第一次填报 → 第二次填报" in r]
    assert len(edit) == 1, rows
    assert "unit_a_t" in edit[0]
    assert re.search(r"累计完成投资（亿元）\s*：\s*1\.0*\s*→\s*2\.0*", edit[0]), edit[0]


def test_stale_version_is_a_conflict_and_overwrites_nothing(client, unit_a_user, planner, item_a):
    month = month_back(1)
    url = f"/items/{item_a.pk}/report/"
    login(client, unit_a_user).post(url, report_data(month, progress_text="第一次填报"))
    # A planner edits the month meanwhile (version 1 → 2).
    login(client, planner).post(url, report_data(month, progress_text="规划人员修改", version="1"))
    assert StatusReport.objects.get(item=item_a, month=month).version == 2

    # The unit user submits from the form they opened at version 1.
    response = login(client, unit_a_user).post(
        url, report_data(month, progress_text="过期的修改", cumulative_investment="1.50", version="1"))
    assert response.status_code == 200
    html = body_of(response)
    assert "提交冲突" in html and "planner_t" in html
    assert "过期的修改" in html and 'value="1.50"' in html  # the submitted values stay in the form
    report = StatusReport.objects.get(item=item_a, month=month)
    assert (report.version, report.progress_text) == (2, "规划人员修改")
    assert report.history.count() == 2

    # The form now carries the current version: submitting it again is accepted as version 3.
    assert re.search(r'<input type="hidden" name="version" value="2"', html)
    assert client.post(url, report_data(month, progress_text="过期的修改", version="2")).status_code == 302
    report.refresh_from_db()
    assert (report.version, report.progress_text) == (3, "过期的修改")


def test_new_filing_for_a_month_already_filed_is_a_conflict(client, unit_a_user, planner, item_a):
    month = month_back(1)
    url = f"/items/{item_a.pk}/report/"
    login(client, planner).post(url, report_data(month, progress_text="规划人员先报"))
    response = login(client, unit_a_user).post(url, report_data(month, progress_text="单位后报", version="0"))
    assert response.status_code == 200
    assert "提交冲突" in body_of(response)
    assert StatusReport.objects.get(item=item_a, month=month).progress_text == "规划人员先报"


def test_conflict_message_gives_the_time_in_local_time(client, unit_a_user, planner, item_a):
    month = month_back(1)
    url = f"/items/{item_a.pk}/report/"
    login(client, planner).post(url, report_data(month, progress_text="规划人员先报"))
    report = StatusReport.objects.get(item=item_a, month=month)
    local = timezone.localtime(report.updated_at).strftime("%Y-%m-%d %H:%M")
    html = body_of(login(client, unit_a_user).post(url, report_data(month, version="0")))
    conflict = re.search(r"提交冲突：[^<]*", html)
    assert conflict and f"planner_t（{local}）" in conflict.group(0), conflict


# ---------------------------------------------------------------- concurrent submissions (PostgreSQL)

def _race(calls):
    """Run the callables in threads released together; each thread closes its DB connection."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        try:
            results[i] = call(barrier)
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a submission hung"
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_filings_save_one_report_and_one_conflict(real_plan, unit_a_user, planner):
    item_pk = Item.objects.get(plan=real_plan, list_kind=ListKind.PROJECT, seq=1).pk
    for n in range(1, 5):  # a few months, so the two transactions really overlap at least once
        month = month_back(n)

        def submit(user, text):
            def call(barrier):
                item = Item.objects.get(pk=item_pk)
                form = StatusReportForm(report_data(month, progress_text=text, version="0"), item=item)
                assert form.is_valid(), form.errors
                barrier.wait(timeout=10)
                try:
                    return save_report(form, item, user)
                except ReportConflict as conflict:
                    return conflict
            return call

        results = _race([submit(unit_a_user, "单位填报"), submit(planner, "规划人员填报")])
        errors = [r for r in results if not isinstance(r, (StatusReport, ReportConflict))]
        assert errors == []
        saved = [r for r in results if isinstance(r, StatusReport)]
        conflicts = [r for r in results if isinstance(r, ReportConflict)]
        assert len(saved) == 1 and len(conflicts) == 1, results
        stored = StatusReport.objects.filter(item_id=item_pk, month=month)
        assert stored.count() == 1
        assert (stored[0].version, stored[0].progress_text) == (1, saved[0].progress_text)


@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_from_two_browsers(real_plan, unit_a_user, planner):
    from django.test import Client

    item_pk = Item.objects.get(plan=real_plan, list_kind=ListKind.PROJECT, seq=1).pk
    month = month_back(1)
    url = f"/items/{item_pk}/report/"

    def post(user, text):
        def call(barrier):
            c = Client()
            c.force_login(user)
            barrier.wait(timeout=10)
            r = c.post(url, report_data(month, progress_text=text, version="0"))
            return r.status_code, body_of(r)
        return call

    results = _race([post(unit_a_user, "单位填报"), post(planner, "规划人员填报")])
    assert not [r for r in results if isinstance(r, BaseException)], results
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 302]
    loser = [body for status, body in results if status == 200][0]
    assert "提交冲突" in loser
    assert StatusReport.objects.filter(item_id=item_pk, month=month).count() == 1


# ---------------------------------------------------------------- milestones

def test_unit_user_marks_milestone_met(client, unit_a_user, milestone_a, item_a):
    met_on = today() - datetime.timedelta(days=2)
    response = login(client, unit_a_user).post(f"/milestones/{milestone_a.pk}/met/",
                                               {"met_on": met_on.isoformat()}, follow=True)
    assert response.redirect_chain == [(f"/items/{item_a.pk}/#milestones", 302)]
    milestone_a.refresh_from_db()
    assert milestone_a.met_on == met_on
    html = body_of(response)
    assert f"节点“完成施工图设计”已标记完成（{met_on:%Y-%m-%d}）。" in html


def test_milestone_met_in_the_future_is_rejected(client, unit_a_user, milestone_a):
    response = login(client, unit_a_user).post(f"/milestones/{milestone_a.pk}/met/",
                                               {"met_on": (today() + datetime.timedelta(days=1)).isoformat()},
                                               follow=True)
    assert "完成日期不能晚于今天。" in body_of(response)
    milestone_a.refresh_from_db()
    assert milestone_a.met_on is None


def test_other_unit_cannot_mark_milestone(client, unit_b_user, milestone_a):
    response = login(client, unit_b_user).post(f"/milestones/{milestone_a.pk}/met/",
                                               {"met_on": today().isoformat()})
    assert response.status_code == 404
    milestone_a.refresh_from_db()
    assert milestone_a.met_on is None


# ---------------------------------------------------------------- plan fields are read-only to units

def test_crafted_report_post_cannot_change_plan_fields(client, unit_a_user, item_a):
    unit_b = Unit.objects.get(name=UNIT_B)
    before = Item.objects.values().get(pk=item_a.pk)
    links_before = list(ItemUnit.objects.filter(item=item_a).values_list("unit__name", "role"))
    data = report_data(status="in_progress", name="篡改的名称", total_investment="999", plan_investment="999",
                       content="篡改", start_year="2030", end_year="2031", seq="999", list_kind="policy",
                       units=[str(unit_b.pk)], unit_links=[str(unit_b.pk)], plan=["2"], item="999",
                       filed_by="1", version="0")
    response = login(client, unit_a_user).post(f"/items/{item_a.pk}/report/", data)
    assert response.status_code == 302
    after = Item.objects.values().get(pk=item_a.pk)
    changed = {k for k in before if before[k] != after[k]}
    assert changed <= {"status"}  # a report may move the entry's status; nothing of the plan changes
    assert list(ItemUnit.objects.filter(item=item_a).values_list("unit__name", "role")) == links_before
    report = StatusReport.objects.get(item=item_a)
    assert report.filed_by == unit_a_user


@pytest.mark.parametrize("user_fixture", ["unit_a_user", "leader"])
def test_non_planners_cannot_edit_through_admin(request, client, item_a, user_fixture):
    login(client, request.getfixturevalue(user_fixture))
    change = f"/admin/projects/item/{item_a.pk}/change/"
    response = client.get(change)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    response = client.post(change, {"name": "篡改", "total_investment": "999"})
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    item_a.refresh_from_db()
    assert item_a.name != "篡改" and item_a.total_investment == Decimal("7.3")


# ---------------------------------------------------------------- annual targets upload

def test_targets_upload_creates_annual_targets(client, planner, item_a):
    rows = [(PLAN_CODE, "重大项目", 1, 2024, 2.5, "完成主体工程"),
            (PLAN_CODE, "project", 1, 2025, "待定", "竣工验收")]
    response = login(client, planner).post("/targets/upload/", {"file": xlsx_upload(rows)}, follow=True)
    assert "年度推进计划已导入：新增 2 条，更新 0 条。" in body_of(response)
    targets = {t.year: t for t in AnnualTarget.objects.filter(item=item_a)}
    assert set(targets) == {2024, 2025}
    assert targets[2024].planned_investment == Decimal("2.5") and targets[2024].target_text == "完成主体工程"
    assert targets[2025].planned_investment is None
    # Uploading again updates the same rows.
    rows[0] = (PLAN_CODE, "重大项目", 1, 2024, 3, "完成主体工程")
    response = client.post("/targets/upload/", {"file": xlsx_upload(rows)}, follow=True)
    assert "新增 0 条，更新 2 条" in body_of(response)
    assert AnnualTarget.objects.get(item=item_a, year=2024).planned_investment == Decimal("3")
    # The detail page shows them.
    html = body_of(client.get(f"/items/{item_a.pk}/"))
    assert "完成主体工程" in html and "竣工验收" in html


@pytest.mark.parametrize("bad_row, error", [
    pytest.param((PLAN_CODE, "重大项目", 9999, 2024, 1, ""), 'targets.xlsx 工作表「Sheet」第 3 行 序号 "9999": 重大项目中没有这个序号',
                 id="unknown-seq"),
    pytest.param((PLAN_CODE, "重大项目", 1, 2023, "约五亿", ""), 'targets.xlsx 工作表「Sheet」第 3 行 计划投资 "约五亿": 不是数字',
                 id="non-numeric-amount"),
    pytest.param((PLAN_CODE, "重大项目", 1, 1800, 1, ""), 'targets.xlsx 工作表「Sheet」第 3 行 年度 "1800": 年份应在 1949 至 2100 之间',
                 id="year-out-of-range"),
])
def test_targets_upload_with_a_bad_row_writes_nothing(client, planner, item_a, bad_row, error):
    rows = [(PLAN_CODE, "重大项目", 1, 2024, 2.5, "完成主体工程"), bad_row]
    response = login(client, planner).post("/targets/upload/", {"file": xlsx_upload(rows)})
    assert response.status_code == 200
    html = body_of(response)
    assert "导入失败，未写入任何数据" in html
    assert escape(error) in html
    assert not AnnualTarget.objects.exists()


def test_target_outside_the_printed_period_is_kept_with_a_warning(client, planner, item_a):
    """Projects slip: a target for 2027 on a project printed as 2021-2025 is saved, with a warning."""
    rows = [(PLAN_CODE, "重大项目", 1, 2027, 1, "收尾")]
    html = body_of(login(client, planner).post("/targets/upload/", {"file": xlsx_upload(rows)}, follow=True))
    assert "不在印刷的建设期限 2021-2025 内，已按实际进度保存" in html
    assert AnnualTarget.objects.get(item=item_a, year=2027).target_text == "收尾"


def test_targets_upload_lists_every_bad_row(client, planner, item_a):
    rows = [(PLAN_CODE, "重大项目", 9999, 2024, 1, ""),
            (PLAN_CODE, "重大项目", 1, 2023, "约五亿", ""),
            (PLAN_CODE, "重大项目", 1, 2300, 1, ""),
            (PLAN_CODE, "重大项目", 1, 2024, 2.5, "完成主体工程")]
    html = body_of(login(client, planner).post("/targets/upload/", {"file": xlsx_upload(rows)}))
    for n in (2, 3, 4):
        assert f"targets.xlsx 工作表「Sheet」第 {n} 行" in html
    assert "第 5 行" not in html
    assert not AnnualTarget.objects.exists()


# ---------------------------------------------------------------- audit trail

def admin_post_data(response):
    """The data the admin change form would submit unchanged: main form and every inline formset."""
    data = {}

    def add(form):
        for bf in form:
            value = bf.value()
            if isinstance(bf.field.widget, forms.CheckboxInput):
                if value:
                    data[bf.html_name] = "on"
            elif isinstance(value, (list, tuple)):
                data[bf.html_name] = [str(v) for v in value]
            else:
                data[bf.html_name] = "" if value is None else str(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    data["_save"] = "保存"
    return data


def test_admin_edit_shows_in_history_with_who_when_before_after(client, planner, leader, item_a):
    change = f"/admin/projects/item/{item_a.pk}/change/"
    login(client, planner)
    form = client.get(change)
    assert form.status_code == 200
    data = admin_post_data(form)
    data["total_investment"] = "8.5"
    response = client.post(change, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    item_a.refresh_from_db()
    assert item_a.total_investment == Decimal("8.5")

    record = item_a.history.latest()
    assert record.history_user == planner
    when = timezone.localtime(record.history_date).strftime("%Y-%m-%d %H:%M")
    for viewer in (planner, leader):
        rows = history_rows(body_of(login(client, viewer).get(f"/items/{item_a.pk}/?tab=history")))
        edit = [r for r in rows if re.search(r"总投资（亿元）\s*：\s*7\.30*\s*→\s*8\.50*", r)]
        assert len(edit) == 1, rows
        assert when in edit[0] and "planner_t" in edit[0]


def test_model_save_with_history_user_shows_in_history(client, planner, item_a):
    item_a.content = "调整后的建设内容"
    item_a.end_year = 2026
    item_a._history_user = planner
    item_a.save()
    record = item_a.history.latest()
    when = timezone.localtime(record.history_date).strftime("%Y-%m-%d %H:%M")
    rows = history_rows(body_of(login(client, planner).get(f"/items/{item_a.pk}/?tab=history")))
    edit = [r for r in rows if "→ 调整后的建设内容" in r]
    assert len(edit) == 1, rows
    assert when in edit[0] and "planner_t" in edit[0]
    assert re.search(r"结束年份\s*：\s*2025\s*→\s*2026", edit[0]), edit[0]


def test_history_names_who_filed_not_a_user_id(client, unit_a_user, planner, item_a):
    month = month_back(1)
    url = f"/items/{item_a.pk}/report/"
    login(client, unit_a_user).post(url, report_data(month, progress_text="单位填报"))
    login(client, planner).post(url, report_data(month, progress_text="规划人员更正", version="1"))
    rows = history_rows(body_of(client.get(f"/items/{item_a.pk}/?tab=history")))
    report_edit = [r for r in rows if "单位填报 → 规划人员更正" in r]
    assert len(report_edit) == 1, rows
    assert re.search(r"填报人\s*：\s*unit_a_t\s*→\s*planner_t", report_edit[0]), report_edit[0]


def test_history_names_the_category_not_its_id(client, planner, item_a):
    old_category = item_a.category
    new_category = (Category.objects.filter(plan=item_a.plan, list_kind=ListKind.PROJECT)
                    .exclude(pk=old_category.pk).order_by("order").first())
    item_a.category = new_category
    item_a._history_user = planner
    item_a.save()
    rows = history_rows(body_of(login(client, planner).get(f"/items/{item_a.pk}/?tab=history")))
    category_edit = [r for r in rows if re.search(r"类别\s*：", r)]
    assert len(category_edit) == 1, rows
    assert re.search(rf"类别\s*：\s*{re.escape(old_category.name)}\s*→\s*{re.escape(new_category.name)}",
                     category_edit[0]), category_edit[0]
