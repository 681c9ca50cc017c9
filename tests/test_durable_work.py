"""Nothing lost when a process, a worker or the database fails (issue 22, items 1, 2 and 5):
the outbox written with each change, its drain, the nightly run's reconciliation and owed
alerts, the record of nightly runs, the health endpoint, tasks redelivered when their worker is
killed, and commands that fail in Chinese. Each fault is made on purpose: a process killed
right after its commit, an evaluation that raises, a worker killed mid-task."""
import datetime
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import OperationalError, connection
from django.utils import timezone

from portfolio.evaluation import ADVISORY_LOCK_ID
from portfolio.models import ItemFigures, NightlyRun
from projects.models import EvaluationState
from portfolio.outbox import drain, nightly
from projects.models import Item, ListKind, PendingWork, Plan, Role
from reporting.models import Milestone, StatusReport

from .conftest import REAL_AS_OF, ROOT, UNIT_A, make_user

FIFTEENTH = Path(__file__).resolve().parent / "data" / "fifteenth" / "ojk_15th_projects.txt"
OCTOBER = datetime.date(2026, 10, 1)


def subprocess_env():
    """The environment of a process using the test database (as the real-worker test does)."""
    name = connection.settings_dict["NAME"]
    parts = urlsplit(os.environ["DATABASE_URL"])
    env = dict(os.environ, DATABASE_URL=urlunsplit(parts._replace(path="/" + name)))
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    return env


def a_project(plan):
    return Item.objects.filter(plan=plan, list_kind=ListKind.PROJECT, unit_links__unit__name=UNIT_A) \
        .order_by("seq").first()


def planner_sees(client, text):
    planner = make_user("ops_planner", Role.PLANNER) if not hasattr(client, "_ops") else None
    if planner:
        client.force_login(planner)
        client._ops = True
    return text in client.get("/").content.decode()


def age_the_outbox():
    """As if the after-commit attempt had been waiting longer than it ever takes."""
    PendingWork.objects.update(marked_at=timezone.now() - datetime.timedelta(minutes=10))


# ---------------------------------------------------------------- the outbox

@pytest.mark.django_db(transaction=True)
def test_a_process_killed_right_after_its_commit_leaves_its_work_in_the_outbox(real_plan, client):
    item = a_project(real_plan)
    assert ItemFigures.objects.get(item=item).last_month is None
    script = (
        "import datetime, os\n"
        "from decimal import Decimal\n"
        "from django.db import transaction\n"
        "from reporting.models import StatusReport\n"
        "with transaction.atomic():\n"
        "    transaction.on_commit(lambda: os._exit(1))  # dies after the commit, before any follow-up\n"
        f"    StatusReport.objects.create(item_id={item.pk}, month=datetime.date(2026, 10, 1), status='in_progress',"
        " cumulative_investment=Decimal('3.5'), month_investment=Decimal('0.5'), progress_pct=Decimal('20'))\n"
    )
    done = subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=subprocess_env(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert StatusReport.objects.filter(item=item, month=OCTOBER).exists()  # the report committed
    assert ItemFigures.objects.get(item=item).last_month is None  # … and nothing followed it
    assert list(PendingWork.objects.values_list("kind", "object_id")) == [("item", item.pk)]
    age_the_outbox()
    assert planner_sees(client, "1 项重新计算待完成")

    from portfolio.tasks import drain_outbox_task

    drain_outbox_task()
    figures = ItemFigures.objects.get(item=item)
    assert (figures.last_month, figures.cumulative) == (OCTOBER, 3.5)
    assert not PendingWork.objects.exists()
    assert not planner_sees(client, "项重新计算待完成")


@pytest.mark.django_db
def test_a_failed_after_commit_evaluation_is_shown_and_retried_until_it_succeeds(
        real_plan, client, django_capture_on_commit_callbacks):
    item = a_project(real_plan)
    unit_user = make_user("ops_unit", Role.UNIT, [UNIT_A])
    client.force_login(unit_user)
    PendingWork.objects.all().delete()  # what setting up this test marked (its hooks never ran)
    boom = OperationalError("server closed the connection unexpectedly")
    with mock.patch("portfolio.evaluation.evaluate_changed_entries", side_effect=boom), \
            mock.patch("portfolio.signals._schedule_drain") as scheduled:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/items/{item.pk}/report/", {
                "month": "2026-10", "status": "in_progress", "progress_pct": "20", "month_investment": "0.5",
                "cumulative_investment": "3.5", "work_progress": "主体施工", "problems": "", "next_steps": ""})
    assert response.status_code == 302, response.content.decode()[:2000]  # the save landed
    assert scheduled.called  # the drain task was queued
    work = PendingWork.objects.get(kind="item", object_id=item.pk)
    assert work.attempts == 1 and "server closed the connection" in work.last_error
    assert ItemFigures.objects.get(item=item).last_month is None
    client.logout()
    assert planner_sees(client, "1 项重新计算待完成")

    with mock.patch("portfolio.evaluation.evaluate_changed_entries", side_effect=boom):
        with pytest.raises(OperationalError):
            drain(due_only=False)  # still failing: kept, with its attempts counted and a later retry
    work.refresh_from_db()
    assert work.attempts == 2 and work.next_attempt_at > timezone.now()
    assert drain(due_only=False) == 1
    assert ItemFigures.objects.get(item=item).last_month == OCTOBER
    assert not planner_sees(client, "项重新计算待完成")


