"""Plan indicators (指标体系): import of the five seeds' tables (text, CSV, XLSX), yearly values by
form and by XLSX template, evaluation of real rows as of a year, scoping, the page and exports."""
import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from indicators.evaluation import evaluate_indicators
from indicators.models import IndicatorStatus
from indicators.importer import import_indicators
from indicators.models import Indicator, IndicatorTable, IndicatorValue
from projects.models import Plan, Role, Unit
from projects.validation import ImportFailed
from tests.conftest import PLAN_CODE, UNIT_A, UNIT_B, make_user

PLANS = Path(__file__).resolve().parent.parent / "fixtures" / "plans"
SEEDS = {
    "000_linhai_kfq_14th.txt": "lhkfq-14",
    "001_taizhouwan_jkq_14th.txt": "tzwjkq-14",
    "002_linhai_city_14th.txt": "linhai-14",
    "003_taizhouwan_kechuang.txt": "tzwkc-22",
    "004_oujiangkou_14th.txt": PLAN_CODE,
}
# per seed: (title as printed, kind, rows, 预期性, 约束性)
TABLES = {
    "000_linhai_kfq_14th.txt": [("表 1-1 开发区“十三五”时期主要经济指标表", "history", 4, 0, 0),
                                ("表 2-1 开发区“十四五”发展目标表", "targets", 11, 11, 0)],
    "001_taizhouwan_jkq_14th.txt": [],
    "002_linhai_city_14th.txt": [("表一 “十三五”规划主要指标完成情况表", "completion", 27, 15, 12),
                                 ("表二 临海市“十四五”规划经济社会发展指标体系", "targets", 34, 22, 12)],
    "003_taizhouwan_kechuang.txt": [("表 2-1 台州湾科创走廊主要目标指标表", "targets", 25, 0, 0)],
    "004_oujiangkou_14th.txt": [("表 1：“十三五”规划主要指标完成情况表", "completion", 16, 0, 0),
                                ("瓯江口产业集聚区“十四五”主要发展指标规划表", "targets", 37, 28, 9)],
}
KIND_LABELS = {"targets": "目标", "completion": "完成情况", "history": "历史"}
CITY = "002_linhai_city_14th.txt"
OJK = "004_oujiangkou_14th.txt"


def run_import(name, *extra):
    out = io.StringIO()
    call_command("import_indicators", str(PLANS / name), "--plan", SEEDS[name], *extra, stdout=out)
    return out.getvalue().splitlines()


def load(*names, capture=None):
    for name in names:
        if capture is not None:
            with capture(execute=True):
                import_indicators(PLANS / name, SEEDS[name])
        else:
            import_indicators(PLANS / name, SEEDS[name])


def ind(code, name, table_kind="targets"):
    return Indicator.objects.get(plan__code=code, name=name, table__kind=table_kind)


def status(indicator, year):
    return IndicatorStatus.objects.get(indicator=indicator, year=year)


# ---------------------------------------------------------------- import

@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(SEEDS))
def test_every_seed_imports_each_table_with_its_counts(real_plan, name):
    lines = run_import(name)
    printed = [line for line in lines if "｜" in line]
    for (title, kind, n, e, b), line in zip(TABLES[name], printed):
        assert line.startswith(f"{title}｜{KIND_LABELS[kind]}｜{n} 项指标｜预期性 {e}，约束性 {b}｜新建 {n}，更新 0，未变 0")
    assert len(printed) == len(TABLES[name])
    plan = Plan.objects.get(code=SEEDS[name])
    stored = [(t.title, t.kind, t.indicators.count(), t.indicators.filter(attribute="expected").count(),
               t.indicators.filter(attribute="binding").count()) for t in plan.indicator_tables.order_by("order")]
    assert stored == TABLES[name]


@pytest.mark.django_db
def test_001_says_only_titles_survived_and_does_not_fail(real_plan):
    lines = run_import("001_taizhouwan_jkq_14th.txt")
    notes = [line for line in lines if line.startswith("提示：")]
    assert len(notes) == 2 and all("只有标题，表格内容缺失" in n for n in notes)
    assert "表1-1" in notes[0] and "表2-1" in notes[1]
    plan = Plan.objects.get(code="tzwjkq-14")
    assert (plan.start_year, plan.end_year, plan.indicator_tables.count()) == (2021, 2025, 0)


