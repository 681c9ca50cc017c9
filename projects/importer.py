"""Import of a plan's 六重清单 from the official table layout (plan text, CSV or XLSX).

The three formats are read into the same stream of rows; one parser walks that stream
(list headings, header rows, category headings, data rows, 小计/合计 rows), validates
every row and collects every error; only a clean parse is written, in one transaction.
"""
from __future__ import annotations

import datetime
import hashlib
import io
import re
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from .changes import entries_changed
from .organisations import owner_of
from .models import (
    Category,
    Item,
    ItemStatus,
    ItemUnit,
    ListKind,
    Plan,
    PlanImport,
    PlanState,
    ProjectType,
    Programme,
    Unit,
    UnitAlias,
    frozen_reason,
    period_name,
    period_text,
    period_of_name,
)
from .validation import (  # noqa: F401  (ImportFailed, Row and the parsers are part of this module's API)
    ImportFailed, Row, cell_error, cell_text, check_length, halfwidth, parse_money, parse_period, parse_seq, read_bytes,
    read_rows,
    split_unit_cell,
)

PROGRAMME = "programme"  # pseudo list kind for 十大（类）百亿工程

LIST_HEADING = re.compile(r"^[一二三四五六]\s*[、.．]\s*重大(项目|平台|产业|改革|政策|要素)清单$")
LIST_BY_WORD = {
    "项目": ListKind.PROJECT,
    "平台": ListKind.PLATFORM,
    "产业": ListKind.INDUSTRY,
    "改革": ListKind.REFORM,
    "政策": ListKind.POLICY,
    "要素": ListKind.ELEMENT,
}
CATEGORY_HEADING = re.compile(r"^([一二三四五六七八九十]+)\s*(?:[、.．]\s*(.*))?$")
PROJECT_TYPES = {label: value for value, label in ProjectType.choices}

REQUIRED_COLUMNS = {
    ListKind.PROJECT: ["seq", "name", "content", "project_type", "period", "total", "plan_investment", "units"],
    PROGRAMME: ["seq", "name", "content", "period", "total"],
    ListKind.POLICY: ["seq", "domain", "name", "content", "units"],
}
DEFAULT_REQUIRED = ["seq", "name", "content", "units"]
COLUMN_LABELS = {
    "seq": "序号",
    "name": "名称",
    "content": "建设规模和内容",
    "project_type": "项目类型",
    "period": "建设期限",
    "total": "总投资",
    "plan_investment": "规划期投资（如“十五五”投资）",
    "units": "责任单位",
    "domain": "领域",
}

# “十四五”投资, “十五五”投资 (亿元) …: the period investment column of any five-year plan
PERIOD_COLUMN = re.compile(r"^[“\"']?((?:[二三四五六七八九]?十[一二三四五六七八九]?|[三四五六七八九])五)[”\"']?(?:期间)?(?:计划)?投资")
PERIOD_IN_TITLE = re.compile(r"[“\"]?((?:[二三四五六七八九]?十[一二三四五六七八九]?|[三四五六七八九])五)[”\"]?(?:发展)?规划")

_CJK = r"\u2e80-\u2fff\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef“”‘’"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")


# ---------------------------------------------------------------- normalisers

def squeeze(text: str) -> str:
    """Undo PDF wrapping: drop white space between two CJK characters, fold the rest."""
    text = (text or "").replace("\u00a0", " ").strip()
    text = re.sub(r"\s+", " ", text)
    return _CJK_GAP.sub("", text)


def normalise_unit_name(name: str) -> str:
    name = squeeze(name).replace("(", "（").replace(")", "）").replace(",", "，")
    return re.sub(r"\s*([（），])\s*", r"\1", name)


def split_units(raw: str) -> list[str]:
    """The unit names of a 责任单位 cell: split on '、' outside brackets, placeholders dropped."""
    return split_unit_cell(normalise_unit_name(raw))


_cell_text = cell_text


# ---------------------------------------------------------------- parsing

@dataclass
class ParsedCategory:
    list_kind: str
    order: int
    name: str
    label: str
    printed_total: Decimal | None = None
    printed_plan: Decimal | None = None


@dataclass
class ParsedItem:
    list_kind: str
    seq: int
    line: int
    category: ParsedCategory | None
    name: str
    content: str = ""
    domain: str = ""
    project_type: str = ""
    start_year: int | None = None
    end_year: int | None = None
    total: Decimal | None = None
    total_approx: bool = False
    plan_investment: Decimal | None = None
    plan_approx: bool = False
    units: list = field(default_factory=list)
    units_as_printed: str = ""


@dataclass
class ParsedPlan:
    file_label: str
    name: str = ""
    period: tuple | None = None  # (start, end) from the period investment column, else the title
    period_source: str = ""
    categories: list = field(default_factory=list)
    items: list = field(default_factory=list)
    programmes: list = field(default_factory=list)
    printed_totals: dict = field(default_factory=dict)


