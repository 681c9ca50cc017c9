"""The problem and order lists: one Table each, rendered by templates/shared/table.html and
exported with the same columns (projects/exports.py reads `value_…`). Records are plain dicts."""
import django_tables2 as tables
from django.db.models import Case, F, Value, When
from django.db.models.functions import Coalesce, NullIf
from django.urls import reverse
from django.utils.html import format_html

from .models import Colour, OrderState, ProblemKind, ProblemLevel, ProblemState

PROBLEM_STATES = dict(ProblemState.choices)
ORDER_STATES = dict(OrderState.choices)
KINDS = dict(ProblemKind.choices)
LEVELS = dict(ProblemLevel.choices)
COLOURS = dict(Colour.choices)
COLOUR_BADGES = {
    Colour.RED.value: "bg-danger", Colour.YELLOW.value: "bg-warning text-dark", Colour.BLUE.value: "bg-primary",
    Colour.NONE.value: "bg-light text-dark border", Colour.DONE.value: "bg-secondary",
}
STATE_BADGES = {"pending": "bg-warning text-dark", "coordinating": "bg-primary", "answered": "bg-info text-dark",
                "closed": "bg-secondary", "returned": "bg-light text-dark border", "merged": "bg-light text-dark border",
                "issued": "bg-warning text-dark", "signed": "bg-primary"}

PROBLEM_FIELDS = ("pk", "item_id", "item_seq", "item_name", "list_kind", "description", "kind", "level",
                  "coordinating_name", "leader_text", "deadline", "state", "raised_on")
ORDER_FIELDS = ("pk", "item_id", "item_name", "problem_id", "unit_name", "requirement", "deadline", "state",
                "issued_on", "issuer", "colour", "answered_at")


def problem_records(queryset):
    return queryset.annotate(
        item_seq=F("item__seq"), item_name=F("item__name"), list_kind=F("item__list_kind"),
        coordinating_name=F("coordinating_unit__name"),
        leader_text=Case(When(leader__isnull=False, then=Coalesce(NullIf(F("leader__first_name"), Value("")),
                                                                   F("leader__username"))),
                         default=F("leader_name")),
    ).values(*PROBLEM_FIELDS)


def order_records(queryset):
    return queryset.annotate(item_name=F("item__name"), unit_name=F("unit__name"),
                             issuer=F("issued_by__username")).values(*ORDER_FIELDS)


def badge(css, label):
    return format_html('<span class="badge {}">{}</span>', css, label)


class ProblemTable(tables.Table):
    pk = tables.Column("编号", attrs={"td": {"class": "text-nowrap"}})
    description = tables.Column("问题", attrs={"td": {"class": "problem-text"}})
    item = tables.Column("事项", accessor="item_name", order_by=("item__list_kind", "item__seq"))
    kind = tables.Column("类型", attrs={"td": {"class": "text-nowrap"}})
    level = tables.Column("协调层级", attrs={"td": {"class": "text-nowrap"}})
    coordinating = tables.Column("协调单位", accessor="coordinating_name", order_by=("coordinating_unit__name",))
    leader = tables.Column("分管领导", accessor="leader_text", orderable=False, default="—")
    deadline = tables.Column("办理期限", attrs={"td": {"class": "text-nowrap"}})
    age = tables.Column("已提出（天）", accessor="raised_on", order_by=("raised_on",), attrs={"td": {"class": "text-end"}})
    state = tables.Column("状态", attrs={"td": {"class": "text-nowrap"}})

    class Meta:
        template_name = "shared/table.html"
        attrs = {"class": "table table-sm table-hover align-middle problem-table"}
        order_by = ("-pk",)
        per_page_field = "_per_page"
        empty_text = "没有符合条件的问题"

    def __init__(self, data, *, today, **kwargs):
        super().__init__(data, **kwargs)
        self.today = today

    def render_pk(self, value):
        return format_html('<a href="{}">#{}</a>', reverse("problem_detail", args=[value]), value)

    def render_description(self, record):
        return format_html('<a href="{}" class="clamp-2">{}</a>', reverse("problem_detail", args=[record["pk"]]),
                           record["description"][:160])

    def render_item(self, record):
        return format_html('<a href="{}">{}. {}</a>', reverse("item_detail", args=[record["item_id"]]),
                           record["item_seq"], record["item_name"])

    def render_kind(self, value):
        return KINDS.get(value, value)

    def render_level(self, value):
        return LEVELS.get(value, value)

    def render_deadline(self, record):
        late = record["state"] in ("pending", "coordinating") and record["deadline"] < self.today
        return format_html('<span class="{}">{}{}</span>', "text-danger fw-semibold" if late else "",
                           record["deadline"].strftime("%Y-%m-%d"), "（逾期）" if late else "")

    def render_age(self, value):
        return (self.today - value).days

    def render_state(self, value):
        return badge(STATE_BADGES.get(value, ""), PROBLEM_STATES.get(value, value))

    def value_item(self, record):
        return f"{record['item_seq']}. {record['item_name']}"

    def value_kind(self, value):
        return KINDS.get(value, value)

    def value_level(self, value):
        return LEVELS.get(value, value)

    def value_deadline(self, value):
        return value.strftime("%Y-%m-%d")

    def value_age(self, value):
        return (self.today - value).days

    def value_state(self, value):
        return PROBLEM_STATES.get(value, value)


