--
-- Commission arithmetic (SPEC section 10): salesperf.tiered_commission and
-- salesperf.payout_curve.  Exact numeric, no floating point: every number
-- below is worked out by hand in the comment above it, and the graduated
-- sum is compared with the same rule written as plain SQL.
--
\set SHOW_CONTEXT never

-- Runs a statement and tells how it ended: 'ok' or SQLSTATE: message.
CREATE FUNCTION pg_temp.outcome(statement text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-- A plan: 5 % from 0, 10 % from 100,000, 15 % from 150,000.
-- 175,000 graduated:   100000 * 0.05 + 50000 * 0.10 + 25000 * 0.15
--                    = 5000 + 5000 + 3750 = 13750
-- 175,000 retroactive: 175000 * 0.15 = 26250
-- Scale: amount and breakpoints 0 decimals + rates 2 = 2.
SELECT salesperf.tiered_commission(175000, '{0,100000,150000}', '{0.05,0.10,0.15}') AS graduated,
       salesperf.tiered_commission(175000, '{0,100000,150000}', '{0.05,0.10,0.15}', true) AS retroactive;

-- Around the breakpoints.  An amount on a breakpoint is in the tier that
-- starts there, which only matters retroactively.
--   0          0.00                                     0.00
--   99999.99   99999.99 * 0.05 = 4999.9995              the same
--   100000     100000 * 0.05 = 5000.00                  100000 * 0.10 = 10000.00
--   100000.01  5000 + 0.01 * 0.10 = 5000.0010           100000.01 * 0.10 = 10000.0010
--   149999.99  5000 + 49999.99 * 0.10 = 9999.9990      149999.99 * 0.10 = 14999.9990
--   150000     5000 + 5000 = 10000.00                   150000 * 0.15 = 22500.00
--   150000.01  10000 + 0.01 * 0.15 = 10000.0015         150000.01 * 0.15 = 22500.0015
-- A negative amount (returns above sales) is amount * rates[1] in both modes:
--   -200       -200 * 0.05 = -10.00                     -10.00
SELECT amount,
       salesperf.tiered_commission(amount, '{0,100000,150000}', '{0.05,0.10,0.15}') AS graduated,
       salesperf.tiered_commission(amount, '{0,100000,150000}', '{0.05,0.10,0.15}', true) AS retroactive
  FROM (VALUES (0), (99999.99), (100000), (100000.01), (149999.99), (150000), (150000.01), (-200))
       AS v(amount);

-- One tier: a flat 7 % (1000 * 0.07 = 70.00).  A first tier at rate 0 is a
-- threshold: 1500 pays (1500 - 1000) * 0.1 = 50.0 graduated, 1500 * 0.1 =
-- 150.0 retroactive, and returns below zero take nothing back (-100 * 0).
SELECT salesperf.tiered_commission(1000, '{0}', '{0.07}') AS flat,
       salesperf.tiered_commission(1500, '{0,1000}', '{0,0.1}') AS graduated,
       salesperf.tiered_commission(1500, '{0,1000}', '{0,0.1}', true) AS retroactive,
       salesperf.tiered_commission(-100, '{0,1000}', '{0,0.1}') AS returns;

-- No amount, no commission; amount 0 is how a plan's table is checked.
SELECT salesperf.tiered_commission(NULL, '{0,100000}', '{0.05,0.10}') AS no_amount,
       salesperf.tiered_commission(0, '{0,100000}', '{0.05,0.10}') AS check_plan;

-- Near the edge of the exact range: 10^37 * 10 = 10^38 fits, 10^37 * 100 does not.
SELECT salesperf.tiered_commission(10000000000000000000000000000000000000, '{0}', '{10}') AS largest;

-- The graduated and retroactive rules written as plain SQL over the tiers,
-- for two plans and 1615 amounts from -1000.01 to 200000.37 that include
-- every breakpoint and one cent either side.  Values must be equal, and the scale
-- of each result is that of amount and breakpoints plus that of rates.
WITH plan(id, bps, rates) AS (
         VALUES (1, '{0,100000,150000}'::numeric[], '{0.05,0.10,0.15}'::numeric[]),
                (2, '{0,1000.5,2500,10000}', '{0,0.125,0.2,0.3}')),
     tier AS (
         SELECT p.id, t.lo, t.rate, lead(t.lo) OVER (PARTITION BY p.id ORDER BY t.i) AS hi
           FROM plan p, unnest(p.bps, p.rates) WITH ORDINALITY AS t(lo, rate, i)),
     amount AS (
         SELECT g * 500 + d AS amount
           FROM generate_series(-2, 400) AS g, (VALUES (0), (0.01), (-0.01), (0.37)) AS v(d)
         UNION ALL VALUES (1000.5), (1000.49), (1000.51)),
     result AS (
         SELECT p.id, a.amount, p.bps, p.rates,
                salesperf.tiered_commission(a.amount, p.bps, p.rates) AS graduated,
                salesperf.tiered_commission(a.amount, p.bps, p.rates, true) AS retroactive,
                CASE WHEN a.amount < 0 THEN a.amount * p.rates[1]
                     ELSE (SELECT sum((least(a.amount, coalesce(t.hi, a.amount)) - t.lo) * t.rate)
                             FROM tier t WHERE t.id = p.id AND t.lo <= a.amount)
                END AS graduated_sql,
                a.amount * CASE WHEN a.amount < 0 THEN p.rates[1]
                                ELSE (SELECT t.rate FROM tier t WHERE t.id = p.id AND t.lo <= a.amount
                                       ORDER BY t.lo DESC LIMIT 1)
                           END AS retroactive_sql
           FROM plan p, amount a)
SELECT id, count(*) AS amounts,
       count(*) FILTER (WHERE graduated IS DISTINCT FROM graduated_sql) AS graduated_mismatches,
       count(*) FILTER (WHERE retroactive IS DISTINCT FROM retroactive_sql) AS retroactive_mismatches,
       count(*) FILTER (WHERE scale(graduated) <> greatest(scale(amount), (SELECT max(scale(b)) FROM unnest(bps) b))
                                                  + (SELECT max(scale(r)) FROM unnest(rates) r)
                           OR scale(retroactive) <> scale(graduated)) AS scale_mismatches
  FROM result GROUP BY id ORDER BY id;

-- Payout curve: threshold at 50 % attainment, 1 at 100 %, accelerating to a
-- cap of 2 at 150 %; flat outside the points.
--   0.4   below the first point: ys[1] = 0
--   0.5   on a point: 0
--   0.75  0 + (1 - 0) * (0.75 - 0.5) / (1 - 0.5) = 0.5
--   1     1
--   1.2   1 + (2 - 1) * (1.2 - 1) / (1.5 - 1) = 1.4
--   1.5   2
--   2     beyond the last point: 2
SELECT attainment, salesperf.payout_curve(attainment, '{0.5,1,1.5}', '{0,1,2}') AS multiplier
  FROM unnest('{0.4,0.5,0.75,1,1.2,1.5,2}'::numeric[]) AS attainment;

-- A decelerator above 100 %: 1 + (1.5 - 1) * (1.5 - 1) / (2 - 1) = 1.25.
-- Thirds are rounded half away from zero to 12 decimals: 1/3 and 2/3.
-- A y keeps its scale: 1.00 + (2.00 - 1.00) * 0.5 = 1.50.
-- A single point is flat everywhere.
SELECT salesperf.payout_curve(1.5, '{0,1,2}', '{0,1,1.5}') AS decelerated,
       salesperf.payout_curve(1, '{0,3}', '{0,1}') AS one_third,
       salesperf.payout_curve(2, '{0,3}', '{0,1}') AS two_thirds,
       salesperf.payout_curve(0.5, '{0,1}', '{1.00,2.00}') AS keeps_scale,
       salesperf.payout_curve(7, '{1}', '{0.8}') AS single_point,
       salesperf.payout_curve(NULL, '{0,1}', '{0,1}') AS no_attainment;

-- An attainment is usually a quotient.  1/3e9 has 28 decimals:
--   0.5 + 0.5 * 0.0000000003333333333333333333 = 0.50000000016666... -> 0.500000000167
-- 1/3e13 has 32, more than the 30 kept: it is rounded to 30 first,
--   0.5 + 0.5 * 0.000000000000033333333333333333 -> 0.500000000000 -> 0.5
SELECT salesperf.payout_curve(1 / 3000000000.0, '{0,1}', '{0.5,1}') AS scale_28,
       salesperf.payout_curve(1 / 30000000000000.0, '{0,1}', '{0.5,1}') AS scale_32;

-- Bad input: NULL arrays or flag 22004, invalid tables 22023 naming the
-- element, non-finite or too precise values and results out of range 22003.
SELECT s AS statement, pg_temp.outcome(s) AS outcome
  FROM unnest(ARRAY[
    $q$SELECT salesperf.tiered_commission(1, NULL, '{0.05}')$q$,
    $q$SELECT salesperf.tiered_commission(1, '{0}', NULL)$q$,
    $q$SELECT salesperf.tiered_commission(1, '{0}', '{0.05}', NULL)$q$,
    $q$SELECT salesperf.tiered_commission(1, '{}', '{}')$q$,
    $q$SELECT salesperf.tiered_commission(1, '{{0,1},{2,3}}', '{0.05,0.1}')$q$,
    $q$SELECT salesperf.tiered_commission(1, '{0,NULL}', '{0.05,0.1}')$q$,
    $q$SELECT salesperf.tiered_commission(1, '{0,NaN}', '{0.05,0.1}')$q$,
    $q$SELECT salesperf.tiered_commission(1, '{0,10}', '{0.05,Infinity}')$q$,
    $q$SELECT salesperf.tiered_commission(1, '{0,10}', '{0.05}')$q$,
    $q$SELECT salesperf.tiered_commission(1, '{1,10}', '{0.05,0.1}')$q$,
    $q$SELECT salesperf.tiered_commission(1, '{0,100,100}', '{0.05,0.1,0.15}')$q$,
    $q$SELECT salesperf.tiered_commission(1, '[0:2]={0,100,50}', '{0.05,0.1,0.15}')$q$,
    $q$SELECT salesperf.tiered_commission(1, '{0,100}', '{0.05,-0.1}')$q$,
    $q$SELECT salesperf.tiered_commission(NULL, '{0,100,100}', '{0.05,0.1,0.15}')$q$,
    $q$SELECT salesperf.tiered_commission('NaN', '{0}', '{0.05}')$q$,
    $q$SELECT salesperf.tiered_commission('-Infinity', '{0}', '{0.05}')$q$,
    $q$SELECT salesperf.tiered_commission(0.0000000000000000000000000000001, '{0}', '{0.05}')$q$,
    $q$SELECT salesperf.tiered_commission(1, '{0}', '{0.0000000000000000000000000000001}')$q$,
    $q$SELECT salesperf.tiered_commission(1000000000000000000000000000000000000000, '{0}', '{1}')$q$,
    $q$SELECT salesperf.tiered_commission(10000000000000000000000000000000000000, '{0}', '{100}')$q$,
    $q$SELECT salesperf.payout_curve(1, NULL, '{0}')$q$,
    $q$SELECT salesperf.payout_curve(1, '{0}', NULL)$q$,
    $q$SELECT salesperf.payout_curve(1, '{0,1}', '{0}')$q$,
    $q$SELECT salesperf.payout_curve(1, '{0,1,0.5}', '{0,1,2}')$q$,
    $q$SELECT salesperf.payout_curve(1, '{0,1}', '{0,-1}')$q$,
    $q$SELECT salesperf.payout_curve(1, '{0,1}', '{0,NULL}')$q$,
    $q$SELECT salesperf.payout_curve('NaN', '{0,1}', '{0,1}')$q$,
    $q$SELECT salesperf.payout_curve('Infinity', '{0,1}', '{0,1}')$q$,
    $q$SELECT salesperf.payout_curve(0.000000000000000000000000000001, '{0,1000000000000000000000000000000}', '{0,1}')$q$
  ]) AS s;

-- Declared as the SPEC says: immutable, parallel safe, not strict.
SELECT p.oid::regprocedure AS function, p.provolatile, p.proparallel, p.proisstrict,
       pg_get_function_arguments(p.oid) AS arguments
  FROM pg_proc p
 WHERE p.pronamespace = 'salesperf'::regnamespace
   AND p.proname IN ('tiered_commission', 'payout_curve')
 ORDER BY p.proname;