def _header_key(cell: str) -> str | None:
    text = re.sub(r"\s+", "", halfwidth(cell))
    if not text:
        return None
    if text == "序号":
        return "seq"
    if PERIOD_COLUMN.match(text) and period_of_name(PERIOD_COLUMN.match(text).group(1)):
        return "plan_investment"
    if text.startswith("总投资"):
        return "total"
    if text in ("建设规模和内容", "建设内容", "工作目标任务", "主要内容"):
        return "content"
    if text == "项目类型":
        return "project_type"
    if text in ("建设期限", "建设年限"):
        return "period"
    if text == "责任单位":
        return "units"
    if text == "领域":
        return "domain"
    if text.endswith("名称") or text == "类别":
        return "name"
    return "?" + text


def _list_of_sheet(title: str):
    if "百亿工程" in title:
        return PROGRAMME
    for word, kind in LIST_BY_WORD.items():
        if f"重大{word}" in title:
            return kind
    return None


def parse_rows(rows: list[Row], file_label: str) -> ParsedPlan:
    parsed = ParsedPlan(file_label)
    errors: list[str] = []

    def error(row, column, raw, reason):
        errors.append(cell_error(file_label, row.where, column, raw, reason))

    def column_label(key):
        """A column's name in messages: the period column as this file's period calls it."""
        if key == "plan_investment" and parsed.period:
            return f"“{period_name(*parsed.period)}”投资"
        return COLUMN_LABELS[key]

    start = 0
    for i, row in enumerate(rows):
        nonempty = [c.strip() for c in row.cells if c.strip()]
        if len(nonempty) == 1 and re.match(r"^附件\s*[:：]", nonempty[0]):
            start = i + 1
            title = re.sub(r"^附件\s*[:：]\s*", "", nonempty[0])
            parsed.name = re.sub(r"[“\"]?六重[”\"]?清单$", "", title).strip()
            try:
                check_length(parsed.name, Plan, "name", "规划名称")
            except ValueError as exc:
                error(row, "标题", title, str(exc))
            titled = PERIOD_IN_TITLE.search(parsed.name)
            if titled and period_of_name(titled.group(1)):
                parsed.period, parsed.period_source = period_of_name(titled.group(1)), "title"
            break

    kind = None
    sheet = None
    columns: list | None = None
    category = None
    category_order = defaultdict(int)
    seen_seq: dict = {}

    for row in rows[start:]:
        cells = [c if isinstance(c, str) else _cell_text(c) for c in row.cells]
        stripped = [c.strip() for c in cells]
        nonempty = [c for c in stripped if c]
        if row.sheet and row.sheet != sheet:
            sheet = row.sheet
            kind, columns, category = _list_of_sheet(sheet), None, None
        if not nonempty:
            continue
        first = halfwidth(stripped[0]) if stripped else ""
        heading = LIST_HEADING.match(re.sub(r"\s+", "", nonempty[0])) if len(nonempty) == 1 else None
        if heading:
            kind, columns, category = LIST_BY_WORD[heading.group(1)], None, None
            continue
        if len(nonempty) == 1 and nonempty[0].startswith("其中") and "百亿工程" in nonempty[0]:
            kind, columns, category = PROGRAMME, None, None
            continue
        if kind is None:
            continue
        if re.sub(r"\s+", "", first) == "序号":
            columns = [_header_key(c) for c in cells]
            for c in cells:
                match = PERIOD_COLUMN.match(re.sub(r"\s+", "", halfwidth(c)))
                period = period_of_name(match.group(1)) if match else None
                if period is None:
                    continue
                if parsed.period_source == "column" and parsed.period != period:
                    error(row, "表头", c.strip(), f"规划期与前面的表头（{period_name(*parsed.period)}）不一致")
                parsed.period, parsed.period_source = period, "column"
            unknown = [c[1:] for c in columns if c and c.startswith("?")]
            required = REQUIRED_COLUMNS.get(kind, DEFAULT_REQUIRED)
            missing = [COLUMN_LABELS[c] for c in required if c not in columns]
            if unknown or missing:
                reason = "；".join(
                    ([f"未知列 {'、'.join(unknown)}"] if unknown else [])
                    + ([f"缺少列 {'、'.join(missing)}"] if missing else [])
                )
                error(row, "表头", "\t".join(nonempty), reason)
                columns = None
            continue
        total_word = next((c for c in stripped[:2] if re.sub(r"\s+", "", c) in ("小计", "合计")), None)
        if total_word:
            if columns is None:
                error(row, "表头", total_word, "小计/合计行之前没有表头")
                continue
            values, approx = {}, {}
            for key in ("total", "plan_investment"):
                if key in columns and columns.index(key) < len(cells):
                    raw = cells[columns.index(key)]
                    try:
                        values[key], approx[key] = parse_money(raw)
                    except ValueError as exc:
                        error(row, column_label(key), raw.strip(), str(exc))
            if re.sub(r"\s+", "", total_word) == "小计" and category is not None:
                category.printed_total = values.get("total")
                category.printed_plan = values.get("plan_investment")
            else:
                parsed.printed_totals[kind] = {k: (str(v) if v is not None else None) for k, v in values.items()}
                if any(approx.values()):
                    parsed.printed_totals[kind]["approx"] = [k for k, a in approx.items() if a]
            continue
        if columns is None:
            if first[:1].isdigit() or CATEGORY_HEADING.match(first):
                error(row, "表头", first, "数据行之前没有“序号”表头")
            continue
        cat = CATEGORY_HEADING.match(re.sub(r"\s+", "", first)) if first else None
        if cat and kind != PROGRAMME:
            name = cat.group(2) or (stripped[1] if len(stripped) > 1 else "")
            if not name:
                error(row, "类别", first, "类别标题缺少名称")
                continue
            category_order[kind] += 1
            label = first if cat.group(2) else f"{first}、{name}"
            try:
                check_length(squeeze(label), Category, "printed_label", "类别标题")
            except ValueError as exc:
                error(row, "类别", first, str(exc))
                continue
            category = ParsedCategory(kind, category_order[kind], squeeze(name), squeeze(label))
            parsed.categories.append(category)
            continue
        if not first[:1].isdigit():  # any digit, so ² and other scripts' digits are refused below
            if len(nonempty) > 1:
                error(row, "序号", stripped[0], "无法识别的行（不是表头、类别、小计或以数字序号开头的数据行）")
            continue
        try:
            seq = parse_seq(first)
        except ValueError as exc:
            error(row, "序号", stripped[0], str(exc))
            continue
        if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns):]):
            error(row, "列数", str(len(cells)), f"多于表头的 {len(columns)} 列")
            continue
        values = {key: (cells[i] if i < len(cells) else "") for i, key in enumerate(columns) if key}
        if (kind, seq) in seen_seq:
            error(row, "序号", first, f"序号重复（已见于{seen_seq[(kind, seq)]}）")
            continue
        seen_seq[(kind, seq)] = row.where
        item = ParsedItem(kind, seq, row.line, category, squeeze(values.get("name", "")))
        if not item.name:
            error(row, "名称", "", "名称不能为空")
        item.content = squeeze(values.get("content", ""))
        if item.content == "待定":
            item.content = ""
        item.domain = squeeze(values.get("domain", ""))
        for label, model, field_name, text in (("名称", Programme if kind == PROGRAMME else Item, "name", item.name),
                                               ("领域", Item, "domain", item.domain)):
            try:
                check_length(text, model, field_name, label)
            except ValueError as exc:
                error(row, label, text, str(exc))
        if "project_type" in values:
            raw = squeeze(values["project_type"])
            if raw not in PROJECT_TYPES:
                error(row, "项目类型", raw, f"未知的项目类型（应为 {'、'.join(PROJECT_TYPES)}）")
            else:
                item.project_type = PROJECT_TYPES[raw]
        if "period" in values:
            try:
                item.start_year, item.end_year = parse_period(values["period"])
            except ValueError as exc:
                error(row, "建设期限", values["period"].strip(), str(exc))
        for key, attr in (("total", "total"), ("plan_investment", "plan_investment")):
            if key in values:
                try:
                    value, approx = parse_money(values[key])
                except ValueError as exc:
                    error(row, column_label(key), values[key].strip(), str(exc))
                else:
                    setattr(item, attr, value)
                    setattr(item, f"{'plan' if key == 'plan_investment' else 'total'}_approx", approx)
        if "units" in values:
            item.units_as_printed = squeeze(values["units"])
            try:
                check_length(item.units_as_printed, Item, "units_as_printed", "责任单位")
                item.units = split_units(values["units"])
                for name in item.units:
                    check_length(name, Unit, "name", "单位名称")
            except ValueError as exc:
                error(row, "责任单位", values["units"].strip(), str(exc))
        (parsed.programmes if kind == PROGRAMME else parsed.items).append(item)

    if errors:
        raise ImportFailed(errors)
    if not parsed.items:
        raise ImportFailed([
            f"{file_label}: 未找到六重清单表格（需要“一、重大项目清单”等标题或同名工作表，以及“序号”开头的表头行）"
        ])
    return parsed


