import pytest
from django.utils import timezone
from django.utils.html import escape
from projects.models import Item, ItemUnit, Unit, ListKind, Category
from portfolio.rules import evaluate_flags
from .conftest import UNIT_A, UNIT_B

def test_explore(real_plan, client, unit_a_user):
    evaluate_flags(timezone.localdate())
    a_names = set(Item.objects.filter(unit_links__unit__name=UNIT_A).values_list("name", flat=True))
    others = set(Item.objects.exclude(unit_links__unit__name=UNIT_A).values_list("name", flat=True))
    print("overlap exact", a_names & others)
    sub = {o for o in others if any(o in a for a in a_names)}
    print("substrings of A", sub)
    forb = others - sub
    print(len(forb), "shortest", sorted(forb, key=len)[:15])
    client.force_login(unit_a_user)
    pages = [f"/lists/{k}/?per_page=200" for k in ListKind.values] + ["/", "/flags/", "/ranking/", "/my/"] + [f"/lists/{k}/?_export=csv" for k in ListKind.values]
    for url in pages:
        r = client.get(url)
        body = b"".join(r.streaming_content).decode() if r.streaming else r.content.decode()
        hits = [n for n in forb if n in body or escape(n) in body]
        print(url, r.status_code, len(body), hits[:10])
    print([c.name for c in Category.objects.all()])
    assert False