@pytest.mark.django_db
def test_the_night_reads_again_the_facts_of_entries_changed_since_they_were_read(real_plan):
    """A change whose follow-up and outbox record were both lost (on_commit never runs in this
    test): the nightly run compares the rows' updated_at with when the facts were read."""
    reported, milestoned = Item.objects.filter(plan=real_plan, list_kind=ListKind.PROJECT).order_by("seq")[:2]
    StatusReport.objects.create(item=reported, month=OCTOBER, status="in_progress", progress_pct=20,
                                cumulative_investment=3, month_investment=1)
    Milestone.objects.create(item=milestoned, name="开工", due_date=datetime.date(2027, 3, 1))
    PendingWork.objects.all().delete()
    nightly(REAL_AS_OF)
    assert ItemFigures.objects.get(item=reported).last_month == OCTOBER
    assert ItemFigures.objects.get(item=milestoned).milestone_name == "开工"


@pytest.mark.django_db
def test_an_alert_never_sent_after_its_flag_opened_is_sent_by_the_next_run(real_plan):
    from portfolio.evaluation import evaluate

    from .test_change_tracker import _entry

    user = make_user("ops_alerts", Role.UNIT, [UNIT_A])
    user.email = "ops@example.org"
    user.save()
    plan = Plan.objects.create(code="t-alert", name="预警规划", start_year=2021, end_year=2025)
    silent = _entry(plan, 1, "迟迟未报的改革")
    evaluate(REAL_AS_OF)  # opens the red flag … and the process dies before the e-mail
    mail.outbox.clear()
    nightly(REAL_AS_OF)  # the rerun opens nothing new, but the alert is owed
    assert any(silent.name in m.body for m in mail.outbox)
    mail.outbox.clear()
    nightly(REAL_AS_OF)
    assert not any(silent.name in m.body for m in mail.outbox)  # never twice


@pytest.mark.django_db
def test_alerts_declined_with_no_notify_are_not_sent_by_the_next_run(real_plan):
    from .test_change_tracker import _entry

    user = make_user("ops_quiet", Role.UNIT, [UNIT_A])
    user.email = "quiet@example.org"
    user.save()
    plan = Plan.objects.create(code="t-quiet", name="预警规划", start_year=2021, end_year=2025)
    quiet = _entry(plan, 1, "不发邮件的改革")
    call_command("evaluate_flags", "--as-of", REAL_AS_OF.isoformat(), "--no-notify", stdout=io.StringIO())
    mail.outbox.clear()
    nightly(REAL_AS_OF)
    assert not any(quiet.name in m.body for m in mail.outbox)


@pytest.mark.django_db
def test_an_alert_that_could_not_be_queued_while_the_broker_was_down_is_sent_by_the_drain(
        real_plan, django_capture_on_commit_callbacks):
    from kombu.exceptions import OperationalError as BrokerDown

    from portfolio.tasks import drain_outbox_task

    from .test_change_tracker import _entry

    user = make_user("ops_broker", Role.UNIT, [UNIT_A])
    user.email = "broker@example.org"
    user.save()
    plan = Plan.objects.create(code="t-broker", name="预警规划", start_year=2021, end_year=2025)
    with mock.patch("portfolio.tasks.notify_flags_task.delay", side_effect=BrokerDown("Redis down")):
        with django_capture_on_commit_callbacks(execute=True):
            silent = _entry(plan, 1, "Redis 停机时开红灯的改革")  # the save succeeds, its alert cannot be queued
    assert silent.flags.filter(severity="red", resolved_on__isnull=True).exists()
    assert not PendingWork.objects.filter(kind="item", object_id=silent.pk).exists()  # evaluated
    mail.outbox.clear()
    drain_outbox_task()
    assert any(silent.name in m.body for m in mail.outbox)


