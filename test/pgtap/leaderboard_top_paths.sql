-- leaderboard_top() reads the first n standings of a rep board when they
-- all score above zero (src/leaderboard_top.c) and ranks every participant
-- otherwise (leaderboard_top_ranked()).  Both must give the same rows:
-- here for every board, several n and moments, after a random workload
-- with ties, zero and negative scores, money and ratio scores, inactive
-- reps and a unit board; then the tie order, the money display, the
-- movement and the errors, which now pass through the C function.
BEGIN;
SELECT plan(14);

SET LOCAL client_min_messages = warning;
SELECT setseed(0.2718);
SELECT salesperf.configure(time_zone => 'Asia/Beirut');
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES (1, NULL, 'Company', 'company');
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind)
SELECT 10 + t, 1, 'Team ' || t, 'team' FROM generate_series(1, 3) t;
INSERT INTO salesperf.rep (rep_id, name) SELECT r, 'Rep ' || r FROM generate_series(1, 40) r;
SELECT count(salesperf.assign(r, 11 + r % 3, '2026-01-01 00:00+02')) FROM generate_series(1, 40) r;
INSERT INTO salesperf.point_rule (name, kind, points, points_per_amount, daily_cap) VALUES
    ('call', 'call', 1, 0, NULL), ('email', 'email', 1, 0, 3), ('deal', 'deal_won', 5, 0.001, NULL),
    ('lost', 'deal_lost', -4, 0, NULL);
SELECT salesperf.create_leaderboard('points', period => 'month');
SELECT salesperf.create_leaderboard('revenue', metric => 'revenue', period => 'month');
SELECT salesperf.create_leaderboard('conversion', metric => 'conversion_rate', period => 'month');
SELECT salesperf.create_leaderboard('teams', participant => 'unit', unit_kind => 'team', period => 'month');
SELECT salesperf.create_leaderboard('ever', period => 'all');

-- Calls, capped e-mails, won and lost deals in whole thousands (so that
-- scores tie), over February and March 2026.
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at)
SELECT 1 + floor(random() * 30)::int,
       (ARRAY['call', 'call', 'email', 'deal_won', 'deal_lost', 'lead_created'])[1 + floor(random() * 6)::int],
       (1 + floor(random() * 5)) * 1000,   -- whole points: scores tie
       timestamptz '2026-02-01 00:00+02' + random() * interval '58 days'
  FROM generate_series(1, 400);
UPDATE salesperf.rep SET active = false WHERE rep_id IN (3, 7);

-- Rows of leaderboard_top() that differ from leaderboard_top_ranked(), for
-- every board, n in (1, 2, 3, 5, 10, 50) and a few moments.
CREATE FUNCTION pg_temp.top_differences() RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*)
    FROM salesperf.leaderboard b
   CROSS JOIN unnest(ARRAY[1, 2, 3, 5, 10, 50]) n
   CROSS JOIN unnest(ARRAY[timestamptz '2026-02-20 12:00+02', '2026-03-15 12:00+02', '2026-03-31 23:00+03']) at
   CROSS JOIN LATERAL (
         (SELECT * FROM salesperf.leaderboard_top(b.name, n, at)
          EXCEPT ALL SELECT * FROM salesperf.leaderboard_top_ranked(b.name, n, at))
         UNION ALL
         (SELECT * FROM salesperf.leaderboard_top_ranked(b.name, n, at)
          EXCEPT ALL SELECT * FROM salesperf.leaderboard_top(b.name, n, at))) d
$$;
-- The same, also in order (row numbers).
CREATE FUNCTION pg_temp.order_differences() RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*)
    FROM salesperf.leaderboard b
   CROSS JOIN unnest(ARRAY[3, 10]) n
   CROSS JOIN LATERAL (
         SELECT a.participant_id FROM ROWS FROM (salesperf.leaderboard_top(b.name, n, '2026-03-15 12:00+02'))
                WITH ORDINALITY a
           FULL JOIN ROWS FROM (salesperf.leaderboard_top_ranked(b.name, n, '2026-03-15 12:00+02'))
                WITH ORDINALITY r ON r.ordinality = a.ordinality
          WHERE a.participant_id IS DISTINCT FROM r.participant_id) d
