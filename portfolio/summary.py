"""Portfolio figures for dashboards and the unit ranking: grouped queries over each entry's
figures, always within the user's scope, cached by Django's cache framework.

Every figure is summed by the database from one place: `ItemFigures`, written by the evaluation
(docs/architecture.md, "The read side"). For a date other than the figures' date the same
figures are derived live from the registry's rows with the same SQL expressions. Sums over
entries never join reports; sums per unit join each entry's unit links, so an entry counts once
per unit it belongs to and once in totals.
"""
import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import (
    Case, CharField, Count, Exists, F, FilteredRelation, IntegerField, Max, Min, OuterRef, Q, Sum, Value, When,
)
from django.db.models.functions import Coalesce, ExtractYear

from projects.idsets import id_set
from projects.models import Item, ItemStatus, ListKind, Plan, ProjectType, Role, Unit, reach_to_filter, role_of
from projects.versions import cached, in_force_plan_ids, per_version, scope_key, slice_expression, sliced, state  # noqa: F401  (cached and scope_key: part of this module's API)
from reporting.calendar import late_month, month_asked
from reporting.owing import owes_report, reported_for

from .facts import ON_TIME_MONTHS, on_time_months
from .models import Flag
from .rules import RULES, Light, Severity, findings, with_findings

RED_SHOWN = 200  # red entries listed on the dashboard; the count covers all
DUE_SHOWN = 100  # entries owing the month's report listed on a unit's dashboard
RANKING_SHOWN = 15
LIGHTS = [Light.RED, Light.YELLOW, Light.GREEN, Light.DONE]
MONEY = ("total", "plan", "completed", "expected")