@pytest.mark.django_db
def test_new_plans_take_their_period_from_the_text_and_004_attaches_to_import_plans_plan(real_plan):
    before = Plan.objects.count()
    load(*SEEDS)
    assert Plan.objects.count() == before + 4  # 004 is the plan import_plan made
    assert Plan.objects.get(code="tzwkc-22").start_year == 2022  # “规划期 2022—2026 年”
    assert Plan.objects.get(code="tzwkc-22").end_year == 2026
    assert IndicatorTable.objects.filter(plan=real_plan).count() == 2
    real_plan.refresh_from_db()
    assert real_plan.items.count() > 0  # the same plan as the 六重清单


@pytest.mark.django_db
def test_reimport_changes_nothing_and_dry_run_writes_nothing(real_plan):
    lines = run_import(CITY, "--dry-run")
    assert lines[0].startswith("试运行（未写入）")
    assert not Plan.objects.filter(code="linhai-14").exists()
    run_import(CITY)
    counts = (Indicator.objects.count(), Indicator.history.count(), IndicatorValue.objects.count(),
              IndicatorValue.history.count())
    again = run_import(CITY)
    assert all("新建 0，更新 0，未变" in line for line in again if "｜" in line)
    assert (Indicator.objects.count(), Indicator.history.count(), IndicatorValue.objects.count(),
            IndicatorValue.history.count()) == counts


@pytest.mark.django_db
def test_odd_cells_are_kept_as_printed_beside_their_parsed_form(real_plan):
    load("000_linhai_kfq_14th.txt", CITY, "003_taizhouwan_kechuang.txt")
    city = "linhai-14"

    def target(code, name):
        i = ind(code, name)
        return (i.target_printed, i.target_number, i.target_qualifier, i.target_form)

    assert target(city, "常住人口城镇化率") == ("60以上", Decimal("60"), "ge", "level")
    assert target(city, "全市河流I-III类水质断面比例") == ("≥93.3", Decimal("93.3"), "ge", "level")
    assert target("lhkfq-14", "高新技术产业增加值占规上工业增加值比重") == ("70%以上", Decimal("70"), "ge", "level")
    assert target(city, "新增城镇就业人数") == ("[10]", Decimal("10"), "", "cumulative")
    assert target(city, "单位GDP能源消耗降低") == ("按上级任务", None, "", "text")
    assert target(city, "居民人均可支配收入增长") == ("与经济增长同步", None, "", "text")
    assert target(city, "亿元GDP生产安全事故死亡率") == ("[-50%]", Decimal("-50"), "", "cumulative")
    growth = ind(city, "全员劳动生产率增长")
    assert (growth.growth_printed, growth.growth_number, growth.growth_qualifier, growth.growth_form) == (
        "7以上", Decimal("7"), "ge", "growth")
    assert growth.value_meaning == "rate"  # its baseline 11.01 is 2020's growth, not a level
    culture = ind(city, "文化及相关产业增加值")
    assert (culture.baseline_printed, culture.baseline_number, culture.baseline_year) == (
        "2019年 32.21", Decimal("32.21"), 2019)
    service = ind(city, "依申请政务服务办件“一网通办”率")
    assert (service.baseline_printed, service.baseline_number) == ("89.01%", Decimal("89.01"))
    missing = {ind(city, "地区生产总值（GDP）增长").target_printed, ind(city, "全员劳动生产率增长").target_printed,
               ind("lhkfq-14", "省级以上研发机构数").growth_printed}
    assert missing == {"—", "-", "/"}
    assert all(getattr(ind(city, n), "target_form") == "missing" for n in ("地区生产总值（GDP）增长", "全员劳动生产率增长"))
    assert ind("lhkfq-14", "高新技术产业增加值占规上工业增加值比重").is_new  # printed with *
    # the category printed on the first row of its group only
    assert set(Indicator.objects.filter(plan__code=city, seq__in=["1", "2", "3", "4"], table__kind="targets")
               .values_list("category", flat=True)) == {"经济发展"}
    # sub-indicators under one 序号, the 属性 cell merged over them
    subs = Indicator.objects.filter(plan__code=city, parent_name="城镇化率").order_by("order")
    assert [(s.seq, s.name, s.attribute) for s in subs] == [
        ("4", "常住人口城镇化率", "expected"), ("4", "户籍人口城镇化率", "binding")]
    # rows without a 序号 (003: two rows under 序号 6)
    no_seq = Indicator.objects.filter(plan__code="tzwkc-22", seq="")
    assert set(no_seq.values_list("name", flat=True)) == {"省级以上工程研究中心（累计）", "省级以上双创示范基地（累计）"}
    # footnotes kept with their table
    assert any("五年累计" in n for n in IndicatorTable.objects.get(plan__code=city, kind="targets").footnotes)


