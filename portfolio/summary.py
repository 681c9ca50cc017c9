"""Portfolio figures computed by the database, always within the user's scope.

Sums over entries never join reports or units (which would double count): per-entry
figures (latest cumulative, expected share) come from correlated subqueries.
"""
import datetime
from collections import defaultdict
from decimal import Decimal

from django.db.models import Case, Count, DecimalField, ExpressionWrapper, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce, ExtractYear

from projects.models import AnnualTarget, Item, ItemStatus, ListKind, ProjectType, StatusReport, Unit

from .models import Flag, ItemFigures, ItemYearFigures, Light, Severity, with_light
from .rules import annotate_rules, on_time_filter

DEC = DecimalField(max_digits=20, decimal_places=6)
RED_SHOWN = 200  # red entries listed on the dashboard; the count covers all
ZERO = Value(Decimal("0"), output_field=DEC)


def figures_fresh(items, as_of) -> bool:
    """True when every entry in scope has evaluation figures for exactly this date."""
    return ItemFigures.objects.filter(as_of=as_of).exists() and not items.exclude(figures__as_of=as_of).exists()


def project_figures(items, as_of, fresh=None):
    """Annotate projects with light, latest cumulative and expected amount (亿元) by as_of.

    Read from the evaluation figures when they are for this date, else derived live."""
    projects = items.filter(list_kind=ListKind.PROJECT)
    if fresh if fresh is not None else figures_fresh(items, as_of):
        return projects.annotate(
            cumulative=F("figures__cumulative"), expected_amount=F("figures__expected_amount"),
            light=Case(When(status=ItemStatus.COMPLETED, then=Value(Light.DONE)), default=F("figures__light")),
        )
    qs = with_light(annotate_rules(projects, as_of))
    return qs.annotate(
        expected_amount=ExpressionWrapper(
            Coalesce(F("expected_pct"), ZERO) * Coalesce(F("total_investment"), ZERO) / Value(Decimal("100")),
            output_field=DEC),
    )


def rate(part, whole):
    if not whole:
        return None
    return (Decimal(part or 0) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def portfolio_summary(user, as_of: datetime.date, plan=None):
    items = Item.objects.visible_to(user)
    if plan is not None:
        items = items.filter(plan=plan)
    per_list = {r["list_kind"]: r["n"] for r in items.values("list_kind").annotate(n=Count("pk"))}
    fresh = figures_fresh(items, as_of)
    projects = project_figures(items, as_of, fresh)
    # One pass over the projects, grouped by (category, type, light); everything else is summed here.
    groups = list(projects.order_by().values(
        "category_id", "category__name", "category__order", "project_type", "light",
    ).annotate(
        count=Count("pk"), total=Sum("total_investment"), plan=Sum("plan_investment"),
        completed=Sum("cumulative"), expected=Sum("expected_amount"),
        known_total=Sum("total_investment", filter=Q(total_investment__isnull=False)),
        completed_known=Sum("cumulative", filter=Q(total_investment__isnull=False)),
    ))
    money_keys = ("total", "plan", "completed", "expected", "known_total", "completed_known")

    def add(acc, row):
        acc["count"] = acc.get("count", 0) + row["count"]
        for key in money_keys:
            if row[key] is not None:
                acc[key] = (acc.get(key) or Decimal(0)) + row[key]
        return acc

    totals = {"count": 0, **dict.fromkeys(money_keys)}
    by_cat, by_type_acc, lights = {}, {}, defaultdict(int)
    lights_by_category = defaultdict(lambda: defaultdict(int))
    for row in groups:
        add(totals, row)
        name = row["category__name"]
        cat = by_cat.setdefault(name, {"category__name": name, "category_id": row["category_id"],
                                       "order": row["category__order"] or 99, **dict.fromkeys(money_keys)})
        add(cat, row)
        add(by_type_acc.setdefault(row["project_type"], {"project_type": row["project_type"],
                                                         **dict.fromkeys(money_keys)}), row)
        lights[row["light"]] += row["count"]
        lights_by_category[name][row["light"]] += row["count"]
    totals["completion_rate"] = rate(totals["completed_known"], totals["known_total"])
    totals["expected_rate"] = rate(totals["expected"], totals["known_total"])
    totals["actual_rate"] = rate(totals["completed_known"], totals["known_total"])
    by_category = sorted(by_cat.values(), key=lambda r: (r["order"], r["category__name"] or ""))
    by_type = sorted(by_type_acc.values(), key=lambda r: r["project_type"] or "")
    for r in by_type:
        r["label"] = ProjectType(r["project_type"]).label if r["project_type"] else "—"
    lights_by_category = {k: dict(v) for k, v in lights_by_category.items()}

    planned_by_year = {
        r["year"]: r["s"] for r in AnnualTarget.objects.filter(item__in=items.filter(list_kind=ListKind.PROJECT))
        .values("year").annotate(s=Sum("planned_investment"))
    }
    if fresh:
        completed_by_year = {
            r["year"]: r["s"] for r in ItemYearFigures.objects.filter(
                item__in=items.filter(list_kind=ListKind.PROJECT)).values("year").annotate(s=Sum("completed"))
        }
    else:
        completed_by_year = {
            r["y"]: r["s"] for r in StatusReport.objects.filter(
                item__in=items.filter(list_kind=ListKind.PROJECT), month__lte=as_of)
            .annotate(y=ExtractYear("month")).values("y").annotate(s=Sum("month_investment"))
        }
    years = sorted(set(planned_by_year) | set(completed_by_year) | set(range(2021, 2026)))
    by_year = [{"year": y, "planned": planned_by_year.get(y), "completed": completed_by_year.get(y)} for y in years]

    red = Flag.objects.filter(resolved_on__isnull=True, severity=Severity.RED, item__in=items)
    red_count = red.values("item_id").distinct().count()
    shown = list(red.order_by("item__plan_id", "item__list_kind", "item__seq")
                 .values_list("item_id", flat=True).distinct()[:RED_SHOWN * 3])
    red_items = {}
    for f in red.filter(item_id__in=shown).select_related("item").order_by("item__plan_id", "item__list_kind",
                                                                             "item__seq", "kind"):
        if len(red_items) < RED_SHOWN or f.item_id in red_items:
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
        "red_count": red_count,
    }


