-- Acme's motivation layer for `make demo`, loaded after demo/company.sql
-- (which set up the badge rules before the history arrived) and
-- demo/pipeline.sql: monthly targets, two weekly contests (last week's,
-- finalized; this week's, running), rewards and their grants.
--
-- Everything is placed relative to the demo's moment (demo.clock) and is
-- deterministic in shape (demo.noise(), never random()).  salesperf stamps
-- badge awards, reward grants and their status changes with the real time
-- of the transaction; the demo loads months of history in a few seconds, so
-- it writes back the moments a live system would have recorded (the
-- activity that took a rep over a threshold, the demo clock, days last
-- month): every page reads at the demo's moment.
\set ON_ERROR_STOP 1
SET timezone = 'Europe/Paris';
SELECT c.at AS now_at,
       salesperf.period_start(c.at, 'month') AS month_start,
       salesperf.period_start(salesperf.period_start(c.at, 'month') - interval '1 microsecond', 'month') AS prev_month_start,
       salesperf.period_start(c.at, 'week') AS week_start,
       salesperf.period_start(salesperf.period_start(c.at, 'week') - interval '1 microsecond', 'week') AS prev_week_start,
       salesperf.period_end(c.at, 'week') AS next_week_start
  FROM demo.clock c
\gset

CREATE FUNCTION demo.figure(value numeric) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT lpad(f, greatest(13, length(f)))
    FROM (SELECT COALESCE(to_char(round(value), 'FM999G999G999G999G990'), '') AS f) x
$$;
COMMENT ON FUNCTION demo.figure(numeric) IS
  'A KPI figure as the target and contest pages print it: whole, with thousands separators, right-aligned.';

-- ---------------------------------------------------------------------------
-- Badge awards, dated when earned: the moment of the activity that took
-- the rep's count or sum over the rule's threshold in the rule's period.
WITH crossed AS (
    SELECT a.award_id, x.crossed_at
      FROM salesperf.badge_award a
      JOIN salesperf.badge b ON b.badge_id = a.badge_id
      JOIN salesperf.badge_rule r ON r.badge = b.name AND r.period <> 'all'
      JOIN salesperf.kpi k ON k.name = r.metric AND k.den_measure IS NULL AND k.num_measure IN ('count', 'sum')
     CROSS JOIN LATERAL (
           SELECT s.occurred_at AS crossed_at
             FROM (SELECT v.occurred_at,
                          sum(CASE k.num_measure WHEN 'count' THEN 1 ELSE v.amount END)
                            OVER (ORDER BY v.occurred_at, v.activity_id) AS running
                     FROM salesperf.activity v
                    WHERE v.rep_id = a.rep_id AND v.kind = k.num_kind
                      AND v.occurred_at >= a.period_start
                      AND v.occurred_at < salesperf.period_end(a.period_start, r.period)) s
            WHERE s.running >= r.threshold
            ORDER BY s.occurred_at
            LIMIT 1) x
     WHERE a.contest_id IS NULL)
UPDATE salesperf.badge_award a
   SET awarded_at = c.crossed_at
  FROM crossed c
 WHERE a.award_id = c.award_id;

-- ---------------------------------------------------------------------------
-- Targets: points, calls and revenue for every rep, last month and this
-- month, each from the rep's own level of the month before it (rounded to
-- 50 points, 10 calls, 5,000 €) times a stretch between 0.7 and 1.45, so
-- some reps are comfortably on track and some are at risk.
CREATE TEMP TABLE demo_target AS
SELECT r.rep_id, k.kpi, p.period_start,
       greatest(k.step,
                round(salesperf.kpi_value(k.kpi, 'rep', r.rep_id, 'month', p.base_at)
                      * (0.7 + 0.75 * demo.noise(concat_ws(':', 'target', r.rep_id, k.kpi, p.which)))::numeric
                      / k.step) * k.step) AS value
  FROM salesperf.rep r
 CROSS JOIN (VALUES ('points', 50), ('calls', 10), ('revenue', 5000)) AS k(kpi, step)
 CROSS JOIN (VALUES ('last', :'prev_month_start'::timestamptz,
                     :'prev_month_start'::timestamptz - interval '1 microsecond'),
                    ('this', :'month_start'::timestamptz,
                     :'month_start'::timestamptz - interval '1 microsecond')) AS p(which, period_start, base_at);
SELECT count(salesperf.set_target(t.kpi, 'rep', t.rep_id, 'month', t.period_start, t.value)) AS rep_targets
  FROM demo_target t;
-- Two team targets set by hand, overriding the sum of the reps' targets:
-- Paris is asked for 10 % more revenue, Berlin for a round number of calls.
SELECT salesperf.set_target('revenue', 'unit', 11, 'month', x.period_start, round(x.paris_revenue * 1.1, -4)),
       salesperf.set_target('calls', 'unit', 12, 'month', x.period_start, round(x.berlin_calls, -2) + 100)
  FROM (SELECT t.period_start,
               sum(t.value) FILTER (WHERE t.kpi = 'revenue' AND salesperf.unit_of(t.rep_id, t.period_start) = 11)
                 AS paris_revenue,
               sum(t.value) FILTER (WHERE t.kpi = 'calls' AND salesperf.unit_of(t.rep_id, t.period_start) = 12)
                 AS berlin_calls
          FROM demo_target t
         GROUP BY t.period_start) x;

