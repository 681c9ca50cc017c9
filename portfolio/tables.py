"""List columns, defined once: django-tables2 renders them on the page (shared/table.html) and
the exports read the same columns through `export_rows` (projects/exports.py)."""
import datetime
from types import SimpleNamespace

import django_tables2 as tables
from django.db import models
from django.db.models import Case, F, IntegerField, Value, When
from django.urls import reverse
from django.utils.html import format_html

from projects.models import Item, ItemStatus, ItemUnit, ListKind, ProjectType, Unit, period_text

from projects.formatting import PENDING, money
from .rules import RULES_BY_CODE, SEVERITY_RANK, Light, Severity

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

    def __init__(self, entry="pk"):
        """entry: the field naming the entry in the outer query ("pk" over entries, "item_id" over flags)."""
        super().__init__(F(entry))

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


# ---------------------------------------------------------------- the flag list (预警)

SEVERITY_BADGES = {
    Severity.RED.value: ("bg-danger", "红"),
    Severity.YELLOW.value: ("bg-warning text-dark", "黄"),
    Severity.INFO.value: ("bg-info text-dark", "提示"),
}
LIST_LABELS = dict(ListKind.choices)
# the figures 投资滞后 is put in words from (Flag.describe reads them from the entry's figures)
FLAG_FIGURES = ("expected_pct", "actual_pct", "points_behind", "year_expected_pct", "year_actual_pct")
FLAG_FIELDS = ("pk", "item_id", "kind", "severity", "opened_on", "detail", "item_seq", "item_name", "list_kind",
               "category_name", "plan_code", "plan_name", "units_text", *FLAG_FIGURES)


def severity_order():
    """Red first, then yellow, then 提示 (projects.lights.SEVERITY_RANK), for ORDER BY."""
    return Case(*[When(severity=s.value, then=Value(-SEVERITY_RANK[s])) for s in Severity],
                default=Value(0), output_field=IntegerField())


def flag_records(flags):
    """The flag list's rows as plain dicts: the flag, its entry, plan, category and units, and
    the entry's figures its sentence needs (one query for the page and the exports)."""
    return flags.annotate(
        severity_rank=severity_order(), item_seq=F("item__seq"), item_name=F("item__name"), list_kind=F("item__list_kind"),
        category_name=F("item__category__name"), plan_code=F("item__plan__code"), plan_name=F("item__plan__name"),
        units_text=UnitNames("item_id"), **{name: F(f"item__figures__{name}") for name in FLAG_FIGURES},
    ).values(*FLAG_FIELDS)


def flag_description(record, as_of):
    """The flag's sentence as of the date (Flag.describe, from the record's fields)."""
    rule = RULES_BY_CODE.get(record["kind"])
    if rule is None:
        return ""
    figures = SimpleNamespace(**{k: record[k] for k in FLAG_FIGURES}) if rule.code == "underfunded" else None
    return rule.describe(record["detail"] or {}, as_of, figures)


class FlagTable(tables.Table):
    """未解除的预警: sorted by severity (red first), then by how long each has been open."""

    severity = tables.Column("严重程度", order_by=("severity_rank",), attrs={"td": {"class": "text-nowrap"}})
    # by default reversed: opened first (longest open), then 序号
    days_open = tables.Column("已持续（天）", accessor="opened_on", order_by=("-opened_on", "-item_seq"),
                              attrs={"th": {"class": "text-end"}, "td": {"class": "text-end"}})
    kind = tables.Column("预警规则", attrs={"td": {"class": "text-nowrap"}})
    list_kind = tables.Column("清单", attrs={"td": {"class": "text-nowrap"}})
    category = tables.Column("类别", accessor="category_name", default="—")
    item = tables.Column("事项", accessor="item_name", order_by=("list_kind", "item_seq"))
    units = tables.Column("责任单位", accessor="units_text", orderable=False, default=PENDING,
                          attrs={"td": {"class": "units"}})
    plan = tables.Column("规划", accessor="plan_name", order_by=("plan_code",), attrs={"td": {"class": "text-nowrap"}})
    description = tables.Column("说明", accessor="detail", orderable=False, empty_values=(),
                                attrs={"td": {"class": "small"}})
    opened_on = tables.Column("发现日期", attrs={"td": {"class": "text-nowrap"}})

    class Meta:
        template_name = "shared/table.html"
        attrs = {"class": "table table-sm table-hover align-middle mb-0", "id": "flag-table"}
        order_by = ("severity", "-days_open")
        per_page_field = "_per_page"
        empty_text = "没有符合条件的预警"

    def __init__(self, data, *, as_of: datetime.date, **kwargs):
        super().__init__(data, **kwargs)
        self.as_of = as_of

    def order_list_kind(self, queryset, is_descending):
        """The six lists in the plan's order (重大项目 first)."""
        order = Case(*[When(list_kind=k.value, then=Value(i)) for i, k in enumerate(ListKind)],
                     output_field=IntegerField())
        return queryset.order_by(order.desc() if is_descending else order.asc(), "item_seq"), True

    # -- cells on the page -----------------------------------------------------------------
    def render_severity(self, value):
        css, label = SEVERITY_BADGES.get(value, ("bg-light text-dark", value))
        return format_html('<span class="badge {}" data-severity="{}">{}</span>', css, value, label)

    def render_days_open(self, value):
        return (self.as_of - value).days

    def render_kind(self, value):
        rule = RULES_BY_CODE.get(value)
        return rule.label if rule else value

    def render_list_kind(self, value):
        return LIST_LABELS.get(value, value)

    def render_item(self, record):
        return format_html('<a href="{}">{}. {}</a>', reverse("item_detail", args=[record["item_id"]]),
                           record["item_seq"], record["item_name"])

    def render_description(self, record):
        return flag_description(record, self.as_of)

    def render_opened_on(self, value):
        return value.strftime("%Y-%m-%d")

    # -- values in exports ---------------------------------------------------------------------
    def value_severity(self, value):
        return SEVERITY_BADGES.get(value, ("", value))[1]

    def value_days_open(self, value):
        return (self.as_of - value).days

    def value_kind(self, value):
        return self.render_kind(value)

    def value_list_kind(self, value):
        return LIST_LABELS.get(value, value)

    def value_item(self, record):
        return f"{record['item_seq']}. {record['item_name']}"

    def value_units(self, value):
        return value or PENDING

    def value_description(self, record):
        return flag_description(record, self.as_of)

    def value_opened_on(self, value):
        return value.strftime("%Y-%m-%d")


__all__ = ["ItemTable", "FlagTable", "flag_records", "severity_order", "MoneyColumn", "list_records", "light_badge", "light_label", "UnitNames", "LIGHT_BADGES",
           "Item"]
