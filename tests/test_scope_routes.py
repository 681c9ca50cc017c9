"""Every route, asked by a zone planner for another zone's data and by a city leader for another
city's (issue 25): reads answer 404 (or leave the other's data out), writes are refused and
write nothing. A route added later without a case here fails the coverage test."""
import datetime
import io

import pytest
from django.urls import get_resolver

from projects.importer import new_record
from projects.models import PlanImport, Unit
from reporting.models import AnnualTarget, Milestone
from supervision.models import Order, Problem
from tests.conftest import UNIT_A, make_user
from tests.test_organisations import tree  # noqa: F401  (the fixture)

NAME = "临海测试项目"
NOT_THERE = (403, 404)


@pytest.fixture
def others(tree):  # noqa: F811
    orgs, plan, entry = tree
    unit = Unit.objects.get(name=UNIT_A)
    raiser = make_user("linhai_unit", "unit", [UNIT_A])
    problem = Problem.objects.create(item=entry, description="征地未完成", kind="land", level="zone",
                                     coordinating_unit=unit, raised_by=raiser, deadline=datetime.date(2027, 1, 31))
    issuer = make_user("linhai_leader", "leader", organisation=orgs["linhai-kfq"])
    order = Order.objects.create(item=entry, unit=unit, requirement="加快征地", deadline=datetime.date(2027, 1, 31),
                                 issued_by=issuer)
    milestone = Milestone.objects.create(item=entry, name="开工", due_date=datetime.date(2026, 12, 31))
    staged = new_record(PlanImport.Kind.LISTS, b"x", "lhkfq.csv", plan.code, issuer, organisation=orgs["linhai-kfq"])
    staged.save()
    return {"orgs": orgs, "plan": plan, "entry": entry, "problem": problem, "order": order,
            "milestone": milestone, "staged": staged}


def cases(o):
    """(route name, method, url, data, expectation): 'gone' = 403/404; 'absent' = the page or
    file answers without the other zone's entry."""
    e, p, plan = o["entry"].pk, o["problem"].pk, o["plan"].code
    m, order, token = o["milestone"].pk, o["order"].pk, o["staged"].token
    return [
        ("home", "get", "/", {"plan": plan}, "gone"),
        ("item_list", "get", "/lists/project/", {"plan": o["plan"].pk}, "absent"),
        ("item_bulk_status", "post", "/lists/project/status/", {"status": "completed", "select": [e]}, "absent"),
        ("item_detail", "get", f"/items/{e}/", {}, "gone"),
        ("report_form", "get", f"/items/{e}/report/", {}, "gone"),
        ("milestone_met", "post", f"/milestones/{m}/met/", {}, "gone"),
        ("milestone_new", "get", f"/items/{e}/milestones/new/", {}, "gone"),
        ("milestone_edit", "get", f"/items/{e}/milestones/{m}/", {}, "gone"),
        ("targets_upload", "post", "/targets/upload/", {"file": targets_file(plan)}, "absent"),
        ("targets_template", "get", "/targets/template/", {"plan": plan}, "gone"),
        ("plan_template", "get", "/plans/template/", {}, "absent"),
        ("report_batch", "get", "/reports/batch/", {}, "absent"),
        ("report_template", "get", "/reports/template/", {}, "absent"),
        ("reporting_status", "get", "/reports/status/", {"plan": plan}, "gone"),
        ("reporting_remind", "post", "/reports/status/remind/", {}, "absent"),
        ("my_items", "get", "/my/", {}, "absent"),
        ("flag_list", "get", "/flags/", {"plan": plan}, "absent"),
        ("trends_backfill", "post", "/trends/backfill/", {"plan": plan}, "refused"),
        ("unit_ranking", "get", "/ranking/", {"plan": plan}, "gone"),
        ("zone_comparison", "get", "/zones/", {"org": o["plan"].organisation.code}, "gone"),
        ("rollup_download", "get", "/rollup/", {"plan": plan}, "gone"),
        ("bulletin_download", "get", "/bulletin/", {"plan": plan}, "gone"),
        ("indicator_list", "get", "/indicators/", {"plan": plan}, "gone"),
        ("indicator_midterm", "get", "/indicators/midterm/", {"plan": plan}, "gone"),
        ("indicator_values", "get", "/indicators/values/", {"plan": plan, "year": 2026}, "gone"),
        ("indicator_values_template", "get", "/indicators/values/template/", {"plan": plan, "year": 2026}, "gone"),
        ("indicator_values_upload", "post", f"/indicators/values/upload/?plan={plan}&year=2026", {}, "gone"),
        ("plan_list", "get", "/plans/", {}, "absent"),
        ("plan_import", "get", "/plans/import/", {"plan": plan}, "absent"),
        ("plan_import_preview", "get", f"/plans/import/{token}/", {}, "gone"),
        ("plan_import_confirm", "post", f"/plans/import/{token}/confirm/", {}, "gone"),
        ("plan_import_cancel", "post", f"/plans/import/{token}/cancel/", {}, "gone"),
        ("plan_review", "get", f"/plans/{plan}/review/", {"format": "csv"}, "gone"),
        ("plan_close", "post", f"/plans/{plan}/close/", {"as_of": "2026-11-30"}, "gone"),
        ("plan_reopen", "post", f"/plans/{plan}/reopen/", {"reason": "x"}, "gone"),
        ("item_link", "post", f"/items/{e}/predecessor/", {"predecessor": ""}, "gone"),
        ("problem_list", "get", "/problems/", {}, "absent"),
        ("problem_detail", "get", f"/problems/{p}/", {}, "gone"),
        ("problem_file", "get", f"/problems/{p}/file/", {}, "gone"),
        ("problem_action", "post", f"/problems/{p}/accept/", {}, "gone"),
        ("problem_new", "get", f"/items/{e}/problems/new/", {}, "gone"),
        ("order_list", "get", "/orders/", {}, "absent"),
        ("order_new", "get", "/orders/new/", {"item": e}, "gone"),
        ("order_detail", "get", f"/orders/{order}/", {}, "gone"),
        ("order_action", "post", f"/orders/{order}/close/", {}, "gone"),
    ]


