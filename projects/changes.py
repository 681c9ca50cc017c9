"""The one change tracker: which entries and indicators a change touched, recorded durably in
the change's own transaction and announced once it has committed.

Every save or delete of a tracked row (through the admin, a form, an import, a command or the
shell) marks what it belongs to: entries (an entry, its units, reports, milestones, targets, a
plan's entries, both sides of a predecessor relink, the successors of a deleted entry) and
indicators (an indicator, its values, a table's indicators, a plan's indicators). Bulk writers
that send no model signals call `entries_changed` themselves.

Each mark writes an outbox row (`PendingWork`, one per entry or indicator, tagged with the
transaction's token) in the same transaction, so a change never commits without the record
of what must follow it. When the transaction commits, `registry_committed` is sent with what
it touched; the read side (portfolio) re-evaluates it and moves its data version. If that
succeeds the transaction's outbox rows are deleted; if it fails (or the process dies first)
they stay, and portfolio's drain task and nightly run do the work later.

A rolled-back transaction leaves its in-memory ids behind for the next commit, which then
re-evaluates a few entries that did not change: harmless. Its outbox rows roll back with it.
"""
import datetime
import logging
import secrets
import threading
import traceback

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import Signal
from django.utils import timezone

logger = logging.getLogger(__name__)

# Sent after commit: item_ids, indicator_ids (sets of ids, may be empty), using (database alias),
# structural (something was marked that is not confined to these entries: a unit, a category, a
# plan's state or period, an order on a unit alone: every cached slice of plans is recomputed).
# A receiver that raises leaves the work in the outbox (see module docstring).
registry_committed = Signal()

_pending = threading.local()

# The retry schedule of durable work (this outbox's drain, the group-robot messages of
# projects/webhooks.py): 1 minute after the first failure, doubling up to an hour.
RETRY_BASE = datetime.timedelta(minutes=1)
RETRY_MAX = datetime.timedelta(hours=1)


def backoff(attempts: int) -> datetime.timedelta:
    return min(RETRY_BASE * 2 ** max(attempts - 1, 0), RETRY_MAX)


def _state(using):
    states = getattr(_pending, "states", None)
    if states is None:
        states = _pending.states = {}
    return states.setdefault(using, {"items": set(), "indicators": set(), "dirty": False, "token": None,
                                     "hooks": None, "recorded": set(), "failures": 0, "structural": False})


def entries_changed(item_ids=(), using=DEFAULT_DB_ALIAS, indicator_ids=()):
    """Mark entries (and indicators) as changed; none: a change that touches neither, e.g. a unit
    renamed, which still moves the data version. Records the outbox rows now, in the current
    transaction; `registry_committed` follows when it commits (at once outside one)."""
    state = _state(using)
    connection = connections[using]
    item_ids, indicator_ids = set(item_ids), set(indicator_ids)
    hooks = connection.run_on_commit if connection.in_atomic_block else None
    # Django replaces its list of on-commit hooks on every commit and (savepoint) rollback: while
    # it is the same list, this is the same transaction and its hook is still registered.
    same_transaction = hooks is not None and hooks is state["hooks"] and state["token"] is not None
    if not same_transaction:
        state["token"], state["recorded"] = secrets.token_hex(16), set()
    keys = {("item", pk) for pk in item_ids if pk is not None} | \
        {("indicator", pk) for pk in indicator_ids if pk is not None}
    if not keys:
        keys = {("version", 0)}
        state["structural"] = True  # not confined to some entries: every cached slice is recomputed
    state["items"] |= {pk for kind, pk in keys if kind == "item"}
    state["indicators"] |= {pk for kind, pk in keys if kind == "indicator"}
    state["dirty"] = True
    _record(keys - state["recorded"], state["token"], using)
    state["recorded"] |= keys
    # One hook per mark, as Django's tests capture hooks registered within a block; the first
    # to run announces everything marked, the others find nothing left.
    token = state["token"]
    transaction.on_commit(lambda: _announce(using, token), using=using, robust=True)
    state["hooks"] = connection.run_on_commit if connection.in_atomic_block else None


