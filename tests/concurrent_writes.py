"""Concurrent writes against one database, as the run command's web, worker and beat processes
make them: report saves from several users at once, logins, and re-imports of the plan while
they happen. Run by tests/test_hardening.py in a subprocess (on a throwaway SQLite file or the
suite's PostgreSQL); prints a JSON summary of every response.

    python tests/concurrent_writes.py            # uses DATABASE_URL (migrated, plan imported here)
"""
import json
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from projects.management.commands.create_demo_users import ensure_role_groups  # noqa: E402
from projects.models import Item, ItemStatus, Role, Unit
from reporting.models import StatusReport

UNIT_A = "温州市瓯江口开发建设投资集团有限公司"
SEED = ROOT / "fixtures" / "ojk_14th_plan.txt"
WRITERS = 8


def main():
    call_command("migrate", verbosity=0)
    call_command("load_unit_aliases", str(ROOT / "fixtures" / "unit_aliases.csv"), stdout=open(os.devnull, "w"))
    call_command("import_plan", str(SEED), plan="ojk-14", stdout=open(os.devnull, "w"))
    groups = ensure_role_groups()
    users = []
    for n in range(WRITERS):
        user, _ = User.objects.get_or_create(username=f"writer{n}")
        user.set_password("pw-writer")
        user.save()
        user.groups.set([groups[Role.UNIT]])
        Unit.objects.get(name=UNIT_A).members.add(user)
        users.append(user)
    items = list(Item.objects.filter(unit_links__unit__name=UNIT_A, list_kind="project").order_by("seq")[:WRITERS])
    Item.objects.filter(pk__in=[i.pk for i in items]).update(status=ItemStatus.IN_PROGRESS)
    connection.close()

    results, errors = Counter(), []
    barrier = threading.Barrier(WRITERS * 2 + 1)

    def record(kind, response):
        body = response.content.decode(errors="replace") if not getattr(response, "streaming", False) else ""
        results[f"{kind} {response.status_code}"] += 1
        if response.status_code >= 500 or "database is locked" in body:
            errors.append(f"{kind} {response.status_code} {body[:300]}")

    def writer(n):
        try:
            client = Client()
            client.force_login(users[n])
            barrier.wait(timeout=60)
            for round_ in range(3):
                # Each writer its own entry, plus everyone on the same entry and month (conflicts allowed).
                for item, month in ((items[n], f"2026-0{round_ + 1}"), (items[0], "2026-06")):
                    response = client.post(f"/items/{item.pk}/report/", {
                        "month": month, "status": "in_progress", "progress_text": f"并发写入 {n}-{round_}",
                        "cumulative_investment": f"{round_ + 1}.0", "version": "0"})
                    record("report", response)
        except Exception as exc:  # noqa: BLE001 - reported in the summary
            errors.append(f"writer {n}: {exc!r}")
        finally:
            connection.close()

    def login(n):
        try:
            barrier.wait(timeout=60)
            for _ in range(3):
                client = Client()
                record("login", client.post("/accounts/login/", {"username": f"writer{n}", "password": "pw-writer"}))
                record("dashboard", client.get("/"))
        except Exception as exc:  # noqa: BLE001
            errors.append(f"login {n}: {exc!r}")
        finally:
            connection.close()

    def importer():
        try:
            barrier.wait(timeout=60)
            for _ in range(3):
                call_command("import_plan", str(SEED), plan="ojk-14", stdout=open(os.devnull, "w"))
                results["import ok"] += 1
        except Exception as exc:  # noqa: BLE001
            errors.append(f"import: {exc!r}")
        finally:
            connection.close()

    threads = ([threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
               + [threading.Thread(target=login, args=(n,)) for n in range(WRITERS)]
               + [threading.Thread(target=importer)])
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    reports = StatusReport.objects.count()
    duplicates = (StatusReport.objects.values("item", "month").order_by().annotate(n=django.db.models.Count("pk"))
                  .filter(n__gt=1).count())
    print(json.dumps({"vendor": connection.vendor, "results": dict(results), "errors": errors, "reports": reports,
                      "duplicates": duplicates, "seconds": round(time.monotonic() - started, 1),
                      "alive": sum(t.is_alive() for t in threads)}, ensure_ascii=False))


if __name__ == "__main__":
    main()
