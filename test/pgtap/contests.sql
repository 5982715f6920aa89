-- Contests in Paris time: windows ending at a local midnight, every bad input
-- refused with its SQLSTATE and nothing changed, live standings equal to an
-- oracle computed from the ledger, finalization once, rewards.
BEGIN;
SELECT plan(86);

SELECT has_function('salesperf', 'create_contest',
  ARRAY['text', 'text', 'timestamp with time zone', 'timestamp with time zone', 'text', 'bigint', 'jsonb', 'text'],
  'create_contest() exists');
SELECT has_function('salesperf', 'contest_standings', ARRAY['text'], 'contest_standings() exists');
SELECT has_function('salesperf', 'finalize_contests', ARRAY['timestamp with time zone'], 'finalize_contests() exists');
SELECT has_function('salesperf', 'achievement_board_at', ARRAY['timestamp with time zone'], 'achievement_board_at() exists');
SELECT has_view('salesperf', 'contest_drift', 'contest_drift view exists');
SELECT has_view('salesperf', 'reward_quadrant', 'reward_quadrant view exists');
SELECT has_view('salesperf', 'achievement_board', 'achievement_board view exists');

SET LOCAL timezone = 'UTC';
SELECT is(time_zone, 'Europe/Paris', 'settings in Paris time') FROM salesperf.configure(time_zone => 'Europe/Paris');

INSERT INTO salesperf.rep (rep_id, name) VALUES (1, 'Ada'), (2, 'Bo'), (3, 'Cy'), (4, 'Di'), (5, 'Ed'), (6, 'Flo');
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES
  (10, NULL, 'Acme', 'company'), (20, 10, 'North', 'team'), (21, 10, 'South', 'team');
SELECT salesperf.assign(r, CASE WHEN r <= 3 THEN 20 ELSE 21 END, '2026-01-01') FROM generate_series(1, 6) r;
-- Ed moves to North in the middle of the window below.
SELECT salesperf.assign(5, 20, '2026-11-05 13:30+01');
INSERT INTO salesperf.point_rule (name, kind, points, points_per_amount, daily_cap) VALUES
  ('calls', 'call', 1, 0, NULL), ('deals', 'deal_won', 0, 0.01, NULL), ('emails', 'email', 2, 0, 7);
INSERT INTO salesperf.badge (name) VALUES ('Gold');
INSERT INTO salesperf.reward (name, kind, value) VALUES ('Dinner', 'gift', 150);

-- ---------------------------------------------------------------------------
-- A week ending at a Paris midnight (23:00 UTC).
SELECT ok(salesperf.create_contest('Paris week', 'calls', '2026-11-02 00:00+01', '2026-11-09 00:00+01',
            prizes => '[{"rank_from":1,"badge":"Gold","bonus_points":50,"reward":"Dinner"}]') > 0,
          'a contest from Paris midnight to Paris midnight');
SELECT salesperf.record(1, 'call', 1, '2026-11-08 23:30+01'),   -- 22:30 UTC: inside
       salesperf.record(2, 'call', 1, '2026-11-09 00:00+01'),   -- the end: outside
       salesperf.record(2, 'call', 1, '2026-11-08 23:30+00'),   -- 00:30 in Paris on the 9th: outside
       salesperf.record(3, 'call', 1, '2026-11-02 00:00+01'),   -- the start: inside
       salesperf.record(3, 'call', 1, '2026-11-01 23:59:59+01'); -- outside
SELECT results_eq($$SELECT participant_id, score FROM salesperf.contest_standings('Paris week')
                     WHERE score > 0 ORDER BY participant_id$$,
                  $$VALUES (1::bigint, 1::numeric), (3, 1)$$,
                  'only activities with starts_at <= occurred_at < ends_at count, by Paris midnights');
SELECT is(salesperf.finalize_contests('2026-11-08 23:59:59+01'), 0, 'not ended a second before the Paris midnight');
SELECT is(salesperf.finalize_contests('2026-11-09 00:00+01'), 1, 'ended at the Paris midnight (23:00 UTC)');
SELECT results_eq($$SELECT participant_id, rank FROM salesperf.contest_result ORDER BY rank, participant_id LIMIT 2$$,
                  $$VALUES (1::bigint, 1::bigint), (3, 1)$$, 'Ada and Cy tie for first');
