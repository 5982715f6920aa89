-- What keeps Acme's reps going, printed by `make demo` after demo/show.sql
-- (needs demo/company.sql, demo/pipeline.sql and demo/motivation.sql):
-- targets, badges, contests, rewards and the achievement board.  Read at
-- the demo's moment (demo.clock), like the other pages.
\set QUIET 1
\pset footer off
\pset null '—'
SET timezone = 'Europe/Paris';
SELECT c.at AS at,
       '═══ Targets, ' || to_char(c.at, 'FMMonth YYYY') || ' — '
         || to_char(100 * extract(epoch FROM c.at - salesperf.period_start(c.at, 'month'))
                    / extract(epoch FROM salesperf.period_end(c.at, 'month') - salesperf.period_start(c.at, 'month')),
                    'FM990.0')
         || ' % of the month gone ═══' AS targets_title
  FROM demo.clock c
\gset

-- This month's progress on every target (salesperf.target_progress_at at
-- the demo's moment), figures printed as people read them.
CREATE TEMP VIEW progress AS
SELECT t.kpi, t.scope, t.scope_id, t.name,
       demo.figure(t.target) AS target, demo.figure(t.actual) AS actual,
       round(t.attainment * 100) AS "att. %",
       demo.figure(t.expected_to_date) AS "pace",
       demo.figure(t.projected) AS projected,
       t.status, t.attainment,
       EXISTS (SELECT 1 FROM salesperf.target x
                WHERE x.kpi = t.kpi AND x.scope = t.scope AND x.scope_id IS NOT DISTINCT FROM t.scope_id
                  AND x.period = t.period AND x.period_start = t.period_start) AS explicit
  FROM salesperf.target_progress_at(:'at') t
 WHERE t.period = 'month';

\echo
\echo :targets_title
\echo '    target: the month''s goal; actual: done so far; pace: where an even pace would be by now'
\echo '    (target × share of the month gone); projected: actual at this pace by month end'
\echo '    (in the first hours of a month a projection says little).'
\echo '    status: achieved = actual ≥ target; on_track = projected ≥ target;'
\echo '            behind = projected ≥ 80 % of target; at_risk = below that.'
\echo
\echo '    Teams and above (* = target set for the unit; otherwise the sum of its reps'' targets)'
SELECT repeat('    ', tr.depth) || p.name || CASE WHEN p.explicit THEN ' *' ELSE '' END AS unit,
       p.kpi, p.target, p.actual, p."att. %", p.pace, p.projected, p.status
  FROM progress p
  JOIN salesperf.unit_tree tr ON tr.descendant_id = p.scope_id AND tr.ancestor_id = 1
 WHERE p.scope = 'unit'
 ORDER BY (SELECT string_agg(lpad(a.ancestor_id::text, 6, '0'), '/' ORDER BY a.depth DESC)
             FROM salesperf.unit_tree a WHERE a.descendant_id = p.scope_id),
          array_position(ARRAY['points', 'calls', 'revenue'], p.kpi);

\echo
\echo '    Reps — points (best attainment first in each team)'
SELECT u.name AS team, p.name AS rep, p.target, p.actual, p."att. %", p.pace, p.projected, p.status
  FROM progress p JOIN salesperf.unit u ON u.unit_id = salesperf.unit_of(p.scope_id, :'at')
 WHERE p.scope = 'rep' AND p.kpi = 'points'
 ORDER BY u.unit_id, p.attainment DESC NULLS LAST, p.name;

\echo
\echo '    Reps — calls'
SELECT u.name AS team, p.name AS rep, p.target, p.actual, p."att. %", p.pace, p.projected, p.status
  FROM progress p JOIN salesperf.unit u ON u.unit_id = salesperf.unit_of(p.scope_id, :'at')
 WHERE p.scope = 'rep' AND p.kpi = 'calls'
 ORDER BY u.unit_id, p.attainment DESC NULLS LAST, p.name;

