"""Several plans in one database: synthetic data, and list filters that stay usable."""
import datetime
import re

import pytest

from projects.models import Category, Item, Plan
from reporting.models import StatusReport
from portfolio.synthetic import generate
from supervision.models import Order, OrderState, Problem, ProblemState

pytestmark = pytest.mark.django_db


def test_synthetic_plans_are_marked_and_shaped_like_the_real_one(real_plan):
    counts = generate(plans=2, seed=5, units=30)
    synthetic = Plan.objects.filter(is_synthetic=True)
    assert counts["items"] == 400 and synthetic.count() == 2
    assert all(p.code.startswith("syn-") and "合成" in p.name for p in synthetic)
    items = Item.objects.filter(plan__in=synthetic)
    assert items.filter(list_kind="project").count() == 280
    assert set(items.filter(list_kind="project").values_list("category__name", flat=True)) == {
        "基础设施项目", "产业发展项目", "房地产项目", "公共服务项目", "生态保护项目"}
    per_item = StatusReport.objects.filter(item__in=items).count() / 400
    assert 20 < per_item <= 24  # 24 months, a few missing
    assert Item.objects.filter(plan=real_plan).count() == 280  # the real plan is untouched
    # the closed loop at the scale: 50 problems and 20 orders per 200 entries, in a mix of states
    problems, orders = Problem.objects.filter(item__plan__in=synthetic), Order.objects.filter(unit__name__contains="合成")
    assert (counts["problems"], counts["orders"]) == (problems.count(), orders.count()) == (100, 40)
    states = set(problems.values_list("state", flat=True))
    assert {ProblemState.CLOSED, ProblemState.COORDINATING} <= states
    assert problems.overdue(datetime.date(2026, 11, 23)).exists() and problems.filter(state=ProblemState.CLOSED,
                                                                                        closed_at__isnull=False).exists()
    assert {OrderState.CLOSED, OrderState.SIGNED} <= set(orders.values_list("state", flat=True))
    assert not orders.filter(state=OrderState.CLOSED, answered_at__isnull=True).exists()


def test_list_offers_the_categories_of_one_plan(client, leader, real_plan):
    generate(plans=2, seed=6, units=30)
    client.force_login(leader)
    page = client.get("/lists/project/").content.decode()
    category_select = re.search(r'<select name="category".*?</select>', page, re.S).group(0)
    assert category_select.count("<option") == 1  # only 全部 until a plan is chosen
    chosen = Category.objects.filter(plan__is_synthetic=True, list_kind="project").order_by("pk").last()
    page = client.get("/lists/project/", {"category": chosen.pk}).content.decode()
    category_select = re.search(r'<select name="category".*?</select>', page, re.S).group(0)
    assert category_select.count("<option") == 6 and f'value="{chosen.pk}" selected' in category_select
    assert "共 %d 项" % Item.objects.filter(category=chosen).count() in page
