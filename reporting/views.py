"""The write side for people: monthly reports, milestones met, annual targets upload."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from reporting.forms import (  # noqa: F401  (ReportConflict and save_report are used by tests through this module)
    MilestoneForm, MilestoneMetForm, ReportConflict, ReportUploadForm, StatusReportForm, TargetUploadForm, save_report,
)
from projects.lifecycle import frozen_reason
from projects.models import Item, Plan, Role, Unit, role_of
from projects.validation import ImportFailed
from projects.permissions import can
from reporting.calendar import check_report_month, month_asked, month_choices
from reporting.cumulative import chain_cumulative_by_month
from reporting.models import Milestone, StatusReport
from reporting.report_workbook import import_reports
from reporting.targets import HEADER, import_targets


def editable_item(user, pk):
    """The entry if the user may report on it: planners any, unit users their own; else 404/403."""
    item = get_object_or_404(Item.objects.visible_to(user), pk=pk)
    if Item.objects.editable_by(user).filter(pk=item.pk).exists():
        return item
    raise PermissionDenied("只读用户不能修改。")


def conflict_message(other, user):
    """Why a submission was not saved: someone changed the month's report since the form opened."""
    if other is not None and other.filed_by_id == user.pk:
        return (f"该月已有您填报的第 {other.version} 版报告。您刚填写的内容保留在下方，"
                f"核对后再次提交即保存为第 {other.version + 1} 版。")
    who = (f"{other.filed_by}（{timezone.localtime(other.updated_at):%Y-%m-%d %H:%M}）"
           if other and other.filed_by else "其他用户")
    return f"提交冲突：该月报告刚被 {who} 修改。您填写的内容仍保留在下方，请核对当前版本后再次提交。"


def month_from_query(item, raw):
    """The month named by ?month=YYYY-MM if it can be reported, else None."""
    field = StatusReportForm(item=item).fields["month"]
    try:
        month = field.clean(raw)
    except ValidationError:
        return None
    return None if check_report_month(month, item.plan, timezone.localdate()) else month


@login_required
def report_form(request, pk):
    """File or correct a month's report. Without ?month= the form opens on the month now due;
    a month already filed opens prefilled, at its current version."""
    item = editable_item(request.user, pk)
    existing = None
    if request.method == "POST":
        form = StatusReportForm(request.POST, item=item)
        if form.is_valid():
            try:
                report = save_report(form, item, request.user)
            except ReportConflict as conflict:
                other = conflict.args[0]
                own = other is not None and other.filed_by_id == request.user.pk
                (messages.warning if own else messages.error)(request, conflict_message(other, request.user))
                existing = other
                data = request.POST.copy()
                data["version"] = other.version if other else 0
                form = StatusReportForm(data, item=item)
                form.is_valid()
            else:
                for warning in form.warnings:
                    messages.warning(request, warning)
                messages.success(request, f"已保存 {report.month:%Y年%m月} 进度（第 {report.version} 版），红黄灯已按新数据更新。")
                return redirect(reverse("item_detail", args=[item.pk]) + "#reports")
    else:
        month = month_from_query(item, request.GET.get("month", "")) or month_asked(timezone.localdate())
        existing = StatusReport.objects.filter(item=item, month=month).first()
        if existing:
            form = StatusReportForm(instance=existing, item=item, initial={"version": existing.version})
        else:
            form = StatusReportForm(item=item, initial={"version": 0, "month": month})
    filed = list(item.reports.order_by("month").values_list("month", "version", "cumulative_investment"))
    return render(request, "reporting/report_form.html", {
        "item": item, "form": form, "existing": existing, "frozen": frozen_reason(item.plan),
        "versions": existing.history.select_related("history_user").order_by("-history_date") if existing else [],
        "filed_months": {f"{m:%Y-%m}": {"version": v, "cumulative": None if c is None else f"{c:.4f}"}
                         for m, v, c in filed},
        # the project's cumulative per month, across its chain of plans (for 由上月累计推算)
        "chain_cumulative": {f"{m:%Y-%m}": f"{c:.4f}" for m, c in chain_cumulative_by_month(item).items()},
    })


@login_required
@require_POST
def milestone_met(request, pk):
    milestone = get_object_or_404(Milestone, pk=pk)
    item = editable_item(request.user, milestone.item_id)
    form = MilestoneMetForm(request.POST, plan=item.plan)
    if form.is_valid():
        milestone.met_on = form.cleaned_data["met_on"]
        milestone.save()
        messages.success(request, f"节点“{milestone.name}”已标记完成（{milestone.met_on:%Y-%m-%d}）。")
    else:
        messages.error(request, "；".join(e for errs in form.errors.values() for e in errs))
    return redirect(reverse("item_detail", args=[item.pk]) + "#milestones")


@login_required
def milestone_edit(request, item_pk, pk=None):
    """Add (pk None) or edit a milestone of an entry the user may report on; every change is kept
    by django-simple-history with who made it, shown in the entry's history to planners."""
    item = editable_item(request.user, item_pk)
    milestone = get_object_or_404(Milestone, pk=pk, item=item) if pk else None
    form = MilestoneForm(request.POST or None, instance=milestone, item=item)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        for warning in form.warnings:
            messages.warning(request, warning)
        messages.success(request, f"节点“{saved.name}”已{'修改' if milestone else '新增'}。")
        return redirect(reverse("item_detail", args=[item.pk]) + "#milestones")
    return render(request, "reporting/milestone_form.html", {"item": item, "form": form, "milestone": milestone,
                                                             "frozen": frozen_reason(item.plan, "milestone")})


def upload_file(request, form_class, load):
    """(form, errors, result): the upload form, bound on POST; every error of a refused file;
    what `load(file)` returned when the file was taken (else None)."""
    if request.method != "POST":
        return form_class(), [], None
    form = form_class(request.POST, request.FILES)
    if not form.is_valid():
        return form, [], None
    try:
        return form, [], load(form.cleaned_data["file"])
    except ImportFailed as exc:
        return form, exc.errors, None


@login_required
def targets_upload(request):
    if not can(request.user, "tracker.manage_plan"):
        raise Http404
    form, errors, result = upload_file(request, TargetUploadForm, lambda upload: import_targets(
        upload, upload.name, plans=Plan.objects.editable_by(request.user)))
    if result:
        created, updated, warnings = result
        for warning in warnings:
            messages.warning(request, warning)
        messages.success(request, f"年度推进计划已导入：新增 {created} 条，更新 {updated} 条。")
        return redirect("targets_upload")
    return render(request, "reporting/targets_upload.html", {"form": form, "errors": errors, "header": HEADER})


@login_required
def report_batch(request):
    """批量填报: download the month's template, upload it filled in (all rows or none)."""
    role = role_of(request.user)
    if not can(request.user, "tracker.report_item"):
        raise Http404
    form, errors, result = upload_file(request, ReportUploadForm,
                                       lambda upload: (upload.name, import_reports(upload, upload.name, request.user)))
    saved_rows = []
    if result:  # shown on the response itself: sending the same file again changes nothing
        name, imported = result
        messages.success(request, f"{name}：{imported.summary()}")
        saved_rows = imported.saved_rows
    units = Unit.objects.all() if role == Role.PLANNER else request.user.units.all()
    return render(request, "reporting/report_batch.html", {
        "form": form, "errors": errors, "units": units.order_by("name"), "saved_rows": saved_rows,
        "months": month_choices(timezone.localdate()), "due_month": month_asked(timezone.localdate()),
    })