SELECT results_eq($$SELECT a.rep_id, a.amount, a.occurred_at, a.source_key = c.contest_id || ':' || a.rep_id
                       FROM salesperf.activity a JOIN salesperf.contest c ON c.name = 'Paris week'
                      WHERE a.kind = 'bonus' ORDER BY a.rep_id$$,
                  $$VALUES (1::bigint, 50::numeric, '2026-11-08 23:00+00'::timestamptz, true), (3, 50, '2026-11-08 23:00+00', true)$$,
                  'bonus points for both winners, dated at the end of the window');
SELECT is((SELECT count(*) FROM salesperf.reward_grant WHERE status = 'pending'
             AND contest_id = (SELECT contest_id FROM salesperf.contest WHERE name = 'Paris week')), 2::bigint,
          'two pending dinner grants');
SELECT is(salesperf.finalize_contests('2026-11-09 00:00+01'), 0, 'a second run finalizes nothing');
SELECT is(salesperf.finalize_contests('2027-01-01'), 0, 'a later run neither');
SELECT is((SELECT count(*) FROM salesperf.badge_award), 2::bigint, 'two badges, once');
SELECT is_empty($$SELECT * FROM salesperf.contest_drift$$, 'no drift: the bonus is outside the window');

-- ---------------------------------------------------------------------------
-- Bad input: every refusal has its SQLSTATE and changes nothing.
CREATE TEMP TABLE before AS
SELECT (SELECT count(*) FROM salesperf.contest) AS contests, (SELECT count(*) FROM salesperf.reward_grant) AS grants,
       (SELECT string_agg(status, ',' ORDER BY grant_id) FROM salesperf.reward_grant) AS statuses;

SELECT throws_ok($$SELECT salesperf.create_contest(NULL, 'calls', '2026-12-01', '2026-12-02')$$, '22004', NULL, 'NULL name');
SELECT throws_ok($$SELECT salesperf.create_contest('x', NULL, '2026-12-01', '2026-12-02')$$, '22004', NULL, 'NULL metric');
SELECT throws_ok($$SELECT salesperf.create_contest('x', 'calls', NULL, '2026-12-02')$$, '22004', NULL, 'NULL starts_at');
SELECT throws_ok($$SELECT salesperf.create_contest('x', 'calls', '2026-12-01', NULL)$$, '22004', NULL, 'NULL ends_at');
SELECT throws_ok($$SELECT salesperf.create_contest('x', 'calls', '2026-12-01', '2026-12-02', NULL)$$, '22004', NULL, 'NULL participant');
SELECT throws_ok($$SELECT salesperf.create_contest('x', 'calls', '2026-12-01', '2026-12-02', prizes => NULL)$$, '22004', NULL, 'NULL prizes');
SELECT throws_ok($$SELECT salesperf.create_contest('x', 'nope', '2026-12-01', '2026-12-02')$$, '42704',
                 'unknown metric "nope"', 'unknown KPI');
SELECT throws_ok($$SELECT salesperf.create_contest('x', 'calls', '2026-12-02', '2026-12-01')$$, '22023',
                 'contest window is empty: ends_at 2026-12-01 00:00:00+00 is not after starts_at 2026-12-02 00:00:00+00',
                 'ends_at before starts_at, both named');
SELECT throws_ok($$SELECT salesperf.create_contest('x', 'calls', '2026-12-01', '2026-12-01')$$, '22023', NULL, 'empty window');
SELECT throws_ok($$SELECT salesperf.create_contest('x', 'calls', '2026-12-01', 'infinity')$$, '22023', NULL, 'infinite window');
SELECT throws_ok($$SELECT salesperf.create_contest('Paris week', 'calls', '2026-12-01', '2026-12-02')$$, '42710', NULL, 'duplicate name');
SELECT throws_ok($$SELECT salesperf.create_contest(' ', 'calls', '2026-12-01', '2026-12-02')$$, '22023', NULL, 'empty name');
SELECT throws_ok($$SELECT salesperf.create_contest('x', 'calls', '2026-12-01', '2026-12-02', 'team')$$, '22023', NULL, 'unknown participant');
SELECT throws_ok($$SELECT salesperf.create_contest('x', 'calls', '2026-12-01', '2026-12-02', 'unit')$$, '22004', NULL, 'unit contest without unit_kind');
SELECT throws_ok($$SELECT salesperf.create_contest('x', 'calls', '2026-12-01', '2026-12-02', 'unit', unit_kind => 'region')$$,
                 '22023', NULL, 'no unit of that kind');
