#!/usr/bin/env bash
# recompute() does not block readers (SPEC §2, §8): while one session
# rebuilds derived state and has not committed yet, dashboards keep reading
# the state as it was.
#   Session A:  BEGIN; SELECT salesperf.recompute(); SELECT pg_sleep(3); COMMIT;
#   Session B:  starts once A's recompute() has returned (A is in pg_sleep,
#               seen in pg_stat_activity) and, with statement_timeout = '1s',
#               reads SELECT count(*) FROM salesperf.kpi_counter and
#               SELECT * FROM salesperf.leaderboard_top('points this month', 10).
# Passes when both reads of B succeed before A commits and return exactly
# what they returned before A began (non-empty), and the state after A's
# commit still equals it (recompute() rebuilds the same state).
# Writers (record(), UPDATE and DELETE of activities) may wait for A until it
# commits: that is allowed and not tested here.
#
# Runs against the cluster in PGHOST/PGPORT/PGUSER; creates and drops its
# own database.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
name=recompute_readers
# shellcheck source=common.bash
. "$here/common.bash"

q >/dev/null <<'SQL'
CREATE EXTENSION salesperf;
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES
    (1, NULL, 'Acme', 'company'), (10, 1, 'Boston', 'team'), (11, 1, 'Denver', 'team');
INSERT INTO salesperf.rep (rep_id, name) SELECT r, 'rep ' || r FROM generate_series(1, 20) r;
SELECT salesperf.assign(r, 10 + r % 2, salesperf.period_start(now(), 'month') - interval '1 month')
  FROM generate_series(1, 20) r;
INSERT INTO salesperf.point_rule (name, kind, points, points_per_amount, daily_cap) VALUES
    ('call made', 'call', 1, 0, NULL),
    ('email sent', 'email', 2, 0, 10),
    ('deal won', 'deal_won', 0, 0.01, NULL);
SELECT salesperf.create_leaderboard('points this month');
SELECT salesperf.create_leaderboard('team points', participant => 'unit', unit_kind => 'team');
-- This month so far: 5000 activities of 20 reps.
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at)
SELECT 1 + i % 20, (ARRAY['call', 'email', 'deal_won'])[1 + i % 3], 1 + (i * 37) % 500,
       salesperf.period_start(now(), 'month')
         + (now() - salesperf.period_start(now(), 'month')) * ((i * 7919) % 5000) / 5000.0
  FROM generate_series(1, 5000) i;
SQL

read_state() {
  q <<'SQL'
SET statement_timeout = '1s';
SELECT 'count ' || count(*) FROM salesperf.kpi_counter;
SELECT 'top ' || rank || ' ' || participant_id || ' ' || score
  FROM salesperf.leaderboard_top('points this month', 10);
SQL
}

before=$(read_state)
[ "$(printf '%s\n' "$before" | sed -n 's/^count //p')" -gt 0 ] || fail "no counters to read"
[ "$(printf '%s\n' "$before" | grep -c '^top ')" -eq 10 ] || fail "the board lists fewer than 10 reps: $before"

# ---- session A ------------------------------------------------------------
app=salesperf_recompute_$$
# From a file, so psql sends each statement on its own and pg_stat_activity
# shows which one runs.
cat >"$work/a.sql" <<'SQL'
BEGIN;
SELECT salesperf.recompute();
SELECT pg_sleep(3);
COMMIT;
SQL
PGAPPNAME=$app psql -X -q -v ON_ERROR_STOP=1 -At -d "$db" -f "$work/a.sql" >"$work/a.out" 2>"$work/a.err" &
a_pid=$!
background_pids+=("$a_pid")

a_query() {
  psql -X -q -At -d "$db" -c \
    "SELECT state || ' ' || query FROM pg_stat_activity WHERE application_name = '$app'"
}
for _ in $(seq 1 300); do
  case "$(a_query)" in *pg_sleep*) break ;; esac
  kill -0 "$a_pid" 2>/dev/null || { cat "$work/a.err" >&2; fail "session A ended before its pg_sleep"; }
  sleep 0.05
done
case "$(a_query)" in *pg_sleep*) ;; *) fail "session A's recompute() did not return within 15 s" ;; esac

# ---- session B, while A holds its transaction open -----------------------------
set +e
during=$(read_state 2>"$work/b.err")
b_rc=$?
set -e
a_state=$(a_query)

wait "$a_pid" || { cat "$work/a.err" >&2; fail "session A failed"; }
background_pids=()
after=$(read_state)

if [ $b_rc -ne 0 ]; then
  fail "a reader blocked while recompute() was not committed: $(tr '\n' ' ' <"$work/b.err")"
fi
case "$a_state" in
  *pg_sleep*) ;;
  *) fail "inconclusive: session A had left pg_sleep before the reader finished (state: ${a_state:-gone})" ;;
esac
[ "$during" = "$before" ] || fail "the reader saw another state while recompute() was not committed: before [$before] during [$during]"
[ "$after" = "$before" ] || fail "recompute() changed what readers see: before [$before] after [$after]"
echo "$name: ok: while recompute() was not committed a reader read $(printf '%s\n' "$before" | sed -n 's/^count //p') counters and the top 10 within 1 s, unchanged"
