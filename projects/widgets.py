"""Form widgets and their classes, shared by every app's filters and forms."""
from django import forms


class LongSelect(forms.Select):
    """A select for long option lists (plans, units): one template loop over the options."""

    template_name = "widgets/long_select.html"

SELECT = {"class": "form-select form-select-sm"}
INPUT = {"class": "form-control form-control-sm"}
