-- The live installation that test/restore/dump_restore.sh dumps and restores.
-- It uses every part of the engine whose state pg_dump must carry: settings
-- changed through configure(), a four-level unit tree whose rows are stored
-- out of order (a parent updated after its children, a team re-parented),
-- temporal memberships with back-dated moves, custom activity kinds, point
-- rules (capped, uncapped, time-limited, inactive), custom KPIs (avg, ratio,
-- lower-is-better, points of one kind), scoped and unscoped rep and unit
-- boards, an edited and pruned ledger with idempotency keys, opportunities
-- (won, lost, reopened, open), a custom and an edited seeded stage, forecast
-- adjustments and snapshots, and two tracked CRM tables in schema crm.
-- Deterministic: no random(), fixed moments (now() only fills recorded_at,
-- tracked_at and adjusted_at, which pg_dump carries as they are).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION salesperf;

-- Time zone first: the day boundaries of everything below are New York's.
SELECT salesperf.configure(time_zone => 'America/New_York', currency => 'EUR', currency_scale => 3);

-- Organisation: company > region > department > team.  Inserted top-down,
-- then edited so that the heap (and so COPY) order puts children first.
INSERT INTO salesperf.rep (rep_id, name, external_ref, db_role) VALUES
    (1, 'Ada',   'ada@acme.example',   'ada'),
    (2, 'Bo',    'bo@acme.example',    NULL),
    (3, 'Cy',    'cy@acme.example',    NULL),
    (4, 'Di',    NULL,                 NULL),
    (5, 'Ed',    'ed@acme.example',    'ed'),
    (6, 'Flo',   NULL,                 NULL),
    (7, 'Gus',   'gus@acme.example',   NULL),
    (8, 'Hal',   NULL,                 NULL),
    (9, 'Ivy',   'ivy@acme.example',   NULL);
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES
    (1,    NULL, 'Acme',        'company'),
    (10,   1,    'Americas',    'region'),
    (20,   1,    'EMEA',        'region'),
    (101,  10,   'US East',     'department'),
    (102,  10,   'US West',     'department'),
    (201,  20,   'DACH',        'department'),
    (1011, 101,  'Boston',      'team'),
    (1012, 101,  'New York',    'team'),
    (1021, 102,  'Denver',      'team'),
    (2011, 201,  'Berlin',      'team'),
    (2012, 201,  'Vienna',      'team');

-- Boards created before any activity (they fill incrementally).
SELECT salesperf.create_leaderboard('points month');
SELECT salesperf.create_leaderboard('americas calls week', 'calls', unit_scope => 10, period => 'week');
SELECT salesperf.create_leaderboard('team revenue quarter', 'revenue', participant => 'unit',
                                    period => 'quarter', unit_kind => 'team');
SELECT salesperf.create_leaderboard('americas departments year', 'points', participant => 'unit',
                                    period => 'year', unit_scope => 10, unit_kind => 'department');

SELECT salesperf.assign(r, u, '2025-01-01 00:00 America/New_York')
  FROM (VALUES (1, 1011), (2, 1011), (3, 1012), (4, 1012), (5, 1021),
               (6, 2011), (7, 2011), (8, 2012), (9, 2012)) AS m(r, u);

-- A parent renamed and given a manager after its children exist: its row
-- moves behind theirs.  Vienna then moves from DACH to US West (the team
-- takes its history with it), and the company row is touched last.
UPDATE salesperf.unit SET name = 'Americas & APAC', manager_rep_id = 1 WHERE unit_id = 10;
UPDATE salesperf.unit SET manager_rep_id = 6 WHERE unit_id = 201;
UPDATE salesperf.unit SET parent_id = 102 WHERE unit_id = 2012;
UPDATE salesperf.unit SET name = 'Acme Corp' WHERE unit_id = 1;

-- Custom kinds, KPIs and rules.
INSERT INTO salesperf.activity_kind (kind, unit, description) VALUES
    ('demo', 'count', 'A product demo'),
    ('referral', 'currency', 'A referral; amount is its expected value');
SELECT salesperf.define_kpi('demos', 'demo');
SELECT salesperf.define_kpi('avg_deal', 'deal_won', 'avg', unit => 'currency');
SELECT salesperf.define_kpi('deals_lost', 'deal_lost', 'count', higher_is_better => false);
SELECT salesperf.define_kpi('demo_win_rate', measure => 'ratio', numerator => 'deals_won',
                            denominator => 'demos', unit => 'ratio');
