#!/usr/bin/env bash
# Runs the tracker on the embedded default (SQLite + kombu filesystem broker, no servers):
# installs, migrates, loads the real 瓯江口 lists, creates demo users, evaluates flags,
# then starts the web server and a Celery worker with embedded beat.
#
# As in production: DEBUG off (Chinese error pages, never a traceback), static files collected and
# served by WhiteNoise, a secret key of this machine (var/secret_key). Plain HTTP on this machine
# (TRACKER_LOCAL_HTTP=1: no HTTPS redirect, cookies without the Secure flag). The demo users are
# created because this script asks for them (TRACKER_DEMO_USERS=0 to leave them out).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh

export DEBUG="${DEBUG:-0}"
export TRACKER_LOCAL_HTTP=1 TRACKER_COLLECTED_STATIC=1
export DJANGO_SETTINGS_MODULE=config.settings
PORT="${PORT:-8000}"
# Only this machine can reach the server; HOST=0.0.0.0 (and ALLOWED_HOSTS=this machine's name) to share it.
HOST="${HOST:-127.0.0.1}"
export ALLOWED_HOSTS="${ALLOWED_HOSTS:-localhost,127.0.0.1,[::1],$HOST}"
VAR="${TRACKER_VAR_DIR:-var}"
mkdir -p "$VAR"
if [ -z "${SECRET_KEY:-}" ]; then
  [ -s "$VAR/secret_key" ] || (umask 077; .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))' > "$VAR/secret_key")
  SECRET_KEY="$(cat "$VAR/secret_key")"
  export SECRET_KEY
fi
PY=.venv/bin/python

$PY manage.py migrate --noinput -v0
$PY manage.py collectstatic --noinput -v0
$PY manage.py load_unit_aliases fixtures/unit_aliases.csv
# The organisations that own the five plans (浙江省 › 台州市 › 临海市 › 临海经济开发区 …).
$PY manage.py load_organisations fixtures/organisations.csv
$PY manage.py import_plan fixtures/ojk_14th_plan.txt --plan ojk-14 --org ojk
# The indicator tables (指标体系) of all five plans; 004's attach to the plan import_plan made.
for seed in 000_linhai_kfq_14th:lhkfq-14:linhai-kfq 001_taizhouwan_jkq_14th:tzwjkq-14:tzw-jkq \
            002_linhai_city_14th:linhai-14:linhai 003_taizhouwan_kechuang:tzwkc-22:tzw-kc 004_oujiangkou_14th:ojk-14:ojk; do
  IFS=: read -r file plan org <<< "$seed"
  $PY manage.py import_indicators "fixtures/plans/$file.txt" --plan "$plan" --org "$org"
done
# The 十四五 period ended on 2025-12-31: with no 十五五 list imported yet, the demo shows it closed
# with its 后评估. Import a 十五五 list with:
#   /plans/import/ in the browser, or .venv/bin/python manage.py import_plan FILE --plan ojk-15 --predecessor ojk-14 --org ojk
$PY manage.py close_plan --plan ojk-14 --as-of 2025-12-31 --unless-succeeded
$PY manage.py evaluate_flags --no-notify
if [ "${TRACKER_DEMO_USERS:-1}" != 0 ]; then
  echo "演示用户（仅供本地运行）："
  $PY manage.py create_demo_users --demo
fi

.venv/bin/celery -A config worker --beat --loglevel=warning --concurrency=1 \
  --schedule "$($PY -c 'from django.conf import settings; import django; django.setup(); print(settings.VAR_DIR)')/celerybeat-schedule" &
WORKER=$!
trap 'kill $WORKER 2>/dev/null || true' EXIT INT TERM

echo
echo "六重清单推进系统：http://$HOST:$PORT/  （Celery worker + beat 已在后台运行，Ctrl+C 结束）"
echo "“十四五”规划已按 2025-12-31 收官，后评估见 http://$HOST:$PORT/plans/ ；导入“十五五”清单："
echo "  规划人员登录后在 http://$HOST:$PORT/plans/import/ 上传（先预览，确认后写入）；或命令行："
echo "  .venv/bin/python manage.py import_plan 清单文件 --plan ojk-15 --predecessor ojk-14 --org ojk"
$PY manage.py runserver "$HOST:$PORT" --noreload
