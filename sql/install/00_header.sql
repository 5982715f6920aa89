-- salesperf install script, assembled by the Makefile from sql/install/*.sql.
-- Every object is created plainly (never OR REPLACE / IF NOT EXISTS) and every
-- reference is schema-qualified.

\echo Use "CREATE EXTENSION salesperf" to load this file. \quit

COMMENT ON SCHEMA salesperf IS
  'salesperf: sales-performance management (KPIs, targets, points, leaderboards, forecasts, commission)';
