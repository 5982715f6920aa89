-- Reports: bad input to kpi_report_at(), scoreboard_at() and sparkline();
-- kpi_report values and trends equal to kpi_value over the same spans, and
-- the scoreboard equal to kpi_value by day, week and month.  A random ledger
-- (fixed seed) in New York time, across the March clock change, with a rep
-- who changes teams, an inactive rep and a capped rule.
BEGIN;
SELECT plan(40);

SELECT salesperf.configure(time_zone => 'America/New_York', currency_scale => 2);
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES
  (1, NULL, 'Co', 'company'), (10, 1, 'North', 'region'), (11, 10, 'N1', 'team'), (12, 10, 'N2', 'team'),
  (20, 1, 'South', 'region'), (21, 20, 'S1', 'team');
INSERT INTO salesperf.rep (rep_id, name, active) VALUES
  (1, 'Ada', true), (2, 'Bo', true), (3, 'Cy', true), (4, 'Di', true), (5, 'Ed', true), (6, 'Fay', false);
SELECT salesperf.assign(1, 11, '2025-10-01'), salesperf.assign(2, 12, '2025-10-01'),
       salesperf.assign(3, 21, '2025-10-01'), salesperf.assign(4, 21, '2025-10-01'),
       salesperf.assign(5, 11, '2025-10-01'), salesperf.assign(6, 12, '2025-10-01');
SELECT salesperf.assign(5, 21, '2026-03-18 09:30-04');     -- Ed moves south mid-month
INSERT INTO salesperf.point_rule (name, kind, points, points_per_amount, daily_cap) VALUES
  ('call', 'call', 1, 0, NULL), ('deal', 'deal_won', 10, 0.01, NULL), ('email', 'email', 1, 0, 3),
  ('visit', 'visit', 4, 0, NULL);

SELECT setseed(0.4242);
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at)
SELECT 1 + (random() * 5.999)::int % 6,
       k.kind,
       CASE k.kind WHEN 'call' THEN (30 + random() * 600)::int
                   WHEN 'deal_won' THEN round((100 + random() * 5000)::numeric, 3)
                   ELSE 1 END,
       '2025-10-01 00:00-04'::timestamptz + random() * interval '273 days'
  FROM generate_series(1, 3000) g
 CROSS JOIN LATERAL (SELECT (ARRAY['lead_created', 'lead_created', 'lead_converted', 'call', 'call', 'call',
                                   'email', 'email', 'visit', 'deal_won'])[1 + (random() * 9.999)::int % 10 + 0 * g]
                            AS kind) k;

-- ---------------------------------------------------------------------------
-- Bad input.
SELECT throws_ok($$SELECT * FROM salesperf.kpi_report_at(NULL)$$, '22004', NULL, 'kpi_report_at(NULL) is 22004');
SELECT throws_ok($$SELECT * FROM salesperf.scoreboard_at(NULL)$$, '22004', NULL, 'scoreboard_at(NULL) is 22004');
SELECT throws_ok($$SELECT * FROM salesperf.kpi_report_at(now(), kpi => 'nope')$$,
                 '42704', 'unknown KPI "nope"', 'unknown KPI filter: 42704, named');
SELECT throws_ok($$SELECT * FROM salesperf.kpi_report_at(now(), scope => 'team')$$,
                 '22023', 'unknown scope "team"', 'unknown scope filter: 22023, named');
SELECT throws_ok($$SELECT * FROM salesperf.kpi_report_at(now(), period => 'decade')$$,
                 '22023', 'period "decade" has no previous period to compare with', 'unknown period filter: 22023, named');
SELECT throws_ok($$SELECT * FROM salesperf.kpi_report_at(now(), period => 'all')$$,
                 '22023', 'period "all" has no previous period to compare with', 'period all has nothing to compare with');
SELECT throws_ok($$SELECT * FROM salesperf.kpi_report_at(now(), scope_id => 11)$$,
                 '22023', 'scope_id 11 needs a scope', 'a scope_id without a scope is ambiguous');
SELECT throws_ok($$SELECT * FROM salesperf.kpi_report_at(now(), scope => 'unit', scope_id => 99)$$,
                 '42704', 'unknown unit 99', 'unknown unit: 42704, named');
SELECT throws_ok($$SELECT * FROM salesperf.kpi_report_at(now(), scope => 'rep', scope_id => 99)$$,
                 '42704', 'unknown rep 99', 'unknown rep: 42704, named');
SELECT throws_ok($$SELECT salesperf.sparkline('{1,NaN}')$$, '22003', 'sparkline() cannot draw NaN at position 2',
                 'sparkline refuses NaN, with its position');
