#!/usr/bin/env bash
# PostgreSQL high-availability harness: a primary and a synchronous streaming standby as two
# PostgreSQL 15 clusters on this machine (Debian's pg_createcluster), on their own ports, never
# touching the cluster "15 main" on 5432 that the other tests use. Runs as root (CI does).
#
#   scripts/pg-ha.sh setup          create both clusters afresh: A primary, B its synchronous standby
#   scripts/pg-ha.sh status         one line per cluster: name port role (primary/standby/down)
#   scripts/pg-ha.sh primary-port   the port of the running primary
#   scripts/pg-ha.sh kill-primary   SIGKILL the primary's postmaster and every backend at once
#                                   (what a machine losing power does to the server)
#   scripts/pg-ha.sh promote        promote the standby (waits until it accepts writes)
#   scripts/pg-ha.sh reseed         rebuild the dead cluster as the new primary's standby
#                                   (pg_basebackup) and wait until it is the synchronous standby
#   scripts/pg-ha.sh failover       kill-primary, promote, reseed
#   scripts/pg-ha.sh stop-standby   stop the standby (fast shutdown): the primary's commits wait
#   scripts/pg-ha.sh start-standby  start it again and wait until it is the synchronous standby
#   scripts/pg-ha.sh query SQL      run SQL on the primary's database plaint_ha, print the rows
#   scripts/pg-ha.sh teardown       stop and drop both clusters
#   scripts/pg-ha.sh test [N]       setup, the Rust failover test with N failovers (default 2), teardown
#   scripts/pg-ha.sh soak [N]       the same with N failovers (default 20), with timing
#
# The connection string for the engines is printed by `setup` (and `url`):
#   postgres://plaint:plaint@127.0.0.1:PORT_A,127.0.0.1:PORT_B/plaint_ha?target_session_attrs=read-write
# Ports: PLAINT_HA_PORT_A (default 54331), PLAINT_HA_PORT_B (default 54332).
set -euo pipefail

VERSION=15
A=plaint_ha_a
B=plaint_ha_b
PORT_A=${PLAINT_HA_PORT_A:-54331}
PORT_B=${PLAINT_HA_PORT_B:-54332}
DB=plaint_ha
USER_NAME=plaint
PASSWORD=plaint
# How long to wait for a server to start, promote or become the synchronous standby.
WAIT_SECONDS=${PLAINT_HA_WAIT_SECONDS:-120}
SOCKET_DIR=/var/run/postgresql # Debian's unix_socket_directories

die() { echo "pg-ha: $*" >&2; exit 1; }

port_of() { case "$1" in "$A") echo "$PORT_A" ;; "$B") echo "$PORT_B" ;; *) die "unknown cluster $1" ;; esac; }
other_of() { case "$1" in "$A") echo "$B" ;; "$B") echo "$A" ;; *) die "unknown cluster $1" ;; esac; }
data_dir() { echo "/var/lib/postgresql/$VERSION/$1"; }

url() {
  echo "postgres://$USER_NAME:$PASSWORD@127.0.0.1:$PORT_A,127.0.0.1:$PORT_B/$DB?target_session_attrs=read-write"
}

# psql against one cluster as the superuser "postgres" over the local socket.
sql() {
  local cluster=$1; shift
  su postgres -c "psql -X -q -tA -p $(port_of "$cluster") -d postgres -v ON_ERROR_STOP=1 -c \"$*\""
}

exists() { [ -d "/etc/postgresql/$VERSION/$1" ]; }
running() { pg_isready -q -h 127.0.0.1 -p "$(port_of "$1")" 2>/dev/null; }

role() {
  local cluster=$1
  if ! running "$cluster"; then echo down; return; fi
  case "$(sql "$cluster" 'SELECT pg_is_in_recovery()' 2>/dev/null || echo error)" in
    f) echo primary ;;
    t) echo standby ;;
    *) echo down ;;
  esac
}

primary() {
  local c
  for c in "$A" "$B"; do
    if [ "$(role "$c")" = primary ]; then echo "$c"; return; fi
  done
  die "no running primary (status: $(status | tr '\n' ';'))"
}

