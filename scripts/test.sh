#!/usr/bin/env bash
# Runs the whole test suite against throwaway PostgreSQL and Redis servers that this
# script installs (if missing), starts on free loopback ports, and stops afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh

# Chromium for the browser tests, CJK glyphs for their screenshots.
ensure_packages chromium fonts-wqy-zenhei
start_services
export SECRET_KEY="test-only-secret"
# The suite talks plain HTTP to the test client; the production settings are checked on their own.
export TRACKER_SSL_REDIRECT=0
export CHROMIUM_PATH=/usr/bin/chromium

set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
exit $status
