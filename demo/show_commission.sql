-- Commission, printed by `make demo` after the other pages (needs
-- demo/commission.sql): the Paris team's statement for last month as it was
-- paid, the clawback of the deal reversed after the close, and this month's
-- statement so far.
\set QUIET 1
\pset footer off
\pset null '—'
SET timezone = 'Europe/Paris';
SELECT c.at AS at,
       salesperf.period_start(c.at, 'month') AS month_start,
       salesperf.period_start(salesperf.period_start(c.at, 'month') - interval '1 microsecond', 'month') AS prev_month_start,
       to_char(c.at, 'FMMonth YYYY') AS month_name,
       to_char(salesperf.period_start(c.at, 'month') - interval '1 day', 'FMMonth YYYY') AS prev_month_name,
       EXISTS (SELECT 1 FROM salesperf.commission_period p
                WHERE p.period = 'month'
                  AND p.period_start = salesperf.period_start(salesperf.period_start(c.at, 'month') - interval '1 microsecond', 'month'))
         AS prev_closed
  FROM demo.clock c
\gset

-- A statement as a manager reads it: whole euros, attainment in %.
CREATE FUNCTION pg_temp.team_statement(ps timestamptz)
RETURNS TABLE (rep text, plan text, revenue text, target text, "att. %" numeric, individual text, team text,
               "team bonus" text, adjustments text, total text)
LANGUAGE sql STABLE
AS $$
  SELECT s.name, s.plan, demo.figure(s.basis), demo.figure(s.target), round(s.attainment * 100),
         demo.figure(s.individual_part), demo.figure(s.team_part), demo.figure(s.team_bonus),
         CASE WHEN s.adjustments <> 0 THEN demo.figure(s.adjustments) ELSE '' END, demo.figure(s.total)
    FROM salesperf.commission_statement('month', ps) s
   WHERE salesperf.unit_of(s.rep_id, ps) = 11 OR s.rep_id IN (SELECT m.rep_id FROM salesperf.membership m WHERE m.unit_id = 11
                                                             AND m.during && tstzrange(ps, salesperf.period_end(ps, 'month')))
   ORDER BY s.total DESC, s.name
$$;

\echo
\echo '═══ Commission — Paris team ═══'
\echo '    Plan "Account executive": 4,000 € at target; 70 % on the rep''s revenue attainment, 30 % on the'
\echo '    team''s; nothing below 50 %, up to 2.5× at 150 % (capped); 300 € each when the team hits its target.'
\echo '    Elise Moreau moved to Berlin last month: she is paid on each team for the days she spent in it.'
\echo
\if :prev_closed
\echo '    ' :prev_month_name '— closed and paid'
\else
\echo '    ' :prev_month_name '— not closed yet'
\endif
SELECT * FROM pg_temp.team_statement(:'prev_month_start');

\echo
\echo '    Changes to a paid month after its close: clawbacks and true-ups, paid in the next open month'
SELECT a.name AS rep, to_char(a.for_period_start, 'FMMonth YYYY') AS "for",
       demo.figure(a.basis_paid) AS "revenue then", demo.figure(a.basis_now) AS "revenue now",
       demo.figure(a.earned_paid) AS "paid", demo.figure(a.earned_now) AS "earned now",
       demo.figure(a.amount) AS amount, a.kind
  FROM salesperf.commission_adjustments('month', :'month_start') a
 WHERE salesperf.unit_of(a.rep_id, :'prev_month_start') = 11
    OR a.rep_id IN (SELECT m.rep_id FROM salesperf.membership m WHERE m.unit_id = 11)
 ORDER BY a.amount, a.name;
SELECT format('    (%s''s deal of %s € from %s was reversed after the close)', r.name,
              trim(demo.figure(d.amount)), to_char(d.occurred_at, 'FMDD FMMonth'))
       AS reversed_line
  FROM demo.reversed_deal d JOIN salesperf.rep r USING (rep_id)
\gset
\echo :reversed_line

\echo
\echo '    ' :month_name '— so far (open: computed from the counters whenever it is read)'
SELECT * FROM pg_temp.team_statement(:'month_start');
