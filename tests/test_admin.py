"""Admin: Chinese change lists with filters and search, item inlines, and merging duplicate units."""
import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from projects.models import Item, ItemUnit, Unit, UnitAlias

pytestmark = pytest.mark.django_db


def test_item_changelist_filters_and_searches_in_chinese(client, planner):
    client.force_login(planner)
    page = client.get("/admin/projects/item/", {"list_kind__exact": "project", "q": "瓯江口大道"})
    body = page.content.decode()
    assert page.status_code == 200
    assert "清单事项" in body and "项目类型" in body and "责任单位" in body
    assert "瓯江口大道西段(330 国道与 228 国道连接线工程)工程" in body
    assert "温州综合保税区工程" not in body


def test_item_change_form_has_units_targets_milestones_and_reports_inlines(client, planner, real_plan):
    client.force_login(planner)
    item = Item.objects.get(plan=real_plan, list_kind="project", seq=178)
    body = client.get(f"/admin/projects/item/{item.pk}/change/").content.decode()
    for heading in ("责任分工", "年度推进计划", "节点", "进度填报"):
        assert heading in body
    assert "autocomplete" in body  # unit autocomplete on the link rows


def test_unit_user_and_leader_cannot_reach_admin(client, unit_a_user, leader):
    for user in (unit_a_user, leader):
        client.force_login(user)
        assert client.get("/admin/projects/item/").status_code == 302


def test_merge_units_moves_links_and_keeps_alias_in_one_step(client, planner, real_plan):
    client.force_login(planner)
    target = Unit.objects.get(name="灵昆街道")
    duplicate = Unit.objects.create(name="灵昆街道办事处（重复）")
    item = Item.objects.get(plan=real_plan, list_kind="project", seq=171)
    ItemUnit.objects.create(item=item, unit=duplicate, role=ItemUnit.Role.SUPPORT)
    shared = Item.objects.filter(unit_links__unit=target).first()
    ItemUnit.objects.create(item=shared, unit=duplicate, role=ItemUnit.Role.SUPPORT)
    before = ItemUnit.objects.filter(unit=target).count()

    confirm = client.post("/admin/projects/unit/", {
        "action": "merge_selected_units", ACTION_CHECKBOX_NAME: [target.pk, duplicate.pk]})
    assert "合并单位" in confirm.content.decode()
    client.post("/admin/projects/unit/", {
        "action": "merge_selected_units", ACTION_CHECKBOX_NAME: [target.pk, duplicate.pk],
        "confirm": "1", "target": target.pk})

    assert not Unit.objects.filter(pk=duplicate.pk).exists()
    assert UnitAlias.objects.get(name="灵昆街道办事处（重复）").unit == target
    assert ItemUnit.objects.filter(item=item, unit=target).exists()
    # the entry linked to both keeps one link, not two
    assert ItemUnit.objects.filter(item=shared, unit=target).count() == 1
    assert ItemUnit.objects.filter(unit=target).count() == before + 1
