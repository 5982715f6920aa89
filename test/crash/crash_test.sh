#!/usr/bin/env bash
# `make crash-test`: salesperf's derived state survives crashes.
#
# On a throwaway cluster, CRASH_RUNS times (default 5): start a pgbench load
# of CRM writes (single-row record() calls, a capped kind among them, and
# bulk INSERT ... SELECT statements of 200 activities, four clients), let it
# run a few seconds, then crash the server in the middle of it:
#   odd runs:  pg_ctl restart -m immediate (the whole server stops without
#              a checkpoint and starts again with crash recovery);
#   even runs: kill -9 of one backend that is writing (the postmaster
#              resets every session and recovers).
# After recovery, the counters must add up to the ledger and every derived
# table (capped awards, counters, standings) must equal what recompute()
# builds from the ledger.  Prints one line per run and
# "crash: N passed, N failed"; exits non-zero on any difference.
set -uo pipefail
cd "$(dirname "$0")/../.."
here=$(pwd)
bindir=$( (${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config} --bindir || pg_config --bindir) 2>/dev/null )
runs=${CRASH_RUNS:-5}

state=$(mktemp /tmp/salesperf-crash-state.XXXXXX)
trap 'bash "$here/test/harness/cluster.sh" stop "$state"' EXIT
bash test/harness/cluster.sh start "$state" || exit 1
# shellcheck disable=SC1090
. "$state"

as_server() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u "${SALESPERF_SERVER_USER:-nobody}" -- "$@"; else "$@"; fi
}
up() {
  for _ in $(seq 1 300); do
    psql -X -q -At -d postgres -c 'SELECT 1' >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}

name=crash
# shellcheck source=../concurrency/common.bash
. "$here/test/concurrency/common.bash"
trap 'cleanup; bash "$here/test/harness/cluster.sh" stop "$state"' EXIT

q >/dev/null <<'SQL' || { echo "crash: setup failed"; exit 1; }
CREATE EXTENSION salesperf;
SELECT salesperf.configure(time_zone => 'America/Havana');
INSERT INTO salesperf.unit (unit_id, parent_id, name) VALUES (1, NULL, 'Co'), (11, 1, 'East'), (12, 1, 'West');
INSERT INTO salesperf.rep (rep_id, name) SELECT r, 'rep ' || r FROM generate_series(1, 40) r;
SELECT salesperf.assign(r, 11 + r % 2, '2025-01-01') FROM generate_series(1, 40) r;
INSERT INTO salesperf.point_rule (name, kind, points, points_per_amount, daily_cap) VALUES
  ('call', 'call', 1, 0, NULL), ('talk', 'call', 0, 0.01, 20), ('email', 'email', 0.5, 0, 5),
  ('deal', 'deal_won', 25, 0.001, NULL);
SELECT salesperf.create_leaderboard('points month');
SELECT salesperf.create_leaderboard('teams week', 'points', participant => 'unit', period => 'week', unit_kind => 'team');
INSERT INTO salesperf.badge (name, tier) VALUES ('Ten e-mails', 'bronze');
INSERT INTO salesperf.badge_rule (badge, metric, threshold, period) VALUES ('Ten e-mails', 'emails', 10, 'day');
SQL

cat >"$work/record.sql" <<'SQL'
\set r random(1, 40)
\set k random(1, 3)
\set back random(0, 86400 * 20)
SELECT salesperf.record(:r, (ARRAY['call', 'email', 'deal_won'])[:k], CASE :k WHEN 1 THEN 95 WHEN 3 THEN 1200 ELSE 1 END,
                        now() - :back * interval '1 second');
SQL
cat >"$work/bulk.sql" <<'SQL'
\set r random(1, 40)
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at)
SELECT 1 + (:r + i) % 40, CASE WHEN i % 3 = 0 THEN 'email' ELSE 'call' END, 60 + i % 300,
       now() - (i * 3571 % (86400 * 20)) * interval '1 second'
  FROM generate_series(1, 200) i;
SQL

passed=0; failed=0
for run in $(seq 1 "$runs"); do
  "$pgbench" -n -c 4 -j 2 -T 120 -f "$work/record.sql@8" -f "$work/bulk.sql@1" "$db" >"$work/pgbench.$run" 2>&1 &
  load=$!
  sleep $(( 3 + run % 4 ))
  if [ $((run % 2)) -eq 1 ]; then
    how="pg_ctl restart -m immediate"
    as_server "$bindir/pg_ctl" -D "$SALESPERF_CLUSTER/data" -m immediate -w -t 120 restart >/dev/null 2>&1
  else
    pid=$(psql -X -q -At -d postgres -c "SELECT pid FROM pg_stat_activity WHERE datname = '$db' AND state = 'active' AND backend_type = 'client backend' ORDER BY pid LIMIT 1")
    how="kill -9 of backend ${pid:-(none found)}"
    [ -n "$pid" ] && kill -9 "$pid"
  fi
  kill "$load" 2>/dev/null; wait "$load" 2>/dev/null
  if ! up; then
    echo "not ok $run - the server did not come back after $how"; failed=$((failed + 1)); continue
  fi
  report=$(derived_report 2>&1)
  n=$(report_value "$report" activities)
  diffs=$(( $(report_value "$report" totals) + $(report_value "$report" award) \
            + $(report_value "$report" counter) + $(report_value "$report" standing) ))
  if [ "$diffs" -eq 0 ]; then
    echo "ok $run - after $how: $n activities, derived state equals recompute() (0 rows differ)"
    passed=$((passed + 1))
  else
    echo "not ok $run - after $how: $diffs rows differ"; printf '%s\n' "$report" | sed 's/^/#   /'
    failed=$((failed + 1))
  fi
done
echo "crash: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