SELECT salesperf.define_kpi('email_points', 'email', 'points');
SELECT salesperf.define_kpi('referral_value', 'referral', 'sum', unit => 'currency');

INSERT INTO salesperf.point_rule (name, kind, points, points_per_amount, daily_cap, valid, active) VALUES
    ('call made',      'call',      1,  0,     NULL, '(,)', true),
    ('talk time',      'call',      0,  0.01,  7.5,  '[2025-02-01 00:00-05,)', true),
    ('email sent',     'email',     2,  0,     6,    '(,)', true),
    ('meeting held',   'meeting',   5,  0,     NULL, '(,)', true),
    ('demo given',     'demo',      4,  0,     NULL, '[2025-01-01 00:00-05,2025-03-01 00:00-05)', true),
    ('demo given v2',  'demo',      6,  0,     12,   '[2025-03-01 00:00-05,)', true),
    ('deal won',       'deal_won',  20, 0.002, NULL, '(,)', true),
    ('referral',       'referral',  0,  0.001, 3,    '(,)', true),
    ('visit (old)',    'visit',     9,  0,     NULL, '(,)', false),
    ('lead',           'lead_created', 1, 0,   NULL, '(,)', true);

-- The ledger: about 1,600 activities from January to mid-April, some near
-- local midnight, in bulk and through record() with idempotency keys.
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at, source, source_key, attrs)
SELECT 1 + (i * 5 % 9),
       k.kind,
       CASE k.kind WHEN 'call' THEN 20 + (i * 37 % 600)
                   WHEN 'deal_won' THEN 1000 + (i * 131 % 9000)
                   WHEN 'referral' THEN 500 + (i * 17 % 2500)
                   ELSE 1 END,
       timestamptz '2025-01-01 00:00 America/New_York' + i * interval '91 minutes' + (i % 7) * interval '13 seconds',
       CASE WHEN i % 10 = 0 THEN 'dialer' END,
       CASE WHEN i % 10 = 0 THEN 'd' || i END,
       CASE WHEN i % 25 = 0 THEN jsonb_build_object('i', i, 'campaign', 'spring') END
  FROM generate_series(1, 1500) i
 CROSS JOIN LATERAL (SELECT (ARRAY['call', 'call', 'email', 'email', 'meeting', 'demo', 'lead_created',
                                   'lead_converted', 'deal_won', 'visit', 'referral', 'message'])[1 + (i * 7 % 12)]
                     AS kind) k;

SELECT salesperf.record(1 + (i % 9), 'email', 1,
                        timestamptz '2025-03-03 23:40 America/New_York' + (i % 5) * interval '7 minutes',
                        'mailer', 'm' || (i % 40))
  FROM generate_series(1, 60) i;          -- 60 calls, 40 keys: 20 retries award nothing
SELECT salesperf.record(3, 'bonus', 50, '2025-02-14 12:00 America/New_York', 'hr', 'valentine');
SELECT salesperf.record(3, 'bonus', 50, '2025-02-14 12:00 America/New_York', 'hr', 'valentine');
SELECT salesperf.record(7, 'deal_won', 12500.50, '2025-03-31 23:59:59 America/New_York');
SELECT salesperf.record(8, 'deal_lost', 4000, '2025-04-01 00:00 America/New_York');

-- Edits and removals: every derived number follows.
UPDATE salesperf.activity SET amount = amount * 2 WHERE kind = 'call' AND activity_id % 11 = 0;
UPDATE salesperf.activity SET occurred_at = occurred_at - interval '1 day'
 WHERE kind IN ('email', 'demo') AND activity_id % 13 = 0;
UPDATE salesperf.activity SET rep_id = 2 WHERE rep_id = 4 AND activity_id % 17 = 0;
DELETE FROM salesperf.activity WHERE activity_id % 19 = 0 AND kind <> 'deal_won';

-- Back-dated moves: Cy leaves New York for Boston on 15 February, Di goes
-- to Berlin from 20 January (both re-attribute what is already recorded).
SELECT salesperf.assign(3, 1011, '2025-02-15 00:00 America/New_York');
SELECT salesperf.assign(4, 2011, '2025-01-20 09:30 America/New_York');
SELECT salesperf.assign(9, 1021, '2025-03-10 00:00 America/New_York');

