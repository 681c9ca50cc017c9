"""Plan lifecycle: a 十五五 list that continues the 十四五 one, closing a plan, its 后评估, and the
plans in force (issue "Plan lifecycle")."""
import csv
import datetime
import io
from decimal import Decimal as D
from pathlib import Path

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from portfolio.evaluation import evaluate
from portfolio.models import Flag, ItemFigures
from portfolio.rules import findings, findings_in_python
from projects.importer import ImportFailed, import_plan
from projects.models import Item, ItemStatus, ListKind, Plan, PlanState, Role, Unit
from reporting.models import StatusReport

from .conftest import UNIT_A, make_user

DATA = Path(__file__).resolve().parent / "data" / "fifteenth"
TEXT, FULL, CSV_FILE, XLSX_FILE, BAD = (DATA / n for n in (
    "ojk_15th_projects.txt", "ojk_15th_full.txt", "ojk_15th_projects.csv", "ojk_15th_projects.xlsx", "ojk_15th_bad.txt"))
# 十五五 序号 -> the 十四五 序号 it continues (tests/data/fifteenth/README.md)
CONTINUES = {1: 1, 2: 2, 3: 3, 4: 12, 5: 18, 6: 19, 12: 48, 13: 50, 14: 95, 21: 168, 22: 181, 23: 198}


def run(*args, **kwargs):
    out = io.StringIO()
    call_command(*args, stdout=out, **kwargs)
    return out.getvalue()


def fifteenth(real_plan, path=FULL, code="ojk-15"):
    return import_plan(path, code, predecessor=real_plan.code)


def project(plan, seq):
    return Item.objects.get(plan=plan, list_kind=ListKind.PROJECT, seq=seq)


# ---------------------------------------------------------------- import of any period

@pytest.mark.parametrize("path", [TEXT, CSV_FILE, XLSX_FILE], ids=["text", "csv", "xlsx"])
def test_fifteenth_list_imports_with_its_own_period_and_column(db, path):
    report = import_plan(path, "ojk-15")
    plan = report.plan
    assert (plan.start_year, plan.end_year, plan.period_name) == (2026, 2030, "十五五")
    assert plan.state == PlanState.ACTIVE
    items = Item.objects.filter(plan=plan)
    assert items.count() == 24 and set(items.values_list("list_kind", flat=True)) == {ListKind.PROJECT}
    assert sum(i.plan_investment or 0 for i in items) == D("399.7")
    assert sum(i.total_investment or 0 for i in items) == D("855.5")
    assert project(plan, 16).total_investment == D("30") and project(plan, 16).total_investment_approx
    assert project(plan, 10).plan_investment is None
    assert (project(plan, 20).start_year, project(plan, 20).end_year) == (2028, 2032)
    # printed 小计 reconciled against the rows exactly as for 十四五: the two wrong 总投资 figures
    assert [(where, label, D(printed), rows) for where, label, printed, rows in report.mismatches()] == [
        ("重大项目 二、产业发展项目 小计", "总投资", D("340.3"), D("304.3")),
        ("重大项目 合计", "总投资", D("891.5"), D("855.5")),
    ]
    lines = "\n".join(report.lines())
    assert "规划期：2026–2030（十五五）" in lines and "“十五五”投资 399.70 亿元" in lines
    assert "十四五" not in lines


def test_full_fifteenth_list_holds_all_six_lists(db):
    plan = import_plan(FULL, "ojk-15").plan
    counts = {k: Item.objects.filter(plan=plan, list_kind=k).count() for k in ListKind}
    assert counts == {ListKind.PROJECT: 24, ListKind.PLATFORM: 4, ListKind.INDUSTRY: 3, ListKind.REFORM: 3,
                      ListKind.POLICY: 3, ListKind.ELEMENT: 3}


