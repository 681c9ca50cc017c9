"""Import of the 六重清单 from the plan text, CSV and XLSX (projects.importer, import_plan command).

The real seed (fixtures/ojk_14th_plan.txt) is imported once per session by conftest; bad
inputs are built in tmp_path by copying the seed and replacing one tab-separated cell, so
the line an error must name is known.
"""
import csv
import io
import re
import zipfile
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Sum
from openpyxl import Workbook

from projects.importer import (
    ImportFailed,
    UnitResolver,
    import_plan,
    parse_money,
    parse_period,
    split_units,
    squeeze,
)
from projects.models import (
    Category,
    Item,
    ItemStatus,
    ItemUnit,
    ListKind,
    Plan,
    Programme,
    ProjectType,
    Unit,
    UnitAlias,
)

from .conftest import PLAN_CODE, SEED

D = Decimal
SEED_TEXT = SEED.read_text(encoding="utf-8")
SEED_LINES = SEED_TEXT.splitlines()
ATTACHMENT_LINE = 912  # 附件：瓯江口产业集聚区发展“十四五”规划“六重”清单
PLAN_NAME = "瓯江口产业集聚区发展“十四五”规划"

OJK = "温州市瓯江口开发建设投资集团有限公司"
ECON = "经济发展局（统计局，科技局）"
FINANCE = "财政局（国有资产管理办公室，金融办）"
SOCIAL = "社会事务综合服务局"

# Seed lines (1-based) of a few project rows, and the column index of each field.
P1_LINE, P2_LINE, P3_LINE, P4_LINE, P100_LINE = 918, 919, 920, 923, 1044
PROG1_LINE = 1178
SEQ, NAME, CONTENT, TYPE, PERIOD, TOTAL, PLAN_INV, UNITS = range(8)


# ---------------------------------------------------------------- helpers

def seed_cells(line_no):
    return SEED_LINES[line_no - 1].split("\t")


def seed_variant(tmp_path, edits, name="bad_plan.txt"):
    """A copy of the seed with cells replaced: edits = [(line, column, expected old, new)]."""
    lines = list(SEED_LINES)
    for line_no, col, old, new in edits:
        cells = lines[line_no - 1].split("\t")
        assert cells[col] == old, f"seed line {line_no} column {col} is {cells[col]!r}, not {old!r}"
        cells[col] = new
        lines[line_no - 1] = "\t".join(cells)
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def attachment_rows():
    """The seed's rows from the 附件 line on, split on tabs."""
    return [line.split("\t") for line in SEED_LINES[ATTACHMENT_LINE - 1:]]


def write_csv(path, rows, encoding="utf-8-sig"):
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


SHEET_OF_HEADING = {
    "一、重大项目清单": "重大项目",
    "其中：十大（类）百亿工程": "十大（类）百亿工程",
    "二、重大平台清单": "重大平台",
    "三、重大产业清单": "重大产业",
    "四、重大改革清单": "重大改革",
    "五、重大政策清单": "重大政策",
    "六、重大要素清单": "重大要素",
}
SHEET_ORDER = ["重大项目", "重大平台", "重大产业", "重大改革", "重大政策", "重大要素", "十大（类）百亿工程"]
NUMBER = re.compile(r"\d+(\.\d+)?")


def _as_number(text):
    return int(text) if text.isdigit() else float(text)


def seed_sheets():
    """Each list's rows of the attachment: one header row, no blank lines, headings dropped
    (the sheet title names the list). Sequence numbers, one-year periods and money cells
    that are plain numbers become numbers, as a spreadsheet would hold them."""
    rows = attachment_rows()
    title_row, sheets, current = rows[0], {}, None
    for cells in rows[1:]:
        nonempty = [c.strip() for c in cells if c.strip()]
        if not nonempty:
            continue
        if len(nonempty) == 1 and nonempty[0] in SHEET_OF_HEADING:
            current = sheets.setdefault(SHEET_OF_HEADING[nonempty[0]], {"header": None, "rows": []})
            continue
        if current is None:
            continue
        if cells[0].strip() == "序号":
            if current["header"] is None:
                current["header"] = cells
                current["rows"].append(cells)
            continue
        current["rows"].append(cells)
    assert sorted(sheets) == sorted(SHEET_ORDER)
    out = {}
    for title in SHEET_ORDER:
        header = sheets[title]["header"]
        money_cols = [i for i, h in enumerate(header) if "总投资" in h or "十四五" in h]
        period_cols = [i for i, h in enumerate(header) if h in ("建设期限", "建设年限")]
        converted = []
        for cells in sheets[title]["rows"]:
            row = list(cells)
            if cells is not header:
                if row[0].strip().isdigit():
                    row[0] = int(row[0])
                for i in money_cols:
                    if i < len(row) and NUMBER.fullmatch(row[i].strip()):
                        row[i] = _as_number(row[i].strip())
                for i in period_cols:
                    if i < len(row) and re.fullmatch(r"\d{4}", str(row[i]).strip()):
                        row[i] = int(row[i])
            converted.append([None if c == "" else c for c in row])
        out[title] = converted
    out["重大项目"].insert(0, title_row)
    return out


