"""Hardening, tried as an attacker and a careless user would: escaped output, text-only exports,
validated uploads, bounded dates, no 500 on any input, concurrent writes, throttled logins,
production settings and the production start command."""
import csv
import io
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import zipfile
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver
from openpyxl import Workbook, load_workbook

from portfolio.evaluation import evaluate_changed_entries
from projects.importer import ImportFailed, import_plan
from projects.models import Item, ItemUnit, ListKind, Role, Unit
from reporting.models import AnnualTarget, Milestone, StatusReport

from .conftest import PLAN_CODE, ROOT, UNIT_A, make_user

pytestmark = pytest.mark.django_db
XSS = '<script>alert(1)</script>'
IMG = '<img src=x onerror=alert(1)>'
FORMULA = '=HYPERLINK("http://evil.example/","点此")'


def xlsx_bytes(rows, title="Sheet"):
    book = Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------- escaped output

@pytest.mark.parametrize("url", [
    f"/lists/project/?_export={XSS}", f"/ranking/?_export={XSS}", f"/rollup/?format={IMG}",
    f"/?as_of={XSS}", f"/?plan={IMG}", f"/ranking/?plan={XSS}", f"/rollup/?as_of={IMG}",
])
def test_reflected_parameters_come_back_escaped_in_a_400(client, leader, url):
    client.force_login(leader)
    response = client.get(url)
    text = response.content.decode()
    assert "<script>alert" not in text and "<img src=x" not in text
    if "plan=" in url:  # an unknown plan is a 404, like another organisation's (issue 25)
        assert response.status_code == 404 and "&lt;" in text and "没有代码为" in text
    else:
        assert response.status_code == 400
        assert "&lt;" in text and "请求有误" in text


# ---------------------------------------------------------------- exports write text as text

@pytest.fixture
def formula_entry(real_plan, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        item = Item.objects.get(plan=real_plan, list_kind=ListKind.PROJECT, seq=1)
        item.name = FORMULA
        item.content = "+1+2"
        item.save()
        unit = Unit.objects.create(name="@SUM(A1:A9)")
        ItemUnit.objects.filter(item=item).delete()
        ItemUnit.objects.create(item=item, unit=unit, role="lead")
    return item


def csv_cells(content: bytes):
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_list_exports_write_formulas_as_text(client, leader, formula_entry):
    client.force_login(leader)
    response = client.get("/lists/project/?_export=csv&q=HYPERLINK")
    rows = csv_cells(b"".join(response.streaming_content))
    row = rows[1]
    assert "'" + FORMULA in row and "'+1+2" in row
    assert row[rows[0].index("责任单位")] == "'@SUM(A1:A9)"
    money = row[rows[0].index("总投资（亿元）")]
    assert re.fullmatch(r"[0-9]+\.[0-9]{2}", money)  # numbers stay numbers

    response = client.get("/lists/project/?_export=xlsx&q=HYPERLINK")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    cells = {c.value: c for c in sheet[2]}
    assert cells[FORMULA].data_type == "s"
    assert cells["+1+2"].data_type == "s"
    assert isinstance(sheet.cell(row=2, column=[c.value for c in sheet[1]].index("总投资（亿元）") + 1).value, float)


def test_rollup_and_ranking_exports_write_formulas_as_text(client, leader, formula_entry, tmp_path):
    client.force_login(leader)
    book = load_workbook(io.BytesIO(b"".join(client.get("/rollup/?format=xlsx").streaming_content)))
    found = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value == FORMULA]
    assert found and all(c.data_type == "s" for c in found)
    with zipfile.ZipFile(io.BytesIO(b"".join(client.get("/rollup/?format=csv").streaming_content))) as zf:
        projects = csv_cells(zf.read("重大项目.csv"))
    assert any("'" + FORMULA in row for row in projects)
    assert not any(FORMULA in row for row in projects)

    Unit.objects.filter(name="@SUM(A1:A9)").update(name="-1+1 单位")
    evaluate_changed_entries([formula_entry.pk])
    ranking = csv_cells(b"".join(client.get("/ranking/?_export=csv").streaming_content))
    assert any("'-1+1 单位" in row for row in ranking)
    book = load_workbook(io.BytesIO(b"".join(client.get("/ranking/?_export=xlsx").streaming_content)))
    cells = [c for row in book.active.iter_rows() for c in row if c.value == "-1+1 单位"]
    assert cells and cells[0].data_type == "s"


# ---------------------------------------------------------------- uploads: one validation path

def post_targets(client, planner, rows):
    upload = SimpleUploadedFile("targets.xlsx", xlsx_bytes([("规划代码", "清单", "序号", "年度", "计划投资（亿元）", "年度目标"),
                                                            *rows]))
    client.force_login(planner)
    return client.post("/targets/upload/", {"file": upload})


