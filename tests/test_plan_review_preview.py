"""后评估 of a plan in force is a preview as of today, with every figure of that one date; a
closed plan's stays as of its closing date (issue 21, "The 后评估 of a plan in force mixes dates")."""
import io

import openpyxl
from django.core.management import call_command
from django.utils import timezone

from portfolio.rules import findings
from projects.models import Item

from .test_plan_lifecycle import fifteenth


def run(*args, **kwargs):
    out = io.StringIO()
    call_command(*args, stdout=out, **kwargs)
    return out.getvalue()


def in_force(real_plan, capture):
    with capture(execute=True):
        plan = fifteenth(real_plan).plan
    run("close_plan", plan=real_plan.code, as_of="2025-12-31")
    return plan


def test_review_of_a_plan_in_force_is_a_preview_as_of_today(client, real_plan, planner,
                                                           django_capture_on_commit_callbacks):
    plan = in_force(real_plan, django_capture_on_commit_callbacks)
    today = timezone.localdate()
    client.force_login(planner)
    response = client.get(f"/plans/{plan.code}/review/")
    html = response.content.decode()
    assert f"预览：截至 {today:%Y-%m-%d}（规划执行中）" in html
    assert "2030-12-31" not in html
    red = next(s for s in response.context["sheets"] if s["title"].startswith("红灯事项"))
    assert red["title"] == f"红灯事项（预览）（{today:%Y-%m-%d}）"
    # the red entries and their reasons are those of today
    expected = {pk for (pk, _), (severity, _) in findings(today, Item.objects.filter(plan=plan)).items()
                if severity == "red"}
    seqs = {int(values[1]) for kind, values in red["rows"] if kind == "item"}
    assert seqs == set(Item.objects.filter(pk__in=expected).values_list("seq", flat=True)) and seqs
    reasons = " ".join(values[4] for kind, values in red["rows"] if kind == "item")
    assert "2030-" not in reasons and "59 个月" not in reasons


def test_export_evaluation_of_a_plan_in_force_says_it_is_a_preview(real_plan, tmp_path,
                                                                   django_capture_on_commit_callbacks):
    plan = in_force(real_plan, django_capture_on_commit_callbacks)
    today = timezone.localdate()
    target = tmp_path / "review.xlsx"
    out = run("export_evaluation", plan=plan.code, format="xlsx", output=str(target))
    assert f"预览：截至 {today:%Y-%m-%d}（规划执行中）" in out
    book = openpyxl.load_workbook(target)
    assert book["说明"]["A1"].value == f"预览：截至 {today:%Y-%m-%d}（规划执行中）"
    assert f"红灯事项（预览）（{today:%Y-%m-%d}）" in book.sheetnames
    csv_path = tmp_path / "review.csv"
    run("export_evaluation", plan=plan.code, format="csv", output=str(csv_path))
    assert f"预览：截至 {today:%Y-%m-%d}（规划执行中）" in csv_path.read_text(encoding="utf-8-sig")


def test_closed_plans_review_keeps_its_closing_date(client, real_plan, planner, tmp_path,
                                                    django_capture_on_commit_callbacks):
    in_force(real_plan, django_capture_on_commit_callbacks)
    client.force_login(planner)
    response = client.get(f"/plans/{real_plan.code}/review/")
    assert "已收官，按收官日期 2025-12-31 的评估" in response.content.decode()
    assert any(s["title"] == "收官红灯事项（2025-12-31）" for s in response.context["sheets"])
    target = tmp_path / "closed.xlsx"
    out = run("export_evaluation", plan=real_plan.code, format="xlsx", output=str(target))
    assert "已收官，按收官日期 2025-12-31 的评估" in out
    assert openpyxl.load_workbook(target)["说明"]["A1"].value == "已收官，按收官日期 2025-12-31 的评估"