def rate(part, whole):
    if not whole:
        return None
    return (Decimal(part or 0) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------- where the figures come from

def entry_figures(items, as_of: datetime.date, stored_as_of=None):
    """Entries annotated with light, cumulative, expected_amount, reports_on_time and last_month:
    read from ItemFigures when they are for this date, else derived live."""
    stored_as_of = stored_as_of if stored_as_of is not None else state().as_of
    if as_of == stored_as_of:
        return items.annotate(
            light=Coalesce(F("figures__light"), Value(Light.GREEN.value), output_field=CharField()),
            cumulative=F("figures__cumulative"), expected_amount=F("figures__expected_amount"),
            reports_on_time=F("figures__reports_on_time"), last_month=F("figures__last_month"),
        ), True
    return with_findings(items, as_of, source="live"), False


def scoped_items(user, plan, as_of: datetime.date):
    """The user's entries on the lists on `as_of` (Item.objects.listed) of one plan, or of every
    plan in force; an entry carried into another plan in force is counted there only (one
    project, not two)."""
    items = Item.objects.visible_to(user)
    return items.filter(plan=plan).listed(as_of) if plan is not None else in_force_entries(items, as_of)


def in_force_entries(items, as_of: datetime.date, row=None):
    """Entries of the plans in force that are on the lists on `as_of` (an entry taken out by an
    adjustment, 调出, leaves from its date: Item.objects.listed). The other filters cost time on
    every grouped query over many entries, so each is added only when it changes the result: the
    plan filter when some plan with lists is not in force, the anti-join when two plans in force
    share a project."""
    items = items.listed(as_of)
    plans, others_hold_lists, carried_within = in_force_shape(row)
    if others_hold_lists:
        items = items.filter(plan_id__in=id_set(plans))
    if carried_within:
        items = items.exclude(successor__plan_id__in=id_set(plans))
    return items


def in_force_shape(row=None):
    """(ids of the plans in force, whether a plan not in force holds entries, whether an entry of
    one plan in force continues an entry of another): read once per data version (row: the
    evaluation state the request already read)."""
    def compute():
        plans = in_force_plan_ids(row)
        others = Plan.objects.filter(Exists(Item.objects.filter(plan=OuterRef("pk")))).exclude(pk__in=id_set(plans)).exists()
        carried = (Item.objects.filter(predecessor__isnull=False).exists()
                   and Item.objects.filter(plan_id__in=id_set(plans), predecessor__plan_id__in=id_set(plans)).exists())
        return plans, others, carried
    return per_version("in-force-shape", compute, row)


def stored_date(plan, stored_as_of):
    """The date an entry's stored figures are for: a closed plan's closing date, else the
    evaluation's date."""
    return plan.closed_on if plan is not None and plan.is_closed else stored_as_of


# ---------------------------------------------------------------- dashboard

def dashboard_parts(figures, stored, as_of: datetime.date, asked_on: datetime.date, by_slice: bool) -> dict:
    """{slice: the dashboard's sums over these entries (figures: entry_figures)}: grouped queries,
    each grouped by slice too when `by_slice` (the plans in force in slices of projects.versions,
    kept in the cache one by one; otherwise everything in slice 0). combine_dashboard adds them up."""
    part_of = slice_expression(by_slice)
    parts = {}

    def part(key):
        return parts.setdefault(key, {"lights": [], "planned": {}, "completed": {}, "reasons": {},
                                      "reporting": {}, "years": None})

    # One pass over the entries for the lists' lights, the red count and the projects' sums, by
    # category name (the card's rows; plans in force share their categories' names).
    for r in figures.order_by().values("list_kind", "category__name", "project_type", "light", part=part_of).annotate(
            cat_id=Min("category_id"), cat_order=Min("category__order"),
            count=Count("pk"), total=Sum("total_investment"), plan=Sum("plan_investment"),
            completed=Sum("cumulative"), expected=Sum("expected_amount"),
            known_total=Sum("total_investment", filter=Q(total_investment__isnull=False)),
            completed_known=Sum("cumulative", filter=Q(total_investment__isnull=False))):
        part(r.pop("part"))["lights"].append(r)

    # From the entries' side: one join to each table, the slice read off the entry (not a
    # semi-join to the entries and a second join to reach the plan).
    projects = figures.filter(list_kind=ListKind.PROJECT).order_by()
    for r in projects.filter(annual_targets__isnull=False).values(year=F("annual_targets__year"), part=part_of) \
            .annotate(s=Sum("annual_targets__planned_investment")):
        part(r["part"])["planned"][r["year"]] = r["s"]
    if stored:
        completed = projects.filter(year_figures__isnull=False).values(year=F("year_figures__year"), part=part_of) \
            .annotate(s=Sum("year_figures__completed"))
    else:
        reports = FilteredRelation("reports", condition=Q(reports__month__lte=as_of))
        completed = projects.annotate(filed=reports).filter(filed__month__isnull=False) \
            .values(year=ExtractYear("filed__month"), part=part_of).annotate(s=Sum("filed__month_investment"))
    for r in completed:
        part(r["part"])["completed"][r["year"]] = r["s"]

    for key, counts in reason_counts(figures, stored, by_slice).items():
        part(key)["reasons"] = counts
    for key, (per_list, years) in reporting_counts(figures, asked_on, by_slice).items():
        part(key)["reporting"], part(key)["years"] = per_list, years
    return parts


def combine_dashboard(parts, user, figures, as_of, stored, plan, asked_on) -> dict:
    """The dashboard from its sums (dashboard_parts, of one slice or of all), and the entries it
    lists from `figures` (the user's: entry_figures)."""
    per_list = {kind.value: {"value": kind.value, "label": kind.label, "n": 0, "lights": dict.fromkeys(LIGHTS, 0)}
                for kind in ListKind}
    by_category, by_type = {}, {}
    totals = {"count": 0, "known_total": Decimal(0), "completed_known": Decimal(0), **dict.fromkeys(MONEY)}
    lights = dict.fromkeys(LIGHTS, 0)
    lights_by_category = {}
    red_count = 0
    for r in (r for p in parts.values() for r in p.get("lights", ())):
        entry = per_list[r["list_kind"]]
        entry["n"] += r["count"]
        entry["lights"][r["light"]] += r["count"]
        red_count += r["count"] if r["light"] == Light.RED else 0
        if r["list_kind"] != ListKind.PROJECT:
            continue
        name = r["category__name"] or "未分类"
        cat = by_category.setdefault(name, {"name": name, "id": r["cat_id"], "order": r["cat_order"] or 99,
                                            "count": 0, **dict.fromkeys(MONEY)})
        if r["cat_id"] is not None and (cat["id"] is None or r["cat_id"] < cat["id"]):
            cat["id"] = r["cat_id"]
        cat["order"] = min(cat["order"], r["cat_order"] or 99)
        kind = by_type.setdefault(r["project_type"] or "", {
            "project_type": r["project_type"] or "", "count": 0, **dict.fromkeys(MONEY),
            "label": ProjectType(r["project_type"]).label if r["project_type"] else "—"})
        for acc in (cat, kind, totals):
            acc["count"] += r["count"]
            for key in MONEY:
                if r[key] is not None:
                    acc[key] = (acc[key] or Decimal(0)) + r[key]
        totals["known_total"] += r["known_total"] or 0
        totals["completed_known"] += r["completed_known"] or 0
        lights[r["light"]] += r["count"]
        lights_by_category.setdefault(name, dict.fromkeys(LIGHTS, 0))[r["light"]] += r["count"]
    totals["completion_rate"] = rate(totals["completed_known"], totals["known_total"])
    totals["expected_rate"] = rate(totals["expected"], totals["known_total"])
    totals["actual_rate"] = totals["completion_rate"]

    planned, completed = _add_up(parts, "planned"), _add_up(parts, "completed")
    if plan is not None:
        plan_years = set(range(plan.start_year, plan.end_year + 1))
    else:
        spans = [p["years"] for p in parts.values() if p.get("years") and p["years"][0] is not None]
        plan_years = set(range(min(a for a, _ in spans), max(b for _, b in spans) + 1)) if spans else set()
    years = sorted(set(planned) | set(completed) | plan_years)
    by_year = [{"year": y, "planned": planned.get(y), "completed": completed.get(y)} for y in years]

    # the first red entries in the lists' order: one short query (an index walk), not kept by slice
    red_entries = list(figures.filter(light=Light.RED).order_by("plan_id", list_order(), "seq")
                       .values("pk", "seq", "name", "list_kind")[:RED_SHOWN])
    reasons = red_reasons([r["pk"] for r in red_entries], as_of, stored)
    red_items = [{"pk": r["pk"], "seq": r["seq"], "name": r["name"], "list_label": ListKind(r["list_kind"]).label,
                  "flags": reasons.get(r["pk"], [])} for r in red_entries]

    ordered = sorted(by_category.values(), key=lambda c: (c["order"], c["name"]))
    unit = role_of(user) == Role.UNIT
    return {
        "per_list": list(per_list.values()), "totals": totals, "lights": lights,
        "by_category": ordered, "by_type": sorted(by_type.values(), key=lambda t: t["project_type"]),
        "lights_by_category": lights_by_category, "by_year": by_year,
        "red_items": red_items, "red_count": red_count,
        "reasons": reason_rows(_add_up(parts, "reasons")),
        "reporting": reporting_card(_add_up(parts, "reporting"), figures, asked_on, list_entries=unit),
        "flagged_items": flagged_items(figures, as_of, stored) if unit else [],
    }


def _add_up(parts, key) -> dict:
    """The slices' {key: number} (or {key: {name: number}}) dicts of `key` added up."""
    total = {}
    for p in parts.values():
        for k, v in p.get(key, {}).items():
            if isinstance(v, dict):
                into = total.setdefault(k, {})
                for name, n in v.items():
                    into[name] = into.get(name, 0) + (n or 0)
            elif v is not None:
                total[k] = (total.get(k) or 0) + v
            else:
                total.setdefault(k, None)
    return total


def compute_dashboard(user, as_of: datetime.date, plan=None, stored_as_of=None, asked_on=None) -> dict:
    """The dashboard's figures computed afresh over the user's entries. asked_on: the day whose
    month asked for the reporting card shows (default as_of)."""
    asked_on = asked_on or as_of
    figures, stored = entry_figures(scoped_items(user, plan, as_of), as_of, stored_as_of)
    parts = dashboard_parts(figures, stored, as_of, asked_on, by_slice=False)
    return combine_dashboard(parts, user, figures, as_of, stored, plan, asked_on)


def sliced_dashboard(user, as_of: datetime.date, stored_as_of, asked_on, row=None) -> dict:
    """compute_dashboard over the plans in force of a planner's or leader's scope, its sums
    kept by slice of plans (projects.versions.sliced): after a change only the changed slice's
    are computed again."""
    def compute(plan_ids):
        items = scoped_items(user, None, as_of)
        if plan_ids is not None:
            items = items.filter(plan_id__in=id_set(plan_ids))
        figures, stored = entry_figures(items, as_of, stored_as_of)
        return dashboard_parts(figures, stored, as_of, asked_on, by_slice=True)

    figures, stored = entry_figures(scoped_items(user, None, as_of), as_of, stored_as_of)
    parts = sliced(f"dashboard@{asked_on.isoformat()}", scope_key(user), as_of, compute, row)
    return combine_dashboard(parts, user, figures, as_of, stored, None, asked_on)


def by_slices(user, plan) -> bool:
    """Whether the user's figures are kept by slice of plans: a planner's or leader's, over the
    plans in force (a unit user's entries are few; one plan's are one slice)."""
    return plan is None and role_of(user) in (Role.PLANNER, Role.LEADER)


def list_order():
    """The six lists in the plan's order (重大项目 first), for ORDER BY."""
    return Case(*[When(list_kind=kind.value, then=Value(i)) for i, kind in enumerate(ListKind)],
                output_field=IntegerField())


def reason_counts(figures, stored, by_slice=False) -> dict:
    """{slice: {(rule, severity): how many entries it holds for}}: why lights are red or yellow.
    One grouped query (open flags when the figures are stored, the live findings otherwise)."""
    counts = {}
    if stored:
        open_flags = FilteredRelation("flags", condition=Q(flags__resolved_on__isnull=True))
        rows = figures.annotate(open_flags=open_flags).filter(open_flags__kind__isnull=False).order_by() \
            .values(kind=F("open_flags__kind"), severity=F("open_flags__severity"), part=slice_expression(by_slice)) \
            .annotate(n=Count("pk"))
        for r in rows:
            counts.setdefault(r["part"], {})[(r["kind"], r["severity"])] = r["n"]
    else:
        rows = figures.order_by().values(part=slice_expression(by_slice)).annotate(
            **{f"{rule.code}__{sev.value}": Count("pk", filter=Q(**{f"sev_{rule.code}": sev.value}))
               for rule in RULES for sev in Severity})
        for r in rows:
            key = r.pop("part")
            counts[key] = {tuple(name.split("__")): n for name, n in r.items()}
    return counts


def reason_rows(counts) -> list:
    """Per rule with findings, how many entries it holds for by severity (reason_counts added up)."""
    result = []
    for rule in RULES:
        by_severity = {sev.value: counts.get((rule.code, sev.value), 0) for sev in Severity}
        total = sum(by_severity.values())
        if total:
            result.append({"code": rule.code, "label": rule.label, "explain": rule.explain(), "total": total,
                           **by_severity})
    return result


REPORTING_COUNTS = ("in_progress", "due", "owing", "ever", "entries")


def reporting_counts(figures, as_of, by_slice=False) -> dict:
    """{slice: ({list: {in_progress, due, owing, ever, entries}}, (first, last year of the
    entries' plans))} for the month asked for on `as_of` (reporting_card says what they are)."""
    due_month = month_asked(as_of)
    due = owes_report(due_month)
    owing = due & Q(filed_asked=False)
    result = {}
    part_of = slice_expression(by_slice)
    for r in figures.annotate(filed_asked=reported_for(due_month)).order_by().values("list_kind", part=part_of).annotate(
            in_progress=Count("pk", filter=Q(status=ItemStatus.IN_PROGRESS)), due=Count("pk", filter=due),
            owing=Count("pk", filter=owing), ever=Count("pk", filter=Q(last_month__isnull=False)),
            entries=Count("pk"), first_year=Min("plan__start_year"), last_year=Max("plan__end_year")):
        per_list, years = result.setdefault(r["part"], ({}, None))
        per_list[r["list_kind"]] = {key: r[key] for key in REPORTING_COUNTS}
        if years is None:
            years = (r["first_year"], r["last_year"])
        else:
            years = (min(years[0], r["first_year"]), max(years[1], r["last_year"]))
        result[r["part"]] = (per_list, years)
    return result


def reporting_card(per_list, figures, as_of, list_entries=False) -> dict:
    """The reporting of the month asked for (reporting.calendar.month_asked): per list, the entries
    under way, those that owe the month's report (reporting.calendar.owes_report — the one
    definition the badge, 我的事项, 填报情况 and the template use) and those still owing it;
    `ever` counts entries that have filed any report at all. per_list: reporting_counts added
    up. `list_entries`: also the entries owing (a unit's dashboard lists them; over a province's
    entries the sorted list would cost seconds and nobody is shown it)."""
    due_month = month_asked(as_of)
    sums = {key: sum(r[key] for r in per_list.values()) for key in ("ever", "entries")}
    owing_lists = [{"value": kind.value, "label": kind.label, "owing": per_list[kind.value]["owing"],
                    "due": per_list[kind.value]["due"], "in_progress": per_list[kind.value]["in_progress"]}
                   for kind in ListKind if kind.value in per_list and per_list[kind.value]["due"]]
    due_entries = []
    if list_entries:
        owing = owes_report(due_month) & ~reported_for(due_month)
        due_entries = list(figures.filter(owing).order_by(list_order(), "seq")
                           .values("pk", "seq", "name", "list_kind", "last_month")[:DUE_SHOWN])
    for entry in due_entries:
        entry["list_label"] = ListKind(entry["list_kind"]).label
    return {
        "due_month": due_month, "ever": sums["ever"], "entries": sums["entries"],
        "in_progress": sum(r["in_progress"] for r in per_list.values()),
        "due": sum(r["due"] for r in owing_lists), "owing": sum(r["owing"] for r in owing_lists),
        "per_list": owing_lists, "due_entries": due_entries,
    }


def flagged_items(figures, as_of, stored) -> list:
    """A unit's entries with open red or yellow findings, worst first, each with its reasons."""
    rows = list(figures.filter(light__in=[Light.RED, Light.YELLOW]).order_by("light", list_order(), "seq")
                .values("pk", "seq", "name", "list_kind", "light")[:RED_SHOWN])
    reasons = red_reasons([r["pk"] for r in rows], as_of, stored, (Severity.RED, Severity.YELLOW))
    return [{**r, "list_label": ListKind(r["list_kind"]).label, "flags": reasons.get(r["pk"], [])} for r in rows]


def red_reasons(item_ids, as_of, stored, severities=(Severity.RED,)) -> dict:
    """{item id: [{label, description, severity}]} of the entries' findings of these severities."""
    reasons = {}
    severities = [Severity(s).value for s in severities]
    if stored:
        flags = Flag.objects.filter(item_id__in=item_ids, resolved_on__isnull=True, severity__in=severities) \
            .select_related("item__figures").order_by("item_id", "kind")
        for f in flags:
            reasons.setdefault(f.item_id, []).append({"label": f.get_kind_display(), "description": f.describe(as_of),
                                                      "severity": f.severity})
        return reasons
    from types import SimpleNamespace

    from .facts import with_facts
    from .rules import RULES_BY_CODE

    found = findings(as_of, Item.objects.filter(pk__in=item_ids))
    # 投资滞后 is put in words from the entry's figures: derived for the date, as the stored ones are
    behind = [pk for (pk, code), (severity, _) in found.items() if code == "underfunded" and severity in severities]
    figures = {r.pop("pk"): SimpleNamespace(**r) for r in with_facts(Item.objects.filter(pk__in=behind), as_of).values(
        "pk", "expected_pct", "actual_pct", "points_behind", "year_expected_pct", "year_actual_pct")} if behind else {}
    for (item_id, code), (severity, detail) in sorted(found.items()):
        if severity in severities:
            rule = RULES_BY_CODE[code]
            description = rule.describe(detail, as_of, figures.get(item_id) if code == "underfunded" else None)
            reasons.setdefault(item_id, []).append({"label": rule.label, "description": description,
                                                    "severity": severity})
    return reasons


def dashboard(user, as_of: datetime.date, plan=None, row=None, asked_on=None) -> dict:
    """asked_on: see compute_dashboard (the page passes today unless ?as_of= names a date)."""
    asked_on = asked_on or as_of

    def compute(stored_as_of):
        if by_slices(user, plan):
            return sliced_dashboard(user, as_of, stored_as_of, asked_on, row)
        return compute_dashboard(user, as_of, plan, stored_date(plan, stored_as_of), asked_on)
    return cached(f"dashboard@{asked_on.isoformat()}", scope_key(user), plan, as_of, compute, row)


# ---------------------------------------------------------------- unit ranking (赛马)

RANKING_COMPONENTS = [  # (key, label, setting of its weight)
    ("pace", "投资序时完成度", "TRACKER_RANKING_WEIGHT_PACE"),
    ("reporting", "按时填报率", "TRACKER_RANKING_WEIGHT_REPORTING"),
    ("problems", "问题按期办结率", "TRACKER_RANKING_WEIGHT_PROBLEMS"),
    ("orders", "督办按期反馈率", "TRACKER_RANKING_WEIGHT_ORDERS"),
]


def ranking_weights() -> dict:
    return {key: Decimal(getattr(settings, name)) for key, _, name in RANKING_COMPONENTS}


def ranking_settings_key() -> str:
    """The ranking's settings as part of its cache key (a deploy with new weights recomputes it)."""
    return ",".join(map(str, [*ranking_weights().values(), settings.TRACKER_RANKING_RED_PENALTY]))


def ranking_formula() -> str:
    """The formula in words, with the weights of the settings (the ranking page and its export)."""
    weights = ranking_weights()
    terms = " + ".join(f"{_plain(weights[key])} × {label}" for key, label, _ in RANKING_COMPONENTS)
    return (
        f"得分 = 100 × （{terms}）÷ 计入分项的权重之和 − {_plain(settings.TRACKER_RANKING_RED_PENALTY)} × 红灯事项数。"
        "单位没有某一分项时（无序时应完成投资、无应报月报、无到期问题、无到期督办单），该分项及其权重不计入；"
        "有应报月报的单位，按时填报率总是计入，一份未报即为 0。"
        "投资序时完成度 = min(实际累计完成投资 ÷ 按序时进度应完成投资, 1)（该单位牵头或配合的重大项目）；"
        f"按时填报率 = 近 {ON_TIME_MONTHS} 个月按期（次月 {settings.TRACKER_REPORTING_DAY} 日前）报送的月报数 ÷ 应报月报数"
        "（该单位牵头或配合、推进中的事项，每项每月一份）；"
        "问题按期办结率 = 在办理期限内销号的问题数 ÷ 到期问题数（该单位协调的问题；到期：已过办理期限或已销号，不含退回、合并的问题）；"
        "督办按期反馈率 = 在办理期限内反馈且反馈未被退回的督办单数 ÷ 到期督办单数"
        "（发给该单位的督办单；到期：已过办理期限或已反馈；再次反馈以最后一次为准）。"
        f"近 {ON_TIME_MONTHS} 个月有应报月报、却一份月报也未报送的单位，排在所有报送了月报的单位之后（不论得分）。"
        "得分相同的单位名次相同（如 1、2、2、4），同名次按单位名称排序。"
    )


def _plain(value) -> str:
    """A weight as printed: 0.6, 5 (no trailing zeros)."""
    return format(Decimal(value).normalize(), "f")


def _share(part, whole):
    return min(Decimal(part) / Decimal(whole), Decimal(1)) if whole else None


def _pct(value):
    return (value * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) if value is not None else None


RANKING_SUMS = ("projects", "expected", "actual", "on_time", "filed", "red", "reports_due")


def ranking_parts(items, as_of: datetime.date, stored_as_of, by_slice=False) -> dict:
    """{slice: {"units": {unit id: RANKING_SUMS}, "timeliness": {unit id: problems and orders due
    and on time}}} over these entries: one grouped query over their figures (entry_figures) and
    supervision's timeliness_parts; by slice of plans when `by_slice`."""
    from supervision.summary import timeliness_parts

    figures, _ = entry_figures(items, as_of, stored_as_of)
    months = on_time_months(as_of)
    project = Q(list_kind=ListKind.PROJECT)
    in_progress = Q(status=ItemStatus.IN_PROGRESS)
    # Months whose condition is the same (owes_report depends on the month's year and the reporting
    # start) are counted once and weighted by how many they are: half the work of six counts.
    conditions = []
    for month in months:
        q = owes_report(month)
        same = next((c for c in conditions if c[0] == q), None)
        if same:
            same[1] += 1
        else:
            conditions.append([q, 1])
    due = {f"due_{i}": Count("pk", filter=q) for i, (q, _) in enumerate(conditions)}
    weight_of = {f"due_{i}": n for i, (_, n) in enumerate(conditions)}
    rows = figures.order_by().values(unit_id=F("unit_links__unit_id"), part=slice_expression(by_slice)).annotate(
        projects=Count("pk", filter=project), expected=Sum("expected_amount", filter=project),
        actual=Sum("cumulative", filter=project), on_time=Sum("reports_on_time", filter=in_progress),
        filed=Count("pk", filter=Q(last_month__gte=months[-1])), red=Count("pk", filter=Q(light=Light.RED)), **due,
    ).filter(unit_id__isnull=False)
    parts = {}
    for r in rows:
        units = parts.setdefault(r["part"], {"units": {}, "timeliness": {}})["units"]
        units[r["unit_id"]] = {
            "projects": r["projects"], "expected": r["expected"] or Decimal(0), "actual": r["actual"] or Decimal(0),
            "on_time": r["on_time"] or 0, "filed": r["filed"], "red": r["red"],
            "reports_due": sum(r[key] * weight_of[key] for key in due)}
    for key, timeliness in timeliness_parts(as_of, items, by_slice).items():
        parts.setdefault(key, {"units": {}, "timeliness": {}})["timeliness"] = timeliness
    return parts


def combine_ranking(parts, as_of: datetime.date) -> list:
    """The ranking from its sums (ranking_parts of one slice or of all) and the orders on a unit
    alone: every unit responsible for entries, scored by `ranking_formula`."""
    from supervision.summary import add_timeliness, unit_alone_timeliness

    sums, timeliness = {}, {}
    for p in parts.values():
        for unit_id, r in p.get("units", {}).items():
            into = sums.setdefault(unit_id, dict.fromkeys(RANKING_SUMS, 0))
            for key in RANKING_SUMS:
                into[key] += r[key]
        add_timeliness(timeliness, p.get("timeliness", {}))
    add_timeliness(timeliness, unit_alone_timeliness(as_of))
    names = dict(Unit.objects.filter(pk__in=list(sums)).values_list("pk", "name"))
    weights = ranking_weights()
    penalty = Decimal(settings.TRACKER_RANKING_RED_PENALTY)
    ranking = []
    for unit_id, r in sums.items():
        expected, actual = Decimal(r["expected"]), Decimal(r["actual"])
        reports_due = r["reports_due"]
        reports_on_time = min(r["on_time"], reports_due)
        t = timeliness.get(unit_id, {})
        shares = {
            "pace": _share(actual, expected) if expected else None,
            "reporting": _share(reports_on_time, reports_due),
            "problems": _share(t.get("problems_on_time", 0), t.get("problems_due", 0)),
            "orders": _share(t.get("orders_on_time", 0), t.get("orders_due", 0)),
        }
        counted = [(weights[key], value) for key, value in shares.items() if value is not None]
        weight = sum(w for w, _ in counted)
        base = 100 * sum(w * v for w, v in counted) / weight if weight else Decimal(0)
        ranking.append({
            "unit": {"pk": unit_id, "name": names.get(unit_id, "")},
            "projects": r["projects"], "expected": expected, "actual": actual,
            "pace_pct": (actual / expected * 100).quantize(Decimal("0.1")) if expected else None,
            "reports_due": reports_due, "reports_on_time": reports_on_time, "report_pct": _pct(shares["reporting"]),
            "filed_nothing": reports_due > 0 and r["filed"] == 0,
            "problems_due": t.get("problems_due", 0), "problems_on_time": t.get("problems_on_time", 0),
            "problem_pct": _pct(shares["problems"]),
            "orders_due": t.get("orders_due", 0), "orders_on_time": t.get("orders_on_time", 0),
            "order_pct": _pct(shares["orders"]),
            "red": r["red"], "score": (base - penalty * r["red"]).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP),
        })
    ranking.sort(key=lambda r: (r["filed_nothing"], -r["score"], r["unit"]["name"]))
    place = None
    for position, r in enumerate(ranking, start=1):
        if place is None or (r["filed_nothing"], r["score"]) != (place[1]["filed_nothing"], place[1]["score"]):
            place = (position, r)
        r["rank"] = place[0]
        r["of"] = len(ranking)
    return ranking