@pytest.mark.parametrize("cells, message", [
    ((PLAN_CODE, "重大项目", "²", 2024, 1, ""), '序号 "²": 序号应为正整数'),
    ((PLAN_CODE, "重大项目", "١٢", 2024, 1, ""), '序号 "١٢": 序号应为正整数'),
    ((PLAN_CODE, "重大项目", 1, 2024, "NaN", ""), '计划投资 "NaN": 不是数字'),
    ((PLAN_CODE, "重大项目", 1, 2024, "Infinity", ""), '计划投资 "Infinity": 不是数字'),
    ((PLAN_CODE, "重大项目", 1, 2024, "1e20", ""), '计划投资 "1e20": 不是数字'),
    ((PLAN_CODE, "重大项目", 1, 2024, "100000000000", ""), '计划投资 "100000000000": 金额超出范围'),
    ((PLAN_CODE, "重大项目", 1, 9999, 1, ""), '年度 "9999": 年份应在 1949 至 2100 之间'),
])
def test_targets_upload_refuses_values_that_cannot_be_kept(client, planner, real_plan, cells, message):
    response = post_targets(client, planner, [cells])
    assert response.status_code == 200
    assert message in response.content.decode().replace("&quot;", '"')
    assert not AnnualTarget.objects.exists()
    item = Item.objects.get(plan=real_plan, list_kind=ListKind.PROJECT, seq=1)
    assert client.get(f"/items/{item.pk}/").status_code == 200


PLAN_HEAD = ["附件：测试规划“六重”清单", "一、重大项目清单",
             "序号\t项目名称\t建设规模和内容\t项目类型\t建设期限\t总投资（亿元）\t“十四五”投资（亿元）\t责任单位",
             "一、基础设施项目"]


def plan_text(tmp_path, row, name="plan.txt"):
    path = tmp_path / name
    path.write_text("\n".join(PLAN_HEAD + [row]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("row, message", [
    ("1\t道路\t内容\t新建\t2021-2025\t1\t1\t" + "长" * 300, "单位名称超过 200 字"),
    ("1\t道路\t内容\t新建\t2021-2025\t1\t1\t" + "长" * 5000, "责任单位超过 500 字"),
    ("12345678901234567890\t道路\t内容\t新建\t2021-2025\t1\t1\t某单位", '序号 "12345678901234567890": 序号应在 1 至 99999 之间'),
    ("0\t道路\t内容\t新建\t2021-2025\t1\t1\t某单位", '序号 "0": 序号应在 1 至 99999 之间'),
    ("١\t道路\t内容\t新建\t2021-2025\t1\t1\t某单位", '序号 "١": 序号应为正整数'),
    ("1\t道路\t内容\t新建\t1800-2025\t1\t1\t某单位", "年份应在 1949 至 2100 之间"),
    ("1\t道路\t内容\t新建\t2021-9999\t1\t1\t某单位", "年份应在 1949 至 2100 之间"),
    ("1\t道路\t内容\t新建\t2021-2025\t1\t1\t、、；;", "责任单位只有分隔符，没有单位名称"),
    ("1\t道路\t内容\t新建\t2021-2025\t1e20\t1\t某单位", '总投资 "1e20": 不是数字'),
])
def test_import_refuses_cells_that_cannot_be_kept(tmp_path, real_plan, row, message):
    with pytest.raises(ImportFailed) as failed:
        import_plan(plan_text(tmp_path, row), "t-bad")
    assert any(message in error and "plan.txt 第 5 行" in error for error in failed.value.errors), failed.value.errors
    assert not Item.objects.filter(plan__code="t-bad").exists()


LONG_TITLE = "附件：" + "长" * 500 + "“六重”清单"


def test_import_refuses_a_plan_title_longer_than_its_column(tmp_path, real_plan):
    path = plan_text(tmp_path, "1\t道路\t内容\t新建\t2021-2025\t1\t1\t某单位")
    path.write_text(path.read_text(encoding="utf-8").replace(PLAN_HEAD[0], LONG_TITLE), encoding="utf-8")
    with pytest.raises(ImportFailed) as failed:
        import_plan(path, "t-long")
    assert failed.value.errors == [f'plan.txt 第 1 行 标题 "{LONG_TITLE[3:43]}…": 规划名称超过 200 字（500 字）']
    with pytest.raises(ImportFailed) as failed:
        import_plan(plan_text(tmp_path, "1\t道路\t内容\t新建\t2021-2025\t1\t1\t某单位"), "t-long", name="名" * 201)
    assert failed.value.errors == ["plan.txt: --name 规划名称超过 200 字（201 字）"]
    assert not Item.objects.filter(plan__code="t-long").exists()


def test_sqlite_holds_column_lengths_as_postgresql_does(tmp_path):
    """On the embedded SQLite the same long title is refused in Chinese, and any other save of an
    over-long text fails as on PostgreSQL instead of being stored whole."""
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'tracker.sqlite3'}", TRACKER_VAR_DIR=str(tmp_path),
               CACHE_URL="locmemcache://", CELERY_BROKER_URL="filesystem://")
    path = plan_text(tmp_path, "1\t道路\t内容\t新建\t2021-2025\t1\t1\t某单位")
    path.write_text(path.read_text(encoding="utf-8").replace(PLAN_HEAD[0], LONG_TITLE), encoding="utf-8")

    def manage(*args):
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=300)

    assert manage("migrate", "-v0").returncode == 0
    result = manage("import_plan", str(path), "--plan", "t-long")
    assert result.returncode != 0 and "规划名称超过 200 字（500 字）" in result.stderr + result.stdout
    result = manage("shell", "-c", "from django.db import DataError\nfrom projects.models import Unit, Plan\n"
                    "try:\n    Unit.objects.create(name='长' * 201)\nexcept DataError as e:\n    print('refused', e)\n"
                    "print(Plan.objects.count(), Unit.objects.count())")
    assert result.stdout.splitlines()[-2:] == [
        "refused value too long for type character varying(200): projects.Unit.name has 201 characters", "0 0"], result


