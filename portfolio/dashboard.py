"""Leaders' pages: dashboard, flags, unit ranking and rollup downloads (all scoped to the user)."""
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django.utils import timezone
from django_tables2 import RequestConfig

from projects.models import Item, Organisation, Plan, acting_for
from supervision.summary import loop_counts

from projects.exports import export_table, stream_csv, xlsx_response
from projects.versions import in_force_plans, options_key, request_state
from .evaluation import state
from .filters import FlagFilter
from .models import Flag
from .tables import FlagTable, flag_records
from .trends import trends
from projects.params import BadParameter, as_of_param, bad_request, format_param, plan_bar, plan_param
from projects.permissions import can
from .rollup import rollup_response
from .summary import (
    RANKING_SHOWN, dashboard as dashboard_figures, in_force_entries, overview, overview_sentences,
    ranking_formula, stored_date, unit_ranking as ranking_rows,
)

LIGHT_ORDER = ["red", "yellow", "green", "done"]


def _number(value):
    return float(value) if value is not None else 0


def charts_of(s, ranking, period_label):
    """The chart series (ECharts, static/js/dashboard.js) from the dashboard's figures."""
    names = [c["name"] for c in s["by_category"]]
    top = ranking[:RANKING_SHOWN]
    return {
        "period_label": period_label,
        "category": {"names": names, "total": [_number(c["total"]) for c in s["by_category"]],
                     "plan": [_number(c["plan"]) for c in s["by_category"]],
                     "completed": [_number(c["completed"]) for c in s["by_category"]]},
        "years": {"years": [str(r["year"]) for r in s["by_year"]],
                  "planned": [_number(r["planned"]) for r in s["by_year"]],
                  "completed": [_number(r["completed"]) for r in s["by_year"]]},
        "lights": {"names": names, "series": {light: [s["lights_by_category"].get(n, {}).get(light, 0) for n in names]
                                              for light in LIGHT_ORDER}},
        "ranking": {"names": [f'{r["rank"]}. {r["unit"]["name"]}' for r in top][::-1], "score": [float(r["score"]) for r in top][::-1]},
    }


@login_required
def dashboard(request):
    row = request.evaluation_row = state()  # the evaluation date and data version, read once for the whole page
    try:
        plan = plan_param(request)
        as_of = as_of_param(request, stored_date(plan, row.as_of))
    except BadParameter as error:
        return bad_request(request, error)
    # The reporting card is about reports, read live: without ?as_of= it asks for today's month
    # (reporting.calendar.month_asked), even before the night's run has moved the figures' date.
    asked_on = as_of if request.GET.get("as_of") else timezone.localdate()
    s = dashboard_figures(request.user, as_of, plan, row, asked_on=asked_on)
    ranking = ranking_rows(request.user, as_of, plan, row)
    general = overview(request.user, as_of, plan, row=row)  # 总体情况: the 通报's own figures
    label = plan.period_name if plan else "规划期"
    operations = {}
    if can(request.user, "tracker.manage_plan"):  # what planners must know about the machinery
        from .outbox import nightly_problem, pending_count

        operations = {"pending_work": pending_count(), "nightly_problem": nightly_problem(),
                      "trend_plan": plan or in_force_plans(row).order_by("pk").first()}
    today = timezone.localdate()
    return render(request, "portfolio/dashboard.html", {
        **operations,
        # the loop's counts (one grouped query each, cached under the data version)
        "loop": loop_counts(request.user, today, row),
        "as_of": as_of, "plan": plan, "s": s, "charts": charts_of(s, ranking, label), "period_label": label,
        "ranking": ranking,
        "overview": general, "overview_sentences": overview_sentences(general),
        "bulletin_plan": plan or in_force_plans(row).visible_to(request.user).order_by("pk").first(),
        "evaluation_row": row,  # read once: the indicator card's cache key needs no query of its own
        **plan_bar(request, plan),
        "reporting_day": settings.TRACKER_REPORTING_DAY,
        # month by month, from the stored month-end figures (portfolio/trends.py)
        "trends": trends(request.user, plan, as_of, row),
    })


@login_required
@require_POST
def trends_backfill(request):
    """A planner's 补算趋势: queue the plan's month-end figures written from the reports."""
    if not can(request.user, "tracker.manage_plan"):
        raise PermissionDenied("只有规划人员可以补算趋势数据。")
    plan = Plan.objects.editable_by(request.user).filter(code=request.POST.get("plan", "")[:40]).first()
    if plan is None:
        return bad_request(request, BadParameter("请选择要补算的规划。"))
    from .tasks import backfill_trends_task

    backfill_trends_task.delay(plan.pk, timezone.localdate().isoformat())
    messages.success(request, f"已安排按月报补算“{plan.name}”各月末数据，完成后刷新本页即可看到趋势。")
    return redirect(reverse("home") + f"?plan={quote(plan.code)}")


