"""Organisations own plans; planners and leaders act on their organisation's subtree (issue 25)."""
import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db.models import ProtectedError

from projects.models import Item, ItemUnit, ListKind, Organisation, Plan, Unit
from supervision.models import Problem
from tests.conftest import ROOT, UNIT_A, make_user

TREE = ROOT / "fixtures" / "organisations.csv"


@pytest.fixture
def tree(real_plan):
    """The seed tree, with the real plan moved to 瓯江口 and a 临海经济开发区 plan of another
    period beside it (one entry, led by a unit of the real plan too)."""
    call_command("load_organisations", str(TREE), stdout=io.StringIO())
    orgs = {o.code: o for o in Organisation.objects.all()}
    real_plan.organisation = orgs["ojk"]
    real_plan.save()
    other = Plan.objects.create(code="lhkfq-15", name="临海经济开发区“十五五”规划", start_year=2026, end_year=2030,
                                organisation=orgs["linhai-kfq"])
    entry = Item.objects.create(plan=other, list_kind=ListKind.PROJECT, seq=1, name="临海测试项目",
                                total_investment=Decimal("12.50"))
    ItemUnit.objects.create(item=entry, unit=Unit.objects.get(name=UNIT_A), role=ItemUnit.Role.LEAD)
    return orgs, other, entry


def test_tree_from_the_seed_file(tree):
    orgs, _, _ = tree
    assert [o.name for o in Organisation.objects.ancestors(orgs["linhai-kfq"], include_self=True)] == [
        "浙江省", "台州市", "临海市", "临海经济开发区"]
    assert orgs["tzw-kc"].parent == orgs["taizhou"]
    assert orgs["ojk"].parent.parent == orgs["zj"]


def test_an_organisation_cannot_go_under_its_own_descendant(tree):
    orgs, _, _ = tree
    taizhou = orgs["taizhou"]
    taizhou.parent = orgs["linhai-kfq"]
    with pytest.raises(ValidationError) as caught:
        taizhou.full_clean()
    assert "下级组织" in str(caught.value)


def test_an_organisation_owning_plans_is_not_deleted(tree):
    orgs, other, _ = tree
    with pytest.raises(ProtectedError):
        orgs["linhai-kfq"].delete()
    with pytest.raises(ProtectedError):  # nor one with organisations below it
        orgs["wenzhou"].delete()
    assert Plan.objects.filter(pk=other.pk).exists()


def test_scope_follows_the_tree(tree, real_plan):
    orgs, other, entry = tree
    zone = make_user("zone_planner", "planner", organisation=orgs["ojk"])
    city = make_user("city_leader", "leader", organisation=orgs["taizhou"])
    province = make_user("province_leader", "leader", organisation=orgs["zj"])
    assert set(Plan.objects.visible_to(zone)) == {real_plan}
    assert set(Plan.objects.visible_to(city)) == {other}
    assert {real_plan, other} <= set(Plan.objects.visible_to(province))
    assert not Item.objects.visible_to(zone).filter(pk=entry.pk).exists()
    assert Item.objects.visible_to(city).filter(pk=entry.pk).exists()
    assert Item.objects.visible_to(province).count() == real_plan.items.count() + 1
    assert not Item.objects.editable_by(city).exists()  # leaders read
    assert zone.has_perm("tracker.manage_plan", real_plan)
    assert not zone.has_perm("tracker.manage_plan", other)
    # a unit reports to plans of several organisations and sees its own entries in each
    unit_user = make_user("unit_both", "unit", [UNIT_A])
    assert Item.objects.visible_to(unit_user).filter(pk=entry.pk).exists()


def test_plans_in_force_are_per_organisation(tree, real_plan):
    orgs, other, _ = tree
    real_plan.state, real_plan.closed_on = "closed", datetime.date(2025, 12, 31)
    real_plan.save()
    # 瓯江口 has no plan 执行中: its last closed plan stays in force beside 临海's active one
    assert set(Plan.objects.in_force()) == {real_plan, other}


