# Shared by the concurrency scripts in this directory (sourced, not run: the
# harness runs *.sh only).  Before sourcing, set `name` (used in messages and
# in the database name).  Gives:
#   $db, $work       a fresh database (created here) and a scratch directory,
#                    both removed on exit (the drop is retried: after a
#                    backend crash the server refuses connections while it
#                    recovers; SALESPERF_CONC_KEEP=1 keeps the directory,
#                    with pgbench's and psql's outputs, to look at);
#   $pgbench         the pgbench of the PostgreSQL under test;
#   q                psql on $db, stops at the first error, unaligned output;
#   fail MSG         prints MSG and exits 1;
#   log_mark / log_grep PATTERN
#                    remember the end of the server log, then count the lines
#                    written since that match PATTERN (-1 when the log cannot
#                    be read: SALESPERF_CLUSTER unset or not readable);
#   deadlocks        pg_stat_database.deadlocks of $db;
#   derived_report, check_derived, report_value
#                    derived state against the ledger and against
#                    recompute() (see below);
#   pgbench_field FILE LABEL
#                    a number from pgbench's summary;
#   background_pids  processes to end on exit (append yours);
#   session_a_start [errors_allowed], a SQL
#                    a second session that stays open: a runs SQL in it and
#                    waits until it is done (the session's output is in
#                    $work/a.out); an ERROR fails the test unless the
#                    session was started with errors_allowed.
# shellcheck shell=bash

: "${name:?set name before sourcing common.bash}"
db=salesperf_${name}_$$

pgbench=
for candidate in "$( (${PG_CONFIG:-pg_config} --bindir || pg_config --bindir) 2>/dev/null)/pgbench" \
                 /usr/lib/postgresql/15/bin/pgbench "$(command -v pgbench || true)"; do
  if [ -x "$candidate" ]; then pgbench=$candidate; break; fi
done
[ -n "$pgbench" ] || { echo "$name: pgbench not found" >&2; exit 1; }

