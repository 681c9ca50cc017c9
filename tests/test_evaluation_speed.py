"""Issue 21's speed targets, as properties that do not depend on the machine: a full evaluation's
statements do not grow with the number of entries, PostgreSQL does not JIT-compile them, and
`--no-notify` declines the alerts in the statements that write the flags (docs/architecture.md,
"Speed")."""
import datetime
import io
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from portfolio.models import Flag
from portfolio.synthetic import generate
from projects.models import Item

pytestmark = pytest.mark.django_db

AS_OF = datetime.date(2026, 11, 23)


def evaluate_flags(as_of, *args):
    with CaptureQueriesContext(connection) as ctx:
        call_command("evaluate_flags", f"--as-of={as_of.isoformat()}", *args, stdout=io.StringIO())
    return ctx.captured_queries


def placeholders(sql):
    """Values written into a statement one by one (outside quoted literals, which hold the arrays
    and JSON passed as one parameter)."""
    unquoted = re.sub(r"'(?:[^']|'')*'", "''", sql)
    return len(re.findall(r"%s|(?<![\w.])\d+(?=\s*[,)])", unquoted))


def test_a_full_evaluation_sends_no_statement_that_grows_with_the_entries(real_plan):
    generate(plans=3, seed=21, units=30)
    entries = Item.objects.count()
    assert entries > 800
    for night in (AS_OF, datetime.date(2026, 12, 1), datetime.date(2026, 12, 6), datetime.date(2027, 1, 1)):
        statements = evaluate_flags(night, "--no-notify")
        # ids travel as one parameter, rows as one JSON parameter per 20,000: a statement with a
        # placeholder (or a literal) per entry or per flag took longer to compile than to run
        worst = max(statements, key=lambda q: placeholders(q["sql"]))
        assert placeholders(worst["sql"]) < 100, worst["sql"][:300]
        # and their number does not grow with the entries or the flags either
        assert len(statements) < 60


def test_postgresql_does_not_jit_compile_the_grouped_queries(db):
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def test_no_notify_declines_the_alerts_of_the_flags_it_opens(real_plan):
    Flag.objects.all().delete()  # a first evaluation: every finding opens a flag
    evaluate_flags(AS_OF, "--no-notify")
    opened = Flag.objects.filter(resolved_on__isnull=True, opened_on=AS_OF)
    assert opened.count() > 50
    assert not opened.exclude(notified_severity=F("severity")).exists()
