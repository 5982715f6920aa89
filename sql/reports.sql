-- Reports for people: sparklines, the KPI report with like-for-like growth,
-- and the scoreboard.  The company works in Tokyo (UTC+9, no daylight
-- saving), so local days start at 15:00 UTC the day before: an activity at
-- 20:00 UTC on 30 April is on 1 May there.
DROP EXTENSION salesperf;
CREATE EXTENSION salesperf;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
\set SHOW_CONTEXT never

-- ---------------------------------------------------------------------------
-- sparkline(): the range min..max in eight equal bins, ▁ to █.
SELECT salesperf.sparkline('{0,1,2,3,4,5,6,7}') AS eight_bars,
       salesperf.sparkline('{-10,-5,0,5,10}') AS negative_values,
       salesperf.sparkline('{42}') AS one_value,
       salesperf.sparkline('{3,3,3}') AS all_equal,
       salesperf.sparkline('{1,NULL,2}') AS with_a_gap,
       salesperf.sparkline('{}') AS empty,
       salesperf.sparkline(NULL) IS NULL AS null_is_null;
-- One character per element, however long.
SELECT char_length(salesperf.sparkline(array_agg(g::float8))) AS chars,
       left(salesperf.sparkline(array_agg(g::float8)), 3) AS starts,
       right(salesperf.sparkline(array_agg(g::float8)), 3) AS ends
  FROM generate_series(1, 100000) g;
-- What it refuses.
\set VERBOSITY default
SELECT salesperf.sparkline('{1,NaN,3}');
SELECT salesperf.sparkline('[0:1]={Infinity,1}');
SELECT salesperf.sparkline('{{1,2},{3,4}}');

-- ---------------------------------------------------------------------------
-- The company.
SELECT time_zone FROM salesperf.configure(time_zone => 'Asia/Tokyo');
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES
  (1, NULL, 'Acme', 'company'), (11, 1, 'East', 'team'), (12, 1, 'West', 'team');
INSERT INTO salesperf.rep (rep_id, name, active) VALUES
  (1, 'Ada', true), (2, 'Bo', true), (3, 'Cy', true), (4, 'Di', false);
SELECT salesperf.assign(1, 11, '2026-01-01'), salesperf.assign(2, 11, '2026-01-01'),
       salesperf.assign(3, 12, '2026-01-01'), salesperf.assign(4, 12, '2026-01-01');
INSERT INTO salesperf.point_rule (name, kind, points) VALUES ('call', 'call', 2), ('visit', 'visit', 5);

-- Ada's calls (90 seconds each), in Tokyo time:
--   February: 1st, 28th                      (2)
--   March:    1st, 29th, 31st                (3)
--   April:    2nd, 5th, 9th, 10th 23:30      (4 in the first ten days)
--             11th 01:00 = 10 April 16:00 UTC, 20th
--   May:      1st 05:00 = 30 April 20:00 UTC, 3rd, 5th, 7th, 8th, 10th 10:00
--                                            (6 in the first ten days)
--             11th 01:00 = 10 May 16:00 UTC  (not yet "to date" on the 10th)
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at)
SELECT 1, 'call', 90, t::timestamptz FROM unnest(ARRAY[
  '2026-02-01 10:00+09', '2026-02-28 10:00+09',
  '2026-03-01 10:00+09', '2026-03-29 10:00+09', '2026-03-31 10:00+09',
  '2026-04-02 10:00+09', '2026-04-05 10:00+09', '2026-04-09 10:00+09', '2026-04-10 23:30+09',
  '2026-04-10 16:00+00', '2026-04-20 10:00+09',
  '2026-04-30 20:00+00', '2026-05-03 10:00+09', '2026-05-05 10:00+09', '2026-05-07 10:00+09',
  '2026-05-08 10:00+09', '2026-05-10 10:00+09',
  '2026-05-10 16:00+00']) t;
-- Bo: e-mails only in May (a zero base), two leads in April, one converted.
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at) VALUES
  (2, 'email', 1, '2026-05-02 09:00+09'), (2, 'email', 1, '2026-05-09 09:00+09'),
  (2, 'email', 1, '2026-05-10 09:00+09'),
  (2, 'lead_created', 1, '2026-04-03 09:00+09'), (2, 'lead_created', 1, '2026-04-04 09:00+09'),
  (2, 'lead_converted', 1, '2026-04-06 09:00+09');
-- Cy: deals won (1000 in the first ten days of April, 750.125 in May's) and
-- a visit today; Di (inactive) a call in May: the company and West count it.
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at) VALUES
  (3, 'deal_won', 1000, '2026-04-08 11:00+09'), (3, 'deal_won', 750.125, '2026-05-10 11:00+09'),
  (3, 'visit', 1, '2026-05-10 08:00+09'),
  (4, 'call', 30, '2026-05-04 10:00+09');

-- ---------------------------------------------------------------------------
-- Day 10 of May (a Sunday, the last day of the week from Monday 4 May).
-- Month: 1-10 May against 1-10 April.  Ada: 6 calls against 4, +50 %.
-- Week: 4-10 May against 27 April - 3 May.  Ada: 4 (5th, 7th, 8th, 10th)
-- against 2 (1st and 3rd May, Tokyo time), +100 %.
-- Quarter: 1 April - 10 May (40 days) against 1 January - 9 February:
-- Ada 12 (6 in April, 6 in May) against 1 (1 February).
-- West and the company also have Di's call of 4 May: West 1 against 0 has
-- no growth (NULL), the company 7 against 4 by month is +75 %.
-- The trend of the month is the first ten days of October ... May:
-- 0 0 0 0 1 1 4 6 -> ▁▁▁▁▂▂▆█ (4 of 0..6 is in bin floor(8 x 4/6) = 5, ▆).
SELECT kpi, period, period_start AT TIME ZONE 'Asia/Tokyo' AS starts, scope, scope_id, name,
       value, previous_value, growth_pct, trend
  FROM salesperf.kpi_report_at('2026-05-10 12:00+09', kpi => 'calls');

