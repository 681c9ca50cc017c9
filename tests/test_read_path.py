"""One read path: every figure comes from ItemFigures, kept fresh after every committed change on
every path (admin, forms, uploads, import, shell), dashboards cached by data version, GETs that
write nothing, a ranking sorted and scoped, and no HTML built in Python strings."""
import ast
import datetime
import io
import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import Workbook

from portfolio.evaluation import data_version, figures_date
from portfolio.models import Flag, ItemFigures
from portfolio.summary import compute_dashboard, compute_ranking, unit_ranking
from projects.models import Item, ItemStatus, ItemUnit, ListKind, Plan, Role, Unit
from reporting.models import Milestone, StatusReport

from .conftest import REAL_AS_OF, ROOT, SEED, UNIT_A, UNIT_B, make_user

pytestmark = pytest.mark.django_db
D = Decimal


class FormFields(HTMLParser):
    """The fields of the page's form as a browser would post them (admin change forms)."""

    def __init__(self, form_id):
        super().__init__()
        self.form_id, self.inside, self.data, self.select, self.textarea = form_id, False, {}, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("id") == self.form_id:
            self.inside = True
        if not self.inside:
            return
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "button", "file"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self.data[a["name"]] = a.get("value", "on")
            else:
                self.data[a["name"]] = a.get("value", "")
        elif tag == "select" and a.get("name"):
            self.select = a["name"]
            self.data.setdefault(self.select, "")
        elif tag == "option" and self.select and "selected" in a:
            self.data[self.select] = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self.textarea = a["name"]
            self.data[self.textarea] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data):
        if self.textarea:
            self.data[self.textarea] += data


def admin_form(client, url):
    parser = FormFields("item_form")
    parser.feed(client.get(url).content.decode())
    return parser.data


def project(plan, seq):
    return Item.objects.get(plan=plan, list_kind=ListKind.PROJECT, seq=seq)


def figures(item):
    return ItemFigures.objects.get(item=item)


def open_kinds(item):
    return set(Flag.objects.filter(item=item, resolved_on__isnull=True).values_list("kind", flat=True))


def dashboard_totals(user, plan=None):
    return compute_dashboard(user, REAL_AS_OF, plan, figures_date())


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run the on-commit work of what happens inside, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


# ---------------------------------------------------------------- every change path refreshes its entry

def test_admin_edit_of_total_investment_refreshes_the_expected_amount_and_the_dashboard(
        client, planner, real_plan, commit):
    item = project(real_plan, 12)
    before = figures(item)
    totals_before = dashboard_totals(planner)["totals"]
    assert before.expected_pct > 0
    client.force_login(planner)
    url = f"/admin/projects/item/{item.pk}/change/"
    data = admin_form(client, url)
    data["total_investment"] = str(item.total_investment + 100)
    with commit():
        response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    after = figures(item)
    assert after.expected_amount == pytest.approx(after.expected_pct * (item.total_investment + 100) / 100, abs=D("0.0001"))
    assert after.expected_amount > before.expected_amount
    totals = dashboard_totals(planner)["totals"]
    assert totals["total"] == totals_before["total"] + 100
    assert totals["expected"] == pytest.approx(totals_before["expected"] + after.expected_amount - before.expected_amount,
                                               abs=D("0.0001"))


def test_admin_edit_of_the_period_opens_overdue_at_once(client, planner, real_plan, commit):
    item = project(real_plan, 51)
    assert item.end_year >= 2026 and "overdue" not in open_kinds(item)
    client.force_login(planner)
    url = f"/admin/projects/item/{item.pk}/change/"
    data = admin_form(client, url)
    data["start_year"], data["end_year"] = "2021", "2024"
    with commit():
        assert client.post(url, data).status_code == 302
    assert "overdue" in open_kinds(item)
    assert figures(item).light == "red"


