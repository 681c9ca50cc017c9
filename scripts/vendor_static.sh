#!/usr/bin/env bash
# Refreshes static/vendor from the npm registry (pages must work offline, so the
# built files are committed and served by the app, never loaded from a CDN).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
cp "$here/static/vendor/package.json" "$tmp/"
(cd "$tmp" && npm install --no-audit --no-fund >/dev/null)
cp "$tmp"/node_modules/bootstrap/dist/css/bootstrap.min.css "$tmp"/node_modules/bootstrap/dist/js/bootstrap.bundle.min.js "$here/static/vendor/bootstrap/"
cp "$tmp"/node_modules/echarts/dist/echarts.min.js "$here/static/vendor/echarts/"
# The source maps are not shipped: drop the comments that point to them (collectstatic checks
# every reference a file makes).
sed -i '/sourceMappingURL=/d' "$here"/static/vendor/bootstrap/bootstrap.min.css "$here"/static/vendor/bootstrap/bootstrap.bundle.min.js
rm -rf "$tmp"
# The tests' axe-core (tests/vendor/package.json pins it; loaded only into pages under test).
tmp=$(mktemp -d)
cp "$here/tests/vendor/package.json" "$tmp/"
(cd "$tmp" && npm install --no-audit --no-fund >/dev/null)
cp "$tmp"/node_modules/axe-core/axe.min.js "$tmp"/node_modules/axe-core/LICENSE "$here/tests/vendor/axe-core/"
rm -rf "$tmp"
