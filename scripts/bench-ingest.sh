#!/usr/bin/env bash
# Ingest benchmark: wrk POSTs realistic beacons (tests/load/beacon.lua) to the
# collector's durable POST /b, and, in the same run on the same machine, to
# nginx answering 204 without doing anything (the ceiling of an HTTP server
# here), to the collector's own HTTP stack answering 204 without doing
# anything (collector/examples/empty_204.rs: what the framework costs), and
# to the least durable ingest can be (collector/examples/durable_log_204.rs:
# the collector's decoding and validation, then an fdatasync'd append-only
# log with group commit; no database): the ceiling of any durable design.
# And to the collector at a baseline commit (scripts/baseline-collector.sh;
# default 027f7e1, before routes), so that a change to ingest is measured
# against the collector before it in the same run.
# Prints requests/s, p50/p99 latency, the collector's peak RSS, the rows
# stored, and the collector/nginx and collector/baseline ratios, and writes
# the table into BENCHMARKS.md between the ingest-table markers.
# Usage: scripts/bench-ingest.sh [seconds] [connections] [baseline-commit]
#
#   scripts/bench-ingest.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-64}
baseline=${3:-027f7e1}
threads=2

need_apt=()
command -v wrk >/dev/null || need_apt+=(wrk)
command -v nginx >/dev/null || need_apt+=(nginx-light)
command -v curl >/dev/null || need_apt+=(curl)
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
cargo build -q --release -p palaute-collector
cargo build -q --release -p palaute-collector --example empty_204
cargo build -q --release -p palaute-collector --example durable_log_204
bin=target/release/palaute-collector
base_bin=$(scripts/baseline-collector.sh "$baseline")

work=$(mktemp -d)
cleanup() {
  [ -n "${collector_pid:-}" ] && kill "$collector_pid" 2>/dev/null || true
  [ -n "${base_pid:-}" ] && kill "$base_pid" 2>/dev/null || true
  [ -n "${empty_pid:-}" ] && kill "$empty_pid" 2>/dev/null || true
  [ -n "${log_pid:-}" ] && kill "$log_pid" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  sleep 0.3
  rm -rf "$work"
}
trap cleanup EXIT

# nginx: the same loopback, two workers (one per core), 204 for POST /b.
mkdir -p "$work/nginx"
cat > "$work/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx;
  server {
    listen 127.0.0.1:18091;
    location = /b { client_max_body_size 64k; return 204; }
  }
}
CONF
nginx -c "$work/nginx.conf" -p "$work/nginx"
target/release/examples/empty_204 127.0.0.1:18092 &
empty_pid=$!
target/release/examples/durable_log_204 127.0.0.1:18093 "$work/durable.log" &
log_pid=$!

