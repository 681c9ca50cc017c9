"""Issue 23, item 5: the monthly 通报. The document is opened with python-docx and its paragraphs
and tables are compared with the dashboard's own functions (portfolio/summary.py,
reporting/status.py), for the planning office (the command) and per role (the download)."""
import datetime
import io
from decimal import Decimal as D

import pytest
from django.core.management import call_command
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Mm

from portfolio.bulletin import (
    FILING_HEADER, FLAGGED_HEADER, PROGRESS_HEADER, RANKING_HEADER, bulletin_date, build_bulletin,
)
from portfolio.summary import (
    _amount, compute_overview, dashboard, entry_figures, flagged_items, overview, overview_sentences, scoped_items,
    unit_ranking,
)
from projects.models import Item, ItemStatus, ListKind, ProjectType
from reporting.models import AnnualTarget, Milestone, StatusReport
from reporting.status import unit_status

from .conftest import PLAN_CODE, UNIT_A

pytestmark = pytest.mark.django_db
MONTH = datetime.date(2025, 10, 1)
AS_OF = datetime.date(2025, 11, 6)  # the day after October's reporting deadline


def projects(plan):
    return Item.objects.filter(plan=plan, list_kind=ListKind.PROJECT).order_by("seq")


@pytest.fixture
def month_data(real_plan):
    """2025 targets and reports on a few projects, two 新建 projects due to start in 2025 (one
    started) and one project of the plan due to finish in 2025 completed."""
    entries = list(projects(real_plan)[:6])
    for n, item in enumerate(entries[:4]):
        AnnualTarget.objects.create(item=item, year=2025, planned_investment=D("3.6") + n)
        for m in range(1, 11):
            StatusReport.objects.update_or_create(
                item=item, month=datetime.date(2025, m, 1),
                defaults={"status": ItemStatus.IN_PROGRESS, "month_investment": D("0.15") * (n + 1)})
    for item, status in ((entries[4], ItemStatus.NOT_STARTED), (entries[5], ItemStatus.IN_PROGRESS)):
        Item.objects.filter(pk=item.pk).update(project_type=ProjectType.NEW, status=status, start_year=2025,
                                               end_year=2027)
    Milestone.objects.create(item=entries[4], name="开工", due_date=datetime.date(2025, 5, 10))
    return entries


def read(document):
    paragraphs = [p.text for p in document.paragraphs]
    tables = [[[cell.text for cell in row.cells] for row in table.rows] for table in document.tables]
    return paragraphs, tables


def table_with(tables, header):
    return next(t for t in tables if t[0] == header)


def test_overview_sentences_are_the_offices_sentences(real_plan, planner, month_data):
    o = compute_overview(planner, AS_OF, real_plan, MONTH)
    ids = projects(real_plan).exclude(status=ItemStatus.CANCELLED).values("pk")
    done = sum(r.month_investment or 0 for r in StatusReport.objects.filter(
        item__in=ids, month__gte=datetime.date(2025, 1, 1), month__lte=MONTH))
    planned = sum(t.planned_investment or 0 for t in AnnualTarget.objects.filter(item__in=ids, year=2025))
    assert (o["completed"], o["planned"]) == (done, planned)
    share = (done * 100 / planned).quantize(D("0.1"))
    gap = (done * 100 / planned - D(10) * 100 / 12).quantize(D("0.1"))
    first = overview_sentences(o)[0]
    assert first.startswith(f"1–10月累计完成投资 {_amount(done)} 亿元，占年度投资计划的 {share}%，")
    assert first.endswith(f"{'超过' if gap > 0 else '低于'}时间进度 {abs(gap)} 个百分点。")
    # the two 新建 projects due in 2025 (January, or the 开工 milestone's May), one started
    assert (o["start_planned"], o["started"]) >= (2, 1)
    assert overview_sentences(o)[1] == (f"计划开工 {o['start_planned']} 项，实际开工 {o['started']} 项，"
                                        f"开工率 {o['start_rate']}%。")
    assert overview_sentences(o)[2].startswith(f"计划竣工投产 {o['finish_planned']} 项，实际竣工投产 {o['finished']} 项")


