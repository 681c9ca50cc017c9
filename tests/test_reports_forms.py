"""Issue 15, reports: a form per list kind, the month and cumulative figures adding up, a report
that says something, corrections without a false conflict, fresh lights after a save, and
milestones a unit keeps itself.

Runs on the real 瓯江口 plan (conftest): unit A leads 重大项目 1 (2021-2025, 总投资 7.30 亿元);
unit B is linked to entries of the other five lists.
"""
import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from portfolio.models import Flag
from projects.models import Item, ListKind
from reporting.models import Milestone, StatusReport
from reporting.calendar import month_asked

from .conftest import REAL_AS_OF, UNIT_B
from .test_access_and_reports import body_of, history_rows, item_a, login, month_back, report_data, ym  # noqa: F401


@pytest.fixture
def policy_b(real_plan):
    """A 重大政策 entry unit B is responsible for."""
    item = (Item.objects.filter(plan=real_plan, list_kind=ListKind.POLICY, unit_links__unit__name=UNIT_B)
            .order_by("seq").first())
    assert item is not None
    return item


def policy_data(month=None, **overrides):
    data = {"month": ym(month or month_back(1)), "status": "in_progress", "progress_pct": "",
            "progress_text": "已起草实施细则", "problems": "", "next_steps": "报管委会审议", "version": "0"}
    data.update(overrides)
    return data


# ---------------------------------------------------------------- a form per list kind

def test_policy_report_form_asks_for_progress_not_money(client, unit_b_user, policy_b):
    html = body_of(login(client, unit_b_user).get(f"/items/{policy_b.pk}/report/"))
    for label in ("工作进展", "完成度（%）", "存在问题", "下步计划"):
        assert label in html, label
    for absent in ("形象进度", "本月完成投资", "累计完成投资", "总投资"):
        assert absent not in html, absent
    assert 'name="month_investment"' not in html and 'name="cumulative_investment"' not in html


def test_policy_report_saves_text_and_never_money(client, unit_b_user, policy_b):
    data = policy_data(progress_pct="40", month_investment="5", cumulative_investment="5")
    response = login(client, unit_b_user).post(f"/items/{policy_b.pk}/report/", data)
    assert response.status_code == 302
    report = StatusReport.objects.get(item=policy_b, month=month_back(1))
    assert report.progress_text == "已起草实施细则" and report.progress_pct == Decimal("40")
    assert report.month_investment is None and report.cumulative_investment is None


def test_project_report_form_keeps_progress_and_money(client, unit_a_user, item_a):
    html = body_of(login(client, unit_a_user).get(f"/items/{item_a.pk}/report/"))
    for label in ("形象进度（%）", "本月完成投资（亿元）", "累计完成投资（亿元）", "进展情况"):
        assert label in html, label
    assert 'id="fill-cumulative"' in html and "js/report_form.js" in html


@pytest.mark.parametrize("fixture, data, message", [
    pytest.param("item_a", report_data(progress_pct="", month_investment="", cumulative_investment="",
                                       progress_text="  "),
                 "请至少填写进展情况或一项数字（形象进度、本月完成投资、累计完成投资）。", id="project"),
    pytest.param("policy_b", policy_data(progress_text=""), "请至少填写工作进展或完成度。", id="policy"),
])
def test_a_report_without_text_or_figure_is_refused(request, client, unit_a_user, unit_b_user, fixture, data, message):
    item = request.getfixturevalue(fixture)
    user = unit_a_user if fixture == "item_a" else unit_b_user
    response = login(client, user).post(f"/items/{item.pk}/report/", data)
    assert response.status_code == 200
    assert message in body_of(response)
    assert not StatusReport.objects.filter(item=item).exists()


def test_a_figure_alone_is_a_report(client, unit_a_user, item_a):
    data = report_data(progress_text="", progress_pct="", month_investment="", cumulative_investment="1.20")
    assert login(client, unit_a_user).post(f"/items/{item_a.pk}/report/", data).status_code == 302


# ---------------------------------------------------------------- month + previous cumulative = cumulative

