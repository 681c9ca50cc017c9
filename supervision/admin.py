from django.contrib import admin
from django_fsm_log.admin import StateLogInline

from .models import Order, Problem


@admin.register(Problem)
class ProblemAdmin(admin.ModelAdmin):
    list_display = ("pk", "item", "kind", "level", "coordinating_unit", "deadline", "state", "raised_on")
    list_filter = ("state", "kind", "level")
    search_fields = ("description", "item__name", "coordinating_unit__name")
    raw_id_fields = ("item", "report", "merged_into", "leader", "raised_by")
    readonly_fields = ("state",)
    inlines = [StateLogInline]  # the record of every transition, read-only


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("pk", "unit", "item", "problem", "deadline", "state", "issued_by", "issued_on")
    list_filter = ("state",)
    search_fields = ("requirement", "unit__name", "item__name")
    raw_id_fields = ("item", "problem", "issued_by")
    readonly_fields = ("state", "notified_colour")
    inlines = [StateLogInline]
