"""Indicator tables (指标体系) of the five real plan documents in fixtures/plans/.

No database: indicators.parsing is pure Python. Counts below were taken by reading
each table in the seed text line by line; bad inputs are built from the real rows with one
cell replaced, so the line an error must name is known.
"""
import csv
import dataclasses
import functools
import hashlib
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from projects.importer import ImportFailed, Row, read_rows
from indicators.parsing import (
    BAD_NUMBER,
    parse_indicator_file,
    parse_indicator_rows,
    parse_value,
    period_of_text,
)


PLANS = Path(__file__).resolve().parent.parent / "fixtures" / "plans"
KFQ, JKQ, CITY, KCZL, OJK = (
    "000_linhai_kfq_14th.txt",
    "001_taizhouwan_jkq_14th.txt",
    "002_linhai_city_14th.txt",
    "003_taizhouwan_kechuang.txt",
    "004_oujiangkou_14th.txt",
)


@functools.cache
def doc(name):
    return parse_indicator_file(PLANS / name)


def table(name, title_start):
    found = [t for t in doc(name).tables if t.title.startswith(title_start)]
    assert len(found) == 1, [t.title for t in doc(name).tables]
    return found[0]


def indicator(tbl, name, parent=""):
    found = [i for i in tbl.indicators if i.name == name and i.parent_name == parent]
    assert len(found) == 1, [i.name for i in tbl.indicators]
    return found[0]


def value(v):
    """A ParsedValue as a comparable tuple."""
    return (v.printed, v.number, v.qualifier, v.form, v.year, v.percent)


# ---------------------------------------------------------------- the seeds and their tables

SHA256 = {
    KFQ: "48e7d27efad8d0ed8284d81b7e1405cd5ea8962973293b9b2b8bccfb650fbce7",
    JKQ: "6f5024f3c1a6c4b201110a0c3c8168ec22a2d20833bba5b59282da4533611820",
    CITY: "93a6e3d1135cb69c0fc18d0c135c50b6114ac85ad1c3b9334a7368c7bdfc7472",
    KCZL: "b9f3be1c28edb2b0bffcfe43b08806e5341a08e653d677f22a79d87605432299",
    OJK: "5e3ef5defd6c9ba0cd971b982d7210e91e91aeedc2bfdbcc01b9953d53defbc4",
}


@pytest.mark.parametrize("name", sorted(SHA256))
def test_seed_text_is_unedited(name):
    assert hashlib.sha256((PLANS / name).read_bytes()).hexdigest() == SHA256[name]


# title as printed, kind, indicator rows, 预期性, 约束性, baseline year, target year
TABLES = {
    KFQ: [
        ("表 1-1 开发区“十三五”时期主要经济指标表", "history", 4, 0, 0, 2016, 2020),
        ("表 2-1 开发区“十四五”发展目标表", "targets", 11, 11, 0, 2020, 2025),
    ],
    JKQ: [],
    CITY: [
        ("表一 “十三五”规划主要指标完成情况表", "completion", 27, 15, 12, 2015, 2020),
        ("表二 临海市“十四五”规划经济社会发展指标体系", "targets", 34, 22, 12, 2020, 2025),
    ],
    KCZL: [
        ("表 2-1 台州湾科创走廊主要目标指标表", "targets", 25, 0, 0, 2021, 2026),
    ],
    OJK: [
        ("表 1：“十三五”规划主要指标完成情况表", "completion", 16, 0, 0, 2015, 2020),
        ("瓯江口产业集聚区“十四五”主要发展指标规划表", "targets", 37, 28, 9, 2020, 2025),
    ],
}


@pytest.mark.parametrize("name", sorted(TABLES))
def test_tables_counts_and_attributes(name):
    got = [
        (t.title, t.kind, len(t.indicators),
         sum(i.attribute == "expected" for i in t.indicators),
         sum(i.attribute == "binding" for i in t.indicators),
         t.baseline_year, t.target_year)
        for t in doc(name).tables
    ]
    assert got == TABLES[name]


