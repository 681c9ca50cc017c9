"""The dashboard's indicator card: counts by status of the user's visible plan indicators, cached
like the dashboard's own figures (portfolio/summary.py `cached`: scope, plan, data version)."""
from django import template

from indicators.models import Indicator, IndicatorValue, TableKind
from projects.models import Plan

from indicators.evaluation import STATUS_CHOICES, default_year, status_counts
from projects.versions import cached, scope_key

register = template.Library()


def compute_card(user, plan, as_of):
    """[{code, name, year, counts, red, yellow}] for the chosen plan, or every plan with indicators."""
    plans = [plan] if plan else list(Plan.objects.filter(indicators__isnull=False).distinct().order_by("pk"))
    out = []
    for p in plans:
        visible = Indicator.objects.visible_to(user).filter(plan=p)
        if not visible.exists():
            continue
        year = default_year(p, as_of)
        counts = status_counts(visible, year)
        out.append({"code": p.code, "name": p.name, "year": year,
                    "counts": [(code, label, counts[code]) for code, label in STATUS_CHOICES],
                    "red": counts["red"], "yellow": counts["yellow"],
                    # no value entered for the year: said, instead of 滞后 0
                    "no_values": not IndicatorValue.objects.filter(
                        indicator__in=visible.filter(table__kind=TableKind.TARGETS), year=year).exists()})
    return out


@register.simple_tag
def indicator_summary(user, plan, as_of, row=None):
    """row: the evaluation state the dashboard already read (no query on a cache hit)."""
    return cached("indicator-card", scope_key(user), plan, as_of,
                  lambda stored_as_of: compute_card(user, plan, stored_as_of or as_of), row)
