-- What a sales manager looks at, printed by `make demo`.  Every figure is
-- read at the demo's moment (demo.clock: when the history was generated,
-- or the demo_now it was given), so the page and the data always agree.
\set QUIET 1
\pset footer off
\pset null '—'
SET timezone = 'Europe/Paris';
SELECT c.at AS at,
       'Acme Corp, as of ' || to_char(c.at, 'FMDay FMDD FMMonth YYYY, HH24:MI') || ' Europe/Paris time'
         || CASE WHEN c.fixed THEN ' (clock set by demo_now)' ELSE '' END AS title,
       '═══ Elise Moreau — KPIs (moved Paris → Berlin on ' || to_char(c.elise_moved_on, 'FMDay FMDD FMMonth')
         || ') ═══' AS elise_title
  FROM demo.clock c
\gset

\echo
\echo :title

\echo
\echo '═══ Acme Corp — organisation ════════════════════════════════════'
SELECT repeat('    ', t.depth) || u.name AS unit, u.kind,
       (SELECT r.name FROM salesperf.rep r WHERE r.rep_id = u.manager_rep_id) AS manager,
       (SELECT count(*) FROM salesperf.membership m
         WHERE m.unit_id = u.unit_id AND m.during @> :'at'::timestamptz) AS "reps now"
  FROM salesperf.unit u
  JOIN salesperf.unit_tree t ON t.descendant_id = u.unit_id AND t.ancestor_id = 1
 ORDER BY (SELECT string_agg(lpad(a.ancestor_id::text, 6, '0'), '/' ORDER BY a.depth DESC)
             FROM salesperf.unit_tree a WHERE a.descendant_id = u.unit_id);

\echo
\echo '═══ Calendar (Europe/Paris) ═════════════════════════════════════'
SELECT p AS period, salesperf.period_start(:'at', p)::date AS starts,
       (salesperf.period_end(:'at', p) - interval '1 day')::date AS ends,
       (SELECT count(*) FROM salesperf.activity a
         WHERE a.occurred_at >= salesperf.period_start(:'at', p) AND a.occurred_at <= :'at') AS "activities so far"
  FROM unnest(ARRAY['day', 'week', 'month', 'quarter', 'year']) p;

\echo
\echo '═══ Points this month — leaderboard ═════════════════════════════'
\echo '    move: ▲ climbed / ▼ fell since last month''s final ranking, – held'
SELECT rank AS "#", name AS rep, demo.points(score) AS points,
       demo.arrow(movement) AS move, previous_rank AS "last month"
  FROM salesperf.leaderboard_top('Points this month', 10, :'at');

\echo
\echo '═══ Last month — final podium ═══════════════════════════════════'
SELECT rank AS "#", name AS rep, demo.points(score) AS points
  FROM salesperf.leaderboard_top('Points this month', 3,
                                 salesperf.period_start(:'at', 'month') - interval '1 microsecond');

\echo
\echo '═══ Teams this month ═════════════════════════════════════════════'
SELECT rank AS "#", name AS team, demo.points(score) AS points,
       demo.arrow(movement) AS move, previous_rank AS "last month"
  FROM salesperf.leaderboard_top('Team points this month', 10, :'at');

\echo
\echo '═══ Calls this week ══════════════════════════════════════════════'
SELECT rank AS "#", name AS rep, round(score)::bigint AS calls,
       demo.arrow(movement) AS move, previous_rank AS "last week"
  FROM salesperf.leaderboard_top('Calls this week', 5, :'at');

\echo
\echo '═══ Revenue this quarter (EUR) ═══════════════════════════════════'
SELECT rank AS "#", name AS rep, to_char(score, '9G999G990D00') AS revenue,
       demo.arrow(movement) AS move, previous_rank AS "last quarter"
  FROM salesperf.leaderboard_top('Revenue this quarter', 5, :'at');