SELECT throws_ok($$SELECT salesperf.create_contest('x', 'calls', '2026-12-01', '2026-12-02', unit_kind => 'team')$$,
                 '22023', NULL, 'unit_kind on a rep contest');
SELECT throws_ok($$SELECT salesperf.create_contest('x', 'calls', '2026-12-01', '2026-12-02', unit_scope => 99)$$,
                 '42704', NULL, 'unknown unit scope');
SELECT throws_ok($$SELECT salesperf.create_contest('x', 'calls', '2026-12-01', '2026-12-02', prizes => '{}')$$,
                 '22023', NULL, 'prizes not an array');
SELECT throws_ok($$SELECT salesperf.create_contest('x', 'calls', '2026-12-01', '2026-12-02', prizes => '[1]')$$,
                 '22023', NULL, 'a prize that is not an object');
SELECT throws_ok($$SELECT salesperf.create_contest('x', 'calls', '2026-12-01', '2026-12-02', prizes => '[{"badge":"Gold"}]')$$,
                 '22023', NULL, 'a prize without rank_from');
SELECT throws_ok($$SELECT salesperf.create_contest('x', 'calls', '2026-12-01', '2026-12-02', prizes => '[{"rank_from":0}]')$$,
                 '22023', NULL, 'rank_from 0');
SELECT throws_ok($$SELECT salesperf.create_contest('x', 'calls', '2026-12-01', '2026-12-02', prizes => '[{"rank_from":3,"rank_to":2}]')$$,
                 '22023', NULL, 'rank_to below rank_from');
SELECT throws_ok($$SELECT salesperf.create_contest('x', 'calls', '2026-12-01', '2026-12-02', prizes => '[{"rank_from":1.5}]')$$,
                 '22023', NULL, 'a fractional rank');
SELECT throws_ok($$SELECT salesperf.create_contest('x', 'calls', '2026-12-01', '2026-12-02', prizes => '[{"rank_from":1,"bonus_points":-1}]')$$,
                 '22023', NULL, 'negative bonus points');
SELECT throws_ok($$SELECT salesperf.create_contest('x', 'calls', '2026-12-01', '2026-12-02', prizes => '[{"rank_from":1,"bonus_points":"5"}]')$$,
                 '22023', NULL, 'bonus points as a string');
SELECT throws_ok($$SELECT salesperf.create_contest('x', 'calls', '2026-12-01', '2026-12-02', prizes => '[{"rank_from":1,"badge":"Platinum"}]')$$,
                 '42704', 'unknown badge "Platinum"', 'unknown badge, named');
SELECT throws_ok($$SELECT salesperf.create_contest('x', 'calls', '2026-12-01', '2026-12-02', prizes => '[{"rank_from":1,"reward":"Yacht"}]')$$,
                 '42704', 'unknown reward "Yacht"', 'unknown reward, named');
SELECT throws_ok($$SELECT salesperf.create_contest('x', 'calls', '2026-12-01', '2026-12-02', prizes => '[{"rank_from":1,"medal":"x"}]')$$,
                 '22023', NULL, 'an unknown prize key');
SELECT throws_ok($$SELECT * FROM salesperf.contest_standings('nope')$$, '42704', 'unknown contest "nope"', 'unknown contest');
SELECT throws_ok($$SELECT * FROM salesperf.contest_standings(NULL)$$, '22004', NULL, 'NULL contest');
SELECT throws_ok($$SELECT salesperf.finalize_contests(NULL)$$, '22004', NULL, 'finalize at NULL');
SELECT throws_ok($$SELECT salesperf.grant_reward(NULL, 1)$$, '22004', NULL, 'grant of NULL reward');
SELECT throws_ok($$SELECT salesperf.grant_reward('Dinner', NULL)$$, '22004', NULL, 'grant to NULL rep');
SELECT throws_ok($$SELECT salesperf.grant_reward('Yacht', 1)$$, '42704', NULL, 'grant of an unknown reward');
SELECT throws_ok($$SELECT salesperf.grant_reward('Dinner', 99)$$, '42704', 'unknown rep 99', 'grant to an unknown rep');
SELECT throws_ok($$SELECT salesperf.set_grant_status(NULL, 'paid')$$, '22004', NULL, 'NULL grant');
SELECT throws_ok($$SELECT salesperf.set_grant_status(999, 'paid')$$, '42704', NULL, 'unknown grant');
SELECT throws_ok($$SELECT salesperf.set_grant_status(min(grant_id), 'done') FROM salesperf.reward_grant$$,
                 '22023', NULL, 'unknown status');
