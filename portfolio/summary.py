"""Portfolio figures computed by the database, always within the user's scope.

Sums over entries never join reports or units (which would double count): per-entry
figures (latest cumulative, expected share) come from correlated subqueries.
"""
import datetime
from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, Sum, Value
from django.db.models.functions import Coalesce, ExtractYear

from projects.models import AnnualTarget, Item, ItemStatus, ItemUnit, ListKind, ProjectType, StatusReport, Unit

from .models import Flag, Light, Severity, with_light
from .rules import annotate_rules, due_report_month, previous_month

DEC = DecimalField(max_digits=20, decimal_places=6)
ZERO = Value(Decimal("0"), output_field=DEC)


def project_figures(items, as_of):
    """Annotate projects with light, latest cumulative and expected amount (亿元) by as_of."""
    qs = with_light(annotate_rules(items.filter(list_kind=ListKind.PROJECT), as_of))
    return qs.annotate(
        expected_amount=ExpressionWrapper(
            Coalesce(F("expected_pct"), ZERO) * Coalesce(F("total_investment"), ZERO) / Value(Decimal("100")),
            output_field=DEC),
    )


def money_totals(qs):
    return qs.aggregate(
        count=Count("pk"),
        total=Sum("total_investment"),
        plan=Sum("plan_investment"),
        completed=Sum("cumulative"),
        expected=Sum("expected_amount"),
        known_total=Sum("total_investment", filter=Q(total_investment__isnull=False)),
        completed_known=Sum("cumulative", filter=Q(total_investment__isnull=False)),
    )