def test_month_and_cumulative_must_add_up(client, unit_a_user, item_a):
    """The issue's case: 50 亿 for the month with a cumulative of 3.80 was saved without a word."""
    StatusReport.objects.create(item=item_a, month=month_back(2), status="in_progress",
                                cumulative_investment=Decimal("3.00"), filed_by=unit_a_user)
    url = f"/items/{item_a.pk}/report/"
    response = login(client, unit_a_user).post(url, report_data(month_investment="50", cumulative_investment="3.80"))
    assert response.status_code == 200
    assert (f"累计完成投资 3.80 亿元应等于上月（{month_back(2):%Y年%m月}）累计 3.00 亿元加本月完成投资 "
            f"50.00 亿元，即 53.00 亿元。") in body_of(response)
    assert not StatusReport.objects.filter(item=item_a, month=month_back(1)).exists()
    # Within 0.01 is accepted.
    assert client.post(url, report_data(month_investment="0.80", cumulative_investment="3.805")).status_code == 302


def test_month_cannot_exceed_cumulative_without_a_previous_month(client, unit_a_user, item_a):
    response = login(client, unit_a_user).post(
        f"/items/{item_a.pk}/report/", report_data(month_investment="50", cumulative_investment="3.80"))
    assert "累计完成投资 3.80 亿元不能小于本月完成投资 50.00 亿元。" in body_of(response)
    assert not StatusReport.objects.filter(item=item_a).exists()


def test_form_carries_last_months_cumulative_for_the_fill_buttons(client, unit_a_user, item_a):
    StatusReport.objects.create(item=item_a, month=month_back(2), status="in_progress",
                                cumulative_investment=Decimal("3.00"), filed_by=unit_a_user)
    html = body_of(login(client, unit_a_user).get(f"/items/{item_a.pk}/report/?month={ym(month_back(1))}"))
    data = re.search(r'<script id="filed-months" type="application/json">(.*?)</script>', html).group(1)
    assert f'"{ym(month_back(2))}": {{"version": 1, "cumulative": "3.0000"}}' in data


# ---------------------------------------------------------------- corrections

def test_file_report_opens_the_month_due_and_a_filed_month_prefilled(client, unit_a_user, item_a):
    due = month_asked(timezone.localdate())
    url = f"/items/{item_a.pk}/report/"
    html = body_of(login(client, unit_a_user).get(url))
    assert f'value="{ym(due)}"' in html and "正在修改" not in html
    assert client.post(url, report_data(due, progress_text="第一次填报")).status_code == 302

    # 填报 again: the month already filed opens, prefilled, at its version.
    html = body_of(client.get(url))
    assert f"正在修改 {due.year}年{due.month}月 的报告（当前第 1 版" in html
    assert "第一次填报" in html and re.search(r'name="version" value="1"', html)
    response = client.post(url, report_data(due, progress_text="更正后", version="1"), follow=True)
    html = body_of(response)
    assert "提交冲突" not in html and f"已保存 {due:%Y年%m月} 进度（第 2 版）" in html
    assert StatusReport.objects.get(item=item_a, month=due).version == 2

    # The detail page links each month to its correction; the form lists every version.
    assert f'href="{url}?month={ym(due)}"' in html
    html = body_of(client.get(f"{url}?month={ym(due)}"))
    versions = re.search(r'id="report-versions".*?</table>', html, re.S).group(0)
    assert "第 2 版" in versions and "第 1 版" in versions
    assert "第一次填报" in versions and "更正后" in versions and "unit_a_t" in versions


def test_filing_your_own_month_again_from_a_blank_form_is_no_conflict(client, unit_a_user, item_a):
    """The issue's false conflict: a month the user filed, filed again from a blank form."""
    url = f"/items/{item_a.pk}/report/"
    login(client, unit_a_user).post(url, report_data(progress_text="第一次"))
    html = body_of(client.post(url, report_data(progress_text="第二次", version="0")))
    assert "提交冲突" not in html
    assert "该月已有您填报的第 1 版报告" in html and "再次提交即保存为第 2 版" in html
    assert re.search(r'name="version" value="1"', html) and "第二次" in html
    assert client.post(url, report_data(progress_text="第二次", version="1")).status_code == 302
    report = StatusReport.objects.get(item=item_a, month=month_back(1))
    assert (report.version, report.progress_text, report.history.count()) == (2, "第二次", 2)


# ---------------------------------------------------------------- fresh after save

