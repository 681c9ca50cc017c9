"""Progress of one indicator as of a year (年度监测, 中期评估): indicators.status.

No database. Expected figures were worked out by hand (the working is in the comments) and
checked once with an independent calculation, never by running the code under test; the
actual values are made up. The real rows come from the seed plans in fixtures/plans/ via
indicators.parsing.parse_indicator_file.
"""
import functools
from decimal import Decimal
from pathlib import Path

import pytest

from indicators.status import (
    STATUS_LABELS,
    Baseline,
    Evaluation,
    Target,
    baseline_from_parsed,
    evaluate_indicator,
    mid_term_year,
    target_from_parsed,
)
from indicators.parsing import parse_indicator_file, parse_value

D = Decimal
PLANS = Path(__file__).resolve().parent.parent / "fixtures" / "plans"
KFQ, CITY, KCZL, OJK = (
    "000_linhai_kfq_14th.txt",
    "002_linhai_city_14th.txt",
    "003_taizhouwan_kechuang.txt",
    "004_oujiangkou_14th.txt",
)


def T(form, value, qualifier="", printed=None, start=2021, end=2025):
    return Target(form, None if value is None else D(value), qualifier,
                  printed if printed is not None else (value or ""), start, end)


def B(value, year=2020):
    return Baseline(None if value is None else D(value), year)


def A(**years):
    """A(y2021="3", y2022="3") -> {2021: Decimal('3'), 2022: Decimal('3')}"""
    return {int(k[1:]): D(v) for k, v in years.items()}


def status(*args, **kwargs):
    return evaluate_indicator(*args, **kwargs).status


# ---------------------------------------------------------------- real rows of the seeds

@functools.cache
def doc(name):
    return parse_indicator_file(PLANS / name)


def row(name, title_start, indicator_name):
    tables = [t for t in doc(name).tables if t.title.startswith(title_start) and t.kind == "targets"]
    assert len(tables) == 1
    found = [i for i in tables[0].indicators if i.name == indicator_name]
    assert len(found) == 1, [i.name for i in tables[0].indicators]
    return found[0]


def real(name, title_start, indicator_name):
    """(Target, Baseline) of a real row, with the plan period of its document."""
    d, ind = doc(name), row(name, title_start, indicator_name)
    target = target_from_parsed(ind.target, ind.growth, d.start_year, d.end_year, ind.unit)
    return target, baseline_from_parsed(ind.baseline, d.start_year - 1)


# ---------------------------------------------------------------- labels, mid-term year

def test_status_labels():
    assert STATUS_LABELS == {
        "achieved": "已达成", "on_track": "进度正常", "lagging": "滞后",
        "no_data": "无数据", "not_evaluated": "不评价",
    }


def test_label_follows_status():
    for ev in (evaluate_indicator(T("level", "50"), B("32.21"), A(y2023="40.10"), 2023),
               evaluate_indicator(T("text", None, printed="按上级任务"), B(None), {}, 2023),
               evaluate_indicator(T("level", "50"), B("32.21"), {}, 2023)):
        assert isinstance(ev, Evaluation) and ev.label == STATUS_LABELS[ev.status]


@pytest.mark.parametrize("start, end, year", [
    (2021, 2025, 2023), (2022, 2026, 2024), (2026, 2030, 2028), (2016, 2020, 2018)])
def test_mid_term_year_is_the_third_year(start, end, year):
    assert mid_term_year(start, end) == year


def test_mid_term_year_of_the_kechuang_plan():
    d = doc(KCZL)  # 规划期 2022—2026 年
    assert mid_term_year(d.start_year, d.end_year) == 2024


# ---------------------------------------------------------------- level targets

def test_level_the_example_of_the_brief():
    # 32.21 + (50 - 32.21) * 3/5 = 32.21 + 10.674 = 42.884 -> 42.88
    ev = evaluate_indicator(T("level", "50"), B("32.21"), A(y2023="40.10"), 2023)
    assert (ev.status, ev.label, ev.expected, ev.actual) == ("lagging", "滞后", D("42.88"), D("40.10"))
    assert ev.rule == ("水平目标：由 2020 年 32.21 直线推进至 2025 年 50，2023 年应达 42.88，"
                       "实际 40.10，低于应达值，滞后")


@pytest.mark.parametrize("actual, expected_status", [
    ("42.87", "lagging"),    # one cent under the path
    ("42.88", "on_track"),   # on the path
    ("49.99", "on_track"),
    ("50", "achieved"),      # the 2025 target reached two years early
    ("55", "achieved"),
])
def test_level_on_both_sides_of_the_path_and_the_target(actual, expected_status):
    ev = evaluate_indicator(T("level", "50"), B("32.21"), {2023: D(actual)}, 2023)
    assert ev.status == expected_status
    assert ev.expected == D("42.88") and ev.actual == D(actual)


