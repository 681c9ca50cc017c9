"""Headless Chromium: a planner imports the 十五五 lists in the browser (upload → preview with the
links to 十四五 → confirm), then adjusts the 十四五 lists with entry 1 missing and takes it out
(调出). Screenshots in screenshots/ for a human look."""
import os
from pathlib import Path

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from projects.models import Item, ListKind, PlanImport, Role  # noqa: E402
from tests.conftest import make_user  # noqa: E402
from tests.test_adjustment import seed_without_entry_1  # noqa: E402
from tests.test_browser import login, page, shot  # noqa: E402,F401  (page is a fixture)

FULL = Path(__file__).resolve().parent / "data" / "fifteenth" / "ojk_15th_full.txt"


def test_a_planner_imports_a_plan_and_adjusts_one_in_the_browser(page, live_server, real_plan, tmp_path):
    make_user("import_planner", Role.PLANNER)
    login(page, live_server, "import_planner", "pw-import_planner")
    page.goto(live_server.url + "/plans/")
    page.locator("#plan-import-link").click()
    page.get_by_label("新规划代码").fill("ojk-15")
    page.get_by_label("上一期规划（续建项目按名称接续）").select_option(label=real_plan.name)
    page.get_by_label("文件（规划文本、CSV 或 XLSX）").set_input_files(str(FULL))
    page.locator("#import-upload").click()
    page.wait_for_selector("#preview-lists")
    assert "导入预览（试运行，尚未写入）" in page.locator("h1").inner_text()
    assert "本次新接续" in page.locator("#preview-links").inner_text()
    assert "未接续的续建项目" in page.locator("#preview-unlinked").inner_text()
    assert not Item.objects.filter(plan__code="ojk-15").exists()  # nothing written before the confirm
    shot(page, "import_preview_new_plan")
    with page.expect_navigation():
        page.locator("#import-confirm").click()
    assert "导入完成" in page.locator("body").inner_text() and page.locator("h1").inner_text() == "已导入"
    assert Item.objects.filter(plan__code="ojk-15").exists()

    # an adjustment of 十四五: entry 1 is missing from the file and is taken out
    page.goto(live_server.url + "/plans/import/")
    page.get_by_label("规划（已有）").select_option(label=real_plan.name)
    page.get_by_label("文件（规划文本、CSV 或 XLSX）").set_input_files(str(seed_without_entry_1(tmp_path)))
    page.locator("#import-upload").click()
    page.wait_for_selector("#missing-table")
    assert "新增 0 项，变更 0 项，文件中缺少 1 项" in page.locator("#adjustment").inner_text()
    first = Item.objects.get(plan=real_plan, list_kind=ListKind.PROJECT, seq=1)
    page.locator(f"#id_w-{first.pk}").select_option(label="调出：合并")
    page.get_by_label("文号").fill("瓯管〔2026〕12号")
    shot(page, "import_preview_adjustment")
    with page.expect_navigation():
        page.locator("#import-confirm").click()
    first.refresh_from_db()
    assert first.withdrawal_reason == "合并" and first.withdrawn_on is not None
    record = PlanImport.objects.get(plan=real_plan, document_no="瓯管〔2026〕12号")
    assert record.counts["withdrawn"] == 1 and record.uploaded_by.username == "import_planner"
    page.goto(live_server.url + "/plans/")
    assert "瓯管〔2026〕12号" in page.locator("#import-table").inner_text()
    shot(page, "plan_list_imports")
    page.goto(live_server.url + f"/items/{first.pk}/")
    assert "调出清单" in page.locator("#withdrawn-note").inner_text()
    shot(page, "item_withdrawn")
    assert page.js_errors == []
