"""Form widgets and filters, shared by every app's filters and forms."""
import django_filters as df
from django import forms
from django.db.models import Exists, OuterRef

from .models import ItemUnit, Role, Unit, role_of
from .names import PinyinModelChoiceField


class LongSelect(forms.Select):
    """A select for long option lists (plans, units): one template loop over the options."""

    template_name = "widgets/long_select.html"

SELECT = {"class": "form-select form-select-sm"}
INPUT = {"class": "form-control form-control-sm"}


def filter_units(user):
    """The units a user may filter by: a unit user's own units; for everyone else the units
    that hold at least one entry."""
    if role_of(user) == Role.UNIT:
        return Unit.objects.filter(members=user)
    return Unit.objects.filter(Exists(ItemUnit.objects.filter(unit=OuterRef("pk"))))


class UnitChoiceFilter(df.ModelChoiceFilter):
    """The units offered in pinyin order (经济发展局 before 自然资源和规划局)."""

    field_class = PinyinModelChoiceField