def table_rows(name, title_start):
    """The text's rows of one table as cells: the plan's title line, then the table from its
    title to its notes (注：…)."""
    lines = (PLANS / name).read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip("#* ").startswith(title_start))
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("注："))
    title = next(line for line in lines if line.startswith("# ") and "规划" in line)
    return [[title]] + [line.split("\t") for line in lines[start:end + 1]]


def _csv_bytes(rows):
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


def _xlsx_bytes(rows):
    book = Workbook()
    for r in rows:
        book.active.append([c for c in r])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_same_layout_imports_from_csv_and_xlsx(real_plan, tmp_path, fmt):
    rows = table_rows(CITY, "表二")
    path = tmp_path / f"city.{fmt}"
    path.write_bytes(_csv_bytes(rows) if fmt == "csv" else _xlsx_bytes(rows))
    out = io.StringIO()
    call_command("import_indicators", str(path), "--plan", "city-copy", stdout=out)
    assert "表二 临海市“十四五”规划经济社会发展指标体系｜目标｜34 项指标｜预期性 22，约束性 12" in out.getvalue()
    plan = Plan.objects.get(code="city-copy")
    assert (plan.start_year, plan.end_year) == (2021, 2025)
    import_indicators(PLANS / CITY, "linhai-14")
    fields = ["name", "seq", "category", "unit", "attribute", "baseline_printed", "baseline_number", "baseline_year",
              "target_printed", "target_number", "target_qualifier", "target_form", "growth_printed", "direction"]
    copy = list(Indicator.objects.filter(plan=plan).order_by("order").values_list(*fields))
    text = list(Indicator.objects.filter(plan__code="linhai-14", table__kind="targets").order_by("order")
                .values_list(*fields))
    assert copy == text


@pytest.mark.django_db
def test_a_bad_cell_is_a_row_error_and_nothing_is_written(real_plan, tmp_path):
    rows = table_rows(CITY, "表二")
    at = next(i for i, r in enumerate(rows) if "人才资源总量" in "".join(r))
    rows[at] = [c.replace("23", "二十三") for c in rows[at]]
    path = tmp_path / "bad.csv"
    path.write_bytes(_csv_bytes(rows))
    with pytest.raises(ImportFailed) as failed:
        import_indicators(path, "city-bad")
    assert any(f"第 {at + 1} 行" in e and "二十三" in e for e in failed.value.errors), failed.value.errors
    assert not Plan.objects.filter(code="city-bad").exists()
    assert not Indicator.objects.filter(plan__code="city-bad").exists()


# ---------------------------------------------------------------- evaluation on real rows

def enter(indicator, year, value):
    IndicatorValue.objects.update_or_create(indicator=indicator, year=year,
                                            defaults={"value": Decimal(value), "source": "form"})


