"""动态调整 and import in the browser (issue 24, 1–2): re-importing the real plan with entry 1 removed
finds 1 missing and nothing changed; 调出 takes the entry out of counts, lists, who owes and the
rules from its date, keeping its reports; the upload → preview → confirm pages write nothing
before the confirm and keep the file with the plan."""
import datetime
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from portfolio.rules import findings, findings_in_python
from portfolio.summary import compute_dashboard
from projects.importer import import_plan
from projects.models import Item, ItemStatus, ListKind, PlanImport
from reporting.models import StatusReport
from reporting.owing import entries_due, owes_report_of

from .conftest import PLAN_CODE, REAL_AS_OF, SEED

pytestmark = pytest.mark.django_db
P1_LINE, P2_LINE = 918, 919  # seed lines of 重大项目 1 and 2 (tests/test_import.py)
WITHDRAWN_ON = datetime.date(2026, 11, 1)


def seed_without_entry_1(tmp_path, change=None):
    lines = SEED.read_text(encoding="utf-8").splitlines()
    if change:
        cells = lines[P2_LINE - 1].split("\t")
        cells[change[0]] = change[1]
        lines[P2_LINE - 1] = "\t".join(cells)
    del lines[P1_LINE - 1]
    path = tmp_path / "ojk_14th_adjusted.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def entry(plan, seq):
    return Item.objects.get(plan=plan, list_kind=ListKind.PROJECT, seq=seq)


def projects_counted(user, plan, as_of):
    return next(r["n"] for r in compute_dashboard(user, as_of, plan)["per_list"] if r["value"] == ListKind.PROJECT)


def test_reimport_with_entry_1_removed_finds_it_missing_and_nothing_changed(real_plan, tmp_path):
    report = import_plan(seed_without_entry_1(tmp_path), PLAN_CODE, adjusted_on=WITHDRAWN_ON)
    assert report.is_adjustment
    assert [(i.list_kind, i.seq) for i in report.absent] == [(ListKind.PROJECT, 1)]
    assert report.changed == [] and report.added == []
    assert report.counts[ListKind.PROJECT] == {"created": 0, "updated": 0, "unchanged": 195}
    assert entry(real_plan, 1).withdrawn_on is None  # kept: nobody chose 调出
    preview = report.preview()
    assert preview["missing"][0]["seq"] == 1 and preview["changed"] == []
    record = PlanImport.objects.get(plan=real_plan, is_adjustment=True)
    assert record.counts == {"added": 0, "changed": 0, "withdrawn": 0, "missing_kept": 1}


def test_a_changed_field_is_shown_old_to_new(real_plan, tmp_path):
    before = entry(real_plan, 2).total_investment
    report = import_plan(seed_without_entry_1(tmp_path, change=(5, "99.5")), PLAN_CODE, adjusted_on=WITHDRAWN_ON)
    assert report.counts[ListKind.PROJECT] == {"created": 0, "updated": 1, "unchanged": 194}
    (item, changes), = report.changed
    assert item.seq == 2
    assert changes == [("总投资", format(before.normalize(), "f"), "99.5")]
    assert any(line.startswith("变更：重大项目 序号 2") and "总投资" in line for line in report.lines())


