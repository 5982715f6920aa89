-- Run last, as the superuser that installed salesperf: the catalog side of
-- the privilege model, grant_access() itself, the derived state after every
-- role's writes, and what happens to the ledger trigger on another table.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
SET client_min_messages = warning;

SELECT plan(21);

-- Routines ------------------------------------------------------------------------
SELECT is((SELECT pg_catalog.string_agg(p.oid::regprocedure::text, ', ')
             FROM pg_catalog.pg_proc p
            WHERE p.pronamespace = 'salesperf'::regnamespace
              AND pg_catalog.has_function_privilege('public', p.oid, 'EXECUTE')),
          NULL, 'no salesperf routine is executable by PUBLIC');
SELECT is((SELECT pg_catalog.string_agg(p.oid::regprocedure::text, ', ')
             FROM pg_catalog.pg_proc p
            WHERE p.pronamespace = 'salesperf'::regnamespace
              AND pg_catalog.has_function_privilege('sp_intruder', p.oid, 'EXECUTE')),
          NULL, 'a role granted nothing executes no salesperf routine');
SELECT is((SELECT pg_catalog.string_agg(p.oid::regprocedure::text, ', ')
             FROM pg_catalog.pg_proc p
            WHERE p.pronamespace = 'salesperf'::regnamespace AND p.prosecdef
              AND NOT EXISTS (SELECT 1 FROM pg_catalog.unnest(p.proconfig) c
                               WHERE c LIKE 'search\_path=pg\_catalog, pg\_temp')),
          NULL, 'every SECURITY DEFINER function pins search_path to pg_catalog, pg_temp');
SELECT is((SELECT pg_catalog.array_agg(f ORDER BY f)
             FROM unnest(ARRAY['ledger_changed', 'membership_changed', 'membership_inserted', 'point_rule_changed', 'org_changed',
                               'kpi_changed', 'leaderboard_changed', 'configuration_changed',
                               'unit_guard', 'opportunity_activities',
                               'recompute', 'snapshot_forecast']) f
            WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_proc p
                               WHERE p.pronamespace = 'salesperf'::regnamespace
                                 AND p.proname = f AND p.prosecdef)),
          NULL, 'derived-state triggers and maintenance run as the extension owner');
SELECT is((SELECT pg_catalog.array_agg(p.proname::text ORDER BY p.proname)
             FROM pg_catalog.pg_proc p
            WHERE p.pronamespace = 'salesperf'::regnamespace AND p.prosecdef
              AND p.proname IN ('tracked_row_changed', 'opportunity_source_changed', 'record',
                                'upsert_opportunity', 'grant_access', 'track', 'track_opportunities')),
          NULL, 'CRM-table triggers, writer entry points and grant_access run as the caller');
SELECT is((SELECT pg_catalog.string_agg(pg_catalog.format('%s on %s', t.tgname, t.tgrelid::regclass), ', ')
             FROM pg_catalog.pg_trigger t
             JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
             JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
            WHERE c.relnamespace = 'salesperf'::regnamespace AND NOT t.tgisinternal AND NOT p.prosecdef),
          NULL, 'every trigger on a salesperf table runs as the extension owner');

-- Derived tables -------------------------------------------------------------------------
SELECT is((SELECT pg_catalog.string_agg(pg_catalog.format('%s %s %s', r, priv, t), ', ')
             FROM unnest(ARRAY['sp_admin', 'sp_writer', 'sp_reader', 'sp_rep', 'sp_intruder']) r,
                  unnest(ARRAY['standing', 'kpi_counter', 'capped_award', 'unit_tree', 'board_unit',
                               'forecast_snapshot']) t,
                  unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) priv
            WHERE pg_catalog.has_table_privilege(r, pg_catalog.format('salesperf.%I', t), priv)),
          NULL, 'no role may write a derived table');
SELECT is((SELECT pg_catalog.string_agg(pg_catalog.format('%s %s %s', r, priv, c.relname), ', ')
             FROM unnest(ARRAY['sp_writer', 'sp_reader', 'sp_rep', 'sp_intruder']) r
            CROSS JOIN pg_catalog.pg_class c
            CROSS JOIN unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) priv
            WHERE c.relnamespace = 'salesperf'::regnamespace AND c.relkind = 'r'
              AND c.relname NOT IN ('activity', 'opportunity')
              AND pg_catalog.has_table_privilege(r, c.oid, priv)),
          NULL, 'only the admin writes configuration; writers write the ledger and opportunities only');

