--
-- Calendar: how salesperf cuts time into periods (SPEC section 3).
--
-- A period is a half-open range [period_start, period_end) whose bounds are
-- local midnights in salesperf.settings.time_zone.  The session time zone
-- only changes how results are printed: pin it so this file reads the same
-- on every machine.
--
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SET intervalstyle = 'postgres';
\set SHOW_CONTEXT never

-- Runs a statement and tells how it ended: 'ok' or SQLSTATE: message.
CREATE FUNCTION pg_temp.outcome(statement text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE statement;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-- The 12 fiscal months of the fiscal year that contains `inside`, found by
-- asking period_start/period_end about every day of that year.
CREATE FUNCTION pg_temp.fiscal_months(inside timestamptz)
RETURNS TABLE (fiscal_month bigint, starts date, ends_before date, weeks integer,
               quarter_starts date)
LANGUAGE sql AS $$
    SELECT row_number() OVER (ORDER BY m.s), m.s::date, m.e::date,
           (m.e::date - m.s::date) / 7, m.q::date
      FROM (SELECT DISTINCT salesperf.period_start(d, 'month') AS s,
                            salesperf.period_end(d, 'month') AS e,
                            salesperf.period_start(d, 'quarter') AS q
              FROM generate_series(salesperf.period_start(inside, 'year'),
                                   salesperf.period_end(inside, 'year') - interval '1 day',
                                   interval '1 day') AS d) AS m
     ORDER BY m.s
$$;

-- How long the local days from first_day to last_day are, in hours, and
-- whether each day's end is where the next day starts.
CREATE FUNCTION pg_temp.day_lengths(first_day date, last_day date)
RETURNS TABLE (hours integer, days bigint, next_day_starts_at_end boolean)
LANGUAGE sql AS $$
    SELECT extract(epoch FROM d.e - d.s)::integer / 3600, count(*),
           bool_and(salesperf.period_start(d.e, 'day') = d.e)
      FROM (SELECT DISTINCT salesperf.period_start(h, 'day') AS s,
                            salesperf.period_end(h, 'day') AS e
              FROM salesperf.settings AS z,
                   generate_series(first_day::timestamp AT TIME ZONE z.time_zone,
                                   (last_day + 1)::timestamp AT TIME ZONE z.time_zone,
                                   interval '1 hour') AS h
             WHERE h < (last_day + 1)::timestamp AT TIME ZONE z.time_zone) AS d
     GROUP BY 1
     ORDER BY 1
$$;

--
-- 1. Defaults: UTC, weeks from Monday, the fiscal year is the calendar year.
--
SELECT * FROM salesperf.settings;

-- Thursday 14 May 2026, 15:20 UTC, in every period.
SELECT p AS period,
       salesperf.period_start('2026-05-14 15:20:00+00', p) AS period_start,
       salesperf.period_end('2026-05-14 15:20:00+00', p) AS period_end
  FROM unnest(ARRAY['day', 'week', 'month', 'quarter', 'year', 'all']) AS p;

SELECT salesperf.period_range('2026-05-14 15:20:00+00', 'week') AS week,
       salesperf.period_range('2026-05-14 15:20:00+00', 'all') AS all_time;

-- Ends are exclusive: the last microsecond of May is in May, midnight
-- starts June.
SELECT t,
       salesperf.period_start(t, 'month') AS month_start,
       salesperf.period_range(t, 'month') @> t AS in_its_range
  FROM unnest(ARRAY['2026-05-31 23:59:59.999999+00',
                    '2026-06-01 00:00:00+00']::timestamptz[]) AS t;

-- Leap days belong to February.
SELECT salesperf.period_range('2024-02-29 12:00+00', 'month') AS leap_february,
       salesperf.period_range('2024-02-29 12:00+00', 'quarter') AS first_quarter;

-- An unknown period name is an error; NULL in gives NULL out.
SELECT salesperf.period_start('2026-05-14 15:20:00+00', 'fortnight');
SELECT pg_temp.outcome($$SELECT salesperf.period_end(now(), 'Month')$$);
SELECT salesperf.period_start(NULL, 'day') IS NULL AS null_in_null_out;

--
-- 2. Time zones.  A sales team in New York: its days end at local midnight.
--
SELECT * FROM salesperf.configure(time_zone => 'America/New_York');

-- A call logged at 23:30 local time on 31 January 2026 is already
-- 1 February in UTC, but it counts for January: the month is the local one.
SELECT timestamptz '2026-01-31 23:30 America/New_York' AS occurred_at,
       salesperf.period_start('2026-01-31 23:30 America/New_York', 'month') AS month_start,
       salesperf.period_end('2026-01-31 23:30 America/New_York', 'month') AS month_end,
       salesperf.period_start('2026-01-31 23:30 America/New_York', 'month')
           AT TIME ZONE 'America/New_York' AS local_month_start,
       salesperf.calendar_start('2026-01-31 23:30 America/New_York', 'month',
                                'UTC', 1, 1, 'gregorian') AS utc_month_start;

-- The same at the end of a year: 23:30 on 31 December 2025 is in 2025.
SELECT salesperf.period_range('2025-12-31 23:30 America/New_York', 'year') AS year_2025,
       salesperf.period_range('2025-12-31 23:30 America/New_York', 'quarter') AS q4_2025;

-- Daylight saving time: on 8 March 2026 New York skips 02:00-03:00 (a
-- 23-hour day); on 1 November 2026 it repeats 01:00-02:00 (a 25-hour day).
-- PostgreSQL prints 25 hours as '1 day 01:00:00'.
SELECT d AS local_day,
       salesperf.period_start(t, 'day') AS period_start,
       salesperf.period_end(t, 'day') AS period_end,
       salesperf.period_end(t, 'day') - salesperf.period_start(t, 'day') AS length,
       extract(epoch FROM salesperf.period_end(t, 'day')
                          - salesperf.period_start(t, 'day'))::integer / 3600 AS hours
  FROM unnest(ARRAY['2026-03-07', '2026-03-08', '2026-03-09',
                    '2026-10-31', '2026-11-01', '2026-11-02']::date[]) AS d,
       LATERAL (SELECT (d + time '12:00') AT TIME ZONE 'America/New_York') AS noon(t);

-- Both 01:30s of 1 November (EDT, then EST) are on 1 November.
SELECT t, t AT TIME ZONE 'America/New_York' AS local_time,
       salesperf.period_start(t, 'day') AS day_start
  FROM unnest(ARRAY['2026-11-01 05:30+00', '2026-11-01 06:30+00']::timestamptz[]) AS t;

-- Weeks and months that contain a DST change are an hour short or long.
SELECT p AS period,
       salesperf.period_start('2026-03-08 12:00 America/New_York', p) AS period_start,
       salesperf.period_end('2026-03-08 12:00 America/New_York', p) AS period_end,
       salesperf.period_end('2026-03-08 12:00 America/New_York', p)
           - salesperf.period_start('2026-03-08 12:00 America/New_York', p) AS length
  FROM unnest(ARRAY['week', 'month']) AS p;

-- Chile changes clocks at midnight.  On Sunday 8 September 2024 Santiago
-- went from 00:00 straight to 01:00, so that day has no local midnight: it
-- starts at its first instant, 01:00 local (04:00 UTC), as PostgreSQL's own
-- AT TIME ZONE resolves the missing 00:00.  On Saturday 6 April 2024 the
-- clocks went back from 24:00 to 23:00, a 25-hour day.
SELECT * FROM salesperf.configure(time_zone => 'America/Santiago');

SELECT d AS local_day,
       salesperf.period_start(t, 'day') AS period_start,
       salesperf.period_start(t, 'day') AT TIME ZONE 'America/Santiago' AS local_start,
       salesperf.period_end(t, 'day') AS period_end,
       extract(epoch FROM salesperf.period_end(t, 'day')
                          - salesperf.period_start(t, 'day'))::integer / 3600 AS hours
  FROM unnest(ARRAY['2024-04-05', '2024-04-06', '2024-04-07',
                    '2024-09-07', '2024-09-08', '2024-09-09']::date[]) AS d,
       LATERAL (SELECT (d + time '12:00') AT TIME ZONE 'America/Santiago') AS noon(t);

-- The last instant of Saturday 7 September and the first of Sunday 8.
SELECT t, t AT TIME ZONE 'America/Santiago' AS local_time,
       salesperf.period_start(t, 'day') AS day_start
  FROM unnest(ARRAY['2024-09-08 03:59:59+00', '2024-09-08 04:00:00+00']::timestamptz[]) AS t;

-- Over the whole of 2024 in Santiago the days tile the year with no gap or
-- overlap: 366 days, one of 23 hours and one of 25.
SELECT * FROM pg_temp.day_lengths('2024-01-01', '2024-12-31');

-- Cuba changes clocks at midnight too, and on Sunday 3 November 2024 it
-- went back from 01:00 to 00:00, so 00:00-01:00 happened twice.  Sunday
-- begins at the first 00:00 (04:00 UTC): Saturday keeps its 24 hours,
-- Sunday has 25, and both 00:30s are on Sunday.
SELECT * FROM salesperf.configure(time_zone => 'America/Havana');

SELECT t, t AT TIME ZONE 'America/Havana' AS local_time,
       salesperf.period_range(t, 'day') AS day
  FROM unnest(ARRAY['2024-11-03 03:59:59+00', '2024-11-03 04:30:00+00',
                    '2024-11-03 05:30:00+00']::timestamptz[]) AS t;

SELECT * FROM pg_temp.day_lengths('2024-01-01', '2024-12-31');

SELECT * FROM salesperf.configure(time_zone => 'UTC');

--
-- 3. Weeks from Sunday.
--
SELECT * FROM salesperf.configure(week_start => 7);

SELECT t::date AS day, to_char(t, 'Dy') AS weekday,
       salesperf.period_start(t, 'week')::date AS week_start,
       to_char(salesperf.period_start(t, 'week'), 'Dy') AS starts_on,
       salesperf.period_end(t, 'week')::date AS week_end
  FROM unnest(ARRAY['2026-05-09', '2026-05-10', '2026-05-14',
                    '2026-05-16', '2026-05-17']::timestamptz[]) AS t;

SELECT * FROM salesperf.configure(week_start => 1);

--
-- 4. A fiscal year from April: Q1 is April-June, Q4 is January-March, and
-- fiscal year 2026 runs from 1 April 2026 to 31 March 2027.  Months are
-- still calendar months.
--
SELECT * FROM salesperf.configure(fiscal_year_start_month => 4);

SELECT t::date AS day,
       salesperf.period_start(t, 'month')::date AS month_start,
       salesperf.period_start(t, 'quarter')::date AS quarter_start,
       salesperf.period_end(t, 'quarter')::date AS quarter_end,
       salesperf.period_start(t, 'year')::date AS year_start,
       salesperf.period_end(t, 'year')::date AS year_end
  FROM unnest(ARRAY['2026-01-15', '2026-03-31', '2026-04-01', '2026-06-30',
                    '2026-07-01', '2026-12-31', '2027-03-31']::timestamptz[]) AS t;

-- The four quarters of fiscal year 2026.
SELECT row_number() OVER (ORDER BY s) AS fiscal_quarter,
       s::date AS starts, e::date AS ends_before
  FROM (SELECT DISTINCT salesperf.period_start(d, 'quarter') AS s,
                        salesperf.period_end(d, 'quarter') AS e
          FROM generate_series(timestamptz '2026-04-01', '2027-03-31', '1 day') AS d) AS q
 ORDER BY s;

SELECT * FROM salesperf.configure(fiscal_year_start_month => 1);

--
-- 5. Retail calendars.  A fiscal year is 52 whole weeks starting on
-- week_start, the one nearest to the 1st of fiscal_year_start_month; each
-- quarter is 13 weeks split 4-4-5, 4-5-4 or 5-4-4.  Every five or six
-- years a 53rd week is needed: it goes to the last month of the year.
--
-- 4-4-5, weeks from Monday, fiscal year nearest 1 January.  1 January 2026
-- is a Thursday, so FY2026 starts on Monday 29 December 2025; 1 January
-- 2027 is a Friday, so FY2027 starts on Monday 4 January 2027.  FY2026 has
-- 53 weeks and its twelfth month has 6.
SELECT * FROM salesperf.configure(calendar => '4-4-5');

SELECT t, salesperf.period_range(t, 'year') AS fiscal_year
  FROM unnest(ARRAY['2025-12-28 23:59:59+00', '2025-12-29 00:00:00+00',
                    '2027-01-03 23:59:59+00', '2027-01-04 00:00:00+00']::timestamptz[]) AS t;

SELECT * FROM pg_temp.fiscal_months('2026-06-15');

-- 5-4-4 in FY2025 (30 December 2024 to 29 December 2025), a 52-week year.
SELECT * FROM salesperf.configure(calendar => '5-4-4');

SELECT * FROM pg_temp.fiscal_months('2025-06-15');

-- 4-5-4 as the US retail (NRF) calendar: weeks from Sunday, the year
-- starting on the Sunday nearest 1 February.  Fiscal 2023 ran from
-- 29 January 2023 to 3 February 2024, 53 weeks, the extra one in January.
SELECT * FROM salesperf.configure(calendar => '4-5-4', week_start => 7,
                                  fiscal_year_start_month => 2);

SELECT * FROM pg_temp.fiscal_months('2023-06-15');

-- Retail weeks, months, quarters and years all begin on week_start.
SELECT p AS period,
       salesperf.period_start('2023-12-31 10:00+00', p)::date AS period_start,
       to_char(salesperf.period_start('2023-12-31 10:00+00', p), 'Dy') AS starts_on,
       salesperf.period_end('2023-12-31 10:00+00', p)::date AS period_end
  FROM unnest(ARRAY['week', 'month', 'quarter', 'year']) AS p;

SELECT * FROM salesperf.configure(calendar => 'gregorian', week_start => 1,
                                  fiscal_year_start_month => 1);

--
-- 6. configure() checks every argument before it changes anything: a bad
-- value raises SQLSTATE 22023 and leaves all settings as they were.
--
SELECT * FROM salesperf.configure(time_zone => 'Europe/Paris', currency => 'EUR');

SELECT salesperf.configure(time_zone => 'Mars/Olympus_Mons');

SELECT call, pg_temp.outcome('SELECT salesperf.configure(' || call || ')') AS outcome
  FROM unnest(ARRAY[
         $$time_zone => 'Mars/Olympus_Mons'$$,
         $$time_zone => ''$$,
         $$week_start => 0$$,
         $$week_start => 8$$,
         $$fiscal_year_start_month => 0$$,
         $$fiscal_year_start_month => 13$$,
         $$calendar => '4-4-4'$$,
         $$calendar => 'Gregorian'$$,
         $$currency => 'usd'$$,
         $$currency => 'EURO'$$,
         $$currency_scale => 7$$,
         $$week_start => 7, currency => 'usd'$$]) AS call;

-- Nothing changed, not even the valid week_start of the last call.
SELECT * FROM salesperf.settings;

-- The internal calendar_start/calendar_end check their arguments the same way.
SELECT call, pg_temp.outcome('SELECT salesperf.calendar_start(' || call || ')') AS outcome
  FROM unnest(ARRAY[
         $$now(), 'day', 'Mars/Olympus_Mons', 1, 1, 'gregorian'$$,
         $$now(), 'day', 'UTC', 0, 1, 'gregorian'$$,
         $$now(), 'day', 'UTC', 1, 13, 'gregorian'$$,
         $$now(), 'day', 'UTC', 1, 1, '4-4-4'$$,
         $$now(), 'decade', 'UTC', 1, 1, 'gregorian'$$,
         $$'infinity', 'day', 'UTC', 1, 1, 'gregorian'$$]) AS call;

SELECT * FROM salesperf.configure(time_zone => 'UTC', currency => 'USD');
