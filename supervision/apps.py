from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "supervision"
    verbose_name = "问题协调与督办"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from projects.changes import track

        from .models import Order, Problem

        # A problem or an order changes no entry's figures, but the dashboard's cached counts of
        # the loop name the data version, and the unit ranking counts problems and orders by
        # their entry's slice of plans (projects.versions.sliced): every save marks its entry
        # (re-evaluated unchanged, cheaply), an order on a unit alone everything (projects/changes.py).
        track(Problem, Order, touched=subject_entries)


def subject_entries(instance):
    """(entry ids, indicator ids) a problem or an order is about: its entry, or its problem's."""
    from .models import Order, Problem

    if isinstance(instance, Order):
        item_id = instance.item_id
        if item_id is None and instance.problem_id is not None:
            item_id = Problem.objects.filter(pk=instance.problem_id).values_list("item_id", flat=True).first()
        return ({item_id} if item_id is not None else set()), set()
    return {instance.item_id}, set()
