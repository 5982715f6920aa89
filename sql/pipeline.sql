-- Pipeline and forecast: Acme's fourth quarter of 2026, seen from
-- 15 November.  Every number below can be checked by hand from the dozen
-- opportunities entered at the start.
DROP EXTENSION salesperf;
CREATE EXTENSION salesperf;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
-- The CRM's own tables live in public (the login may be named salesperf).
SET search_path = public;

-- Acme has two regions and three teams.  Fay sells for EMEA directly, so
-- EMEA's numbers are its teams' plus her own.
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES
  (1,  NULL, 'Acme',     'company'),
  (10, 1,    'EMEA',     'region'),
  (20, 1,    'Americas', 'region'),
  (11, 10,   'Paris',    'team'),
  (12, 10,   'Berlin',   'team'),
  (21, 20,   'New York', 'team');
INSERT INTO salesperf.rep (rep_id, name) VALUES
  (1, 'Ada'), (2, 'Bo'), (3, 'Cy'), (4, 'Di'), (5, 'Eve'), (6, 'Fay');
SELECT salesperf.assign(r, u, '2026-01-01')
  FROM (VALUES (1, 11), (2, 11), (3, 12), (4, 21), (5, 21), (6, 10)) AS m(r, u);

-- The funnel: each stage's win probability and forecast category.
SELECT stage, probability, category, is_won, is_closed FROM salesperf.stage ORDER BY sort_order;

-- The CRM's deals.  Won and lost deals carry their close time; open ones an
-- expected close date.  109 is expected next quarter and 111 was won last
-- quarter: neither is in this quarter's forecast.
SELECT salesperf.upsert_opportunity('crm', k, rep, amount, stage, close_date::date,
                                    opened::timestamptz, closed::timestamptz)
  FROM (VALUES
    ('101', 1::bigint, 10000::numeric, 'closed_won',     NULL,         '2026-09-01', '2026-10-20 14:00'),
    ('102', 1, 20000, 'negotiation',    '2026-12-10', '2026-09-15', NULL),
    ('103', 2,  5000, 'proposal',       '2026-11-30', '2026-10-01', NULL),
    ('104', 2,  8000, 'prospecting',    '2026-12-20', '2026-11-02', NULL),
    ('105', 3, 15000, 'closed_won',     NULL,         '2026-08-10', '2026-11-05 11:00'),
    ('106', 3,  4000, 'closed_lost',    NULL,         '2026-09-01', '2026-10-12 16:00'),
    ('107', 3, 12000, 'qualification',  '2026-12-01', '2026-10-20', NULL),
    ('108', 4, 30000, 'negotiation',    '2026-11-28', '2026-09-20', NULL),
    ('109', 4,  7000, 'proposal',       '2027-01-15', '2026-11-01', NULL),
    ('110', 5,  6000, 'needs_analysis', '2026-12-15', '2026-10-25', NULL),
    ('111', 5,  9000, 'closed_won',     NULL,         '2026-07-01', '2026-09-25 10:00'),
    ('112', 6, 10000, 'negotiation',    '2026-12-05', '2026-10-05', NULL),
    ('113', 5,  2500, 'proposal',       '2026-11-20', '2026-10-30', NULL))
    AS d(k, rep, amount, stage, close_date, opened, closed)
 ORDER BY k;
SELECT source_key, rep_id, amount, stage, expected_close, opened_at, closed_at
  FROM salesperf.opportunity ORDER BY source_key;

-- Won and lost deals are in the ledger already, keyed by the opportunity.
SELECT kind, rep_id, amount, occurred_at, source, source_key
  FROM salesperf.activity ORDER BY source_key;