# ---------------------------------------------------------------- summary

def _sum(values):
    return sum((v for v in values if v is not None), Decimal("0"))


def money2(value) -> str:
    return "待定" if value is None else f"{Decimal(value):.2f}"


@dataclass
class ImportReport:
    plan: Plan | None
    parsed: ParsedPlan
    counts: dict  # list kind -> {"created": n, "updated": n, "unchanged": n}
    dry_run: bool
    absent: list = field(default_factory=list)  # entries of the plan missing from the file (not withdrawn before)
    links: object = None  # continuation.LinkReport when linked to a predecessor plan
    added: list = field(default_factory=list)  # entries created by this import
    changed: list = field(default_factory=list)  # (entry, [(field label, old, new)]): row position alone is no change
    withdrawn: list = field(default_factory=list)  # (entry, reason): taken out of the lists (调出)
    is_adjustment: bool = False  # the plan had entries before: a 动态调整
    adjusted_on: object = None
    document_no: str = ""
    record: object = None  # the PlanImport row that keeps the file and the adjustment

    def mismatches(self):
        """Every printed 小计/合计 that differs from the sum of its rows."""
        found = []
        for cat in self.parsed.categories:
            rows = [i for i in self.parsed.items if i.category is cat]
            for label, printed, computed in (
                ("总投资", cat.printed_total, _sum(i.total for i in rows)),
                (self.period_column, cat.printed_plan, _sum(i.plan_investment for i in rows)),
            ):
                if printed is not None and printed != computed:
                    found.append((f"{ListKind(cat.list_kind).label} {cat.label} 小计", label, printed, computed))
        for kind, totals in self.parsed.printed_totals.items():
            rows = self.parsed.programmes if kind == PROGRAMME else [i for i in self.parsed.items if i.list_kind == kind]
            title = "十大（类）百亿工程" if kind == PROGRAMME else ListKind(kind).label
            for key, label, attr in (("total", "总投资", "total"),
                                     ("plan_investment", self.period_column, "plan_investment")):
                printed = totals.get(key)
                if printed is None:
                    continue
                computed = _sum(getattr(i, attr) for i in rows)
                if Decimal(printed) != computed:
                    shown = f"约 {Decimal(printed):.2f}" if key in totals.get("approx", []) else Decimal(printed)
                    found.append((f"{title} 合计", label, shown, computed))
        return found

    @property
    def period_column(self) -> str:
        return f"“{self.plan.period_name}”投资" if self.plan else "规划期投资"

    def _money(self, kind, rows):
        if kind != ListKind.PROJECT:
            return ""
        return (
            f"，总投资 {money2(_sum(i.total for i in rows))} 亿元，"
            f"{self.period_column} {money2(_sum(i.plan_investment for i in rows))} 亿元"
        )

    def list_rows(self):
        """Per list: its label, rows, money (projects only) and counts, and per category the same."""
        out = []
        for kind, label in ListKind.choices:
            rows = [i for i in self.parsed.items if i.list_kind == kind]
            if rows:
                cats = [(cat.label, [i for i in rows if i.category is cat])
                        for cat in self.parsed.categories if cat.list_kind == kind]
                out.append((kind, label, rows, self.counts.get(kind, {}), cats))
        if self.parsed.programmes:
            out.append((PROGRAMME, "十大（类）百亿工程", self.parsed.programmes, self.counts.get(PROGRAMME, {}), []))
        return out

    def adjustment_counts(self) -> dict:
        return {"added": len(self.added), "changed": len(self.changed), "withdrawn": len(self.withdrawn),
                "missing_kept": len(self.absent) - len(self.withdrawn)}

    def preview(self) -> dict:
        """What the dry run found, as plain data (stored with a staged upload and shown before the
        confirm): sums per list and category, printed totals that differ, links, and the
        adjustment's entries added, changed and missing."""
        def money(kind, rows):
            if kind not in (ListKind.PROJECT, PROGRAMME):
                return None
            return {"total": money2(_sum(i.total for i in rows)),
                    "plan": money2(_sum(i.plan_investment for i in rows)) if kind == ListKind.PROJECT else None}

        def entry(item):
            return {"pk": item.pk, "kind": item.list_kind, "list": ListKind(item.list_kind).label, "seq": item.seq,
                    "name": item.name}

        lists = [{"kind": kind, "label": label, "count": len(rows), "money": money(kind, rows),
                  "created": c.get("created", 0), "updated": c.get("updated", 0), "unchanged": c.get("unchanged", 0),
                  "categories": [{"label": cl, "count": len(cr), "money": money(kind, cr)} for cl, cr in cats]}
                 for kind, label, rows, c, cats in self.list_rows()]
        links = None
        if self.links is not None:
            links = {"predecessor": f"{self.links.predecessor.code}（{self.links.predecessor.name}）",
                     "linked": len(self.links.linked), "kept": self.links.kept,
                     # new entries' ids differ from run to run: the links name entries by list and 序号
                     "ambiguous": [{**entry(e), "pk": None, "candidates": "、".join(str(c.seq) for c in cands)}
                                   for e, cands in self.links.ambiguous],
                     "unlinked_continuing": [{**entry(e), "pk": None} for e in self.links.unlinked_continuing],
                     "without_successor": len(self.links.without_successor)}
        return {
            "plan": {"code": self.plan.code, "name": self.plan.name, "period": self.plan.period_name,
                     "years": f"{self.plan.start_year}–{self.plan.end_year}", "is_new": not self.is_adjustment and not
                     any(c.get("unchanged") or c.get("updated") for c in self.counts.values())},
            "period_column": self.period_column,
            "lists": lists,
            "mismatches": [{"where": w, "label": label, "printed": p if isinstance(p, str) else money2(p),
                            "computed": money2(c)} for w, label, p, c in self.mismatches()],
            "links": links,
            "is_adjustment": self.is_adjustment,
            "added": [{"list": ListKind(i.list_kind).label, "seq": i.seq, "name": i.name} for i in self.added],
            "changed": [{**entry(i), "changes": [list(c) for c in changes]} for i, changes in self.changed],
            "missing": [entry(i) for i in self.absent],
            "lines": self.lines(),
        }

    def lines(self):
        out = []
        head = "试运行（未写入）" if self.dry_run else "导入完成"
        out.append(f"{head}：{self.parsed.file_label} → 规划 {self.plan.code if self.plan else ''} {self.parsed.name}")
        out.append(f"规划期：{self.plan.start_year}–{self.plan.end_year}（{self.plan.period_name}），"
                   f"状态：{self.plan.get_state_display()}")
        for kind, label, rows, c, cats in self.list_rows():
            counts = f"新建 {c.get('created', 0)}，更新 {c.get('updated', 0)}，未变 {c.get('unchanged', 0)}"
            if kind == PROGRAMME:
                out.append(f"{label}：{len(rows)} 项，总投资 {money2(_sum(i.total for i in rows))} 亿元；{counts}")
                continue
            out.append(f"{label}：{len(rows)} 项{self._money(kind, rows)}；{counts}")
            for cat_label, crow in cats:
                out.append(f"  {cat_label}：{len(crow)} 项{self._money(kind, crow)}")
        for where, label, printed, computed in self.mismatches():
            printed = printed if isinstance(printed, str) else money2(printed)
            out.append(f"警告：{where} {label} 印刷 {printed} ≠ 逐行合计 {money2(computed)}")
        if self.is_adjustment:
            c = self.adjustment_counts()
            out.append(f"动态调整（{self.adjusted_on:%Y-%m-%d}{'，' + self.document_no if self.document_no else ''}）："
                       f"新增 {c['added']} 项，变更 {c['changed']} 项，调出 {c['withdrawn']} 项，"
                       f"文件中缺少而保留 {c['missing_kept']} 项")
        for item, changes in self.changed:
            what = "；".join(f"{label}：{old} → {new}" for label, old, new in changes)
            out.append(f"变更：{item.get_list_kind_display()} 序号 {item.seq}「{item.name}」{what}")
        withdrawn = {i.pk: r for i, r in self.withdrawn}
        for item in self.absent:
            if item.pk in withdrawn:
                out.append(f"调出：{item.get_list_kind_display()} 序号 {item.seq}「{item.name}」（{withdrawn[item.pk]}），"
                           f"自 {self.adjusted_on:%Y-%m-%d} 起不再计入")
            else:
                out.append(f"提示：{item.get_list_kind_display()} 序号 {item.seq}「{item.name}」在库中但不在本文件中，"
                           f"保留未改动（调出须用 --withdraw-missing 原因）")
        if self.links is not None:
            out.extend(self.links.lines())
        return out