def ranking_items(as_of: datetime.date, plan=None, organisations=None):
    """The entries a ranking is over: of one plan, or of the plans in force; organisations: only
    the plans these own (a planner's or leader's scope), None every plan."""
    items = Item.objects.all() if organisations is None else Item.objects.filter(plan__organisation_id__in=organisations)
    return in_force_entries(items, as_of) if plan is None else items.filter(plan=plan).listed(as_of)


def compute_ranking(as_of: datetime.date, plan=None, stored_as_of=None, organisations=None) -> list:
    """Every unit responsible for entries (lead or support), scored over its own entries
    (`ranking_formula` says how): investment pace, on-time reporting (due months by
    `reporting.owing.owes_report`), problems it coordinates closed on time, orders addressed to
    it answered on time (`supervision.summary`), red lights. A few grouped queries; units that
    owed reports and filed none come after every unit that filed; equal scores share a rank
    (1, 2, 2, 4), sorted by name. organisations: see ranking_items. Computed afresh."""
    return combine_ranking(ranking_parts(ranking_items(as_of, plan, organisations), as_of, stored_as_of), as_of)


def sliced_ranking(as_of: datetime.date, stored_as_of, organisations, scope, row=None) -> list:
    """compute_ranking over the plans in force, its sums kept by slice of plans
    (projects.versions.sliced): after a change only the changed slice's are computed again."""
    def compute(plan_ids):
        items = ranking_items(as_of, None, organisations)
        if plan_ids is not None:
            items = items.filter(plan_id__in=id_set(plan_ids))
        return ranking_parts(items, as_of, stored_as_of, by_slice=True)
    return combine_ranking(sliced("ranking", scope, as_of, compute, row), as_of)


