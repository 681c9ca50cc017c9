"""One truth for who owes the month's report: after every kind of change, for every unit user and
the leader, the navigation badge, the dashboard, 我的事项, 填报情况 and the month template agree.

The zone of issue 21: the real 十四五 plan (conftest), a 十五五 list imported with --predecessor,
today 2026-12-05 (units are asked for 2026年11月), then each step of `STEPS` in turn; the test
of step k runs steps 1..k and compares every screen through the Django test client."""
import datetime
import io
import re

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from portfolio.evaluation import evaluate
from portfolio.lifecycle import close_plan
from projects.models import Item, ItemStatus, ItemUnit, ListKind, Role, Unit
from reporting.models import StatusReport
from reporting.report_workbook import INDEX
from reporting.calendar import month_asked

from .clock import freeze
from .conftest import make_user
from .test_access_and_reports import body_of, body_of_bytes
from .test_plan_lifecycle import FULL
from .test_reports_batch import as_upload

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 12, 5)
NEW_MONTH = datetime.date(2027, 1, 1)


def unit_user(username, unit):
    """A unit's user without a password (logged in with force_login): hashing one for each of
    the zone's 85 units would cost most of the test's time."""
    from django.contrib.auth.models import User

    from projects.management.commands.create_demo_users import ensure_role_groups

    user = User.objects.create(username=username)
    user.groups.set([ensure_role_groups()[Role.UNIT]])
    unit.members.add(user)
    return user


class Zone:
    def __init__(self, real_plan, set_day, client, commit):
        self.old, self.set_day, self.client, self.commit = real_plan, set_day, client, commit
        self.today = TODAY
        self.new = None
        self.leader = make_user("leader_c", Role.LEADER)
        self.planner = make_user("planner_c", Role.PLANNER)
        self.units = {}

    def add_unit_users(self):
        """One user per unit responsible for an entry of a plan in force."""
        for unit in Unit.objects.filter(item_links__item__plan__state="active").distinct().order_by("pk"):
            if unit.pk not in self.units:
                self.units[unit.pk] = unit_user(f"unit_c{unit.pk}", unit)

    def move_to(self, day):
        self.today = day
        self.set_day(day)
        with self.commit(execute=True):
            evaluate(day)  # the night's run

    def unit_user(self):
        """The user of the unit with the most entries owing in the new plan."""
        links = (ItemUnit.objects.filter(item__plan=self.new, item__status=ItemStatus.IN_PROGRESS)
                 .values_list("unit_id", flat=True))
        counts = {}
        for unit_id in links:
            counts[unit_id] = counts.get(unit_id, 0) + 1
        return self.units[max(counts, key=lambda u: (counts[u], -u))]

    def owing_of(self, user):
        from reporting.owing import owing

        return list(owing(Item.objects.editable_by(user), month_asked(self.today)).order_by("list_kind", "seq"))


# ---------------------------------------------------------------- the steps

def import_fifteenth(zone):
    with zone.commit(execute=True):
        call_command("import_plan", str(FULL), plan="ojk-15", predecessor=zone.old.code, stdout=io.StringIO())
    from projects.models import Plan

    zone.new = Plan.objects.get(code="ojk-15")
    zone.add_unit_users()


def form_save(zone):
    user = zone.unit_user()
    item = zone.owing_of(user)[0]
    zone.client.force_login(user)
    with zone.commit(execute=True):
        response = zone.client.post(f"/items/{item.pk}/report/", report_post(item, month_asked(zone.today)))
    assert response.status_code == 302, body_of(response)


def report_post(item, month, version=0, text="按计划推进"):
    data = {"month": f"{month:%Y-%m}", "status": "in_progress", "version": str(version), "progress_text": text}
    if item.list_kind == ListKind.PROJECT:
        data.update(progress_pct="20")
    return data


def correction(zone):
    user = zone.unit_user()
    report = StatusReport.objects.filter(filed_by=user).order_by("-pk").first()
    zone.client.force_login(user)
    with zone.commit(execute=True):
        response = zone.client.post(f"/items/{report.item_id}/report/",
                                    report_post(report.item, report.month, report.version, "更正"))
    assert response.status_code == 302, body_of(response)


def batch_upload(zone):
    user = zone.unit_user()
    zone.client.force_login(user)
    book = load_workbook(io.BytesIO(body_of_bytes(zone.client.get("/reports/template/"))))
    filled = 0
    for row in book.active.iter_rows(min_row=3):
        if row[INDEX["owes"]].value == "是" and row[0].value.endswith(":0") and filled < 3:
            row[INDEX["status"]].value = "推进中"
            row[INDEX["progress_text"]].value = "模板填报"
            filled += 1
    assert filled
    with zone.commit(execute=True):
        response = zone.client.post("/reports/batch/", {"file": as_upload(book)}, follow=True)
    assert "已保存" in body_of(response), body_of(response)


def bulk_status(zone):
    entries = list(Item.objects.filter(plan=zone.new, list_kind=ListKind.PROJECT).order_by("seq")[:4])
    zone.client.force_login(zone.planner)
    for status, chosen in ((ItemStatus.COMPLETED, entries[:2]), (ItemStatus.IN_PROGRESS, entries[2:])):
        with zone.commit(execute=True):
            response = zone.client.post("/lists/project/status/", {"status": status, "select": [e.pk for e in chosen]},
                                        follow=True)
        assert "已将" in body_of(response), body_of(response)