def test_admin_inline_unit_resolves_unassigned_and_enters_the_ranking(client, planner, real_plan, commit):
    item = project(real_plan, 41)
    assert not item.unit_links.exists() and "unassigned" in open_kinds(item)
    unit = Unit.objects.get(name=UNIT_B)
    client.force_login(planner)
    url = f"/admin/projects/item/{item.pk}/change/"
    data = admin_form(client, url)
    prefix = next(k[:-len("-TOTAL_FORMS")] for k in data if k.endswith("-TOTAL_FORMS") and "unit" in k.lower())
    n = int(data[f"{prefix}-TOTAL_FORMS"])
    data.update({f"{prefix}-TOTAL_FORMS": str(n + 1), f"{prefix}-{n}-unit": str(unit.pk),
                 f"{prefix}-{n}-role": "lead", f"{prefix}-{n}-item": str(item.pk)})
    ranking_before = {r["unit"]["pk"]: r for r in compute_ranking(REAL_AS_OF, None, figures_date())}
    with commit():
        response = client.post(url, data)
    assert response.status_code == 302, re.findall(r'class="errorlist[^"]*">(.*?)</ul>', response.content.decode())
    assert "unassigned" not in open_kinds(item)
    ranking = {r["unit"]["pk"]: r for r in compute_ranking(REAL_AS_OF, None, figures_date())}
    assert ranking[unit.pk]["projects"] == ranking_before.get(unit.pk, {"projects": 0})["projects"] + 1


