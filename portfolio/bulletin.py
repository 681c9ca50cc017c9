"""The monthly 通报: a Word document in the usual shape of a municipal 重点项目 通报
(docs/architecture.md, "The monthly 通报").

Every figure in it is the dashboard's own, read through the same functions of
`portfolio/summary.py` (`overview`, `dashboard`, `flagged_items`, `unit_ranking`) and
`reporting/status.py` (`unit_status`), over `Item.objects.visible_to(user)`: a unit user's
document holds only its units' entries and rows. `manage.py export_bulletin` writes it with the
planning office's view; the dashboard offers it to leaders and planners.

Sections are functions in `SECTIONS`, each `(document, context) -> None`; 问题与督办 asks the
`supervision` app for its lines (`supervision_lines`).
"""
import datetime

from django.utils import timezone
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from projects.models import Item, Unit
from projects.permissions import can
from reporting.calendar import report_deadline
from reporting.status import unit_status

from .rules import Light
from .summary import (
    _amount, dashboard, entry_figures, flagged_items, overview, overview_sentences, scoped_items, stored_date,
    unit_ranking,
)

BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
LIGHT_LABEL = {Light.RED.value: "红灯", Light.YELLOW.value: "黄灯"}

PROGRESS_HEADER = ["类别", "项目数", "总投资（亿元）", "累计完成（亿元）", "序时应完成（亿元）", "红灯", "黄灯", "绿灯", "已完成"]
FLAGGED_HEADER = ["序号", "清单", "事项", "灯号", "原因"]
FILING_HEADER = ["责任单位", "应报", "已报", "其中逾期报送", "未报"]
RANKING_HEADER = ["名次", "责任单位", "重大项目数", "投资序时完成度（%）", "按时填报率（%）", "问题按期办结率（%）",
                  "督办按期反馈率（%）", "红灯事项", "得分"]
SUPERVISION_HEADER = ["事项", "类型", "责任单位", "状态", "期限"]


def bulletin_date(month: datetime.date, today: datetime.date | None = None) -> datetime.date:
    """The date a month's 通报 is as of: the day after the month's reporting deadline (its
    reports are then all due), or today if that is later than today."""
    today = today or timezone.localdate()
    return min(today, report_deadline(month) + datetime.timedelta(days=1))


def month_of_bulletin(as_of: datetime.date) -> datetime.date:
    """The month a 通报 as of a date reports on: the month whose reports are due by then."""
    from reporting.calendar import late_month

    return late_month(as_of)


# ---------------------------------------------------------------- what goes in

def bulletin_context(plan, user, month: datetime.date, as_of: datetime.date, title=None) -> dict:
    """Every figure of the document, from the dashboard's functions, in the user's scope."""
    from .evaluation import state

    row = state()
    stored_as_of = stored_date(plan, row.as_of)
    figures, stored = entry_figures(scoped_items(user, plan, as_of), as_of, stored_as_of)
    filing = unit_status(month, as_of, plan, Item.objects.visible_to(user))
    if not can(user, "tracker.read_overview", plan):
        mine = set(Unit.objects.filter(members=user).values_list("pk", flat=True))
        filing = [r for r in filing if r["unit"].pk in mine]
    return {
        "plan": plan, "month": month, "as_of": as_of, "title": title or plan.name,
        "issuer": (plan.issuer or plan.name) if plan is not None else title,
        "overview": overview(user, as_of, plan, month, row),
        "dashboard": dashboard(user, as_of, plan, row),
        "flagged": flagged_items(figures, as_of, stored),
        "filing": filing,
        "ranking": unit_ranking(user, as_of, plan, row),
        "supervision": supervision_lines(plan, user, month, as_of),
    }


def supervision_lines(plan, user, month, as_of) -> list:
    """问题与督办: the problems and orders of the month, in the user's scope (supervision/bulletin.py)."""
    from supervision.bulletin import lines

    return lines(plan, user, month, as_of)


# ---------------------------------------------------------------- how it is written

def _east_asian(run_or_style, font):
    """Name a font for Latin and East Asian text alike (Word reads w:eastAsia for CJK)."""
    run_or_style.font.name = font
    rpr = run_or_style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia"):
        fonts.set(qn(attr), font)


def _setup(document):
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)  # A4
    # GB/T 9704 margins: top 37 mm, bottom 35 mm, left 28 mm, right 26 mm
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    normal = document.styles["Normal"]
    _east_asian(normal, BODY_FONT)
    normal.font.size = Pt(16)  # 三号
    for name in ("Title", "Heading 1", "Heading 2"):
        style = document.styles[name]
        _east_asian(style, HEADING_FONT)


def _paragraph(document, text, font=BODY_FONT, size=16, bold=False, align=None, indent=True):
    paragraph = document.add_paragraph()
    if align is not None:
        paragraph.alignment = align
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(size * 2)
    run = paragraph.add_run(text)
    _east_asian(run, font)
    run.font.size = Pt(size)
    run.bold = bold
    return paragraph


def _heading(document, text):
    return _paragraph(document, text, font=HEADING_FONT, size=16)


