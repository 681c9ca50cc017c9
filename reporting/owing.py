"""Who owes a month's report, defined once (docs/architecture.md, "The reporting calendar and who
owes"): one SQL condition (`owes_report`) and its Python form (`owes_report_of`); the badge,
dashboards, 我的事项, 填报情况, reminders, the month template and the late-report rule read it."""
import datetime

from django.db.models import Q

from projects.models import ItemStatus, PlanState, listed_q

from .calendar import first_month_due, report_deadline, reporting_start
from .models import StatusReport


def owes_report(month: datetime.date, prefix: str = ""):
    """Q: the entry owes a report for `month` (the one SQL definition of who owes; `prefix` names
    the entry from another model, e.g. "item__"). It owes when all hold:

    * `month` is not before TRACKER_REPORTING_START;
    * the entry is 推进中;
    * its plan is 执行中 (a closed plan is frozen, a draft not yet in force);
    * `month` is not before January of its own start year nor of its plan's start year;
    * it is not carried into a plan that has begun by `month` (its successor's plan starts in
      `month`'s year or before: the project reports there, one project not two);
    * it is on its plan's lists on `month`'s deadline (projects.models.listed_q: an entry taken
      out (调出) by then owes nothing more, one added later owes from the next month due)."""
    if month < reporting_start():
        return Q(pk__in=[])
    p = prefix
    return (Q(**{f"{p}status": ItemStatus.IN_PROGRESS, f"{p}plan__state": PlanState.ACTIVE,
                 f"{p}plan__start_year__lte": month.year})
            & (Q(**{f"{p}start_year__isnull": True}) | Q(**{f"{p}start_year__lte": month.year}))
            & ~Q(**{f"{p}successor__plan__start_year__lte": month.year})
            & listed_q(report_deadline(month), p))


def entries_due(items, month: datetime.date):
    """The entries of `items` that owe a report for `month` (owes_report)."""
    return items.filter(owes_report(month))


def owes_report_of(item, month: datetime.date) -> bool:
    """The Python form of owes_report for one entry (tests prove the two agree)."""
    successor = getattr(item, "successor", None)
    return (month >= first_month_due(item.start_year, item.plan.start_year)
            and item.status == ItemStatus.IN_PROGRESS and item.plan.state == PlanState.ACTIVE
            and not (successor is not None and successor.plan.start_year <= month.year)
            and item.listed_on(report_deadline(month)))


def owing(items, month: datetime.date):
    """The entries of `items` that owe `month`'s report and have not filed it."""
    return entries_due(items, month).filter(~reported_for(month))


def reported_for(month: datetime.date, item_ref="pk"):
    """Q: the entry named by `item_ref` has a report for `month`. The month's reports are read once
    (the report_month_item index) and hashed, not looked up entry by entry: over a province's
    entries that is the difference on the dashboard after every change."""
    return Q(**{f"{item_ref}__in": StatusReport.objects.filter(month=month).values("item_id")})
