-- Security tests: the database every role's test file runs against.
-- Run by privileges.sh as the superuser that owns the extension, after it
-- created the login roles sp_admin, sp_writer, sp_reader, sp_rep,
-- sp_manager and sp_intruder.  Nothing here is an assertion.
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

-- Row-level security: region East (managed by Mia, 205, login sp_manager)
-- with team East 1 (Eve, 201, login sp_rep; Finn, 202) and below it East 1a
-- (Gus, 203); team West outside it (Hal, 204).  Ned (206) left East 1 for
-- West on 2026-05-10: his earlier counters stay with East 1.
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES
    (30, 1, 'East', 'region'), (31, 30, 'East 1', 'team'), (32, 31, 'East 1a', 'team'), (40, 1, 'West', 'team');
INSERT INTO salesperf.rep (rep_id, name, db_role) VALUES
    (201, 'Eve', 'sp_rep'), (202, 'Finn', NULL), (203, 'Gus', NULL), (204, 'Hal', NULL),
    (205, 'Mia', 'sp_manager'), (206, 'Ned', NULL);
UPDATE salesperf.unit SET manager_rep_id = 205 WHERE unit_id = 30;
SELECT salesperf.assign(r, u, '2025-10-01 00:00+00')
  FROM (VALUES (201, 31), (202, 31), (203, 32), (204, 40), (205, 30), (206, 31)) AS m(r, u);
SELECT salesperf.assign(206, 40, '2026-05-10 00:00+00');
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at, source, source_key) VALUES
    (201, 'call', 60, '2026-05-02 09:00+00', 'rls', 'e1'), (201, 'call', 60, '2026-05-03 09:00+00', 'rls', 'e2'),
    (201, 'deal_won', 800, '2025-11-12 09:00+00', 'rls', 'e3'), (201, 'deal_won', 1000, '2026-05-04 09:00+00', 'rls', 'e4'),
    (202, 'call', 60, '2026-05-02 10:00+00', 'rls', 'f1'),
    (203, 'call', 60, '2026-05-02 11:00+00', 'rls', 'g1'), (203, 'call', 60, '2026-05-03 11:00+00', 'rls', 'g2'),
    (203, 'call', 60, '2026-05-04 11:00+00', 'rls', 'g3'),
    (204, 'call', 60, '2026-05-02 12:00+00', 'rls', 'h1'), (204, 'call', 60, '2026-05-03 12:00+00', 'rls', 'h2'),
    (204, 'call', 60, '2026-05-04 12:00+00', 'rls', 'h3'), (204, 'call', 60, '2026-05-05 12:00+00', 'rls', 'h4'),
    (204, 'deal_won', 900, '2025-11-13 09:00+00', 'rls', 'h5'), (204, 'deal_won', 5000, '2026-05-05 09:00+00', 'rls', 'h6'),
    (205, 'call', 60, '2026-05-02 13:00+00', 'rls', 'm1'),
    (206, 'call', 60, '2026-05-05 14:00+00', 'rls', 'n1'), (206, 'call', 60, '2026-05-12 14:00+00', 'rls', 'n2');
SELECT salesperf.upsert_opportunity('rls', 'oe', 201, 3000, 'proposal', '2026-06-30', '2026-05-01 00:00+00'),
       salesperf.upsert_opportunity('rls', 'og', 203, 4000, 'proposal', '2026-06-30', '2026-05-01 00:00+00'),
       salesperf.upsert_opportunity('rls', 'oh', 204, 9000, 'proposal', '2026-06-30', '2026-05-01 00:00+00');
SELECT salesperf.set_target('calls', 'rep', 201, 'month', '2026-05-01 00:00+00', 10),
       salesperf.set_target('calls', 'rep', 204, 'month', '2026-05-01 00:00+00', 10),
       salesperf.set_target('calls', 'unit', 31, 'month', '2026-05-01 00:00+00', 20),
       salesperf.set_target('calls', 'unit', 40, 'month', '2026-05-01 00:00+00', 20),
       salesperf.set_target('calls', 'company', NULL, 'month', '2026-05-01 00:00+00', 100),
       -- and targets of the current month (the target_progress view)
       salesperf.set_target('calls', 'rep', 201, 'month', pg_catalog.now(), 5),
       salesperf.set_target('calls', 'rep', 204, 'month', pg_catalog.now(), 5);
INSERT INTO salesperf.commission_plan (name, basis_kpi, period, kind, breakpoints, rates)
VALUES ('rls_rate', 'revenue', 'quarter', 'rate', '{0}', '{0.1}');
SELECT salesperf.assign_plan(201, 'rls_rate', '2025-10-01 00:00+00'),
       salesperf.assign_plan(204, 'rls_rate', '2025-10-01 00:00+00');
SELECT salesperf.close_commission_period('2025-10-01 00:00+00', 'quarter');
-- From May 2026 Eve is paid monthly on quota over calls, half on her team's
-- attainment: East 1 (with East 1a below it) made 7 calls in May against
-- its target of 20, which her own rows do not show.
INSERT INTO salesperf.commission_plan
       (name, basis_kpi, period, kind, target_incentive, individual_weight, team_weight, curve_x, curve_y)
VALUES ('rls_quota', 'calls', 'month', 'quota', 1000, 0.5, 0.5, '{0,1}', '{0,1}');
SELECT salesperf.assign_plan(201, 'rls_quota', '2026-05-01 00:00+00');
-- A late deal of each in the closed quarter: adjustments in the next one.
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at, source, source_key) VALUES
    (201, 'deal_won', 100, '2025-12-20 09:00+00', 'rls', 'e5'),
    (204, 'deal_won', 200, '2025-12-20 09:00+00', 'rls', 'h7');

-- Access: one level each; the CRM backend also shows the public boards.
SELECT salesperf.grant_access('sp_admin', 'admin'),
       salesperf.grant_access('sp_writer', 'writer'),
       salesperf.grant_access('sp_writer', 'rep'),
       salesperf.grant_access('sp_reader', 'reader'),
       salesperf.grant_access('sp_rep', 'rep'),
       salesperf.grant_access('sp_manager', 'rep');

-- Sessions find pgTAP first and pg_catalog before anything else; the file
-- that plays a hostile search_path sets its own.
SELECT pg_catalog.format('ALTER DATABASE %I SET search_path = tap, pg_catalog', pg_catalog.current_database())
\gexec