-- grant_access ---------------------------------------------------------------------------
SELECT throws_ok($$SELECT salesperf.grant_access(NULL, 'reader')$$, '22004', NULL, 'a NULL role is refused');
SELECT throws_ok($$SELECT salesperf.grant_access('sp_reader', NULL)$$, '22004', NULL, 'a NULL level is refused');
SELECT throws_ok($$SELECT salesperf.grant_access('no_such_role', 'reader')$$, '42704',
                 'role "no_such_role" does not exist', 'an unknown role is refused by name');
SELECT throws_ok($$SELECT salesperf.grant_access('sp_reader', 'owner')$$, '22023',
                 'unknown access level "owner"', 'an unknown level is refused by name');
CREATE FUNCTION pg_temp.hint_of(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE h text;
BEGIN
    EXECUTE sql;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
    RETURN h;
END
$$;
SELECT is(pg_temp.hint_of($$SELECT salesperf.grant_access('sp_reader', 'owner')$$),
          'Use admin, writer, reader or rep.', 'the hint lists the levels');
CREATE TEMP TABLE acl_before AS
SELECT c.oid::regclass::text AS object, c.relacl::text AS acl FROM pg_catalog.pg_class c
 WHERE c.relnamespace = 'salesperf'::regnamespace
UNION ALL
SELECT p.oid::regprocedure::text, p.proacl::text FROM pg_catalog.pg_proc p
 WHERE p.pronamespace = 'salesperf'::regnamespace;
SELECT lives_ok($$SELECT salesperf.grant_access('sp_reader', 'reader'), salesperf.grant_access('sp_admin', 'admin'),
                         salesperf.grant_access('sp_writer', 'writer')$$, 'granting again works');
SELECT set_eq($$SELECT c.oid::regclass::text, c.relacl::text FROM pg_catalog.pg_class c
                 WHERE c.relnamespace = 'salesperf'::regnamespace
                UNION ALL
                SELECT p.oid::regprocedure::text, p.proacl::text FROM pg_catalog.pg_proc p
                 WHERE p.pronamespace = 'salesperf'::regnamespace$$,
              $$SELECT * FROM acl_before$$, 'granting again changes nothing');

-- Derived state after every role's writes ------------------------------------------------------
SELECT is(salesperf.kpi_value('calls', 'rep', 101, 'month', '2026-03-15 12:00+00'), 4::numeric,
          'the writer''s calls (c1, c2, tracked row 2, h1) are counted for rep 101');
CREATE TEMP TABLE counters_before AS SELECT * FROM salesperf.kpi_counter;
CREATE TEMP TABLE standings_before AS
SELECT board_id, period_start, participant_id, contributor_id, num, den, reached_at FROM salesperf.standing;
SELECT salesperf.recompute() AS recomputed \gset
SELECT set_eq($$SELECT * FROM counters_before$$, $$SELECT * FROM salesperf.kpi_counter$$,
              'counters maintained through every role''s writes equal recompute()');
SELECT set_eq($$SELECT * FROM standings_before$$,
              $$SELECT board_id, period_start, participant_id, contributor_id, num, den, reached_at
                  FROM salesperf.standing$$,
              'standings maintained through every role''s writes equal recompute()');

-- The traps planted in public were never called.
SELECT is((SELECT pg_catalog.string_agg(DISTINCT what, ', ') FROM public.intruder_log), NULL,
          'no look-alike in public was ever called');

-- The ledger trigger attached to another table -------------------------------------------------
CREATE TABLE public.shadow_ledger (activity_id bigint, rep_id bigint, kind text, amount numeric,
                                   occurred_at timestamptz, source text, source_key text, attrs jsonb,
                                   recorded_at timestamptz);
CREATE TRIGGER shadow AFTER INSERT ON public.shadow_ledger REFERENCING NEW TABLE AS salesperf_new
    FOR EACH STATEMENT EXECUTE FUNCTION salesperf.ledger_changed();
SELECT throws_ok($$INSERT INTO public.shadow_ledger (rep_id, kind, amount, occurred_at)
                   VALUES (104, 'bonus', 1000000, '2026-03-14 09:00+00')$$,
                 NULL::char(5), NULL,
                 'salesperf.ledger_changed() refuses to run on a table other than salesperf.activity');
SELECT is(salesperf.kpi_value('points', 'rep', 104, 'month', '2026-03-15 12:00+00') < 1000000, true,
          'rows of another table never reach the counters');

SELECT * FROM finish();