def test_export_bulletin_writes_the_dashboards_figures(real_plan, planner, month_data, tmp_path):
    out = tmp_path / "通报.docx"
    call_command("export_bulletin", plan=PLAN_CODE, month="2025-10", output=str(out), as_of=AS_OF.isoformat(),
                 stdout=io.StringIO())
    document = Document(str(out))
    paragraphs, tables = read(document)

    # A4 portrait, 仿宋_GB2312 body and 黑体 headings named for East Asian text, repeated table heads
    section = document.sections[0]
    assert (abs(section.page_width - Mm(210)) < Mm(1), abs(section.page_height - Mm(297)) < Mm(1)) == (True, True)
    fonts = document.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    heading_runs = [p.runs[0] for p in document.paragraphs if p.text == "一、总体情况"]
    assert heading_runs[0].element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "黑体"
    for table in document.tables:
        assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None

    # title and issuer, month
    assert paragraphs[0] == f"{real_plan.name}推进情况通报"
    assert "（2025年10月）" in paragraphs
    assert (real_plan.issuer or real_plan.name) in paragraphs

    # 总体情况: the dashboard's overview, sentence for sentence
    o = overview(planner, AS_OF, real_plan, MONTH)
    for sentence in overview_sentences(o):
        assert sentence in paragraphs

    # progress by category: the dashboard's categories and totals
    s = dashboard(planner, AS_OF, real_plan)
    progress = table_with(tables, PROGRESS_HEADER)
    expected = [[c["name"], str(c["count"]), _amount(c["total"]), _amount(c["completed"]), _amount(c["expected"])]
                for c in s["by_category"]]
    assert [row[:5] for row in progress[1:-1]] == expected
    assert progress[-1][:3] == ["合计", str(s["totals"]["count"]), _amount(s["totals"]["total"])]
    assert progress[-1][5] == str(s["lights"]["red"])

    # red and yellow entries with their reasons
    figures, stored = entry_figures(scoped_items(planner, real_plan, AS_OF), AS_OF)
    flagged = flagged_items(figures, AS_OF, stored)
    assert flagged
    rows = table_with(tables, FLAGGED_HEADER)[1:]
    assert [(r[0], r[2]) for r in rows] == [(str(f["seq"]), f["name"]) for f in flagged]
    first_reason = flagged[0]["flags"][0]
    assert f"{first_reason['label']}：{first_reason['description']}" in rows[0][4]

    # 填报情况 by unit and the ranking
    filing = unit_status(MONTH, AS_OF, real_plan)
    assert [r[0] for r in table_with(tables, FILING_HEADER)[1:]] == [r["unit"].name for r in filing]
    assert [[r[1], r[2]] for r in table_with(tables, FILING_HEADER)[1:]] == [
        [str(r["due"]), str(r["reported"])] for r in filing]
    ranking = unit_ranking(planner, AS_OF, real_plan)
    dash = lambda v: "—" if v is None else str(v)  # noqa: E731
    assert table_with(tables, RANKING_HEADER)[1:] == [
        [str(r["rank"]), r["unit"]["name"], str(r["projects"]), dash(r["pace_pct"]), dash(r["report_pct"]),
         dash(r["problem_pct"]), dash(r["order_pct"]), str(r["red"]), str(r["score"])] for r in ranking]

    # 问题与督办: nothing raised or issued in this month
    assert "六、问题与督办" in paragraphs
    assert "本期无问题协调与督办事项。" in paragraphs


def test_the_dashboard_card_shows_the_same_overview(client, leader, real_plan, month_data):
    client.force_login(leader)
    html = client.get(f"/?plan={PLAN_CODE}&as_of={AS_OF}").content.decode()
    o = overview(leader, AS_OF, real_plan)
    assert o["month"] == MONTH
    for sentence in overview_sentences(o):
        assert sentence in html
    assert 'id="bulletin-docx"' in html and "下载 2025年10月 通报（Word）" in html


def test_leaders_and_planners_download_it_a_unit_user_gets_404(client, leader, planner, unit_a_user, real_plan,
                                                               month_data):
    for user in (leader, planner):
        client.force_login(user)
        response = client.get(f"/bulletin/?plan={PLAN_CODE}&as_of={AS_OF}")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.wordprocessingml")
        paragraphs, _ = read(Document(io.BytesIO(response.content)))
        assert overview_sentences(overview(user, AS_OF, real_plan, MONTH))[0] in paragraphs
    client.force_login(unit_a_user)
    assert client.get(f"/bulletin/?plan={PLAN_CODE}&as_of={AS_OF}").status_code == 404
    assert 'id="bulletin-docx"' not in client.get(f"/?plan={PLAN_CODE}&as_of={AS_OF}").content.decode()