@pytest.mark.parametrize("year, expected", [
    (2021, "35.77"),   # 32.21 + 17.79 * 1/5 = 35.768
    (2022, "39.33"),   # 32.21 + 17.79 * 2/5 = 39.326
    (2024, "46.44"),   # 32.21 + 17.79 * 4/5 = 46.442
    (2025, "50.00"),
])
def test_level_path_is_linear_year_by_year(year, expected):
    ev = evaluate_indicator(T("level", "50"), B("32.21"), {year: D("1")}, year)
    assert ev.expected == D(expected) and ev.status == "lagging"


def test_level_in_the_end_year_must_reach_the_target():
    assert status(T("level", "50"), B("32.21"), A(y2025="49.99"), 2025) == "lagging"
    assert status(T("level", "50"), B("32.21"), A(y2025="50"), 2025) == "achieved"


def test_level_after_the_end_year_expects_the_target():
    ev = evaluate_indicator(T("level", "50"), B("32.21"), A(y2026="49"), 2026)
    assert (ev.status, ev.expected) == ("lagging", D("50"))


def test_level_expected_shows_the_decimals_of_small_figures():
    # 0.018 - 0.007 * 3/5 = 0.0138: rounded to two decimals it would read 0.01
    ev = evaluate_indicator(T("level", "0.011"), B("0.018"), A(y2023="0.0139"), 2023, direction="down")
    assert ev.expected == D("0.0138") and "2023 年应达 0.0138" in ev.rule


# ---------------------------------------------------------------- qualifiers

@pytest.mark.parametrize("actual, expected_status", [
    ("55.79", "lagging"), ("55.8", "on_track"), ("59.99", "on_track"), ("60", "achieved")])
def test_ge_at_the_mid_term(actual, expected_status):
    # 60以上 from 49.5: 49.5 + 10.5 * 3/5 = 55.8
    ev = evaluate_indicator(T("level", "60", "ge", "60以上"), B("49.5"), {2023: D(actual)}, 2023)
    assert (ev.status, ev.expected) == (expected_status, D("55.8"))


@pytest.mark.parametrize("actual, expected_status", [("59.99", "lagging"), ("60", "achieved")])
def test_ge_in_the_end_year(actual, expected_status):
    assert status(T("level", "60", "ge"), B("49.5"), {2025: D(actual)}, 2025) == expected_status


@pytest.mark.parametrize("actual, expected_status", [
    ("1.75", "lagging"),   # above the downward path
    ("1.74", "on_track"),  # 2.1 - 0.6 * 3/5 = 1.74
    ("1.51", "on_track"),
    ("1.5", "achieved"),   # at the ceiling
    ("1.2", "achieved"),
])
def test_le_goes_downward(actual, expected_status):
    ev = evaluate_indicator(T("level", "1.5", "le", "<1.5"), B("2.1"), {2023: D(actual)}, 2023)
    assert (ev.status, ev.expected) == (expected_status, D("1.74"))


def test_le_ceiling_already_kept():
    # a ceiling above the baseline is met as long as the value stays under it
    assert status(T("level", "1.5", "le"), B("1.0"), A(y2023="1.4"), 2023) == "achieved"
    assert status(T("level", "1.5", "le"), B("1.0"), A(y2023="1.6"), 2023) == "lagging"


def test_no_qualifier_reads_as_ge_by_default():
    # '' means "reach at least"; a value over a lower target counts as reached
    assert status(T("level", "0.011"), B("0.018"), A(y2023="0.015"), 2023) == "achieved"


@pytest.mark.parametrize("actual, expected_status", [
    ("0.0139", "lagging"), ("0.0138", "on_track"), ("0.0111", "on_track"), ("0.011", "achieved")])
def test_downward_indicator(actual, expected_status):
    ev = evaluate_indicator(T("level", "0.011"), B("0.018"), {2023: D(actual)}, 2023, direction="down")
    assert (ev.status, ev.expected) == (expected_status, D("0.0138"))
    assert "越低越好" in ev.rule


def test_explicit_qualifier_wins_over_direction():
    # 'ge' stays "at or above" even when the caller says the indicator goes down
    assert status(T("level", "60", "ge"), B("49.5"), A(y2025="61"), 2025, direction="down") == "achieved"
    assert status(T("level", "60", "ge"), B("49.5"), A(y2025="59"), 2025, direction="down") == "lagging"


def test_unknown_direction_or_form_is_a_programming_error():
    with pytest.raises(ValueError):
        evaluate_indicator(T("level", "50"), B("30"), A(y2023="40"), 2023, direction="sideways")
    with pytest.raises(ValueError):
        evaluate_indicator(T("ratio", "50"), B("30"), A(y2023="40"), 2023)


# ---------------------------------------------------------------- growth-rate targets

def test_growth_exactly_on_the_compound_path():
    # 100 * 1.1^3 = 133.1 (a straight line would give 130)
    ev = evaluate_indicator(T("growth", "10", printed="10%"), B("100"), A(y2023="133.1"), 2023)
    assert (ev.status, ev.expected, ev.actual) == ("on_track", D("133.10"), D("10.00"))


