-- Calendar: settings and period boundaries (SPEC §3).

-- Stored configuration.  Empty until salesperf.configure() is first called;
-- a NULL column means "the default".  Read it through salesperf.settings.
CREATE TABLE salesperf.configuration (
    singleton               boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    time_zone               text,
    week_start              integer CHECK (week_start BETWEEN 1 AND 7),
    fiscal_year_start_month integer CHECK (fiscal_year_start_month BETWEEN 1 AND 12),
    calendar                text CHECK (calendar IN ('gregorian', '4-4-5', '4-5-4', '5-4-4')),
    currency                text CHECK (currency ~ '^[A-Z]{3}$'),
    currency_scale          integer CHECK (currency_scale BETWEEN 0 AND 6)
);
COMMENT ON TABLE salesperf.configuration IS
  'Stored settings (at most one row); NULL means default. Read salesperf.settings; change with salesperf.configure().';
SELECT pg_catalog.pg_extension_config_dump('salesperf.configuration', '');

CREATE VIEW salesperf.settings AS
SELECT COALESCE(c.time_zone, 'UTC')              AS time_zone,
       COALESCE(c.week_start, 1)                 AS week_start,
       COALESCE(c.fiscal_year_start_month, 1)    AS fiscal_year_start_month,
       COALESCE(c.calendar, 'gregorian')         AS calendar,
       COALESCE(c.currency, 'USD')               AS currency,
       COALESCE(c.currency_scale, 2)             AS currency_scale
  FROM (VALUES (true)) AS one(singleton)
  LEFT JOIN salesperf.configuration c ON c.singleton = one.singleton
 LIMIT 1;  -- always exactly one row; the LIMIT tells the planner so
COMMENT ON VIEW salesperf.settings IS
  'The one row of salesperf settings in force. Change it with salesperf.configure(...).';
COMMENT ON COLUMN salesperf.settings.time_zone IS 'Time zone whose local midnights bound every period (default UTC).';
COMMENT ON COLUMN salesperf.settings.week_start IS 'First day of the week: 1 = Monday ... 7 = Sunday (default 1).';
COMMENT ON COLUMN salesperf.settings.fiscal_year_start_month IS 'Month (1-12) in which the fiscal year starts (default 1).';
COMMENT ON COLUMN salesperf.settings.calendar IS 'gregorian, or a retail calendar 4-4-5, 4-5-4 or 5-4-4.';
COMMENT ON COLUMN salesperf.settings.currency IS 'ISO 4217 code of the money amounts (default USD).';
COMMENT ON COLUMN salesperf.settings.currency_scale IS 'Decimal places money is rounded to in statements (default 2).';

-- Calendar arithmetic with explicit settings (C).  Internal building blocks
-- of period_start/period_end that bulk queries call with the settings joined
-- once per statement.
CREATE FUNCTION salesperf.calendar_start(ts timestamptz, period text, time_zone text,
                                         week_start integer, fiscal_year_start_month integer,
                                         calendar text)
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'salesperf_calendar_start'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.calendar_start(timestamptz, text, text, integer, integer, text) IS
  'Start of the period containing ts under explicit calendar settings (internal; see period_start).';

CREATE FUNCTION salesperf.calendar_end(ts timestamptz, period text, time_zone text,
                                       week_start integer, fiscal_year_start_month integer,
                                       calendar text)
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'salesperf_calendar_end'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.calendar_end(timestamptz, text, text, integer, integer, text) IS
  'Exclusive end of the period containing ts under explicit calendar settings (internal; see period_end).';

CREATE FUNCTION salesperf.period_start(ts timestamptz, period text)
RETURNS timestamptz
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT salesperf.calendar_start(ts, period, s.time_zone, s.week_start,
                                  s.fiscal_year_start_month, s.calendar)
    FROM salesperf.settings s
$$;
COMMENT ON FUNCTION salesperf.period_start(timestamptz, text) IS
  'Start (a local midnight in the configured time zone) of the day/week/month/quarter/year/all period containing ts.';