OPEN_ROUTES = {"login", "logout", "health"}  # no tracker data


def targets_file(plan_code):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["规划代码", "清单", "序号", "年度", "计划投资（亿元）", "年度目标"])
    book.active.append([plan_code, "重大项目", 1, 2027, 3, "开工"])
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    out.name = "targets.xlsx"
    return out


def body_of(response):
    if getattr(response, "streaming", False):
        data = b"".join(response.streaming_content)
    else:
        data = response.content
    if data[:2] == b"PK":  # an XLSX: its shared strings
        import zipfile

        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return "".join(z.read(n).decode("utf-8", "ignore") for n in z.namelist() if n.endswith(".xml"))
    return data.decode("utf-8", "ignore")


def test_every_route_has_a_case(others):
    names = {p.name for p in get_resolver().url_patterns if getattr(p, "name", None)}
    covered = {c[0] for c in cases(others)} | OPEN_ROUTES
    assert names - covered == set(), "routes without a scope case"


@pytest.mark.parametrize("who", ["zone planner", "city leader"])
def test_another_subtree_is_out_of_reach(others, client, who, real_plan):
    orgs = others["orgs"]
    if who == "zone planner":
        user = make_user("zone_planner", "planner", organisation=orgs["ojk"])
    else:
        # a city leader of 温州市 against 台州市's zone
        user = make_user("wenzhou_leader", "leader", organisation=orgs["wenzhou"])
    client.force_login(user)
    entry, milestone = others["entry"], others["milestone"]
    failures = []
    for name, method, url, data, expect in cases(others):
        if hasattr(data.get("file"), "seek"):
            data["file"].seek(0)
        response = getattr(client, method)(url, data)
        body = body_of(response) if response.status_code != 302 else ""
        if expect == "gone" and response.status_code not in NOT_THERE:
            failures.append(f"{name}: {response.status_code}")
        elif expect in ("absent", "refused") and (response.status_code >= 500 or NAME in body):
            failures.append(f"{name}: {response.status_code}, shows the other zone's entry")
    assert failures == []
    entry.refresh_from_db()
    milestone.refresh_from_db()
    others["plan"].refresh_from_db()
    assert entry.status != "completed" and milestone.met_on is None and others["plan"].state == "active"
    assert not AnnualTarget.objects.filter(item=entry).exists()
    assert Order.objects.get(pk=others["order"].pk).state == "issued"
    assert Problem.objects.get(pk=others["problem"].pk).state == "pending"
    assert PlanImport.objects.get(pk=others["staged"].pk).state == PlanImport.State.STAGED


def test_the_province_leader_reaches_both(others, client, real_plan):
    client.force_login(make_user("province_leader", "leader", organisation=others["orgs"]["zj"]))
    assert client.get(f"/items/{others['entry'].pk}/").status_code == 200
    assert client.get(f"/items/{real_plan.items.first().pk}/").status_code == 200
    assert client.get(f"/problems/{others['problem'].pk}/").status_code == 200
    assert client.get(f"/orders/{others['order'].pk}/").status_code == 200
    assert client.get("/reports/status/", {"plan": others["plan"].code}).status_code == 200