SELECT throws_ok($$SELECT salesperf.sparkline('{-Infinity}')$$, '22003', NULL, 'sparkline refuses -Infinity');
SELECT throws_ok($$SELECT salesperf.sparkline('{{1},{2}}')$$, '22023', NULL, 'sparkline refuses two dimensions');
SELECT is(salesperf.sparkline('{}'), '', 'an empty array draws nothing');
SELECT is(salesperf.sparkline(NULL), NULL, 'a NULL array is NULL');
SELECT is(salesperf.sparkline('{NULL,NULL}'), '  ', 'NULL elements are spaces');
SELECT is(salesperf.sparkline('{-1e308,1e308,0}'), '▁█▅', 'the widest range still scales');

-- ---------------------------------------------------------------------------
-- Which rows.
SELECT is((SELECT count(*) FROM salesperf.kpi_report_at('2026-03-15 12:00-04')),
          (SELECT count(*) FROM salesperf.kpi) * (3 * (1 + 6) + 5),
          'default report: every KPI for the company and 6 units by week, month and quarter, and 5 active reps by month');
SELECT is((SELECT count(*) FROM salesperf.kpi_report_at('2026-03-15 12:00-04', scope => 'rep', scope_id => 6)),
          (SELECT count(*) FROM salesperf.kpi),
          'an inactive rep asked for by id is reported');
SELECT is((SELECT count(*) FROM salesperf.kpi_report_at('2026-03-15 12:00-04', scope => 'rep', period => 'week')),
          (SELECT count(*) FROM salesperf.kpi) * 5, 'a period asked for applies to reps too');
SELECT is((SELECT array_agg(DISTINCT period ORDER BY period)
             FROM salesperf.kpi_report_at('2026-03-15 12:00-04', kpi => 'calls', scope => 'company')),
          ARRAY['month', 'quarter', 'week'], 'kpi and scope filters');
SELECT is((SELECT count(*) FROM salesperf.kpi_report), (SELECT count(*) FROM salesperf.kpi_report_at(now())),
          'the kpi_report view is the function at now()');

-- ---------------------------------------------------------------------------
-- At the last day of a period, value is kpi_value over that period.  Where
-- the previous period is no longer than the current one (a week after a
-- week, March after February, the second quarter after the first), the
-- like-for-like base is the whole previous period: kpi_value again.
CREATE TEMP TABLE ends (period text, at timestamptz, prev_at timestamptz) ON COMMIT DROP;
INSERT INTO ends VALUES
  ('week', '2026-03-08 23:30-04', '2026-03-01 12:00-05'),     -- the Sunday of the clock change
  ('week', '2026-05-17 18:00-04', '2026-05-10 12:00-04'),
  ('month', '2026-03-31 20:00-04', '2026-02-15 12:00-05'),
  ('quarter', '2026-06-30 23:59-04', '2026-02-15 12:00-05');
CREATE TEMP TABLE scopes (scope text, scope_id bigint) ON COMMIT DROP;
INSERT INTO scopes VALUES ('company', NULL), ('unit', 1), ('unit', 10), ('unit', 11), ('unit', 12), ('unit', 20),
  ('unit', 21), ('rep', 1), ('rep', 2), ('rep', 3), ('rep', 4), ('rep', 5), ('rep', 6);

SELECT is_empty($$
  SELECT e.period, s.scope, s.scope_id, r.kpi, r.value, salesperf.kpi_value(r.kpi, s.scope, s.scope_id, e.period, e.at)
    FROM ends e CROSS JOIN scopes s
   CROSS JOIN LATERAL salesperf.kpi_report_at(e.at, scope => s.scope, scope_id => s.scope_id, period => e.period) r
   WHERE r.value IS DISTINCT FROM salesperf.kpi_value(r.kpi, s.scope, s.scope_id, e.period, e.at)$$,
  'value = kpi_value over the whole period, at its last day, for every KPI (ratios too) and scope');
SELECT is_empty($$
  SELECT e.period, s.scope, s.scope_id, r.kpi, r.previous_value,
         salesperf.kpi_value(r.kpi, s.scope, s.scope_id, e.period, e.prev_at)
    FROM ends e CROSS JOIN scopes s
   CROSS JOIN LATERAL salesperf.kpi_report_at(e.at, scope => s.scope, scope_id => s.scope_id, period => e.period) r
   WHERE r.previous_value IS DISTINCT FROM salesperf.kpi_value(r.kpi, s.scope, s.scope_id, e.period, e.prev_at)$$,
  'previous_value = kpi_value over the whole previous period when it is no longer');
SELECT ok((SELECT count(*) FROM ends e CROSS JOIN scopes s
            CROSS JOIN LATERAL salesperf.kpi_report_at(e.at, scope => s.scope, scope_id => s.scope_id,
                                                       period => e.period) r
            WHERE r.value > 0 AND r.previous_value > 0) > 100,
          'the comparisons above are not vacuous');