def test_growth_just_under_the_rate():
    # (133 / 100)^(1/3) - 1 = 9.9724 % -> 9.97
    ev = evaluate_indicator(T("growth", "10"), B("100"), A(y2023="133"), 2023)
    assert (ev.status, ev.expected, ev.actual) == ("lagging", D("133.10"), D("9.97"))
    assert "9.97%" in ev.rule and "10%" in ev.rule


@pytest.mark.parametrize("actual, expected_status, rate", [
    ("161.051", "achieved", "10.00"),  # 1.1^5 = 1.61051
    ("161", "lagging", "9.99"),        # 1.61^(1/5) - 1 = 9.9930 %
    ("170", "achieved", "11.20"),      # 1.7^(1/5) - 1 = 11.1989 %
])
def test_growth_in_the_end_year(actual, expected_status, rate):
    ev = evaluate_indicator(T("growth", "10"), B("100"), {2025: D(actual)}, 2025)
    assert (ev.status, ev.expected, ev.actual) == (expected_status, D("161.05"), D(rate))


def test_growth_ahead_before_the_end_year_is_only_on_track():
    assert status(T("growth", "10"), B("100"), A(y2023="150"), 2023) == "on_track"


@pytest.mark.parametrize("actual, year, expected_status", [
    ("24.4", 2023, "lagging"),    # (24.4/20)^(1/3) - 1 = 6.853 %
    ("24.5", 2023, "on_track"),   # 6.9987 % shows as 7.00 %: decided on the figure shown
    ("24.6", 2023, "on_track"),   # 7.144 %
    ("28.06", 2025, "achieved"),  # 20 * 1.07^5 = 28.0510
    ("28", 2025, "lagging"),      # 6.9610 %
])
def test_growth_ge_both_sides(actual, year, expected_status):
    assert status(T("growth", "7", "ge", "7以上"), B("20"), {year: D(actual)}, year) == expected_status


@pytest.mark.parametrize("actual, year, expected_status", [
    ("115", 2023, "on_track"),   # 4.77 % <= 5
    ("116", 2023, "lagging"),    # 5.07 % > 5
    ("127", 2025, "achieved"),   # 4.90 %
    ("128", 2025, "lagging"),    # 5.06 %
])
def test_growth_le_both_sides(actual, year, expected_status):
    assert status(T("growth", "5", "le", "5%以下"), B("100"), {year: D(actual)}, year) == expected_status


def test_growth_from_a_2019_baseline_counts_four_years():
    # 100 * 1.08^4 = 136.0489; (136/100)^(1/4) - 1 = 7.9903 %; (137/100)^(1/4) - 1 = 8.1883 %
    ev = evaluate_indicator(T("growth", "8"), B("100", 2019), A(y2023="136"), 2023)
    assert (ev.status, ev.expected, ev.actual) == ("lagging", D("136.05"), D("7.99"))
    assert "4 年年均增长" in ev.rule
    assert status(T("growth", "8"), B("100", 2019), A(y2023="137"), 2023) == "on_track"


def test_growth_downward_rate():
    # 年均下降 3%: 0.9^(1/3) - 1 = -3.45 % (fast enough), 0.95^(1/3) - 1 = -1.70 % (too slow)
    assert status(T("growth", "-3"), B("100"), A(y2023="90"), 2023, direction="down") == "on_track"
    assert status(T("growth", "-3"), B("100"), A(y2023="95"), 2023, direction="down") == "lagging"


def test_growth_needs_a_baseline_and_a_value_is_never_no_data():
    ev = evaluate_indicator(T("growth", "10"), B(None), A(y2023="133"), 2023)
    assert (ev.status, ev.label) == ("not_evaluated", "不评价") and "缺少基期值" in ev.rule


def test_growth_needs_the_actual_and_names_both_missing():
    ev = evaluate_indicator(T("growth", "10"), B(None), {}, 2023)
    assert ev.status == "no_data" and "2023 年实际值" in ev.rule and "基期值" in ev.rule


def test_growth_from_a_zero_baseline_is_not_evaluated():
    ev = evaluate_indicator(T("growth", "10"), B("0"), A(y2023="5"), 2023)
    assert ev.status == "not_evaluated"


# ---------------------------------------------------------------- cumulative targets

@pytest.mark.parametrize("years, expected_status, total", [
    (dict(y2021="3", y2022="3", y2023="2.99"), "lagging", "8.99"),
    (dict(y2021="3", y2022="3", y2023="3"), "on_track", "9"),       # 15 * 3/5 = 9
    (dict(y2021="5", y2022="5", y2023="4.99"), "on_track", "14.99"),
    (dict(y2021="5", y2022="5", y2023="5"), "achieved", "15"),
])
def test_cumulative_running_sum_against_the_prorated_total(years, expected_status, total):
    ev = evaluate_indicator(T("cumulative", "15", printed="[15]"), B(None), A(**years), 2023)
    assert (ev.status, ev.expected, ev.actual) == (expected_status, D("9"), D(total))


def test_cumulative_counts_only_the_plan_years():
    actuals = A(y2020="100", y2021="3", y2022="3", y2023="3", y2024="3", y2025="2", y2026="100")
    ev = evaluate_indicator(T("cumulative", "15"), B(None), actuals, 2026)
    assert (ev.status, ev.expected, ev.actual) == ("lagging", D("15"), D("14"))


