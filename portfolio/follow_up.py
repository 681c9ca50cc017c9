"""The work that follows a committed change: re-evaluate the entries and indicators it touched
and move the data version (docs/architecture.md). Run after commit by the receiver
(portfolio/signals.py), and by the outbox's drain and the nightly run (portfolio/outbox.py)."""
from indicators import evaluation as indicator_evaluation

from . import evaluation


def follow_up(item_ids=(), indicator_ids=(), structural=True):
    """Re-evaluate entries and indicators, and always move the data version. Idempotent. Returns
    the flags and indicator statuses whose alerts are due (opened or worse); those not sent stay
    owed (their notified severity) and the drain task or the next run sends them
    (portfolio/outbox.py, `send_owed_alerts`). structural=False: the change was confined to
    these entries (and indicators), so only their plans' cached slices are recomputed."""
    to_notify, indicators_to_notify = [], []
    if item_ids:
        to_notify = evaluation.evaluate_changed_entries(item_ids).to_notify
    if indicator_ids:
        indicators_to_notify = indicator_evaluation.evaluate_indicators(indicator_ids).to_notify or []
    # names, units and memberships change what pages show even when no figure moved
    evaluation.raise_version(None if structural else item_ids)
    return to_notify, indicators_to_notify
