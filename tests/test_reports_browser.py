"""Issue 15 in headless Chromium: unit_dev files a month through the XLSX template and the
planner's 填报情况 moves; the report form of a policy on a 390-px phone; the form's fill buttons
and the month that opens a report already filed. Screenshots go to screenshots/ (see
tests/test_browser.py)."""
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from projects.models import Item, ItemStatus, ListKind, Role
from reporting.models import StatusReport
from reporting.calendar import add_months, month_asked, report_deadline
from tests.conftest import UNIT_A, UNIT_B, make_user
from tests.test_browser import assert_no_raw_none, login, shot

from .test_reports_batch import INDEX, project_rows, unit_items

pytestmark = pytest.mark.django_db(transaction=True)


def unit_a_row(page):
    row = page.locator("#status-table tbody tr", has_text=UNIT_A)
    return [c.strip() for c in row.locator("td").all_inner_texts()]


def new_page(browser, width=1440, height=900):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN",
                                  accept_downloads=True)
    context.set_default_timeout(20_000)
    pg = context.new_page()
    pg.js_errors = []
    pg.on("pageerror", lambda exc: pg.js_errors.append(str(exc)))
    pg.on("console", lambda msg: pg.js_errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    return pg


def test_unit_files_its_month_by_xlsx_and_the_status_page_moves(browser, live_server, real_plan, tmp_path):
    from django.utils import timezone

    due = month_asked(timezone.localdate())
    make_user("unit_dev", Role.UNIT, [UNIT_A])
    make_user("planner_dev", Role.PLANNER)
    projects = list(unit_items(UNIT_A).filter(list_kind=ListKind.PROJECT).order_by("seq")[:3])
    Item.objects.filter(pk__in=[p.pk for p in projects]).update(status=ItemStatus.IN_PROGRESS, start_year=2021,
                                                                end_year=2030)

    planner = new_page(browser)
    login(planner, live_server, "planner_dev", "pw-planner_dev")
    planner.locator("nav.navbar").get_by_role("link", name="填报情况").click()
    planner.wait_for_url(re.compile(r"/reports/status/$"))
    assert planner.locator("h1").inner_text() == f"填报情况：{due.year}年{due.month}月"
    due_n, reported, late, missing = (int(v) for v in unit_a_row(planner)[1:5])
    assert due_n >= 3 and missing >= 3

    unit = new_page(browser)
    login(unit, live_server, "unit_dev", "pw-unit_dev")
    assert unit.locator("#nav-todo .badge").inner_text() == str(missing)
    unit.locator("nav.navbar").get_by_role("link", name="批量填报").click()
    unit.wait_for_url(re.compile(r"/reports/batch/$"))
    assert unit.locator("#template-month").input_value() == f"{due:%Y-%m}"
    with unit.expect_download() as info:
        unit.locator("#download-template").click()
    template = tmp_path / "template.xlsx"
    info.value.save_as(template)
    book = load_workbook(template)
    rows = {row[INDEX["seq"]].value: row for row in project_rows(book.active)}
    for n, project in enumerate(projects[:2], start=1):
        row = rows[project.seq]
        row[INDEX["status"]].value = "推进中"
        row[INDEX["progress_pct"]].value = 10 * n
        row[INDEX["month_investment"]].value = 0.5
        row[INDEX["cumulative_investment"]].value = 1.5 * n
        row[INDEX["progress_text"]].value = f"第 {n} 项按计划推进"
    filled = tmp_path / "filled.xlsx"
    book.save(filled)
    unit.locator("#id_file").set_input_files(str(filled))
    unit.locator("#upload-reports").click()
    unit.wait_for_load_state()
    assert f"已保存 2 条进度（{due:%Y年%m月}）" in unit.locator(".alert-success").inner_text()
    assert unit.locator("#nav-todo .badge").inner_text() == str(missing - 2)
    assert not unit.js_errors, unit.js_errors
    shot(unit, "15_batch_upload_done")

    planner.reload()
    # A planner's many sections wrap in the navigation; the page is never wider than the window.
    assert planner.evaluate("document.documentElement.scrollWidth") <= 1440
    assert planner.get_by_role("button", name="退出").is_visible()
    # filed today: late only once the month's deadline has passed
    now_late = 2 if timezone.localdate() > report_deadline(due) else 0
    assert [int(v) for v in unit_a_row(planner)[1:5]] == [due_n, reported + 2, late + now_late, missing - 2]
    assert_no_raw_none(planner)
    shot(planner, "15_reporting_status")
    report = StatusReport.objects.get(item=projects[0], month=due)
    assert report.cumulative_investment == Decimal("1.5") and report.filed_by.username == "unit_dev"
    assert not planner.js_errors, planner.js_errors


def test_policy_report_form_on_a_phone(browser, live_server, real_plan):
    make_user("unit_b_phone", Role.UNIT, [UNIT_B])
    policy = unit_items(UNIT_B).filter(list_kind=ListKind.POLICY).order_by("seq").first()
    phone = new_page(browser, width=390, height=844)
    login_phone(phone, live_server, "unit_b_phone")
    phone.goto(f"{live_server.url}/items/{policy.pk}/report/")
    labels = phone.locator("#report-form label").all_inner_texts()
    assert any(label.startswith("工作进展") for label in labels) and not any("投资" in label for label in labels)
    # Nothing is wider than the phone: no sideways scrolling, the submit button in view.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    box = phone.locator("#submit-report").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    phone.get_by_label("工作进展").fill("已完成政策草案征求意见。")
    phone.get_by_label("下步计划").fill("报管委会审议。")
    shot(phone, "15_policy_report_form_390")
    phone.locator("#submit-report").click()
    phone.wait_for_url(re.compile(rf"/items/{policy.pk}/(#reports)?$"))
    assert "已保存" in phone.locator(".alert-success").inner_text()
    assert StatusReport.objects.get(item=policy).cumulative_investment is None
    assert not phone.js_errors, phone.js_errors


def login_phone(pg, live_server, username):
    """The navigation folds into a menu on a phone: log in without reading it."""
    pg.goto(live_server.url + "/accounts/login/")
    pg.get_by_label("用户名").fill(username)
    pg.get_by_label("密码").fill("pw-" + username)
    pg.get_by_role("button", name="登录", exact=True).click()
    pg.wait_for_load_state()
    assert "/accounts/login/" not in pg.url


def test_fill_buttons_and_a_filed_month_opens_its_report(browser, live_server, real_plan):
    from django.utils import timezone

    user = make_user("unit_dev_fill", Role.UNIT, [UNIT_A])
    item = unit_items(UNIT_A).filter(list_kind=ListKind.PROJECT).order_by("seq").first()
    due = month_asked(timezone.localdate())
    before = add_months(due, -1)
    StatusReport.objects.create(item=item, month=before, status="in_progress", cumulative_investment=Decimal("3.00"),
                                progress_text="上月进展", filed_by=user)
    pg = new_page(browser)
    login(pg, live_server, "unit_dev_fill", "pw-unit_dev_fill")
    pg.goto(f"{live_server.url}/items/{item.pk}/report/")
    assert pg.locator("#id_month").input_value() == f"{due:%Y-%m}"
    pg.get_by_label("本月完成投资（亿元）").fill("0.8")
    pg.locator("#fill-cumulative").click()
    assert pg.get_by_label("累计完成投资（亿元）").input_value() == "3.80"
    pg.get_by_label("累计完成投资（亿元）").fill("4.25")
    pg.locator("#fill-month").click()
    assert pg.get_by_label("本月完成投资（亿元）").input_value() == "1.25"
    shot(pg, "15_project_report_fill")

    # Choosing the month already filed opens that report, prefilled, with its version.
    pg.locator("#id_month").fill(f"{before:%Y-%m}")
    pg.locator("#id_month").dispatch_event("change")
    pg.wait_for_url(re.compile(rf"\?month={before:%Y-%m}$"))
    assert "当前第 1 版" in pg.locator("#report-version").inner_text()
    assert pg.get_by_label("进展情况").input_value() == "上月进展"
    assert not pg.js_errors, pg.js_errors