SELECT throws_ok($$SELECT salesperf.set_grant_status(min(grant_id), 'paid') FROM salesperf.reward_grant$$,
                 '22023', NULL, 'pending cannot jump to paid');
SELECT throws_like($$SELECT salesperf.set_grant_status(min(grant_id), 'paid') FROM salesperf.reward_grant$$,
                   'reward grant % cannot move from pending to paid', 'the refusal names both statuses');
SELECT throws_ok($$SELECT salesperf.set_grant_status(min(grant_id), 'pending') FROM salesperf.reward_grant$$,
                 '22023', NULL, 'pending to pending is no move');
SELECT throws_ok($$UPDATE salesperf.contest SET prizes = '[]' WHERE name = 'Paris week'$$,
                 '55000', NULL, 'a finalized contest cannot change');
SELECT results_eq($$SELECT (SELECT count(*) FROM salesperf.contest), (SELECT count(*) FROM salesperf.reward_grant),
                           (SELECT string_agg(status, ',' ORDER BY grant_id) FROM salesperf.reward_grant)$$,
                  $$SELECT contests, grants, statuses FROM before$$, 'nothing changed');

-- ---------------------------------------------------------------------------
-- Live standings equal an oracle over the ledger: a window from Tuesday
-- 13:37 to the next Tuesday 09:15 in Paris, random activities around it.
SELECT setseed(0.42);
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at)
SELECT 1 + (random() * 5)::int,
       (ARRAY['call', 'email', 'deal_won', 'lead_created', 'lead_converted'])[1 + (random() * 4)::int],
       round((random() * 900)::numeric, 2),
       '2026-11-16 00:00+01'::timestamptz + random() * interval '11 days'
  FROM generate_series(1, 600);
SELECT salesperf.create_contest('o_' || k, k, '2026-11-17 13:37+01', '2026-11-24 09:15+01')
  FROM unnest(ARRAY['points', 'calls', 'revenue', 'conversion_rate']) k;
SELECT salesperf.create_contest('o_unit', 'points', '2026-11-17 13:37+01', '2026-11-24 09:15+01', 'unit',
                                unit_kind => 'team');
SELECT salesperf.create_contest('o_scoped', 'revenue', '2026-11-17 13:37+01', '2026-11-24 09:15+01',
                                unit_scope => 20);
UPDATE salesperf.rep SET active = false WHERE rep_id = 6;

CREATE TEMP TABLE oracle_rows AS
SELECT sa.*, c.name AS contest, c.participant, c.unit_scope
  FROM salesperf.scored_activity sa
  JOIN salesperf.contest c ON c.name LIKE 'o\_%'
 WHERE sa.occurred_at >= c.starts_at AND sa.occurred_at < c.ends_at;
CREATE TEMP VIEW oracle AS
WITH per AS (
    SELECT o.contest, o.rep_id AS participant_id,
           CASE c.metric
                WHEN 'points' THEN sum(o.points)
                WHEN 'calls' THEN count(*) FILTER (WHERE o.kind = 'call')
                WHEN 'revenue' THEN COALESCE(sum(o.amount) FILTER (WHERE o.kind = 'deal_won'), 0)
                WHEN 'conversion_rate' THEN count(*) FILTER (WHERE o.kind = 'lead_converted')::numeric
                                            / NULLIF(count(*) FILTER (WHERE o.kind = 'lead_created'), 0)
           END AS score
      FROM oracle_rows o JOIN salesperf.contest c ON c.name = o.contest
     WHERE o.participant = 'rep' AND (o.unit_scope IS NULL OR o.unit_id IN (
           SELECT t.descendant_id FROM salesperf.unit_tree t WHERE t.ancestor_id = o.unit_scope))
     GROUP BY o.contest, o.rep_id, c.metric
    UNION ALL
    SELECT o.contest, t.ancestor_id, sum(o.points)
      FROM oracle_rows o JOIN salesperf.unit_tree t ON t.descendant_id = o.unit_id
      JOIN salesperf.unit u ON u.unit_id = t.ancestor_id AND u.kind = 'team'
     WHERE o.participant = 'unit'
     GROUP BY o.contest, t.ancestor_id),
