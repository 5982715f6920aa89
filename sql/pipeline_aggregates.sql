-- Pipeline aggregates (SPEC §9): sales velocity, weighted pipeline,
-- forecast summary and forecast quantiles.  Small hand-checked examples
-- first, then the errors, then 200,000 opportunities run serially, in
-- parallel and in shuffled order, which must all give the same answers.

-- Errors are shown as "SQLSTATE: message".
CREATE FUNCTION pg_temp.error_of(statement text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE statement;
  RETURN 'no error';
EXCEPTION WHEN others THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

CREATE TEMP TABLE deal (
    deal_key    text,
    opened_at   timestamptz,
    closed_at   timestamptz,
    amount      numeric,
    won         boolean,
    probability numeric,
    category    text
);
INSERT INTO deal VALUES
  ('A', '2024-01-01 00:00+00', '2024-01-11 00:00+00', 1000.00, true,  1.00, 'closed'),
  ('B', '2024-01-01 00:00+00', '2024-01-21 12:00+00', 3000.00, true,  1.00, 'closed'),
  ('C', '2024-01-05 00:00+00', '2024-01-09 00:00+00',  500.00, false, 0.00, 'omitted'),
  ('D', '2024-02-01 00:00+00', NULL,                  2000.00, NULL,  0.40, 'best_case'),
  ('E', '2024-02-03 00:00+00', NULL,                  1500.00, NULL,  0.80, 'commit'),
  ('F', '2024-02-05 00:00+00', NULL,                   700.00, NULL,  0.10, 'pipeline');

-- ---------------------------------------------------------------------
-- Sales velocity over deals A-D.
--   N = 4 rows; A and B won, C lost, D open: win rate = 2 / (2 + 1) = 2/3.
--   Average won amount = (1000 + 3000) / 2 = 2000.
--   Cycles: A 10 days, B 20.5 days: average 15.25 days.
--   Velocity = 4 * 2/3 * 2000 / 15.25 = 16000 / 45.75 = 349.726776 per day,
--   per month * 365.25 / 12 = 487000 / 45.75 = 10644.808743.
SELECT round(salesperf.sales_velocity(opened_at, closed_at, amount, won)::numeric, 6) AS per_day
  FROM deal WHERE deal_key <= 'D';

SELECT (v).opportunities, (v).won, (v).lost, round((v).win_rate::numeric, 6) AS win_rate,
       (v).avg_deal, (v).avg_cycle_days, round((v).per_day::numeric, 6) AS per_day,
       round((v).per_month::numeric, 6) AS per_month
  FROM (SELECT salesperf.sales_velocity_detail(opened_at, closed_at, amount, won) AS v
          FROM deal WHERE deal_key <= 'D') s;

-- The two aggregates agree exactly.
SELECT salesperf.sales_velocity(opened_at, closed_at, amount, won)
     = (salesperf.sales_velocity_detail(opened_at, closed_at, amount, won)).per_day AS same
  FROM deal WHERE deal_key <= 'D';

-- No rows: no velocity; the detail still counts zero opportunities.
SELECT salesperf.sales_velocity(opened_at, closed_at, amount, won) FROM deal WHERE false;
SELECT salesperf.sales_velocity_detail(opened_at, closed_at, amount, won) FROM deal WHERE false;

-- Open deals only: no closed deal, so no win rate and no velocity.
SELECT salesperf.sales_velocity_detail(opened_at, closed_at, amount, won) FROM deal WHERE closed_at IS NULL;

-- Lost deal only: the win rate is 0 but there is no won amount, so NULL.
SELECT salesperf.sales_velocity_detail(opened_at, closed_at, amount, won) FROM deal WHERE deal_key = 'C';

-- A deal won the moment it opened: the average cycle is 0, velocity NULL.
SELECT salesperf.sales_velocity_detail(t, t, 100, true)
  FROM (VALUES (timestamptz '2024-03-01 00:00+00')) v(t);

-- Won deals count only when closed_at is set.  Each average ignores NULL
-- inputs, as avg() does: X (no opened_at) has an amount but no cycle, Y (no
-- amount) a cycle but no amount.  One won deal in 1.5 days (36 hours):
-- N = 3, win rate 2/2, average amount 600, cycle 1.5: 3 * 1 * 600 / 1.5 = 1200.
SELECT salesperf.sales_velocity_detail(o, c, a, w)
  FROM (VALUES (NULL,                         timestamptz '2024-03-05 00:00+00', 600.00, true),
               (timestamptz '2024-03-01 00:00+00', '2024-03-02 12:00+00',    NULL,   true),
               (timestamptz '2024-03-01 00:00+00', NULL,                     900.00, true)
       ) v(o, c, a, w);

-- ---------------------------------------------------------------------
-- Weighted pipeline over all six deals:
--   1000.00*1.00 + 3000.00*1.00 + 500.00*0.00 + 2000.00*0.40 + 1500.00*0.80
--   + 700.00*0.10 = 1000 + 3000 + 0 + 800 + 1200 + 70 = 6070, shown with
--   2 + 2 decimals like sum(amount * probability).
SELECT salesperf.weighted_pipeline(amount, probability),
       sum(amount * probability) AS plain_sql
  FROM deal;

-- A NULL amount or probability adds nothing; nothing at all gives NULL.
SELECT salesperf.weighted_pipeline(a, p)
  FROM (VALUES (100, NULL::numeric), (NULL, 0.5), (10.5, 0.5)) v(a, p);
SELECT salesperf.weighted_pipeline(a, p)
  FROM (VALUES (100, NULL::numeric)) v(a, p);
SELECT salesperf.weighted_pipeline(amount, probability) FROM deal WHERE false;

-- Exact: no rounding, however many decimals.
--   0.01 * 0.33333333333333333333 = 0.0033333333333333333333
--   123456789012345678901234567890.99 * 0.000001 = 123456789012345678901234.56789099
SELECT salesperf.weighted_pipeline(a, p), sum(a * p) AS plain_sql
  FROM (VALUES (0.01, 1.0 / 3), (123456789012345678901234567890.99, 0.000001)) v(a, p);

-- ---------------------------------------------------------------------
-- Forecast summary over all six deals:
--   closed 1000 + 3000 = 4000.00, commit 1500.00, best_case 2000.00,
--   pipeline 700.00, omitted 500.00;
--   commit_forecast = 4000 + 1500 = 5500.00,
--   best_case_forecast = 4000 + 1500 + 2000 = 7500.00,
--   open_pipeline = 1500 + 2000 + 700 = 4200.00.
SELECT (salesperf.forecast_summary(amount, category)).* FROM deal;

-- A category without rows is 0; a NULL amount still counts as a row.
SELECT salesperf.forecast_summary(amount, category) FROM deal WHERE category = 'commit';
SELECT salesperf.forecast_summary(NULL::numeric, 'pipeline');
-- Only no rows at all gives NULL.
SELECT salesperf.forecast_summary(amount, category) IS NULL AS is_null FROM deal WHERE false;

-- ---------------------------------------------------------------------
-- Forecast quantiles.  Three deals of 100, 200 and 400 at p = 1/2: the
-- totals 0, 100, ..., 700 are equally likely (1/8 each).  P10 = 0 since
-- P(total <= 0) = 1/8 >= 0.1; P25 = 100 (P(<= 100) = 2/8); P50 = 300
-- (P(<= 300) = 4/8); P75 = 500 (6/8); P90 = 700 (P(<= 600) = 7/8 < 0.9).
-- Up to 16 deals the answer is computed exactly.
SELECT salesperf.forecast_quantiles(k, a, 0.5)
  FROM (VALUES ('x', 100), ('y', 200), ('z', 400)) v(k, a);
SELECT salesperf.forecast_quantiles(k, a, 0.5, '{0, 0.25, 0.5, 0.75, 1}')
  FROM (VALUES ('x', 100), ('y', 200), ('z', 400)) v(k, a);

-- One deal of 1000 at 0.3 wins nothing 70% of the time; a certain deal of
-- 50.25 adds to every outcome; a NULL amount is skipped.
SELECT salesperf.forecast_quantiles(k, a, p, '{0.5, 0.7, 0.75}')
  FROM (VALUES ('big', 1000, 0.3), ('sure', 50.25, 1), ('unknown', NULL, 0.5)) v(k, a, p);
SELECT salesperf.forecast_quantiles(k, a, p)
  FROM (VALUES ('unknown', NULL::float8, 0.5::float8)) v(k, a, p);

-- Twenty deals of 100 at p = 1/2 are simulated (16384 trials); the exact
-- binomial quantiles are P10 = 700 (P(<= 6 wins) = 0.058, P(<= 7) = 0.132),
-- P50 = 1000 and P90 = 1300 (P(<= 12) = 0.868, P(<= 13) = 0.942).
SELECT salesperf.forecast_quantiles('deal ' || i, 100, 0.5) FROM generate_series(1, 20) i;

-- The answer depends on the deal keys, never on the order of the rows.
SELECT salesperf.forecast_quantiles('deal ' || i, 100 + i, 0.5, '{0.05,0.5,0.95}')
     = (SELECT salesperf.forecast_quantiles('deal ' || i, 100 + i, 0.5, '{0.05,0.5,0.95}')
          FROM (SELECT i FROM generate_series(1, 500) i ORDER BY i DESC) r) AS same
  FROM generate_series(1, 500) i;

-- Line items.  Rows that share a deal_key are one deal (line items of one
-- opportunity): they win or lose together, and the exact answer counts
-- deals, not rows.  Five deals of 100, 200, 400, 800 and 1600 at p = 1/2:
-- each of the 32 totals 0, 100, ..., 3100 has probability 1/32, so
-- quantile q is the smallest 100 k with (k + 1)/32 >= q, i.e.
-- 100 * (ceil(32 q) - 1): P10 = 300 (ceil 3.2 = 4), P25 = 700 (8, on a
-- jump: P(<= 700) = 8/32 exactly), P50 = 1500 (16, on a jump), P75 = 2300
-- (24, on a jump), P90 = 2800 (ceil 28.8 = 29).  Quantiles on a jump are
-- where a simulation would land on either side: these are exact.
-- As five single rows:
SELECT salesperf.forecast_quantiles('deal ' || d, 100 * 2 ^ (d - 1), 0.5,
                                    '{0.1, 0.25, 0.5, 0.75, 0.9}')
  FROM generate_series(1, 5) d;
-- 10 rows: each deal as two line items of 40% and 60% (40 + 60, 80 + 120,
-- ...).  Same answer; ten independent rows would have 1024 outcomes.
SELECT salesperf.forecast_quantiles('deal ' || d, share * 2 ^ (d - 1), 0.5,
                                    '{0.1, 0.25, 0.5, 0.75, 0.9}')
  FROM generate_series(1, 5) d, (VALUES (40), (60)) s(share);
-- 100 rows (beyond 16, but only 5 deals): each deal as 20 line items of
-- 5 * 2^(d-1) (5 x 20 = 100, ..., 80 x 20 = 1600).  Still exact, same answer.
SELECT salesperf.forecast_quantiles('deal ' || d, 5 * 2 ^ (d - 1), 0.5,
                                    '{0.1, 0.25, 0.5, 0.75, 0.9}')
  FROM generate_series(1, 5) d, generate_series(1, 20) item;

-- Beyond 16 deals the simulation couples a deal's rows the same way:
-- the twenty deals of 100 at p = 1/2 above, each as five line items of 20
-- (100 rows), give the same trials, hence P10/P50/P90 = 700, 1000, 1300
-- as the twenty single rows.
SELECT salesperf.forecast_quantiles('deal ' || i, 20, 0.5)
  FROM generate_series(1, 20) i, generate_series(1, 5) item;
SELECT salesperf.forecast_quantiles('deal ' || i, 20, 0.5, '{0.01, 0.3, 0.7, 0.99}')
     = (SELECT salesperf.forecast_quantiles('deal ' || i, 100, 0.5, '{0.01, 0.3, 0.7, 0.99}')
          FROM generate_series(1, 20) i) AS same_as_single_rows
  FROM generate_series(1, 20) i, generate_series(1, 5) item;

-- Rows of one deal with different probabilities: one draw U decides the
-- deal and a row is won when U < its probability, so each row keeps its
-- probability and the rows are nested.  Deal x, 100 at 0.8 and 50 at 0.3,
-- wins nothing with probability 0.2 (U >= 0.8), 100 with 0.5 (0.3 <= U <
-- 0.8) and 150 with 0.3 (U < 0.3): CDF 0.2, 0.7, 1, so P15 = 0, P50 =
-- 100, P75 = 150, P90 = 150.  (As two independent deals the totals 0, 50,
-- 100, 150 would have CDF 0.14, 0.2, 0.76, 1: P15 = 50 and P75 = 100.)
-- The expected total, 100 * 0.8 + 50 * 0.3 = 95, is the weighted
-- pipeline.  Row order does not matter.
SELECT salesperf.forecast_quantiles(k, a, p, '{0.15, 0.5, 0.75, 0.9}' ORDER BY a),
       salesperf.forecast_quantiles(k, a, p, '{0.15, 0.5, 0.75, 0.9}' ORDER BY a DESC)
  FROM (VALUES ('x', 100, 0.8), ('x', 50, 0.3)) v(k, a, p);
-- The same two rows under two keys are two independent deals.
SELECT salesperf.forecast_quantiles(k, a, p, '{0.15, 0.5, 0.75, 0.9}')
  FROM (VALUES ('x', 100, 0.8), ('y', 50, 0.3)) v(k, a, p);

-- Line items in a table scanned in parallel: 5 deals of 20 line items
-- (the 100 rows above) and 20 deals of 5 line items, stored line item by
-- line item on several pages (fillfactor 10), so a deal's rows are spread
-- over the pages and may reach different workers.  0, 1 and 2 workers
-- give the answers above.
CREATE TABLE line_item (pipeline text, deal_key text, amount float8, probability float8)
  WITH (fillfactor = 10);
INSERT INTO line_item
SELECT 'five', 'deal ' || d, 5 * 2 ^ (d - 1), 0.5
  FROM generate_series(1, 20) item, generate_series(1, 5) d ORDER BY item, d;
INSERT INTO line_item
SELECT 'twenty', 'deal ' || d, 20, 0.5
  FROM generate_series(1, 5) item, generate_series(1, 20) d ORDER BY item, d;
ANALYZE line_item;
SELECT pipeline, count(*) AS line_items, count(DISTINCT deal_key) AS deals,
       sum(amount) AS total, count(DISTINCT (ctid::text::point)[0]) > 1 AS several_pages
  FROM line_item GROUP BY pipeline ORDER BY pipeline;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 0;
SELECT salesperf.forecast_quantiles(deal_key, amount, probability, '{0.1, 0.25, 0.5, 0.75, 0.9}')
         FILTER (WHERE pipeline = 'five') AS five_deals,
       salesperf.forecast_quantiles(deal_key, amount, probability)
         FILTER (WHERE pipeline = 'twenty') AS twenty_deals
  FROM line_item;
SET max_parallel_workers_per_gather = 1;
EXPLAIN (COSTS OFF)
SELECT salesperf.forecast_quantiles(deal_key, amount, probability, '{0.1, 0.25, 0.5, 0.75, 0.9}')
         FILTER (WHERE pipeline = 'five') AS five_deals,
       salesperf.forecast_quantiles(deal_key, amount, probability)
         FILTER (WHERE pipeline = 'twenty') AS twenty_deals
  FROM line_item;
SELECT salesperf.forecast_quantiles(deal_key, amount, probability, '{0.1, 0.25, 0.5, 0.75, 0.9}')
         FILTER (WHERE pipeline = 'five') AS five_deals,
       salesperf.forecast_quantiles(deal_key, amount, probability)
         FILTER (WHERE pipeline = 'twenty') AS twenty_deals
  FROM line_item;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF)
