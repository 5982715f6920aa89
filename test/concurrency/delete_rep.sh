#!/usr/bin/env bash
# Deleting a rep while other sessions record that rep's activities (SPEC §4,
# §5, §13): history must never point at a rep that is gone.  One psql
# process makes SALESPERF_CONC_ATTEMPTS (default 150) fresh reps one after
# the other (every other one with a team membership, so the delete cascades
# into membership), publishes each in a one-row table, waits 0-6 ms and
# deletes it; three other psql processes meanwhile record activities for
# whichever rep is published, each in a transaction that lasts a few
# milliseconds longer (as a CRM's own work would).  Every attempt must end
# one of two ways:
#   * the DELETE is refused: 23503, rep N has activities;
#   * the DELETE goes through and the inserts after it are refused: 42704,
#     unknown rep.
# Passes when, afterwards, no activity has a rep_id missing from salesperf.rep,
# no statement failed with any other SQLSTATE, both outcomes occurred (else
# the race was not exercised), and derived state equals recompute().
#
# Runs against the cluster in PGHOST/PGPORT/PGUSER; creates and drops its
# own database.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
name=delete_rep
attempts=${SALESPERF_CONC_ATTEMPTS:-150}
writers=3
# shellcheck source=common.bash
. "$here/common.bash"

q >/dev/null <<'SQL'
CREATE EXTENSION salesperf;
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES
    (1, NULL, 'Acme', 'company'), (10, 1, 'Boston', 'team');
INSERT INTO salesperf.point_rule (name, kind, points, points_per_amount, daily_cap) VALUES
    ('call made', 'call', 1, 0, NULL);
SELECT salesperf.create_leaderboard('points this month');
SELECT salesperf.create_leaderboard('team points', participant => 'unit', unit_kind => 'team');
-- Test scaffolding, not part of salesperf: the rep under attack, and a flag
-- that stops the writers.
-- Rep 999 keeps the writers busy until the first attempt is published.
INSERT INTO salesperf.rep (rep_id, name) VALUES (999, 'warm-up');
CREATE TABLE public.conc_target (rep_id bigint NOT NULL, done boolean NOT NULL DEFAULT false);
INSERT INTO public.conc_target VALUES (999, false);
SQL

# The deleter's script: one attempt per rep id.
{
  echo '\set VERBOSITY sqlstate'
  for ((i = 1; i <= attempts; i++)); do
    rep=$((1000 + i))
    echo "BEGIN;"
    echo "INSERT INTO salesperf.rep (rep_id, name) VALUES ($rep, 'rep $rep');"
    if ((i % 2 == 0)); then
      echo "SELECT salesperf.assign($rep, 10, now() - interval '1 day');"
    fi
    echo "UPDATE public.conc_target SET rep_id = $rep;"
    echo "COMMIT;"
    echo "SELECT pg_sleep($((RANDOM % 7)) / 1000.0);"
    echo "DELETE FROM salesperf.rep WHERE rep_id = $rep;"
  done
  echo "UPDATE public.conc_target SET done = true;"
} >"$work/deleter.sql"

# The writers' script: record for the published rep until told to stop (at
# most 20000 rounds, so a writer ends even if the deleter dies).
{
  echo '\set VERBOSITY sqlstate'
  for ((i = 1; i <= 20000; i++)); do
    echo "SELECT done FROM public.conc_target \\gset"
    echo "\\if :done"
    echo "\\q"
    echo "\\endif"
    echo "BEGIN;"
    echo "SELECT salesperf.record((SELECT rep_id FROM public.conc_target), 'call', 1 + $((RANDOM % 300)));"
    echo "SELECT pg_sleep(0.003);"
    echo "COMMIT;"
  done
} >"$work/writer.sql"

# ---- the race ---------------------------------------------------------------
for ((w = 1; w <= writers; w++)); do
  psql -X -q -At -d "$db" -f "$work/writer.sql" >"$work/writer$w.out" 2>"$work/writer$w.err" &
  background_pids+=($!)
done
psql -X -At -d "$db" -f "$work/deleter.sql" >"$work/deleter.out" 2>"$work/deleter.err" &
deleter=$!
background_pids+=("$deleter")
wait "$deleter" || true
for pid in "${background_pids[@]}"; do wait "$pid" || true; done
background_pids=()

# ---- the outcomes -------------------------------------------------------------
# psql prints "psql:FILE:LINE: ERROR:  CODE" under VERBOSITY sqlstate.
codes() { cat "$@" | sed -n 's/.*ERROR: *\([0-9A-Z]\{5\}\)$/\1/p' | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' '; }
deleted=$(grep -c '^DELETE 1$' "$work/deleter.out" || true)
refused=$(grep -c 'ERROR: *23503$' "$work/deleter.err" || true)
unknown=$(cat "$work"/writer*.err | grep -c 'ERROR: *42704$' || true)
deleter_codes=$(codes "$work/deleter.err")
writer_codes=$(codes "$work"/writer*.err)
# 25P02: statements of a transaction already aborted by one of the above.
others=$( { grep -h 'ERROR' "$work/deleter.err" | grep -v 'ERROR: *23503$' || true;
            grep -h 'ERROR' "$work"/writer*.err | grep -Ev 'ERROR: *(42704|25P02)$' || true; } )
report=$(derived_report)
orphans=$(report_value "$report" orphans)
orphan_reps=$(q -c "SELECT count(DISTINCT a.rep_id) FROM salesperf.activity a
                     WHERE NOT EXISTS (SELECT 1 FROM salesperf.rep r WHERE r.rep_id = a.rep_id)")

summary="$attempts attempts: $refused deletes refused (23503), $deleted deletes done with $unknown inserts refused (42704); $(report_value "$report" activities) activities; deleter errors: ${deleter_codes:-none}; writer errors: ${writer_codes:-none}"
[ "$orphans" = 0 ] || fail "$orphans activities of $orphan_reps deleted reps remain (rep_id missing from salesperf.rep); $summary"
[ -z "$others" ] || fail "unexpected errors: $(printf '%s\n' "$others" | sort | uniq -c | sort -rn | head -5 | tr -s ' \n' ' '); $summary"
[ $((refused + deleted)) -eq "$attempts" ] || fail "$((attempts - refused - deleted)) deletes ended neither way; $summary"
[ "$refused" -gt 0 ] && [ "$deleted" -gt 0 ] && [ "$unknown" -gt 0 ] ||
  fail "the race was not exercised (both outcomes must occur); $summary"
check_derived "$report"
echo "$name: ok: $summary; no orphans; derived state equals recompute()"
