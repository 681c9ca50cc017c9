"""Import of a plan's 六重清单 from the official table layout (plan text, CSV or XLSX).

The three formats are read into the same stream of rows; one parser walks that stream
(list headings, header rows, category headings, data rows, 小计/合计 rows), validates
every row and collects every error; only a clean parse is written, in one transaction.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from .changes import entries_changed
from .organisations import owner_of
from .models import (
    Category,
    Item,
    ItemStatus,
    ItemUnit,
    ListKind,
    Plan,
    PlanState,
    ProjectType,
    Programme,
    Unit,
    UnitAlias,
    period_name,
    period_of_name,
)
from .validation import (  # noqa: F401  (ImportFailed, Row and the parsers are part of this module's API)
    ImportFailed, Row, cell_error, cell_text, check_length, halfwidth, parse_money, parse_period, parse_seq, read_rows,
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
    absent: list = field(default_factory=list)
    links: object = None  # continuation.LinkReport when linked to a predecessor plan

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

    def lines(self):
        out = []
        head = "试运行（未写入）" if self.dry_run else "导入完成"
        out.append(f"{head}：{self.parsed.file_label} → 规划 {self.plan.code if self.plan else ''} {self.parsed.name}")
        out.append(f"规划期：{self.plan.start_year}–{self.plan.end_year}（{self.plan.period_name}），"
                   f"状态：{self.plan.get_state_display()}")
        kinds = [k for k, _ in ListKind.choices]
        for kind in kinds:
            rows = [i for i in self.parsed.items if i.list_kind == kind]
            if not rows:
                continue
            c = self.counts.get(kind, {})
            out.append(
                f"{ListKind(kind).label}：{len(rows)} 项{self._money(kind, rows)}；"
                f"新建 {c.get('created', 0)}，更新 {c.get('updated', 0)}，未变 {c.get('unchanged', 0)}"
            )
            for cat in (x for x in self.parsed.categories if x.list_kind == kind):
                crow = [i for i in rows if i.category is cat]
                out.append(f"  {cat.label}：{len(crow)} 项{self._money(kind, crow)}")
        if self.parsed.programmes:
            c = self.counts.get(PROGRAMME, {})
            out.append(
                f"十大（类）百亿工程：{len(self.parsed.programmes)} 项，总投资 "
                f"{money2(_sum(i.total for i in self.parsed.programmes))} 亿元；"
                f"新建 {c.get('created', 0)}，更新 {c.get('updated', 0)}，未变 {c.get('unchanged', 0)}"
            )
        for where, label, printed, computed in self.mismatches():
            printed = printed if isinstance(printed, str) else money2(printed)
            out.append(f"警告：{where} {label} 印刷 {printed} ≠ 逐行合计 {money2(computed)}")
        for item in self.absent:
            out.append(f"提示：{item.get_list_kind_display()} 序号 {item.seq}「{item.name}」在库中但不在本文件中，未作改动")
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
               period: tuple | None = None, predecessor: str | None = None, organisation=None) -> ImportReport:
    counts = defaultdict(lambda: {"created": 0, "updated": 0, "unchanged": 0})
    with transaction.atomic():
        plan, predecessor_plan = _plan_for(parsed, code, name, period, predecessor, organisation)
        entries_changed()  # rows also change through update(), which sends no signal
        wanted_name = name or parsed.name
        if wanted_name and plan.name != wanted_name:
            plan.name = wanted_name
        plan.printed_totals = parsed.printed_totals
        plan.save()

        cat_rows = {}
        existing_cats = {(c.list_kind, c.order): c for c in plan.categories.all()}
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

        resolve = UnitResolver()
        existing = {
            (i.list_kind, i.seq): i
            for i in plan.items.prefetch_related("unit_links")
        }
        for p in parsed.items:
            values = {
                "category_id": cat_rows[id(p.category)].pk if p.category else None,
                "name": p.name, "content": p.content, "domain": p.domain, "project_type": p.project_type,
                "start_year": p.start_year, "end_year": p.end_year,
                "total_investment": p.total, "total_investment_approx": p.total_approx,
                "plan_investment": p.plan_investment, "plan_investment_approx": p.plan_approx,
                "units_as_printed": p.units_as_printed, "source_line": p.line,
            }
            links = [
                (resolve(n).pk, ItemUnit.Role.LEAD if i == 0 else ItemUnit.Role.SUPPORT)
                for i, n in enumerate(p.units)
            ]
            item = existing.pop((p.list_kind, p.seq), None)
            if item is None:
                status = initial_status(p)
                item = Item.objects.create(plan=plan, list_kind=p.list_kind, seq=p.seq, status=status, **values)
                outcome = "created"
                current_links = set()
            else:
                current_links = {(l.unit_id, l.role) for l in item.unit_links.all()}
                outcome = "unchanged"
                if _changed(item, values):
                    for k, v in values.items():
                        setattr(item, k, v)
                    item.save()
                    outcome = "updated"
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
                if outcome == "unchanged":
                    outcome = "updated"
            counts[p.list_kind][outcome] += 1

        existing_prog = {p.seq: p for p in plan.programmes.all()}
        for p in parsed.programmes:
            values = {
                "name": p.name, "content": p.content, "start_year": p.start_year, "end_year": p.end_year,
                "total_investment": p.total, "total_investment_approx": p.total_approx, "source_line": p.line,
            }
            prog = existing_prog.get(p.seq)
            if prog is None:
                Programme.objects.create(plan=plan, seq=p.seq, **values)
                counts[PROGRAMME]["created"] += 1
            elif _changed(prog, values):
                for k, v in values.items():
                    setattr(prog, k, v)
                prog.save()
                counts[PROGRAMME]["updated"] += 1
            else:
                counts[PROGRAMME]["unchanged"] += 1

        report = ImportReport(plan, parsed, dict(counts), dry_run, absent=sorted(existing.values(), key=lambda i: (i.list_kind, i.seq)))
        if predecessor_plan is not None:
            from .continuation import link_to_predecessor

            report.links = link_to_predecessor(plan, predecessor_plan)
        if dry_run:
            transaction.set_rollback(True)
    return report


def import_plan(path, code: str, name: str | None = None, dry_run: bool = False,
                period: tuple | None = None, predecessor: str | None = None, organisation=None) -> ImportReport:
    path = Path(path)
    parsed = parse_rows(read_rows(path, path.name), path.name)
    return write_plan(parsed, code, name=name, dry_run=dry_run, period=period, predecessor=predecessor,
                      organisation=organisation)