def test_period_override_and_missing_period(db, tmp_path):
    plan = import_plan(TEXT, "draft", period=(2026, 2030)).plan
    assert (plan.start_year, plan.end_year) == (2026, 2030)
    # no period column and no period in the title: the importer asks for --period
    bare = tmp_path / "bare.txt"
    text = FULL.read_text(encoding="utf-8").replace("“十五五”规划", "规划")
    lines = [l for l in text.splitlines() if "投资" not in l or not l.startswith("序号")]
    start = lines.index(next(l for l in lines if l.startswith("二、重大平台清单")))
    bare.write_text("\n".join([l for l in lines[:start] if l.startswith("附件")] + lines[start:]), encoding="utf-8")
    with pytest.raises(ImportFailed) as failed:
        import_plan(bare, "bare")
    assert "请用 --period YYYY-YYYY 指定" in failed.value.errors[0]
    assert not Plan.objects.filter(code="bare").exists()
    out = run("import_plan", str(bare), plan="bare", period="2026-2030")
    assert "规划期：2026–2030（十五五）" in out


def test_bad_fifteenth_file_names_line_and_column_and_writes_nothing(db):
    with pytest.raises(CommandError):
        run("import_plan", str(BAD), plan="bad-15")
    with pytest.raises(ImportFailed) as failed:
        import_plan(BAD, "bad-15")
    assert failed.value.errors == [
        'ojk_15th_bad.txt 第 27 行 项目类型 "改建": 未知的项目类型（应为 新建、续建、前期、研究）',
        'ojk_15th_bad.txt 第 33 行 建设期限 "2031-2029": 结束年份早于开始年份',
        'ojk_15th_bad.txt 第 50 行 总投资 "-92.4": 金额不能为负数',
    ]
    assert not Plan.objects.filter(code="bad-15").exists()


# ---------------------------------------------------------------- continuation

def test_predecessor_links_continuing_entries_and_reports_the_rest(real_plan):
    out = run("import_plan", str(FULL), plan="ojk-15", predecessor=real_plan.code)
    plan = Plan.objects.get(code="ojk-15")
    assert plan.predecessor == real_plan
    links = {i.seq: i.predecessor.seq for i in Item.objects.filter(plan=plan, list_kind=ListKind.PROJECT,
                                                                   predecessor__isnull=False)}
    assert links == CONTINUES
    platforms = {i.seq: i.predecessor.seq for i in Item.objects.filter(plan=plan, list_kind=ListKind.PLATFORM,
                                                                       predecessor__isnull=False)}
    assert platforms == {1: 2, 2: 4, 3: 5}
    linked = Item.objects.filter(plan=plan, predecessor__isnull=False).count()
    assert f"共接续 {linked} 项（本次新接续 {linked} 项" in out
    # the near miss 二期 / 一期 stays unlinked, and every unlinked 续建 entry is named
    assert "未接续的续建项目 3 项：" in out
    for seq, name in ((7, "灵昆岛环岛南路提升改造工程"), (8, "温州市域铁路 S2 线二期工程瓯江口段"), (15, "瓯江口氢能装备产业园项目")):
        assert f"重大项目 序号 {seq}「{name}」" in out
    left = real_plan.items.filter(successor__isnull=True).count()
    assert f"上一期规划中没有接续事项的 {left} 项：" in out
    assert "重大项目 序号 4「温州市域铁路 S2 线一期工程瓯江口段」" in out
    # importing again keeps the links and says so
    again = run("import_plan", str(FULL), plan="ojk-15", predecessor=real_plan.code)
    assert f"共接续 {linked} 项（本次新接续 0 项，原已接续 {linked} 项）" in again


def test_predecessor_must_be_an_earlier_plan(real_plan):
    import_plan(TEXT, "ojk-15")
    with pytest.raises(ImportFailed) as failed:
        import_plan(Path(__file__).resolve().parent.parent / "fixtures" / "ojk_14th_plan.txt", "ojk-14",
                    predecessor="ojk-15")
    assert "须早于本规划" in failed.value.errors[0]


