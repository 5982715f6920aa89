-- Writes made after a restore, the same in the source and in each restored
-- database (test/restore/dump_restore.sh).  Prints the ids the engine hands
-- out, which must match: identity sequences continue where they stopped.
-- Then the state is compared again: triggers, the unit tree and the board
-- map must be working in the restored database.
\set ON_ERROR_STOP 1
\pset format unaligned
\pset tuples_only on
\pset null '<null>'
SET client_min_messages = warning;
SELECT max(activity_id) AS max_activity FROM salesperf.activity \gset

\echo '## new activity id (a fresh id, above every restored one)'
SELECT salesperf.record(2, 'call', 120, '2025-04-14 10:00 America/New_York') > :max_activity;
SELECT salesperf.record(2, 'call', 120, '2025-04-14 10:05 America/New_York');
\echo '## an old idempotency key returns the old id'
SELECT salesperf.record(6, 'call', 1, '2025-04-14 10:00 America/New_York', 'dialer', 'd10');
SELECT salesperf.record(3, 'bonus', 50, '2025-02-14 12:00 America/New_York', 'hr', 'valentine');
\echo '## new board, rule, opportunity, tracking ids'
SELECT salesperf.create_leaderboard('demos week (after restore)', 'demos', period => 'week');
INSERT INTO salesperf.point_rule (name, kind, points) VALUES ('message sent', 'message', 1) RETURNING rule_id;
SELECT salesperf.upsert_opportunity('api', 'after1', 3, 777, 'proposal', '2025-05-05',
                                    '2025-04-14 10:00 America/New_York');
SELECT salesperf.upsert_opportunity('api', 'o2', 3, 2000, 'closed_won', '2025-04-14',
                                    '2025-01-07 10:00 America/New_York', '2025-04-14 11:00 America/New_York');
SELECT salesperf.track('crm.calls', 'message', 'owner', 'started', NULL, 'call_id',
                       condition => $$status = 'missed'$$);
\echo '## tracked tables still feed the ledger'
INSERT INTO crm.calls VALUES (500, 6, '2025-04-14 11:00 America/New_York', 200, 'completed'),
                             (501, 7, '2025-04-14 11:30 America/New_York', 0, 'missed');
UPDATE crm.deals SET stage = 'closed_won', closed = '2025-04-14 12:00 America/New_York' WHERE deal_id = 'D6';
SELECT count(*) FROM salesperf.activity WHERE source IN ('crm.calls', 'opportunity');
\echo '## the org chart changes: a new team, a move, a re-parented department'
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES (1013, 101, 'Philadelphia', 'team');
SELECT salesperf.assign(2, 1013, '2025-04-01 00:00 America/New_York');
UPDATE salesperf.unit SET parent_id = 20 WHERE unit_id = 102;
SELECT salesperf.leaderboard_top('team revenue quarter', 3, '2025-04-14 12:00 America/New_York');
SELECT salesperf.leaderboard_top('americas departments year', 3, '2025-04-14 12:00 America/New_York');
SELECT salesperf.kpi_value('points', 'unit', 20, 'year', '2025-04-14 12:00 America/New_York');

-- recorded_at and tracked_at of the rows written here are the clock: pin them
-- so the state comparison that follows sees only what the engine derived.
UPDATE salesperf.activity SET recorded_at = '2025-04-14 12:00 America/New_York'
 WHERE activity_id > :max_activity;
UPDATE salesperf.tracked_source SET tracked_at = '2025-04-14 12:00 America/New_York'
 WHERE kind = 'message';
-- April's commission is closed after the restore; its stamp is fixed the
-- same way.
SELECT salesperf.close_commission_period('2025-04-01 00:00 America/New_York');
UPDATE salesperf.commission_period SET closed_at = '2025-05-02 09:00 America/New_York'
 WHERE period_start = '2025-04-01 00:00 America/New_York';