SELECT is_empty($$
  SELECT e.period, s.scope, s.scope_id, r.kpi, r.growth_pct
    FROM ends e CROSS JOIN scopes s
   CROSS JOIN LATERAL salesperf.kpi_report_at(e.at, scope => s.scope, scope_id => s.scope_id, period => e.period) r
   WHERE r.growth_pct IS DISTINCT FROM
         round((r.value - r.previous_value) / NULLIF(abs(r.previous_value), 0) * 100, 2)$$,
  'growth_pct = (value - previous) / |previous| x 100, NULL on a zero base');

-- Weeks are always seven days: the trend of a week ending on Sunday is
-- kpi_value of each of the last eight weeks.
SELECT is_empty($$
  SELECT s.scope, s.scope_id, r.kpi, r.trend
    FROM scopes s
   CROSS JOIN LATERAL salesperf.kpi_report_at('2026-05-17 18:00-04', scope => s.scope, scope_id => s.scope_id,
                                              period => 'week') r
   WHERE r.trend IS DISTINCT FROM salesperf.sparkline(ARRAY(
           SELECT salesperf.kpi_value(r.kpi, s.scope, s.scope_id, 'week',
                                      '2026-05-17 18:00-04'::timestamptz - i * interval '7 days')::float8
             FROM generate_series(7, 0, -1) i))$$,
  'trend = sparkline of kpi_value over the last 8 weeks');
SELECT ok((SELECT count(DISTINCT r.trend) FROM salesperf.kpi_report_at('2026-05-17 18:00-04', period => 'week') r) > 10,
          'the trends compared differ from one another');

-- In the middle of a period, value and previous_value are sums of daily
-- kpi_value over the same number of first days (count, sum and points KPIs;
-- ratios are not sums of days).  15 March, New York: 15 days of March
-- against 1-15 February; 12 April: 12 days of the second quarter against
-- 1-12 January; Wednesday 11 March: Monday-Wednesday of two weeks, across the
-- clock change of Sunday 8 March.
CREATE TEMP TABLE mids (period text, at timestamptz, first_day date, days int, prev_first date) ON COMMIT DROP;
INSERT INTO mids VALUES ('month', '2026-03-15 23:50-04', '2026-03-01', 15, '2026-02-01'),
                        ('quarter', '2026-04-12 00:10-04', '2026-04-01', 12, '2026-01-01'),
                        ('week', '2026-03-11 12:00-04', '2026-03-09', 3, '2026-03-02');
CREATE TEMP VIEW by_days AS
SELECT m.period, s.scope, s.scope_id, k.name AS kpi,
       (SELECT sum(salesperf.kpi_value(k.name, s.scope, s.scope_id, 'day', (m.first_day + i) + time '12:00'))
          FROM generate_series(0, m.days - 1) i) AS value,
       (SELECT sum(salesperf.kpi_value(k.name, s.scope, s.scope_id, 'day', (m.prev_first + i) + time '12:00'))
          FROM generate_series(0, m.days - 1) i) AS previous_value
  FROM mids m CROSS JOIN scopes s CROSS JOIN salesperf.kpi k
 WHERE k.den_measure IS NULL
   AND (s.scope = 'company'
        OR (s.scope, s.scope_id) IN (('unit', 10), ('unit', 11), ('unit', 21), ('rep', 1), ('rep', 5), ('rep', 6)));
SET LOCAL timezone = 'America/New_York';     -- date + time above is a New York noon
SELECT is_empty($$
  SELECT b.*, r.value, r.previous_value
    FROM by_days b
    JOIN mids m USING (period)
   CROSS JOIN LATERAL salesperf.kpi_report_at(m.at, kpi => b.kpi, scope => b.scope, scope_id => b.scope_id,
                                              period => b.period) r
   WHERE (r.value, r.previous_value) IS DISTINCT FROM (b.value, b.previous_value)$$,
  'mid-period: value and previous_value = daily kpi_value summed over the same first days');
SELECT ok((SELECT count(*) FROM by_days WHERE value > 0 AND previous_value > 0 AND value <> previous_value) > 50,
          'the mid-period comparison is not vacuous');
RESET timezone;

-- A 31-day month after a 28-day one: from the 29th on, all of February.
SELECT is((SELECT r.previous_value FROM salesperf.kpi_report_at('2026-03-30 12:00-04', kpi => 'calls',
                                                                scope => 'company', period => 'month') r),
          salesperf.kpi_value('calls', 'company', NULL, 'month', '2026-02-10'),
          'day 30 of March compares with the whole of February');