-- Growth against a zero base is NULL: Bo's e-mails; a fall is negative:
-- Cy's revenue, 750.125 against 1000 = -24.99 % (rounded to 2 decimals).
SELECT kpi, scope, scope_id, name, value, previous_value, growth_pct, trend
  FROM salesperf.kpi_report_at('2026-05-10 12:00+09', period => 'month', scope => 'rep')
 WHERE kpi IN ('emails', 'revenue') AND value <> 0 OR kpi = 'emails' AND scope_id = 2;

-- A ratio: conversion_rate is NULL where nothing was created (shown as a
-- space in the trend); April's first ten days: 1 / 2.
SELECT kpi, scope, scope_id, value, previous_value, growth_pct, trend
  FROM salesperf.kpi_report_at('2026-05-10 12:00+09', kpi => 'conversion_rate', scope => 'rep', scope_id => 2,
                               period => 'month');
SELECT kpi, scope, scope_id, value, previous_value, growth_pct, trend
  FROM salesperf.kpi_report_at('2026-04-20 12:00+09', kpi => 'conversion_rate', scope => 'rep', scope_id => 2,
                               period => 'month');

-- A 31-day month after a 28-day one: once March has run longer than the
-- whole of February, the base is all of February (2 calls).
--   28 March: 1-28 March (1 call) against 1-28 February (2): -50 %
--   29 March: 1-29 March (2) against all of February (2): 0 %
--   31 March: all of March (3) against all of February (2): +50 %
SELECT d AS day, r.value, r.previous_value, r.growth_pct
  FROM unnest(ARRAY['2026-03-28', '2026-03-29', '2026-03-30', '2026-03-31']::date[]) d
 CROSS JOIN LATERAL salesperf.kpi_report_at((d + time '12:00') AT TIME ZONE 'Asia/Tokyo',
                                            kpi => 'calls', scope => 'rep', scope_id => 1, period => 'month') r;

-- Tokyo's days, not UTC's.  The same report with the company in UTC: the
-- call at 16:00 UTC on 10 April is then in April's first ten days (5), the
-- one at 20:00 UTC on 30 April in April, and the one at 16:00 UTC on 10 May
-- on the 10th -- after `at`, but the report counts whole local days -- so
-- May has 6: +20 %.
SELECT time_zone FROM salesperf.configure(time_zone => 'UTC');
SELECT kpi, period, scope, value, previous_value, growth_pct
  FROM salesperf.kpi_report_at('2026-05-10 12:00+00', kpi => 'calls', scope => 'rep', scope_id => 1,
                               period => 'month');
SELECT time_zone FROM salesperf.configure(time_zone => 'Asia/Tokyo');

-- What the default report holds: every KPI for the company and each unit by
-- week, month and quarter, and each active rep (Di is not) by month.
SELECT scope, period, count(*) AS lines, count(DISTINCT kpi) AS kpis, count(DISTINCT scope_id) AS ids
  FROM salesperf.kpi_report_at('2026-05-10 12:00+09')
 GROUP BY scope, period ORDER BY scope, period;
-- The view is the function at now().
SELECT (SELECT count(*) FROM salesperf.kpi_report) = (SELECT count(*) FROM salesperf.kpi_report_at(now()))
       AS view_is_the_twin;

-- Bad filters.
SELECT * FROM salesperf.kpi_report_at(NULL);
SELECT * FROM salesperf.kpi_report_at(now(), kpi => 'nope');
SELECT * FROM salesperf.kpi_report_at(now(), scope => 'team');
SELECT * FROM salesperf.kpi_report_at(now(), period => 'all');
SELECT * FROM salesperf.kpi_report_at(now(), scope_id => 11);
SELECT * FROM salesperf.kpi_report_at(now(), scope => 'unit', scope_id => 99);

-- ---------------------------------------------------------------------------
-- The scoreboard on Sunday 10 May, 12:00 in Tokyo.  Ada: calls today 1
-- (the 10th; the call at 01:00 on the 11th is tomorrow), this week 4
-- (5th, 7th, 8th, 10th), this month 7 (1st-10th, and the 11th); 90 seconds
-- each: 1.5, 6.0 and 10.5 minutes; 2 points a call.  Her points trend
-- covers 27 April - 10 May: 2 points on 1, 3, 5, 7, 8 May and on the 10th.
-- Cy: revenue 750.125 rounded to 750.13, one visit (5 points).  Di is
-- inactive: no row.
SELECT rep_id, name, unit_id, unit, leads_month, conversions_month,
       revenue_today, revenue_month, calls_today, calls_week, calls_month,
       call_minutes_today, call_minutes_week, call_minutes_month,
       emails_today, emails_week, emails_month, visits_today,
       points_today, points_week, points_month, points_trend
  FROM salesperf.scoreboard_at('2026-05-10 12:00+09');
-- Bo's April: two leads, one conversion.
SELECT rep_id, leads_today, leads_week, leads_month, conversions_month
  FROM salesperf.scoreboard_at('2026-04-06 12:00+09') WHERE rep_id = 2;
SELECT (SELECT count(*) FROM salesperf.scoreboard) = 3 AS one_row_per_active_rep;
SELECT * FROM salesperf.scoreboard_at(NULL);

-- Leave the default settings for the files that follow.
DROP EXTENSION salesperf;
CREATE EXTENSION salesperf;