def write_xlsx(path, sheets):
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def units_of(item):
    return [(link.unit.name, link.role) for link in item.unit_links.select_related("unit")]


def table_state():
    """Row counts of every table an import touches, plus history rows."""
    return {
        "Plan": Plan.objects.count(),
        "Item": Item.objects.count(),
        "ItemUnit": ItemUnit.objects.count(),
        "Unit": Unit.objects.count(),
        "UnitAlias": UnitAlias.objects.count(),
        "Category": Category.objects.count(),
        "Programme": Programme.objects.count(),
        "Item.history": Item.history.count(),
        "ItemUnit.history": ItemUnit.history.count(),
        "Unit.history": Unit.history.count(),
    }


def plan_content(plan, with_lines=False):
    """Everything an import writes for a plan, independent of primary keys."""
    cats = list(
        plan.categories.order_by("list_kind", "order").values_list(
            "list_kind", "order", "name", "printed_label", "printed_total_investment", "printed_plan_investment"
        )
    )
    items = []
    for i in plan.items.select_related("category").prefetch_related("unit_links__unit").order_by("list_kind", "seq"):
        row = (
            i.list_kind, i.seq, i.category.name if i.category else None, i.category.order if i.category else None,
            i.name, i.content, i.domain, i.project_type, i.start_year, i.end_year,
            i.total_investment, i.total_investment_approx, i.plan_investment, i.plan_investment_approx,
            i.status, i.units_as_printed, tuple(units_of(i)),
        )
        items.append(row + ((i.source_line,) if with_lines else ()))
    progs = list(
        plan.programmes.order_by("seq").values_list(
            "seq", "name", "content", "start_year", "end_year", "total_investment", "total_investment_approx",
            *(["source_line"] if with_lines else []),
        )
    )
    return {"name": plan.name, "printed_totals": plan.printed_totals, "categories": cats, "items": items,
            "programmes": progs}


