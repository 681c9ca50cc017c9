#!/usr/bin/env bash
# Province-scale benchmark on a throwaway PostgreSQL: bash bench/run.sh [ENTRIES ...]
# (default 20000 200000). Prints one table and writes bench/results.json.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
ensure_packages wrk curl
start_services "-c shared_buffers=2GB -c work_mem=64MB -c maintenance_work_mem=512MB -c effective_cache_size=8GB -c max_wal_size=8GB -c checkpoint_timeout=30min"
export DEBUG=0 TRACKER_SSL_REDIRECT=0 SECRET_KEY="bench-only-secret" ALLOWED_HOSTS="testserver,127.0.0.1,localhost"
.venv/bin/python manage.py migrate -v0
.venv/bin/python bench/bench.py "$@"