work=$(mktemp -d "/tmp/salesperf-$name.XXXXXX")
background_pids=()
cleanup() {
  local pid
  for pid in "${background_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 && break
    sleep 1
  done
  [ -n "${SALESPERF_CONC_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "$name: FAILED: $*" >&2; exit 1; }

q() { psql -X -q -v ON_ERROR_STOP=1 -At -d "$db" "$@"; }

psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $db" >/dev/null

server_log=
log_offset=0
log_mark() {
  server_log=
  if [ -n "${SALESPERF_CLUSTER:-}" ] && [ -r "$SALESPERF_CLUSTER/server.log" ]; then
    server_log=$SALESPERF_CLUSTER/server.log
    log_offset=$(stat -c %s "$server_log")
  fi
}
log_grep() {
  if [ -z "$server_log" ]; then echo -1; return; fi
  tail -c +"$((log_offset + 1))" "$server_log" | grep -c -- "$1" || true
}

# Deadlocks the server counted in this database (pg_stat_database; the
# statistics of a backend reach it when the backend goes idle or exits).
deadlocks() {
  q -c "SELECT pg_stat_clear_snapshot(); SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()" | tail -1
}

# Derived state against the ledger and against recompute().  Prints lines
#   totals N     (rep, kind) pairs whose counters disagree with the ledger
#                (number of activities or sum of amounts)
#   award N      rows of capped_award that differ from what recompute() builds
#   counter N    same for kpi_counter
#   standing N   same for standing
#   orphans N    activities whose rep is not in salesperf.rep
#   activities N the ledger's size
# recompute() runs in a transaction that is rolled back.
derived_report() {
  q <<'SQL'
BEGIN;
CREATE TEMP TABLE m_award ON COMMIT DROP AS SELECT * FROM salesperf.capped_award;
CREATE TEMP TABLE m_counter ON COMMIT DROP AS SELECT * FROM salesperf.kpi_counter;
CREATE TEMP TABLE m_standing ON COMMIT DROP AS SELECT * FROM salesperf.standing;
SELECT 'totals ' || count(*) FROM (
    SELECT a.rep_id, a.kind, count(*) AS n, sum(a.amount) AS amount
      FROM salesperf.activity a GROUP BY 1, 2) l
  FULL JOIN (
    SELECT c.rep_id, c.kind, sum(c.activities) AS n, sum(c.amount) AS amount
      FROM salesperf.kpi_counter c GROUP BY 1, 2) c USING (rep_id, kind)
 WHERE l.n IS DISTINCT FROM c.n OR l.amount IS DISTINCT FROM c.amount;
SELECT 'orphans ' || count(*) FROM salesperf.activity a
 WHERE NOT EXISTS (SELECT 1 FROM salesperf.rep r WHERE r.rep_id = a.rep_id);
SELECT 'activities ' || count(*) FROM salesperf.activity;
-- the score bands as the concurrent writers left them, against a recount
SELECT 'tally ' || count(*)
  FROM (SELECT board_id, period_start, bucket, sum(participants) AS n FROM salesperf.standing_tally
         GROUP BY 1, 2, 3 HAVING sum(participants) <> 0) t
  FULL JOIN (SELECT board_id, period_start, salesperf.score_bucket(sort_score) AS bucket, count(*) AS n
               FROM salesperf.standing WHERE participant_id = contributor_id AND sort_score IS NOT NULL
              GROUP BY 1, 2, 3) s USING (board_id, period_start, bucket)
 WHERE t.n IS DISTINCT FROM s.n;
SELECT salesperf.recompute();
SELECT 'award ' || count(*) FROM (
    (SELECT * FROM m_award EXCEPT ALL SELECT * FROM salesperf.capped_award)
    UNION ALL
    (SELECT * FROM salesperf.capped_award EXCEPT ALL SELECT * FROM m_award)) x;
SELECT 'counter ' || count(*) FROM (
    (SELECT * FROM m_counter EXCEPT ALL SELECT * FROM salesperf.kpi_counter)
    UNION ALL
    (SELECT * FROM salesperf.kpi_counter EXCEPT ALL SELECT * FROM m_counter)) x;
SELECT 'standing ' || count(*) FROM (
    (SELECT * FROM m_standing EXCEPT ALL SELECT * FROM salesperf.standing)
    UNION ALL
    (SELECT * FROM salesperf.standing EXCEPT ALL SELECT * FROM m_standing)) x;
ROLLBACK;
SQL
}

# report_value REPORT KEY: the number after KEY in a derived_report output.
report_value() { printf '%s\n' "$1" | sed -n "s/^$2 //p"; }

# check_derived REPORT: fail unless the counters add up to the ledger, the
# score bands add up to the standings, and every derived table equals
# recompute().
check_derived() {
  local t
  [ "$(report_value "$1" totals)" = 0 ] ||
    fail "counters disagree with the ledger for $(report_value "$1" totals) (rep, kind) pairs"
  for t in award counter standing; do
    [ "$(report_value "$1" $t)" = 0 ] ||
      fail "$(report_value "$1" $t) rows of the maintained $t table differ from recompute()"
  done
  [ "$(report_value "$1" tally)" = 0 ] ||
    fail "$(report_value "$1" tally) score bands of the maintained tally differ from a recount of the standings"
}

# pgbench_field FILE PATTERN: the number after "PATTERN: " in pgbench output.
pgbench_field() { sed -n "s/^$2: \([0-9]*\).*/\1/p" "$1" | head -1; }

# session_a_start [errors_allowed]: open session A (see the header).
session_a_errors_allowed=
session_a_steps=0
session_a_start() {
  session_a_errors_allowed=${1:-}
  mkfifo "$work/a.in"
  # Created here: psql's own redirection opens it only once the FIFO has a
  # writer, and a caller reading it before then would stop the script.
  : >"$work/a.out"
  if [ -n "$session_a_errors_allowed" ]; then
    psql -X -q -At -v VERBOSITY=sqlstate -d "$db" <"$work/a.in" >"$work/a.out" 2>&1 &
  else
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" <"$work/a.in" >"$work/a.out" 2>&1 &
  fi
  background_pids+=("$!")
  exec 3>"$work/a.in"
}
a() {
  session_a_steps=$((session_a_steps + 1))
  printf '%s\nSELECT %s;\n' "$1" "'step $session_a_steps done'" >&3
  for _ in $(seq 1 600); do
    grep -q "^step $session_a_steps done\$" "$work/a.out" && return 0
    if [ -z "$session_a_errors_allowed" ] && grep -q 'ERROR' "$work/a.out"; then
      cat "$work/a.out" >&2; fail "session A failed"
    fi
    sleep 0.1
  done
  cat "$work/a.out" >&2
  fail "session A did not finish step $session_a_steps"
}
