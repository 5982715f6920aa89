#!/usr/bin/env bash
# record() and assign() in one transaction, many clients at once (SPEC §4,
# §5): a CRM that logs a rep's call and moves the rep to another team in the
# same transaction.  Eight pgbench clients run, for SALESPERF_CONC_SECONDS
# (default 15), a mix of
#   record_assign_own.sql     record for the client's own rep, move that rep;
#   record_assign_shared.sql  record for one of two shared reps, move it;
#   record_assign_mixed.sql   record for a shared rep, move the own rep;
# every pair of which locks reps in the same order.  Passes when
#   * pgbench reports no failed transaction and no aborted client;
#   * the server saw no deadlock (pg_stat_database.deadlocks, and
#     "deadlock detected" in the server log when $SALESPERF_CLUSTER/server.log
#     is readable);
#   * the counters add up to the ledger per rep and kind, and capped_award,
#     kpi_counter and standing equal what recompute() builds (EXCEPT ALL both
#     ways).
# Then, report only (never a failure): record_assign_cross.sql, two clients
# recording for rep A and moving rep B against B-then-A, for 3 s; a lock-order
# inversion of two reps may deadlock like any two rows locked in opposite
# orders.
#
# Runs against the cluster in PGHOST/PGPORT/PGUSER; creates and drops its
# own database.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
name=record_assign
seconds=${SALESPERF_CONC_SECONDS:-15}
clients=8
# shellcheck source=common.bash
. "$here/common.bash"

q >/dev/null <<'SQL'
CREATE EXTENSION salesperf;
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES
    (1, NULL, 'Acme', 'company'), (10, 1, 'Boston', 'team'), (11, 1, 'Denver', 'team');
-- Reps 1-8 belong to one client each, 20 and 21 are shared by all, 30 and 31
-- are for the cross-order run.
INSERT INTO salesperf.rep (rep_id, name)
SELECT r, 'rep ' || r FROM unnest(ARRAY[1, 2, 3, 4, 5, 6, 7, 8, 20, 21, 30, 31]) r;
SELECT salesperf.assign(r.rep_id, 10, salesperf.period_start(now(), 'month') - interval '1 month')
  FROM salesperf.rep r;
INSERT INTO salesperf.point_rule (name, kind, points, points_per_amount, daily_cap) VALUES
    ('call made', 'call', 1, 0, NULL),
    ('email sent', 'email', 2, 0, 10);
SELECT salesperf.create_leaderboard('points this month');
SELECT salesperf.create_leaderboard('team points', participant => 'unit', unit_kind => 'team');
SELECT salesperf.create_leaderboard('calls today', 'calls', period => 'day');
SQL

# ---- the race ---------------------------------------------------------------
deadlocks_before=$(deadlocks)
log_mark
set +e
"$pgbench" -n -c "$clients" -j 2 -T "$seconds" \
  -f "$here/record_assign_own.sql@4" -f "$here/record_assign_shared.sql@2" \
  -f "$here/record_assign_mixed.sql@2" \
  "$db" >"$work/pgbench.out" 2>"$work/pgbench.err"
rc=$?
set -e
sleep 1   # let the exited clients' statistics reach pg_stat_database
deadlocks_seen=$(( $(deadlocks) - deadlocks_before ))
log_deadlocks=$(log_grep 'deadlock detected')

done_tx=$(pgbench_field "$work/pgbench.out" 'number of transactions actually processed')
failed=$(pgbench_field "$work/pgbench.out" 'number of failed transactions')
problems=()
[ $rc -eq 0 ] || problems+=("pgbench exited with status $rc")
if grep -Eiq 'aborted|error' "$work/pgbench.err"; then
  problems+=("pgbench clients reported errors: $(grep -Ei 'aborted|error' "$work/pgbench.err" | sort | uniq -c | sort -rn | head -3 | tr -s ' \n' ' ')")
fi
[ -z "$failed" ] || [ "$failed" -eq 0 ] || problems+=("$failed transactions failed")
[ -n "$done_tx" ] && [ "$done_tx" -gt 0 ] || problems+=("pgbench processed no transactions")
[ "$deadlocks_seen" -eq 0 ] || problems+=("pg_stat_database counted $deadlocks_seen deadlocks")
[ "$log_deadlocks" -le 0 ] || problems+=("the server log shows $log_deadlocks 'deadlock detected'")
if [ ${#problems[@]} -gt 0 ]; then
  tail -n 25 "$work/pgbench.out" >&2
  fail "$(printf '%s; ' "${problems[@]}")"
fi

report=$(derived_report)
check_derived "$report"
[ "$log_deadlocks" -ge 0 ] && log_note="none in the server log" || log_note="server log not readable"
echo "$name: ok: $clients clients, ${seconds}s, $done_tx transactions, 0 failed, 0 deadlocks ($log_note), $(report_value "$report" activities) activities; derived state equals recompute()"

# ---- report only: the cross-order mix ---------------------------------------
deadlocks_before=$(deadlocks)
set +e
"$pgbench" -n -c 2 -j 2 -T 3 -f "$here/record_assign_cross.sql" \
  "$db" >"$work/cross.out" 2>"$work/cross.err"
cross_rc=$?
set -e
sleep 1
cross_tx=$(pgbench_field "$work/cross.out" 'number of transactions actually processed')
cross_failed=$(pgbench_field "$work/cross.out" 'number of failed transactions')
cross_errors=$( (grep -Eo 'ERROR: +[^ ].{0,60}|aborted' "$work/cross.err" | sort | uniq -c | sort -rn | head -3 || true) | tr -s ' \n' ' ')
echo "$name: cross-order mix (report only): status $cross_rc, ${cross_tx:-0} transactions, ${cross_failed:-0} failed, $(( $(deadlocks) - deadlocks_before )) deadlocks${cross_errors:+; $cross_errors}"
report=$(derived_report)
echo "$name: after the cross-order mix: totals $(report_value "$report" totals), award $(report_value "$report" award), counter $(report_value "$report" counter), standing $(report_value "$report" standing) rows differ (report only)"