-- The quarter's forecast, rolled up the tree (each unit = its whole subtree).
--   Paris:    closed 10000 (101); commit 20000 (102); best case 5000 (103);
--             pipeline 8000 (104); weighted 10000 + 0.8*20000 + 0.5*5000
--             + 0.1*8000 = 29300.
--   Berlin:   closed 15000 (105); the lost 106 is omitted; pipeline 12000
--             (107); weighted 15000 + 0.2*12000 = 17400.
--   EMEA:     Paris + Berlin + Fay's commit 10000 (112, weighted 8000).
--   New York: commit 30000 (108); best case 2500 (113); pipeline 6000 (110);
--             weighted 24000 + 1250 + 1800 = 27050.
SELECT repeat('  ', depth) || name AS unit, closed, commit, best_case, pipeline, weighted,
       commit_forecast, best_case_forecast, target, adjusted_commit
  FROM salesperf.forecast('quarter', '2026-11-15 12:00');

-- The same roll-up for November alone: only 103, 105, 108 and 113 close then.
SELECT repeat('  ', depth) || name AS unit, closed, commit, best_case, pipeline, weighted, commit_forecast
  FROM salesperf.forecast('month', '2026-11-15 12:00');

-- A snapshot of the quarter's forecast on 14 November, before any manager
-- adjusts anything.
SELECT salesperf.snapshot_forecast('quarter', '2026-11-14 12:00') AS units_stored;

-- Managers adjust.  The Paris lead calls 26000 instead of 30000: EMEA and
-- Acme follow (55000 - 4000, 85000 - 4000).
SELECT salesperf.adjust_forecast(11, '2026-10-01', 26000);
SELECT repeat('  ', depth) || name AS unit, commit_forecast, adjusted_commit
  FROM salesperf.forecast('quarter', '2026-11-15 12:00');
-- The Americas director calls 40000 and the EMEA director 50000, which
-- replaces Paris's call inside EMEA: Acme = 50000 + 40000.  New York keeps
-- its computed 30000.
SELECT salesperf.adjust_forecast(20, '2026-10-01', 40000),
       salesperf.adjust_forecast(10, '2026-10-01', 50000);
SELECT repeat('  ', depth) || name AS unit, commit_forecast, adjusted_commit
  FROM salesperf.forecast('quarter', '2026-11-15 12:00');
-- Adjusting again replaces the call: one adjustment per unit and period.
SELECT salesperf.adjust_forecast(11, '2026-10-01', 27000);
SELECT unit_id, period, period_start, commit FROM salesperf.forecast_adjustment ORDER BY unit_id;
-- Adjustments belong to their period: December's month forecast has none.
SELECT name, commit_forecast, adjusted_commit
  FROM salesperf.forecast('month', '2026-12-01') WHERE depth = 0;

-- Month by month: won so far, open deals weighted by probability, and the
-- running total.  November: won 15000 (105); weighted 0.5*5000 + 0.8*30000
-- + 0.5*2500 = 27750.  December: 16000 + 800 + 2400 + 1800 + 8000 = 29000.
-- January: 0.5*7000 = 3500 (109).  February: nothing.
SELECT * FROM salesperf.cumulative_forecast(4, '2026-11-15 12:00');

-- Snapshots: the 15 November snapshot is taken twice; the second replaces
-- the first (one per day).
SELECT salesperf.snapshot_forecast('quarter', '2026-11-15 09:00') AS units_stored;
SELECT salesperf.snapshot_forecast('quarter', '2026-11-15 12:00') AS units_stored;
SELECT snapshot_day, count(*) AS units, min(taken_at) AS taken_at
  FROM salesperf.forecast_snapshot GROUP BY snapshot_day ORDER BY snapshot_day;

-- Di wins 108 on 16 November.  The deal becomes a deal_won activity and her
-- revenue KPI follows.
SELECT salesperf.upsert_opportunity('crm', '108', 4, 30000, 'closed_won', '2026-11-28',
                                    closed_at => '2026-11-16 10:00') = opportunity_id AS same_id
  FROM salesperf.opportunity WHERE source_key = '108';
SELECT kind, rep_id, amount, occurred_at, source_key FROM salesperf.activity WHERE source_key = 'crm:108';
SELECT salesperf.kpi_value('revenue', 'rep', 4, 'month', '2026-11-16') AS di_revenue,
       salesperf.kpi_value('deals_won', 'unit', 21, 'month', '2026-11-16') AS new_york_deals;
