#!/usr/bin/env bash
# Fault drill (issue 22, last "Done when"): while `bash scripts/serve.sh` serves, stop PostgreSQL,
# Redis and the Celery worker in turn, and report what users saw and how long recovery took.
#
#   bash tests/fault_drill.sh            # about 4 minutes; logs in a /tmp/fault-drill.* folder
#
# It starts throwaway PostgreSQL 15 + Redis on loopback ports (scripts/services.sh), migrates,
# imports the real plan, creates the demo users and starts scripts/serve.sh as in production
# behind a TLS proxy (TRACKER_BEHIND_PROXY=1; the probe sends X-Forwarded-Proto: https, so the
# secure cookies and CSRF checks are the production ones). A probe (tests/fault_drill.sh's own
# Python, stdlib only) logs in as unit_dev and planner and once a second requests
#   dev /  ·  dev /my/  ·  planner /  ·  /health/?format=json  ·  POST a monthly report (unit_dev)
# recording status, a classification of the body and the latency. Each fault gets its own entry
# of unit_dev (重大项目 of 温州市瓯江口开发建设投资集团有限公司, no report before), so "was the last
# save evaluated" is read from that entry's ItemFigures alone. Everything started here is stopped
# on exit (trap), whatever happens.
#
# It passes (exit 0) when no page ever shows a traceback or an English error, every probe is OK
# again after each restart, the last report saved in each phase is kept and evaluated (its
# ItemFigures hold its cumulative) and the outbox drains; a Redis outage or a killed worker must not
# show on any page or save at all (only /health/ may say so). A PostgreSQL outage shows the Chinese
# error page, which is the expected answer.
#
# Knobs: OUTAGE_SECONDS (20), RECOVERY_MAX (120: seconds to wait for every probe to be OK again),
# DRAIN_MAX (420: seconds to wait for the outbox to drain; beat drains every 5 minutes),
# WEB_CONCURRENCY (2), CELERY_CONCURRENCY (1), KEEP_LOGS=1 keeps the log folder.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUTAGE_SECONDS="${OUTAGE_SECONDS:-20}"
RECOVERY_MAX="${RECOVERY_MAX:-120}"
DRAIN_MAX="${DRAIN_MAX:-420}"
export WEB_CONCURRENCY="${WEB_CONCURRENCY:-2}" CELERY_CONCURRENCY="${CELERY_CONCURRENCY:-1}"
PY=.venv/bin/python
DRILL=$(mktemp -d /tmp/fault-drill.XXXXXX)
EVENTS=$DRILL/events.tsv SAMPLES=$DRILL/samples.jsonl CHECKS=$DRILL/checks.tsv
: >"$EVENTS"; : >"$CHECKS"
log() { echo "[$(date -u +%H:%M:%S)] $*"; }
event() { printf '%s\t%s\t%s\n' "$($PY -c 'import time; print(f"{time.time():.3f}")')" "$1" "$2" >>"$EVENTS"; log "$1: $2"; }

