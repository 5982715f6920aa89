-- What a sales manager looks at, printed by `make demo`.
\pset footer off
\pset null '—'
SET timezone = 'Europe/Paris';

\echo
\echo '═══ Acme Corp — organisation ════════════════════════════════════'
SELECT repeat('    ', t.depth) || u.name AS unit, u.kind,
       (SELECT r.name FROM salesperf.rep r WHERE r.rep_id = u.manager_rep_id) AS manager,
       (SELECT count(*) FROM salesperf.membership m
         WHERE m.unit_id = u.unit_id AND m.during @> now()) AS reps_now
  FROM salesperf.unit u
  JOIN salesperf.unit_tree t ON t.descendant_id = u.unit_id AND t.ancestor_id = 1
 ORDER BY (SELECT string_agg(lpad(a.ancestor_id::text, 6, '0'), '/' ORDER BY a.depth DESC)
             FROM salesperf.unit_tree a WHERE a.descendant_id = u.unit_id);

\echo
\echo '═══ Calendar (Europe/Paris) ═════════════════════════════════════'
SELECT p AS period, salesperf.period_start(now(), p)::date AS starts,
       (salesperf.period_end(now(), p) - interval '1 day')::date AS ends
  FROM unnest(ARRAY['day', 'week', 'month', 'quarter', 'year']) p;

\echo
\echo '═══ Points this month — leaderboard (▲ climbed since last month) ═'
SELECT rank AS "#", name AS rep, round(score) AS points,
       CASE WHEN previous_rank IS NULL THEN 'new'
            WHEN movement > 0 THEN '▲ ' || movement
            WHEN movement < 0 THEN '▼ ' || -movement
            ELSE '=' END AS move,
       previous_rank AS "last month"
  FROM salesperf.leaderboard_top('Points this month', 10);

\echo
\echo '═══ Teams this month ═════════════════════════════════════════════'
SELECT rank AS "#", name AS team, round(score) AS points,
       CASE WHEN movement > 0 THEN '▲ ' || movement WHEN movement < 0 THEN '▼ ' || -movement ELSE '=' END AS move
  FROM salesperf.leaderboard_top('Team points this month', 10);

\echo
\echo '═══ Calls this week ══════════════════════════════════════════════'
SELECT rank AS "#", name AS rep, score::int AS calls, previous_rank AS "last week"
  FROM salesperf.leaderboard_top('Calls this week', 5);

\echo
\echo '═══ Revenue this quarter (EUR) ═══════════════════════════════════'
SELECT rank AS "#", name AS rep, to_char(score, 'FM999G999G990') AS revenue
  FROM salesperf.leaderboard_top('Revenue this quarter', 5);

\echo
\echo '═══ Where do I stand? ════════════════════════════════════════════'
SELECT r.name AS rep, x.rank || ' of ' || x.participants AS "rank", round(x.score) AS points
  FROM salesperf.rep r, salesperf.leaderboard_rank('Points this month', r.rep_id) x
 WHERE r.rep_id IN (5, 18, 24) ORDER BY x.rank;

\echo
\echo '═══ Elise Moreau — KPIs (moved Paris → Berlin on 9 November) ═════'
SELECT k.name AS kpi, k.unit,
       round(salesperf.kpi_value(k.name, 'rep', 5, 'month', now() - interval '1 month'), 2) AS last_month,
       round(salesperf.kpi_value(k.name, 'rep', 5, 'month'), 2) AS this_month,
       round(salesperf.kpi_value(k.name, 'rep', 5, 'week'), 2) AS this_week
  FROM salesperf.kpi k
 ORDER BY array_position(ARRAY['leads_generated', 'leads_converted', 'conversion_rate', 'calls', 'call_seconds',
                               'emails', 'messages', 'meetings', 'visits', 'deals_won', 'revenue', 'points'], k.name);

\echo
\echo '═══ Revenue by unit this month (each unit = its whole subtree) ═══'
SELECT repeat('    ', t.depth) || u.name AS unit,
       to_char(salesperf.kpi_value('revenue', 'unit', u.unit_id, 'month'), 'FM999G999G990') AS revenue,
       salesperf.kpi_value('deals_won', 'unit', u.unit_id, 'month') AS deals,
       round(salesperf.kpi_value('conversion_rate', 'unit', u.unit_id, 'month') * 100, 1) AS "conversion %"
  FROM salesperf.unit u
  JOIN salesperf.unit_tree t ON t.descendant_id = u.unit_id AND t.ancestor_id = 1
 ORDER BY (SELECT string_agg(lpad(a.ancestor_id::text, 6, '0'), '/' ORDER BY a.depth DESC)
             FROM salesperf.unit_tree a WHERE a.descendant_id = u.unit_id);

\echo
\echo 'Ledger:' 
SELECT count(*) AS activities, min(occurred_at)::date AS since, max(occurred_at)::date AS until
  FROM salesperf.activity;