def unit_ranking(user, as_of: datetime.date, plan=None, row=None) -> list:
    """The ranking as the user may see it: for planners and leaders every unit over the entries of
    their scope; for a unit user only its own units' rows, with their places among all units
    (`rank` of `of`)."""
    if role_of(user) in (Role.PLANNER, Role.LEADER):
        return ranking_of_scope(reach_to_filter(user), scope_key(user), as_of, plan, row)
    rows = ranking_of_scope(None, "all", as_of, plan, row)
    mine = set(Unit.objects.filter(members=user).values_list("pk", flat=True))
    return [r for r in rows if r["unit"]["pk"] in mine]


def ranking_of_scope(organisations, scope, as_of, plan, row) -> list:
    """The ranking over the plans of these organisations (None: all), cached under `scope`."""
    key = f"ranking-{ranking_settings_key()}"

    def compute(stored_as_of):
        if plan is None:
            return sliced_ranking(as_of, stored_as_of, organisations, f"{key}:{scope}", row)
        return compute_ranking(as_of, plan, stored_date(plan, stored_as_of), organisations=organisations)
    return cached(key, scope, plan, as_of, compute, row)


# ---------------------------------------------------------------- 总体情况 (the dashboard card and the 通报)

def _amount(value) -> str:
    return str(Decimal(value or 0).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def year_projects(items):
    """The entries whose investment the 总体情况 (and the trends) count: projects, cancelled ones left out."""
    return items.filter(list_kind=ListKind.PROJECT).exclude(status=ItemStatus.CANCELLED)


def year_to_month(month: datetime.date, prefix: str = "") -> Q:
    """Q over reports (`prefix` names them from another model, e.g. "reports__"): the months 1–M
    of M's year, whose `month_investment` add up to the year's investment completed by M."""
    return Q(**{f"{prefix}month__gte": datetime.date(month.year, 1, 1), f"{prefix}month__lte": month})


OVERVIEW_SUMS = ("completed", "planned", "start_planned", "started", "finish_planned", "finished")


def compute_overview(user, as_of: datetime.date, plan=None, month=None) -> dict:
    """The 总体情况 of the month's 通报 over the user's projects (the same figures on the dashboard
    card and in the document, docs/architecture.md "The monthly 通报"):

    * investment: reported in months 1–N of the month's year (the months' figures) against the
      year's 年度计划投资 (the sum of the projects' annual targets of that year), and against the
      time progress N ÷ 12;
    * starts: projects whose planned start month (the 开工滞后 rule's: annual target's start
      month, 开工 milestone, January of the start year — portfolio/facts.py) falls in months 1–N,
      and of them those started (no longer 未开工, or a 开工 milestone met);
    * completions (竣工投产): projects whose construction period ends in the year, and of them
      those 已完成.
    Statuses are the current ones; cancelled projects are left out. Computed afresh."""
    month = month or late_month(as_of)
    return combine_overview(overview_parts(scoped_items(user, plan, as_of), month), as_of, month)


def overview_parts(items, month: datetime.date, by_slice=False) -> dict:
    """{slice: OVERVIEW_SUMS} of compute_overview over these entries' projects: three queries,
    by slice of plans when `by_slice`."""
    from .facts import start_due_expression

    year, n = month.year, month.month
    projects = year_projects(items)
    parts = {}

    def add(key, **sums):
        into = parts.setdefault(key, dict.fromkeys(OVERVIEW_SUMS))
        for name, value in sums.items():
            into[name] = value if into[name] is None else into[name] + (value or 0)

    # from the entries' side: one inner join of the month range (the year's targets) to the
    # entries, the slice read off the entry
    part_of = slice_expression(by_slice)
    months = FilteredRelation("reports", condition=year_to_month(month, "reports__"))
    for r in (projects.annotate(months=months).filter(months__month__isnull=False).order_by()
              .values(part=part_of).annotate(s=Sum("months__month_investment"))):
        add(r["part"], completed=r["s"])
    targets = FilteredRelation("annual_targets", condition=Q(annual_targets__year=year))
    for r in (projects.annotate(targets=targets).filter(targets__year__isnull=False).order_by()
              .values(part=part_of).annotate(s=Sum("targets__planned_investment"))):
        add(r["part"], planned=r["s"])
    started = ~Q(status=ItemStatus.NOT_STARTED) | Q(start_met=True)
    starts = projects.annotate(
        start_planned_index=F("figures__start_planned_index"),
        start_met=F("figures__start_met"),
    ).annotate(start_due_index=start_due_expression()).annotate(
        due_now=Case(When(start_due_index__gte=year * 12, start_due_index__lte=year * 12 + n - 1, then=Value(True)),
                     default=Value(False)))
    for r in starts.order_by().values(part=slice_expression(by_slice)).annotate(
            start_planned=Count("pk", filter=Q(due_now=True)), started=Count("pk", filter=Q(due_now=True) & started),
            finish_planned=Count("pk", filter=Q(end_year=year)),
            finished=Count("pk", filter=Q(end_year=year, status=ItemStatus.COMPLETED))):
        add(r.pop("part"), **r)
    return parts


def combine_overview(parts, as_of: datetime.date, month: datetime.date) -> dict:
    """compute_overview's figures from its sums (overview_parts of one slice or of all)."""
    sums = dict.fromkeys(OVERVIEW_SUMS)
    for p in parts.values():
        for name in OVERVIEW_SUMS:
            if p.get(name) is not None:
                sums[name] = p[name] if sums[name] is None else sums[name] + p[name]
    year, n = month.year, month.month
    completed, planned = sums["completed"] or Decimal(0), sums["planned"]
    time_pct = Decimal(n) * 100 / Decimal(12)
    share = completed * 100 / planned if planned else None
    gap = None if share is None else (share - time_pct).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    counts = {name: sums[name] or 0 for name in ("start_planned", "started", "finish_planned", "finished")}
    return {
        "month": month, "year": year, "months": n, "as_of": as_of,
        "completed": completed, "planned": planned,
        "share_pct": None if share is None else share.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP),
        "time_pct": time_pct.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP), "gap": gap,
        "start_planned": counts["start_planned"], "started": counts["started"],
        "start_rate": rate(counts["started"], counts["start_planned"]),
        "finish_planned": counts["finish_planned"], "finished": counts["finished"],
        "finish_rate": rate(counts["finished"], counts["finish_planned"]),
    }