# ---------------------------------------------------------------- writing

ITEM_FIELDS = (
    "category_id", "name", "content", "domain", "project_type", "start_year", "end_year",
    "total_investment", "total_investment_approx", "plan_investment", "plan_investment_approx",
    "units_as_printed", "source_line",
)


class UnitResolver:
    """Finds or creates the Unit of a normalised name, through known aliases."""

    def __init__(self):
        self.by_name = {u.name: u for u in Unit.objects.all()}
        self.by_name.update({a.name: a.unit for a in UnitAlias.objects.select_related("unit")})

    def __call__(self, name):
        unit = self.by_name.get(name)
        if unit is None:
            unit = Unit.objects.create(name=name)
            self.by_name[name] = unit
        return unit


def initial_status(parsed_item) -> str:
    """A new entry's status: a 续建 project and every platform, industry, reform, policy and
    element task are under way from the plan's start (and owe monthly reports); other projects
    wait for their start."""
    if parsed_item.list_kind != ListKind.PROJECT or parsed_item.project_type == ProjectType.CONTINUING:
        return ItemStatus.IN_PROGRESS
    return ItemStatus.NOT_STARTED


def _changed(obj, values):
    return any(getattr(obj, k) != v for k, v in values.items())


def _number(value, approx=False) -> str:
    if value is None:
        return "待定"
    return ("约" if approx else "") + format(Decimal(value).normalize(), "f")


