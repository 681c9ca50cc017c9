import html
from urllib.parse import quote

import django_tables2 as tables
from django.db.models import F
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from projects.models import Item, ItemStatus, ItemUnit, ListKind, ProjectType, period_text

from .formatting import join_units, money
from .queries import IdListQuery, current_items

LIGHT_BADGES = {
    "red": ("bg-danger", "红灯"),
    "yellow": ("bg-warning text-dark", "黄灯"),
    "green": ("bg-success", "绿灯"),
    "done": ("bg-secondary", "已完成"),
}


def light_badge(value):
    css, label = LIGHT_BADGES.get(value, ("bg-light text-dark", "—"))
    return format_html('<span class="badge {} light-badge" data-light="{}">{}</span>', css, value, label)


class MoneyColumn(tables.Column):
    attrs = {"th": {"class": "text-end"}}


def nulls_last(field):
    def order(self, queryset, is_descending):
        expr = F(field).desc(nulls_last=True) if is_descending else F(field).asc(nulls_last=True)
        return queryset.order_by(expr, "seq"), True
    return order


class ItemTable(tables.Table):
    """Columns, sorting and pagination of a list page; its cells are written by item_rows_html."""

    seq = tables.Column("序号")
    name = tables.Column("名称")
    category = tables.Column("类别", accessor="category__name", order_by=("category__order", "seq"))
    domain = tables.Column("领域")
    project_type = tables.Column("项目类型")
    period = tables.Column("建设期限", accessor="end_year")
    total_investment = MoneyColumn("总投资（亿元）")
    plan_investment = MoneyColumn("“十四五”投资（亿元）")
    cumulative = MoneyColumn("累计完成（亿元）", orderable=False)
    units = tables.Column("责任单位", orderable=False)
    status = tables.Column("状态")
    light = tables.Column("灯", orderable=False)

    order_total_investment = nulls_last("total_investment")
    order_plan_investment = nulls_last("plan_investment")
    order_period = nulls_last("end_year")

    class Meta:
        order_by = ("seq",)
        fields = ()
        sequence = (
            "seq", "name", "category", "domain", "project_type", "period", "total_investment",
            "plan_investment", "cumulative", "units", "status", "light",
        )

    def __init__(self, *args, list_kind=None, back="", **kwargs):
        exclude = []
        if list_kind != ListKind.PROJECT:
            exclude += ["project_type", "period", "total_investment", "plan_investment", "cumulative"]
        if list_kind != ListKind.POLICY:
            exclude.append("domain")
        if list_kind in (ListKind.REFORM, ListKind.POLICY):
            exclude.append("category")
        super().__init__(*args, exclude=exclude, **kwargs)
        self.back = back


# --- Cells of the list page ------------------------------------------------------------------
# Written in one Python pass from plain value rows: django-tables2's per-cell template rendering,
# and even building model instances for the rows, cost several times the page's SQL.

ROW_FIELDS = (
    "pk", "seq", "name", "content", "category__name", "domain", "project_type", "start_year", "end_year",
    "total_investment", "plan_investment", "cumulative", "last_month", "status", "light",
)
_ROW = {name: i for i, name in enumerate(ROW_FIELDS)}
# The standard library's escape: the same five characters as Django's, without its lazy-string
# wrapper, which cost more than the rest of a cell.
_escape = html.escape
_PROJECT_TYPES = dict(ProjectType.choices)
_STATUSES = dict(ItemStatus.choices)
_MONEY_TD = '<td class="money text-end text-nowrap">'
_LIGHT_BADGES = {value: light_badge(value) for value in (*LIGHT_BADGES, None)}


def _cell_seq(back, row, units):
    return f'<td class="text-nowrap">{row[_ROW["seq"]]}</td>'


def _cell_name(back, row, units):
    url = f"/items/{row[0]}/" + (f"?back={back}" if back else "")
    content = row[_ROW["content"]] or ""
    return (f'<td class="item-name"><a href="{_escape(url)}" class="fw-semibold">{_escape(row[_ROW["name"]])}</a>'
            f'<div class="text-muted small clamp-2" title="{_escape(content)}">{_escape(content[:160])}</div></td>')


def _cell_category(back, row, units):
    name = row[_ROW["category__name"]]
    return f'<td class="text-nowrap">{_escape(name) if name else "—"}</td>'