def close_old_plan(zone):
    with zone.commit(execute=True):
        close_plan(zone.old, datetime.date(2025, 12, 31))


def first_day_of_a_new_month(zone):
    zone.move_to(NEW_MONTH)


def withdraw_an_owing_entry(zone):
    """动态调整: the 十五五 lists re-imported without an entry the unit user owes, taken out (调出)
    today; every screen stops counting it at once."""
    import tempfile
    from pathlib import Path

    from projects.importer import import_plan

    user = zone.unit_user()
    item = zone.owing_of(user)[0]
    lines = FULL.read_text(encoding="utf-8").splitlines()
    del lines[item.source_line - 1]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / FULL.name
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        with zone.commit(execute=True):
            report = import_plan(path, zone.new.code, adjusted_on=zone.today,
                                 withdraw={(item.list_kind, item.seq): "合并"})
    assert [i.pk for i, _ in report.withdrawn] == [item.pk] and not report.changed
    assert item.pk not in {i.pk for i in zone.owing_of(user)}


STEPS = [import_fifteenth, form_save, correction, batch_upload, bulk_status, close_old_plan, first_day_of_a_new_month,
         withdraw_an_owing_entry]


# ---------------------------------------------------------------- what each screen says

def figure(html, name):
    match = re.search(rf'data-figure="{re.escape(name)}"[^>]*>\s*([0-9]+)', html)
    return int(match.group(1)) if match else None


def badge(html):
    match = re.search(r'id="nav-todo".*?<span class="badge[^"]*">(\d+)</span>', html, re.S)
    return int(match.group(1)) if match else 0


def table(html, table_id):
    match = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    return match.group(0) if match else ""


def my_items_owing(html):
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table(html, "my-items"), re.S)
    return {int(re.search(r'href="/items/(\d+)/"', row).group(1)) for row in rows if "待填报" in row}


def dashboard_owing(html):
    return {int(pk) for pk in re.findall(r'href="/items/(\d+)/"', table(html, "due-items"))}


def template_owing(client, month):
    response = client.get("/reports/template/", {"month": f"{month:%Y-%m}"})
    assert response.status_code == 200
    rows = load_workbook(io.BytesIO(body_of_bytes(response))).active.iter_rows(min_row=3)
    return {int(row[0].value.split(":")[0]) for row in rows
            if row[0].value and row[INDEX["owes"]].value == "是" and row[0].value.endswith(":0")}


def status_missing(html):
    """{unit name: 未报} of 填报情况's per-unit rows, and its per-entry 未报."""
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table(html, "status-table"), re.S):
        cells = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        if len(cells) > 4:
            rows[cells[0]] = int(cells[4])
    return rows, figure(html, "entries-missing")


def views_of(zone):
    """{person: {screen: set of entry ids or a count}}, every screen read through the client."""
    month = month_asked(zone.today)
    client = zone.client
    client.force_login(zone.leader)
    per_unit, entries_missing = status_missing(body_of(client.get("/reports/status/")))
    leader_dashboard = body_of(client.get("/"))
    client.force_login(zone.planner)
    seen = {"领导": {"仪表盘": figure(leader_dashboard, "owing") or 0, "填报情况": entries_missing,
                   "月度模板（规划人员）": len(template_owing(client, month))}}
    for unit_id, user in zone.units.items():
        unit = Unit.objects.get(pk=unit_id)
        client.force_login(user)
        dashboard = body_of(client.get("/"))
        my = body_of(client.get("/my/"))
        owing = {item.pk for item in zone.owing_of(user)}
        seen[unit.name] = {
            "导航待填报": badge(my), "仪表盘": dashboard_owing(dashboard), "仪表盘计数": figure(dashboard, "owing") or 0,
            "我的事项": my_items_owing(my), "我的事项计数": figure(my, "pending"),
            "填报情况": per_unit.get(unit.name, 0), "月度模板": template_owing(client, month),
            "_owing": owing,
        }
    return seen


def disagreements(seen):
    problems = []
    for person, screens in seen.items():
        owing = screens.pop("_owing", None)
        counts = {name: len(v) if isinstance(v, set) else v for name, v in screens.items()}
        (first, n), *others = counts.items()
        for name, m in others:
            if m != n:
                problems.append(f"{person}：{first} 为 {n}，{name} 为 {m}")
        sets = {name: v for name, v in screens.items() if isinstance(v, set)}
        if owing is not None:
            for name, ids in sets.items():
                if ids != owing:
                    problems.append(f"{person}：{name} 的事项 {sorted(ids)} 与应报未报 {sorted(owing)} 不同")
    return problems


@pytest.mark.parametrize("step", range(len(STEPS)), ids=[s.__name__ for s in STEPS])
def test_every_screen_agrees_on_who_owes_after_each_change(step, client, real_plan, monkeypatch,
                                                           django_capture_on_commit_callbacks):
    set_day = freeze(monkeypatch, TODAY)
    zone = Zone(real_plan, set_day, client, django_capture_on_commit_callbacks)
    zone.add_unit_users()
    zone.move_to(TODAY)
    for run in STEPS[:step + 1]:
        run(zone)
    seen = views_of(zone)
    assert len(seen) > 2
    problems = disagreements(seen)
    assert not problems, f"after {STEPS[step].__name__} on {zone.today}:\n" + "\n".join(problems)
