import django_tables2 as tables
from django.db.models import F
from django.urls import reverse
from django.utils.html import format_html

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
    attrs = {"td": {"class": "text-end text-nowrap money"}, "th": {"class": "text-end"}}

    def render(self, value):
        return money(value)

    def value(self, value):
        return money(value)


def nulls_last(field):
    def order(self, queryset, is_descending):
        expr = F(field).desc(nulls_last=True) if is_descending else F(field).asc(nulls_last=True)
        return queryset.order_by(expr, "seq"), True
    return order


class ItemTable(tables.Table):
    seq = tables.Column("序号", attrs={"td": {"class": "text-nowrap"}})
    name = tables.Column("名称", attrs={"td": {"class": "item-name"}})
    category = tables.Column("类别", accessor="category__name", order_by=("category__order", "seq"),
                             attrs={"td": {"class": "text-nowrap"}})
    domain = tables.Column("领域")
    project_type = tables.Column("项目类型", attrs={"td": {"class": "text-nowrap"}})
    period = tables.Column("建设期限", accessor="end_year", empty_values=(), attrs={"td": {"class": "text-nowrap"}})
    total_investment = MoneyColumn("总投资（亿元）", empty_values=())
    plan_investment = MoneyColumn("“十四五”投资（亿元）", empty_values=())
    cumulative = MoneyColumn("累计完成（亿元）", empty_values=(), orderable=False)
    units = tables.Column("责任单位", empty_values=(), orderable=False, attrs={"td": {"class": "units"}})
    status = tables.Column("状态", attrs={"td": {"class": "text-nowrap"}})
    light = tables.Column("灯", empty_values=(), orderable=False)

    order_total_investment = nulls_last("total_investment")
    order_plan_investment = nulls_last("plan_investment")
    order_period = nulls_last("end_year")

    class Meta:
        attrs = {"class": "table table-sm table-hover align-middle item-table"}
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

    def render_name(self, record):
        url = reverse("item_detail", args=[record.pk])
        if self.back:
            url += "?back=" + self.back
        snippet = record.content[:160] if record.content else ""
        return format_html(
            '<a href="{}" class="fw-semibold">{}</a><div class="text-muted small clamp-2" title="{}">{}</div>',
            url, record.name, record.content, snippet,
        )

    def render_project_type(self, record):
        return record.get_project_type_display() or "—"

    def render_period(self, record):
        return record.period_display

    def render_units(self, record):
        return units_text(record) or format_html('<span class="text-muted">待定</span>')

    def render_status(self, record):
        return record.get_status_display()

    def render_light(self, record):
        return light_badge(record.light)

    def render_cumulative(self, record):
        return money(record.cumulative) if record.last_month else "未报"
