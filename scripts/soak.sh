#!/usr/bin/env bash
# Soak test: measures the collector's ingest capacity (wrk, 10 s, as
# scripts/bench-ingest.sh), then sends beacons at half of it for MINUTES
# (default 10) and samples the collector's memory every 10 s. Prints and
# writes into BENCHMARKS.md: the rate held, errors (non-2xx, socket errors,
# 503s counted by the collector), latency, and RSS over time.
#   scripts/soak.sh [minutes]
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-10}
# Each connection sends one beacon every DELAY_MS (plus its answer's latency).
delay=10
command -v wrk >/dev/null || { sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo; $sudo apt-get update -qq; $sudo apt-get install -y -qq wrk >/dev/null; }
cargo build -q --release -p palaute-collector
bin=target/release/palaute-collector
work=$(mktemp -d)
trap '[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; [ -n "${sampler:-}" ] && kill "$sampler" 2>/dev/null; sleep 0.3; rm -rf "$work"' EXIT
cat > "$work/palaute.toml" <<CONF
listen = "127.0.0.1:18095"
data = "$work/data"
rate_limit_per_second = 1000000000
rate_limit_burst = 1000000000
CONF
"$bin" site add shop --origin https://shop.example --config "$work/palaute.toml" > /dev/null
RUST_LOG=warn "$bin" serve --config "$work/palaute.toml" > "$work/collector.log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:18095/healthz >/dev/null && break; sleep 0.1; done

wrk -t2 -c64 -d10s -s tests/load/beacon.lua http://127.0.0.1:18095/b > "$work/capacity.txt"
capacity=$(awk '/^Requests\/sec/ {printf "%d", $2}' "$work/capacity.txt")
target=$((capacity / 2))
# Each beacon also waits for its answer (about 2 ms at this load).
connections=$(( (target * (delay + 2) + 999) / 1000 ))
echo "capacity ${capacity} beacons/s; soaking at ~${target}/s ($connections connections, one beacon each per ${delay} ms) for ${minutes} min"

rss() { awk '/VmRSS/ {printf "%d", $2 / 1024}' "/proc/$pid/status"; }
( while sleep 10; do echo "$(rss)"; done ) > "$work/rss.txt" &
sampler=$!
start_rss=$(rss)
DELAY_MS=$delay wrk -t2 -c$connections -d"${minutes}m" --latency -s tests/load/beacon.lua http://127.0.0.1:18095/b > "$work/soak.txt"
kill "$sampler"; sampler=""
metrics=$(curl -s http://127.0.0.1:18095/metrics)
count() { echo "$metrics" | awk -v o="$1" 'index($0, "palaute_ingest_total{outcome=\"" o "\"}") == 1 {print $2}'; }
stored=$(count stored); unavailable=$(count unavailable)
rps=$(awk '/^Requests\/sec/ {print $2}' "$work/soak.txt")
requests=$(awk '/requests in/ {print $1}' "$work/soak.txt")
non2xx=$(awk '/Non-2xx/ {print $NF}' "$work/soak.txt"); non2xx=${non2xx:-0}
socket=$(awk '/Socket errors/ {print $0}' "$work/soak.txt"); socket=${socket:-none}
p50=$(awk '$1 == "50%" {print $2}' "$work/soak.txt"); p99=$(awk '$1 == "99%" {print $2}' "$work/soak.txt")
samples=$(tr '\n' ' ' < "$work/rss.txt")
first_minute=$(head -n 6 "$work/rss.txt" | sort -n | tail -n 1)
rest_max=$(tail -n +7 "$work/rss.txt" | sort -n | tail -n 1)
last=$(tail -n 1 "$work/rss.txt")
db=$(du -m "$work/data" | awk '{print $1}')

table=$(cat <<MD
Measured $(date -u +%Y-%m-%d) by \`scripts/soak.sh $minutes\` ($(nproc) cores): capacity ${capacity} beacons/s (wrk, 64 connections, 10 s), then ${minutes} minutes at half of it (${connections} connections, each one beacon per ${delay} ms plus the answer's latency).

| | |
|---|---:|
| rate held | ${rps} beacons/s ($(awk -v r="$rps" -v c="$capacity" 'BEGIN { printf "%.2f", r / c }') of the capacity) |
| beacons sent | ${requests} |
| stored (204) | ${stored:-0} |
| non-2xx answers | ${non2xx} |
| 503 (store busy or down) | ${unavailable:-0} |
| socket errors | ${socket#Socket errors: } |
| latency p50 / p99 | ${p50} / ${p99} |
| collector RSS: at start / highest in the first minute / highest after it / at the end | ${start_rss} / ${first_minute} / ${rest_max} / ${last} MB |
| database after the run | ${db} MB |

RSS every 10 s (MB): ${samples}
MD
)
echo "$table"
echo "$table" | scripts/put-table.py soak
