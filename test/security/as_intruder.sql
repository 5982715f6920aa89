-- Run as sp_intruder: a login granted nothing by salesperf, allowed to
-- create objects in schema public.  It cannot reach salesperf, cannot
-- attach salesperf's triggers to its own tables, and plants look-alikes of
-- functions and operators that salesperf's code uses, for the hostile
-- search_path test (as_writer_hostile_path.sql) to prove they are never
-- called.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
SET client_min_messages = warning;

SELECT plan(11);

SELECT throws_ok($$SELECT count(*) FROM salesperf.activity$$, '42501', NULL, 'intruder cannot read the ledger');
SELECT throws_ok($$SELECT salesperf.record(101, 'bonus', 1000)$$, '42501', NULL, 'intruder cannot record');
SELECT throws_ok($$SELECT * FROM salesperf.leaderboard_top('calls_month')$$, '42501', NULL,
                 'intruder cannot read boards');
SELECT throws_ok($$LOCK TABLE salesperf.activity IN ACCESS EXCLUSIVE MODE$$, '42501', NULL,
                 'intruder cannot lock the ledger');
SELECT throws_ok($$SELECT 1 FROM salesperf.rep FOR UPDATE$$, '42501', NULL, 'intruder cannot lock reps');

CREATE TABLE public.my_ledger (activity_id bigint, rep_id bigint, kind text, amount numeric,
                               occurred_at timestamptz, source text, source_key text, attrs jsonb,
                               recorded_at timestamptz);
SELECT throws_ok($$CREATE TRIGGER steal AFTER INSERT ON public.my_ledger REFERENCING NEW TABLE AS salesperf_new
                   FOR EACH STATEMENT EXECUTE FUNCTION salesperf.ledger_changed()$$,
                 '42501', NULL, 'intruder cannot attach the ledger trigger to its own table');
SELECT throws_ok($$CREATE TRIGGER steal AFTER INSERT ON public.my_ledger
                   FOR EACH STATEMENT EXECUTE FUNCTION salesperf.tracked_row_changed('1')$$,
                 '42501', NULL, 'intruder cannot attach the tracking trigger to its own table');

-- The traps: every call is logged (the log is readable by all, written only
-- through the intruder's own function).
SELECT lives_ok($trap$
    CREATE TABLE public.intruder_log (what text, by_role name DEFAULT current_user,
                                      at timestamptz DEFAULT pg_catalog.clock_timestamp());
    GRANT SELECT ON public.intruder_log TO PUBLIC;
    CREATE FUNCTION public.intruder_note(what text) RETURNS void
        LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog
        AS $$ INSERT INTO public.intruder_log (what, by_role) VALUES (what, session_user) $$;
    $trap$, 'intruder creates a log');
SELECT lives_ok($trap$
    CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE plpgsql AS
        $$ BEGIN PERFORM public.intruder_note('now()'); RETURN pg_catalog.now(); END $$;
    CREATE FUNCTION public.pg_advisory_xact_lock(integer, integer) RETURNS void LANGUAGE plpgsql AS
        $$ BEGIN PERFORM public.intruder_note('pg_advisory_xact_lock(int, int)'); END $$;
    CREATE FUNCTION public.pg_advisory_xact_lock(bigint) RETURNS void LANGUAGE plpgsql AS
        $$ BEGIN PERFORM public.intruder_note('pg_advisory_xact_lock(bigint)'); END $$;
    CREATE FUNCTION public.pg_advisory_xact_lock_shared(integer, integer) RETURNS void LANGUAGE plpgsql AS
        $$ BEGIN PERFORM public.intruder_note('pg_advisory_xact_lock_shared(int, int)'); END $$;
    $trap$, 'intruder plants look-alike functions in public');
SELECT lives_ok($trap$
    CREATE FUNCTION public.trap_eq(bigint, bigint) RETURNS boolean LANGUAGE plpgsql AS
        $$ BEGIN PERFORM public.intruder_note('bigint = bigint'); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
    CREATE OPERATOR public.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = public.trap_eq);
    CREATE FUNCTION public.trap_eq(text, text) RETURNS boolean LANGUAGE plpgsql AS
        $$ BEGIN PERFORM public.intruder_note('text = text'); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
    CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.trap_eq);
    CREATE FUNCTION public.trap_eq(integer, integer) RETURNS boolean LANGUAGE plpgsql AS
        $$ BEGIN PERFORM public.intruder_note('int = int'); RETURN $1 OPERATOR(pg_catalog.=) $2; END $$;
    CREATE OPERATOR public.= (LEFTARG = integer, RIGHTARG = integer, FUNCTION = public.trap_eq);
    CREATE FUNCTION public.trap_contains(tstzrange, timestamptz) RETURNS boolean LANGUAGE plpgsql AS
        $$ BEGIN PERFORM public.intruder_note('tstzrange @> timestamptz'); RETURN $1 OPERATOR(pg_catalog.@>) $2; END $$;
    CREATE OPERATOR public.@> (LEFTARG = tstzrange, RIGHTARG = timestamptz, FUNCTION = public.trap_contains);
    $trap$, 'intruder plants look-alike operators in public');

-- The traps work: an unqualified call under search_path public, pg_catalog
-- lands in them.
SET search_path = public, pg_catalog;
SELECT 1::bigint = 1::bigint AS sprung, now() IS NOT NULL AS sprung_too \gset
RESET search_path;
SELECT is((SELECT count(*) FROM public.intruder_log), 2::bigint,
          'the traps catch unqualified calls under search_path public, pg_catalog');
DELETE FROM public.intruder_log;

SELECT * FROM finish();
