"""The reporting calendar: which month's report is due on a date, and month arithmetic.

Defined once here and used by the rules (report missing, on-time reporting), 我的事项 and the
report forms (see docs/architecture.md, "Rules")."""
import datetime

from django.conf import settings


def first_of_month(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def add_months(month: datetime.date, n: int) -> datetime.date:
    """The first day of the month n months after (or before, n < 0) the month of `month`."""
    index = month.year * 12 + month.month - 1 + n
    return datetime.date(index // 12, index % 12 + 1, 1)


def previous_month(day: datetime.date) -> datetime.date:
    return add_months(day, -1)


def months_between(earlier: datetime.date, later: datetime.date) -> int:
    """Whole months from the month of `earlier` to the month of `later` (0 for the same month)."""
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def reporting_start() -> datetime.date:
    """The first month units were asked to report (TRACKER_REPORTING_START, YYYY-MM)."""
    return datetime.date.fromisoformat(settings.TRACKER_REPORTING_START + "-01")


def report_deadline(month: datetime.date) -> datetime.date:
    """The last day a month's report counts as on time: the reporting day of the next month."""
    return add_months(month, 1).replace(day=settings.TRACKER_REPORTING_DAY)


def due_report_month(as_of: datetime.date) -> datetime.date:
    """The latest month whose report is due by as_of: last month once its deadline has passed,
    else the month before."""
    month = previous_month(as_of)
    return month if as_of > report_deadline(month) else previous_month(month)


def first_month_due(start_year) -> datetime.date:
    """The first month an entry owes a report: January of its start year (its plan's, when it has
    no period of its own), not before reporting began."""
    start = datetime.date(start_year, 1, 1) if start_year else reporting_start()
    return max(start, reporting_start())


def earliest_date(plan) -> datetime.date:
    """Reports and milestones of a plan's entries may date back to a year before the plan starts."""
    return datetime.date(plan.start_year - 1, 1, 1)


def check_report_month(month: datetime.date, plan, today: datetime.date):
    """A reason the month cannot be reported, or None: not before the plan's reach, not in the future."""
    if month < earliest_date(plan):
        return f"月份不能早于 {earliest_date(plan):%Y年%m月}（规划 {plan.start_year} 年开始）。"
    if month > today.replace(day=1):
        return "不能填报未来的月份。"
    return None


def check_met_date(day: datetime.date, plan, today: datetime.date):
    """A reason a milestone cannot have been met on this day, or None."""
    if day < earliest_date(plan):
        return f"完成日期不能早于 {earliest_date(plan):%Y-%m-%d}（规划 {plan.start_year} 年开始）。"
    if day > today:
        return "完成日期不能晚于今天。"
    return None


def entries_due(items, month: datetime.date):
    """The entries that owe a report for `month`: 推进中 entries of plans 执行中 whose first due
    month (first_month_due) is not after it — the same calendar as the late-report rule (a
    closed plan's entries owe nothing: the rules no longer watch them)."""
    from django.db.models import Q

    from projects.models import ItemStatus, PlanState

    if month < reporting_start():
        return items.none()
    # an entry without its own period owes from its plan's start (as in portfolio.facts)
    return items.filter(Q(start_year__isnull=True, plan__start_year__lte=month.year) | Q(start_year__lte=month.year),
                        status=ItemStatus.IN_PROGRESS, plan__state=PlanState.ACTIVE)


def reported_for(month: datetime.date, item_ref="pk"):
    """Exists(a report of the entry for `month`), the entry named by `item_ref` of the outer query."""
    from django.db.models import Exists, OuterRef

    from reporting.models import StatusReport

    return Exists(StatusReport.objects.filter(item=OuterRef(item_ref), month=month))


MONTHS_SHOWN = 36  # month choosers reach back three years


def month_choices(today: datetime.date):
    """Months a unit can report or a status be asked for, latest first: from the reporting start
    (at most MONTHS_SHOWN back) to the current month."""
    month = today.replace(day=1)
    first = max(reporting_start(), add_months(month, 1 - MONTHS_SHOWN))
    months = []
    while month >= first:
        months.append(month)
        month = add_months(month, -1)
    return months