\echo
\echo '    Reps — revenue (EUR)'
SELECT u.name AS team, p.name AS rep, p.target, p.actual, p."att. %", p.pace, p.projected, p.status
  FROM progress p JOIN salesperf.unit u ON u.unit_id = salesperf.unit_of(p.scope_id, :'at')
 WHERE p.scope = 'rep' AND p.kpi = 'revenue'
 ORDER BY u.unit_id, p.attainment DESC NULLS LAST, p.name;

\echo
\echo '    Reps by status this month, per KPI'
SELECT p.kpi, count(*) FILTER (WHERE p.status = 'achieved') AS achieved,
       count(*) FILTER (WHERE p.status = 'on_track') AS on_track,
       count(*) FILTER (WHERE p.status = 'behind') AS behind,
       count(*) FILTER (WHERE p.status = 'at_risk') AS at_risk
  FROM progress p WHERE p.scope = 'rep'
 GROUP BY p.kpi ORDER BY array_position(ARRAY['points', 'calls', 'revenue'], p.kpi);

\echo
\echo '    Last month, final: reps who reached their target'
SELECT t.kpi, count(*) FILTER (WHERE t.status = 'achieved') || ' of ' || count(*) AS reached,
       string_agg(t.name, ', ' ORDER BY t.attainment DESC) FILTER (WHERE t.attainment >= 1.2) AS "over 120 %"
  FROM salesperf.target_progress_at(salesperf.period_start(:'at', 'month') - interval '1 microsecond', 'rep') t
 WHERE t.period = 'month'
 GROUP BY t.kpi ORDER BY array_position(ARRAY['points', 'calls', 'revenue'], t.kpi);

\echo
\echo '═══ Badges — latest awards ═══════════════════════════════════════'
SELECT to_char(a.awarded_at, 'Dy DD Mon HH24:MI') AS awarded, r.name AS rep,
       b.name AS badge, b.tier, a.reason
  FROM salesperf.badge_award a
  JOIN salesperf.badge b USING (badge_id)
  JOIN salesperf.rep r USING (rep_id)
 WHERE a.awarded_at <= :'at'
 ORDER BY a.awarded_at DESC, a.award_id DESC
 LIMIT 12;

\echo
\echo '    Badges: what earns them, and how often they were earned'
SELECT b.name AS badge, b.tier, COALESCE(b.description, '') AS "earned for",
       count(a.award_id) FILTER (WHERE a.awarded_at >= salesperf.period_start(:'at', 'month')) AS "this month",
       count(a.award_id) AS "all time", count(DISTINCT a.rep_id) AS holders
  FROM salesperf.badge b
  LEFT JOIN salesperf.badge_award a ON a.badge_id = b.badge_id AND a.awarded_at <= :'at'
 GROUP BY b.badge_id, b.name, b.tier, b.description
 ORDER BY array_position(ARRAY['bronze', 'silver', 'gold'], b.tier), b.badge_id;

-- The contest that ended last, and the one running now.
SELECT c.contest_id AS done_id,
       '═══ Contest over: ' || c.name || ' (' || to_char(c.starts_at, 'Dy DD Mon') || ' – '
         || to_char(c.ends_at - interval '1 microsecond', 'Dy DD Mon') || ', ' || c.metric || ') — final ═══' AS done_title
  FROM salesperf.contest c
 WHERE c.finalized_at IS NOT NULL AND c.ends_at <= :'at'
 ORDER BY c.ends_at DESC, c.contest_id DESC LIMIT 1
\gset
SELECT c.name AS live_name,
       '═══ Contest running: ' || c.name || ' (' || c.metric || ', until '
         || to_char(c.ends_at, 'Dy DD Mon HH24:MI') || ': '
         || extract(day FROM c.ends_at - :'at'::timestamptz) || ' d '
         || extract(hour FROM c.ends_at - :'at'::timestamptz) || ' h to go) — live ═══' AS live_title
  FROM salesperf.contest c
 WHERE c.starts_at <= :'at' AND c.ends_at > :'at'
 ORDER BY c.ends_at, c.contest_id LIMIT 1
\gset

