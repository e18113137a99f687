#!/usr/bin/env bash
# Cardinality benchmark: a shop's hour with tens of thousands of distinct
# paths, rolled up by the collector before and after bounded rollups, in
# the same run on the same page views.
#
#   scripts/bench-cardinality.sh [views] [paths] [baseline-commit]
#
# 1. `generate --paths` writes `views` page views (default 120,000) in one
#    whole hour over about `paths` distinct paths (default 30,000): products
#    by number with Zipf popularity, blog posts by slug, collections,
#    search queries, fixed pages. They are exported as NDJSON.
# 2. Each collector (this tree's and the baseline commit's, default
#    027f7e1, the last before bounded rollups; built once in target/bench/)
#    imports them into a fresh embedded store and rolls the hour up, under
#    /usr/bin/time: peak RSS, and the data directory's bytes per page view.
# 3. Each serves its store: `breakdown?by=path` over the day (rows, bytes,
#    median ms of 5) and, on this tree, `breakdown?by=route`.
# 4. 60,000 distinct paths under `prlimit --as=1.5G`: does `serve` start and
#    roll the hour up, or crash (and crash again at each restart)?
# The table is printed and written into BENCHMARKS.md (cardinality markers).
set -euo pipefail
cd "$(dirname "$0")/.."
views=${1:-120000}
paths=${2:-30000}
baseline=${3:-027f7e1}
command -v curl >/dev/null || { sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo; $sudo apt-get update -qq; $sudo apt-get install -y -qq curl time >/dev/null; }
[ -x /usr/bin/time ] || { sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo; $sudo apt-get install -y -qq time >/dev/null; }
cargo build -q --release -p palaute-collector
bin=target/release/palaute-collector
work=target/bench/cardinality
base_bin=$(scripts/baseline-collector.sh "$baseline")
mkdir -p "$work"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT

# The page views, once per (views, paths).
ndjson=$work/shop-$views-$paths.ndjson
if [ ! -s "$ndjson" ]; then
  rm -rf "$work/gen"
  "$bin" --data "$work/gen" generate --site shop --views "$views" --hours 1 --paths "$paths" >/dev/null
  "$bin" --data "$work/gen" export --site shop > "$ndjson"
fi
distinct=$(python3 -c "import json,sys; print(len({json.loads(l)['url'].split('?')[0] for l in open('$ndjson')}))")

rss_mb() { awk '/Maximum resident set size/ { printf "%.0f", $6 / 1024 }' "$1"; }

measure() { # name binary → "rss_mb bytes_per_view"
  local name=$1 binary=$2 data=$work/$1
  rm -rf "$data"
  "$binary" --data "$data" site add shop --origin https://shop.example > "$work/$name.token"
  "$binary" --data "$data" import < "$ndjson" > /dev/null
  /usr/bin/time -v "$binary" --data "$data" rollup > /dev/null 2> "$work/$name.time"
  local bytes
  bytes=$(du -sb "$data" | cut -f1)
  echo "$(rss_mb "$work/$name.time") $(python3 -c "print(round($bytes / $views))")"
}

serve() { # name binary port → pid
  local name=$1 binary=$2 port=$3
  RUST_LOG=warn "$binary" --data "$work/$name" serve --listen 127.0.0.1:"$port" > "$work/$name.log" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do curl -sf http://127.0.0.1:"$port"/healthz >/dev/null && break; sleep 0.1; done
  echo "$pid"
}

breakdown() { # name port by → "rows bytes median_ms sum"
  local token
  token=$(tail -n 1 "$work/$1.token")
  local url="http://127.0.0.1:$2/api/v1/sites/shop/breakdown?by=$3&from=1d"
  curl -sf -H "Authorization: Bearer $token" "$url" > "$work/$1-$3.json"
  local times=()
  for _ in 1 2 3 4 5; do
    times+=("$(curl -sf -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $token" "$url")")
  done
  python3 - "$work/$1-$3.json" "${times[@]}" <<'EOF'
import json, statistics, sys
rows = json.load(open(sys.argv[1]))
times = sorted(float(t) * 1000 for t in sys.argv[2:])
print(len(rows), len(open(sys.argv[1], 'rb').read()), f"{statistics.median(times):.0f}", sum(r["page_views"] for r in rows))
EOF
}

