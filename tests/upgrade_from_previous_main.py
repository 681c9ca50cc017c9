"""Run by tests/test_upgrade.py in its own process, against an empty database (DATABASE_URL):
migrate to the migration state of the main before the house moved (projects 0007, portfolio
0009), fill every table that moved with rows as that main wrote them, migrate forward, and print
what the current models read back (JSON)."""
import datetime
import json
import os
import sys
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.db.migrations.executor import MigrationExecutor  # noqa: E402
from django.utils import timezone  # noqa: E402

# our apps, and the apps that came after the previous main (their first migrations depend on ours)
MOVED_APPS = ("projects", "portfolio", "reporting", "indicators", "supervision")
PREVIOUS = [("projects", "0007_unit_contact"), ("portfolio", "0009_indicator_status")]

executor = MigrationExecutor(connection)
others = [node for node in executor.loader.graph.leaf_nodes() if node[0] not in MOVED_APPS]
executor.migrate(others + PREVIOUS)

old = MigrationExecutor(connection).loader.project_state(others + PREVIOUS).apps
now = timezone.now()
User = old.get_model("auth", "User")
Group = old.get_model("auth", "Group")
Permission = old.get_model("auth", "Permission")
ContentType = old.get_model("contenttypes", "ContentType")
user = User.objects.create(username="filer", password="!")
Plan = old.get_model("projects", "Plan")
plan = Plan.objects.create(code="old-14", name="老规划", start_year=2021, end_year=2025, state="active")
unit = old.get_model("projects", "Unit").objects.create(name="老单位")
Item = old.get_model("projects", "Item")
item = Item.objects.create(plan=plan, list_kind="project", seq=1, name="老项目", status="in_progress",
                           start_year=2021, end_year=2025, total_investment=Decimal("35.61"))
old.get_model("projects", "ItemUnit").objects.create(item=item, unit=unit, role="lead")
report = old.get_model("projects", "StatusReport").objects.create(
    item=item, month=datetime.date(2025, 10, 1), status="in_progress", cumulative_investment=Decimal("3.1000"),
    month_investment=Decimal("0.5"), progress_text="按计划推进", filed_by=user, version=2)
old.get_model("projects", "HistoricalStatusReport").objects.create(
    id=report.pk, item_id=item.pk, month=report.month, status="in_progress", cumulative_investment=Decimal("3.1"),
    progress_text="按计划推进", filed_by_id=user.pk, filed_at=now, updated_at=now, version=2, history_date=now,
    history_type="+", history_user_id=user.pk, progress_pct=None, month_investment=None, problems="", next_steps="")
old.get_model("projects", "Milestone").objects.create(item=item, name="开工", due_date=datetime.date(2022, 3, 1))
old.get_model("projects", "AnnualTarget").objects.create(item=item, year=2025, planned_investment=Decimal("5"))
table = old.get_model("projects", "IndicatorTable").objects.create(plan=plan, order=1, title="主要指标", kind="targets")
indicator = old.get_model("projects", "Indicator").objects.create(table=table, plan=plan, order=1, name="地区生产总值",
                                                                  responsible_unit=unit)
old.get_model("projects", "IndicatorValue").objects.create(indicator=indicator, year=2023, value=Decimal("120.5"),
                                                           entered_by=user)
old.get_model("portfolio", "IndicatorStatus").objects.create(indicator=indicator, year=2023, status="on_track",
                                                             rule="r", changed_on=datetime.date(2024, 1, 1))
old.get_model("portfolio", "EvaluationState").objects.create(pk=1, as_of=datetime.date(2025, 11, 23), version=42)
# content types as the previous main's migrate created them, and a group granted a permission on one
report_type = ContentType.objects.create(app_label="projects", model="statusreport")
change_report = Permission.objects.create(content_type=report_type, codename="change_statusreport",
                                          name="Can change 进度填报")
Group.objects.create(name="规划人员").permissions.add(change_report)

executor = MigrationExecutor(connection)
executor.migrate(executor.loader.graph.leaf_nodes())

from django.contrib.auth.models import Group as CurrentGroup  # noqa: E402
from django.core.management import call_command  # noqa: E402

from indicators.models import Indicator, IndicatorStatus, IndicatorTable, IndicatorValue  # noqa: E402
from projects.models import EvaluationState  # noqa: E402
from reporting.models import AnnualTarget, Milestone, StatusReport  # noqa: E402

report = StatusReport.objects.get()
read = {
    "report": [str(report.cumulative_investment), report.progress_text, report.filed_by.username, report.version],
    "report_history": list(StatusReport.history.values_list("history_type", "progress_text")),
    "milestone": list(Milestone.objects.values_list("name", "due_date__year")),
    "target": [str(t.planned_investment) for t in AnnualTarget.objects.all()],
    "indicator": [i.name for i in Indicator.objects.all()],
    "indicator_unit": [i.responsible_unit.name for i in Indicator.objects.all()],
    "table": [t.title for t in IndicatorTable.objects.all()],
    "value": [str(v.value) for v in IndicatorValue.objects.all()],
    "status": list(IndicatorStatus.objects.values_list("year", flat=True)),
    "state": [s.version for s in EvaluationState.objects.all()],
    "group_perms": sorted(f"{p.content_type.app_label}.{p.codename}"
                          for p in CurrentGroup.objects.get(name="规划人员").permissions.all()),
}
call_command("evaluate_flags", "--as-of", "2025-11-23", stdout=open(os.devnull, "w"))  # the app runs on it
read["statuses_after_evaluation"] = IndicatorStatus.objects.count()
print(json.dumps(read, ensure_ascii=False))
