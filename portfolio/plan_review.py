"""后评估: how a plan's lists ended — per list, category, project type and lead unit — what was
carried into the next plan, the money planned and completed within the period, the entries red
at closing and the 十大（类）百亿工程.

One set of sheets feeds the page, the XLSX/CSV export and `export_evaluation`; every 小计 and
合计 is summed from the rows shown above it. Sheets use the rollup's shape: (title, rows, money
columns, percent columns), rows being (kind, values) with kind head, category, item, subtotal
or total, so the rollup's writers write them.
"""
import csv
import datetime
import io
from collections import defaultdict
from decimal import Decimal

from django.db.models import CharField, Exists, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from projects.models import Item, ItemStatus, ItemUnit, ListKind, ProjectType

from projects.formatting import money as money_text
from .evaluation import state
from .models import ItemYearFigures
from .rollup import programme_sheet, write_xlsx
from .rules import Light
from .summary import entry_figures, rate, red_reasons, scoped_items, stored_date

STATUS_COLUMNS = [ItemStatus.COMPLETED, ItemStatus.IN_PROGRESS, ItemStatus.NOT_STARTED, ItemStatus.SUSPENDED,
                  ItemStatus.CANCELLED]
NO_LEAD = "（牵头单位未落实）"
NOT_APPLICABLE = "—"
NOT_REPORTED = "未报"


def review_date(plan, as_of=None) -> datetime.date:
    """The one date of every figure of the review: a closed plan's closing date; for a plan in
    force (or a draft) a preview as of the date asked, by default today (Asia/Shanghai)."""
    if plan.closed_on is not None and plan.is_closed:
        return plan.closed_on
    return as_of or timezone.localdate()


def review_heading(plan, as_of=None) -> str:
    """What the review is: the closing evaluation, or a preview of a plan not closed."""
    day = review_date(plan, as_of)
    if plan.is_closed:
        return f"已收官，按收官日期 {day:%Y-%m-%d} 的评估"
    return f"预览：截至 {day:%Y-%m-%d}（规划{plan.get_state_display()}）"


def entry_rows(plan, user, as_of) -> list:
    """The user's entries of the plan with everything the sheets group and sum, in one query; the
    light is that of the review date (stored when the figures are of that date, else derived)."""
    lead = ItemUnit.objects.filter(item=OuterRef("pk"), role=ItemUnit.Role.LEAD).order_by("pk").values("unit__name")[:1]
    within = (ItemYearFigures.objects.filter(item=OuterRef("pk"), year__gte=plan.start_year, year__lte=plan.end_year)
              .order_by().values("item").annotate(s=Sum("completed")).values("s"))
    successor = Item.objects.filter(predecessor=OuterRef("pk"))
    items, _ = entry_figures(scoped_items(user, plan, as_of), as_of, stored_date(plan, state().as_of))
    rows = (items.order_by()
            .annotate(lead=Coalesce(Subquery(lead), Value(NO_LEAD), output_field=CharField()),
                      completed_in_period=Subquery(within), carried=Exists(successor),
                      successor_seq=Subquery(successor.values("seq")[:1]),
                      successor_plan=Subquery(successor.values("plan__name")[:1]))
            .values("pk", "list_kind", "seq", "name", "category__name", "category__order", "project_type", "status",
                    "total_investment", "plan_investment", "lead", "completed_in_period", "carried",
                    "successor_seq", "successor_plan", "light"))
    order = {kind.value: i for i, kind in enumerate(ListKind)}
    return sorted(rows, key=lambda r: (order[r["list_kind"]], r["seq"]))


def _sum(values):
    known = [v for v in values if v is not None]
    return sum(known, Decimal(0)) if known else None