def test_admin_delete_of_an_entry_leaves_no_figure_behind(client, planner, real_plan, commit):
    item = project(real_plan, 12)
    count = dashboard_totals(planner)["totals"]["count"]
    client.force_login(planner)
    with commit():
        response = client.post(f"/admin/projects/item/{item.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not ItemFigures.objects.filter(item_id=item.pk).exists()
    assert dashboard_totals(planner)["totals"]["count"] == count - 1


def test_admin_delete_of_a_report_restores_the_previous_cumulative(client, planner, real_plan, commit):
    item = project(real_plan, 13)
    with commit():
        for m, amount in ((9, "2"), (10, "5")):
            StatusReport.objects.create(item=item, month=datetime.date(2026, m, 1), status="in_progress",
                                        cumulative_investment=D(amount))
    assert figures(item).cumulative == D("5")
    client.force_login(planner)
    latest = StatusReport.objects.get(item=item, month=datetime.date(2026, 10, 1))
    with commit():
        assert client.post(f"/admin/reporting/statusreport/{latest.pk}/delete/", {"post": "yes"}).status_code == 302
    assert (figures(item).cumulative, figures(item).last_month) == (D("2"), datetime.date(2026, 9, 1))


def test_moving_an_entry_to_another_plan_moves_its_figures_between_dashboards(planner, real_plan, commit):
    other = Plan.objects.create(code="t-15", name="测试十五五规划", start_year=2026, end_year=2030)
    item = project(real_plan, 12)
    old = dashboard_totals(planner, real_plan)["totals"]
    with commit():
        item.plan = other
        item.seq = 1
        item.save()
    assert dashboard_totals(planner, real_plan)["totals"]["count"] == old["count"] - 1
    assert dashboard_totals(planner, real_plan)["totals"]["total"] == old["total"] - item.total_investment
    moved = dashboard_totals(planner, other)
    assert moved["totals"]["count"] == 1 and moved["totals"]["total"] == item.total_investment
    assert Plan.objects.get(pk=other.pk).period_name == "十五五"


def test_unit_merge_in_the_admin_moves_the_figures_to_the_kept_unit(client, planner, real_plan, commit):
    kept = Unit.objects.get(name="灵昆街道")
    duplicate = Unit.objects.create(name="灵昆街道办事处（重复）")
    with commit():
        ItemUnit.objects.create(item=project(real_plan, 171), unit=duplicate, role="support")
    before = {r["unit"]["pk"]: r for r in compute_ranking(REAL_AS_OF, None, figures_date())}
    assert before[duplicate.pk]["projects"] == 1
    client.force_login(planner)
    with commit():
        client.post("/admin/projects/unit/", {"action": "merge_selected_units", ACTION_CHECKBOX_NAME: [kept.pk, duplicate.pk],
                                              "confirm": "1", "target": kept.pk})
    after = {r["unit"]["pk"]: r for r in compute_ranking(REAL_AS_OF, None, figures_date())}
    assert duplicate.pk not in after
    assert project(real_plan, 171).unit_links.filter(unit=kept).exists()
    assert after[kept.pk]["projects"] == before[kept.pk]["projects"] + 1


def test_report_form_milestone_and_targets_upload_refresh_their_entry(client, planner, real_plan, commit):
    item = project(real_plan, 12)
    Item.objects.filter(pk=item.pk).update(status=ItemStatus.IN_PROGRESS)
    client.force_login(planner)
    with commit():
        response = client.post(f"/items/{item.pk}/report/", {
            "month": "2026-10", "status": "in_progress", "cumulative_investment": "7.5", "version": "0",
            "progress_text": "推进中"})
    assert response.status_code == 302
    assert (figures(item).cumulative, figures(item).last_month) == (D("7.5"), datetime.date(2026, 10, 1))

    with commit():
        milestone = Milestone.objects.create(item=item, name="开工", due_date=datetime.date(2026, 3, 1))
    assert "milestone_overdue" in open_kinds(item)
    with commit():
        client.post(f"/milestones/{milestone.pk}/met/", {"met_on": "2026-03-02"})
    assert "milestone_overdue" not in open_kinds(item)

    before = figures(item).year_expected_pct
    book = Workbook()
    sheet = book.active
    sheet.append(["规划代码", "清单", "序号", "年度", "计划投资（亿元）", "年度目标"])
    sheet.append([real_plan.code, "重大项目", 12, 2026, float(item.total_investment), "全年"])
    upload = io.BytesIO()
    book.save(upload)
    upload.seek(0)
    upload.name = "targets.xlsx"
    with commit():
        assert client.post("/targets/upload/", {"file": upload}).status_code == 302
    # With a 2026 target, the year's 序时进度: 10 of its 12 months by 23 November, 83.3 %.
    assert before is None
    assert figures(item).year_expected_pct == pytest.approx(D(10) * 100 / 12, abs=D("0.01"))


def test_reimport_with_a_changed_total_refreshes_the_entry(tmp_path, real_plan, commit):
    item = project(real_plan, 12)
    text = SEED.read_text(encoding="utf-8")
    line = next(l for l in text.splitlines() if l.startswith("12\t"))
    cells = line.split("\t")
    cells[5] = str(D(cells[5]) + 10)
    changed = tmp_path / "plan.txt"
    changed.write_text(text.replace(line, "\t".join(cells)), encoding="utf-8")
    before = figures(item).expected_amount
    with commit():
        call_command("import_plan", str(changed), plan=real_plan.code, stdout=io.StringIO())
    assert figures(item).expected_amount == pytest.approx(before + figures(item).expected_pct * 10 / 100, abs=D("0.0001"))


def test_a_save_from_the_shell_refreshes_the_entry(real_plan, commit):
    item = project(real_plan, 1)
    with commit():
        item.status = ItemStatus.COMPLETED
        item.save()
    assert figures(item).light == "done" and open_kinds(item) == set()


# ---------------------------------------------------------------- cached figures, and GETs that write nothing

READ_PAGES = ["/", "/?as_of=2026-06-30", "/ranking/", "/ranking/?as_of=2025-12-31", "/flags/", "/my/",
              "/lists/project/", "/lists/policy/?light=red", "/rollup/?format=xlsx&as_of=2026-03-31",
              "/lists/project/?_export=csv", "/lists/project/?_export=xlsx", "/ranking/?_export=csv"]


@pytest.mark.parametrize("role", [Role.LEADER, Role.UNIT])
def test_no_get_writes_to_the_database(client, real_plan, role):
    user = make_user(f"reader_{role}", role, [UNIT_A] if role == Role.UNIT else [])
    client.force_login(user)
    for url in READ_PAGES:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
            if hasattr(response, "streaming_content"):
                b"".join(response.streaming_content)
        assert response.status_code == 200, url
        writes = [q["sql"] for q in ctx.captured_queries
                  if re.match(r"\s*(INSERT|UPDATE|DELETE|CREATE|DROP|ALTER)", q["sql"], re.I)]
        assert writes == [], (url, writes)


@pytest.mark.django_db(transaction=True)
def test_dashboard_is_served_from_the_cache_until_a_change_commits(client, real_plan):
    leader = make_user("cache_leader", Role.LEADER)
    client.force_login(leader)
    first = client.get("/")
    with CaptureQueriesContext(connection) as warm:
        second = client.get("/")
    assert second.context["s"] == first.context["s"]
    # session, user, version, and the user's organisation with its subtree (the scope, read once)
    assert len(warm.captured_queries) <= 8, [q["sql"] for q in warm.captured_queries]
    version = data_version()

    item = project(real_plan, 12)
    item.total_investment += 50
    item.save()  # autocommit: re-evaluated and the version moves at once
    assert data_version() != version
    third = client.get("/")
    assert third.context["s"]["totals"]["total"] == first.context["s"]["totals"]["total"] + 50
    # the reporting card asks for today's month (reporting.calendar.month_asked)
    assert third.context["s"] == compute_dashboard(leader, figures_date(), asked_on=timezone.localdate())


# ---------------------------------------------------------------- the ranking

def test_ranking_is_sorted_by_score_then_name_and_equal_scores_share_a_rank(real_plan, leader):
    rows = unit_ranking(leader, REAL_AS_OF)
    assert len(rows) > 20
    key = [(r["filed_nothing"], -r["score"], r["unit"]["name"]) for r in rows]
    assert key == sorted(key)
    for position, r in enumerate(rows, start=1):  # 1, 2, 2, 4: the place of the first with that score
        first = next(i for i, o in enumerate(rows, start=1)
                     if (o["filed_nothing"], o["score"]) == (r["filed_nothing"], r["score"]))
        assert r["rank"] == first and r["of"] == len(rows)


def test_a_unit_user_sees_only_its_own_units_with_their_places_among_all(client, real_plan, leader, unit_a_user):
    everyone = {r["unit"]["pk"]: r for r in unit_ranking(leader, REAL_AS_OF)}
    mine = unit_ranking(unit_a_user, REAL_AS_OF)
    own = Unit.objects.get(name=UNIT_A)
    assert [r["unit"]["pk"] for r in mine] == [own.pk]
    assert mine[0] == everyone[own.pk]  # the same place and figures, over all of the unit's entries
    client.force_login(unit_a_user)
    text = client.get("/ranking/").content.decode()
    sharing = set(ItemUnit.objects.filter(item__unit_links__unit=own).exclude(unit=own)
                  .values_list("unit__name", flat=True))
    assert sharing, "units sharing an entry with unit A exist"
    assert not [name for name in sharing if name in text]


# ---------------------------------------------------------------- HTML only from templates and format_html

HTML_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?>")
ALLOWED_CALLS = {"format_html", "format_html_join"}


def test_no_html_is_built_in_python_strings():
    offenders = []
    for path in sorted(ROOT.glob("*/**/*.py")):
        if path.parts[len(ROOT.parts)] in (".venv", "tests", "node_modules") or "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        allowed = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) in ALLOWED_CALLS:
                allowed.update(id(n) for n in ast.walk(node.args[0]) if node.args)
            if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Module)) and ast.get_docstring(node):
                allowed.add(id(node.body[0].value))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and HTML_TAG.search(node.value) \
                    and id(node) not in allowed:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:60]!r}")
    assert offenders == []
    apps = ("projects", "reporting", "indicators", "supervision", "portfolio", "config")
    assert not [p for app in apps for p in ROOT.glob(f"{app}/**/*.py") if "mark_safe" in p.read_text(encoding="utf-8")]