@pytest.mark.parametrize("name, plan_name, period", [
    (KFQ, "临海经济开发区“十四五”规划", (2021, 2025)),
    (JKQ, "台州湾经济技术开发区“十四五”发展规划", (2021, 2025)),
    (CITY, "临海市国民经济和社会发展的第十四个五年规划和二〇三五年远景目标纲要", (2021, 2025)),
    (KCZL, "台州湾科创走廊发展规划", (2022, 2026)),  # “规划期 2022—2026 年”
    (OJK, "温州瓯江口产业集聚区发展“十四五”规划", (2021, 2025)),
])
def test_plan_name_and_period(name, plan_name, period):
    d = doc(name)
    assert (d.file_label, d.plan_name, (d.start_year, d.end_year)) == (name, plan_name, period)


@pytest.mark.parametrize("text, period", [
    ("“十五五”", (2026, 2030)),
    ("“十四五”主要发展指标", (2021, 2025)),
    ("“十三五”规划主要指标完成情况表", (2016, 2020)),
    ("十一五", (2006, 2010)),
    ("第十四个五年规划和二〇三五年远景目标纲要", (2021, 2025)),
    ("“十五”计划", (2001, 2005)),
    ("规划期 2022—2026 年，远期展望至 2035 年。", (2022, 2026)),
    ("浙江省第十五次党代会", (None, None)),
    ("", (None, None)),
])
def test_period_of_text(text, period):
    assert period_of_text(text) == period


def test_title_only_tables_warn_and_do_not_fail():
    d = doc(JKQ)
    assert d.tables == []
    assert d.warnings == [
        "表1-1 台州湾经济技术开发区近年主要经济指标表（第 57 行）：只有标题，表格内容缺失（可能为图片）",
        "表2-1 台州湾经济技术开发区“十四五”发展目标表（第 92 行）：只有标题，表格内容缺失（可能为图片）",
    ]


def test_non_indicator_tables_are_ignored_silently():
    # 表 3-1 … 3-4 and 表 5-1 of the 科创走廊 are platform tables, not indicators
    assert [t.title for t in doc(KCZL).tables] == ["表 2-1 台州湾科创走廊主要目标指标表"]
    assert doc(KCZL).warnings == [] and doc(OJK).warnings == [] and doc(CITY).warnings == []


# ---------------------------------------------------------------- odd cell forms, real cells

def test_form_number_yi_shang():
    # 常住人口城镇化率 2025年 “60以上”
    v = indicator(table(CITY, "表二"), "常住人口城镇化率").target
    assert value(v) == ("60以上", Decimal("60"), "ge", "level", 2025, False)


def test_form_ge_sign():
    v = indicator(table(CITY, "表二"), "全市河流I-III类水质断面比例").target
    assert value(v) == ("≥93.3", Decimal("93.3"), "ge", "level", 2025, False)


def test_form_percent_yi_shang():
    v = indicator(table(KFQ, "表 2-1"), "高新技术产业增加值占规上工业增加值比重").target
    assert value(v) == ("70%以上", Decimal("70"), "ge", "level", 2025, True)


def test_form_cumulative_in_the_growth_column_is_the_target():
    ind = indicator(table(CITY, "表二"), "万元GDP用水量降低")  # 2025年 “—”, 年均/累计 “[15]”
    assert value(ind.target) == ("[15]", Decimal("15"), "", "cumulative", 2025, False)
    assert ind.growth is ind.target
    assert value(ind.baseline) == ("[40.8]", Decimal("40.8"), "", "cumulative", 2020, False)


def test_form_text_per_superior_task():
    ind = indicator(table(CITY, "表二"), "单位GDP能源消耗降低")
    assert value(ind.target) == ("按上级任务", None, "", "text", 2025, False)
    assert value(ind.growth) == ("", None, "", "missing", 2025, False)


def test_form_text_in_step_with_growth():
    ind = indicator(table(CITY, "表二"), "居民人均可支配收入增长")
    assert value(ind.growth) == ("与经济增长同步", None, "", "text", 2025, False)
    assert ind.target is ind.growth


def test_form_negative_cumulative_percent():
    ind = indicator(table(CITY, "表二"), "亿元GDP生产安全事故死亡率")
    assert value(ind.target) == ("[-50%]", Decimal("-50"), "", "cumulative", 2025, True)


def test_form_growth_with_qualifier():
    ind = indicator(table(CITY, "表二"), "全员劳动生产率增长")  # 2025年 “-”, 年均/累计 “7以上”
    assert value(ind.growth) == ("7以上", Decimal("7"), "ge", "growth", 2025, False)
    assert value(ind.target) == ("-", None, "", "missing", 2025, False)


