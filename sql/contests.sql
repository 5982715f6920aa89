-- Contests, rewards and the achievement board: a small team's November (UTC).
-- Every number below can be checked by hand from the activities recorded.
DROP EXTENSION salesperf;
CREATE EXTENSION salesperf;
SET timezone = 'UTC';

INSERT INTO salesperf.rep (rep_id, name) VALUES (1, 'Ada'), (2, 'Bo'), (3, 'Cy'), (4, 'Di');
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES
  (10, NULL, 'Acme', 'company'), (20, 10, 'Paris', 'team'), (21, 10, 'Berlin', 'team');
SELECT salesperf.assign(1, 20, '2026-01-01'), salesperf.assign(2, 20, '2026-01-01'),
       salesperf.assign(3, 21, '2026-01-01'), salesperf.assign(4, 21, '2026-01-01');

-- A call is worth 1 point, a won deal 1 point per 100.
INSERT INTO salesperf.point_rule (name, kind, points, points_per_amount) VALUES
  ('calls', 'call', 1, 0), ('deals', 'deal_won', 0, 0.01);
SELECT salesperf.create_leaderboard('points this month');
INSERT INTO salesperf.badge (name, tier) VALUES ('Gold', 'gold'), ('Silver', 'silver');
INSERT INTO salesperf.reward (name, kind, value) VALUES
  ('Team dinner', 'gift', 200), ('Cash 500', 'cash', 500), ('Caller of the week', 'title', 0);

-- The week of Monday 2 November: 1st shares Gold, 500 bonus points and a
-- dinner; 2nd and 3rd get Silver and 100 points.
SELECT salesperf.create_contest('November week', 'points', '2026-11-02', '2026-11-09',
         prizes => '[{"rank_from":1,"rank_to":1,"badge":"Gold","bonus_points":500,"reward":"Team dinner"},
                     {"rank_from":2,"rank_to":3,"badge":"Silver","bonus_points":100}]') AS contest_id;

-- Ada makes 5 calls on Monday (5 points); Bo wins a deal of 500 on Tuesday
-- (5 points): they tie, Ada got there first.  Cy makes 3 calls.  Di does
-- nothing.  A call one second before the week and one at its end do not count.
SELECT count(salesperf.record(1, 'call', 60, '2026-11-02 09:00'::timestamptz + i * interval '1 minute'))
  FROM generate_series(1, 5) i;
SELECT salesperf.record(2, 'deal_won', 500, '2026-11-03 15:00'),
       salesperf.record(3, 'call', 60, '2026-11-04 10:00'),
       salesperf.record(3, 'call', 60, '2026-11-05 10:00'),
       salesperf.record(3, 'call', 60, '2026-11-06 10:00'),
       salesperf.record(4, 'call', 60, '2026-11-01 23:59:59'),
       salesperf.record(4, 'call', 60, '2026-11-09 00:00');

-- Live standings: Ada and Bo share rank 1, Cy 3rd, Di 4th on 0.
SELECT * FROM salesperf.contest_standings('November week');

-- A window from Tuesday noon to Thursday noon on calls: the whole day of
-- Wednesday comes from the counters, Tuesday afternoon and Thursday morning
-- from the ledger.  Cy's call at 11:59:59 on Tuesday and Ada's at noon on
-- Thursday fall outside; Cy's at noon on Tuesday and Ada's at 11:59 on
-- Thursday count.
SELECT salesperf.create_contest('Midweek calls', 'calls', '2026-11-10 12:00', '2026-11-12 12:00',
         prizes => '[{"rank_from":1,"rank_to":2,"reward":"Caller of the week"}]') AS contest_id;
SELECT salesperf.record(3, 'call', 60, '2026-11-10 11:59:59'),
       salesperf.record(3, 'call', 60, '2026-11-10 12:00'),
       salesperf.record(2, 'call', 60, '2026-11-11 09:00'),
       salesperf.record(2, 'call', 60, '2026-11-11 10:00'),
       salesperf.record(1, 'call', 60, '2026-11-12 11:59'),
       salesperf.record(1, 'call', 60, '2026-11-12 12:00');
SELECT * FROM salesperf.contest_standings('Midweek calls');

