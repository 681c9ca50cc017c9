"""The reporting calendar and who owes a month's report, each defined once
(reporting/calendar.py and reporting/owing.py; docs/architecture.md, "The reporting calendar and who owes")."""
import datetime
import io
import random

import pytest
from openpyxl import load_workbook

from projects.models import Item, ItemStatus, ListKind, PlanState
from reporting.report_workbook import INDEX
from reporting.calendar import late_month, month_asked, report_deadline
from reporting.owing import entries_due, owes_report_of

from .clock import freeze
from .conftest import UNIT_A
from .test_access_and_reports import body_of, body_of_bytes, item_a, login  # noqa: F401

D = datetime.date


@pytest.mark.parametrize("day, asked, late", [
    (D(2026, 12, 1), D(2026, 11, 1), D(2026, 10, 1)),
    (D(2026, 12, 5), D(2026, 11, 1), D(2026, 10, 1)),
    (D(2026, 12, 6), D(2026, 11, 1), D(2026, 11, 1)),
    (D(2026, 12, 31), D(2026, 11, 1), D(2026, 11, 1)),
    (D(2027, 1, 1), D(2026, 12, 1), D(2026, 11, 1)),
    (D(2027, 1, 6), D(2026, 12, 1), D(2026, 12, 1)),
])
def test_month_asked_is_last_month_from_the_first_and_late_after_its_deadline(day, asked, late):
    assert month_asked(day) == asked
    assert late_month(day) == late
    assert report_deadline(asked) == D(asked.year + (asked.month == 12), asked.month % 12 + 1, 5)


@pytest.fixture
def on_the_reporting_day(monkeypatch):
    return freeze(monkeypatch, D(2026, 12, 5))


def test_report_form_opens_on_the_month_asked_for_on_the_reporting_day(client, unit_a_user, item_a, on_the_reporting_day):
    html = body_of(login(client, unit_a_user).get(f"/items/{item_a.pk}/report/"))
    assert 'value="2026-11"' in html and 'value="2026-10"' not in html


def test_batch_page_template_and_my_items_ask_for_the_month_asked_for(client, unit_a_user, real_plan,
                                                                      on_the_reporting_day):
    client = login(client, unit_a_user)
    assert 'value="2026-11" selected' in body_of(client.get("/reports/batch/"))
    assert "本期应报月份：2026年11月" in body_of(client.get("/my/"))
    book = load_workbook(io.BytesIO(body_of_bytes(client.get("/reports/template/"))))
    assert "2026年11月" in book.active.title
    keys = [row[0].value for row in book.active.iter_rows(min_row=3)]
    assert keys and all(":2026-11:" in key for key in keys)


def test_status_page_defaults_to_the_month_asked_for(client, leader, real_plan, on_the_reporting_day):
    assert "填报情况：2026年11月" in body_of(login(client, leader).get("/reports/status/"))


def test_who_owes_sql_and_python_agree(real_plan):
    """owes_report (SQL) and owes_report_of (Python) over varied statuses, periods, plan states and
    carried entries, for months around a plan's start and the reporting start."""
    from .test_plan_lifecycle import fifteenth

    fifteenth(real_plan)
    rng = random.Random(21)
    items = list(Item.objects.select_related("plan"))
    for item in rng.sample(items, 60):
        item.status = rng.choice(ItemStatus.values)
        item.start_year = rng.choice([None, 2019, 2025, 2026, 2027])
        item.end_year = None if item.start_year is None else item.start_year + 3
        item.save()
    months = [D(2025, 12, 1), D(2026, 1, 1), D(2026, 11, 1), D(2027, 1, 1)]
    for state in (PlanState.ACTIVE, PlanState.CLOSED):
        real_plan.state, real_plan.closed_on = state, D(2025, 12, 31)
        real_plan.save()
        for month in months:
            sql = set(entries_due(Item.objects.all(), month).values_list("pk", flat=True))
            python = {i.pk for i in Item.objects.select_related("plan", "successor__plan") if owes_report_of(i, month)}
            assert sql == python, (state, month)
    assert sql  # the data exercises owing entries