def test_form_plain_growth_rate():
    ind = indicator(table(CITY, "表二"), "地区生产总值（GDP）增长")
    assert value(ind.growth) == ("6.8", Decimal("6.8"), "", "growth", 2025, False)
    assert value(ind.target) == ("—", None, "", "missing", 2025, False)
    kfq = indicator(table(KFQ, "表 2-1"), "规上工业总产值")
    assert value(kfq.growth) == ("10%", Decimal("10"), "", "growth", 2025, True)


def test_form_le_sign():
    v = indicator(table(CITY, "表一"), "细颗粒物(PM2.5)浓度").planned
    assert value(v) == ("≤35", Decimal("35"), "le", "level", 2020, False)
    v = indicator(table(OJK, "瓯江口"), "银行金融机构不良贷款率").target
    assert value(v) == ("<1.5", Decimal("1.5"), "lt", "level", 2025, False)  # '<' is strict


def test_form_yi_xia_and_words():
    assert value(parse_value("5以下", year=2025)) == ("5以下", Decimal("5"), "le", "level", 2025, False)
    assert parse_value("不低于 90%").qualifier == "ge"
    assert parse_value("不超过3").qualifier == "le"
    assert parse_value(">65").qualifier == "gt"  # '>' is strict: 65 is not over 65
    assert parse_value("≥65").qualifier == "ge"
    assert parse_value("超过3").qualifier == "gt"
    assert parse_value("低于3").qualifier == "lt" and parse_value("不低于3").qualifier == "ge"
    assert (parse_value("降低15%").number, parse_value("降低15%").form) == (Decimal("-15"), "cumulative")


def test_form_baseline_from_another_year():
    v = indicator(table(CITY, "表二"), "文化及相关产业增加值").baseline
    assert value(v) == ("2019年 32.21", Decimal("32.21"), "", "level", 2019, False)
    v = indicator(table(CITY, "表一"), "林木蓄积量", "森林增长").actual
    assert value(v) == ("2019年760", Decimal("760"), "", "level", 2019, False)


@pytest.mark.parametrize("name, tbl, ind, attr, printed", [
    (CITY, "表二", "地区生产总值（GDP）增长", "target", "—"),
    (CITY, "表二", "全员劳动生产率增长", "target", "-"),
    (KFQ, "表 2-1", "R&D经费支出占GDP比重", "baseline", "/"),
    (KCZL, "表 2-1", "整体智治实现率", "baseline", "-"),
    (OJK, "表 1", "世界500强项目(累计)", "baseline", ""),
    (OJK, "表 1", "地区生产总值", "baseline", "无统计"),
    (OJK, "瓯江口", "每万名就业人员中研发人员", "target", "未有统计"),
])
def test_form_missing(name, tbl, ind, attr, printed):
    v = getattr(indicator(table(name, tbl), ind), attr)
    assert (v.printed, v.number, v.form) == (printed, None, "missing")


def test_form_percent_sign_inside_value():
    v = indicator(table(CITY, "表二"), "依申请政务服务办件“一网通办”率").baseline
    assert value(v) == ("89.01%", Decimal("89.01"), "", "level", 2020, True)


def test_form_known_texts_of_oujiangkou():
    tbl = table(OJK, "瓯江口")
    assert indicator(tbl, "单位GDP能耗降低").target.form == "text"  # 完成下达目标
    assert indicator(tbl, "银行金融机构不良贷款率").baseline.form == "text"  # 保持省平均水平
    assert value(indicator(tbl, "常住人口人均商业面积").target) == ("1左右", Decimal("1"), "", "level", 2025, False)
    assert indicator(table(KCZL, "表 2-1"), "整体智治实现率").target.form == "text"  # 稳步提升
    v = indicator(table(OJK, "表 1"), "研究与试验发展经费支出相当于生产总值比重").actual
    assert (v.printed, v.form, v.percent) == ("研发费用占营业收入比重为 3.4%", "text", True)


