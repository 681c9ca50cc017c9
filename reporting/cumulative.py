"""An entry's cumulative investment across its chain of plans, defined once."""
from django.db.models import OuterRef, Q

from .models import StatusReport

# One definition (docs/architecture.md, "Plans over time"): an entry's cumulative investment as of a
# month is the figure of the latest report (by month, then by id) that has one, among the reports of
# the entry and of the entries it continues, CHAIN_DEPTH plans back. Facts, forms, pages and exports
# all read it through the three forms below.

CHAIN_DEPTH = 2  # plans back an entry's cumulative investment follows

# SQL, for a subquery over entries: reports of the entry (OuterRef "pk") or of the entries it continues.
CHAIN_REPORTS = (Q(item=OuterRef("pk")) | Q(item=OuterRef("predecessor_id"))
                 | Q(item=OuterRef("predecessor__predecessor_id")))


def chain_of(item) -> list:
    """The entry and the entries it continues, CHAIN_DEPTH plans back (latest first)."""
    entries, node = [item], item
    for _ in range(CHAIN_DEPTH):
        node = node.predecessor if node.predecessor_id else None
        if node is None:
            break
        entries.append(node)
    return entries


def cumulative_report_of(reports):
    """Of reports of one chain, the one holding the cumulative figure (None when none has one)."""
    return max((r for r in reports if r.cumulative_investment is not None), key=lambda r: (r.month, r.pk),
               default=None)


def cumulative_report(item, through=None, before=None):
    """The report holding the entry's cumulative investment as of the month `through` (inclusive),
    or before the month `before`; every month when neither is given. One query."""
    reports = StatusReport.objects.filter(item__in=[e.pk for e in chain_of(item)],
                                          cumulative_investment__isnull=False)
    if through is not None:
        reports = reports.filter(month__lte=through)
    if before is not None:
        reports = reports.filter(month__lt=before)
    return reports.select_related("item__plan").order_by("-month", "-pk").first()


def chain_cumulative_by_month(item) -> dict:
    """{month: the entry's cumulative investment as reported for that month}, over its chain."""
    by_month = {}
    for month, value in (StatusReport.objects.filter(item__in=[e.pk for e in chain_of(item)],
                                                     cumulative_investment__isnull=False)
                         .order_by("month", "pk").values_list("month", "cumulative_investment")):
        by_month[month] = value  # the latest id of a month wins, as in cumulative_report
    return by_month