SELECT salesperf.forecast_quantiles(deal_key, amount, probability, '{0.1, 0.25, 0.5, 0.75, 0.9}')
         FILTER (WHERE pipeline = 'five') AS five_deals,
       salesperf.forecast_quantiles(deal_key, amount, probability)
         FILTER (WHERE pipeline = 'twenty') AS twenty_deals
  FROM line_item;
SELECT salesperf.forecast_quantiles(deal_key, amount, probability, '{0.1, 0.25, 0.5, 0.75, 0.9}')
         FILTER (WHERE pipeline = 'five') AS five_deals,
       salesperf.forecast_quantiles(deal_key, amount, probability)
         FILTER (WHERE pipeline = 'twenty') AS twenty_deals
  FROM line_item;
-- Which worker reads which rows cannot be forced; the same rows stored in
-- another order, hence split another way, give the same answers too.
CREATE TABLE line_item_shuffled WITH (fillfactor = 10) AS
  SELECT * FROM line_item ORDER BY md5(deal_key || amount || ctid::text);
ANALYZE line_item_shuffled;
SELECT salesperf.forecast_quantiles(deal_key, amount, probability, '{0.1, 0.25, 0.5, 0.75, 0.9}')
         FILTER (WHERE pipeline = 'five') AS five_deals,
       salesperf.forecast_quantiles(deal_key, amount, probability)
         FILTER (WHERE pipeline = 'twenty') AS twenty_deals
  FROM line_item_shuffled;