def test_entries_carried_into_a_begun_plan_owe_there_only(real_plan, settings):
    settings.TRACKER_REPORTING_START = "2025-01"
    from .test_plan_lifecycle import fifteenth, project

    new = fifteenth(real_plan).plan
    old, successor = project(real_plan, 1), project(new, 1)
    Item.objects.filter(pk__in=[old.pk, successor.pk]).update(status=ItemStatus.IN_PROGRESS)
    due = set(entries_due(Item.objects.all(), D(2026, 11, 1)).values_list("pk", flat=True))
    assert successor.pk in due and old.pk not in due
    # before the new plan begins the old entry still owes (the new plan's entries do not yet)
    due = set(entries_due(Item.objects.all(), D(2025, 12, 1)).values_list("pk", flat=True))
    assert old.pk in due and successor.pk not in due


def test_a_unit_users_month_template_lists_plans_in_a_column_and_marks_what_is_owed(client, unit_a_user, real_plan,
                                                                                      on_the_reporting_day):
    from .test_plan_lifecycle import fifteenth

    new = fifteenth(real_plan).plan
    book = load_workbook(io.BytesIO(body_of_bytes(login(client, unit_a_user).get("/reports/template/"))))
    rows = list(book.active.iter_rows(min_row=3))
    plans = {row[INDEX["plan"]].value for row in rows}
    assert plans == {real_plan.name, new.name}
    names = [(row[INDEX["plan"]].value, row[INDEX["name"]].value) for row in rows]
    assert len(names) == len(set(names))  # a name on two plans is told apart by its plan
    owed = {int(row[0].value.split(":")[0]) for row in rows if row[INDEX["owes"]].value == "是"}
    mine = Item.objects.filter(unit_links__unit__name=UNIT_A)
    assert owed == set(entries_due(mine, D(2026, 11, 1)).values_list("pk", flat=True))


def test_filing_the_month_the_form_opens_on_lowers_the_badge_and_my_items(client, real_plan, on_the_reporting_day):
    """Issue 21: on 2026-12-05 filing raised the badge (the form filed 2026-10, the badge counted
    another month); now the form, the badge and 我的事项 all mean 2026-11."""
    import re

    from projects.models import Role

    from .conftest import make_user
    from .test_plan_lifecycle import fifteenth

    fifteenth(real_plan)
    user = make_user("unit_dev", Role.UNIT, [UNIT_A])
    client = login(client, user)

    def counts():
        html = body_of(client.get("/my/"))
        badge = re.search(r'id="nav-todo".*?<span class="badge[^"]*">(\d+)</span>', html, re.S)
        pending = re.search(r'data-figure="pending">(\d+)<', html)
        return int(badge.group(1)) if badge else 0, int(pending.group(1))

    before = counts()
    assert before[0] == before[1] > 0
    item = entries_due(Item.objects.editable_by(user), D(2026, 11, 1)).order_by("plan__start_year", "seq").first()
    form = body_of(client.get(f"/items/{item.pk}/report/"))
    month = re.search(r'name="month"[^>]*value="([0-9-]+)"', form) or re.search(r'value="([0-9-]+)"[^>]*name="month"', form)
    data = {"month": month.group(1), "status": "in_progress", "version": "0", "progress_text": "按计划推进"}
    if item.list_kind == ListKind.PROJECT:
        data["progress_pct"] = "10"
    assert client.post(f"/items/{item.pk}/report/", data).status_code == 302
    assert counts() == (before[0] - 1, before[1] - 1)


def test_dashboard_asks_for_todays_month_before_the_night_has_moved_the_figures(client, real_plan, monkeypatch):
    """The figures are of 2026-11-23 (conftest); on 2026-12-01, before the night's run, the reporting
    card already asks for 2026年11月, as the badge and 我的事项 do; an explicit ?as_of= keeps its own."""
    import re

    from projects.models import Role

    from .conftest import make_user

    freeze(monkeypatch, D(2026, 12, 1))
    user = make_user("unit_dev", Role.UNIT, [UNIT_A])
    client = login(client, user)
    html = body_of(client.get("/"))
    assert "2026年11月 进度填报" in html
    owing = int(re.search(r'data-figure="owing"[^>]*>\s*([0-9]+)', html).group(1))
    badge = re.search(r'id="nav-todo".*?<span class="badge[^"]*">(\d+)</span>', html, re.S)
    assert owing == int(badge.group(1)) > 0
    assert "2026年10月 进度填报" in body_of(client.get("/", {"as_of": "2026-11-23"}))
