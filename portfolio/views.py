"""Lists, detail pages and 我的事项, always within the user's scope."""
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Value, When
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_tables2 import RequestConfig

from projects.lifecycle import frozen_reason, set_status
from projects.models import Item, ItemStatus, ListKind, Plan, PlanState, Role, role_of
from reporting.calendar import month_asked, report_deadline
from reporting.owing import owing
from supervision.models import Order, OrderState, Problem

from projects.versions import options_key, per_version, request_state
from projects.exports import export_table
from .filters import PAGE_SIZES, ItemFilter
from .models import Flag
from projects.params import BadParameter, bad_request, format_param, plan_bar, plan_param
from projects.permissions import can
from .summary import in_force_entries
from .tables import ItemTable, light_badge, list_records, with_list_figures

LIST_SLUGS = {kind.value: kind for kind in ListKind}


def _list_kind(slug):
    try:
        return LIST_SLUGS[slug]
    except KeyError:
        raise Http404("没有这个清单") from None


def _per_page(request):
    try:
        value = int(request.GET.get("per_page", 50))
    except ValueError:
        return 50
    return value if value in PAGE_SIZES else 50


def period_label(plan=None, row=None):
    """The period investment column's name: the chosen plan's period (its 五年规划 name), or the
    period every plan in force shares; None when plans of several periods are shown."""
    if plan is not None:
        return plan.period_name
    periods = per_version("in-force-periods", lambda: list(
        Plan.objects.in_force().order_by().values_list("start_year", "end_year").distinct()[:2]), row)
    return Plan(start_year=periods[0][0], end_year=periods[0][1]).period_name if len(periods) == 1 else None


def list_table(request, list_kind):
    """The user's visible entries of one list, filtered (django-filter) into a Table (django-tables2)."""
    items = Item.objects.visible_to(request.user).filter(list_kind=list_kind)
    today = timezone.localdate()
    row = request_state(request)
    if not request.GET.get("plan"):  # by default the plans in force; the 规划 filter reaches any
        items = in_force_entries(items, today, row)
    else:  # entries taken out by an adjustment (调出) leave the lists from its date
        items = items.listed(today)
    items = with_list_figures(items)
    plans = Plan.objects.visible_to(request.user)
    item_filter = ItemFilter(request.GET or None, queryset=items, list_kind=list_kind, user=request.user,
                             plans=plans, row=row)
    filtered = item_filter.qs if item_filter.is_bound else items
    chosen = item_filter.form.cleaned_data.get("plan") if item_filter.is_bound and item_filter.form.is_valid() else None
    back = urlencode({"b": request.get_full_path()})[2:]
    table = ItemTable(list_records(filtered), list_kind=list_kind, period_label=period_label(chosen, row), back=back,
                      selectable=can(request.user, "tracker.manage_plan"),
                      several_organisations=item_filter.several_organisations)
    return item_filter, table


@login_required
def item_list(request, kind):
    list_kind = _list_kind(kind)
    item_filter, table = list_table(request, list_kind)
    if "_export" in request.GET:
        try:
            fmt = format_param(request, "_export")
        except BadParameter as error:
            return bad_request(request, error)
        RequestConfig(request, paginate=False).configure(table)
        stamp = timezone.localdate().strftime("%Y%m%d")
        return export_table(table, fmt, list_kind.label, f"{list_kind.label}清单_{stamp}.{fmt}")
    per_page = _per_page(request)
    RequestConfig(request, paginate={"per_page": per_page}).configure(table)
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "portfolio/item_list.html", {
        "list_kind": list_kind, "filter": item_filter, "table": table, "page_sizes": PAGE_SIZES,
        "per_page": per_page, "query_without_page": params.urlencode(),
        "long_fields": ("plan", "organisation", "unit"), "options_key": options_key(request.user, request_state(request)),
        "status_form": BulkStatusForm(list_kind=list_kind, user=request.user)
        if can(request.user, "tracker.manage_plan") else None,
    })


