import django_filters as df
from django import forms
from django.db.models import Exists, OuterRef, Q

from projects.models import Category, ItemStatus, ItemUnit, ListKind, Plan, ProjectType, Role, Unit, role_of

from .models import Light

PAGE_SIZES = [25, 50, 100, 200]


def visible_units(user):
    if role_of(user) == Role.UNIT:
        return Unit.objects.filter(members=user)
    return Unit.objects.filter(Exists(ItemUnit.objects.filter(unit=OuterRef("pk"))))


class ItemFilter(df.FilterSet):
    q = df.CharFilter(label="搜索", method="quick_search",
                      widget=forms.TextInput(attrs={"placeholder": "名称、内容或责任单位"}))
    plan = df.ModelChoiceFilter(label="规划", queryset=Plan.objects.all())
    category = df.ModelChoiceFilter(label="类别", queryset=Category.objects.none())
    project_type = df.ChoiceFilter(label="项目类型", choices=ProjectType.choices)
    status = df.ChoiceFilter(label="状态", choices=ItemStatus.choices)
    unit = df.ModelChoiceFilter(label="责任单位", queryset=Unit.objects.none(), method="by_unit")
    year = df.NumberFilter(label="建设期限覆盖年份", method="covering_year")
    end_year = df.NumberFilter(label="结束年份", field_name="end_year")
    total_min = df.NumberFilter(label="总投资≥（亿元）", field_name="total_investment", lookup_expr="gte")
    total_max = df.NumberFilter(label="总投资≤（亿元）", field_name="total_investment", lookup_expr="lte")
    light = df.ChoiceFilter(label="红黄绿灯", choices=Light.choices, field_name="light")
    domain = df.CharFilter(label="领域", field_name="domain")

    def __init__(self, *args, list_kind=None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.list_kind = list_kind
        self.filters["category"].queryset = self._categories(list_kind)
        self.filters["unit"].queryset = visible_units(user)
        if list_kind != ListKind.PROJECT:
            for name in ("project_type", "year", "end_year", "total_min", "total_max"):
                self.filters.pop(name)
        if list_kind != ListKind.POLICY:
            self.filters.pop("domain")
        if not Category.objects.filter(list_kind=list_kind).exists():
            self.filters.pop("category")
        if Plan.objects.count() < 2:
            self.filters.pop("plan")

    def _categories(self, list_kind):
        """One plan's categories: the chosen plan's, or the chosen category's plan when several exist."""
        categories = Category.objects.filter(list_kind=list_kind).order_by("plan_id", "order")
        if not Plan.objects.filter(pk__gt=Plan.objects.order_by("pk").values("pk")[:1]).exists():
            return categories
        data = self.data or {}
        plan, category = str(data.get("plan", "")), str(data.get("category", ""))
        if plan.isdigit():
            return categories.filter(plan_id=int(plan))
        if category.isdigit():
            return categories.filter(plan_id__in=Category.objects.filter(pk=int(category)).values("plan_id"))
        return categories.none()

    def quick_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        unit_match = ItemUnit.objects.filter(item=OuterRef("pk"), unit__name__icontains=value)
        return queryset.filter(
            Q(name__icontains=value) | Q(content__icontains=value) | Q(units_as_printed__icontains=value)
            | Exists(unit_match)
        )

    def by_unit(self, queryset, name, value):
        return queryset.filter(Exists(ItemUnit.objects.filter(item=OuterRef("pk"), unit=value)))

    def covering_year(self, queryset, name, value):
        return queryset.filter(start_year__lte=value, end_year__gte=value)
