-- leaderboard_rank() on rep boards reads counts: the score bands of
-- salesperf.standing_tally and the member count kept by board_members().
-- Here both are held to the full ranking (board_standings(), which ranks
-- every participant) for every rep of every rep board, after a random
-- workload of inserts, back-dated rows, updates and deletes, reps made
-- inactive, reps in no unit, memberships edited, a lower-is-better board
-- and a ratio board; and the tally to a recount of the standings, also
-- after recompute().  The member count is checked again in the same
-- session after each kind of org change and after a rolled-back one.
BEGIN;
SELECT plan(36);

SET LOCAL client_min_messages = warning;
SELECT setseed(0.4242);
SELECT salesperf.configure(time_zone => 'America/Santiago');
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES (1, NULL, 'Company', 'company');
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind)
SELECT 10 + t, 1, 'Team ' || t, 'team' FROM generate_series(1, 4) t;
INSERT INTO salesperf.rep (rep_id, name) SELECT r, 'Rep ' || r FROM generate_series(1, 120) r;
-- reps 111..120 are in no unit
SELECT count(salesperf.assign(r, 11 + r % 4, '2026-01-01 00:00-03')) FROM generate_series(1, 110) r;
INSERT INTO salesperf.point_rule (name, kind, points, points_per_amount, daily_cap) VALUES
    ('call', 'call', 1, 0, NULL), ('email', 'email', 1, 0, 3), ('deal', 'deal_won', 5, 0.001, NULL),
    ('lost', 'deal_lost', -4, 0, NULL);
SELECT salesperf.define_kpi('slow_calls', kind => 'call', higher_is_better => false);
SELECT salesperf.create_leaderboard('points', period => 'month');
SELECT salesperf.create_leaderboard('points week', period => 'week');
SELECT salesperf.create_leaderboard('team 12', unit_scope => 12, period => 'month');
SELECT salesperf.create_leaderboard('fewest calls', metric => 'slow_calls', period => 'month');
SELECT salesperf.create_leaderboard('conversion', metric => 'conversion_rate', period => 'month');

-- The tally as a recount of the standings: 0 rows differ.
CREATE FUNCTION pg_temp.tally_differences() RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*)
    FROM (SELECT board_id, period_start, bucket, sum(participants) AS n
            FROM salesperf.standing_tally GROUP BY 1, 2, 3 HAVING sum(participants) <> 0) t
    FULL JOIN (SELECT board_id, period_start, salesperf.score_bucket(sort_score) AS bucket, count(*) AS n
                 FROM salesperf.standing
                WHERE participant_id = contributor_id AND sort_score IS NOT NULL
                GROUP BY 1, 2, 3) s USING (board_id, period_start, bucket)
   WHERE t.n IS DISTINCT FROM s.n
$$;
-- Reps of every rep board whose (rank, score, participants) differ from the
-- full ranking, at moment `at`.
CREATE FUNCTION pg_temp.rank_differences(at timestamptz) RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*)
    FROM salesperf.leaderboard b
   CROSS JOIN salesperf.rep r
   CROSS JOIN LATERAL (SELECT salesperf.calendar_start(at, b.period, s.time_zone, s.week_start,
                                                       s.fiscal_year_start_month, s.calendar) AS ps
                         FROM salesperf.settings s) p
    LEFT JOIN LATERAL (SELECT x.rank, x.score, x.participants
                         FROM salesperf.leaderboard_rank(b.name, r.rep_id, at) x) fast ON true
    LEFT JOIN LATERAL (SELECT c.rank, salesperf.display_score(c.score, b.metric) AS score, c.participants
                         FROM salesperf.board_standings(b.board_id, p.ps) c
                        WHERE c.participant_id = r.rep_id) full_rank ON true
   WHERE b.participant = 'rep'
     AND (fast.rank, fast.score, fast.participants)
         IS DISTINCT FROM (full_rank.rank, full_rank.score, full_rank.participants)
$$;

-- ---- merging bands reads only the touched bands' rows -----------------------
-- One tally write in eight merges the rows of the bands it touches; it must
-- find them through the index and delete them by row id, never by reading
-- the whole tally (which grows with boards x periods x bands).  Its plans
-- are made once per session: with costs under which reading a small tally
-- whole looks cheaper (as fresh statistics of a new installation can make
-- it), a merge once read the whole table from then on.
SET LOCAL random_page_cost = 1000;
CREATE TEMP TABLE tally_scans AS
SELECT 0::bigint AS seq_scan;
SELECT salesperf.record(1 + i % 5, 'call', 1, timestamptz '2025-12-10 09:00-03' + i * interval '1 minute')
  FROM generate_series(1, 24) i;
