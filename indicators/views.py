"""The plan indicator page (年度监测, 中期评估) and the 年度监测表 export, scoped to the user:
leaders and planners read every indicator, a unit user those its units are responsible for."""
from __future__ import annotations

import csv
import io
import json
import re
import tempfile

import django_filters as df
import django_tables2 as tables
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponse
from django.db.models import Exists, OuterRef, Q
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html

from indicators.models import Attribute, Indicator, IndicatorTable, TableKind, ValueForm, ValueMeaning
from projects.models import Plan

from projects.versions import figures_date
from projects.exports import (
    XLSX_TYPE, content_disposition, csv_value, export_columns, header_cells, set_page_setup, xlsx_cell,
)
from projects.widgets import SELECT, LongSelect
from indicators.evaluation import (
    STATUS_CHOICES, baseline_of, default_year, indicator_rows, midterm_year, target_of, with_status,
)
from indicators.status import path_values
from projects.params import BadParameter, NotFound, bad_request, format_param
from projects.permissions import can

ATTRIBUTES = dict(Attribute.choices)


# ---------------------------------------------------------------- filters

class IndicatorFilter(df.FilterSet):
    table = df.ModelChoiceFilter(label="指标表", queryset=IndicatorTable.objects.none(), empty_label="全部",
                                 widget=LongSelect(attrs=SELECT))
    category = df.ChoiceFilter(label="类别", choices=[], empty_label="全部", widget=LongSelect(attrs=SELECT))
    attribute = df.ChoiceFilter(label="属性", choices=Attribute.choices, empty_label="全部",
                                widget=LongSelect(attrs=SELECT))
    status = df.ChoiceFilter(label="状态（年度监测）", choices=STATUS_CHOICES, empty_label="全部", method="by_status",
                             widget=LongSelect(attrs=SELECT))

    def __init__(self, data=None, *args, plan, year, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.year = year
        self.filters["table"].queryset = plan.indicator_tables.order_by("order")
        categories = plan.indicators.exclude(category="").order_by("category") \
            .values_list("category", flat=True).distinct()
        self.filters["category"].extra["choices"] = [(c, c) for c in categories]

    def by_status(self, queryset, name, value):
        return with_status(queryset, self.year, value)


# ---------------------------------------------------------------- the table as printed

def _printed(value):
    return value or ""


def _number(value):
    """A figure as printed by a planner: no trailing zeros, no exponent."""
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return text


def status_badge(record):
    ev = record["evaluation"]
    if ev is None:
        return ""
    light = record["light"]
    css = {"red": "bg-danger", "yellow": "bg-warning text-dark", "green": "bg-success"}.get(light, "bg-light text-dark")
    return format_html('<span class="badge {}" data-status="{}" data-light="{}">{}</span>', css, ev.status, light,
                       ev.label)


class IndicatorRowsTable(tables.Table):
    """One indicator table as printed, with the year's actual value, status and rule."""

    category = tables.Column("类别", orderable=False)
    seq = tables.Column("序号", orderable=False)
    name = tables.Column("指标", orderable=False, attrs={"td": {"class": "indicator-name"}})
    unit = tables.Column("单位", orderable=False)
    baseline = tables.Column("基期值", orderable=False)
    target = tables.Column("目标值", orderable=False)
    growth = tables.Column("年均/累计", orderable=False)
    planned = tables.Column("规划值", orderable=False)
    actual_printed = tables.Column("完成值", orderable=False)
    actual_growth = tables.Column("完成·年均/累计", orderable=False)
    attribute = tables.Column("属性", orderable=False)
    responsible = tables.Column("责任单位", orderable=False, attrs={"td": {"class": "indicator-unit"}})
    value = tables.Column("实际值", orderable=False, attrs={"td": {"class": "text-end"}})
    expected = tables.Column("应达值", orderable=False, attrs={"td": {"class": "text-end"}})
    status = tables.Column("状态", orderable=False, empty_values=())
    rule = tables.Column("评价规则", orderable=False, attrs={"td": {"class": "indicator-rule small"}})
    trend = tables.Column("趋势", orderable=False, empty_values=(), exclude_from_export=True)

    class Meta:
        template_name = "shared/table.html"
        attrs = {"class": "table table-sm table-bordered align-middle indicator-table"}
        orderable = False

    def __init__(self, data, *, table: IndicatorTable, year: int, planner: bool = False, **kwargs):
        kind = table.kind
        exclude = {
            TableKind.TARGETS: ("planned", "actual_printed", "actual_growth"),
            TableKind.COMPLETION: ("target", "value", "expected"),  # its printed 完成值 is the year's value
            TableKind.HISTORY: ("baseline", "target", "growth", "planned", "actual_printed", "actual_growth",
                                "attribute", "expected", "status", "rule"),
        }[kind]
        if not any(r["category"] for r in data):
            exclude += ("category",)
        if not any(r["seq"] for r in data):
            exclude += ("seq",)
        if kind != TableKind.TARGETS:
            exclude += ("responsible",)
        if kind == TableKind.COMPLETION and not any(r["actual_growth"] for r in data):
            exclude += ("actual_growth",)
        super().__init__(data, exclude=exclude, **kwargs)
        self.kind, self.year, self.planner = kind, year, planner
        self.region_label = table.title  # the scroll region's name (templates/shared/table.html)
        base, end = table.baseline_year, table.target_year
        labels = {"baseline": f"{base} 年（基期）" if base else "基期值",
                  "target": f"{end} 年目标" if end else "目标值",
                  "planned": f"{end} 年规划值" if end else "规划值",
                  "actual_printed": f"{end} 年完成值" if end else "完成值",
                  "actual_growth": "完成·年均/累计",
                  "value": f"{year} 年实际值", "expected": f"{year} 年应达值"}
        if kind == TableKind.COMPLETION:
            labels["status"] = "完成评价"
        if kind == TableKind.HISTORY:
            labels["value"] = f"{year} 年数值"
        for name, label in labels.items():
            if name not in exclude:
                self.columns[name].column.verbose_name = label

    def render_name(self, record):
        star = "*" if record["is_new"] else ""
        if record["parent"]:
            return format_html('<span class="text-muted">{}·</span>{}{}', record["parent"], star, record["name"])
        return format_html("{}{}", star, record["name"])

    def render_status(self, record):
        return status_badge(record)

    def render_rule(self, record, value):
        """The rule; beside it the direction read, and for planners the link to change it."""
        if self.kind == TableKind.HISTORY:
            return value
        how = "规划人员设定" if record["direction_fixed"] else "按指标含义"
        if not self.planner:
            return format_html('{}<div class="text-muted">方向：{}（{}）</div>', value, record["direction"], how)
        return format_html('{}<div class="text-muted">方向：{}（{}） <a href="{}" class="no-print">调整方向</a></div>',
                           value, record["direction"], how,
                           reverse("admin:indicators_indicator_change", args=[record["pk"]]))

    def value_rule(self, record):
        return record["rule"]

    def render_trend(self, record):
        return format_html('<div class="indicator-trend" data-trend="{}"></div>', json.dumps(record["trend"]))

    # -- values in exports
    def value_name(self, record):
        return ("*" if record["is_new"] else "") + (f"{record['parent']}·" if record["parent"] else "") + record["name"]

    def value_status(self, record):
        ev = record["evaluation"]
        return ev.label if ev else ""


def trend_of(row, plan):
    """The small chart's data: the printed baseline and every yearly value, against the path
    from baseline to target (level and growth targets; the prorated sum for cumulative)."""
    ind, table = row.indicator, row.table
    values = dict(row.series)
    if ind.baseline_number is not None and ind.baseline_year and ind.baseline_form == ValueForm.LEVEL:
        values.setdefault(ind.baseline_year, ind.baseline_number)
    if table.kind == TableKind.HISTORY:
        years = sorted(values)
        return {"years": [str(y) for y in years], "actual": [float(values[y]) for y in years], "path": []}
    start = min([ind.baseline_year or plan.start_year - 1] + list(values))
    end = table.target_year or plan.end_year
    years = list(range(start, max([end] + list(values)) + 1))
    path = []
    if table.kind == TableKind.TARGETS and ind.value_meaning == ValueMeaning.LEVEL:
        # the path the evaluation compares with (indicators/status.py path_values)
        target = target_of(ind, plan, table)
        path = [None if v is None else float(v)
                for v in path_values(target, baseline_of(ind, target), years, ind.direction)]
    return {"years": [str(y) for y in years],
            "actual": [float(values[y]) if y in values else None for y in years], "path": path}


def records_of(rows, plan):
    out = []
    for row in rows:
        ind = row.indicator
        ev = row.evaluation
        out.append({
            "pk": ind.pk, "category": ind.category, "seq": ind.seq, "name": ind.name, "parent": ind.parent_name,
            "is_new": ind.is_new, "unit": ind.unit,
            "baseline": _printed(ind.baseline_printed), "target": _printed(ind.target_printed),
            "growth": _printed(ind.growth_printed), "planned": _printed(ind.planned_printed),
            "actual_printed": _printed(ind.actual_printed), "actual_growth": _printed(ind.actual_growth_printed),
            "attribute": ATTRIBUTES.get(ind.attribute, ""),
            "responsible": ind.responsible_unit.name if ind.responsible_unit else "",
            "direction": ind.get_direction_display(), "direction_fixed": ind.direction_fixed,
            "value": _number(row.value),
            "expected": _number(ev.expected) if ev else "",
            "evaluation": ev, "light": row.light, "rule": ev.rule if ev else "",
            "trend": trend_of(row, plan),
        })
    return out


# ---------------------------------------------------------------- the page

def _year_param(request, plan, default):
    raw = request.GET.get("year", "")
    if not raw:
        return default
    if not re.fullmatch(r"\d{4}", raw) or not plan.start_year - 5 <= int(raw) <= plan.end_year:
        raise BadParameter(f"年度“{raw[:10]}”应在 {plan.start_year - 5}—{plan.end_year} 年之间。")
    return int(raw)


def _plan_param(request):
    code = request.GET.get("plan", "")
    # the plans with indicators the user reads: those of its scope, and for a unit user also any
    # plan whose indicators name one of its units
    mine = Indicator.objects.visible_to(request.user).filter(plan=OuterRef("pk"))
    plans = (Plan.objects.filter(Q(pk__in=Plan.objects.visible_to(request.user).values("pk")) | Q(Exists(mine)))
             .filter(Exists(Indicator.objects.filter(plan=OuterRef("pk")))).order_by("pk"))
    if code:
        plan = plans.filter(code=code).first() if re.fullmatch(r"[-\w]{1,40}", code) else None
        if plan is None:
            raise NotFound(f"没有代码为“{code[:40]}”且已导入指标的规划，或它不在您可查看的范围内。")
        return plan, plans
    return plans.first(), plans


def indicator_sections(user, plan, year, data=None):
    """(filter, [(IndicatorTable, IndicatorRowsTable)]) of the user's visible indicators, filtered
    by `data` (the query string)."""
    indicators = Indicator.objects.visible_to(user).filter(plan=plan).order_by("table__order", "order")
    f = IndicatorFilter(data or None, queryset=indicators, plan=plan, year=year)
    chosen = f.qs if f.is_bound else indicators
    rows = indicator_rows(chosen, plan, year)
    sections = []
    for table in plan.indicator_tables.order_by("order"):
        mine = [r for r in rows if r.table.pk == table.pk]
        if mine:
            records = records_of(mine, plan)
            rows_table = IndicatorRowsTable(records, table=table, year=year, planner=can(user, "tracker.manage_plan", plan))
            rows_table.summary = summary_of(records)
            sections.append((table, rows_table))
    return f, sections


def summary_of(records) -> dict:
    """Counts of the rows shown: per status, red and yellow, how many rows and how many have the
    year's value — so the page's summary agrees with its tables."""
    counts = {code: 0 for code, _ in STATUS_CHOICES}
    counts.update(red=0, yellow=0, total=0, with_value=0)
    for r in records:
        if r["evaluation"] is None:
            continue
        counts[r["evaluation"].status] += 1
        counts["total"] += 1
        counts["with_value"] += r["value"] != ""
        if r["light"] in ("red", "yellow"):
            counts[r["light"]] += 1
    counts["labelled"] = [(code, label, counts[code]) for code, label in STATUS_CHOICES if counts[code]]
    return counts


def targets_summary(sections) -> dict:
    """The page's summary: the sum of its targets tables' counts."""
    total = summary_of([])
    for table, rows_table in sections:
        if table.kind == TableKind.TARGETS:
            for key, n in rows_table.summary.items():
                if key != "labelled":
                    total[key] += n
    return total


def _page(request, midterm=False):
    try:
        plan, plans = _plan_param(request)
        if plan is None:
            return render(request, "indicators/indicator_list.html", {"plan": None})
        default = midterm_year(plan) if midterm else default_year(plan, figures_date())
        year = default if midterm else _year_param(request, plan, default)
        fmt = format_param(request, "_export") if "_export" in request.GET else None
    except BadParameter as error:
        return bad_request(request, error)
    f, sections = indicator_sections(request.user, plan, year, request.GET)
    if fmt:
        return export_response(plan, year, sections, fmt, midterm)
    can_enter = Indicator.objects.editable_by(request.user).filter(plan=plan).exists()
    params = request.GET.copy()
    params.pop("_export", None)
    return render(request, "indicators/indicator_list.html", {
        "plan": plan, "plans": plans, "year": year, "years": range(plan.start_year, plan.end_year + 1),
        "filter": f, "sections": sections, "counts": targets_summary(sections), "midterm": midterm,
        "midterm_year": midterm_year(plan), "can_enter": can_enter, "query": params.urlencode(),
        "status_choices": STATUS_CHOICES,
    })


@login_required
def indicator_list(request):
    return _page(request)


@login_required
def indicator_midterm(request):
    return _page(request, midterm=True)


# ---------------------------------------------------------------- the 年度监测表 export

def monitoring_title(plan, year, midterm=False):
    return f"{plan.name} {'中期评估' if midterm else '年度监测表'}（{year} 年）"


def export_rows(table):
    """(header, [values]) of one section through the Table's own columns."""
    columns = export_columns(table)
    header = [h for h, _, _ in columns]
    return header, [[get(record) for _, get, _ in columns] for record in table.data.data]


def _sheet_name(title, used):
    name = re.sub(r"[\[\]:*?/\\]", "", title)[:28] or "指标"
    base, n = name, 2
    while name in used:
        name, n = f"{base[:26]}{n}", n + 1
    used.add(name)
    return name


def write_monitoring_xlsx(plan, year, sections, out, midterm=False):
    """One sheet per indicator table: its printed title, the header, its rows as printed with the
    year's value and status, its notes; A4 landscape, fit to width, title and header repeated.
    Long cells (names, rules, notes) wrap within their columns so the page is not stretched."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    book.remove(book.active)
    used = set()
    wrap, top = Alignment(wrap_text=True, vertical="top"), Alignment(vertical="top")
    for table, rows_table in sections:
        sheet = book.create_sheet(_sheet_name(table.title, used))
        set_page_setup(sheet, header_rows=2)
        header, rows = export_rows(rows_table)
        widths = [WIDTHS.get(h, 11) for h in header]
        for i, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = width
        last = get_column_letter(len(header))
        title = xlsx_cell(sheet, f"{monitoring_title(plan, year, midterm)}　{table.title}")
        title.font = Font(bold=True, size=13)
        sheet.append([title])
        sheet.merge_cells(f"A1:{last}1")
        sheet.append(header_cells(sheet, header))
        sheet.row_dimensions[2].height = _height(max(_lines(h, w) for h, w in zip(header, widths)))
        wrapped = {i for i, h in enumerate(header) if h in WIDTHS}
        for values in rows:
            cells = [xlsx_cell(sheet, v) for v in values]
            for i, cell in enumerate(cells):
                cell.alignment = wrap if i in wrapped else top
            sheet.append(cells)
            sheet.row_dimensions[sheet.max_row].height = _height(
                max((_lines(values[i], widths[i]) for i in wrapped), default=1))
        for note in table.footnotes:
            cell = xlsx_cell(sheet, note)
            cell.alignment = wrap
            sheet.append([cell])
            sheet.merge_cells(f"A{sheet.max_row}:{last}{sheet.max_row}")
            sheet.row_dimensions[sheet.max_row].height = _height(_lines(note, sum(widths)))
    if not sections:
        sheet = book.create_sheet("指标")
        set_page_setup(sheet)
        sheet.append([xlsx_cell(sheet, "没有可导出的指标")])
    book.save(out)


WIDTHS = {"指标": 28, "评价规则": 56, "类别": 10}  # wrapped columns; others 11 characters


def _lines(text, width):
    """Lines a wrapped cell takes: a Chinese character is two columns of width wide. Row heights
    are set because spreadsheet programs do not all size wrapped rows when opening a file."""
    text = str(text or "")
    return max(1, -(-sum(2 if ord(ch) > 0x2e80 else 1 for ch in text) // max(int(width) - 1, 1)))


def _height(lines):
    return 15 * lines


def write_monitoring_csv(plan, year, sections, out, midterm=False):
    writer = csv.writer(out)
    writer.writerow([csv_value(monitoring_title(plan, year, midterm))])
    for table, rows_table in sections:
        header, rows = export_rows(rows_table)
        writer.writerow([])
        writer.writerow([csv_value(table.title)])
        writer.writerow([csv_value(h) for h in header])
        for values in rows:
            writer.writerow([csv_value(v) for v in values])
        for note in table.footnotes:
            writer.writerow([csv_value(note)])


def export_response(plan, year, sections, fmt, midterm=False):
    name = f"{plan.code}_{'中期评估' if midterm else '年度监测表'}_{year}.{fmt}"
    if fmt == "csv":
        out = io.StringIO()
        out.write("\ufeff")
        write_monitoring_csv(plan, year, sections, out, midterm)
        response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = content_disposition(name)
        return response
    tmp = tempfile.TemporaryFile()
    write_monitoring_xlsx(plan, year, sections, tmp, midterm)
    tmp.seek(0)
    return FileResponse(tmp, as_attachment=True, filename=name, content_type=XLSX_TYPE)

