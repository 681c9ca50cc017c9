"""A database made by the previous main migrates forward with every row kept (PostgreSQL)."""
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def empty_database(db):
    if connection.vendor != "postgresql":
        pytest.skip("the upgrade is checked on PostgreSQL")
    import psycopg2

    params = connection.get_connection_params()
    name = f"upgrade_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(**{**params, "dbname": "postgres"})
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    user = params.get("user", "")
    yield f"postgres://{user}@{params.get('host', '127.0.0.1')}:{params.get('port', 5432)}/{name}"
    admin.cursor().execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.close()


def test_a_database_of_the_previous_main_keeps_every_row_after_migrating(empty_database):
    env = {**os.environ, "DATABASE_URL": empty_database}
    done = subprocess.run([sys.executable, str(ROOT / "tests" / "upgrade_from_previous_main.py")], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    read = json.loads(done.stdout.strip().splitlines()[-1])
    assert read["report"] == ["3.1000", "按计划推进", "filer", 2]
    assert read["report_history"] == [["+", "按计划推进"]]
    assert read["milestone"] == [["开工", 2022]]
    assert read["target"] == ["5.0000"]
    assert read["table"] == ["主要指标"] and read["indicator"] == ["地区生产总值"]
    assert read["indicator_unit"] == ["老单位"]
    assert read["value"] == ["120.500000"]
    assert read["status"] == [2023]
    assert read["statuses_after_evaluation"] >= 1  # and the evaluation runs on the upgraded database
    assert read["state"] and read["state"][0] != 0  # the evaluation state moved (its version moves on)
    # a permission granted on the old app's model still grants it on the model's new home
    assert "reporting.change_statusreport" in read["group_perms"]