def _figures(rows, has_successor_plan):
    """One line of counts and money over `rows`."""
    counts = [sum(1 for r in rows if r["status"] == status) for status in STATUS_COLUMNS]
    carried = sum(1 for r in rows if r["carried"])
    moves = [carried if has_successor_plan else "—", (len(rows) - carried) if has_successor_plan else "—"]
    projects = [r for r in rows if r["list_kind"] == ListKind.PROJECT]
    if not projects:  # the other five lists carry no money
        return [len(rows), *counts, *moves, NOT_APPLICABLE, NOT_APPLICABLE, NOT_APPLICABLE, NOT_APPLICABLE]
    planned = _sum(r["plan_investment"] for r in projects)
    completed = _sum(r["completed_in_period"] for r in projects)
    return [len(rows), *counts, *moves, _sum(r["total_investment"] for r in projects), planned,
            completed if completed is not None else NOT_REPORTED,
            rate(completed, planned) if completed is not None else NOT_APPLICABLE]


def _head(plan, first):
    return [*first, "计划事项", *[s.label for s in STATUS_COLUMNS], "转入下一期", "未转入",
            "总投资（亿元）", f"“{plan.period_name}”投资（亿元）", f"{plan.start_year}–{plan.end_year} 年完成投资（亿元）",
            "完成率（%）"]


def _money_columns(offset):
    # after `offset` name columns: entries, five statuses, carried, not carried, then money
    first = offset + 1 + len(STATUS_COLUMNS) + 2
    return {first, first + 1, first + 2}, {first + 3}


def grouped_sheet(title, plan, rows, has_successor_plan, key_label, key):
    """Entries grouped by one key, a 合计 from the same rows."""
    groups = defaultdict(list)
    for r in rows:
        groups[key(r)].append(r)
    out = [("head", _head(plan, [key_label]))]
    for name in groups:
        out.append(("item", [name, *_figures(groups[name], has_successor_plan)]))
    out.append(("total", ["合计", *_figures(rows, has_successor_plan)]))
    money, pct = _money_columns(1)
    return title, out, money, pct


def category_sheet(plan, rows, has_successor_plan):
    """Per list, its categories, a 小计 per list; 合计 over every list."""
    out = [("head", _head(plan, ["清单", "类别"]))]
    width = len(out[0][1])
    for kind in ListKind:
        in_list = [r for r in rows if r["list_kind"] == kind.value]
        if not in_list:
            continue
        out.append(("category", [kind.label] + [""] * (width - 1)))
        groups = defaultdict(list)
        for r in sorted(in_list, key=lambda r: (r["category__order"] or 99, r["category__name"] or "")):
            groups[r["category__name"] or "（未分类）"].append(r)
        for name, group in groups.items():
            out.append(("item", [kind.label, name, *_figures(group, has_successor_plan)]))
        out.append(("subtotal", [kind.label, "小计", *_figures(in_list, has_successor_plan)]))
    out.append(("total", ["合计", "", *_figures(rows, has_successor_plan)]))
    money, pct = _money_columns(2)
    return "按类别", out, money, pct


def not_carried_sheet(plan, rows, has_successor_plan):
    head = ["清单", "序号", "名称", "收官状态", "灯色", "牵头单位"]
    out = [("head", head)]
    if not has_successor_plan:
        out.append(("category", ["尚无接续本规划的下一期规划：导入下一期清单时用 --predecessor 接续。", *[""] * 5]))
        return "未转入下一期", out, set(), set()
    left = [r for r in rows if not r["carried"]]
    for r in left:
        out.append(("item", [ListKind(r["list_kind"]).label, r["seq"], r["name"], ItemStatus(r["status"]).label,
                             Light(r["light"]).label if r["light"] else "—", r["lead"]]))
    out.append(("total", [f"合计 {len(left)} 项", "", "", "", "", ""]))
    return "未转入下一期", out, set(), set()


def carried_sheet(plan, rows, has_successor_plan):
    head = ["清单", "序号", "名称", "收官状态", "接续为"]
    out = [("head", head)]
    carried = [r for r in rows if r["carried"]]
    for r in carried:
        out.append(("item", [ListKind(r["list_kind"]).label, r["seq"], r["name"], ItemStatus(r["status"]).label,
                             f"{r['successor_plan']} 序号 {r['successor_seq']}"]))
    out.append(("total", [f"合计 {len(carried)} 项", "", "", "", ""]))
    return "转入下一期", out, set(), set()


