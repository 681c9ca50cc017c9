"""Which entries a committed change touched, announced once the change has committed.

Every save or delete of a registry row (through the admin, a form, an import, a command or the
shell) marks the entries it belongs to; bulk writers that send no model signals call
`entries_changed` themselves. When the transaction commits, `registry_committed` is sent with
the ids of the entries it touched; the read side (portfolio) re-evaluates them and raises its
data version. Nothing here knows about the read side.

Each change registers its own on-commit callback; the first one to run takes every id marked
on this thread so far. A rolled-back transaction leaves its ids behind for the next commit,
which then re-evaluates a few entries that did not change: harmless, and it needs no private
Django API to detect rollbacks.
"""
import threading

from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import Signal

# Sent after commit: item_ids (set of entry ids, may be empty), using (database alias).
registry_committed = Signal()

_pending = threading.local()


def _state(using):
    states = getattr(_pending, "states", None)
    if states is None:
        states = _pending.states = {}
    return states.setdefault(using, {"items": set(), "dirty": False})


def entries_changed(item_ids=(), using=DEFAULT_DB_ALIAS):
    """Mark entries as changed (none: a change that touches no one entry, e.g. a unit renamed);
    `registry_committed` follows when the current transaction commits (at once outside one)."""
    state = _state(using)
    state["items"].update(item_ids)
    state["dirty"] = True
    transaction.on_commit(lambda: _announce(using), using=using, robust=True)


def _announce(using):
    state = _state(using)
    if not state["dirty"]:
        return
    item_ids = state["items"]
    state["items"], state["dirty"] = set(), False
    registry_committed.send(sender=entries_changed, item_ids=item_ids, using=using)


def discard_pending(using=DEFAULT_DB_ALIAS):
    """Forget marks of a transaction that was rolled back (tests roll back every test)."""
    state = _state(using)
    state["items"], state["dirty"] = set(), False


def _entry_ids(instance):
    from .models import Item, Plan

    if isinstance(instance, Item):
        return {instance.pk}
    if isinstance(instance, Plan) and instance.pk is not None:
        # its period and state decide how every entry of it is evaluated
        return set(Item.objects.filter(plan_id=instance.pk).values_list("pk", flat=True))
    item_id = getattr(instance, "item_id", None)  # its units, reports, milestones, targets
    return {item_id} if item_id is not None else set()


def _on_save_or_delete(sender, instance, using=DEFAULT_DB_ALIAS, **kwargs):
    entries_changed(_entry_ids(instance), using=using)


def _on_membership_change(sender, action, using=DEFAULT_DB_ALIAS, **kwargs):
    # Who belongs to a unit decides what its users see, not the entries' figures.
    if action in ("post_add", "post_remove", "post_clear"):
        entries_changed((), using=using)


def track(*models):
    for model in models:
        label = model._meta.label
        post_save.connect(_on_save_or_delete, sender=model, dispatch_uid=f"registry-save-{label}")
        post_delete.connect(_on_save_or_delete, sender=model, dispatch_uid=f"registry-delete-{label}")


def connect_registry_models():
    from . import models

    # Other apps track their own models from their AppConfig.ready (reporting: reports,
    # milestones, targets).
    track(models.Plan, models.Unit, models.UnitAlias, models.Category, models.Programme, models.Item,
          models.ItemUnit)
    m2m_changed.connect(_on_membership_change, sender=models.Unit.members.through,
                        dispatch_uid="registry-unit-members")