$$;

SELECT is(pg_temp.top_differences(), 0::bigint,
          'after a random workload: every board, n and moment, leaderboard_top() = leaderboard_top_ranked()');
SELECT is(pg_temp.order_differences(), 0::bigint, 'and in the same order');
SELECT ok((SELECT count(*) FROM salesperf.leaderboard_top('points', 10, '2026-03-15 12:00+02') WHERE score > 0) = 10
          AND (SELECT count(DISTINCT rank) FROM salesperf.leaderboard_top('points', 10, '2026-03-15 12:00+02')) < 10,
          'the points top 10 of March scores above zero and holds ties (the read path is exercised with ties)');
SELECT ok((SELECT count(*) FROM salesperf.leaderboard_top('points', 50, '2026-03-15 12:00+02') WHERE score <= 0) > 0,
          'the top 50 reaches zero and below (the ranked path is exercised)');

-- Ties: reps 31 and 32 reach 100 points on the same day, 32 first.
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at)
SELECT r, 'call', 0, timestamptz '2026-04-02 09:00+03' + (32 - r) * interval '1 hour' + g * interval '1 second'
  FROM generate_series(31, 32) r, generate_series(1, 100) g;
SELECT results_eq(
    $$SELECT rank, participant_id, score FROM salesperf.leaderboard_top('points', 2, '2026-04-10 12:00+03')$$,
    $$VALUES (1::bigint, 32::bigint, 100::numeric), (1, 31, 100)$$,
    'a tie shares the rank; who reached the score first is listed first');
SELECT is(pg_temp.top_differences(), 0::bigint, 'after the tie: both paths agree');

-- Money at the currency scale, ratios to four decimals.
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at) VALUES
    (33, 'deal_won', 1234.5, '2026-04-03 10:00+03'), (34, 'deal_won', 999.999, '2026-04-03 11:00+03');
SELECT results_eq(
    $$SELECT participant_id, score FROM salesperf.leaderboard_top('revenue', 2, '2026-04-10 12:00+03')$$,
    $$VALUES (33::bigint, 1234.50::numeric), (34, 1000.00)$$,
    'money is shown at the currency scale');
SELECT is((SELECT score::text FROM salesperf.leaderboard_top('revenue', 1, '2026-04-10 12:00+03')), '1234.50',
          'with its trailing zero');

-- Movement: rep 32 was first in April; in May rep 31 leads.
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at)
SELECT 31, 'call', 0, timestamptz '2026-05-04 09:00+03' + g * interval '1 second' FROM generate_series(1, 5) g;
SELECT results_eq(
    $$SELECT participant_id, previous_rank, movement FROM salesperf.leaderboard_top('points', 1, '2026-05-10 12:00+03')$$,
    $$VALUES (31::bigint, 1::bigint, 0)$$,
    'previous rank and movement come with the top');
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at)
SELECT 20, 'call', 0, timestamptz '2026-05-05 09:00+03' + g * interval '1 second' FROM generate_series(1, 9) g;
SELECT is((SELECT movement FROM salesperf.leaderboard_top('points', 1, '2026-05-10 12:00+03')),
          (SELECT prev.rank::integer - 1 FROM salesperf.previous_ranks(
               (SELECT board_id FROM salesperf.leaderboard WHERE name = 'points'), '2026-04-01 00:00+03', ARRAY[20::bigint]) prev),
          'a climber''s movement is its previous rank less its rank');

-- Errors pass through.
SELECT throws_ok($$SELECT * FROM salesperf.leaderboard_top('nope', 5)$$, '42704', 'unknown leaderboard "nope"',
                 'an unknown board is named');
SELECT throws_ok($$SELECT * FROM salesperf.leaderboard_top('points', NULL)$$, '22023', NULL, 'n NULL');
SELECT throws_ok($$SELECT * FROM salesperf.leaderboard_top('points', 5, NULL)$$, '22004', NULL, 'at NULL');
SELECT throws_ok($$SELECT * FROM salesperf.leaderboard_top(NULL, 5)$$, '22004', NULL, 'board NULL');

SELECT * FROM finish();
ROLLBACK;
