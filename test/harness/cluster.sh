#!/usr/bin/env bash
# Throwaway PostgreSQL clusters for tests, benchmarks and the demo.
#
#   cluster.sh start DIR_FILE [extra postgres -c settings...]
#       creates a cluster in a fresh temporary directory, listening on a
#       free port of 127.0.0.1 only, and writes shell variables
#       (PGHOST, PGPORT, PGUSER, SALESPERF_CLUSTER) to DIR_FILE.
#   cluster.sh stop DIR_FILE
#       stops that cluster and removes its directory.
#
# PostgreSQL refuses to run as root, so when invoked by root the server
# (and only the server) runs as the unprivileged user `nobody`; clients
# connect over TCP as the cluster's superuser `postgres` (a superuser named
# salesperf would put the extension's schema first on every search_path).
set -euo pipefail

BINDIR=$( (${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config} --bindir || pg_config --bindir) 2>/dev/null )
SERVER_USER=${SALESPERF_SERVER_USER:-nobody}

as_server() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$SERVER_USER" -- "$@"
  else
    "$@"
  fi
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$(( 20000 + RANDOM % 30000 ))
    if ! port_in_use "$p"; then echo "$p"; return 0; fi
  done
  echo "no free port found" >&2
  return 1
}

cmd=${1:-}; state=${2:-}
[ -n "$cmd" ] && [ -n "$state" ] || { echo "usage: $0 start|stop STATE_FILE" >&2; exit 2; }
shift 2

case "$cmd" in
start)
  dir=$(mktemp -d /tmp/salesperf-pg.XXXXXX)
  chmod 755 "$dir"
  [ "$(id -u)" -eq 0 ] && chown "$SERVER_USER" "$dir"
  as_server "$BINDIR/initdb" -D "$dir/data" -U postgres --auth=trust \
      --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  # Durability is off for speed, in postgresql.conf rather than on the
  # command line: a command-line setting outranks ALTER SYSTEM, and P2's
  # benchmark turns fsync back on with ALTER SYSTEM.
  printf '%s\n' "fsync = off" "full_page_writes = off" >>"$dir/data/postgresql.conf"
  opts="-c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir"
  for setting in "$@"; do opts="$opts -c $setting"; done
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    if as_server "$BINDIR/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
         -o "-p $port $opts" start >/dev/null; then
      break
    fi
    [ "$attempt" -eq 5 ] && { cat "$dir/server.log" >&2; exit 1; }
  done
  cat >"$state" <<STATE
export PGHOST=127.0.0.1
export PGPORT=$port
export PGUSER=postgres
export SALESPERF_CLUSTER=$dir
STATE
  ;;
stop)
  [ -f "$state" ] || exit 0
  # shellcheck disable=SC1090
  . "$state"
  if [ -d "${SALESPERF_CLUSTER:-}/data" ]; then
    as_server "$BINDIR/pg_ctl" -D "$SALESPERF_CLUSTER/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$SALESPERF_CLUSTER"
  fi
  rm -f "$state"
  ;;
*)
  echo "usage: $0 start|stop STATE_FILE" >&2; exit 2 ;;
esac
