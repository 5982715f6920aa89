-- What a sales director looks at in the pipeline, printed by `make demo`
-- after demo/show.sql (needs demo/company.sql and demo/pipeline.sql).
\set QUIET 1
\pset footer off
\pset null '—'
SET timezone = 'Europe/Paris';
-- Read at the demo's moment, like demo/show.sql.
SELECT c.at AS at FROM demo.clock c
\gset

\echo
\echo '═══ Sales velocity by team — deals closed each month, last three months (EUR) ═══'
\echo 'velocity = deals × win rate × average won deal ÷ average cycle'
SELECT v.team, v.month, (v.d).opportunities AS closed, (v.d).won, (v.d).lost,
       round((v.d).win_rate * 100) || ' %' AS "win rate",
       to_char((v.d).avg_deal, '9G999G990') AS "avg deal",
       round((v.d).avg_cycle_days::numeric, 1) AS "cycle (days)",
       to_char((v.d).per_day, '9G999G990') AS "per day",
       to_char((v.d).per_month, '9G999G990') AS "per month"
  FROM (SELECT u.unit_id, u.name AS team,
               to_char(o.closed_at, 'YYYY-MM') AS month,
               salesperf.sales_velocity_detail(o.opened_at, o.closed_at, o.amount, s.is_won) AS d
          FROM salesperf.opportunity o
          JOIN salesperf.stage s ON s.stage = o.stage
          JOIN salesperf.unit u ON u.unit_id = salesperf.unit_of(o.rep_id, o.closed_at)
         WHERE s.is_closed
           AND o.closed_at >= salesperf.period_start(salesperf.period_start(:'at', 'month') - interval '2 months', 'month')
         GROUP BY u.unit_id, u.name, to_char(o.closed_at, 'YYYY-MM')) v
 ORDER BY v.unit_id, v.month;

\echo
\echo '═══ Forecast this quarter (EUR; each unit = its whole subtree) ═══'
SELECT to_char(salesperf.period_start(:'at', 'quarter'), 'YYYY-MM-DD') AS "quarter from",
       to_char(salesperf.period_end(:'at', 'quarter') - interval '1 day', 'YYYY-MM-DD') AS "to";
SELECT repeat('    ', depth) || name AS unit,
       to_char(closed, '9G999G990') AS won,
       to_char(commit, '9G999G990') AS commit,
       to_char(best_case, '9G999G990') AS "best case",
       to_char(pipeline, '9G999G990') AS pipeline,
       to_char(weighted, '9G999G990') AS weighted,
       to_char(commit_forecast, '9G999G990') AS "commit fc",
       to_char(best_case_forecast, '9G999G990') AS "best case fc",
       to_char(adjusted_commit, '9G999G990')
         || CASE WHEN adjusted_commit <> commit_forecast THEN ' *' ELSE '' END AS "the call"
  FROM salesperf.forecast('quarter', :'at');
\echo '    commit fc = won + commit; best case fc = + best case; weighted = won + open × probability.'
\echo '    * = adjusted by the manager (Paris), and carried up the tree.'

\echo
\echo '═══ How the quarter may end: P10 / P50 / P90 of revenue (EUR) ═══'
\echo 'won so far, plus each open deal closing with its stage probability'
WITH q AS (
    SELECT salesperf.period_start(:'at', 'quarter') AS lo, salesperf.period_end(:'at', 'quarter') AS hi
), deal AS (
    SELECT o.opportunity_id, o.source || ':' || o.source_key AS deal_key, o.amount,
           CASE WHEN s.is_won THEN 1 ELSE s.probability END AS probability,
           salesperf.unit_of(o.rep_id, COALESCE(o.closed_at, o.expected_close::timestamp AT TIME ZONE 'Europe/Paris')) AS unit_id
      FROM salesperf.opportunity o
      JOIN salesperf.stage s ON s.stage = o.stage, q
     WHERE (s.is_won AND o.closed_at >= q.lo AND o.closed_at < q.hi)
        OR (NOT s.is_closed AND o.expected_close >= (q.lo AT TIME ZONE 'Europe/Paris')::date
                            AND o.expected_close < (q.hi AT TIME ZONE 'Europe/Paris')::date)
), by_unit AS (
    SELECT t.ancestor_id AS unit_id,
           salesperf.forecast_quantiles(d.deal_key, d.amount::float8, d.probability::float8) AS p,
           sum(d.amount) FILTER (WHERE d.probability = 1) AS won
      FROM deal d JOIN salesperf.unit_tree t ON t.descendant_id = d.unit_id
     GROUP BY t.ancestor_id
)
SELECT repeat('    ', (SELECT max(x.depth) FROM salesperf.unit_tree x WHERE x.descendant_id = u.unit_id)) || u.name AS unit,
       to_char(b.won, '9G999G990') AS "won so far",
       to_char(b.p[1], '9G999G990') AS "P10",
       to_char(b.p[2], '9G999G990') AS "P50",
       to_char(b.p[3], '9G999G990') AS "P90"
  FROM salesperf.unit u JOIN by_unit b ON b.unit_id = u.unit_id
 ORDER BY ARRAY(SELECT x.ancestor_id FROM salesperf.unit_tree x
                 WHERE x.descendant_id = u.unit_id ORDER BY x.depth DESC);
\echo '    P10: 9 chances in 10 to do at least this; P90: 1 chance in 10 to do more.'

\echo
\echo '═══ Cumulative forecast, next six months (EUR) ═══════════════════'
SELECT to_char(month, 'Mon YYYY') AS month,
       to_char(won, '9G999G990') AS won,
       to_char(weighted, '9G999G990') AS "expected (weighted)",
       to_char(cumulative, '9G999G990') AS cumulative,
       repeat('█', (40 * cumulative / NULLIF(max(cumulative) OVER (), 0))::int) AS trend
  FROM salesperf.cumulative_forecast(6, :'at');

\echo
\echo 'Pipeline:'
SELECT s.stage, round(s.probability * 100) || ' %' AS probability, s.category,
       count(o.*) AS deals, to_char(sum(o.amount), '9G999G990') AS amount
  FROM salesperf.stage s LEFT JOIN salesperf.opportunity o ON o.stage = s.stage
 GROUP BY s.stage, s.probability, s.category, s.sort_order
 ORDER BY s.sort_order;
