#!/usr/bin/env bash
# Query benchmark: the analyst API over N generated page views (default 10
# million over 30 days) in each store: the embedded store and ClickHouse (a
# real clickhouse-server started here), both rolled up and answered by the
# same planner. Each query runs RUNS times (default 20) through HTTP;
# medians and p90s are printed side by side, with the rows ClickHouse read
# per answer (system.query_log) and the raw rows the embedded store folded
# per answer (its palaute_query_raw_rows_total: the part of an answer that
# grows with the current hour's traffic). The baseline, measured in the same run on
# the same data: SQLite itself counting and averaging the period's raw rows
# (what any answer without rollups must at least read).
#
#   scripts/bench-queries.sh [views] [runs] [paths]
# The generated stores are kept in target/bench/ and reused by later runs.
# The table is printed and written into BENCHMARKS.md (query-table markers).
set -euo pipefail
cd "$(dirname "$0")/.."
views=${1:-10000000}
runs=${2:-20}
# A shop's realistic URL mix (generate --paths): 100,000 distinct paths.
paths=${3:-100000}
command -v curl >/dev/null || { sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo; $sudo apt-get update -qq; $sudo apt-get install -y -qq curl >/dev/null; }
cargo build -q --release -p palaute-collector
bin=target/release/palaute-collector
data=target/bench/queries-$views-$paths
ch_dir=target/bench/clickhouse-$views-$paths
ch_port=18124
ch_args=(--store clickhouse --clickhouse-url "http://127.0.0.1:$ch_port" --clickhouse-database bench --data "$ch_dir/spool")
queries=("summary?from=30d" "breakdown?by=path&from=30d" "breakdown?by=route&from=30d"
         "timeseries?metric=lcp&interval=day&from=30d"
         "abandonment?from=30d" "breakdown?by=device&from=30d" "breakdown?by=hour_of_day&from=30d"
         "summary?from=30d&path=/checkout" "summary?from=30d&path=/checkout&device=mobile"
         "summary?from=30d&route=/products/*" "summary?from=30d&path=/products/10000"
         "compare?a_from=30d&a_to=15d&b_from=15d&b_to=0d" "compare")
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT

# The embedded store, generated once, rolled up.
if [ ! -f "$data/generated" ]; then
  rm -rf "$data"
  mkdir -p "$(dirname "$data")"
  echo "generating $views page views over 30 days and $paths paths into $data (once)"
  "$bin" --data "$data" generate --site bench --views "$views" --days 30 --paths "$paths" | tee "$data.log"
  touch "$data/generated"
fi
"$bin" --data "$data" rollup

# ClickHouse, generated once with the same seed.
pids+=("$(scripts/clickhouse-server.sh "$ch_dir" $ch_port)")
if [ ! -f "$ch_dir/generated" ]; then
  echo "generating $views page views over 30 days and $paths paths into ClickHouse ($ch_dir, once)"
  "$bin" "${ch_args[@]}" generate --site bench --views "$views" --days 30 --paths "$paths" | tee "$ch_dir.log"
  touch "$ch_dir/generated"
fi
# A change is built once it is 2 s old (the last ones were just shipped).
sleep 3
"$bin" "${ch_args[@]}" rollup

serve() { # port store-args... → pid; waits until it answers
  local port=$1; shift
  RUST_LOG=warn "$bin" "$@" serve --listen 127.0.0.1:"$port" > "target/bench/serve-$port.log" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do curl -sf http://127.0.0.1:"$port"/healthz >/dev/null && break; sleep 0.1; done
  echo "$pid"
}
time_query() { # port token path runs → sorted times in ms
  for _ in $(seq "$4"); do
    curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $2" "http://127.0.0.1:$1/api/v1/sites/bench/$3"
  done | awk '{ printf "%.1f\n", $1 * 1000 }' | sort -n
}
raw_rows() { # port → the collector's count of raw rows folded so far
  curl -s "http://127.0.0.1:$1/metrics" | awk '$1 == "palaute_query_raw_rows_total" { print $2 }'
}
stats() { # sorted values → "median p90"
  awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; p = v[int(NR * 0.9 + 0.999)]; printf "%.1f %.1f\n", m, p }'
}

