"""Evaluation figures: dashboards and the ranking read them when they are for the date asked,
and give the same figures as the live computation."""
import datetime
from decimal import Decimal

import pytest

from portfolio import summary
from portfolio.models import ItemFigures
from portfolio.rules import evaluate_flags, findings, findings_from_figures
from projects.models import AnnualTarget, Item, ItemUnit, Milestone, StatusReport, Unit

from .conftest import UNIT_A, UNIT_B

pytestmark = pytest.mark.django_db
AS_OF = datetime.date(2026, 11, 23)


@pytest.fixture
def tracked(real_plan):
    """Reports, targets and milestones on a few real entries, one of them with two units."""
    two_units = Item.objects.get(plan=real_plan, list_kind="project", seq=13)
    ItemUnit.objects.get_or_create(item=two_units, unit=Unit.objects.get(name=UNIT_B), defaults={"role": "support"})
    for seq, amounts in ((13, ["1.5", "2.5", "4"]), (12, ["10", "30"]), (8, ["21.78"])):
        item = Item.objects.get(plan=real_plan, list_kind="project", seq=seq)
        item.status = "in_progress"
        item.save()
        for k, amount in enumerate(amounts):
            StatusReport.objects.create(item=item, month=datetime.date(2026, 8 + k, 1), status="in_progress",
                                        cumulative_investment=Decimal(amount), month_investment=Decimal("1"))
    target_item = Item.objects.get(plan=real_plan, list_kind="project", seq=12)
    AnnualTarget.objects.create(item=target_item, year=2025, planned_investment=Decimal("40"))
    AnnualTarget.objects.create(item=target_item, year=2026, planned_investment=Decimal("60"))
    Milestone.objects.create(item=target_item, name="开工", due_date=datetime.date(2026, 3, 1))
    return real_plan


def live(monkeypatch):
    monkeypatch.setattr(summary, "figures_fresh", lambda items, as_of: False)


def comparable(s):
    return {
        "totals": s["totals"], "lights": s["lights"], "by_year": s["by_year"],
        "by_category": [{k: r[k] for k in ("category__name", "count", "total", "plan", "completed", "expected")}
                        for r in s["by_category"]],
        "by_type": [{k: r[k] for k in ("project_type", "count", "total", "completed", "expected")} for r in s["by_type"]],
    }


def money_close(a, b, path="") -> bool:
    """Figures are stored to 6 decimals; the live path keeps full precision. Fails naming the path."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        return all(money_close(a[k], b[k], f"{path}.{k}") for k in a)
    if isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        return all(money_close(x, y, f"{path}[{i}]") for i, (x, y) in enumerate(zip(a, b)))
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        assert abs(a - b) < Decimal("0.0001"), (path, a, b)
        return True
    assert a == b, (path, a, b)
    return True


@pytest.mark.parametrize("who", ["leader", "unit_a_user", "unit_b_user"])
def test_dashboard_from_figures_equals_live_computation(tracked, request, monkeypatch, who):
    user = request.getfixturevalue(who)
    evaluate_flags(AS_OF)
    assert summary.figures_fresh(Item.objects.visible_to(user), AS_OF)
    from_figures = comparable(summary.portfolio_summary(user, AS_OF))
    ranking_figures = [(r["unit"].name, r["expected"], r["actual"], r["reports_on_time"], r["score"])
                       for r in summary.unit_ranking(user, AS_OF)]
    live(monkeypatch)
    assert money_close(from_figures, comparable(summary.portfolio_summary(user, AS_OF)))
    assert money_close(ranking_figures, [(r["unit"].name, r["expected"], r["actual"], r["reports_on_time"], r["score"])
                                         for r in summary.unit_ranking(user, AS_OF)])
    assert from_figures["totals"]["completed"] > 0


def test_figures_of_another_date_are_not_used(tracked, leader):
    evaluate_flags(AS_OF)
    assert not summary.figures_fresh(Item.objects.all(), AS_OF + datetime.timedelta(days=1))


def test_findings_from_figures_equal_live_findings(tracked):
    evaluate_flags(AS_OF)
    assert findings_from_figures(AS_OF, Item.objects.all()) == findings(AS_OF)


def test_a_new_report_drops_its_figures_until_reevaluated(tracked, leader):
    evaluate_flags(AS_OF)
    item = Item.objects.get(plan=tracked, list_kind="project", seq=12)
    before = summary.portfolio_summary(leader, AS_OF)["totals"]["completed"]
    StatusReport.objects.create(item=item, month=datetime.date(2026, 10, 1), status="in_progress",
                                cumulative_investment=Decimal("50"))
    assert not ItemFigures.objects.filter(item=item).exists()
    assert not summary.figures_fresh(Item.objects.all(), AS_OF)
    assert summary.portfolio_summary(leader, AS_OF)["totals"]["completed"] == before + Decimal("20")
    evaluate_flags(AS_OF, item_ids=[item.pk])
    assert summary.figures_fresh(Item.objects.all(), AS_OF)
    assert summary.portfolio_summary(leader, AS_OF)["totals"]["completed"] == before + Decimal("20")


def test_two_unit_entry_counts_once_in_totals_and_once_per_unit(tracked, leader):
    evaluate_flags(AS_OF)
    item = Item.objects.get(plan=tracked, list_kind="project", seq=13)
    figures = ItemFigures.objects.get(item=item)
    assert figures.cumulative == Decimal("4")
    rows = {r["unit"].name: r for r in summary.unit_ranking(leader, AS_OF)}
    assert rows[UNIT_B]["actual"] == Decimal("4")
    assert rows[UNIT_A]["actual"] >= Decimal("4")