def test_met_milestone_is_no_longer_overdue_on_the_page_after_saving(
        client, unit_a_user, item_a, django_capture_on_commit_callbacks):
    from portfolio.evaluation import evaluate

    milestone = Milestone.objects.create(item=item_a, name="主体完工", due_date=REAL_AS_OF - datetime.timedelta(days=20))
    with django_capture_on_commit_callbacks(execute=True):
        evaluate(REAL_AS_OF, item_ids=[item_a.pk])
    assert Flag.objects.filter(item=item_a, kind="milestone_overdue", resolved_on__isnull=True).exists()
    login(client, unit_a_user)
    assert "节点逾期" in body_of(client.get(f"/items/{item_a.pk}/"))

    # The save's commit re-evaluates the entry before the next page is drawn (no worker involved).
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/milestones/{milestone.pk}/met/",
                               {"met_on": (REAL_AS_OF - datetime.timedelta(days=1)).isoformat()})
    html = body_of(client.get(response.url))
    assert "节点逾期" not in html
    assert not Flag.objects.filter(item=item_a, kind="milestone_overdue", resolved_on__isnull=True).exists()


# ---------------------------------------------------------------- milestones a unit keeps

def test_unit_user_adds_and_edits_milestones_outside_the_printed_period(client, unit_a_user, planner, item_a):
    login(client, unit_a_user)
    response = client.post(f"/items/{item_a.pk}/milestones/new/",
                           {"name": "竣工验收", "due_date": "2027-06-30", "met_on": ""}, follow=True)
    html = body_of(response)
    assert "节点计划日期 2027-06-30 不在印刷的建设期限 2021-2025 内，已按实际进度保存。" in html
    assert "节点“竣工验收”已新增。" in html
    milestone = Milestone.objects.get(item=item_a, name="竣工验收")
    assert milestone.due_date == datetime.date(2027, 6, 30)

    response = client.post(f"/items/{item_a.pk}/milestones/{milestone.pk}/",
                           {"name": "竣工验收", "due_date": "2027-09-30", "met_on": ""}, follow=True)
    assert "节点“竣工验收”已修改。" in body_of(response)
    milestone.refresh_from_db()
    assert milestone.due_date == datetime.date(2027, 9, 30)

    # The planner sees both changes, and who made them, in the entry's history.
    rows = [r for r in history_rows(body_of(login(client, planner).get(f"/items/{item_a.pk}/?tab=history")))
            if "竣工验收" in r]
    assert len(rows) == 2 and all("unit_a_t" in r for r in rows), rows
    assert any("2027-06-30 → 2027-09-30" in r for r in rows), rows


def test_milestone_dates_are_bounded(client, unit_a_user, item_a):
    response = login(client, unit_a_user).post(f"/items/{item_a.pk}/milestones/new/",
                                               {"name": "远期", "due_date": "2300-01-01", "met_on": ""})
    assert "计划日期应在 1949 至 2100 年之间。" in body_of(response)
    response = client.post(f"/items/{item_a.pk}/milestones/new/",
                           {"name": "未来完成", "due_date": "2026-01-01",
                            "met_on": (timezone.localdate() + datetime.timedelta(days=3)).isoformat()})
    assert "完成日期不能晚于今天。" in body_of(response)
    assert not Milestone.objects.filter(item=item_a).exists()


@pytest.mark.parametrize("who, status", [("unit_b_user", 404), ("leader", 403)])
def test_others_cannot_touch_a_units_milestones(request, client, item_a, who, status):
    milestone = Milestone.objects.create(item=item_a, name="节点", due_date=datetime.date(2026, 1, 1))
    login(client, request.getfixturevalue(who))
    assert client.post(f"/items/{item_a.pk}/milestones/new/",
                       {"name": "x", "due_date": "2026-01-01"}).status_code == status
    assert client.post(f"/items/{item_a.pk}/milestones/{milestone.pk}/",
                       {"name": "x", "due_date": "2026-01-01"}).status_code == status
    milestone.refresh_from_db()
    assert milestone.name == "节点" and Milestone.objects.filter(item=item_a).count() == 1


def test_milestone_of_another_entry_is_not_found_under_this_one(client, planner, item_a, real_plan):
    other = Item.objects.filter(plan=real_plan).exclude(pk=item_a.pk).first()
    milestone = Milestone.objects.create(item=other, name="别处的节点", due_date=datetime.date(2026, 1, 1))
    assert login(client, planner).get(f"/items/{item_a.pk}/milestones/{milestone.pk}/").status_code == 404