@login_required
def flag_list(request):
    """未解除的预警 as a Table and a FilterSet like the other lists: red first, then the longest
    open; ?plan=CODE one plan's flags (a closed plan's as they stood at closing), by default
    the plans in force; ?_export=csv|xlsx the filtered rows; a unit user its units' entries only."""
    try:
        fmt = format_param(request, "_export") if "_export" in request.GET else None
    except BadParameter as error:
        return bad_request(request, error)
    visible = Item.objects.visible_to(request.user)
    flags = Flag.objects.filter(resolved_on__isnull=True)
    in_force = None
    if not request.GET.get("plan"):
        flags = flags.filter(item__in=in_force_entries(visible, timezone.localdate()))
        in_force = Plan.objects.in_force()
    else:
        flags = flags.filter(item__in=visible)
    f = FlagFilter(request.GET or None, queryset=flags, user=request.user, plans=in_force)
    as_of = timezone.localdate()
    table = FlagTable(flag_records(f.qs if f.is_bound else flags), as_of=as_of)
    if fmt:
        RequestConfig(request, paginate=False).configure(table)
        return export_table(table, fmt, "预警", f"预警_{as_of:%Y%m%d}.{fmt}")
    RequestConfig(request, paginate={"per_page": 100}).configure(table)
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "portfolio/flag_list.html", {
        "filter": f, "table": table, "count": table.paginator.count, "query_without_page": params.urlencode(),
        "long_fields": ("unit",), "options_key": options_key(request.user, request_state(request))})


RANKING_HEADER = ["名次", "责任单位", "重大项目数", "序时应完成投资（亿元）", "实际累计完成投资（亿元）",
                  "投资序时完成度（%）", "应报月报", "按期月报", "按时填报率（%）",
                  "到期问题", "按期办结问题", "问题按期办结率（%）", "到期督办单", "按期反馈督办单", "督办按期反馈率（%）",
                  "近期未报送月报", "红灯事项", "得分"]
RANKING_MONEY = [False, False, False, True, True] + [False] * 13


def ranking_cells(r) -> list:
    """One unit's row of the ranking export, in RANKING_HEADER's order."""
    return [r["rank"], r["unit"]["name"], r["projects"], r["expected"], r["actual"], r["pace_pct"],
            r["reports_due"], r["reports_on_time"], r["report_pct"],
            r["problems_due"], r["problems_on_time"], r["problem_pct"],
            r["orders_due"], r["orders_on_time"], r["order_pct"],
            "是" if r["filed_nothing"] else "", r["red"], r["score"]]


@login_required
def unit_ranking(request):
    row = state()
    try:
        plan = plan_param(request)
        as_of = as_of_param(request, stored_date(plan, row.as_of))
        fmt = format_param(request, "_export") if "_export" in request.GET else None
    except BadParameter as error:
        return bad_request(request, error)
    rows = ranking_rows(request.user, as_of, plan, row)
    if fmt:
        data = ((ranking_cells(r), RANKING_MONEY) for r in rows)
        name = f"单位赛马排名_{as_of:%Y%m%d}.{fmt}"
        if fmt == "csv":
            return stream_csv(RANKING_HEADER, data, name)
        return xlsx_response("单位赛马排名", RANKING_HEADER, data, name, note=ranking_formula())
    params = request.GET.copy()
    params.pop("_export", None)
    return render(request, "portfolio/unit_ranking.html", {
        "rows": rows, "as_of": as_of, "plan": plan, "formula": ranking_formula(), "query": params.urlencode()})


@login_required
def rollup_download(request):
    try:
        fmt = format_param(request, "format") if "format" in request.GET else "xlsx"
        plan = plan_param(request)
        as_of = as_of_param(request, stored_date(plan, None))
    except BadParameter as error:
        return bad_request(request, error)
    plan = plan or Plan.objects.visible_to(request.user).in_force().order_by("pk").first()
    if plan is None:
        return bad_request(request, BadParameter("尚未导入规划。"))
    return rollup_response(plan, request.user, fmt, as_of)


@login_required
def bulletin_download(request):
    """The month's 通报 (portfolio/bulletin.py) for leaders and planners: the month whose reports
    are due by the dashboard's date, with the dashboard's figures of that date."""
    from .bulletin import DOCX_TYPE, build_bulletin, filename, month_of_bulletin

    if not can(request.user, "tracker.read_overview"):
        raise Http404("通报仅供领导和规划人员下载")
    row = state()
    user, organisation = request.user, None
    if request.GET.get("org"):  # an organisation's 通报: every plan in force of its subtree
        organisation = Organisation.objects.filter(code=request.GET["org"][:40]).first()
        user = acting_for(request.user, organisation)
        if user is None:
            raise Http404("没有这个组织，或它不在您可查看的范围内。")
    try:
        plan = plan_param(request) if organisation is None else None
        as_of = as_of_param(request, stored_date(plan, row.as_of))
    except BadParameter as error:
        return bad_request(request, error)
    if organisation is None:
        plan = plan or Plan.objects.visible_to(request.user).in_force().order_by("pk").first()
        if plan is None:
            return bad_request(request, BadParameter("尚未导入规划。"))
    month = month_of_bulletin(as_of)
    response = HttpResponse(content_type=DOCX_TYPE)
    build_bulletin(plan, user, month, as_of, title=organisation.name if organisation else None).save(response)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename(plan, month, organisation))}"
    return response