def test_planner_links_and_unlinks_by_hand_with_audit(client, real_plan, planner):
    plan = fifteenth(real_plan).plan
    near_miss = project(plan, 8)
    s2 = project(real_plan, 4)
    client.force_login(planner)
    page = client.get(f"/items/{near_miss.pk}/")
    assert 'id="link-form"' in page.content.decode()
    response = client.post(f"/items/{near_miss.pk}/predecessor/", {"predecessor": s2.pk}, follow=True)
    assert "已接续 十四五 序号 4" in response.content.decode()
    near_miss.refresh_from_db()
    assert near_miss.predecessor == s2
    record = near_miss.history.first()
    assert record.history_user == planner and record.history_change_reason == "手工接续"
    client.post(f"/items/{near_miss.pk}/predecessor/", {"predecessor": ""})
    near_miss.refresh_from_db()
    assert near_miss.predecessor is None and near_miss.history.first().history_change_reason == "手工取消接续"
    # an entry of the same plan is not offered and refused
    response = client.post(f"/items/{near_miss.pk}/predecessor/", {"predecessor": project(plan, 9).pk}, follow=True)
    assert "接续失败" in response.content.decode()


def test_only_planners_link(client, real_plan):
    plan = fifteenth(real_plan).plan
    entry = project(plan, 8)
    for role in (Role.LEADER, Role.UNIT):
        client.force_login(make_user(f"link_{role}", role, units=[UNIT_A] if role == Role.UNIT else []))
        assert client.post(f"/items/{entry.pk}/predecessor/", {"predecessor": project(real_plan, 4).pk}).status_code == 403
        assert 'id="link-form"' not in client.get(f"/items/{entry.pk}/").content.decode()
    entry.refresh_from_db()
    assert entry.predecessor is None


