"""Zones compared (现场比拼 one level up): for a leader above zone level, one row per organisation
below theirs, each over the entries of the plans in force that it and its subtree own.

Every figure is the dashboard's own, grouped by the owning organisation instead of summed over
the user's scope (docs/architecture.md, "Zones compared"):

* entries, lights (every list), 重大项目 总投资 and 规划期投资 — compute_dashboard's;
* 年度计划投资 and 1–N月完成投资 against the time progress — the 总体情况's (compute_overview);
* reporting of the month asked for: due and still owing — the dashboard's reporting_counts' (reporting.owing);
* open problems — the dashboard's loop card (supervision Problem.objects.open());
* indicators lagging — the indicator card's red count (status_counts at the plan's default year).

The raw figures are additive counters per owning organisation (one grouped query each); a row
of the tree is its own counters plus its children's, so every 小计 is the sum of its rows and
the rates are worked out from the sums."""
import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Exists, F, FilteredRelation, OuterRef, Q, Sum

from indicators.evaluation import default_year, status_counts
from indicators.models import Indicator
from projects.lights import Light
from projects.models import Item, ItemStatus, ListKind, Organisation, Plan, organisations_in_reach
from projects.versions import cached, scope_key
from reporting.calendar import late_month, month_asked
from reporting.models import AnnualTarget
from reporting.owing import owes_report, reported_for
from supervision.models import Problem

from .summary import entry_figures, in_force_entries, rate, year_to_month

COUNTERS = ("entries", "projects", "total", "plan", "year_planned", "year_completed", "red", "yellow", "green",
            "due", "owing", "problems", "indicators_red", "indicators")
FORMULA = ("得分 = 60 × 投资完成度 + 40 × 按期填报率 − 20 × 红灯占比。"
           "投资完成度 = 1–N月完成投资占年度投资计划的比例 ÷ 时间进度（N ÷ 12），最高计 1；"
           "按期填报率 = 所问月份已报事项 ÷ 应报事项；红灯占比 = 红灯事项 ÷ 事项数。"
           "没有年度投资计划或没有应报事项的，该项不计，其余各项按权重折算为百分制。得分相同名次相同。")


def _add(acc, org_id, key, value):
    if value:
        acc.setdefault(org_id, dict.fromkeys(COUNTERS, 0))
        acc[org_id][key] += value


def compute_counters(user, as_of: datetime.date, stored_as_of=None) -> dict:
    """{organisation id: {counter: value}} over the user's entries of the plans in force."""
    items = in_force_entries(Item.objects.visible_to(user), as_of)
    figures, _ = entry_figures(items, as_of, stored_as_of)
    asked = month_asked(as_of)
    due = owes_report(asked)
    owing = due & Q(filed_asked=False)
    project = Q(list_kind=ListKind.PROJECT)
    acc = {}
    rows = (figures.annotate(filed_asked=reported_for(asked)).order_by()
            .values(org=F("plan__organisation_id"))
            .annotate(entries=Count("pk"), projects=Count("pk", filter=project),
                      total_sum=Sum("total_investment", filter=project), plan_sum=Sum("plan_investment", filter=project),
                      red=Count("pk", filter=Q(light=Light.RED)), yellow=Count("pk", filter=Q(light=Light.YELLOW)),
                      green=Count("pk", filter=Q(light=Light.GREEN)),
                      due_n=Count("pk", filter=due), owing_n=Count("pk", filter=owing)))
    names = {"total": "total_sum", "plan": "plan_sum", "due": "due_n", "owing": "owing_n"}
    for r in rows:
        for key in ("entries", "projects", "total", "plan", "red", "yellow", "green", "due", "owing"):
            _add(acc, r["org"], key, r[names.get(key, key)] or 0)

    month = late_month(as_of)
    year = month.year
    projects = items.filter(project).exclude(status=ItemStatus.CANCELLED).values("pk")
    for r in (AnnualTarget.objects.filter(item__in=projects, year=year).order_by()
              .values(org=F("item__plan__organisation_id"))
              .annotate(s=Sum("planned_investment"))):
        _add(acc, r["org"], "year_planned", r["s"] or 0)
    # the months 1–N from the entries' side: one inner join of the month range to the entries
    # (hashed on the entries), not a semi-join and a second join to reach the plan's organisation
    months = FilteredRelation("reports", condition=year_to_month(month, "reports__"))
    for r in (items.filter(project).exclude(status=ItemStatus.CANCELLED).annotate(months=months)
              .filter(months__month__isnull=False).order_by()
              .values(org=F("plan__organisation_id")).annotate(s=Sum("months__month_investment"))):
        _add(acc, r["org"], "year_completed", r["s"] or 0)

    for r in (Problem.objects.visible_to(user).open().filter(item__in=items.values("pk")).order_by()
              .values(org=F("item__plan__organisation_id")).annotate(n=Count("pk"))):
        _add(acc, r["org"], "problems", r["n"])

    indicators = Indicator.objects.visible_to(user)
    with_indicators = Plan.objects.filter(pk__in=items.values("plan_id")).filter(
        Exists(indicators.filter(plan=OuterRef("pk"))))
    for plan in with_indicators:
        counts = status_counts(indicators.filter(plan=plan), default_year(plan, as_of))
        _add(acc, plan.organisation_id, "indicators_red", counts["red"])
        _add(acc, plan.organisation_id, "indicators", counts["total"])
    in_force = {}
    for org_id, code in (Plan.objects.filter(pk__in=items.values("plan_id")).order_by("code")
                         .values_list("organisation_id", "code")):
        in_force.setdefault(org_id, code)  # each zone's dashboard, one click away
    return {"month": month, "asked": asked, "counters": acc, "in_force": in_force}