def _shown(row, category_label, period_column) -> dict:
    """An entry's imported fields as a reader compares them, from an Item or a values dict; the
    row's position in the file (source_line) is not among them."""
    get = row.get if isinstance(row, dict) else (lambda k: getattr(row, k))
    return {
        "类别": category_label(get("category_id")),
        "名称": get("name"), "建设规模和内容": get("content"), "领域": get("domain"),
        "项目类型": PROJECT_LABELS.get(get("project_type"), ""),
        "建设期限": period_text(get("start_year"), get("end_year")) if get("start_year") else "",
        "总投资": _number(get("total_investment"), get("total_investment_approx")),
        period_column: _number(get("plan_investment"), get("plan_investment_approx")),
        "责任单位": get("units_as_printed"),
    }


PROJECT_LABELS = {value: label for value, label in ProjectType.choices}


def _differences(item, values, category_label, period_column) -> list:
    """[(field label, old, new)] of the fields that differ; position alone is no change."""
    old, new = _shown(item, category_label, period_column), _shown(values, category_label, period_column)
    return [(label, old[label] or "（空）", new[label] or "（空）") for label in old if old[label] != new[label]]


def _withdrawals(withdraw, absent, label) -> dict:
    """{entry pk: reason} of the missing entries chosen for 调出: `withdraw` is one reason for every
    missing entry, or {(list kind, 序号): reason}; refusals name the entry."""
    if not withdraw:
        return {}
    if isinstance(withdraw, str):
        withdraw = {(i.list_kind, i.seq): withdraw for i in absent}
    by_key = {(i.list_kind, i.seq): i for i in absent}
    chosen, problems = {}, []
    for (kind, seq), reason in withdraw.items():
        reason = (reason or "").strip()
        item = by_key.get((kind, seq))
        where = f"{ListKind(kind).label if kind in ListKind.values else kind} 序号 {seq}"
        if item is None:
            problems.append(f"{label}: {where} 不在“文件中缺少的事项”之中，不能调出")
        elif not reason:
            problems.append(f"{label}: {where}「{item.name}」调出须写明原因")
        elif len(reason) > Item._meta.get_field("withdrawal_reason").max_length:
            problems.append(f"{label}: {where} 调出原因超过 {Item._meta.get_field('withdrawal_reason').max_length} 字")
        else:
            chosen[item.pk] = reason
    if problems:
        raise ImportFailed(problems)
    return chosen


