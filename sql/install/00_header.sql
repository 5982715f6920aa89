-- salesperf install script, assembled by the Makefile from sql/install/*.sql.
-- Every object is created plainly (never OR REPLACE / IF NOT EXISTS) and every
-- reference is schema-qualified.

\echo Use "CREATE EXTENSION salesperf" to load this file. \quit

-- A schema named salesperf that another role owns could hold look-alike
-- functions and operators planted before the install: refuse it.
DO $$
DECLARE
    owner name;
BEGIN
    SELECT r.rolname INTO owner
      FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_roles r ON r.oid = n.nspowner
     WHERE n.nspname = 'salesperf';
    IF owner IS DISTINCT FROM CURRENT_USER THEN
        RAISE EXCEPTION 'schema salesperf is owned by role "%", not by "%" who installs the extension', owner, CURRENT_USER
            USING ERRCODE = '42501',
                  HINT = 'Drop or rename that schema (or install as its owner) before CREATE EXTENSION salesperf.';
    END IF;
END
$$;

COMMENT ON SCHEMA salesperf IS
  'salesperf: sales-performance management (activity ledger, KPIs, points, leaderboards, pipeline and forecasts)';