DROP TABLE line_item_shuffled;
RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;
DROP TABLE line_item;

-- ---------------------------------------------------------------------
-- Errors: bad input raises an error naming the value.
SELECT pg_temp.error_of($$SELECT salesperf.weighted_pipeline(100, 1.5)$$);
SELECT pg_temp.error_of($$SELECT salesperf.weighted_pipeline(100, -0.1)$$);
SELECT pg_temp.error_of($$SELECT salesperf.weighted_pipeline(100, 'NaN')$$);
SELECT pg_temp.error_of($$SELECT salesperf.weighted_pipeline(-5.00, 0.5)$$);
SELECT pg_temp.error_of($$SELECT salesperf.weighted_pipeline('Infinity', 0.5)$$);
SELECT pg_temp.error_of($$SELECT salesperf.forecast_summary(100, 'upside')$$);
SELECT pg_temp.error_of($$SELECT salesperf.forecast_summary(100, NULL)$$);
SELECT pg_temp.error_of($$SELECT salesperf.forecast_summary('NaN', 'commit')$$);
SELECT pg_temp.error_of($$SELECT salesperf.sales_velocity(NULL, NULL, -1, NULL)$$);
SELECT pg_temp.error_of($$SELECT salesperf.sales_velocity('2024-01-10 00:00+00', '2024-01-01 00:00+00', 10, true)$$);
SELECT pg_temp.error_of($$SELECT salesperf.sales_velocity('-infinity', '2024-01-01 00:00+00', 10, true)$$);
SELECT pg_temp.error_of($$SELECT salesperf.forecast_quantiles('a', 100, 1.2)$$);
SELECT pg_temp.error_of($$SELECT salesperf.forecast_quantiles('a', 100, 'NaN')$$);
SELECT pg_temp.error_of($$SELECT salesperf.forecast_quantiles('a', -1, 0.5)$$);
SELECT pg_temp.error_of($$SELECT salesperf.forecast_quantiles('a', 'Infinity', 0.5)$$);
SELECT pg_temp.error_of($$SELECT salesperf.forecast_quantiles(NULL, 100, 0.5)$$);
SELECT pg_temp.error_of($$SELECT salesperf.forecast_quantiles('a', 100, 0.5, '{0.5, 1.5}')$$);
SELECT pg_temp.error_of($$SELECT salesperf.forecast_quantiles('a', 100, 0.5, '{0.5, NULL}')$$);
SELECT pg_temp.error_of($$SELECT salesperf.forecast_quantiles('a', 100, 0.5, NULL)$$);
SELECT pg_temp.error_of($$SELECT salesperf.forecast_quantiles('a', 100, 0.5, '{{0.1},{0.9}}')$$);
SELECT pg_temp.error_of($$SELECT salesperf.forecast_quantiles(k, 100, 0.5, q)
                            FROM (VALUES ('a', '{0.1}'::float8[]), ('b', '{0.9}')) v(k, q)$$);