def test_chain_on_detail_page_and_cumulative_follows_the_project(client, real_plan, planner,
                                                              django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        plan = fifteenth(real_plan).plan
    old, new = project(real_plan, 12), project(plan, 4)
    with django_capture_on_commit_callbacks(execute=True):
        StatusReport.objects.create(item=old, month=datetime.date(2025, 12, 1), status=ItemStatus.IN_PROGRESS,
                                    month_investment=D("1.5"), cumulative_investment=D("42.5"),
                                    progress_text="十四五末")
    new.refresh_from_db()
    assert new.figures.cumulative == D("42.5")  # the project's cumulative, carried over on commit
    client.force_login(planner)
    html = client.get(f"/items/{new.pk}/").content.decode()
    assert 'id="chain-path"' in html and "十四五 #12" in html and "十五五 #4（本事项）" in html
    assert "十四五末" in html and "42.5" in html
    # a report on the new entry continues the same cumulative
    with django_capture_on_commit_callbacks(execute=True):
        StatusReport.objects.create(item=new, month=datetime.date(2026, 1, 1), status=ItemStatus.IN_PROGRESS,
                                    month_investment=D("0.5"), cumulative_investment=D("43.0"))
    new.figures.refresh_from_db()
    assert new.figures.cumulative == D("43.0")
    back = client.get(f"/items/{old.pk}/").content.decode()
    assert "十四五 #12（本事项）" in back and "十五五 #4" in back


# ---------------------------------------------------------------- rules at the boundary

def test_rules_on_both_sides_of_the_plan_boundary(real_plan):
    plan = fifteenth(real_plan).plan
    carried, left = project(real_plan, 12), project(real_plan, 4)  # both printed to end in 2025 or before
    Item.objects.filter(pk__in=[carried.pk, left.pk]).update(end_year=2025, status=ItemStatus.IN_PROGRESS)
    items = Item.objects.filter(plan__in=[real_plan, plan])
    dec31, jan1 = datetime.date(2025, 12, 31), datetime.date(2026, 1, 1)
    before = findings(dec31, items)
    after = findings(jan1, items)
    assert (carried.pk, "overdue") not in before and (left.pk, "overdue") not in before
    assert (left.pk, "overdue") in after  # not finished, not carried on: overdue
    assert not any(pk == carried.pk for pk, _ in after)  # the 十五五 entry is the one watched now
    new_ids = set(plan.items.values_list("pk", flat=True))
    assert not {k for pk, k in after if pk in new_ids} & {"overdue", "report_missing"}
    for day in (dec31, jan1, datetime.date(2026, 2, 6)):
        assert findings(day, items) == findings_in_python(day, items), day


def test_in_force_sums_count_a_carried_project_once(client, real_plan, leader):
    plan = fifteenth(real_plan).plan
    evaluate(datetime.date(2026, 1, 15))
    client.force_login(leader)
    totals = client.get("/").context["s"]["totals"]
    carried = real_plan.items.filter(list_kind=ListKind.PROJECT, successor__isnull=False).count()
    projects = Item.objects.filter(list_kind=ListKind.PROJECT, plan__in=[real_plan, plan]).count()
    assert totals["count"] == projects - carried == 196 + 24 - 12


# ---------------------------------------------------------------- closing

def test_close_plan_stores_its_evaluation_and_stops_nightly_flags(real_plan):
    out = run("close_plan", plan=real_plan.code, as_of="2025-12-31")
    real_plan.refresh_from_db()
    assert real_plan.state == PlanState.CLOSED and real_plan.closed_on == datetime.date(2025, 12, 31)
    assert "已收官，评估日期 2025-12-31" in out
    lights = dict(ItemFigures.objects.filter(item__plan=real_plan).values_list("item_id", "light"))
    flags = set(Flag.objects.filter(item__plan=real_plan, resolved_on__isnull=True).values_list("item_id", "kind", "severity"))
    # as of 2025-12-31 what is printed to end in 2025 is not overdue yet; what ended before is
    ending = dict(real_plan.items.values_list("pk", "end_year"))
    overdue = {pk for pk, kind, _ in flags if kind == "overdue"}
    assert overdue and all(ending[pk] < 2025 for pk in overdue)
    assert not any(ending[pk] == 2025 for pk in overdue)
    assert len(lights) == real_plan.items.count()
    # a later night leaves the closed plan as it was
    result = evaluate(datetime.date(2026, 11, 27))
    assert dict(ItemFigures.objects.filter(item__plan=real_plan).values_list("item_id", "light")) == lights
    assert set(Flag.objects.filter(item__plan=real_plan, resolved_on__isnull=True)
               .values_list("item_id", "kind", "severity")) == flags
    assert result.opened == 0 or not Flag.objects.filter(item__plan=real_plan, opened_on=datetime.date(2026, 11, 27)).exists()
    # reopening is logged and the plan is watched again
    run("close_plan", plan=real_plan.code, reopen=True, reason="补录十四五末数据")
    real_plan.refresh_from_db()
    assert real_plan.state == PlanState.ACTIVE
    assert [h.history_change_reason for h in real_plan.history.order_by("-history_date")[:2]] == [
        "补录十四五末数据", "收官（评估日期 2025-12-31）"]
    assert Flag.objects.filter(item__plan=real_plan, resolved_on__isnull=True, kind="overdue").exists()


def test_close_plan_refuses_bad_input(real_plan):
    for kwargs, message in (({"as_of": "2025-13-01"}, "格式不正确"), ({"as_of": "1999-01-01"}, "应在"),
                            ({"reopen": True}, "未收官")):
        with pytest.raises(CommandError, match=message):
            run("close_plan", plan=real_plan.code, **kwargs)
    with pytest.raises(CommandError, match="没有代码"):
        run("close_plan", plan="nope")


def test_planner_button_closes_and_reopens(client, real_plan, planner, leader):
    client.force_login(leader)
    assert client.post(f"/plans/{real_plan.code}/close/", {"as_of": "2025-12-31"}).status_code == 403
    client.force_login(planner)
    listing = client.get("/plans/").content.decode()
    assert "收官" in listing and real_plan.name in listing
    response = client.post(f"/plans/{real_plan.code}/close/", {"as_of": "2025-12-31"}, follow=True)
    assert response.redirect_chain[-1][0] == f"/plans/{real_plan.code}/review/"
    real_plan.refresh_from_db()
    assert real_plan.is_closed and real_plan.history.first().history_user == planner
    bad = client.post(f"/plans/{real_plan.code}/reopen/", {"reason": "x" * 500}, follow=True)
    assert bad.status_code == 200
    real_plan.refresh_from_db()
    assert real_plan.state == PlanState.ACTIVE


# ---------------------------------------------------------------- 后评估

def sheet_rows(book, title):
    return [[c for c in row] for row in book[title].iter_rows(values_only=True)]


def test_export_evaluation_xlsx_and_csv(real_plan, tmp_path):
    fifteenth(real_plan)
    run("close_plan", plan=real_plan.code, as_of="2025-12-31")
    xlsx = tmp_path / "review.xlsx"
    out = run("export_evaluation", plan=real_plan.code, format="xlsx", output=str(xlsx))
    assert "已收官" in out
    book = openpyxl.load_workbook(xlsx)
    assert book.sheetnames[:4] == ["按清单", "按类别", "按项目类型", "按牵头单位"]
    for sheet in book.worksheets:
        assert sheet.page_setup.orientation == "landscape" and int(sheet.page_setup.paperSize) == 9
    rows = sheet_rows(book, "按清单")
    head, body, total = rows[0], rows[1:-1], rows[-1]
    assert head[1] == "计划事项" and "“十四五”投资（亿元）" in head
    assert total[0] == "合计"
    for column in range(1, 9):  # counts: 合计 is the sum of the rows
        assert total[column] == sum(r[column] for r in body)
    assert total[1] == real_plan.items.count()
    carried = real_plan.items.filter(successor__isnull=False).count()
    assert (total[7], total[8]) == (carried, real_plan.items.count() - carried)
    money = head.index("“十四五”投资（亿元）")
    assert round(total[money], 2) == round(sum(r[money] for r in body if isinstance(r[money], float)), 2)
    projects = next(r for r in body if r[0] == "重大项目")
    assert round(projects[money], 2) == 1612.30
    # not carried: names listed; 续建 near miss S2 一期 among them
    names = [r[2] for r in sheet_rows(book, "未转入下一期")[1:-1]]
    assert "温州市域铁路 S2 线一期工程瓯江口段" in names and len(names) == real_plan.items.count() - carried
    # 小计 per list in 按类别 from its rows
    cats = sheet_rows(book, "按类别")
    subtotal = next(r for r in cats if r[0] == "重大项目" and r[1] == "小计")
    assert subtotal[2] == 196
    csv_path = tmp_path / "review.csv"
    run("export_evaluation", plan=real_plan.code, format="csv", output=str(csv_path))
    text = csv_path.read_text(encoding="utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    assert ["按清单"] in table and ["按类别"] in table
    assert any(r[:2] == ["合计", str(real_plan.items.count())] for r in table)


def test_review_page_is_scoped_to_the_unit(client, real_plan):
    run("close_plan", plan=real_plan.code, as_of="2025-12-31")
    unit_user = make_user("review_unit", Role.UNIT, units=[UNIT_A])
    client.force_login(unit_user)
    mine = Item.objects.visible_to(unit_user).filter(plan=real_plan).count()
    assert 0 < mine < real_plan.items.count()
    response = client.get(f"/plans/{real_plan.code}/review/")
    first = response.context["sheets"][0]
    assert first["rows"][-1][1][:2] == ["合计", str(mine)]
    book = openpyxl.load_workbook(io.BytesIO(b"".join(client.get(f"/plans/{real_plan.code}/review/?format=xlsx").streaming_content)))
    assert sheet_rows(book, "按清单")[-1][1] == mine
    assert "仅规划人员和领导可见" in sheet_rows(book, "十大（类）百亿工程")[1][0]
    assert client.get(f"/plans/{real_plan.code}/review/?format=<b>").status_code == 400


# ---------------------------------------------------------------- the plans in force

def test_pages_default_to_the_plans_in_force(client, real_plan, leader):
    plan = fifteenth(real_plan).plan
    run("close_plan", plan=real_plan.code, as_of="2025-12-31")
    client.force_login(leader)
    home = client.get("/")
    assert home.context["plan"] == plan
    assert home.context["s"]["totals"]["count"] == 24
    listing = client.get("/lists/project/")
    assert listing.context["table"].paginator.count == 24
    closed = client.get(f"/?plan={real_plan.code}")
    html = closed.content.decode()
    assert closed.context["plan"] == real_plan and closed.context["as_of"] == datetime.date(2025, 12, 31)
    assert 'id="closed-plan-note"' in html and "已收官" in html
    assert client.get(f"/lists/project/?plan={real_plan.pk}").context["table"].paginator.count == 196
    # a leader reaches the 十四五 后评估 and the 十五五 dashboard from the plan page
    plans = client.get("/plans/").content.decode()
    assert f'href="/plans/{real_plan.code}/review/"' in plans and f'href="/?plan={plan.code}"' in plans


def test_closed_plan_alone_is_shown_with_how_to_import_the_next(client, real_plan, leader):
    # another zone's plan imported for its indicators only holds no lists: it is not "in force"
    Plan.objects.create(code="indicators-only", name="某开发区“十四五”规划", start_year=2022, end_year=2026)
    run("close_plan", plan=real_plan.code, as_of="2025-12-31")
    from reporting.owing import entries_due

    assert not entries_due(real_plan.items.all(), datetime.date(2026, 10, 1)).exists()  # nothing owed
    client.force_login(leader)
    response = client.get("/")
    html = response.content.decode()
    assert response.context["plan"] == real_plan
    assert "尚无执行中的规划" in html and "/plans/import/?predecessor=ojk-14" in html  # the import page, not a command


def test_unit_my_items_default_to_plans_in_force(client, real_plan):
    plan = fifteenth(real_plan).plan
    run("close_plan", plan=real_plan.code, as_of="2025-12-31")
    unit = Unit.objects.get(name=UNIT_A)
    user = make_user("my_unit", Role.UNIT, units=[UNIT_A])
    client.force_login(user)
    rows = client.get("/my/").context["rows"]
    assert rows and {r["item"].plan_id for r in rows} == {plan.pk}
    assert all(unit in r["item"].units.all() for r in rows)
    old = client.get(f"/my/?plan={real_plan.code}").context["rows"]
    assert {r["item"].plan_id for r in old} == {real_plan.pk}


# ---------------------------------------------------------------- the admin

def admin_data(client, url, form_id):
    from .test_read_path import FormFields

    parser = FormFields(form_id)
    parser.feed(client.get(url).content.decode())
    return parser.data


def test_admin_links_an_entry_with_audit_and_refuses_a_closed_plan_without_date(client, real_plan, planner,
                                                                                 django_capture_on_commit_callbacks):
    plan = fifteenth(real_plan).plan
    entry, s2 = project(plan, 8), project(real_plan, 4)
    client.force_login(planner)
    url = f"/admin/projects/item/{entry.pk}/change/"
    data = admin_data(client, url, "item_form")
    assert "predecessor" in data
    data["predecessor"] = str(s2.pk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.predecessor == s2 and entry.history.first().history_user == planner
    data["predecessor"] = str(project(plan, 9).pk)  # same plan: refused in Chinese
    response = client.post(url, data)
    assert response.status_code == 200 and "接续的事项必须属于另一期规划" in response.content.decode()
    plan_url = f"/admin/projects/plan/{real_plan.pk}/change/"
    plan_data = admin_data(client, plan_url, "plan_form")
    plan_data.update(state="closed", closed_on="")
    response = client.post(plan_url, plan_data)
    assert response.status_code == 200 and "已收官的规划必须填写收官评估日期" in response.content.decode()
    plan_data.update(closed_on="2025-12-31")
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(plan_url, plan_data).status_code == 302
    real_plan.refresh_from_db()
    assert real_plan.is_closed and real_plan.history.first().history_user == planner
    # its entries were evaluated at the closing date: nothing printed to end in 2025 is overdue
    overdue = Flag.objects.filter(item__plan=real_plan, resolved_on__isnull=True, kind="overdue")
    assert not overdue.filter(item__end_year=2025).exists()
