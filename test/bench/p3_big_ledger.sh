#!/usr/bin/env bash
# P3, P7 and P6 (SPEC §15) on one big ledger: BENCH_BIG_REPS reps (20 per
# team) and BENCH_BIG_ROWS activities over twelve months, loaded month by
# month through the ledger triggers (the P1 path) so that the derived state
# is the incrementally maintained one; BENCH_BACK_DATED of each month's rows
# are dated into the 30 days before it.  If the load outlasts
# BENCH_BIG_BUDGET seconds it stops after the current month and the
# benchmarks run on what was loaded (the notes say how much).
#   P3  leaderboard_top(board, 10) and leaderboard_rank(board, rep) on the
#       monthly points board, against GROUP BY rep + rank() over the ledger
#       computing the same numbers from the ledger and the point rules.
#       With pg_ivm (BENCH_IVM=1, see run.sh) also against its points board
#       over a copy of the ledger (lib/ivm_peer.sql): the top 10 read from
#       an index, a rank counted above the rep's score.
#   P7  kpi_value('calls', 'rep', r, 'month') against COUNT(*) over the ledger.
#   commission_statement for one rep and for the whole company against the
#       same statement computed with plain SQL from the ledger.
#   P6  recompute(), then the state must equal the maintained one (EXCEPT ALL
#       both ways); beside it, the time of a bare GROUP BY rebuild of the
#       counters, the least any rebuild from the ledger can cost.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

db=bench_big
reps=$BENCH_BIG_REPS
rows=$BENCH_BIG_ROWS
teams=$(( (reps + 19) / 20 ))
months=12
per_month=$(( rows / months ))

say "P3/P6/P7: $(human "$reps") reps in $(human "$teams") teams, $(human "$rows") activities over $months months"
t0=$(date +%s.%N)
setup_company "$db" "$reps" "$teams"
note "big ledger: company of $(human "$reps") reps set up in $(calc "$(date +%s.%N) - $t0" 1) s"