-- The support functions take `internal`, which SQL cannot supply: only the
-- executor calls them (their state decoders are fuzzed by the C unit tests).
SELECT pg_temp.error_of($$SELECT salesperf.sales_velocity_deserialfn('\x01'::bytea, NULL)$$);

-- ---------------------------------------------------------------------
-- 200,000 opportunities, generated deterministically.  A quarter are open
-- (closed_at NULL, won NULL); of the closed ones 40% are won.
SELECT setseed(0.2024);
CREATE TABLE pipeline_big AS
SELECT i AS id,
       'deal-' || i AS deal_key,
       opened_at,
       CASE WHEN r < 0.75 THEN opened_at + random() * 120 * interval '1 day' END AS closed_at,
       round((random() * 100000)::numeric, 2) AS amount,
       CASE WHEN r < 0.75 THEN random() < 0.4 END AS won,
       round(random()::numeric, 2) AS probability,
       (ARRAY['closed', 'commit', 'best_case', 'pipeline', 'omitted'])[1 + floor(random() * 5)::int] AS category
  FROM (SELECT i, random() AS r,
               timestamptz '2024-01-01 00:00+00' + random() * 365 * interval '1 day' AS opened_at
          FROM generate_series(1, 200000) i) s;
ANALYZE pipeline_big;
SELECT count(*), count(*) FILTER (WHERE closed_at IS NULL) AS open FROM pipeline_big;

