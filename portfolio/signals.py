"""After a registry change commits: re-evaluate the entries it touched, then raise the data
version so cached dashboards and rankings are computed afresh (docs/architecture.md)."""
from django.dispatch import receiver

from projects.changes import registry_committed

from .evaluation import evaluate_changed_entries, raise_version


@receiver(registry_committed)
def reevaluate_changed_entries(sender, item_ids, using, **kwargs):
    if item_ids:
        result = evaluate_changed_entries(item_ids)
        if result.to_notify:
            from .tasks import notify_flags_task

            notify_flags_task.delay(result.to_notify)  # e-mail is slow: the worker sends it
    raise_version()  # names and memberships change what pages show even when no figure moved