def test_form_cumulative_written_as_lei_ji_and_lists():
    v = indicator(table(OJK, "表 1"), "引进国省千人才数").planned
    assert value(v) == ("5 (累计)", Decimal("5"), "", "cumulative", 2020, False)
    v = indicator(table(CITY, "表一"), "主要污染物减排指标(化学需氧量、氨氮、二氧化硫、氮氧化物)").planned
    assert (v.form, v.number, v.numbers) == ("cumulative", None, tuple(Decimal(n) for n in ("21.2", "20.3", "15", "15")))


# ---------------------------------------------------------------- *, footnotes, attributes

def test_star_marks_a_new_indicator_explained_by_footnote():
    tbl = table(KFQ, "表 2-1")
    assert tbl.footnotes == ["*为新考核指标，无 2020 年数据"]
    assert [i.name for i in tbl.indicators if i.is_new] == [
        "高新技术产业增加值占规上工业增加值比重", "R&D经费支出占GDP比重"]
    assert not any("*" in i.name for i in tbl.indicators)


def test_starred_value_takes_the_year_of_its_footnote():
    tbl = table(KCZL, "表 2-1")
    assert tbl.footnotes[-1] == "*表示为2020年数据。"
    starred = [(i.seq, i.baseline.number, i.baseline.year) for i in tbl.indicators if i.baseline.starred]
    assert starred == [("2", Decimal("9.79"), 2020), ("10", Decimal("51.5"), 2020),
                       ("15", Decimal("18.8"), 2020), ("18", Decimal("107.76"), 2020)]
    assert indicator(tbl, "省级以上科技奖申请量").baseline.year == 2021
    assert not any(i.is_new for i in tbl.indicators)


def test_footnotes_split_into_items():
    assert table(CITY, "表二").footnotes == [
        "1.每千人口拥有执业（助理）医师数为常住人口口径", "2.[ ]内为五年累计值", "3.部分指标2020年数据未出。"]
    notes = table(OJK, "瓯江口").footnotes
    assert len(notes) == 11 and notes[1] == "2.[]内为五年累计增加或提高的数值。" and notes[10].startswith("11. ")
    assert len(table(OJK, "表 1").footnotes) == 4
    assert table(KFQ, "表 1-1").footnotes == ["数据来源：开发区统计资料整理"]


def test_predictive_spelled_yuce_is_expected():
    assert {i.attribute for i in table(KFQ, "表 2-1").indicators} == {"expected"}  # printed 预测性


def test_category_carried_down_across_the_page_break():
    tbl = table(CITY, "表二")
    cats = {i.seq: i.category for i in tbl.indicators}
    assert [cats[s] for s in ("1", "2", "3", "4", "5", "12", "13", "19", "20", "34")] == [
        "经济发展", "经济发展", "经济发展", "经济发展", "科技创新", "文化发展", "生态环境", "生态环境",
        "市域治理", "安全保障"]
    ojk = table(OJK, "瓯江口")
    assert indicator(ojk, "“品字标”企业数").category == "创新驱动"  # first row after the repeated header
    assert [i.category for i in table(OJK, "表 1").indicators].count("有效投资") == 5
    assert all(i.category == "" for i in table(KFQ, "表 2-1").indicators)


def test_repeated_header_creates_no_rows():
    for name, title, header_lines in [(CITY, "表一", {157, 158}), (CITY, "表二", {265}), (OJK, "瓯江口", {264})]:
        tbl = table(name, title)
        assert not header_lines & {i.line for i in tbl.indicators}
        assert not {"指标", "指标名称", "序号"} & {i.name for i in tbl.indicators}
    assert [i.seq for i in table(CITY, "表二").indicators] == [str(n) for n in range(1, 35)]


def test_sub_indicators_and_merged_attribute():
    tbl = table(CITY, "表一")
    subs = [(i.seq, i.parent_name, i.name, i.unit, i.attribute) for i in tbl.indicators if i.parent_name]
    assert subs == [
        ("4", "城镇化率", "常住人口城镇化率", "%", "expected"),
        ("4", "城镇化率", "户籍人口城镇化率", "%", "binding"),  # name slipped into the 类别 column
        ("25", "森林增长", "森林覆盖率", "%", "binding"),      # 属性 merged over two rows
        ("25", "森林增长", "林木蓄积量", "万立方米", "binding"),
    ]
    slipped = indicator(tbl, "户籍人口城镇化率", "城镇化率")
    assert (slipped.category, value(slipped.baseline), slipped.planned.number, slipped.actual.number) == (
        "经济发展", ("34.29", Decimal("34.29"), "", "level", 2015, False), Decimal("38"), Decimal("34.24"))
    forest = indicator(tbl, "森林覆盖率", "森林增长")
    assert (forest.baseline.number, forest.planned.number, forest.actual.number) == (
        Decimal("63.3"), Decimal("64.2"), Decimal("68.4"))


