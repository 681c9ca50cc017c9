from django.contrib import admin
from django_fsm_log.admin import StateLogInline

from projects.admin_scope import InScope

from .models import Order, Problem


@admin.register(Problem)
class ProblemAdmin(InScope, admin.ModelAdmin):
    plan_path = "item__plan"
    list_display = ("pk", "item", "kind", "level", "coordinating_unit", "deadline", "state", "raised_on")
    list_filter = ("state", "kind", "level")
    search_fields = ("description", "item__name", "coordinating_unit__name")
    raw_id_fields = ("item", "report", "merged_into", "leader", "raised_by")
    readonly_fields = ("state",)
    inlines = [StateLogInline]  # the record of every transition, read-only


@admin.register(Order)
class OrderAdmin(InScope, admin.ModelAdmin):
    def scope(self, request, queryset):
        return queryset & Order.objects.visible_to(request.user)

    list_display = ("pk", "unit", "item", "problem", "deadline", "state", "issued_by", "issued_on")
    list_filter = ("state",)
    search_fields = ("requirement", "unit__name", "item__name")
    raw_id_fields = ("item", "problem", "issued_by")
    readonly_fields = ("state", "notified_colour")
    inlines = [StateLogInline]