# ---- load, month by month, through the triggers ---------------------------
load_start=$(date +%s.%N)
loaded=0; m=0; last_month=
while [ $m -lt $months ]; do
  first=$(( loaded + 1 )); last=$(( m == months - 1 ? rows : loaded + per_month ))
  from=$(date -u -d "2025-12-01 +$m month" +%F); to=$(date -u -d "2025-12-01 +$((m + 1)) month" +%F)
  ms=$(time_ms "$db" "INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at, source, source_key)
                     SELECT * FROM bench.activities($first, $last, $reps, '$from', '$to', $BENCH_BACK_DATED)")
  loaded=$last; last_month=$from; m=$((m + 1))
  say "  month $from: $(human $((last - first + 1))) rows in $(calc "$ms/1000" 1) s (ledger $(human $loaded))"
  elapsed=$(calc "$(date +%s.%N) - $load_start" 0)
  if [ $m -lt $months ] && [ "$elapsed" -gt "$BENCH_BIG_BUDGET" ]; then
    note "big ledger: load stopped after $m of $months months ($elapsed s > budget BENCH_BIG_BUDGET=$BENCH_BIG_BUDGET s)"
    break
  fi
done
load_s=$(calc "$(date +%s.%N) - $load_start" 1)
note "big ledger: $(human $loaded) activities loaded through the triggers in $m monthly INSERT … SELECTs: $load_s s ($(calc "$loaded/$load_s" 0) rows/s, generation included)"
vac=$(time_ms "$db" "VACUUM ANALYZE")
note "big ledger: VACUUM ANALYZE $(calc "$vac/1000" 1) s; sizes: $(val "$db" "SELECT string_agg(format('%s %s', c.relname, pg_size_pretty(pg_total_relation_size(c.oid))), ', ' ORDER BY c.relname) FROM pg_class c WHERE c.oid IN ('salesperf.activity'::regclass, 'salesperf.kpi_counter'::regclass, 'salesperf.capped_award'::regclass, 'salesperf.standing'::regclass)")"

at="$(date -u -d "$last_month +14 days" +%F) 12:00+00"
m0=$last_month; m1=$(date -u -d "$last_month +1 month" +%F)
month_rows=$(val "$db" "SELECT count(*) FROM salesperf.activity WHERE occurred_at >= '$m0' AND occurred_at < '$m1'")
label="$(human "$reps") reps, $(human "$loaded") activities"

# The honest alternative: points per rep in [m0, m1) from the ledger and the
# rules.  Capped rules earn non-negative points in order until the day's cap,
# so a day earns least(raw sum, cap) from each.
q "$db" >/dev/null <<'SQL'
CREATE FUNCTION bench.ledger_points(m0 timestamptz, m1 timestamptz)
RETURNS TABLE (rep_id bigint, score numeric)
LANGUAGE sql STABLE
AS $$
  WITH a AS (
      SELECT a.rep_id, a.kind, a.amount, a.occurred_at, (a.occurred_at AT TIME ZONE 'UTC')::date AS day
        FROM salesperf.activity a
       WHERE a.occurred_at >= m0 AND a.occurred_at < m1),
  per_day AS (
      SELECT a.rep_id, a.day, r.rule_id, r.daily_cap, sum(r.points + r.points_per_amount * a.amount) AS raw
        FROM a JOIN salesperf.point_rule r ON r.kind = a.kind AND r.active AND r.valid @> a.occurred_at
       GROUP BY 1, 2, 3, 4
      UNION ALL
      SELECT a.rep_id, a.day, NULL, NULL, sum(a.amount) FROM a WHERE a.kind = 'bonus' GROUP BY 1, 2)
  SELECT rep_id, sum(CASE WHEN daily_cap IS NULL THEN raw ELSE least(raw, daily_cap) END)
    FROM per_day GROUP BY rep_id
$$;
CREATE FUNCTION bench.ledger_top(m0 timestamptz, m1 timestamptz, n integer)
RETURNS TABLE (rank bigint, rep_id bigint, score numeric)
LANGUAGE sql STABLE
AS $$
  SELECT rank() OVER (ORDER BY p.score DESC), p.rep_id, p.score
    FROM bench.ledger_points(m0, m1) p ORDER BY p.score DESC, p.rep_id LIMIT n
$$;
CREATE FUNCTION bench.ledger_rank(m0 timestamptz, m1 timestamptz, rep bigint)
RETURNS TABLE (rank bigint, score numeric)
LANGUAGE sql STABLE
AS $$
  SELECT x.rank, x.score
    FROM (SELECT p.rep_id, p.score, rank() OVER (ORDER BY p.score DESC) AS rank
            FROM bench.ledger_points(m0, m1) p) x
   WHERE x.rep_id = rep
$$;
SQL

# median_ms SQL RUNS: median of RUNS timed executions after one warm-up ($1 = run number).
median_ms() {
  val "$db" "SELECT bench.median(bench.timings(\$q\$$1\$q\$, $2))
               FROM (SELECT bench.timings(\$q\$$1\$q\$, 1)) warm"
}
rep_of_run="1 + (\$1 * 7919) % $reps"

# ---- P3 ---------------------------------------------------------------------
say "P3: month of $m0 ($(human "$month_rows") activities), $BENCH_RUNS runs, alternative $BENCH_ALT_RUNS runs"
top=$(median_ms "SELECT * FROM salesperf.leaderboard_top('points_month', 10, '$at')" "$BENCH_RUNS")
rank=$(median_ms "SELECT * FROM salesperf.leaderboard_rank('points_month', $rep_of_run, '$at')" "$BENCH_RUNS")
alt_top=$(median_ms "SELECT * FROM bench.ledger_top('$m0', '$m1', 10)" "$BENCH_ALT_RUNS")
alt_rank=$(median_ms "SELECT * FROM bench.ledger_rank('$m0', '$m1', $rep_of_run)" "$BENCH_ALT_RUNS")
# Compared as numbers: a board shows 213.3411 where the ledger sum is 213.34110.
same_top=$(val "$db" "SELECT (SELECT array_agg(ARRAY[rank, score] ORDER BY rank, score) FROM salesperf.leaderboard_top('points_month', 10, '$at'))
                           = (SELECT array_agg(ARRAY[rank, score] ORDER BY rank, score) FROM bench.ledger_top('$m0', '$m1', 10))")
same_rank=$(val "$db" "SELECT bool_and((SELECT rank FROM salesperf.leaderboard_rank('points_month', r, '$at'))
                                       = (SELECT rank FROM bench.ledger_rank('$m0', '$m1', r)))
                         FROM (VALUES (1), (7919 % $reps + 1), ($reps)) v(r)")
note "P3: same top 10 as the ledger query: $same_top; same rank for 3 sampled reps: $same_rank"
result "P3 leaderboard_top(board, 10), $label" "$(calc "$top" 3) ms" \
       "$(calc "$alt_top" 1) ms (GROUP BY rep + rank() over the ledger)" \
       "$(faster "$alt_top" "$top")" "< 0.3 ms; ≥ 1000× faster"
result "P3 leaderboard_rank(board, rep), $label" "$(calc "$rank" 3) ms" \
       "$(calc "$alt_rank" 1) ms (GROUP BY rep + rank() over the ledger)" \
       "$(faster "$alt_rank" "$rank")" "< 1 ms; ≥ 1000× faster"

if [ "${BENCH_IVM:-0}" = 1 ]; then
  q "$db" -v with_views=0 -f "$BENCH_DIR/lib/ivm_peer.sql" >/dev/null
  q "$db" -c "INSERT INTO bench.ivm_activity SELECT * FROM salesperf.activity" \
        -c "SELECT setval(pg_get_serial_sequence('bench.ivm_activity', 'activity_id'), max(activity_id)) FROM bench.ivm_activity" >/dev/null
  t_immv=$(date +%s.%N)
  q "$db" -v with_views=only -f "$BENCH_DIR/lib/ivm_peer.sql" >/dev/null
  note "P3 peer: pg_ivm's two views built over the copied ledger in $(calc "$(date +%s.%N) - $t_immv" 1) s"
  q "$db" -c "VACUUM ANALYZE bench.ivm_board" >/dev/null
  month_ts="$m0 00:00"
  ivm_top=$(median_ms "SELECT rank() OVER (ORDER BY t.points DESC), t.rep_id, t.points
                         FROM (SELECT b.rep_id, b.points FROM bench.ivm_board b
                                WHERE b.month = '$month_ts' ORDER BY b.points DESC LIMIT 10) t" "$BENCH_RUNS")
  ivm_rank=$(median_ms "SELECT count(*) + 1 FROM bench.ivm_board b
                         WHERE b.month = '$month_ts'
                           AND b.points > (SELECT o.points FROM bench.ivm_board o
                                            WHERE o.rep_id = $rep_of_run AND o.month = '$month_ts')" "$BENCH_RUNS")
  result "P3 peer: top 10, $label" "$(calc "$top" 3) ms (leaderboard_top)" \
         "$(calc "$ivm_top" 3) ms (pg_ivm: index scan of its points board, rank() over the 10)" \
         "$(faster "$ivm_top" "$top")" "ahead of pg_ivm"
  result "P3 peer: a rep's rank, $label" "$(calc "$rank" 3) ms (leaderboard_rank)" \
         "$(calc "$ivm_rank" 3) ms (pg_ivm: count of its board above the rep's score)" \
         "$(faster "$ivm_rank" "$rank")" "ahead of pg_ivm"
fi

# ---- P7 ---------------------------------------------------------------------
p7_runs=$(( BENCH_RUNS * 20 ))
say "P7: kpi_value, $p7_runs calls"
kpi=$(median_ms "SELECT salesperf.kpi_value('calls', 'rep', $rep_of_run, 'month', '$at')" "$p7_runs")
alt_kpi=$(median_ms "SELECT count(*) FROM salesperf.activity
                      WHERE rep_id = $rep_of_run AND kind = 'call' AND occurred_at >= '$m0' AND occurred_at < '$m1'" "$p7_runs")
same_kpi=$(val "$db" "SELECT bool_and(salesperf.kpi_value('calls', 'rep', r, 'month', '$at')
                                      = (SELECT count(*) FROM salesperf.activity
                                          WHERE rep_id = r AND kind = 'call' AND occurred_at >= '$m0' AND occurred_at < '$m1'))
                        FROM generate_series(1, $reps, greatest($reps / 97, 1)) r")
note "P7: kpi_value equals the ledger count for sampled reps: $same_kpi"
result "P7 kpi_value('calls', 'rep', r, 'month'), $label" "$(calc "$kpi" 3) ms" \
       "$(calc "$alt_kpi" 3) ms (COUNT(*) over the ledger, index on rep_id, occurred_at)" \
       "$(faster "$alt_kpi" "$kpi")" "< 1 ms from counters"

# P7 also covers target_progress for one rep: a calls target for every rep
# this month, read against the same COUNT(*) alternative plus the target.
q "$db" >/dev/null <<SQL
SELECT salesperf.set_target('calls', 'rep', r, 'month', '$at', 40) FROM generate_series(1, $reps) r;
SQL
tp=$(median_ms "SELECT * FROM salesperf.target_progress_at('$at', 'rep', $rep_of_run)" "$p7_runs")
alt_tp=$(median_ms "SELECT count(*), count(*) / 40.0 FROM salesperf.activity
                     WHERE rep_id = $rep_of_run AND kind = 'call' AND occurred_at >= '$m0' AND occurred_at < '$at'" "$p7_runs")
result "P7 target_progress_at(at, 'rep', r), one monthly target, $label" "$(calc "$tp" 3) ms" \
       "$(calc "$alt_tp" 3) ms (COUNT(*) to date over the ledger ÷ target)" \
       "$(faster "$alt_tp" "$tp")" "< 1 ms from counters"

# ---- commission ---------------------------------------------------------------
# SPEC §10 statements on the same company: half the reps on a quota plan
# (60 % individual, 40 % team, threshold / accelerator / cap curve, team
# bonus), half on a graduated rate plan, a revenue target for every rep.
# The alternative computes the same statement with plain SQL from the
# ledger (deals by rep and by the team the rep was in then, targets summed
# per team, tiers and curve written out), as a CRM would without salesperf.
q "$db" >/dev/null <<SQL
INSERT INTO salesperf.commission_plan
       (name, basis_kpi, period, kind, target_incentive, individual_weight, team_weight, curve_x, curve_y, team_bonus)
VALUES ('bench_quota', 'revenue', 'month', 'quota', 5000, 0.6, 0.4, '{0.5,1,1.5}', '{0,1,2}', 200);
INSERT INTO salesperf.commission_plan (name, basis_kpi, period, kind, breakpoints, rates)
VALUES ('bench_rate', 'revenue', 'month', 'rate', '{0,20000,50000}', '{0.05,0.08,0.12}');
INSERT INTO salesperf.plan_assignment (rep_id, plan, during)
SELECT r, CASE WHEN r % 2 = 0 THEN 'bench_quota' ELSE 'bench_rate' END, tstzrange('2025-01-01', NULL)
  FROM generate_series(1, $reps) r;
SELECT count(salesperf.set_target('revenue', 'rep', r, 'month', '$at', 15000 + (r % 7) * 5000))
  FROM generate_series(1, $reps) r;
ANALYZE salesperf.plan_assignment; ANALYZE salesperf.target;
CREATE FUNCTION bench.curve(a numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS \$\$
  SELECT CASE WHEN a IS NULL OR a <= 0.5 THEN 0 WHEN a <= 1 THEN (a - 0.5) / 0.5
              WHEN a <= 1.5 THEN 1 + (a - 1) / 0.5 ELSE 2 END
\$\$;
CREATE FUNCTION bench.ledger_statement(m0 timestamptz, m1 timestamptz, rep bigint)
RETURNS TABLE (rep_id bigint, total numeric)
LANGUAGE sql STABLE
AS \$\$
  WITH p AS (
      SELECT DISTINCT ON (pa.rep_id) pa.rep_id, cp.name, cp.kind
        FROM salesperf.plan_assignment pa JOIN salesperf.commission_plan cp ON cp.name = pa.plan
       WHERE cp.period = 'month' AND pa.during && tstzrange(m0, m1) AND (rep IS NULL OR pa.rep_id = rep)
       ORDER BY pa.rep_id, lower(pa.during) DESC),
  sh AS (
      SELECT m.rep_id, m.unit_id,
             round(extract(epoch FROM least(coalesce(upper(m.during), m1), m1) - greatest(lower(m.during), m0))
                   / extract(epoch FROM m1 - m0), 12) AS share
        FROM salesperf.membership m JOIN p ON p.rep_id = m.rep_id
       WHERE m.during && tstzrange(m0, m1)),
  deals AS (
      SELECT a.rep_id, m.unit_id, a.amount
        FROM salesperf.activity a
        LEFT JOIN salesperf.membership m ON m.rep_id = a.rep_id AND m.during @> a.occurred_at
       WHERE a.kind = 'deal_won' AND a.occurred_at >= m0 AND a.occurred_at < m1
         AND (rep IS NULL OR a.rep_id = rep OR m.unit_id IN (SELECT sh.unit_id FROM sh))),
  basis AS (SELECT d.rep_id, sum(d.amount) AS v FROM deals d GROUP BY d.rep_id),
  team_value AS (SELECT d.unit_id, sum(d.amount) AS v FROM deals d GROUP BY d.unit_id),
  rep_target AS (
      SELECT t.scope_id AS rep_id, t.value FROM salesperf.target t
       WHERE t.scope = 'rep' AND t.kpi = 'revenue' AND t.period = 'month' AND t.period_start = m0),
  team_target AS (
      SELECT m.unit_id, sum(t.value) AS v
        FROM salesperf.membership m JOIN rep_target t ON t.rep_id = m.rep_id
       WHERE m.during @> m0 AND m.unit_id IN (SELECT sh.unit_id FROM sh)
       GROUP BY m.unit_id),
  team AS (
      SELECT sh.rep_id,
             sum(5000 * 0.4 * sh.share * bench.curve(coalesce(tv.v, 0) / nullif(tt.v, 0))) AS part,
             sum(CASE WHEN coalesce(tv.v, 0) >= tt.v THEN sh.share * 200 ELSE 0 END) AS bonus
        FROM sh LEFT JOIN team_value tv ON tv.unit_id = sh.unit_id LEFT JOIN team_target tt ON tt.unit_id = sh.unit_id
       GROUP BY sh.rep_id)
  SELECT p.rep_id,
         round(CASE WHEN p.kind = 'rate'
                    THEN least(bv.v, 20000) * 0.05 + greatest(least(bv.v, 50000) - 20000, 0) * 0.08
                         + greatest(bv.v - 50000, 0) * 0.12
                    ELSE 5000 * 0.6 * bench.curve(bv.v / nullif(rt.value, 0))
                         + coalesce(tm.part, 0) + coalesce(tm.bonus, 0) END, 2)
    FROM p LEFT JOIN basis b ON b.rep_id = p.rep_id LEFT JOIN rep_target rt ON rt.rep_id = p.rep_id
    LEFT JOIN team tm ON tm.rep_id = p.rep_id
   CROSS JOIN LATERAL (SELECT coalesce(b.v, 0) AS v) bv
\$\$;
SQL
say "commission: statements of the month of $m0"
cs_one=$(median_ms "SELECT * FROM salesperf.commission_statement('month', '$m0', $rep_of_run)" "$BENCH_RUNS")
alt_one=$(median_ms "SELECT * FROM bench.ledger_statement('$m0', '$m1', $rep_of_run)" "$BENCH_RUNS")
# sum(total), not count(*): every line must be computed.
cs_all=$(median_ms "SELECT sum(total) FROM salesperf.commission_statement('month', '$m0')" "$BENCH_ALT_RUNS")
alt_all=$(median_ms "SELECT sum(total) FROM bench.ledger_statement('$m0', '$m1', NULL)" "$BENCH_ALT_RUNS")
same_cs=$(val "$db" "SELECT count(*) FROM (SELECT rep_id, total FROM salesperf.commission_statement('month', '$m0')
                                            EXCEPT ALL SELECT * FROM bench.ledger_statement('$m0', '$m1', NULL)) x")
note "commission: statement lines differing from the plain-SQL computation from the ledger: $same_cs"
result "commission_statement('month', m, rep), one rep, $label" "$(calc "$cs_one" 3) ms" \
       "$(calc "$alt_one" 3) ms (plain SQL over the ledger, one rep and their teams)" \
       "$(faster "$alt_one" "$cs_one")" "< 5 ms, from counters and targets"
result "commission_statement('month', m), whole company, $label" "$(calc "$cs_all/1000" 2) s" \
       "$(calc "$alt_all/1000" 2) s (plain SQL over the ledger)" \
       "$(faster "$alt_all" "$cs_all")" "seconds"

# ---- P6 ---------------------------------------------------------------------
say "P6: recompute() of $(human "$loaded") activities"
q "$db" >/dev/null <<'SQL'
CREATE TABLE bench.was_counter AS SELECT * FROM salesperf.kpi_counter;
CREATE TABLE bench.was_award AS SELECT * FROM salesperf.capped_award;
CREATE TABLE bench.was_standing AS SELECT * FROM salesperf.standing;
SQL
val "$db" "CHECKPOINT" >/dev/null
if rc_ms=$(time_ms "$db" "SET statement_timeout = '${BENCH_P6_TIMEOUT}s'; SELECT salesperf.recompute()"); then
  recompute="$(calc "$rc_ms/1000" 1) s"
  diffs=$(val "$db" "SELECT format('%s %s %s',
      (SELECT count(*) FROM (TABLE bench.was_counter EXCEPT ALL TABLE salesperf.kpi_counter) x)
    + (SELECT count(*) FROM (TABLE salesperf.kpi_counter EXCEPT ALL TABLE bench.was_counter) x),
      (SELECT count(*) FROM (TABLE bench.was_award EXCEPT ALL TABLE salesperf.capped_award) x)
    + (SELECT count(*) FROM (TABLE salesperf.capped_award EXCEPT ALL TABLE bench.was_award) x),
      (SELECT count(*) FROM (TABLE bench.was_standing EXCEPT ALL TABLE salesperf.standing) x)
    + (SELECT count(*) FROM (TABLE salesperf.standing EXCEPT ALL TABLE bench.was_standing) x))")
  read -r d_counter d_award d_standing <<<"$diffs"
  note "P6: after recompute(), rows differing from the maintained state (EXCEPT ALL both ways): kpi_counter $d_counter, capped_award $d_award, standing $d_standing"
  recompute="$recompute, $(( d_counter + d_award + d_standing )) rows differ"
else
  recompute="> ${BENCH_P6_TIMEOUT} s (cancelled), not compared"
  note "P6: recompute() cancelled after BENCH_P6_TIMEOUT=${BENCH_P6_TIMEOUT} s"
fi
floor_ms=$(time_ms "$db" "CREATE TABLE bench.floor AS
    SELECT a.rep_id, (a.occurred_at AT TIME ZONE 'UTC')::date AS day, a.kind, count(*), sum(a.amount), max(a.occurred_at)
      FROM salesperf.activity a GROUP BY 1, 2, 3")
ratio=$( [ -n "${rc_ms:-}" ] && echo "$(calc "$rc_ms/$floor_ms" 1)× the floor" || echo "—")
result "P6 recompute() of $(human "$loaded") activities" \
       "$recompute" "$(calc "$floor_ms/1000" 1) s (bare GROUP BY rep, day, kind into a table)" \
       "$ratio" "≤ 60 s; 0 rows differ"
drop_db "$db"