-- The amount is corrected to 32000: the activity follows and keeps its close
-- time; opened_at stays 20 September although the call left it to now().
SELECT salesperf.upsert_opportunity('crm', '108', 4, 32000, 'closed_won', '2026-11-28') > 0 AS ok;
SELECT opened_at, closed_at FROM salesperf.opportunity WHERE source_key = '108';
SELECT kind, rep_id, amount, occurred_at FROM salesperf.activity WHERE source_key = 'crm:108';
SELECT salesperf.kpi_value('revenue', 'rep', 4, 'month', '2026-11-16') AS di_revenue;
-- Reopened: the won deal leaves the ledger and the revenue with it.
SELECT salesperf.upsert_opportunity('crm', '108', 4, 32000, 'negotiation', '2026-11-28') > 0 AS ok;
SELECT closed_at FROM salesperf.opportunity WHERE source_key = '108';
SELECT count(*) AS deal_activities FROM salesperf.activity WHERE source_key = 'crm:108';
SELECT salesperf.kpi_value('revenue', 'rep', 4, 'month', '2026-11-16') AS di_revenue;
-- Lost on 18 November: a deal_lost activity.
SELECT salesperf.upsert_opportunity('crm', '108', 4, 32000, 'closed_lost', '2026-11-28',
                                    closed_at => '2026-11-18 09:00') > 0 AS ok;
SELECT kind, rep_id, amount, occurred_at FROM salesperf.activity WHERE source_key = 'crm:108';
-- Writing the table directly behaves the same: the lost deal turns into a
-- win on 20 November (the deal_lost activity goes, a deal_won comes), then
-- passes to Eve, and the activity passes with it.
UPDATE salesperf.opportunity SET stage = 'closed_won', closed_at = '2026-11-20 09:00'
 WHERE source = 'crm' AND source_key = '108';
SELECT kind, rep_id, amount, occurred_at FROM salesperf.activity WHERE source_key = 'crm:108';
UPDATE salesperf.opportunity SET rep_id = 5 WHERE source = 'crm' AND source_key = '108';
SELECT kind, rep_id, amount, occurred_at FROM salesperf.activity WHERE source_key = 'crm:108';
SELECT salesperf.kpi_value('revenue', 'rep', 4, 'month', '2026-11-20') AS di_revenue,
       salesperf.kpi_value('revenue', 'rep', 5, 'month', '2026-11-20') AS eve_revenue,
       salesperf.kpi_value('revenue', 'unit', 21, 'quarter', '2026-11-20') AS new_york_revenue;

-- Forecast accuracy: each snapshot beside what was actually won in the
-- quarter so far (Paris 10000, Berlin 15000, New York 32000).  error_pct
-- compares the call (adjusted commit): on 15 November Paris called 27000,
-- 170% over; Acme called 90000 against 57000 won, 57.9% over.
SELECT snapshot_day, repeat('  ', t.depth) || name AS unit, period_start, commit_forecast,
       best_case_forecast, weighted, adjusted_commit, actual_won, error_pct, weighted_error_pct
  FROM salesperf.forecast_accuracy a
  JOIN salesperf.unit_tree t ON t.descendant_id = a.unit_id AND t.ancestor_id = 1
 ORDER BY snapshot_day, ARRAY(SELECT x.ancestor_id FROM salesperf.unit_tree x
                               WHERE x.descendant_id = a.unit_id ORDER BY x.depth DESC);

-- A CRM's own deals table, mirrored by track_opportunities(): existing rows
-- are backfilled, then every insert, update and delete follows.
CREATE TABLE crm_deal (
  id         integer PRIMARY KEY,
  owner_id   bigint,
  value      numeric,
  status     text,
  close_date date,
  created    timestamptz,
  won_at     timestamptz
);
INSERT INTO crm_deal VALUES
  (1, 1, 4000, 'proposal',   '2026-12-01', '2026-11-01 09:00', NULL),
  (2, 3, 6000, 'closed_won', '2026-11-10', '2026-10-01 09:00', '2026-11-10 15:00');
SELECT salesperf.track_opportunities('crm_deal', 'id', 'owner_id', 'value', 'status',
                                     'close_date', 'created', 'won_at') AS mirrored;
