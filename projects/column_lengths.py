"""Column lengths held on SQLite as on PostgreSQL (issue 22, item 7).

PostgreSQL refuses a value longer than its varchar column; SQLite stores it whole, so a
500-character plan title went into a 200-character column on the embedded default and would fail
later, on the move to PostgreSQL or a restore into it. Forms and the importers check lengths with
Chinese messages (`validation.check_length`); this is the net under every other save (shell,
scripts, code not yet written): on SQLite a save of a text longer than its field's max_length raises
the `DataError` PostgreSQL would raise.
"""
from django.db import DataError, connections, models
from django.db.models.signals import pre_save


def refuse_overlong_text(sender, instance, raw=False, using=None, **kwargs):
    if connections[using or "default"].vendor != "sqlite":
        return
    for field in sender._meta.concrete_fields:
        if isinstance(field, models.CharField) and field.max_length:
            value = getattr(instance, field.attname)
            if isinstance(value, str) and len(value) > field.max_length:
                raise DataError(f"value too long for type character varying({field.max_length}): "
                                f"{sender._meta.label}.{field.name} has {len(value)} characters")


def connect():
    pre_save.connect(refuse_overlong_text, dispatch_uid="tracker-column-lengths")
