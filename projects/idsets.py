"""A set of ids as one SQL parameter, for `field__in=id_set(ids)` over many ids.

Django writes `pk__in=[...]` with one placeholder per id and prepares each value in Python: over
the 50,000 entries of a full evaluation that took longer than the query. Here the ids travel as
one array literal (PostgreSQL; a list parameter would be written ARRAY[1, 2, …], which PostgreSQL
parses element by element) or one JSON list (SQLite)."""
import json

from django.db import connection
from django.db.models.expressions import RawSQL


def id_set(ids):
    ids = [int(i) for i in ids]
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", ("{" + ",".join(map(str, ids)) + "}",))
    return RawSQL("SELECT value FROM json_each(%s)", (json.dumps(ids),))
