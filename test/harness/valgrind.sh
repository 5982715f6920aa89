#!/usr/bin/env bash
# `make valgrind`: the pg_regress suite against a server run under valgrind
# memcheck (every backend traced), then a count of the errors valgrind
# reported with a salesperf frame in their stack.  Those must be zero;
# errors only in PostgreSQL's own frames (the server is not built with
# valgrind support, so it writes uninitialised padding to WAL and cache
# files, which memcheck reports) are counted and shown apart.
#
#   VALGRIND_REGRESS="calendar ledger"   run only these regression files
#   SALESPERF_VALGRIND_KEEP=1            keep the logs (their directory is printed)
#
# Slow: every backend runs 20-50 times slower than usual.  Known false
# positives of PostgreSQL itself are suppressed by test/harness/valgrind.supp.
set -uo pipefail
cd "$(dirname "$0")/../.."
bindir=$( (${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config} --bindir || pg_config --bindir) 2>/dev/null )
server_user=${SALESPERF_SERVER_USER:-nobody}
command -v valgrind >/dev/null || { echo "valgrind: not installed" >&2; exit 1; }

as_server() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$server_user" -- "$@"; else "$@"; fi
}

dir=$(mktemp -d /tmp/salesperf-valgrind.XXXXXX)
chmod 755 "$dir"
[ "$(id -u)" -eq 0 ] && chown "$server_user" "$dir"
finish() {
  as_server "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 300 stop >/dev/null 2>&1 || true
  if [ -n "${SALESPERF_VALGRIND_KEEP:-}" ]; then echo "valgrind: logs kept in $dir"; else rm -rf "$dir"; fi
}
trap finish EXIT

as_server "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
  >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
port=$(( 20000 + RANDOM % 30000 ))
cp test/harness/valgrind.supp "$dir/valgrind.supp"
as_server valgrind --quiet --trace-children=yes --leak-check=no --num-callers=40 \
    --suppressions="$dir/valgrind.supp" --log-file="$dir/valgrind.%p.log" \
    "$bindir/postgres" -D "$dir/data" -p "$port" -c listen_addresses=127.0.0.1 \
    -c unix_socket_directories="$dir" -c fsync=off -c max_connections=20 -c jit=off \
    >"$dir/server.log" 2>&1 &
export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres
for _ in $(seq 1 600); do
  psql -X -q -At -d postgres -c 'SELECT 1' >/dev/null 2>&1 && break
  sleep 0.5
done
psql -X -q -At -d postgres -c 'SELECT 1' >/dev/null 2>&1 || { cat "$dir/server.log" >&2; exit 1; }
echo "valgrind: server under memcheck on 127.0.0.1:$port"

if [ -n "${VALGRIND_REGRESS:-}" ]; then
  make -s installcheck REGRESS="$VALGRIND_REGRESS"; rc=$?
else
  make -s installcheck; rc=$?
fi
[ -f regression.diffs ] && [ $rc -ne 0 ] && head -100 regression.diffs

as_server "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 300 stop >/dev/null 2>&1

# One valgrind error record runs from its description line to the next
# blank "==PID== " line.
counts=$(cat "$dir"/valgrind.*.log 2>/dev/null | awk '
  /^==[0-9]+== $/ { if (inrec) { total++; if (ours) mine++ } inrec = 0; ours = 0; next }
  /^==[0-9]+== [A-Z]/ && !inrec { inrec = 1 }
  inrec && /salesperf/ { ours = 1 }
  END { if (inrec) { total++; if (ours) mine++ } printf "%d %d\n", total + 0, mine + 0 }')
read -r total mine <<<"$counts"
if [ "$mine" -gt 0 ]; then
  cat "$dir"/valgrind.*.log | awk '/^==[0-9]+== $/ { if (ours) print rec; rec = ""; ours = 0; next }
                                  { rec = rec "\n" $0 } /salesperf/ { ours = 1 }' | head -200
fi
echo "valgrind: regression suite exit $rc; $total memcheck errors in all, $mine with a salesperf frame"
[ $rc -eq 0 ] && [ "$mine" -eq 0 ]
