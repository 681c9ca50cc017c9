"""The reporting calendar, defined once (docs/architecture.md, "The reporting calendar and who
owes"). Dates only: who owes is reporting/owing.py, a closed plan's freeze projects/lifecycle.py.

* the month asked for on a date (`month_asked`): last month, from the 1st;
* its deadline (`report_deadline`): the reporting day (TRACKER_REPORTING_DAY) of the next month;
* the latest late month (`late_month`): the latest month whose deadline is before the date;
* the first month an entry owes (`first_month_due`), the months a form offers (`month_choices`),
  and which months and days a report or milestone may carry (`check_report_month`,
  `check_met_date`)."""
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


def month_asked(as_of: datetime.date) -> datetime.date:
    """The month units are asked to report on `as_of`: last month, from the 1st (on 2026-12-01
    and on 2026-12-05 alike, 2026-11). The report form, the month template, 我的事项, the
    navigation's to-do, the dashboard's reporting card and 填报情况 open on it."""
    return previous_month(as_of)


def late_month(as_of: datetime.date) -> datetime.date:
    """The latest month that is late if not filed by `as_of`: the latest month whose deadline is
    before as_of (on 2026-12-05 it is 2026-10, on 2026-12-06 2026-11). The late-report rule
    counts missed months up to it."""
    month = previous_month(as_of)
    return month if as_of > report_deadline(month) else previous_month(month)


def is_late(month: datetime.date, as_of: datetime.date, filed: bool) -> bool:
    """A month's report is late when as_of is after its deadline and it has not been filed."""
    return not filed and as_of > report_deadline(month)


def first_month_due(start_year, plan_start_year=None) -> datetime.date:
    """The first month an entry owes a report: January of its own start year and of its plan's
    start year, whichever is later (an entry without a period of its own: its plan's), never
    before reporting began (TRACKER_REPORTING_START)."""
    years = [y for y in (start_year, plan_start_year) if y]
    start = datetime.date(max(years), 1, 1) if years else reporting_start()
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