def test_rows_without_seq_stand_alone():
    tbl = table(KCZL, "表 2-1")
    rows = [(i.seq, i.name, i.category) for i in tbl.indicators[5:9]]
    assert rows == [
        ("6", "省级以上新型研发机构（累计）", "技术创新策源"),
        ("", "省级以上工程研究中心（累计）", "技术创新策源"),
        ("", "省级以上双创示范基地（累计）", "技术创新策源"),
        ("7", "万人发明专利拥有量", "技术创新策源"),  # its 领域 cell was dropped, shifting it left
    ]
    seven = indicator(tbl, "万人发明专利拥有量")
    assert (seven.unit, seven.baseline.number, seven.target.number) == ("件", Decimal("36.5"), Decimal("40"))
    assert all(i.parent_name == "" for i in tbl.indicators)


def test_cells_wrapped_by_spaces_are_joined():
    tbl = table(OJK, "瓯江口")
    names = [i.name for i in tbl.indicators]
    assert "数字经济核心制造业增加值占规上工业增加值比重" in names
    assert indicator(tbl, "规上工业企业全员劳动生产率").unit == "万元/人年"
    assert [i.category for i in table(OJK, "表 1").indicators][0] == "综合实力"  # printed “综合 实力”


def test_completion_table_planned_and_actual():
    ind = indicator(table(CITY, "表一"), "地区生产总值")
    assert (ind.unit, ind.baseline.number, ind.planned.number, ind.growth.number,
            ind.actual.number, ind.actual_growth.number, ind.target) == (
        "亿元", Decimal("464.84"), Decimal("665"), Decimal("7.5"), Decimal("738.48"), Decimal("6.3"), None)
    co2 = indicator(table(CITY, "表一"), "单位生产总值二氧化碳排放降低")  # 规划目标 “—” [18]
    assert value(co2.planned) == ("[18]", Decimal("18"), "", "cumulative", 2020, False)
    ojk = indicator(table(OJK, "表 1"), "财政总收入")
    assert (ojk.planned.number, ojk.actual.number, ojk.baseline.form) == (Decimal("60"), Decimal("7.3"), "missing")


def test_history_table_keeps_every_year():
    ind = indicator(table(KFQ, "表 1-1"), "规模以上工业总产值")
    assert ind.unit == "亿元"
    assert {y: v.number for y, v in ind.series.items()} == {
        2016: Decimal("351.3"), 2017: Decimal("300.6"), 2018: Decimal("303.3"),
        2019: Decimal("290.7"), 2020: Decimal("287.2")}


# ---------------------------------------------------------------- the same tables as CSV and XLSX

def _table_rows():
    """Both 临海市 tables (title, headers, rows, page breaks, footnotes) as printed."""
    rows = read_rows(PLANS / CITY)
    return [r.cells for r in rows if 142 <= r.line <= 177 or 249 <= r.line <= 289]


def _shape(d):
    out = []
    for t in d.tables:
        t = dataclasses.asdict(t)
        del t["line"], t["where"]
        for i in t["indicators"]:
            del i["line"], i["where"]
        out.append(t)
    return out


def test_csv_and_xlsx_give_the_same_tables(tmp_path):
    expected = _shape(doc(CITY))
    csv_path = tmp_path / "city.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(_table_rows())
    book = Workbook()
    for cells in _table_rows():
        book.active.append(cells)
    xlsx_path = tmp_path / "city.xlsx"
    book.save(xlsx_path)
    for path in (csv_path, xlsx_path):
        d = parse_indicator_file(path)
        assert (d.warnings, len(d.tables)) == ([], 2)
        assert _shape(d) == expected
    first = parse_indicator_file(xlsx_path).tables[1].indicators[0]
    assert first.where == "工作表「Sheet」第 40 行"  # 36 rows of 表一, then title, blank, header


