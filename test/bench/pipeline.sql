-- P4 and P5 (SPEC §15): the pipeline aggregates against the equivalent
-- plain SQL, serially and with 2 parallel workers, and forecast_quantiles
-- at 0, 1 and 2 workers.  A measurement, never a pass/fail test.
--
--   psql -X -f test/bench/pipeline.sql                       10,000,000 opportunities
--   psql -X -v rows=1000000 -v runs=1 -f test/bench/pipeline.sql
--
-- psql variables (all optional):
--   rows   opportunities for P4                  (10,000,000; 500,000 when quick=1)
--   deals  open deals for P5                     (100,000)
--   runs   timed runs of each query; the median is reported  (3; 1 when quick=1)
--   quick  1 for small sizes; scale multiplies the default rows (both set by run.sh)
--
-- Prints markdown rows "| workload | salesperf | alternative | ratio | goal |".
-- Works in any database where salesperf can be installed; its tables live
-- in schema bench_pipeline, dropped at the end.
\set ON_ERROR_STOP 1
\if :{?quick}
\else
\set quick 0
\endif
\if :{?scale}
\else
\set scale 1
\endif
\if :{?rows}
\elif :quick
SELECT greatest(1, round(500000 * :scale))::bigint AS rows \gset
\else
SELECT greatest(1, round(10000000 * :scale))::bigint AS rows \gset
\endif
\if :{?deals}
\else
\set deals 100000
\endif
\if :{?runs}
\elif :quick
\set runs 1
\else
\set runs 3
\endif

SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS salesperf;
DROP SCHEMA IF EXISTS bench_pipeline CASCADE;
CREATE SCHEMA bench_pipeline;
SET synchronous_commit = off;

-- Opportunities: a quarter open, 40% of the closed ones won; amounts with
-- cents, probabilities with two decimals, five forecast categories.
SELECT setseed(0.15);
CREATE UNLOGGED TABLE bench_pipeline.opportunity AS
SELECT i AS id,
       opened_at,
       CASE WHEN r < 0.75 THEN opened_at + random() * 120 * interval '1 day' END AS closed_at,
       round((random() * 100000)::numeric, 2) AS amount,
       CASE WHEN r < 0.75 THEN random() < 0.4 END AS won,
       round(random()::numeric, 2) AS probability,
       (ARRAY['closed', 'commit', 'best_case', 'pipeline', 'omitted'])[1 + floor(random() * 5)::int] AS category
  FROM (SELECT i, random() AS r,
               timestamptz '2024-01-01 00:00+00' + random() * 365 * interval '1 day' AS opened_at
          FROM generate_series(1, :rows) i) s;

-- Open deals for the simulation.
CREATE UNLOGGED TABLE bench_pipeline.deal AS
SELECT 'opportunity-' || i AS deal_key,
       round((1000 + random() * 99000)::numeric, 2)::float8 AS amount,
       round(random()::numeric, 2)::float8 AS probability
  FROM generate_series(1, :deals) i;

-- Set hint bits and statistics so that no timed scan writes.
VACUUM (ANALYZE) bench_pipeline.opportunity;
VACUUM (ANALYZE) bench_pipeline.deal;

-- Median wall-clock milliseconds of `runs` executions of a one-value query
-- with at most `workers` parallel workers, and its answer as text.
CREATE FUNCTION pg_temp.bench(query text, workers int, runs int, OUT ms float8, OUT answer text)
LANGUAGE plpgsql AS $$
DECLARE
  t0 timestamptz;
  times float8[] := '{}';
BEGIN
  PERFORM pg_catalog.set_config('max_parallel_workers_per_gather', workers::text, true);
  FOR i IN 1 .. runs LOOP
    t0 := pg_catalog.clock_timestamp();
    EXECUTE query INTO answer;
    times := times || (extract(epoch FROM pg_catalog.clock_timestamp() - t0) * 1000)::float8;
  END LOOP;
  SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY x) INTO ms FROM unnest(times) x;
END $$;