@pytest.mark.django_db
def test_weekly_mails_delivered_twice_reach_each_recipient_once(real_plan):
    """A reminder task redelivered after its worker died once the mails had gone out."""
    from portfolio.tasks import send_leader_digest_task, send_unit_reminders_task

    unit_user = make_user("ops_weekly", Role.UNIT, [UNIT_A])
    leader = make_user("ops_leader", Role.LEADER)
    for user, address in ((unit_user, "weekly@example.org"), (leader, "leader@example.org")):
        user.email = address
        user.save()
    mail.outbox.clear()
    assert send_unit_reminders_task(as_of=REAL_AS_OF.isoformat()) >= 1
    assert send_leader_digest_task(as_of=REAL_AS_OF.isoformat()) == 1
    first = len(mail.outbox)
    assert send_unit_reminders_task(as_of=REAL_AS_OF.isoformat()) == 0
    assert send_leader_digest_task(as_of=REAL_AS_OF.isoformat()) == 0
    assert len(mail.outbox) == first


# ---------------------------------------------------------------- nightly runs, health

@pytest.mark.django_db
def test_planners_see_a_failed_or_late_nightly_run(real_plan, client):
    boom = OperationalError("could not connect to server")
    with mock.patch("portfolio.evaluation.evaluate", side_effect=boom), pytest.raises(OperationalError):
        nightly(REAL_AS_OF)
    run = NightlyRun.objects.get()
    assert run.ok is False and "could not connect" in run.error and run.finished_at
    assert planner_sees(client, "最近一次夜间评估")
    nightly(REAL_AS_OF)
    assert NightlyRun.objects.filter(ok=True).count() == 1
    assert not planner_sees(client, "夜间评估")
    two_days_ago = timezone.now() - datetime.timedelta(hours=48)
    NightlyRun.objects.update(finished_at=two_days_ago, started_at=two_days_ago)
    EvaluationState.objects.update(evaluated_at=two_days_ago)
    assert planner_sees(client, "夜间评估已 48 小时未成功运行")


