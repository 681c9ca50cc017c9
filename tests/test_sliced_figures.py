"""The dashboard's and the ranking's sums kept by slice of plans (projects.versions.sliced): after a
change confined to one plan's entries only that plan's slice is computed again, after any other
change every slice is; and what the page shows always equals a fresh computation."""
import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from portfolio import summary
from portfolio.evaluation import figures_date
from portfolio.synthetic import generate
from projects.models import Category, DataSlice, EvaluationState, Item, ItemStatus, ListKind, Plan, Role, reach_to_filter
from projects.versions import SLICES, slice_of
from reporting.models import StatusReport
from supervision.models import Problem, ProblemState

from .conftest import make_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def plans(real_plan):
    generate(plans=3, seed=11, units=30)
    call_command("evaluate_flags", as_of=timezone.localdate().isoformat(), no_notify=True, stdout=open("/dev/null", "w"))
    plans = list(Plan.objects.order_by("pk"))
    assert len({slice_of(p.pk) for p in plans}) == len(plans) == 4  # each in a slice of its own
    return plans


@pytest.fixture
def computed(monkeypatch):
    """The plans each sliced computation was asked for (None: all), by kind."""
    asked = []
    real = summary.sliced

    def spy(kind, scope, as_of, compute, row=None):
        return real(kind, scope, as_of, lambda plan_ids: asked.append((kind.split("@")[0].split("-")[0], plan_ids))
                    or compute(plan_ids), row)
    monkeypatch.setattr(summary, "sliced", spy)
    return asked


def page_equals_fresh(client, leader):
    as_of = figures_date()
    page = client.get("/").context
    assert page["s"] == summary.compute_dashboard(leader, as_of, asked_on=timezone.localdate())
    assert page["ranking"] == summary.compute_ranking(as_of, organisations=reach_to_filter(leader))
    assert page["overview"] == summary.compute_overview(leader, as_of)
    return page


def slice_versions():
    return dict(DataSlice.objects.values_list("bucket", "version"))


def base_version():
    return EvaluationState.objects.get().base_version


def test_a_report_recomputes_its_plans_slice_only_and_the_page_stays_true(client, plans, computed):
    leader = make_user("slice_leader", Role.LEADER)
    client.force_login(leader)
    first = page_equals_fresh(client, leader)
    assert computed and all(plan_ids is None for _, plan_ids in computed)  # cold: every slice at once
    assert first["s"]["per_list"][0]["n"] > 400

    synthetic = plans[2]
    item = Item.objects.filter(plan=synthetic, list_kind=ListKind.PROJECT, status=ItemStatus.IN_PROGRESS).first()
    before_slices, before_base = slice_versions(), base_version()
    computed.clear()
    month = timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
    StatusReport.objects.update_or_create(item=item, month=month.replace(day=1), defaults={
        "status": ItemStatus.IN_PROGRESS, "progress_text": "分片测试", "month_investment": 7,
        "cumulative_investment": (item.total_investment or 10) / 2})
    after_slices = slice_versions()
    assert base_version() == before_base
    assert {b for b in range(SLICES) if after_slices.get(b) != before_slices.get(b)} == {slice_of(synthetic.pk)}
    second = page_equals_fresh(client, leader)
    # the dashboard, the ranking and the 总体情况 each computed the changed plan's slice only
    assert {kind for kind, _ in computed} == {"dashboard", "ranking", "overview"}
    assert all(plan_ids == [synthetic.pk] for _, plan_ids in computed), computed
    assert second["overview"]["completed"] != first["overview"]["completed"] or \
        second["s"]["totals"] != first["s"]["totals"]

    # an edit of an entry of the real plan: that plan's slice
    computed.clear()
    entry = Item.objects.filter(plan=plans[0], list_kind=ListKind.PROJECT).exclude(total_investment=None).first()
    entry.total_investment += 100
    entry.save()
    third = page_equals_fresh(client, leader)
    assert third["s"]["totals"]["total"] == second["s"]["totals"]["total"] + 100
    assert all(plan_ids == [plans[0].pk] for _, plan_ids in computed), computed

    # a problem closed on time: the ranking's count moves, its entry's plan's slice only
    problem = Problem.objects.filter(item__plan=plans[3], state=ProblemState.COORDINATING).first()
    unit = problem.coordinating_unit_id
    before = next(r for r in third["ranking"] if r["unit"]["pk"] == unit)
    computed.clear()
    problem.state, problem.closed_at = ProblemState.CLOSED, timezone.now() - datetime.timedelta(days=30)
    problem.deadline = timezone.localdate()
    problem.save()
    fourth = page_equals_fresh(client, leader)
    after = next(r for r in fourth["ranking"] if r["unit"]["pk"] == unit)
    assert after["problems_on_time"] != before["problems_on_time"] or after["problems_due"] != before["problems_due"]
    assert computed and all(plan_ids == [plans[3].pk] for _, plan_ids in computed), computed