-- Serial answers, kept in psql variables.
SET max_parallel_workers_per_gather = 0;
SELECT salesperf.sales_velocity(opened_at, closed_at, amount, won) AS s_velocity,
       salesperf.sales_velocity_detail(opened_at, closed_at, amount, won) AS s_detail,
       salesperf.weighted_pipeline(amount, probability) AS s_weighted,
       salesperf.forecast_summary(amount, category) AS s_forecast
  FROM pipeline_big \gset
SELECT salesperf.forecast_quantiles(deal_key, amount::float8, probability::float8,
                                    '{0, 0.01, 0.1, 0.5, 0.9, 0.99, 1}') AS s_quantiles,
       salesperf.forecast_quantiles(deal_key, amount::float8, probability::float8) AS s_p10_50_90
  FROM pipeline_big WHERE closed_at IS NULL \gset
SELECT string_agg(category || ':' || w, ' ' ORDER BY category) AS s_grouped
  FROM (SELECT category,
               salesperf.weighted_pipeline(amount, probability)::text || '/' ||
               salesperf.sales_velocity_detail(opened_at, closed_at, amount, won)::text || '/' ||
               salesperf.forecast_quantiles(deal_key, amount::float8, probability::float8)
                 FILTER (WHERE closed_at IS NULL)::text AS w
          FROM pipeline_big GROUP BY category) g \gset