def test_xlsx_with_numeric_cells_gives_the_same_numbers(tmp_path):
    book = Workbook()
    for cells in _table_rows():
        book.active.append([float(c) if c.replace(".", "", 1).isdigit() else c for c in cells])
    path = tmp_path / "numbers.xlsx"
    book.save(path)

    def numbers(d):
        return [(i.name, [v.number for v in (i.baseline, i.target, i.planned, i.actual) if v])
                for t in d.tables for i in t.indicators]
    assert numbers(parse_indicator_file(path)) == numbers(doc(CITY))


# ---------------------------------------------------------------- errors

def _city_rows(replace):
    """The real 临海市 rows with some cells replaced: {line: {column index: text}}."""
    rows = read_rows(PLANS / CITY)
    for row in rows:
        for col, text in replace.get(row.line, {}).items():
            row.cells[col] = text
    return rows


def test_bad_rows_report_every_error_at_once():
    rows = _city_rows({
        253: {5: "abc"},                # 2025年
        256: {7: "必须性"},              # 属性
        257: {4: "NaN"},                # 2020年
        258: {5: "1e13"},               # 2025年
        259: {5: "99999999999999"},     # 2025年
        260: {7: ""},                   # 属性 missing
        261: {4: "", 5: "—", 6: "—", 7: ""},  # a row with nothing but its name
        271: {6: "[1.2.3]"},            # 年均/累计
    })
    with pytest.raises(ImportFailed) as failed:
        parse_indicator_rows(rows, "临海.txt")
    assert failed.value.errors == [
        f'临海.txt 第 253 行 2025年 "abc": {BAD_NUMBER}',
        '临海.txt 第 256 行 属性 "必须性": 属性应为预期性、约束性（或预测性）',
        '临海.txt 第 257 行 2020年 "NaN": 不是有限的数值（NaN/无穷大）',
        '临海.txt 第 258 行 2025年 "1e13": 数值超出范围（绝对值不能超过 10 的 12 次方）',
        '临海.txt 第 259 行 2025年 "99999999999999": 数值超出范围（绝对值不能超过 10 的 12 次方）',
        '临海.txt 第 261 行 指标 "实际使用外资额": 这一行没有任何数值',
        f'临海.txt 第 271 行 年均/累计 "[1.2.3]": {BAD_NUMBER}',
        '临海.txt 第 260 行 属性 "": 缺少属性（应为预期性或约束性）',
    ]


def test_a_row_that_cannot_be_understood():
    rows = _city_rows({253: {1: "二", 2: "67"}})
    with pytest.raises(ImportFailed) as failed:
        parse_indicator_rows(rows, "临海.txt")
    assert failed.value.errors == [
        '临海.txt 第 253 行 序号 "二": 序号应为数字',
        '临海.txt 第 253 行 指标 "67": 这里应为文字，不应是数值',
    ]


@pytest.mark.parametrize("raw, reason", [
    ("abc", BAD_NUMBER),
    ("12..5", BAD_NUMBER),
    ("约束", BAD_NUMBER),
    ("NaN", "不是有限的数值（NaN/无穷大）"),
    ("-Infinity", "不是有限的数值（NaN/无穷大）"),
    ("∞", "不是有限的数值（NaN/无穷大）"),
    ("1e400", "数值超出范围（绝对值不能超过 10 的 12 次方）"),
    ("[-2000000000000]", "数值超出范围（绝对值不能超过 10 的 12 次方）"),
])
def test_parse_value_rejects_garbage(raw, reason):
    with pytest.raises(ValueError) as failed:
        parse_value(raw)
    assert str(failed.value) == reason


def test_parse_value_bounds_are_inclusive():
    assert parse_value("1000000000000").number == Decimal("1e12")
    assert parse_value("1,264").number == Decimal("1264")


def test_row_helper_is_the_importer_row():
    # parse_indicator_rows takes importer rows built by hand, too
    rows = [
        Row("第 1 行", 1, ["表 9 测试指标表"]),
        Row("第 2 行", 2, ["序号", "指标", "单位", "2020年", "2025年", "属性"]),
        Row("第 3 行", 3, ["1", "甲", "%", "1", "≥2", "约束性"]),
    ]
    d = parse_indicator_rows(rows, "t.csv")
    ind = d.tables[0].indicators[0]
    assert (ind.name, ind.attribute, ind.target.qualifier, d.plan_name) == ("甲", "binding", "ge", "")