def _plan_for(parsed: ParsedPlan, code: str, name, period, predecessor_code, organisation=None):
    """The plan the file goes into, its period (from --period, the period column or the title),
    and the predecessor plan to link to; refusals name the file."""
    label = parsed.file_label
    period = period or parsed.period
    problems = []
    for text, field_name, option in ((code, "code", "--plan"), (name or "", "name", "--name")):
        try:
            check_length(text, Plan, field_name, f"{option} {Plan._meta.get_field(field_name).verbose_name}")
        except ValueError as exc:
            problems.append(f"{label}: {exc}")
    if problems:
        raise ImportFailed(problems)
    plan = Plan.objects.filter(code=code).first()
    if plan is None and period is None:
        raise ImportFailed([f"{label}: 无法确定规划期：表头没有“十X五”投资列，标题中也没有“十X五”规划，"
                            f"请用 --period YYYY-YYYY 指定"])
    if plan is None:
        plan = Plan(code=code, name=name or parsed.name or code, state=PlanState.ACTIVE)
    if period is not None:
        plan.start_year, plan.end_year = period
    plan.organisation = owner_of(plan, organisation, label)
    predecessor = None
    if predecessor_code:
        predecessor = Plan.objects.filter(code=predecessor_code).first()
        if predecessor is None:
            raise ImportFailed([f"{label}: 上一期规划“{predecessor_code}”不存在"])
        if predecessor.code == code or predecessor.start_year >= plan.start_year:
            raise ImportFailed([f"{label}: 上一期规划“{predecessor_code}”（{predecessor.start_year}–"
                                f"{predecessor.end_year}）须早于本规划（{plan.start_year}–{plan.end_year}）"])
    return plan, predecessor


