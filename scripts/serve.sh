#!/usr/bin/env bash
# Production start: gunicorn (WEB_CONCURRENCY workers, default 3) serving the app with WhiteNoise
# for static files, a Celery worker and a separate Celery beat, on PostgreSQL (DATABASE_URL) and
# Redis (CELERY_BROKER_URL, CACHE_URL). Refuses to start with DEBUG on or without a real secret.
#
#   DATABASE_URL=postgres://… CELERY_BROKER_URL=redis://…/0 CACHE_URL=redis://…/1 \
#   SECRET_KEY=… ALLOWED_HOSTS=tracker.example.cn bash scripts/serve.sh
#
# Binds 127.0.0.1:8000 for a reverse proxy in front (HOST, PORT to change). Behind a proxy that
# terminates TLS, set TRACKER_BEHIND_PROXY=1. Stops everything on Ctrl+C or SIGTERM, or when
# gunicorn ends; the worker and beat are restarted when they exit (tests/fault_drill.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "serve.sh: $*" >&2; exit 1; }
case "${DEBUG:-0}" in 0|false|False|no|"") ;; *) fail "DEBUG 必须关闭（DEBUG=0）才能在生产环境启动";; esac
case "${TRACKER_LOCAL_HTTP:-0}" in 0|false|False|no|"") ;; *) fail "TRACKER_LOCAL_HTTP 只用于本机运行（scripts/run.sh），生产环境请去掉";; esac
[ -n "${SECRET_KEY:-}" ] || fail "请设置 SECRET_KEY（至少 50 个随机字符）"
[ "${SECRET_KEY}" != "dev-only-insecure-key-do-not-use-in-production" ] || fail "SECRET_KEY 不能使用开发默认值"
[ "${#SECRET_KEY}" -ge 50 ] || fail "SECRET_KEY 太短（至少 50 个字符）"
[ -n "${DATABASE_URL:-}" ] || fail "请设置 DATABASE_URL（PostgreSQL）"
[ -n "${CELERY_BROKER_URL:-}" ] || fail "请设置 CELERY_BROKER_URL（Redis）"
[ -n "${ALLOWED_HOSTS:-}" ] || fail "请设置 ALLOWED_HOSTS（逗号分隔的域名）"

export DEBUG=0 TRACKER_COLLECTED_STATIC=1 DJANGO_SETTINGS_MODULE=config.settings
scripts/bootstrap.sh
PY=.venv/bin/python
$PY manage.py check --deploy
$PY manage.py migrate --noinput -v0
$PY manage.py collectstatic --noinput -v0

PIDS=()
stop() { kill "${PIDS[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap stop EXIT INT TERM

# The worker and beat are started again 5 s after they exit: a killed or crashed worker must not
# take the site down with it (gunicorn restarts its own workers; serve.sh ends when gunicorn ends).
keep_running() {  # keep_running NAME COMMAND...
  local name=$1 child="" status; shift
  trap '[ -z "$child" ] || kill "$child" 2>/dev/null; wait 2>/dev/null; exit 0' INT TERM
  while true; do
    "$@" &
    child=$!
    status=0; wait "$child" || status=$?
    child=""
    echo "serve.sh: ${name} 已退出（状态 ${status}），5 秒后重新启动" >&2
    sleep 5 & wait $! || true
  done
}
keep_running "Celery worker" .venv/bin/celery -A config worker --loglevel=warning --concurrency="${CELERY_CONCURRENCY:-2}" &
PIDS+=($!)
keep_running "Celery beat" .venv/bin/celery -A config beat --loglevel=warning &  # schedules in the database (django-celery-beat)
PIDS+=($!)
.venv/bin/gunicorn config.wsgi --workers "${WEB_CONCURRENCY:-3}" --bind "${HOST:-127.0.0.1}:${PORT:-8000}" \
  --access-logfile - --log-level warning &
PIDS+=($!)
echo "六重清单推进系统（生产模式）：${HOST:-127.0.0.1}:${PORT:-8000}，gunicorn ${WEB_CONCURRENCY:-3} 个进程，Celery worker 与 beat 已启动"
wait -n