def test_the_period_comes_from_the_plan(real_plan):
    assert real_plan.period_name == "十四五"
    assert Plan(start_year=2026, end_year=2030).period_name == "十五五"
    assert Plan(start_year=2022, end_year=2026).period_name == "2022–2026"
    for path in list(ROOT.glob("portfolio/*.py")) + list(ROOT.glob("templates/**/*.html")) + [ROOT / "static/js/dashboard.js"]:
        text = path.read_text(encoding="utf-8")
        assert "十四五" not in text and "2021, 2026" not in text, path


@pytest.mark.django_db(transaction=True)
def test_cached_unit_options_follow_committed_changes_and_scope(client, real_plan):
    leader = make_user("options_leader", Role.LEADER)
    unit_user = make_user("options_unit", Role.UNIT, [UNIT_A])

    def unit_options(user):
        client.force_login(user)
        text = client.get("/lists/project/").content.decode()
        select = re.search(r'<select name="unit".*?</select>', text, re.S).group(0)
        return re.findall(r'<option value="\d+"[^>]*>([^<]*)</option>', select)

    assert UNIT_B in unit_options(leader)
    assert unit_options(unit_user) == [UNIT_A]  # a unit user's own units, never the leader's cached list
    assert UNIT_B in unit_options(leader)
    newcomer = Unit.objects.create(name="新成立的责任单位")
    ItemUnit.objects.create(item=project(real_plan, 12), unit=newcomer, role="support")  # commits at once
    assert "新成立的责任单位" in unit_options(leader)
    assert unit_options(unit_user) == [UNIT_A]
