#!/usr/bin/env bash
# P1 (SPEC §15): bulk ingest.  One INSERT ... SELECT of BENCH_P1_ROWS
# activities into salesperf.activity, with every derived table maintained
# (capped awards, KPI counters, four leaderboards), against the same
# INSERT ... SELECT into bench.plain_activity: the same columns, defaults
# and indexes, no triggers.  Both read the same pre-generated staging table
# and already hold the same month of history (a tenth as many rows);
# BENCH_BACK_DATED of the new rows are dated into that month.
# With pg_ivm (BENCH_IVM=1, see run.sh) also the peer's uncapped work:
#   - salesperf without the capped rule, with one points board (its
#     counters, awards and that board maintained) in a second database;
#   - the same INSERT into a plain ledger under pg_ivm's views of the
#     counters and of a points board (lib/ivm_peer.sql).
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

db=bench_p1
rows=$BENCH_P1_ROWS
reps=$BENCH_P1_REPS
teams=$(( (reps + 19) / 20 ))

say "P1: $(human "$rows") activities, $(human "$reps") reps in $teams teams, 4 leaderboards"
setup_company "$db" "$reps" "$teams"
history=$(( rows / 10 ))
cols="rep_id, kind, amount, occurred_at, source, source_key"
q "$db" >/dev/null <<SQL
CREATE TABLE bench.history AS
SELECT * FROM bench.activities($rows + 1, $rows + $history, $reps, '2025-12-01', '2026-01-01');
CREATE TABLE bench.staging AS
SELECT * FROM bench.activities(1, $rows, $reps, '2026-01-01', '2026-04-01', $BENCH_BACK_DATED);
INSERT INTO salesperf.activity ($cols) SELECT $cols FROM bench.history;
INSERT INTO bench.plain_activity ($cols) SELECT $cols FROM bench.history;
VACUUM ANALYZE;
SQL
late=$(val "$db" "SELECT count(*) FROM bench.staging WHERE occurred_at < '2026-01-01'")
note "P1: the ledger holds $(human "$history") activities of history; $(human "$late") of the $(human "$rows") new rows are dated into it"

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

if [ "${BENCH_IVM:-0}" = 1 ]; then
  # salesperf doing the work pg_ivm can express: uncapped rules, one board.
  q "$db" -c "DELETE FROM salesperf.leaderboard WHERE name <> 'points_month'" \
          -c "DELETE FROM salesperf.badge_rule" \
          -c "DELETE FROM salesperf.point_rule WHERE daily_cap IS NOT NULL" \
          -c "TRUNCATE salesperf.activity" -c "SELECT salesperf.recompute()" \
          -c "INSERT INTO salesperf.activity ($cols) SELECT $cols FROM bench.history" >/dev/null
  q "$db" -v with_views=0 -f "$BENCH_DIR/lib/ivm_peer.sql" >/dev/null
  q "$db" -c "INSERT INTO bench.ivm_activity ($cols) SELECT $cols FROM bench.history" >/dev/null
  q "$db" -v with_views=only -f "$BENCH_DIR/lib/ivm_peer.sql" -c "VACUUM ANALYZE" >/dev/null
  val "$db" "CHECKPOINT" >/dev/null
  uncapped=$(time_ms "$db" "INSERT INTO salesperf.activity ($cols) SELECT $cols FROM bench.staging")
  val "$db" "CHECKPOINT" >/dev/null
  ivm=$(time_ms "$db" "INSERT INTO bench.ivm_activity ($cols) SELECT $cols FROM bench.staging")
  note "P1 (uncapped, 1 board): salesperf $(calc "$uncapped/1000" 1) s; pg_ivm (counters + points board) $(calc "$ivm/1000" 1) s; plain $(calc "$plain/1000" 1) s"
  result "P1 uncapped rules, 1 points board: $(human "$rows") activities" \
         "$(calc "$uncapped/1000" 1) s ($(calc "$uncapped/$plain" 2)× plain)" \
         "pg_ivm, counters + points board: $(calc "$ivm/1000" 1) s ($(calc "$ivm/$plain" 2)× plain)" \
         "$(faster "$ivm" "$uncapped")" \
         "≤ pg_ivm's ratio"
fi
drop_db "$db"
