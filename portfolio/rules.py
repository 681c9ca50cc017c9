"""The rules, one object each, in one registry (docs/architecture.md, "How to add a rule").

A rule has a code and a Chinese label, a condition over the facts (`portfolio.facts`) in two
forms — a SQL `Q` for every entry at once and a Python predicate for one entry — its severity
(fixed, or banded on one fact with thresholds from settings, applied by both forms from the
same bands), the facts its flag stores (facts that do not move with the date), and the
sentence that describes a flag, computed when it is shown.

An entry's light is derived here too, once per form: `light_expression` (SQL) and `light_of`.
"""
import datetime
import operator
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import models
from django.db.models import Case, Q, Value, When

from projects.lights import SEVERITY_RANK, Light, Severity  # noqa: F401  (part of the rules' API)
from projects.models import ItemStatus, ListKind, ProjectType, is_listed, listed_q
from reporting.calendar import late_month, months_between

from .facts import facts_for, month_of_index, with_facts


CLOSED = (ItemStatus.COMPLETED, ItemStatus.CANCELLED)
_COMPARE = {"gt": operator.gt, "gte": operator.ge}


def _pct(value):
    return None if value is None else str(Decimal(value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


class Rule:
    code = ""
    label = ""
    severity = Severity.YELLOW  # when the rule has no bands
    measure = None  # the fact the bands look at

    def bands(self):
        """[(severity, lookup, threshold)], worst first: the first band the measure passes wins."""
        return []

    def condition(self, as_of) -> Q:
        """SQL form: holds for an entry annotated by facts.with_facts (bands aside)."""
        raise NotImplementedError

    def holds(self, facts, as_of) -> bool:
        """Python form of `condition` for one entry's facts."""
        raise NotImplementedError

    def detail(self, facts) -> dict:
        """The facts the flag keeps: nothing that changes with the date alone."""
        return {}

    def describe(self, detail, as_of, figures=None) -> str:
        raise NotImplementedError

    def explain(self) -> str:
        """When the rule holds, in a phrase for readers of the dashboard."""
        return ""

    # -- derived: both forms read the same bands --------------------------------------------

    def severity_expression(self, as_of):
        condition = (self.condition(as_of) & (Q(carried_year__isnull=True) | Q(carried_year__gt=as_of.year))
                     & listed_q(as_of))
        bands = self.bands()
        if not bands:
            return Case(When(condition, then=Value(self.severity.value)), default=None,
                        output_field=models.CharField())
        return Case(*[When(condition & Q(**{f"{self.measure}__{lookup}": threshold}), then=Value(severity.value))
                      for severity, lookup, threshold in bands], default=None, output_field=models.CharField())

    def severity_of(self, facts, as_of):
        """The severity of this rule's finding for one entry, or None when it does not hold."""
        if carried_on(facts, as_of) or not is_listed(facts.added_on, facts.withdrawn_on, as_of) \
                or not self.holds(facts, as_of):
            return None
        bands = self.bands()
        if not bands:
            return self.severity
        value = facts.get(self.measure)
        for severity, lookup, threshold in bands:
            if value is not None and _COMPARE[lookup](value, threshold):
                return severity
        return None


def carried_on(facts, as_of) -> bool:
    """The entry continues as an entry of a later plan that has begun: that entry is the one
    the rules watch now (the same project is not flagged twice)."""
    return facts.carried_year is not None and facts.carried_year <= as_of.year


def _is_open(facts):
    return facts.status not in CLOSED


class Overdue(Rule):
    code, label, severity = "overdue", "逾期", Severity.RED

    def condition(self, as_of):
        return ~Q(status__in=CLOSED) & Q(end_year__lt=as_of.year)

    def holds(self, facts, as_of):
        return _is_open(facts) and facts.end_year is not None and facts.end_year < as_of.year

    def detail(self, facts):
        return {"end_year": facts.end_year}

    def describe(self, detail, as_of, figures=None):
        days = (as_of - datetime.date(detail["end_year"], 12, 31)).days
        return f"建设期限 {detail['end_year']} 年已过，逾期 {days} 天"

    def explain(self):
        return "建设期限已过仍未完成（红灯）"


class MilestoneOverdue(Rule):
    code, label, severity = "milestone_overdue", "节点逾期", Severity.RED

    def condition(self, as_of):
        return ~Q(status__in=CLOSED) & Q(milestone_due__lt=as_of)

    def holds(self, facts, as_of):
        return _is_open(facts) and facts.milestone_due is not None and facts.milestone_due < as_of

    def detail(self, facts):
        return {"milestone": facts.milestone_name, "due_date": facts.milestone_due.isoformat()}

    def describe(self, detail, as_of, figures=None):
        due = datetime.date.fromisoformat(detail["due_date"])
        return f"节点“{detail['milestone']}”计划 {detail['due_date']}，逾期 {(as_of - due).days} 天"

    def explain(self):
        return "计划节点已到期未完成（红灯）"


class ReportMissing(Rule):
    code, label, measure = "report_missing", "逾期未报", "months_missed"

    def bands(self):
        return [(Severity.RED, "gte", settings.TRACKER_REPORT_MISSING_RED_MONTHS), (Severity.YELLOW, "gte", 1)]

    def condition(self, as_of):
        return Q(status=ItemStatus.IN_PROGRESS)

    def holds(self, facts, as_of):
        return facts.status == ItemStatus.IN_PROGRESS

    def detail(self, facts):
        return {"since": facts.missed_since.strftime("%Y-%m"),
                "last_month": facts.last_month.strftime("%Y-%m") if facts.last_month else None}

    def describe(self, detail, as_of, figures=None):
        due = late_month(as_of)
        since = datetime.date.fromisoformat(detail["since"] + "-01")
        missed = months_between(since, due) + 1
        last = f"（最近一次填报 {detail['last_month']}）" if detail.get("last_month") else "（从未填报）"
        return f"{due:%Y-%m} 月进度未报，已连续 {missed} 个月未报{last}"

    def explain(self):
        return (f"推进中的事项过了每月 {settings.TRACKER_REPORTING_DAY} 日仍未报上月进度（黄灯；"
                f"连续 {settings.TRACKER_REPORT_MISSING_RED_MONTHS} 个月未报为红灯）")


class Underfunded(Rule):
    code, label, measure = "underfunded", "投资滞后", "points_behind"

    def bands(self):
        # Both thresholds live here, for the SQL and the Python form alike.
        return [(Severity.RED, "gt", settings.TRACKER_UNDERFUNDED_RED_POINTS),
                (Severity.YELLOW, "gt", settings.TRACKER_UNDERFUNDED_YELLOW_POINTS)]

    # Two measures, one fact (`points_behind`, portfolio/facts.py): with an annual target of the
    # date's year (年度计划投资 > 0), the year's 序时进度 (months done ÷ 12) minus its 完成率 (investment
    # reported this year ÷ the year's plan); without one, the period's: the total spread evenly
    # over the construction period minus the cumulative share.
    def condition(self, as_of):
        return ~Q(status__in=CLOSED) & Q(list_kind=ListKind.PROJECT, points_behind__isnull=False)

    def holds(self, facts, as_of):
        return _is_open(facts) and facts.list_kind == ListKind.PROJECT and facts.points_behind is not None

    def describe(self, detail, as_of, figures=None):
        if figures is None:
            return "投资完成落后于序时进度"
        if getattr(figures, "year_expected_pct", None) is not None:
            return (f"年度序时进度 {_pct(figures.year_expected_pct)}%，年度计划完成 {_pct(figures.year_actual_pct)}%，"
                    f"落后 {_pct(figures.points_behind)} 个百分点")
        return (f"序时进度应完成 {_pct(figures.expected_pct)}%，实际 {_pct(figures.actual_pct)}%，"
                f"落后 {_pct(figures.points_behind)} 个百分点")

    def explain(self):
        return (f"投资完成落后序时进度超过 {settings.TRACKER_UNDERFUNDED_YELLOW_POINTS} 个百分点（黄灯；"
                f"超过 {settings.TRACKER_UNDERFUNDED_RED_POINTS} 个百分点为红灯）：有当年年度计划投资的按年度"
                f"序时进度（已过月数 ÷ 12）比年度完成率，否则按建设期均摊比累计完成，未填报的按 0 计")


class StartLate(Rule):
    """开工滞后: a 新建 project (or a 前期 one with a planned start) whose planned start month has
    passed, still 未开工 and no 开工 milestone met. The planned start month is the annual target's
    planned start month, else a 开工 milestone's due month, else January of its start year
    (`start_due_index`, portfolio/facts.py)."""

    code, label, measure = "start_late", "开工滞后", "start_months_late"

    def bands(self):
        return [(Severity.RED, "gte", settings.TRACKER_START_LATE_RED_MONTHS), (Severity.YELLOW, "gte", 1)]

    def condition(self, as_of):
        return Q(status=ItemStatus.NOT_STARTED, start_due_index__isnull=False) & ~Q(start_met=True)

    def holds(self, facts, as_of):
        return (facts.status == ItemStatus.NOT_STARTED and facts.start_due_index is not None
                and not facts.start_met)

    def detail(self, facts):
        return {"planned": month_of_index(facts.start_due_index).strftime("%Y-%m")}

    def describe(self, detail, as_of, figures=None):
        planned = datetime.date.fromisoformat(detail["planned"] + "-01")
        late = months_between(planned, as_of.replace(day=1))
        return f"计划 {detail['planned']} 开工，至今未开工，已滞后 {late} 个月"

    def explain(self):
        return (f"新建项目（或有计划开工时间的前期项目）计划开工月份已过仍未开工（黄灯；"
                f"滞后 {settings.TRACKER_START_LATE_RED_MONTHS} 个月起为红灯）")


class Unassigned(Rule):
    code, label, severity = "unassigned", "责任未落实", Severity.YELLOW

    def condition(self, as_of):
        return ~Q(status__in=CLOSED) & Q(has_unit=False)

    def holds(self, facts, as_of):
        return _is_open(facts) and not facts.has_unit

    def describe(self, detail, as_of, figures=None):
        return "责任单位未落实（待定、业主单位或空白）"

    def explain(self):
        return "没有责任单位（黄灯）"


class InvestmentUnknown(Rule):
    code, label, severity = "investment_unknown", "投资待定", Severity.INFO
    TYPES = (ProjectType.NEW, ProjectType.CONTINUING)

    def condition(self, as_of):
        return ~Q(status__in=CLOSED) & Q(list_kind=ListKind.PROJECT, total_investment__isnull=True,
                                         project_type__in=self.TYPES)

    def holds(self, facts, as_of):
        return (_is_open(facts) and facts.list_kind == ListKind.PROJECT and facts.total_investment is None
                and facts.project_type in self.TYPES)

    def describe(self, detail, as_of, figures=None):
        return "总投资待定"

    def explain(self):
        return "新建、续建项目总投资待定（提示，不影响灯号）"


RULES = [Overdue(), MilestoneOverdue(), ReportMissing(), Underfunded(), StartLate(), Unassigned(), InvestmentUnknown()]
RULES_BY_CODE = {rule.code: rule for rule in RULES}


def rule_choices():
    return [(rule.code, rule.label) for rule in RULES]


# ---------------------------------------------------------------- the light, in one place

def light_of(status, severities) -> str:
    """Python form: done when completed, else the worst severity found (info does not colour)."""
    if status == ItemStatus.COMPLETED:
        return Light.DONE
    if Severity.RED in severities:
        return Light.RED
    if Severity.YELLOW in severities:
        return Light.YELLOW
    return Light.GREEN


def light_expression():
    """SQL form over entries annotated by `with_findings` (one sev_<code> column per rule)."""
    def any_rule(severity):
        condition = Q(pk__in=[])
        for rule in RULES:
            condition |= Q(**{f"sev_{rule.code}": severity.value})
        return condition

    return Case(
        When(status=ItemStatus.COMPLETED, then=Value(Light.DONE.value)),
        When(any_rule(Severity.RED), then=Value(Light.RED.value)),
        When(any_rule(Severity.YELLOW), then=Value(Light.YELLOW.value)),
        default=Value(Light.GREEN.value), output_field=models.CharField(),
    )


# ---------------------------------------------------------------- findings

def with_findings(queryset, as_of: datetime.date, source="live"):
    """Entries with their facts, each rule's severity (sev_<code>, NULL when it does not hold)
    and their light, as of a date."""
    annotated = with_facts(queryset, as_of, source)
    annotated = annotated.annotate(**{f"sev_{rule.code}": rule.severity_expression(as_of) for rule in RULES})
    return annotated.annotate(light=light_expression())


FACT_COLUMNS = ("pk", "status", "end_year", "last_month", "milestone_name", "milestone_due", "missed_since_index",
                "start_due_index")


class _Row:
    """A findings row read back from SQL, with the attribute names of facts.Facts."""

    def __init__(self, row):
        self.__dict__.update(row)
        self.missed_since = month_of_index(row.get("missed_since_index"))

    def get(self, name):
        return getattr(self, name)


def findings(as_of: datetime.date, items=None, source="live") -> dict:
    """{(item_id, rule code): (severity, detail)} for every rule that holds, in one query."""
    if items is None:
        from projects.models import Item

        items = Item.objects.all()
    any_rule = Q(pk__in=[])
    for rule in RULES:
        any_rule |= Q(**{f"sev_{rule.code}__isnull": False})
    rows = with_findings(items, as_of, source).filter(any_rule).values(
        *FACT_COLUMNS, *(f"sev_{rule.code}" for rule in RULES))
    result = {}
    columns = [(rule, f"sev_{rule.code}") for rule in RULES]
    for row in rows:
        facts = _Row(row)
        for rule, column in columns:
            severity = row[column]
            if severity is not None:
                result[(row["pk"], rule.code)] = (severity, rule.detail(facts))
    return result


def findings_in_python(as_of: datetime.date, items) -> dict:
    """The same findings from the Python form, entry by entry (for tests and single entries)."""
    result = {}
    for item in items.select_related("plan", "successor__plan", "predecessor__predecessor").prefetch_related(
            "reports", "milestones", "annual_targets", "unit_links", "predecessor__reports", "predecessor__predecessor__reports"):
        facts = facts_for(item, as_of)
        for rule in RULES:
            severity = rule.severity_of(facts, as_of)
            if severity is not None:
                result[(item.pk, rule.code)] = (Severity(severity).value, rule.detail(facts))
    return result