# The collector: durable SQLite ingest (WAL, synchronous=FULL, group commit).
# Every beacon comes from one address, so the per-client limit is raised out
# of the way while its middleware still runs.
cat > "$work/palaute.toml" <<CONF
listen = "127.0.0.1:18090"
data = "$work/data"
rate_limit_per_second = 1000000000
rate_limit_burst = 1000000000
CONF
token=$("$bin" site add shop --origin https://shop.example --config "$work/palaute.toml" | tail -n 1)
RUST_LOG=warn "$bin" serve --config "$work/palaute.toml" > "$work/collector.log" 2>&1 &
collector_pid=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:18090/healthz >/dev/null && break; sleep 0.1; done
# The baseline collector, the same way, on its own port and data.
sed -e 's/18090/18095/' -e "s|$work/data|$work/base-data|" "$work/palaute.toml" > "$work/base.toml"
"$base_bin" site add shop --origin https://shop.example --config "$work/base.toml" >/dev/null
RUST_LOG=warn "$base_bin" serve --config "$work/base.toml" > "$work/base.log" 2>&1 &
base_pid=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:18095/healthz >/dev/null && break; sleep 0.1; done

run() { # name url
  wrk -t$threads -c"$connections" -d"${seconds}s" --latency -s tests/load/beacon.lua "$2" > "$work/$1.txt"
  local rps p50 p99 non2xx
  rps=$(awk '/^Requests\/sec/ {print $2}' "$work/$1.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$work/$1.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$work/$1.txt")
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$work/$1.txt"); non2xx=${non2xx:-0}
  echo "$1 $rps $p50 $p99 $non2xx"
}

echo "warm-up (2 s each)"
wrk -t1 -c8 -d2s -s tests/load/beacon.lua http://127.0.0.1:18091/b >/dev/null
wrk -t1 -c8 -d2s -s tests/load/beacon.lua http://127.0.0.1:18092/b >/dev/null
wrk -t1 -c8 -d2s -s tests/load/beacon.lua http://127.0.0.1:18093/b >/dev/null
wrk -t1 -c8 -d2s -s tests/load/beacon.lua http://127.0.0.1:18090/b >/dev/null
wrk -t1 -c8 -d2s -s tests/load/beacon.lua http://127.0.0.1:18095/b >/dev/null
before=$(curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:18090/api/v1/sites/shop/pageviews?format=ndjson&from=2000-01-01" | wc -l)

read -r _ n_rps n_p50 n_p99 n_bad < <(run nginx http://127.0.0.1:18091/b)
read -r _ e_rps e_p50 e_p99 e_bad < <(run empty http://127.0.0.1:18092/b)
read -r _ l_rps l_p50 l_p99 l_bad < <(run log http://127.0.0.1:18093/b)
read -r _ b_rps b_p50 b_p99 b_bad < <(run baseline http://127.0.0.1:18095/b)
read -r _ c_rps c_p50 c_p99 c_bad < <(run collector http://127.0.0.1:18090/b)
rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$collector_pid/status")
after=$(curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:18090/api/v1/sites/shop/pageviews?format=ndjson&from=2000-01-01" | wc -l)
commits=$(curl -s http://127.0.0.1:18090/metrics | awk '/^palaute_commit_seconds_count/ {print $2}')

echo
echo "POST /b, wrk -t$threads -c$connections -d${seconds}s, tests/load/beacon.lua ($(nproc) cores)"
printf '%-28s %12s %10s %10s %8s\n' server requests/s p50 p99 non-2xx
printf '%-28s %12s %10s %10s %8s\n' "nginx (return 204)" "$n_rps" "$n_p50" "$n_p99" "$n_bad"
printf '%-28s %12s %10s %10s %8s\n' "axum, empty handler" "$e_rps" "$e_p50" "$e_p99" "$e_bad"
printf '%-28s %12s %10s %10s %8s\n' "durable log, no database" "$l_rps" "$l_p50" "$l_p99" "$l_bad"
printf '%-28s %12s %10s %10s %8s\n' "palaute-collector at $baseline" "$b_rps" "$b_p50" "$b_p99" "$b_bad"
printf '%-28s %12s %10s %10s %8s\n' "palaute-collector (durable)" "$c_rps" "$c_p50" "$c_p99" "$c_bad"
awk -v c="$c_rps" -v n="$n_rps" -v l="$l_rps" -v b="$b_rps" 'BEGIN { printf "collector / nginx: %.2f; durable log / nginx: %.2f; collector / baseline: %.2f\n", c / n, l / n, c / b }'
echo "collector peak RSS: $((rss_kb / 1024)) MB"
echo "rows stored during the run: $((after - before)); group commits so far: $commits"

# The table, into BENCHMARKS.md.
commas() { printf '%d' "${1%.*}" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'; }
{
  echo "Measured $(date -u +%Y-%m-%d) by \`scripts/bench-ingest.sh $seconds $connections $baseline\` (wrk -t$threads -c$connections -d${seconds}s; $(nproc) cores shared by wrk and the server):"
  echo
  echo "| server | requests/s | p50 | p99 | non-2xx |"
  echo "|---|---:|---:|---:|---:|"
  echo "| nginx (\`return 204\`) | $(commas "$n_rps") | $n_p50 | $n_p99 | $n_bad |"
  echo "| axum, empty handler (\`collector/examples/empty_204.rs\`) | $(commas "$e_rps") | $e_p50 | $e_p99 | $e_bad |"
  echo "| durable log, no database (\`collector/examples/durable_log_204.rs\`) | $(commas "$l_rps") | $l_p50 | $l_p99 | $l_bad |"
  echo "| palaute-collector at $baseline (durable, the baseline) | $(commas "$b_rps") | $b_p50 | $b_p99 | $b_bad |"
  echo "| palaute-collector (durable) | $(commas "$c_rps") | $c_p50 | $c_p99 | $c_bad |"
  echo
  awk -v c="$c_rps" -v n="$n_rps" -v e="$e_rps" -v l="$l_rps" -v b="$b_rps" 'BEGIN { printf "collector / nginx: **%.2f**; durable log / nginx: %.2f; axum empty handler / nginx: %.2f; collector / the baseline collector: %.2f. ", c / n, l / n, e / n, c / b }'
  echo "Collector peak RSS: $((rss_kb / 1024)) MB. Rows stored during the run: $(commas $((after - before))), in $(commas "$commits") group commits so far."
} | scripts/put-table.py ingest-table