def get_in_a_thread(client, url):
    """The health view runs its checks through asgiref, which refuses a thread with an event loop
    running (the session's Playwright browser keeps one in the main thread); gunicorn's workers
    have none, so the request runs in a thread of its own, as there."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(client.get, url).result()


@pytest.mark.django_db(transaction=True)  # the checks run on connections of their own
def test_health_endpoint_covers_database_cache_broker_and_the_last_run(real_plan, client):
    response = get_in_a_thread(client, "/health/?format=json")
    body = response.json()
    assert response.status_code == 200, body
    assert all(v == "OK" for v in body.values())
    names = " ".join(body)
    for check in ("Database", "Cache", "Broker", "NightlyRunAge"):
        assert check in names
    EvaluationState.objects.update(evaluated_at=timezone.now() - datetime.timedelta(hours=30))
    response = get_in_a_thread(client, "/health/?format=json")
    assert response.status_code == 500
    assert any("夜间评估已 30 小时未成功运行" in v for v in response.json().values())


# ---------------------------------------------------------------- a real worker killed mid-task

def _children(pid):
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry))
    return kids


def stop(worker):
    """Stop a worker process started by a test (killed if it does not stop within 30 s)."""
    worker.terminate()
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


@pytest.mark.django_db(transaction=True)
def test_a_nightly_run_killed_in_the_worker_is_redelivered_and_finishes(real_plan, tmp_path):
    from config.celery_app import app
    from portfolio.tasks import evaluate_flags_task

    night = REAL_AS_OF + datetime.timedelta(days=1)
    app.control.purge()
    env = subprocess_env()
    log_path = tmp_path / "worker.log"
    celery_bin = Path(sys.executable).with_name("celery")
    with connection.cursor() as cursor:  # the evaluation will wait for this lock: a task caught mid-way
        cursor.execute("SELECT pg_advisory_lock(%s)", [ADVISORY_LOCK_ID])
    with open(log_path, "w") as log:
        worker = subprocess.Popen([str(celery_bin), "-A", "config", "worker", "--pool=prefork", "--concurrency=1",
                                   "-l", "warning"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            evaluate_flags_task.delay(as_of=night.isoformat())

            def waiting_for_lock():
                with connection.cursor() as cursor:
                    cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
                    return cursor.fetchone()[0]

            deadline = time.monotonic() + 90
            while not waiting_for_lock():
                assert worker.poll() is None and time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.3)
            children = _children(worker.pid)
            assert len(children) == 1
            os.kill(children[0], signal.SIGKILL)  # the pool child dies mid-task
            time.sleep(3)
            deadline = time.monotonic() + 90
            while not waiting_for_lock():  # redelivered to the new pool child, waiting again
                assert worker.poll() is None and time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.3)
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_ID])
            deadline = time.monotonic() + 90
            while not NightlyRun.objects.filter(ok=True).exists():
                assert worker.poll() is None and time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.5)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock_all()")
            stop(worker)
    assert EvaluationState.objects.get(pk=1).as_of == night
    runs = list(NightlyRun.objects.order_by("started_at").values_list("ok", flat=True))
    assert runs == [None, True], runs  # the killed attempt is visible as unfinished


@pytest.mark.django_db(transaction=True)
def test_a_nightly_run_whose_whole_worker_was_killed_is_redelivered_to_the_next_worker(real_plan, tmp_path):
    """kill -9 of the worker itself (no process left to requeue it): Redis gives the unacknowledged
    task to the next worker once the visibility timeout has passed (5 s here, an hour in production)."""
    from config.celery_app import app
    from portfolio.tasks import evaluate_flags_task

    night = REAL_AS_OF + datetime.timedelta(days=2)
    app.control.purge()
    env = dict(subprocess_env(), CELERY_VISIBILITY_TIMEOUT="5")
    celery_bin = Path(sys.executable).with_name("celery")
    command = [str(celery_bin), "-A", "config", "worker", "--pool=prefork", "--concurrency=1", "-l", "warning"]

    def waiting_for_lock():
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            return cursor.fetchone()[0]

    def wait(condition, worker, log_path):
        deadline = time.monotonic() + 120
        while not condition():
            assert worker.poll() is None and time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.3)

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [ADVISORY_LOCK_ID])
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    with open(first_log, "w") as log:
        first = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    second = None
    try:
        evaluate_flags_task.delay(as_of=night.isoformat())
        wait(waiting_for_lock, first, first_log)
        children = _children(first.pid)
        first.kill()  # the whole worker, mid-task: its main process and its pool child
        for child in children:
            os.kill(child, signal.SIGKILL)
        first.wait()
        time.sleep(2)  # its database session ends
        with open(second_log, "w") as log:
            second = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        wait(waiting_for_lock, second, second_log)  # redelivered
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock_all()")
        wait(lambda: NightlyRun.objects.filter(ok=True).exists(), second, second_log)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock_all()")
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                stop(worker)
    assert EvaluationState.objects.get(pk=1).as_of == night


# ---------------------------------------------------------------- commands fail in Chinese

def test_a_command_with_the_database_down_says_so_in_one_chinese_line():
    env = dict(os.environ, DATABASE_URL="postgres://postgres@127.0.0.1:9/tracker")
    done = subprocess.run([sys.executable, "manage.py", "evaluate_flags", "--as-of", "2026-11-23"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("命令失败：数据库出错"), done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.django_db(transaction=True)
def test_import_whose_follow_up_failed_says_so_and_leaves_the_work_in_the_outbox(real_plan):
    err = io.StringIO()
    with mock.patch("portfolio.evaluation.evaluate_changed_entries", side_effect=OperationalError("db gone")), \
            mock.patch("portfolio.signals._schedule_drain"):
        with pytest.raises(SystemExit) as exit_:
            call_command("import_plan", str(FIFTEENTH), "--plan", "t-outbox", stdout=io.StringIO(), stderr=err)
    assert exit_.value.code == 2
    assert "已导入，但后续重新计算失败，已记入待办，将自动重试" in err.getvalue()
    entries = set(Item.objects.filter(plan__code="t-outbox").values_list("pk", flat=True))
    assert entries and entries <= set(PendingWork.objects.filter(kind="item").values_list("object_id", flat=True))
    assert not ItemFigures.objects.filter(item__in=entries).exists()
    drain(due_only=False)
    assert ItemFigures.objects.filter(item__in=entries).count() == len(entries)
    assert not PendingWork.objects.exists()
