"""List columns, defined once: django-tables2 renders them on the page (shared/table.html) and
the exports read the same columns through `export_rows` (projects/exports.py)."""
import django_tables2 as tables
from django.db import models
from django.db.models import F
from django.urls import reverse
from django.utils.html import format_html

from projects.models import Item, ItemStatus, ItemUnit, ListKind, ProjectType, Unit, period_text

from projects.formatting import PENDING, money
from .rules import Light

LIGHT_BADGES = {
    Light.RED.value: ("bg-danger", "红灯"),
    Light.YELLOW.value: ("bg-warning text-dark", "黄灯"),
    Light.GREEN.value: ("bg-success", "绿灯"),
    Light.DONE.value: ("bg-secondary", "已完成"),
}
PROJECT_TYPES = dict(ProjectType.choices)
STATUSES = dict(ItemStatus.choices)


def light_badge(value):
    css, label = LIGHT_BADGES.get(value, ("bg-light text-dark", "—"))
    return format_html('<span class="badge {} light-badge" data-light="{}">{}</span>', css, value or "", label)


def light_label(value):
    return LIGHT_BADGES.get(value, ("", "—"))[1]


class UnitNames(models.Func):
    """The entry's responsible units as one text, lead first, separated by 、 (one subquery)."""

    output_field = models.CharField()

    def __init__(self):
        super().__init__(F("pk"))

    def _parts(self, compiler):
        item_sql, params = compiler.compile(self.source_expressions[0])
        links, units = ItemUnit._meta.db_table, Unit._meta.db_table
        return item_sql, list(params), links, units

    def as_postgresql(self, compiler, connection, **extra):
        item_sql, params, links, units = self._parts(compiler)
        return (f"(SELECT string_agg(u.name, %s ORDER BY l.role, l.id) FROM {links} l "
                f"JOIN {units} u ON u.id = l.unit_id WHERE l.item_id = {item_sql})", ["、", *params])

    def as_sql(self, compiler, connection, **extra):  # SQLite: group_concat keeps the subquery's order
        item_sql, params, links, units = self._parts(compiler)
        return (f"(SELECT group_concat(name, %s) FROM (SELECT u.name AS name FROM {links} l "
                f"JOIN {units} u ON u.id = l.unit_id WHERE l.item_id = {item_sql} ORDER BY l.role, l.id))",
                ["、", *params])


LIST_FIELDS = ("pk", "plan_id", "category_id", "seq", "name", "content", "category_name", "domain", "project_type", "start_year",
               "end_year", "total_investment", "plan_investment", "cumulative", "last_month", "units_text",
               "status", "light", "organisation_name")


def with_list_figures(items, as_of=None):
    """Entries with the figures a list shows and filters on (light, cumulative, last month): those
    of the evaluation date, or derived live for another date."""
    from .summary import entry_figures

    if as_of is None:
        return items.annotate(cumulative=F("figures__cumulative"), last_month=F("figures__last_month"),
                              light=F("figures__light"))
    return entry_figures(items, as_of)[0]


def list_records(annotated):
    """The list's rows as plain dicts (the same records for the page and the exports)."""
    return annotated.annotate(category_name=F("category__name"), units_text=UnitNames(),
                              organisation_name=F("plan__organisation__name")).values(*LIST_FIELDS)


def not_reported(record):
    """未报: no cumulative investment known for the project (its chain of plans) and no report of
    the entry itself; a report without the figure is 待定 (docs/architecture.md, "Plans over time")."""
    return record["cumulative"] is None and not record["last_month"]


class MoneyColumn(tables.Column):
    """亿元 with two decimals; NULL is 待定. Exported as a number."""

    is_money = True  # the exports write it as a number (projects/exports.py)

    attrs = {"th": {"class": "text-end"}, "td": {"class": "money text-end text-nowrap"}}

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("default", PENDING)
        super().__init__(*args, **kwargs)

    def render(self, value):
        return money(value)


def nulls_last(field):
    """Ordering that puts 待定 (NULL) last both ways, then 序号."""
    def order(table, queryset, is_descending):
        expr = F(field).desc(nulls_last=True) if is_descending else F(field).asc(nulls_last=True)
        return queryset.order_by(expr, "seq"), True
    return order