CREATE FUNCTION salesperf.period_end(ts timestamptz, period text)
RETURNS timestamptz
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT salesperf.calendar_end(ts, period, s.time_zone, s.week_start,
                                s.fiscal_year_start_month, s.calendar)
    FROM salesperf.settings s
$$;
COMMENT ON FUNCTION salesperf.period_end(timestamptz, text) IS
  'Exclusive end of the period containing ts (the next period''s start).';

CREATE FUNCTION salesperf.period_range(ts timestamptz, period text)
RETURNS tstzrange
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT pg_catalog.tstzrange(
           salesperf.calendar_start(ts, period, s.time_zone, s.week_start,
                                    s.fiscal_year_start_month, s.calendar),
           salesperf.calendar_end(ts, period, s.time_zone, s.week_start,
                                  s.fiscal_year_start_month, s.calendar),
           '[)')
    FROM salesperf.settings s
$$;
COMMENT ON FUNCTION salesperf.period_range(timestamptz, text) IS
  'Half-open range [period_start, period_end) of the period containing ts.';

-- The one definition of a local day (SPEC §3): the local date of a moment in
-- the given zone, and the first instant of a local date (where midnight is
-- skipped, the first local time that exists; where it happens twice, the
-- first one).  Every path -- ledger triggers, re-derivation, recompute() and
-- the reads -- calls these rather than spelling the conversion out.
CREATE FUNCTION salesperf.local_day(ts timestamptz, time_zone text)
RETURNS date
AS 'MODULE_PATHNAME', 'salesperf_local_day'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.local_day(timestamptz, text) IS
  'Local date of a moment in a time zone (internal; the one definition of an activity''s day).';

CREATE FUNCTION salesperf.local_day_start(day date, time_zone text)
RETURNS timestamptz
AS 'MODULE_PATHNAME', 'salesperf_local_day_start'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.local_day_start(date, text) IS
  'First instant of a local date in a time zone: the first local midnight, or the first local time after a skipped one (internal).';

-- Every write of salesperf.configuration, through configure() or directly,
-- is validated here, so a bad value never reaches the stored settings.
CREATE FUNCTION salesperf.configuration_check()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW.time_zone IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_names z WHERE z.name = NEW.time_zone) THEN
        RAISE EXCEPTION 'unknown time zone "%"', NEW.time_zone
            USING ERRCODE = '22023', HINT = 'See pg_timezone_names for valid names.';
    END IF;
    IF NEW.week_start IS NOT NULL AND NEW.week_start NOT BETWEEN 1 AND 7 THEN
        RAISE EXCEPTION 'week_start % is out of range', NEW.week_start
            USING ERRCODE = '22023', HINT = 'Use 1 (Monday) to 7 (Sunday).';
    END IF;
    IF NEW.fiscal_year_start_month IS NOT NULL AND NEW.fiscal_year_start_month NOT BETWEEN 1 AND 12 THEN
        RAISE EXCEPTION 'fiscal_year_start_month % is out of range', NEW.fiscal_year_start_month
            USING ERRCODE = '22023', HINT = 'Use a month number from 1 to 12.';
    END IF;
    IF NEW.calendar IS NOT NULL AND NEW.calendar NOT IN ('gregorian', '4-4-5', '4-5-4', '5-4-4') THEN
        RAISE EXCEPTION 'unknown calendar "%"', NEW.calendar
            USING ERRCODE = '22023', HINT = 'Use gregorian, 4-4-5, 4-5-4 or 5-4-4.';
    END IF;
    IF NEW.currency IS NOT NULL AND NEW.currency !~ '^[A-Z]{3}$' THEN
        RAISE EXCEPTION 'invalid currency code "%"', NEW.currency
            USING ERRCODE = '22023', HINT = 'Use a three-letter ISO 4217 code such as USD or EUR.';
    END IF;
    IF NEW.currency_scale IS NOT NULL AND NEW.currency_scale NOT BETWEEN 0 AND 6 THEN
        RAISE EXCEPTION 'currency_scale % is out of range', NEW.currency_scale
            USING ERRCODE = '22023', HINT = 'Use 0 to 6 decimal places.';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER configuration_check BEFORE INSERT OR UPDATE ON salesperf.configuration
    FOR EACH ROW EXECUTE FUNCTION salesperf.configuration_check();