-- ---------------------------------------------------------------------------
-- Rewards.
INSERT INTO salesperf.reward (name, kind, value, description) VALUES
  ('Weekend for two',         'gift',     600,  'Two nights away, hotel and dinner'),
  ('Negotiation masterclass', 'training', 1200, 'Two-day course with an outside coach'),
  ('Cash bonus',              'cash',     250,  'Paid with the next salary'),
  ('Team lunch',              'gift',     40,   'Lunch with the team, on the company');

-- ---------------------------------------------------------------------------
-- Contests: last week's revenue sprint, over and frozen now; this week's
-- call blitz, running.
SELECT salesperf.create_contest(
         'Revenue sprint, week of ' || to_char(:'prev_week_start'::timestamptz, 'FMDD FMMonth'), 'revenue',
         :'prev_week_start', :'week_start',
         prizes => '[{"rank_from": 1, "badge": "Sprint champion", "bonus_points": 300, "reward": "Weekend for two"},
                     {"rank_from": 2, "rank_to": 3, "bonus_points": 100}]');
SELECT salesperf.create_contest(
         'Call blitz, week of ' || to_char(:'week_start'::timestamptz, 'FMDD FMMonth'), 'calls',
         :'week_start', :'next_week_start',
         prizes => '[{"rank_from": 1, "bonus_points": 200, "reward": "Cash bonus"},
                     {"rank_from": 2, "rank_to": 3, "bonus_points": 50}]');
SELECT salesperf.finalize_contests(:'now_at') AS contests_finalized;
-- Frozen at the demo's moment.
UPDATE salesperf.badge_award SET awarded_at = :'now_at' WHERE contest_id IS NOT NULL;
UPDATE salesperf.reward_grant SET granted_at = :'now_at', status_changed_at = :'now_at' WHERE contest_id IS NOT NULL;

-- ---------------------------------------------------------------------------
-- Grants by hand, moved along with set_grant_status() and dated as a
-- manager would have done it.
CREATE FUNCTION demo.grant_reward(reward text, rep_id bigint, reason text, granted_at timestamptz,
                                  approved_at timestamptz DEFAULT NULL, paid_at timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
AS $$
DECLARE
    id bigint := salesperf.grant_reward(reward, rep_id, reason);
BEGIN
    UPDATE salesperf.reward_grant g SET granted_at = $4, status_changed_at = $4 WHERE g.grant_id = id;
    IF approved_at IS NOT NULL THEN
        PERFORM salesperf.set_grant_status(id, 'approved');
        UPDATE salesperf.reward_grant g SET status_changed_at = approved_at WHERE g.grant_id = id;
    END IF;
    IF paid_at IS NOT NULL THEN
        PERFORM salesperf.set_grant_status(id, 'paid');
        UPDATE salesperf.reward_grant g SET status_changed_at = paid_at WHERE g.grant_id = id;
    END IF;
    RETURN id;
END
$$;
COMMENT ON FUNCTION demo.grant_reward(text, bigint, text, timestamptz, timestamptz, timestamptz) IS
  'salesperf.grant_reward() and set_grant_status() as a manager used them on the given days (the demo writes the days back).';

-- Last quarter's best seller went on the masterclass: granted on the
-- first Tuesday of last month, approved on the Friday, paid ten days later.
SELECT demo.grant_reward('Negotiation masterclass', b.participant_id,
                         'Best revenue of ' || to_char(q.last_quarter_end, '"Q"Q YYYY'),
                         d.day + time '10:00', d.day + 3 + time '16:30', d.day + 13 + time '11:00')
  FROM (SELECT salesperf.period_start(:'now_at'::timestamptz, 'quarter') - interval '1 microsecond'
               AS last_quarter_end) q,
       LATERAL salesperf.leaderboard_top('Revenue this quarter', 1, q.last_quarter_end) b,
       LATERAL (SELECT x::date + (9 - extract(isodow FROM x)::int) % 7 AS day
                  FROM (SELECT :'prev_month_start'::timestamptz AT TIME ZONE 'Europe/Paris' AS x) y) d;
-- A team lunch for every rep who hit last month's points target, granted
-- at the demo's moment and not approved yet.
SELECT count(demo.grant_reward('Team lunch', t.scope_id,
                               'Hit the points target of ' || to_char(t.period_start, 'FMMonth'), :'now_at'))
         AS team_lunches
  FROM salesperf.target_progress_at(:'month_start'::timestamptz - interval '1 microsecond', 'rep') t
 WHERE t.kpi = 'points' AND t.status = 'achieved';
-- The sprint winner's weekend is approved at once.
SELECT salesperf.set_grant_status(g.grant_id, 'approved')
  FROM salesperf.reward_grant g JOIN salesperf.reward r USING (reward_id)
 WHERE r.name = 'Weekend for two' AND g.contest_id IS NOT NULL;
UPDATE salesperf.reward_grant g SET status_changed_at = :'now_at'
 WHERE g.status = 'approved' AND g.contest_id IS NOT NULL;
ANALYZE;