class BulkStatusForm(forms.Form):
    """A planner's status change for the entries selected on a list page."""

    status = forms.ChoiceField(label="设置状态为", choices=ItemStatus.choices,
                               widget=forms.Select(attrs={"class": "form-select form-select-sm"}))
    select = forms.ModelMultipleChoiceField(queryset=Item.objects.none(), error_messages={
        "required": "请先勾选要设置状态的事项。", "invalid_choice": "所选事项不存在或不属于本清单。",
        "invalid_pk_value": "所选事项不存在或不属于本清单。"})

    def __init__(self, *args, list_kind, user, **kwargs):
        super().__init__(*args, **kwargs)
        # another organisation's entry is "not in this list" for this planner
        self.fields["select"].queryset = Item.objects.editable_by(user).filter(list_kind=list_kind)

    def clean_select(self):
        """A closed plan is frozen: its entries' statuses stay as they were at closing."""
        items = self.cleaned_data["select"]
        closed = {}
        for item in items.select_related("plan").filter(plan__state=PlanState.CLOSED):
            closed.setdefault(item.plan, []).append(item)
        if closed:
            raise forms.ValidationError([f"{frozen_reason(plan, 'status')[:-1]}（所选 {len(entries)} 项）。"
                                         for plan, entries in closed.items()])
        return items


def list_url(request, list_kind):
    """Back to the list page the change was made from (its filters and page), never elsewhere."""
    back = request.POST.get("next", "")
    prefix = f"/lists/{list_kind.value}/"
    return back if back.startswith(prefix) and "//" not in back and "\\" not in back else prefix


@login_required
@require_POST
def item_bulk_status(request, kind):
    """Set the status of the selected entries of one list (planners only): one audit record per
    entry (django-simple-history), the entries re-evaluated when the change commits."""
    list_kind = _list_kind(kind)
    if not can(request.user, "tracker.manage_plan"):
        raise PermissionDenied("只有规划人员可以批量设置状态。")
    form = BulkStatusForm(request.POST, list_kind=list_kind, user=request.user)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(list_url(request, list_kind))
    status = form.cleaned_data["status"]
    changed = set_status([i.pk for i in form.cleaned_data["select"]], status, request.user)
    unchanged = len(form.cleaned_data["select"]) - changed
    note = f"，{unchanged} 项原已是该状态" if unchanged else ""
    messages.success(request, f"已将 {changed} 项设为“{ItemStatus(status).label}”{note}。")
    return redirect(list_url(request, list_kind))


def safe_back(request, list_kind):
    back = request.GET.get("back", "")
    if back.startswith("/lists/") and "//" not in back and "\\" not in back:
        return back
    return f"/lists/{list_kind}/"