@pytest.mark.django_db
def test_evaluation_kinds_on_real_rows(real_plan, django_capture_on_commit_callbacks):
    load(CITY, OJK, capture=django_capture_on_commit_callbacks)
    city = "linhai-14"
    output = ind(PLAN_CODE, "规上工业总产值")       # level 57.1 → 250, 预期性
    pm25 = ind(city, "细颗粒物（PM2.5）平均浓度")   # level 22 → 20, lower is better, 约束性
    urban = ind(city, "常住人口城镇化率")           # 60以上
    gdp = ind(city, "地区生产总值（GDP）增长")       # 年均 6.8, yearly values are rates
    jobs = ind(city, "新增城镇就业人数")             # [10] five-year cumulative
    energy = ind(city, "单位GDP能源消耗降低")        # 按上级任务
    assert status(output, 2023).status == "no_data"
    with django_capture_on_commit_callbacks(execute=True):
        enter(output, 2023, "130")
        enter(pm25, 2023, "23")
        enter(urban, 2023, "61")
        for year, rate in ((2021, "8.0"), (2022, "6.0"), (2023, "7.0")):
            enter(gdp, year, rate)
        for year, n in ((2021, "2.1"), (2022, "2.0"), (2023, "2.2")):
            enter(jobs, year, n)
    s = status(output, 2023)
    assert (s.status, s.light, s.expected) == ("lagging", "yellow", Decimal("137.39"))
    # the printed 34% leads from 57.1 to 250 (57.1 × 1.34^5 = 246.7): the plan's path, 57.1 × 1.34^3
    assert "由 2020 年 57.1 按规划年均增长 34% 推进至 2025 年 250，2023 年应达 137.39，实际 130" in s.rule
    s = status(pm25, 2023)
    assert (s.status, s.light) == ("lagging", "red")  # 约束性 lagging is red
    assert "越低越好" in s.rule
    assert (status(urban, 2023).status, status(urban, 2023).light) == ("achieved", "green")
    s = status(gdp, 2023)
    assert s.status == "on_track" and s.actual == Decimal("7.00"), s.rule  # (1.08 × 1.06 × 1.07)^(1/3) − 1 = 6.997%
    # rates beside rates: the target rate is the 应达值, never an index (114.06) beside 6.7
    assert s.expected == Decimal("6.8")
    assert "2021—2023 年增速 8%、6%、7%，3 年年均增长 7.00%，不低于目标增速 6.8%" in s.rule
    assert not re.search(r"\d\.\d{5,}", s.rule)  # no 140.386007662400
    assert s.rule.startswith("年度值为当年增速")
    s = status(jobs, 2023)
    assert (s.status, s.expected, s.actual) == ("on_track", Decimal("6.00"), Decimal("6.3"))
    s = status(energy, 2023)
    assert s.status == "not_evaluated" and "按上级任务" in s.rule and s.light == ""
    # a value entered for 2023 changes that indicator's status and its light
    with django_capture_on_commit_callbacks(execute=True):
        enter(output, 2023, "180")
    assert (status(output, 2023).status, status(output, 2023).light) == ("on_track", "green")
    with django_capture_on_commit_callbacks(execute=True):
        IndicatorValue.objects.filter(indicator=gdp, year=2022).delete()
    # 2023 has its value: not 无数据, but the missing 2022 is named
    assert status(gdp, 2023).status == "not_evaluated" and "缺少 2022 年增速" in status(gdp, 2023).rule


@pytest.mark.django_db
def test_completion_tables_are_judged_on_their_own_printed_actuals(real_plan, client):
    load(OJK)
    planner = make_user("planner_c", Role.PLANNER)
    client.force_login(planner)
    page = client.get("/indicators/", {"plan": PLAN_CODE}).content.decode()
    completion = page[page.index('data-kind="completion"'):page.index('data-kind="targets"')]
    row = lambda name: re.search(rf"{name}</td>.*?</tr>", completion, re.S).group(0)  # noqa: E731
    assert 'data-status="achieved"' in row("规上工业总产值")   # planned 50, actual 57.1
    assert 'data-status="lagging"' in row("财政总收入")        # planned 60, actual 7.3
    assert IndicatorValue.objects.get(indicator=ind(PLAN_CODE, "财政总收入", "completion"), year=2020).value == Decimal("7.3")


@pytest.mark.django_db
def test_an_evaluation_with_no_data_changed_writes_nothing(real_plan):
    load(CITY)
    evaluate_indicators()
    with CaptureQueriesContext(connection) as queries:
        result = evaluate_indicators()
    assert (result.created, result.updated) == (0, 0)
    assert not [q for q in queries if re.match(r"\s*(INSERT|UPDATE|DELETE)", q["sql"])]