def test_import_refuses_a_formula_without_a_cached_value(tmp_path, real_plan):
    path = tmp_path / "plan.xlsx"
    path.write_bytes(xlsx_bytes([
        ("序号", "项目名称", "建设规模和内容", "项目类型", "建设期限", "总投资（亿元）", "“十四五”投资（亿元）", "责任单位"),
        ("一、基础设施项目",), (1, "道路", "内容", "新建", "2021-2025", "=1+2", 1, "某单位")], title="重大项目"))
    with pytest.raises(ImportFailed) as failed:
        import_plan(path, "t-formula")
    assert failed.value.errors == [
        'plan.xlsx 工作表「重大项目」第 3 行 第 6 列 "=1+2": 公式没有缓存值，请在 Excel 中保存后再导入']


PLACEHOLDER = 987654321


def poisoned(data: bytes, raw: str) -> bytes:
    """The XLSX with the numeric cell holding PLACEHOLDER rewritten to hold `raw` as its stored
    number (Excel never writes NaN or 1e309; a generator or a hand-edited file may)."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    hits = 0
    for name in parts:
        if name.startswith("xl/worksheets/sheet"):
            hits += parts[name].count(f"<v>{PLACEHOLDER}</v>".encode())
            parts[name] = parts[name].replace(f"<v>{PLACEHOLDER}</v>".encode(), f"<v>{raw}</v>".encode())
    assert hits == 1
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name, part in parts.items():
            target.writestr(name, part)
    return out.getvalue()


NOT_FINITE = ["NaN", "nan", "inf", "-Infinity", "1e309", "-1E+400", "1.5.3"]


@pytest.mark.parametrize("raw", NOT_FINITE)
def test_import_refuses_nan_and_infinity_in_xlsx_cells_with_row_and_column(tmp_path, real_plan, raw):
    path = tmp_path / "plan.xlsx"
    path.write_bytes(poisoned(xlsx_bytes([
        ("序号", "项目名称", "建设规模和内容", "项目类型", "建设期限", "总投资（亿元）", "“十四五”投资（亿元）", "责任单位"),
        ("一、基础设施项目",), (1, "道路", "内容", "新建", "2021-2025", PLACEHOLDER, 1, "某单位")], title="重大项目"), raw))
    with pytest.raises(ImportFailed) as failed:
        import_plan(path, "t-nan")
    assert failed.value.errors == [f'plan.xlsx 工作表「重大项目」第 3 行 第 6 列 "{raw}": 不是有限的数字（NaN、无穷大或无法识别）']
    assert not Item.objects.filter(plan__code="t-nan").exists()


@pytest.mark.parametrize("raw", ["NaN", "1e309"])
def test_targets_upload_refuses_nan_and_infinity_with_row_and_column(client, planner, real_plan, raw):
    data = poisoned(xlsx_bytes([("规划代码", "清单", "序号", "年度", "计划投资（亿元）", "年度目标"),
                                (PLAN_CODE, "重大项目", 1, 2024, PLACEHOLDER, "")]), raw)
    client.force_login(planner)
    response = client.post("/targets/upload/", {"file": SimpleUploadedFile("targets.xlsx", data)})
    assert response.status_code in (200, 400)
    assert f'targets.xlsx 工作表「Sheet」第 2 行 第 5 列 "{raw}": 不是有限的数字' in response.content.decode().replace("&quot;", '"')
    assert not AnnualTarget.objects.exists()


@pytest.mark.parametrize("raw", ["NaN", "-inf"])
def test_report_upload_refuses_nan_and_infinity_with_row_and_column(client, unit_a_user, real_plan, raw):
    from .test_reports_batch import INDEX, download, project_rows

    book = download(client.force_login(unit_a_user) or client)
    row = project_rows(book.active)[0]
    row[INDEX["month_investment"]].value = PLACEHOLDER
    buf = io.BytesIO()
    book.save(buf)
    data = poisoned(buf.getvalue(), raw)
    response = client.post("/reports/batch/", {"file": SimpleUploadedFile("进度.xlsx", data)}, follow=True)
    assert response.status_code in (200, 400)
    where = f'进度.xlsx 工作表「{book.active.title}」第 {row[0].row} 行 第 {INDEX["month_investment"] + 1} 列 "{raw}"'
    assert where in response.content.decode().replace("&quot;", '"')
    assert not StatusReport.objects.exists()


def test_indicator_values_upload_refuses_nan_with_row_and_column(real_plan):
    from indicators.values import TEMPLATE_HEADER, import_values
    from indicators.models import Indicator

    data = poisoned(xlsx_bytes([TEMPLATE_HEADER, [1, "", "", "", "指标", "", 2023, PLACEHOLDER, ""]]), "NaN")
    with pytest.raises(ImportFailed) as failed:
        import_values(io.BytesIO(data), "values.xlsx", None, Indicator.objects.all())
    assert failed.value.errors == ['values.xlsx 工作表「Sheet」第 2 行 第 8 列 "NaN": 不是有限的数字（NaN、无穷大或无法识别）']


def zip_bomb(path, rows=1_000_000, dimension=True):
    """An XLSX of a million rows that packs into a few megabytes."""
    path.write_bytes(xlsx_bytes([("序号", "名称")]))
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    body = "".join(f'<row r="{n}"><c r="A{n}" t="n"><v>{n}</v></c></row>' for n in range(1, rows + 1))
    head = f'<dimension ref="A1:B{rows}"/>' if dimension else ""
    parts["xl/worksheets/sheet1.xml"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"{head}<sheetData>{body}</sheetData></worksheet>").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, data in parts.items():
            target.writestr(name, data)


@pytest.mark.parametrize("dimension", [True, False], ids=["declared", "undeclared"])
def test_a_zip_bomb_is_refused_within_seconds(tmp_path, real_plan, dimension):
    path = tmp_path / "bomb.xlsx"
    zip_bomb(path, dimension=dimension)
    assert path.stat().st_size < 20 * 1024 * 1024
    started = time.monotonic()
    with pytest.raises(ImportFailed) as failed:
        import_plan(path, "t-bomb")
    assert time.monotonic() - started < 5
    assert failed.value.errors == ["bomb.xlsx: 超过 100000 行，请拆分后再导入"]


def test_an_oversized_upload_is_refused_before_parsing(client, planner, real_plan, settings):
    settings.TRACKER_UPLOAD_MAX_BYTES = 1024
    upload = SimpleUploadedFile("targets.xlsx", b"PK\x03\x04" + b"0" * 5000)
    client.force_login(planner)
    text = client.post("/targets/upload/", {"file": upload}).content.decode()
    assert "targets.xlsx: 文件超过 0 MB" in text or "文件超过" in text
    assert not AnnualTarget.objects.exists()


# ---------------------------------------------------------------- bounded dates

@pytest.mark.parametrize("path", ["/", "/ranking/", "/rollup/"])
@pytest.mark.parametrize("as_of", ["0001-01-01", "1999-12-31", "9999-12-31"])
def test_an_as_of_out_of_range_is_a_400_in_chinese(client, leader, path, as_of):
    client.force_login(leader)
    response = client.get(f"{path}?as_of={as_of}")
    assert response.status_code == 400
    assert "超出范围" in response.content.decode()


def test_report_months_and_milestone_dates_are_bounded_by_the_plan(client, unit_a_user, real_plan):
    item = Item.objects.filter(plan=real_plan, unit_links__unit__name=UNIT_A).first()
    client.force_login(unit_a_user)
    text = client.post(f"/items/{item.pk}/report/", {"month": "0001-01", "status": "in_progress",
                                                       "progress_text": "测试", "version": "0"}).content.decode()
    assert "月份不能早于 2020年01月" in text
    assert not StatusReport.objects.filter(item=item).exists()
    milestone = Milestone.objects.create(item=item, name="开工", due_date="2026-03-01")
    response = client.post(f"/milestones/{milestone.pk}/met/", {"met_on": "0001-01-01"}, follow=True)
    assert "完成日期不能早于 2020-01-01" in response.content.decode()
    assert Milestone.objects.get(pk=milestone.pk).met_on is None


def test_the_admin_refuses_a_report_month_before_the_plan(client, planner, real_plan):
    item = Item.objects.get(plan=real_plan, list_kind=ListKind.PROJECT, seq=1)
    client.force_login(planner)
    response = client.post("/admin/reporting/statusreport/add/", {
        "item": item.pk, "month": "0001-01-01", "status": "in_progress"})
    assert response.status_code == 200
    assert "月份不能早于" in response.content.decode()
    assert not StatusReport.objects.filter(item=item).exists()


# ---------------------------------------------------------------- no 500, whatever the query

HOSTILE = {
    "as_of": ["0001-01-01", "2026-02-30", "x" * 300, "'; DROP TABLE projects_item; --"],
    "page": ["-1", "0", "99999999999999999999999", "abc", "²"],
    "per_page": ["0", "-5", "1000000", "1e9", "²"],
    "sort": ["-nonexistent", "<script>", "name,-seq", "__class__"],
    "plan": ["999999999999999999999", "<x>", "ojk-14\x00", "²", "١", "9" * 20],
    "category": ["999999999999999999999999", "-1", "1.5", "abc", "²", "١٢", "9" * 20],
    "unit": ["999999999999999999999999", "1 OR 1=1", "²", "١٢", "99999999999999999999"],
    "q": ["\x00", "%", "_", "'" * 500, XSS],
    "year": ["99999999999", "-1", "NaN", "1e400", "²", "２０２６"],
    "indicator": ["²", "99999999999999999999"], "table": ["²", "99999999999999999999"],
    "end_year": ["99999999999999", "Infinity"],
    "total_min": ["NaN", "1e400", "-1e400", "９９"],
    "total_max": ["Infinity", "0x10"],
    "light": ["purple"], "status": ["<b>"], "project_type": ["x"], "domain": ["\x00"],
    "kind": ["<x>"], "severity": ["9"], "list_kind": ["nope"],
    "opened_after": ["0001-01-01", "9999-99-99"], "opened_before": ["-1"],
    "month": ["0001-01", "9999-12", "2026-13", "abc"],
    "back": ["//evil.example/", "javascript:alert(1)", "/lists/\\\\evil"],
    "tab": ["history", "<x>"], "format": ["pdf", XSS], "_export": ["pdf", XSS],
}


def url_samples():
    """Every GET-able URL of the site with sample path arguments."""
    samples = []

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                if "admin" in str(p.pattern):
                    continue
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                route = prefix + str(p.pattern)
                samples.append("/" + route.replace("<slug:kind>", "project").replace("<int:pk>", "1")
                               .replace("<int:pk>", "1").replace("<slug:code>", PLAN_CODE))
    walk(get_resolver().url_patterns)
    return sorted(set(samples))


@pytest.mark.parametrize("role", [Role.PLANNER, Role.UNIT])
def test_no_input_gives_a_500(client, real_plan, role):
    user = make_user(f"fuzz_{role}", role, [UNIT_A] if role == Role.UNIT else [])
    client.force_login(user)
    client.raise_request_exception = False  # collect every 500, not only the first
    urls = url_samples()
    assert "/lists/project/" in urls and "/ranking/" in urls
    failures = []
    for url in urls:
        if "logout" in url:
            continue
        for name, values in HOSTILE.items():
            for value in values:
                response = client.get(url, {name: value})
                if hasattr(response, "streaming_content"):
                    b"".join(response.streaming_content)
                if response.status_code >= 500:
                    failures.append((url, name, value, response.status_code))
    assert failures == []


LIST_KINDS = [kind.value for kind in ListKind]
BEAT_TASKS = "/admin/django_celery_beat/periodictask/"
# The 27 inputs the fault tests of issue 22 found answering 500.
ISSUE_22_INPUTS = (
    [f"/lists/{kind}/?plan=²" for kind in LIST_KINDS]
    + [f"/lists/{kind}/?category=²" for kind in LIST_KINDS]
    + ["/reports/template/?unit=²", "/admin/projects/item/?unit=²", "/admin/projects/item/?unit=99999999999999999999"]
    + [f"{BEAT_TASKS}?{field}__{lookup}={day}" for field in ("start_time", "last_run_at")
       for lookup in ("gte", "lt") for day in ("0001-01-01", "9999-12-31")]
    + [f"{BEAT_TASKS}?start_time__year=9999&start_time__month=12&start_time__day=31", f"{BEAT_TASKS}?start_time__year=1",
       "/admin/projects/item/?plan__id__exact=99999999999999999999", "/admin/axes/accessattempt/?attempt_time__gte=0001-01-01"]
)


@pytest.fixture
def second_plan(real_plan):
    """With two plans the lists offer the plan filter and the categories of the chosen plan."""
    from projects.models import Plan

    return Plan.objects.create(code="t-second", name="第二个规划", start_year=2026, end_year=2030)


def test_the_27_inputs_of_issue_22_give_no_500(client, second_plan):
    from django.contrib.auth.models import User

    assert len(ISSUE_22_INPUTS) == 27
    client.force_login(User.objects.create_superuser("root_t", "root@example.cn", "pw-root_t"))
    client.raise_request_exception = False
    answers = {url: client.get(url) for url in ISSUE_22_INPUTS}
    assert [(url, r.status_code) for url, r in answers.items() if r.status_code >= 500] == []
    for url, response in answers.items():
        text = response.content.decode()
        if url.startswith("/admin/projects/item/?unit="):
            assert response.status_code == 200 and "无效" in text, url
        elif url.startswith(BEAT_TASKS) or "attempt_time" in url:
            assert response.status_code == 400 and "超出范围" in text, url
        elif "99999999999999999999" in url:
            assert response.status_code == 400 and "不是有效的整数" in text, url
    assert "规划" in answers["/lists/project/?plan=²"].content.decode()


def test_ids_in_query_strings_and_files_take_ascii_digits_only():
    from projects.validation import parse_id

    assert parse_id("12") == 12
    for raw in ("²", "١٢", "１２", "0", "-1", "1.0", " 1", "9" * 20, str(2**63), "", None):
        assert parse_id(raw) is None, raw


def test_indicator_values_upload_refuses_a_non_ascii_id(real_plan):
    from indicators.values import TEMPLATE_HEADER, import_values
    from indicators.models import Indicator

    upload = io.BytesIO(xlsx_bytes([TEMPLATE_HEADER, ["²", "", "", "", "指标", "", "2023", "1", ""]]))
    with pytest.raises(ImportFailed) as failed:
        import_values(upload, "values.xlsx", None, Indicator.objects.all())
    assert failed.value.errors == ['values.xlsx 工作表「Sheet」第 2 行 指标编号 "²": 没有这个指标，或您无权填报该指标']


def test_hostile_path_arguments_give_404_not_500(client, leader):
    client.force_login(leader)
    for url in ("/items/99999999999999999999/", "/items/0/report/", "/lists/nope/",
                "/items/9223372036854775808/"):
        assert client.get(url).status_code == 404, url


def test_error_pages_are_in_chinese(client, leader, unit_a_user, rf):
    from django.views.defaults import server_error

    client.force_login(leader)
    assert "页面不存在" in client.get("/items/99999999/").content.decode()
    item = Item.objects.exclude(unit_links__unit__name=UNIT_A).first()
    client.force_login(unit_a_user)
    assert "页面不存在" in client.get(f"/items/{item.pk}/report/").content.decode()
    client.force_login(leader)
    response = client.get(f"/items/{item.pk}/report/")
    assert response.status_code == 403 and "无权访问" in response.content.decode()
    assert "系统出错" in server_error(rf.get("/")).content.decode()


# ---------------------------------------------------------------- concurrent writes

def _run_concurrent_writes(env):
    result = subprocess.run([sys.executable, str(ROOT / "tests" / "concurrent_writes.py")], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["errors"] == [] and summary["alive"] == 0, summary
    assert summary["duplicates"] == 0
    assert summary["results"].get("import ok") == 3
    assert summary["results"].get("report 302", 0) >= 8  # every writer's own entry saved
    assert not any(key.startswith(("report 5", "login 5", "dashboard 5")) for key in summary["results"])
    return summary


def test_the_embedded_sqlite_takes_concurrent_writes(tmp_path):
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'tracker.sqlite3'}", TRACKER_VAR_DIR=str(tmp_path),
               CACHE_URL="locmemcache://", CELERY_BROKER_URL="filesystem://", DEBUG="1")
    assert _run_concurrent_writes(env)["vendor"] == "sqlite"


@pytest.mark.django_db(transaction=True)
def test_postgresql_takes_concurrent_writes(tmp_path):
    name = f"concurrency_{secrets.token_hex(4)}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")
    try:
        parts = urlsplit(os.environ["DATABASE_URL"])
        env = dict(os.environ, DATABASE_URL=urlunsplit(parts._replace(path="/" + name)),
                   TRACKER_VAR_DIR=str(tmp_path))
        assert _run_concurrent_writes(env)["vendor"] == "postgresql"
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# ---------------------------------------------------------------- login throttling

@pytest.mark.parametrize("login_url", ["/accounts/login/", "/admin/login/"])
def test_ten_wrong_passwords_lock_the_user_name_out(client, planner, login_url):
    for _ in range(10):
        client.post(login_url, {"username": planner.username, "password": "wrong"})
    response = client.post(login_url, {"username": planner.username, "password": "pw-planner_t"})
    assert "登录失败次数过多，已暂时锁定" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_ten_failures_from_one_address_lock_it_out(client, planner):
    for n in range(10):
        client.post("/accounts/login/", {"username": f"guess{n}", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": planner.username, "password": "pw-planner_t"})
    assert "登录失败次数过多" in response.content.decode()


def test_a_few_wrong_passwords_do_not_lock_anyone_out(client, planner):
    for _ in range(3):
        client.post("/accounts/login/", {"username": planner.username, "password": "wrong"})
    response = client.post("/accounts/login/", {"username": planner.username, "password": "pw-planner_t"})
    assert response.status_code == 302 and client.session.get("_auth_user_id") == str(planner.pk)


# ---------------------------------------------------------------- production settings and start

def production_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("TRACKER_SSL") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}  # set by the browser tests
    env.update({"DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "127.0.0.1,localhost"})
    env.update(extra)
    return env


def test_check_deploy_is_clean_with_debug_off():
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy"], cwd=ROOT, env=production_env(),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


def test_run_command_binds_loopback_unless_host_is_set():
    script = (ROOT / "scripts" / "run.sh").read_text()
    assert 'HOST="${HOST:-127.0.0.1}"' in script and 'runserver "$HOST:$PORT"' in script
    assert "0.0.0.0" not in script.replace("HOST=0.0.0.0", "")


@pytest.mark.parametrize("env, message", [
    ({"DEBUG": "1"}, "DEBUG 必须关闭"),
    ({"SECRET_KEY": "dev-only-insecure-key-do-not-use-in-production"}, "SECRET_KEY 不能使用开发默认值"),
    ({"SECRET_KEY": "short"}, "SECRET_KEY 太短"),
])
def test_the_production_start_refuses_unsafe_settings(env, message):
    result = subprocess.run(["bash", "scripts/serve.sh"], cwd=ROOT, env=production_env(**env),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and message in result.stderr


def embedded_env(tmp_path, **extra):
    """The environment scripts/run.sh gives the embedded default (DEBUG off, plain HTTP here)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "CACHE_URL", "CELERY_BROKER_URL", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE")
           and not k.startswith("TRACKER_")}
    env.update({"TRACKER_VAR_DIR": str(tmp_path), "SECRET_KEY": secrets.token_urlsafe(50), "TRACKER_LOCAL_HTTP": "1"})
    env.update(extra)
    return env