parts AS (                      -- active members of the scope during the window, or the teams
    SELECT DISTINCT c.name AS contest, m.rep_id AS participant_id
      FROM salesperf.contest c
      JOIN salesperf.membership m ON m.during && tstzrange(c.starts_at, c.ends_at)
      JOIN salesperf.rep r ON r.rep_id = m.rep_id AND r.active
     WHERE c.name LIKE 'o\_%' AND c.participant = 'rep'
       AND (c.unit_scope IS NULL OR m.unit_id IN (
            SELECT t.descendant_id FROM salesperf.unit_tree t WHERE t.ancestor_id = c.unit_scope))
    UNION
    SELECT c.name, u.unit_id FROM salesperf.contest c JOIN salesperf.unit u ON u.kind = c.unit_kind
     WHERE c.name LIKE 'o\_%' AND c.participant = 'unit'
    UNION
    SELECT p.contest, p.participant_id FROM per p
      JOIN salesperf.rep r ON r.rep_id = p.participant_id AND r.active
     WHERE p.contest <> 'o_unit')
SELECT p.contest, p.participant_id,
       COALESCE(x.score, CASE WHEN p.contest <> 'o_conversion_rate' THEN 0 END) AS score
  FROM parts p LEFT JOIN per x ON x.contest = p.contest AND x.participant_id = p.participant_id;

SELECT ok((SELECT count(*) FROM oracle_rows WHERE contest = 'o_points') > 100, 'the oracle has activities');
SELECT results_eq(
  format($$SELECT participant_id, score, rank() OVER (ORDER BY score DESC NULLS LAST)
             FROM oracle WHERE contest = %L ORDER BY 1$$, c),
  format($$SELECT participant_id, score, rank FROM salesperf.contest_standings(%L) ORDER BY 1$$, c),
  'standings equal the ledger oracle: ' || c)
  FROM unnest(ARRAY['o_points', 'o_calls', 'o_unit', 'o_scoped']) c;
SELECT results_eq(
  $$SELECT participant_id, round(score, 4), rank() OVER (ORDER BY score DESC NULLS LAST)
      FROM oracle WHERE contest = 'o_revenue' ORDER BY 1$$,
  $$SELECT participant_id, score, rank FROM salesperf.contest_standings('o_revenue') ORDER BY 1$$,
  'standings equal the ledger oracle: o_revenue (money at the currency scale)');
SELECT results_eq(
  $$SELECT participant_id, round(score, 4), rank() OVER (ORDER BY score DESC NULLS LAST)
      FROM oracle WHERE contest = 'o_conversion_rate' ORDER BY 1$$,
  $$SELECT participant_id, score, rank FROM salesperf.contest_standings('o_conversion_rate') ORDER BY 1$$,
  'standings equal the ledger oracle: o_conversion_rate (a ratio from its parts)');
SELECT ok(NOT EXISTS (SELECT 1 FROM salesperf.contest_standings('o_points') WHERE participant_id = 6),
          'an inactive rep does not take part');

-- Frozen = live at finalization; a back-dated change in the window is drift.
SELECT is(salesperf.finalize_contests('2026-11-24 09:15+01'), 6, 'six contests end at 09:15');
SELECT is_empty($$SELECT * FROM salesperf.contest_drift WHERE contest LIKE 'o\_%'$$, 'frozen results equal live ones');
SELECT results_eq($$SELECT participant_id, score, rank FROM salesperf.contest_standings('o_calls') ORDER BY 1$$,
                  $$SELECT participant_id, score, rank() OVER (ORDER BY score DESC) FROM oracle WHERE contest = 'o_calls' ORDER BY 1$$,
                  'frozen standings are the oracle''s');
SELECT salesperf.record(4, 'call', 1, '2026-11-24 09:14:59+01');
SELECT results_eq($$SELECT participant_id, frozen_score + 1 = live_score FROM salesperf.contest_drift
                     WHERE contest = 'o_calls' AND participant_id = 4$$,
                  $$VALUES (4::bigint, true)$$, 'a call at 09:14:59 shows as drift of the calls contest');
SELECT is_empty($$SELECT * FROM salesperf.contest_drift WHERE contest IN ('o_revenue', 'o_conversion_rate')$$,
                'contests on other KPIs do not drift');
SELECT salesperf.record(4, 'call', 1, '2026-11-24 09:15+01');
SELECT is((SELECT count(*) FROM salesperf.contest_drift WHERE contest = 'o_calls' AND participant_id = 4), 1::bigint,
          'a call at the end of the window is not in it');
