-- Reports for people (SPEC §7 kpi_report, §11): sparklines, the KPI report
-- with like-for-like growth, and the scoreboard a manager opens first.
-- Every number comes from salesperf.kpi_counter through the one rule of what
-- a counter row adds to a KPI (salesperf.kpi_contribution); nothing here
-- reads the ledger.

-- The argument is named as SPEC §11 names it; VALUES is a keyword, hence the quotes.
CREATE FUNCTION salesperf.sparkline("values" double precision[])
RETURNS text
AS 'MODULE_PATHNAME', 'salesperf_sparkline'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.sparkline(double precision[]) IS
  'A trend in one line of text: one bar per element, ▁ for the smallest non-NULL value to █ for the largest (eight equal bins); ▄ throughout when all are equal; a space for a NULL element; '''' for an empty array. NaN and infinities are refused (22003).';

-- One line of the KPI report.  A named type (not RETURNS TABLE) so that the
-- report's filters can be called kpi, scope, scope_id and period, like its
-- columns.
CREATE TYPE salesperf.kpi_report_line AS (
    kpi            text,
    period         text,
    period_start   timestamptz,
    scope          text,
    scope_id       bigint,
    name           text,
    value          numeric,
    previous_value numeric,
    growth_pct     numeric,
    trend          text
);
COMMENT ON TYPE salesperf.kpi_report_line IS 'A line of salesperf.kpi_report_at() and the salesperf.kpi_report view.';

-- The KPI report at a moment.
--
-- For each period kind, the current period is "to date": every local day
-- from the period's first through the local day of `at` (whole days: the
-- counters are per local day).  Its value is compared like-for-like with the
-- same number of first days of the previous period; when the current period
-- has run longer than the whole previous one (day 30 of a month after a
-- 28-day February), the base is the whole previous period.  The trend shows
-- the same span of the last eight periods, oldest first, so its last two
-- bars are previous_value and value.
CREATE FUNCTION salesperf.kpi_report_at(at timestamptz,
                                        kpi text DEFAULT NULL,
                                        scope text DEFAULT NULL,
                                        scope_id bigint DEFAULT NULL,
                                        period text DEFAULT NULL)
RETURNS SETOF salesperf.kpi_report_line
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    trend_periods constant integer := 8;   -- v0 .. v7 in the query below
    s        salesperf.settings;
    today    date;
    periods  text[];
    rep_periods text[];
    p        text;
    first_day date;
    end_day  date;
    start_at timestamptz;
    elapsed  integer;
    -- The spans: (period, idx, first local day, end local day (exclusive),
    -- period start); idx 0 is the current period, 1 the previous one ...
    sp_period text[] := '{}';
    sp_idx    integer[] := '{}';
    sp_first  date[] := '{}';
    sp_end    date[] := '{}';
    sp_start  timestamptz[] := '{}';
    lo       date;
BEGIN
    IF at IS NULL THEN
        RAISE EXCEPTION 'kpi_report_at() needs a moment' USING ERRCODE = '22004';
    END IF;
    IF kpi_report_at.kpi IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM salesperf.kpi x WHERE x.name = kpi_report_at.kpi) THEN
        RAISE EXCEPTION 'unknown KPI "%"', kpi_report_at.kpi USING ERRCODE = '42704', HINT = 'See salesperf.kpi.';
    END IF;
    IF kpi_report_at.scope IS NOT NULL AND kpi_report_at.scope NOT IN ('company', 'unit', 'rep') THEN
        RAISE EXCEPTION 'unknown scope "%"', kpi_report_at.scope
            USING ERRCODE = '22023', HINT = 'Use company, unit or rep.';
    END IF;
    IF kpi_report_at.scope_id IS NOT NULL THEN
        IF kpi_report_at.scope IS NULL THEN
            RAISE EXCEPTION 'scope_id % needs a scope', kpi_report_at.scope_id
                USING ERRCODE = '22023', HINT = 'Say whether it is a unit or a rep: scope => ''unit'' or ''rep''.';
        ELSIF kpi_report_at.scope = 'unit'
              AND NOT EXISTS (SELECT 1 FROM salesperf.unit u WHERE u.unit_id = kpi_report_at.scope_id) THEN
            RAISE EXCEPTION 'unknown unit %', kpi_report_at.scope_id USING ERRCODE = '42704', HINT = 'See salesperf.unit.';
        ELSIF kpi_report_at.scope = 'rep'
              AND NOT EXISTS (SELECT 1 FROM salesperf.rep r WHERE r.rep_id = kpi_report_at.scope_id) THEN
            RAISE EXCEPTION 'unknown rep %', kpi_report_at.scope_id USING ERRCODE = '42704', HINT = 'See salesperf.rep.';
        END IF;
    END IF;
    IF kpi_report_at.period IS NOT NULL
       AND kpi_report_at.period NOT IN ('day', 'week', 'month', 'quarter', 'year') THEN
        RAISE EXCEPTION 'period "%" has no previous period to compare with', kpi_report_at.period
            USING ERRCODE = '22023', HINT = 'Use day, week, month, quarter or year.';
    END IF;

    -- By default: company and units by week, month and quarter; reps by
    -- month.  A period asked for applies to every scope.
    IF kpi_report_at.period IS NULL THEN
        periods := ARRAY['week', 'month', 'quarter'];
        rep_periods := ARRAY['month'];
    ELSE
        periods := ARRAY[kpi_report_at.period];
        rep_periods := periods;
    END IF;

    SELECT * INTO s FROM salesperf.settings;
    today := salesperf.local_day(at, s.time_zone);
    lo := today;
    FOREACH p IN ARRAY periods LOOP
        start_at := salesperf.calendar_start(at, p, s.time_zone, s.week_start, s.fiscal_year_start_month, s.calendar);
        first_day := salesperf.local_day(start_at, s.time_zone);
        end_day := salesperf.local_day(salesperf.calendar_end(at, p, s.time_zone, s.week_start,
                                                              s.fiscal_year_start_month, s.calendar), s.time_zone);
        elapsed := today - first_day + 1;
        FOR i IN 0 .. trend_periods - 1 LOOP
            IF i > 0 THEN
                -- The previous period: the one that holds the day before.
                end_day := first_day;
                start_at := salesperf.calendar_start(salesperf.local_day_start(first_day - 1, s.time_zone), p,
                                                     s.time_zone, s.week_start, s.fiscal_year_start_month,
                                                     s.calendar);
                first_day := salesperf.local_day(start_at, s.time_zone);
            END IF;
            sp_period := sp_period || p;
            sp_idx := sp_idx || i;
            sp_first := sp_first || first_day;
            sp_end := sp_end || LEAST(first_day + elapsed, end_day);
            sp_start := sp_start || start_at;
        END LOOP;
        lo := LEAST(lo, first_day);
    END LOOP;

    RETURN QUERY
    WITH span AS (
        SELECT x.period, x.idx, x.first_day, x.end_day, x.period_start
          FROM unnest(sp_period, sp_idx, sp_first, sp_end, sp_start)
               AS x(period, idx, first_day, end_day, period_start)
    ), k AS (
        SELECT x.name, x.num_kind, x.num_measure, x.den_kind, x.den_measure
          FROM salesperf.kpi x
         WHERE kpi_report_at.kpi IS NULL OR x.name = kpi_report_at.kpi
    ), who AS (
        -- The scopes reported, with the periods each is reported for.
        SELECT 'company'::text AS scope, NULL::bigint AS scope_id,
               COALESCE((SELECT min(u.name) FROM salesperf.unit u WHERE u.parent_id IS NULL
                         HAVING count(*) = 1), 'company') AS name,
               periods AS for_periods, 1 AS scope_order
         WHERE kpi_report_at.scope IS NULL OR kpi_report_at.scope = 'company'
        UNION ALL
        SELECT 'unit', u.unit_id, u.name, periods, 2
          FROM salesperf.unit u
         WHERE (kpi_report_at.scope IS NULL OR kpi_report_at.scope = 'unit')
           AND (kpi_report_at.scope_id IS NULL OR u.unit_id = kpi_report_at.scope_id)
        UNION ALL
        -- Reps: the active ones, or the one asked for.
        SELECT 'rep', r.rep_id, r.name, rep_periods, 3
          FROM salesperf.rep r
         WHERE (kpi_report_at.scope IS NULL OR kpi_report_at.scope = 'rep')
           AND (CASE WHEN kpi_report_at.scope_id IS NULL THEN r.active ELSE r.rep_id = kpi_report_at.scope_id END)
    ), by_unit AS (
        -- Counter rows summed per span, unit at the time and kind.  Summing
        -- counter rows before asking kpi_contribution() what they add is
        -- exact: what a row adds is its count, amount or points.
        SELECT sp.period, sp.idx, c.unit_id, c.kind,
               sum(c.activities)::bigint AS activities, sum(c.amount) AS amount, sum(c.points) AS points
          FROM span sp
          JOIN salesperf.kpi_counter c ON c.day >= sp.first_day AND c.day < sp.end_day
         WHERE c.day >= lo AND c.day <= today
           AND EXISTS (SELECT 1 FROM who w WHERE w.scope IN ('company', 'unit'))
         GROUP BY sp.period, sp.idx, c.unit_id, c.kind
    ), by_rep AS (
        SELECT sp.period, sp.idx, c.rep_id, c.kind,
               sum(c.activities)::bigint AS activities, sum(c.amount) AS amount, sum(c.points) AS points
          FROM span sp
          JOIN salesperf.kpi_counter c ON c.day >= sp.first_day AND c.day < sp.end_day
         WHERE c.day >= lo AND c.day <= today
           AND sp.period = ANY (rep_periods)
           AND (kpi_report_at.scope IS NULL OR kpi_report_at.scope = 'rep')
           AND (kpi_report_at.scope_id IS NULL OR c.rep_id = kpi_report_at.scope_id)
         GROUP BY sp.period, sp.idx, c.rep_id, c.kind
    ), sums AS (
        -- The same per scope: the company is every counter (reps without a
        -- unit too), a unit its whole subtree by today's tree, a rep its own.
        SELECT 'company'::text AS scope, NULL::bigint AS scope_id, b.period, b.idx, b.kind,
               sum(b.activities)::bigint AS activities, sum(b.amount) AS amount, sum(b.points) AS points
          FROM by_unit b
         WHERE EXISTS (SELECT 1 FROM who w WHERE w.scope = 'company')
         GROUP BY b.period, b.idx, b.kind
        UNION ALL
        SELECT 'unit', t.ancestor_id, b.period, b.idx, b.kind,
               sum(b.activities)::bigint, sum(b.amount), sum(b.points)
          FROM by_unit b
          JOIN salesperf.unit_tree t ON t.descendant_id = b.unit_id
         WHERE EXISTS (SELECT 1 FROM who w WHERE w.scope = 'unit' AND w.scope_id = t.ancestor_id)
         GROUP BY t.ancestor_id, b.period, b.idx, b.kind
        UNION ALL
        SELECT 'rep', b.rep_id, b.period, b.idx, b.kind, b.activities, b.amount, b.points
          FROM by_rep b
    ), parts AS (
        -- The KPI per scope, period and span (a ratio from its summed parts).
        SELECT x.scope, x.scope_id, x.period, x.idx, k.name AS kpi,
               CASE WHEN k.den_measure IS NULL THEN sum(v.num)
                    ELSE sum(v.num) / NULLIF(sum(v.den), 0) END AS value
          FROM sums x
         CROSS JOIN k
         CROSS JOIN LATERAL salesperf.kpi_contribution(k.num_kind, k.num_measure, k.den_kind, k.den_measure,
                                                       x.kind, x.activities, x.amount, x.points,
                                                       NULL, NULL, NULL) v
         WHERE v.num IS NOT NULL
         GROUP BY x.scope, x.scope_id, x.period, x.idx, k.name, k.den_measure
    ), spans AS (
        -- The eight spans side by side: v0 is the current period, v7 the oldest.
        SELECT pt.scope, pt.scope_id, pt.period, pt.kpi,
               min(pt.value) FILTER (WHERE pt.idx = 0) AS v0, min(pt.value) FILTER (WHERE pt.idx = 1) AS v1,
               min(pt.value) FILTER (WHERE pt.idx = 2) AS v2, min(pt.value) FILTER (WHERE pt.idx = 3) AS v3,
               min(pt.value) FILTER (WHERE pt.idx = 4) AS v4, min(pt.value) FILTER (WHERE pt.idx = 5) AS v5,
               min(pt.value) FILTER (WHERE pt.idx = 6) AS v6, min(pt.value) FILTER (WHERE pt.idx = 7) AS v7
          FROM parts pt
         GROUP BY pt.scope, pt.scope_id, pt.period, pt.kpi
    )
    -- Every reported (scope, period, KPI), with or without counters: an
    -- empty count or sum is 0, an empty avg or ratio NULL.
    SELECT k.name, sp.period, sp.period_start, w.scope, w.scope_id, w.name,
           c.v0, c.v1,
           round((c.v0 - c.v1) / NULLIF(abs(c.v1), 0) * 100, 2),
           salesperf.sparkline(ARRAY[c.v7, c.v6, c.v5, c.v4, c.v3, c.v2, c.v1, c.v0]::double precision[])
      FROM who w
      JOIN span sp ON sp.idx = 0 AND sp.period = ANY (w.for_periods)
     CROSS JOIN k
      -- (the company's NULL id as 0: hashable, and no unit or rep is a company)
      LEFT JOIN spans x
             ON x.scope = w.scope AND COALESCE(x.scope_id, 0) = COALESCE(w.scope_id, 0)
            AND x.period = sp.period AND x.kpi = k.name
     CROSS JOIN LATERAL (SELECT CASE WHEN k.den_measure IS NULL THEN 0::numeric END AS empty) e
     CROSS JOIN LATERAL (SELECT COALESCE(x.v0, e.empty) AS v0, COALESCE(x.v1, e.empty) AS v1,
                                COALESCE(x.v2, e.empty) AS v2, COALESCE(x.v3, e.empty) AS v3,
                                COALESCE(x.v4, e.empty) AS v4, COALESCE(x.v5, e.empty) AS v5,
                                COALESCE(x.v6, e.empty) AS v6, COALESCE(x.v7, e.empty) AS v7) c
     ORDER BY k.name, array_position(ARRAY['day', 'week', 'month', 'quarter', 'year'], sp.period),
              w.scope_order, w.scope_id;
END
$$;
COMMENT ON FUNCTION salesperf.kpi_report_at(timestamptz, text, text, bigint, text) IS
  'KPI report at a moment: per KPI, period and scope, the current period to date (whole local days through the day of `at`), the same number of first days of the previous period (all of it when it is shorter), growth in percent (NULL when the base is 0) and a sparkline of that span over the last 8 periods. By default company and units by week, month and quarter, active reps by month; filter with kpi, scope (company, unit, rep), scope_id and period (day, week, month, quarter, year). From counters, never the ledger.';

CREATE VIEW salesperf.kpi_report AS
SELECT r.kpi, r.period, r.period_start, r.scope, r.scope_id, r.name,
       r.value, r.previous_value, r.growth_pct, r.trend
  FROM salesperf.kpi_report_at(pg_catalog.now()) r;
COMMENT ON VIEW salesperf.kpi_report IS
  'KPI report now (salesperf.kpi_report_at(now())): every KPI for the company and each unit by week, month and quarter, and each active rep by month, to date against the same days of the previous period.';
COMMENT ON COLUMN salesperf.kpi_report.kpi IS 'KPI name (salesperf.kpi).';
COMMENT ON COLUMN salesperf.kpi_report.period IS 'week, month or quarter (fiscal; see salesperf.settings).';
COMMENT ON COLUMN salesperf.kpi_report.period_start IS 'Start of the current period (a local midnight).';
COMMENT ON COLUMN salesperf.kpi_report.scope IS 'company, unit (its whole subtree, by today''s org chart) or rep.';
COMMENT ON COLUMN salesperf.kpi_report.scope_id IS 'unit_id or rep_id; NULL for the company.';
COMMENT ON COLUMN salesperf.kpi_report.name IS 'Name of the unit or rep; for the company, the root unit''s name (or ''company'' when there is not exactly one root).';
COMMENT ON COLUMN salesperf.kpi_report.value IS 'The KPI over the current period to date: its local days through today.';
COMMENT ON COLUMN salesperf.kpi_report.previous_value IS 'The KPI over the same number of first local days of the previous period (the whole previous period when it is shorter).';
COMMENT ON COLUMN salesperf.kpi_report.growth_pct IS '(value - previous_value) / |previous_value| x 100, rounded to 2 decimals; NULL when previous_value is 0 or NULL.';
COMMENT ON COLUMN salesperf.kpi_report.trend IS 'Sparkline of the same span over the last 8 periods, oldest first (the last two bars are previous_value and value; a space where the value is NULL).';

-- The scoreboard at a moment: one row per active rep, today / this week /
-- this month (the whole local day, week and month containing `at`, as
-- kpi_value reads them), from one pass over the counters of those days.
-- Each column is a seeded KPI: leads = leads_generated, conversions =
-- leads_converted, revenue, calls, call minutes = call_seconds / 60,
-- emails, visits, points; an edited KPI changes its column, a deleted one
-- leaves it NULL.
CREATE FUNCTION salesperf.scoreboard_at(at timestamptz)
RETURNS TABLE (rep_id bigint, name text, unit_id bigint, unit text,
               leads_today numeric, leads_week numeric, leads_month numeric,
               conversions_today numeric, conversions_week numeric, conversions_month numeric,
               revenue_today numeric, revenue_week numeric, revenue_month numeric,
               calls_today numeric, calls_week numeric, calls_month numeric,
               call_minutes_today numeric, call_minutes_week numeric, call_minutes_month numeric,
               emails_today numeric, emails_week numeric, emails_month numeric,
               visits_today numeric, visits_week numeric, visits_month numeric,
               points_today numeric, points_week numeric, points_month numeric,
               points_trend text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    s      salesperf.settings;
    today  date;
    w0     date;
    w1     date;
    m0     date;
    m1     date;
    t0     date;
    lo     date;
    hi     date;
BEGIN
    IF at IS NULL THEN
        RAISE EXCEPTION 'scoreboard_at() needs a moment' USING ERRCODE = '22004';
    END IF;
    SELECT * INTO s FROM salesperf.settings;
    today := salesperf.local_day(at, s.time_zone);
    w0 := salesperf.local_day(salesperf.calendar_start(at, 'week', s.time_zone, s.week_start,
                                                       s.fiscal_year_start_month, s.calendar), s.time_zone);
    w1 := salesperf.local_day(salesperf.calendar_end(at, 'week', s.time_zone, s.week_start,
                                                     s.fiscal_year_start_month, s.calendar), s.time_zone);
    m0 := salesperf.local_day(salesperf.calendar_start(at, 'month', s.time_zone, s.week_start,
                                                       s.fiscal_year_start_month, s.calendar), s.time_zone);
    m1 := salesperf.local_day(salesperf.calendar_end(at, 'month', s.time_zone, s.week_start,
                                                     s.fiscal_year_start_month, s.calendar), s.time_zone);
    t0 := today - 13;            -- the points trend: the last 14 local days
    lo := LEAST(w0, m0, t0);
    hi := GREATEST(w1, m1, today + 1);

    RETURN QUERY
    WITH k AS (
        SELECT x.name, x.num_kind, x.num_measure, x.den_kind, x.den_measure
          FROM salesperf.kpi x
         WHERE x.name IN ('leads_generated', 'leads_converted', 'revenue', 'calls', 'call_seconds',
                          'emails', 'visits', 'points')
    ), v AS (
        -- One pass over the counters of the days shown.
        SELECT c.rep_id, c.day, k.name AS kpi, x.num
          FROM salesperf.kpi_counter c
         CROSS JOIN k
         CROSS JOIN LATERAL salesperf.kpi_contribution(k.num_kind, k.num_measure, k.den_kind, k.den_measure,
                                                       c.kind, c.activities, c.amount, c.points,
                                                       NULL, NULL, NULL) x
         WHERE c.day >= lo AND c.day < hi AND x.num IS NOT NULL
        UNION ALL
        -- A zero for every active rep and every KPI shown: an empty column
        -- is 0, the column of a deleted KPI NULL.
        SELECT r.rep_id, today, k.name, 0 FROM salesperf.rep r CROSS JOIN k WHERE r.active
    ), per_rep AS (
        SELECT v.rep_id,
               sum(v.num) FILTER (WHERE v.kpi = 'leads_generated' AND v.day = today) AS leads_d,
               sum(v.num) FILTER (WHERE v.kpi = 'leads_generated' AND v.day >= w0 AND v.day < w1) AS leads_w,
               sum(v.num) FILTER (WHERE v.kpi = 'leads_generated' AND v.day >= m0 AND v.day < m1) AS leads_m,
               sum(v.num) FILTER (WHERE v.kpi = 'leads_converted' AND v.day = today) AS conv_d,
               sum(v.num) FILTER (WHERE v.kpi = 'leads_converted' AND v.day >= w0 AND v.day < w1) AS conv_w,
               sum(v.num) FILTER (WHERE v.kpi = 'leads_converted' AND v.day >= m0 AND v.day < m1) AS conv_m,
               sum(v.num) FILTER (WHERE v.kpi = 'revenue' AND v.day = today) AS rev_d,
               sum(v.num) FILTER (WHERE v.kpi = 'revenue' AND v.day >= w0 AND v.day < w1) AS rev_w,
               sum(v.num) FILTER (WHERE v.kpi = 'revenue' AND v.day >= m0 AND v.day < m1) AS rev_m,
               sum(v.num) FILTER (WHERE v.kpi = 'calls' AND v.day = today) AS calls_d,
               sum(v.num) FILTER (WHERE v.kpi = 'calls' AND v.day >= w0 AND v.day < w1) AS calls_w,
               sum(v.num) FILTER (WHERE v.kpi = 'calls' AND v.day >= m0 AND v.day < m1) AS calls_m,
               sum(v.num) FILTER (WHERE v.kpi = 'call_seconds' AND v.day = today) AS secs_d,
               sum(v.num) FILTER (WHERE v.kpi = 'call_seconds' AND v.day >= w0 AND v.day < w1) AS secs_w,
               sum(v.num) FILTER (WHERE v.kpi = 'call_seconds' AND v.day >= m0 AND v.day < m1) AS secs_m,
               sum(v.num) FILTER (WHERE v.kpi = 'emails' AND v.day = today) AS emails_d,
               sum(v.num) FILTER (WHERE v.kpi = 'emails' AND v.day >= w0 AND v.day < w1) AS emails_w,
               sum(v.num) FILTER (WHERE v.kpi = 'emails' AND v.day >= m0 AND v.day < m1) AS emails_m,
               sum(v.num) FILTER (WHERE v.kpi = 'visits' AND v.day = today) AS visits_d,
               sum(v.num) FILTER (WHERE v.kpi = 'visits' AND v.day >= w0 AND v.day < w1) AS visits_w,
               sum(v.num) FILTER (WHERE v.kpi = 'visits' AND v.day >= m0 AND v.day < m1) AS visits_m,
               sum(v.num) FILTER (WHERE v.kpi = 'points' AND v.day = today) AS points_d,
               sum(v.num) FILTER (WHERE v.kpi = 'points' AND v.day >= w0 AND v.day < w1) AS points_w,
               sum(v.num) FILTER (WHERE v.kpi = 'points' AND v.day >= m0 AND v.day < m1) AS points_m
          FROM v
         GROUP BY v.rep_id
    ), trend AS (
        -- Points per day of the last 14, as an array indexed by day - t0 + 1.
        SELECT d.rep_id, pg_catalog.array_agg(d.points ORDER BY d.day) AS points,
               pg_catalog.array_agg(d.day - t0 + 1 ORDER BY d.day) AS slots
          FROM (SELECT v.rep_id, v.day, sum(v.num) AS points
                  FROM v WHERE v.kpi = 'points' AND v.day >= t0 AND v.day <= today
                 GROUP BY v.rep_id, v.day) d
         GROUP BY d.rep_id
    )
    SELECT r.rep_id, r.name, m.unit_id, u.name,
           p.leads_d, p.leads_w, p.leads_m,
           p.conv_d, p.conv_w, p.conv_m,
           round(p.rev_d, s.currency_scale), round(p.rev_w, s.currency_scale),
           round(p.rev_m, s.currency_scale),
           p.calls_d, p.calls_w, p.calls_m,
           round(p.secs_d / 60, 1), round(p.secs_w / 60, 1),
           round(p.secs_m / 60, 1),
           p.emails_d, p.emails_w, p.emails_m,
           p.visits_d, p.visits_w, p.visits_m,
           p.points_d, p.points_w, p.points_m,
           CASE WHEN p.points_d IS NOT NULL THEN
               salesperf.sparkline(ARRAY(
                   SELECT COALESCE(t.points[pg_catalog.array_position(t.slots, g.i)], 0)::double precision
                     FROM pg_catalog.generate_series(1, 14) AS g(i)
                    ORDER BY g.i))
           END
      FROM salesperf.rep r
      LEFT JOIN per_rep p ON p.rep_id = r.rep_id
      LEFT JOIN trend t ON t.rep_id = r.rep_id
      LEFT JOIN salesperf.membership m ON m.rep_id = r.rep_id AND m.during @> at
      LEFT JOIN salesperf.unit u ON u.unit_id = m.unit_id
     WHERE r.active
     ORDER BY r.rep_id;
END
$$;
COMMENT ON FUNCTION salesperf.scoreboard_at(timestamptz) IS
  'Scoreboard at a moment: one row per active rep with its unit at that moment and, for the local day, week and month containing it, leads, conversions, revenue (rounded to currency_scale), calls, call minutes (one decimal), e-mails, visits and points, plus a sparkline of points over the last 14 local days. From counters, one pass over the days shown.';

CREATE VIEW salesperf.scoreboard AS
SELECT b.* FROM salesperf.scoreboard_at(pg_catalog.now()) b;
COMMENT ON VIEW salesperf.scoreboard IS
  'The page a manager opens first: every active rep today, this week and this month (salesperf.scoreboard_at(now())).';
COMMENT ON COLUMN salesperf.scoreboard.rep_id IS 'Rep (salesperf.rep).';
COMMENT ON COLUMN salesperf.scoreboard.name IS 'Rep''s name.';
COMMENT ON COLUMN salesperf.scoreboard.unit_id IS 'Unit the rep belongs to now (NULL: none).';
COMMENT ON COLUMN salesperf.scoreboard.unit IS 'Name of that unit.';
COMMENT ON COLUMN salesperf.scoreboard.leads_today IS 'Leads created (KPI leads_generated), today (the local day).';
COMMENT ON COLUMN salesperf.scoreboard.leads_week IS 'Leads created (KPI leads_generated), this week.';
COMMENT ON COLUMN salesperf.scoreboard.leads_month IS 'Leads created (KPI leads_generated), this month.';
COMMENT ON COLUMN salesperf.scoreboard.conversions_today IS 'Leads converted (KPI leads_converted), today (the local day).';
COMMENT ON COLUMN salesperf.scoreboard.conversions_week IS 'Leads converted (KPI leads_converted), this week.';
COMMENT ON COLUMN salesperf.scoreboard.conversions_month IS 'Leads converted (KPI leads_converted), this month.';
COMMENT ON COLUMN salesperf.scoreboard.revenue_today IS 'Value of deals won (KPI revenue), rounded to settings.currency_scale, today (the local day).';
COMMENT ON COLUMN salesperf.scoreboard.revenue_week IS 'Value of deals won (KPI revenue), rounded to settings.currency_scale, this week.';
COMMENT ON COLUMN salesperf.scoreboard.revenue_month IS 'Value of deals won (KPI revenue), rounded to settings.currency_scale, this month.';
COMMENT ON COLUMN salesperf.scoreboard.calls_today IS 'Calls made (KPI calls), today (the local day).';
COMMENT ON COLUMN salesperf.scoreboard.calls_week IS 'Calls made (KPI calls), this week.';
COMMENT ON COLUMN salesperf.scoreboard.calls_month IS 'Calls made (KPI calls), this month.';
COMMENT ON COLUMN salesperf.scoreboard.call_minutes_today IS 'Minutes on calls (KPI call_seconds / 60, one decimal), today (the local day).';
COMMENT ON COLUMN salesperf.scoreboard.call_minutes_week IS 'Minutes on calls (KPI call_seconds / 60, one decimal), this week.';
COMMENT ON COLUMN salesperf.scoreboard.call_minutes_month IS 'Minutes on calls (KPI call_seconds / 60, one decimal), this month.';
COMMENT ON COLUMN salesperf.scoreboard.emails_today IS 'E-mails sent (KPI emails), today (the local day).';
COMMENT ON COLUMN salesperf.scoreboard.emails_week IS 'E-mails sent (KPI emails), this week.';
COMMENT ON COLUMN salesperf.scoreboard.emails_month IS 'E-mails sent (KPI emails), this month.';
COMMENT ON COLUMN salesperf.scoreboard.visits_today IS 'Visits made (KPI visits), today (the local day).';
COMMENT ON COLUMN salesperf.scoreboard.visits_week IS 'Visits made (KPI visits), this week.';
COMMENT ON COLUMN salesperf.scoreboard.visits_month IS 'Visits made (KPI visits), this month.';
COMMENT ON COLUMN salesperf.scoreboard.points_today IS 'Points earned (KPI points), today (the local day).';
COMMENT ON COLUMN salesperf.scoreboard.points_week IS 'Points earned (KPI points), this week.';
COMMENT ON COLUMN salesperf.scoreboard.points_month IS 'Points earned (KPI points), this month.';
COMMENT ON COLUMN salesperf.scoreboard.points_trend IS 'Sparkline of points per local day over the last 14 days, oldest first.';
