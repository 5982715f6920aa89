#!/usr/bin/env bash
# P2 (SPEC §15): OLTP.  pgbench, BENCH_P2_CLIENTS clients, one activity per
# transaction:
#   plain        INSERT of one row into bench.plain_activity (no triggers)
#   spread       SELECT salesperf.record(...), client i records for the 100
#                reps of team i
#   8 teams      the same, but client i uses only 12 reps of team i
#   one team     every client on team 1, client i with its own 12 reps
# "one team" is compared with "8 teams": the same number of reps and so the
# same activities per rep and day (a capped rule re-derives the rep's day,
# which costs more the busier the day), so the ratio shows what sharing a
# team costs and nothing else.  Every run starts from a copy of the same
# database: 8 teams of 100 reps, four leaderboards (one of them a team
# board), a capped point rule on calls, and a month of history.  One write
# in twenty (BENCH_BACK_DATED) is entered late, dated up to a week back.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

db=bench_p2
clients=$BENCH_P2_CLIENTS
threads=$BENCH_P2_THREADS
secs=$BENCH_P2_SECONDS
history=${BENCH_P2_HISTORY:-100000}

say "P2: pgbench -c $clients -j $threads -T $secs, 800 reps in 8 teams, $(human "$history") activities of history"
base=bench_p2_base
setup_company "$base" 800 8
q "$base" -c "INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at, source, source_key)
              SELECT * FROM bench.activities(1, $history, 800, now() - interval '30 days', now())" \
          -c "VACUUM ANALYZE" >/dev/null
if [ "${BENCH_IVM:-0}" = 1 ]; then
  q "$base" -v with_views=0 -f "$BENCH_DIR/lib/ivm_peer.sql" >/dev/null
  q "$base" -c "INSERT INTO bench.ivm_activity SELECT * FROM salesperf.activity" \
        -c "SELECT setval(pg_get_serial_sequence('bench.ivm_activity', 'activity_id'), max(activity_id)) FROM bench.ivm_activity" >/dev/null
  q "$base" -v with_views=only -f "$BENCH_DIR/lib/ivm_peer.sql" >/dev/null
  q "$base" -c "VACUUM ANALYZE" >/dev/null
fi
psql -X -q -d postgres -c "ALTER SYSTEM SET fsync = on" -c "SELECT pg_reload_conf()" >/dev/null
# A setting given on the server's command line would outrank ALTER SYSTEM
# and leave fsync off without a word: check that the commits are durable.
for _ in 1 2 3 4 5 6 7 8 9 10; do
  [ "$(val postgres "SHOW fsync")" = on ] && break
  sleep 0.5
done
[ "$(val postgres "SHOW fsync")" = on ] || { say "P2: fsync could not be turned on; not measured"; exit 1; }
restore_fsync() {
  psql -X -q -d postgres -c "ALTER SYSTEM RESET fsync" -c "SELECT pg_reload_conf()" >/dev/null || true
}

scripts=$(mktemp -d /tmp/salesperf-bench-p2.XXXXXX)
trap 'rm -rf "$scripts"; restore_fsync' EXIT
# A CRM's mix of kinds: calls (capped rule), e-mails, meetings, messages, leads, deals.
kinds="(ARRAY['call','call','call','email','email','meeting','message','lead_created','lead_converted','deal_won'])[:k]"
late_per_10000=$(calc "$BENCH_BACK_DATED * 10000" 0)
common="\\set k random(1, 10)
\\set a random(30, 900)
\\set late random(0, 9999)
\\set ago random(1, 604800)"
# now(), or for a late write a time up to a week back.
at="now() - CASE WHEN :late < $late_per_10000 THEN :ago ELSE 0 END * interval '1 second'"
cat >"$scripts/plain.sql" <<SQL
$common
\set r random(1, 100)
INSERT INTO bench.plain_activity (rep_id, kind, amount, occurred_at) VALUES ((:client_id % 8) * 100 + :r, $kinds, :a, $at);
SQL
cat >"$scripts/ivm.sql" <<SQL
$common
\set r random(1, 100)
INSERT INTO bench.ivm_activity (rep_id, kind, amount, occurred_at) VALUES ((:client_id % 8) * 100 + :r, $kinds, :a, $at);
SQL
cat >"$scripts/spread.sql" <<SQL
$common
\set r random(1, 100)
SELECT salesperf.record((:client_id % 8) * 100 + :r, $kinds, :a, $at);
SQL
cat >"$scripts/eight_teams.sql" <<SQL
$common
\set r random(1, 12)
SELECT salesperf.record((:client_id % 8) * 100 + :r, $kinds, :a, $at);
SQL
# Team 1 is reps 1..100; client i uses reps 12i+1 .. 12i+12.
cat >"$scripts/one_team.sql" <<SQL
$common
\set r random(1, 12)
SELECT salesperf.record((:client_id % 8) * 12 + :r, $kinds, :a, $at);
SQL

# Runs one script on a fresh copy of the base database; prints the TPS.
run_pgbench() {
  local name=$1 out tps failed lat
  PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $db" \
       -c "CREATE DATABASE $db TEMPLATE $base" -c "CHECKPOINT" >/dev/null
  out=$(PGOPTIONS='-c synchronous_commit=on' "$PGBENCH" -n -M prepared -c "$clients" -j "$threads" -T "$secs" -f "$scripts/$name.sql" "$db" 2>&1) || {
    say "$out"; return 1; }
  tps=$(printf '%s\n' "$out" | sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p')
  failed=$(printf '%s\n' "$out" | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p')
  lat=$(printf '%s\n' "$out" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p')
  note "P2 $name: $(calc "$tps" 0) TPS, latency $lat ms, failed transactions ${failed:-0}"
  drop_db "$db"
  printf '%s' "$tps"
}

plain=$(run_pgbench plain)
spread=$(run_pgbench spread)
eight_teams=$(run_pgbench eight_teams)
one_team=$(run_pgbench one_team)
[ "${BENCH_IVM:-0}" = 1 ] && ivm=$(run_pgbench ivm)
restore_fsync

result "P2 OLTP: record(), $clients clients on 8 teams (800 reps)" \
       "$(calc "$spread" 0) TPS" \
       "$(calc "$plain" 0) TPS (plain single-row INSERT)" \
       "$(calc "100*$spread/$plain" 0)% of plain" \
       "≥ 50%"
if [ "${BENCH_IVM:-0}" = 1 ]; then
  result "P2 OLTP peer: pg_ivm, $clients clients, single-row INSERT under its views" \
         "$(calc "$spread" 0) TPS (record(), 8 teams)" \
         "$(calc "$ivm" 0) TPS (pg_ivm: $(calc "100*$ivm/$plain" 0)% of plain)" \
         "$(faster "$spread" "$ivm")" \
         "ahead of pg_ivm"
fi
result "P2 OLTP: record(), $clients clients on one team (96 reps)" \
       "$(calc "$one_team" 0) TPS" \
       "$(calc "$eight_teams" 0) TPS (record(), 8 teams, 96 reps)" \
       "$(calc "100*$one_team/$eight_teams" 0)% of 8 teams" \
       "≥ 80%"
drop_db "$base"
