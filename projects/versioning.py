"""The data version: read it before computing from the database, raise it after a change commits.

Raising it after the commit (never before) means a figure computed while a change was still
uncommitted is stored under the old number and is never reused once the change lands.

Besides the one global number, each plan records the number of the last change to it, so
figures kept per plan survive changes to other plans."""
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import Signal
from django.utils import timezone

SINGLETON = 1

# Sent after the version moved (after the commit): lets the read side rebuild what it stores.
data_changed = Signal()


def current_version() -> int:
    from .models import DataVersion

    number = DataVersion.objects.filter(pk=SINGLETON).values_list("number", flat=True).first()
    return number or 0


def version_stamp() -> str:
    """The version with the time it last moved, for caches outside the database: unlike the bare
    number it never repeats, even if the counter row is deleted and counting starts again."""
    from .models import DataVersion

    row = DataVersion.objects.filter(pk=SINGLETON).values_list("number", "changed_at").first()
    return f"{row[0]}@{row[1].timestamp()}" if row else "0"


class PlanVersions:
    """Each plan's version as of one read: the later of its own last change and the last change
    to everything."""

    def __init__(self, everything: int, by_plan: dict):
        self.everything, self.by_plan = everything, by_plan

    def __getitem__(self, plan_id) -> int:
        return max(self.everything, self.by_plan.get(plan_id, 0))


def plan_versions() -> PlanVersions:
    from .models import DataVersion, PlanVersion

    everything = DataVersion.objects.filter(pk=SINGLETON).values_list("everything_number", flat=True).first()
    return PlanVersions(everything or 0, dict(PlanVersion.objects.values_list("plan_id", "number")))


class _PendingChange:
    """What the current transaction changed; raises the version once, when it commits."""

    def __init__(self, using):
        self.using = using
        self.everything = False
        self.plan_ids, self.item_ids = set(), set()

    def add(self, plans=None, items=None):
        if plans is None and items is None:
            self.everything = True
        self.plan_ids.update(plans or ())
        self.item_ids.update(items or ())

    def __call__(self):
        from .models import DataVersion, Item, PlanVersion

        with transaction.atomic(using=self.using):
            row, _ = DataVersion.objects.using(self.using).select_for_update().get_or_create(pk=SINGLETON)
            row.number += 1
            row.changed_at = timezone.now()
            if self.everything:
                row.everything_number = row.number
            row.save(using=self.using)
            if not self.everything:
                plan_ids = self.plan_ids | set(
                    Item.objects.using(self.using).filter(pk__in=self.item_ids).values_list("plan_id", flat=True))
                PlanVersion.objects.using(self.using).bulk_create(
                    [PlanVersion(plan_id=p, number=row.number) for p in sorted(plan_ids) if p is not None],
                    update_conflicts=True, unique_fields=["plan_id"], update_fields=["number"])
        data_changed.send(sender=DataVersion)


def bump_version(using=DEFAULT_DB_ALIAS, plans=None, items=None):
    """Raise the version when the current transaction commits (at once outside a transaction).

    plans / items: ids of the plans, or entries, the change is confined to; neither means it may
    touch every plan. Registered once per transaction: an import saving a thousand rows raises it once."""
    connection = connections[using]
    if connection.in_atomic_block:
        for _, func, _ in connection.run_on_commit:
            if isinstance(func, _PendingChange):
                func.add(plans, items)
                return
    pending = _PendingChange(using)
    pending.add(plans, items)
    transaction.on_commit(pending, using=using)


def _on_change(sender, instance, using=DEFAULT_DB_ALIAS, **kwargs):
    from .models import Plan

    if isinstance(instance, Plan):
        bump_version(using, plans=[instance.pk])
    elif getattr(instance, "plan_id", None) is not None:
        bump_version(using, plans=[instance.plan_id])
    elif getattr(instance, "item_id", None) is not None:
        bump_version(using, items=[instance.item_id])
    else:  # units and their aliases appear in every plan
        bump_version(using)


def track_changes(*models):
    """Every saved or deleted row of these models raises the version (for its plan when the row
    belongs to one); bulk writers call bump_version."""
    for model in models:
        label = model._meta.label
        post_save.connect(_on_change, sender=model, dispatch_uid=f"data-version-save-{label}")
        post_delete.connect(_on_change, sender=model, dispatch_uid=f"data-version-delete-{label}")


def connect_registry_models():
    from . import models

    track_changes(models.Plan, models.Unit, models.UnitAlias, models.Category, models.Programme, models.Item,
                  models.ItemUnit, models.AnnualTarget, models.Milestone, models.StatusReport)
    # Who belongs to a unit decides what its users see: their lists' choices and figures.
    m2m_changed.connect(_on_membership_change, sender=models.Unit.members.through,
                        dispatch_uid="data-version-unit-members")


def _on_membership_change(sender, action, using=DEFAULT_DB_ALIAS, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        bump_version(using)