-- Parallel plans whenever workers are allowed, whatever the table size.
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;

CREATE TEMP TABLE result (workload text, impl text, workers int, ms float8, answer text);
CREATE TEMP TABLE query (workload text, impl text, sql text);
INSERT INTO query VALUES
  ('sales_velocity', 'salesperf',
   $q$SELECT salesperf.sales_velocity(opened_at, closed_at, amount, won)::text
        FROM bench_pipeline.opportunity$q$),
  ('sales_velocity', 'plain',
   $q$SELECT (count(*)
              * (count(*) FILTER (WHERE closed_at IS NOT NULL AND won))::float8
              / nullif(count(*) FILTER (WHERE closed_at IS NOT NULL AND won IS NOT NULL), 0)
              * (avg(amount) FILTER (WHERE closed_at IS NOT NULL AND won))::float8
              / nullif(extract(epoch FROM avg(closed_at - opened_at)
                                          FILTER (WHERE closed_at IS NOT NULL AND won))::float8
                       / 86400, 0))::text
        FROM bench_pipeline.opportunity$q$),
  ('weighted_pipeline', 'salesperf',
   $q$SELECT salesperf.weighted_pipeline(amount, probability)::text
        FROM bench_pipeline.opportunity$q$),
  ('weighted_pipeline', 'plain',
   $q$SELECT sum(amount * probability)::text FROM bench_pipeline.opportunity$q$),
  ('forecast_summary', 'salesperf',
   $q$SELECT salesperf.forecast_summary(amount, category)::text
        FROM bench_pipeline.opportunity$q$),
  ('forecast_summary', 'plain',
   $q$SELECT ROW(cl, co, bc, pi, om, cl + co, cl + co + bc, co + bc + pi)::salesperf.forecast::text
        FROM (SELECT coalesce(sum(amount) FILTER (WHERE category = 'closed'), 0) AS cl,
                     coalesce(sum(amount) FILTER (WHERE category = 'commit'), 0) AS co,
                     coalesce(sum(amount) FILTER (WHERE category = 'best_case'), 0) AS bc,
                     coalesce(sum(amount) FILTER (WHERE category = 'pipeline'), 0) AS pi,
                     coalesce(sum(amount) FILTER (WHERE category = 'omitted'), 0) AS om
                FROM bench_pipeline.opportunity) s$q$);

-- Warm the cache, then P4: each aggregate and its plain-SQL twin, at 0 and 2 workers.
SELECT count(*) FROM bench_pipeline.opportunity \gset warm_
INSERT INTO result
SELECT q.workload, q.impl, w, b.ms, b.answer
  FROM query q
 CROSS JOIN (VALUES (0), (2)) AS workers(w)
 CROSS JOIN LATERAL pg_temp.bench(q.sql, w, :runs) b;

-- P5: forecast_quantiles over the open deals at 0, 1 and 2 workers, and a
-- plain-SQL Monte Carlo (random() per deal and trial) with 256 trials,
-- 64 times fewer than forecast_quantiles draws.
INSERT INTO result
SELECT 'forecast_quantiles', 'salesperf', w, b.ms, b.answer
  FROM (VALUES (0), (1), (2)) AS workers(w)
 CROSS JOIN LATERAL pg_temp.bench(
   $q$SELECT salesperf.forecast_quantiles(deal_key, amount, probability)::text
        FROM bench_pipeline.deal$q$, w, :runs) b;
INSERT INTO result
SELECT 'forecast_quantiles', 'plain', 0, b.ms, b.answer
  FROM pg_temp.bench(
   $q$SELECT (percentile_disc(ARRAY[0.1, 0.5, 0.9]) WITHIN GROUP (ORDER BY total))::text
        FROM (SELECT t.trial,
                     coalesce(sum(d.amount) FILTER (WHERE random() < d.probability), 0) AS total
                FROM generate_series(1, 256) AS t(trial)
               CROSS JOIN bench_pipeline.deal d
               GROUP BY t.trial) s$q$, 0, 1) b;

