-- Acme's commission for `make demo`, loaded after demo/motivation.sql
-- (which set last month's and this month's revenue targets): two plans,
-- last month closed, then a deal of last month reversed, which comes out
-- as a clawback in this month's statement.
\set ON_ERROR_STOP 1
SET timezone = 'Europe/Paris';
SELECT salesperf.period_start(salesperf.period_start(c.at, 'month') - interval '1 microsecond', 'month') AS prev_month_start,
       c.history_start
  FROM demo.clock c
\gset

-- Account executives (Europe and New York) are paid on quota: 4,000 € at
-- target, 70 % on their own revenue attainment and 30 % on their team's,
-- nothing below 50 %, an accelerator up to 2.5× at 150 %, capped there;
-- 300 € each when the team makes its target.  São Paulo sells new business
-- on a graduated rate: 4 % up to 30,000 €, 7 % up to 60,000 €, 10 % above.
INSERT INTO salesperf.commission_plan
       (name, basis_kpi, period, kind, target_incentive, individual_weight, team_weight, curve_x, curve_y, team_bonus)
VALUES ('Account executive', 'revenue', 'month', 'quota', 4000, 0.7, 0.3, '{0.5,1,1.5}', '{0,1,2.5}', 300);
INSERT INTO salesperf.commission_plan (name, basis_kpi, period, kind, breakpoints, rates)
VALUES ('New business', 'revenue', 'month', 'rate', '{0,30000,60000}', '{0.04,0.07,0.10}');
SELECT count(salesperf.assign_plan(r.rep_id,
                                   CASE WHEN salesperf.unit_of(r.rep_id) = 22 THEN 'New business' ELSE 'Account executive' END,
                                   :'history_start'))
       AS reps_on_plans
  FROM salesperf.rep r;

-- Last month is paid: its statements are frozen.  (With a DEMO_NOW in the
-- future, last month may not be over yet in real time: then it stays open.)
SELECT salesperf.period_end(:'prev_month_start'::timestamptz, 'month') <= now() AS can_close \gset
\if :can_close
SELECT salesperf.close_commission_period(:'prev_month_start') AS lines_frozen;
\endif

-- After the close, a customer cancels the biggest deal last month of the
-- Paris rep whose attainment was nearest 100 % (where the curve is
-- steepest): the deal is reversed (deleted from the ledger).  What was paid
-- for it is clawed back in this month's statement, from the rep and, as
-- Paris's team attainment for last month drops with it, from the team.
CREATE TABLE demo.reversed_deal AS
SELECT a.activity_id, a.rep_id, a.amount, a.occurred_at
  FROM salesperf.activity a
 WHERE a.rep_id = (SELECT s.rep_id FROM salesperf.commission_statement('month', :'prev_month_start') s
                    WHERE salesperf.unit_of(s.rep_id, :'prev_month_start') = 11 AND s.attainment IS NOT NULL
                    ORDER BY abs(s.attainment - 1), s.rep_id LIMIT 1)
   AND a.kind = 'deal_won'
   AND a.occurred_at >= :'prev_month_start'
   AND a.occurred_at < salesperf.period_end(:'prev_month_start'::timestamptz, 'month')
 ORDER BY a.amount DESC, a.activity_id
 LIMIT 1;
COMMENT ON TABLE demo.reversed_deal IS 'The deal of last month the demo reverses after the close.';
DELETE FROM salesperf.activity a USING demo.reversed_deal d WHERE a.activity_id = d.activity_id;