@pytest.mark.django_db
def test_lagging_indicators_email_their_unit_once(real_plan, django_capture_on_commit_callbacks):
    from indicators.notifications import notify_indicator_changes
    from portfolio.notifications import send_leader_digest

    load(CITY, capture=django_capture_on_commit_callbacks)
    pm25 = ind("linhai-14", "细颗粒物（PM2.5）平均浓度")
    pm25.responsible_unit = Unit.objects.get(name=UNIT_B)
    pm25.save()
    user = make_user("unit_mail", Role.UNIT, [UNIT_B])
    user.email = "stat@example.org"
    user.save()
    enter(pm25, 2023, "23")
    result = evaluate_indicators([pm25.pk])
    mail.outbox.clear()
    assert notify_indicator_changes(result.to_notify) == 1
    assert "细颗粒物（PM2.5）平均浓度（2023 年）" in mail.outbox[0].body
    assert notify_indicator_changes(result.to_notify) == 0  # never the same alert twice
    leader = make_user("leader_mail", Role.LEADER)
    leader.email = "leader@example.org"
    leader.save()
    mail.outbox.clear()
    send_leader_digest(timezone.localdate())
    assert "本周评价为滞后的规划指标 1 项：" in mail.outbox[0].body
    assert "【红】细颗粒物（PM2.5）平均浓度（2023 年）" in mail.outbox[0].body


# ---------------------------------------------------------------- values by form and by XLSX, scoping

@pytest.fixture
def assigned(real_plan, django_capture_on_commit_callbacks):
    """004's indicators; 规上工业总产值 and 固定资产投资 belong to unit A, the rest to no one."""
    load(OJK, capture=django_capture_on_commit_callbacks)
    unit = Unit.objects.get(name=UNIT_A)
    mine = list(Indicator.objects.filter(plan=real_plan, table__kind="targets",
                                         name__in=["规上工业总产值", "固定资产投资"]))
    for i in mine:
        i.responsible_unit = unit
        i.save()
    return mine


@pytest.mark.django_db
def test_unit_user_enters_a_value_by_form_and_the_status_and_light_change(
        assigned, unit_a_user, client, django_capture_on_commit_callbacks):
    output = next(i for i in assigned if i.name == "规上工业总产值")
    client.force_login(unit_a_user)
    page = client.get("/indicators/values/", {"plan": PLAN_CODE, "year": 2023})
    assert page.status_code == 200
    names = [f.label for f in page.context["form"]]
    assert set(n for n in names if n != "数据来源说明") == {"规上工业总产值", "固定资产投资"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/indicators/values/?plan={PLAN_CODE}&year=2023",
                               {f"v{output.pk}": "130", f"n{output.pk}": "统计年鉴"})
    assert response.status_code == 302
    value = IndicatorValue.objects.get(indicator=output, year=2023)
    assert (value.value, value.source, value.entered_by, value.note) == (Decimal("130"), "form", unit_a_user, "统计年鉴")
    assert (status(output, 2023).status, status(output, 2023).light) == ("lagging", "yellow")
    page = client.get("/indicators/", {"plan": PLAN_CODE, "year": 2023}).content.decode()
    assert re.search(r'data-status="lagging" data-light="yellow">滞后', page)
    assert "2023 年应达 137.39，实际 130" in page
    # a bad value is a field error, nothing saved
    response = client.post(f"/indicators/values/?plan={PLAN_CODE}&year=2023", {f"v{output.pk}": "abc"})
    assert response.status_code == 200 and "实际值应为数字" in response.content.decode()
    assert IndicatorValue.objects.get(indicator=output, year=2023).value == Decimal("130")