embedded_token=$("$bin" --data "$data" site add bench --origin https://bench.example | tail -n 1)
ch_token=$("$bin" "${ch_args[@]}" site add bench --origin https://bench.example | tail -n 1)
# Two deploy markers, so that a bare `compare` is the latest release against the one before.
for store_args in "--data $data" "${ch_args[*]}"; do
  # shellcheck disable=SC2086 # the store's flags, split on purpose
  "$bin" $store_args release add bench r1 --at 30d >/dev/null
  # shellcheck disable=SC2086
  "$bin" $store_args release add bench r2 --at 7d >/dev/null
done
embedded_pid=$(serve 18093 --data "$data"); pids+=("$embedded_pid")
ch_pid=$(serve 18094 "${ch_args[@]}"); pids+=("$ch_pid")
sleep 1 # the site lists are read once

report() {
  rows=$(python3 -c "import sqlite3; print(sqlite3.connect('$data/palaute.db').execute('select count(*) from pageviews').fetchone()[0])")
  ch_rows=$(curl -s "http://127.0.0.1:$ch_port/" --data-binary "SELECT count() FROM bench.pageviews FINAL")
  echo
  echo "analyst API over $rows page views (embedded store) and $ch_rows (ClickHouse $(curl -s "http://127.0.0.1:$ch_port/" --data-binary 'SELECT version()')) over $(python3 -c "import sqlite3; print(sqlite3.connect('$data/palaute.db').execute(\"select count(distinct path) from pageviews\").fetchone()[0])") distinct paths, both rolled up, $runs runs each, 30 days, $(nproc) cores"
  printf '| %-50s | %14s | %10s | %16s | %12s | %14s | %14s |\n' query "embedded median ms" "p90 ms" "ClickHouse median ms" "p90 ms" "CH rows read" "raw rows folded"
  printf '|%s|%s|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' $(seq 52))" "-------------------:" "-----------:" "---------------------:" "-------------:" "---------------:" "----------------:"
  for query in "${queries[@]}"; do
    folded_before=$(raw_rows 18093)
    read -r em ep < <(time_query 18093 "$embedded_token" "$query" "$runs" | stats)
    folded=$(( ($(raw_rows 18093) - folded_before) / runs ))
    sleep 1.1
    since=$(curl -s "http://127.0.0.1:$ch_port/" --data-binary "SELECT toUInt32(now())")
    read -r cm cp < <(time_query 18094 "$ch_token" "$query" "$runs" | stats)
    curl -s "http://127.0.0.1:$ch_port/" --data-binary "SYSTEM FLUSH LOGS" >/dev/null
    read_rows=$(curl -s "http://127.0.0.1:$ch_port/" --data-binary "SELECT intDiv(sum(read_rows), $runs) FROM system.query_log
      WHERE type = 2 AND toUInt32(event_time) >= $since AND query LIKE '%bench.%' AND query NOT LIKE '%query_log%'")
    printf '| %-50s | %18s | %10s | %20s | %12s | %14s | %15s |\n' "\`$query\`" "$em" "$ep" "$cm" "$cp" "$read_rows" "$folded"
    [ "$query" = "summary?from=30d" ] && summary_median=$em && ch_summary_median=$cm
    [ "$query" = "breakdown?by=path&from=30d" ] && path_median=$em
  done

  # Baseline (3 runs: it takes seconds).
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
  printf '| %-50s | %18s | %10s | %20s | %12s | %14s | %15s |\n' "baseline: SQLite \`count(*), avg(lcp_ms)\`, raw rows" "$raw_sql_median" "(3 runs)" "" "" "" ""
  echo
  awk -v s="$summary_median" -v p="$path_median" -v b="$raw_sql_median" -v c="$ch_summary_median" 'BEGIN {
    printf "embedded 30-day summary: %.0fx faster than SQLite counting the raw rows; path breakdown: %.0fx\n", b / s, b / p
    printf "ClickHouse 30-day summary: %.0fx faster than SQLite counting the raw rows, %.1fx the embedded store'"'"'s time\n", b / c, c / s }'
  echo "collector RSS: embedded $(( $(awk '/VmHWM/ {print $2}' /proc/$embedded_pid/status) / 1024 )) MB, ClickHouse store $(( $(awk '/VmHWM/ {print $2}' /proc/$ch_pid/status) / 1024 )) MB"
}

# The table, printed and written into BENCHMARKS.md between the query-table markers.
out=$(mktemp)
report | tee "$out"
{
  # Its first line is empty, the second the title.
  echo "Measured $(date -u +%Y-%m-%d) by \`scripts/bench-queries.sh $views $runs $paths\`: $(sed -n 2p "$out")"
  echo
  tail -n +3 "$out"
} | scripts/put-table.py query-table
rm -f "$out"