def test_a_unit_users_document_holds_only_its_units(real_plan, planner, unit_a_user, month_data):
    """Every export is scoped: built for a unit user, the 通报 has its entries and rows only."""
    document = build_bulletin(real_plan, unit_a_user, MONTH, AS_OF)
    paragraphs, tables = read(document)
    mine = overview(unit_a_user, AS_OF, real_plan, MONTH)
    assert overview_sentences(mine)[0] in paragraphs
    assert mine != overview(planner, AS_OF, real_plan, MONTH)
    assert {r[0] for r in table_with(tables, FILING_HEADER)[1:]} <= {UNIT_A}
    assert {r[1] for r in table_with(tables, RANKING_HEADER)[1:]} == {UNIT_A}
    own = set(Item.objects.filter(unit_links__unit__name=UNIT_A, plan=real_plan).values_list("name", flat=True))
    assert {r[2] for r in table_with(tables, FLAGGED_HEADER)[1:]} <= own


def test_the_bulletin_date_is_the_day_after_the_deadline_or_today():
    assert bulletin_date(MONTH, today=datetime.date(2026, 1, 1)) == AS_OF
    assert bulletin_date(MONTH, today=datetime.date(2025, 11, 3)) == datetime.date(2025, 11, 3)


def test_export_bulletin_refuses_a_bad_month(real_plan, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--month 应为 YYYY-MM"):
        call_command("export_bulletin", plan=PLAN_CODE, month="2025-13", output=str(tmp_path / "x.docx"))
    with pytest.raises(CommandError, match="没有代码为"):
        call_command("export_bulletin", plan="nope", month="2025-10", output=str(tmp_path / "x.docx"))


def test_back_dated_reasons_put_underfunding_in_figures(real_plan, planner, month_data):
    """Back-dated (derived live), 投资滞后 reads with its figures as the stored flag does."""
    document = build_bulletin(real_plan, planner, MONTH, AS_OF)
    _, tables = read(document)
    reasons = "".join(row[4] for row in table_with(tables, FLAGGED_HEADER)[1:])
    assert "投资滞后：" in reasons
    assert "投资完成落后于序时进度" not in reasons


def test_the_download_at_the_dashboards_date_reads_the_stored_figures(client, leader, real_plan):
    """The dashboard's default date is the figures' date: the 通报 of the month due by then, with
    the stored flags' reasons, exactly as the dashboard lists them."""
    from .conftest import REAL_AS_OF

    client.force_login(leader)
    response = client.get(f"/bulletin/?plan={PLAN_CODE}")
    assert response.status_code == 200
    paragraphs, tables = read(Document(io.BytesIO(response.content)))
    assert "（2026年10月）" in paragraphs
    s = dashboard(leader, REAL_AS_OF, real_plan)
    reasons = {row[2]: row[4] for row in table_with(tables, FLAGGED_HEADER)[1:]}
    for red in s["red_items"][:20]:  # the dashboard lists red reasons; the 通报 red and yellow ones
        for f in red["flags"]:
            assert f"{f['label']}：{f['description']}" in reasons[red["name"]]
    assert "投资完成落后于序时进度" not in "".join(reasons.values())


def test_the_bulletin_lists_the_months_problems_and_orders_in_the_readers_scope(real_plan, planner, unit_b_user):
    from projects.models import Unit
    from supervision.models import Order, OrderState, Problem, ProblemKind, ProblemLevel, ProblemState

    from .conftest import UNIT_B

    mine, other = Unit.objects.get(name=UNIT_A), Unit.objects.get(name=UNIT_B)
    own_item = Item.objects.filter(plan=real_plan, unit_links__unit=mine).order_by("seq").first()
    problem = Problem.objects.create(
        item=own_item, level=ProblemLevel.ZONE, coordinating_unit=mine, deadline=datetime.date(2025, 11, 20),
        raised_by=planner, state=ProblemState.PENDING, description="征地拆迁未完成", kind=ProblemKind.LAND,
        leader_name="张主任", raised_on=datetime.date(2025, 10, 9))
    Order.objects.create(unit=mine, item=own_item, issued_by=planner, deadline=datetime.date(2025, 11, 3),
                         issued_on=datetime.date(2025, 10, 12), state=OrderState.ISSUED, requirement="限期完成征地")
    _, tables = read(build_bulletin(real_plan, planner, MONTH, AS_OF))
    rows = table_with(tables, ["事项", "类型", "责任单位", "状态", "期限"])[1:]
    assert [r[0] for r in rows] == [own_item.name, own_item.name]
    assert rows[0][1] == f"问题·{problem.get_kind_display()}" and rows[0][2] == mine.name
    assert rows[1][1] == "督办·红色"  # past its deadline on AS_OF and not closed
    # a user of another unit neither coordinating nor responsible sees none of it
    assert not Item.objects.filter(pk=own_item.pk, unit_links__unit=other).exists()
    paragraphs, _ = read(build_bulletin(real_plan, unit_b_user, MONTH, AS_OF))
    assert "本期无问题协调与督办事项。" in paragraphs