-- The serial answers equal the plain-SQL expressions: exactly for the
-- money, to rounding for the doubles.
SELECT :'s_weighted' = sum(amount * probability)::text AS weighted_exact,
       :'s_forecast' = ROW(coalesce(sum(amount) FILTER (WHERE category = 'closed'), 0),
                           coalesce(sum(amount) FILTER (WHERE category = 'commit'), 0),
                           coalesce(sum(amount) FILTER (WHERE category = 'best_case'), 0),
                           coalesce(sum(amount) FILTER (WHERE category = 'pipeline'), 0),
                           coalesce(sum(amount) FILTER (WHERE category = 'omitted'), 0),
                           coalesce(sum(amount) FILTER (WHERE category IN ('closed', 'commit')), 0),
                           coalesce(sum(amount) FILTER (WHERE category IN ('closed', 'commit', 'best_case')), 0),
                           coalesce(sum(amount) FILTER (WHERE category IN ('commit', 'best_case', 'pipeline')), 0)
                          )::salesperf.forecast::text AS forecast_exact
  FROM pipeline_big;

SELECT d.opportunities = p.n AS opportunities,
       d.won = p.won AND d.lost = p.lost AS won_lost,
       d.avg_deal = p.avg_deal AS avg_deal_exact,
       abs(d.avg_cycle_days / p.avg_cycle_days - 1) < 1e-12 AS avg_cycle_days,
       abs(d.per_day / (p.n * p.won::float8 / (p.won + p.lost) * p.avg_deal::float8
                         / p.avg_cycle_days) - 1) < 1e-12 AS per_day,
       d.per_day = :'s_velocity'::float8 AS velocity_is_per_day
  FROM (SELECT (:'s_detail'::salesperf.velocity).*) d,
       (SELECT count(*) AS n,
               count(*) FILTER (WHERE closed_at IS NOT NULL AND won) AS won,
               count(*) FILTER (WHERE closed_at IS NOT NULL AND NOT won) AS lost,
               avg(amount) FILTER (WHERE closed_at IS NOT NULL AND won) AS avg_deal,
               avg(extract(epoch FROM closed_at - opened_at)::float8 / 86400)
                 FILTER (WHERE closed_at IS NOT NULL AND won) AS avg_cycle_days
          FROM pipeline_big) p;

