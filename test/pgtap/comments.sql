-- Every view, view column, table and non-trigger function of salesperf has
-- a COMMENT (SPEC §11: BI tools show them as documentation).
BEGIN;
SELECT plan(4);

SELECT is((SELECT string_agg(c.relname, ', ' ORDER BY c.relname) FROM pg_class c
            WHERE c.relnamespace = 'salesperf'::regnamespace AND c.relkind = 'v'
              AND obj_description(c.oid, 'pg_class') IS NULL),
          NULL, 'every view has a comment');
SELECT is((SELECT string_agg(c.relname || '.' || a.attname, ', ' ORDER BY c.relname, a.attnum)
             FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE c.relnamespace = 'salesperf'::regnamespace AND c.relkind = 'v'
              AND col_description(c.oid, a.attnum) IS NULL),
          NULL, 'every view column has a comment');
SELECT is((SELECT string_agg(c.relname, ', ' ORDER BY c.relname) FROM pg_class c
            WHERE c.relnamespace = 'salesperf'::regnamespace AND c.relkind = 'r'
              AND obj_description(c.oid, 'pg_class') IS NULL),
          NULL, 'every table has a comment');
-- Aggregates' support functions and trigger functions are documented by
-- their aggregate and their trigger.
SELECT is((SELECT string_agg(p.oid::regprocedure::text, ', ' ORDER BY p.proname) FROM pg_proc p
            WHERE p.pronamespace = 'salesperf'::regnamespace AND obj_description(p.oid, 'pg_proc') IS NULL
              AND p.prorettype <> 'trigger'::regtype
              AND NOT EXISTS (SELECT 1 FROM pg_aggregate g
                               WHERE p.oid IN (g.aggtransfn, g.aggfinalfn, g.aggcombinefn,
                                               g.aggserialfn, g.aggdeserialfn))),
          NULL, 'every function but aggregate support and trigger functions has a comment');

SELECT * FROM finish();
ROLLBACK;
