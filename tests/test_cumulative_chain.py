"""An entry's cumulative investment is the project's, across its chain of plans, and every
consumer reads the one definition (projects/continuation.py; docs/architecture.md, "Plans over
time"): the report form's checks, the "由上月累计推算" buttons, the detail page, lists, rollups
and the month template.

The set-up of issue 21: the real 十四五 plan closed at 2025-12-31, a 十五五 list imported with
`--predecessor ojk-14`, and the project's last 十四五 report on the predecessor (十四五 #1, the
entry 十五五 #1 continues)."""
import datetime
import io
import json
from decimal import Decimal as D

import openpyxl
import pytest
from django.core.management import call_command

from portfolio.evaluation import figures_date
from portfolio.rollup import build_rollup
from reporting.cumulative import cumulative_report
from reporting.forms import StatusReportForm
from projects.models import Item, ItemStatus, ListKind, Role
from reporting.models import StatusReport

from .conftest import make_user
from .test_browser import login  # (also lets the browser's event loop share this thread with Django)
from .test_plan_lifecycle import fifteenth, project
from .test_reports_browser import new_page

DEC_2025, JAN_2026 = datetime.date(2025, 12, 1), datetime.date(2026, 1, 1)


def closed_chain(real_plan, capture, close=True):
    """(十四五 #1 with its 2025-12 report of 3.10, 十五五 #1 that continues it); the 十四五 plan closed."""
    with capture(execute=True):
        plan = fifteenth(real_plan).plan
        old, new = project(real_plan, 1), project(plan, 1)
        assert new.predecessor_id == old.pk
        StatusReport.objects.create(item=old, month=DEC_2025, status=ItemStatus.IN_PROGRESS,
                                    month_investment=D("0.4"), cumulative_investment=D("3.10"),
                                    progress_text="十四五末")
    if close:
        call_command("close_plan", plan=real_plan.code, as_of="2025-12-31", stdout=io.StringIO())
    new.refresh_from_db()
    return old, new


def report_form(item, month, instance=None, **amounts):
    data = {"month": f"{month:%Y-%m}", "status": ItemStatus.IN_PROGRESS, "progress_text": "进展",
            "version": instance.version if instance else 0}
    data.update({k: str(v) for k, v in amounts.items()})
    return StatusReportForm(data, item=item, instance=instance)


def test_one_definition_reads_the_predecessors_report(real_plan, django_capture_on_commit_callbacks):
    old, new = closed_chain(real_plan, django_capture_on_commit_callbacks)
    holder = cumulative_report(new)
    assert (holder.item_id, holder.month, holder.cumulative_investment) == (old.pk, DEC_2025, D("3.10"))
    assert cumulative_report(new, before=DEC_2025) is None
    assert new.figures.cumulative == D("3.10")  # the SQL form, stored


def test_report_form_refuses_a_cumulative_below_the_predecessors(real_plan, django_capture_on_commit_callbacks):
    _, new = closed_chain(real_plan, django_capture_on_commit_callbacks)
    form = report_form(new, datetime.date(2026, 11, 1), cumulative_investment="2.80")
    assert not form.is_valid()
    assert form.errors["cumulative_investment"] == [
        "累计完成投资不能低于 2025年12月 已报的 3.10 亿元（十四五 #1 填报）。"]
    assert report_form(new, datetime.date(2026, 11, 1), cumulative_investment="3.10").is_valid()


def test_report_form_adds_the_month_to_the_predecessors_last_month(real_plan, django_capture_on_commit_callbacks):
    _, new = closed_chain(real_plan, django_capture_on_commit_callbacks)
    wrong = report_form(new, JAN_2026, month_investment="0.2", cumulative_investment="0.2")
    assert not wrong.is_valid()
    assert "应等于上月（2025年12月）累计 3.10 亿元加本月完成投资 0.20 亿元，即 3.30 亿元" in \
        wrong.errors["cumulative_investment"][0]
    assert report_form(new, JAN_2026, month_investment="0.2", cumulative_investment="3.30").is_valid()


def test_a_predecessors_correction_may_not_exceed_its_successors_later_month(real_plan,
                                                                          django_capture_on_commit_callbacks):
    # (a plan 执行中: whether a closed plan takes corrections at all is the calendar's concern)
    old, new = closed_chain(real_plan, django_capture_on_commit_callbacks, close=False)
    StatusReport.objects.create(item=new, month=JAN_2026, status=ItemStatus.IN_PROGRESS,
                                month_investment=D("0.2"), cumulative_investment=D("3.30"))
    form = report_form(old, datetime.date(2025, 11, 1), cumulative_investment="3.50")
    assert not form.is_valid()
    assert form.errors["cumulative_investment"] == [
        "累计完成投资不能高于 2025年12月 已报的 3.10 亿元。"]
    late = report_form(old, DEC_2025, instance=StatusReport.objects.get(item=old, month=DEC_2025),
                       cumulative_investment="3.40")
    assert not late.is_valid()
    assert "不能高于 2026年01月 已报的 3.30 亿元（十五五 #1 填报）" in late.errors["cumulative_investment"][0]


