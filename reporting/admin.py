from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from projects.admin import FrozenPlanDeletes, ItemAdmin
from projects.admin_scope import InScope

from .models import AnnualTarget, Milestone, StatusReport


class AnnualTargetInline(FrozenPlanDeletes, admin.TabularInline):
    model = AnnualTarget
    extra = 0


class MilestoneInline(FrozenPlanDeletes, admin.TabularInline):
    model = Milestone
    extra = 0


class StatusReportInline(FrozenPlanDeletes, admin.StackedInline):
    model = StatusReport
    extra = 0
    readonly_fields = ("filed_by", "filed_at", "updated_at", "version")


ItemAdmin.inlines = [*ItemAdmin.inlines, AnnualTargetInline, MilestoneInline, StatusReportInline]


@admin.register(AnnualTarget)
class AnnualTargetAdmin(InScope, FrozenPlanDeletes, SimpleHistoryAdmin):
    plan_path = "item__plan"
    list_display = ("item", "year", "planned_investment", "planned_start_month")
    list_filter = ("year",)
    search_fields = ("item__name",)
    autocomplete_fields = ("item",)


@admin.register(Milestone)
class MilestoneAdmin(InScope, FrozenPlanDeletes, SimpleHistoryAdmin):
    plan_path = "item__plan"
    list_display = ("item", "name", "due_date", "met_on")
    list_filter = ("due_date",)
    search_fields = ("item__name", "name")
    autocomplete_fields = ("item",)


@admin.register(StatusReport)
class StatusReportAdmin(InScope, FrozenPlanDeletes, SimpleHistoryAdmin):
    plan_path = "item__plan"
    list_display = ("item", "month", "status", "progress_pct", "cumulative_investment", "filed_by", "updated_at")
    list_filter = ("month", "status")
    search_fields = ("item__name",)
    autocomplete_fields = ("item",)
    readonly_fields = ("filed_by", "filed_at", "updated_at", "version")
