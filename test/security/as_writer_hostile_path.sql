-- Run as sp_writer after as_intruder.sql planted its look-alikes in public.
-- The CRM backend's session puts public before pg_catalog; everything
-- salesperf runs for it (record(), the ledger triggers, tracked tables,
-- the boards) must still call pg_catalog's functions and operators, never
-- the intruder's.  The statements below run inside one DO block so that
-- pgTAP's own code (which resolves names through the search_path) does not
-- run under that search_path.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
SET client_min_messages = warning;

SELECT plan(9);

CREATE TEMP TABLE hostile_step (n integer, step text, error text);

SET search_path = public, pg_catalog;
DO $$
DECLARE
    steps constant text[] := ARRAY[
        $s$SELECT salesperf.record(101, 'call', 10, '2026-03-14 09:00+00', 'hostile', 'h1')$s$,
        $s$SELECT salesperf.record(101, 'call', 10, '2026-03-14 09:00+00', 'hostile', 'h1')$s$,
        $s$SELECT salesperf.record(102, 'email')$s$,
        $s$INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at, source, source_key)
           VALUES (102, 'email', 1, '2026-03-14 10:00+00', 'hostile', 'h2')$s$,
        $s$UPDATE salesperf.activity SET amount = 2 WHERE source_key OPERATOR(pg_catalog.=) 'h2'$s$,
        $s$DELETE FROM salesperf.activity WHERE source_key OPERATOR(pg_catalog.=) 'h2'$s$,
        $s$SELECT salesperf.upsert_opportunity('hostile', 'o9', 102, 500, 'closed_won', NULL,
                                               '2026-03-01 00:00+00', '2026-03-14 11:00+00')$s$,
        $s$INSERT INTO crm.calls VALUES (10, 102, '2026-03-14 12:00+00', 30, 'done')$s$,
        $s$SELECT * FROM salesperf.leaderboard_top('calls_month', 10, '2026-03-15 12:00+00')$s$,
        $s$SELECT * FROM salesperf.leaderboard_rank('calls_month', 102, '2026-03-15 12:00+00')$s$];
BEGIN
    FOR i IN 1 .. pg_catalog.array_length(steps, 1) LOOP
        BEGIN
            EXECUTE steps[i];
            INSERT INTO pg_temp.hostile_step VALUES (i, steps[i], NULL);
        EXCEPTION WHEN OTHERS THEN
            INSERT INTO pg_temp.hostile_step VALUES (i, steps[i], SQLSTATE || ': ' || SQLERRM);
        END;
    END LOOP;
END
$$;
RESET search_path;

SELECT is((SELECT pg_catalog.string_agg(n || ': ' || error, '; ') FROM pg_temp.hostile_step WHERE error IS NOT NULL),
          NULL, 'every step works under search_path public, pg_catalog');
SELECT is((SELECT count(*) FROM pg_temp.hostile_step), 10::bigint, 'every step ran');
SELECT is((SELECT pg_catalog.string_agg(DISTINCT what, ', ') FROM public.intruder_log), NULL,
          'no look-alike in public was called');
SELECT is((SELECT count(*) FROM salesperf.activity a WHERE a.source = 'hostile' AND a.source_key = 'h1'), 1::bigint,
          'the retried activity is recorded once');
SELECT is((SELECT count(*) FROM salesperf.activity a WHERE a.source = 'hostile' AND a.source_key = 'h2'), 0::bigint,
          'the inserted, updated and deleted activity is gone');
SELECT is((SELECT count(*) FROM salesperf.activity a WHERE a.source_key = 'hostile:o9' AND a.kind = 'deal_won'),
          1::bigint, 'the won opportunity is in the ledger');
SELECT is((SELECT count(*) FROM salesperf.activity a WHERE a.source = 'crm.calls' AND a.source_key = '10'),
          1::bigint, 'the tracked CRM row is in the ledger');
SELECT is((SELECT score FROM salesperf.leaderboard_top('calls_month', 10, '2026-03-15 12:00+00') t
            WHERE t.participant_id = 101),
          (SELECT count(*)::numeric FROM salesperf.activity a
            WHERE a.rep_id = 101 AND a.kind = 'call'
              AND a.occurred_at >= '2026-03-01 00:00+00' AND a.occurred_at < '2026-04-01 00:00+00'),
          'the board counts every call of rep 101 in the ledger');
SELECT is((SELECT score FROM salesperf.leaderboard_top('calls_month', 10, '2026-03-15 12:00+00') t
            WHERE t.participant_id = 102),
          (SELECT count(*)::numeric FROM salesperf.activity a
            WHERE a.rep_id = 102 AND a.kind = 'call'
              AND a.occurred_at >= '2026-03-01 00:00+00' AND a.occurred_at < '2026-04-01 00:00+00'),
          'the board counts every call of rep 102 in the ledger');

SELECT * FROM finish();