SELECT source, source_key, rep_id, amount, stage, expected_close, opened_at, closed_at
  FROM salesperf.opportunity WHERE source = 'public.crm_deal' ORDER BY source_key;
SELECT kind, rep_id, amount, occurred_at, source_key
  FROM salesperf.activity WHERE source_key LIKE 'public.crm_deal:%' ORDER BY source_key;

INSERT INTO crm_deal VALUES (3, 2, 9000, 'qualification', '2027-02-01', '2026-11-12 10:00', NULL);
UPDATE crm_deal SET status = 'closed_won', won_at = '2026-11-21 11:00' WHERE id = 1;
UPDATE crm_deal SET value = 6500 WHERE id = 2;
SELECT source_key, rep_id, amount, stage, closed_at
  FROM salesperf.opportunity WHERE source = 'public.crm_deal' ORDER BY source_key;
SELECT kind, rep_id, amount, occurred_at, source_key
  FROM salesperf.activity WHERE source_key LIKE 'public.crm_deal:%' ORDER BY source_key;
-- A deleted deal leaves the mirror and the ledger; a changed key moves.
DELETE FROM crm_deal WHERE id = 2;
UPDATE crm_deal SET id = 30 WHERE id = 3;
SELECT source_key, rep_id, amount, stage FROM salesperf.opportunity
 WHERE source = 'public.crm_deal' ORDER BY source_key;
SELECT kind, amount, source_key
  FROM salesperf.activity WHERE source_key LIKE 'public.crm_deal:%' ORDER BY source_key;
-- A row without an owner is not a deal yet; once assigned, it is mirrored,
-- and it leaves the mirror again if the owner is cleared.
INSERT INTO crm_deal VALUES (6, NULL, 1500, 'prospecting', '2027-01-10', '2026-11-13 09:00', NULL);
SELECT count(*) AS mirrored_6 FROM salesperf.opportunity WHERE source = 'public.crm_deal' AND source_key = '6';
UPDATE crm_deal SET owner_id = 2 WHERE id = 6;
SELECT source_key, rep_id, amount, stage FROM salesperf.opportunity
 WHERE source = 'public.crm_deal' AND source_key = '6';
UPDATE crm_deal SET owner_id = NULL WHERE id = 6;
SELECT count(*) AS mirrored_6 FROM salesperf.opportunity WHERE source = 'public.crm_deal' AND source_key = '6';
SELECT relation, source, key_column, stage_column, closed_column FROM salesperf.opportunity_source;

-- A CRM stage salesperf does not know stops the CRM's write: the mirror is
-- part of the same transaction.
\set VERBOSITY sqlstate
INSERT INTO crm_deal VALUES (4, 1, 100, 'Perception Analysis', '2026-12-01', '2026-11-12', NULL);
\set VERBOSITY default
SELECT count(*) AS crm_rows FROM crm_deal;
-- Once untracked, the table is on its own; its mirrored deals stay.
SELECT salesperf.untrack_opportunities('crm_deal') AS forgotten;
INSERT INTO crm_deal VALUES (5, 1, 100, 'prospecting', '2026-12-01', '2026-11-12', NULL);
SELECT count(*) AS mirrored FROM salesperf.opportunity WHERE source = 'public.crm_deal';
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'crm_deal'::regclass;