SELECT is((SELECT s.seq_scan - t.seq_scan FROM pg_stat_xact_user_tables s, tally_scans t
            WHERE s.relid = 'salesperf.standing_tally'::regclass),
          0::bigint, '24 one-row writes (three merges): no sequential scan of the tally');
RESET random_page_cost;
SELECT is(pg_temp.tally_differences(), 0::bigint, 'and the tally is a recount');

-- ---- the bands ------------------------------------------------------------
SELECT is(salesperf.score_bucket(5.36), 5.3, 'a band keeps two significant digits: 5.36 -> 5.3');
SELECT is(salesperf.score_bucket(188.42), 180::numeric, '188.42 -> 180');
SELECT is(salesperf.score_bucket(0.01234), 0.012, '0.01234 -> 0.012');
SELECT is(salesperf.score_bucket(0), 0::numeric, '0 -> 0');
SELECT is(salesperf.score_bucket(-5.36), -5.4, 'negative: minus the ceiling, -5.36 -> -5.4');
SELECT is(salesperf.score_bucket(-9.95), -10.0, '-9.95 -> -10.0');
SELECT is(salesperf.score_bucket(-10), -10::numeric, '-10 -> -10');
SELECT is(salesperf.score_bucket(123456789012345678901234567890.5), 120000000000000000000000000000::numeric,
          'a 30-digit score');
SELECT is((SELECT count(*) FROM (SELECT x, salesperf.score_bucket(x) AS b
                                   FROM (SELECT round(((random() - 0.5) * 10 ^ (random() * 12 - 4))::numeric, 6) AS x
                                           FROM generate_series(1, 5000)) v) w
            WHERE w.b > w.x OR salesperf.score_bucket(w.b) <> w.b), 0::bigint,
          '5,000 random scores: a band is at or below its score and is its own band');
SELECT is((SELECT count(*) FROM (SELECT x, lead(x) OVER (ORDER BY x) AS y
                                   FROM (SELECT round(((random() - 0.5) * 10 ^ (random() * 8 - 2))::numeric, 4) AS x
                                           FROM generate_series(1, 5000)) v) w
            WHERE w.y IS NOT NULL AND salesperf.score_bucket(w.x) > salesperf.score_bucket(w.y)), 0::bigint,
          '5,000 random scores in order: bands never go down');

-- ---- a random month -----------------------------------------------------------
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at)
SELECT 1 + (random() * 119)::int,
       (ARRAY['call', 'call', 'email', 'deal_won', 'deal_lost', 'lead_created', 'lead_converted'])[1 + (random() * 6)::int],
       round((random() * 5000)::numeric, 2),
       timestamptz '2026-03-01 00:00-03' + random() * interval '45 days'
  FROM generate_series(1, 1500);
SELECT is(pg_temp.tally_differences(), 0::bigint, 'after a bulk insert: the tally is a recount of the standings');
SELECT is(pg_temp.rank_differences('2026-03-20 12:00-03'), 0::bigint,
          'March: every rep''s rank, score and participants on every rep board equal the full ranking');

-- one-row writes, back-dated rows, updates, deletes
DO $$
BEGIN
    FOR i IN 1..150 LOOP
        PERFORM salesperf.record(1 + (random() * 119)::int,
                                 (ARRAY['call', 'email', 'deal_won', 'deal_lost'])[1 + (random() * 3)::int],
                                 round((random() * 800)::numeric, 2),
                                 timestamptz '2026-03-01 00:00-03' + random() * interval '40 days');
    END LOOP;
END $$;
UPDATE salesperf.activity SET amount = amount * 3 WHERE activity_id % 17 = 0;
UPDATE salesperf.activity SET occurred_at = occurred_at - interval '9 days' WHERE activity_id % 23 = 0;
DELETE FROM salesperf.activity WHERE activity_id % 13 = 0;
SELECT is(pg_temp.tally_differences(), 0::bigint, 'after one-row writes, updates and deletes: the tally is a recount');
SELECT is(pg_temp.rank_differences('2026-03-20 12:00-03'), 0::bigint, 'after them: every rank equals the full ranking');
SELECT is(pg_temp.rank_differences('2026-04-05 12:00-03'), 0::bigint, 'the next month and week too');

-- previous ranks of a board's top, read from the previous period's bands
SELECT is((SELECT count(*) FROM salesperf.leaderboard_top('points', 8, '2026-04-05 12:00-03') t
            WHERE t.previous_rank IS DISTINCT FROM salesperf.previous_rank(
                      (SELECT board_id FROM salesperf.leaderboard WHERE name = 'points'), '2026-03-01 00:00-03', t.participant_id)),
          0::bigint, 'April''s top 8: previous ranks equal previous_rank() one by one');
SELECT is((SELECT count(*) FROM salesperf.leaderboard_top('points', 8, '2026-04-05 12:00-03') t
            WHERE t.previous_rank IS NOT NULL), 8::bigint, 'and all eight ranked in March');

