#!/usr/bin/env bash
# Builds the collector at a baseline commit once (a worktree in
# target/bench/baseline-COMMIT, its own target dir) for the benchmarks that
# measure before and after in the same run; prints the binary's path.
# Usage: scripts/baseline-collector.sh [commit]   (default 027f7e1: the
# collector before routes and bounded rollups)
set -euo pipefail
cd "$(dirname "$0")/.."
baseline=${1:-027f7e1}
base_src=target/bench/baseline-$baseline
base_bin=target/bench/baseline-target/release/palaute-collector
if [ ! -x "$base_bin" ]; then
  echo "building the baseline collector at $baseline (once)" >&2
  rm -rf "$base_src"
  git worktree add -f "$base_src" "$baseline" >/dev/null 2>&1 || git -C "$base_src" checkout -q "$baseline"
  (cd "$base_src" && CARGO_TARGET_DIR="$PWD/../baseline-target" cargo build -q --release -p palaute-collector)
fi
echo "$base_bin"
