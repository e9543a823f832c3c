#!/bin/bash
# A/B of two release builds of serve_load, alternating (BEFORE first in odd pairs), HTTP phase
# only, timed mode (2 s warm-up + 8 s measured). Run from the repository's root (the bench finds
# ../shared). Parse the log with scripts/bench/serve-ab-parse.py.
# usage: scripts/bench/serve-ab.sh BEFORE_BINARY AFTER_BINARY PAIRS LOG [STORES_DIR]
# (docs/PERFORMANCE.md, "Issue 15, wave 12": ab.sh and ab3.sh were this with the binaries fixed)
set -eu
B=$1; A=$2; PAIRS=$3; LOG=$4; STORES=${5:-/tmp/serve-ab-stores}
mkdir -p "$STORES"
for p in $(seq 1 "$PAIRS"); do
  if [ $((p % 2)) -eq 1 ]; then order="$B $A"; else order="$A $B"; fi
  for bin in $order; do
    echo "=== pair $p $(basename "$bin") $(date -u +%T) load $(cut -d' ' -f1-3 /proc/loadavg)"
    TMPDIR=$STORES PLAINT_BENCH_PHASES=http PLAINT_BENCH_SECONDS=8 PLAINT_BENCH_WARMUP_SECONDS=2 nice "$bin" --bench
  done
done > "$LOG" 2>&1
