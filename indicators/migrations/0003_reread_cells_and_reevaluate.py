"""Existing indicators read again under the rules of issue 24 (docs/architecture.md, "Indicators"),
keeping every row: each stored cell's qualifier and form re-read from its printed text ('>80' is
now strict), a bare number in the 年均增长 column that is an end-year level marked so, the direction
taken from the indicator's meaning (a direction a user changed in the admin is kept and marked as
set by a planner). Every targets-table indicator is then queued in the outbox (projects.PendingWork),
so the drain task (within five minutes of the deploy) or the nightly run re-evaluates its stored
statuses through the one evaluation path."""
import uuid

from django.db import migrations
from django.utils import timezone

SLOTS = ("baseline", "target", "growth", "planned", "actual")


def _reread(ind, parse_value):
    changed = False
    for slot in SLOTS:
        printed = getattr(ind, f"{slot}_printed")
        if not printed:
            continue
        try:
            cell = parse_value(printed, year=getattr(ind, f"{slot}_year"), growth_column=slot == "growth")
        except ValueError:
            continue
        if getattr(ind, f"{slot}_form") == "cumulative" and cell.form != "cumulative":
            continue  # a value the importer placed by its column, left as it is
        for attr in ("qualifier", "form"):
            if getattr(ind, f"{slot}_{attr}") != getattr(cell, attr):
                setattr(ind, f"{slot}_{attr}", getattr(cell, attr))
                changed = True
    return changed


def _cell(ind, slot):
    from types import SimpleNamespace
    form = getattr(ind, f"{slot}_form")
    if not form:
        return None
    return SimpleNamespace(form=form, number=getattr(ind, f"{slot}_number"), printed=getattr(ind, f"{slot}_printed"))


def _set_by_a_user(history):
    """Whether a user (not the importer) changed the direction: a history row with a user whose
    direction differs from the row before it."""
    before = None
    for record in history:
        if before is not None and record.history_user_id and record.direction != before:
            return True
        before = record.direction
    return False


def forwards(apps, schema_editor):
    from indicators.importer import direction_of
    from indicators.parsing import growth_is_end_level, parse_value

    Indicator = apps.get_model("indicators", "Indicator")
    History = apps.get_model("indicators", "HistoricalIndicator")
    PendingWork = apps.get_model("projects", "PendingWork")
    token, now = uuid.uuid4().hex, timezone.now()
    for ind in Indicator.objects.select_related("table").iterator():
        changed = _reread(ind, parse_value)
        if ind.table.kind == "targets" and growth_is_end_level(
                ind.unit, _cell(ind, "baseline"), _cell(ind, "target"), _cell(ind, "growth")):
            ind.growth_form, changed = "level", True
        if ind.table.kind != "history":
            history = History.objects.filter(id=ind.pk).order_by("history_date", "history_id")
            if _set_by_a_user(history):
                ind.direction_fixed, changed = True, True
            elif ind.direction != direction_of(ind.name):
                ind.direction, changed = direction_of(ind.name), True
        if ind.table.kind == "targets":
            PendingWork.objects.update_or_create(kind="indicator", object_id=ind.pk,
                                                 defaults={"token": token, "marked_at": now})
        if changed:
            ind.save()


class Migration(migrations.Migration):

    dependencies = [
        ("indicators", "0002_direction_override_strict_qualifiers_completion_cells"),
        ("projects", "0009_outbox_and_updated_at"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