def rate(part, whole):
    if not whole:
        return None
    return (Decimal(part or 0) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def grouped(qs, key):
    rows = qs.values(key).annotate(
        count=Count("pk"), total=Sum("total_investment"), plan=Sum("plan_investment"),
        completed=Sum("cumulative"), expected=Sum("expected_amount"),
    ).order_by(key)
    return list(rows)


def portfolio_summary(user, as_of: datetime.date, plan=None):
    items = Item.objects.visible_to(user)
    if plan is not None:
        items = items.filter(plan=plan)
    per_list = {r["list_kind"]: r["n"] for r in items.values("list_kind").annotate(n=Count("pk"))}
    projects = project_figures(items, as_of)
    totals = money_totals(projects)
    totals["completion_rate"] = rate(totals["completed_known"], totals["known_total"])
    totals["expected_rate"] = rate(totals["expected"], totals["known_total"])
    totals["actual_rate"] = rate(totals["completed_known"], totals["known_total"])

    lights = {r["light"]: r["n"] for r in projects.order_by().values("light").annotate(n=Count("pk"))}
    by_category = grouped(projects, "category__name")
    order = {c: i for i, c in enumerate(
        projects.order_by("category__order").values_list("category__name", flat=True).distinct())}
    by_category.sort(key=lambda r: order.get(r["category__name"], 99))
    for r in by_category:
        r["category_id"] = projects.filter(category__name=r["category__name"]).values_list("category_id", flat=True).first()
    by_type = grouped(projects, "project_type")
    for r in by_type:
        r["label"] = ProjectType(r["project_type"]).label if r["project_type"] else "—"
    lights_by_category = defaultdict(dict)
    for r in projects.values("category__name", "light").annotate(n=Count("pk")):
        lights_by_category[r["category__name"]][r["light"]] = r["n"]

    planned_by_year = {
        r["year"]: r["s"] for r in AnnualTarget.objects.filter(item__in=items.filter(list_kind=ListKind.PROJECT))
        .values("year").annotate(s=Sum("planned_investment"))
    }
    completed_by_year = {
        r["y"]: r["s"] for r in StatusReport.objects.filter(item__in=items.filter(list_kind=ListKind.PROJECT),
                                                             month__lte=as_of)
        .annotate(y=ExtractYear("month")).values("y").annotate(s=Sum("month_investment"))
    }
    years = sorted(set(planned_by_year) | set(completed_by_year) | set(range(2021, 2026)))
    by_year = [{"year": y, "planned": planned_by_year.get(y), "completed": completed_by_year.get(y)} for y in years]

    red_flags = (Flag.objects.filter(resolved_on__isnull=True, severity=Severity.RED, item__in=items)
                 .select_related("item").order_by("item__list_kind", "item__seq", "kind"))
    red_items = {}
    for f in red_flags:
        red_items.setdefault(f.item_id, {"item": f.item, "flags": []})["flags"].append(f)

    return {
        "per_list": [(k, per_list.get(k.value, 0)) for k in ListKind],
        "totals": totals,
        "lights": {light.value: lights.get(light.value, 0) for light in Light},
        "by_category": by_category,
        "by_type": by_type,
        "lights_by_category": dict(lights_by_category),
        "by_year": by_year,
        "red_items": list(red_items.values()),
    }


RANKING_FORMULA = (
    "得分 = 100 × (0.6 × min(投资序时完成度, 1) + 0.4 × 按时填报率) − 5 × 红灯事项数"
    "（单位没有某项指标时，按其余指标的权重折算）；"
    "投资序时完成度 = 实际累计完成投资 ÷ 按序时进度应完成投资；"
    "按时填报率 = 近 6 个月按期（次月报送日前）提交的月报数 ÷ 应报月报数（推进中的事项）。"
)


def unit_ranking(user, as_of: datetime.date, plan=None, months=6):
    """Units ranked by investment pace, on-time reporting and open red flags (赛马)."""
    from django.conf import settings

    items = Item.objects.visible_to(user)
    if plan is not None:
        items = items.filter(plan=plan)
    units = Unit.objects.filter(item_links__item__in=items).distinct()
    projects = project_figures(items, as_of)
    pace = {}
    for r in (ItemUnit.objects.filter(item__in=projects).values("unit_id")
              .annotate(n=Count("item_id", distinct=True))):
        pace[r["unit_id"]] = {"projects": r["n"]}
    # Expected vs actual per unit: per-entry figures summed per unit (an entry counts once per unit).
    figures = {p.pk: (p.expected_amount or 0, p.cumulative or 0) for p in projects.only("pk")}
    links = list(ItemUnit.objects.filter(item__in=items).values_list("unit_id", "item_id", "item__status"))
    expected, actual = defaultdict(Decimal), defaultdict(Decimal)
    in_progress = defaultdict(set)
    for unit_id, item_id, status in links:
        if item_id in figures:
            expected[unit_id] += Decimal(figures[item_id][0])
            actual[unit_id] += Decimal(figures[item_id][1])
        if status == ItemStatus.IN_PROGRESS:
            in_progress[unit_id].add(item_id)
    last_due = due_report_month(as_of)
    due_months = [last_due]
    while len(due_months) < months:
        due_months.append(previous_month(due_months[-1]))
    on_time = defaultdict(int)
    reporting_day = settings.TRACKER_REPORTING_DAY
    all_in_progress = set().union(*in_progress.values()) if in_progress else set()
    reports = StatusReport.objects.filter(item_id__in=all_in_progress, month__in=due_months) \
        .values_list("item_id", "month", "filed_at")
    on_time_items = defaultdict(int)
    from django.utils import timezone
    for item_id, month, filed_at in reports:
        deadline = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=reporting_day)
        if timezone.localtime(filed_at).date() <= deadline:
            on_time_items[item_id] += 1
    red = defaultdict(int)
    for unit_id, n in (Flag.objects.filter(resolved_on__isnull=True, severity=Severity.RED, item__in=items)
                       .values_list("item__unit_links__unit_id").annotate(n=Count("item", distinct=True))):
        if unit_id:
            red[unit_id] = n
    rows = []
    for unit in units:
        due = len(in_progress[unit.pk]) * len(due_months)
        for item_id in in_progress[unit.pk]:
            on_time[unit.pk] += on_time_items.get(item_id, 0)
        pace_ratio = (actual[unit.pk] / expected[unit.pk]) if expected[unit.pk] else None
        report_rate = Decimal(on_time[unit.pk]) / due if due else None
        parts = [(Decimal("0.6"), min(pace_ratio, Decimal(1)))] if pace_ratio is not None else []
        parts += [(Decimal("0.4"), report_rate)] if report_rate is not None else []
        weight = sum(w for w, _ in parts)
        base = (100 * sum(w * v for w, v in parts) / weight) if weight else Decimal(0)
        score = base - 5 * red[unit.pk]
        rows.append({
            "unit": unit, "projects": pace.get(unit.pk, {}).get("projects", 0),
            "expected": expected[unit.pk], "actual": actual[unit.pk],
            "pace_pct": (pace_ratio * 100).quantize(Decimal("0.1")) if pace_ratio is not None else None,
            "reports_due": due, "reports_on_time": on_time[unit.pk],
            "report_pct": (report_rate * 100).quantize(Decimal("0.1")) if report_rate is not None else None,
            "red": red[unit.pk], "score": score.quantize(Decimal("0.1")), "scored": bool(weight),
        })
    rows.sort(key=lambda r: (not r["scored"], -r["score"], -r["actual"], r["unit"].name))
    for i, r in enumerate(rows, start=1):
        r["rank"] = i
    return rows
