-- Bad input, across the public API and the tables users write: every case
-- raises its specific SQLSTATE (SPEC §13) and leaves every salesperf table
-- exactly as it was (row count and checksum of every table, before and
-- after each case).  Some cases end in a statement that succeeds after the
-- bad one inside the same call: the whole call must still fail.
BEGIN;
SET LOCAL client_min_messages = warning;
SET LOCAL timezone = 'UTC';

-- A small company with something of every kind.
SELECT salesperf.configure(time_zone => 'Europe/Paris');
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES
  (1, NULL, 'Acme', 'company'), (11, 1, 'North', 'team'), (12, 1, 'South', 'team');
INSERT INTO salesperf.rep (rep_id, name) VALUES (1, 'Ada'), (2, 'Bo'), (3, 'Cy');
SELECT salesperf.assign(r, 11 + r % 2, '2025-01-01') FROM generate_series(1, 3) r;
INSERT INTO salesperf.point_rule (name, kind, points, points_per_amount, daily_cap)
VALUES ('call', 'call', 1, 0, NULL), ('email', 'email', 0.5, 0, 5);
SELECT salesperf.create_leaderboard('points month');
SELECT salesperf.record(r, 'call', 60, '2025-06-02 10:00+00') FROM generate_series(1, 3) r;
SELECT salesperf.set_target('revenue', 'rep', 1, 'month', '2025-06-01', 1000);
INSERT INTO salesperf.reward (name, kind, value) VALUES ('Lunch', 'gift', 40);
SELECT salesperf.create_contest('June sprint', 'points', '2025-06-01', '2025-07-01');
INSERT INTO salesperf.commission_plan (name, basis_kpi, period, kind, breakpoints, rates)
VALUES ('Flat', 'revenue', 'month', 'rate', '{0}', '{0.05}');
SELECT salesperf.assign_plan(1, 'Flat', '2025-01-01');
CREATE TABLE public.crm_calls (id bigint PRIMARY KEY, rep bigint, at timestamptz, seconds integer, status text);

-- Every table of salesperf, rows and checksum, in one text.
CREATE FUNCTION pg_temp.state() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    t   record;
    acc text := '';
    one text;