def _cell_domain(back, row, units):
    domain = row[_ROW["domain"]]
    return f"<td>{_escape(domain) if domain else '—'}</td>"


def _cell_project_type(back, row, units):
    return f'<td class="text-nowrap">{_escape(_PROJECT_TYPES.get(row[_ROW["project_type"]]) or "—")}</td>'


def _cell_period(back, row, units):
    return f'<td class="text-nowrap">{_escape(period_text(row[_ROW["start_year"]], row[_ROW["end_year"]]))}</td>'


def _cell_total_investment(back, row, units):
    return _MONEY_TD + money(row[_ROW["total_investment"]]) + "</td>"


def _cell_plan_investment(back, row, units):
    return _MONEY_TD + money(row[_ROW["plan_investment"]]) + "</td>"


def _cell_cumulative(back, row, units):
    return _MONEY_TD + (money(row[_ROW["cumulative"]]) if row[_ROW["last_month"]] else "未报") + "</td>"


def _cell_units(back, row, units):
    return '<td class="units">' + (_escape(units) if units else '<span class="text-muted">待定</span>') + "</td>"


def _cell_status(back, row, units):
    status = row[_ROW["status"]]
    return f'<td class="text-nowrap">{_escape(_STATUSES.get(status, status))}</td>'


def _cell_light(back, row, units):
    return f"<td>{_LIGHT_BADGES.get(row[_ROW['light']], _LIGHT_BADGES[None])}</td>"


CELL_WRITERS = {name[len("_cell_"):]: fn for name, fn in globals().items() if name.startswith("_cell_")}


_PAGE_ROWS = IdListQuery(lambda: current_items().values_list(*ROW_FIELDS), Item)
_PAGE_UNITS = IdListQuery(
    lambda: ItemUnit.objects.order_by("item_id", "role", "pk").values_list("item_id", "unit__name"), ItemUnit, "item")


def page_rows(table):
    """The current page's entries as ROW_FIELDS tuples, in the table's order, with each entry's
    responsible units (lead first) as one text, and no model instances. The user's filtered,
    sorted query picks the page's ids; their columns are then read by id with statements
    compiled once."""
    page = table.page
    bottom = (page.number - 1) * table.paginator.per_page
    ordered = table.data.data.prefetch_related(None)
    ids = list(ordered.values_list("pk", flat=True)[bottom:bottom + table.paginator.per_page])
    by_id = {row[0]: row for row in _PAGE_ROWS.rows(ids)}
    names = {}
    for item_id, unit_name in _PAGE_UNITS.rows(ids):
        names.setdefault(item_id, []).append(unit_name)
    return [(by_id[pk], join_units(names.get(pk, ()))) for pk in ids if pk in by_id]


def item_rows_html(table):
    """The <tbody> rows of the current page, column for column as the table defines them."""
    writers = [CELL_WRITERS[column.name] for column in table.columns]
    back = table.back
    out = []
    for i, (row, units) in enumerate(page_rows(table)):
        out.append('<tr class="even">' if i % 2 == 0 else '<tr class="odd">')
        out.extend(write(back, row, units) for write in writers)
        out.append("</tr>")
    if not out:
        out.append(f'<tr><td colspan="{len(writers)}" class="text-muted">没有符合条件的事项</td></tr>')
    return mark_safe("".join(out))


def header_cells(table, query):
    """(th class, sort link or None, heading) for each column; links keep the other parameters."""
    params = query.copy()
    params.pop("sort", None)
    rest = params.urlencode()
    prefix = "?" + (rest + "&" if rest else "") + "sort="
    cells = []
    for column in table.columns:
        css = column.column.attrs.get("th", {}).get("class", "")
        link = prefix + quote(str(column.order_by_alias.next)) if column.orderable else None
        cells.append((css, link, column.header))
    return cells


def page_links(page, query):
    """Pagination as (label, link or None, active) with the filters kept; '…' has no link."""
    from django_tables2.templatetags.django_tables2 import table_page_range

    def link(number):
        params = query.copy()
        params["page"] = str(number)
        return "?" + params.urlencode()

    links = []
    if page.has_previous():
        links.append(("« 上一页", link(page.previous_page_number()), False))
    if page.has_previous() or page.has_next():
        for p in table_page_range(page, page.paginator):
            links.append((p, None if p == "..." else link(p), p == page.number))
    if page.has_next():
        links.append(("下一页 »", link(page.next_page_number()), False))
    return links
