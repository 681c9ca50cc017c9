"""Plans: the list of plans with their state, closing and reopening (planners), the 后评估 page
and its export, and linking an entry to the one it continues."""
import datetime
import tempfile

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from projects.continuation import set_predecessor
from projects.models import Item, Plan, PlanImport, PlanState

from projects.exports import XLSX_TYPE
from .lifecycle import close_plan, reopen_plan
from projects.params import BadParameter, bad_request, format_param
from projects.permissions import can
from .plan_review import display_sheets, review_date, review_filename, review_heading, review_sheets, write_review


def _manager(user, plan=None):
    """Closing, reopening and linking are for the planners of the plan's organisation or above
    (projects.permissions "tracker.manage_plan"); asked first without the plan (the role), then
    with it once it is found among the plans the user sees."""
    if not can(user, "tracker.manage_plan", plan):
        raise PermissionDenied("只有本组织（或上级组织）的规划人员可以执行此操作")


class CloseForm(forms.Form):
    as_of = forms.DateField(label="收官评估日期", widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm", "aria-label": "收官评估日期"}))

    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan

    def clean_as_of(self):
        day = self.cleaned_data["as_of"]
        earliest, latest = datetime.date(self.plan.start_year, 1, 1), timezone.localdate()
        if not earliest <= day <= latest:
            raise ValidationError(f"收官评估日期应在 {earliest:%Y-%m-%d} 至 {latest:%Y-%m-%d} 之间。")
        return day


@login_required
def plan_list(request):
    """Every plan with its period and state; the visible entries' count; what one can do with it."""
    plans = Plan.objects.visible_to(request.user).filter(is_synthetic=False).order_by("-start_year", "code")
    today = timezone.localdate()
    visible = Item.objects.visible_to(request.user).listed(today)
    counts = dict(visible.filter(plan__in=plans).order_by().values("plan").annotate(n=Count("pk"))
                  .values_list("plan", "n"))
    carried = dict(visible.filter(plan__in=plans, successor__isnull=False).order_by().values("plan")
                   .annotate(n=Count("pk")).values_list("plan", "n"))
    rows = [{"plan": p, "entries": counts.get(p.pk, 0), "carried": carried.get(p.pk, 0),
             "close_form": CloseForm(plan=p, initial={"as_of": min(datetime.date(p.end_year, 12, 31), timezone.localdate())})}
            for p in plans]
    imports = []
    if can(request.user, "tracker.read_overview"):
        imports = list(PlanImport.objects.filter(state=PlanImport.State.APPLIED, plan__in=plans)
                       .select_related("plan", "uploaded_by").defer("data", "preview")[:200])
        for record in imports:  # the dashboard the day before and on the day of an adjustment
            if record.adjusted_on:
                record.before = record.adjusted_on - datetime.timedelta(days=1)
    return render(request, "portfolio/plan_list.html", {
        "rows": rows, "is_planner": can(request.user, "tracker.manage_plan"), "imports": imports,
        "in_force": list(plans.in_force().values_list("pk", flat=True)),
    })


@login_required
@require_POST
def plan_close(request, code):
    _manager(request.user)
    plan = get_object_or_404(Plan.objects.visible_to(request.user), code=code)
    _manager(request.user, plan)
    form = CloseForm(request.POST, plan=plan)
    if not form.is_valid():
        for error in form.errors.get("as_of", []):
            messages.error(request, f"{plan.name}：{error}")
        return redirect("plan_list")
    close_plan(plan, form.cleaned_data["as_of"], user=request.user)
    messages.success(request, f"{plan.name} 已收官（评估日期 {form.cleaned_data['as_of']:%Y-%m-%d}），后评估已生成。")
    return redirect("plan_review", code=plan.code)


@login_required
@require_POST
def plan_reopen(request, code):
    _manager(request.user)
    plan = get_object_or_404(Plan.objects.visible_to(request.user), code=code, state=PlanState.CLOSED)
    _manager(request.user, plan)
    reopen_plan(plan, user=request.user, reason=request.POST.get("reason", "").strip()[:100])
    messages.success(request, f"{plan.name} 已重新开启（执行中），每晚评估将恢复。")
    return redirect("plan_list")


@login_required
def plan_review(request, code):
    """后评估 of one plan, scoped to what the user sees; ?format=xlsx|csv downloads it."""
    plan = get_object_or_404(Plan.objects.visible_to(request.user), code=code)
    if "format" in request.GET:
        try:
            fmt = format_param(request, "format")
        except BadParameter as error:
            return bad_request(request, error)
        tmp = tempfile.TemporaryFile()
        write_review(plan, request.user, fmt, tmp)
        tmp.seek(0)
        return FileResponse(tmp, as_attachment=True, filename=review_filename(plan, fmt),
                            content_type=XLSX_TYPE if fmt == "xlsx" else "text/csv; charset=utf-8")
    return render(request, "portfolio/plan_review.html", {
        "plan": plan, "as_of": review_date(plan), "heading": review_heading(plan), "sheets": display_sheets(review_sheets(plan, request.user)),
        "successors": plan.successors.all(), "is_planner": can(request.user, "tracker.manage_plan", plan),
    })


class LinkForm(forms.Form):
    predecessor = forms.ModelChoiceField(label="接续上一期事项", queryset=Item.objects.none(), required=False,
                                         empty_label="（不接续）",
                                         widget=forms.Select(attrs={"class": "form-select form-select-sm"}))

    def __init__(self, *args, item, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["predecessor"].queryset = candidates(item)
        self.fields["predecessor"].label_from_instance = lambda e: f"{e.plan.period_name} #{e.seq} {e.name}"


def candidates(item):
    """Entries of earlier plans of the same organisation and list that nothing else continues yet."""
    if item.plan.predecessor_id is None:
        plans = Plan.objects.filter(start_year__lt=item.plan.start_year, organisation=item.plan.organisation_id)
    else:
        plans = Plan.objects.filter(pk=item.plan.predecessor_id)
    return (Item.objects.filter(plan__in=plans, list_kind=item.list_kind)
            .filter(Q(successor__isnull=True) | Q(successor=item)).select_related("plan").order_by("plan__start_year", "seq"))


@login_required
@require_POST
def item_link(request, pk):
    _manager(request.user)
    item = get_object_or_404(Item.objects.visible_to(request.user).select_related("plan"), pk=pk)
    _manager(request.user, item.plan)
    form = LinkForm(request.POST, item=item)
    if not form.is_valid():
        messages.error(request, "接续失败：" + "；".join(e for errors in form.errors.values() for e in errors))
        return redirect("item_detail", pk=item.pk)
    chosen = form.cleaned_data["predecessor"]
    try:
        set_predecessor(item, chosen, user=request.user)
    except ValidationError as error:
        messages.error(request, "接续失败：" + "；".join(error.messages))
        return redirect("item_detail", pk=item.pk)
    if chosen:
        messages.success(request, f"已接续 {chosen.plan.period_name} 序号 {chosen.seq}「{chosen.name}」，已记入变更记录。")
    else:
        messages.success(request, "已取消接续，已记入变更记录。")
    return redirect("item_detail", pk=item.pk)