@login_required
def item_detail(request, pk):
    item = get_object_or_404(
        Item.objects.visible_to(request.user).select_related("plan", "category", "figures"), pk=pk)
    role = role_of(request.user)
    can_report = role == Role.PLANNER or (
        role == Role.UNIT and item.unit_links.filter(unit__members=request.user).exists())
    history = []
    can_see_history = role in (Role.PLANNER, Role.LEADER)
    if can_see_history and request.GET.get("tab") == "history":
        from .history import item_history
        history = item_history(item)
    figures = getattr(item, "figures", None)
    flags = list(Flag.objects.filter(item=item, resolved_on__isnull=True).order_by("-severity", "kind"))
    for flag in flags:
        flag.item = item
    chain = item.chain()
    chain_reports = []
    if len(chain) > 1:
        visible = set(Item.objects.visible_to(request.user).filter(pk__in=[e.pk for e in chain])
                      .values_list("pk", flat=True))
        chain = [e for e in chain if e.pk in visible]
        from reporting.models import StatusReport

        chain_reports = (StatusReport.objects.filter(item__in=[e for e in chain if e.pk != item.pk])
                         .select_related("item__plan", "filed_by").order_by("-month"))
    # the entry it continues, as it stood when its plan closed (a closed plan's figures are frozen)
    predecessor = Item.objects.select_related("plan", "figures").filter(
        pk=item.predecessor_id, pk__in=[e.pk for e in chain]).first() if item.predecessor_id else None
    # the project's cumulative investment, across its chain of plans (as the stored fact reads it)
    from reporting.cumulative import cumulative_report

    cumulative = cumulative_report(item) if item.list_kind == ListKind.PROJECT else None
    link_form = None
    if role == Role.PLANNER:
        from .plan_views import LinkForm

        link_form = LinkForm(item=item, initial={"predecessor": item.predecessor_id})
    problems = (Problem.objects.visible_to(request.user).filter(item=item)
                .select_related("coordinating_unit").order_by("-raised_at"))
    orders = (Order.objects.visible_to(request.user).filter(item=item).with_colour(timezone.localdate())
              .select_related("unit").order_by("-issued_at"))
    return render(request, "portfolio/item_detail.html", {
        "problems": problems, "orders": orders, "can_order": role in (Role.PLANNER, Role.LEADER),
        "chain": chain if len(chain) > 1 else [], "chain_reports": chain_reports, "link_form": link_form,
        "predecessor": predecessor,
        "predecessor_light": light_badge(getattr(getattr(predecessor, "figures", None), "light", None)),
        "item": item, "figures": figures, "cumulative": cumulative,
        "light": light_badge(figures.light if figures else None),
        "targets": item.annual_targets.all(),
        "milestones": item.milestones.all(),
        "reports": item.reports.select_related("filed_by").order_by("-month"),
        "units": item.unit_links.select_related("unit"),
        "flags": flags,
        "back": safe_back(request, item.list_kind),
        "can_report": can_report,
        "can_see_history": can_see_history,
        "tab": request.GET.get("tab", "overview"),
        "history": history,
        "today": timezone.localdate(),
    })


@login_required
def my_items(request):
    """我的事项: a unit user's entries, with the month reported last and what is due (the month
    asked for, owed as reporting.calendar.owing says)."""
    today = timezone.localdate()
    due_month = month_asked(today)
    list_order = Case(*[When(list_kind=k.value, then=Value(i)) for i, k in enumerate(ListKind)])
    is_unit = role_of(request.user) == Role.UNIT
    try:
        plan = plan_param(request)
    except BadParameter as error:
        return bad_request(request, error)
    items = Item.objects.visible_to(request.user) if is_unit else Item.objects.none()
    items = items.filter(plan=plan).listed(today) if plan is not None else in_force_entries(items, today)
    items = list(items.select_related("figures").prefetch_related("milestones").order_by(list_order, "seq"))
    owing_ids = set(owing(Item.objects.filter(pk__in=[i.pk for i in items]), due_month).values_list("pk", flat=True))
    month_end = (today.replace(day=28) + timezone.timedelta(days=4)).replace(day=1) - timezone.timedelta(days=1)
    flags = {}
    for flag in Flag.objects.filter(item__in=[i.pk for i in items], resolved_on__isnull=True) \
            .select_related("item__figures"):
        flags.setdefault(flag.item_id, []).append(flag)
    rows = []
    for item in items:
        figures = getattr(item, "figures", None)
        last_month = figures.last_month if figures else None
        rows.append({
            "item": item, "light": light_badge(figures.light if figures else None), "last_month": last_month,
            "flags": flags.get(item.pk, []),
            "report_due": item.pk in owing_ids,
            "due_milestones": [m for m in item.milestones.all() if m.met_on is None and m.due_date <= month_end],
        })
    # the unit's open problems (its entries' and those it coordinates) and orders not 办结
    open_problems = (Problem.objects.visible_to(request.user).open().select_related("item", "coordinating_unit")
                     .order_by("deadline", "pk")) if is_unit else Problem.objects.none()
    open_orders = (Order.objects.visible_to(request.user).exclude(state=OrderState.CLOSED).with_colour(today)
                   .select_related("item", "unit").order_by("deadline", "pk")) if is_unit else Order.objects.none()
    return render(request, "portfolio/my_items.html", {
        "open_problems": open_problems, "open_orders": open_orders,
        "rows": rows, "due_month": due_month, "today": today, "pending": len(owing_ids),
        "deadline": report_deadline(due_month), "reporting_day": settings.TRACKER_REPORTING_DAY,
        "plan": plan, **plan_bar(request, plan),
    })