-- Bad input: an ERROR with a specific SQLSTATE, and nothing changes.
CREATE TABLE crm_note (id integer PRIMARY KEY, owner_id bigint, body text);
CREATE VIEW crm_deal_view AS SELECT * FROM crm_deal;
CREATE ROLE regress_pipeline_outsider;
GRANT USAGE ON SCHEMA salesperf TO regress_pipeline_outsider;
\set VERBOSITY sqlstate
-- stages
SELECT salesperf.set_stage('demo', 1.5, 'pipeline');
INSERT INTO salesperf.stage (stage, probability, category) VALUES ('demo', -0.1, 'pipeline');
SELECT salesperf.set_stage('demo', 'NaN', 'pipeline');
SELECT salesperf.set_stage('demo', 0.5, 'maybe');
SELECT salesperf.set_stage('demo', 0.5, 'pipeline', is_won => true);
SELECT salesperf.set_stage('demo', 0, 'pipeline', is_closed => true);
-- opportunities
SELECT salesperf.upsert_opportunity('crm', '900', 99, 100, 'proposal', '2026-12-01');
SELECT salesperf.upsert_opportunity('crm', '900', 1, 100, 'perception', '2026-12-01');
SELECT salesperf.upsert_opportunity('crm', NULL, 1, 100, 'proposal', '2026-12-01');
SELECT salesperf.upsert_opportunity(NULL, '900', 1, 100, 'proposal', '2026-12-01');
SELECT salesperf.upsert_opportunity('crm', '900', NULL, 100, 'proposal', '2026-12-01');
SELECT salesperf.upsert_opportunity('crm', '900', 1, 100, NULL, '2026-12-01');
SELECT salesperf.upsert_opportunity('crm', '900', 1, -1, 'proposal', '2026-12-01');
SELECT salesperf.upsert_opportunity('crm', '900', 1, 'NaN', 'proposal', '2026-12-01');
SELECT salesperf.upsert_opportunity('crm', '900', 1, 'Infinity', 'proposal', '2026-12-01');
SELECT salesperf.upsert_opportunity('crm', '900', 1, 100, 'closed_won', NULL,
                                    '2026-11-10', '2026-11-01');
SELECT salesperf.upsert_opportunity('crm:eu', '900', 1, 100, 'proposal', '2026-12-01');
UPDATE salesperf.opportunity SET amount = -5 WHERE source_key = '101';
-- adjustments
SELECT salesperf.adjust_forecast(99, '2026-10-01', 1000);
SELECT salesperf.adjust_forecast(11, '2026-10-01', NULL);
SELECT salesperf.adjust_forecast(11, '2026-10-01', -1);
SELECT salesperf.adjust_forecast(11, '2026-10-01', 'Infinity');
SELECT salesperf.adjust_forecast(11, '2026-10-15', 1000);
SELECT salesperf.adjust_forecast(11, '2026-10-01', 1000, 'fortnight');
-- forecasts
SELECT * FROM salesperf.forecast('fortnight', '2026-11-15');
SELECT * FROM salesperf.forecast(NULL);
SELECT * FROM salesperf.cumulative_forecast(0);
SELECT * FROM salesperf.cumulative_forecast(-3);
SELECT * FROM salesperf.cumulative_forecast(NULL);
-- tracking
SELECT salesperf.track_opportunities('crm_deal', 'id', 'owner_id', 'value', 'status', 'no_such_column');
SELECT salesperf.track_opportunities('crm_deal', 'owner_id', 'owner_id', 'value', 'status');
SELECT salesperf.track_opportunities('crm_deal', 'id', 'created', 'value', 'status');
SELECT salesperf.track_opportunities('crm_deal_view', 'id', 'owner_id', 'value', 'status');
SELECT salesperf.track_opportunities('salesperf.opportunity', 'opportunity_id', 'rep_id', 'amount', 'stage');
SELECT salesperf.track_opportunities('crm_deal', 'id', NULL, 'value', 'status');
SELECT salesperf.untrack_opportunities('crm_note');
SET ROLE regress_pipeline_outsider;
SELECT salesperf.track_opportunities('crm_deal', 'id', 'owner_id', 'value', 'status');
RESET ROLE;
\set VERBOSITY default
SELECT count(*) AS opportunities, sum(amount) AS amount FROM salesperf.opportunity;
SELECT count(*) AS stages FROM salesperf.stage;
SELECT unit_id, commit FROM salesperf.forecast_adjustment ORDER BY unit_id;
SELECT count(*) AS tracked FROM salesperf.opportunity_source;

DROP VIEW crm_deal_view;
DROP TABLE crm_deal, crm_note;
REVOKE USAGE ON SCHEMA salesperf FROM regress_pipeline_outsider;
DROP ROLE regress_pipeline_outsider;

-- Leave the default settings for the files that follow.
DROP EXTENSION salesperf;
CREATE EXTENSION salesperf;