status() {
  local c
  for c in "$A" "$B"; do
    echo "$c $(port_of "$c") $(role "$c")"
  done
}

wait_until() { # description, command...
  local what=$1; shift
  local i
  for i in $(seq 1 $((WAIT_SECONDS * 10))); do
    if "$@"; then return 0; fi
    sleep 0.1
  done
  die "timed out after ${WAIT_SECONDS}s waiting for $what"
}

is_primary() { [ "$(role "$1")" = primary ]; }

# The standby named $1 is attached to its primary as the synchronous one.
is_sync_standby() {
  local standby=$1 primary
  primary=$(other_of "$standby")
  [ "$(sql "$primary" "SELECT sync_state FROM pg_stat_replication WHERE application_name = '$standby' AND state = 'streaming'" 2>/dev/null)" = sync ]
}

write_config() {
  local cluster=$1 conf
  conf="/etc/postgresql/$VERSION/$cluster/conf.d/plaint-ha.conf"
  cat >"$conf" <<EOF
# Written by scripts/pg-ha.sh: plaint's high-availability test pair.
listen_addresses = '127.0.0.1'
max_connections = 80
shared_buffers = 32MB
wal_level = replica
max_wal_senders = 5
max_replication_slots = 5
hot_standby = on
hot_standby_feedback = on
wal_receiver_status_interval = 1s
# Every commit waits until the other cluster (whichever is the standby now) has flushed it.
synchronous_commit = on
synchronous_standby_names = 'FIRST 1 ($A, $B)'
fsync = on
full_page_writes = on
# A re-seeded standby's first start syncs its data directory (it starts from a base backup):
# one syncfs() instead of an fsync per file.
recovery_init_sync_method = syncfs
EOF
  chown postgres:postgres "$conf"
}

create_cluster() {
  local cluster=$1
  pg_createcluster -q "$VERSION" "$cluster" -p "$(port_of "$cluster")" -- --auth-local=peer --auth-host=scram-sha-256 >/dev/null
  write_config "$cluster"
}

# Rebuild $1 as a standby of the running primary $2, then start it and wait until it is the
# synchronous standby.
seed_standby() {
  local standby=$1 primary=$2 dir
  dir=$(data_dir "$standby")
  pg_ctlcluster "$VERSION" "$standby" stop -m immediate >/dev/null 2>&1 || true
  # It is not running now. A postmaster killed with SIGKILL leaves its socket lock file behind,
  # and the start below refuses to run ("lock file already exists") whenever the PID written in
  # it has since been taken by any other process, which busy machines with a small pid_max do
  # within seconds: the stale lock goes.
  rm -f "$SOCKET_DIR/.s.PGSQL.$(port_of "$standby").lock"
  rm -rf "$dir"
  install -d -o postgres -g postgres -m 700 "$dir"
  # --no-sync: the server's first start syncs the whole data directory anyway (it starts from a
  # base backup, so it runs recovery, which begins with recovery_init_sync_method).
  su postgres -c "pg_basebackup -D '$dir' -X stream -c fast -R --no-sync \
    -d 'host=127.0.0.1 port=$(port_of "$primary") user=$USER_NAME password=$PASSWORD application_name=$standby'"
  pg_ctlcluster "$VERSION" "$standby" start
  wait_until "$standby to become the synchronous standby of $primary" is_sync_standby "$standby"
}

cmd_setup() {
  cmd_teardown
  create_cluster "$A"
  create_cluster "$B"
  pg_ctlcluster "$VERSION" "$A" start
  wait_until "$A to start" is_primary "$A"
  # No standby yet: these commits must not wait for one.
  su postgres -c "psql -X -q -p $PORT_A -d postgres -v ON_ERROR_STOP=1" <<SQL
SET synchronous_commit = local;
CREATE ROLE $USER_NAME LOGIN SUPERUSER REPLICATION PASSWORD '$PASSWORD';
CREATE DATABASE $DB OWNER $USER_NAME;
SQL
  # The database must exist before commits wait for a standby (CREATE DATABASE would wait too).
  seed_standby "$B" "$A"
  url
}

