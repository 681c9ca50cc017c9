"""The one change tracker (issue 21, "Stale until the night run"): every model announces what it
touched through projects/changes.py, the one receiver re-evaluates figures, flags and indicator
statuses and always moves the data version; thresholds are stored with the evaluation; the
navigation fragment is keyed by the data version and the release."""
import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.cache.utils import make_template_fragment_key
from django.test import override_settings

from portfolio.evaluation import data_version, evaluate
from indicators.models import IndicatorStatus
from portfolio.models import Flag
from projects.continuation import set_predecessor
from indicators.importer import import_indicators
from indicators.models import Indicator, IndicatorValue
from projects.models import Item, ItemStatus, ItemUnit, ListKind, Plan, Role, Unit

from .conftest import PLAN_CODE, REAL_AS_OF, UNIT_A, make_user

OJK_INDICATORS = "004_oujiangkou_14th.txt"


def committed(capture):
    """What committing does: the after-commit hooks of the block run."""
    return capture(execute=True)


@pytest.fixture
def indicators(real_plan, django_capture_on_commit_callbacks):
    from .test_indicators import PLANS

    with committed(django_capture_on_commit_callbacks):
        import_indicators(PLANS / OJK_INDICATORS, PLAN_CODE)
    return Indicator.objects.filter(plan=real_plan, table__kind="targets")


def output_indicator():
    return Indicator.objects.get(plan__code=PLAN_CODE, name="规上工业总产值", table__kind="targets")


@pytest.mark.django_db
def test_editing_an_indicator_tables_years_re_evaluates_its_indicators(indicators, django_capture_on_commit_callbacks):
    output = output_indicator()  # level 57.1 (2020) → 250 (2025), 预期性
    with committed(django_capture_on_commit_callbacks):
        IndicatorValue.objects.create(indicator=output, year=2023, value=Decimal("130"), source="form")
    assert IndicatorStatus.objects.get(indicator=output, year=2023).status == "lagging"
    table = output.table
    table.target_year = 2030  # the same target five years later: 130 in 2023 is on the path (the 34% no longer leads there: a straight line)
    with committed(django_capture_on_commit_callbacks):
        table.save()
    status = IndicatorStatus.objects.get(indicator=output, year=2023)
    assert (status.status, status.light) == ("on_track", "green"), status.rule
    assert "2030" in status.rule


@pytest.mark.django_db
def test_changing_a_plans_period_re_evaluates_its_indicators(indicators, real_plan, django_capture_on_commit_callbacks):
    output = output_indicator()
    table = output.table
    table.target_year = None  # the table's targets are for the plan's last year
    with committed(django_capture_on_commit_callbacks):
        table.save()
        IndicatorValue.objects.create(indicator=output, year=2023, value=Decimal("130"), source="form")
    assert IndicatorStatus.objects.get(indicator=output, year=2023).status == "lagging"
    real_plan.end_year = 2030
    with committed(django_capture_on_commit_callbacks):
        real_plan.save()
    assert IndicatorStatus.objects.get(indicator=output, year=2023).status == "on_track"


@pytest.mark.django_db
def test_an_indicators_unit_change_or_deletion_moves_the_data_version(indicators, django_capture_on_commit_callbacks):
    output = output_indicator()
    before = data_version()
    output.responsible_unit = Unit.objects.get(name=UNIT_A)
    with committed(django_capture_on_commit_callbacks):
        output.save()
    assert data_version() != before  # the unit's indicator card is read afresh
    before = data_version()
    with committed(django_capture_on_commit_callbacks):
        output.delete()
    assert data_version() != before


def _entry(plan, seq, name, **fields):
    item = Item.objects.create(plan=plan, list_kind=ListKind.REFORM, seq=seq, name=name, start_year=2021,
                               end_year=2027, status=ItemStatus.IN_PROGRESS, **fields)
    ItemUnit.objects.create(item=item, unit=Unit.objects.get(name=UNIT_A))
    return item


