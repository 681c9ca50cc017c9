"""Zones compared: the page, its drill-down by ?org=CODE and its XLSX/CSV export."""
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from projects.exports import stream_csv, xlsx_response
from projects.models import Organisation, organisation_of, organisations_in_reach
from projects.params import BadParameter, as_of_param, bad_request, format_param
from projects.permissions import can

from .comparison import FORMULA, comparison, sheet_rows
from .evaluation import state

COLUMNS = ["地区（组织）", "层级", "事项数", "重大项目总投资（亿元）", "规划期投资（亿元）", "年度计划投资（亿元）",
           "1–N月完成投资（亿元）", "占年度计划（%）", "时间进度（%）", "红灯", "黄灯", "绿灯", "应报", "已报",
           "按期填报率（%）", "未办结问题", "滞后指标", "得分"]


def _org_param(request):
    """?org=CODE among the organisations the user reaches; default the user's own (or the top)."""
    reach = organisations_in_reach(request.user)
    code = request.GET.get("org", "")
    orgs = Organisation.objects.all() if reach is None else Organisation.objects.filter(pk__in=reach)
    if code:
        org = orgs.filter(code=code[:40]).first()
        if org is None:
            raise Http404("没有这个组织，或它不在您可查看的范围内。")
        return org
    return organisation_of(request.user) or orgs.filter(parent__isnull=True).order_by("pk").first()


MONEY_COLUMNS = {3, 4, 5, 6}


def _cells(depth, name, level, figures):
    """(values, money flags) of one row: money and rates as Decimals (numbers in the sheet)."""
    values = ["　" * depth + name, level, figures["entries"], figures["total"], figures["plan"],
              figures["year_planned"], figures["year_completed"], figures["share_pct"], figures["time_pct"],
              figures["red"], figures["yellow"], figures["green"], figures["due"], figures["reported"],
              figures["report_pct"], figures["problems"], figures["indicators_red"], figures["score"]]
    values = [Decimal(v) if isinstance(v, int) and i in MONEY_COLUMNS else v for i, v in enumerate(values)]
    return values, [i in MONEY_COLUMNS for i in range(len(values))]


@login_required
def zone_comparison(request):
    if not can(request.user, "tracker.read_overview"):
        raise Http404("地区比拼仅供领导和规划人员查看")
    row = state()
    try:
        org = _org_param(request)
        as_of = as_of_param(request, row.as_of)
        fmt = format_param(request, "format") if "format" in request.GET else None
    except BadParameter as error:
        return bad_request(request, error)
    if org is None:
        return bad_request(request, BadParameter("尚未建立组织。"))
    if fmt:
        rows, month = sheet_rows(request.user, org, as_of, row)
        header = [c.replace("1–N月", f"1–{month.month}月") for c in COLUMNS]
        body = [_cells(depth, name, level, figures) for depth, name, level, figures, _ in rows]
        filename = f"地区比拼_{org.name}_{as_of:%Y%m%d}.{fmt}"
        if fmt == "csv":
            return stream_csv(header, body, filename)
        return xlsx_response(f"{org.name}地区比拼", header, body, filename, note=FORMULA)
    data = comparison(request.user, org, as_of, row)
    chart = {"names": [r["name"] for r in data["rows"]][::-1],
             "share": [float(r["share_pct"] or 0) for r in data["rows"]][::-1],
             "report": [float(r["report_pct"] or 0) for r in data["rows"]][::-1],
             "score": [float(r["score"]) for r in data["rows"]][::-1]}
    return render(request, "portfolio/zone_comparison.html", {**data, "as_of": as_of, "chart": chart})
