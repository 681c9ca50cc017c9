"""Leaders' pages: dashboard, flags, unit ranking and rollup downloads (all scoped to the user)."""
import datetime

import django_filters as df
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from projects.models import ListKind, Plan, role_of
from projects.versioning import version_stamp

from .exports import FORMATS, stream_csv
from .formatting import money
from .models import Flag, FlagKind, Severity
from .rollup import rollup_response
from .snapshots import dashboard_figures, default_plan, scope_key
from .summary import RANKING_FORMULA
from .filters import visible_units
from projects.models import Item, ItemUnit
from django.db.models import Exists, OuterRef


def _as_of(request):
    try:
        return datetime.date.fromisoformat(request.GET["as_of"])
    except (KeyError, ValueError):
        return timezone.localdate()


def _plan(request):
    code = request.GET.get("plan")
    if code:
        return Plan.objects.filter(code=code).first()
    return default_plan()


@login_required
def dashboard(request):
    as_of = _as_of(request)
    plan = _plan(request)
    context = {"as_of": as_of, "plan": plan}
    # Everyone who shares a scope sees the same figures until the data changes, so the rendered
    # figures are kept per scope, plan, date and data version: rendering them cost several
    # times reading them.
    key, body = None, None
    if settings.TRACKER_DASHBOARD_PAGE_SECONDS and not connection.in_atomic_block:
        key = "|".join(["dashboard-page", role_of(request.user), scope_key(request.user),
                        str(plan.pk if plan else "*"), as_of.isoformat(), version_stamp()])
        body = cache.get(key)
    if body is None:
        figures = dashboard_figures(request.user, as_of, plan)
        context.update(s=figures["s"], charts=figures["charts"])
        body = render_to_string("portfolio/dashboard_body.html", context, request=request)
        if key:
            cache.set(key, body, settings.TRACKER_DASHBOARD_PAGE_SECONDS)
    return render(request, "portfolio/dashboard.html", dict(context, body=mark_safe(body)))


class FlagFilter(df.FilterSet):
    kind = df.ChoiceFilter(label="类型", choices=FlagKind.choices)
    severity = df.ChoiceFilter(label="严重程度", choices=Severity.choices)
    list_kind = df.ChoiceFilter(label="清单", choices=ListKind.choices, field_name="item__list_kind")
    unit = df.ModelChoiceFilter(label="责任单位", queryset=None, method="by_unit")
    opened_after = df.DateFilter(label="发现日期起", field_name="opened_on", lookup_expr="gte")
    opened_before = df.DateFilter(label="发现日期止", field_name="opened_on", lookup_expr="lte")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["unit"].queryset = visible_units(user)

    def by_unit(self, queryset, name, value):
        return queryset.filter(Exists(ItemUnit.objects.filter(item=OuterRef("item"), unit=value)))


@login_required
def flag_list(request):
    base = Flag.objects.filter(resolved_on__isnull=True, item__in=Item.objects.visible_to(request.user)) \
        .select_related("item").order_by("-severity", "item__list_kind", "item__seq")
    f = FlagFilter(request.GET or None, queryset=base, user=request.user)
    flags = f.qs if f.is_bound else base
    from django.core.paginator import Paginator
    page = Paginator(flags, 100).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "portfolio/flag_list.html", {
        "filter": f, "page": page, "count": page.paginator.count, "query_without_page": params.urlencode()})


@login_required
def unit_ranking(request):
    as_of = _as_of(request)
    rows = dashboard_figures(request.user, as_of, _plan(request))["ranking"]
    fmt = request.GET.get("_export")
    if fmt:
        if fmt not in FORMATS:
            return HttpResponseBadRequest(f"不支持的导出格式“{fmt}”".encode())
        header = ["名次", "责任单位", "重大项目数", "序时应完成投资（亿元）", "实际累计完成投资（亿元）",
                  "投资序时完成度（%）", "应报月报", "按期月报", "按时填报率（%）", "未解除红灯", "得分"]
        flags = [False, False, False, True, True, False, False, False, False, False, False]
        data = [([r["rank"], r["unit"]["name"], r["projects"], r["expected"], r["actual"],
                  r["pace_pct"] if r["pace_pct"] is not None else "—", r["reports_due"], r["reports_on_time"],
                  r["report_pct"] if r["report_pct"] is not None else "—", r["red"], r["score"]], flags)
                for r in rows]
        name = f"单位赛马排名_{as_of:%Y%m%d}.{fmt}"
        if fmt == "csv":
            return stream_csv(header, iter(data), name)
        from .rollup import single_sheet_xlsx
        return single_sheet_xlsx("单位赛马排名", header, data, name, note=RANKING_FORMULA)
    params = request.GET.copy()
    params.pop("_export", None)
    return render(request, "portfolio/unit_ranking.html", {
        "rows": rows, "as_of": as_of, "formula": RANKING_FORMULA, "query": params.urlencode()})


@login_required
def rollup_download(request):
    fmt = request.GET.get("format", "xlsx")
    if fmt not in FORMATS:
        return HttpResponseBadRequest(f"不支持的导出格式“{fmt}”，可选：{'、'.join(FORMATS)}".encode())
    plan = _plan(request) or Plan.objects.first()
    if plan is None:
        return HttpResponseBadRequest("尚未导入规划".encode())
    return rollup_response(plan, request.user, fmt, _as_of(request))


__all__ = ["dashboard", "flag_list", "unit_ranking", "rollup_download", "money"]
