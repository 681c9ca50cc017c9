"""A closed plan (已收官) is frozen: no report, milestone, annual target or status change reaches
its entries by any path, each path says why in Chinese, and its figures stay as of closing."""
import datetime
import io
from decimal import Decimal

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from openpyxl import Workbook, load_workbook

from portfolio.lifecycle import close_plan
from portfolio.summary import compute_dashboard
from projects.models import Item, ItemStatus, ListKind
from reporting.models import AnnualTarget, Milestone, StatusReport
from reporting.report_workbook import HEADERS, INDEX, row_key
from projects.lifecycle import frozen_reason

from .clock import freeze
from .test_access_and_reports import body_of, body_of_bytes, item_a, login, xlsx_upload  # noqa: F401
from .test_reports_batch import as_upload

CLOSED_ON = datetime.date(2025, 12, 31)
REFUSAL = "已于 2025-12-31 收官，不能再"


@pytest.fixture
def closed(real_plan, monkeypatch):
    """The real 十四五 plan closed at 2025-12-31; today 2026-12-05."""
    freeze(monkeypatch, datetime.date(2026, 12, 5))
    close_plan(real_plan, CLOSED_ON)
    real_plan.refresh_from_db()
    return real_plan


def report_post(month="2026-10", **extra):
    return {"month": month, "status": "in_progress", "version": "0", "progress_text": "收官后补报",
            "cumulative_investment": "5.00", **extra}


def test_frozen_reason_names_the_plan_and_its_closing_day(closed):
    assert frozen_reason(closed) == f"规划“{closed.name}”已于 2025-12-31 收官，不能再填报进度。"


def test_report_form_refuses_a_closed_plans_entry(client, unit_a_user, item_a, closed):
    client = login(client, unit_a_user)
    assert REFUSAL in body_of(client.get(f"/items/{item_a.pk}/report/"))  # said before typing
    response = client.post(f"/items/{item_a.pk}/report/", report_post())
    assert response.status_code == 200 and f"规划“{closed.name}”{REFUSAL}填报进度" in body_of(response)
    assert not StatusReport.objects.filter(item=item_a).exists()


def test_milestone_forms_refuse_a_closed_plans_entry(client, unit_a_user, item_a, closed):
    milestone = Milestone.objects.create(item=item_a, name="开工", due_date=datetime.date(2025, 6, 30))
    client = login(client, unit_a_user)
    response = client.post(f"/items/{item_a.pk}/milestones/new/", {"name": "竣工", "due_date": "2026-06-30"})
    assert REFUSAL + "修改节点" in body_of(response)
    response = client.post(f"/items/{item_a.pk}/milestones/{milestone.pk}/", {"name": "开工", "due_date": "2026-06-30"})
    assert REFUSAL + "修改节点" in body_of(response)
    response = client.post(f"/milestones/{milestone.pk}/met/", {"met_on": "2026-11-30"}, follow=True)
    assert REFUSAL + "修改节点" in body_of(response)
    milestone.refresh_from_db()
    assert (milestone.due_date, milestone.met_on) == (datetime.date(2025, 6, 30), None)
    assert item_a.milestones.count() == 1


def closed_plan_workbook(item, month=datetime.date(2026, 11, 1)):
    book = Workbook()
    sheet = book.active
    sheet.append(["进度填报"])
    sheet.append(HEADERS)
    row = [""] * len(HEADERS)
    row[0], row[INDEX["status"]], row[INDEX["progress_text"]] = row_key(item.pk, month, 0), "推进中", "收官后补报"
    sheet.append(row)
    return book


def test_batch_upload_refuses_a_closed_plans_rows(client, planner, item_a, closed):
    response = client.post("/reports/batch/", {"file": as_upload(closed_plan_workbook(item_a))}, follow=True)
    assert response.status_code == 200  # not logged in yet: redirected to the login page
    response = login(client, planner).post("/reports/batch/", {"file": as_upload(closed_plan_workbook(item_a))},
                                           follow=True)
    assert REFUSAL + "填报进度" in body_of(response)
    assert not StatusReport.objects.filter(item=item_a).exists()


def test_import_reports_command_refuses_a_closed_plans_rows(tmp_path, item_a, closed):
    path = tmp_path / "进度.xlsx"
    closed_plan_workbook(item_a).save(path)
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_reports", str(path), stderr=err, stdout=io.StringIO())
    assert REFUSAL + "填报进度" in err.getvalue()
    assert not StatusReport.objects.filter(item=item_a).exists()


