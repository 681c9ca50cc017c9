"""Portfolio figures computed by the database, always within the user's scope.

Sums over entries never join reports or units (which would double count): per-entry
figures (latest cumulative, expected share) come from correlated subqueries.
"""
import datetime
from collections import defaultdict
from decimal import Context, Decimal

from django.db.models import Case, Count, DecimalField, ExpressionWrapper, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce, ExtractYear

from projects.models import AnnualTarget, Item, ItemStatus, ItemUnit, ListKind, ProjectType, StatusReport, Unit

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


MONEY = ("total", "plan", "completed", "expected", "known_total", "completed_known")


# Sums of parts are exact (PostgreSQL's are too): 28 digits could round the long quotients that
# expected amounts carry, and then the sum would depend on the order plans are added in.
EXACT = Context(prec=100)


def _plus(a, b) -> Decimal:
    return EXACT.add(Decimal(a or 0), Decimal(b))


def _str(value):
    return None if value is None else str(value)


PART_FORMAT = 1  # raise when a part's layout changes: stored parts of another layout are recomputed


def empty_part():
    return {"format": PART_FORMAT, "lists": {}, "cats": {}, "types": {}, "planned": {}, "completed": {},
            "red": {}, "units": {}}


def _add_money(acc, row):
    """Adds a row's count and money to acc, as Decimal (_money_as_text writes it back as text)."""
    acc["count"] += row["count"]
    for key in MONEY:
        value = row.get(key)
        if value is not None:
            acc[key] = _plus(acc.get(key), value)


def _money_as_text(row):
    for key in MONEY:
        if key in row:
            row[key] = _str(row[key])


def plan_parts(items, as_of: datetime.date, months=6) -> dict:
    """The dashboard's and the ranking's figures of these entries, one part per plan.

    Every figure in a part adds up across plans (an entry belongs to one plan), so the parts of
    plans that did not change can be kept and summed (merge_parts) with freshly computed ones.
    Plain JSON data, money as decimal strings: {plan_id: part}."""
    parts = defaultdict(empty_part)
    for r in items.order_by().values("plan_id", "list_kind").annotate(n=Count("pk")):
        parts[r["plan_id"]]["lists"][r["list_kind"]] = r["n"]
    fresh = figures_fresh(items, as_of)
    projects = project_figures(items, as_of, fresh)
    # One pass over the projects, grouped by (plan, category, type, light).
    for r in projects.order_by().values(
        "plan_id", "category_id", "category__name", "category__order", "project_type", "light",
    ).annotate(
        count=Count("pk"), total=Sum("total_investment"), plan=Sum("plan_investment"),
        completed=Sum("cumulative"), expected=Sum("expected_amount"),
        known_total=Sum("total_investment", filter=Q(total_investment__isnull=False)),
        completed_known=Sum("cumulative", filter=Q(total_investment__isnull=False)),
    ):
        part = parts[r["plan_id"]]
        # Categories are summed by name across plans, as the dashboard shows them ("" = none).
        cat = part["cats"].setdefault(r["category__name"] or "", {
            "name": r["category__name"], "id": r["category_id"], "order": r["category__order"],
            "lights": {}, "count": 0})
        _add_money(cat, r)
        _add_money(part["types"].setdefault(r["project_type"] or "", {"count": 0}), r)
        cat["lights"][r["light"]] = cat["lights"].get(r["light"], 0) + r["count"]
    for part in parts.values():
        for row in (*part["cats"].values(), *part["types"].values()):
            _money_as_text(row)

    project_items = items.filter(list_kind=ListKind.PROJECT)
    for r in AnnualTarget.objects.filter(item__in=project_items).order_by() \
            .values("item__plan_id", "year").annotate(s=Sum("planned_investment")):
        parts[r["item__plan_id"]]["planned"][str(r["year"])] = _str(r["s"])
    if fresh:
        completed = ItemYearFigures.objects.filter(item__in=project_items).order_by() \
            .values("item__plan_id", "year").annotate(s=Sum("completed"))
    else:
        completed = StatusReport.objects.filter(item__in=project_items, month__lte=as_of) \
            .annotate(year=ExtractYear("month")).order_by().values("item__plan_id", "year") \
            .annotate(s=Sum("month_investment"))
    for r in completed:
        parts[r["item__plan_id"]]["completed"][str(r["year"])] = _str(r["s"])
    red = Flag.objects.filter(resolved_on__isnull=True, severity=Severity.RED, item__in=items).order_by()
    for r in red.values("item__plan_id").annotate(n=Count("item", distinct=True)):
        # Red entries counted per plan: the dashboard lists the first ones in plan order.
        parts[r["item__plan_id"]]["red"][str(r["item__plan_id"])] = r["n"]

    # The ranking's raw figures per (plan, unit): [projects, expected, actual, in progress, on time, red].
    def unit(plan_id, unit_id):
        return parts[plan_id]["units"].setdefault(str(unit_id), [0, "0", "0", 0, 0, 0])

    for r in ItemUnit.objects.filter(item__in=items).order_by().values("item__plan_id", "unit_id").distinct():
        unit(r["item__plan_id"], r["unit_id"])
    # Entries without a unit form a group of their own (unit None), which no unit is ranked on.
    for plan_id, unit_id, n, expected, actual in projects.order_by().values_list("plan_id", "unit_links__unit_id") \
            .annotate(Count("pk"), Sum("expected_amount"), Sum("cumulative")):
        if unit_id is not None:
            unit(plan_id, unit_id)[:3] = [n, _str(expected or 0), _str(actual or 0)]
    in_progress = items.filter(status=ItemStatus.IN_PROGRESS).order_by()
    for plan_id, unit_id, n in in_progress.values_list("plan_id", "unit_links__unit_id").annotate(Count("pk")):
        if unit_id is not None:
            unit(plan_id, unit_id)[3] = n
    if fresh and months == 6:
        on_time = in_progress.values_list("plan_id", "unit_links__unit_id") \
            .annotate(Sum("figures__reports_on_time"))
    else:
        on_time = StatusReport.objects.filter(on_time_filter(as_of, months), item__in=in_progress).order_by() \
            .values_list("item__plan_id", "item__unit_links__unit_id").annotate(Count("pk"))
    for plan_id, unit_id, n in on_time:
        if unit_id is not None:
            unit(plan_id, unit_id)[4] = n or 0
    for plan_id, unit_id, n in red.values_list("item__plan_id", "item__unit_links__unit_id") \
            .annotate(Count("item", distinct=True)):
        if unit_id is not None:
            unit(plan_id, unit_id)[5] = n
    return dict(sorted(parts.items()))