-- With 50,000 open deals the distribution is narrow: the median is within
-- 1% of the pipeline total of the expected total (sum of amount * p), and
-- the quantiles grow with q.
SELECT abs(q[4] - w) / t < 0.01 AS median_near_expected,
       q[1] <= q[2] AND q[2] <= q[3] AND q[3] <= q[4] AND q[4] <= q[5]
         AND q[5] <= q[6] AND q[6] <= q[7] AS ascending,
       q[3:5] = :'s_p10_50_90'::float8[] AS default_is_p10_p50_p90
  FROM (SELECT :'s_quantiles'::float8[] AS q,
               sum(amount * probability)::float8 AS w,
               sum(amount)::float8 AS t
          FROM pipeline_big WHERE closed_at IS NULL) s;

-- Parallel plans: each aggregate runs as Partial Aggregate in the workers
-- (or in the leader when no worker is free), is serialized, deserialized
-- and combined in Finalize Aggregate, and gives the serial answer.
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;

EXPLAIN (COSTS OFF)
SELECT salesperf.sales_velocity(opened_at, closed_at, amount, won) FROM pipeline_big;
SELECT salesperf.sales_velocity(opened_at, closed_at, amount, won) = :'s_velocity'::float8
       AS "sales_velocity: serial = parallel"
  FROM pipeline_big;

EXPLAIN (COSTS OFF)
SELECT salesperf.sales_velocity_detail(opened_at, closed_at, amount, won) FROM pipeline_big;
SELECT salesperf.sales_velocity_detail(opened_at, closed_at, amount, won)::text = :'s_detail'
       AS "sales_velocity_detail: serial = parallel"
  FROM pipeline_big;

EXPLAIN (COSTS OFF)
SELECT salesperf.weighted_pipeline(amount, probability) FROM pipeline_big;
SELECT salesperf.weighted_pipeline(amount, probability)::text = :'s_weighted'
       AS "weighted_pipeline: serial = parallel"
  FROM pipeline_big;

EXPLAIN (COSTS OFF)
SELECT salesperf.forecast_summary(amount, category) FROM pipeline_big;
SELECT salesperf.forecast_summary(amount, category)::text = :'s_forecast'
       AS "forecast_summary: serial = parallel"
  FROM pipeline_big;

EXPLAIN (COSTS OFF)
SELECT salesperf.forecast_quantiles(deal_key, amount::float8, probability::float8,
                                    '{0, 0.01, 0.1, 0.5, 0.9, 0.99, 1}')
  FROM pipeline_big WHERE closed_at IS NULL;
