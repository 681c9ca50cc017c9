"""Province-scale benchmark: run by bench/run.sh against a throwaway PostgreSQL and Redis.

For each size it tops the synthetic data up to the target number of entries, then measures
(medians over several runs): the login page (the machine-speed reference), the filtered 重大项目
list page, the dashboard for a leader and for a unit user (warm: from Django's cache), the
leader's dashboard right after a unit's report and right after an admin-style edit commits,
the problem and 督办 order lists (filtered, 50 rows, as planner and as unit user), evaluate_flags
(first run, a repeat, the next night with no data changes, and the boundary nights that move every
entry), the nightly run with the 催办 reminders, export_rollup of
one plan, a streamed CSV export of every entry (time and peak memory), import_plan of the real
plan, and the list page under load (gunicorn, 2 workers, wrk on loopback). For each page it also
times its SQL alone (the floor), for information.
"""
import datetime
import io
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from projects.models import Category, Item, ItemStatus, ListKind, Organisation, OrganisationMember, Plan, Role, Unit  # noqa: E402
from reporting.models import StatusReport

AS_OF = datetime.date(2026, 11, 23)
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
RESULTS = ROOT / "bench" / "results.json"


def median_ms(fn, runs=RUNS):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return round(statistics.median(times), 1)


def users():
    from projects.management.commands.create_demo_users import ensure_role_groups

    groups = ensure_role_groups()
    leader, _ = User.objects.get_or_create(username="bench_leader")
    leader.groups.set([groups[Role.LEADER]])
    # the province leader: the top of the tree the synthetic plans hang under
    top = Organisation.objects.filter(parent__isnull=True).order_by("pk").first()
    OrganisationMember.objects.update_or_create(user=leader, defaults={"organisation": top})
    planner, _ = User.objects.get_or_create(username="bench_planner")
    planner.groups.set([groups[Role.PLANNER]])
    OrganisationMember.objects.update_or_create(user=planner, defaults={"organisation": top})
    unit_user, _ = User.objects.get_or_create(username="bench_unit")
    unit_user.groups.set([groups[Role.UNIT]])
    busiest = (Unit.objects.filter(name__startswith="（合成）").order_by("pk").first())
    busiest.members.add(unit_user)
    return planner, leader, unit_user


def measure_page(user, url):
    """Server time (median), query count, SQL floor (median of the page's queries run alone)."""
    client = Client()
    if user is not None:
        client.force_login(user)
    client.get(url)  # warm caches and connection
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    captured = list(ctx.captured_queries)  # the next request resets Django's query log
    assert response.status_code == 200, (url, response.status_code)
    statements = []
    for q in captured:
        sql = q["sql"]
        if sql.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            continue
        declared = re.match(r"DECLARE .*? CURSOR .*? FOR (.*)$", sql, re.S)
        statements.append(declared.group(1) if declared else sql)
    page = median_ms(lambda: client.get(url))

    def run_sql():
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
                if cursor.description:
                    cursor.fetchall()

    floor = median_ms(run_sql)
    return {"url": url, "median_ms": page, "queries": len(captured),
            "sql_floor_ms": floor, "page_over_floor": round(page / floor, 2) if floor else None}


def measure_dashboard_after_change(user, url, change, runs=3):
    """The dashboard right after a change commits (the entry re-evaluated on commit, the data
    version moved, so the grouped queries run again), checked against a fresh computation."""
    from portfolio.summary import compute_dashboard, dashboard

    client = Client()
    client.force_login(user)
    client.get(url)
    entries = list(Item.objects.filter(plan__is_synthetic=True, list_kind=ListKind.PROJECT,
                                       status=ItemStatus.IN_PROGRESS).order_by("?")[:runs])
    times = []
    for item in entries:
        change(item)
        t = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200
        shown = dashboard(user, AS_OF)["totals"]  # what the page just computed and cached
        fresh = compute_dashboard(user, AS_OF)["totals"]
        assert shown == fresh, "the dashboard served after a change must be the fresh one"
    return {"url": url, "median_ms": round(statistics.median(times), 1), "runs": times}


def file_report(item):
    StatusReport.objects.update_or_create(
        item=item, month=AS_OF.replace(day=1),
        defaults={"status": ItemStatus.IN_PROGRESS, "progress_text": "基准测试填报",
                  "cumulative_investment": (item.total_investment or 1) / 3})


def rename_unit(item):
    unit = (Unit.objects.filter(item_links__item=item).first()
            or Unit.objects.filter(item_links__item__plan=item.plan_id).first() or Unit.objects.order_by("pk").first())
    unit.name = unit.name[:-1] if unit.name.endswith("′") else unit.name + "′"
    unit.save()


