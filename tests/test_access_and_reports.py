import pytest
from projects.models import Item, ItemUnit, Unit, ListKind
from .conftest import UNIT_A, UNIT_B

def test_explore(real_plan):
    for kind in ListKind:
        qs = Item.objects.filter(list_kind=kind)
        a = qs.filter(unit_links__unit__name=UNIT_A).distinct()
        b = qs.filter(unit_links__unit__name=UNIT_B).distinct()
        print(kind, qs.count(), "A", a.count(), "B", b.count())
    for i in Item.objects.filter(unit_links__unit__name=UNIT_A, list_kind="project").distinct()[:8]:
        print(i.pk, i.seq, i.name, i.total_investment, i.start_year, i.end_year, i.status, [str(l) for l in i.unit_links.all()])
    for i in Item.objects.filter(unit_links__unit__name=UNIT_B).distinct()[:5]:
        print(i.pk, i.list_kind, i.seq, i.name, [str(l) for l in i.unit_links.all()])
    both = Item.objects.filter(unit_links__unit__name=UNIT_A).filter(unit_links__unit__name=UNIT_B)
    print("both", both.count())
    print("no unit", Item.objects.filter(unit_links__isnull=True).count())
    names = list(Item.objects.values_list("name", flat=True))
    print("dupe names", len(names) - len(set(names)))
    assert False
