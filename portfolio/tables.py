import django_tables2 as tables
from django.db.models import F
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from projects.models import ListKind

from .formatting import money, units_text

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
# Written in one Python pass: django-tables2's per-cell template rendering cost several times
# the page's SQL.

_MONEY_TD = '<td class="money text-end text-nowrap">'


def _cell_seq(table, item):
    return f'<td class="text-nowrap">{item.seq}</td>'


def _cell_name(table, item):
    url = f"/items/{item.pk}/" + (f"?back={table.back}" if table.back else "")
    content = item.content or ""
    return (f'<td class="item-name"><a href="{escape(url)}" class="fw-semibold">{escape(item.name)}</a>'
            f'<div class="text-muted small clamp-2" title="{escape(content)}">{escape(content[:160])}</div></td>')


def _cell_category(table, item):
    return f'<td class="text-nowrap">{escape(item.category.name) if item.category_id else "—"}</td>'


def _cell_domain(table, item):
    return f"<td>{escape(item.domain) if item.domain else '—'}</td>"


def _cell_project_type(table, item):
    return f'<td class="text-nowrap">{escape(item.get_project_type_display() or "—")}</td>'


def _cell_period(table, item):
    return f'<td class="text-nowrap">{escape(item.period_display)}</td>'


def _cell_total_investment(table, item):
    return _MONEY_TD + money(item.total_investment) + "</td>"


def _cell_plan_investment(table, item):
    return _MONEY_TD + money(item.plan_investment) + "</td>"


def _cell_cumulative(table, item):
    return _MONEY_TD + (money(item.cumulative) if item.last_month else "未报") + "</td>"


def _cell_units(table, item):
    names = units_text(item)
    return '<td class="units">' + (escape(names) if names else '<span class="text-muted">待定</span>') + "</td>"


def _cell_status(table, item):
    return f'<td class="text-nowrap">{escape(item.get_status_display())}</td>'


def _cell_light(table, item):
    return f"<td>{light_badge(item.light)}</td>"


CELL_WRITERS = {name[len("_cell_"):]: fn for name, fn in globals().items() if name.startswith("_cell_")}


def item_rows_html(table):
    """The <tbody> rows of the current page, column for column as the table defines them."""
    writers = [CELL_WRITERS[column.name] for column in table.columns]
    out = []
    for i, row in enumerate(table.page.object_list):
        item = row.record
        out.append('<tr class="even">' if i % 2 == 0 else '<tr class="odd">')
        out.extend(write(table, item) for write in writers)
        out.append("</tr>")
    if not out:
        out.append(f'<tr><td colspan="{len(writers)}" class="text-muted">没有符合条件的事项</td></tr>')
    return mark_safe("".join(out))


def header_cells(table, query):
    """(th class, sort link or None, heading) for each column; links keep the other parameters."""
    cells = []
    for column in table.columns:
        css = column.attrs["th"].get("class", "")
        link = None
        if column.orderable:
            params = query.copy()
            params["sort"] = str(column.order_by_alias.next)
            link = "?" + params.urlencode()
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
