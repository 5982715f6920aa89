-- Every row of every table of schemas salesperf and crm (configuration,
-- ledger and every derived table: counters, standings, capped awards, the
-- unit closure, board map, badges, contest results...) and every sequence's
-- position, printed so that two databases compare line by line
-- (test/upgrade/upgrade.sh).  A row prints as jsonb, whose keys are sorted:
-- the column order of a table does not matter here (the catalog comparison
-- checks it).  Columns the engine may fill from the clock (those whose
-- default reads it, such as recorded_at and tracked_at, and
-- contest.finalized_at) print "<clock>" instead of a value at or after
-- :since (set by the caller to when its test started): two databases loaded
-- one after the other differ there by the time between the loads.  Values
-- given by the data (an opportunity's opened_at in 2025) still compare.  The
-- "## clock columns" section names the columns.
\set ON_ERROR_STOP 1
\pset format unaligned
\pset tuples_only on
\pset null '<null>'
SET client_min_messages = warning;
SET extra_float_digits = 3;
SET TimeZone = 'UTC';
\if :{?since}
\else
\set since '-infinity'
\endif

CREATE TEMP TABLE clock_column AS
SELECT a.attrelid, a.attname::text AS attname
  FROM pg_catalog.pg_attrdef d
  JOIN pg_catalog.pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
  JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
 WHERE c.relnamespace IN ('salesperf'::pg_catalog.regnamespace, 'crm'::pg_catalog.regnamespace)
   AND pg_catalog.pg_get_expr(d.adbin, d.adrelid)
       ~* '(now|clock_timestamp|statement_timestamp|transaction_timestamp|timeofday)\(|current_(timestamp|date|time)|localtime'
UNION
-- set from the clock without a default: when finalize_contests() ran
SELECT 'salesperf.contest'::pg_catalog.regclass, 'finalized_at';

\echo '## clock columns'
SELECT a.attrelid::pg_catalog.regclass::text || '.' || a.attname FROM clock_column a ORDER BY 1;

SELECT pg_catalog.format($q$SELECT l FROM (SELECT 0 AS k, %L AS l
                 UNION ALL
                 SELECT 1, (pg_catalog.to_jsonb(x) || %s)::text FROM %s x) s
 ORDER BY k, l$q$,
                         '## table ' || c.oid::pg_catalog.regclass::text,
                         coalesce((SELECT 'pg_catalog.jsonb_build_object('
                                          || pg_catalog.string_agg(pg_catalog.format(
                                                 '%L, CASE WHEN x.%I >= %L THEN %L ELSE pg_catalog.to_jsonb(x.%I) END',
                                                 k.attname, k.attname, :'since', '"<clock>"', k.attname), ', ' ORDER BY k.attname)
                                          || ')'
                                     FROM clock_column k WHERE k.attrelid = c.oid), '''{}''::jsonb'),
                         c.oid::pg_catalog.regclass)
  FROM pg_catalog.pg_class c
 WHERE c.relnamespace IN ('salesperf'::pg_catalog.regnamespace, 'crm'::pg_catalog.regnamespace)
   AND c.relkind IN ('r', 'p')
   -- transaction ids of org changes: each database has its own
   AND c.oid <> 'salesperf.org_change'::pg_catalog.regclass
   -- rows added and merged as writes come: its sums are printed below
   AND c.oid <> 'salesperf.standing_tally'::pg_catalog.regclass
 ORDER BY c.oid::pg_catalog.regclass::text
\gexec

\echo '## table salesperf.standing_tally, each band summed'
SELECT t.board_id || ' | ' || t.period_start || ' | ' || t.bucket || ' | ' || pg_catalog.sum(t.participants)
  FROM salesperf.standing_tally t
 GROUP BY t.board_id, t.period_start, t.bucket
HAVING pg_catalog.sum(t.participants) <> 0
 ORDER BY t.board_id, t.period_start, t.bucket;

\echo '## sequences'
SELECT pg_catalog.format('%I.%I', s.schemaname, s.sequencename) || ' | ' || coalesce(s.last_value::text, '<unused>')
  FROM pg_catalog.pg_sequences s
 WHERE s.schemaname IN ('salesperf', 'crm')
 ORDER BY 1;