def test_cumulative_missing_year_says_which():
    # the year's own value is there: not 无数据, but the gap is named
    ev = evaluate_indicator(T("cumulative", "15"), B(None), A(y2021="3", y2023="30"), 2023)
    assert ev.status == "not_evaluated" and "缺少 2022 年实际值" in ev.rule
    ev = evaluate_indicator(T("cumulative", "15"), B(None), A(y2021="3", y2022="3"), 2023)
    assert ev.status == "no_data" and "2023" in ev.rule


@pytest.mark.parametrize("direction, qualifier", [("up", ""), ("down", ""), ("up", "le")])
@pytest.mark.parametrize("years, expected_status", [
    (dict(y2021="-10", y2022="-10", y2023="-9"), "lagging"),     # -29 has not come down to -30
    (dict(y2021="-10", y2022="-10", y2023="-10"), "on_track"),   # -50 * 3/5 = -30
    (dict(y2021="-20", y2022="-20", y2023="-10"), "achieved"),   # -50
])
def test_negative_cumulative_target(direction, qualifier, years, expected_status):
    ev = evaluate_indicator(T("cumulative", "-50", qualifier, "[-50%]"), B(None), A(**years), 2023,
                            direction=direction)
    assert (ev.status, ev.expected) == (expected_status, D("-30"))


@pytest.mark.parametrize("years, year, expected_status", [
    (dict(y2021="2", y2022="2", y2023="2"), 2023, "on_track"),      # 6 <= 10 * 3/5
    (dict(y2021="2", y2022="2", y2023="2.01"), 2023, "lagging"),    # over the pace of the ceiling
    (dict(y2021="2", y2022="2", y2023="2", y2024="2", y2025="2"), 2025, "achieved"),
    (dict(y2021="2", y2022="2", y2023="2", y2024="2", y2025="2.5"), 2025, "lagging"),
])
def test_cumulative_ceiling_is_achieved_only_at_the_end(years, year, expected_status):
    ev = evaluate_indicator(T("cumulative", "10", "le", "[10]以内"), B(None), A(**years), year)
    assert ev.status == expected_status and "上限" in ev.rule


# ---------------------------------------------------------------- text, missing, no data

@pytest.mark.parametrize("printed", ["按上级任务", "与经济增长同步", "完成下达目标", "稳步提升"])
def test_text_target_is_not_evaluated(printed):
    ev = evaluate_indicator(T("text", None, printed=printed), B("3"), A(y2023="5"), 2023)
    assert (ev.status, ev.label, ev.expected, ev.actual) == ("not_evaluated", "不评价", None, None)
    assert ev.rule == f"目标为文字表述“{printed}”，不作数值评价"


def test_missing_target_is_not_evaluated():
    ev = evaluate_indicator(T("missing", None, printed="—"), B("3"), A(y2023="5"), 2023)
    assert ev.status == "not_evaluated" and "—" in ev.rule
    assert target_from_parsed(None, None, 2021, 2025).form == "missing"
    parsed = target_from_parsed(parse_value("—", year=2025), parse_value("", year=2025), 2021, 2025)
    assert (parsed.form, parsed.value, parsed.printed) == ("missing", None, "—")


def test_several_numbers_in_one_target_are_not_evaluated():
    target = target_from_parsed(parse_value("[21.2、20.3、15、15]"), None, 2016, 2020)
    ev = evaluate_indicator(target, B(None, 2015), A(y2016="5"), 2016)
    assert ev.status == "not_evaluated" and "21.2、20.3、15、15" in ev.rule


@pytest.mark.parametrize("target", [T("level", "50"), T("growth", "10"), T("cumulative", "15")])
def test_no_actual_for_the_year(target):
    ev = evaluate_indicator(target, B("32.21"), A(y2022="40"), 2023)
    assert (ev.status, ev.label, ev.expected) == ("no_data", "无数据", None)
    assert "2023 年实际值" in ev.rule


def test_level_without_a_baseline():
    target = T("level", "70", "ge", "70%以上")
    ev = evaluate_indicator(target, B(None), A(y2023="72"), 2023)
    assert (ev.status, ev.expected, ev.actual) == ("achieved", None, D("72"))  # needs no path
    ev = evaluate_indicator(target, B(None), A(y2023="65"), 2023)
    assert ev.status == "not_evaluated" and "缺少基期值" in ev.rule and "尚未达到目标" in ev.rule
    ev = evaluate_indicator(target, B(None), A(y2025="65"), 2025)  # the end year missed
    assert ev.status == "lagging"


def test_year_before_the_plan_is_not_evaluated():
    assert status(T("level", "50"), B("32.21"), A(y2020="32.21"), 2020) == "not_evaluated"


def test_floats_are_refused():
    with pytest.raises(TypeError):
        evaluate_indicator(T("level", "50"), B("32.21"), {2023: 40.1}, 2023)


