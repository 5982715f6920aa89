-- Security tests: the database every role's test file runs against.
-- Run by privileges.sh as the superuser that owns the extension, after it
-- created the login roles sp_admin, sp_writer, sp_reader, sp_rep and
-- sp_intruder.  Nothing here is an assertion.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

-- pgTAP lives in its own schema: the intruder plants look-alike functions
-- and operators in public, which pgTAP's own code must not run into.
CREATE SCHEMA tap;
CREATE EXTENSION pgtap SCHEMA tap;
GRANT USAGE ON SCHEMA tap TO PUBLIC;
CREATE EXTENSION salesperf;

-- The intruder may create objects in public (the pre-15 default) and holds
-- nothing of salesperf.  The admin owns the CRM's schema.
GRANT CREATE ON SCHEMA public TO sp_intruder;
CREATE SCHEMA crm AUTHORIZATION sp_admin;

-- A small company: two teams, four reps, one point rule, one board.
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES
    (1, NULL, 'Company', 'company'), (10, 1, 'Team A', 'team'), (20, 1, 'Team B', 'team');
INSERT INTO salesperf.rep (rep_id, name) VALUES
    (101, 'Ada'), (102, 'Ben'), (103, 'Cy'), (104, 'Di');
SELECT salesperf.assign(101, 10, '2026-01-01 00:00+00'),
       salesperf.assign(102, 10, '2026-01-01 00:00+00'),
       salesperf.assign(103, 20, '2026-01-01 00:00+00');
INSERT INTO salesperf.point_rule (name, kind, points) VALUES ('call_points', 'call', 1);
SELECT salesperf.create_leaderboard('calls_month', 'calls', 'rep', 'month');

SELECT salesperf.record(102, 'call', 60, '2026-03-05 10:00+00', 'seed', 's1'),
       salesperf.record(102, 'call', 90, '2026-03-06 10:00+00', 'seed', 's2'),
       salesperf.record(103, 'call', 30, '2026-03-07 10:00+00', 'seed', 's3');
SELECT salesperf.upsert_opportunity('seed', 'o1', 102, 5000, 'proposal', '2026-03-30', '2026-02-01 00:00+00'),
       salesperf.upsert_opportunity('seed', 'o2', 103, 2000, 'closed_won', '2026-03-08',
                                    '2026-02-10 00:00+00', '2026-03-08 10:00+00');

-- Access: one level each; the CRM backend also shows the public boards.
SELECT salesperf.grant_access('sp_admin', 'admin'),
       salesperf.grant_access('sp_writer', 'writer'),
       salesperf.grant_access('sp_writer', 'rep'),
       salesperf.grant_access('sp_reader', 'reader'),
       salesperf.grant_access('sp_rep', 'rep');

-- Sessions find pgTAP first and pg_catalog before anything else; the file
-- that plays a hostile search_path sets its own.
SELECT pg_catalog.format('ALTER DATABASE %I SET search_path = tap, pg_catalog', pg_catalog.current_database())
\gexec
