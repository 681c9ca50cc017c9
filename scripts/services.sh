# Sourced by scripts/test.sh and bench/run.sh: installs missing Debian packages, creates the
# virtualenv, and starts throwaway PostgreSQL 15 and Redis servers on free loopback ports
# (stopped and removed on exit). Exports DATABASE_URL, CELERY_BROKER_URL and friends.

ensure_packages() {
  local need=()
  command -v redis-server >/dev/null || need+=(redis-server)
  if ! command -v initdb >/dev/null && [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then need+=(postgresql-15); fi
  need+=("$@")
  local missing=()
  for pkg in "${need[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]} ..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  scripts/bootstrap.sh
}

start_services() {
  local pg_extra="${1:-}"
  PGBIN=$(dirname "$(readlink -f "$(command -v initdb || echo /usr/lib/postgresql/15/bin/initdb)")")
  free_port() { .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
  PGPORT=$(free_port)
  REDISPORT=$(free_port)
  WORK=$(mktemp -d /tmp/tracker-services.XXXXXX)
  chmod 755 "$WORK"
  # PostgreSQL refuses to run as root: run it as the postgres user when we are root.
  as_pg() { if [ "$(id -u)" = 0 ]; then id postgres >/dev/null 2>&1 || useradd -r -M postgres; runuser -u postgres -- "$@"; else "$@"; fi; }
  mkdir -p "$WORK/pg"; [ "$(id -u)" = 0 ] && chown postgres "$WORK/pg"
  trap stop_services EXIT
  as_pg "$PGBIN/initdb" -D "$WORK/pg/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  as_pg "$PGBIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/log" -w \
    -o "-p $PGPORT -k $WORK/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 $pg_extra" start >/dev/null
  "$PGBIN/psql" -q -h 127.0.0.1 -p "$PGPORT" -U postgres -c "CREATE DATABASE tracker" >/dev/null
  redis-server --port "$REDISPORT" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize yes --pidfile "$WORK/redis.pid" --logfile "$WORK/redis.log"
  export DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/tracker"
  export CELERY_BROKER_URL="redis://127.0.0.1:$REDISPORT/0"
  export TEST_REDIS_URL="$CELERY_BROKER_URL"
  export CACHE_URL="redis://127.0.0.1:$REDISPORT/1"
  export SECRET_KEY="${SECRET_KEY:-throwaway-services-secret}"
  export TRACKER_VAR_DIR="$WORK/var"
  echo "PostgreSQL on :$PGPORT, Redis on :$REDISPORT"
}

stop_services() {
  as_pg "$PGBIN/pg_ctl" -D "$WORK/pg/data" -m immediate stop >/dev/null 2>&1 || true
  [ -f "$WORK/redis.pid" ] && kill "$(cat "$WORK/redis.pid")" 2>/dev/null || true
  rm -rf "$WORK"
}
