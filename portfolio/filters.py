"""List filters: one django-filter FilterSet per list, rendered as a Django form by the template."""
import re

import django_filters as df
from django import forms
from django.db.models import Exists, OuterRef, Q

from projects.models import (
    Category, ItemStatus, ItemUnit, ListKind, Organisation, Plan, ProjectType, Unit, organisations_in_reach,
)
from projects.validation import parse_id
from projects.versions import per_version, scope_key
from projects.widgets import INPUT, SELECT, LongSelect, UnitChoiceFilter, filter_units  # noqa: F401  (the lists' widgets)

from .rules import Light, rule_choices

PAGE_SIZES = [25, 50, 100, 200]


def _number(value):
    """A primary key from the query string, or None (bad values are the form's to explain)."""
    return parse_id(value)


def _filter_facts(plans, user):
    """What the list filters offer, read once per data version and scope: the organisations
    owning the user's plans and those above them within the user's reach (the tree is small: read
    whole, with each node's path from the top), whether several organisations own them, whether
    there are several plans."""
    owners = set(plans.order_by().values_list("organisation_id", flat=True).distinct())
    reach = organisations_in_reach(user) if user is not None else None
    above = set()
    for org in Organisation.objects.all():
        if org.pk in owners:
            above |= set(org.tree_path)
    offered = above if reach is None else above & set(reach)
    return sorted(offered), len(owners) > 1, plans.count() > 1