def test_baseline_without_year_is_the_year_before_the_plan():
    ev = evaluate_indicator(T("level", "50"), Baseline(D("32.21"), None), A(y2023="40"), 2023)
    assert ev.expected == D("42.88") and "由 2020 年 32.21" in ev.rule


# ---------------------------------------------------------------- building from parsed values

def test_target_prefers_the_end_year_level_over_the_growth_column():
    target = target_from_parsed(parse_value("462.6", year=2025),
                                parse_value("10%", year=2025, growth_column=True), 2021, 2025)
    assert target == Target("level", D("462.6"), "", "462.6", 2021, 2025, rate=D("10"))


def test_target_takes_the_growth_column_when_the_level_is_missing():
    target = target_from_parsed(parse_value("-"), parse_value("7以上", growth_column=True), 2021, 2025)
    assert target == Target("growth", D("7"), "ge", "7以上", 2021, 2025)


def test_baseline_from_parsed():
    assert baseline_from_parsed(parse_value("2019年 32.21", year=2020), 2020) == Baseline(D("32.21"), 2019)
    assert baseline_from_parsed(parse_value("89.01%", year=2020), 2020) == Baseline(D("89.01"), 2020)
    assert baseline_from_parsed(parse_value("7.3"), 2020) == Baseline(D("7.3"), 2020)  # no year: default
    assert baseline_from_parsed(parse_value("保持省平均水平", year=2020), 2020) == Baseline(None, 2020)
    assert baseline_from_parsed(parse_value("/", year=2020), 2020) == Baseline(None, 2020)
    assert baseline_from_parsed(None, 2020) == Baseline(None, 2020)


# ---------------------------------------------------------------- real indicators of the seeds

def test_real_oujiangkou_fiscal_revenue_level_and_its_growth_rate():
    # 004 瓯江口 财政总收入: 2020 7.3, 2025 58, 年均 51%
    target, base = real(OJK, "瓯江口", "财政总收入")
    assert (target.form, target.value, base) == ("level", D("58"), Baseline(D("7.3"), 2020))
    year = mid_term_year(target.start_year, target.end_year)
    # the printed 51% leads from 7.3 to 58 (7.3 * 1.51^5 = 57.31, within 5 %): the plan's own
    # path, 7.3 * 1.51^3 = 25.1335 in 2023 (a straight line would ask 37.72)
    ev = evaluate_indicator(target, base, {year: D("26")}, year)
    assert (ev.status, ev.expected) == ("on_track", D("25.13"))
    assert "按规划年均增长 51% 推进" in ev.rule
    assert evaluate_indicator(target, base, {year: D("25.12")}, year).status == "lagging"
    # the 51% of the growth column on its own: 7.3 * 1.51^3 = 25.1335;
    # (26 / 7.3)^(1/3) - 1 = 52.72 %, (24 / 7.3)^(1/3) - 1 = 48.69 %
    ind = row(OJK, "瓯江口", "财政总收入")
    growth = target_from_parsed(None, ind.growth, 2021, 2025)
    assert (growth.form, growth.value, growth.printed) == ("growth", D("51"), "51%")
    ev = evaluate_indicator(growth, base, {2023: D("26")}, 2023)
    assert (ev.status, ev.expected, ev.actual) == ("on_track", D("25.13"), D("52.72"))
    ev = evaluate_indicator(growth, base, {2023: D("24")}, 2023)
    assert (ev.status, ev.actual) == ("lagging", D("48.69"))


def test_real_city_gdp_growth_target():
    # 002 临海市 地区生产总值（GDP）增长: 2025年 “—”, 年均 6.8. Its printed baseline 3.4 is the
    # 2020 growth rate, not a level, so the level (亿元) is made up: 700.
    target, _ = real(CITY, "表二", "地区生产总值（GDP）增长")
    assert (target.form, target.value, target.qualifier) == ("growth", D("6.8"), "")
    base = Baseline(D("700"), 2020)
    # 700 * 1.068^3 = 852.7305; (850/700)^(1/3) - 1 = 6.69 %
    ev = evaluate_indicator(target, base, {2023: D("850")}, 2023)
    assert (ev.status, ev.expected, ev.actual) == ("lagging", D("852.73"), D("6.69"))
    # 700 * 1.068^5 = 972.6449; (975/700)^(1/5) - 1 = 6.85 %; (972/700)^(1/5) - 1 = 6.79 %
    assert evaluate_indicator(target, base, {2025: D("975")}, 2025).status == "achieved"
    assert evaluate_indicator(target, base, {2025: D("972")}, 2025).status == "lagging"


def test_real_city_water_use_cumulative_15():
    # 002 万元GDP用水量降低: 2025年 “—”, 年均/累计 “[15]” — five-year reduction of 15 %
    target, _ = real(CITY, "表二", "万元GDP用水量降低")
    assert (target.form, target.value, target.printed) == ("cumulative", D("15"), "[15]")
    ev = evaluate_indicator(target, Baseline(None, 2020), A(y2021="3.2", y2022="2.9", y2023="3.0"), 2023)
    assert (ev.status, ev.expected, ev.actual) == ("on_track", D("9"), D("9.1"))
    ev = evaluate_indicator(target, Baseline(None, 2020), A(y2021="2.2", y2022="2.9", y2023="3.0"), 2023)
    assert ev.status == "lagging"