RANKING_FORMULA = (
    "得分 = 100 × (0.6 × min(投资序时完成度, 1) + 0.4 × 按时填报率) − 5 × 红灯事项数"
    "（单位没有某项指标时，按其余指标的权重折算）；"
    "投资序时完成度 = 实际累计完成投资 ÷ 按序时进度应完成投资；"
    "按时填报率 = 近 6 个月按期（次月报送日前）提交的月报数 ÷ 应报月报数（推进中的事项）。"
)


def unit_ranking(user, as_of: datetime.date, plan=None, months=6):
    """Units ranked by investment pace, on-time reporting and open red flags (赛马).

    Every figure is one grouped query through the unit links, so an entry counts once per unit."""
    items = Item.objects.visible_to(user)
    if plan is not None:
        items = items.filter(plan=plan)
    fresh = figures_fresh(items, as_of)
    pace = {r["unit_links__unit_id"]: r for r in project_figures(items, as_of, fresh).order_by()
            .values("unit_links__unit_id").annotate(projects=Count("pk"), expected=Sum("expected_amount"),
                                                    actual=Sum("cumulative"))}
    in_progress = {r["unit_links__unit_id"]: r["n"] for r in items.filter(status=ItemStatus.IN_PROGRESS)
                   .order_by().values("unit_links__unit_id").annotate(n=Count("pk"))}
    if fresh and months == 6:
        on_time = {r["unit_links__unit_id"]: r["n"] for r in items.filter(status=ItemStatus.IN_PROGRESS)
                   .order_by().values("unit_links__unit_id").annotate(n=Sum("figures__reports_on_time"))}
    else:
        on_time = {r["item__unit_links__unit_id"]: r["n"] for r in StatusReport.objects.filter(
            on_time_filter(as_of, months), item__in=items.filter(status=ItemStatus.IN_PROGRESS)).order_by()
            .values("item__unit_links__unit_id").annotate(n=Count("pk"))}
    red = {r["item__unit_links__unit_id"]: r["n"] for r in Flag.objects.filter(
        resolved_on__isnull=True, severity=Severity.RED, item__in=items).order_by()
        .values("item__unit_links__unit_id").annotate(n=Count("item", distinct=True))}
    rows = []
    for unit in Unit.objects.filter(item_links__item__in=items).distinct():
        p = pace.get(unit.pk, {})
        expected, actual = p.get("expected") or Decimal(0), p.get("actual") or Decimal(0)
        due = in_progress.get(unit.pk, 0) * months
        filed = on_time.get(unit.pk) or 0
        pace_ratio = (actual / expected) if expected else None
        report_rate = Decimal(filed) / due if due else None
        parts = [(Decimal("0.6"), min(pace_ratio, Decimal(1)))] if pace_ratio is not None else []
        parts += [(Decimal("0.4"), report_rate)] if report_rate is not None else []
        weight = sum(w for w, _ in parts)
        base = (100 * sum(w * v for w, v in parts) / weight) if weight else Decimal(0)
        score = base - 5 * red.get(unit.pk, 0)
        rows.append({
            "unit": unit, "projects": p.get("projects", 0), "expected": expected, "actual": actual,
            "pace_pct": (pace_ratio * 100).quantize(Decimal("0.1")) if pace_ratio is not None else None,
            "reports_due": due, "reports_on_time": filed,
            "report_pct": (report_rate * 100).quantize(Decimal("0.1")) if report_rate is not None else None,
            "red": red.get(unit.pk, 0), "score": score.quantize(Decimal("0.1")), "scored": bool(weight),
        })
    rows.sort(key=lambda r: (not r["scored"], -r["score"], -r["actual"], r["unit"].name))
    for i, r in enumerate(rows, start=1):
        r["rank"] = i
    return rows