def test_targets_upload_refuses_a_closed_plans_entries(client, planner, item_a, closed):
    upload = xlsx_upload([(closed.code, "重大项目", 1, 2025, 3, "收官后改")])
    response = login(client, planner).post("/targets/upload/", {"file": upload})
    assert REFUSAL + "修改年度推进计划" in body_of(response)
    assert not AnnualTarget.objects.filter(item=item_a).exists()


def test_bulk_status_refuses_a_closed_plans_entries(client, planner, closed):
    entry = Item.objects.filter(plan=closed, list_kind=ListKind.REFORM).first()
    before = entry.status
    new = ItemStatus.COMPLETED if before != ItemStatus.COMPLETED else ItemStatus.CANCELLED
    response = login(client, planner).post("/lists/reform/status/", {"status": new, "select": [entry.pk]}, follow=True)
    assert REFUSAL + "修改状态" in body_of(response)
    entry.refresh_from_db()
    assert entry.status == before


def admin_form(model, planner, instance=None, data=None):
    request = RequestFactory().get("/admin/")
    request.user = planner
    form_class = admin.site._registry[model].get_form(request, instance)
    return form_class(data, instance=instance)


def test_admin_refuses_reports_milestones_targets_and_status_of_a_closed_plan(planner, item_a, closed):
    planner.is_superuser = True
    planner.save()
    report = admin_form(StatusReport, planner, data={"item": item_a.pk, "month": "2026-10-01", "status": "in_progress",
                                                     "progress_text": "x", "version": 1})
    assert not report.is_valid() and REFUSAL + "填报进度" in str(report.errors)
    milestone = admin_form(Milestone, planner, data={"item": item_a.pk, "name": "竣工", "due_date": "2026-06-30"})
    assert not milestone.is_valid() and REFUSAL + "修改节点" in str(milestone.errors)
    target = admin_form(AnnualTarget, planner, data={"item": item_a.pk, "year": 2025, "planned_investment": "1"})
    assert not target.is_valid() and REFUSAL + "修改年度推进计划" in str(target.errors)
    item_a.status = ItemStatus.COMPLETED if item_a.status != ItemStatus.COMPLETED else ItemStatus.PAUSED
    with pytest.raises(ValidationError) as refused:
        item_a.full_clean()
    assert REFUSAL + "修改状态" in str(refused.value)
    # an unchanged entry (e.g. an admin page showing it) is not refused, nor a plan reopened
    item_a.refresh_from_db()
    item_a.full_clean()


def test_month_template_leaves_out_a_closed_plans_entries(client, unit_a_user, closed):
    book = load_workbook(io.BytesIO(body_of_bytes(login(client, unit_a_user).get("/reports/template/"))))
    assert [row for row in book.active.iter_rows(min_row=3) if row[0].value] == []


def test_a_closed_plans_dashboard_keeps_its_closing_cumulative(client, unit_a_user, leader, item_a, closed,
                                                               django_capture_on_commit_callbacks):
    before = compute_dashboard(leader, CLOSED_ON, closed, stored_as_of=CLOSED_ON)["totals"]
    with django_capture_on_commit_callbacks(execute=True):  # the evaluation a saved report triggers
        login(client, unit_a_user).post(f"/items/{item_a.pk}/report/", report_post())
    html = body_of(login(client, leader).get("/", {"plan": closed.code}))
    after = compute_dashboard(leader, CLOSED_ON, closed, stored_as_of=CLOSED_ON)["totals"]
    assert after["completed"] == before["completed"]
    assert "2025年12月31日" in html
    assert not StatusReport.objects.filter(item=item_a, month__gt=CLOSED_ON).exists()


def test_admin_does_not_delete_a_closed_plans_records(planner, item_a, closed):
    from django.core.exceptions import PermissionDenied

    request = RequestFactory().get("/admin/")
    request.user = planner
    planner.is_superuser = True
    planner.save()
    # rows made before closing (written directly: every path now refuses them)
    report = StatusReport.objects.create(item=item_a, month=datetime.date(2025, 11, 1), status="in_progress",
                                         progress_text="收官前")
    milestone = Milestone.objects.create(item=item_a, name="开工", due_date=datetime.date(2025, 6, 30))
    for model, row in ((StatusReport, report), (Milestone, milestone)):
        model_admin = admin.site._registry[model]
        assert not model_admin.has_delete_permission(request, row)
        with pytest.raises(PermissionDenied, match="收官"):
            model_admin.delete_queryset(request, model.objects.filter(pk=row.pk))
    item_admin = admin.site._registry[Item]
    inlines = item_admin.get_inline_instances(request, item_a)
    assert all(not inline.has_delete_permission(request, item_a) for inline in inlines
               if inline.model in (StatusReport, Milestone, AnnualTarget))
    assert StatusReport.objects.filter(pk=report.pk).exists() and Milestone.objects.filter(pk=milestone.pk).exists()
