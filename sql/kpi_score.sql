-- kpi_score: Σ weight × least(actual ÷ target, cap) ÷ Σ weight, exact numeric.
-- A rep's scorecard: calls 50 of 100 (weight 1), revenue 300 of 100 (weight 1,
-- capped at 1.5), a KPI without a target (skipped) and one with target 0 (skipped).
SELECT salesperf.kpi_score(actual, target, weight) AS score
  FROM (VALUES (50, 100, 1), (300, 100, 1), (10, NULL, 5), (10, 0, 5)) AS v(actual, target, weight);
-- (0.5 + 1.5) / 2 = 1
-- With a cap of 2 and weights 1 and 3: (0.5 + 3 × 2) / 4 = 1.625
SELECT salesperf.kpi_score(actual, target, weight, 2) AS score
  FROM (VALUES (50, 100, 1), (300, 100, 3)) AS v(actual, target, weight);
-- No cap at all (NULL cap), a missing actual counts as 0.
SELECT salesperf.kpi_score(actual, target, weight, NULL) AS score
  FROM (VALUES (NULL, 100, 1), (300, 100, 1)) AS v(actual, target, weight);
-- Nothing to score: NULL.
SELECT salesperf.kpi_score(actual, target, weight) AS score
  FROM (VALUES (1, 0, 1)) AS v(actual, target, weight);
SELECT salesperf.kpi_score(actual, target, weight) AS score
  FROM (VALUES (1, 1, 1)) AS v(actual, target, weight) WHERE false;
-- Ranking reps on it.
SELECT rep, round(salesperf.kpi_score(actual, target, weight), 4) AS score,
       rank() OVER (ORDER BY salesperf.kpi_score(actual, target, weight) DESC)
  FROM (VALUES ('Ada', 12, 10, 2), ('Ada', 40000, 50000, 1),
               ('Bo', 8, 10, 2),  ('Bo', 90000, 50000, 1)) AS v(rep, actual, target, weight)
 GROUP BY rep ORDER BY rank;

-- Bad input.
\set VERBOSITY sqlstate
SELECT salesperf.kpi_score(1, 1, -1);
SELECT salesperf.kpi_score(1, 'NaN', 1);
SELECT salesperf.kpi_score('Infinity', 1, 1);
\set VERBOSITY default

-- A parallel plan gives exactly the serial answer.
CREATE TABLE scorecard AS
SELECT (random() * 200)::numeric(10,2) AS actual, (1 + random() * 100)::numeric(10,2) AS target,
       (1 + g % 5)::numeric AS weight
  FROM generate_series(1, 200000) g;
ANALYZE scorecard;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT salesperf.kpi_score(actual, target, weight) FROM scorecard;
SELECT salesperf.kpi_score(actual, target, weight) AS parallel_score FROM scorecard \gset
SET max_parallel_workers_per_gather = 0;
SELECT :'parallel_score'::numeric = salesperf.kpi_score(actual, target, weight) AS parallel_equals_serial
  FROM scorecard;
RESET ALL;
DROP TABLE scorecard;