def edit_total(item):
    item.total_investment = (item.total_investment or 0) + 1
    item.save()


def csv_export_peak_memory():
    """Streams the CSV of every entry in a child process; returns rows, ms and peak resident MB."""
    code = (
        "import os, sys, time, resource; sys.path.insert(0, %r); "
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings'); import django; django.setup(); "
        "from django.contrib.auth.models import User; from django.test import Client; "
        "c = Client(); c.force_login(User.objects.get(username='bench_leader')); t = time.perf_counter(); n = 0\n"
        "resp = c.get('/lists/project/?_export=csv&per_page=50')\n"
        "for chunk in resp.streaming_content: n += chunk.count(b'\\n') if isinstance(chunk, bytes) else chunk.count('\\n')\n"
        # VmHWM, not ru_maxrss: the latter carries the forking parent's peak across exec.
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
        "print(n, round((time.perf_counter() - t) * 1000), int(hwm) // 1024)"
    ) % str(ROOT)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return {"rows": int(out[0]) - 1, "ms": int(out[1]), "peak_rss_mb": int(out[2])}


def load_test(user, url, seconds=15):
    """gunicorn with 2 workers on loopback, wrk with 4 connections; bounded in time."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    port = 18000 + os.getpid() % 1000
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "config.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}",
         "--log-level", "warning"], cwd=ROOT, env={**os.environ, "DEBUG": "0"})
    try:
        for _ in range(50):
            try:
                subprocess.run(["curl", "-s", "-o", "/dev/null", f"http://127.0.0.1:{port}/accounts/login/"],
                               check=True, timeout=2)
                break
            except Exception:
                time.sleep(0.2)
        out = subprocess.run(
            ["wrk", "-t2", "-c4", f"-d{seconds}s", "--timeout", "10s",
             "-H", f"Cookie: sessionid={session.session_key}", f"http://127.0.0.1:{port}{url}"],
            capture_output=True, text=True, timeout=seconds + 30).stdout
    finally:
        server.terminate()
        server.wait(timeout=10)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    socket_errors = sum(int(x) for x in socket.groups()) if socket else 0
    return {"requests": requests, "requests_per_s": rps, "errors": non2xx + socket_errors}


def stage(entries):
    have = Item.objects.filter(plan__is_synthetic=True).count()
    need_plans = max(0, (entries - have) // 200)
    t = time.perf_counter()
    if need_plans:
        call_command("generate_synthetic", plans=need_plans, seed=entries)
    generated_s = round(time.perf_counter() - t, 1)
    planner, leader, unit_user = users()
    total = Item.objects.count()
    print(f"== {total} entries ({Item.objects.filter(plan__is_synthetic=True).count()} synthetic); "
          f"generated {need_plans} plans in {generated_s} s", flush=True)

    result = {"entries": total, "generate_s": generated_s, "generated_plans": need_plans}
    evaluate = []
    for _ in range(3):  # the first run gives new entries their figures and opens their flags
        t = time.perf_counter()
        call_command("evaluate_flags", as_of=AS_OF.isoformat(), no_notify=True, stdout=open(os.devnull, "w"))
        evaluate.append(round(time.perf_counter() - t, 2))
    result["evaluate_flags_s"] = {"runs": evaluate, "first": evaluate[0], "repeat": evaluate[-1]}
    # The first evaluation wrote 1.2 million figure rows and 300,000 flags into tables just loaded
    # by COPY: autovacuum then works on them for minutes, and pages measured meanwhile varied by up
    # to two times. Measure the steady state a running database is in: vacuumed (visibility map
    # set, so index-only scans skip the heap) and analysed.
    t = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    result["vacuum_s"] = round(time.perf_counter() - t, 1)
    result["login_page"] = measure_page(None, "/accounts/login/")

    plan = Plan.objects.filter(is_synthetic=True).order_by("pk").first()
    category = Category.objects.filter(plan=plan, list_kind=ListKind.PROJECT, order=2).first()
    list_url = (f"/lists/project/?category={category.pk}&status={ItemStatus.IN_PROGRESS}"
                f"&sort=-total_investment&per_page=50")
    result["list_page"] = measure_page(leader, list_url)
    # a zone planner (the county owning that plan): the same list within their scope
    zone_planner, _ = User.objects.get_or_create(username="bench_zone_planner")
    from projects.management.commands.create_demo_users import ensure_role_groups

    zone_planner.groups.set([ensure_role_groups()[Role.PLANNER]])
    OrganisationMember.objects.update_or_create(user=zone_planner, defaults={"organisation": plan.organisation})
    result["list_page_zone_planner"] = measure_page(zone_planner, list_url)
    result["zones_leader"] = measure_page(leader, f"/zones/?as_of={AS_OF}")
    result["zones_leader_after_report"] = measure_dashboard_after_change(leader, f"/zones/?as_of={AS_OF}", file_report)
    result["list_page_unit_user"] = measure_page(unit_user, "/lists/project/?sort=-total_investment&per_page=50")
    result["dashboard_leader"] = measure_page(leader, f"/?as_of={AS_OF}")
    result["dashboard_leader_after_report"] = measure_dashboard_after_change(leader, f"/?as_of={AS_OF}", file_report)
    result["dashboard_leader_after_edit"] = measure_dashboard_after_change(leader, f"/?as_of={AS_OF}", edit_total)
    # a change not confined to entries: every slice of plans is computed again
    result["dashboard_leader_after_unit_renamed"] = measure_dashboard_after_change(
        leader, f"/?as_of={AS_OF}", rename_unit)
    result["dashboard_unit_user"] = measure_page(unit_user, f"/?as_of={AS_OF}")
    result.update(loop_pages(planner, unit_user))

    with tempfile.NamedTemporaryFile(suffix=".xlsx") as fh:
        result["export_rollup_xlsx_ms"] = median_ms(lambda: call_command(
            "export_rollup", plan=plan.code, format="xlsx", output=fh.name, as_of=AS_OF.isoformat(),
            stdout=open(os.devnull, "w")), runs=3)
    result["csv_export_all"] = csv_export_peak_memory()
    result["import_plan_real_ms"] = median_ms(lambda: call_command(
        "import_plan", str(ROOT / "fixtures" / "ojk_14th_plan.txt"), plan="ojk-14",
        stdout=open(os.devnull, "w")), runs=3)
    result["load_list_page"] = load_test(leader, list_url)
    # The nightly job as scheduled, one day on, no data changed since.
    t = time.perf_counter()
    out = io.StringIO()
    call_command("evaluate_flags", as_of=(AS_OF + datetime.timedelta(days=1)).isoformat(), stdout=out)
    result["evaluate_flags_next_night_s"] = round(time.perf_counter() - t, 2)
    result["evaluate_flags_next_night_output"] = out.getvalue().strip().splitlines()[-1]
    # what the Celery task queued after the nightly run does: the active leaders' and planners' dashboards
    from portfolio.warm import warm_dashboards

    t = time.perf_counter()
    scopes = warm_dashboards()
    result["warm_dashboards"] = {"s": round(time.perf_counter() - t, 2), "scopes": scopes}
    result["nightly_with_reminders_s"] = nightly_with_reminders(AS_OF + datetime.timedelta(days=2))
    result["evaluate_flags_boundary_nights_s"] = boundary_nights()
    return result


# The loop's lists: a filtered page of 50 rows, as the planning office and as a unit user.
PROBLEM_LIST = "/problems/?state=coordinating&per_page=50"
ORDER_LIST = "/orders/?colour=red&per_page=50"


def loop_pages(planner, unit_user):
    from supervision.models import Order, Problem

    print(f"   loop: {Problem.objects.count()} problems, {Order.objects.count()} orders", flush=True)
    return {
        "problem_list": measure_page(planner, PROBLEM_LIST),
        "problem_list_unit_user": measure_page(unit_user, "/problems/?per_page=50"),
        "order_list": measure_page(planner, ORDER_LIST),
        "order_list_unit_user": measure_page(unit_user, "/orders/?per_page=50"),
        "problems": Problem.objects.count(), "orders": Order.objects.count(),
    }


def nightly_with_reminders(night):
    """An ordinary night as beat runs it: the nightly evaluation (portfolio.outbox.nightly, with
    its record and alerts) and the 催办 run (supervision.reminders) for the same date; seconds."""
    from portfolio.outbox import nightly
    from supervision.reminders import send_order_reminders

    from django.test.utils import override_settings

    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        t = time.perf_counter()
        nightly(night)
        evaluation = time.perf_counter() - t
        sent = send_order_reminders(night)
        total = time.perf_counter() - t
    return {"total": round(total, 2), "evaluation": round(evaluation, 2), "reminders": round(total - evaluation, 2),
            "reminders_sent": sent}


# The nights that move every entry: a new month (the month asked for moves), the night after the
# reporting day (a month turns late), a new year (targets, 序时进度 and overdue move), and the
# reporting day after it. Run in this order, each after the one before, as beat would.
BOUNDARY_NIGHTS = [("1 December", datetime.date(2026, 12, 1)), ("6 December", datetime.date(2026, 12, 6)),
                   ("1 January", datetime.date(2027, 1, 1)), ("6 January", datetime.date(2027, 1, 6))]


def boundary_nights():
    """The evaluation of each night (evaluate_flags), and the nightly run's month-end trend step
    after it (portfolio/trends.py write_month_ends, recorded as '<night> trends')."""
    from portfolio.trends import write_month_ends

    nights = {}
    for label, night in BOUNDARY_NIGHTS:
        t = time.perf_counter()
        call_command("evaluate_flags", as_of=night.isoformat(), no_notify=True, stdout=open(os.devnull, "w"))
        nights[label] = round(time.perf_counter() - t, 2)
        t = time.perf_counter()
        write_month_ends(night)
        nights[f"{label} trends"] = round(time.perf_counter() - t, 2)
    # back to the benchmark's date, so a next stage starts where this one did
    call_command("evaluate_flags", as_of=AS_OF.isoformat(), no_notify=True, stdout=open(os.devnull, "w"))
    return nights


def table(results):
    head = ["entries", "login ms", "list ms (queries)", "problems list planner / unit ms",
            "orders list planner / unit ms", "dash leader warm ms", "dash unit warm ms",
            "dash leader after report / edit / unit renamed ms", "warm after night s (scopes)", "evaluate_flags first / repeat / next night s",
            "night with 催办 s (sent)", "boundary nights 1 Dec / 6 Dec / 1 Jan / 6 Jan s (evaluation+trends)",
            "csv all: rows, s, peak MB", "rollup xlsx ms", "import ms", "load req/s (errors)",
            "zone planner list ms", "zones compared warm / after report ms"]
    lines = [" | ".join(head), " | ".join("---" for _ in head)]
    for r in results:
        e = r["evaluate_flags_s"]
        lines.append(" | ".join(str(x) for x in [
            r["entries"], r["login_page"]["median_ms"],
            f'{r["list_page"]["median_ms"]} ({r["list_page"]["queries"]})',
            f'{r["problem_list"]["median_ms"]} / {r["problem_list_unit_user"]["median_ms"]}',
            f'{r["order_list"]["median_ms"]} / {r["order_list_unit_user"]["median_ms"]}',
            r["dashboard_leader"]["median_ms"], r["dashboard_unit_user"]["median_ms"],
            f'{r["dashboard_leader_after_report"]["median_ms"]} / {r["dashboard_leader_after_edit"]["median_ms"]}'
            f' / {r["dashboard_leader_after_unit_renamed"]["median_ms"]}',
            f'{r["warm_dashboards"]["s"]} ({r["warm_dashboards"]["scopes"]})',
            f'{e["first"]} / {e["repeat"]} / {r["evaluate_flags_next_night_s"]}',
            f'{r["nightly_with_reminders_s"]["total"]} ({r["nightly_with_reminders_s"]["reminders_sent"]})',
            " / ".join(f"{v}+{r['evaluate_flags_boundary_nights_s'].get(k + ' trends')}" for k, v in r["evaluate_flags_boundary_nights_s"].items() if not k.endswith("trends")),
            f'{r["csv_export_all"]["rows"]}, {r["csv_export_all"]["ms"] / 1000:.1f}, {r["csv_export_all"]["peak_rss_mb"]}',
            r["export_rollup_xlsx_ms"], r["import_plan_real_ms"],
            f'{r["load_list_page"]["requests_per_s"]} ({r["load_list_page"]["errors"]})',
            r["list_page_zone_planner"]["median_ms"],
            f'{r["zones_leader"]["median_ms"]} / {r["zones_leader_after_report"]["median_ms"]}',
        ]))
    return "\n".join(lines)


def main():
    sizes = [int(s) for s in (sys.argv[1:] or ["20000", "200000"])]
    if not Plan.objects.filter(code="ojk-14").exists():
        call_command("load_unit_aliases", str(ROOT / "fixtures" / "unit_aliases.csv"))
        call_command("import_plan", str(ROOT / "fixtures" / "ojk_14th_plan.txt"), plan="ojk-14")
    results = [stage(n) for n in sizes]
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') // 2**30} GiB"
    payload = {"date": datetime.date.today().isoformat(), "machine": machine, "runs": RUNS,
               "postgresql": connection.cursor().connection.server_version, "results": results}
    RESULTS.write_text(json.dumps(payload, ensure_ascii=False, indent=2))
    print(table(results))
    print(f"\nmachine: {machine}; medians of {RUNS} runs; written {RESULTS}")


if __name__ == "__main__":
    main()