def merge_parts(parts) -> dict:
    """The sum of several parts, itself a part (parts in plan order: the first plan's category
    id and order stand for a category name)."""
    # Money is summed as Decimal and written back as text once, at the end: parsing and
    # formatting it at every addition was most of the time of re-summing a province.
    total = empty_part()
    for part in parts:
        for kind, n in part["lists"].items():
            total["lists"][kind] = total["lists"].get(kind, 0) + n
        for name, row in part["cats"].items():
            cat = total["cats"].setdefault(name, {"name": row["name"], "id": row["id"], "order": row["order"],
                                                  "lights": {}, "count": 0})
            _add_money(cat, row)
            for light, n in row["lights"].items():
                cat["lights"][light] = cat["lights"].get(light, 0) + n
        for project_type, row in part["types"].items():
            _add_money(total["types"].setdefault(project_type, {"count": 0}), row)
        for key in ("planned", "completed"):
            acc = total[key]
            for year, value in part[key].items():
                if value is None:
                    acc.setdefault(year, None)
                else:
                    acc[year] = _plus(acc.get(year), value)
        total["red"].update(part["red"])  # each plan's count comes from one part only
        units = total["units"]
        for unit_id, figures in part["units"].items():
            acc = units.get(unit_id)
            if acc is None:
                units[unit_id] = [figures[0], Decimal(figures[1]), Decimal(figures[2]), *figures[3:]]
                continue
            acc[0] += figures[0]
            acc[1] = EXACT.add(acc[1], Decimal(figures[1]))
            acc[2] = EXACT.add(acc[2], Decimal(figures[2]))
            acc[3] += figures[3]
            acc[4] += figures[4]
            acc[5] += figures[5]
    for row in (*total["cats"].values(), *total["types"].values()):
        _money_as_text(row)
    for key in ("planned", "completed"):
        total[key] = {year: _str(value) for year, value in total[key].items()}
    for figures in total["units"].values():
        figures[1], figures[2] = str(figures[1]), str(figures[2])
    return total



def summary_of(part: dict, items):
    """The dashboard summary of the entries (items) whose figures the part sums."""
    totals = {"count": 0, **dict.fromkeys(MONEY)}
    lights = defaultdict(int)
    by_category, lights_by_category = [], {}
    for row in part["cats"].values():
        name = row["name"]
        cat = {"category__name": name, "category_id": row["id"], "order": row["order"] or 99,
               "count": row["count"], **{key: _decimal(row.get(key)) for key in MONEY}}
        by_category.append(cat)
        for key in MONEY:
            if cat[key] is not None:
                totals[key] = _plus(totals[key], cat[key])
        totals["count"] += row["count"]
        for light, n in row["lights"].items():
            lights[light] += n
        lights_by_category[name] = dict(row["lights"])
    by_category.sort(key=lambda r: (r["order"], r["category__name"] or ""))
    by_type = sorted(({"project_type": project_type, "count": row["count"],
                       **{key: _decimal(row.get(key)) for key in MONEY},
                       "label": ProjectType(project_type).label if project_type else "—"}
                      for project_type, row in part["types"].items()), key=lambda r: r["project_type"])
    totals["completion_rate"] = rate(totals["completed_known"], totals["known_total"])
    totals["expected_rate"] = rate(totals["expected"], totals["known_total"])
    totals["actual_rate"] = rate(totals["completed_known"], totals["known_total"])
    planned = {int(y): _decimal(v) for y, v in part["planned"].items()}
    completed = {int(y): _decimal(v) for y, v in part["completed"].items()}
    years = sorted(set(planned) | set(completed) | set(range(2021, 2026)))
    return {
        "per_list": [(k, part["lists"].get(k.value, 0)) for k in ListKind],
        "totals": totals,
        "lights": {light.value: lights.get(light.value, 0) for light in Light},
        "by_category": by_category,
        "by_type": by_type,
        "lights_by_category": lights_by_category,
        "by_year": [{"year": y, "planned": planned.get(y), "completed": completed.get(y)} for y in years],
        "red_items": red_items(items, part["red"]),
        "red_count": sum(part["red"].values()),
    }