def run_command(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_plan", *[str(a) for a in args], stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# ---------------------------------------------------------------- the seed, as imported

LIST_COUNTS = {
    ListKind.PROJECT: 196, ListKind.PLATFORM: 19, ListKind.INDUSTRY: 16,
    ListKind.REFORM: 12, ListKind.POLICY: 20, ListKind.ELEMENT: 17,
}
CATEGORY_COUNTS = {
    ListKind.PROJECT: [("基础设施项目", 47), ("产业发展项目", 75), ("房地产项目", 41), ("公共服务项目", 30),
                       ("生态保护项目", 3)],
    ListKind.PLATFORM: [("重大开放平台", 4), ("重大产业平台", 8), ("重大科创平台", 6), ("现代农业发展平台", 1)],
    ListKind.INDUSTRY: [("突出培育六大标志性产业链", 6), ("打造现代服务业强引擎", 3), ("大力发展海洋经济", 7)],
    ListKind.ELEMENT: [("土地保障", 5), ("资金保障", 9), ("人才保障", 3)],
}


def test_seed_gives_every_entry_of_every_list(real_plan):
    assert real_plan.name == PLAN_NAME
    counts = dict(real_plan.items.values_list("list_kind").annotate(n=Count("id")))
    assert counts == LIST_COUNTS
    assert real_plan.programmes.count() == 10
    assert list(real_plan.programmes.values_list("seq", flat=True)) == list(range(1, 11))
    for kind in (ListKind.PLATFORM, ListKind.INDUSTRY, ListKind.REFORM, ListKind.POLICY, ListKind.ELEMENT):
        assert list(real_plan.items.of_list(kind).values_list("seq", flat=True)) == list(
            range(1, LIST_COUNTS[kind] + 1)
        ), kind


def test_seed_entries_per_category(real_plan):
    for kind, expected in CATEGORY_COUNTS.items():
        got = list(
            Category.objects.filter(plan=real_plan, list_kind=kind)
            .order_by("order")
            .annotate(n=Count("items"))
            .values_list("name", "n")
        )
        assert got == expected, kind
    # 改革 and 政策 have no categories; every other entry has one.
    assert not Category.objects.filter(plan=real_plan, list_kind__in=[ListKind.REFORM, ListKind.POLICY]).exists()
    assert not real_plan.items.filter(list_kind__in=[ListKind.REFORM, ListKind.POLICY], category__isnull=False).exists()
    assert not real_plan.items.filter(
        list_kind__in=list(CATEGORY_COUNTS), category__isnull=True
    ).exists()
    labels = list(Category.objects.filter(plan=real_plan, list_kind=ListKind.PROJECT)
                  .order_by("order").values_list("printed_label", flat=True))
    assert labels == ["一、基础设施项目", "二、产业发展项目", "三、房地产项目", "四、公共服务项目", "五、生态保护项目"]


def test_project_sequence_gaps_are_not_invented(real_plan):
    seqs = set(real_plan.items.of_list(ListKind.PROJECT).values_list("seq", flat=True))
    assert seqs == set(range(1, 201)) - {75, 97, 98, 165}
    for gap in (75, 97, 98, 165):
        assert not Item.objects.filter(plan=real_plan, list_kind=ListKind.PROJECT, seq=gap).exists()


def test_category_totals_computed_by_the_database(real_plan):
    rows = (
        Item.objects.filter(plan=real_plan, list_kind=ListKind.PROJECT)
        .values("category__order", "category__name", "category__printed_total_investment",
                "category__printed_plan_investment")
        .annotate(total=Sum("total_investment"), plan=Sum("plan_investment"))
        .order_by("category__order")
    )
    got = {r["category__name"]: (r["total"], r["plan"], r["category__printed_total_investment"],
                                 r["category__printed_plan_investment"]) for r in rows}
    assert got == {
        "基础设施项目": (D("886.38"), D("525.93"), D("886.38"), D("525.93")),
        "产业发展项目": (D("671.98"), D("427.60"), D("671.98"), D("427.60")),
        "房地产项目": (D("610.27"), D("464.24"), D("610.27"), D("464.24")),
        "公共服务项目": (D("164.89"), D("158.55"), D("164.89"), D("158.55")),
        # the printed “十四五” subtotal 36.84 is not the sum of the three rows
        "生态保护项目": (D("36.84"), D("35.98"), D("36.84"), D("36.84")),
    }
    whole = Item.objects.filter(plan=real_plan, list_kind=ListKind.PROJECT).aggregate(
        total=Sum("total_investment"), plan=Sum("plan_investment"))
    assert whole == {"total": D("2370.36"), "plan": D("1612.30")}
    assert real_plan.printed_totals[ListKind.PROJECT] == {"total": "2370.36", "plan_investment": "1613.16"}
    prog = real_plan.programmes.aggregate(total=Sum("total_investment"))
    assert prog["total"] == D("2510")
    assert real_plan.programmes.filter(total_investment_approx=True).count() == 10


def _project(plan, seq):
    return Item.objects.select_related("category").get(plan=plan, list_kind=ListKind.PROJECT, seq=seq)


def test_project_1_field_by_field(real_plan):
    item = _project(real_plan, 1)
    assert item.category.name == "基础设施项目"
    assert item.name == "温州港瓯江港区灵昆作业区 24~28#通用泊位工程"
    assert item.content.startswith("建设 5 个 5000 吨级通用泊位（泊位长度可同时靠泊 7 艘 3000 吨级货船）")
    assert item.content.endswith("泊位总通过能力 574 万吨。")
    assert item.domain == ""
    assert item.project_type == ProjectType.NEW
    assert (item.start_year, item.end_year) == (2021, 2025)
    assert (item.total_investment, item.total_investment_approx) == (D("7.3"), False)
    assert (item.plan_investment, item.plan_investment_approx) == (D("7.3"), False)
    assert item.status == ItemStatus.NOT_STARTED
    assert item.units_as_printed == OJK
    assert units_of(item) == [(OJK, ItemUnit.Role.LEAD)]
    assert item.source_line == P1_LINE


def test_project_16_unit_broken_by_spaces_is_one_unit(real_plan):
    assert seed_cells(939)[UNITS] == "温州市瓯江口开发 建设投资集团 有限公司"
    item = _project(real_plan, 16)
    assert item.name == "温州瓯江口昆九路北段 (330国道至瓯锦大道)市政工程"
    assert item.project_type == ProjectType.CONTINUING
    assert item.status == ItemStatus.IN_PROGRESS  # 续建 starts as 推进中
    assert (item.start_year, item.end_year) == (2020, 2022)
    assert (item.total_investment, item.plan_investment) == (D("3.3"), D("1.5"))
    assert item.units_as_printed == OJK
    assert units_of(item) == [(OJK, ItemUnit.Role.LEAD)]
    assert not Unit.objects.filter(name__contains="开发 建设").exists()


def test_project_29_one_year_period(real_plan):
    item = _project(real_plan, 29)
    assert (item.start_year, item.end_year) == (2021, 2021)
    assert item.period_display == "2021"
    assert (item.total_investment, item.plan_investment) == (D("0.4"), D("0.4"))
    assert units_of(item) == [("国网浙江省电力有限公司温州供电公司", ItemUnit.Role.LEAD)]


def test_project_41_all_pending_is_null_and_has_no_unit(real_plan):
    item = _project(real_plan, 41)
    assert item.name == "330 国道（灵昆段）拓宽工程"
    assert item.project_type == ProjectType.RESEARCH
    assert (item.start_year, item.end_year) == (None, None)
    assert item.period_display == "待定"
    assert (item.total_investment, item.plan_investment) == (None, None)
    assert (item.total_investment_approx, item.plan_investment_approx) == (False, False)
    assert item.units_as_printed == "待定"
    assert units_of(item) == []
    assert not Unit.objects.filter(name="待定").exists()
    # a 待定 content cell is no content
    assert _project(real_plan, 42).content == ""


def test_project_96_owner_placeholder_is_no_unit(real_plan):
    item = _project(real_plan, 96)
    assert item.category.name == "产业发展项目"
    assert (item.total_investment, item.plan_investment) == (D("80"), D("80"))
    assert item.units_as_printed == "业主单位"
    assert units_of(item) == []
    assert not Unit.objects.filter(name="业主单位").exists()


def test_project_178_two_units_lead_and_support_through_aliases(real_plan):
    assert seed_cells(1141)[UNITS] == "瓯江口社会事务综合服务局、瓯江口开发建设投资集团有限公司"
    item = _project(real_plan, 178)
    assert item.category.name == "公共服务项目"
    assert item.name == "瓯江口均优学校"
    assert units_of(item) == [(SOCIAL, ItemUnit.Role.LEAD), (OJK, ItemUnit.Role.SUPPORT)]
    assert item.units_as_printed == "瓯江口社会事务综合服务局、瓯江口开发建设投资集团有限公司"
    # the printed variants did not become units of their own
    assert not Unit.objects.filter(name__in=["瓯江口社会事务综合服务局", "瓯江口开发建设投资集团有限公司"]).exists()
    # 灵昆街道办事处 (项目 172) and 灵昆街道 (项目 23) are one unit
    assert units_of(_project(real_plan, 172)) == units_of(_project(real_plan, 23)) == [("灵昆街道", "lead")]


def test_policy_row_with_domain(real_plan):
    item = Item.objects.get(plan=real_plan, list_kind=ListKind.POLICY, seq=1)
    assert item.domain == "科技创新"
    assert item.name == "落实科技型企业税收优惠和财政支持政策"
    assert item.content.startswith("整合完善科技创新政策，落实企业研发费用税前加计扣除")
    assert item.category is None
    assert item.project_type == ""
    assert (item.start_year, item.total_investment, item.plan_investment) == (None, None, None)
    assert units_of(item) == [(ECON, ItemUnit.Role.LEAD), (FINANCE, ItemUnit.Role.SUPPORT)]
    # 政策 7 prints the same units with half-width brackets and commas
    assert seed_cells(1287)[4] == "经济发展局(统计局,科技局)、财政局(国有资产管理办公室,金融办)"
    seventh = Item.objects.get(plan=real_plan, list_kind=ListKind.POLICY, seq=7)
    assert seventh.domain == "产业发展"
    assert units_of(seventh) == units_of(item)
    assert not Unit.objects.filter(name__contains="(").exists()


def test_platform_rows_with_category(real_plan):
    item = Item.objects.select_related("category").get(plan=real_plan, list_kind=ListKind.PLATFORM, seq=4)
    assert item.category.name == "重大开放平台"
    assert item.category.printed_label == "一、重大开放平台"
    assert item.name == "温州海洋经济发展示范区（温州综合保税区）"
    assert item.content.endswith("进入全国综保区中上游行列。")
    assert units_of(item) == [
        (ECON, "lead"),
        ("自然资源和规划局（市自然资源和规划局瓯江口分局）", "support"),
        ("应急管理与生态环境局（市生态环境局瓯江口分局）", "support"),
        ("投资促进局（商务局）", "support"),
        ("温州综合保税区管委会", "support"),
    ]
    last = Item.objects.select_related("category").get(plan=real_plan, list_kind=ListKind.PLATFORM, seq=19)
    assert (last.category.name, last.category.order) == ("现代农业发展平台", 4)
    assert units_of(last) == [(ECON, "lead"), ("灵昆街道", "support")]
    element = Item.objects.select_related("category").get(plan=real_plan, list_kind=ListKind.ELEMENT, seq=6)
    assert element.category.name == "资金保障"
    assert element.name == "加快培育税源增量"


def test_programme_row(real_plan):
    prog = real_plan.programmes.get(seq=1)
    assert prog.name == "综合交通提升工程"
    assert (prog.start_year, prog.end_year) == (2020, 2025)
    assert (prog.total_investment, prog.total_investment_approx) == (D("200"), True)
    assert prog.source_line == PROG1_LINE


def test_command_reports_counts_and_printed_subtotal_mismatch(real_plan):
    out, err = run_command(SEED, "--plan", "ojk-14-fresh")
    assert err == ""
    lines = out.splitlines()
    assert lines[0].startswith("导入完成：ojk_14th_plan.txt → 规划 ojk-14-fresh")
    assert "重大项目：196 项，总投资 2370.36 亿元，“十四五”投资 1612.30 亿元；新建 196，更新 0，未变 0" in lines
    assert "  五、生态保护项目：3 项，总投资 36.84 亿元，“十四五”投资 35.98 亿元" in lines
    for label, n in (("重大平台", 19), ("重大产业", 16), ("重大改革", 12), ("重大政策", 20), ("重大要素", 17)):
        assert f"{label}：{n} 项；新建 {n}，更新 0，未变 0" in lines
    assert "十大（类）百亿工程：10 项，总投资 2510.00 亿元；新建 10，更新 0，未变 0" in lines
    warnings = [line for line in lines if line.startswith("警告：")]
    assert "警告：重大项目 五、生态保护项目 小计 “十四五”投资 印刷 36.84 ≠ 逐行合计 35.98" in warnings
    # the four subtotals that do add up are not flagged
    assert not [w for w in warnings if "小计" in w and "生态保护项目" not in w]
    fresh = Plan.objects.get(code="ojk-14-fresh")
    assert plan_content(fresh, with_lines=True) == plan_content(real_plan, with_lines=True)


# ---------------------------------------------------------------- normalisers

@pytest.mark.parametrize("raw, expected", [
    ("温州市瓯江口开发 建设投资集团 有限公司", "温州市瓯江口开发建设投资集团有限公司"),
    ("昆北路西段(昆东路至瓯锦 大道)工程", "昆北路西段(昆东路至瓯锦大道)工程"),
    ("瓯江口\u3000大道", "瓯江口大道"),
    ("温州市瓯江口开发\n建设投资集团", "温州市瓯江口开发建设投资集团"),
    ("温州港瓯江港区灵昆作业区 24~28#通用泊位工程", "温州港瓯江港区灵昆作业区 24~28#通用泊位工程"),
    ("LED 办公照明", "LED 办公照明"),
    ("  a \t\u00a0 b  ", "a b"),
    ("", ""),
    (None, ""),
])
def test_squeeze(raw, expected):
    assert squeeze(raw) == expected


@pytest.mark.parametrize("raw, expected", [
    ("7.3", (D("7.3"), False)),
    (" 136.09 ", (D("136.09"), False)),
    ("0", (D("0"), False)),
    ("1,234.5", (D("1234.5"), False)),
    ("约 200", (D("200"), True)),
    ("约200", (D("200"), True)),
    ("７．３", (D("7.3"), False)),
    ("约　２８０", (D("280"), True)),
    ("待定", (None, False)),
    ("", (None, False)),
    ("   ", (None, False)),
])
def test_parse_money(raw, expected):
    assert parse_money(raw) == expected


@pytest.mark.parametrize("raw, reason", [
    ("-5", "金额不能为负数"),
    ("－5", "金额不能为负数"),
    ("五亿", "不是数字"),
    ("abc", "不是数字"),
    ("7.3.1", "不是数字"),
    ("NaN", "不是数字"),
])
def test_parse_money_rejects(raw, reason):
    with pytest.raises(ValueError, match=reason):
        parse_money(raw)


@pytest.mark.parametrize("raw, expected", [
    ("2021-2025", (2021, 2025)),
    ("2021", (2021, 2021)),
    ("２０２１－２０２５", (2021, 2025)),
    ("２０２１", (2021, 2021)),
    ("2021 - 2025", (2021, 2025)),
    ("2021~2025", (2021, 2025)),
    ("2021—2025", (2021, 2025)),
    ("2021至2025", (2021, 2025)),
    ("2021-2025年", (2021, 2025)),
    ("2021-2021", (2021, 2021)),
    ("待定", (None, None)),
    ("", (None, None)),
])
def test_parse_period(raw, expected):
    assert parse_period(raw) == expected


@pytest.mark.parametrize("raw, reason", [
    ("2025-2021", "结束年份早于开始年份"),
    ("２０２５－２０２１", "结束年份早于开始年份"),
    ("2021-25", "建设期限应为"),
    ("2021-2023-2025", "建设期限应为"),
    ("明年", "建设期限应为"),
])
def test_parse_period_rejects(raw, reason):
    with pytest.raises(ValueError, match=reason):
        parse_period(raw)


@pytest.mark.parametrize("raw, expected", [
    ("温州市瓯江口开发 建设投资集团 有限公司", ["温州市瓯江口开发建设投资集团有限公司"]),
    ("瓯江口社会事务综合服务局、瓯江口开发建设投资集团有限公司",
     ["瓯江口社会事务综合服务局", "瓯江口开发建设投资集团有限公司"]),
    ("经济发展局（统计局，科技局）、财政局（国有资产管理办公室，金融办）", [ECON, FINANCE]),
    ("经济发展局(统计局,科技局)、财政局(国有资产管理办公室,金融办)", [ECON, FINANCE]),
    ("经济发展局 ( 统计局 , 科技局 )", [ECON]),
    ("自然资源和规划局（市自然资源和规划局、瓯江口分局）", ["自然资源和规划局（市自然资源和规划局、瓯江口分局）"]),
    ("洞头消防局；灵昆街道", ["洞头消防局", "灵昆街道"]),
    ("灵昆街道、灵昆街道", ["灵昆街道"]),
    ("灵昆街道、待定", ["灵昆街道"]),
    ("待定", []),
    ("业主单位", []),
    ("无", []),
    ("/", []),
    ("", []),
])
def test_split_units(raw, expected):
    assert split_units(raw) == expected


def test_alias_resolution_through_unit_alias(db):
    canonical = Unit.objects.create(name="测试规范单位")
    UnitAlias.objects.create(name="测试别名单位", unit=canonical)
    before = Unit.objects.count()
    resolve = UnitResolver()
    assert resolve("测试别名单位") == canonical
    assert resolve("测试规范单位") == canonical
    assert Unit.objects.count() == before
    new = resolve("从未见过的单位")
    assert new.name == "从未见过的单位" and new.pk is not None
    assert resolve("从未见过的单位") == new
    assert Unit.objects.count() == before + 1


# ---------------------------------------------------------------- bad input

CELL_CASES = [
    # id, line, column, old cell, new cell, column label in the message, reason
    ("period-order", P1_LINE, PERIOD, "2021-2025", "2025-2021", "建设期限", "结束年份早于开始年份"),
    ("negative-money", P2_LINE, TOTAL, "5", "-5", "总投资", "金额不能为负数"),
    ("non-numeric-money", P3_LINE, PLAN_INV, "5.6", "五点六", "“十四五”投资", "不是数字"),
    ("unknown-type", P4_LINE, TYPE, "续建", "改建", "项目类型", "未知的项目类型"),
    ("duplicate-seq", P2_LINE, SEQ, "2", "1", "序号", f"序号重复（已见于第 {P1_LINE} 行）"),
    ("programme-period-order", PROG1_LINE, 3, "2020-2025", "2025-2020", "建设期限", "结束年份早于开始年份"),
]
# The same file also renames 项目 100 — a valid change that must not be written either.
RENAME = (P100_LINE, NAME, "温州水果批发市场二期", "温州水果批发市场二期（改名）")


def _bad_cell_file(tmp_path, case):
    _, line, col, old, new, _, _ = case
    return seed_variant(tmp_path, [RENAME, (line, col, old, new)])


def _assert_one_error(lines, case, file_name="bad_plan.txt"):
    _, line, _, _, new, label, reason = case
    assert len(lines) == 1, lines
    message = lines[0]
    assert message.startswith(f"{file_name} 第 {line} 行 {label} ")
    assert f'"{new}"' in message
    assert reason in message


@pytest.mark.parametrize("case", CELL_CASES, ids=[c[0] for c in CELL_CASES])
def test_bad_cell_command_fails_and_writes_nothing(real_plan, tmp_path, case):
    path = _bad_cell_file(tmp_path, case)
    before, content = table_state(), plan_content(real_plan, with_lines=True)
    err = io.StringIO()
    with pytest.raises(CommandError, match="导入失败：1 处错误，未写入任何数据"):
        call_command("import_plan", str(path), "--plan", PLAN_CODE, stdout=io.StringIO(), stderr=err)
    _assert_one_error(err.getvalue().splitlines(), case)
    assert table_state() == before
    assert plan_content(Plan.objects.get(code=PLAN_CODE), with_lines=True) == content
    assert _project(real_plan, 100).name == "温州水果批发市场二期"


@pytest.mark.parametrize("case", CELL_CASES, ids=[c[0] for c in CELL_CASES])
def test_bad_cell_import_plan_raises(real_plan, tmp_path, case):
    path = _bad_cell_file(tmp_path, case)
    before, content = table_state(), plan_content(real_plan, with_lines=True)
    with pytest.raises(ImportFailed) as failed:
        import_plan(path, PLAN_CODE)
    _assert_one_error(failed.value.errors, case)
    assert table_state() == before
    assert plan_content(Plan.objects.get(code=PLAN_CODE), with_lines=True) == content
    assert _project(real_plan, 100).name == "温州水果批发市场二期"


def test_every_bad_row_is_reported_at_once(real_plan, tmp_path):
    path = seed_variant(tmp_path, [
        (P1_LINE, PERIOD, "2021-2025", "2025-2021"),
        (1300, 0, "18", "17"),  # 重大政策 18 → duplicate of 17
    ])
    before = table_state()
    err = io.StringIO()
    with pytest.raises(CommandError, match="导入失败：2 处错误"):
        call_command("import_plan", str(path), "--plan", PLAN_CODE, stdout=io.StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"bad_plan.txt 第 {P1_LINE} 行 建设期限 ")
    assert lines[1].startswith("bad_plan.txt 第 1300 行 序号 ") and "序号重复（已见于第 1299 行）" in lines[1]
    assert table_state() == before


def _png(tmp_path):
    path = tmp_path / "scan.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00")
    return path