# ------------------------------------------------------------------ services and the app
source scripts/services.sh
start_services
SERVE_PID="" PROBE_PID="" HAND_WORKER_PID=""
cleanup() {
  set +e
  touch "$DRILL/stop"
  [ -n "$PROBE_PID" ] && { kill "$PROBE_PID" 2>/dev/null; wait "$PROBE_PID" 2>/dev/null; }
  stop_serve
  if [ -n "$HAND_WORKER_PID" ]; then kill -TERM "$HAND_WORKER_PID" 2>/dev/null; sleep 2; kill -9 -- "-$HAND_WORKER_PID" 2>/dev/null; fi
  stop_services
  if [ "${KEEP_LOGS:-1}" = 1 ]; then echo "logs: $DRILL"; else rm -rf "$DRILL"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pg_cmd() { as_pg "$PGBIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/log" "$@"; }
pg_start() {  # the options scripts/services.sh starts it with
  pg_cmd -w -o "-p $PGPORT -k $WORK/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
}
redis_start() {
  redis-server --port "$REDISPORT" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize yes --pidfile "$WORK/redis.pid" --logfile "$WORK/redis.log"
}
redis_stop() {  # SIGTERM and wait for the port to close (bounded)
  local pid; pid=$(cat "$WORK/redis.pid"); kill "$pid"
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  kill -9 "$pid" 2>/dev/null || true
}
sql() { "$PGBIN/psql" -X -q -h 127.0.0.1 -p "$PGPORT" -U postgres -d tracker -At -F $'\t' -c "$1"; }

export SECRET_KEY; SECRET_KEY=$($PY -c 'import secrets; print(secrets.token_urlsafe(60))')
export ALLOWED_HOSTS=127.0.0.1,localhost DEBUG=0 TRACKER_BEHIND_PROXY=1 DJANGO_SETTINGS_MODULE=config.settings
export HOST=127.0.0.1 PORT; PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"

log "migrate, aliases, plan, demo users"
$PY manage.py migrate --noinput -v0
$PY manage.py load_unit_aliases fixtures/unit_aliases.csv >"$DRILL/setup.log"
$PY manage.py import_plan fixtures/ojk_14th_plan.txt --plan ojk-14 >>"$DRILL/setup.log"
$PY manage.py create_demo_users --demo >>"$DRILL/setup.log"

SERVE_N=0
start_serve() {
  SERVE_N=$((SERVE_N + 1))
  setsid bash scripts/serve.sh >>"$DRILL/serve.$SERVE_N.log" 2>&1 &
  SERVE_PID=$!
}
stop_serve() {
  [ -n "$SERVE_PID" ] || return 0
  kill -TERM "$SERVE_PID" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.2; done
  kill -9 -- "-$SERVE_PID" 2>/dev/null  # its own process group (setsid): what serve.sh left behind
  wait "$SERVE_PID" 2>/dev/null
  SERVE_PID=""
}
wait_up() {  # the login page answers 200 (bounded)
  for _ in $(seq "$1"); do
    [ "$(curl -s -o /dev/null -m 3 -w '%{http_code}' -H 'X-Forwarded-Proto: https' "$BASE/accounts/login/")" = 200 ] && return 0
    sleep 1
  done
  return 1
}
worker_pid() {  # the Celery worker's main process in serve.sh's session (not a pool child), empty if none
  [ -n "$SERVE_PID" ] || return 0
  ps -o pid=,ppid=,args= -s "$SERVE_PID" | awk '/[c]elery -A config worker/ {w[$1] = $2}
    END {for (p in w) if (!(w[p] in w)) {print p; exit}}'
}

log "starting scripts/serve.sh on $BASE"
start_serve
wait_up 180 || { tail -30 "$DRILL/serve.1.log"; echo "serve.sh did not come up" >&2; exit 1; }
for _ in $(seq 30); do [ -n "$(worker_pid)" ] && break; sleep 1; done
log "serving; worker pid $(worker_pid)"

# Entries of unit_dev to report on: one per fault, none reported yet.
mapfile -t TARGETS < <(sql "SELECT i.id FROM projects_item i JOIN projects_itemunit l ON l.item_id = i.id
  JOIN projects_unit u ON u.id = l.unit_id JOIN projects_plan p ON p.id = i.plan_id
  WHERE p.code = 'ojk-14' AND u.name = '温州市瓯江口开发建设投资集团有限公司' AND i.list_kind = 'project'
    AND NOT EXISTS (SELECT 1 FROM reporting_statusreport r WHERE r.item_id = i.id)
  ORDER BY i.seq LIMIT 3")
[ "${#TARGETS[@]}" = 3 ] || { echo "fewer than 3 entries of unit_dev" >&2; exit 1; }
MONTH=$($PY -c 'import datetime, zoneinfo; d = datetime.datetime.now(zoneinfo.ZoneInfo("Asia/Shanghai")).date().replace(day=1) - datetime.timedelta(days=1); print(d.strftime("%Y-%m"))')

# ------------------------------------------------------------------ the probe
cat >"$DRILL/probe.py" <<'PYEOF'
"""Once a second: dev /, dev /my/, planner /, /health/?format=json, dev POST report. One JSON line
per request to SAMPLES. Stops on the stop file or after MAX_SECONDS."""
import http.cookies, json, os, re, sys, time, urllib.error, urllib.parse, urllib.request

BASE, DRILL, MAX_SECONDS = sys.argv[1], sys.argv[2], float(sys.argv[3])
PROXY = {"X-Forwarded-Proto": "https"}  # as the TLS proxy in front of serve.sh sends it
out = open(os.path.join(DRILL, "samples.jsonl"), "a", buffering=1)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


opener = urllib.request.build_opener(NoRedirect)


class Session:
    def __init__(self, user, password):
        self.user, self.password, self.cookies = user, password, {}

    def request(self, path, data=None, timeout=15):
        headers = dict(PROXY)
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            data = dict(data, csrfmiddlewaretoken=self.cookies.get("csrftoken", ""))
            body = urllib.parse.urlencode(data).encode()
            headers.update({"Content-Type": "application/x-www-form-urlencoded",
                            "Origin": "https://" + BASE.split("://", 1)[1], "Referer": "https://" + BASE.split("://", 1)[1] + path})
        req = urllib.request.Request(BASE + path, data=body, headers=headers)
        start = time.time()
        try:
            try:
                resp = opener.open(req, timeout=timeout)
            except urllib.error.HTTPError as e:  # 3xx (not followed), 4xx, 5xx
                resp = e
            status, text, location = resp.status, resp.read().decode("utf-8", "replace"), resp.headers.get("Location", "")
            for header in resp.headers.get_all("Set-Cookie") or []:
                cookie = http.cookies.SimpleCookie(header)
                for k, morsel in cookie.items():
                    self.cookies[k] = morsel.value
        except Exception as exc:  # refused, reset, timeout
            reason = getattr(exc, "reason", exc)
            kind = "TIMEOUT" if "timed out" in str(reason) else "CONN"
            return None, kind + ":" + type(reason).__name__, "", time.time() - start
        return status, text, location, time.time() - start

    def login(self):
        self.cookies = {}
        self.request("/accounts/login/")
        status, _, location, _ = self.request("/accounts/login/", {"username": self.user, "password": self.password})
        return status == 302


def classify(status, text, location):
    if status is None:
        return text  # CONN:… / TIMEOUT:…
    if "Traceback (most recent call last)" in text or "Exception Value" in text:
        return "TRACEBACK"
    if status in (301, 302):
        return "LOGIN" if "/accounts/login/" in location else "REDIRECT"
    if status >= 400:
        if re.search(r"[\u4e00-\u9fff]", text):
            return "ZH_ERROR"
        return "EN_ERROR"
    if "csrfmiddlewaretoken" in text and 'name="password"' in text:
        return "LOGIN"
    return "OK"


def record(probe, status, cls, latency, **extra):
    out.write(json.dumps({"t": round(time.time() - latency, 3), "probe": probe, "status": status, "class": cls,
                          "ms": round(latency * 1000), **extra}, ensure_ascii=False) + "\n")


dev, planner = Session("unit_dev", "unit-demo-2026"), Session("planner", "planner-demo-2026")
for s in (dev, planner):
    if not s.login():
        sys.exit(f"cannot log in as {s.user}")
target, version, seq = None, 0, 0
deadline = time.time() + MAX_SECONDS
while time.time() < deadline and not os.path.exists(os.path.join(DRILL, "stop")):
    cycle = time.time()
    for probe, session, path in (("dev /", dev, "/"), ("dev /my/", dev, "/my/"), ("planner /", planner, "/")):
        status, text, location, latency = session.request(path)
        cls = classify(status, text, location)
        record(probe, status, cls, latency)
        if cls == "LOGIN":
            session.login()
    status, text, location, latency = dev.request("/health/?format=json")
    try:
        failing = {k: v for k, v in json.loads(text).items() if v != "OK"}
    except Exception:
        failing = None
    cls = classify(status, text, location)
    if cls == "OK" and status != 200:
        cls = "FAIL"
    if status is not None and status >= 500 and failing:
        cls = "FAIL"  # the endpoint's own answer, naming the failing checks (not a page users see)
    record("/health/", status, cls, latency, failing=failing)
    try:
        now_target = open(os.path.join(DRILL, "target")).read().split()
    except OSError:
        now_target = None
    if now_target and now_target != target:
        target, version = now_target, 0
    if target:
        pk, month = target
        seq += 1
        cumulative = f"{1 + seq / 100:.2f}"
        data = {"month": month, "status": "in_progress", "progress_pct": "20", "month_investment": "",
                "cumulative_investment": cumulative, "progress_text": f"演练第 {seq} 次填报",
                "problems": "", "next_steps": "", "version": str(version)}
        status, text, location, latency = dev.request(f"/items/{pk}/report/", data)
        cls = classify(status, text, location)
        if cls == "REDIRECT" and f"/items/{pk}/" in location:
            cls, version = "OK", version + 1
        elif status == 200:
            match = re.search(r'name="version" value="(\d+)"', text)
            # the month changed since the form's version: a save we were not told of, or another's
            cls = "CONFLICT" if ("该月已有您填报的第" in text or "提交冲突" in text) else "FORM"
            if match:
                version = int(match.group(1))
        record("POST report", status, cls, latency, item=pk, cumulative=cumulative, version=version)
        if cls == "LOGIN":
            dev.login()
    time.sleep(max(0.0, 1.0 - (time.time() - cycle)))
PYEOF

$PY "$DRILL/probe.py" "$BASE" "$DRILL" 1500 2>"$DRILL/probe.err" &
PROBE_PID=$!

all_ok_for() {  # every probe has at least $1 samples started after time $2, and its last $1 are OK
  $PY - "$SAMPLES" "$1" "$2" <<'PYEOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
n, since = int(sys.argv[2]), float(sys.argv[3])
by = {}
for r in rows:
    if r["t"] > since:
        by.setdefault(r["probe"], []).append(r["class"])
ok = len(by) >= 4 and all(len(v) >= n and all(c == "OK" for c in v[-n:]) for v in by.values())
sys.exit(0 if ok else 1)
PYEOF
}
wait_recovered() {  # until the last 3 samples of every probe since now are OK, at most RECOVERY_MAX seconds
  local start=$SECONDS since; since=$($PY -c 'import time; print(time.time())')
  while [ $((SECONDS - start)) -lt "$RECOVERY_MAX" ]; do
    all_ok_for 3 "$since" && return 0
    sleep 1
  done
  return 1
}
check_entry() {  # phase: PendingWork rows, the entry's saved report and its figures
  local phase=$1 item=$2 start=$SECONDS pending=""
  while [ $((SECONDS - start)) -lt "$DRAIN_MAX" ]; do
    pending=$(sql "SELECT count(*) FROM projects_pendingwork" 2>/dev/null || echo "?")
    [ "$pending" = 0 ] && break
    sleep 5
  done
  local drained_s=$((SECONDS - start))
  local report figures
  report=$(sql "SELECT version, cumulative_investment FROM reporting_statusreport WHERE item_id = $item AND month = '$MONTH-01'" | tr '\t' ' ')
  figures=$(sql "SELECT last_month, cumulative, light FROM portfolio_itemfigures WHERE item_id = $item" | tr '\t' ' ')
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$phase" "$item" "$pending" "$drained_s" "${report:-none}" "${figures:-none}" >>"$CHECKS"
  log "$phase: outbox rows $pending (after ${drained_s}s); report [$report]; figures [$figures]"
}
begin_phase() {  # the probe reports on the phase's entry from now on
  echo "$2 $MONTH" >"$DRILL/target"
  event "$1" begin
  sleep 6
}

sleep 3
event baseline begin
sleep 8
wait_recovered || log "baseline not all OK"
event baseline end

# ------------------------------------------------------------------ 1. PostgreSQL
begin_phase postgresql "${TARGETS[0]}"
event postgresql stop
pg_cmd -m fast stop >/dev/null
sleep "$OUTAGE_SECONDS"
event postgresql start
pg_start
wait_recovered && event postgresql recovered || event postgresql not-recovered
check_entry postgresql "${TARGETS[0]}"
event postgresql end

# ------------------------------------------------------------------ 2. Redis
begin_phase redis "${TARGETS[1]}"
event redis stop
redis_stop
sleep "$OUTAGE_SECONDS"
event redis start
redis_start
wait_recovered && event redis recovered || event redis not-recovered
check_entry redis "${TARGETS[1]}"
event redis end

# ------------------------------------------------------------------ 3. the Celery worker
begin_phase worker "${TARGETS[2]}"
WPID=$(worker_pid)
WCHILDREN=$(ps -o pid= --ppid "$WPID" | tr '\n' ' ')
event worker "stop (kill -9 worker $WPID and pool $WCHILDREN)"
# Not its process group: serve.sh starts everything without job control, so the worker's group is
# serve.sh's own (gunicorn and beat too).
kill -9 "$WPID" $WCHILDREN
STOP_AT=$SECONDS
sleep 3
NEW_WPID=""
for _ in $(seq 15); do  # does serve.sh restart it?
  kill -0 "$SERVE_PID" 2>/dev/null || break
  NEW_WPID=$(worker_pid); [ -n "$NEW_WPID" ] && [ "$NEW_WPID" != "$WPID" ] && break; NEW_WPID=""; sleep 1
done
if [ -n "$NEW_WPID" ]; then
  event worker "start (serve.sh restarted the worker: pid $NEW_WPID)"
elif kill -0 "$SERVE_PID" 2>/dev/null; then
  event worker "serve.sh still running, worker not restarted by it"
  sleep $((OUTAGE_SECONDS - (SECONDS - STOP_AT) > 0 ? OUTAGE_SECONDS - (SECONDS - STOP_AT) : 0))
  event worker start
  setsid .venv/bin/celery -A config worker --loglevel=warning --concurrency="$CELERY_CONCURRENCY" \
     >>"$DRILL/worker-by-hand.log" 2>&1 &
  HAND_WORKER_PID=$!
else
  SERVE_RC=0; wait "$SERVE_PID" 2>/dev/null || SERVE_RC=$?
  event worker "serve.sh exited (status $SERVE_RC): gunicorn and beat stopped with the worker"
  SERVE_PID=""
  sleep $((OUTAGE_SECONDS - (SECONDS - STOP_AT) > 0 ? OUTAGE_SECONDS - (SECONDS - STOP_AT) : 0))
  event worker "start (serve.sh started again, as a supervisor would)"
  start_serve
fi
wait_recovered && event worker recovered || event worker not-recovered
[ -n "$HAND_WORKER_PID" ] || for _ in $(seq 30); do [ -n "$(worker_pid)" ] && break; sleep 1; done
check_entry worker "${TARGETS[2]}"
event worker end

touch "$DRILL/stop"; wait "$PROBE_PID" 2>/dev/null || true; PROBE_PID=""

# ------------------------------------------------------------------ summary
grep -c "Traceback" "$DRILL"/serve.*.log | sed 's/^/server-side tracebacks logged: /' || true
$PY - "$EVENTS" "$SAMPLES" "$CHECKS" <<'PYEOF'
import collections, json, sys
from decimal import Decimal
events = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
rows = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
checks = {l.split("\t")[0]: l.rstrip("\n").split("\t") for l in open(sys.argv[3]) if l.strip()}
at = collections.defaultdict(dict)
for t, phase, what in events:
    at[phase][what.split(" ")[0]] = float(t)

def window(a, b):
    return [r for r in rows if a <= r["t"] < b]

def seen(rs):
    out = collections.defaultdict(collections.Counter)
    for r in rs:
        label = f'{r["status"] or "-"} {r["class"]}'
        if r["probe"] == "/health/" and r.get("failing"):
            label += " " + ",".join(sorted(k.split("(")[0] for k in r["failing"]))
        out[r["probe"]][label] += 1
    return "; ".join(f"{p}: " + ", ".join(f"{k} ×{n}" for k, n in c.most_common()) for p, c in sorted(out.items()))

print("\n================ fault drill summary ================")
print("recovery = seconds from the restart until the first probe cycle after which every probe stays OK")
table, problems = [], []
for r in rows:
    if r["class"] in ("TRACEBACK", "EN_ERROR"):
        problems.append(f'{r["probe"]} answered {r["status"]} {r["class"]} (a page no user may see)')
def brief(rs, probes):
    c = collections.Counter(f'{r["status"] or "-"} {r["class"]}'
                            + (" " + "+".join(sorted(k.split("(")[0] for k in r["failing"])) if r.get("failing") else "")
                            for r in rs if r["probe"] in probes)
    return ", ".join(f"{k}×{n}" for k, n in c.most_common()) or "-"
PAGES = ("dev /", "dev /my/", "planner /")
for phase in ("baseline", "postgresql", "redis", "worker"):
    e = at[phase]
    if phase == "baseline":
        print(f"\n[baseline] {seen(window(e['begin'], e['end']))}")
        continue
    stop, start, end = e["stop"], e["start"], e["end"]
    during, after = window(stop, start), window(start, end)
    bad = [r for r in after if r["class"] != "OK"]
    last_bad = max((r["t"] for r in bad), default=None)
    later_ok = [r["t"] for r in after if last_bad is None or r["t"] > last_bad]
    recovery = (min(later_ok) - start) if later_ok else None
    posts = [r for r in window(e["begin"], end) if r["probe"] == "POST report"]
    saved = [r for r in posts if r["class"] == "OK"]
    before = [r for r in saved if r["t"] < stop]
    in_out = [r for r in saved if stop <= r["t"] < start]
    worst = max((r["ms"] for r in during), default=0)
    print(f"\n[{phase}] outage {start - stop:.0f} s")
    print(f"  users saw during the outage: {seen(during)}")
    print(f"  worst latency during the outage: {worst} ms")
    print(f"  after the restart until recovered: {seen([r for r in after if last_bad is None or r['t'] <= last_bad])}")
    print(f"  recovery: {'NOT RECOVERED' if recovery is None else f'{recovery:.1f} s'}")
    print(f"  saves: {len(before)} before the outage, {len(in_out)} during it, {len(saved)} in the phase;"
          f" last saved cumulative {saved[-1]['cumulative'] if saved else '-'}")
    if recovery is None:
        problems.append(f"{phase}: not recovered within the wait")
    if phase in ("redis", "worker"):  # neither may show on a page or lose a save (issue 22, item 3)
        for r in window(stop, end):
            if r["probe"] != "/health/" and r["class"] != "OK":
                problems.append(f'{phase}: {r["probe"]} answered {r["status"] or "-"} {r["class"]}')
    c = checks.get(phase)
    row = [phase, f"{start - stop:.0f}", brief(during, PAGES), brief(during, ("POST report",)),
           brief(during, ("/health/",)), f"{max((r['ms'] for r in during if r['probe'] in PAGES), default=0)}",
           "NOT RECOVERED" if recovery is None else f"{recovery:.1f}", c[2] if c else "?", "?"]
    table.append(row)
    if c:
        print(f"  outbox rows left: {c[2]} (waited {c[3]} s); report (version, cumulative): {c[4]};"
              f" ItemFigures (last_month, cumulative, light): {c[5]}")
        if saved:
            same = lambda a, b: Decimal(a) == Decimal(b)
            rep = c[4] != "none" and same(c[4].split(" ")[1], saved[-1]["cumulative"])
            ok = c[5] != "none" and same(c[5].split(" ")[1], saved[-1]["cumulative"])
            print(f"  last save kept: {'yes' if rep else 'NO'}; evaluated (figures = last saved cumulative): {'yes' if ok else 'NO'}")
            row[-1] = f"{'yes' if rep else 'NO'}/{'yes' if ok else 'NO'}"
            if not (rep and ok):
                problems.append(f"{phase}: the last save was {'kept' if rep else 'LOST'} and {'evaluated' if ok else 'NOT evaluated'}")
        if c[2] != "0":
            problems.append(f"{phase}: {c[2]} outbox rows left after {c[3]} s")

head = ["fault", "outage s", "pages (dev /, dev /my/, planner /) during outage", "POST report during outage",
        "/health/ during outage", "max page ms", "recovery s", "outbox left", "last save kept/evaluated"]
print("\n" + " | ".join(head))
print(" | ".join("---" for _ in head))
for row in table:
    print(" | ".join(row))
for problem in dict.fromkeys(problems):
    print("PROBLEM:", problem)
print("\nRESULT:", "FAIL" if problems else "PASS")
sys.exit(1 if problems else 0)
PYEOF