-- Finalize at midnight on 9 November: only the week has ended.
SELECT salesperf.finalize_contests('2026-11-09 00:00') AS finalized;
SELECT contest_id, participant_id, rank, score, name FROM salesperf.contest_result ORDER BY rank, participant_id;
-- Ada and Bo both get Gold, Cy Silver; Di scored nothing and wins nothing.
SELECT b.name AS badge, a.rep_id, a.period_start, a.contest_id, a.reason
  FROM salesperf.badge_award a JOIN salesperf.badge b USING (badge_id) ORDER BY a.rep_id, b.name;
-- Bonus points are bonus activities dated at the end of the week, keyed per
-- contest and rep.
SELECT rep_id, kind, amount, occurred_at, source, source_key
  FROM salesperf.activity WHERE kind = 'bonus' ORDER BY rep_id;
SELECT g.rep_id, r.name AS reward, g.status, g.contest_id, g.reason
  FROM salesperf.reward_grant g JOIN salesperf.reward r USING (reward_id) ORDER BY g.rep_id;

-- Running it again changes nothing.
SELECT salesperf.finalize_contests('2026-11-09 00:00') AS finalized_again;
SELECT (SELECT count(*) FROM salesperf.contest_result) AS results,
       (SELECT count(*) FROM salesperf.badge_award) AS badges,
       (SELECT count(*) FROM salesperf.activity WHERE kind = 'bonus') AS bonus_activities,
       (SELECT count(*) FROM salesperf.reward_grant) AS grants;

-- A back-dated week: Cy's 10 calls of Wednesday 4 November arrive late.  The
-- frozen results stay; contest_drift reports who would now rank differently.
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at)
SELECT 3, 'call', 60, '2026-11-04 14:00'::timestamptz + i * interval '1 minute' FROM generate_series(1, 10) i;
SELECT * FROM salesperf.contest_standings('November week');
SELECT * FROM salesperf.contest_drift ORDER BY contest_id, participant_id;

-- The midweek contest ends: Bo 1st, Cy and Ada share 2nd: all three get the title.
SELECT salesperf.finalize_contests('2026-11-13') AS finalized;
SELECT * FROM salesperf.contest_standings('Midweek calls');

-- The achievement board at the end of November: points (bonus included),
-- badges, contests won and placed, rank on the monthly points board.
--   Ada 5 + 2 calls + 500 bonus = 507; Bo 5 (deal) + 2 calls + 500 = 507;
--   Cy 3 + 2 + 10 calls + 100 = 115; Di 2 calls (1 November 23:59:59 and
--   9 November 00:00, both outside the week).  Ada won the week, Bo both;
--   Ada and Cy placed in both (a prize-winning rank).
SELECT * FROM salesperf.achievement_board_at('2026-11-30 12:00');

-- A reward by hand through pending -> approved -> paid, and moves that are refused.
SELECT salesperf.grant_reward('Cash 500', 4, 'best newcomer') AS grant_id \gset
SELECT salesperf.set_grant_status(:grant_id, 'approved');
SELECT salesperf.set_grant_status(:grant_id, 'paid');
SELECT status FROM salesperf.reward_grant WHERE grant_id = :grant_id;
\set VERBOSITY terse
SELECT salesperf.set_grant_status(:grant_id, 'pending');
SELECT salesperf.set_grant_status(:grant_id, 'cancelled');
SELECT salesperf.set_grant_status(-1, 'approved');
SELECT salesperf.grant_reward('Yacht', 1);
\set VERBOSITY default
-- A pending contest grant may be cancelled.
SELECT salesperf.set_grant_status(min(grant_id), 'cancelled') FROM salesperf.reward_grant WHERE rep_id = 2 AND contest_id = 1;
SELECT g.rep_id, r.name AS reward, g.status FROM salesperf.reward_grant g JOIN salesperf.reward r USING (reward_id)
 ORDER BY g.grant_id;

-- Rewards by value (median 200: only Cash 500 is high) and difficulty:
-- Team dinner was offered to the week's 4 participants, Ada holds it (Bo's
-- is cancelled): 1 in 4 is hard.  The title went to 3 of the midweek's 4:
-- easy.  Cash 500 was granted by hand: 1 of the 4 active reps, hard.
SELECT name, value, value_class, earners, eligible, earned_share, difficulty, quadrant
  FROM salesperf.reward_quadrant ORDER BY reward_id;