def test_real_city_new_jobs_cumulative_10():
    # 002 新增城镇就业人数 [10] 万人: 10 * 2/5 = 4 by 2022
    target, _ = real(CITY, "表二", "新增城镇就业人数")
    assert evaluate_indicator(target, Baseline(None, 2020), A(y2021="2.1", y2022="1.8"), 2022).status == "lagging"
    assert evaluate_indicator(target, Baseline(None, 2020), A(y2021="2.1", y2022="2.0"), 2022).status == "on_track"


def test_real_kfq_high_tech_share_70_percent_or_more():
    # 000 开发区 高新技术产业增加值占规上工业增加值比重: 2020 “/” (new indicator), 2025 “70%以上”
    target, base = real(KFQ, "表 2-1", "高新技术产业增加值占规上工业增加值比重")
    assert (target.form, target.value, target.qualifier, target.printed) == ("level", D("70"), "ge", "70%以上")
    assert base.value is None
    assert evaluate_indicator(target, base, {2023: D("70")}, 2023).status == "achieved"
    ev = evaluate_indicator(target, base, {2023: D("69.9")}, 2023)
    assert ev.status == "not_evaluated" and "缺少基期值，无法推算 2023 年应达值" in ev.rule


def test_real_kfq_rnd_share_3_5_percent_or_more_without_a_baseline():
    # 000 开发区 #5 R&D 经费支出占 GDP 比重*: 2020 “/”, 2025 “3.5%以上” — a floor, no baseline
    target, base = real(KFQ, "表 2-1", "R&D经费支出占GDP比重")
    assert (target.form, target.value, target.qualifier, base.value) == ("level", D("3.5"), "ge", None)
    ev = evaluate_indicator(target, base, {2023: D("3.2")}, 2023)
    # never 无数据: not met, and why its progress cannot be judged
    assert (ev.status, ev.actual) == ("not_evaluated", D("3.2"))
    assert "尚未达到目标" in ev.rule and "缺少基期值" in ev.rule
    ev = evaluate_indicator(target, base, {2025: D("3.2")}, 2025)
    assert (ev.status, ev.expected) == ("lagging", D("3.5"))  # the end year missed
    assert evaluate_indicator(target, base, {2023: D("3.6")}, 2023).status == "achieved"  # a floor met


def test_real_city_urbanisation_60_or_more():
    # 002 常住人口城镇化率: 2020 49.5, 2025 “60以上”
    target, base = real(CITY, "表二", "常住人口城镇化率")
    year = mid_term_year(target.start_year, target.end_year)
    assert evaluate_indicator(target, base, {year: D("55.7")}, year).status == "lagging"
    ev = evaluate_indicator(target, base, {year: D("55.8")}, year)
    assert (ev.status, ev.expected) == ("on_track", D("55.8"))
    assert "60以上" in ev.rule


def test_real_city_energy_per_superior_task():
    # 002 单位GDP能源消耗降低: 2025年 “按上级任务”
    target, base = real(CITY, "表二", "单位GDP能源消耗降低")
    ev = evaluate_indicator(target, base, {2023: D("3")}, 2023, direction="down")
    assert (target.form, ev.status, ev.label) == ("text", "not_evaluated", "不评价")
    assert ev.rule == "目标为文字表述“按上级任务”，不作数值评价"


def test_real_city_income_in_step_with_growth():
    target, base = real(CITY, "表二", "居民人均可支配收入增长")
    assert evaluate_indicator(target, base, {2023: D("6")}, 2023).status == "not_evaluated"


def test_real_oujiangkou_energy_complete_the_assigned_target():
    target, base = real(OJK, "瓯江口", "单位GDP能耗降低")  # “完成下达目标”
    ev = evaluate_indicator(target, base, {2023: D("3")}, 2023)
    assert ev.status == "not_evaluated" and "完成下达目标" in ev.rule


def test_real_city_culture_baseline_from_2019():
    # 002 文化及相关产业增加值: baseline “2019年 32.21”, 2025 58: 32.21 + 25.79 * 4/6 = 49.4033
    target, base = real(CITY, "表二", "文化及相关产业增加值")
    assert base == Baseline(D("32.21"), 2019)
    ev = evaluate_indicator(target, base, {2023: D("49.41")}, 2023)
    assert (ev.status, ev.expected) == ("on_track", D("49.40"))
    assert "由 2019 年 32.21" in ev.rule
    assert evaluate_indicator(target, base, {2023: D("49.39")}, 2023).status == "lagging"


