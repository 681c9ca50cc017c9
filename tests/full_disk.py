"""Run by tests/test_hardening.py with the embedded default's settings (SQLite, DEBUG off, as
scripts/run.sh sets them): the database file may not grow any more — SQLite's answer is the one a
full disk gives ("database or disk is full") — and a unit user saves a report. Prints one JSON line:
the status and whether the page is the Chinese 500 page or Django's technical page."""
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.backends.signals import connection_created  # noqa: E402
from django.test import Client  # noqa: E402

from projects.models import Item, Unit  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main():
    assert connection.vendor == "sqlite"
    null = open(os.devnull, "w")
    call_command("migrate", verbosity=0)
    call_command("load_unit_aliases", str(ROOT / "fixtures" / "unit_aliases.csv"), stdout=null)
    call_command("load_organisations", str(ROOT / "fixtures" / "organisations.csv"), stdout=null)  # as scripts/run.sh
    call_command("import_plan", str(ROOT / "fixtures" / "ojk_14th_plan.txt"), "--plan", "ojk-14", "--org", "ojk",
                 stdout=null)
    call_command("create_demo_users", "--demo", stdout=null)
    unit = Unit.objects.get(name="温州市瓯江口开发建设投资集团有限公司")
    item = Item.objects.filter(unit_links__unit=unit, list_kind="project").order_by("seq").first()
    from django.contrib.auth.models import User

    client = Client(raise_request_exception=False)
    client.force_login(User.objects.get(username="unit_dev"))

    def full(sender, connection, **kwargs):
        cursor = connection.cursor()
        pages = cursor.execute("PRAGMA page_count").fetchone()[0]
        cursor.execute(f"PRAGMA max_page_count = {pages}")

    connection.close()
    connection_created.connect(full)
    text = "很长的进展说明。" * 20000  # more than the file's free pages
    response = client.post(f"/items/{item.pk}/report/", {
        "month": "2026-10", "status": "in_progress", "progress_pct": "20", "month_investment": "",
        "cumulative_investment": "", "progress_text": text, "version": "0"})
    body = response.content.decode()
    print(json.dumps({"status": response.status_code, "chinese": "系统出错" in body,
                      "technical": "Traceback" in body or "OperationalError" in body or "disk is full" in body}))


if __name__ == "__main__":
    main()
