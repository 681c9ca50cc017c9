"""填报情况 (who has reported) and the XLSX templates to download: the month's reports of a unit,
annual targets, a plan's lists."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from projects.models import Item, ItemUnit, Plan, Role, Unit, period_name, role_of
from projects.validation import parse_id
from reporting.calendar import month_choices, report_deadline

from projects.params import BadParameter, bad_request, plan_param
from projects.permissions import can
from reporting.status import entry_totals, month_param, unit_contacts, unit_status


def _require(user, permission):
    """projects/permissions.py: a page outside the user's role is not there (404)."""
    if not user.has_perm(permission):
        raise Http404


@login_required
def reporting_status(request):
    """Per unit, for a chosen month: entries due, reported, late, missing, and whom to call."""
    _require(request.user, "tracker.read_overview")
    today = timezone.localdate()
    try:
        month = month_param(request, today)
        plan = plan_param(request)
    except BadParameter as error:
        return bad_request(request, error)
    scope = Item.objects.visible_to(request.user)
    rows = unit_status(month, today, plan, scope)
    contacts = unit_contacts([r["unit"] for r in rows])
    for r in rows:
        r["contact"] = contacts[r["unit"].pk]
    totals = {key: sum(r[key] for r in rows) for key in ("due", "reported", "late", "missing", "overdue")}
    return render(request, "reporting/reporting_status.html", {
        "month": month, "months": month_choices(today), "rows": rows, "totals": totals, "plan": plan,
        "entries": entry_totals(month, plan, scope),
        "deadline": report_deadline(month), "past_deadline": today > report_deadline(month),
        "can_remind": can(request.user, "tracker.manage_plan"),
    })


@login_required
@require_POST
def remind_missing(request):
    """Queue the e-mails to the units still missing the month's reports (sent by the worker)."""
    _require(request.user, "tracker.manage_plan")
    today = timezone.localdate()
    try:
        month = month_param(request, today)
    except BadParameter as error:
        return bad_request(request, error)
    from .tasks import remind_missing_reports_task

    remind_missing_reports_task.delay(month.isoformat(), user_id=request.user.pk)
    messages.success(request, f"已安排向 {month:%Y年%m月} 尚未填报的单位发送提醒邮件。")
    return redirect(reverse("reporting_status") + f"?month={month:%Y-%m}")


@login_required
def report_template(request):
    """The month's report template: a unit user's entries (of one of their units with ?unit=), or
    a planner's choice of unit (every entry without one)."""
    _require(request.user, "tracker.report_item")
    try:
        month = month_param(request, timezone.localdate())
    except BadParameter as error:
        return bad_request(request, error)
    items = Item.objects.editable_by(request.user)
    title = "全部责任单位"
    raw_unit = request.GET.get("unit", "")
    if raw_unit:
        unit_id = parse_id(raw_unit)
        unit = Unit.objects.filter(pk=unit_id).first() if unit_id is not None else None
        if unit is None or (role_of(request.user) == Role.UNIT and not unit.members.filter(pk=request.user.pk).exists()):
            raise Http404("没有这个单位")
        items = items.filter(Exists(ItemUnit.objects.filter(item=OuterRef("pk"), unit=unit)))
        title = unit.name
    elif role_of(request.user) == Role.UNIT:
        title = "、".join(request.user.units.order_by("name").values_list("name", flat=True)[:3])
    from .report_templates import month_template  # openpyxl: loaded by the downloads only

    return month_template(items, month, title, f"进度填报_{month:%Y-%m}.xlsx")


@login_required
def targets_template_download(request):
    _require(request.user, "tracker.manage_plan")
    try:
        plan = plan_param(request)
    except BadParameter as error:
        return bad_request(request, error)
    items = Item.objects.editable_by(request.user)
    items = items.filter(plan=plan) if plan else items
    from .report_templates import targets_template  # openpyxl: loaded by the downloads only

    return targets_template(items, "年度推进计划模板.xlsx")


@login_required
def plan_template_download(request):
    """The plan after the latest one (its five years follow on), or 十五五 when there is none."""
    _require(request.user, "tracker.manage_plan")
    latest = Plan.objects.visible_to(request.user).order_by("-end_year").values_list("end_year", flat=True).first()
    start = (latest or 2025) + 1
    from .report_templates import plan_template  # openpyxl: loaded by the downloads only

    return plan_template(f"六重清单导入模板_{period_name(start, start + 4)}.xlsx", period_name(start, start + 4))