@pytest.mark.django_db
def test_scoping_of_the_page_the_values_and_the_export(assigned, unit_a_user, unit_b_user, leader, client):
    client.force_login(unit_a_user)
    page = client.get("/indicators/", {"plan": PLAN_CODE})
    names = {r["name"] for _, t in page.context["sections"] for r in t.data.data}
    assert names == {"规上工业总产值", "固定资产投资"}
    export = client.get("/indicators/", {"plan": PLAN_CODE, "year": 2023, "_export": "csv"}).content.decode("utf-8-sig")
    exported = {r[1] for r in csv.reader(export.splitlines()) if len(r) > 5}
    assert exported == {"指标", "规上工业总产值", "固定资产投资"}
    other = Indicator.objects.get(plan__code=PLAN_CODE, table__kind="targets", name="财政总收入")
    client.post(f"/indicators/values/?plan={PLAN_CODE}&year=2023", {f"v{other.pk}": "99"})
    assert not IndicatorValue.objects.filter(indicator=other).exists()
    client.force_login(unit_b_user)  # no indicators of its own
    assert client.get("/indicators/values/", {"plan": PLAN_CODE, "year": 2023}).status_code == 404
    page = client.get("/indicators/", {"plan": PLAN_CODE})
    assert sum(len(t.data.data) for _, t in page.context["sections"]) == 0
    client.force_login(leader)  # reads everything, enters nothing
    page = client.get("/indicators/", {"plan": PLAN_CODE})
    assert sum(len(t.data.data) for _, t in page.context["sections"]) == 53
    assert "enter-values" not in page.content.decode()
    assert client.get("/indicators/values/", {"plan": PLAN_CODE, "year": 2023}).status_code == 404


def _template_upload(client, book, year=2023):
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    out.name = "values.xlsx"
    return client.post(f"/indicators/values/upload/?plan={PLAN_CODE}&year={year}", {"file": out})


@pytest.mark.django_db
def test_xlsx_template_download_prefilled_and_upload_all_or_nothing(
        assigned, unit_a_user, client, django_capture_on_commit_callbacks):
    output = next(i for i in assigned if i.name == "规上工业总产值")
    investment = next(i for i in assigned if i.name == "固定资产投资")
    enter(investment, 2023, "300")
    client.force_login(unit_a_user)
    response = client.get("/indicators/values/template/", {"plan": PLAN_CODE, "year": 2023})
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.active
    rows = [r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] is not None and str(r[0]).isdigit()]
    assert {r[4] for r in rows} == {"规上工业总产值", "固定资产投资"}  # only the unit's own
    assert next(r for r in rows if r[4] == "固定资产投资")[7] == 300  # prefilled
    assert sheet.page_setup.orientation == "landscape" and sheet.print_title_rows == "$1:$1"
    at = {r[4]: i + 2 for i, r in enumerate(sheet.iter_rows(min_row=2, values_only=True)) if r[4]}
    sheet.cell(at["规上工业总产值"], 8, "180")
    sheet.cell(at["固定资产投资"], 8, "很多")
    response = _template_upload(client, book)
    assert response.status_code == 400
    errors = response.context["errors"]
    assert errors == [f'values.xlsx 工作表「2023年实际值」第 {at["固定资产投资"]} 行 实际值 "很多": 实际值应为数字']
    assert not IndicatorValue.objects.filter(indicator=output).exists()  # all or nothing
    sheet.cell(at["固定资产投资"], 8, "310")
    with django_capture_on_commit_callbacks(execute=True):
        response = _template_upload(client, book)
    assert response.status_code == 302
    assert IndicatorValue.objects.get(indicator=output, year=2023).value == Decimal("180")
    assert IndicatorValue.objects.get(indicator=investment, year=2023).source == "upload"
    assert status(output, 2023).status == "on_track"
    # another unit's indicator in the file: refused by row
    other = Indicator.objects.get(plan__code=PLAN_CODE, table__kind="targets", name="财政总收入")
    sheet.cell(at["固定资产投资"], 1, other.pk)
    response = _template_upload(client, book)
    assert any("您无权填报该指标" in e for e in response.context["errors"])
    # a year outside the plan's period
    sheet.cell(at["固定资产投资"], 1, investment.pk)
    sheet.cell(at["固定资产投资"], 7, 2031)
    response = _template_upload(client, book)
    assert any("年度应在规划期 2021—2025 年之内" in e for e in response.context["errors"])


# ---------------------------------------------------------------- page, mid-term, exports

