-- Run as sp_writer while sp_intruder (granted nothing) holds, in an open
-- transaction, the advisory locks salesperf's writers once took: the whole
-- ledger's (1936483696, 0) and rep 103's.  Locks that gate salesperf's
-- writers must be on salesperf-owned objects that a role without access
-- cannot take; a writer is not blocked by a stranger.
\set ON_ERROR_STOP 1
\set QUIET 1
\pset format unaligned
\pset tuples_only true
SET client_min_messages = warning;

SELECT plan(3);

-- Runs a statement; a statement_timeout is reported, not raised.
CREATE FUNCTION pg_temp.attempt(sql text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'done';
EXCEPTION
    WHEN query_canceled THEN RETURN 'blocked: ' || SQLERRM;
    WHEN OTHERS THEN RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

SELECT ok((SELECT count(*) FROM pg_catalog.pg_locks l
            WHERE l.locktype = 'advisory' AND l.granted AND l.pid <> pg_catalog.pg_backend_pid()) >= 2,
          'another session holds the advisory locks');
SET statement_timeout = '5s';
SELECT is(pg_temp.attempt($$SELECT salesperf.record(103, 'call', 5, '2026-03-14 13:00+00', 'locked', 'l1')$$),
          'done', 'record() is not blocked by a stranger''s advisory locks (5 s timeout)');
SELECT is(pg_temp.attempt($$INSERT INTO salesperf.activity (rep_id, kind, occurred_at, source, source_key)
                            VALUES (104, 'email', '2026-03-14 13:00+00', 'locked', 'l2')$$),
          'done', 'a plain INSERT is not blocked either');
RESET statement_timeout;

SELECT * FROM finish();
