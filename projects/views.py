"""The write side for people: monthly reports, milestones met, annual targets upload."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from .forms import MilestoneMetForm, StatusReportForm, TargetUploadForm
from .validation import ImportFailed
from .models import Item, Milestone, Role, StatusReport, role_of
from .targets import HEADER, import_targets


def editable_item(user, pk):
    """The entry if the user may report on it: planners any, unit users their own; else 404/403."""
    item = get_object_or_404(Item.objects.visible_to(user), pk=pk)
    role = role_of(user)
    if role == Role.PLANNER:
        return item
    if role == Role.UNIT and item.unit_links.filter(unit__members=user).exists():
        return item
    raise PermissionDenied("只读用户不能修改。")


class ReportConflict(Exception):
    pass


def save_report(form, item, user):
    """Create or edit the month's report; a stale version is a conflict, never a silent overwrite."""
    data = form.cleaned_data
    fields = {k: data[k] for k in ("status", "progress_pct", "month_investment", "cumulative_investment",
                                   "progress_text", "problems", "next_steps")}
    expected_version = data.get("version") or 0
    try:
        with transaction.atomic():
            report = (StatusReport.objects.select_for_update()
                      .filter(item=item, month=data["month"]).first())
            if report is None:
                if expected_version:
                    raise ReportConflict(None)
                report = StatusReport.objects.create(item=item, month=data["month"], filed_by=user, **fields)
            else:
                if report.version != expected_version:
                    raise ReportConflict(report)
                for k, v in fields.items():
                    setattr(report, k, v)
                report.version += 1
                report.filed_by = user
                report.save()
            latest = StatusReport.objects.filter(item=item).order_by("-month").values_list("month", flat=True)[0]
            if latest == report.month and item.status != report.status:
                item.status = report.status
                item.save(update_fields=["status"])
    except IntegrityError:
        raise ReportConflict(StatusReport.objects.filter(item=item, month=data["month"]).first()) from None
    return report


@login_required
def report_form(request, pk):
    item = editable_item(request.user, pk)
    month = request.GET.get("month")
    existing = None
    if request.method == "POST":
        form = StatusReportForm(request.POST, item=item)
        if form.is_valid():
            try:
                report = save_report(form, item, request.user)
            except ReportConflict as conflict:
                other = conflict.args[0]
                who = (f"{other.filed_by}（{timezone.localtime(other.updated_at):%Y-%m-%d %H:%M}）"
                       if other and other.filed_by else "其他用户")
                messages.error(request, f"提交冲突：该月报告刚被 {who} 修改。您填写的内容仍保留在下方，"
                                        f"请核对当前版本后再次提交。")
                existing = other
                data = request.POST.copy()
                data["version"] = other.version if other else 0
                form = StatusReportForm(data, item=item)
                form.is_valid()
            else:
                for warning in form.warnings:
                    messages.warning(request, warning)
                messages.success(request, f"已保存 {report.month:%Y年%m月} 进度（第 {report.version} 版），红黄灯将在后台重新评估。")
                return redirect(reverse("item_detail", args=[item.pk]) + "#reports")
    else:
        initial = {"version": 0}
        if month:
            form_month = StatusReportForm(data={"month": month}, item=item).fields["month"]
            try:
                existing = StatusReport.objects.filter(item=item, month=form_month.clean(month)).first()
            except Exception:
                existing = None
        if existing:
            form = StatusReportForm(instance=existing, item=item, initial={"version": existing.version})
        else:
            form = StatusReportForm(item=item, initial=initial)
    return render(request, "projects/report_form.html", {"item": item, "form": form, "existing": existing})


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
def targets_upload(request):
    if role_of(request.user) != Role.PLANNER:
        raise Http404
    errors = []
    if request.method == "POST":
        form = TargetUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                created, updated, warnings = import_targets(upload, upload.name)
            except ImportFailed as exc:
                errors = exc.errors
            else:
                for warning in warnings:
                    messages.warning(request, warning)
                messages.success(request, f"年度推进计划已导入：新增 {created} 条，更新 {updated} 条。")
                return redirect("targets_upload")
    else:
        form = TargetUploadForm()
    return render(request, "projects/targets_upload.html", {"form": form, "errors": errors, "header": HEADER})