def test_withdrawn_entry_leaves_counts_owing_and_rules_from_its_date(real_plan, planner, tmp_path):
    Item.objects.filter(plan=real_plan, list_kind=ListKind.PROJECT, seq=1).update(status=ItemStatus.IN_PROGRESS)
    first = entry(real_plan, 1)
    StatusReport.objects.create(item=first, month=datetime.date(2026, 9, 1), status=ItemStatus.IN_PROGRESS,
                                progress_text="九月进展", month_investment=Decimal("1.00"))
    day_before = WITHDRAWN_ON - datetime.timedelta(days=1)
    counted = projects_counted(planner, real_plan, REAL_AS_OF)
    counted_day_before = projects_counted(planner, real_plan, day_before)
    october, september = datetime.date(2026, 10, 1), datetime.date(2026, 9, 1)
    assert entries_due(Item.objects.filter(pk=first.pk), october).exists()
    assert any(pk == first.pk for pk, _ in findings(REAL_AS_OF, Item.objects.filter(plan=real_plan)))

    report = import_plan(seed_without_entry_1(tmp_path), PLAN_CODE, adjusted_on=WITHDRAWN_ON,
                         withdraw={(ListKind.PROJECT, 1): "合并"}, document_no="瓯管〔2026〕9号")
    assert [(i.seq, r) for i, r in report.withdrawn] == [(1, "合并")]
    first.refresh_from_db()
    assert (first.withdrawn_on, first.withdrawal_reason) == (WITHDRAWN_ON, "合并")
    assert first.adjustment.document_no == "瓯管〔2026〕9号" and first.adjustment.counts["withdrawn"] == 1
    assert first.reports.count() == 1  # its reports and history are kept
    assert first.history.first().history_change_reason == "动态调整调出：合并"

    # counts: gone from the adjustment's date, still there the day before
    assert projects_counted(planner, real_plan, REAL_AS_OF) == counted - 1
    assert projects_counted(planner, real_plan, day_before) == counted_day_before
    assert Item.objects.filter(plan=real_plan).listed(day_before).filter(pk=first.pk).exists()
    assert not Item.objects.filter(plan=real_plan).listed(WITHDRAWN_ON).filter(pk=first.pk).exists()
    # who owes: October's deadline (11-05) is after the adjustment, September's (10-05) before it
    first = Item.objects.select_related("plan").get(pk=first.pk)
    for month, owes in ((october, False), (september, True)):
        assert entries_due(Item.objects.filter(pk=first.pk), month).exists() is owes
        assert owes_report_of(first, month) is owes
    # the rules: no finding from the adjustment's date, in SQL and in Python
    items = Item.objects.filter(pk=first.pk)
    assert findings(REAL_AS_OF, items) == {} == findings_in_python(REAL_AS_OF, items)
    assert findings(day_before, items) == findings_in_python(day_before, items) != {}


def test_the_list_page_and_the_detail_page_after_a_withdrawal(client, planner, real_plan, tmp_path):
    import_plan(seed_without_entry_1(tmp_path), PLAN_CODE, adjusted_on=WITHDRAWN_ON,
                withdraw={(ListKind.PROJECT, 1): "不具备条件"})
    first = entry(real_plan, 1)
    client.force_login(planner)
    listing = client.get("/lists/project/", {"per_page": 200}).content.decode()
    assert f'href="/items/{first.pk}/' not in listing
    assert f'href="/items/{entry(real_plan, 2).pk}/' in listing
    detail = client.get(f"/items/{first.pk}/").content.decode()
    assert 'id="withdrawn-note"' in detail and "2026-11-01 调出清单" in detail and "不具备条件" in detail


def test_the_command_withdraws_the_missing_entries_with_a_reason(real_plan, tmp_path):
    out = io.StringIO()
    call_command("import_plan", str(seed_without_entry_1(tmp_path)), plan=PLAN_CODE, withdraw_missing="已完成",
                 document_no="文号1", date="2026-11-01", stdout=out)
    text = out.getvalue()
    assert "动态调整（2026-11-01，文号1）：新增 0 项，变更 0 项，调出 1 项，文件中缺少而保留 0 项" in text
    assert entry(real_plan, 1).withdrawal_reason == "已完成"
    record = PlanImport.objects.get(plan=real_plan, document_no="文号1")
    assert record.state == PlanImport.State.APPLIED and len(record.checksum) == 64 and bytes(record.data)


def test_an_entry_back_in_the_file_is_listed_again(real_plan, tmp_path):
    import_plan(seed_without_entry_1(tmp_path), PLAN_CODE, adjusted_on=WITHDRAWN_ON, withdraw="取消")
    report = import_plan(SEED, PLAN_CODE, adjusted_on=REAL_AS_OF)
    (item, changes), = report.changed
    assert item.seq == 1 and changes == [("调出", "2026-11-01（取消）", "重新列入")]
    assert entry(real_plan, 1).withdrawn_on is None


# ---------------------------------------------------------------- the pages

def upload(client, path, **fields):
    data = {"kind": "lists", "file": SimpleUploadedFile(path.name, path.read_bytes()), **fields}
    return client.post("/plans/import/", data)


