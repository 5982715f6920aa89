#!/usr/bin/env bash
# P1 (SPEC §15): bulk ingest.  One INSERT ... SELECT of BENCH_P1_ROWS
# activities into salesperf.activity, with every derived table maintained
# (capped awards, KPI counters, four leaderboards), against the same
# INSERT ... SELECT into bench.plain_activity: the same columns, defaults
# and indexes, no triggers.  Both read the same pre-generated staging table.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

db=bench_p1
rows=$BENCH_P1_ROWS
reps=$BENCH_P1_REPS
teams=$(( (reps + 19) / 20 ))

say "P1: $(human "$rows") activities, $(human "$reps") reps in $teams teams, 4 leaderboards"
setup_company "$db" "$reps" "$teams"
q "$db" >/dev/null <<SQL
CREATE TABLE bench.staging AS
SELECT * FROM bench.activities(1, $rows, $reps, '2026-01-01', '2026-04-01');
VACUUM ANALYZE bench.staging;
SQL

cols="rep_id, kind, amount, occurred_at, source, source_key"
val "$db" "SELECT count(*) FROM bench.staging" >/dev/null   # warm the cache
val "$db" "CHECKPOINT" >/dev/null
plain=$(time_ms "$db" "INSERT INTO bench.plain_activity ($cols) SELECT $cols FROM bench.staging")
val "$db" "CHECKPOINT" >/dev/null
engine=$(time_ms "$db" "INSERT INTO salesperf.activity ($cols) SELECT $cols FROM bench.staging")

derived=$(val "$db" "SELECT format('%s counter rows, %s capped awards, %s standings',
                       (SELECT count(*) FROM salesperf.kpi_counter),
                       (SELECT count(*) FROM salesperf.capped_award),
                       (SELECT count(*) FROM salesperf.standing))")
note "P1: $(human "$rows") rows into the ledger in $(calc "$engine/1000" 1) s ($(calc "$rows/($engine/1000)" 0) rows/s) maintaining $derived; plain table $(calc "$plain/1000" 1) s ($(calc "$rows/($plain/1000)" 0) rows/s)"
result "P1 bulk INSERT … SELECT of $(human "$rows") activities" \
       "$(calc "$engine/1000" 1) s" \
       "$(calc "$plain/1000" 1) s (same INSERT, no triggers)" \
       "$(calc "$engine/$plain" 2)× the time" \
       "≤ 2× (aim 1.5×)"
drop_db "$db"
