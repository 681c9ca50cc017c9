"""The data version: read it before computing from the database, raise it after a change commits.

Raising it after the commit (never before) means a figure computed while a change was still
uncommitted is stored under the old number and is never reused once the change lands."""
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import F
from django.db.models.signals import post_delete, post_save
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


def _raise_now():
    from .models import DataVersion

    if not DataVersion.objects.filter(pk=SINGLETON).update(number=F("number") + 1, changed_at=timezone.now()):
        DataVersion.objects.get_or_create(pk=SINGLETON, defaults={"number": 1})
    data_changed.send(sender=DataVersion)


def bump_version(using=DEFAULT_DB_ALIAS):
    """Raise the version when the current transaction commits (at once outside a transaction).

    Registered once per transaction: an import saving a thousand rows raises it once."""
    connection = connections[using]
    if connection.in_atomic_block and any(func is _raise_now for _, func, _ in connection.run_on_commit):
        return
    transaction.on_commit(_raise_now, using=using)


def _on_change(sender, using=DEFAULT_DB_ALIAS, **kwargs):
    bump_version(using)


def track_changes(*models):
    """Every saved or deleted row of these models raises the version; bulk writers call bump_version."""
    for model in models:
        label = model._meta.label
        post_save.connect(_on_change, sender=model, dispatch_uid=f"data-version-save-{label}")
        post_delete.connect(_on_change, sender=model, dispatch_uid=f"data-version-delete-{label}")


def connect_registry_models():
    from . import models

    track_changes(models.Plan, models.Unit, models.UnitAlias, models.Category, models.Programme, models.Item,
                  models.ItemUnit, models.AnnualTarget, models.Milestone, models.StatusReport)
