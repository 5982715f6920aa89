#!/usr/bin/env bash
# P2 (SPEC §15): OLTP.  pgbench, BENCH_P2_CLIENTS clients, one activity per
# transaction:
#   plain      INSERT of one row into bench.plain_activity (no triggers)
#   spread     SELECT salesperf.record(...), client i records for reps of team i
#   one team   SELECT salesperf.record(...), every client on team 1, each with
#              its own reps
# The company has 8 teams of 100 reps, four leaderboards (one of them a team
# board) and a capped point rule on calls, and a month of history.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

db=bench_p2
clients=$BENCH_P2_CLIENTS
threads=$BENCH_P2_THREADS
secs=$BENCH_P2_SECONDS
history=${BENCH_P2_HISTORY:-100000}

say "P2: pgbench -c $clients -j $threads -T $secs, 800 reps in 8 teams, $(human "$history") activities of history"
setup_company "$db" 800 8
q "$db" -c "INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at, source, source_key)
            SELECT * FROM bench.activities(1, $history, 800, now() - interval '30 days', now())" \
        -c "VACUUM ANALYZE" >/dev/null

scripts=$(mktemp -d /tmp/salesperf-bench-p2.XXXXXX)
trap 'rm -rf "$scripts"' EXIT
# A CRM's mix of kinds: calls (capped rule), e-mails, meetings, messages, leads, deals.
kinds="(ARRAY['call','call','call','email','email','meeting','message','lead_created','lead_converted','deal_won'])[:k]"
common='\set k random(1, 10)
\set a random(30, 900)'
cat >"$scripts/plain.sql" <<SQL
$common
\set r random(1, 100)
INSERT INTO bench.plain_activity (rep_id, kind, amount, occurred_at) VALUES ((:client_id % 8) * 100 + :r, $kinds, :a, now());
SQL
cat >"$scripts/spread.sql" <<SQL
$common
\set r random(1, 100)
SELECT salesperf.record((:client_id % 8) * 100 + :r, $kinds, :a);
SQL
# Team 1 is reps 1..100; client i uses reps 12i+1 .. 12i+12.
cat >"$scripts/one_team.sql" <<SQL
$common
\set r random(1, 12)
SELECT salesperf.record((:client_id % 8) * 12 + :r, $kinds, :a);
SQL

# Prints the TPS; notes failures.
run_pgbench() {
  local name=$1 out tps failed
  val "$db" "CHECKPOINT" >/dev/null
  out=$("$PGBENCH" -n -M prepared -c "$clients" -j "$threads" -T "$secs" -f "$scripts/$name.sql" "$db" 2>&1) || {
    say "$out"; return 1; }
  tps=$(printf '%s\n' "$out" | sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p')
  failed=$(printf '%s\n' "$out" | sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p')
  lat=$(printf '%s\n' "$out" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p')
  note "P2 $name: $(calc "$tps" 0) TPS, latency $lat ms, failed transactions ${failed:-0}"
  printf '%s' "$tps"
}

plain=$(run_pgbench plain)
spread=$(run_pgbench spread)
one_team=$(run_pgbench one_team)

result "P2 OLTP: record(), $clients clients on 8 teams" \
       "$(calc "$spread" 0) TPS" \
       "$(calc "$plain" 0) TPS (plain single-row INSERT)" \
       "$(calc "100*$spread/$plain" 0)% of plain" \
       "≥ 50%"
result "P2 OLTP: record(), $clients clients on one team" \
       "$(calc "$one_team" 0) TPS" \
       "$(calc "$spread" 0) TPS (record(), 8 teams)" \
       "$(calc "100*$one_team/$spread" 0)% of 8 teams" \
       "≥ 80%"
drop_db "$db"
