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
rm -rf "$tmp"
