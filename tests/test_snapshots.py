"""Stored dashboard figures: reused while the data version stands, never across scopes, and
replaced as soon as a change commits (saved rows, imports, synthetic data, evaluations)."""
import datetime
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from portfolio.models import Snapshot
from portfolio.snapshots import compute_dashboard, dashboard_figures
from projects.models import Item, ListKind, StatusReport
from projects.synthetic import generate
from projects.versioning import current_version

from .conftest import UNIT_A, make_user

pytestmark = pytest.mark.django_db(transaction=True)
AS_OF = datetime.date(2026, 11, 23)
URL = f"/?as_of={AS_OF}"


@pytest.fixture(autouse=True)
def figures_not_pages(settings):
    """These tests look at the stored figures, below the rendered-page cache (tested on its own)."""
    settings.TRACKER_DASHBOARD_PAGE_SECONDS = 0


def dashboard(client):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(URL)
    assert response.status_code == 200
    return response.context["s"], [q["sql"] for q in ctx.captured_queries]


def reads_items(sql):
    return any('"projects_item"' in q for q in sql)


def test_leader_dashboard_is_stored_reused_and_replaced_when_an_entry_changes(client, real_plan):
    client.force_login(make_user("leader_s", "leader"))
    first, sql = dashboard(client)
    assert reads_items(sql)
    assert Snapshot.objects.filter(key=f"dashboard|all|{real_plan.pk}|{AS_OF}", version=current_version()).exists()

    again, sql = dashboard(client)
    assert again == first
    assert not reads_items(sql), "a stored dashboard is read back, not recomputed"
    assert len(sql) <= 6, "\n".join(sql)

    item = Item.objects.get(plan=real_plan, list_kind=ListKind.PROJECT, seq=12)
    item.total_investment += Decimal("10")
    item.save()
    after, sql = dashboard(client)
    assert reads_items(sql)
    assert after["totals"]["total"] == first["totals"]["total"] + Decimal("10")

    StatusReport.objects.create(item=item, month=datetime.date(2026, 10, 1), status="in_progress",
                                cumulative_investment=Decimal("7.25"), month_investment=Decimal("7.25"))
    filed, _ = dashboard(client)
    assert (filed["totals"]["completed"] or 0) == (after["totals"]["completed"] or 0) + Decimal("7.25")


def test_stored_figures_equal_the_live_computation(client, real_plan):
    leader = make_user("leader_s", "leader")
    client.force_login(leader)
    dashboard(client)
    stored, _ = dashboard(client)
    with transaction.atomic():  # inside a transaction nothing stored is used
        live = dashboard_figures(leader, AS_OF)["s"]
        assert Decimal(compute_dashboard(leader, AS_OF)["s"]["totals"]["total"]) == live["totals"]["total"]
    assert stored == live
    assert isinstance(stored["totals"]["total"], Decimal) and stored["totals"]["total"] == Decimal("2370.36")


def test_units_never_read_each_others_or_the_leaders_figures(client, real_plan):
    leader = make_user("leader_s", "leader")
    unit_user = make_user("unit_s", "unit", [UNIT_A])
    colleague = make_user("unit_s2", "unit", [UNIT_A])
    client.force_login(leader)
    everything, _ = dashboard(client)
    client.force_login(unit_user)
    mine, _ = dashboard(client)
    own_projects = Item.objects.filter(plan=real_plan, list_kind=ListKind.PROJECT, unit_links__unit__name=UNIT_A)
    assert mine["totals"]["count"] == own_projects.distinct().count() < everything["totals"]["count"]
    client.force_login(colleague)
    shared, sql = dashboard(client)
    assert shared == mine and not reads_items(sql), "same units, same stored figures"
    assert Snapshot.objects.count() == 2
    client.force_login(leader)
    assert dashboard(client)[0] == everything


def test_evaluation_and_bulk_writers_move_the_version_and_the_nightly_run_stores_the_dashboard(client, real_plan):
    version = current_version()
    call_command("evaluate_flags", as_of=str(AS_OF), no_notify=True, stdout=open("/dev/null", "w"))
    assert current_version() > version
    stored = Snapshot.objects.get(key=f"dashboard|all|{real_plan.pk}|{AS_OF}")
    assert stored.version == current_version()

    client.force_login(make_user("leader_s", "leader"))
    evaluated, sql = dashboard(client)
    assert not reads_items(sql), "the first look after the nightly evaluation is read from storage"
    assert sum(evaluated["lights"].values()) == evaluated["totals"]["count"] == 196

    version = current_version()
    generate(plans=1, seed=7)  # COPY: no signals, so the generator raises the version itself
    assert current_version() > version
    grown, sql = dashboard(client)
    assert reads_items(sql)
    assert grown["totals"]["count"] == 196 + Item.objects.filter(
        plan__code__startswith="syn", list_kind=ListKind.PROJECT).count()


def test_ranking_page_is_read_from_the_stored_figures_and_equals_the_live_ranking(client, real_plan):
    from portfolio.summary import unit_ranking

    leader = make_user("leader_s", "leader")
    client.force_login(leader)
    item = Item.objects.get(plan=real_plan, list_kind=ListKind.PROJECT, seq=12)
    StatusReport.objects.create(item=item, month=datetime.date(2026, 10, 1), status="in_progress",
                                cumulative_investment=Decimal("3.5"), month_investment=Decimal("3.5"))
    url = f"/ranking/?as_of={AS_OF}"
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert not reads_items([q["sql"] for q in ctx.captured_queries])
    shown = [(r["rank"], r["unit"]["name"], r["projects"], r["actual"], r["score"]) for r in response.context["rows"]]
    live = [(r["rank"], r["unit"].name, r["projects"], r["actual"], r["score"])
            for r in unit_ranking(leader, AS_OF, real_plan)]
    assert shown == live and any(row[3] == Decimal("3.5") for row in shown)
    assert f">{live[0][1]}</a>" in response.content.decode()