SELECT ok((SELECT r.previous_value FROM salesperf.kpi_report_at('2026-03-28 12:00-04', kpi => 'calls',
                                                                scope => 'company', period => 'month') r)
          <= salesperf.kpi_value('calls', 'company', NULL, 'month', '2026-02-10'),
          'day 28 of March compares with 28 days of February');

-- ---------------------------------------------------------------------------
-- The scoreboard: day, week and month are kpi_value's periods.
CREATE TEMP TABLE moments (at timestamptz) ON COMMIT DROP;
INSERT INTO moments VALUES ('2026-03-08 12:00-04'), ('2026-03-18 10:00-04'), ('2026-05-31 23:30-04');
SELECT is_empty($$
  SELECT m.at, b.rep_id, p.period, b.leads_today, b.calls_week
    FROM moments m
   CROSS JOIN LATERAL salesperf.scoreboard_at(m.at) b
   CROSS JOIN LATERAL (VALUES
       ('day', b.leads_today, b.conversions_today, b.revenue_today, b.calls_today, b.call_minutes_today,
        b.emails_today, b.visits_today, b.points_today),
       ('week', b.leads_week, b.conversions_week, b.revenue_week, b.calls_week, b.call_minutes_week,
        b.emails_week, b.visits_week, b.points_week),
       ('month', b.leads_month, b.conversions_month, b.revenue_month, b.calls_month, b.call_minutes_month,
        b.emails_month, b.visits_month, b.points_month))
       AS p(period, leads, conversions, revenue, calls, call_minutes, emails, visits, points)
   WHERE (p.leads, p.conversions, p.revenue, p.calls, p.call_minutes, p.emails, p.visits, p.points)
         IS DISTINCT FROM
         (salesperf.kpi_value('leads_generated', 'rep', b.rep_id, p.period, m.at),
          salesperf.kpi_value('leads_converted', 'rep', b.rep_id, p.period, m.at),
          round(salesperf.kpi_value('revenue', 'rep', b.rep_id, p.period, m.at), 2),
          salesperf.kpi_value('calls', 'rep', b.rep_id, p.period, m.at),
          round(salesperf.kpi_value('call_seconds', 'rep', b.rep_id, p.period, m.at) / 60, 1),
          salesperf.kpi_value('emails', 'rep', b.rep_id, p.period, m.at),
          salesperf.kpi_value('visits', 'rep', b.rep_id, p.period, m.at),
          salesperf.kpi_value('points', 'rep', b.rep_id, p.period, m.at))$$,
  'scoreboard = kpi_value by day, week and month for every column');
SELECT is_empty($$
  SELECT m.at, b.rep_id, b.points_trend
    FROM moments m
   CROSS JOIN LATERAL salesperf.scoreboard_at(m.at) b
   WHERE b.points_trend IS DISTINCT FROM salesperf.sparkline(ARRAY(
           SELECT salesperf.kpi_value('points', 'rep', b.rep_id, 'day', m.at - i * interval '1 day')::float8
             FROM generate_series(13, 0, -1) i))$$,
  'points_trend = sparkline of daily points over the last 14 days');
SELECT ok((SELECT count(*) FROM moments m CROSS JOIN LATERAL salesperf.scoreboard_at(m.at) b
            WHERE b.calls_week > 0 AND b.points_month > 0 AND b.revenue_month > 0) >= 10,
          'the scoreboard comparison is not vacuous');
SELECT is((SELECT array_agg(b.rep_id ORDER BY b.rep_id) FROM salesperf.scoreboard_at('2026-03-18 10:00-04') b),
          ARRAY[1, 2, 3, 4, 5]::bigint[], 'one row per active rep');
SELECT is((SELECT b.unit_id FROM salesperf.scoreboard_at('2026-03-18 10:00-04') b WHERE b.rep_id = 5), 21::bigint,
          'a rep''s unit at the moment (moved at 09:30)');
SELECT is((SELECT b.unit_id FROM salesperf.scoreboard_at('2026-03-18 09:00-04') b WHERE b.rep_id = 5), 11::bigint,
          'a rep''s unit before the move');
SELECT is((SELECT count(*) FROM salesperf.scoreboard), 5::bigint, 'the scoreboard view lists the active reps');

-- A deleted KPI leaves its column NULL rather than a false 0.
DELETE FROM salesperf.kpi WHERE name = 'visits';
SELECT is((SELECT count(*) FROM salesperf.scoreboard_at('2026-03-18 10:00-04') b
            WHERE b.visits_month IS NULL AND b.calls_month IS NOT NULL), 5::bigint,
          'a deleted KPI''s column is NULL');
SELECT is((SELECT count(*) FROM salesperf.kpi_report_at('2026-03-18 10:00-04') r WHERE r.kpi = 'visits'), 0::bigint,
          'a deleted KPI leaves the report');

SELECT * FROM finish();
ROLLBACK;