def counters(user, as_of, row=None):
    return cached("zones", scope_key(user), None, as_of,
                  lambda stored_as_of: compute_counters(user, as_of, stored_as_of), row)


def _sum(parts):
    total = dict.fromkeys(COUNTERS, 0)
    for part in parts:
        for key in COUNTERS:
            total[key] += part[key]
    return total


def _figures(total, month):
    """The rates of a row, from its sums; the score of the formula above."""
    time_pct = Decimal(month.month) * 100 / Decimal(12)
    share = rate(total["year_completed"], total["year_planned"])
    reported = total["due"] - total["owing"]
    report_rate = rate(reported, total["due"])
    red_share = rate(total["red"], total["entries"])
    terms = []
    if share is not None:
        terms.append((Decimal(60), min(share / time_pct, Decimal(1))))
    if report_rate is not None:
        terms.append((Decimal(40), report_rate / 100))
    weight = sum(w for w, _ in terms)
    base = sum(w * v for w, v in terms) * 100 / weight if weight else Decimal(0)
    penalty = 20 * (red_share or Decimal(0)) / 100
    return {**total, "share_pct": share, "time_pct": time_pct.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP),
            "gap": None if share is None else (share - time_pct).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP),
            "reported": reported, "report_pct": report_rate, "red_pct": red_share,
            "score": (base - penalty).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)}


def subtree_totals(org_ids, children, raw):
    """{organisation id: its counters plus those of everything below it}."""
    totals = {}

    def visit(pk):
        if pk not in totals:
            totals[pk] = _sum([raw.get(pk, dict.fromkeys(COUNTERS, 0))] + [visit(c) for c in children.get(pk, [])])
        return totals[pk]

    for pk in org_ids:
        visit(pk)
    return totals


def tree_of(user):
    """(organisations the user reaches by id, {parent id: [child ids]} ordered by name)."""
    reach = organisations_in_reach(user)
    orgs = Organisation.objects.all() if reach is None else Organisation.objects.filter(pk__in=reach)
    by_id = {o.pk: o for o in orgs.order_by("name")}
    children = {}
    for org in by_id.values():
        if org.parent_id in by_id:
            children.setdefault(org.parent_id, []).append(org.pk)
    return by_id, children


def rank(rows):
    """Competition ranking by score: equal scores share a place (1, 2, 2, 4). An organisation with
    no entries on its lists has nothing to score: it is listed last, unranked (—)."""
    rows.sort(key=lambda r: (not r.get("entries", 1), -r["score"], r["name"]))
    place = 0
    for position, r in enumerate(rows, start=1):
        if not r.get("entries", 1):
            r["rank"] = None
            continue
        if position == 1 or r["score"] != rows[position - 2]["score"]:
            place = position
        r["rank"] = place
    return rows


def comparison(user, org, as_of, row=None) -> dict:
    """The rows below `org`: each child with its subtree's figures, and `org`'s own plans as
    “本级” when it owns entries itself; ranked; with the total."""
    data = counters(user, as_of, row)
    by_id, children = tree_of(user)
    raw = data["counters"]
    totals = subtree_totals([org.pk], children, raw)
    in_force = data["in_force"]
    rows = []
    for pk in children.get(org.pk, []):
        child = by_id[pk]
        rows.append({"org": child, "name": child.name, "level": child.get_level_display(),
                     "drill": bool(children.get(pk)), "dashboard_plan": in_force.get(pk),
                     **_figures(totals[pk], data["month"])})
    own = raw.get(org.pk)
    if own and own["entries"]:
        rows.append({"org": org, "name": f"{org.name}（本级）", "level": org.get_level_display(), "drill": False,
                     "dashboard_plan": in_force.get(org.pk), "own": True, **_figures(own, data["month"])})
    return {"org": org, "rows": rank(rows), "total": _figures(totals[org.pk], data["month"]),
            "month": data["month"], "asked": data["asked"], "formula": FORMULA,
            "path": list(Organisation.objects.ancestors(org, include_self=True).filter(pk__in=list(by_id)))}


def sheet_rows(user, org, as_of, row=None):
    """The export in the official layout: depth first, each organisation's own row (本级), its
    children's blocks, then its 小计 — the sum of the rows of its block; 合计 last."""
    data = counters(user, as_of, row)
    by_id, children = tree_of(user)
    raw = data["counters"]
    totals = subtree_totals([org.pk], children, raw)
    out = []

    def block(pk, depth):
        node = by_id[pk]
        kids = children.get(pk, [])
        own = raw.get(pk)
        if not kids:
            out.append((depth, node.name, node.get_level_display(), _figures(totals[pk], data["month"]), "row"))
            return
        if own and own["entries"]:
            out.append((depth + 1, f"{node.name}（本级）", node.get_level_display(), _figures(own, data["month"]), "row"))
        for kid in kids:
            block(kid, depth + 1)
        out.append((depth, f"{node.name} 小计", node.get_level_display(), _figures(totals[pk], data["month"]),
                    "subtotal"))

    block(org.pk, 0)
    if out and out[-1][4] == "subtotal":
        depth, name, level, figures, _ = out[-1]
        out[-1] = (depth, f"合计（{by_id[org.pk].name}）", level, figures, "total")
    return out, data["month"]
