#!/usr/bin/env bash
# Builds the analyst dashboard into www/dist/dashboard/: index.html, app.js
# (the dashboard and uPlot from npm, bundled and minified by esbuild) and
# app.css (with uPlot's stylesheet), plus .br and .gz beside each.
set -euo pipefail
cd "$(dirname "$0")/.."
out=www/dist/dashboard
rm -rf "$out"
mkdir -p "$out"
npx --no-install esbuild www/dashboard/src/main.js --bundle --minify --format=esm --target=es2020 \
  --log-level=warning --outfile="$out/app.js"
npx --no-install esbuild www/dashboard/dashboard.css --bundle --minify --log-level=warning --outfile="$out/app.css"
cp www/dashboard/index.html "$out/index.html"
for f in "$out"/*; do
  brotli -f -q 11 -k "$f"
  gzip -f -9 -k "$f"
done
printf 'dashboard build in %s: app.js %d B (brotli %d B), app.css %d B\n' "$out" \
  "$(wc -c < "$out/app.js")" "$(wc -c < "$out/app.js.br")" "$(wc -c < "$out/app.css")"
