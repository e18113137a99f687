#!/usr/bin/env bash
# The client's weight budgets: what palaute makes a page load, brotli -q 11
# as served, each file compressed on its own:
#   - a page view that never shows the prompt (the loader, the module's
#     generated glue and its wasm): at most BUDGET bytes (30,000; goal 29,000);
#   - a page view that shows it (the same, plus the module's second part,
#     the prompt's interface, fetched when the prompt is to ask): at most
#     BUDGET_PROMPT bytes. Issue #35 asks for 34,500 (the one budget of the
#     client before the split), which is not met yet: the split costs about
#     1.4 KB on such a view (the two files compressed apart, the part's
#     imports and the rest's exports; BENCHMARKS.md). Until it is, CI holds
#     the view with the prompt near what it weighs now (35,300; 35,161 on
#     2026-12-06), so that it cannot grow.
# Fails with the numbers when either is over. Run by .ci/run after the
# tests; builds the client if needed.
#   scripts/check-size.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUDGET=${BUDGET:-30000}
BUDGET_PROMPT=${BUDGET_PROMPT:-35300}
[ -d www/dist/m ] || scripts/build-client.sh >/dev/null
brotli_bytes() { brotli -q 11 -c "$1" | wc -c; }
base=0
for f in www/dist/palaute.js www/dist/m/palaute.*.js www/dist/m/palaute_bg.*.wasm; do
  bytes=$(brotli_bytes "$f")
  printf '  %-34s %6d B brotli\n' "${f#www/dist/}" "$bytes"
  base=$((base + bytes))
done
part=0
for f in www/dist/m/palaute_part.*.wasm; do
  [ -f "$f" ] || { echo "size check FAILED: no second part (www/dist/m/palaute_part.*.wasm)" >&2; exit 1; }
  part=$(brotli_bytes "$f")
  printf '  %-34s %6d B brotli (only when the prompt asks)\n' "${f#www/dist/}" "$part"
done
failed=0
check() { # label total budget
  if [ "$2" -gt "$3" ]; then
    echo "size check FAILED: $1 loads $2 B brotli, over its budget of $3 B" >&2
    failed=1
  else
    echo "size check: $1 loads $2 B brotli, within its budget of $3 B ($(($3 - $2)) B to spare)"
  fi
}
check "a page view without the prompt" "$base" "$BUDGET"
check "a page view with the prompt" "$((base + part))" "$BUDGET_PROMPT"
exit "$failed"