def test_real_city_work_safety_minus_50_percent_is_the_rate_against_its_baseline():
    # 002 #32 亿元GDP生产安全事故死亡率 (人/亿元): 2020 0.016, “[-50%]” — the 2025 rate at half the
    # 2020 rate, 0.008; the path 0.016 → 0.008: 0.0144, 0.0128, 0.0112, 0.0096 (2021—2024)
    target, base = real(CITY, "表二", "亿元GDP生产安全事故死亡率")
    assert (target.form, target.value, base) == ("relative", D("-50"), Baseline(D("0.016"), 2020))
    rates = A(y2021="0.014", y2022="0.012", y2023="0.010")
    for year, expected in ((2021, "0.0144"), (2022, "0.0128"), (2023, "0.0112")):
        ev = evaluate_indicator(target, base, rates, year)  # ahead of the path, not 滞后
        assert (ev.status, ev.expected, ev.actual) == ("on_track", D(expected), rates[year]), ev.rule
    assert "2025 年较 2020 年 0.016 降低 50%，即 0.008" in ev.rule
    assert evaluate_indicator(target, base, A(y2023="0.0113"), 2023).status == "lagging"
    assert evaluate_indicator(target, base, A(y2025="0.008"), 2025).status == "achieved"
    assert evaluate_indicator(target, base, A(y2025="0.0081"), 2025).status == "lagging"
    # without a baseline the change cannot be turned into a level: said, not 无数据
    ev = evaluate_indicator(target, Baseline(None, 2020), rates, 2023)
    assert ev.status == "not_evaluated" and "缺少基期值" in ev.rule
    # '降低 50%' printed in words reads the same
    words = target_from_parsed(parse_value("降低50%", year=2025), None, 2021, 2025, "人/亿元")
    same = evaluate_indicator(words, base, rates, 2023), evaluate_indicator(target, base, rates, 2023)
    assert [(e.status, e.expected, e.actual) for e in same] == [("on_track", D("0.0112"), D("0.010"))] * 2


def test_real_oujiangkou_work_safety_rate_downward_level():
    # 004 亿元GDP生产安全事故死亡率: 2020 0.018, 2025 0.011 — lower is better
    target, base = real(OJK, "瓯江口", "亿元GDP生产安全事故死亡率")
    # 0.018 - 0.007 * 4/5 = 0.0124 in 2024
    ev = evaluate_indicator(target, base, {2024: D("0.0125")}, 2024, direction="down")
    assert (ev.status, ev.expected) == ("lagging", D("0.0124"))
    assert evaluate_indicator(target, base, {2024: D("0.012")}, 2024, direction="down").status == "on_track"
    assert evaluate_indicator(target, base, {2024: D("0.011")}, 2024, direction="down").status == "achieved"


def test_real_oujiangkou_bad_loans_under_1_5():
    # 004 银行金融机构不良贷款率: baseline “保持省平均水平” (text), 2025 “<1.5”
    target, base = real(OJK, "瓯江口", "银行金融机构不良贷款率")
    assert (target.form, target.value, target.qualifier) == ("level", D("1.5"), "lt")
    assert base.value is None
    # no baseline: a ceiling exceeded is 滞后 in any year, kept is 已达成; '<' is strict
    ev = evaluate_indicator(target, base, {2023: D("1.8")}, 2023)
    assert (ev.status, ev.actual) == ("lagging", D("1.8")) and "超出上限" in ev.rule
    assert evaluate_indicator(target, base, {2023: D("1.5")}, 2023).status == "lagging"
    assert evaluate_indicator(target, base, {2023: D("1.49")}, 2023).status == "achieved"


def test_real_oujiangkou_primary_care_over_80_is_strict():
    # 004 基层就诊率: 2020 “>65”, 2025 “>80” — 80 is not over 80
    target, base = real(OJK, "瓯江口", "基层就诊率")
    assert (target.value, target.qualifier, base.value) == (D("80"), "gt", D("65"))
    assert evaluate_indicator(target, base, {2025: D("80")}, 2025).status == "lagging"
    assert evaluate_indicator(target, base, {2025: D("80.1")}, 2025).status == "achieved"
    assert evaluate_indicator(target, base, {2023: D("80")}, 2023).status == "on_track"  # path 74


def test_real_oujiangkou_researchers_per_10000_is_a_2025_level_not_a_rate():
    # 004 每万名就业人员中研发人员 (人年): “未有统计”, “未有统计”, “120” in the 年均增长 column
    ind = row(OJK, "瓯江口", "每万名就业人员中研发人员")
    assert (ind.growth.form, ind.growth.number) == ("level", D("120"))
    target, base = real(OJK, "瓯江口", "每万名就业人员中研发人员")
    assert (target.form, target.value, base.value) == ("level", D("120"), None)
    assert evaluate_indicator(target, base, {2023: D("125")}, 2023).status == "achieved"
    ev = evaluate_indicator(target, base, {2023: D("100")}, 2023)
    assert ev.status == "not_evaluated" and "120" in ev.rule and "%" not in ev.rule
    # the 常住人口 row's bare “4.85” beside 5.15 → 10 is no rate either: the straight line
    target, base = real(OJK, "瓯江口", "常住人口")
    assert evaluate_indicator(target, base, {2023: D("8.12")}, 2023).expected == D("8.06")