def test_a_zone_planner_cannot_reach_another_zone(tree, client):
    orgs, other, entry = tree
    client.force_login(make_user("zone_planner", "planner", organisation=orgs["ojk"]))
    assert client.get(f"/items/{entry.pk}/").status_code == 404
    assert client.get(f"/plans/{other.code}/review/").status_code == 404
    assert client.get(f"/plans/{other.code}/review/?format=xlsx").status_code == 404
    listed = client.get("/lists/project/", {"plan": other.pk}).content.decode()
    assert "临海测试项目" not in listed and "临海经济开发区“十五五”规划" not in listed
    assert client.get("/", {"plan": other.code}).status_code == 404
    response = client.post(f"/plans/{other.code}/close/", {"as_of": "2026-11-30"})
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.state == "active"
    page = client.get("/plans/").content.decode()
    assert "临海经济开发区“十五五”规划" not in page
    response = client.post("/lists/project/status/", {"status": "completed", "select": [entry.pk]})
    entry.refresh_from_db()
    assert entry.status != "completed"


def test_a_city_leader_sees_its_zones_only(tree, client, real_plan):
    orgs, other, entry = tree
    client.force_login(make_user("city_leader", "leader", organisation=orgs["taizhou"]))
    assert client.get(f"/items/{entry.pk}/").status_code == 200
    first_real = real_plan.items.order_by("pk").first()
    assert client.get(f"/items/{first_real.pk}/").status_code == 404
    page = client.get("/plans/").content.decode()
    assert "临海经济开发区“十五五”规划" in page and real_plan.name not in page


def test_problems_outside_the_scope_are_not_listed(tree, client, real_plan):
    orgs, other, entry = tree
    reporter = make_user("unit_both", "unit", [UNIT_A])
    problem = Problem.objects.create(item=entry, description="用地指标未落实", kind="land", level="zone",
                                     coordinating_unit=Unit.objects.get(name=UNIT_A), raised_by=reporter,
                                     deadline=datetime.date(2026, 12, 31))
    zone = make_user("zone_planner", "planner", organisation=orgs["ojk"])
    city = make_user("city_planner", "planner", organisation=orgs["taizhou"])
    assert not Problem.objects.visible_to(zone).filter(pk=problem.pk).exists()
    assert Problem.objects.visible_to(city).filter(pk=problem.pk).exists()
    client.force_login(zone)
    assert client.get(f"/problems/{problem.pk}/").status_code == 404


def test_an_account_without_organisation_is_told_why(real_plan, client):
    from django.contrib.auth.models import User

    from projects.management.commands.create_demo_users import ensure_role_groups

    user = User.objects.create_user("lost_leader", password="pw-lost")
    user.groups.set([ensure_role_groups()["leader"]])
    client.force_login(user)
    for url in ("/", "/lists/project/", "/plans/"):
        response = client.get(url)
        assert response.status_code == 403
        assert "尚未归属任何组织" in response.content.decode()


def test_import_takes_an_organisation(tree, tmp_path):
    orgs, _, _ = tree
    seed = ROOT / "fixtures" / "plans" / "000_linhai_kfq_14th.txt"
    call_command("import_indicators", str(seed), "--plan", "lhkfq-14", "--org", "linhai-kfq",
                 stdout=io.StringIO())
    assert Plan.objects.get(code="lhkfq-14").organisation == orgs["linhai-kfq"]
    with pytest.raises(CommandError, match="组织代码“nowhere”不存在"):
        call_command("import_indicators", str(seed), "--plan", "lhkfq-14", "--org", "nowhere")