def red_sheet(plan, rows, as_of):
    """Entries red on the review date with their red findings' reasons, as of that date (the
    stored flags when the figures are of that date, else the rules' findings then)."""
    red_ids = [r["pk"] for r in rows if r["light"] == Light.RED]
    stored = as_of == stored_date(plan, state().as_of)
    reasons = {pk: [f"{r['label']}：{r['description']}" for r in found]
               for pk, found in red_reasons(red_ids, as_of, stored).items()}
    out = [("head", ["清单", "序号", "名称", "牵头单位", "原因"])]
    by_pk = {r["pk"]: r for r in rows}
    for pk in red_ids:
        r = by_pk[pk]
        out.append(("item", [ListKind(r["list_kind"]).label, r["seq"], r["name"], r["lead"],
                             "；".join(reasons.get(pk, [])) or "—"]))
    out.append(("total", [f"合计 {len(red_ids)} 项", "", "", "", ""]))
    title = "收官红灯事项" if plan.is_closed else "红灯事项（预览）"
    return f"{title}（{as_of:%Y-%m-%d}）", out, set(), set()


def review_sheets(plan, user, as_of=None) -> list:
    as_of = review_date(plan, as_of)
    rows = entry_rows(plan, user, as_of)
    has_successor_plan = plan.successors.exists()
    projects = [r for r in rows if r["list_kind"] == ListKind.PROJECT]
    return [
        grouped_sheet("按清单", plan, rows, has_successor_plan, "清单", lambda r: ListKind(r["list_kind"]).label),
        category_sheet(plan, rows, has_successor_plan),
        grouped_sheet("按项目类型", plan, projects, has_successor_plan, "项目类型（重大项目）",
                      lambda r: ProjectType(r["project_type"]).label if r["project_type"] else "—"),
        grouped_sheet("按牵头单位", plan, rows, has_successor_plan, "牵头单位", lambda r: r["lead"]),
        carried_sheet(plan, rows, has_successor_plan),
        not_carried_sheet(plan, rows, has_successor_plan),
        red_sheet(plan, rows, as_of),
        programme_sheet(plan, user),
    ]


# ---------------------------------------------------------------- display and files

def display_value(value, is_money, is_pct):
    if isinstance(value, str):
        return value
    if is_money:
        return money_text(value)
    if is_pct:
        return "—" if value is None else f"{value}"
    return "" if value is None else str(value)


def display_sheets(sheets):
    """The sheets with every cell as display text, for the page's template."""
    shown = []
    for title, rows, money, pct in sheets:
        lines = []
        for kind, values in rows:
            counted = kind in ("item", "subtotal", "total")
            lines.append((kind, [display_value(v, counted and i in money, counted and i in pct)
                                 for i, v in enumerate(values)]))
        shown.append({"title": title, "head": lines[0][1] if lines and lines[0][0] == "head" else [],
                      "rows": lines[1:] if lines and lines[0][0] == "head" else lines})
    return shown


def write_review_csv(sheets, target):
    """One CSV: each sheet as a block under its title (UTF-8 with BOM, text as text)."""
    from projects.exports import csv_value

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for title, rows, money, _ in sheets:
        writer.writerow([csv_value(title)])
        for kind, values in rows:
            counted = kind in ("item", "subtotal", "total")
            writer.writerow([csv_value(v, counted and i in money and not isinstance(v, str))
                             for i, v in enumerate(values)])
        writer.writerow([])
    target.write(("\ufeff" + buffer.getvalue()).encode("utf-8"))


def write_review(plan, user, fmt, target, as_of=None):
    """The sheets, and last a 说明 sheet saying what the file is (a preview, or as of closing)."""
    sheets = review_sheets(plan, user, as_of)
    sheets.append(("说明", [("category", [review_heading(plan, as_of)])], set(), set()))
    (write_xlsx if fmt == "xlsx" else write_review_csv)(sheets, target)


def review_filename(plan, fmt, as_of=None):
    return f"{plan.name}后评估_{review_date(plan, as_of):%Y%m%d}.{fmt}"
