"""Issue 22, item 4: backups that restore. `dbbackup --output-path FILE` and `dbrestore
--input-path FILE --noinput` on PostgreSQL and on the embedded SQLite, restored into a fresh
database: the dashboard's figures, the flags, the stored figures and the rollups are the same.
The nightly backup keeps the last TRACKER_BACKUP_KEEP archives."""
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import time
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection

from .conftest import ALIASES, PLAN_CODE, ROOT, SEED

FIGURES = ROOT / "tests" / "backup_figures.py"


def run(env, *args, timeout=600):
    result = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, (args, result.stdout[-2000:], result.stderr[-3000:])
    return result.stdout


def figures(env):
    data = json.loads(run(env, str(FIGURES)).strip().splitlines()[-1])
    assert data["flags"] and data["figures"] and data["rollups"]
    return data


def sqlite_env(tmp_path, name):
    folder = tmp_path / name
    folder.mkdir()
    return dict(os.environ, DATABASE_URL=f"sqlite:///{folder / 'tracker.sqlite3'}", TRACKER_VAR_DIR=str(folder),
                CACHE_URL="locmemcache://", CELERY_BROKER_URL="filesystem://", CELERY_TASK_ALWAYS_EAGER="1")


def test_sqlite_backup_restores_into_a_fresh_database(tmp_path):
    source = sqlite_env(tmp_path, "source")
    run(source, "manage.py", "migrate", "-v0")
    run(source, "manage.py", "load_unit_aliases", str(ALIASES))
    run(source, "manage.py", "import_plan", str(SEED), "--plan", PLAN_CODE)
    run(source, "manage.py", "evaluate_flags", "--as-of", "2026-11-23", "--no-notify")
    # A process of the running app commits 40 reports and keeps its connection open: they stay in
    # the write-ahead log (no checkpoint), where a copy of the database file misses them.
    database = urlsplit(source["DATABASE_URL"]).path
    holder = subprocess.Popen([sys.executable, "manage.py", "shell", "-c", (
        "import datetime, time\n"
        "from django.db import connection\n"
        "from projects.models import Item\nfrom reporting.models import StatusReport\n"
        "connection.cursor().execute('PRAGMA wal_autocheckpoint=0')\n"
        "for item in Item.objects.filter(list_kind='project').order_by('seq')[:40]:\n"
        "    StatusReport.objects.create(item=item, month=datetime.date(2026, 10, 1), status='in_progress',"
        " progress_text='推进中', cumulative_investment=1)\n"
        "print('ready', flush=True)\n"
        "time.sleep(600)\n")], cwd=ROOT, env=source, stdout=subprocess.PIPE, text=True)
    try:
        while (line := holder.stdout.readline()) and line.strip() != "ready":
            pass
        assert line.strip() == "ready"
        assert os.path.getsize(database + "-wal") > 0
        copied = tmp_path / "copied.sqlite3"
        copied.write_bytes(open(database, "rb").read())  # what a file copy would keep
        with sqlite3.connect(copied) as check:
            assert check.execute("SELECT count(*) FROM reporting_statusreport").fetchone()[0] < 40
        before = figures(source)
        assert before["reports"] == 40

        archive = tmp_path / "tracker-backup.sqlite3"
        run(source, "manage.py", "dbbackup", "--output-path", str(archive), "--noinput")
    finally:
        holder.kill()
        holder.wait(10)
    with sqlite3.connect(archive) as check:
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert check.execute("SELECT count(*) FROM reporting_statusreport").fetchone()[0] == 40

    fresh = sqlite_env(tmp_path, "fresh")  # an empty file: not even migrated
    run(fresh, "manage.py", "dbrestore", "--input-path", str(archive), "--noinput")
    assert figures(fresh) == before

    # Restoring over a live database with data of its own replaces it.
    run(fresh, "manage.py", "shell", "-c", "from reporting.models import StatusReport; StatusReport.objects.all().delete()")
    run(fresh, "manage.py", "dbrestore", "--input-path", str(archive), "--noinput")
    assert figures(fresh) == before


def test_sqlite_restore_refuses_a_damaged_archive(tmp_path):
    env = sqlite_env(tmp_path, "db")
    run(env, "manage.py", "migrate", "-v0")
    archive = tmp_path / "broken.sqlite3"
    archive.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    result = subprocess.run([sys.executable, "manage.py", "dbrestore", "--input-path", str(archive), "--noinput"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    run(env, "manage.py", "shell", "-c", "from projects.models import Plan; Plan.objects.count()")


@pytest.mark.django_db(transaction=True)
def test_postgresql_backup_restores_into_a_fresh_database(tmp_path, real_plan):
    parts = urlsplit(os.environ["DATABASE_URL"])
    source = dict(os.environ, DATABASE_URL=urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"])),
                  TRACKER_VAR_DIR=str(tmp_path))
    before = figures(source)
    archive = tmp_path / "tracker.dump"
    run(source, "manage.py", "dbbackup", "--output-path", str(archive), "--noinput")
    name = f"restore_{secrets.token_hex(4)}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")
    try:
        fresh = dict(source, DATABASE_URL=urlunsplit(parts._replace(path="/" + name)))
        run(fresh, "manage.py", "dbrestore", "--input-path", str(archive), "--noinput")
        assert figures(fresh) == before
        # Again over the restored data: --clean replaces it, nothing doubles.
        run(fresh, "manage.py", "dbrestore", "--input-path", str(archive), "--noinput")
        assert figures(fresh) == before
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_the_nightly_backup_is_scheduled_and_keeps_the_last_archives(tmp_path):
    from django.conf import settings

    schedule = settings.CELERY_BEAT_SCHEDULE["backup-nightly"]
    assert schedule["task"] == "config.backup.backup_task"
    env = dict(sqlite_env(tmp_path, "db"), TRACKER_BACKUP_KEEP="2", TRACKER_BACKUP_DIR=str(tmp_path / "backups"))
    run(env, "manage.py", "migrate", "-v0")
    for _ in range(3):
        run(env, "manage.py", "shell", "-c", "from config.backup import backup_task; print(backup_task.delay().get())")
        time.sleep(1.1)  # archive names carry the second
    names = sorted(p.name for p in (tmp_path / "backups").iterdir() if not p.name.endswith(".metadata"))
    assert len([n for n in names if n.endswith(".sqlite3")]) == 2, names
    assert len([n for n in names if ".tar" in n]) == 2, names