def test_a_tree_file_with_a_loop_or_a_bad_level_is_refused_whole(real_plan, tmp_path):
    loop = tmp_path / "loop.csv"
    loop.write_text("代码,名称,层级,上级代码\na,甲市,市,b\nb,乙县,县（市、区）,a\n", encoding="utf-8")
    bad_level = tmp_path / "level.csv"
    bad_level.write_text("代码,名称,层级,上级代码\nc,丙区,园区,\n", encoding="utf-8")
    for path, reason in ((loop, "下级组织"), (bad_level, "“层级”：“园区”应为")):
        err = io.StringIO()
        with pytest.raises(CommandError):
            call_command("load_organisations", str(path), stderr=err)
        assert reason in err.getvalue()
    assert not Organisation.objects.filter(code__in=["a", "b", "c"]).exists()


def test_the_admin_stays_within_the_scope(tree, client, real_plan):
    orgs, other, entry = tree
    zone = make_user("zone_admin", "planner", organisation=orgs["ojk"])
    client.force_login(zone)
    plans = client.get("/admin/projects/plan/").content.decode()
    assert real_plan.code in plans and other.code not in plans
    assert client.get(f"/admin/projects/item/{entry.pk}/change/").status_code == 302  # "does not exist"
    assert client.get(f"/admin/projects/organisation/{orgs['linhai-kfq'].pk}/change/").status_code == 302
    own = client.get(f"/admin/projects/organisation/{orgs['ojk'].pk}/change/")
    assert own.status_code == 200
    # the unit led by entries of both zones is not the zone planner's to rename or merge
    assert client.get(f"/admin/projects/unit/{Unit.objects.get(name=UNIT_A).pk}/change/").status_code == 302
    users = client.get("/admin/auth/user/").content.decode()
    assert "zone_admin" in users
    make_user("linhai_planner", "planner", organisation=orgs["linhai-kfq"])
    assert "linhai_planner" not in client.get("/admin/auth/user/").content.decode()


def test_deleting_an_organisation_that_owns_plans_says_why(tree, client):
    orgs, other, _ = tree
    client.force_login(make_user("province_admin", "planner", organisation=orgs["zj"]))
    page = client.post(f"/admin/projects/organisation/{orgs['linhai-kfq'].pk}/delete/", {"post": "yes"})
    text = page.content.decode()
    assert Organisation.objects.filter(pk=orgs["linhai-kfq"].pk).exists()
    assert other.name in text  # the protected plan is named
    moved = client.post(f"/admin/projects/organisation/{orgs['taizhou'].pk}/change/",
                        {"name": "台州市", "code": "taizhou", "level": "city", "parent": orgs["linhai-kfq"].pk})
    assert "不能把组织移到它自己或它的下级组织之下" in moved.content.decode()