class OrderTable(tables.Table):
    pk = tables.Column("编号", attrs={"td": {"class": "text-nowrap"}})
    colour = tables.Column("颜色", orderable=False, attrs={"td": {"class": "text-nowrap"}})
    requirement = tables.Column("督办要求", attrs={"td": {"class": "order-text"}})
    subject = tables.Column("督办对象", accessor="item_name", orderable=False, empty_values=())
    unit = tables.Column("督办单位", accessor="unit_name", order_by=("unit__name",))
    deadline = tables.Column("办理期限", attrs={"td": {"class": "text-nowrap"}})
    issued_on = tables.Column("下发日期", attrs={"td": {"class": "text-nowrap"}})
    issuer = tables.Column("下发人", orderable=False)
    state = tables.Column("状态", attrs={"td": {"class": "text-nowrap"}})

    class Meta:
        template_name = "shared/table.html"
        attrs = {"class": "table table-sm table-hover align-middle order-table"}
        order_by = ("-pk",)
        per_page_field = "_per_page"
        empty_text = "没有符合条件的督办单"

    def render_pk(self, value):
        return format_html('<a href="{}">#{}</a>', reverse("order_detail", args=[value]), value)

    def render_colour(self, value):
        return badge(COLOUR_BADGES.get(value, ""), COLOURS.get(value, value))

    def render_requirement(self, record):
        return format_html('<a href="{}" class="clamp-2">{}</a>', reverse("order_detail", args=[record["pk"]]),
                           record["requirement"][:160])

    def render_subject(self, record):
        if record["problem_id"]:
            return f"问题 #{record['problem_id']}"
        if record["item_id"]:
            return format_html('<a href="{}">{}</a>', reverse("item_detail", args=[record["item_id"]]),
                               record["item_name"])
        return "单位"

    def render_deadline(self, value):
        return value.strftime("%Y-%m-%d")

    def render_issued_on(self, value):
        return value.strftime("%Y-%m-%d")

    def render_state(self, value):
        return badge(STATE_BADGES.get(value, ""), ORDER_STATES.get(value, value))

    def value_colour(self, value):
        return COLOURS.get(value, value)

    def value_subject(self, record):
        if record["problem_id"]:
            return f"问题 #{record['problem_id']}"
        return record["item_name"] or "单位"

    def value_deadline(self, value):
        return value.strftime("%Y-%m-%d")

    def value_issued_on(self, value):
        return value.strftime("%Y-%m-%d")

    def value_state(self, value):
        return ORDER_STATES.get(value, value)