read -r before_rss before_bytes <<< "$(measure before "$base_bin")"
read -r after_rss after_bytes <<< "$(measure after "$bin")"
pids+=("$(serve before "$base_bin" 18181)")
read -r before_rows before_size before_ms before_sum <<< "$(breakdown before 18181 path)"
pids+=("$(serve after "$bin" 18182)")
read -r after_rows after_size after_ms after_sum <<< "$(breakdown after 18182 path)"
read -r route_rows route_size route_ms route_sum <<< "$(breakdown after 18182 route)"
kill "${pids[@]}" 2>/dev/null || true
pids=()
covered=$(python3 - "$work/after-route.json" "$work/after-path.json" "$work/before-path.json" <<'EOF'
import json, sys
routes = [r for r in json.load(open(sys.argv[1])) if not r.get("other")]
total = sum(r["page_views"] for r in json.load(open(sys.argv[1])))
twelve = sum(r["page_views"] for r in routes[:12])
exact = {r["key"]: r["page_views"] for r in json.load(open(sys.argv[3]))}
after = [r for r in json.load(open(sys.argv[2])) if not r.get("other")][:10]
same = sum(1 for r in after if exact.get(r["key"]) == r["page_views"])
names = " ".join(r["key"] for r in routes[:4])
print(f"{100 * twelve / total:.1f}% {same} {names}")
EOF
)
read -r twelve_share exact_top names <<< "$covered"

# 60,000 distinct paths, address space limited to 1.5 GiB: does the hour roll up?
big=$work/shop-$views-60000.ndjson
if [ ! -s "$big" ]; then
  rm -rf "$work/gen60"
  "$bin" --data "$work/gen60" generate --site shop --views "$views" --hours 1 --paths 60000 >/dev/null
  "$bin" --data "$work/gen60" export --site shop > "$big"
fi
limited() { # binary port → what became of `serve` rolling the hour up under the limit
  local data=$work/limited-$2
  rm -rf "$data"
  "$1" --data "$data" import < "$big" > /dev/null
  prlimit --as=1610612736 "$1" --data "$data" serve --listen 127.0.0.1:"$2" > "$work/limited-$2.log" 2>&1 &
  local pid=$!
  for _ in $(seq 600); do
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid" && status=0 || status=$?
      echo "crashed at start (exit $status)"
      return
    fi
    if [ "$(python3 -c "import sqlite3; print(sqlite3.connect('$data/palaute.db').execute('select count(*) from rolled_hours').fetchone()[0])" 2>/dev/null)" = 1 ]; then
      kill "$pid"; wait "$pid" 2>/dev/null || true
      echo "rolled up, serving"
      return
    fi
    sleep 0.5
  done
  kill "$pid"; echo "not rolled up in 300 s"
}
before_limited=$(limited "$base_bin" 18183)
after_limited=$(limited "$bin" 18184)

table=$(cat <<EOF
Measured $(date -u +%Y-%m-%d) by \`scripts/bench-cardinality.sh $views $paths $baseline\`: $views page views in one hour over $distinct distinct paths (a shop's mix: products with Zipf popularity, blog posts, collections, search, fixed pages), imported into a fresh embedded store and rolled up; the collector at $baseline (before) and this tree (after), same page views, same run, 2 cores

| measure | before | after |
|---|---:|---:|
| peak RSS rolling the hour up | $before_rss MB | $after_rss MB |
| data directory per page view | $before_bytes B | $after_bytes B |
| \`breakdown?by=path\` over the day: rows | $before_rows | $after_rows |
| \`breakdown?by=path\`: JSON bytes | $before_size | $after_size |
| \`breakdown?by=path\`: median of 5, ms | $before_ms | $after_ms |
| \`breakdown?by=path\`: rows add up to | $before_sum | $after_sum |
| \`breakdown?by=route\`: rows, bytes, median ms | – | $route_rows, $route_size, $route_ms |
| 60,000 distinct paths, \`prlimit --as=1.5G\`: \`serve\` rolls the hour up | $before_limited | $after_limited |

after: the ten most viewed paths counted exactly (against the before run's exact counts): $exact_top of 10; the 12 most viewed routes hold $twelve_share of the views (top: $names)
EOF
)
echo "$table"
echo "$table" | python3 scripts/put-table.py cardinality-table