-- A change that moves period boundaries (time zone, week start, fiscal
-- year, calendar) rebuilds everything keyed by day or period, whether it
-- came through configure() or a direct write (a deleted row means the
-- defaults).
CREATE FUNCTION salesperf.configuration_changed()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    before text[];
    after  text[];
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM salesperf.recompute();
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        before := ARRAY[COALESCE(OLD.time_zone, 'UTC'), COALESCE(OLD.week_start, 1)::text,
                        COALESCE(OLD.fiscal_year_start_month, 1)::text, COALESCE(OLD.calendar, 'gregorian')];
    ELSE
        before := ARRAY['UTC', '1', '1', 'gregorian'];
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        after := ARRAY[COALESCE(NEW.time_zone, 'UTC'), COALESCE(NEW.week_start, 1)::text,
                       COALESCE(NEW.fiscal_year_start_month, 1)::text, COALESCE(NEW.calendar, 'gregorian')];
    ELSE
        after := ARRAY['UTC', '1', '1', 'gregorian'];
    END IF;
    IF before IS DISTINCT FROM after THEN
        PERFORM salesperf.recompute();
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER configuration_changed AFTER INSERT OR UPDATE OR DELETE ON salesperf.configuration
    FOR EACH ROW EXECUTE FUNCTION salesperf.configuration_changed();
CREATE TRIGGER configuration_truncated AFTER TRUNCATE ON salesperf.configuration
    FOR EACH STATEMENT EXECUTE FUNCTION salesperf.configuration_changed();

CREATE FUNCTION salesperf.configure(
    time_zone               text    DEFAULT NULL,
    week_start              integer DEFAULT NULL,
    fiscal_year_start_month integer DEFAULT NULL,
    calendar                text    DEFAULT NULL,
    currency                text    DEFAULT NULL,
    currency_scale          integer DEFAULT NULL)
RETURNS salesperf.settings
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    after salesperf.settings;
BEGIN
    -- Serialize configuration changes (and the rebuild they may trigger).
    -- The triggers on salesperf.configuration validate the values and
    -- rebuild derived state when period boundaries move.
    LOCK TABLE salesperf.configuration IN SHARE ROW EXCLUSIVE MODE;
    INSERT INTO salesperf.configuration AS c
           (singleton, time_zone, week_start, fiscal_year_start_month, calendar, currency, currency_scale)
    VALUES (true, configure.time_zone, configure.week_start, configure.fiscal_year_start_month,
            configure.calendar, configure.currency, configure.currency_scale)
    ON CONFLICT (singleton) DO UPDATE SET
        time_zone               = COALESCE(EXCLUDED.time_zone, c.time_zone),
        week_start              = COALESCE(EXCLUDED.week_start, c.week_start),
        fiscal_year_start_month = COALESCE(EXCLUDED.fiscal_year_start_month, c.fiscal_year_start_month),
        calendar                = COALESCE(EXCLUDED.calendar, c.calendar),
        currency                = COALESCE(EXCLUDED.currency, c.currency),
        currency_scale          = COALESCE(EXCLUDED.currency_scale, c.currency_scale);
    SELECT * INTO after FROM salesperf.settings;
    RETURN after;
END
$$;
COMMENT ON FUNCTION salesperf.configure(text, integer, integer, text, text, integer) IS
  'Change settings by named arguments (NULL leaves a setting unchanged); a change that moves period boundaries rebuilds derived state.';
