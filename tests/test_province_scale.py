"""Several plans in one database: synthetic data, and list filters that stay usable."""
import re

import pytest

from projects.models import Category, Item, Plan
from reporting.models import StatusReport
from portfolio.synthetic import generate

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