def test_fill_button_data_holds_the_predecessors_last_month(client, real_plan, planner,
                                                            django_capture_on_commit_callbacks):
    _, new = closed_chain(real_plan, django_capture_on_commit_callbacks)
    client.force_login(planner)
    response = client.get(f"/items/{new.pk}/report/?month=2026-01")
    assert response.context["chain_cumulative"] == {"2025-12": "3.1000"}
    html = response.content.decode()
    script = html.split('<script id="chain-cumulative" type="application/json">')[1].split("</script>")[0]
    assert json.loads(script) == {"2025-12": "3.1000"}


def test_detail_page_shows_the_projects_cumulative_beside_its_rate(client, real_plan, planner,
                                                                  django_capture_on_commit_callbacks):
    _, new = closed_chain(real_plan, django_capture_on_commit_callbacks)
    client.force_login(planner)
    html = client.get(f"/items/{new.pk}/").content.decode()
    cell = html.split('id="cumulative">')[1].split("</dd>")[0]
    assert cell == "3.10 亿元（截至 2025年12月，十四五 #1 填报）"
    assert "未报" not in cell


def test_list_and_rollup_show_the_cumulative_their_sums_count(client, real_plan, planner,
                                                             django_capture_on_commit_callbacks):
    _, new = closed_chain(real_plan, django_capture_on_commit_callbacks)
    sheets = build_rollup(new.plan, planner, figures_date())
    title, rows, _, _ = sheets[0]
    header = rows[0][1]
    at = header.index("累计完成（亿元）")
    entry = next(values for kind, values in rows if kind == "item" and values[0] == 1)
    assert entry[at] == D("3.1")
    total = next(values for kind, values in rows if kind == "total")
    assert total[at] == D("3.1")
    assert "累计完成不含未报 23 项" in total[1]  # the other 23 projects, not this one
    summary = next(s for s in sheets if s[0] == "汇总")[1]
    by_type = next(values for kind, values in summary if kind == "item" and values[0] == "按项目类型"
                   and values[1] == "续建")
    assert by_type[4] == D("3.1")
    client.force_login(planner)
    page = client.get(f"/lists/project/?plan={new.plan.pk}&q={new.name[:6]}").content.decode()
    assert "3.10" in page
    book = openpyxl.load_workbook(io.BytesIO(b"".join(
        client.get(f"/lists/project/?plan={new.plan.pk}&_export=xlsx").streaming_content)))
    sheet = book.worksheets[0]
    head = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[head.index("序号")] == 1)
    assert row[head.index("累计完成（亿元）")] == pytest.approx(3.1)


def test_month_template_gives_the_predecessors_cumulative_for_reference(real_plan,
                                                                       django_capture_on_commit_callbacks):
    from reporting.report_templates import month_rows

    _, new = closed_chain(real_plan, django_capture_on_commit_callbacks)
    (item,) = [item for item, _report, _owes in month_rows(Item.objects.filter(pk=new.pk), JAN_2026)]
    assert item.ref_cumulative == D("3.10")


def test_an_entry_without_any_report_in_its_chain_is_not_reported(real_plan, django_capture_on_commit_callbacks):
    _, new = closed_chain(real_plan, django_capture_on_commit_callbacks)
    other = project(new.plan, 9)  # 新建, nothing before it
    assert other.predecessor_id is None and cumulative_report(other) is None
    assert Item.objects.filter(pk=other.pk, list_kind=ListKind.PROJECT).exists()


@pytest.mark.django_db(transaction=True)
def test_fill_button_adds_the_month_to_the_predecessors_cumulative_in_the_browser(browser, live_server, real_plan):
    plan = fifteenth(real_plan).plan
    old, new = project(real_plan, 1), project(plan, 1)
    StatusReport.objects.create(item=old, month=DEC_2025, status=ItemStatus.IN_PROGRESS,
                                cumulative_investment=D("3.10"), progress_text="十四五末")
    make_user("planner_fill_chain", Role.PLANNER)
    pg = new_page(browser)
    login(pg, live_server, "planner_fill_chain", "pw-planner_fill_chain")
    pg.goto(f"{live_server.url}/items/{new.pk}/report/?month=2026-01")
    pg.get_by_label("本月完成投资（亿元）").fill("0.2")
    pg.locator("#fill-cumulative").click()
    assert pg.locator("#fill-note").inner_text() == ""
    assert pg.get_by_label("累计完成投资（亿元）").input_value() == "3.30"
    pg.get_by_label("累计完成投资（亿元）").fill("3.45")
    pg.locator("#fill-month").click()
    assert pg.get_by_label("本月完成投资（亿元）").input_value() == "0.35"
    assert not pg.js_errors, pg.js_errors