SELECT salesperf.forecast_quantiles(deal_key, amount::float8, probability::float8,
                                    '{0, 0.01, 0.1, 0.5, 0.9, 0.99, 1}')::text = :'s_quantiles'
       AS "forecast_quantiles: serial = parallel"
  FROM pipeline_big WHERE closed_at IS NULL;

EXPLAIN (COSTS OFF)
SELECT salesperf.forecast_quantiles(deal_key, amount::float8, probability::float8)
  FROM pipeline_big WHERE closed_at IS NULL;
SELECT salesperf.forecast_quantiles(deal_key, amount::float8, probability::float8)::text = :'s_p10_50_90'
       AS "forecast_quantiles (P10/P50/P90): serial = parallel"
  FROM pipeline_big WHERE closed_at IS NULL;

-- Grouped: partial states per group, combined per group.
EXPLAIN (COSTS OFF)
SELECT category, salesperf.weighted_pipeline(amount, probability),
       salesperf.sales_velocity_detail(opened_at, closed_at, amount, won),
       salesperf.forecast_quantiles(deal_key, amount::float8, probability::float8)
         FILTER (WHERE closed_at IS NULL)
  FROM pipeline_big GROUP BY category;
SELECT string_agg(category || ':' || w, ' ' ORDER BY category) = :'s_grouped'
       AS "grouped: serial = parallel"
  FROM (SELECT category,
               salesperf.weighted_pipeline(amount, probability)::text || '/' ||
               salesperf.sales_velocity_detail(opened_at, closed_at, amount, won)::text || '/' ||
               salesperf.forecast_quantiles(deal_key, amount::float8, probability::float8)
                 FILTER (WHERE closed_at IS NULL)::text AS w
          FROM pipeline_big GROUP BY category) g;

-- Shuffled rows, serially: a materialized CTE in random order.
SET max_parallel_workers_per_gather = 0;
WITH shuffled AS MATERIALIZED (SELECT * FROM pipeline_big ORDER BY random())
SELECT salesperf.sales_velocity(opened_at, closed_at, amount, won) = :'s_velocity'::float8 AS velocity,
       salesperf.sales_velocity_detail(opened_at, closed_at, amount, won)::text = :'s_detail' AS detail,
       salesperf.weighted_pipeline(amount, probability)::text = :'s_weighted' AS weighted,
       salesperf.forecast_summary(amount, category)::text = :'s_forecast' AS forecast,
       salesperf.forecast_quantiles(deal_key, amount::float8, probability::float8,
                                    '{0, 0.01, 0.1, 0.5, 0.9, 0.99, 1}')
         FILTER (WHERE closed_at IS NULL)::text = :'s_quantiles' AS quantiles
  FROM shuffled;

-- Shuffled rows stored in another table, scanned in parallel.
CREATE TABLE pipeline_shuffled AS SELECT * FROM pipeline_big ORDER BY random();
ANALYZE pipeline_shuffled;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF)
SELECT salesperf.weighted_pipeline(amount, probability) FROM pipeline_shuffled;
SELECT salesperf.sales_velocity(opened_at, closed_at, amount, won) = :'s_velocity'::float8 AS velocity,
       salesperf.sales_velocity_detail(opened_at, closed_at, amount, won)::text = :'s_detail' AS detail,
       salesperf.weighted_pipeline(amount, probability)::text = :'s_weighted' AS weighted,
       salesperf.forecast_summary(amount, category)::text = :'s_forecast' AS forecast,
       salesperf.forecast_quantiles(deal_key, amount::float8, probability::float8,
                                    '{0, 0.01, 0.1, 0.5, 0.9, 0.99, 1}')
         FILTER (WHERE closed_at IS NULL)::text = :'s_quantiles' AS quantiles
  FROM pipeline_shuffled;

RESET max_parallel_workers_per_gather;
RESET min_parallel_table_scan_size;
RESET parallel_tuple_cost;
RESET parallel_setup_cost;
DROP TABLE pipeline_shuffled;
DROP TABLE pipeline_big;