def _decimal(value):
    return None if value is None else Decimal(value)


def red_items(items, red_by_plan):
    """The first RED_SHOWN entries with open red flags, in plan, list and 序号 order, with their flags.

    The red counts per plan tell which plans hold them, so only those plans are read."""
    plans, counted = [], 0
    for plan_id in sorted(int(p) for p, n in red_by_plan.items() if n):
        if counted >= RED_SHOWN:
            break
        plans.append(plan_id)
        counted += red_by_plan[str(plan_id)]
    if not plans:
        return []
    red = Flag.objects.filter(resolved_on__isnull=True, severity=Severity.RED, item__in=items,
                              item__plan_id__in=plans)
    shown = list(red.order_by("item__plan_id", "item__list_kind", "item__seq")
                 .values_list("item_id", flat=True).distinct()[:RED_SHOWN * 3])
    found = {}
    for f in red.filter(item_id__in=shown).select_related("item").order_by("item__plan_id", "item__list_kind",
                                                                             "item__seq", "kind"):
        if len(found) < RED_SHOWN or f.item_id in found:
            found.setdefault(f.item_id, {"item": f.item, "flags": []})["flags"].append(f)
    return list(found.values())


def _scoped(user, plan):
    items = Item.objects.visible_to(user)
    return items.filter(plan=plan) if plan is not None else items


def portfolio_summary(user, as_of: datetime.date, plan=None):
    items = _scoped(user, plan)
    return summary_of(merge_parts(plan_parts(items, as_of).values()), items)


RANKING_FORMULA = (
    "得分 = 100 × (0.6 × min(投资序时完成度, 1) + 0.4 × 按时填报率) − 5 × 红灯事项数"
    "（单位没有某项指标时，按其余指标的权重折算）；"
    "投资序时完成度 = 实际累计完成投资 ÷ 按序时进度应完成投资；"
    "按时填报率 = 近 6 个月按期（次月报送日前）提交的月报数 ÷ 应报月报数（推进中的事项）。"
)


def unit_ranking(user, as_of: datetime.date, plan=None, months=6):
    """Units ranked by investment pace, on-time reporting and open red flags (赛马).

    Every figure comes from grouped queries through the unit links, so an entry counts once per unit."""
    return ranking_of(merge_parts(plan_parts(_scoped(user, plan), as_of, months).values()), months)


def ranking_of(part: dict, months=6):
    """The unit ranking from a part's per-unit figures."""
    rows = []
    for unit in Unit.objects.filter(pk__in=[int(u) for u in part["units"]]):
        projects, expected, actual, in_progress, filed, red = part["units"][str(unit.pk)]
        expected, actual = Decimal(expected), Decimal(actual)
        due = in_progress * months
        pace_ratio = (actual / expected) if expected else None
        report_rate = Decimal(filed) / due if due else None
        terms = [(Decimal("0.6"), min(pace_ratio, Decimal(1)))] if pace_ratio is not None else []
        terms += [(Decimal("0.4"), report_rate)] if report_rate is not None else []
        weight = sum(w for w, _ in terms)
        base = (100 * sum(w * v for w, v in terms) / weight) if weight else Decimal(0)
        score = base - 5 * red
        rows.append({
            "unit": unit, "projects": projects, "expected": expected, "actual": actual,
            "pace_pct": (pace_ratio * 100).quantize(Decimal("0.1")) if pace_ratio is not None else None,
            "reports_due": due, "reports_on_time": filed,
            "report_pct": (report_rate * 100).quantize(Decimal("0.1")) if report_rate is not None else None,
            "red": red, "score": score.quantize(Decimal("0.1")), "scored": bool(weight),
        })
    rows.sort(key=lambda r: (not r["scored"], -r["score"], -r["actual"], r["unit"].name))
    for i, r in enumerate(rows, start=1):
        r["rank"] = i
    return rows