kill_cluster() {
  local cluster=$1 pidfile pm children
  pidfile="$(data_dir "$cluster")/postmaster.pid"
  [ -f "$pidfile" ] || die "$cluster has no postmaster.pid"
  pm=$(head -n 1 "$pidfile")
  children=$(ps -o pid= --ppid "$pm" | tr '\n' ' ')
  # One kill(1) for all: the postmaster and every backend die together.
  # shellcheck disable=SC2086
  kill -KILL "$pm" $children 2>/dev/null || true
  wait_until "$cluster to stop accepting connections" not_running "$cluster"
}
not_running() { ! running "$1"; }

cmd_kill_primary() {
  local p
  p=$(primary)
  kill_cluster "$p"
  echo "killed $p"
}

cmd_promote() {
  local c
  for c in "$A" "$B"; do
    if [ "$(role "$c")" = standby ]; then
      pg_ctlcluster "$VERSION" "$c" promote
      wait_until "$c to accept writes" is_primary "$c"
      echo "promoted $c"
      return
    fi
  done
  die "no running standby to promote (status: $(status | tr '\n' ';'))"
}

cmd_reseed() {
  local p s
  p=$(primary)
  s=$(other_of "$p")
  seed_standby "$s" "$p"
  echo "reseeded $s as the synchronous standby of $p"
}

standby() {
  local p
  p=$(primary)
  other_of "$p"
}

cmd_stop_standby() {
  local s
  s=$(standby)
  pg_ctlcluster "$VERSION" "$s" stop -m fast
  echo "stopped $s"
}

cmd_start_standby() {
  local s
  s=$(standby)
  pg_ctlcluster "$VERSION" "$s" start
  wait_until "$s to become the synchronous standby" is_sync_standby "$s"
  echo "started $s"
}

cmd_teardown() {
  local c
  for c in "$A" "$B"; do
    if exists "$c"; then
      pg_ctlcluster "$VERSION" "$c" stop -m immediate >/dev/null 2>&1 || true
      pg_dropcluster "$VERSION" "$c" >/dev/null 2>&1 || die "cannot drop cluster $c"
    fi
    rm -f "$SOCKET_DIR/.s.PGSQL.$(port_of "$c").lock" # left by a killed postmaster (see seed_standby)
  done
}

cmd_test() {
  local failovers=${1:-2}
  cmd_setup >/dev/null
  trap cmd_teardown EXIT
  cd "$(dirname "$0")/.."
  PLAINT_TEST_HA=1 PLAINT_HA_FAILOVERS="$failovers" PLAINT_HA_SCRIPT="$PWD/scripts/pg-ha.sh" \
    cargo test -p plaint --test pg_failover -- --nocapture --test-threads=1
}

[ "$(id -u)" = 0 ] || die "run as root (pg_createcluster, su postgres)"
command -v pg_createcluster >/dev/null || die "pg_createcluster is missing: install postgresql-$VERSION"

case "${1:-}" in
  setup) cmd_setup ;;
  status) status ;;
  url) url ;;
  primary-port) port_of "$(primary)" ;;
  kill-primary) cmd_kill_primary ;;
  promote) cmd_promote ;;
  reseed) cmd_reseed ;;
  failover) cmd_kill_primary; cmd_promote; cmd_reseed ;;
  stop-standby) cmd_stop_standby ;;
  start-standby) cmd_start_standby ;;
  query)
    [ -n "${2:-}" ] || die "query needs the SQL"
    su postgres -c "psql -X -q -tA -p $(port_of "$(primary)") -d $DB -v ON_ERROR_STOP=1" <<<"$2"
    ;;
  teardown) cmd_teardown ;;
  test) cmd_test "${2:-2}" ;;
  soak) time cmd_test "${2:-20}" ;;
  *) sed -n "2,24p" "$0" >&2; exit 1 ;;
esac
