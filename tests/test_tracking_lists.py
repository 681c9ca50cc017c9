"""Tracking all six lists: every list's entries owe monthly reports once under way, and a planner
sets the status of many entries at once from a list page, with an audit record.

Runs on the real 瓯江口 plan (conftest), evaluated as of 2026-11-23.
"""
import re

import pytest

from portfolio.models import Flag, ItemFigures
from projects.models import Item, ItemStatus, ItemUnit, ListKind, Unit

from .conftest import UNIT_B

pytestmark = pytest.mark.django_db

OTHER_LISTS = [kind for kind in ListKind if kind != ListKind.PROJECT]


def test_no_entry_of_the_other_five_lists_is_green_before_any_report(real_plan):
    """The 84 platforms, industries, reforms, policies and elements are standing tasks: imported as
    推进中, each owes its monthly report and, having never reported, is flagged 逾期未报."""
    others = Item.objects.filter(plan=real_plan, list_kind__in=OTHER_LISTS)
    assert others.count() == 84
    assert set(others.values_list("status", flat=True)) == {ItemStatus.IN_PROGRESS}
    lights = set(ItemFigures.objects.filter(item__in=others).values_list("light", flat=True))
    assert lights <= {"red", "yellow"}, lights
    flagged = set(Flag.objects.filter(item__in=others, kind="report_missing", resolved_on__isnull=True)
                  .values_list("item_id", flat=True))
    assert flagged == set(others.values_list("pk", flat=True))
    flag = Flag.objects.filter(item__in=others, kind="report_missing").select_related("item__figures").first()
    assert "（从未填报）" in flag.describe(real_plan_as_of())


def real_plan_as_of():
    from .conftest import REAL_AS_OF

    return REAL_AS_OF


def _reform_ids(plan, n=3):
    return list(Item.objects.filter(plan=plan, list_kind=ListKind.REFORM).order_by("seq")
                .values_list("pk", flat=True)[:n])


def test_planner_sets_the_status_of_selected_entries_with_an_audit_record(
        client, planner, real_plan, django_capture_on_commit_callbacks):
    client.force_login(planner)
    page = client.get("/lists/reform/")
    html = page.content.decode()
    assert 'id="bulk-status"' in html
    assert len(re.findall(r'<input[^>]*class="row-select"', html)) == 12  # one box per row
    chosen = _reform_ids(real_plan)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/lists/reform/status/", {
            "status": ItemStatus.COMPLETED, "select": chosen, "next": "/lists/reform/?status=in_progress&sort=seq"})
    assert response.status_code == 302 and response["Location"] == "/lists/reform/?status=in_progress&sort=seq"
    assert set(Item.objects.filter(pk__in=chosen).values_list("status", flat=True)) == {ItemStatus.COMPLETED}
    # untouched entries keep theirs
    assert Item.objects.filter(plan=real_plan, list_kind=ListKind.REFORM, status=ItemStatus.IN_PROGRESS).count() == 9
    for pk in chosen:
        record = Item.history.filter(id=pk).latest("history_date")
        assert (record.status, record.history_user, record.history_change_reason) == \
            (ItemStatus.COMPLETED, planner, "批量设置状态")
    # re-evaluated on commit: shown as done, the missing-report flags resolved
    assert set(ItemFigures.objects.filter(item_id__in=chosen).values_list("light", flat=True)) == {"done"}
    assert not Flag.objects.filter(item_id__in=chosen, resolved_on__isnull=True, kind="report_missing").exists()
    followed = client.get(response["Location"])
    assert "已将 3 项设为“已完成”" in followed.content.decode()


def test_the_audit_trail_shows_the_bulk_change_on_the_entry(client, planner, real_plan):
    client.force_login(planner)
    pk = _reform_ids(real_plan, 1)[0]
    client.post("/lists/reform/status/", {"status": ItemStatus.SUSPENDED, "select": [pk]})
    history = client.get(f"/items/{pk}/?tab=history").content.decode()
    assert "暂停" in history and planner.username in history


def test_bulk_status_refuses_entries_of_another_list_and_empty_selections(client, planner, real_plan):
    client.force_login(planner)
    project = Item.objects.get(plan=real_plan, list_kind=ListKind.PROJECT, seq=1)
    before = project.status
    response = client.post("/lists/reform/status/", {"status": ItemStatus.CANCELLED, "select": [project.pk]},
                           follow=True)
    assert "所选事项不存在或不属于本清单" in response.content.decode()
    assert Item.objects.get(pk=project.pk).status == before
    response = client.post("/lists/reform/status/", {"status": ItemStatus.CANCELLED}, follow=True)
    assert "请先勾选要设置状态的事项" in response.content.decode()
    response = client.post("/lists/reform/status/", {"status": "nonsense", "select": _reform_ids(real_plan, 1)},
                           follow=True)
    assert response.status_code == 200
    assert not Item.objects.filter(plan=real_plan, list_kind=ListKind.REFORM, status="nonsense").exists()


def test_bulk_status_redirects_only_to_its_own_list(client, planner, real_plan):
    client.force_login(planner)
    response = client.post("/lists/reform/status/", {"status": ItemStatus.COMPLETED,
                                                     "select": _reform_ids(real_plan, 1),
                                                     "next": "https://evil.example/lists/reform/"})
    assert response["Location"] == "/lists/reform/"


@pytest.mark.parametrize("who", ["leader", "unit_b_user"])
def test_leaders_and_unit_users_cannot_set_statuses_in_bulk(client, real_plan, who, request):
    user = request.getfixturevalue(who)
    client.force_login(user)
    html = client.get("/lists/reform/").content.decode()
    assert "row-select" not in html and 'id="bulk-status"' not in html
    chosen = _reform_ids(real_plan)
    response = client.post("/lists/reform/status/", {"status": ItemStatus.COMPLETED, "select": chosen})
    assert response.status_code == 403
    assert set(Item.objects.filter(pk__in=chosen).values_list("status", flat=True)) == {ItemStatus.IN_PROGRESS}


def test_bulk_status_is_post_only(client, planner, real_plan):
    client.force_login(planner)
    assert client.get("/lists/reform/status/").status_code == 405


def test_the_row_boxes_are_not_exported(client, planner, real_plan):
    client.force_login(planner)
    csv_text = client.get("/lists/reform/?_export=csv").getvalue().decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("序号,")


def test_entries_of_a_plan_not_yet_begun_owe_no_reports(real_plan):
    """A reform of a plan starting in 2031 is 推进中 from its import but owes its first report for
    January 2031, not for the months before its plan began (both forms of the rule agree)."""
    import datetime

    from portfolio.rules import findings, findings_in_python
    from projects.models import Plan

    plan = Plan.objects.create(code="t-16th", name="测试“十六五”清单", start_year=2031, end_year=2035)
    reform = Item.objects.create(plan=plan, list_kind=ListKind.REFORM, seq=1, name="未来改革",
                                 status=ItemStatus.IN_PROGRESS)
    ItemUnit.objects.create(item=reform, unit=Unit.objects.get(name=UNIT_B))
    items = Item.objects.filter(pk=reform.pk)
    for as_of, expected in ((datetime.date(2026, 11, 23), set()), (datetime.date(2031, 2, 5), set()),
                            (datetime.date(2031, 2, 6), {(reform.pk, "report_missing")})):
        sql, python = findings(as_of, items), findings_in_python(as_of, items)
        assert sql == python, as_of
        assert set(sql) == expected, as_of
    assert findings(datetime.date(2031, 2, 6), items)[(reform.pk, "report_missing")][1]["since"] == "2031-01"
