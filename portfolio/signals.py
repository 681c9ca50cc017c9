"""After a change commits: the follow-up (portfolio/follow_up.py: re-evaluate what it touched,
move the data version), then queue its alerts; on failure the work stays in the outbox and a
drain is queued (portfolio/outbox.py)."""
import logging

from django.dispatch import receiver

from projects.changes import registry_committed

from .follow_up import follow_up

logger = logging.getLogger(__name__)


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
def reevaluate_changed(sender, item_ids, indicator_ids=(), using=None, structural=True, **kwargs):
    try:
        to_notify, indicators_to_notify = follow_up(item_ids, indicator_ids, structural)
    except Exception:
        _schedule_drain()
        raise
    _queue_alerts(to_notify, indicators_to_notify)


def _schedule_drain():
    from .tasks import drain_outbox_task

    try:
        drain_outbox_task.apply_async(countdown=30)
    except Exception:  # broker down too: beat's periodic drain and the night pick it up
        logger.warning("could not queue the outbox drain", exc_info=True)