\echo
\echo '═══ Where do I stand? (points this month) ════════════════════════'
SELECT r.name AS rep, 'rank ' || x.rank || ' of ' || x.participants AS "rank", demo.points(x.score) AS points
  FROM salesperf.rep r, salesperf.leaderboard_rank('Points this month', r.rep_id, :'at') x
 WHERE r.rep_id IN (5, 18, 24) ORDER BY x.rank, r.rep_id;

\echo
\echo :elise_title
-- Counts print as whole numbers, money with two decimals, points without
-- trailing zeros, the conversion rate as a percentage.
SELECT k.name AS kpi, CASE k.unit WHEN 'ratio' THEN '%' WHEN 'currency' THEN 'EUR' ELSE k.unit END AS unit,
       CASE k.unit WHEN 'currency' THEN round(v.last_month, 2)
                   WHEN 'points'   THEN demo.points(v.last_month)
                   WHEN 'ratio'    THEN round(v.last_month * 100, 1)
                   ELSE round(v.last_month) END AS "last month",
       CASE k.unit WHEN 'currency' THEN round(v.this_month, 2)
                   WHEN 'points'   THEN demo.points(v.this_month)
                   WHEN 'ratio'    THEN round(v.this_month * 100, 1)
                   ELSE round(v.this_month) END AS "this month",
       CASE k.unit WHEN 'currency' THEN round(v.this_week, 2)
                   WHEN 'points'   THEN demo.points(v.this_week)
                   WHEN 'ratio'    THEN round(v.this_week * 100, 1)
                   ELSE round(v.this_week) END AS "this week"
  FROM salesperf.kpi k,
       LATERAL (SELECT salesperf.kpi_value(k.name, 'rep', 5, 'month',
                                           salesperf.period_start(:'at', 'month') - interval '1 microsecond') AS last_month,
                       salesperf.kpi_value(k.name, 'rep', 5, 'month', :'at') AS this_month,
                       salesperf.kpi_value(k.name, 'rep', 5, 'week', :'at') AS this_week) v
 ORDER BY array_position(ARRAY['leads_generated', 'leads_converted', 'conversion_rate', 'calls', 'call_seconds',
                               'emails', 'messages', 'meetings', 'visits', 'deals_won', 'revenue', 'points'], k.name);

\echo
\echo '═══ Revenue by unit, last month and this month (EUR; each unit = its whole subtree) ═══'
SELECT repeat('    ', t.depth) || u.name AS unit,
       to_char(salesperf.kpi_value('revenue', 'unit', u.unit_id, 'month', p.last_month), '9G999G990D00') AS "last month",
       round(salesperf.kpi_value('deals_won', 'unit', u.unit_id, 'month', p.last_month)) AS deals,
       round(salesperf.kpi_value('conversion_rate', 'unit', u.unit_id, 'month', p.last_month) * 100, 1) AS "conv. %",
       to_char(salesperf.kpi_value('revenue', 'unit', u.unit_id, 'month', :'at'), '9G999G990D00') AS "this month",
       round(salesperf.kpi_value('deals_won', 'unit', u.unit_id, 'month', :'at')) AS "deals ",
       round(salesperf.kpi_value('conversion_rate', 'unit', u.unit_id, 'month', :'at') * 100, 1) AS "conv. % "
  FROM salesperf.unit u
  JOIN salesperf.unit_tree t ON t.descendant_id = u.unit_id AND t.ancestor_id = 1
 CROSS JOIN (SELECT salesperf.period_start(:'at', 'month') - interval '1 microsecond' AS last_month) p
 ORDER BY (SELECT string_agg(lpad(a.ancestor_id::text, 6, '0'), '/' ORDER BY a.depth DESC)
             FROM salesperf.unit_tree a WHERE a.descendant_id = u.unit_id);

\echo
\echo 'Ledger:'
SELECT count(*) AS activities, to_char(min(occurred_at), 'YYYY-MM-DD HH24:MI') AS since,
       to_char(max(occurred_at), 'YYYY-MM-DD HH24:MI') AS "latest"
  FROM salesperf.activity;
