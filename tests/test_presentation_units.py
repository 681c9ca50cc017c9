"""Unit choices: sorted by pinyin, each unit once (name variants merged through the aliases the
run command loads before importing), and duplicates already in a database merged."""
import io
import re

import pytest
from django.core.management import call_command
from pypinyin import Style, lazy_pinyin

from projects.models import Item, ItemUnit, ListKind, Plan, Unit, UnitAlias

pytestmark = pytest.mark.django_db

MERGED = {
    "财政局": "财政局（国有资产管理办公室，金融办）",
    "应急管理与生态环境局": "应急管理与生态环境局（市生态环境局瓯江口分局）",
    "政务服务中心": "政务服务中心（大数据有限公司）",
}


def unit_options(html, select="unit"):
    block = re.search(rf'<select name="{select}".*?</select>', html, re.S).group(0)
    return [label for value, label in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', block) if value]


def syllables(name):
    return [s.lower() for s in lazy_pinyin(name, style=Style.NORMAL)]


@pytest.mark.parametrize("url", ["/lists/project/", "/lists/element/", "/flags/"])
def test_unit_choices_are_in_pinyin_order(client, planner, real_plan, url):
    client.force_login(planner)
    options = unit_options(client.get(url).content.decode())
    assert len(options) > 50
    keys = [syllables(name) for name in options]
    assert keys == sorted(keys), "units must be sorted by pinyin"
    # e.g. 财政局 (cai) before 经济发展局 (jing) before 温州… (wen) before 自然资源和规划局 (zi)
    first = {prefix: next(i for i, n in enumerate(options) if n.startswith(prefix))
             for prefix in ("财政局", "经济发展局", "温州", "自然资源和规划局")}
    assert first["财政局"] < first["经济发展局"] < first["温州"] < first["自然资源和规划局"]


@pytest.mark.parametrize("short, canonical", MERGED.items())
def test_each_unit_appears_once(client, planner, real_plan, short, canonical):
    variants = [u.name for u in Unit.objects.all() if short in u.name]
    assert variants == [canonical]
    client.force_login(planner)
    for url in ("/lists/element/", "/lists/reform/", "/lists/policy/", "/lists/project/"):
        assert [n for n in unit_options(client.get(url).content.decode()) if short in n] in ([canonical], [])
    # the entries printed with the variant belong to the one unit
    printed = Item.objects.filter(plan=real_plan, units_as_printed__contains=short.replace("局", ""))
    assert printed.exists()
    linked = Item.objects.filter(unit_links__unit__name=canonical)
    for item in printed:
        if short in item.units_as_printed:
            assert item in linked, item.name


def test_aliases_merge_units_already_in_the_database(tmp_path, real_plan, django_capture_on_commit_callbacks):
    """A database imported before an alias was known holds both units: loading the alias merges
    the variant into the canonical unit, links and members included."""
    from django.contrib.auth.models import User

    variant, canonical = Unit.objects.create(name="测试变体单位"), Unit.objects.create(name="测试规范单位（全称）")
    a, b = Item.objects.filter(plan=real_plan, list_kind=ListKind.REFORM).order_by("seq")[:2]
    ItemUnit.objects.create(item=a, unit=variant, role=ItemUnit.Role.SUPPORT)
    ItemUnit.objects.create(item=b, unit=variant, role=ItemUnit.Role.LEAD)
    ItemUnit.objects.create(item=b, unit=canonical, role=ItemUnit.Role.SUPPORT)
    member = User.objects.create_user("variant_member")
    variant.members.add(member)
    aliases = tmp_path / "aliases.csv"
    aliases.write_text("别名,规范名称\n测试变体单位,测试规范单位（全称）\n", encoding="utf-8")
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_unit_aliases", str(aliases), stdout=out)
    assert "合并重复单位 1 个" in out.getvalue()
    assert not Unit.objects.filter(name="测试变体单位").exists()
    assert UnitAlias.objects.get(name="测试变体单位").unit == canonical
    assert ItemUnit.objects.get(item=a, unit=canonical).role == ItemUnit.Role.SUPPORT
    assert ItemUnit.objects.get(item=b, unit=canonical).role == ItemUnit.Role.LEAD  # lead wins
    assert list(canonical.members.all()) == [member]
    # a second run changes nothing
    call_command("load_unit_aliases", str(aliases), stdout=io.StringIO())
    assert Unit.objects.filter(name__startswith="测试").count() == 1


def test_the_importer_merges_variants_named_in_the_aliases(real_plan):
    assert Plan.objects.filter(code=real_plan.code).exists()
    for variant, canonical in (("财政局（国有资产监督管理委员会，金融办）", MERGED["财政局"]),
                               ("瓯江口政务服务中心", MERGED["政务服务中心"])):
        assert UnitAlias.objects.get(name=variant).unit.name == canonical
        assert not Unit.objects.filter(name=variant).exists()