class ItemTable(tables.Table):
    # Row selection for a planner's bulk status change (shown to planners only, never exported).
    select = tables.CheckBoxColumn(accessor="pk", exclude_from_export=True, attrs={
        "th__input": {"id": "select-all", "aria-label": "全选本页", "form": "bulk-status"},
        "td__input": {"class": "row-select", "aria-label": "选择", "form": "bulk-status"},
        "td": {"class": "select-cell no-print"}, "th": {"class": "no-print"}})
    seq = tables.Column("序号", attrs={"td": {"class": "text-nowrap"}})
    organisation = tables.Column("组织", accessor="organisation_name", order_by=("plan__organisation__name", "seq"),
                                 attrs={"td": {"class": "text-nowrap"}}, default="—")
    name = tables.Column("名称", attrs={"td": {"class": "item-name"}})
    content = tables.Column("建设规模和内容", visible=False)
    category = tables.Column("类别", accessor="category_name", order_by=("category__order", "seq"),
                             attrs={"td": {"class": "text-nowrap"}}, default="—")
    domain = tables.Column("领域", default="—")
    project_type = tables.Column("项目类型", attrs={"td": {"class": "text-nowrap"}}, default="—")
    period = tables.Column("建设期限", accessor="end_year", attrs={"td": {"class": "text-nowrap"}}, empty_values=())
    total_investment = MoneyColumn("总投资（亿元）")
    plan_investment = MoneyColumn("规划期投资（亿元）")
    cumulative = MoneyColumn("累计完成（亿元）", empty_values=())
    units = tables.Column("责任单位", accessor="units_text", orderable=False, attrs={"td": {"class": "units"}},
                          default=PENDING)
    status = tables.Column("状态", attrs={"td": {"class": "text-nowrap"}})
    last_month = tables.Column("最近填报", attrs={"td": {"class": "text-nowrap"}}, default="未报")
    light = tables.Column("灯", orderable=False)

    class Meta:
        template_name = "shared/table.html"
        attrs = {"class": "table table-sm table-hover align-middle item-table"}
        order_by = ("seq",)
        per_page_field = "_per_page"  # the page size is validated by the view, not read raw from the URL
        empty_text = "没有符合条件的事项"

    def __init__(self, data, *, list_kind, period_label=None, back="", exclude=(), selectable=False,
                 several_organisations=False, **kwargs):
        exclude = list(exclude)
        if not several_organisations:  # one organisation's lists need no column saying so
            exclude.append("organisation")
        if not selectable:
            exclude.append("select")
        if list_kind != ListKind.PROJECT:
            exclude += ["project_type", "period", "total_investment", "plan_investment", "cumulative"]
        if list_kind != ListKind.POLICY:
            exclude.append("domain")
        if list_kind in (ListKind.REFORM, ListKind.POLICY):
            exclude.append("category")
        super().__init__(data, exclude=exclude, **kwargs)
        self.back = back
        if list_kind == ListKind.PROJECT:
            self.columns["name"].column.verbose_name = "项目名称"
        else:
            self.columns["content"].column.verbose_name = "工作目标任务"
        if period_label and list_kind == ListKind.PROJECT:
            self.columns["plan_investment"].column.verbose_name = f"“{period_label}”投资（亿元）"

    # -- cells on the page -----------------------------------------------------------------
    def render_name(self, record):
        url = reverse("item_detail", args=[record["pk"]]) + (f"?back={self.back}" if self.back else "")
        content = record["content"] or ""
        return format_html('<a href="{}" class="fw-semibold">{}</a>'
                           '<div class="text-muted small clamp-2" title="{}">{}</div>',
                           url, record["name"], content, content[:160])

    def render_project_type(self, value):
        return PROJECT_TYPES.get(value, value)

    def render_period(self, record):
        return period_text(record["start_year"], record["end_year"])

    def render_cumulative(self, record):
        return "未报" if not_reported(record) else money(record["cumulative"])

    def render_status(self, value):
        return STATUSES.get(value, value)

    def render_last_month(self, value):
        return value.strftime("%Y-%m") if value else "未报"

    def render_light(self, value):
        return light_badge(value)

    order_period = nulls_last("end_year")
    order_total_investment = nulls_last("total_investment")
    order_plan_investment = nulls_last("plan_investment")
    order_cumulative = nulls_last("cumulative")

    # -- values in exports (typed: money stays a Decimal, 待定 is None) ------------------------
    def value_name(self, record):
        return record["name"]

    def value_project_type(self, value):
        return PROJECT_TYPES.get(value, "")

    def value_period(self, record):
        return period_text(record["start_year"], record["end_year"])

    def value_total_investment(self, value):
        return value

    def value_plan_investment(self, value):
        return value

    def value_cumulative(self, record):
        return None if not_reported(record) else record["cumulative"]

    def value_units(self, value):
        return value or PENDING

    def value_status(self, value):
        return STATUSES.get(value, value)

    def value_last_month(self, value):
        return value.strftime("%Y-%m") if value else ""

    def value_light(self, value):
        return light_label(value)


__all__ = ["ItemTable", "MoneyColumn", "list_records", "light_badge", "light_label", "UnitNames", "LIGHT_BADGES",
           "Item"]
