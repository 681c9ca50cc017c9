import django_filters as df
from django import forms
from django.db.models import Exists, OuterRef, Q

from projects.models import Category, ItemStatus, ItemUnit, ListKind, Plan, ProjectType, Role, Unit, role_of
from projects.versioning import version_stamp

from .models import Light

PAGE_SIZES = [25, 50, 100, 200]


def visible_units(user):
    if role_of(user) == Role.UNIT:
        return Unit.objects.filter(members=user)
    return Unit.objects.filter(Exists(ItemUnit.objects.filter(unit=OuterRef("pk"))))


class SharedChoices(tuple):
    """A choice list read once per data version and shared by every form built from it: forms
    deep-copy their fields, and copying a province's thousand plans on every page costs more
    than the page's SQL."""

    def __deepcopy__(self, memo):
        return self


class PerVersion:
    """Values derived from the data (choice lists, their HTML), kept in this process until the
    data version moves. Keys carry the version they were read under, so a value computed while
    another request saw a newer version is never served under it."""

    LIMIT = 5000

    def __init__(self):
        self.stamp, self.values = None, {}

    def clear(self):
        self.stamp, self.values = None, {}

    def get(self, stamp, key, compute):
        if stamp != self.stamp:
            self.stamp, self.values = stamp, {}
        values = self.values
        try:
            return values[stamp, key]
        except KeyError:
            if len(values) >= self.LIMIT:
                values.clear()
            value = values[stamp, key] = compute()
            return value


per_version = PerVersion()


def plan_choices(stamp):
    return per_version.get(stamp, "plans", lambda: SharedChoices(Plan.objects.values_list("pk", "name")))


def category_index(stamp, list_kind):
    """A list's categories grouped by plan, and each category's plan."""
    def read():
        by_plan, plan_of = {}, {}
        for pk, plan_id, name in (Category.objects.filter(list_kind=list_kind)
                                  .order_by("plan_id", "order").values_list("pk", "plan_id", "name")):
            by_plan.setdefault(plan_id, []).append((pk, name))
            plan_of[pk] = plan_id
        every = SharedChoices(choice for choices in by_plan.values() for choice in choices)
        return {"all": every, "by_plan": {p: SharedChoices(c) for p, c in by_plan.items()}, "plan_of": plan_of}
    return per_version.get(stamp, ("categories", list_kind), read)


def unit_choices_key(user):
    return ("units", user.pk) if role_of(user) == Role.UNIT else ("units",)


def unit_choices(stamp, user):
    return per_version.get(stamp, unit_choices_key(user),
                           lambda: SharedChoices(visible_units(user).values_list("pk", "name")))


def _digits(value):
    value = str(value or "")
    return int(value) if value.isdigit() else None


class ItemFilter(df.FilterSet):
    q = df.CharFilter(label="搜索", method="quick_search",
                      widget=forms.TextInput(attrs={"placeholder": "名称、内容或责任单位"}))
    plan = df.ChoiceFilter(label="规划", field_name="plan_id", choices=SharedChoices())
    category = df.ChoiceFilter(label="类别", field_name="category_id", choices=SharedChoices())
    project_type = df.ChoiceFilter(label="项目类型", choices=SharedChoices(ProjectType.choices))
    status = df.ChoiceFilter(label="状态", choices=SharedChoices(ItemStatus.choices))
    unit = df.ChoiceFilter(label="责任单位", method="by_unit", choices=SharedChoices())
    year = df.NumberFilter(label="建设期限覆盖年份", method="covering_year")
    end_year = df.NumberFilter(label="结束年份", field_name="end_year")
    total_min = df.NumberFilter(label="总投资≥（亿元）", field_name="total_investment", lookup_expr="gte")
    total_max = df.NumberFilter(label="总投资≤（亿元）", field_name="total_investment", lookup_expr="lte")
    light = df.ChoiceFilter(label="红黄绿灯", choices=SharedChoices(Light.choices), field_name="light")
    domain = df.CharFilter(label="领域", field_name="domain")

    def __init__(self, *args, list_kind=None, user=None, version=None, **kwargs):
        """version: the data version stamp the request read (read here when not given); plans,
        categories and units are offered, and checked, from lists kept per version."""
        super().__init__(*args, **kwargs)
        self.list_kind = list_kind
        self.version = version_stamp() if version is None else version
        plans = plan_choices(self.version)
        index = category_index(self.version, list_kind)
        categories = self._categories(index, several_plans=len(plans) > 1)
        # The key of each select's choice list: its rendered options are kept under it too.
        self.choice_keys = {"plan": ("plans",), "category": categories[0], "unit": unit_choices_key(user)}
        self.filters["plan"].extra["choices"] = plans
        self.filters["category"].extra["choices"] = categories[1]
        self.filters["unit"].extra["choices"] = unit_choices(self.version, user)
        if list_kind != ListKind.PROJECT:
            for name in ("project_type", "year", "end_year", "total_min", "total_max"):
                self.filters.pop(name)
        if list_kind != ListKind.POLICY:
            self.filters.pop("domain")
        if not index["plan_of"]:
            self.filters.pop("category")
        if len(plans) < 2:
            self.filters.pop("plan")

    def _categories(self, index, several_plans):
        """(key, choices): one plan's categories, the chosen plan's or the chosen category's
        plan's when there are several plans; every category of the list when there is one."""
        key = ("categories", self.list_kind)
        if not several_plans:
            return key, index["all"]
        data = self.data or {}
        plan = _digits(data.get("plan"))
        if plan is None:
            plan = index["plan_of"].get(_digits(data.get("category")))
        return (*key, plan), index["by_plan"].get(plan, SharedChoices())

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
        return queryset.filter(Exists(ItemUnit.objects.filter(item=OuterRef("pk"), unit_id=int(value))))

    def covering_year(self, queryset, name, value):
        return queryset.filter(start_year__lte=value, end_year__gte=value)
