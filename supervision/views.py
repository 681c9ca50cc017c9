"""Pages of the loop: problems (问题协调) and 督办 orders — lists, detail pages with the
transitions the user may make, raising a problem and issuing an order. Always within the user's
scope: another unit's problem or order is a 404."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.functional import cached_property
from django.views.decorators.http import require_POST
from django_fsm import ConcurrentTransition, get_available_user_FIELD_transitions
from django_fsm_log.models import StateLog
from django_tables2 import RequestConfig

from projects.exports import export_table
from projects.models import Item, ItemUnit, Role, Unit
from projects.params import BadParameter, bad_request, format_param
from projects.validation import parse_id
from projects.versions import options_key, request_state
from projects.permissions import can
from reporting.models import StatusReport

from .filters import OrderFilter, ProblemFilter
from .forms import (
    ORDER_ACTIONS, PROBLEM_ACTIONS, AcceptForm, CloseProblemForm, MergeForm, OrderForm, ProblemForm,
    ResubmitForm, TransitionForm, order_form,
)
from .models import Order, OrderState, Problem, ProblemState
from .tables import OrderTable, ProblemTable, order_records, problem_records

PAGE_SIZES = [25, 50, 100, 200]
LABELS = {"raise": "提出", "issue": "下发", "accept": "受理分办", "merge": "合并", "send_back": "退回",
          "reply": "答复", "close": "销号", "reopen": "重新打开", "sign": "签收", "resubmit": "重新提交"}
ORDER_LABELS = {**LABELS, "reply": "反馈", "close": "办结"}
LEADS = (Role.PLANNER, Role.LEADER)


def _per_page(request):
    value = parse_id(request.GET.get("per_page", ""))
    return value if value in PAGE_SIZES else 50


def log_of(obj, labels):
    entries = list(StateLog.objects.for_(obj).select_related("by").order_by("timestamp", "pk"))
    for entry in entries:
        entry.label = labels.get(entry.transition, entry.transition)
    return entries


def record_creation(obj, user, name, state, text):
    """The first entry of an object's record (the library logs transitions, not creation)."""
    StateLog.objects.create(content_object=obj, by=user, transition=name, state=state, source_state=None,
                            description=text)


def may(obj, name, user):
    """Whether the user's role allows the transition at all (whatever the state)."""
    meta = getattr(type(obj), name)._django_fsm
    return next(iter(meta.transitions.values())).has_perm(obj, user)