def test_the_run_command_runs_with_debug_off_and_asks_for_demo_users_explicitly():
    script = (ROOT / "scripts" / "run.sh").read_text()
    assert 'export DEBUG="${DEBUG:-0}"' in script and "DEBUG=1" not in script.replace("DEBUG:-1", "")
    assert "TRACKER_COLLECTED_STATIC=1" in script and "collectstatic" in script
    assert "create_demo_users --demo" in script


def test_demo_users_need_the_demo_option_whatever_debug_says(real_plan, settings):
    from django.contrib.auth.models import User
    from django.core.management import CommandError, call_command

    settings.DEBUG = True
    with pytest.raises(CommandError, match="--demo"):
        call_command("create_demo_users", stdout=io.StringIO())
    assert not User.objects.filter(username="planner").exists()
    settings.DEBUG = False
    call_command("create_demo_users", "--demo", stdout=io.StringIO())
    assert User.objects.filter(username__in=["planner", "leader", "unit_dev", "unit_econ"]).count() == 4


def test_a_full_disk_on_the_embedded_sqlite_shows_the_chinese_500_page(tmp_path):
    debug = re.search(r'export DEBUG="\$\{DEBUG:-(\w+)\}"', (ROOT / "scripts" / "run.sh").read_text()).group(1)
    env = embedded_env(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'tracker.sqlite3'}", ALLOWED_HOSTS="testserver", DEBUG=debug,
                       CACHE_URL="locmemcache://", CELERY_BROKER_URL="filesystem://", CELERY_TASK_ALWAYS_EAGER="1")
    result = subprocess.run([sys.executable, str(ROOT / "tests" / "full_disk.py")], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"status": 500, "chinese": True, "technical": False}


