from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from projects.admin_scope import InScope

from .models import Indicator, IndicatorTable, IndicatorValue


@admin.register(IndicatorTable)
class IndicatorTableAdmin(InScope, admin.ModelAdmin):
    list_display = ("title", "plan", "kind", "baseline_year", "target_year", "order")
    list_filter = ("plan", "kind")


@admin.register(Indicator)
class IndicatorAdmin(InScope, SimpleHistoryAdmin):
    list_display = ("name", "parent_name", "table", "seq", "unit", "attribute", "target_printed", "direction",
                    "responsible_unit")
    list_filter = ("plan", "table", "attribute", "direction")
    list_editable = ("responsible_unit", "direction")
    search_fields = ("name", "parent_name", "category")
    list_select_related = ("table", "responsible_unit")
    readonly_fields = ("direction_fixed",)

    def save_model(self, request, obj, form, change):
        """A direction changed here is the planner's: kept on re-import, its reason in the history."""
        if "direction" in form.changed_data:
            obj.direction_fixed = True
            reason = form.cleaned_data.get("direction_reason") or obj.direction_reason
            obj._change_reason = f"方向改为{obj.get_direction_display()}" + (f"：{reason}" if reason else "")
        super().save_model(request, obj, form, change)


@admin.register(IndicatorValue)
class IndicatorValueAdmin(InScope, SimpleHistoryAdmin):
    plan_path = "indicator__plan"
    list_display = ("indicator", "year", "value", "source", "entered_by", "entered_at")
    list_filter = ("indicator__plan", "year", "source")
    search_fields = ("indicator__name",)
    raw_id_fields = ("indicator",)
    readonly_fields = ("entered_by", "entered_at")

    def save_model(self, request, obj, form, change):
        obj.entered_by = request.user
        obj.source = IndicatorValue.Source.ADMIN
        super().save_model(request, obj, form, change)