class CountedPaginator(Paginator):
    """A Paginator whose count is that of another queryset with the same rows (`count_of`)."""

    def __init__(self, object_list, per_page, count_of=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.count_of = count_of

    @cached_property
    def count(self):
        return self.count_of.count() if self.count_of is not None else super().count


def list_page(request, queryset, filter_class, table, template, filename, title, **filter_kwargs):
    f = filter_class(request.GET or None, queryset=queryset, user=request.user, **filter_kwargs)
    filtered = f.qs if f.is_bound else queryset  # a bad value is shown on its field and filters nothing
    data = table["records"](filtered)
    t = table["class"](data, **table.get("kwargs", {}))
    if "_export" in request.GET:
        try:
            fmt = format_param(request, "_export")
        except BadParameter as error:
            return bad_request(request, error)
        RequestConfig(request, paginate=False).configure(t)
        return export_table(t, fmt, title, f"{filename}_{timezone.localdate():%Y%m%d}.{fmt}")
    per_page = _per_page(request)
    # counted on the filtered rows, without the joins that only name the columns
    RequestConfig(request, paginate={"per_page": per_page, "paginator_class": CountedPaginator,
                                     "count_of": filtered}).configure(t)
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("_export", None)
    # the unit select (a province's hundreds of units) is rendered once per data version and scope
    # (templates/shared/filter_fields.html), as on the entry lists; the table and its count once per
    # data version, scope, day (ages, 逾期 and colours move with it) and query
    # (docs/architecture.md, "What is cached")
    options = options_key(request.user, request_state(request))
    return render(request, template, {"filter": f, "table": t, "page_sizes": PAGE_SIZES, "per_page": per_page,
                                      "query_without_page": params.urlencode(), "long_fields": ("unit",),
                                      "options_key": options,
                                      "table_key": f"{options}:{timezone.localdate()}" if options else None})


# ---------------------------------------------------------------- problems

@login_required
def problem_list(request):
    today = timezone.localdate()
    return list_page(request, Problem.objects.visible_to(request.user), ProblemFilter,
                     {"records": problem_records, "class": ProblemTable, "kwargs": {"today": today}},
                     "supervision/problem_list.html", "问题协调", "问题协调", today=today)


def visible_problem(user, pk):
    return get_object_or_404(Problem.objects.visible_to(user).select_related(
        "item__plan", "coordinating_unit", "leader", "raised_by", "merged_into", "report"), pk=pk)


def problem_forms(problem, user, bound=None):
    """The forms of the transitions the user may make now, by name (a bound one replaces its form)."""
    forms = {}
    for t in get_available_user_FIELD_transitions(problem, user, Problem._meta.get_field("state")):
        name = t.name
        if name == "accept":
            forms[name] = AcceptForm(instance=problem, prefix="accept")
        elif name == "resubmit":
            forms[name] = ResubmitForm(instance=problem, prefix="resubmit")
        elif name == "merge":
            forms[name] = MergeForm(obj=problem, name=name, label=PROBLEM_ACTIONS[name][0],
                                    visible=Problem.objects.visible_to(user), prefix=name)
        elif name == "close":
            forms[name] = CloseProblemForm(obj=problem, name=name, label=PROBLEM_ACTIONS[name][0],
                                           required=PROBLEM_ACTIONS[name][1], prefix=name)
        else:
            label, required, closed = PROBLEM_ACTIONS[name]
            forms[name] = TransitionForm(obj=problem, name=name, label=label, required=required,
                                         closed_message=closed, prefix=name)
    if bound is not None:
        forms[bound[0]] = bound[1]
    return forms


def render_problem(request, problem, bound=None, status=200):
    user = request.user
    return render(request, "supervision/problem_detail.html", {
        "problem": problem, "forms": problem_forms(problem, user, bound), "log": log_of(problem, LABELS),
        "orders": Order.objects.visible_to(user).filter(problem=problem).with_colour(timezone.localdate())
        .select_related("unit"),
        "merged": Problem.objects.visible_to(user).filter(merged_into=problem),
        "item_visible": Item.objects.visible_to(user).filter(pk=problem.item_id).exists(),
        "can_order": can(user, "tracker.supervise") and problem.state in (ProblemState.COORDINATING, ProblemState.ANSWERED),
        "today": timezone.localdate(), "labels": LABELS,
    }, status=status)


@login_required
def problem_detail(request, pk):
    return render_problem(request, visible_problem(request.user, pk))


@login_required
@require_POST
def problem_action(request, pk, action):
    if action not in ("accept", "resubmit", *PROBLEM_ACTIONS):
        raise Http404
    problem = visible_problem(request.user, pk)
    if not may(problem, action, request.user):
        raise PermissionDenied("您无权执行此操作。")
    try:
        with transaction.atomic():
            problem = Problem.objects.select_for_update(of=("self",)).select_related(
                "item__plan", "coordinating_unit", "leader", "raised_by", "merged_into", "report").get(pk=problem.pk)
            form = bind_problem_form(request, problem, action)
            if not form.is_valid():
                problem.refresh_from_db()  # a model form put its refused values on the problem: show the saved ones
                return render_problem(request, problem, bound=(action, form))
            apply_problem(problem, action, form, request.user)
    except ConcurrentTransition:
        messages.error(request, "该问题刚被其他用户处理，请查看当前状态后重试。")
        return redirect("problem_detail", pk=pk)
    messages.success(request, f"问题 #{problem.pk} 已{LABELS[action]}，当前状态：{problem.get_state_display()}。")
    return redirect("problem_detail", pk=problem.pk)


def bind_problem_form(request, problem, action):
    if action == "accept":
        return AcceptForm(request.POST, instance=problem, prefix="accept")
    if action == "resubmit":
        return ResubmitForm(request.POST, instance=problem, prefix="resubmit")
    label, required, closed = PROBLEM_ACTIONS[action]
    kwargs = dict(obj=problem, name=action, label=label, required=required, prefix=action)
    if action == "merge":
        return MergeForm(request.POST, visible=Problem.objects.visible_to(request.user), **kwargs)
    if action == "close":
        return CloseProblemForm(request.POST, request.FILES, **kwargs)
    if action == "reply" and problem.state not in (ProblemState.COORDINATING, ProblemState.ANSWERED):
        kwargs["closed_message"] = closed if problem.state == ProblemState.CLOSED else \
            f"问题{problem.get_state_display()}，不能答复。"
    return TransitionForm(request.POST, **kwargs)


def apply_problem(problem, action, form, user):
    """The transition, its fields and its record, saved together (the caller's transaction)."""
    data = form.cleaned_data
    if action == "accept":
        form.save(commit=False)  # the assignment's fields onto the problem
        problem.accept(by=user, description=data.get("note") or "")
    elif action == "resubmit":
        form.save(commit=False)  # the revised fields onto the problem
        problem.resubmit(by=user, description=data["note"])
    elif action == "merge":
        problem.merge(data["into"], by=user, description=data["text"])
    elif action == "close":
        upload = data.get("file")
        if upload:
            problem.close_file_name = upload.name[:200]
            problem.close_file.save(upload.name, upload, save=False)
        problem.close(by=user, description=data["text"])
    else:
        getattr(problem, action)(by=user, description=data["text"])
    problem.save()


@login_required
def problem_new(request, item_pk):
    """Raise a problem on an entry the user reports on (planners any), the report's 存在问题 prefilled."""
    item = get_object_or_404(Item.objects.visible_to(request.user), pk=item_pk)
    if not Item.objects.editable_by(request.user).filter(pk=item.pk).exists():
        raise PermissionDenied("只有该事项的责任单位和规划人员可以提出问题。")
    report = None
    report_id = parse_id(request.GET.get("report", "") or request.POST.get("report", ""))
    if report_id is not None:
        report = StatusReport.objects.filter(item=item, pk=report_id).first()
    if report is None:
        report = StatusReport.objects.filter(item=item).exclude(problems="").order_by("-month").first()
    if request.method == "POST":
        form = ProblemForm(request.POST)
        if form.is_valid():
            with transaction.atomic():
                problem = form.save(commit=False)
                problem.item, problem.report, problem.raised_by = item, report, request.user
                problem.save()
                record_creation(problem, request.user, "raise", ProblemState.PENDING, problem.description)
            messages.success(request, f"问题 #{problem.pk} 已提交，等待规划人员分办。")
            return redirect("problem_detail", pk=problem.pk)
    else:
        lead = item.unit_links.select_related("unit").order_by("role", "pk").first()
        form = ProblemForm(initial={"description": report.problems if report else "",
                                    "coordinating_unit": lead.unit_id if lead else None})
    return render(request, "supervision/problem_form.html", {"item": item, "form": form, "report": report})


@login_required
def problem_file(request, pk):
    problem = visible_problem(request.user, pk)
    if not problem.close_file:
        raise Http404
    return FileResponse(problem.close_file.open("rb"), as_attachment=True,
                        filename=problem.close_file_name or problem.close_file.name.rsplit("/", 1)[-1])


# ---------------------------------------------------------------- orders

@login_required
def order_list(request):
    today = timezone.localdate()
    orders = Order.objects.visible_to(request.user).with_colour(today)
    return list_page(request, orders, OrderFilter, {"records": order_records, "class": OrderTable},
                     "supervision/order_list.html", "督办单", "督办单")


def visible_order(user, pk):
    orders = Order.objects.visible_to(user).select_related("item__plan", "problem", "unit", "issued_by")
    return get_object_or_404(orders, pk=pk)


def render_order(request, order, bound=None, status=200):
    user = request.user
    forms = {t.name: order_form(order, t.name) for t in
             get_available_user_FIELD_transitions(order, user, Order._meta.get_field("state"))}
    if bound is not None:
        forms[bound[0]] = bound[1]
    for name, form in forms.items():
        form.prefix = name
    return render(request, "supervision/order_detail.html", {
        "order": order, "colour": order.colour(), "forms": forms, "log": log_of(order, ORDER_LABELS),
        "labels": ORDER_LABELS,
        "item_visible": order.item_id and Item.objects.visible_to(user).filter(pk=order.item_id).exists(),
        "problem_visible": order.problem_id and Problem.objects.visible_to(user).filter(pk=order.problem_id).exists(),
    }, status=status)


@login_required
def order_detail(request, pk):
    return render_order(request, visible_order(request.user, pk))


@login_required
@require_POST
def order_action(request, pk, action):
    if action not in ORDER_ACTIONS:
        raise Http404
    order = visible_order(request.user, pk)
    if not may(order, action, request.user):
        raise PermissionDenied("您无权执行此操作。")
    try:
        with transaction.atomic():
            order = Order.objects.select_for_update(of=("self",)).select_related(
                "item__plan", "problem", "unit", "issued_by").get(pk=order.pk)
            form = order_form(order, action, request.POST)
            form.prefix = action
            if not form.is_valid():
                return render_order(request, order, bound=(action, form))
            getattr(order, action)(by=request.user, description=form.cleaned_data["text"])
            order.save()
    except ConcurrentTransition:
        messages.error(request, "该督办单刚被其他用户处理，请查看当前状态后重试。")
        return redirect("order_detail", pk=pk)
    messages.success(request, f"督办单 #{order.pk} 已{ORDER_LABELS[action]}，当前状态：{order.get_state_display()}。")
    return redirect("order_detail", pk=order.pk)


def order_subject(request, user):
    """(item, problem, unit, reach) named by ?item= / ?problem= / ?unit= (GET or POST)."""
    source = request.POST if request.method == "POST" else request.GET
    item_id, problem_id, unit_id = (parse_id(source.get(k, "")) for k in ("item", "problem", "for_unit"))
    if problem_id is not None:
        problem = get_object_or_404(Problem.objects.visible_to(user), pk=problem_id)
        reach = Unit.objects.filter(pk=problem.coordinating_unit_id) | Unit.objects.filter(item_links__item=problem.item_id)
        return None, problem, None, reach.distinct()
    if item_id is not None:
        item = get_object_or_404(Item.objects.visible_to(user), pk=item_id)
        return item, None, None, Unit.objects.filter(item_links__item=item).distinct()
    unit = Unit.objects.filter(pk=unit_id).first() if unit_id is not None else None
    # A unit order reaches the units responsible for an entry the issuer sees (its organisation's).
    in_scope = Unit.objects.filter(Exists(ItemUnit.objects.filter(unit=OuterRef("pk"),
                                                                 item__in=Item.objects.visible_to(user))))
    return None, None, unit, in_scope.order_by("name")


@login_required
def order_new(request):
    """Issue a 督办 order (leaders and planners) for an entry, a problem or a unit."""
    user = request.user
    if not can(user, "tracker.supervise"):
        raise PermissionDenied("只有领导和规划人员可以下发督办。")
    item, problem, unit, reach = order_subject(request, user)
    if request.method == "POST":
        form = OrderForm(request.POST, reach=reach)
        if form.is_valid():
            with transaction.atomic():
                order = form.save(commit=False)
                order.item, order.problem, order.issued_by = item, problem, user
                order.save()
                record_creation(order, user, "issue", OrderState.ISSUED, order.requirement)
            messages.success(request, f"督办单 #{order.pk} 已下发给 {order.unit.name}。")
            return redirect("order_detail", pk=order.pk)
    else:
        initial = unit
        if problem is not None:
            initial = problem.coordinating_unit
        elif item is not None:
            link = item.unit_links.select_related("unit").order_by("role", "pk").first()
            initial = link.unit if link else None
        form = OrderForm(reach=reach, initial={"unit": initial.pk if initial else None})
        if item is not None or problem is not None:
            form.fields["unit"].queryset = reach.order_by("name")
    return render(request, "supervision/order_form.html", {"form": form, "item": item, "problem": problem,
                                                           "unit": unit})
