"""Annotations shared by lists, detail pages, exports and dashboards (one place, no per-row queries)."""
import functools

from django.db import connection
from django.db.models import BooleanField, OuterRef, Prefetch, Subquery
from django.db.models.expressions import RawSQL

from projects.models import Item, ItemUnit, StatusReport

from .models import with_light


def latest_report(as_of=None):
    reports = StatusReport.objects.filter(item=OuterRef("pk"))
    if as_of is not None:
        reports = reports.filter(month__lte=as_of)
    return reports.order_by("-month")


def _tracked_base(as_of):
    reports = latest_report(as_of)
    qs = with_light(Item.objects.select_related("category", "plan")).annotate(
        last_month=Subquery(reports.values("month")[:1]),
        cumulative=Subquery(reports.filter(cumulative_investment__isnull=False)
                            .values("cumulative_investment")[:1]),
        progress_pct=Subquery(reports.values("progress_pct")[:1]),
    )
    return qs.prefetch_related(
        Prefetch("unit_links", queryset=ItemUnit.objects.select_related("unit").order_by("role", "pk"))
    )


@functools.cache
def _current_base():
    # Built once per process and cloned: resolving these annotations costs as much as running them.
    return _tracked_base(None)


def tracked_items(user, as_of=None):
    """Entries the user may see, with light, last reported month and cumulative investment."""
    base = _current_base() if as_of is None else _tracked_base(as_of)
    return base.all().visible_to(user)


def current_items():
    """Every entry with the list annotations as of today, no visibility filter: for statements
    keyed by ids a user's own query has already chosen."""
    return _current_base().prefetch_related(None)


class IdListQuery:
    """A fixed-shape query run for a list of ids (a page's entries). On PostgreSQL it is compiled
    by the ORM once per process, with the ids as one array parameter, then only executed:
    compiling the list's annotated query cost as much as running it."""

    def __init__(self, build, model, field="pk"):
        self.build, self.model, self.field = build, model, field
        self.compiled = {}

    def rows(self, ids):
        ids = list(ids)
        if not ids:
            return []
        if connection.vendor != "postgresql":
            return list(self.build().filter(**{f"{self.field}__in": ids}))
        if connection.alias not in self.compiled:
            self.compiled[connection.alias] = self._compile()
        sql, params, at = self.compiled[connection.alias]
        params = list(params)
        params[at] = ids
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def _compile(self):
        marker = object()
        field = self.model._meta.pk if self.field == "pk" else self.model._meta.get_field(self.field)
        column = f"{connection.ops.quote_name(self.model._meta.db_table)}.{connection.ops.quote_name(field.column)}"
        condition = RawSQL(f"{column} = ANY(%s)", (marker,), output_field=BooleanField())
        sql, params = self.build().filter(condition).query.sql_with_params()
        [at] = [i for i, p in enumerate(params) if p is marker]
        return sql, tuple(params), at
