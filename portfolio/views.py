from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Case, Value, When
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django_tables2 import RequestConfig

from projects.models import ListKind, Role, role_of
from projects.versioning import version_stamp

from .exports import FORMATS, export_items
from .filters import PAGE_SIZES, ItemFilter
from .models import Flag
from .queries import tracked_items
from .tables import ItemTable, header_cells, item_rows_html, light_badge, page_links

LIST_SLUGS = {kind.value: kind for kind in ListKind}


def _list_kind(slug):
    try:
        return LIST_SLUGS[slug]
    except KeyError:
        raise Http404("没有这个清单") from None


def filtered_items(request, list_kind):
    """The user's visible entries of one list, filtered and sorted as the request asks."""
    base = tracked_items(request.user).filter(list_kind=list_kind)
    item_filter = ItemFilter(request.GET or None, queryset=base, list_kind=list_kind, user=request.user,
                             version=version_stamp())
    qs = item_filter.qs if item_filter.is_bound else base
    return item_filter, qs


@login_required
def item_list(request, kind):
    list_kind = _list_kind(kind)
    item_filter, qs = filtered_items(request, list_kind)
    back = urlencode({"b": request.get_full_path()})[2:]
    table = ItemTable(qs, list_kind=list_kind, back=back)
    try:
        per_page = int(request.GET.get("per_page", 50))
    except ValueError:
        per_page = 50
    if per_page not in PAGE_SIZES:
        per_page = 50
    export = request.GET.get("_export")
    if export:
        if export not in FORMATS:
            return HttpResponseBadRequest(f"不支持的导出格式“{export}”，可选：{'、'.join(FORMATS)}".encode())
        RequestConfig(request, paginate=False).configure(table)
        return export_items(table.data.data, list_kind, export)
    # Page size is validated here; django-tables2 must not re-read it from the URL.
    RequestConfig(request, paginate=False).configure(table)
    try:
        page = int(request.GET.get("page", 1))
    except ValueError:
        page = 1
    pages = max(1, -(-qs.count() // per_page)) if page > 1 else 1
    table.paginate(page=min(max(page, 1), pages), per_page=per_page)
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "portfolio/item_list.html", {
        "list_kind": list_kind, "filter": item_filter, "page_sizes": PAGE_SIZES,
        "headers": header_cells(table, params), "rows": item_rows_html(table),
        "pages": page_links(table.page, params) if table.paginator.num_pages > 1 else [],
        "per_page": per_page, "total_count": table.paginator.count, "query_without_page": params.urlencode(),
        "list_kinds": ListKind,
    })


def safe_back(request, list_kind):
    back = request.GET.get("back", "")
    if back.startswith("/lists/") and "//" not in back:
        return back
    return f"/lists/{list_kind}/"


@login_required
def item_detail(request, pk):
    item = get_object_or_404(tracked_items(request.user), pk=pk)
    role = role_of(request.user)
    can_report = role == Role.PLANNER or (
        role == Role.UNIT and item.unit_links.filter(unit__members=request.user).exists()
    )
    history = []
    if role in (Role.PLANNER, Role.LEADER) and request.GET.get("tab") == "history":
        from .history import item_history
        history = item_history(item)
    return render(request, "portfolio/item_detail.html", {
        "item": item,
        "light": light_badge(item.light),
        "targets": item.annual_targets.all(),
        "milestones": item.milestones.all(),
        "reports": item.reports.select_related("filed_by").order_by("-month"),
        "flags": Flag.objects.filter(item=item, resolved_on__isnull=True).order_by("-severity"),
        "back": safe_back(request, item.list_kind),
        "can_report": can_report,
        "can_see_history": role in (Role.PLANNER, Role.LEADER),
        "tab": request.GET.get("tab", "overview"),
        "history": history,
        "today": timezone.localdate(),
    })


@login_required
def my_items(request):
    """我的事项: a unit user's entries with the last month reported and what is due."""
    from .rules import previous_month

    today = timezone.localdate()
    due_month = previous_month(today)
    list_order = Case(*[When(list_kind=k.value, then=Value(i)) for i, k in enumerate(ListKind)])
    qs = tracked_items(request.user).order_by(list_order, "seq")
    if role_of(request.user) != Role.UNIT:
        qs = qs.filter(list_kind=ListKind.PROJECT)[:0]
    items = list(qs.prefetch_related("milestones"))
    month_end = (today.replace(day=28) + timezone.timedelta(days=4)).replace(day=1) - timezone.timedelta(days=1)
    flags = {}
    for flag in Flag.objects.filter(item__in=[i.pk for i in items], resolved_on__isnull=True):
        flags.setdefault(flag.item_id, []).append(flag)
    rows = []
    for item in items:
        due_milestones = [m for m in item.milestones.all() if m.met_on is None and m.due_date <= month_end]
        rows.append({
            "item": item, "light": light_badge(item.light), "flags": flags.get(item.pk, []),
            "report_due": item.list_kind == ListKind.PROJECT and item.status == "in_progress"
                          and (item.last_month is None or item.last_month < due_month),
            "due_milestones": due_milestones,
        })
    return render(request, "portfolio/my_items.html", {
        "rows": rows, "due_month": due_month, "today": today, "reporting_day": settings.TRACKER_REPORTING_DAY,
    })