def write_plan(parsed: ParsedPlan, code: str, name: str | None = None, dry_run: bool = False,
               period: tuple | None = None, predecessor: str | None = None, *, adjusted_on=None,
               withdraw=None, document_no: str = "", user=None, record=None, organisation=None) -> ImportReport:
    """Write (or, dry_run, only try) the parsed lists into plan `code`, all or nothing. Into a plan
    that already has entries this is an adjustment (动态调整) dated `adjusted_on`: entries added
    are listed from that day; the missing entries named in `withdraw` (see `_withdrawals`) are
    taken out (调出) from that day, keeping their history and reports. `record` (a PlanImport
    holding the file) is saved as applied with the counts, unless dry_run."""
    counts = defaultdict(lambda: {"created": 0, "updated": 0, "unchanged": 0})
    try:
        check_length(document_no, PlanImport, "document_no", "文号")
    except ValueError as exc:
        raise ImportFailed([f"{parsed.file_label}: {exc}"]) from None
    with transaction.atomic():
        plan, predecessor_plan = _plan_for(parsed, code, name, period, predecessor, organisation)
        is_adjustment = plan.pk is not None and plan.items.exists()
        if is_adjustment and adjusted_on is None:  # the day it is made (the command's default too)
            adjusted_on = timezone.localdate()
        if is_adjustment and adjusted_on < datetime.date(plan.start_year, 1, 1):
            raise ImportFailed([f"{parsed.file_label}: 调整日期 {adjusted_on:%Y-%m-%d} 早于规划期开始"])
        entries_changed()  # rows also change through update(), which sends no signal
        wanted_name = name or parsed.name
        if wanted_name and plan.name != wanted_name:
            plan.name = wanted_name
        plan.printed_totals = parsed.printed_totals
        plan.save()
        if record is not None and not dry_run:
            record.plan = plan
            record.save()
        period_column = f"“{plan.period_name}”投资"

        cat_rows = {}
        existing_cats = {(c.list_kind, c.order): c for c in plan.categories.all()}
        old_labels = {c.pk: c.printed_label or c.name for c in existing_cats.values()}
        for pc in parsed.categories:
            values = {
                "name": pc.name, "printed_label": pc.label,
                "printed_total_investment": pc.printed_total, "printed_plan_investment": pc.printed_plan,
            }
            cat = existing_cats.get((pc.list_kind, pc.order))
            if cat is None:
                cat = Category.objects.create(plan=plan, list_kind=pc.list_kind, order=pc.order, **values)
            elif _changed(cat, values):
                for k, v in values.items():
                    setattr(cat, k, v)
                cat.save()
            cat_rows[id(pc)] = cat

        def category_label(pk):
            return old_labels.get(pk) or next((c.printed_label for c in cat_rows.values() if c.pk == pk), "")

        resolve = UnitResolver()
        existing = {
            (i.list_kind, i.seq): i
            for i in plan.items.prefetch_related("unit_links__unit")
        }
        added, changed = [], []
        for p in parsed.items:
            values = {
                "category_id": cat_rows[id(p.category)].pk if p.category else None,
                "name": p.name, "content": p.content, "domain": p.domain, "project_type": p.project_type,
                "start_year": p.start_year, "end_year": p.end_year,
                "total_investment": p.total, "total_investment_approx": p.total_approx,
                "plan_investment": p.plan_investment, "plan_investment_approx": p.plan_approx,
                "units_as_printed": p.units_as_printed,
            }
            links = [
                (resolve(n).pk, ItemUnit.Role.LEAD if i == 0 else ItemUnit.Role.SUPPORT)
                for i, n in enumerate(p.units)
            ]
            item = existing.pop((p.list_kind, p.seq), None)
            differences = []
            if item is None:
                status = initial_status(p)
                item = Item.objects.create(plan=plan, list_kind=p.list_kind, seq=p.seq, status=status,
                                           source_line=p.line, added_on=adjusted_on if is_adjustment else None,
                                           **values)
                outcome = "created"
                added.append(item)
                current_links = set()
            else:
                current_links = {(link.unit_id, link.role) for link in item.unit_links.all()}
                current_names = [link.unit.name for link in item.unit_links.all()]
                outcome = "unchanged"
                differences = _differences(item, values, category_label, period_column)
                if item.withdrawn_on is not None:  # back in the file: listed again
                    differences.append(("调出", f"{item.withdrawn_on:%Y-%m-%d}（{item.withdrawal_reason}）", "重新列入"))
                    values.update(withdrawn_on=None, withdrawal_reason="", adjustment=None)
                if differences:
                    for k, v in values.items():
                        setattr(item, k, v)
                    item.source_line = p.line
                    item._change_reason = "动态调整" if is_adjustment else "导入"
                    if user is not None:
                        item._history_user = user
                    item.save()
                    outcome = "updated"
                elif item.source_line != p.line:  # its position only: no change
                    Item.objects.filter(pk=item.pk).update(source_line=p.line)
            wanted_links = dict(links)  # a unit named twice keeps its first role
            if current_links != set(wanted_links.items()):
                ItemUnit.objects.filter(item=item).exclude(unit_id__in=wanted_links).delete()
                kept = {uid: role for uid, role in current_links if uid in wanted_links}
                for uid, role in wanted_links.items():
                    if uid not in kept:
                        ItemUnit.objects.create(item=item, unit_id=uid, role=role)
                    elif kept[uid] != role:
                        ItemUnit.objects.filter(item=item, unit_id=uid).update(role=role)
                        entries_changed([item.pk])
                if outcome != "created":
                    names = {u.pk: u.name for u in resolve.by_name.values()}
                    differences.append(("责任分工", "、".join(current_names) or "（无）",
                                        "、".join(names[uid] for uid in wanted_links) or "（无）"))
                if outcome == "unchanged":
                    outcome = "updated"
            if differences:
                changed.append((item, differences))
            counts[p.list_kind][outcome] += 1

        existing_prog = {p.seq: p for p in plan.programmes.all()}
        for p in parsed.programmes:
            values = {
                "name": p.name, "content": p.content, "start_year": p.start_year, "end_year": p.end_year,
                "total_investment": p.total, "total_investment_approx": p.total_approx,
            }
            prog = existing_prog.get(p.seq)
            if prog is None:
                Programme.objects.create(plan=plan, seq=p.seq, source_line=p.line, **values)
                counts[PROGRAMME]["created"] += 1
            elif _changed(prog, values):
                for k, v in values.items():
                    setattr(prog, k, v)
                prog.source_line = p.line
                prog.save()
                counts[PROGRAMME]["updated"] += 1
            else:
                if prog.source_line != p.line:
                    Programme.objects.filter(pk=prog.pk).update(source_line=p.line)
                counts[PROGRAMME]["unchanged"] += 1

        absent = sorted((i for i in existing.values() if i.withdrawn_on is None), key=lambda i: (i.list_kind, i.seq))
        report = ImportReport(plan, parsed, dict(counts), dry_run, absent=absent, added=added, changed=changed,
                              is_adjustment=is_adjustment, adjusted_on=adjusted_on, document_no=document_no,
                              record=record)
        chosen = _withdrawals(withdraw, absent, parsed.file_label)
        if chosen and plan.is_closed:
            raise ImportFailed([f"{parsed.file_label}: {frozen_reason(plan, 'status')}"])
        for item in absent:
            if item.pk not in chosen:
                continue
            item.withdrawn_on, item.withdrawal_reason = adjusted_on, chosen[item.pk]
            item.adjustment = record if record is not None and not dry_run else None
            item._change_reason = f"动态调整调出：{chosen[item.pk]}"
            if user is not None:
                item._history_user = user
            item.save()
            report.withdrawn.append((item, chosen[item.pk]))
        if predecessor_plan is not None:
            from .continuation import link_to_predecessor

            report.links = link_to_predecessor(plan, predecessor_plan)
        if dry_run:
            transaction.set_rollback(True)
        elif record is not None:
            record.state, record.applied_at = PlanImport.State.APPLIED, timezone.now()
            record.is_adjustment, record.document_no = is_adjustment, document_no
            record.adjusted_on = adjusted_on if is_adjustment else None
            record.counts = report.adjustment_counts()
            record.save()
    return report


def checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def new_record(kind, data: bytes, filename: str, plan_code: str, user=None, plan_name: str = "",
               predecessor_code: str = "", organisation=None) -> PlanImport:
    """An unsaved PlanImport holding the file: staged by an upload, or saved by the import itself.
    organisation: the owner of a plan the import creates (an existing plan keeps its own)."""
    return PlanImport(token=secrets.token_hex(16), kind=kind, plan_code=plan_code, plan_name=plan_name or "",
                      predecessor_code=predecessor_code or "", filename=filename[:255], data=data,
                      checksum=checksum(data), uploaded_by=user, organisation=organisation)


def file_of(record: PlanImport) -> tuple:
    """(the stored file's bytes as a readable file, its name), refused if they no longer match the
    checksum taken at upload."""
    data = bytes(record.data)
    if checksum(data) != record.checksum:
        raise ImportFailed([f"{record.filename}: 暂存文件的校验和不符，请重新上传"])
    return io.BytesIO(data), record.filename


def import_lists(record: PlanImport, dry_run: bool = False, period: tuple | None = None, **adjustment) -> ImportReport:
    """The lists of a stored upload, through the same parser and writer as the command."""
    source, filename = file_of(record)
    parsed = parse_rows(read_rows(source, filename), filename)
    adjustment.setdefault("organisation", record.organisation)
    return write_plan(parsed, record.plan_code, name=record.plan_name or None, dry_run=dry_run, period=period,
                      predecessor=record.predecessor_code or None, record=record, **adjustment)


def import_plan(path, code: str, name: str | None = None, dry_run: bool = False,
                period: tuple | None = None, predecessor: str | None = None, **adjustment) -> ImportReport:
    """The command's import: the file is kept with the plan (PlanImport) like an upload's."""
    path = Path(path)
    record = new_record(PlanImport.Kind.LISTS, read_bytes(path, path.name), path.name, code, adjustment.get("user"),
                        name or "", predecessor or "", adjustment.get("organisation"))
    return import_lists(record, dry_run=dry_run, period=period, **adjustment)