BEGIN
    FOR t IN SELECT c.relname FROM pg_class c
              WHERE c.relnamespace = 'salesperf'::regnamespace AND c.relkind = 'r' ORDER BY c.relname LOOP
        EXECUTE format('SELECT count(*) || '':'' || coalesce(md5(string_agg(x::text, ''|'' ORDER BY x::text)), '''')
                          FROM salesperf.%I x', t.relname) INTO one;
        acc := acc || t.relname || '=' || one || ';';
    END LOOP;
    RETURN acc;
END
$$;

CREATE TEMP TABLE cases (n serial, what text, stmt text, sqlstate text);
INSERT INTO cases (what, stmt, sqlstate) VALUES
-- ledger: record() and direct writes
('record: NULL rep', $$SELECT salesperf.record(NULL, 'call')$$, '22004'),
('record: unknown rep', $$SELECT salesperf.record(99, 'call')$$, '42704'),
('record: unknown kind', $$SELECT salesperf.record(1, 'telepathy')$$, '42704'),
('record: empty kind', $$SELECT salesperf.record(1, '')$$, '42704'),
('record: NaN amount', $$SELECT salesperf.record(1, 'call', 'NaN')$$, '22003'),
('record: infinite amount', $$SELECT salesperf.record(1, 'deal_won', 'Infinity')$$, '22003'),
('record: negative amount', $$SELECT salesperf.record(1, 'deal_won', -5)$$, '22003'),
('record: infinite moment', $$SELECT salesperf.record(1, 'call', 1, 'infinity')$$, '22008'),
('record: NULL moment', $$SELECT salesperf.record(1, 'call', 1, NULL)$$, '22004'),
('ledger INSERT: unknown rep in a bulk statement', $$INSERT INTO salesperf.activity (rep_id, kind, occurred_at) VALUES (1, 'call', now()), (77, 'call', now())$$, '42704'),
('ledger INSERT: unknown kind in a bulk statement', $$INSERT INTO salesperf.activity (rep_id, kind, occurred_at) VALUES (1, 'call', now()), (2, 'smoke_signal', now())$$, '42704'),
('ledger INSERT: negative amount in a bulk statement', $$INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at) VALUES (1, 'call', 5, now()), (2, 'deal_won', -1, now())$$, '22003'),
('ledger INSERT: NaN amount in a bulk statement', $$INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at) VALUES (1, 'call', 5, now()), (2, 'deal_won', 'NaN', now())$$, '22003'),
('ledger INSERT: infinite occurred_at in a bulk statement', $$INSERT INTO salesperf.activity (rep_id, kind, occurred_at) VALUES (1, 'call', now()), (2, 'call', 'infinity')$$, '22008'),
('ledger INSERT: injection-looking kind', $$INSERT INTO salesperf.activity (rep_id, kind, occurred_at) VALUES (1, 'call''); DROP TABLE salesperf.rep; --', now())$$, '42704'),
('ledger UPDATE: to an unknown rep', $$UPDATE salesperf.activity SET rep_id = 404 WHERE rep_id = 1$$, '42704'),
-- organisation
('assign: NULL unit', $$SELECT salesperf.assign(1, NULL)$$, '22004'),
('assign: unknown unit', $$SELECT salesperf.assign(1, 999)$$, '42704'),
('assign: unknown rep', $$SELECT salesperf.assign(999, 11)$$, '42704'),
('assign: infinite since', $$SELECT salesperf.assign(1, 12, '-infinity')$$, '22008'),
('assign: before a later membership', $$SELECT salesperf.assign(1, 12, '2024-01-01')$$, '23P01'),
('membership INSERT overlapping', $$INSERT INTO salesperf.membership (rep_id, unit_id, during) VALUES (1, 12, tstzrange('2025-03-01', '2025-04-01'))$$, '23P01'),
('unit: a cycle', $$UPDATE salesperf.unit SET parent_id = 11 WHERE unit_id = 1$$, '22023'),
('unit: its own parent', $$UPDATE salesperf.unit SET parent_id = 12 WHERE unit_id = 12$$, '22023'),
('unit: empty kind', $$INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES (50, 1, 'X', '')$$, '23514'),
-- calendar
('configure: unknown time zone', $$SELECT salesperf.configure(time_zone => 'Mars/Olympus')$$, '22023'),
('configure: week start 8', $$SELECT salesperf.configure(week_start => 8)$$, '22023'),
('configure: fiscal month 13', $$SELECT salesperf.configure(fiscal_year_start_month => 13)$$, '22023'),
('configure: unknown calendar', $$SELECT salesperf.configure(calendar => '4-4-4')$$, '22023'),
('configure: currency not ISO', $$SELECT salesperf.configure(currency => 'euro')$$, '22023'),
('configure: currency scale 9', $$SELECT salesperf.configure(currency_scale => 9)$$, '22023'),
('configuration written directly: bad zone', $$UPDATE salesperf.configuration SET time_zone = 'Nowhere/Land'$$, '22023'),
('period_start: unknown period', $$SELECT salesperf.period_start(now(), 'fortnight')$$, '22023'),
-- KPIs and points
('define_kpi: unknown kind', $$SELECT salesperf.define_kpi('x', 'telepathy')$$, '42704'),
('define_kpi: empty name', $$SELECT salesperf.define_kpi('', 'call')$$, '22023'),
('kpi: renamed', $$UPDATE salesperf.kpi SET name = 'revenue2' WHERE name = 'revenue'$$, '22023'),
('kpi_value: unknown KPI', $$SELECT salesperf.kpi_value('nope', 'rep', 1, 'month')$$, '42704'),
('kpi_value: unknown scope', $$SELECT salesperf.kpi_value('calls', 'planet', 1, 'month')$$, '22023'),
('kpi_value: NULL period', $$SELECT salesperf.kpi_value('calls', 'rep', 1, NULL)$$, '22004'),
('kpi_value: unknown unit', $$SELECT salesperf.kpi_value('calls', 'unit', 404, 'month')$$, '42704'),
('point_rule: negative cap', $$INSERT INTO salesperf.point_rule (name, kind, points, points_per_amount, daily_cap) VALUES ('x', 'call', 1, 0, -1)$$, '22003'),
('point_rule: unknown kind', $$INSERT INTO salesperf.point_rule (name, kind, points, points_per_amount, daily_cap) VALUES ('x', 'telepathy', 1, 0, NULL)$$, '42704'),
('point_rule: NaN points', $$UPDATE salesperf.point_rule SET points = 'NaN' WHERE name = 'call'$$, '22003'),
('point_rule: a capped rule with negative points', $$UPDATE salesperf.point_rule SET points = -1 WHERE name = 'email'$$, '22003'),
('kpi_score: negative target', $$SELECT salesperf.kpi_score(v, -1, 1) FROM (VALUES (1::numeric)) x(v)$$, '22003'),
('kpi_score: cap not above zero', $$SELECT salesperf.kpi_score(v, 1, 1, 0) FROM (VALUES (1::numeric)) x(v)$$, '22003'),
-- leaderboards
('create_leaderboard: empty name', $$SELECT salesperf.create_leaderboard('')$$, '22023'),
('create_leaderboard: unknown metric', $$SELECT salesperf.create_leaderboard('x', 'telepathy')$$, '42704'),
('create_leaderboard: unknown period', $$SELECT salesperf.create_leaderboard('x', 'points', 'rep', 'fortnight')$$, '22023'),
('create_leaderboard: unit kind with no unit', $$SELECT salesperf.create_leaderboard('x', 'points', 'unit', 'month', NULL, 'tribe')$$, '22023'),
('leaderboard_top: unknown board', $$SELECT * FROM salesperf.leaderboard_top('nope')$$, '42704'),
('leaderboard_top: negative n', $$SELECT * FROM salesperf.leaderboard_top('points month', -1)$$, '22023'),
('leaderboard_rank: unknown board', $$SELECT * FROM salesperf.leaderboard_rank('nope', 1)$$, '42704'),
-- targets and reports
('set_target: negative value', $$SELECT salesperf.set_target('revenue', 'rep', 1, 'month', now(), -1)$$, '22003'),
('set_target: NaN value', $$SELECT salesperf.set_target('revenue', 'rep', 1, 'month', now(), 'NaN')$$, '22003'),
('set_target: unknown scope', $$SELECT salesperf.set_target('revenue', 'galaxy', 1, 'month', now(), 1)$$, '22023'),
('set_target: unknown KPI', $$SELECT salesperf.set_target('nope', 'rep', 1, 'month', now(), 1)$$, '42704'),
('set_target: unknown rep', $$SELECT salesperf.set_target('revenue', 'rep', 404, 'month', now(), 1)$$, '42704'),
('target_progress_at: NULL moment', $$SELECT * FROM salesperf.target_progress_at(NULL)$$, '22004'),
('target_progress_at: infinite moment', $$SELECT * FROM salesperf.target_progress_at('infinity')$$, '22008'),
('target INSERT: negative value', $$INSERT INTO salesperf.target (kpi, scope, scope_id, period, period_start, value) VALUES ('revenue', 'rep', 2, 'month', now(), -3)$$, '22003'),
-- contests, badges, rewards
('create_contest: ends before it starts', $$SELECT salesperf.create_contest('x', 'points', '2025-07-01', '2025-06-01')$$, '22023'),
('create_contest: unknown metric', $$SELECT salesperf.create_contest('x', 'telepathy', '2025-06-01', '2025-07-01')$$, '42704'),
('contest_standings: unknown contest', $$SELECT * FROM salesperf.contest_standings('nope')$$, '42704'),
('grant_reward: unknown reward', $$SELECT salesperf.grant_reward('Yacht', 1)$$, '42704'),
('set_grant_status: unknown grant', $$SELECT salesperf.set_grant_status(-1, 'approved')$$, '42704'),
('reward: unknown kind', $$INSERT INTO salesperf.reward (name, kind, value) VALUES ('x', 'island', 1)$$, '23514'),
('badge_rule: unknown badge', $$INSERT INTO salesperf.badge_rule (badge, metric, threshold, period) VALUES ('nope', 'calls', 5, 'day')$$, '42704'),
-- pipeline
('upsert_opportunity: unknown stage', $$SELECT salesperf.upsert_opportunity('crm', 'o1', 1, 100, 'dreaming', NULL)$$, '42704'),
('upsert_opportunity: negative amount', $$SELECT salesperf.upsert_opportunity('crm', 'o1', 1, -100, 'proposal', NULL)$$, '22003'),
('upsert_opportunity: unknown rep', $$SELECT salesperf.upsert_opportunity('crm', 'o1', 404, 100, 'proposal', NULL)$$, '42704'),
('set_stage: probability above 1', $$SELECT salesperf.set_stage('x', 1.5, 'pipeline')$$, '22003'),
('forecast_quantiles: probability above 1', $$SELECT salesperf.forecast_quantiles('d', 100, 1.5)$$, '22003'),
('forecast_quantiles: quantile outside 0-1', $$SELECT salesperf.forecast_quantiles('d', 100, 0.5, '{1.5}')$$, '22003'),
('weighted_pipeline: negative amount', $$SELECT salesperf.weighted_pipeline(-1, 0.5)$$, '22003'),
('adjust_forecast: unknown unit', $$SELECT salesperf.adjust_forecast(404, now(), 10)$$, '42704'),
-- tracking CRM tables
('track: unsafe condition', $$SELECT salesperf.track('public.crm_calls', 'call', 'rep', 'at', 'seconds', condition => 'status = ''done''; DROP TABLE salesperf.rep')$$, '42601'),
('track: a function call in the condition', $$SELECT salesperf.track('public.crm_calls', 'call', 'rep', 'at', 'seconds', condition => 'pg_sleep(1) IS NULL')$$, '42601'),
('track: unknown column', $$SELECT salesperf.track('public.crm_calls', 'call', 'owner', 'at')$$, '42703'),
('track: unknown kind', $$SELECT salesperf.track('public.crm_calls', 'telepathy', 'rep', 'at')$$, '42704'),
-- commission
('tiered_commission: arrays of different lengths', $$SELECT salesperf.tiered_commission(100, '{0,10}', '{0.1}')$$, '22023'),
('tiered_commission: empty arrays', $$SELECT salesperf.tiered_commission(100, '{}', '{}')$$, '22023'),
('tiered_commission: first breakpoint not 0', $$SELECT salesperf.tiered_commission(100, '{5}', '{0.1}')$$, '22023'),
('tiered_commission: NaN amount', $$SELECT salesperf.tiered_commission('NaN', '{0}', '{0.1}')$$, '22003'),
('payout_curve: xs not ascending', $$SELECT salesperf.payout_curve(1, '{1,1}', '{0,1}')$$, '22023'),
('payout_curve: NULL xs', $$SELECT salesperf.payout_curve(1, NULL, '{0,1}')$$, '22004'),
('commission_plan: weights not summing to 1', $$INSERT INTO salesperf.commission_plan (name, basis_kpi, period, kind, target_incentive, individual_weight, team_weight, curve_x, curve_y) VALUES ('W', 'revenue', 'month', 'quota', 100, 0.5, 0.6, '{0,1}', '{0,1}')$$, '22023'),
('commission_plan: unknown KPI', $$INSERT INTO salesperf.commission_plan (name, basis_kpi, period, kind, breakpoints, rates) VALUES ('K', 'nope', 'month', 'rate', '{0}', '{0.1}')$$, '42704'),
('assign_plan: unknown plan', $$SELECT salesperf.assign_plan(2, 'nope')$$, '42704'),
('assign_plan: before a later assignment', $$SELECT salesperf.assign_plan(1, NULL, '2024-01-01')$$, '23P01'),
('close_commission_period: not ended', $$SELECT salesperf.close_commission_period('2099-01-01')$$, '22023'),
('commission_statement: unknown period', $$SELECT * FROM salesperf.commission_statement('fortnight', now())$$, '22023'),
-- access
('grant_access: unknown level', $$SELECT salesperf.grant_access('postgres', 'emperor')$$, '22023'),
('grant_access: unknown role', $$SELECT salesperf.grant_access('nobody_here', 'reader')$$, '42704');

SELECT plan(2 * (SELECT count(*)::integer FROM cases) + 1);
SELECT pg_temp.state() AS before \gset
SELECT ok((SELECT count(*) FROM cases) >= 60, 'at least 60 bad inputs are tried');
SELECT collect_tap(
         throws_ok(c.stmt, c.sqlstate, NULL, c.n || '. ' || c.what || ': ' || c.sqlstate),
         is(pg_temp.state(), :'before', c.n || '. ' || c.what || ': every table unchanged'))
  FROM cases c ORDER BY c.n;

SELECT * FROM finish();
ROLLBACK;