def test_a_change_beyond_some_entries_recomputes_every_slice(client, plans, computed):
    leader = make_user("slice_leader2", Role.LEADER)
    client.force_login(leader)
    page_equals_fresh(client, leader)

    # a category renamed: not confined to entries, the base version moves
    base = base_version()
    computed.clear()
    category = Category.objects.filter(plan=plans[1], list_kind=ListKind.PROJECT).first()
    category.name = "分片测试类别"
    category.save()
    assert base_version() != base
    page = page_equals_fresh(client, leader)
    assert "分片测试类别" in [c["name"] for c in page["s"]["by_category"]]
    assert computed and all(plan_ids is None for _, plan_ids in computed)

    # an entry carried into another plan in force: both plans' slices, and it counts once
    computed.clear()
    before = page["s"]["per_list"][0]["n"]
    old = Item.objects.filter(plan=plans[1], list_kind=ListKind.PROJECT).first()
    new = Item.objects.filter(plan=plans[3], list_kind=ListKind.PROJECT).first()
    new.predecessor = old
    new.save()
    page = page_equals_fresh(client, leader)
    assert page["s"]["per_list"][0]["n"] == before - 1
    assert computed and all(sorted(plan_ids or []) == sorted([plans[1].pk, plans[3].pk]) for _, plan_ids in computed)

    # an entry deleted: its plan is no longer known from it, so every slice
    computed.clear()
    base = base_version()
    Item.objects.filter(plan=plans[2], list_kind=ListKind.PROJECT).last().delete()
    assert base_version() != base
    page = page_equals_fresh(client, leader)
    assert page["s"]["per_list"][0]["n"] == before - 2
    assert computed and all(plan_ids is None for _, plan_ids in computed)

    # a plan closed: its state decides who owes in other plans and which plans are in force
    computed.clear()
    base = base_version()
    call_command("close_plan", plan=plans[2].code, as_of=timezone.localdate().isoformat(), stdout=open("/dev/null", "w"))
    assert base_version() != base
    page_equals_fresh(client, leader)
    assert computed and all(plan_ids is None for _, plan_ids in computed)


def test_without_the_cache_the_page_is_the_same(client, plans, settings):
    leader = make_user("slice_leader3", Role.LEADER)
    client.force_login(leader)
    shown = page_equals_fresh(client, leader)
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}  # nothing kept
    assert client.get("/").context["s"] == shown["s"]


def test_after_the_nightly_run_the_morning_dashboards_are_ready(client, plans):
    """warm_dashboards (queued after the nightly run) computes what a planner or leader who logs
    in opens first: their first page reads the cache only."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from portfolio.tasks import warm_dashboards_task

    leader = make_user("slice_leader4", Role.LEADER)
    client.force_login(leader)  # logged in lately
    make_user("slice_unit_user", Role.UNIT)  # unit users' dashboards are their own, not warmed
    call_command("evaluate_flags", as_of=(timezone.localdate() + datetime.timedelta(days=1)).isoformat(),
                 no_notify=True, stdout=open("/dev/null", "w"))  # the night: every key moves
    assert warm_dashboards_task.apply().get() == 1
    with CaptureQueriesContext(connection) as first:
        page = client.get("/").context
    grouped = [q["sql"] for q in first.captured_queries if "GROUP BY" in q["sql"]]
    assert grouped == [], grouped
    assert page["s"] == summary.compute_dashboard(leader, figures_date(), asked_on=timezone.localdate())
    assert page["ranking"] == summary.compute_ranking(figures_date(), organisations=reach_to_filter(leader))


def test_nothing_is_warmed_into_a_cache_the_web_server_does_not_share(plans, settings):
    from portfolio.warm import warm_dashboards

    make_user("slice_leader5", Role.LEADER).__class__.objects.filter(username="slice_leader5").update(
        last_login=timezone.now())
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert warm_dashboards() == 0
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    assert warm_dashboards() == 0
