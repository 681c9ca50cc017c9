"""Re-evaluate an entry's flags right after its report, milestone or annual target change commits."""
from django.db.models.signals import post_save
from django.dispatch import receiver

from projects.models import AnnualTarget, Milestone, StatusReport


@receiver(post_save, sender=StatusReport)
@receiver(post_save, sender=Milestone)
@receiver(post_save, sender=AnnualTarget)
def reevaluate_item(sender, instance, **kwargs):
    from .tasks import evaluate_flags_task

    evaluate_flags_task.delay_on_commit(item_ids=[instance.item_id])