-- Boards created over existing history (built from the counters).
SELECT salesperf.create_leaderboard('demo win rate', 'demo_win_rate', period => 'all');
SELECT salesperf.create_leaderboard('fewest lost month', 'deals_lost');
SELECT salesperf.create_leaderboard('avg deal quarter', 'avg_deal', period => 'quarter');
SELECT salesperf.create_leaderboard('emea emails day', 'emails', unit_scope => 20, period => 'day');
SELECT salesperf.create_leaderboard('dach referral month', 'referral_value', unit_scope => 201);
SELECT salesperf.create_leaderboard('email points week', 'email_points', period => 'week');

-- A rule edited after the fact re-derives its awards; a rep leaves.
UPDATE salesperf.point_rule SET daily_cap = 8 WHERE name = 'email sent';
UPDATE salesperf.rep SET active = false WHERE rep_id = 8;

-- Pipeline: a custom stage, an edited seeded stage, deals through upsert.
SELECT salesperf.set_stage('verbal', 0.9, 'commit', sort_order => 55);
SELECT salesperf.set_stage('proposal', 0.55, 'best_case');
SELECT salesperf.upsert_opportunity('api', 'o' || i, 1 + (i % 9), 1000 * i,
                                    (ARRAY['prospecting', 'qualification', 'proposal', 'negotiation',
                                           'verbal', 'closed_won', 'closed_lost'])[1 + (i % 7)],
                                    date '2025-04-01' + (i * 3 % 80),
                                    timestamptz '2025-01-05 10:00 America/New_York' + i * interval '1 day',
                                    CASE WHEN i % 7 IN (5, 6)
                                         THEN timestamptz '2025-03-01 10:00 America/New_York' + i * interval '9 hours' END)
  FROM generate_series(1, 28) i;
-- one open deal is won, one won deal is reopened, one lost deal changes owner
SELECT salesperf.upsert_opportunity('api', 'o3', 4, 3300, 'closed_won', date '2025-04-10',
                                    '2025-01-08 10:00 America/New_York', '2025-04-10 16:00 America/New_York');
SELECT salesperf.upsert_opportunity('api', 'o5', 6, 5000, 'negotiation', date '2025-05-20',
                                    '2025-01-10 10:00 America/New_York', NULL);
SELECT salesperf.upsert_opportunity('api', 'o6', 2, 6000, 'closed_lost', date '2025-04-02',
                                    '2025-01-11 10:00 America/New_York', '2025-03-03 04:00 America/New_York');

-- CRM tables watched by the engine.
CREATE SCHEMA crm;
CREATE TABLE crm.calls (
    call_id  integer PRIMARY KEY,
    owner    bigint NOT NULL,
    started  timestamptz NOT NULL,
    seconds  integer,
    status   text NOT NULL
);
CREATE TABLE crm.deals (
    deal_id    text PRIMARY KEY,
    owner      bigint,
    value      numeric,
    stage      text,
    close_date date,
    created    timestamptz,
    closed     timestamptz
);
INSERT INTO crm.calls
SELECT i, 1 + (i % 9), timestamptz '2025-02-01 09:00 America/New_York' + i * interval '5 hours',
       60 + i * 7 % 400, CASE WHEN i % 4 = 0 THEN 'missed' ELSE 'completed' END
  FROM generate_series(1, 120) i;
SELECT salesperf.track('crm.calls', 'call', 'owner', 'started', 'seconds', 'call_id',
                       condition => $$status = 'completed'$$);
INSERT INTO crm.calls
SELECT i, 1 + (i % 9), timestamptz '2025-03-20 09:00 America/New_York' + (i - 120) * interval '3 hours',
       30 + i * 11 % 300, CASE WHEN i % 5 = 0 THEN 'missed' ELSE 'completed' END
  FROM generate_series(121, 180) i;
UPDATE crm.calls SET status = 'completed' WHERE call_id IN (4, 8, 12);
UPDATE crm.calls SET seconds = seconds + 100 WHERE call_id BETWEEN 130 AND 135;
DELETE FROM crm.calls WHERE call_id IN (2, 3, 150);

INSERT INTO crm.deals VALUES
    ('D1', 1, 20000, 'negotiation', '2025-05-15', '2025-02-01 09:00-05', NULL),
    ('D2', 5, 8000,  'closed_won',  '2025-03-20', '2025-02-03 09:00-05', '2025-03-20 15:00-04'),
    ('D3', 6, 15000, 'proposal',    '2025-06-30', '2025-02-10 09:00-05', NULL),
    ('D4', NULL, NULL, NULL,        NULL,         '2025-02-11 09:00-05', NULL);