@pytest.mark.django_db
def test_relinking_a_predecessor_re_evaluates_the_old_predecessor_too(real_plan, django_capture_on_commit_callbacks):
    old_plan = Plan.objects.create(code="t-old", name="旧规划", start_year=2021, end_year=2025)
    new_plan = Plan.objects.create(code="t-new", name="新规划", start_year=2026, end_year=2030)
    with committed(django_capture_on_commit_callbacks):
        first, second = _entry(old_plan, 1, "甲改革"), _entry(old_plan, 2, "乙改革")
        successor = _entry(new_plan, 1, "甲改革（续）")
    assert Flag.objects.filter(item=first, resolved_on__isnull=True).exists()  # owes its reports
    with committed(django_capture_on_commit_callbacks):
        set_predecessor(successor, first)
    assert not Flag.objects.filter(item=first, resolved_on__isnull=True).exists()  # carried on: watched in 十五五
    with committed(django_capture_on_commit_callbacks):
        set_predecessor(successor, second)
    # the old predecessor is no longer carried on: its flags are back on the page at once
    assert Flag.objects.filter(item=first, resolved_on__isnull=True).exists()
    assert not Flag.objects.filter(item=second, resolved_on__isnull=True).exists()


@pytest.mark.django_db
def test_a_threshold_change_re_evaluates_stored_lights_and_flags_within_minutes(
        real_plan, django_capture_on_commit_callbacks):
    from portfolio.models import ItemFigures
    from portfolio.tasks import drain_outbox_task

    plan = Plan.objects.create(code="t-thr", name="阈值规划", start_year=2021, end_year=2025)
    with committed(django_capture_on_commit_callbacks):
        silent = _entry(plan, 1, "从未填报的改革")  # owes every month since 2026-01: red after 3
    evaluate(REAL_AS_OF)  # the thresholds are stored with the evaluation
    assert Flag.objects.get(item=silent, kind="report_missing", resolved_on__isnull=True).severity == "red"
    with override_settings(TRACKER_REPORT_MISSING_RED_MONTHS=24):  # a deploy with a new threshold
        drain_outbox_task()  # beat, every five minutes
        assert Flag.objects.get(item=silent, kind="report_missing", resolved_on__isnull=True).severity == "yellow"
        assert ItemFigures.objects.get(item=silent).light == "yellow"


@pytest.mark.django_db
def test_the_nightly_run_in_the_same_month_applies_new_thresholds(real_plan, django_capture_on_commit_callbacks):
    plan = Plan.objects.create(code="t-thr2", name="阈值规划", start_year=2021, end_year=2025)
    with committed(django_capture_on_commit_callbacks):
        silent = _entry(plan, 1, "从未填报的改革")
    evaluate(REAL_AS_OF)
    with override_settings(TRACKER_REPORT_MISSING_RED_MONTHS=24):
        evaluate(REAL_AS_OF + datetime.timedelta(days=1))
        assert Flag.objects.get(item=silent, kind="report_missing", resolved_on__isnull=True).severity == "yellow"


@pytest.mark.django_db(transaction=True)
def test_the_navigation_fragment_is_keyed_by_the_data_version_and_the_release(client, real_plan, settings):
    from portfolio.evaluation import raise_version

    planner = make_user("nav_planner", Role.PLANNER)
    client.force_login(planner)
    cache.clear()
    assert client.get("/flags/").status_code == 200
    key = make_template_fragment_key("nav", [Role.PLANNER, "", data_version(), settings.TRACKER_RELEASE])
    assert cache.get(key) is not None
    raise_version()  # a committed change (outside a transaction: at once)
    settings.TRACKER_RELEASE = "next-release"  # a deploy
    assert client.get("/flags/").status_code == 200
    assert cache.get(make_template_fragment_key("nav", [Role.PLANNER, "", data_version(), "next-release"])) is not None


@pytest.mark.django_db
def test_a_committed_entry_change_moves_the_data_version(real_plan, django_capture_on_commit_callbacks, caplog):
    """The fault drill (tests/fault_drill.sh) found portfolio.evaluation shadowing the data
    version's raise_version with a copy naming a model it no longer imported: every save's
    after-commit hook failed with a NameError (logged, swallowed) and the version never moved, so
    cached dashboards and rankings stayed on the data before the change."""
    from portfolio import evaluation
    from projects import versions

    assert evaluation.raise_version is versions.raise_version
    assert evaluation.data_version is versions.data_version
    item = Item.objects.get(plan=real_plan, list_kind=ListKind.PROJECT, seq=1)
    before = data_version()
    item.total_investment += 1
    with committed(django_capture_on_commit_callbacks):
        item.save()
    assert data_version() != before
    assert "Error calling" not in caplog.text