\echo
\echo :done_title
\echo '    frozen by salesperf.finalize_contests(); prizes: badge, bonus points, reward'
SELECT r.rank AS "#", r.name AS rep, demo.figure(r.score) AS score,
       (SELECT string_agg(concat_ws(' + ', e ->> 'badge',
                                    CASE WHEN (e ->> 'bonus_points')::numeric > 0 THEN (e ->> 'bonus_points') || ' points' END,
                                    e ->> 'reward'), ' + ')
          FROM jsonb_array_elements(c.prizes) e
         WHERE r.reached_at IS NOT NULL
           AND r.rank BETWEEN (e ->> 'rank_from')::int AND COALESCE(e ->> 'rank_to', e ->> 'rank_from')::int) AS prize
  FROM salesperf.contest_result r JOIN salesperf.contest c USING (contest_id)
 WHERE r.contest_id = :done_id
 ORDER BY r.rank, r.reached_at, r.participant_id
 LIMIT 6;

\echo
\echo :live_title
SELECT s.rank AS "#", s.name AS rep, demo.figure(s.score) AS score,
       to_char(s.reached_at, 'Dy HH24:MI') AS "score reached"
  FROM salesperf.contest_standings(:'live_name') s
 ORDER BY s.rank, s.reached_at, s.participant_id
 LIMIT 8;

\echo
\echo '═══ Rewards — grants ══════════════════════════════════════════════'
SELECT to_char(g.granted_at, 'DD Mon HH24:MI') AS granted, w.name AS reward, w.kind,
       to_char(w.value, 'FM9G999G990') AS "value €", r.name AS rep,
       g.status, to_char(g.status_changed_at, 'DD Mon HH24:MI') AS "since", g.reason
  FROM salesperf.reward_grant g
  JOIN salesperf.reward w USING (reward_id)
  JOIN salesperf.rep r USING (rep_id)
 ORDER BY g.granted_at DESC, g.grant_id;

\echo
\echo '    Rewards by value and difficulty (salesperf.reward_quadrant)'
\echo '    value: high above the median reward; hard: earned by at most 25 % of those eligible'
SELECT q.name AS reward, q.kind, to_char(q.value, 'FM9G999G990') AS "value €", q.value_class AS value,
       q.earners || ' of ' || q.eligible AS earned,
       CASE WHEN q.eligible > 0 THEN round(q.earned_share * 100) END AS "%", q.quadrant
  FROM salesperf.reward_quadrant q
 ORDER BY q.value DESC, q.name;

\echo
\echo '═══ Achievement board ═════════════════════════════════════════════'
\echo '    rank on Points this month; badges by name (×n); contests won / placed in the prizes'
SELECT a.board_rank AS "#", a.name AS rep, demo.points(a.points_this_month) AS "points (month)",
       demo.points(a.points_all_time) AS "all time", a.badges,
       (SELECT string_agg(CASE WHEN n > 1 THEN x || ' ×' || n ELSE x END, ', ' ORDER BY first_seen)
          FROM (SELECT x, count(*) AS n, min(o) AS first_seen
                  FROM unnest(string_to_array(a.badge_list, ', ')) WITH ORDINALITY AS l(x, o)
                 GROUP BY x) y) AS "badge list",
       a.contests_won AS won, a.contests_placed AS placed
  FROM salesperf.achievement_board_at(:'at') a
 ORDER BY a.board_rank NULLS LAST, a.points_all_time DESC, a.rep_id;

-- The scoreboard (SPEC §11): today, this week and this month per rep, with
-- the points trend of recent weeks as a sparkline.
\echo
\echo '═══ Scoreboard — today, this week, this month, with the points trend ═══'
SELECT s.unit AS team, s.name AS rep, round(s.calls_today) AS "calls today",
       demo.figure(s.revenue_month) AS "revenue (month)",
       demo.points(s.points_today) AS "pts today", demo.points(s.points_week) AS "pts week",
       demo.points(s.points_month) AS "pts month", s.points_trend AS trend
  FROM salesperf.scoreboard_at(:'at') s
 ORDER BY s.unit_id, s.points_month DESC, s.name;