SELECT salesperf.track_opportunities('crm.deals', 'deal_id', 'owner', 'value', 'stage',
                                     'close_date', 'created', 'closed');
INSERT INTO crm.deals VALUES
    ('D5', 7, 11000, 'closed_lost', '2025-04-05', '2025-02-20 09:00-05', '2025-04-05 11:00-04'),
    ('D6', 2, 9000,  'qualification', '2025-05-30', '2025-03-01 09:00-05', NULL);
UPDATE crm.deals SET stage = 'closed_won', closed = '2025-04-11 10:00-04' WHERE deal_id = 'D1';
UPDATE crm.deals SET owner = 3, value = 16000, stage = 'verbal' WHERE deal_id = 'D3';

-- Managers' overrides and a snapshot of the quarter's roll-up.
SELECT salesperf.adjust_forecast(10, salesperf.period_start('2025-04-15 12:00-04', 'quarter'), 60000);
SELECT salesperf.adjust_forecast(2011, salesperf.period_start('2025-04-15 12:00-04', 'month'), 9000, 'month');
SELECT salesperf.snapshot_forecast('quarter', '2025-04-15 12:00-04');

-- The calendar changes under a live ledger: weeks start on Sunday and the
-- fiscal year in April (derived state is rebuilt), then more is recorded.
SELECT salesperf.configure(week_start => 7, fiscal_year_start_month => 4);
SELECT salesperf.record(1 + (i % 9), (ARRAY['call', 'email', 'demo', 'deal_won'])[1 + (i % 4)],
                        CASE i % 4 WHEN 0 THEN 90 WHEN 3 THEN 2500 ELSE 1 END,
                        timestamptz '2025-04-12 08:00 America/New_York' + i * interval '2 hours 11 minutes',
                        CASE WHEN i % 3 = 0 THEN 'late' END, CASE WHEN i % 3 = 0 THEN 'l' || i END)
  FROM generate_series(1, 80) i;

-- Commission: a quota plan and a graduated rate plan, revenue targets,
-- February and March 2025 closed, a February deal reversed after its close
-- (a clawback in the next open month), a plan change for April.
SELECT salesperf.set_target('revenue', 'rep', r, 'month', m, 10000 + 2500 * r)
  FROM generate_series(1, 9) r
 CROSS JOIN (VALUES (timestamptz '2025-02-01 00:00 America/New_York'),
                    ('2025-03-01 00:00 America/New_York'), ('2025-04-01 00:00 America/New_York')) AS p(m);
SELECT salesperf.set_target('revenue', 'unit', 1011, 'month', '2025-02-01 00:00 America/New_York', 30000);
INSERT INTO salesperf.commission_plan
       (name, basis_kpi, period, kind, target_incentive, individual_weight, team_weight, curve_x, curve_y, team_bonus)
VALUES ('AE', 'revenue', 'month', 'quota', 3000, 0.6, 0.4, '{0.5,1,1.5}', '{0,1,2.25}', 250);
INSERT INTO salesperf.commission_plan (name, basis_kpi, period, kind, breakpoints, rates, retroactive)
VALUES ('Hunter', 'revenue', 'month', 'rate', '{0,10000,25000.5}', '{0.04,0.075,0.1}', false);
SELECT salesperf.assign_plan(r, CASE WHEN r % 3 = 0 THEN 'Hunter' ELSE 'AE' END, '2025-01-01 00:00 America/New_York')
  FROM generate_series(1, 9) r;
SELECT count(salesperf.record(1 + (i % 9), 'deal_won', 1500 + (i * 977) % 9000 + 0.25,
                              timestamptz '2025-02-01 10:00 America/New_York' + i * interval '13 hours 7 minutes',
                              'crm-deals', 'c' || i))
  FROM generate_series(1, 110) i;
SELECT salesperf.close_commission_period('2025-02-01 00:00 America/New_York');
DELETE FROM salesperf.activity WHERE source = 'crm-deals' AND source_key IN ('c5', 'c14');
SELECT salesperf.close_commission_period('2025-03-01 00:00 America/New_York');
SELECT salesperf.record(2, 'deal_won', 4321.5, '2025-02-27 18:00 America/New_York', 'crm-deals', 'late-feb');
SELECT salesperf.assign_plan(4, 'Hunter', '2025-04-01 00:00 America/New_York');
