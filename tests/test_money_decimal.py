"""Money and rates stay Decimal through every figure (issue 21, "Money is cut to whole numbers").

The cases of the issue, as of 2026-12-05 (11 months of 2026 done), measured since issue 23 against
the year's target (年度序时进度 11/12 = 91.7%): a 2026 target of 20 on a 280 亿 project with 5 亿
reported this year is 25.0% done, 66.7 points behind; a target of 5 on 35.61 with 1.37 reported is
27.4% done, 64.3 points behind. The embedded default (SQLite) divided whole numbers as integers:
these tests run on PostgreSQL with the suite and again on SQLite through
`test_money_figures_on_the_embedded_sqlite_database`.
"""
import csv
import datetime
import io
import os
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pytest
from django.db import connection

from portfolio.evaluation import evaluate
from portfolio.facts import facts_for, with_facts
from portfolio.models import ItemFigures
from portfolio.rollup import build_rollup
from portfolio.summary import compute_ranking
from projects.models import Item, ItemUnit, ListKind
from projects.models import ItemStatus
from reporting.models import AnnualTarget, StatusReport

from .test_plan_lifecycle import fifteenth, project

AS_OF = datetime.date(2026, 12, 5)
# (十五五 序号, total investment, 2026 target, reported in 2026, year's 完成率 %, points behind)
CASES = [(9, D("280"), D("20"), D("5"), D("25.0"), D("66.7")),
         (24, D("35.61"), D("5"), D("1.37"), D("27.4"), D("64.3"))]
YEAR_PACE = D("91.7")  # 11 of 12 months


def pct(value):
    return D(value).quantize(D("0.1"))


def amount(value):
    return D(value).quantize(D("0.01"))


@pytest.fixture
def targets(real_plan):
    """The two projects of the issue in a 十五五 plan, evaluated as of 2026-12-05."""
    plan = fifteenth(real_plan).plan
    entries = []
    for seq, total, target, done, _, _ in CASES:
        entry = project(plan, seq)
        Item.objects.filter(pk=entry.pk).update(total_investment=total)
        AnnualTarget.objects.create(item=entry, year=2026, planned_investment=target)
        StatusReport.objects.create(item=entry, month=datetime.date(2026, 11, 1), status=ItemStatus.IN_PROGRESS,
                                    month_investment=done, cumulative_investment=done)
        entries.append(Item.objects.get(pk=entry.pk))
    evaluate(AS_OF)
    return plan, entries


def test_expected_share_keeps_its_fraction_in_sql_and_python(targets):
    _, entries = targets
    for entry, (_, _, _, _, share, behind) in zip(entries, CASES):
        stored = ItemFigures.objects.get(item=entry)
        live = with_facts(Item.objects.filter(pk=entry.pk), AS_OF).get()
        python = facts_for(entry, AS_OF)
        for form in (stored, live, python):
            assert (pct(form.year_expected_pct), pct(form.year_actual_pct), pct(form.points_behind)) == (
                YEAR_PACE, share, behind), form


def test_detail_page_shows_the_exact_expected_share(client, targets, planner):
    _, entries = targets
    client.force_login(planner)
    for entry, (_, _, _, _, share, _) in zip(entries, CASES):
        html = client.get(f"/items/{entry.pk}/").content.decode()
        assert f"年度序时进度 {YEAR_PACE}%，年度计划完成 {share}%" in html


def python_expected(items):
    return sum((facts_for(i, AS_OF).expected_amount for i in items), D(0))


def test_ranking_sums_the_exact_expected_amounts(client, targets, planner):
    plan, entries = targets
    unit = ItemUnit.objects.filter(item=entries[1]).order_by("pk").first().unit
    projects = Item.objects.filter(plan=plan, list_kind=ListKind.PROJECT, unit_links__unit=unit)
    row = next(r for r in compute_ranking(AS_OF, plan) if r["unit"]["pk"] == unit.pk)
    assert amount(row["expected"]) == amount(python_expected(projects))
    client.force_login(planner)
    text = b"".join(client.get(f"/ranking/?plan={plan.code}&as_of={AS_OF}&_export=csv").streaming_content)
    table = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    line = next(r for r in table if r[1] == unit.name)
    assert amount(D(line[3])) == amount(python_expected(projects))


def test_rollup_summary_sums_the_exact_expected_amounts(client, targets, planner):
    plan, entries = targets
    new = Item.objects.filter(plan=plan, list_kind=ListKind.PROJECT, project_type=entries[0].project_type)
    summary = next(rows for title, rows, _, _ in build_rollup(plan, planner, AS_OF) if title == "汇总")
    row = next(v for kind, v in summary if kind == "item" and v[0] == "按项目类型" and v[1] == "新建")
    assert amount(row[5]) == amount(python_expected(new))
    assert python_expected(new) > 0
    client.force_login(planner)
    book = openpyxl.load_workbook(io.BytesIO(b"".join(
        client.get(f"/rollup/?plan={plan.code}&as_of={AS_OF}").streaming_content)))
    cells = next(r for r in book["汇总"].iter_rows(values_only=True) if r[0] == "按项目类型" and r[1] == "新建")
    assert amount(D(str(cells[5]))) == amount(python_expected(new))


def test_money_figures_on_the_embedded_sqlite_database(tmp_path):
    """The same tests on SQLite (scripts/run.sh's database), in a process of their own."""
    if connection.vendor == "sqlite":
        pytest.skip("already on SQLite")
    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CACHE_URL")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'embedded.sqlite3'}", CACHE_URL="locmemcache://money",
               TRACKER_VAR_DIR=str(tmp_path))
    tests = [f"tests/test_money_decimal.py::{name}" for name in (
        "test_expected_share_keeps_its_fraction_in_sql_and_python", "test_detail_page_shows_the_exact_expected_share",
        "test_ranking_sums_the_exact_expected_amounts", "test_rollup_summary_sums_the_exact_expected_amounts")]
    tests.append("tests/test_rules_agree.py::test_fractional_targets_agree_in_sql_and_python")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests], cwd=root, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
