#!/usr/bin/env bash
# Security suite: salesperf's access levels exercised by real, non-superuser
# logins.  Creates the login roles sp_admin, sp_writer, sp_reader, sp_rep,
# sp_manager and sp_intruder and a database with the extension (setup.sql), then runs one
# pgTAP file per role with `pg_prove -U <role>`, the hostile search_path and
# the advisory-lock checks, and a superuser file of catalog checks.
#
# Uses the cluster in PGHOST/PGPORT (as run_tests.sh sets them) or starts a
# throwaway one.  Prints each file's TAP and a closing line
#   security: N passed, M failed
# and exits non-zero on any failure.  The roles and the database are removed
# at the end.
set -uo pipefail
cd "$(dirname "$0")/../.."
dir=test/security

own_state=
if [ -z "${PGPORT:-}" ]; then
  own_state=$(mktemp /tmp/salesperf-security-state.XXXXXX)
  bash test/harness/cluster.sh start "$own_state" || exit 1
  # shellcheck disable=SC1090
  . "$own_state"
fi
export PGHOST PGPORT
su=${PGUSER:-postgres}
db=salesperf_security
roles=(sp_admin sp_writer sp_reader sp_rep sp_manager sp_intruder)
holder=

sql() { psql -X -q -v ON_ERROR_STOP=1 -U "$su" "$@"; }

cleanup() {
  if [ -n "$holder" ]; then kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null; fi
  sql -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
  for r in "${roles[@]}"; do sql -d postgres -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1; done
  if [ -n "$own_state" ]; then bash test/harness/cluster.sh stop "$own_state"; fi
}
trap cleanup EXIT

sql -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
for r in "${roles[@]}"; do
  sql -d postgres -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1
  sql -d postgres -c "CREATE ROLE $r LOGIN" >/dev/null || exit 1
done
sql -d postgres -c "CREATE DATABASE $db" >/dev/null || exit 1
if ! sql -d "$db" -f "$dir/setup.sql" >/dev/null; then
  echo "security: setup failed"
  echo "security: 0 passed, 1 failed"
  exit 1
fi

passed=0; failed=0

# Run one pgTAP file as one role; count its results.  A file that stops
# early counts every planned test it did not run as failed.
prove() {
  local role=$1 file=$2 out ok notok plan ran missing
  out=$(pg_prove -v -U "$role" -d "$db" "$dir/$file" 2>&1)
  printf '%s\n' "$out"
  ok=$(printf '%s\n' "$out" | grep -cE '^(.* \.\. )?ok [0-9]+')
  notok=$(printf '%s\n' "$out" | grep -cE '^(.* \.\. )?not ok [0-9]+')
  plan=$(printf '%s\n' "$out" | sed -nE 's/^(.* \.\. )?1\.\.([0-9]+)$/\2/p' | head -1)
  ran=$((ok + notok))
  if [ -z "$plan" ]; then
    missing=1
  else
    missing=$((plan > ran ? plan - ran : 0))
  fi
  passed=$((passed + ok)); failed=$((failed + notok + missing))
}

prove sp_admin    as_admin.sql
prove sp_writer   as_writer.sql
prove sp_reader   as_reader.sql
prove sp_rep      as_rep.sql
prove sp_manager  as_manager.sql
prove sp_intruder as_intruder.sql
prove sp_writer   as_writer_hostile_path.sql

# A stranger holds the advisory locks salesperf's writers used to take, in
# an open transaction, while the writer records.
psql -X -q -U sp_intruder -d "$db" >/dev/null 2>&1 <<'SQL' &
BEGIN;
SELECT pg_catalog.pg_advisory_xact_lock(1936483696, 0);
SELECT pg_catalog.pg_advisory_xact_lock(1936483697, pg_catalog.hashint8(103));
SELECT pg_catalog.pg_sleep(120);
COMMIT;
SQL
holder=$!
for _ in $(seq 1 100); do
  n=$(sql -d "$db" -Atc "SELECT count(*) FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a USING (pid)
                         WHERE l.locktype = 'advisory' AND l.granted AND a.usename = 'sp_intruder'")
  [ "${n:-0}" -ge 2 ] && break
  sleep 0.1
done
prove sp_writer as_writer_while_locked.sql
# End the lock holder's backend (the session started above) and its client.
sql -d "$db" -Atc "SELECT pg_catalog.pg_terminate_backend(a.pid) FROM pg_catalog.pg_stat_activity a
                   WHERE a.usename = 'sp_intruder' AND a.datname = '$db'" >/dev/null
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null; holder=

prove "$su" as_superuser.sql

echo "security: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
