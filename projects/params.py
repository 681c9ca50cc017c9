"""Query parameters shared by the read-side pages, validated: a bad value is a 400 with a Chinese
message rendered by a template (so it is escaped), never a 500."""
import datetime
import re

from django.shortcuts import render
from django.utils import timezone

from .models import Plan

from .versions import figures_date, in_force_plans, options_key, request_state
from .exports import FORMATS

EARLIEST_AS_OF = datetime.date(2000, 1, 1)


class BadParameter(Exception):
    pass


def as_of_param(request, default=None) -> datetime.date:
    """?as_of=YYYY-MM-DD between 2000-01-01 and a year from today; default the figures' date."""
    raw = request.GET.get("as_of", "")
    if not raw:
        return default or figures_date()
    try:
        day = datetime.date.fromisoformat(raw)
    except ValueError:
        raise BadParameter(f"日期“{raw}”格式不正确，应为 YYYY-MM-DD。") from None
    latest = timezone.localdate() + datetime.timedelta(days=366)
    if not EARLIEST_AS_OF <= day <= latest:
        raise BadParameter(f"日期“{raw}”超出范围：应在 {EARLIEST_AS_OF:%Y-%m-%d} 至 {latest:%Y-%m-%d} 之间。")
    return day


class NotFound(BadParameter):
    """A plan that does not exist or lies outside the user's scope: the same 404 for both, so
    the answer does not tell another organisation's plans apart from none."""


def plan_param(request, default=None):
    """?plan=CODE among the plans the user may read, or the default: the plan in force there when
    there is one (执行中, or else the plan closed last), else None, which pages read as every
    plan 执行中 in the user's scope."""
    code = request.GET.get("plan", "")
    visible = Plan.objects.visible_to(request.user)
    if code:
        plan = visible.filter(code=code).first() if re.fullmatch(r"[-\w]{1,40}", code) else None
        if plan is None:
            raise NotFound(f"没有代码为“{code[:40]}”的规划，或它不在您可查看的范围内。")
        return plan
    if default is not None:
        return default
    plans = list(visible.filter(pk__in=in_force_plans(request_state(request))).order_by("pk")[:2])
    return plans[0] if len(plans) == 1 else None


def format_param(request, name):
    fmt = request.GET.get(name, "")
    if fmt not in FORMATS:
        raise BadParameter(f"不支持的导出格式“{fmt}”，可选：{'、'.join(FORMATS)}。")
    return fmt


def bad_request(request, error: BadParameter):
    if isinstance(error, NotFound):
        return render(request, "404.html", {"message": str(error)}, status=404)
    return render(request, "400.html", {"message": str(error)}, status=400)


def plan_bar(request, plan):
    """What the plan switcher shows: the plans one can switch to and the state of the zone."""
    from .models import PlanState

    return {
        # lazy: read only when the cached select is rendered afresh
        "plan_choices": Plan.objects.visible_to(request.user).filter(is_synthetic=False).order_by("-start_year", "code"),
        "plan_chosen": request.GET.get("plan", "") if plan is not None else "",
        "active_plan_exists": lambda: in_force_plans(request_state(request)).visible_to(request.user)
        .filter(state=PlanState.ACTIVE).exists(),
        "options_key": options_key(request.user, request_state(request)),
    }
