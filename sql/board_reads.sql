-- leaderboard_top() reads the head of a rep board straight from the
-- standings index, with the board's facts (id, display rules, calendar)
-- kept per backend between statements.  Every change of those facts shows
-- in the next read: the currency scale, the KPI's unit, the board's name,
-- the time zone; names and active flags are read every time.  A
-- SERIALIZABLE transaction reads the same rows through SQL.
SET client_min_messages = warning;
\set VERBOSITY terse
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES (1, NULL, 'Company', 'company');
INSERT INTO salesperf.rep (rep_id, name) SELECT r, 'Rep ' || r FROM generate_series(1, 6) r;
SELECT count(salesperf.assign(r, 1, '2026-01-01 00:00+00')) FROM generate_series(1, 6) r;
SELECT salesperf.define_kpi('deal_value', kind => 'deal_won', measure => 'sum', unit => 'currency');
SELECT salesperf.create_leaderboard('cash', metric => 'deal_value', period => 'month');
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at)
SELECT r, 'deal_won', 1000 * r + 0.555, timestamptz '2026-03-10 12:00+00' + r * interval '1 hour'
  FROM generate_series(1, 6) r;
-- Rep 6's second deal is late on 31 March (UTC), already April east of UTC+4.
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at)
VALUES (6, 'deal_won', 50000, '2026-03-31 20:00+00');

-- The first read keeps the facts; the second reads them from the cache.
SELECT rank, participant_id, name, score, previous_rank FROM salesperf.leaderboard_top('cash', 3, '2026-03-15 12:00+00');
SELECT rank, participant_id, name, score FROM salesperf.leaderboard_top('cash', 3, '2026-03-15 12:00+00');

-- The currency scale.
SELECT salesperf.configure(currency_scale => 0);
SELECT rank, participant_id, score FROM salesperf.leaderboard_top('cash', 3, '2026-03-15 12:00+00');

-- The KPI's unit: no longer money, shown without trailing zeros.
UPDATE salesperf.kpi SET unit = NULL WHERE name = 'deal_value';
SELECT rank, participant_id, score FROM salesperf.leaderboard_top('cash', 3, '2026-03-15 12:00+00');

-- Names and active flags.
UPDATE salesperf.rep SET name = 'Rep Five' WHERE rep_id = 5;
UPDATE salesperf.rep SET active = false WHERE rep_id = 6;
SELECT rank, participant_id, name FROM salesperf.leaderboard_top('cash', 3, '2026-03-15 12:00+00');
UPDATE salesperf.rep SET active = true WHERE rep_id = 6;

-- The board's name.
UPDATE salesperf.leaderboard SET name = 'money' WHERE name = 'cash';
SELECT rank, participant_id FROM salesperf.leaderboard_top('cash', 3, '2026-03-15 12:00+00');
SELECT rank, participant_id FROM salesperf.leaderboard_top('money', 3, '2026-03-15 12:00+00');

-- The time zone: at UTC+14 rep 6's late deal falls in April.
SELECT rank, participant_id, score FROM salesperf.leaderboard_top('money', 1, '2026-04-15 12:00+00');
SELECT salesperf.configure(time_zone => 'Pacific/Kiritimati');
SELECT rank, participant_id, score FROM salesperf.leaderboard_top('money', 1, '2026-04-15 12:00+00');

-- SERIALIZABLE reads through SQL: the same rows.
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT rank, participant_id, name, score FROM salesperf.leaderboard_top('money', 3, '2026-03-15 12:00+00');
COMMIT;
SELECT rank, participant_id, name, score FROM salesperf.leaderboard_top('money', 3, '2026-03-15 12:00+00');

-- The standings triggers mark a transaction that wrote an ended period
-- (kept final ranks are checked against it); the one-row path tells them
-- from its kept boards.  A write into the running month marks nothing.
SELECT count(*) AS marks FROM salesperf.org_change \gset
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at) VALUES (1, 'deal_won', 1, now());
SELECT count(*) - :marks AS new_marks FROM salesperf.org_change;
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at) VALUES (1, 'deal_won', 1, '2026-03-20 12:00+00');
SELECT count(*) - :marks AS new_marks FROM salesperf.org_change;

DROP EXTENSION salesperf;
CREATE EXTENSION salesperf;