def test_zones_compared_add_up_to_each_plans_dashboard(tree, client, real_plan):
    from portfolio.comparison import comparison, sheet_rows
    from portfolio.summary import compute_dashboard, compute_overview
    from tests.conftest import REAL_AS_OF

    orgs, other, entry = tree
    province = make_user("province_leader", "leader", organisation=orgs["zj"])
    top = comparison(province, orgs["zj"], REAL_AS_OF)
    scores = [r["score"] for r in top["rows"]]
    assert scores == sorted(scores, reverse=True)
    wenzhou = next(r for r in top["rows"] if r["org"] == orgs["wenzhou"])
    taizhou = next(r for r in top["rows"] if r["org"] == orgs["taizhou"])
    for row, plan in ((wenzhou, real_plan), (taizhou, other)):
        board = compute_dashboard(province, REAL_AS_OF, plan)
        general = compute_overview(province, REAL_AS_OF, plan)
        assert row["entries"] == sum(x["n"] for x in board["per_list"])
        assert row["total"] == (board["totals"]["total"] or 0)
        assert row["plan"] == (board["totals"]["plan"] or 0)
        for light in ("red", "yellow", "green"):
            assert row[light] == sum(x["lights"][light] for x in board["per_list"])
        assert (row["due"], row["owing"]) == (board["reporting"]["due"], board["reporting"]["owing"])
        assert row["year_completed"] == general["completed"]
        assert row["year_planned"] == (general["planned"] or 0)
    assert top["total"]["entries"] == wenzhou["entries"] + taizhou["entries"]
    # drill down: 温州市 › 瓯江口产业集聚区, whose row links to its own dashboard
    down = comparison(province, orgs["wenzhou"], REAL_AS_OF)
    assert [r["name"] for r in down["rows"]] == ["瓯江口产业集聚区"]
    assert down["rows"][0]["dashboard_plan"] == real_plan.code
    # the sheet: each 小计 is the sum of its block's rows; the 合计 the whole
    rows, _ = sheet_rows(province, orgs["zj"], REAL_AS_OF)
    names = [r[1] for r in rows]
    assert names[-1] == "合计（浙江省）" and "台州市 小计" in names and "温州市 小计" in names
    tz = names.index("台州市 小计")
    assert rows[tz][3]["entries"] == taizhou["entries"]
    assert sum(r[3]["entries"] for r in rows if r[4] == "row") == rows[-1][3]["entries"]
    # the page and its export, as the province leader; a zone planner cannot ask for 台州市
    client.force_login(province)
    page = client.get("/zones/").content.decode()
    assert "台州市" in page and "温州市" in page and "得分 = 60" in page
    assert client.get("/zones/", {"org": "wenzhou"}).status_code == 200
    xlsx = client.get("/zones/", {"org": "zj", "format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    client.force_login(make_user("zone_planner", "planner", organisation=orgs["ojk"]))
    assert client.get("/zones/", {"org": "taizhou"}).status_code == 404


def test_ties_share_a_place():
    from portfolio.comparison import rank

    rows = rank([{"name": n, "score": s} for n, s in (("甲", 80), ("乙", 70), ("丙", 70), ("丁", 60))])
    assert [r["rank"] for r in rows] == [1, 2, 2, 4]


def test_lists_name_and_filter_the_organisation(tree, client, real_plan):
    orgs, other, entry = tree
    client.force_login(make_user("province_leader", "leader", organisation=orgs["zj"]))
    page = client.get("/lists/project/").content.decode()
    assert ">组织<" in page and "临海经济开发区" in page
    chosen = client.get("/lists/project/", {"organisation": orgs["taizhou"].pk}).content.decode()
    assert "临海测试项目" in chosen and real_plan.items.filter(list_kind="project").first().name not in chosen
    export = client.get("/lists/project/", {"organisation": orgs["linhai"].pk, "_export": "csv"})
    text = b"".join(export.streaming_content).decode("utf-8-sig") if export.streaming else export.content.decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].split(",")[1] == "组织" and len(lines) == 2 and "临海经济开发区" in lines[1]
    # one organisation's planner: no organisation column, no filter
    client.force_login(make_user("zone_planner", "planner", organisation=orgs["ojk"]))
    assert ">组织<" not in client.get("/lists/project/").content.decode()


def test_a_bulletin_for_an_organisation(tree, client, tmp_path, real_plan):
    from docx import Document

    orgs, other, entry = tree
    out = tmp_path / "wenzhou.docx"
    call_command("export_bulletin", "--org", "wenzhou", "--month", "2026-10", "--output", str(out),
                 stdout=io.StringIO())
    text = "\n".join(p.text for p in Document(str(out)).paragraphs)
    assert "温州市推进情况通报" in text
    tables = "\n".join(c.text for t in Document(str(out)).tables for r in t.rows for c in r.cells)
    assert "临海测试项目" not in tables  # 台州市's entry is not 温州市's
    client.force_login(make_user("city_leader", "leader", organisation=orgs["taizhou"]))
    assert client.get("/bulletin/", {"org": "wenzhou"}).status_code == 404
    own = client.get("/bulletin/", {"org": "taizhou"})
    assert own.status_code == 200 and "taizhou_" in own["Content-Disposition"]


def test_an_organisation_without_entries_is_not_ranked():
    from portfolio.comparison import rank

    rows = rank([{"name": "甲", "score": 0, "entries": 0}, {"name": "乙", "score": -13, "entries": 280}])
    assert [(r["name"], r["rank"]) for r in rows] == [("乙", 1), ("甲", None)]
