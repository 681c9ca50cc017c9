"""Re-evaluate an entry's flags right after its report, milestone or annual target change commits,
and rebuild the leaders' stored dashboard shortly after any committed change.

An entry's evaluation figures are dropped at once (in the same transaction), so dashboards fall
back to the live computation for it until the worker has re-evaluated it."""
import logging

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from projects.models import AnnualTarget, Milestone, StatusReport
from projects.versioning import data_changed, track_changes

from .models import Flag, ItemFigures

logger = logging.getLogger(__name__)


@receiver(post_save, sender=StatusReport)
@receiver(post_save, sender=Milestone)
@receiver(post_save, sender=AnnualTarget)
@receiver(post_delete, sender=StatusReport)
@receiver(post_delete, sender=Milestone)
@receiver(post_delete, sender=AnnualTarget)
def reevaluate_item(sender, instance, **kwargs):
    from .tasks import evaluate_flags_task

    ItemFigures.objects.filter(item_id=instance.item_id).delete()
    evaluate_flags_task.delay_on_commit(item_ids=[instance.item_id])


# Flags edited one by one (admin) raise the data version; evaluate_flags raises it itself.
track_changes(Flag)


@receiver(data_changed)
def rebuild_stored_dashboard(sender, **kwargs):
    """Leaders' next look after a change should not wait seconds for a province's figures."""
    from .tasks import warm_dashboard_task

    try:
        warm_dashboard_task.apply_async(countdown=5)
    except Exception:  # noqa: BLE001 - the change is committed; a missing rebuild only costs speed
        logger.warning("could not schedule the dashboard rebuild", exc_info=True)
