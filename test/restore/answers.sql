-- What a user asks salesperf, at fixed moments.  test/restore/dump_restore.sh
-- runs this in the source and in each restored database and compares the
-- output section by section (a section starts with a "## name" line).
-- Every query orders its rows completely, so equal answers print equally.
\set ON_ERROR_STOP 1
\pset format unaligned
\pset tuples_only on
\pset null '<null>'
SET client_min_messages = warning;
SET extra_float_digits = 3;
CREATE TEMP TABLE moment (at timestamptz PRIMARY KEY);
INSERT INTO moment VALUES
    ('2025-01-19 23:30 America/New_York'),      -- Sunday night: a week boundary
    ('2025-02-28 12:00 America/New_York'),
    ('2025-03-31 23:59:59 America/New_York'),   -- last second of a fiscal year
    ('2025-04-14 09:00 America/New_York'),
    ('2025-06-01 00:00 America/New_York');
-- kpi_value is asked a few thousand times: at three of those moments.
CREATE TEMP TABLE kpi_moment AS
SELECT at FROM moment WHERE at IN ('2025-01-19 23:30 America/New_York', '2025-03-31 23:59:59 America/New_York',
                                   '2025-04-14 09:00 America/New_York');
CREATE TEMP TABLE period (period text PRIMARY KEY);
INSERT INTO period VALUES ('day'), ('week'), ('month'), ('quarter'), ('year'), ('all');

\echo '## catalog: extension'
SELECT e.extname, e.extversion, e.extrelocatable, n.nspname
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = 'salesperf';

\echo '## catalog: configuration tables and their dump filters'
SELECT c.tab::regclass::text, c.cond
  FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS c(tab, cond)
 WHERE e.extname = 'salesperf'
 ORDER BY 1;

\echo '## catalog: extension members'
SELECT pg_describe_object(d.classid, d.objid, d.objsubid)
  FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e' AND e.extname = 'salesperf'
 ORDER BY 1;

\echo '## catalog: triggers'
SELECT c.oid::regclass::text, t.tgname, t.tgenabled, pg_get_triggerdef(t.oid)
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname IN ('salesperf', 'crm') AND NOT t.tgisinternal
 ORDER BY 1, 2;

\echo '## catalog: sequences'
SELECT s.schemaname, s.sequencename, s.last_value
  FROM pg_sequences s WHERE s.schemaname IN ('salesperf', 'crm')
 ORDER BY 1, 2;

\echo '## settings'
SELECT * FROM salesperf.settings;

\echo '## period_start / period_end'
SELECT m.at, p.period, salesperf.period_start(m.at, p.period), salesperf.period_end(m.at, p.period)
  FROM moment m, period p ORDER BY 1, 2;

\echo '## unit_of'
SELECT r.rep_id, m.at, salesperf.unit_of(r.rep_id, m.at)
  FROM salesperf.rep r, moment m ORDER BY 1, 2;

\echo '## leaderboard_top'
SELECT b.name, m.at, t.*
  FROM salesperf.leaderboard b CROSS JOIN moment m
 CROSS JOIN LATERAL salesperf.leaderboard_top(b.name, 1000, m.at) t
 ORDER BY b.name, m.at, t.rank, t.participant_id;

\echo '## leaderboard_rank'
SELECT b.name, m.at, p.id, r.*
  FROM salesperf.leaderboard b CROSS JOIN moment m
  JOIN LATERAL (SELECT rep_id AS id FROM salesperf.rep WHERE b.participant = 'rep'
                UNION ALL
                SELECT unit_id FROM salesperf.unit WHERE b.participant = 'unit') p ON true
 CROSS JOIN LATERAL salesperf.leaderboard_rank(b.name, p.id, m.at) r
 ORDER BY b.name, m.at, p.id;

\echo '## kpi_value: rep'
SELECT k.name, r.rep_id, p.period, m.at, salesperf.kpi_value(k.name, 'rep', r.rep_id, p.period, m.at)
  FROM salesperf.kpi k, salesperf.rep r, period p, kpi_moment m
 ORDER BY 1, 2, 3, 4;

\echo '## kpi_value: unit'
SELECT k.name, u.unit_id, p.period, m.at, salesperf.kpi_value(k.name, 'unit', u.unit_id, p.period, m.at)
  FROM salesperf.kpi k, salesperf.unit u, period p, kpi_moment m
 ORDER BY 1, 2, 3, 4;

\echo '## kpi_value: company'
SELECT k.name, p.period, m.at, salesperf.kpi_value(k.name, 'company', NULL, p.period, m.at)
  FROM salesperf.kpi k, period p, kpi_moment m
 ORDER BY 1, 2, 3;

\echo '## forecast'
SELECT p.period, m.at, f.*
  FROM (VALUES ('month'), ('quarter'), ('year')) p(period) CROSS JOIN moment m
 CROSS JOIN LATERAL salesperf.forecast(p.period, m.at) f
 ORDER BY 1, 2, f.unit_id;

\echo '## cumulative_forecast'
SELECT m.at, f.* FROM moment m CROSS JOIN LATERAL salesperf.cumulative_forecast(6, m.at) f
 ORDER BY 1, 2;

\echo '## forecast_accuracy'
SELECT * FROM salesperf.forecast_accuracy ORDER BY 1, 2, 3, 4;

\echo '## pipeline aggregates'
SELECT o.rep_id,
       salesperf.sales_velocity(o.opened_at, o.closed_at, o.amount, s.is_won),
       salesperf.weighted_pipeline(o.amount, s.probability),
       salesperf.forecast_summary(o.amount, s.category),
       salesperf.forecast_quantiles(o.source || o.source_key, o.amount::float8, s.probability::float8)
  FROM salesperf.opportunity o JOIN salesperf.stage s ON s.stage = o.stage
 GROUP BY ROLLUP (o.rep_id) ORDER BY 1 NULLS LAST;

\echo '## commission'
SELECT m.ps, s.* FROM (VALUES (timestamptz '2025-02-10 12:00 America/New_York'), ('2025-03-10 12:00 America/New_York'),
                              ('2025-04-10 12:00 America/New_York')) AS m(ps)
 CROSS JOIN LATERAL salesperf.commission_statement('month', m.ps) s ORDER BY 1, 2;
SELECT m.ps, a.* FROM (VALUES (timestamptz '2025-03-10 12:00 America/New_York'), ('2025-04-10 12:00 America/New_York')) AS m(ps)
 CROSS JOIN LATERAL salesperf.commission_adjustments('month', m.ps) a ORDER BY 1, 2, 4;