class ItemFilter(df.FilterSet):
    q = df.CharFilter(label="搜索", method="quick_search",
                      widget=forms.TextInput(attrs={**INPUT, "placeholder": "名称、内容或责任单位"}))
    plan = df.ModelChoiceFilter(label="规划", queryset=Plan.objects.none(), empty_label="全部",
                                widget=LongSelect(attrs=SELECT))
    organisation = df.ModelChoiceFilter(label="组织", queryset=Organisation.objects.none(), empty_label="全部",
                                        method="in_subtree", widget=LongSelect(attrs=SELECT))
    category = df.ModelChoiceFilter(label="类别", queryset=Category.objects.none(), empty_label="全部",
                                    widget=LongSelect(attrs=SELECT))
    project_type = df.ChoiceFilter(label="项目类型", choices=ProjectType.choices, empty_label="全部",
                                   widget=LongSelect(attrs=SELECT))
    status = df.ChoiceFilter(label="状态", choices=ItemStatus.choices, empty_label="全部",
                             widget=LongSelect(attrs=SELECT))
    unit = UnitChoiceFilter(label="责任单位", queryset=Unit.objects.none(), method="by_unit", empty_label="全部",
                                widget=LongSelect(attrs=SELECT))
    year = df.NumberFilter(label="建设期限覆盖年份", method="covering_year",
                           widget=forms.NumberInput(attrs={**INPUT, "min": 1949, "max": 2100}))
    end_year = df.NumberFilter(label="结束年份", field_name="end_year",
                               widget=forms.NumberInput(attrs={**INPUT, "min": 1949, "max": 2100}))
    total_min = df.NumberFilter(label="总投资≥（亿元）", field_name="total_investment", lookup_expr="gte",
                                widget=forms.NumberInput(attrs={**INPUT, "step": "any"}))
    total_max = df.NumberFilter(label="总投资≤（亿元）", field_name="total_investment", lookup_expr="lte",
                                widget=forms.NumberInput(attrs={**INPUT, "step": "any"}))
    light = df.ChoiceFilter(label="红黄绿灯", choices=Light.choices, field_name="light", empty_label="全部",
                            widget=LongSelect(attrs=SELECT))
    domain = df.CharFilter(label="领域", field_name="domain", widget=forms.TextInput(attrs=INPUT))

    def __init__(self, data=None, *args, list_kind=None, user=None, plans=None, row=None, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.list_kind = list_kind
        plans = plans if plans is not None else Plan.objects.all()
        self.filters["plan"].queryset = plans.order_by("pk")
        facts = (per_version(f"list-filter:{scope_key(user)}", lambda: _filter_facts(plans, user), row)
                 if user is not None else _filter_facts(plans, user))
        offered, self.several_organisations, several_plans = facts
        if len(offered) > 1:
            self.filters["organisation"].queryset = Organisation.objects.filter(pk__in=offered)
        else:
            del self.filters["organisation"]
        self.filters["unit"].queryset = filter_units(user).order_by("name")
        categories = Category.objects.filter(list_kind=list_kind, plan__in=plans).order_by("plan_id", "order")
        if several_plans:
            # With several plans, offer the categories of the chosen plan, or of the chosen category's plan.
            chosen = _number((data or {}).get("plan"))
            if chosen is None and _number((data or {}).get("category")) is not None:
                chosen = Category.objects.filter(pk=_number(data.get("category"))).values_list("plan_id", flat=True).first()
            categories = categories.filter(plan_id=chosen) if chosen is not None else categories.none()
        self.filters["category"].queryset = categories
        if list_kind != ListKind.PROJECT:
            for name in ("project_type", "year", "end_year", "total_min", "total_max"):
                self.filters.pop(name)
        if list_kind != ListKind.POLICY:
            self.filters.pop("domain")
        if not Category.objects.filter(list_kind=list_kind).exists():
            self.filters.pop("category")
        if not several_plans:
            self.filters.pop("plan")

    def in_subtree(self, queryset, name, value):
        """An organisation chosen: the entries of the plans it and those below it own."""
        below = Organisation.objects.descendants(value, include_self=True).values_list("pk", flat=True)
        return queryset.filter(plan__organisation_id__in=list(below))

    def quick_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        unit_match = ItemUnit.objects.filter(item=OuterRef("pk"), unit__name__icontains=value)
        return queryset.filter(Q(name__icontains=value) | Q(content__icontains=value)
                               | Q(units_as_printed__icontains=value) | Exists(unit_match))

    def by_unit(self, queryset, name, value):
        return queryset.filter(Exists(ItemUnit.objects.filter(item=OuterRef("pk"), unit=value)))

    def covering_year(self, queryset, name, value):
        return queryset.filter(start_year__lte=value, end_year__gte=value)


class FlagFilter(df.FilterSet):
    """The flag list's filters. `plan` takes the plan's code (?plan=ojk-14, as the plan switcher
    and the dashboard link); without it the list shows the plans in force (the view)."""

    plan = df.ModelChoiceFilter(label="规划", queryset=Plan.objects.none(), field_name="item__plan",
                                to_field_name="code", empty_label="执行中的规划", widget=LongSelect(attrs=SELECT))
    kind = df.ChoiceFilter(label="预警规则", choices=rule_choices, empty_label="全部", widget=LongSelect(attrs=SELECT))
    severity = df.ChoiceFilter(label="严重程度", choices=[("red", "红"), ("yellow", "黄"), ("info", "提示")],
                               empty_label="全部", widget=LongSelect(attrs=SELECT))
    list_kind = df.ChoiceFilter(label="清单", choices=ListKind.choices, field_name="item__list_kind",
                                empty_label="全部", widget=LongSelect(attrs=SELECT))
    category = df.ModelChoiceFilter(label="类别", queryset=Category.objects.none(), field_name="item__category",
                                    empty_label="全部", widget=LongSelect(attrs=SELECT))
    unit = UnitChoiceFilter(label="责任单位", queryset=Unit.objects.none(), method="by_unit", empty_label="全部",
                                widget=LongSelect(attrs=SELECT))
    opened_after = df.DateFilter(label="发现日期起", field_name="opened_on", lookup_expr="gte",
                                 widget=forms.DateInput(attrs={**INPUT, "type": "date"}))
    opened_before = df.DateFilter(label="发现日期止", field_name="opened_on", lookup_expr="lte",
                                  widget=forms.DateInput(attrs={**INPUT, "type": "date"}))

    def __init__(self, data=None, *args, user=None, plans=None, **kwargs):
        code = (data or {}).get("plan") or ""
        if code and not re.fullmatch(r"[-\w]{1,40}", code):  # no plan has it: the form says so (no NUL to SQL)
            data = data.copy()
            data["plan"] = "-"
            code = "-"
        super().__init__(data, *args, **kwargs)
        self.filters["unit"].queryset = filter_units(user).order_by("name")
        visible = Plan.objects.visible_to(user) if user is not None else Plan.objects.all()
        self.filters["plan"].queryset = visible.order_by("-start_year", "code")
        # the categories of the chosen plan, else of the plans shown (those in force)
        chosen = visible.filter(code=code) if code else plans
        self.filters["category"].queryset = Category.objects.filter(plan__in=chosen) \
            .order_by("plan_id", "list_kind", "order") if chosen is not None else Category.objects.none()
        self.form.fields["category"].label_from_instance = lambda c: f"{c.get_list_kind_display()}·{c.name}"

    def by_unit(self, queryset, name, value):
        return queryset.filter(Exists(ItemUnit.objects.filter(item=OuterRef("item"), unit=value)))
