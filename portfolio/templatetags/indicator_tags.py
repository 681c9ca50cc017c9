"""The dashboard's indicator card: counts by status of the user's visible plan indicators."""
from django import template

from projects.models import Indicator, Plan

from ..evaluation import figures_date
from ..indicators import STATUS_CHOICES, default_year, status_counts

register = template.Library()


@register.simple_tag
def indicator_summary(user, plan=None):
    """[{plan, year, counts}] for the chosen plan, or every plan with indicators (few: one a plan)."""
    plans = [plan] if plan else list(Plan.objects.filter(indicators__isnull=False).distinct().order_by("pk"))
    as_of = figures_date()
    out = []
    for p in plans:
        visible = Indicator.objects.visible_to(user).filter(plan=p)
        if not visible.exists():
            continue
        year = default_year(p, as_of)
        counts = status_counts(visible, year)
        out.append({"plan": p, "year": year, "counts": [(code, label, counts[code]) for code, label in STATUS_CHOICES],
                    "red": counts["red"], "yellow": counts["yellow"]})
    return out