def _record(keys, token, using):
    from .models import PendingWork

    if not keys:
        return
    now = timezone.now()
    PendingWork.objects.using(using).bulk_create(
        [PendingWork(kind=kind, object_id=pk, token=token, marked_at=now) for kind, pk in sorted(keys)],
        update_conflicts=True, unique_fields=["kind", "object_id"], update_fields=["token", "marked_at"],
        batch_size=2000)


def _announce(using, token):
    from .models import PendingWork

    state = _state(using)
    if not state["dirty"]:
        return
    item_ids, indicator_ids, structural = state["items"], state["indicators"], state["structural"]
    state["items"], state["indicators"], state["dirty"], state["structural"] = set(), set(), False, False
    token = state["token"] or token  # the transaction's, even when an earlier mark's hook runs
    state["token"], state["hooks"], state["recorded"] = None, None, set()
    try:
        registry_committed.send(sender=entries_changed, item_ids=item_ids, indicator_ids=indicator_ids,
                                using=using, structural=structural)
        PendingWork.objects.using(using).filter(token=token).delete()
    except Exception as exc:  # the work stays in the outbox: the drain task and the night retry it
        state["failures"] += 1
        logger.exception("re-evaluation after commit failed; left in the outbox")
        _note_failure(token, exc, using)


def _note_failure(token, exc, using):
    from django.db.models import F

    from .models import PendingWork

    try:
        PendingWork.objects.using(using).filter(token=token).update(
            attempts=F("attempts") + 1, last_error="".join(traceback.format_exception_only(exc)).strip()[:2000],
            next_attempt_at=timezone.now())
    except Exception:  # the database itself may be what failed: the rows are there all the same
        logger.warning("could not note the failure in the outbox", exc_info=True)


def follow_up_failures(using=DEFAULT_DB_ALIAS) -> int:
    """How many after-commit follow-ups failed on this thread since the last reset."""
    return _state(using)["failures"]


def reset_follow_up_failures(using=DEFAULT_DB_ALIAS):
    _state(using)["failures"] = 0


FOLLOW_UP_FAILED = "已导入，但后续重新计算失败，已记入待办，将自动重试。"


def check_follow_up(command, failures_before: int):
    """For import commands: after the import committed, say so if its follow-up re-evaluation
    failed (the work stays in the outbox, retried by the drain task) and exit with status 2."""
    if follow_up_failures() > failures_before:
        command.stderr.write(FOLLOW_UP_FAILED)
        raise SystemExit(2)


def discard_pending(using=DEFAULT_DB_ALIAS):
    """Forget marks of a transaction that was rolled back (tests roll back every test)."""
    state = _state(using)
    state["items"], state["indicators"], state["dirty"], state["structural"] = set(), set(), False, False
    state["token"], state["hooks"], state["recorded"], state["failures"] = None, None, set(), 0


# What rows of other apps touch, as those apps declare it when they track their models
# (AppConfig.ready): {model: function(instance) -> (entry ids, indicator ids)}, and the functions
# naming what depends on a plan (function(plan id) -> (entry ids, indicator ids)).
_touchers = {}
_plan_dependents = []


def _touched(instance):
    """(entry ids, indicator ids) a saved or deleted row touches."""
    from .models import Item, Plan

    toucher = _touchers.get(type(instance))
    if toucher is not None:
        item_ids, indicator_ids = toucher(instance)
        return set(item_ids), set(indicator_ids)
    if isinstance(instance, Item):
        # both sides of a relink: the old predecessor is no longer carried on, the new one is
        ids = {instance.pk, instance.predecessor_id, getattr(instance, "_tracked_predecessor_id", None)}
        ids |= getattr(instance, "_tracked_successor_ids", set())
        return ids - {None}, set()
    if isinstance(instance, Plan):
        if instance.pk is None:
            return set(), set()
        # its period and state decide how every entry and indicator of it is evaluated
        item_ids = set(Item.objects.filter(plan_id=instance.pk).values_list("pk", flat=True))
        indicator_ids = set()
        for dependents in _plan_dependents:
            more_items, more_indicators = dependents(instance.pk)
            item_ids |= set(more_items)
            indicator_ids |= set(more_indicators)
        return item_ids, indicator_ids
    item_id = getattr(instance, "item_id", None)  # its units, reports, milestones, targets
    return ({item_id} if item_id is not None else set()), set()


