#!/usr/bin/env bash
# Client weight, side by side: the bytes each RUM script makes a page load,
# raw, gzip -9 and brotli -q 11, measured in this run:
#   - palaute: the loader, the module's JavaScript (with the wasm-bindgen
#     glue) and the wasm, as built by scripts/build-client.sh (all three load
#     on every page view), and with the module's second part, the prompt's
#     interface (loaded only on a view where the prompt asks);
#   - web-vitals (npm): the metrics-only build and the attribution build;
#   - Boomerang (npm boomerangjs): boomerang.js with the plugins that give the
#     same data (vitals, navigation and resource timing, paint, events,
#     connection and device, errors), minified by esbuild.
# Writes the table into BENCHMARKS.md between the size-table markers, and
# where the module's code goes (by crate, largest functions; from the same
# build with its names kept) between the module-table markers.
#   scripts/bench-size.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d www/dist/m ] || scripts/build-client.sh
work=target/bench/size
rm -rf "$work" && mkdir -p "$work"

# Boomerang "built": the core and its plugins concatenated and minified.
boomerang=node_modules/boomerangjs
plugins=(rt navtiming restiming painttiming eventtiming continuity mobile memory errors)
{
  cat "$boomerang/boomerang.js"
  for plugin in "${plugins[@]}"; do cat "$boomerang/plugins/$plugin.js"; done
} > "$work/boomerang.cjs"
npx --no-install esbuild "$work/boomerang.cjs" --minify --format=iife --log-level=error --outfile="$work/boomerang.min.js"

sizes() { # files... → "raw gzip brotli" of them together, each compressed alone
  local raw=0 gz=0 br=0
  for f in "$@"; do
    raw=$((raw + $(wc -c < "$f")))
    gz=$((gz + $(gzip -9 -c "$f" | wc -c)))
    br=$((br + $(brotli -q 11 -c "$f" | wc -c)))
  done
  echo "$raw $gz $br"
}
row() { # label files...
  local label=$1; shift
  read -r raw gz br < <(sizes "$@")
  printf '| %s | %d | %s | %s | %s |\n' "$label" "$#" "$raw" "$gz" "$br"
}

table=$(
  echo "| script | files | raw bytes | gzip bytes | brotli bytes |"
  echo "|---|---:|---:|---:|---:|"
  row "palaute: a view without the prompt (loader + module JS + wasm)" www/dist/palaute.js www/dist/m/palaute.*.js www/dist/m/palaute_bg.*.wasm
  row "palaute: a view with the prompt (the same + the prompt's part)" www/dist/palaute.js www/dist/m/palaute.*.js www/dist/m/palaute_bg.*.wasm www/dist/m/palaute_part.*.wasm
  row "palaute: loader only (before the page's \`load\`)" www/dist/palaute.js
  row "web-vitals $(node -p "require('./node_modules/web-vitals/package.json').version") (metrics only)" node_modules/web-vitals/dist/web-vitals.iife.js
  row "web-vitals (with attribution)" node_modules/web-vitals/dist/web-vitals.attribution.iife.js
  row "Boomerang $(node -p "require('./$boomerang/package.json').version") + ${#plugins[@]} plugins, minified" "$work/boomerang.min.js"
)
echo "$table"
{
  echo "Measured $(date -u +%Y-%m-%d) by \`scripts/bench-size.sh\`; each file compressed on its own, as served."
  echo
  echo "$table"
} | scripts/put-table.py size-table

# Where the module's code goes: the same build with its names kept
# (target/client/palaute_named.wasm, made by scripts/build-client.sh).
[ -f target/client/palaute_named.wasm ] || scripts/build-client.sh >/dev/null
{
  echo "Measured $(date -u +%Y-%m-%d) by \`scripts/bench-size.sh\` (\`scripts/wasm-sizes.py\` on the release module with its names kept, so a few functions stay apart and the total is a little above the shipped module's): code bytes before compression."
  echo
  python3 scripts/wasm-sizes.py target/client/palaute_named.wasm 15
} | tee /dev/stderr | scripts/put-table.py module-table