def test_a_change_to_one_plan_recomputes_only_that_plans_share_of_the_province_dashboard(client, real_plan):
    from portfolio.models import DashboardPart

    generate(plans=3, seed=11, units=40)
    leader = make_user("leader_s", "leader")
    client.force_login(leader)
    before, _ = dashboard(client)  # several plans: the dashboard sums every plan
    parts = {p.plan_id: (p.version, p.built_at) for p in DashboardPart.objects.filter(as_of=AS_OF)}
    assert len(parts) == 4

    changed = Item.objects.filter(plan__code="syn-0002", list_kind=ListKind.PROJECT,
                                  total_investment__isnull=False).order_by("seq").first()
    changed.total_investment += Decimal("10")
    changed.save()
    after, sql = dashboard(client)
    assert after["totals"]["total"] == before["totals"]["total"] + Decimal("10")
    now = {p.plan_id: (p.version, p.built_at) for p in DashboardPart.objects.filter(as_of=AS_OF)}
    assert now[changed.plan_id] != parts[changed.plan_id]
    assert {k: v for k, v in now.items() if k != changed.plan_id} == \
        {k: v for k, v in parts.items() if k != changed.plan_id}, "the other plans' shares are reused"
    entry_reads = [q for q in sql if 'FROM "projects_item"' in q and "GROUP BY" in q]
    assert entry_reads and all(f"IN ({changed.plan_id})" in q for q in entry_reads), entry_reads

    with transaction.atomic():  # the live computation over every entry
        live = compute_dashboard(leader, AS_OF)
    stored = compute_dashboard(leader, AS_OF)
    assert stored == live


def test_changes_raise_the_version_of_their_own_plan_only_and_unit_renames_raise_every_plan(real_plan):
    from projects.models import Unit
    from projects.versioning import plan_versions

    generate(plans=1, seed=5, units=20)
    other = Item.objects.filter(plan__code="syn-0001").first().plan_id
    versions = plan_versions()
    item = Item.objects.get(plan=real_plan, list_kind=ListKind.PROJECT, seq=12)
    StatusReport.objects.create(item=item, month=datetime.date(2026, 10, 1), status="in_progress",
                                cumulative_investment=Decimal("1"), month_investment=Decimal("1"))
    moved = plan_versions()
    assert moved[real_plan.pk] > versions[real_plan.pk] and moved[other] == versions[other]

    with pytest.raises(RuntimeError), transaction.atomic():
        item.name += "（改）"
        item.save()
        raise RuntimeError("rolled back")
    assert plan_versions()[real_plan.pk] == moved[real_plan.pk], "a rolled-back change moves nothing"

    unit = Unit.objects.filter(item_links__item=item).first()
    unit.name += "（更名）"
    unit.save()
    renamed = plan_versions()
    assert renamed[real_plan.pk] > moved[real_plan.pk] and renamed[other] > moved[other]


def test_list_choices_follow_committed_changes_to_plans_and_unit_membership(client, real_plan):
    """The list filters' plans and units are kept per data version: a new plan, or a unit user
    joining another unit, shows on the next page once the change commits."""
    import re

    from projects.models import Role, Unit

    def options(name):
        page = client.get("/lists/project/").content.decode()
        select = re.search(rf'<select name="{name}".*?</select>', page, re.S)
        return set(re.findall(r'<option value="(\d+)"', select.group(0))) if select else set()

    user = make_user("member_t", Role.UNIT, [UNIT_A])
    client.force_login(user)
    own = Unit.objects.get(name=UNIT_A)
    assert options("unit") == {str(own.pk)}
    assert options("plan") == set(), "one plan: no plan filter"

    other = Unit.objects.filter(item_links__isnull=False).exclude(pk=own.pk).first()
    other.members.add(user)
    assert options("unit") == {str(own.pk), str(other.pk)}

    generate(plans=1, seed=5, units=20)
    assert len(options("plan")) == 2


def test_rendered_dashboard_is_kept_per_scope_and_version_and_replaced_after_a_change(client, real_plan, settings):
    from django.core.cache import cache

    settings.TRACKER_DASHBOARD_PAGE_SECONDS = 600
    cache.clear()
    leader = make_user("leader_p", "leader")
    unit_user = make_user("unit_p", "unit", [UNIT_A])

    def page(user):
        client.force_login(user)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(URL)
        assert response.status_code == 200
        total = re.search(r'data-figure="total">([^<]+)<', response.content.decode()).group(1)
        return response.content.decode(), total, [q["sql"] for q in ctx.captured_queries]

    first, total, _ = page(leader)
    again, same_total, sql = page(leader)
    assert same_total == total and again.count("red-items") == first.count("red-items")
    assert not any("portfolio_snapshot" in q or "projects_item" in q for q in sql), "served as rendered"
    mine, my_total, _ = page(unit_user)
    assert my_total != total and "本单位事项概况" in mine, "a unit never gets the leaders' page"

    item = Item.objects.get(plan=real_plan, list_kind=ListKind.PROJECT, seq=12)
    item.total_investment += Decimal("10")
    item.save()
    _, after, sql = page(leader)
    assert Decimal(after.replace(",", "")) == Decimal(total.replace(",", "")) + Decimal("10")
