"""List filters (django-filter), each with a `q` quick search."""
import datetime

import django_filters as df
from django import forms
from django.db.models import Exists, OuterRef, Q

from projects.models import ItemUnit, Unit
from projects.widgets import INPUT, SELECT, LongSelect, UnitChoiceFilter, filter_units

from .models import Colour, OrderState, ProblemKind, ProblemState

AGES = [("7", "7 天以上"), ("30", "30 天以上"), ("90", "90 天以上")]


class ProblemFilter(df.FilterSet):
    q = df.CharFilter(label="搜索", method="quick_search",
                      widget=forms.TextInput(attrs={**INPUT, "placeholder": "问题、事项或单位"}))
    state = df.ChoiceFilter(label="状态", choices=ProblemState.choices, empty_label="全部",
                            widget=LongSelect(attrs=SELECT))
    kind = df.ChoiceFilter(label="类型", choices=ProblemKind.choices, empty_label="全部",
                           widget=LongSelect(attrs=SELECT))
    unit = UnitChoiceFilter(label="单位", queryset=Unit.objects.none(), method="by_unit", empty_label="全部",
                            widget=LongSelect(attrs=SELECT))
    leader = df.CharFilter(label="分管领导", method="by_leader", widget=forms.TextInput(attrs=INPUT))
    age = df.ChoiceFilter(label="已提出", choices=AGES, method="by_age", empty_label="不限",
                          widget=LongSelect(attrs=SELECT))
    open = df.BooleanFilter(label="未办结", method="only_open", widget=forms.HiddenInput)

    def __init__(self, data=None, *args, user=None, today=None, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.today = today
        self.filters["unit"].queryset = filter_units(user).order_by("name")

    def quick_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(description__icontains=value) | Q(item__name__icontains=value)
                               | Q(coordinating_unit__name__icontains=value))

    def by_unit(self, queryset, name, value):
        """The problems the unit coordinates or that concern its entries."""
        return queryset.filter(Q(coordinating_unit=value)
                               | Exists(ItemUnit.objects.filter(item=OuterRef("item"), unit=value)))

    def by_leader(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(leader_name__icontains=value) | Q(leader__username__icontains=value)
                               | Q(leader__first_name__icontains=value))

    def by_age(self, queryset, name, value):
        return queryset.filter(raised_on__lte=self.today - datetime.timedelta(days=int(value)))

    def only_open(self, queryset, name, value):
        from .models import OPEN_PROBLEM_STATES

        return queryset.filter(state__in=OPEN_PROBLEM_STATES) if value else queryset


class OrderFilter(df.FilterSet):
    q = df.CharFilter(label="搜索", method="quick_search",
                      widget=forms.TextInput(attrs={**INPUT, "placeholder": "督办要求、事项或单位"}))
    state = df.ChoiceFilter(label="状态", choices=OrderState.choices, empty_label="全部",
                            widget=LongSelect(attrs=SELECT))
    colour = df.ChoiceFilter(label="颜色", choices=Colour.choices, field_name="colour", empty_label="全部",
                             widget=LongSelect(attrs=SELECT))
    unit = UnitChoiceFilter(label="督办单位", queryset=Unit.objects.none(), field_name="unit", empty_label="全部",
                            widget=LongSelect(attrs=SELECT))

    def __init__(self, data=None, *args, user=None, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.filters["unit"].queryset = filter_units(user).order_by("name")

    def quick_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(requirement__icontains=value) | Q(item__name__icontains=value)
                               | Q(unit__name__icontains=value))
