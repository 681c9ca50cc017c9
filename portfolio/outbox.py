"""The work that follows a change, done late: the outbox (projects.PendingWork) drained with
retries, the alerts still owed, and the record of each nightly run. docs/architecture.md,
"From a saved report to a light"."""
import datetime
import traceback
from functools import reduce
from operator import or_

from django.db.models import F, Q
from django.utils import timezone

from projects.changes import backoff
from projects.models import PendingWork, PlanState

from projects.models import EvaluationState

from .models import Flag, NightlyRun, Severity
from indicators.models import IndicatorStatus

# Work older than this is shown to planners as pending (the after-commit attempt takes seconds).
SHOWN_AFTER = datetime.timedelta(minutes=2)
NIGHTLY_MAX_AGE = datetime.timedelta(hours=26)


def drain(limit: int = 50_000, due_only: bool = True) -> int:
    """Do the outbox's work (re-evaluate its entries and indicators, move the data version) and
    delete the rows done. Idempotent: a row re-marked meanwhile carries another token and stays.
    On failure every row taken is noted (attempts, error, next attempt) and the error raised."""
    from .follow_up import follow_up

    rows = PendingWork.objects.order_by("marked_at")
    if due_only:
        rows = rows.filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=timezone.now()))
    rows = list(rows.values_list("pk", "kind", "object_id", "token", "attempts")[:limit])
    if not rows:
        return 0
    items = {pk for _, kind, pk, _, _ in rows if kind == PendingWork.Kind.ITEM}
    indicators = {pk for _, kind, pk, _, _ in rows if kind == PendingWork.Kind.INDICATOR}
    try:
        follow_up(items, indicators, structural=any(kind == PendingWork.Kind.VERSION for _, kind, *_ in rows))
    except Exception as exc:
        error = "".join(traceback.format_exception_only(exc)).strip()[:2000]
        now = timezone.now()
        attempts = max(a for *_, a in rows) + 1
        PendingWork.objects.filter(pk__in=[r[0] for r in rows]).update(
            attempts=F("attempts") + 1, last_error=error, next_attempt_at=now + backoff(attempts))
        raise
    for start in range(0, len(rows), 500):
        chunk = rows[start:start + 500]
        PendingWork.objects.filter(reduce(or_, (Q(pk=pk, token=token) for pk, _, _, token, _ in chunk))).delete()
    return len(rows)


def pending_count() -> int:
    """The re-evaluations planners are told are still to be done: failed at least once, or
    waiting longer than an after-commit attempt takes."""
    return PendingWork.objects.filter(
        Q(attempts__gt=0) | Q(marked_at__lt=timezone.now() - SHOWN_AFTER)).count()


def owed_flag_ids():
    """Open flags of plans 执行中 more severe than what their units were told: an alert whose
    e-mail was never queued or never sent (a killed process, the broker down)."""
    return list(Flag.objects.filter(resolved_on__isnull=True, item__plan__state=PlanState.ACTIVE).filter(
        Q(severity=Severity.RED, notified_severity__in=["", Severity.INFO, Severity.YELLOW])
        | Q(severity=Severity.YELLOW, notified_severity__in=["", Severity.INFO])).values_list("pk", flat=True))


def owed_indicator_ids():
    return list(IndicatorStatus.objects.filter(indicator__plan__state=PlanState.ACTIVE).filter(
        Q(light="red", notified_light__in=["", "yellow", "green"])
        | Q(light="yellow", notified_light__in=["", "green"])).values_list("pk", flat=True))


def send_owed_alerts() -> int:
    from indicators.notifications import notify_indicator_changes

    from .notifications import notify_flag_changes

    sent = notify_flag_changes(owed_flag_ids())
    notify_indicator_changes(owed_indicator_ids())
    return sent


def nightly(as_of: datetime.date) -> dict:
    """The nightly run, recorded in NightlyRun: drain the outbox, evaluate every entry (reading
    again the facts of entries changed since they were read), the plan indicators, send every
    alert owed, and store the month-end figures of the months ended (portfolio/trends.py). Safe
    to run twice (a redelivered task)."""
    from .evaluation import evaluate
    from .trends import write_month_ends
    from indicators.evaluation import evaluate_indicators

    run = NightlyRun.objects.create(as_of=as_of)
    try:
        drained = drain(due_only=False)
        result = evaluate(as_of)
        evaluate_indicators(as_of=as_of)
        sent = send_owed_alerts()
        month_ends = write_month_ends(as_of)
    except Exception as exc:
        try:
            NightlyRun.objects.filter(pk=run.pk).update(
                ok=False, finished_at=timezone.now(),
                error="".join(traceback.format_exception_only(exc)).strip()[:2000])
        except Exception:  # the database is what failed: the run stays unfinished, which warns too
            pass
        raise
    NightlyRun.objects.filter(pk=run.pk).update(ok=True, finished_at=timezone.now())
    return {**result.as_dict(), "drained": drained, "alerts": sent, "month_end_rows": month_ends}


def nightly_problem(now=None) -> str:
    """A sentence for planners when the last nightly run failed, or no full evaluation (the
    nightly run or `evaluate_flags`) succeeded in 26 hours; '' when all is well or nothing was
    ever evaluated."""
    now = now or timezone.now()
    runs = NightlyRun.objects.filter(ok=True).order_by("-finished_at").values_list("finished_at", flat=True)
    evaluated = EvaluationState.objects.filter(pk=1).values_list("evaluated_at", flat=True).first()
    success = max([t for t in (runs.first(), evaluated) if t is not None], default=None)
    failed = NightlyRun.objects.filter(ok=False).order_by("-started_at").first()
    if failed is not None and (success is None or failed.started_at > success):
        when = timezone.localtime(failed.started_at)
        return (f"最近一次夜间评估（{when:%Y-%m-%d %H:%M} 开始）失败，预警和数据可能不是最新的；"
                "系统将自动重试，请联系运维人员。")
    if success is not None and now - success > NIGHTLY_MAX_AGE:
        hours = int((now - success).total_seconds() // 3600)
        return (f"夜间评估已 {hours} 小时未成功运行（最近一次成功：{timezone.localtime(success):%Y-%m-%d %H:%M}），"
                "预警和数据可能不是最新的，请联系运维人员。")
    return ""