def _table(document, header, rows):
    """A grid table whose first row repeats on every page (w:tblHeader)."""
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    head = table.rows[0]
    trpr = head._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    trpr.append(repeat)
    for cell, text in zip(head.cells, header):
        _cell(cell, text, HEADING_FONT)
    for values in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, values):
            _cell(cell, "" if value is None else str(value), BODY_FONT)
    return table


def _cell(cell, text, font):
    paragraph = cell.paragraphs[0]
    run = paragraph.add_run(text)
    _east_asian(run, font)
    run.font.size = Pt(10.5)  # 五号


def _pct(value):
    return "—" if value is None else f"{value}"


def _title(document, c):
    month, issuer = c["month"], c["issuer"]
    _paragraph(document, f"{c['title']}推进情况通报", font=HEADING_FONT, size=22, align=WD_ALIGN_PARAGRAPH.CENTER,
               indent=False)
    _paragraph(document, f"（{month.year}年{month.month}月）", size=16, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    _paragraph(document, issuer, size=16, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    _paragraph(document, f"数据截至 {c['as_of'].year}年{c['as_of'].month}月{c['as_of'].day}日", size=14, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)


def _overview(document, c):
    _heading(document, "一、总体情况")
    for sentence in overview_sentences(c["overview"]):
        _paragraph(document, sentence)


def _progress(document, c):
    _heading(document, "二、分类推进情况")
    s = c["dashboard"]
    rows = []
    for cat in s["by_category"]:
        lights = s["lights_by_category"].get(cat["name"], {})
        rows.append([cat["name"], cat["count"], _amount(cat["total"]), _amount(cat["completed"]),
                     _amount(cat["expected"]), lights.get(Light.RED, 0), lights.get(Light.YELLOW, 0),
                     lights.get(Light.GREEN, 0), lights.get(Light.DONE, 0)])
    t = s["totals"]
    lights = s["lights"]
    rows.append(["合计", t["count"], _amount(t["total"]), _amount(t["completed"]), _amount(t["expected"]),
                 lights.get(Light.RED, 0), lights.get(Light.YELLOW, 0), lights.get(Light.GREEN, 0),
                 lights.get(Light.DONE, 0)])
    _table(document, PROGRESS_HEADER, rows)


def _flagged(document, c):
    _heading(document, "三、红黄灯事项及原因")
    flagged = c["flagged"]
    if not flagged:
        _paragraph(document, "本期无红灯、黄灯事项。")
        return
    reds = sum(1 for f in flagged if f["light"] == Light.RED)
    _paragraph(document, f"红灯事项 {reds} 项，黄灯事项 {len(flagged) - reds} 项，具体如下。")
    rows = [[f["seq"], f["list_label"], f["name"], LIGHT_LABEL.get(f["light"], f["light"]),
             "；".join(f"{r['label']}：{r['description']}" for r in f["flags"])] for f in flagged]
    _table(document, FLAGGED_HEADER, rows)


def _filing(document, c):
    _heading(document, "四、填报情况")
    rows = c["filing"]
    due = sum(r["due"] for r in rows)
    reported = sum(r["reported"] for r in rows)
    _paragraph(document, f"{c['month'].year}年{c['month'].month}月应报 {due} 项，已报 {reported} 项，未报 {due - reported} 项。")
    _table(document, FILING_HEADER, [[r["unit"].name, r["due"], r["reported"], r["late"], r["missing"]] for r in rows])


def _ranking(document, c):
    _heading(document, "五、单位排名")
    _table(document, RANKING_HEADER, [ranking_row(r) for r in c["ranking"]])


def ranking_row(r) -> list:
    """One unit's row of the 通报's ranking table (the dashboard's ranking, unit_ranking)."""
    return [r["rank"], r["unit"]["name"], r["projects"], _pct(r["pace_pct"]), _pct(r["report_pct"]),
            _pct(r["problem_pct"]), _pct(r["order_pct"]), r["red"], r["score"]]


def _supervision(document, c):
    _heading(document, "六、问题与督办")
    lines = c["supervision"]
    if not lines:
        _paragraph(document, "本期无问题协调与督办事项。")
        return
    _table(document, SUPERVISION_HEADER, lines)


SECTIONS = [_title, _overview, _progress, _flagged, _filing, _ranking, _supervision]


def build_bulletin(plan, user, month: datetime.date, as_of: datetime.date | None = None, title=None):
    """The document for a plan and month as the user may see it; plan None: every plan in force
    in the user's scope (an organisation's 通报: `acting_for`), headed by `title`."""
    as_of = as_of or bulletin_date(month)
    context = bulletin_context(plan, user, month, as_of, title)
    document = Document()
    _setup(document)
    for section in SECTIONS:
        section(document, context)
    return document


def write_bulletin(plan, user, month, fh, as_of=None, title=None):
    build_bulletin(plan, user, month, as_of, title).save(fh)


def filename(plan, month, organisation=None) -> str:
    return f"{plan.code if plan is not None else organisation.code}_通报_{month:%Y%m}.docx"