def _prose(tmp_path):
    path = tmp_path / "plan_body.txt"
    path.write_text("\n".join(SEED_LINES[895:911]), encoding="utf-8")  # 三、强化六重清单支撑 …
    return path


def _empty(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    return path


def _blank(tmp_path):
    path = tmp_path / "blank.txt"
    path.write_text("\n  \n\n", encoding="utf-8")
    return path


def _docx(tmp_path):
    path = tmp_path / "plan.xlsx"  # a Word document saved under the wrong name
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return path


FILE_CASES = [
    ("png", _png, "不是表格文件"),
    ("prose", _prose, "未找到六重清单表格"),
    ("empty", _empty, "文件为空"),
    ("blank", _blank, "文件为空"),
    ("zip-not-xlsx", _docx, "不是有效的 XLSX 文件"),
]


@pytest.mark.parametrize("make, reason", [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES])
def test_not_a_table_command_fails_and_writes_nothing(real_plan, tmp_path, make, reason):
    path = make(tmp_path)
    before = table_state()
    err = io.StringIO()
    with pytest.raises(CommandError, match="导入失败：1 处错误"):
        call_command("import_plan", str(path), "--plan", "ojk-new", stdout=io.StringIO(), stderr=err)
    message = err.getvalue()
    assert message.startswith(f"{path.name}: ")
    assert reason in message
    assert table_state() == before
    assert not Plan.objects.filter(code="ojk-new").exists()


@pytest.mark.parametrize("make, reason", [c[1:] for c in FILE_CASES], ids=[c[0] for c in FILE_CASES])
def test_not_a_table_import_plan_raises(real_plan, tmp_path, make, reason):
    path = make(tmp_path)
    before = table_state()
    with pytest.raises(ImportFailed) as failed:
        import_plan(path, PLAN_CODE)
    assert len(failed.value.errors) == 1
    assert failed.value.errors[0].startswith(f"{path.name}: ")
    assert reason in failed.value.errors[0]
    assert table_state() == before


def test_missing_file(real_plan, tmp_path):
    with pytest.raises(CommandError):
        run_command(tmp_path / "nope.txt", "--plan", PLAN_CODE)
    with pytest.raises(ImportFailed, match="文件不存在"):
        import_plan(tmp_path / "nope.txt", PLAN_CODE)


# ---------------------------------------------------------------- re-import and dry run

def test_second_import_changes_nothing(real_plan):
    before, content = table_state(), plan_content(real_plan, with_lines=True)
    report = import_plan(SEED, PLAN_CODE)
    expected = {kind: {"created": 0, "updated": 0, "unchanged": n} for kind, n in LIST_COUNTS.items()}
    expected["programme"] = {"created": 0, "updated": 0, "unchanged": 10}
    assert report.counts == expected
    assert table_state() == before  # includes Item.history, ItemUnit.history, Unit.history
    assert plan_content(Plan.objects.get(code=PLAN_CODE), with_lines=True) == content


def test_second_import_via_command_reports_all_unchanged(real_plan):
    history = Item.history.count()
    out, _ = run_command(SEED, "--plan", PLAN_CODE)
    assert "重大项目：196 项，总投资 2370.36 亿元，“十四五”投资 1612.30 亿元；新建 0，更新 0，未变 196" in out
    assert "重大政策：20 项；新建 0，更新 0，未变 20" in out
    assert "十大（类）百亿工程：10 项，总投资 2510.00 亿元；新建 0，更新 0，未变 10" in out
    assert "警告：重大项目 五、生态保护项目 小计 “十四五”投资 印刷 36.84 ≠ 逐行合计 35.98" in out
    assert Item.history.count() == history


def test_changed_row_is_updated_in_place_with_history(real_plan, tmp_path):
    """The counterpart of the two tests above: a real change is written and counted."""
    item = _project(real_plan, 100)
    history = Item.history.count()
    report = import_plan(seed_variant(tmp_path, [RENAME]), PLAN_CODE)
    assert report.counts[ListKind.PROJECT] == {"created": 0, "updated": 1, "unchanged": 195}
    item.refresh_from_db()
    assert item.name == "温州水果批发市场二期（改名）"
    assert Item.history.count() == history + 1


def test_dry_run_of_new_plan_writes_nothing(real_plan):
    before = table_state()
    out, err = run_command(SEED, "--plan", "ojk-dry", "--dry-run")
    assert err == ""
    assert out.startswith("试运行（未写入）：ojk_14th_plan.txt → 规划 ojk-dry")
    assert "重大项目：196 项，总投资 2370.36 亿元，“十四五”投资 1612.30 亿元；新建 196，更新 0，未变 0" in out
    assert table_state() == before
    assert not Plan.objects.filter(code="ojk-dry").exists()


def test_dry_run_of_changed_file_writes_nothing(real_plan, tmp_path):
    before, content = table_state(), plan_content(real_plan, with_lines=True)
    path = seed_variant(tmp_path, [RENAME, (P1_LINE, UNITS, OJK, "全新的责任单位")], name="changed.txt")
    out, _ = run_command(path, "--plan", PLAN_CODE, "--dry-run")
    assert "新建 0，更新 2，未变 194" in out
    assert table_state() == before
    assert plan_content(Plan.objects.get(code=PLAN_CODE), with_lines=True) == content
    assert not Unit.objects.filter(name="全新的责任单位").exists()


# ---------------------------------------------------------------- CSV and XLSX

@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_csv_gives_the_same_content(real_plan, tmp_path, encoding):
    path = write_csv(tmp_path / "plan.csv", attachment_rows(), encoding)
    report = import_plan(path, "ojk-csv")
    assert report.counts[ListKind.PROJECT]["created"] == 196
    plan = Plan.objects.get(code="ojk-csv")
    expected = plan_content(real_plan)
    assert len(expected["items"]) == 280
    assert plan_content(plan) == expected
    # rows keep their line in the CSV (the 附件 line is line 1)
    offset = ATTACHMENT_LINE - 1
    assert {(k, s, line + offset) for k, s, line in plan.items.values_list("list_kind", "seq", "source_line")} == set(
        real_plan.items.values_list("list_kind", "seq", "source_line"))


def test_csv_bad_cell_names_csv_line(real_plan, tmp_path):
    rows = attachment_rows()
    offset = ATTACHMENT_LINE - 1
    assert rows[P2_LINE - offset - 1][TOTAL] == "5"
    rows[P2_LINE - offset - 1][TOTAL] = "-5"
    path = write_csv(tmp_path / "plan.csv", rows)
    before = table_state()
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_plan", str(path), "--plan", PLAN_CODE, stdout=io.StringIO(), stderr=err)
    assert err.getvalue().strip() == f'plan.csv 第 {P2_LINE - offset} 行 总投资 "-5": 金额不能为负数'
    assert table_state() == before


def test_xlsx_one_sheet_per_list_gives_the_same_content(real_plan, tmp_path):
    sheets = seed_sheets()
    first = next(r for r in sheets["重大项目"] if r[SEQ] == 1)
    assert first[TOTAL] == 7.3 and isinstance(first[TOTAL], float)  # money as number cells
    path = write_xlsx(tmp_path / "plan.xlsx", sheets)
    report = import_plan(path, "ojk-xlsx")
    assert report.counts[ListKind.PROJECT]["created"] == 196
    assert report.counts["programme"]["created"] == 10
    expected = plan_content(real_plan)
    assert len(expected["items"]) == 280
    assert plan_content(Plan.objects.get(code="ojk-xlsx")) == expected


def test_xlsx_reimport_changes_nothing(real_plan, tmp_path):
    path = write_xlsx(tmp_path / "plan.xlsx", seed_sheets())
    import_plan(path, "ojk-xlsx")
    history = Item.history.count()
    report = import_plan(path, "ojk-xlsx")
    assert all(c["created"] == 0 and c["updated"] == 0 for c in report.counts.values()), report.counts
    assert Item.history.count() == history


def test_xlsx_bad_cell_names_sheet_and_row(real_plan, tmp_path):
    sheets = seed_sheets()
    index = next(i for i, r in enumerate(sheets["重大项目"]) if r[SEQ] == 2)
    row = sheets["重大项目"][index]
    assert row[TOTAL] == 5
    row[TOTAL] = -5
    path = write_xlsx(tmp_path / "plan.xlsx", sheets)
    before = table_state()
    with pytest.raises(ImportFailed) as failed:
        import_plan(path, PLAN_CODE)
    assert index == 4  # title row, header row, 一、基础设施项目, 项目 1, 项目 2
    assert failed.value.errors == [f'plan.xlsx 工作表「重大项目」第 {index + 1} 行 总投资 "-5": 金额不能为负数']
    assert table_state() == before


def test_xlsx_subtotals_cached_by_excel_formulas_are_read_as_printed(real_plan, tmp_path):
    """Excel keeps a =SUM() subtotal as a binary float (e.g. 525.9300000000001); reading it
    back must give the 2-decimal amount, not a false “印刷 ≠ 逐行合计” warning."""
    sheets = seed_sheets()
    rows = sheets["重大项目"]
    header = next(r for r in rows if r[SEQ] == "序号")
    cols = [i for i, h in enumerate(header) if "总投资" in h or "十四五" in h]
    block = []
    for row in rows:
        if isinstance(row[SEQ], int):
            block.append(row)
        elif "小计" in row[:2]:
            for i in cols:  # what Excel caches for =SUM() over the block
                row[i] = sum(float(r[i]) for r in block if isinstance(r[i], (int, float)))
            block = []
    assert [r[PLAN_INV] for r in rows if "小计" in r[:2]][0] != 525.93  # the float artefact is there
    path = write_xlsx(tmp_path / "plan.xlsx", sheets)
    report = import_plan(path, "ojk-xlsx")
    assert [m for m in report.mismatches() if "小计" in m[0]] == []
    printed = list(Category.objects.filter(plan__code="ojk-xlsx", list_kind=ListKind.PROJECT).order_by("order")
                   .values_list("printed_total_investment", "printed_plan_investment"))
    assert printed == [
        (D("886.38"), D("525.93")), (D("671.98"), D("427.60")), (D("610.27"), D("464.24")),
        (D("164.89"), D("158.55")), (D("36.84"), D("35.98")),
    ]
    assert import_plan(path, "ojk-xlsx").counts[ListKind.PROJECT]["unchanged"] == 196
