"""After a change commits: re-evaluate the entries and indicators it touched, then move the
data version so cached dashboards and rankings are computed afresh (docs/architecture.md).
The same `follow_up` drains the outbox when the after-commit attempt failed
(portfolio/outbox.py)."""
import logging

from django.dispatch import receiver

from projects.changes import registry_committed

logger = logging.getLogger(__name__)


def follow_up(item_ids=(), indicator_ids=()):
    """Re-evaluate entries and indicators, and always move the data version. Idempotent. Alerts
    are queued when the broker answers; else the flags' notified severity keeps them owed and
    the drain task or the next run sends them (portfolio/outbox.py, `send_owed_alerts`)."""
    from .evaluation import evaluate_changed_entries, raise_version
    from indicators.evaluation import evaluate_indicators

    to_notify, indicators_to_notify = [], []
    if item_ids:
        to_notify = evaluate_changed_entries(item_ids).to_notify
    if indicator_ids:
        indicators_to_notify = evaluate_indicators(indicator_ids).to_notify or []
    raise_version()  # names, units and memberships change what pages show even when no figure moved
    _queue_alerts(to_notify, indicators_to_notify)


def _queue_alerts(flag_ids, status_ids):
    from indicators.tasks import notify_indicators_task

    from .tasks import notify_flags_task

    try:
        if flag_ids:
            notify_flags_task.delay(flag_ids)  # e-mail is slow: the worker sends it
        if status_ids:
            notify_indicators_task.delay(status_ids)
    except Exception:  # broker down: the flags stay owed, sent by the drain task or the night
        logger.warning("could not queue alerts; they are sent by the next run", exc_info=True)


@receiver(registry_committed)
def reevaluate_changed(sender, item_ids, indicator_ids=(), using=None, **kwargs):
    try:
        follow_up(item_ids, indicator_ids)
    except Exception:
        _schedule_drain()
        raise


def _schedule_drain():
    from .tasks import drain_outbox_task

    try:
        drain_outbox_task.apply_async(countdown=30)
    except Exception:  # broker down too: beat's periodic drain and the night pick it up
        logger.warning("could not queue the outbox drain", exc_info=True)
