"""Bounds for the admin's query-string lookups, on every registered admin, third-party ones
(django_celery_beat, axes, …) included (issue 22, item 7).

The changelist turns `?field__lookup=value` into a filter. Django refuses a value it cannot
convert, but not one that converts and then fails in the database: `?last_run_at__gte=0001-01-01`
(a datetime before year 1 once moved to UTC), `?start_time__year=9999&…&start_time__day=31` (a day
after the last), `?plan__id__exact=99999999999999999999` (beyond a bigint) all answered 500. Each
admin's changelist is wrapped: a date or number lookup outside what the column can hold is a 400
in Chinese naming the parameter.
"""
import datetime
import re

from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.shortcuts import render

from .validation import MAX_YEAR, MIN_YEAR

EARLIEST = datetime.date(MIN_YEAR, 1, 1)
LATEST = datetime.date(MAX_YEAR, 12, 31)
INT_LIMIT = 2**63 - 1  # bigint; the smaller columns are checked by their own range below
ASCII_INT = re.compile(r"-?[0-9]{1,19}")
PART_BOUNDS = {"year": (MIN_YEAR, MAX_YEAR), "month": (1, 12), "day": (1, 31), "week_day": (1, 7),
               "iso_week_day": (1, 7), "week": (1, 53), "quarter": (1, 4), "iso_year": (MIN_YEAR, MAX_YEAR)}
SKIPPED_LOOKUPS = {"isnull", "isempty"}


def _resolve(model, key):
    """(field, lookup) for a changelist parameter such as 'plan__id__exact', or (None, None)."""
    parts = key.split("__")
    field, opts = None, model._meta
    for index, part in enumerate(parts):
        try:
            field = opts.get_field(part)
        except FieldDoesNotExist:
            if field is None:
                return None, None
            return field, "__".join(parts[index:])
        if field.is_relation and field.related_model is not None and index < len(parts) - 1:
            opts = field.related_model._meta
    if field is not None and field.is_relation:
        try:
            field = field.target_field
        except Exception:  # a many-to-many or reverse relation without one target column
            return None, None
    return field, "exact"


def _int_problem(key, raw, field=None):
    if not ASCII_INT.fullmatch(raw) or abs(int(raw)) > INT_LIMIT:
        return f"参数 {key}=“{raw[:40]}”不是有效的整数。"
    if field is not None:
        from django.db import connection

        try:
            low, high = connection.ops.integer_field_range(field.get_internal_type())
        except KeyError:
            return None
        if (low is not None and int(raw) < low) or (high is not None and int(raw) > high):
            return f"参数 {key}=“{raw[:40]}”超出范围。"
    return None


def lookup_problem(model, params):
    """A Chinese sentence for the first lookup whose value no column can hold, else None."""
    for key, values in params.lists():
        if any("\x00" in value for value in values):  # no text column holds a NUL (PostgreSQL refuses it)
            return f"参数 {key[:40]} 含有不允许的控制字符。"
        field, lookup = _resolve(model, key)
        if field is None or lookup in SKIPPED_LOOKUPS:
            continue
        last = lookup.rsplit("__", 1)[-1]
        for raw in (v for value in values for v in (value.split(",") if last == "in" else [value])):
            raw = raw.strip()
            if isinstance(field, (models.DateField, models.DateTimeField)):
                if last in PART_BOUNDS:
                    low, high = PART_BOUNDS[last]
                    if not ASCII_INT.fullmatch(raw) or not low <= int(raw) <= high:
                        return f"参数 {key}=“{raw[:40]}”超出范围：应在 {low} 至 {high} 之间。"
                    continue
                try:
                    value = field.to_python(raw)
                except (ValidationError, ValueError, OverflowError):
                    return f"参数 {key}=“{raw[:40]}”不是有效的日期。"
                day = value.date() if isinstance(value, datetime.datetime) else value
                if day is not None and not EARLIEST <= day <= LATEST:
                    return f"参数 {key}=“{raw[:40]}”超出范围：日期应在 {EARLIEST} 至 {LATEST} 之间。"
            elif isinstance(field, (models.IntegerField, models.AutoField)) and last not in ("contains", "icontains",
                                                                                             "startswith", "regex"):
                problem = _int_problem(key, raw, field)
                if problem:
                    return problem
    return None


def bound_changelist(model_admin):
    view = model_admin.changelist_view

    def changelist_view(request, extra_context=None):
        problem = lookup_problem(model_admin.model, request.GET)
        if problem:
            return render(request, "400.html", {"message": problem}, status=400)
        return view(request, extra_context)

    model_admin.changelist_view = changelist_view


def bound_every_admin(site=admin.site):
    """Called from ProjectsConfig.ready(), after the admin has imported every app's admin module."""
    for model_admin in site._registry.values():
        if not getattr(model_admin, "_lookups_bounded", False):
            bound_changelist(model_admin)
            model_admin._lookups_bounded = True
