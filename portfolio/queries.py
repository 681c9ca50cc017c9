"""Annotations shared by lists, detail pages, exports and dashboards (one place, no per-row queries)."""
import functools

from django.db.models import OuterRef, Prefetch, Subquery

from projects.models import Item, ItemUnit, StatusReport

from .models import with_light


def latest_report(as_of=None):
    reports = StatusReport.objects.filter(item=OuterRef("pk"))
    if as_of is not None:
        reports = reports.filter(month__lte=as_of)
    return reports.order_by("-month")


def _tracked_base(as_of):
    reports = latest_report(as_of)
    qs = with_light(Item.objects.select_related("category", "plan")).annotate(
        last_month=Subquery(reports.values("month")[:1]),
        cumulative=Subquery(reports.filter(cumulative_investment__isnull=False)
                            .values("cumulative_investment")[:1]),
        progress_pct=Subquery(reports.values("progress_pct")[:1]),
    )
    return qs.prefetch_related(
        Prefetch("unit_links", queryset=ItemUnit.objects.select_related("unit").order_by("role", "pk"))
    )


@functools.cache
def _current_base():
    # Built once per process and cloned: resolving these annotations costs as much as running them.
    return _tracked_base(None)


def tracked_items(user, as_of=None):
    """Entries the user may see, with light, last reported month and cumulative investment."""
    base = _current_base() if as_of is None else _tracked_base(as_of)
    return base.all().visible_to(user)