-- ---- org changes, read in this same session ------------------------------
UPDATE salesperf.rep SET active = false WHERE rep_id IN (3, 50, 115);
SELECT is(pg_temp.rank_differences('2026-03-20 12:00-03'), 0::bigint, 'reps made inactive: ranks and participants follow');
SELECT is((SELECT participants FROM salesperf.leaderboard_rank('points', 1, '2026-03-20 12:00-03')),
          (SELECT count(*) FROM salesperf.board_candidates(
                (SELECT board_id FROM salesperf.leaderboard WHERE name = 'points'), '2026-03-01 00:00-03')),
          'participants of the points board = its candidates');
SELECT salesperf.assign(116, 12, '2026-03-10 00:00-03');
SELECT is(pg_temp.rank_differences('2026-03-20 12:00-03'), 0::bigint, 'a rep placed in a team: participants follow');
SELECT salesperf.assign(7, 14, '2026-03-15 00:00-03');
SELECT is(pg_temp.rank_differences('2026-03-20 12:00-03'), 0::bigint, 'a rep moved out of team 12: its board follows');
SAVEPOINT org;
UPDATE salesperf.rep SET active = false WHERE rep_id BETWEEN 20 AND 40;
SELECT is(pg_temp.rank_differences('2026-03-20 12:00-03'), 0::bigint, 'inside a savepoint: 21 reps inactive');
ROLLBACK TO SAVEPOINT org;
SELECT is(pg_temp.rank_differences('2026-03-20 12:00-03'), 0::bigint, 'rolled back: the counts are the old ones again');
DELETE FROM salesperf.membership WHERE rep_id = 9;
SELECT is(pg_temp.rank_differences('2026-03-20 12:00-03'), 0::bigint, 'a membership deleted');

-- ---- whole state rebuilt ---------------------------------------------------
SELECT salesperf.recompute();
SELECT is(pg_temp.tally_differences(), 0::bigint, 'after recompute(): the tally is a recount');
SELECT is(pg_temp.rank_differences('2026-03-20 12:00-03'), 0::bigint, 'after recompute(): every rank equals the full ranking');

-- ---- ties and zeros read off the counts -------------------------------------
SELECT is((SELECT rank FROM salesperf.leaderboard_rank('points', 1, '2026-06-15 12:00-03')), 1::bigint,
          'a month where nobody recorded anything: everyone ranks 1');
SELECT is((SELECT participants FROM salesperf.leaderboard_rank('points', 1, '2026-06-15 12:00-03')),
          (SELECT count(*) FROM salesperf.rep r WHERE r.active AND EXISTS (SELECT 1 FROM salesperf.membership m WHERE m.rep_id = r.rep_id AND m.during @> timestamptz '2026-06-15 12:00-03')),
          'and the participants are the active reps in a unit');
SELECT salesperf.record(1, 'call', 0, '2026-06-02 10:00-03');
SELECT salesperf.record(2, 'call', 0, '2026-06-03 10:00-03');
SELECT is((SELECT array_agg(rank ORDER BY r) FROM (SELECT r, (salesperf.leaderboard_rank('points', r, '2026-06-15 12:00-03')).rank FROM unnest(ARRAY[1, 2, 4]) r) x),
          ARRAY[1, 1, 3]::bigint[], 'two tied on one call rank 1, those who recorded nothing rank 3');
SELECT is((SELECT array_agg(rank ORDER BY r) FROM (SELECT r, (salesperf.leaderboard_rank('fewest calls', r, '2026-06-15 12:00-03')).rank FROM unnest(ARRAY[1, 2, 4]) r) x),
          ARRAY[(SELECT participants FROM salesperf.leaderboard_rank('fewest calls', 1, '2026-06-15 12:00-03')) - 1,
                (SELECT participants FROM salesperf.leaderboard_rank('fewest calls', 1, '2026-06-15 12:00-03')) - 1, 1]::bigint[],
          'fewest calls: the two with a call rank last, together; zero calls rank 1');
SELECT is((SELECT rank FROM salesperf.leaderboard_rank('conversion', 4, '2026-06-15 12:00-03')), 1::bigint,
          'a ratio board with no leads: nobody has a value, all rank together');
SELECT is(pg_temp.rank_differences('2026-06-15 12:00-03'), 0::bigint, 'June: every rank equals the full ranking');

-- ---- a board dropped takes its standings and bands along -------------------
SELECT lives_ok($$DELETE FROM salesperf.leaderboard WHERE name = 'points week'$$,
                'a board with standings can be dropped (its bands are not written back)');
SELECT is(pg_temp.tally_differences(), 0::bigint, 'after it: the tally is a recount');

SELECT * FROM finish();
ROLLBACK;