-- Report.
\pset format unaligned
\pset tuples_only on
SELECT format('%s opportunities, %s deals, median of %s runs; PostgreSQL %s',
              to_char(:rows, 'FM999,999,999'), to_char(:deals, 'FM999,999,999'), :runs,
              current_setting('server_version'));

CREATE FUNCTION pg_temp.secs(ms float8) RETURNS text LANGUAGE sql
AS $$ SELECT to_char(ms / 1000, 'FM9999990.000') || ' s' $$;
CREATE FUNCTION pg_temp.times(a float8, b float8) RETURNS text LANGUAGE sql
AS $$ SELECT to_char(a / b, 'FM9999990.00') || '×' $$;

-- Each aggregate against plain SQL, serially and with 2 workers.
SELECT format('| P4 %s, %s rows, %s | %s | %s (plain SQL) | %s | faster than plain SQL%s |',
              s.workload, to_char(:rows, 'FM999,999,999'),
              CASE s.workers WHEN 0 THEN 'serial' ELSE s.workers || ' workers' END,
              pg_temp.secs(s.ms), pg_temp.secs(p.ms),
              CASE WHEN p.ms >= s.ms THEN pg_temp.times(p.ms, s.ms) || ' faster'
                   ELSE pg_temp.times(s.ms, p.ms) || ' slower' END,
              CASE WHEN s.workload <> 'sales_velocity' AND s.answer IS DISTINCT FROM p.answer
                   THEN ' (answers differ!)' ELSE '' END)
  FROM result s JOIN result p USING (workload, workers)
 WHERE s.impl = 'salesperf' AND p.impl = 'plain' AND s.workload <> 'forecast_quantiles'
 ORDER BY s.workload, s.workers;

-- Scaling with workers.
SELECT format('| P4 %s, %s rows, 2 workers vs serial | %s (2 workers) | %s (serial) | %s speed-up | scales with workers; same answer: %s |',
              p.workload, to_char(:rows, 'FM999,999,999'),
              pg_temp.secs(p.ms), pg_temp.secs(s.ms), pg_temp.times(s.ms, p.ms),
              CASE WHEN p.answer = s.answer THEN 'yes' ELSE 'NO' END)
  FROM result s JOIN result p USING (workload, impl)
 WHERE impl = 'salesperf' AND s.workers = 0 AND p.workers = 2
   AND s.workload <> 'forecast_quantiles'
 ORDER BY p.workload;

-- P5.
SELECT format('| P5 forecast_quantiles, %s deals, serial | %s | %s (plain-SQL Monte Carlo, 256 trials) | %s faster with 64× the trials | < 2 s |',
              to_char(:deals, 'FM999,999,999'), pg_temp.secs(s.ms), pg_temp.secs(p.ms),
              pg_temp.times(p.ms, s.ms))
  FROM result s, result p
 WHERE s.workload = 'forecast_quantiles' AND s.impl = 'salesperf' AND s.workers = 0
   AND p.workload = 'forecast_quantiles' AND p.impl = 'plain';
SELECT format('| P5 forecast_quantiles, %s deals, %s | %s | %s (serial) | %s speed-up | < 2 s and the serial answer: %s |',
              to_char(:deals, 'FM999,999,999'),
              CASE p.workers WHEN 1 THEN '1 worker' ELSE p.workers || ' workers' END,
              pg_temp.secs(p.ms), pg_temp.secs(s.ms), pg_temp.times(s.ms, p.ms),
              CASE WHEN p.answer = s.answer THEN 'same' ELSE 'DIFFERENT' END)
  FROM result s JOIN result p USING (workload, impl)
 WHERE workload = 'forecast_quantiles' AND impl = 'salesperf' AND s.workers = 0 AND p.workers > 0
 ORDER BY p.workers;
SELECT format('P10/P50/P90 of the won total: %s', answer)
  FROM result WHERE workload = 'forecast_quantiles' AND impl = 'salesperf' AND workers = 0;
\pset tuples_only off
\pset format aligned

DROP SCHEMA bench_pipeline CASCADE;
