#!/usr/bin/env bash
# Concurrency test of the ledger triggers: eight pgbench clients write to the
# same four reps of one team for a while -- record() calls (e-mails under a
# daily cap), racing retries of twenty idempotency keys, updates and deletes
# of the latest activities -- and then:
#   * pgbench reports no failed transaction, no error, no deadlock;
#   * every idempotency key has exactly one activity;
#   * capped_award, kpi_counter and standing equal what recompute() builds
#     (EXCEPT ALL both ways);
#   * the counters add up to the ledger per rep and kind, and no rep earned
#     more than the cap on any day.
#
# Runs against the cluster in PGHOST/PGPORT/PGUSER; creates and drops its
# own database.  SALESPERF_CONC_SECONDS (default 20) sets the pgbench run.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
seconds=${SALESPERF_CONC_SECONDS:-20}
clients=8
db=salesperf_conc_$$

pgbench=
for candidate in "$(pg_config --bindir 2>/dev/null)/pgbench" /usr/lib/postgresql/15/bin/pgbench \
                 "$(command -v pgbench || true)"; do
  if [ -x "$candidate" ]; then pgbench=$candidate; break; fi
done
[ -n "$pgbench" ] || { echo "ledger_concurrency: pgbench not found" >&2; exit 1; }

work=$(mktemp -d /tmp/salesperf-conc.XXXXXX)
cleanup() {
  # Retried: after a backend crash the server refuses connections while it
  # recovers.
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 && break
    sleep 1
  done
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "ledger_concurrency: FAILED: $*" >&2; exit 1; }

q() { psql -X -q -v ON_ERROR_STOP=1 -At -d "$db" "$@"; }

psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $db" >/dev/null

q >/dev/null <<'SQL'
CREATE EXTENSION salesperf;
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES
    (1, NULL, 'Acme', 'company'), (10, 1, 'Boston', 'team'), (11, 1, 'Denver', 'team');
INSERT INTO salesperf.rep (rep_id, name) VALUES
    (1, 'Ada'), (2, 'Bo'), (3, 'Cy'), (4, 'Di'), (5, 'Ed');
-- One team of four (the hot spot) and a rep elsewhere who stays idle.
SELECT salesperf.assign(r, 10, salesperf.period_start(now(), 'month') - interval '1 month')
  FROM generate_series(1, 4) r;
SELECT salesperf.assign(5, 11, salesperf.period_start(now(), 'month') - interval '1 month');
INSERT INTO salesperf.point_rule (name, kind, points, points_per_amount, daily_cap) VALUES
    ('call made', 'call', 1, 0, NULL),
    ('email sent', 'email', 2, 0, 10),
    ('deal won', 'deal_won', 0, 0.01, NULL);
SELECT salesperf.create_leaderboard('points this month');
SELECT salesperf.create_leaderboard('calls this week', 'calls', period => 'week');
SELECT salesperf.create_leaderboard('team points', participant => 'unit', unit_kind => 'team');
SELECT salesperf.create_leaderboard('revenue today', 'revenue', period => 'day');
SQL

# ---- the race ---------------------------------------------------------------
set +e
"$pgbench" -n -c "$clients" -j 2 -T "$seconds" \
  -f "$here/record.sql@5" -f "$here/keys.sql@2" -f "$here/update.sql@2" -f "$here/delete.sql@1" \
  "$db" >"$work/pgbench.out" 2>"$work/pgbench.err"
rc=$?
set -e

if [ $rc -ne 0 ]; then
  cat "$work/pgbench.out" "$work/pgbench.err" >&2
  fail "pgbench exited with status $rc"
fi
if grep -Eiq 'error|deadlock|aborted' "$work/pgbench.err"; then
  grep -Ei 'error|deadlock|aborted' "$work/pgbench.err" | head -20 >&2
  fail "pgbench clients reported errors"
fi
failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$work/pgbench.out")
if [ -n "$failed" ] && [ "$failed" -ne 0 ]; then
  cat "$work/pgbench.out" >&2
  fail "$failed transactions failed"
fi
done_tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$work/pgbench.out")
tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$work/pgbench.out")
[ -n "$done_tx" ] && [ "$done_tx" -gt 0 ] || { cat "$work/pgbench.out" >&2; fail "pgbench processed no transactions"; }

# A retry that lost its row to a concurrent delete must record it again: one
# last pass over the keys leaves each of them recorded.
q >/dev/null <<'SQL'
SELECT salesperf.record(1, 'deal_won', 1000, salesperf.period_start(now(), 'month'), 'crm', 'deal-' || k)
  FROM generate_series(1, 20) k;
SQL

# ---- the checks ---------------------------------------------------------------
report=$(q <<'SQL'
CREATE TEMP TABLE m_award AS SELECT * FROM salesperf.capped_award;
CREATE TEMP TABLE m_counter AS SELECT * FROM salesperf.kpi_counter;
CREATE TEMP TABLE m_standing AS SELECT * FROM salesperf.standing;
-- Counters against the ledger, per rep and kind, before anything is rebuilt.
CREATE TEMP TABLE totals AS
SELECT count(*) AS bad FROM (
    SELECT a.rep_id, a.kind, count(*) AS n, sum(a.amount) AS amount
      FROM salesperf.activity a GROUP BY 1, 2) l
  FULL JOIN (
    SELECT c.rep_id, c.kind, sum(c.activities) AS n, sum(c.amount) AS amount
      FROM salesperf.kpi_counter c GROUP BY 1, 2) c USING (rep_id, kind)
 WHERE l.n IS DISTINCT FROM c.n OR l.amount IS DISTINCT FROM c.amount;
CREATE TEMP TABLE over_cap AS
SELECT count(*) AS bad FROM (
    SELECT a.rep_id, a.day, a.rule_id FROM salesperf.capped_award a
      JOIN salesperf.point_rule r USING (rule_id)
     GROUP BY a.rep_id, a.day, a.rule_id, r.daily_cap HAVING sum(a.points) > r.daily_cap) x;
SELECT salesperf.recompute();
SELECT 'keys ' || count(*) FILTER (WHERE n <> 1) || ' ' || count(*)
  FROM (SELECT a.source_key, count(*) AS n FROM salesperf.activity a
         WHERE a.source = 'crm' GROUP BY 1) k;
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
SELECT 'totals ' || bad FROM totals;
SELECT 'over_cap ' || bad FROM over_cap;
SELECT 'activities ' || count(*) FROM salesperf.activity;
SQL
)

value() { printf '%s\n' "$report" | sed -n "s/^$1 //p"; }
keys=$(value keys)
[ "$keys" = "0 20" ] || fail "idempotency keys: $keys (keys with other than one activity, keys seen); want 0 20"
for t in award counter standing; do
  [ "$(value $t)" = 0 ] || fail "$(value $t) rows of the maintained $t table differ from recompute()"
done
[ "$(value totals)" = 0 ] || fail "counters disagree with the ledger for $(value totals) (rep, kind) pairs"
[ "$(value over_cap)" = 0 ] || fail "$(value over_cap) (rep, day, rule) awards exceed the daily cap"

echo "ledger_concurrency: ok: $clients clients, ${seconds}s, $done_tx transactions, $tps tps, $(value activities) activities; 0 failed, keys unique, derived state equals recompute()"