def _on_save_or_delete(sender, instance, using=DEFAULT_DB_ALIAS, raw=False, **kwargs):
    if raw:  # loaddata: no derived work for fixtures
        return
    item_ids, indicator_ids = _touched(instance)
    entries_changed(item_ids, using=using, indicator_ids=indicator_ids)
    from .models import Plan

    if isinstance(instance, Plan):
        # its state and period decide which plans are in force and who owes in other plans
        # (an entry carried into it): not confined to its own entries
        entries_changed((), using=using)


def _before_item_save(sender, instance, using=DEFAULT_DB_ALIAS, update_fields=None, raw=False, **kwargs):
    """Remember the predecessor an entry had, so a relink re-evaluates the old one too."""
    if raw or instance.pk is None or (update_fields is not None and "predecessor" not in update_fields):
        return
    old = sender.objects.using(using).filter(pk=instance.pk).values_list("predecessor_id", flat=True).first()
    instance._tracked_predecessor_id = old


def _before_item_delete(sender, instance, using=DEFAULT_DB_ALIAS, **kwargs):
    """The entries continuing a deleted entry lose its reports (SET_NULL sends no signal)."""
    instance._tracked_successor_ids = set(
        sender.objects.using(using).filter(predecessor_id=instance.pk).values_list("pk", flat=True))


def _on_membership_change(sender, action, using=DEFAULT_DB_ALIAS, **kwargs):
    # Who belongs to a unit decides what its users see, not the entries' figures.
    if action in ("post_add", "post_remove", "post_clear"):
        entries_changed((), using=using)


def _on_scope_change(sender, **kwargs):
    # No entry's figures change: only cached results are keyed anew (no outbox row to drain).
    from .versions import raise_version

    raise_version()


def track(*models, touched=None):
    """Announce every save and delete of these models. touched(instance) -> (entry ids, indicator
    ids) says what a row belongs to; by default the entry its `item_id` names."""
    for model in models:
        if touched is not None:
            _touchers[model] = touched
        label = model._meta.label
        post_save.connect(_on_save_or_delete, sender=model, dispatch_uid=f"registry-save-{label}")
        post_delete.connect(_on_save_or_delete, sender=model, dispatch_uid=f"registry-delete-{label}")


def follow_plan(dependents):
    """dependents(plan id) -> (entry ids, indicator ids): more rows a change of the plan touches."""
    _plan_dependents.append(dependents)


def connect_registry_models():
    from . import models

    # Other apps track their own models from their AppConfig.ready (reporting: reports,
    # milestones, targets).
    track(models.Plan, models.Unit, models.UnitAlias, models.Category, models.Programme, models.Item,
          models.ItemUnit)
    pre_save.connect(_before_item_save, sender=models.Item, dispatch_uid="registry-item-relink")
    pre_delete.connect(_before_item_delete, sender=models.Item, dispatch_uid="registry-item-successors")
    m2m_changed.connect(_on_membership_change, sender=models.Unit.members.through,
                        dispatch_uid="registry-unit-members")
    # Who acts on which organisations: cached figures are keyed by the organisation, so a tree
    # edit or a moved account must move the data version (no entry is re-evaluated).
    for model in (models.Organisation, models.OrganisationMember):
        post_save.connect(_on_scope_change, sender=model, dispatch_uid=f"scope-{model.__name__}")
        post_delete.connect(_on_scope_change, sender=model, dispatch_uid=f"scope-{model.__name__}-delete")