SELECT results_eq($$SELECT participant_id, score FROM salesperf.contest_standings('o_calls') WHERE participant_id = 4$$,
                  $$SELECT participant_id, score FROM oracle WHERE contest = 'o_calls' AND participant_id = 4$$,
                  'the frozen results do not move');

-- Rewards: approved then cancelled; the board.
SELECT lives_ok($$SELECT salesperf.set_grant_status(g, 'approved'), salesperf.set_grant_status(g, 'cancelled')
                    FROM (SELECT min(grant_id) AS g FROM salesperf.reward_grant) x$$,
                'approved, then cancelled');
SELECT throws_ok($$SELECT salesperf.set_grant_status(min(grant_id), 'approved') FROM salesperf.reward_grant$$,
                 '22023', NULL, 'cancelled is final');
SELECT results_eq($$SELECT rep_id, badges, contests_won FROM salesperf.achievement_board_at('2026-11-30') WHERE rep_id IN (1, 3) ORDER BY 1$$,
                  $$VALUES (1::bigint, 1::bigint, 1::bigint), (3, 1, 1)$$, 'the achievement board counts the Paris week');

-- A unit contest's prizes go to the winning unit's active members at the end
-- of the window, one bonus activity each, keyed by contest, unit and rep.
SELECT salesperf.create_contest('team week', 'calls', '2026-12-07 00:00+01', '2026-12-14 00:00+01', 'unit',
         prizes => '[{"rank_from":1,"badge":"Gold","bonus_points":5}]', unit_kind => 'team');
SELECT salesperf.record(4, 'call', 1, '2026-12-08 10:00+01'), salesperf.record(4, 'call', 1, '2026-12-08 11:00+01');
SELECT is(salesperf.finalize_contests('2026-12-14 00:00+01'), 1, 'the team week is finalized');
SELECT results_eq($$SELECT a.rep_id, a.source_key = c.contest_id || ':21:' || a.rep_id
                      FROM salesperf.activity a JOIN salesperf.contest c ON c.name = 'team week'
                     WHERE a.kind = 'bonus' AND a.attrs ->> 'contest' = 'team week' ORDER BY 1$$,
                  $$VALUES (4::bigint, true)$$,
                  'South won: its one active member at the end gets the bonus (Ed moved to North, Flo is inactive)');
SELECT is((SELECT count(*) FROM salesperf.badge_award a JOIN salesperf.contest c USING (contest_id)
            WHERE c.name = 'team week'), 1::bigint, 'and the badge');

-- A reward offered only by a contest that has not ended has nobody eligible
-- yet: no share, no difficulty (LEAST(NULL, 1) once made it 1).
INSERT INTO salesperf.reward (name, kind, value) VALUES ('Far prize', 'gift', 10);
SELECT salesperf.create_contest('far week', 'calls', '2027-06-07 00:00+02', '2027-06-14 00:00+02',
         prizes => '[{"rank_from":1,"reward":"Far prize"}]');
SELECT results_eq($$SELECT eligible, earned_share, difficulty FROM salesperf.reward_quadrant WHERE name = 'Far prize'$$,
                  $$VALUES (0::bigint, NULL::numeric, NULL::text)$$,
                  'a reward nobody was eligible for yet has no share and no difficulty');
-- Values are classed against the exact median (numeric, no float): with
-- an even number of rewards it is the mean of the two middle values.
SELECT is((SELECT count(*) FROM salesperf.reward_quadrant q
            WHERE q.value_class = CASE WHEN q.value > (SELECT avg(v) FROM (
                      SELECT r.value AS v, row_number() OVER (ORDER BY r.value) i, count(*) OVER () n
                        FROM salesperf.reward r) x WHERE i IN ((n + 1) / 2, (n + 2) / 2))
                      THEN 'high' ELSE 'low' END),
          (SELECT count(*) FROM salesperf.reward), 'every reward is classed against the exact median');
SELECT is((SELECT count(*) FROM pg_catalog.pg_depend d
             JOIN pg_catalog.pg_rewrite w ON w.oid = d.objid
            WHERE w.ev_class = 'salesperf.reward_quadrant'::regclass
              AND d.refobjid = 'pg_catalog.percentile_cont(double precision, double precision)'::regprocedure),
          0::bigint, 'reward_quadrant takes no float median of money');

SELECT * FROM finish();
ROLLBACK;