def overview_sentences(o: dict) -> list:
    """总体情况 in the sentences offices write (the card and the document print these)."""
    span = "1月" if o["months"] == 1 else f"1–{o['months']}月"
    money = f"{span}累计完成投资 {_amount(o['completed'])} 亿元"
    if o["share_pct"] is None:
        money += "（尚无年度投资计划）"
    else:
        money += f"，占年度投资计划的 {o['share_pct']}%"
        if o["gap"] > 0:
            money += f"，超过时间进度 {o['gap']} 个百分点"
        elif o["gap"] < 0:
            money += f"，低于时间进度 {-o['gap']} 个百分点"
        else:
            money += "，与时间进度持平"
    def counted(verb, planned, done, rate_):
        text = f"计划{verb} {planned} 项，实际{verb} {done} 项"
        return text + (f"，{verb}率 {rate_}%" if rate_ is not None else "")
    return [money + "。", counted("开工", o["start_planned"], o["started"], o["start_rate"]) + "。",
            counted("竣工投产", o["finish_planned"], o["finished"], o["finish_rate"]) + "。"]


def overview(user, as_of: datetime.date, plan=None, month=None, row=None) -> dict:
    month = month or late_month(as_of)
    kind = f"overview-{month:%Y%m}"

    def compute(_):
        if not by_slices(user, plan):
            return compute_overview(user, as_of, plan, month)

        def of_plans(plan_ids):
            items = scoped_items(user, None, as_of)
            return overview_parts(items if plan_ids is None else items.filter(plan_id__in=id_set(plan_ids)),
                                  month, by_slice=True)
        return combine_overview(sliced(kind, scope_key(user), as_of, of_plans, row), as_of, month)
    return cached(kind, scope_key(user), plan, as_of, compute, row)

