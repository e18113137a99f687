#!/usr/bin/env bash
# Query benchmark: the analyst API over N generated page views (default 10
# million over 30 days, rolled up) in the embedded store. Each query runs
# RUNS times (default 20) through HTTP; the median and p90 are printed. The
# baseline, measured in the same run on the same database: SQLite itself
# counting and averaging the period's raw rows (what any answer without
# rollups must at least read), and the API answering a selection that
# rollups cannot (two filters), from raw rows.
#
#   scripts/bench-queries.sh [views] [runs]
# The generated store is kept in target/bench/ and reused by later runs.
set -euo pipefail
cd "$(dirname "$0")/.."
views=${1:-10000000}
runs=${2:-20}
command -v curl >/dev/null || { sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo; $sudo apt-get update -qq; $sudo apt-get install -y -qq curl >/dev/null; }
cargo build -q --release -p palaute-collector
bin=target/release/palaute-collector
data=target/bench/queries-$views
port=18093

if [ ! -f "$data/generated" ]; then
  rm -rf "$data"
  echo "generating $views page views over 30 days into $data (once)"
  "$bin" --data "$data" generate --site bench --views "$views" --days 30 | tee "$data.log"
  touch "$data/generated"
fi
"$bin" --data "$data" rollup
token=$("$bin" --data "$data" site add bench --origin https://bench.example | tail -n 1)
RUST_LOG=warn "$bin" --data "$data" serve --listen 127.0.0.1:$port > "$data.serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.1; done

time_query() { # path runs → sorted times in ms
  for _ in $(seq "$2"); do
    curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/sites/bench/$1"
  done | awk '{ printf "%.1f\n", $1 * 1000 }' | sort -n
}
stats() { # sorted values → "median p90"
  awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; p = v[int(NR * 0.9 + 0.999)]; printf "%.1f %.1f\n", m, p }'
}

rows=$(python3 -c "import sqlite3; print(sqlite3.connect('$data/palaute.db').execute('select count(*) from pageviews').fetchone()[0])")
echo
echo "analyst API over $rows page views (30 days, embedded store), $runs runs each ($(nproc) cores)"
printf '| %-62s | %10s | %10s |\n' query "median ms" "p90 ms"
printf '|%s|%s|%s|\n' "$(printf -- '-%.0s' $(seq 64))" "-----------:" "-----------:"
for query in "summary?from=30d" "breakdown?by=path&from=30d" "timeseries?metric=lcp&interval=day&from=30d" \
             "abandonment?from=30d" "breakdown?by=device&from=30d" "breakdown?by=hour_of_day&from=30d" \
             "summary?from=30d&path=/checkout"; do
  read -r median p90 < <(time_query "$query" "$runs" | stats)
  printf '| %-62s | %10s | %10s |\n' "\`$query\`" "$median" "$p90"
  [ "$query" = "summary?from=30d" ] && summary_median=$median
  [ "$query" = "breakdown?by=path&from=30d" ] && path_median=$median
done

# Baselines (3 runs each: they take seconds).
since=$(( $(date +%s) * 1000 - 30 * 86400000 ))
raw_sql=$(for _ in 1 2 3; do python3 - "$data/palaute.db" "$since" <<'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
started = time.perf_counter()
db.execute("SELECT count(*), avg(lcp_ms) FROM pageviews WHERE site = 'bench' AND started_at >= ?", (int(sys.argv[2]),)).fetchone()
print(f"{(time.perf_counter() - started) * 1000:.1f}")
PY
done | sort -n | stats)
read -r raw_sql_median _ <<< "$raw_sql"
read -r raw_api_median _ < <(time_query "summary?from=30d&path=/checkout&device=mobile" 3 | stats)
printf '| %-62s | %10s | %10s |\n' "baseline: SQLite \`count(*), avg(lcp_ms)\` over the 30 days' rows" "$raw_sql_median" "(3 runs)"
printf '| %-62s | %10s | %10s |\n' "baseline: \`summary?from=30d&path=/checkout&device=mobile\` (raw rows)" "$raw_api_median" "(3 runs)"
echo
awk -v s="$summary_median" -v p="$path_median" -v b="$raw_sql_median" 'BEGIN {
  printf "30-day summary: %.0fx faster than SQLite counting the raw rows; path breakdown: %.0fx\n", b / s, b / p }'
echo "rollup hours read: $(curl -s http://127.0.0.1:$port/metrics | awk '/^palaute_query_rollup_hours_total/ {print $2}'), raw rows read: $(curl -s http://127.0.0.1:$port/metrics | awk '/^palaute_query_raw_rows_total/ {print $2}')"
echo "collector RSS: $(( $(awk '/VmHWM/ {print $2}' /proc/$pid/status) / 1024 )) MB"
