#!/usr/bin/env bash
# CPU time of the `plaint serve` process per `/metrics` scrape (docs/serve.md "What a scrape
# costs"). Usage: scripts/metrics-scrape-cost.sh STORE MAX_AGE_SECONDS SCRAPES [PLAINT]
# Starts `plaint serve --no-auth --metrics-max-age MAX_AGE` on STORE (a file log, e.g. from
# `plaint demo`), waits for /readyz, scrapes once (the first scrape computes the ticket
# gauges), then reads the process's utime+stime from /proc around SCRAPES more scrapes. CPU
# time, not wall time: it holds on a machine shared with other work.
set -euo pipefail
STORE=$1 AGE=$2 N=$3 BIN=${4:-plaint}
LOG=$(mktemp)
"$BIN" --store "$STORE" serve --no-auth --listen 127.0.0.1:0 --metrics-max-age "$AGE" 2>"$LOG" &
PID=$!
trap 'kill -TERM $PID 2>/dev/null || true; rm -f "$LOG"' EXIT
until grep -q "listening on" "$LOG"; do
  kill -0 $PID 2>/dev/null || { cat "$LOG" >&2; exit 1; }
  sleep 0.2
done
ADDR=$(grep -o "http://[0-9.:]*" "$LOG" | head -1)
until [ "$(curl -s -o /dev/null -w "%{http_code}" "$ADDR/readyz")" = 200 ]; do sleep 0.5; done
curl -s "$ADDR/metrics" | grep -E "^plaint_(open_tickets|head_position) "
cpu() { awk '{print $14+$15}' "/proc/$PID/stat"; }
A=$(cpu)
for _ in $(seq 1 "$N"); do curl -s -o /dev/null "$ADDR/metrics"; done
B=$(cpu)
TCK=$(getconf CLK_TCK)
echo "metrics-max-age=$AGE scrapes=$N cpu_ticks=$((B - A)) cpu_ms_per_scrape=$(echo "scale=3; ($B - $A) * 1000 / $TCK / $N" | bc)"