@pytest.mark.django_db
def test_page_filters_and_gets_write_nothing(assigned, leader, client):
    client.force_login(leader)
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/indicators/", {"plan": PLAN_CODE, "attribute": "binding"})
        client.get("/indicators/midterm/", {"plan": PLAN_CODE})
        client.get("/", {"plan": PLAN_CODE})
        client.get("/indicators/", {"plan": PLAN_CODE, "_export": "xlsx"})
    assert not [q for q in queries if re.match(r"\s*(INSERT|UPDATE|DELETE)", q["sql"])]
    rows = [r for _, t in page.context["sections"] for r in t.data.data]
    assert len(rows) == 9 and {r["attribute"] for r in rows} == {"约束性"}
    page = client.get("/indicators/", {"plan": PLAN_CODE, "year": 2023, "status": "not_evaluated"})
    rows = [r for _, t in page.context["sections"] for r in t.data.data]
    assert {r["name"] for r in rows} >= {"单位GDP能耗降低", "城市空气质量优良天数比率"}
    assert client.get("/indicators/", {"plan": "nope"}).status_code == 404  # as a plan outside the scope
    assert client.get("/indicators/", {"plan": PLAN_CODE, "year": "1800"}).status_code == 400
    assert client.get("/indicators/", {"plan": PLAN_CODE, "_export": "pdf"}).status_code == 400


@pytest.mark.django_db
def test_dashboard_card_counts_by_status(assigned, leader, client, django_capture_on_commit_callbacks):
    output = next(i for i in assigned if i.name == "规上工业总产值")
    with django_capture_on_commit_callbacks(execute=True):
        enter(output, 2023, "130")
    client.force_login(leader)
    page = client.get("/", {"plan": PLAN_CODE}).content.decode()
    card = page[page.index('id="indicator-card"'):]
    card = card[:card.index("</table>")]
    assert "2023 年" in card  # the latest year with an entered value
    assert re.search(r'data-count="lagging">1<', card) and re.search(r'data-count="no_data">31<', card)
    assert re.search(r'data-count="not_evaluated">5<', card) and re.search(r'data-count="yellow">1<', card)


@pytest.mark.django_db
def test_midterm_view_is_the_third_year_against_the_path(assigned, leader, client):
    enter(assigned[0], 2023, "1")
    evaluate_indicators()
    client.force_login(leader)
    page = client.get("/indicators/midterm/", {"plan": PLAN_CODE, "year": 2021})
    assert page.context["year"] == 2023
    assert "中期评估" in page.content.decode() and "2023 年应达" in page.content.decode()
    kc = Plan.objects.get_or_create(code="tzwkc-22", defaults={"name": "x", "start_year": 2022, "end_year": 2026})[0]
    import_indicators(PLANS / "003_taizhouwan_kechuang.txt", "tzwkc-22")
    assert client.get("/indicators/midterm/", {"plan": kc.code}).context["year"] == 2024


@pytest.mark.django_db
def test_export_command_writes_the_monitoring_table_with_page_setup(assigned, tmp_path):
    output = next(i for i in assigned if i.name == "规上工业总产值")
    enter(output, 2023, "130")
    evaluate_indicators()
    target = tmp_path / "m.xlsx"
    out = io.StringIO()
    call_command("export_indicators", "--plan", PLAN_CODE, "--year", "2023", "--format", "xlsx",
                 "--output", str(target), stdout=out)
    assert "2 张表，53 项指标" in out.getvalue()
    book = load_workbook(target)
    assert book.sheetnames == ["表 1：“十三五”规划主要指标完成情况表", "瓯江口产业集聚区“十四五”主要发展指标规划表"]
    sheet = book["瓯江口产业集聚区“十四五”主要发展指标规划表"]
    assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.fitToWidth == 1
    assert sheet.print_title_rows == "$1:$2"
    header = [c.value for c in sheet[2]]
    assert header[:3] == ["类别", "指标", "单位"] and "2023 年实际值" in header and "状态" in header
    row = next(r for r in sheet.iter_rows(min_row=3, values_only=True) if r[1] == "规上工业总产值")
    assert row[header.index("2023 年实际值")] == "130" and row[header.index("状态")] == "滞后"
    assert all(c.data_type == "s" for r in sheet.iter_rows(min_row=3) for c in r if c.value is not None)
    csv_path = tmp_path / "m.csv"
    call_command("export_indicators", "--plan", PLAN_CODE, "--year", "2023", "--format", "csv",
                 "--output", str(csv_path), stdout=io.StringIO())
    lines = list(csv.reader(csv_path.read_text(encoding="utf-8-sig").splitlines()))
    assert any(r[:2] == ["经济发展", "规上工业总产值"] and "滞后" in r for r in lines)