def test_real_kechuang_mid_term_is_2024():
    # 003 科创走廊 (2022—2026) R&D经费支出占GDP比重: 2021 2.15, 2026 3.35;
    # mid-term 2024: 2.15 + 1.2 * 3/5 = 2.87
    target, base = real(KCZL, "表 2-1", "R&D经费支出占GDP比重")
    year = mid_term_year(target.start_year, target.end_year)
    assert (year, base) == (2024, Baseline(D("2.15"), 2021))
    ev = evaluate_indicator(target, base, {year: D("2.87")}, year)
    assert (ev.status, ev.expected) == ("on_track", D("2.87"))
    assert evaluate_indicator(target, base, {year: D("2.86")}, year).status == "lagging"
    assert evaluate_indicator(target, base, {2021: D("2.15")}, 2021).status == "not_evaluated"


def test_real_kfq_output_follows_the_plans_own_10_percent_path():
    # 000 #1 规上工业总产值: 2020 287.2, 2025 462.6, 年均 10% (287.2 * 1.1^5 = 462.54): the plan's
    # path asks 287.2 * 1.1 = 315.92 in 2021 (a straight line would ask 322.28)
    target, base = real(KFQ, "表 2-1", "规上工业总产值")
    assert (target.form, target.value, target.rate) == ("level", D("462.6"), D("10"))
    ev = evaluate_indicator(target, base, {2021: D("320")}, 2021)
    assert (ev.status, ev.expected) == ("on_track", D("315.92"))
    assert "由 2020 年 287.2 按规划年均增长 10% 推进至 2025 年 462.6，2021 年应达 315.92，实际 320" in ev.rule
    assert evaluate_indicator(target, base, {2021: D("315.91")}, 2021).status == "lagging"
    # 2023: 287.2 * 1.331 = 382.2632; 2025 asks the target itself
    assert evaluate_indicator(target, base, {2023: D("382.26")}, 2023).expected == D("382.26")
    assert evaluate_indicator(target, base, {2025: D("462.55")}, 2025).status == "lagging"
    assert evaluate_indicator(target, base, {2025: D("462.6")}, 2025).status == "achieved"


def test_every_real_target_row_evaluates_without_error():
    made_up = {y: D("1") for y in range(2021, 2027)}
    seen = set()
    for name in (KFQ, CITY, KCZL, OJK):
        d = doc(name)
        for table in d.tables:
            if table.kind != "targets":
                continue
            for ind in table.indicators:
                target = target_from_parsed(ind.target, ind.growth, d.start_year, d.end_year, ind.unit)
                base = baseline_from_parsed(ind.baseline, table.baseline_year)
                ev = evaluate_indicator(target, base, made_up, mid_term_year(d.start_year, d.end_year))
                assert ev.label == STATUS_LABELS[ev.status] and ev.rule
                seen.add(ev.status)
    # every row has a value for the year: none is 无数据
    assert {"achieved", "lagging", "not_evaluated"} <= seen and "no_data" not in seen


def test_baseline_not_before_the_target_year_gives_no_path():
    ev = evaluate_indicator(T("level", "50"), B("40", 2025), A(y2023="45"), 2023)
    assert (ev.status, ev.expected) == ("not_evaluated", None) and "基期年份 2025 年不早于目标年份" in ev.rule
    assert evaluate_indicator(T("level", "50"), B("40", 2025), A(y2023="50"), 2023).status == "achieved"


# ---------------------------------------------------------------- the sentences shown on the page

def test_rule_sentences():
    ev = evaluate_indicator(T("level", "60", "ge", "60以上"), B("49.5"), A(y2023="57"), 2023)
    assert ev.rule == ("水平目标（印刷“60以上”）：由 2020 年 49.5 直线推进至 2025 年 60，"
                       "2023 年应达 55.80，实际 57，不低于应达值，进度正常")
    ev = evaluate_indicator(T("growth", "10", printed="10%"), B("287.2"), A(y2023="370"), 2023)
    # 287.2 * 1.331 = 382.2632; (370 / 287.2)^(1/3) - 1 = 8.81 %
    assert ev.rule == ("增速目标：年均增长 10%，以 2020 年 287.2 为基数按复合增速推算，2023 年水平应达 "
                       "382.26，实际 370，3 年年均增长 8.81%，低于目标增速 10%，滞后")
    ev = evaluate_indicator(T("cumulative", "15", printed="[15]"), B(None),
                            A(y2021="3", y2022="3", y2023="3.5"), 2023)
    assert ev.rule == ("累计目标：规划期（2021—2025 年）累计 15，按年平均分摊 2023 年应累计 9.00，"
                       "2021—2023 年实际累计 9.5，不低于应累计值，进度正常")
    ev = evaluate_indicator(T("cumulative", "-50", printed="[-50%]"), B(None),
                            A(y2021="-20", y2022="-20", y2023="-10"), 2023)
    assert ev.rule == ("累计目标（越低越好）：规划期（2021—2025 年）累计 -50，按年平均分摊 2023 年应累计 "
                       "-30.00，2021—2023 年实际累计 -50，不高于目标值 -50，已达成")
    ev = evaluate_indicator(T("level", "50"), B("32.21"), {}, 2023)
    assert ev.rule == "水平目标：缺少 2023 年实际值，无法评价"