def test_the_run_command_serves_as_in_production_and_stops(tmp_path):
    """bash scripts/run.sh end to end on a fresh folder: DEBUG off (Chinese 404, no technical page),
    collected static files from WhiteNoise, the demo login, a worker beside the server."""
    port = free_port()
    env = embedded_env(tmp_path, PORT=str(port))
    env.pop("SECRET_KEY")  # the script makes one for this machine
    log = open(tmp_path / "run.log", "w")
    server = subprocess.Popen(["bash", "scripts/run.sh"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            assert server.poll() is None, (tmp_path / "run.log").read_text()[-3000:]
            try:
                if http(port, "GET", "/accounts/login/", headers={"X-Forwarded-Proto": "http"})[0].status == 200:
                    break
            except OSError:
                pass
            time.sleep(1)
        else:
            raise AssertionError("no answer:\n" + (tmp_path / "run.log").read_text()[-3000:])
        assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
        plain = {"X-Forwarded-Proto": "http"}
        cookies = {}
        response, page = http(port, "GET", "/accounts/login/", cookies=cookies, headers=plain)
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
        response, _ = http(port, "POST", "/accounts/login/", cookies=cookies, headers={
            **plain, "Content-Type": "application/x-www-form-urlencoded", "Referer": f"http://127.0.0.1:{port}/"},
            body=f"username=unit_dev&password=unit-demo-2026&csrfmiddlewaretoken={token}")
        assert response.status == 302 and "sessionid" in cookies
        response, page = http(port, "GET", "/", cookies=cookies, headers=plain)
        assert response.status == 200
        css = re.search(rb'href="(/static/css/tracker\.[0-9a-f]+\.css)"', page)
        assert css and http(port, "GET", css.group(1).decode(), headers=plain)[0].status == 200
        response, page = http(port, "GET", "/items/99999999/", cookies=cookies, headers=plain)
        assert response.status == 404 and "页面不存在" in page.decode() and "Traceback" not in page.decode()
        response, page = http(port, "GET", "/no/such/page/", cookies=cookies, headers=plain)
        assert response.status == 404 and "URLconf" not in page.decode()  # not DEBUG's technical 404
    finally:
        os.killpg(os.getpgid(server.pid), signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(os.getpgid(server.pid), signal.SIGKILL)
        log.close()
    time.sleep(3)
    left = subprocess.run(["pgrep", "-f", f"127.0.0.1:{port}"], capture_output=True, text=True).stdout.split()
    assert left == [], "everything stops with the run command"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(port, method, path, body=None, cookies=None, headers=None):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    head = {"X-Forwarded-Proto": "https", "Host": "127.0.0.1"}
    if cookies:
        head["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    head.update(headers or {})
    conn.request(method, path, body=body, headers=head)
    response = conn.getresponse()
    data = response.read()
    for header, value in response.getheaders():
        if header.lower() == "set-cookie" and cookies is not None:
            name, rest = value.split("=", 1)
            cookies[name] = rest.split(";", 1)[0]
    return response, data


@pytest.mark.django_db(transaction=True)
def test_the_production_start_serves_logins_over_http_and_stops(tmp_path):
    name = f"serve_{secrets.token_hex(4)}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")
    port = free_port()
    parts = urlsplit(os.environ["DATABASE_URL"])
    env = production_env(DATABASE_URL=urlunsplit(parts._replace(path="/" + name)), PORT=str(port),
                         WEB_CONCURRENCY="2", TRACKER_BEHIND_PROXY="1", TRACKER_VAR_DIR=str(tmp_path))
    log = open(tmp_path / "serve.log", "w")
    server = subprocess.Popen(["bash", "scripts/serve.sh"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                response, _ = http(port, "GET", "/accounts/login/")
                if response.status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            raise AssertionError("no answer:\n" + (tmp_path / "serve.log").read_text())
        subprocess.run([sys.executable, "manage.py", "shell", "-c",
                        "from django.contrib.auth.models import User; "
                        "User.objects.create_superuser('ops', 'ops@example.cn', 'ops-password-2026')"],
                       cwd=ROOT, env=env, check=True, capture_output=True)
        cookies = {}
        response, page = http(port, "GET", "/accounts/login/", cookies=cookies)
        policy = dict(part.strip().split(" ", 1) for part in response.getheader("Content-Security-Policy").split(";"))
        assert policy["default-src"] == policy["script-src"] == policy["style-src"] == "'self'"
        assert "Secure" in response.getheader("Set-Cookie", "")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
        response, _ = http(port, "POST", "/accounts/login/",
                           body=f"username=ops&password=ops-password-2026&csrfmiddlewaretoken={token}",
                           cookies=cookies, headers={"Content-Type": "application/x-www-form-urlencoded",
                                                     "Referer": "https://127.0.0.1/accounts/login/"})
        assert response.status == 302 and "sessionid" in cookies, response.status
        response, page = http(port, "GET", "/", cookies=cookies)
        assert response.status == 200 and "六重清单" in page.decode()
        css = re.search(rb'href="(/static/css/tracker\.[0-9a-f]+\.css)"', page)
        assert css, "static files are collected with hashed names"
        assert http(port, "GET", css.group(1).decode())[0].status == 200  # served by WhiteNoise
        plain = http(port, "GET", "/accounts/login/", headers={"X-Forwarded-Proto": "http"})[0]
        assert plain.status == 301 and plain.getheader("Location").startswith("https://")
        assert "max-age=31536000" in (http(port, "GET", "/accounts/login/")[0].getheader("Strict-Transport-Security") or "")
        workers = subprocess.run(["pgrep", "-g", str(os.getpgid(server.pid)), "-f", "celery"],
                                 capture_output=True, text=True).stdout.split()
        assert len(workers) >= 2, "a Celery worker and beat run beside gunicorn"
    finally:
        os.killpg(os.getpgid(server.pid), signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(os.getpgid(server.pid), signal.SIGKILL)
        log.close()
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    time.sleep(1)
    left = subprocess.run(["pgrep", "-f", f"127.0.0.1:{port}"], capture_output=True, text=True).stdout.split()
    assert left == [], "everything stops with the start command"


__all__ = ["Decimal", "Path"]