def test_upload_preview_confirm_writes_only_on_confirm(client, planner, real_plan, tmp_path):
    client.force_login(planner)
    response = upload(client, seed_without_entry_1(tmp_path), plan=real_plan.pk)
    assert response.status_code == 302, response.content.decode()[:2000]
    record = PlanImport.objects.get(state=PlanImport.State.STAGED)
    assert record.uploaded_by == planner and record.plan is None  # nothing written yet
    page = client.get(response["Location"]).content.decode()
    assert "文件中缺少 1 项" in page and 'id="missing-table"' in page
    assert entry(real_plan, 1).withdrawn_on is None
    first = entry(real_plan, 1)
    response = client.post(f"/plans/import/{record.token}/confirm/", {
        f"w-{first.pk}": "other", f"w-{first.pk}-other": "并入序号 2", "adjusted_on": "2026-11-01",
        "document_no": "瓯管〔2026〕10号"})
    assert response.status_code == 302, response.content.decode()[:3000]
    first.refresh_from_db()
    record.refresh_from_db()
    assert (first.withdrawn_on, first.withdrawal_reason) == (WITHDRAWN_ON, "并入序号 2")
    assert record.state == PlanImport.State.APPLIED and record.plan == real_plan and record.is_adjustment
    assert first.history.first().history_user == planner
    plans_page = client.get("/plans/").content.decode()
    assert 'id="import-table"' in plans_page and "瓯管〔2026〕10号" in plans_page
    assert "as_of=2026-10-31" in plans_page


def test_confirm_refuses_other_without_a_reason_and_writes_nothing(client, planner, real_plan, tmp_path):
    client.force_login(planner)
    upload(client, seed_without_entry_1(tmp_path), plan=real_plan.pk)
    record = PlanImport.objects.get(state=PlanImport.State.STAGED)
    first = entry(real_plan, 1)
    response = client.post(f"/plans/import/{record.token}/confirm/", {f"w-{first.pk}": "other"})
    assert response.status_code == 400 and "请写明调出原因" in response.content.decode()
    record.refresh_from_db()
    assert record.state == PlanImport.State.STAGED and entry(real_plan, 1).withdrawn_on is None


def test_a_bad_file_shows_row_and_column_in_chinese_and_stages_nothing(client, planner, real_plan, tmp_path):
    lines = SEED.read_text(encoding="utf-8").splitlines()
    cells = lines[P2_LINE - 1].split("\t")
    cells[5] = "很多"
    lines[P2_LINE - 1] = "\t".join(cells)
    path = tmp_path / "bad.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    client.force_login(planner)
    response = upload(client, path, code="ojk-bad")
    page = response.content.decode()
    assert response.status_code == 200 and 'id="import-errors"' in page
    assert f"第 {P2_LINE} 行" in page and "总投资" in page and "很多" in page
    assert not PlanImport.objects.filter(plan_code="ojk-bad").exists()


def test_cancel_writes_nothing_and_units_may_not_import(client, planner, unit_a_user, real_plan, tmp_path):
    client.force_login(unit_a_user)
    assert client.get("/plans/import/").status_code == 403
    client.force_login(planner)
    upload(client, seed_without_entry_1(tmp_path), code="ojk-new")
    record = PlanImport.objects.get(state=PlanImport.State.STAGED)
    assert record.preview["plan"]["is_new"]
    client.post(f"/plans/import/{record.token}/cancel/")
    record.refresh_from_db()
    assert record.state == PlanImport.State.CANCELLED
    assert not Item.objects.filter(plan__code="ojk-new").exists()
    response = client.post(f"/plans/import/{record.token}/confirm/", {})
    assert not Item.objects.filter(plan__code="ojk-new").exists() and response.status_code == 302


def test_indicators_upload_shows_each_table_and_imports_on_confirm(client, planner, real_plan):
    from indicators.models import IndicatorTable

    client.force_login(planner)
    path = SEED
    response = client.post("/plans/import/", {"kind": "indicators", "plan": real_plan.pk,
                                              "file": SimpleUploadedFile(path.name, path.read_bytes())})
    assert response.status_code == 302, response.content.decode()[:2000]
    record = PlanImport.objects.get(state=PlanImport.State.STAGED)
    page = client.get(response["Location"]).content.decode()
    assert 'id="preview-tables"' in page and "约束性" in page
    before = IndicatorTable.objects.filter(plan=real_plan).count()
    client.post(f"/plans/import/{record.token}/confirm/", {})
    record.refresh_from_db()
    assert record.state == PlanImport.State.APPLIED
    assert IndicatorTable.objects.filter(plan=real_plan).count() == len(record.preview["tables"]) >= before
