-- salesperf 0.1.0 release script, kept as built so that databases on 0.1.0 can be upgraded (ALTER EXTENSION salesperf UPDATE) and the upgrade tested; never edit it.
-- salesperf install script, assembled by the Makefile from sql/install/*.sql.
-- Every object is created plainly (never OR REPLACE / IF NOT EXISTS) and every
-- reference is schema-qualified.

\echo Use "CREATE EXTENSION salesperf" to load this file. \quit

-- A schema named salesperf that another role owns could hold look-alike
-- functions and operators planted before the install: refuse it.
DO $$
DECLARE
    owner name;
BEGIN
    SELECT r.rolname INTO owner
      FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_roles r ON r.oid = n.nspowner
     WHERE n.nspname = 'salesperf';
    IF owner IS DISTINCT FROM CURRENT_USER THEN
        RAISE EXCEPTION 'schema salesperf is owned by role "%", not by "%" who installs the extension', owner, CURRENT_USER
            USING ERRCODE = '42501',
                  HINT = 'Drop or rename that schema (or install as its owner) before CREATE EXTENSION salesperf.';
    END IF;
END
$$;

COMMENT ON SCHEMA salesperf IS
  'salesperf: sales-performance management (activity ledger, KPIs, points, leaderboards, pipeline and forecasts)';
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
-- Organisation: reps, the unit tree and temporal membership (SPEC §4).

CREATE TABLE salesperf.rep (
    rep_id       bigint PRIMARY KEY,
    name         text NOT NULL,
    external_ref text UNIQUE,
    db_role      name,
    active       boolean NOT NULL DEFAULT true
);
CREATE INDEX rep_inactive_idx ON salesperf.rep (rep_id) WHERE NOT active;
COMMENT ON TABLE salesperf.rep IS 'Sales reps; rep_id is normally the CRM''s user id.';
COMMENT ON COLUMN salesperf.rep.rep_id IS 'Rep id (normally the CRM user id).';
COMMENT ON COLUMN salesperf.rep.name IS 'Display name.';
COMMENT ON COLUMN salesperf.rep.external_ref IS 'Optional unique reference in another system (HR id, e-mail).';
COMMENT ON COLUMN salesperf.rep.db_role IS 'Database login that acts as this rep (row-level security).';
COMMENT ON COLUMN salesperf.rep.active IS 'Inactive reps keep their history but leave leaderboards.';
SELECT pg_catalog.pg_extension_config_dump('salesperf.rep', '');

CREATE TABLE salesperf.unit (
    unit_id        bigint PRIMARY KEY,
    parent_id      bigint REFERENCES salesperf.unit (unit_id),
    name           text NOT NULL,
    kind           text NOT NULL DEFAULT 'team' CHECK (kind <> ''),
    manager_rep_id bigint REFERENCES salesperf.rep (rep_id) ON DELETE SET NULL
    -- a unit that is its own parent is a cycle: rebuild_unit_tree() refuses it (22023)
);
CREATE INDEX unit_parent_idx ON salesperf.unit (parent_id);
COMMENT ON TABLE salesperf.unit IS 'Org chart: company / region / department / team, any depth, no cycles.';
COMMENT ON COLUMN salesperf.unit.parent_id IS 'Parent unit; NULL for a root.';
COMMENT ON COLUMN salesperf.unit.kind IS 'Free label such as company, region, department, team (boards filter on it).';
COMMENT ON COLUMN salesperf.unit.manager_rep_id IS 'Rep who manages the unit and sees its whole subtree.';
SELECT pg_catalog.pg_extension_config_dump('salesperf.unit', '');

-- Closure of the unit tree: one row per (ancestor, descendant), self included
-- at depth 0.  Maintained by trigger; answers "all units under X" with one
-- index scan.
CREATE TABLE salesperf.unit_tree (
    ancestor_id   bigint NOT NULL REFERENCES salesperf.unit (unit_id) ON DELETE CASCADE,
    descendant_id bigint NOT NULL REFERENCES salesperf.unit (unit_id) ON DELETE CASCADE,
    depth         integer NOT NULL CHECK (depth >= 0),
    PRIMARY KEY (ancestor_id, descendant_id)
);
CREATE INDEX unit_tree_descendant_idx ON salesperf.unit_tree (descendant_id, depth);
COMMENT ON TABLE salesperf.unit_tree IS
  'Closure of the unit tree (maintained automatically): every ancestor/descendant pair, self at depth 0.';

-- The closure computed from the unit table (loops forever on a cycle: call
-- it only once rebuild_unit_tree() has ruled cycles out).
CREATE VIEW salesperf.unit_closure AS
WITH RECURSIVE closure AS (
    SELECT u.unit_id AS ancestor_id, u.unit_id AS descendant_id, 0 AS depth FROM salesperf.unit u
    UNION ALL
    SELECT c.ancestor_id, u.unit_id, c.depth + 1
      FROM closure c JOIN salesperf.unit u ON u.parent_id = c.descendant_id)
SELECT closure.ancestor_id, closure.descendant_id, closure.depth FROM closure;
COMMENT ON VIEW salesperf.unit_closure IS
  'Internal: the unit tree''s closure computed from salesperf.unit (salesperf.unit_tree keeps it materialized).';
COMMENT ON COLUMN salesperf.unit_closure.ancestor_id IS 'A unit.';
COMMENT ON COLUMN salesperf.unit_closure.descendant_id IS 'A unit in its subtree (itself included).';
COMMENT ON COLUMN salesperf.unit_closure.depth IS 'Levels between them (0 for the unit itself).';

-- Rebuild the closure from the unit table: statement-level, so it does not
-- matter in which order a statement (or a restore's COPY) writes units, and
-- a cycle made by one statement that moves several units at once is seen
-- whole.  Only the rows that differ are written.  Units are few (the org
-- chart, not the ledger), so each statement rebuilds the whole closure.
CREATE FUNCTION salesperf.rebuild_unit_tree()
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    looped bigint[];
BEGIN
    -- Serialize org changes, so two moves cannot form a cycle together.
    LOCK TABLE salesperf.unit_tree IN SHARE ROW EXCLUSIVE MODE;
    -- A unit that cannot be reached from a root is in (or under) a cycle.
    WITH RECURSIVE reached AS (
        SELECT u.unit_id FROM salesperf.unit u WHERE u.parent_id IS NULL
        UNION
        SELECT u.unit_id FROM reached r JOIN salesperf.unit u ON u.parent_id = r.unit_id)
    SELECT pg_catalog.array_agg(u.unit_id ORDER BY u.unit_id) INTO looped
      FROM salesperf.unit u
     WHERE NOT EXISTS (SELECT 1 FROM reached r WHERE r.unit_id = u.unit_id);
    IF looped IS NOT NULL THEN
        RAISE EXCEPTION 'units % would form a cycle', pg_catalog.array_to_string(looped, ', ')
            USING ERRCODE = '22023',
                  DETAIL = 'Following parent_id from these units never reaches a unit without a parent.',
                  HINT = 'A unit cannot be moved inside its own subtree.';
    END IF;

    DELETE FROM salesperf.unit_tree t
     WHERE NOT EXISTS (SELECT 1 FROM salesperf.unit_closure c
                        WHERE c.ancestor_id = t.ancestor_id AND c.descendant_id = t.descendant_id
                          AND c.depth = t.depth);

    INSERT INTO salesperf.unit_tree (ancestor_id, descendant_id, depth)
    SELECT c.ancestor_id, c.descendant_id, c.depth
      FROM salesperf.unit_closure c
     WHERE NOT EXISTS (SELECT 1 FROM salesperf.unit_tree t
                        WHERE t.ancestor_id = c.ancestor_id AND t.descendant_id = c.descendant_id)
     ORDER BY 1, 2;
END
$$;
COMMENT ON FUNCTION salesperf.rebuild_unit_tree() IS
  'Internal: bring salesperf.unit_tree in line with salesperf.unit; refuses parent links that form a cycle (22023).';

-- Unit ids are stable: history and boards refer to them.
CREATE FUNCTION salesperf.unit_guard()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'unit_id of unit % cannot change', OLD.unit_id
        USING ERRCODE = '22023', HINT = 'Create a new unit and reassign its members instead.';
END
$$;

CREATE TRIGGER unit_guard
    BEFORE UPDATE OF unit_id ON salesperf.unit
    FOR EACH ROW WHEN (OLD.unit_id <> NEW.unit_id) EXECUTE FUNCTION salesperf.unit_guard();

-- Temporal membership: half-open ranges [since, until), no overlaps per rep.
-- Overlaps are refused by the statement triggers (membership_changed, in
-- 55_maintenance.sql) under the rep locks, with the same error an exclusion
-- constraint would raise (23P01, membership_no_overlap): a GiST exclusion
-- over (rep, range) made every inserted row search and extend a
-- two-column GiST index (about 8 s for 100,000 rows, most of an org
-- import), while the check over the btree on (rep_id, lower(during)) is
-- one ordered pass per statement.
CREATE TABLE salesperf.membership (
    rep_id  bigint NOT NULL REFERENCES salesperf.rep (rep_id) ON DELETE CASCADE,
    unit_id bigint NOT NULL REFERENCES salesperf.unit (unit_id),
    during  tstzrange NOT NULL,
    CONSTRAINT membership_half_open CHECK (
        NOT pg_catalog.isempty(during) AND NOT pg_catalog.lower_inf(during)
        AND pg_catalog.lower_inc(during) AND NOT pg_catalog.upper_inc(during))
);
CREATE INDEX membership_rep_idx ON salesperf.membership (rep_id, pg_catalog.lower(during));
CREATE INDEX membership_unit_idx ON salesperf.membership (unit_id);
-- "Who was a member during this period": board and contest participants.
CREATE INDEX membership_during_idx ON salesperf.membership USING gist (during);
COMMENT ON TABLE salesperf.membership IS
  'Which unit each rep belonged to when: half-open ranges [since, until), never overlapping for one rep. Write it with salesperf.assign().';
COMMENT ON COLUMN salesperf.membership.during IS 'Half-open time range of the membership; an open upper bound means "still there".';
SELECT pg_catalog.pg_extension_config_dump('salesperf.membership', '');

CREATE FUNCTION salesperf.unit_of(rep_id bigint, at timestamptz DEFAULT pg_catalog.now())
RETURNS bigint
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT m.unit_id FROM salesperf.membership m
   WHERE m.rep_id = unit_of.rep_id AND m.during @> unit_of.at
$$;
COMMENT ON FUNCTION salesperf.unit_of(bigint, timestamptz) IS
  'The unit a rep belonged to at a moment (NULL if none).';

CREATE FUNCTION salesperf.assign(rep_id bigint, unit_id bigint,
                                 since timestamptz DEFAULT pg_catalog.now())
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
-- Its plans are generic and kept for the session (an import calls it once
-- per rep: planning would cost more than running), and one planned while
-- the membership table was empty and freshly analyzed would scan it whole
-- on every later call.  Every read here is a probe by key.
SET enable_seqscan = off
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    cur   salesperf.membership;
    later timestamptz;
BEGIN
    IF rep_id IS NULL OR unit_id IS NULL OR since IS NULL THEN
        RAISE EXCEPTION 'assign() needs a rep_id, a unit_id and a since moment'
            USING ERRCODE = '22004';
    END IF;
    IF since IN ('infinity', '-infinity') THEN
        RAISE EXCEPTION 'since must be a finite moment, not %', since USING ERRCODE = '22008';
    END IF;
    -- The rep row lock serializes changes of one rep's derived state (the
    -- ledger triggers take the same lock, see lock_reps); it raises 42704
    -- for an unknown rep.
    PERFORM salesperf.lock_reps(ARRAY[assign.rep_id]);
    PERFORM 1 FROM salesperf.unit u WHERE u.unit_id = assign.unit_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown unit %', unit_id USING ERRCODE = '42704', HINT = 'See salesperf.unit.';
    END IF;

    -- One probe of the btree on (rep_id, lower(during)): the rep's latest
    -- membership.  Memberships never overlap, so if it starts at or before
    -- since it is the only one that can hold since.
    SELECT * INTO cur FROM salesperf.membership m
     WHERE m.rep_id = assign.rep_id
     ORDER BY pg_catalog.lower(m.during) DESC
     LIMIT 1;
    IF FOUND AND pg_catalog.lower(cur.during) > since THEN
        SELECT pg_catalog.min(pg_catalog.lower(m.during)) INTO later
          FROM salesperf.membership m
         WHERE m.rep_id = assign.rep_id AND pg_catalog.lower(m.during) > since;
        RAISE EXCEPTION 'rep % already has a membership starting at %, after %', rep_id, later, since
            USING ERRCODE = '23P01',
                  HINT = 'Memberships never overlap: change or delete the later membership first.';
    END IF;

    IF FOUND AND cur.during @> since THEN
        IF cur.unit_id = assign.unit_id THEN
            RETURN;                               -- already there
        END IF;
        IF pg_catalog.lower(cur.during) = since THEN
            DELETE FROM salesperf.membership m
             WHERE m.rep_id = cur.rep_id AND pg_catalog.lower(m.during) = pg_catalog.lower(cur.during);
        ELSE
            UPDATE salesperf.membership m
               SET during = pg_catalog.tstzrange(pg_catalog.lower(cur.during), since, '[)')
             WHERE m.rep_id = cur.rep_id AND pg_catalog.lower(m.during) = pg_catalog.lower(cur.during);
        END IF;
    END IF;
    INSERT INTO salesperf.membership (rep_id, unit_id, during)
    VALUES (assign.rep_id, assign.unit_id, pg_catalog.tstzrange(since, NULL, '[)'));
END
$$;
COMMENT ON FUNCTION salesperf.assign(bigint, bigint, timestamptz) IS
  'Move a rep to a unit from `since` on: ends the current membership at `since` and opens the new one. Back-dating re-attributes activities.';
-- The activity ledger (SPEC §5).  Every derived number (awards, counters,
-- standings) is maintained from it by the C triggers in src/ledger_trigger.c
-- and can be rebuilt from it by salesperf.recompute().

CREATE TABLE salesperf.activity_kind (
    kind        text PRIMARY KEY CHECK (kind ~ '^[a-z][a-z0-9_]*$'),
    unit        text NOT NULL DEFAULT 'count',
    description text,
    builtin     boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE salesperf.activity_kind IS 'Kinds of activity the ledger records (seeded; add your own).';
COMMENT ON COLUMN salesperf.activity_kind.unit IS 'What an activity''s amount measures: count, seconds, currency, points.';
COMMENT ON COLUMN salesperf.activity_kind.builtin IS 'Seeded by the extension (not dumped by pg_dump).';
INSERT INTO salesperf.activity_kind (kind, unit, description, builtin) VALUES
    ('lead_created',   'count',    'A lead was created', true),
    ('lead_converted', 'count',    'A lead was converted into an opportunity or customer', true),
    ('call',           'seconds',  'A call; amount is its duration in seconds', true),
    ('email',          'count',    'An e-mail sent to a prospect or customer', true),
    ('message',        'count',    'A chat or text message', true),
    ('meeting',        'count',    'A meeting held', true),
    ('visit',          'count',    'An on-site visit', true),
    ('deal_won',       'currency', 'A deal won; amount is its value', true),
    ('deal_lost',      'currency', 'A deal lost; amount is its value', true),
    ('bonus',          'points',   'Bonus points; amount is the number of points', true);
SELECT pg_catalog.pg_extension_config_dump('salesperf.activity_kind', 'WHERE NOT builtin');

-- Seeded rows (activity kinds, KPIs, stages) are created by the install
-- script and not dumped while unchanged.  An edited seed is the user's:
-- seed_edited() clears its builtin flag so pg_dump carries it, and on
-- restore (session_replication_role = replica, the documented recipe)
-- seed_restored() lets the dumped row replace the freshly seeded one of
-- the same key instead of colliding with it.  TG_ARGV[0] names the key.
CREATE FUNCTION salesperf.seed_edited()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF OLD.builtin AND NEW.builtin AND pg_catalog.to_jsonb(NEW) <> pg_catalog.to_jsonb(OLD) THEN
        NEW.builtin := false;
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION salesperf.seed_restored()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF pg_catalog.current_setting('session_replication_role') = 'replica' AND NOT NEW.builtin THEN
        EXECUTE pg_catalog.format('DELETE FROM salesperf.%I t WHERE t.%I = $1 AND t.builtin',
                                  TG_TABLE_NAME, TG_ARGV[0])
          USING pg_catalog.to_jsonb(NEW) ->> TG_ARGV[0];
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER activity_kind_seed_edited BEFORE UPDATE ON salesperf.activity_kind
    FOR EACH ROW EXECUTE FUNCTION salesperf.seed_edited();
CREATE TRIGGER activity_kind_seed_restored BEFORE INSERT ON salesperf.activity_kind
    FOR EACH ROW EXECUTE FUNCTION salesperf.seed_restored('kind');
ALTER TABLE salesperf.activity_kind ENABLE ALWAYS TRIGGER activity_kind_seed_restored;

CREATE TABLE salesperf.activity (
    activity_id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    rep_id      bigint NOT NULL,
    kind        text NOT NULL,
    amount      numeric NOT NULL DEFAULT 1,
    occurred_at timestamptz NOT NULL,
    source      text,
    source_key  text,
    attrs       jsonb,
    recorded_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
-- Idempotency: one activity per (kind, source, source_key) when a key is given.
CREATE UNIQUE INDEX activity_source_key_idx ON salesperf.activity (kind, source, source_key)
    NULLS NOT DISTINCT WHERE source_key IS NOT NULL;
CREATE INDEX activity_rep_time_idx ON salesperf.activity (rep_id, occurred_at);
COMMENT ON TABLE salesperf.activity IS
  'The ledger: one row per thing a rep did. Insert, update and delete freely; every derived number follows.';
COMMENT ON COLUMN salesperf.activity.rep_id IS 'Rep who did it (salesperf.rep).';
COMMENT ON COLUMN salesperf.activity.kind IS 'Activity kind (salesperf.activity_kind).';
COMMENT ON COLUMN salesperf.activity.amount IS 'Non-negative amount: 1 for a count, seconds for a call, money for a deal, points for a bonus.';
COMMENT ON COLUMN salesperf.activity.occurred_at IS 'When it happened; decides its day, period and the rep''s unit.';
COMMENT ON COLUMN salesperf.activity.source IS 'Where it came from (a CRM table, an integration).';
COMMENT ON COLUMN salesperf.activity.source_key IS 'Idempotency key within (kind, source).';
COMMENT ON COLUMN salesperf.activity.attrs IS 'Free-form attributes.';
COMMENT ON COLUMN salesperf.activity.recorded_at IS 'When the row was written.';
SELECT pg_catalog.pg_extension_config_dump('salesperf.activity', '');
SELECT pg_catalog.pg_extension_config_dump('salesperf.activity_activity_id_seq', '');

-- History must not point at reps or kinds that vanish.
CREATE FUNCTION salesperf.guard_referenced_by_ledger()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_TABLE_NAME = 'rep' THEN
        -- Every writer of a rep's activities locks the rep's row (lock_reps),
        -- so this DELETE has waited for them: what they wrote is visible.
        IF EXISTS (SELECT 1 FROM salesperf.activity a WHERE a.rep_id = OLD.rep_id) THEN
            RAISE EXCEPTION 'rep % has activities and cannot be deleted', OLD.rep_id
                USING ERRCODE = '23503', HINT = 'Set salesperf.rep.active to false instead.';
        END IF;
        RETURN OLD;
    END IF;
    -- Kinds are not locked per write: wait for the writers in flight instead.
    LOCK TABLE salesperf.activity IN SHARE MODE;
    IF EXISTS (SELECT 1 FROM salesperf.activity a WHERE a.kind = OLD.kind) THEN
        RAISE EXCEPTION 'activity kind "%" is in use and cannot be deleted', OLD.kind
            USING ERRCODE = '23503';
    END IF;
    RETURN OLD;
END
$$;
CREATE TRIGGER rep_guard BEFORE DELETE ON salesperf.rep
    FOR EACH ROW EXECUTE FUNCTION salesperf.guard_referenced_by_ledger();
CREATE TRIGGER activity_kind_guard BEFORE DELETE ON salesperf.activity_kind
    FOR EACH ROW EXECUTE FUNCTION salesperf.guard_referenced_by_ledger();
CREATE FUNCTION salesperf.guard_key_change()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION '% keys cannot change', TG_TABLE_NAME
        USING ERRCODE = '22023', HINT = 'Create a new row instead.';
END
$$;
CREATE TRIGGER rep_key_guard BEFORE UPDATE OF rep_id ON salesperf.rep
    FOR EACH ROW WHEN (OLD.rep_id <> NEW.rep_id) EXECUTE FUNCTION salesperf.guard_key_change();
CREATE TRIGGER activity_kind_key_guard BEFORE UPDATE OF kind ON salesperf.activity_kind
    FOR EACH ROW WHEN (OLD.kind <> NEW.kind) EXECUTE FUNCTION salesperf.guard_key_change();
-- Point rules, capped awards and KPI counters (SPEC §6).

CREATE TABLE salesperf.point_rule (
    rule_id           integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name              text NOT NULL UNIQUE,
    kind              text NOT NULL REFERENCES salesperf.activity_kind (kind),
    points            numeric NOT NULL DEFAULT 0,
    points_per_amount numeric NOT NULL DEFAULT 0,
    daily_cap         numeric,
    valid             tstzrange NOT NULL DEFAULT '(,)',
    active            boolean NOT NULL DEFAULT true,
    CONSTRAINT point_rule_finite CHECK (
        points > '-Infinity' AND points < 'Infinity'
        AND points_per_amount > '-Infinity' AND points_per_amount < 'Infinity'),
    CONSTRAINT point_rule_cap_positive CHECK (daily_cap > 0 AND daily_cap < 'Infinity'),
    -- "Earn in order until the cap is reached" needs non-negative earnings.
    CONSTRAINT point_rule_capped_non_negative CHECK (
        daily_cap IS NULL OR (points >= 0 AND points_per_amount >= 0)),
    CONSTRAINT point_rule_valid_not_empty CHECK (NOT pg_catalog.isempty(valid))
);
COMMENT ON TABLE salesperf.point_rule IS
  'Scoring: an activity earns points + points_per_amount x amount from every active rule of its kind valid at occurred_at, at most daily_cap per rep per local day per rule. Edits re-derive at once.';
COMMENT ON COLUMN salesperf.point_rule.daily_cap IS 'Most points the rule awards one rep in one local day (NULL: no cap).';
COMMENT ON COLUMN salesperf.point_rule.valid IS 'When the rule applies (to occurred_at). End it and add a new rule to change scoring from a date on.';
SELECT pg_catalog.pg_extension_config_dump('salesperf.point_rule', '');
SELECT pg_catalog.pg_extension_config_dump('salesperf.point_rule_rule_id_seq', '');

-- Rules written directly get the SQLSTATEs the rest of the API uses
-- (SPEC §13) instead of constraint names: the constraints above stay as
-- the last line of defence.
CREATE FUNCTION salesperf.point_rule_check()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW.name IS NULL OR NEW.kind IS NULL OR NEW.points IS NULL OR NEW.points_per_amount IS NULL THEN
        RAISE EXCEPTION 'a point rule needs a name, a kind, points and points_per_amount' USING ERRCODE = '22004';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM salesperf.activity_kind k WHERE k.kind = NEW.kind) THEN
        RAISE EXCEPTION 'unknown activity kind "%"', NEW.kind
            USING ERRCODE = '42704', HINT = 'See salesperf.activity_kind.';
    END IF;
    IF NEW.points IN ('NaN', 'Infinity', '-Infinity') OR NEW.points_per_amount IN ('NaN', 'Infinity', '-Infinity') THEN
        RAISE EXCEPTION 'point rule "%" needs finite points and points_per_amount, not % and %',
                        NEW.name, NEW.points, NEW.points_per_amount USING ERRCODE = '22003';
    END IF;
    IF NEW.daily_cap IS NOT NULL THEN
        IF NEW.daily_cap <= 0 OR NEW.daily_cap IN ('NaN', 'Infinity') THEN
            RAISE EXCEPTION 'invalid daily_cap % in point rule "%"', NEW.daily_cap, NEW.name
                USING ERRCODE = '22003', DETAIL = 'A cap is a finite number of points above zero; NULL means no cap.';
        END IF;
        IF NEW.points < 0 OR NEW.points_per_amount < 0 THEN
            RAISE EXCEPTION 'capped point rule "%" cannot award negative points', NEW.name
                USING ERRCODE = '22003', DETAIL = 'Points are earned in order until the cap: earnings must not be negative.';
        END IF;
    END IF;
    IF NEW.valid IS NULL OR pg_catalog.isempty(NEW.valid) THEN
        RAISE EXCEPTION 'point rule "%" needs a non-empty validity range', NEW.name USING ERRCODE = '22023';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER point_rule_check BEFORE INSERT OR UPDATE ON salesperf.point_rule
    FOR EACH ROW EXECUTE FUNCTION salesperf.point_rule_check();

-- Awards of capped rules.  Uncapped awards are a pure function of the
-- activity and the rules (see salesperf.scored_activity) and are not stored;
-- a capped award depends on the rep's other activities that day, so it is.
CREATE TABLE salesperf.capped_award (
    activity_id bigint NOT NULL,
    rule_id     integer NOT NULL,
    rep_id      bigint NOT NULL,
    day         date NOT NULL,
    kind        text NOT NULL,
    points      numeric NOT NULL,
    PRIMARY KEY (activity_id, rule_id)
);
CREATE INDEX capped_award_rep_day_idx ON salesperf.capped_award (rep_id, day);
COMMENT ON TABLE salesperf.capped_award IS
  'Derived: points each activity earned from a capped rule (earned in occurred_at order until the daily cap).';

-- Per rep x unit (as of occurred_at) x local day x kind.
CREATE TABLE salesperf.kpi_counter (
    rep_id         bigint NOT NULL,
    unit_id        bigint,
    day            date NOT NULL,
    kind           text NOT NULL,
    activities     bigint NOT NULL,
    amount         numeric NOT NULL,
    points         numeric NOT NULL,
    last_at        timestamptz,
    last_amount_at timestamptz,
    last_point_at  timestamptz
);
CREATE UNIQUE INDEX kpi_counter_key ON salesperf.kpi_counter (rep_id, day, kind, unit_id) NULLS NOT DISTINCT;
CREATE INDEX kpi_counter_unit_day_idx ON salesperf.kpi_counter (unit_id, day);
CREATE INDEX kpi_counter_day_idx ON salesperf.kpi_counter (day);
COMMENT ON TABLE salesperf.kpi_counter IS
  'Derived: activities, amount and points per rep, unit (as of occurred_at), local day and kind. KPIs and leaderboards read these, never the ledger.';
COMMENT ON COLUMN salesperf.kpi_counter.unit_id IS 'Unit the rep belonged to at the activities'' time (NULL: none).';
COMMENT ON COLUMN salesperf.kpi_counter.last_at IS 'Latest occurred_at among these activities.';
COMMENT ON COLUMN salesperf.kpi_counter.last_amount_at IS 'Latest occurred_at among those with a non-zero amount.';
COMMENT ON COLUMN salesperf.kpi_counter.last_point_at IS 'Latest occurred_at among those that earned non-zero points.';

-- Uncapped scoring, in C: the rules are read once per query.
CREATE FUNCTION salesperf.rule_points(kind text, amount numeric, occurred_at timestamptz)
RETURNS numeric
AS 'MODULE_PATHNAME', 'salesperf_rule_points'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.rule_points(text, numeric, timestamptz) IS
  'Points an activity earns from the active uncapped rules of its kind in force at occurred_at (plus its amount for a bonus).';

CREATE FUNCTION salesperf.has_capped_rule(kind text, occurred_at timestamptz)
RETURNS boolean
AS 'MODULE_PATHNAME', 'salesperf_has_capped_rule'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.has_capped_rule(text, timestamptz) IS
  'Whether an active capped rule of that kind is in force at that moment.';

-- Every activity with its unit, local day and points: the one definition of
-- scoring that re-derivation and recompute() share.
CREATE VIEW salesperf.scored_activity AS
SELECT a.activity_id,
       a.rep_id,
       m.unit_id,
       salesperf.local_day(a.occurred_at, s.time_zone) AS day,
       a.kind,
       a.amount,
       a.occurred_at,
       salesperf.rule_points(a.kind, a.amount, a.occurred_at) + capped.points AS points
  FROM salesperf.activity a
 CROSS JOIN salesperf.settings s
  LEFT JOIN salesperf.membership m
         ON m.rep_id = a.rep_id AND m.during @> a.occurred_at
 CROSS JOIN LATERAL (
       SELECT COALESCE(pg_catalog.sum(c.points), 0) AS points
         FROM salesperf.capped_award c
        WHERE c.activity_id = a.activity_id) capped;
COMMENT ON VIEW salesperf.scored_activity IS
  'Every activity with the unit it counts for, its local day and the points it earned (all rules, caps and bonus).';
COMMENT ON COLUMN salesperf.scored_activity.activity_id IS 'The activity (salesperf.activity).';
COMMENT ON COLUMN salesperf.scored_activity.rep_id IS 'Rep who did it.';
COMMENT ON COLUMN salesperf.scored_activity.unit_id IS 'Unit the rep belonged to at occurred_at (NULL: none).';
COMMENT ON COLUMN salesperf.scored_activity.day IS 'Local date of occurred_at in the configured time zone.';
COMMENT ON COLUMN salesperf.scored_activity.kind IS 'Activity kind.';
COMMENT ON COLUMN salesperf.scored_activity.amount IS 'Amount recorded.';
COMMENT ON COLUMN salesperf.scored_activity.occurred_at IS 'When it happened.';
COMMENT ON COLUMN salesperf.scored_activity.points IS 'Points earned from every rule in force (capped rules after their daily cap) and, for bonus, its amount.';

-- Re-derive capped awards and counters of the given (rep, local day) pairs
-- from the ledger.  Callers lock the reps first (see lock_reps) and refresh
-- standings afterwards.
CREATE FUNCTION salesperf.rederive_days(rep_ids bigint[], days date[], kinds text[] DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    tz text := (SELECT s.time_zone FROM salesperf.settings s);
BEGIN
    DELETE FROM salesperf.capped_award c
     USING (SELECT DISTINCT * FROM unnest(rep_ids, days)) AS k(rep_id, day)
     WHERE c.rep_id = k.rep_id AND c.day = k.day
       AND (kinds IS NULL OR c.kind = ANY (kinds));

    INSERT INTO salesperf.capped_award (activity_id, rule_id, rep_id, day, kind, points)
    SELECT t.activity_id, t.rule_id, t.rep_id, t.day, t.kind, t.earned
      FROM (SELECT a.activity_id, r.rule_id, a.rep_id, k.day, a.kind,
                   LEAST(x.raw, GREATEST(0, r.daily_cap - COALESCE(sum(x.raw) OVER (
                         PARTITION BY a.rep_id, k.day, r.rule_id
                         ORDER BY a.occurred_at, a.activity_id
                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0))) AS earned
              FROM (SELECT DISTINCT * FROM unnest(rep_ids, days)) AS k(rep_id, day)
              JOIN salesperf.activity a
                ON a.rep_id = k.rep_id
               AND a.occurred_at >= salesperf.local_day_start(k.day, tz)
               AND a.occurred_at <  salesperf.local_day_start(k.day + 1, tz)
              JOIN salesperf.point_rule r
                ON r.kind = a.kind AND r.active AND r.daily_cap IS NOT NULL
               AND r.valid @> a.occurred_at
             CROSS JOIN LATERAL (SELECT r.points + r.points_per_amount * a.amount AS raw) x
             WHERE kinds IS NULL OR a.kind = ANY (kinds)) t
     WHERE t.earned <> 0
    -- Only a concurrent writer of the same rep can have written the key
    -- meanwhile, and the rep lock rules that out under READ COMMITTED; under
    -- SERIALIZABLE (an older snapshot) this turns the clash into 40001.
    ON CONFLICT (activity_id, rule_id) DO UPDATE
       SET rep_id = EXCLUDED.rep_id, day = EXCLUDED.day, kind = EXCLUDED.kind, points = EXCLUDED.points;

    DELETE FROM salesperf.kpi_counter c
     USING (SELECT DISTINCT * FROM unnest(rep_ids, days)) AS k(rep_id, day)
     WHERE c.rep_id = k.rep_id AND c.day = k.day
       AND (kinds IS NULL OR c.kind = ANY (kinds));

    INSERT INTO salesperf.kpi_counter (rep_id, unit_id, day, kind, activities, amount, points,
                                       last_at, last_amount_at, last_point_at)
    SELECT sa.rep_id, sa.unit_id, sa.day, sa.kind, count(*), sum(sa.amount), sum(sa.points),
           max(sa.occurred_at),
           max(sa.occurred_at) FILTER (WHERE sa.amount <> 0),
           max(sa.occurred_at) FILTER (WHERE sa.points <> 0)
      FROM (SELECT DISTINCT * FROM unnest(rep_ids, days)) AS k(rep_id, day)
      JOIN salesperf.scored_activity sa
        ON sa.rep_id = k.rep_id AND sa.day = k.day
       AND sa.occurred_at >= salesperf.local_day_start(k.day, tz)
       AND sa.occurred_at <  salesperf.local_day_start(k.day + 1, tz)
     WHERE kinds IS NULL OR sa.kind = ANY (kinds)
     GROUP BY sa.rep_id, sa.day, sa.kind, sa.unit_id
     ORDER BY sa.rep_id, sa.day, sa.kind, sa.unit_id
    ON CONFLICT (rep_id, day, kind, unit_id) DO UPDATE
       SET activities = EXCLUDED.activities, amount = EXCLUDED.amount, points = EXCLUDED.points,
           last_at = EXCLUDED.last_at, last_amount_at = EXCLUDED.last_amount_at,
           last_point_at = EXCLUDED.last_point_at;
END
$$;
COMMENT ON FUNCTION salesperf.rederive_days(bigint[], date[], text[]) IS
  'Internal: rebuild capped awards and KPI counters of the given (rep, local day) pairs (of the given kinds, or all) from the ledger.';

-- Serialize derived-state changes per rep (never per team): lock the rows
-- of the given reps in salesperf.rep, in rep_id order, before their derived
-- state changes; 42704 for an id that is not a rep; 0A000 under REPEATABLE
-- READ.  See src/rep_locks.c.
CREATE FUNCTION salesperf.lock_reps(rep_ids bigint[])
RETURNS void
AS 'MODULE_PATHNAME', 'salesperf_lock_reps'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION salesperf.lock_reps(bigint[]) IS
  'Internal: lock the rows of the given reps (in rep_id order) before their derived state is changed; 42704 for an unknown rep.';

-- Changes that re-derive more than a few reps (rule, KPI, board, org and
-- configuration edits, recompute) first wait for the ledger writers in
-- flight and hold new ones back until they commit, so what they re-derive
-- includes every committed activity.  Plain table lock on the ledger:
-- readers are not blocked.
CREATE FUNCTION salesperf.lock_ledger()
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF pg_catalog.current_setting('transaction_isolation') = 'repeatable read' THEN
        RAISE EXCEPTION 'salesperf cannot maintain derived state in a REPEATABLE READ transaction'
            USING ERRCODE = '0A000',
                  HINT = 'Change salesperf''s configuration under READ COMMITTED (the default) or SERIALIZABLE.';
    END IF;
    LOCK TABLE salesperf.activity IN SHARE ROW EXCLUSIVE MODE;
END
$$;
COMMENT ON FUNCTION salesperf.lock_ledger() IS
  'Internal: wait for in-flight ledger writers and hold new ones back until commit (readers are not blocked).';
-- KPIs (SPEC §6): definitions, and values answered from the counters.

CREATE TABLE salesperf.kpi (
    name             text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]*$'),
    kind             text REFERENCES salesperf.activity_kind (kind),
    measure          text NOT NULL CHECK (measure IN ('count', 'sum', 'avg', 'ratio', 'points')),
    numerator        text REFERENCES salesperf.kpi (name),
    denominator      text REFERENCES salesperf.kpi (name),
    unit             text,
    higher_is_better boolean NOT NULL DEFAULT true,
    description      text,
    builtin          boolean NOT NULL DEFAULT false,
    -- How the value is computed from counters: num / den, or num alone.
    num_kind         text,
    num_measure      text NOT NULL CHECK (num_measure IN ('count', 'sum', 'points')),
    den_kind         text,
    den_measure      text CHECK (den_measure IN ('count', 'sum', 'points')),
    CHECK ((measure IN ('count', 'sum', 'avg')) = (kind IS NOT NULL) OR measure = 'points'),
    CHECK ((measure = 'ratio') = (numerator IS NOT NULL AND denominator IS NOT NULL))
);
COMMENT ON TABLE salesperf.kpi IS
  'KPI definitions: count, sum or avg of one activity kind''s amount, points, or a ratio of two KPIs. Define with salesperf.define_kpi().';
COMMENT ON COLUMN salesperf.kpi.measure IS 'count (activities), sum or avg (of amount), points (earned; optionally of one kind), ratio (numerator KPI / denominator KPI).';
COMMENT ON COLUMN salesperf.kpi.num_kind IS 'Internal: kind of the numerator component (NULL = every kind).';
SELECT pg_catalog.pg_extension_config_dump('salesperf.kpi', 'WHERE NOT builtin');

-- Every write of a KPI, through define_kpi() or directly, is validated here
-- and its parts (num_kind, num_measure, den_kind, den_measure: what
-- kpi_contribution() reads) are derived from kind, measure, numerator and
-- denominator, so they can never disagree with the definition.
CREATE FUNCTION salesperf.kpi_check()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n salesperf.kpi;
    d salesperf.kpi;
BEGIN
    IF NEW.name IS NULL OR NEW.name !~ '^[a-z][a-z0-9_]*$' THEN
        RAISE EXCEPTION 'invalid KPI name "%"', NEW.name
            USING ERRCODE = '22023', HINT = 'Use lower-case letters, digits and underscores, starting with a letter.';
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.name <> OLD.name THEN
        RAISE EXCEPTION 'KPI "%" cannot be renamed', OLD.name
            USING ERRCODE = '22023', HINT = 'Define a new KPI instead.';
    END IF;
    IF NEW.measure IS NULL OR NEW.measure NOT IN ('count', 'sum', 'avg', 'ratio', 'points') THEN
        RAISE EXCEPTION 'unknown measure "%"', NEW.measure
            USING ERRCODE = '22023', HINT = 'Use count, sum, avg, ratio or points.';
    END IF;
    IF NEW.kind IS NOT NULL AND NOT EXISTS (SELECT 1 FROM salesperf.activity_kind k WHERE k.kind = NEW.kind) THEN
        RAISE EXCEPTION 'unknown activity kind "%"', NEW.kind USING ERRCODE = '42704', HINT = 'See salesperf.activity_kind.';
    END IF;
    NEW.higher_is_better := COALESCE(NEW.higher_is_better, true);
    NEW.den_kind := NULL;
    NEW.den_measure := NULL;

    IF NEW.measure IN ('count', 'sum', 'avg') THEN
        IF NEW.kind IS NULL THEN
            RAISE EXCEPTION 'a % KPI needs an activity kind', NEW.measure USING ERRCODE = '22004';
        END IF;
        IF NEW.numerator IS NOT NULL OR NEW.denominator IS NOT NULL THEN
            RAISE EXCEPTION 'only a ratio KPI has a numerator and a denominator' USING ERRCODE = '22023';
        END IF;
        NEW.num_kind := NEW.kind;
        NEW.num_measure := CASE NEW.measure WHEN 'avg' THEN 'sum' ELSE NEW.measure END;
        IF NEW.measure = 'avg' THEN
            NEW.den_kind := NEW.kind;
            NEW.den_measure := 'count';
        END IF;
    ELSIF NEW.measure = 'points' THEN
        IF NEW.numerator IS NOT NULL OR NEW.denominator IS NOT NULL THEN
            RAISE EXCEPTION 'only a ratio KPI has a numerator and a denominator' USING ERRCODE = '22023';
        END IF;
        NEW.num_kind := NEW.kind;
        NEW.num_measure := 'points';
    ELSE
        IF NEW.numerator IS NULL OR NEW.denominator IS NULL THEN
            RAISE EXCEPTION 'a ratio KPI needs a numerator and a denominator KPI' USING ERRCODE = '22004';
        END IF;
        IF NEW.kind IS NOT NULL THEN
            RAISE EXCEPTION 'a ratio KPI takes its kinds from its numerator and denominator, not from kind "%"', NEW.kind
                USING ERRCODE = '22023';
        END IF;
        SELECT * INTO n FROM salesperf.kpi k WHERE k.name = NEW.numerator;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'unknown KPI "%"', NEW.numerator USING ERRCODE = '42704', HINT = 'See salesperf.kpi.';
        END IF;
        SELECT * INTO d FROM salesperf.kpi k WHERE k.name = NEW.denominator;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'unknown KPI "%"', NEW.denominator USING ERRCODE = '42704', HINT = 'See salesperf.kpi.';
        END IF;
        IF n.den_measure IS NOT NULL OR d.den_measure IS NOT NULL THEN
            RAISE EXCEPTION 'a ratio KPI is built from count, sum or points KPIs, not from "%"',
                CASE WHEN n.den_measure IS NOT NULL THEN n.name ELSE d.name END
                USING ERRCODE = '22023';
        END IF;
        NEW.num_kind := n.num_kind; NEW.num_measure := n.num_measure;
        NEW.den_kind := d.num_kind; NEW.den_measure := d.num_measure;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER kpi_check BEFORE INSERT OR UPDATE ON salesperf.kpi
    FOR EACH ROW EXECUTE FUNCTION salesperf.kpi_check();
CREATE TRIGGER kpi_seed_edited BEFORE UPDATE ON salesperf.kpi
    FOR EACH ROW EXECUTE FUNCTION salesperf.seed_edited();
CREATE TRIGGER kpi_seed_restored BEFORE INSERT ON salesperf.kpi
    FOR EACH ROW EXECUTE FUNCTION salesperf.seed_restored('name');
ALTER TABLE salesperf.kpi ENABLE ALWAYS TRIGGER kpi_seed_restored;

-- An edited KPI re-derives at once: ratios built on it take its new parts,
-- and every board ranked on it (or on such a ratio) is rebuilt from the
-- counters.
CREATE FUNCTION salesperf.kpi_changed()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF (NEW.num_kind, NEW.num_measure, NEW.den_kind, NEW.den_measure, NEW.higher_is_better)
       IS NOT DISTINCT FROM
       (OLD.num_kind, OLD.num_measure, OLD.den_kind, OLD.den_measure, OLD.higher_is_better) THEN
        RETURN NULL;
    END IF;
    -- Ratios store their parts' kinds: touch them so kpi_check derives again.
    UPDATE salesperf.kpi k SET numerator = k.numerator
     WHERE (k.numerator = NEW.name OR k.denominator = NEW.name) AND k.name <> NEW.name;
    PERFORM salesperf.rebuild_standings(pg_catalog.array_agg(b.board_id))
       FROM salesperf.leaderboard b WHERE b.metric = NEW.name
     HAVING pg_catalog.count(*) > 0;
    -- Badges on it may now be earned (awards already made stay).
    PERFORM salesperf.award_badges(NULL, NULL, pg_catalog.array_agg(r.rule_id))
       FROM salesperf.badge_rule r WHERE r.metric = NEW.name
     HAVING pg_catalog.count(*) > 0;
    RETURN NULL;
END
$$;
CREATE TRIGGER kpi_changed AFTER UPDATE ON salesperf.kpi
    FOR EACH ROW EXECUTE FUNCTION salesperf.kpi_changed();

CREATE FUNCTION salesperf.define_kpi(
    name             text,
    kind             text    DEFAULT NULL,
    measure          text    DEFAULT 'count',
    numerator        text    DEFAULT NULL,
    denominator      text    DEFAULT NULL,
    unit             text    DEFAULT NULL,
    higher_is_better boolean DEFAULT true,
    description      text    DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF name IS NULL OR measure IS NULL THEN
        RAISE EXCEPTION 'define_kpi() needs a name and a measure' USING ERRCODE = '22004';
    END IF;
    IF EXISTS (SELECT 1 FROM salesperf.kpi k WHERE k.name = define_kpi.name) THEN
        RAISE EXCEPTION 'KPI "%" already exists', name USING ERRCODE = '42710';
    END IF;
    -- kpi_check validates the definition and derives its parts.
    INSERT INTO salesperf.kpi (name, kind, measure, numerator, denominator, unit, higher_is_better,
                               description, builtin, num_measure)
    VALUES (define_kpi.name, define_kpi.kind, define_kpi.measure, define_kpi.numerator,
            define_kpi.denominator, define_kpi.unit, COALESCE(define_kpi.higher_is_better, true),
            define_kpi.description, false, 'count');
    RETURN name;
END
$$;
COMMENT ON FUNCTION salesperf.define_kpi(text, text, text, text, text, text, boolean, text) IS
  'Define a KPI: count/sum/avg of an activity kind, points, or a ratio of two KPIs (computed from its parts, never averaged).';

-- What one counter row adds to a KPI: see src/kpi_contribution.c.  The one
-- definition that kpi_value(), board_contribution, the insert path and
-- recompute() share.
CREATE FUNCTION salesperf.kpi_contribution(
    num_kind text, num_measure text, den_kind text, den_measure text,
    kind text, activities bigint, amount numeric, points numeric,
    last_at timestamptz, last_amount_at timestamptz, last_point_at timestamptz,
    OUT num numeric, OUT den numeric, OUT reached_at timestamptz)
AS 'MODULE_PATHNAME', 'salesperf_kpi_contribution'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.kpi_contribution(text, text, text, text, text, bigint, numeric, numeric,
                                              timestamptz, timestamptz, timestamptz) IS
  'Internal: numerator, denominator and last change that a counter row of a kind adds to a KPI with the given parts (NULL if it adds nothing).';

INSERT INTO salesperf.kpi (name, kind, measure, numerator, denominator, unit, higher_is_better,
                           description, builtin, num_kind, num_measure, den_kind, den_measure) VALUES
    ('leads_generated', 'lead_created',   'count', NULL, NULL, 'leads',   true, 'Leads created',               true, 'lead_created',   'count', NULL, NULL),
    ('leads_converted', 'lead_converted', 'count', NULL, NULL, 'leads',   true, 'Leads converted',             true, 'lead_converted', 'count', NULL, NULL),
    ('deals_won',       'deal_won',       'count', NULL, NULL, 'deals',   true, 'Deals won',                   true, 'deal_won',       'count', NULL, NULL),
    ('revenue',         'deal_won',       'sum',   NULL, NULL, 'currency',true, 'Value of deals won',          true, 'deal_won',       'sum',   NULL, NULL),
    ('calls',           'call',           'count', NULL, NULL, 'calls',   true, 'Calls made',                  true, 'call',           'count', NULL, NULL),
    ('call_seconds',    'call',           'sum',   NULL, NULL, 'seconds', true, 'Time on calls',               true, 'call',           'sum',   NULL, NULL),
    ('emails',          'email',          'count', NULL, NULL, 'emails',  true, 'E-mails sent',                true, 'email',          'count', NULL, NULL),
    ('messages',        'message',        'count', NULL, NULL, 'messages',true, 'Messages sent',               true, 'message',        'count', NULL, NULL),
    ('meetings',        'meeting',        'count', NULL, NULL, 'meetings',true, 'Meetings held',               true, 'meeting',        'count', NULL, NULL),
    ('visits',          'visit',          'count', NULL, NULL, 'visits',  true, 'Visits made',                 true, 'visit',          'count', NULL, NULL),
    ('points',          NULL,             'points',NULL, NULL, 'points',  true, 'Points earned',               true, NULL,             'points',NULL, NULL);
INSERT INTO salesperf.kpi (name, kind, measure, numerator, denominator, unit, higher_is_better,
                           description, builtin, num_kind, num_measure, den_kind, den_measure) VALUES
    ('conversion_rate', NULL, 'ratio', 'leads_converted', 'leads_generated', 'ratio', true,
     'Leads converted / leads generated', true, 'lead_converted', 'count', 'lead_created', 'count');

-- The value of a KPI for one scope over local days [d0, d1), from the
-- counters; arguments already checked.  kpi_value() and commission team
-- parts both read KPIs through here.
CREATE FUNCTION salesperf.kpi_value_days(kpi text, scope text, scope_id bigint, d0 date, d1 date)
RETURNS numeric
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    k   salesperf.kpi;
    num numeric;
    den numeric;
BEGIN
    SELECT * INTO k FROM salesperf.kpi x WHERE x.name = kpi_value_days.kpi;
    SELECT sum(v.num), sum(v.den)
      INTO num, den
      FROM (-- One branch runs: the others are cut by their constant scope test.
            SELECT c.* FROM salesperf.kpi_counter c
             WHERE scope = 'rep' AND c.rep_id = scope_id AND c.day >= d0 AND c.day < d1
            UNION ALL
            SELECT c.*
              FROM salesperf.unit_tree t JOIN salesperf.kpi_counter c ON c.unit_id = t.descendant_id
             WHERE scope = 'unit' AND t.ancestor_id = scope_id AND c.day >= d0 AND c.day < d1
            UNION ALL
            SELECT c.* FROM salesperf.kpi_counter c
             WHERE scope = 'company' AND c.day >= d0 AND c.day < d1) c
     CROSS JOIN LATERAL salesperf.kpi_contribution(k.num_kind, k.num_measure, k.den_kind, k.den_measure,
                                                   c.kind, c.activities, c.amount, c.points,
                                                   c.last_at, c.last_amount_at, c.last_point_at) v
     WHERE v.num IS NOT NULL
       -- Only the kinds the KPI reads (kpi_contribution gives the others
       -- nothing): most counter rows are skipped before the call.
       AND (k.num_kind IS NULL OR c.kind = k.num_kind
            OR (k.den_measure IS NOT NULL AND (k.den_kind IS NULL OR c.kind = k.den_kind)));

    IF k.den_measure IS NULL THEN
        RETURN COALESCE(num, 0);
    END IF;
    RETURN num / NULLIF(den, 0);
END
$$;
COMMENT ON FUNCTION salesperf.kpi_value_days(text, text, bigint, date, date) IS
  'Internal: value of a KPI for a rep, a unit''s whole subtree or the company over local days [d0, d1), from counters; the arguments are not checked.';

-- The value of a KPI for one scope over the period containing `at`.
CREATE FUNCTION salesperf.kpi_value(kpi text, scope text, scope_id bigint, period text,
                                    at timestamptz DEFAULT pg_catalog.now())
RETURNS numeric
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    s   salesperf.settings;
BEGIN
    IF kpi IS NULL OR scope IS NULL OR period IS NULL OR at IS NULL THEN
        RAISE EXCEPTION 'kpi_value() needs a kpi, a scope, a period and a moment' USING ERRCODE = '22004';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM salesperf.kpi x WHERE x.name = kpi_value.kpi) THEN
        RAISE EXCEPTION 'unknown KPI "%"', kpi USING ERRCODE = '42704', HINT = 'See salesperf.kpi.';
    END IF;
    IF scope NOT IN ('rep', 'unit', 'company') THEN
        RAISE EXCEPTION 'unknown scope "%"', scope USING ERRCODE = '22023', HINT = 'Use rep, unit or company.';
    END IF;
    IF scope <> 'company' AND scope_id IS NULL THEN
        RAISE EXCEPTION 'scope % needs a scope_id', scope USING ERRCODE = '22004';
    END IF;
    IF scope = 'rep' AND NOT EXISTS (SELECT 1 FROM salesperf.rep r WHERE r.rep_id = scope_id) THEN
        RAISE EXCEPTION 'unknown rep %', scope_id USING ERRCODE = '42704', HINT = 'See salesperf.rep.';
    END IF;
    IF scope = 'unit' AND NOT EXISTS (SELECT 1 FROM salesperf.unit u WHERE u.unit_id = scope_id) THEN
        RAISE EXCEPTION 'unknown unit %', scope_id USING ERRCODE = '42704', HINT = 'See salesperf.unit.';
    END IF;
    SELECT * INTO s FROM salesperf.settings;
    -- calendar_start validates the period name.
    RETURN salesperf.kpi_value_days(
               kpi, scope, scope_id,
               salesperf.local_day(salesperf.calendar_start(at, period, s.time_zone, s.week_start,
                                                            s.fiscal_year_start_month, s.calendar), s.time_zone),
               salesperf.local_day(salesperf.calendar_end(at, period, s.time_zone, s.week_start,
                                                          s.fiscal_year_start_month, s.calendar), s.time_zone));
END
$$;
COMMENT ON FUNCTION salesperf.kpi_value(text, text, bigint, text, timestamptz) IS
  'Value of a KPI for a rep, a unit''s whole subtree (by today''s org chart: a re-parented team takes its history along; each activity counts for the unit its rep belonged to then) or the company over the period containing `at`, from counters (never the ledger). Empty count/sum: 0; empty avg or zero denominator: NULL.';
-- kpi_score: a weighted, capped attainment score across KPIs (SPEC §6).

CREATE FUNCTION salesperf.kpi_score_trans(internal, numeric, numeric, numeric, numeric)
RETURNS internal AS 'MODULE_PATHNAME', 'salesperf_kpi_score_trans'
LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION salesperf.kpi_score_combine(internal, internal)
RETURNS internal AS 'MODULE_PATHNAME', 'salesperf_kpi_score_combine'
LANGUAGE C PARALLEL SAFE;
CREATE FUNCTION salesperf.kpi_score_serialize(internal)
RETURNS bytea AS 'MODULE_PATHNAME', 'salesperf_kpi_score_serialize'
LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION salesperf.kpi_score_deserialize(bytea, internal)
RETURNS internal AS 'MODULE_PATHNAME', 'salesperf_kpi_score_deserialize'
LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION salesperf.kpi_score_final(internal)
RETURNS numeric AS 'MODULE_PATHNAME', 'salesperf_kpi_score_final'
LANGUAGE C PARALLEL SAFE;

CREATE AGGREGATE salesperf.kpi_score(actual numeric, target numeric, weight numeric, cap numeric) (
    SFUNC = salesperf.kpi_score_trans,
    STYPE = internal,
    COMBINEFUNC = salesperf.kpi_score_combine,
    SERIALFUNC = salesperf.kpi_score_serialize,
    DESERIALFUNC = salesperf.kpi_score_deserialize,
    FINALFUNC = salesperf.kpi_score_final,
    FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE salesperf.kpi_score(numeric, numeric, numeric, numeric) IS
  'Weighted attainment: sum(weight * least(actual / target, cap)) / sum(weight), skipping rows whose target is 0 or NULL. Exact numeric.';

-- The three-argument form uses the default cap of 1.5 (aggregates take no defaults).
CREATE FUNCTION salesperf.kpi_score_trans_default_cap(internal, numeric, numeric, numeric)
RETURNS internal AS 'MODULE_PATHNAME', 'salesperf_kpi_score_trans_default_cap'
LANGUAGE C PARALLEL SAFE;

CREATE AGGREGATE salesperf.kpi_score(actual numeric, target numeric, weight numeric) (
    SFUNC = salesperf.kpi_score_trans_default_cap,
    STYPE = internal,
    COMBINEFUNC = salesperf.kpi_score_combine,
    SERIALFUNC = salesperf.kpi_score_serialize,
    DESERIALFUNC = salesperf.kpi_score_deserialize,
    FINALFUNC = salesperf.kpi_score_final,
    FINALFUNC_MODIFY = READ_ONLY,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE salesperf.kpi_score(numeric, numeric, numeric) IS
  'kpi_score with the default cap of 1.5 (150% attainment).';
-- Materialized leaderboards (SPEC §8, first half).

CREATE TABLE salesperf.leaderboard (
    board_id    integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    metric      text NOT NULL REFERENCES salesperf.kpi (name),
    participant text NOT NULL CHECK (participant IN ('rep', 'unit')),
    period      text NOT NULL CHECK (period IN ('day', 'week', 'month', 'quarter', 'year', 'all')),
    unit_scope  bigint REFERENCES salesperf.unit (unit_id),
    unit_kind   text,
    CHECK (participant = 'rep' OR unit_kind IS NOT NULL)
);
COMMENT ON TABLE salesperf.leaderboard IS 'Leaderboards; create with salesperf.create_leaderboard(). Standings are kept in salesperf.standing.';
COMMENT ON COLUMN salesperf.leaderboard.metric IS 'KPI ranked on (points is a KPI too).';
COMMENT ON COLUMN salesperf.leaderboard.participant IS 'rep, or unit (units of unit_kind under unit_scope, each scoring its subtree).';
COMMENT ON COLUMN salesperf.leaderboard.unit_scope IS 'Only activities credited to this unit''s subtree count (NULL: whole company).';
SELECT pg_catalog.pg_extension_config_dump('salesperf.leaderboard', '');
SELECT pg_catalog.pg_extension_config_dump('salesperf.leaderboard_board_id_seq', '');

-- One row per board x period x participant x contributing rep.  A rep board
-- has contributor = participant; a unit board keeps each rep's share apart,
-- so reps of one team never write the same row (no hot row per team).
CREATE TABLE salesperf.standing (
    board_id       integer NOT NULL REFERENCES salesperf.leaderboard (board_id) ON DELETE CASCADE,
    period_start   timestamptz NOT NULL,
    participant_id bigint NOT NULL,
    contributor_id bigint NOT NULL,
    num            numeric NOT NULL,
    den            numeric,
    direction      smallint NOT NULL CHECK (direction IN (1, -1)),
    reached_at     timestamptz,
    score          numeric GENERATED ALWAYS AS
                   (CASE WHEN den IS NULL THEN num ELSE num / NULLIF(den, 0) END) STORED,
    sort_score     numeric GENERATED ALWAYS AS
                   (direction * CASE WHEN den IS NULL THEN num ELSE num / NULLIF(den, 0) END) STORED,
    -- contributor first: re-derivation replaces one rep's rows of a period
    PRIMARY KEY (board_id, period_start, contributor_id, participant_id)
);
CREATE INDEX standing_rank_idx ON salesperf.standing
    (board_id, period_start, sort_score DESC NULLS LAST, reached_at, participant_id);
COMMENT ON TABLE salesperf.standing IS
  'Derived: materialized leaderboard standings per period, maintained by the ledger triggers.';
COMMENT ON COLUMN salesperf.standing.num IS 'Numerator (or whole value) of the metric for this contributor.';
COMMENT ON COLUMN salesperf.standing.den IS 'Denominator for avg and ratio metrics.';
COMMENT ON COLUMN salesperf.standing.direction IS '1 when a higher score is better, -1 when lower is better.';
COMMENT ON COLUMN salesperf.standing.score IS 'The metric: num, or num / den for avg and ratio metrics.';
COMMENT ON COLUMN salesperf.standing.sort_score IS 'score x direction; ranks sort on it descending.';
COMMENT ON COLUMN salesperf.standing.reached_at IS 'occurred_at of the last activity that changed the score in the period (ties go to who reached it first).';

-- Which units' activities count on a board, and for whom: on a rep board
-- with a unit_scope, the units of the scope's subtree (participant_id NULL:
-- the rep); on a unit board, every unit under each participant unit, once
-- per participant (a unit inside two nested participants counts for both:
-- each participant scores its whole subtree).  An unscoped rep board counts
-- every activity and has no rows.  Rebuilt when a board is created and when
-- the org chart changes.
CREATE TABLE salesperf.board_unit (
    board_id       integer NOT NULL REFERENCES salesperf.leaderboard (board_id) ON DELETE CASCADE,
    unit_id        bigint NOT NULL REFERENCES salesperf.unit (unit_id) ON DELETE CASCADE,
    participant_id bigint
);
CREATE UNIQUE INDEX board_unit_key ON salesperf.board_unit (board_id, unit_id, participant_id) NULLS NOT DISTINCT;
COMMENT ON TABLE salesperf.board_unit IS
  'Derived: the units whose activities count on each scoped or unit board, and the participants they count for.';

CREATE FUNCTION salesperf.rebuild_board_units(board_ids integer[] DEFAULT NULL)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
  DELETE FROM salesperf.board_unit bu WHERE board_ids IS NULL OR bu.board_id = ANY (board_ids);
  INSERT INTO salesperf.board_unit (board_id, unit_id, participant_id)
  SELECT b.board_id, t.descendant_id, NULL::bigint
    FROM salesperf.leaderboard b
    JOIN salesperf.unit_tree t ON t.ancestor_id = b.unit_scope
   WHERE b.participant = 'rep' AND (board_ids IS NULL OR b.board_id = ANY (board_ids))
  UNION ALL
  SELECT b.board_id, t.descendant_id, u.unit_id
    FROM salesperf.leaderboard b
    JOIN salesperf.unit u ON u.kind = b.unit_kind
    JOIN salesperf.unit_tree t ON t.ancestor_id = u.unit_id
   WHERE b.participant = 'unit' AND (board_ids IS NULL OR b.board_id = ANY (board_ids))
     AND (b.unit_scope IS NULL OR EXISTS (
          SELECT 1 FROM salesperf.unit_tree s
           WHERE s.ancestor_id = b.unit_scope AND s.descendant_id = u.unit_id))
  ORDER BY 1, 2, 3;
$$;
COMMENT ON FUNCTION salesperf.rebuild_board_units(integer[]) IS
  'Internal: rebuild salesperf.board_unit for the given boards (NULL: all).';

-- What each counter row adds to each board it counts on: the participant
-- it counts for and what kpi_contribution() says it adds to the board's
-- KPI.  refresh_standings() and computed_standing read it; the insert path
-- in src/ledger_trigger.c calls kpi_contribution() on its deltas.
CREATE VIEW salesperf.board_contribution AS
SELECT b.board_id, c.rep_id, c.day, p.participant_id,
       CASE WHEN k.higher_is_better THEN 1 ELSE -1 END AS direction,
       v.num, v.den, v.reached_at AS at
  FROM salesperf.leaderboard b
  JOIN salesperf.kpi k ON k.name = b.metric
 CROSS JOIN salesperf.kpi_counter c
 CROSS JOIN LATERAL salesperf.kpi_contribution(k.num_kind, k.num_measure, k.den_kind, k.den_measure,
                                               c.kind, c.activities, c.amount, c.points,
                                               c.last_at, c.last_amount_at, c.last_point_at) v
  LEFT JOIN salesperf.board_unit bu ON bu.board_id = b.board_id AND bu.unit_id = c.unit_id
 CROSS JOIN LATERAL (
       SELECT CASE WHEN b.participant = 'unit' THEN bu.participant_id
                   WHEN b.unit_scope IS NULL OR bu.unit_id IS NOT NULL THEN c.rep_id
              END AS participant_id) p
 WHERE v.num IS NOT NULL AND p.participant_id IS NOT NULL;
COMMENT ON VIEW salesperf.board_contribution IS
  'Internal: what each KPI counter row adds to each leaderboard it counts on, and for which participant.';
COMMENT ON COLUMN salesperf.board_contribution.board_id IS 'Leaderboard.';
COMMENT ON COLUMN salesperf.board_contribution.rep_id IS 'Rep of the counter row (the contributor).';
COMMENT ON COLUMN salesperf.board_contribution.day IS 'Local day of the counter row.';
COMMENT ON COLUMN salesperf.board_contribution.participant_id IS 'Participant it counts for: the rep, or the unit on a unit board.';
COMMENT ON COLUMN salesperf.board_contribution.direction IS '1 when a higher score is better, -1 when lower is.';
COMMENT ON COLUMN salesperf.board_contribution.num IS 'What it adds to the metric''s numerator.';
COMMENT ON COLUMN salesperf.board_contribution.den IS 'What it adds to the denominator (NULL for metrics without one).';
COMMENT ON COLUMN salesperf.board_contribution.at IS 'Latest moment one of its activities changed what it adds.';

-- Every board's standings as the counters say they should be: each counter
-- row feeds the period of its local day (period starts computed once per
-- board and distinct day).  recompute() and rebuild_standings() read it.
CREATE VIEW salesperf.computed_standing AS
SELECT bc.board_id, pm.ps AS period_start, bc.participant_id, bc.rep_id AS contributor_id,
       pg_catalog.sum(bc.num) AS num, pg_catalog.sum(bc.den) AS den, bc.direction,
       pg_catalog.max(bc.at) AS reached_at
  FROM salesperf.board_contribution bc
  JOIN (SELECT b.board_id, d.day,
               salesperf.calendar_start(salesperf.local_day_start(d.day, s.time_zone), b.period,
                                        s.time_zone, s.week_start, s.fiscal_year_start_month,
                                        s.calendar) AS ps
          FROM (SELECT DISTINCT c.day FROM salesperf.kpi_counter c) d
         CROSS JOIN salesperf.leaderboard b
         CROSS JOIN salesperf.settings s) pm
    ON pm.board_id = bc.board_id AND pm.day = bc.day
 GROUP BY bc.board_id, pm.ps, bc.participant_id, bc.rep_id, bc.direction
HAVING pg_catalog.max(bc.at) IS NOT NULL;
COMMENT ON VIEW salesperf.computed_standing IS
  'Internal: every leaderboard''s standings computed from the KPI counters (what salesperf.standing must hold).';
COMMENT ON COLUMN salesperf.computed_standing.board_id IS 'Leaderboard.';
COMMENT ON COLUMN salesperf.computed_standing.period_start IS 'Start of the board period.';
COMMENT ON COLUMN salesperf.computed_standing.participant_id IS 'Rep or unit ranked.';
COMMENT ON COLUMN salesperf.computed_standing.contributor_id IS 'Rep whose activities these are.';
COMMENT ON COLUMN salesperf.computed_standing.num IS 'Numerator (or whole value) of the metric.';
COMMENT ON COLUMN salesperf.computed_standing.den IS 'Denominator for avg and ratio metrics.';
COMMENT ON COLUMN salesperf.computed_standing.direction IS '1 when a higher score is better, -1 when lower is.';
COMMENT ON COLUMN salesperf.computed_standing.reached_at IS 'occurred_at of the last activity that changed the score in the period.';

-- The (board, rep, period) standings that the given (rep, local day) pairs
-- feed, with the period's local day bounds.
CREATE FUNCTION salesperf.standing_keys(rep_ids bigint[], days date[], board_ids integer[])
RETURNS TABLE (board_id integer, rep_id bigint, ps timestamptz, d0 date, d1 date)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT x.board_id, x.rep_id, x.ps,
         salesperf.local_day(x.ps, s.time_zone),
         salesperf.local_day(salesperf.calendar_end(x.ps, x.period, s.time_zone, s.week_start,
                                                    s.fiscal_year_start_month, s.calendar), s.time_zone)
    FROM salesperf.settings s,
         LATERAL (SELECT DISTINCT b.board_id, b.period, k.rep_id,
                         salesperf.calendar_start(salesperf.local_day_start(k.day, s.time_zone), b.period,
                                                  s.time_zone, s.week_start, s.fiscal_year_start_month,
                                                  s.calendar) AS ps
                    FROM unnest(rep_ids, days) AS k(rep_id, day)
                   CROSS JOIN salesperf.leaderboard b
                   WHERE board_ids IS NULL OR b.board_id = ANY (board_ids)) x
$$;
COMMENT ON FUNCTION salesperf.standing_keys(bigint[], date[], integer[]) IS
  'Internal: the board periods a set of (rep, local day) pairs feeds.';

-- Rebuild the standings that the given (rep, local day) pairs feed, from
-- the counters.  board_ids NULL means every board.
CREATE FUNCTION salesperf.refresh_standings(rep_ids bigint[], days date[], board_ids integer[] DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
BEGIN
    DELETE FROM salesperf.standing st
     USING salesperf.standing_keys(rep_ids, days, board_ids) x
     WHERE st.board_id = x.board_id AND st.period_start = x.ps AND st.contributor_id = x.rep_id;

    INSERT INTO salesperf.standing (board_id, period_start, participant_id, contributor_id,
                                    num, den, direction, reached_at)
    SELECT x.board_id, x.ps, bc.participant_id, x.rep_id,
           sum(bc.num), sum(bc.den), bc.direction, max(bc.at)
      FROM salesperf.standing_keys(rep_ids, days, board_ids) x
      JOIN salesperf.board_contribution bc
        ON bc.board_id = x.board_id AND bc.rep_id = x.rep_id
       AND bc.day >= x.d0 AND bc.day < x.d1
     GROUP BY x.board_id, x.ps, bc.participant_id, x.rep_id, bc.direction
    HAVING max(bc.at) IS NOT NULL
     ORDER BY 1, 2, 4, 3
    -- See rederive_days: a clash can only come from an older SERIALIZABLE
    -- snapshot, and then ends in 40001.
    ON CONFLICT (board_id, period_start, contributor_id, participant_id) DO UPDATE
       SET num = EXCLUDED.num, den = EXCLUDED.den, direction = EXCLUDED.direction,
           reached_at = EXCLUDED.reached_at;
END
$$;
COMMENT ON FUNCTION salesperf.refresh_standings(bigint[], date[], integer[]) IS
  'Internal: rebuild the standings fed by the given (rep, local day) pairs from the counters.';

-- Rebuild every standing of the given boards (NULL: all) from the counters,
-- with the board-unit map first.  Run when a board is created or edited, a
-- KPI it ranks on changes, or the org chart changes.
CREATE FUNCTION salesperf.rebuild_standings(board_ids integer[] DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
BEGIN
    PERFORM salesperf.lock_ledger();
    PERFORM salesperf.lock_reps(pg_catalog.array_agg(r.rep_id)) FROM salesperf.rep r;
    PERFORM salesperf.rebuild_board_units(board_ids);
    DELETE FROM salesperf.standing st WHERE board_ids IS NULL OR st.board_id = ANY (board_ids);
    INSERT INTO salesperf.standing (board_id, period_start, participant_id, contributor_id,
                                    num, den, direction, reached_at)
    SELECT cs.board_id, cs.period_start, cs.participant_id, cs.contributor_id,
           cs.num, cs.den, cs.direction, cs.reached_at
      FROM salesperf.computed_standing cs
     WHERE board_ids IS NULL OR cs.board_id = ANY (board_ids)
     ORDER BY 1, 2, 4, 3;
END
$$;
COMMENT ON FUNCTION salesperf.rebuild_standings(integer[]) IS
  'Internal: rebuild the board-unit map and every standing of the given boards (NULL: all) from the counters.';

-- A board created or edited (by create_leaderboard() or directly, as a
-- restore does) is built at once; a rename changes nothing derived.
CREATE FUNCTION salesperf.leaderboard_changed()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND (NEW.board_id, NEW.metric, NEW.participant, NEW.period, NEW.unit_scope, NEW.unit_kind)
           IS NOT DISTINCT FROM
           (OLD.board_id, OLD.metric, OLD.participant, OLD.period, OLD.unit_scope, OLD.unit_kind) THEN
        RETURN NULL;
    END IF;
    PERFORM salesperf.rebuild_standings(ARRAY[NEW.board_id]);
    RETURN NULL;
END
$$;
CREATE TRIGGER leaderboard_changed AFTER INSERT OR UPDATE ON salesperf.leaderboard
    FOR EACH ROW EXECUTE FUNCTION salesperf.leaderboard_changed();
-- Standings refer to boards by id: the id is stable.
CREATE TRIGGER leaderboard_key_guard BEFORE UPDATE OF board_id ON salesperf.leaderboard
    FOR EACH ROW WHEN (OLD.board_id <> NEW.board_id) EXECUTE FUNCTION salesperf.guard_key_change();

CREATE FUNCTION salesperf.create_leaderboard(name text, metric text DEFAULT 'points',
                                             participant text DEFAULT 'rep', period text DEFAULT 'month',
                                             unit_scope bigint DEFAULT NULL, unit_kind text DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    id integer;
BEGIN
    IF name IS NULL OR metric IS NULL OR participant IS NULL OR period IS NULL THEN
        RAISE EXCEPTION 'create_leaderboard() needs a name, a metric, a participant and a period'
            USING ERRCODE = '22004';
    END IF;
    IF pg_catalog.btrim(name) = '' THEN
        RAISE EXCEPTION 'leaderboard name must not be empty' USING ERRCODE = '22023',
            HINT = 'Name the board as people will see it, e.g. ''Points this month''.';
    END IF;
    IF EXISTS (SELECT 1 FROM salesperf.leaderboard b WHERE b.name = create_leaderboard.name) THEN
        RAISE EXCEPTION 'leaderboard "%" already exists', name USING ERRCODE = '42710';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM salesperf.kpi k WHERE k.name = metric) THEN
        RAISE EXCEPTION 'unknown metric "%"', metric
            USING ERRCODE = '42704', HINT = 'Use points or a KPI name from salesperf.kpi.';
    END IF;
    IF participant NOT IN ('rep', 'unit') THEN
        RAISE EXCEPTION 'unknown participant "%"', participant USING ERRCODE = '22023', HINT = 'Use rep or unit.';
    END IF;
    IF period NOT IN ('day', 'week', 'month', 'quarter', 'year', 'all') THEN
        RAISE EXCEPTION 'unknown period "%"', period
            USING ERRCODE = '22023', HINT = 'Use day, week, month, quarter, year or all.';
    END IF;
    IF unit_scope IS NOT NULL AND NOT EXISTS (SELECT 1 FROM salesperf.unit u WHERE u.unit_id = unit_scope) THEN
        RAISE EXCEPTION 'unknown unit %', unit_scope USING ERRCODE = '42704', HINT = 'See salesperf.unit.';
    END IF;
    IF participant = 'unit' AND unit_kind IS NULL THEN
        RAISE EXCEPTION 'a unit leaderboard needs a unit_kind' USING ERRCODE = '22004',
            HINT = 'Name the kind of unit that competes, e.g. unit_kind => ''team''.';
    END IF;
    IF participant = 'rep' AND unit_kind IS NOT NULL THEN
        RAISE EXCEPTION 'unit_kind applies to unit leaderboards only' USING ERRCODE = '22023';
    END IF;
    IF participant = 'unit' AND NOT EXISTS (
           SELECT 1 FROM salesperf.unit u
            WHERE u.kind = unit_kind
              AND (unit_scope IS NULL OR EXISTS (
                   SELECT 1 FROM salesperf.unit_tree t
                    WHERE t.ancestor_id = unit_scope AND t.descendant_id = u.unit_id))) THEN
        RAISE EXCEPTION 'no unit of kind "%" to compete%', unit_kind,
              CASE WHEN unit_scope IS NULL THEN '' ELSE pg_catalog.format(' under unit %s', unit_scope) END
            USING ERRCODE = '22023',
                  HINT = 'See salesperf.unit.kind for the kinds in use, e.g. team or region.';
    END IF;

    -- leaderboard_changed builds its standings from the counters.
    INSERT INTO salesperf.leaderboard (name, metric, participant, period, unit_scope, unit_kind)
    VALUES (name, metric, participant, period, unit_scope, unit_kind)
    RETURNING board_id INTO id;
    RETURN id;
END
$$;
COMMENT ON FUNCTION salesperf.create_leaderboard(text, text, text, text, bigint, text) IS
  'Create a materialized leaderboard on points or a KPI, for reps or for units of unit_kind under unit_scope, per period.';

CREATE FUNCTION salesperf.board(name text)
RETURNS salesperf.leaderboard
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    b salesperf.leaderboard;
BEGIN
    IF name IS NULL THEN
        RAISE EXCEPTION 'leaderboard name must not be NULL' USING ERRCODE = '22004';
    END IF;
    SELECT * INTO b FROM salesperf.leaderboard x WHERE x.name = board.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown leaderboard "%"', name USING ERRCODE = '42704', HINT = 'See salesperf.leaderboard.';
    END IF;
    RETURN b;
END
$$;
COMMENT ON FUNCTION salesperf.board(text) IS 'Internal: the leaderboard of that name, or an error naming it.';

-- How a score is shown: money at the currency's scale, ratios and averages
-- to four decimals, counts and points without trailing zeros.  Ranking uses
-- the exact value; only what is returned is rounded.
CREATE FUNCTION salesperf.display_score(score numeric, metric text)
RETURNS numeric
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- PL/pgSQL, not SQL: its query plan is kept between calls (one call per
    -- row a board returns).
    RETURN (SELECT CASE WHEN k.unit = 'currency' THEN pg_catalog.round(score, s.currency_scale)
                        WHEN k.den_measure IS NOT NULL THEN pg_catalog.trim_scale(pg_catalog.round(score, 4))
                        ELSE pg_catalog.trim_scale(score) END
              FROM salesperf.kpi k CROSS JOIN salesperf.settings s
             WHERE k.name = metric);
END
$$;
COMMENT ON FUNCTION salesperf.display_score(numeric, text) IS
  'Internal: a board score as people read it (currency scale for money, 4 decimals for ratios, no trailing zeros otherwise).';

-- The participants of a board in the period starting at ps: reps (or units)
-- with standings in the period, plus the reps who were members of the
-- board's scope during the period (or every unit of unit_kind under
-- unit_scope), who score 0 when they recorded nothing.  A board read
-- ranks today's active reps; `history` ranks everyone who took part then
-- (previous ranks: deactivating a rep today does not rewrite them).
CREATE FUNCTION salesperf.board_candidates(board_id integer, ps timestamptz, history boolean DEFAULT false)
RETURNS SETOF bigint
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
  WITH b AS (
      SELECT b.*, x.pe
        FROM salesperf.leaderboard b CROSS JOIN salesperf.settings s
       CROSS JOIN LATERAL (SELECT salesperf.calendar_end(ps, b.period, s.time_zone, s.week_start,
                                                         s.fiscal_year_start_month, s.calendar) AS pe) x
       WHERE b.board_id = board_candidates.board_id)
  SELECT st.participant_id
    FROM b JOIN salesperf.standing st ON st.board_id = b.board_id AND st.period_start = ps
   WHERE b.participant = 'unit' OR history
      OR EXISTS (SELECT 1 FROM salesperf.rep r WHERE r.rep_id = st.participant_id AND r.active)
  UNION
  SELECT m.rep_id
    FROM b JOIN salesperf.membership m ON m.during && pg_catalog.tstzrange(ps, b.pe, '[)')
    JOIN salesperf.rep r ON r.rep_id = m.rep_id AND (r.active OR history)
   WHERE b.participant = 'rep'
     AND (b.unit_scope IS NULL OR m.unit_id IN (
          SELECT t.descendant_id FROM salesperf.unit_tree t WHERE t.ancestor_id = b.unit_scope))
  UNION
  SELECT u.unit_id
    FROM b JOIN salesperf.unit u ON u.kind = b.unit_kind
   WHERE b.participant = 'unit'
     AND (b.unit_scope IS NULL OR u.unit_id IN (
          SELECT t.descendant_id FROM salesperf.unit_tree t WHERE t.ancestor_id = b.unit_scope))
$$;
COMMENT ON FUNCTION salesperf.board_candidates(integer, timestamptz, boolean) IS
  'Internal: the participants of a board in the period starting at ps.';

-- Every participant of a board in the period starting at ps, ranked.
-- Participants are board_candidates(); one who recorded nothing scores 0
-- (NULL for avg and ratio metrics).  reached_at is NULL for a participant
-- without standings in the period (who recorded nothing that counts).
CREATE FUNCTION salesperf.board_standings(board_id integer, ps timestamptz, history boolean DEFAULT false)
RETURNS TABLE (rank bigint, participant_id bigint, name text, score numeric,
               reached_at timestamptz, participants bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
  WITH b AS (
      SELECT b.*, k.higher_is_better, k.den_measure
        FROM salesperf.leaderboard b
        JOIN salesperf.kpi k ON k.name = b.metric
       WHERE b.board_id = board_standings.board_id),
  scored AS (
      SELECT st.participant_id,
             CASE WHEN b.den_measure IS NULL THEN sum(st.num)
                  ELSE sum(st.num) / NULLIF(sum(st.den), 0) END AS score,
             max(st.reached_at) AS reached_at
        FROM b JOIN salesperf.standing st
          ON st.board_id = b.board_id AND st.period_start = ps
       GROUP BY st.participant_id, b.den_measure),
  candidates AS (
      SELECT c AS participant_id FROM salesperf.board_candidates(board_standings.board_id, ps, history) c),
  named AS (
      SELECT c.participant_id, COALESCE(r.name, u.name) AS name,
             COALESCE(sc.score, CASE WHEN b.den_measure IS NULL THEN 0 END) AS score,
             sc.reached_at,
             CASE WHEN b.higher_is_better THEN 1 ELSE -1 END
               * COALESCE(sc.score, CASE WHEN b.den_measure IS NULL THEN 0 END) AS sort_score
        FROM candidates c
       CROSS JOIN b
        LEFT JOIN scored sc ON sc.participant_id = c.participant_id
        LEFT JOIN salesperf.rep r ON b.participant = 'rep' AND r.rep_id = c.participant_id
        LEFT JOIN salesperf.unit u ON b.participant = 'unit' AND u.unit_id = c.participant_id
       WHERE r.rep_id IS NOT NULL OR u.unit_id IS NOT NULL)
  SELECT pg_catalog.rank() OVER (ORDER BY n.sort_score DESC NULLS LAST),
         n.participant_id, n.name, n.score, n.reached_at, pg_catalog.count(*) OVER ()
    FROM named n
   ORDER BY n.sort_score DESC NULLS LAST, n.reached_at ASC NULLS FIRST, n.participant_id
$$;
COMMENT ON FUNCTION salesperf.board_standings(integer, timestamptz, boolean) IS
  'Internal: every participant of a board in the period starting at ps, ranked (competition ranking, ties by who reached the score first).';

-- Rank of a participant in a board's previous period, for the arrows:
-- NULL when it recorded nothing that counts on the board then (SPEC §8),
-- so a new board shows no false arrows.
CREATE FUNCTION salesperf.previous_rank(board_id integer, prev timestamptz, participant_id bigint)
RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
BEGIN
    IF prev IS NULL OR NOT EXISTS (
           SELECT 1 FROM salesperf.standing st
            WHERE st.board_id = previous_rank.board_id AND st.period_start = prev
              AND st.participant_id = previous_rank.participant_id) THEN
        RETURN NULL;
    END IF;
    RETURN (SELECT r.rank FROM salesperf.rank_in(previous_rank.board_id, prev, previous_rank.participant_id, true) r);
END
$$;
COMMENT ON FUNCTION salesperf.previous_rank(integer, timestamptz, bigint) IS
  'Internal: rank in the previous board period, NULL for a participant who recorded nothing that counts then.';

CREATE FUNCTION salesperf.leaderboard_top(board text, n integer DEFAULT 10,
                                          at timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (rank bigint, participant_id bigint, name text, score numeric,
               previous_rank bigint, movement integer)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    b     salesperf.leaderboard := salesperf.board(board);
    s     salesperf.settings;
    ps    timestamptz;
    prev  timestamptz;
BEGIN
    IF n IS NULL OR n < 0 THEN
        RAISE EXCEPTION 'n must be a non-negative number of rows, not %', COALESCE(n::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF at IS NULL THEN
        RAISE EXCEPTION 'at must not be NULL' USING ERRCODE = '22004';
    END IF;
    SELECT * INTO s FROM salesperf.settings;
    ps := salesperf.calendar_start(at, b.period, s.time_zone, s.week_start, s.fiscal_year_start_month, s.calendar);
    IF b.period <> 'all' THEN
        prev := salesperf.calendar_start(ps - interval '1 microsecond', b.period, s.time_zone, s.week_start,
                                         s.fiscal_year_start_month, s.calendar);
    END IF;

    IF b.participant = 'rep' THEN
        -- Fast path: when the first n materialized rows all score above zero,
        -- nobody else can rank among them; read them off the index.
        RETURN QUERY
        WITH head AS (
            SELECT st.participant_id, r.name, st.score, st.sort_score, st.reached_at
              FROM salesperf.standing st
              JOIN salesperf.rep r ON r.rep_id = st.participant_id AND r.active
             WHERE st.board_id = b.board_id AND st.period_start = ps
             ORDER BY st.sort_score DESC NULLS LAST, st.reached_at, st.participant_id
             LIMIT n)
        SELECT x.rank, x.participant_id, x.name, salesperf.display_score(x.score, b.metric), p.rank,
               (p.rank - x.rank)::integer
          FROM (SELECT pg_catalog.rank() OVER (ORDER BY h.sort_score DESC NULLS LAST) AS rank, h.*
                  FROM head h) x
          LEFT JOIN LATERAL (SELECT salesperf.previous_rank(b.board_id, prev, x.participant_id) AS rank) p ON true
         WHERE (SELECT pg_catalog.count(*) FROM head) = n
           AND (SELECT pg_catalog.bool_and(h.sort_score > 0) FROM head h)
         ORDER BY x.sort_score DESC NULLS LAST, x.reached_at, x.participant_id;
        IF FOUND OR n = 0 THEN
            RETURN;
        END IF;
    END IF;

    RETURN QUERY
    SELECT c.rank, c.participant_id, c.name, salesperf.display_score(c.score, b.metric), p.rank,
           (p.rank - c.rank)::integer
      FROM salesperf.board_standings(b.board_id, ps) c
      LEFT JOIN salesperf.board_standings(b.board_id, prev, true) p
        ON prev IS NOT NULL AND p.participant_id = c.participant_id AND p.reached_at IS NOT NULL
     LIMIT n;
END
$$;
COMMENT ON FUNCTION salesperf.leaderboard_top(text, integer, timestamptz) IS
  'Top n of a board for the period containing `at`: competition rank, score (money at the currency scale), rank at the end of the previous period (NULL if the participant recorded nothing then) and movement (positive = climbed). Unit boards roll up by today''s org chart.';

-- Rank of one participant in a board period.  On a rep board, a rep scoring
-- zero or more ranks 1 + the number of participants materialized above it
-- (an index range scan; a rep who recorded nothing scores 0 when it was a
-- member of the scope then).  Anyone else goes through the full ranking.
CREATE FUNCTION salesperf.rank_in(board_id integer, ps timestamptz, participant_id bigint,
                                  history boolean DEFAULT false)
RETURNS TABLE (rank bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    b     salesperf.leaderboard;
    k     salesperf.kpi;
    s     salesperf.settings;
    mine  numeric;
BEGIN
    IF ps IS NULL THEN
        RETURN;
    END IF;
    SELECT * INTO b FROM salesperf.leaderboard x WHERE x.board_id = rank_in.board_id;
    SELECT * INTO k FROM salesperf.kpi x WHERE x.name = b.metric;
    IF b.participant = 'rep' THEN
        IF NOT history AND NOT EXISTS (
               SELECT 1 FROM salesperf.rep r WHERE r.rep_id = rank_in.participant_id AND r.active) THEN
            RETURN;                                   -- inactive reps leave running boards
        END IF;
        SELECT st.sort_score INTO mine
          FROM salesperf.standing st
         WHERE st.board_id = rank_in.board_id AND st.period_start = ps
           AND st.contributor_id = rank_in.participant_id AND st.participant_id = rank_in.participant_id;
        IF NOT FOUND AND k.den_measure IS NULL THEN
            SELECT * INTO s FROM salesperf.settings;
            IF NOT EXISTS (
                SELECT 1 FROM salesperf.membership m
                 WHERE m.rep_id = rank_in.participant_id
                   AND m.during && pg_catalog.tstzrange(ps,
                         salesperf.calendar_end(ps, b.period, s.time_zone, s.week_start,
                                                s.fiscal_year_start_month, s.calendar), '[)')
                   AND (b.unit_scope IS NULL OR m.unit_id IN (
                        SELECT t.descendant_id FROM salesperf.unit_tree t WHERE t.ancestor_id = b.unit_scope))) THEN
                RETURN;                               -- not a participant then
            END IF;
            mine := 0;
        END IF;
        IF mine >= 0 THEN
            -- Inactive reps are few: count everyone above, then take them out
            -- unless history is asked for.
            RETURN QUERY
            SELECT 1 + (SELECT pg_catalog.count(*)
                          FROM salesperf.standing st
                         WHERE st.board_id = rank_in.board_id AND st.period_start = ps
                           AND st.sort_score > mine)
                     - CASE WHEN history THEN 0 ELSE
                       (SELECT pg_catalog.count(*)
                          FROM salesperf.rep r
                          JOIN salesperf.standing st
                            ON st.board_id = rank_in.board_id AND st.period_start = ps
                           AND st.contributor_id = r.rep_id AND st.participant_id = r.rep_id
                         WHERE NOT r.active AND st.sort_score > mine) END;
            RETURN;
        END IF;
    END IF;
    RETURN QUERY
    SELECT c.rank FROM salesperf.board_standings(rank_in.board_id, ps, history) c
     WHERE c.participant_id = rank_in.participant_id;
END
$$;
COMMENT ON FUNCTION salesperf.rank_in(integer, timestamptz, bigint, boolean) IS
  'Internal: rank of one participant in a board period among today''s active reps, or among everyone who took part then (history); no row if not a participant.';

CREATE FUNCTION salesperf.leaderboard_rank(board text, participant_id bigint,
                                           at timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (rank bigint, score numeric, participants bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    b     salesperf.leaderboard := salesperf.board(board);
    s     salesperf.settings;
    ps    timestamptz;
    mine  numeric;
BEGIN
    IF participant_id IS NULL OR at IS NULL THEN
        RAISE EXCEPTION 'leaderboard_rank() needs a participant_id and a moment' USING ERRCODE = '22004';
    END IF;
    IF b.participant = 'rep' AND NOT EXISTS (SELECT 1 FROM salesperf.rep r WHERE r.rep_id = leaderboard_rank.participant_id) THEN
        RAISE EXCEPTION 'unknown rep %', participant_id USING ERRCODE = '42704', HINT = 'See salesperf.rep.';
    END IF;
    IF b.participant = 'unit' AND NOT EXISTS (SELECT 1 FROM salesperf.unit u WHERE u.unit_id = leaderboard_rank.participant_id) THEN
        RAISE EXCEPTION 'unknown unit %', participant_id USING ERRCODE = '42704', HINT = 'See salesperf.unit.';
    END IF;
    SELECT * INTO s FROM salesperf.settings;
    ps := salesperf.calendar_start(at, b.period, s.time_zone, s.week_start, s.fiscal_year_start_month, s.calendar);
    IF b.participant = 'rep' THEN
        -- A rep scoring above zero: count those above instead of ranking all.
        SELECT st.score INTO mine
          FROM salesperf.standing st JOIN salesperf.rep r ON r.rep_id = st.participant_id
         WHERE st.board_id = b.board_id AND st.period_start = ps
           AND st.contributor_id = leaderboard_rank.participant_id
           AND st.participant_id = leaderboard_rank.participant_id AND st.sort_score > 0
           AND r.active;
        IF FOUND THEN
            RETURN QUERY
            SELECT x.rank, salesperf.display_score(mine, b.metric),
                   (SELECT pg_catalog.count(*) FROM salesperf.board_candidates(b.board_id, ps))
              FROM salesperf.rank_in(b.board_id, ps, leaderboard_rank.participant_id) x;
            RETURN;
        END IF;
    END IF;
    RETURN QUERY
    SELECT c.rank, salesperf.display_score(c.score, b.metric), c.participants
      FROM salesperf.board_standings(b.board_id, ps) c
     WHERE c.participant_id = leaderboard_rank.participant_id;
END
$$;
COMMENT ON FUNCTION salesperf.leaderboard_rank(text, bigint, timestamptz) IS
  'Rank, score and number of participants of one rep (or unit) on a board for the period containing `at` ("rank 57 of 60"). No row if not a participant.';
-- Keeping derived state in step: ledger triggers (C), record(), re-derivation
-- after membership, rule and org changes, and recompute().

CREATE FUNCTION salesperf.ledger_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'salesperf_ledger_changed'
LANGUAGE C;
COMMENT ON FUNCTION salesperf.ledger_changed() IS
  'Internal: statement trigger that maintains capped awards, KPI counters and standings from salesperf.activity.';

CREATE TRIGGER activity_inserted AFTER INSERT ON salesperf.activity
    REFERENCING NEW TABLE AS salesperf_new
    FOR EACH STATEMENT EXECUTE FUNCTION salesperf.ledger_changed();
CREATE TRIGGER activity_updated AFTER UPDATE ON salesperf.activity
    REFERENCING OLD TABLE AS salesperf_old NEW TABLE AS salesperf_new
    FOR EACH STATEMENT EXECUTE FUNCTION salesperf.ledger_changed();
CREATE TRIGGER activity_deleted AFTER DELETE ON salesperf.activity
    REFERENCING OLD TABLE AS salesperf_old
    FOR EACH STATEMENT EXECUTE FUNCTION salesperf.ledger_changed();
CREATE TRIGGER activity_truncated AFTER TRUNCATE ON salesperf.activity
    FOR EACH STATEMENT EXECUTE FUNCTION salesperf.ledger_changed();

CREATE FUNCTION salesperf.record(rep_id bigint, kind text, amount numeric DEFAULT 1,
                                 occurred_at timestamptz DEFAULT pg_catalog.now(),
                                 source text DEFAULT NULL, source_key text DEFAULT NULL,
                                 attrs jsonb DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    id bigint;
BEGIN
    IF record.rep_id IS NULL THEN
        RAISE EXCEPTION 'rep_id must not be NULL' USING ERRCODE = '22004';
    ELSIF record.kind IS NULL THEN
        RAISE EXCEPTION 'kind must not be NULL' USING ERRCODE = '22004';
    ELSIF record.amount IS NULL THEN
        RAISE EXCEPTION 'amount must not be NULL' USING ERRCODE = '22004';
    ELSIF record.occurred_at IS NULL THEN
        RAISE EXCEPTION 'occurred_at must not be NULL' USING ERRCODE = '22004';
    END IF;

    IF record.source_key IS NULL THEN
        INSERT INTO salesperf.activity AS a (rep_id, kind, amount, occurred_at, source, source_key, attrs)
        VALUES (record.rep_id, record.kind, record.amount, record.occurred_at, record.source, NULL, record.attrs)
        RETURNING a.activity_id INTO id;
        RETURN id;
    END IF;

    -- Idempotent: a retry (or a racing twin) with the same key gets the
    -- existing id.  ON CONFLICT waits for a concurrent inserter to finish.
    LOOP
        INSERT INTO salesperf.activity AS a (rep_id, kind, amount, occurred_at, source, source_key, attrs)
        VALUES (record.rep_id, record.kind, record.amount, record.occurred_at, record.source,
                record.source_key, record.attrs)
        ON CONFLICT (kind, source, source_key) WHERE source_key IS NOT NULL DO NOTHING
        RETURNING a.activity_id INTO id;
        IF id IS NOT NULL THEN
            RETURN id;
        END IF;
        IF record.source IS NULL THEN
            SELECT a.activity_id INTO id FROM salesperf.activity a
             WHERE a.kind = record.kind AND a.source IS NULL AND a.source_key = record.source_key;
        ELSE
            SELECT a.activity_id INTO id FROM salesperf.activity a
             WHERE a.kind = record.kind AND a.source = record.source AND a.source_key = record.source_key;
        END IF;
        IF id IS NOT NULL THEN
            RETURN id;
        END IF;
        -- The conflicting row was deleted meanwhile: try again.
    END LOOP;
END
$$;
COMMENT ON FUNCTION salesperf.record(bigint, text, numeric, timestamptz, text, text, jsonb) IS
  'Record an activity and return its id. Idempotent on (kind, source, source_key): a retry returns the existing id and awards nothing twice.';

-- (rep, local day) pairs of a rep's activities inside a time range.
CREATE FUNCTION salesperf.activity_days(rep_ids bigint[], during tstzrange, kinds text[] DEFAULT NULL)
RETURNS TABLE (rep_id bigint, day date)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT DISTINCT a.rep_id, salesperf.local_day(a.occurred_at, s.time_zone)
    FROM salesperf.activity a CROSS JOIN salesperf.settings s
   WHERE (rep_ids IS NULL OR a.rep_id = ANY (rep_ids))
     AND (kinds IS NULL OR a.kind = ANY (kinds))
     AND a.occurred_at >= COALESCE(pg_catalog.lower(during), '-infinity')
     AND a.occurred_at <  COALESCE(pg_catalog.upper(during), 'infinity')
$$;
COMMENT ON FUNCTION salesperf.activity_days(bigint[], tstzrange, text[]) IS
  'Internal: distinct (rep, local day) pairs of activities in a time range.';

-- Re-derive everything fed by the given (rep, day) pairs.
CREATE FUNCTION salesperf.rederive(rep_ids bigint[], days date[], kinds text[] DEFAULT NULL,
                                   announce boolean DEFAULT true)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    reps bigint[] := (SELECT array_agg(DISTINCT r) FROM unnest(rep_ids) r);
BEGIN
    IF COALESCE(pg_catalog.cardinality(days), 0) = 0 THEN
        RETURN;
    END IF;
    PERFORM salesperf.lock_reps(reps);
    PERFORM salesperf.rederive_days(rep_ids, days, kinds);
    IF EXISTS (SELECT 1 FROM salesperf.leaderboard) THEN
        PERFORM salesperf.refresh_standings(rep_ids, days);
    END IF;
    -- The insert path runs after_change() once for all its rows itself.
    IF announce THEN
        PERFORM salesperf.after_change(rep_ids, days);
    END IF;
END
$$;
COMMENT ON FUNCTION salesperf.rederive(bigint[], date[], text[], boolean) IS
  'Internal: re-derive awards, counters (of the given kinds, or all) and standings of the given (rep, local day) pairs, then (unless announce is false) award the badges and announce what they bring (after_change).';

-- With the reps locked: refuse overlapping memberships of the reps in
-- checked (23P01), and return the (rep, local day) pairs of the activities
-- of rep_ids[i] inside ranges[i].  One query checks both (a rep without
-- activities in its changed ranges costs one index probe), a second one
-- lists the days only when there are some.  This
-- runs once per assign(), so its plans are generic and kept for the
-- session (custom plans cost more to plan than to run), and an import
-- into an empty, freshly analyzed membership table must not keep a
-- sequential scan planned for it (each call would then read every
-- membership written so far), so scans are off here; every read below is
-- a probe of a btree by rep.
CREATE FUNCTION salesperf.membership_check(rep_ids bigint[], ranges tstzrange[], checked bigint[],
                                           OUT reps bigint[], OUT days date[])
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET enable_seqscan = off
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    found_overlap record;
    pair          record;
BEGIN
    SELECT (-- Sorted by start, a rep's memberships overlap if and only if
            -- two neighbours do.
            SELECT ROW(x.rep_id, x.during, x.next_during)
              FROM (SELECT m.rep_id, m.during,
                           pg_catalog.lead(m.during) OVER (PARTITION BY m.rep_id
                                                           ORDER BY pg_catalog.lower(m.during)) AS next_during
                      FROM salesperf.membership m
                     WHERE m.rep_id = ANY (checked)) x
             WHERE x.during && x.next_during
             LIMIT 1) AS overlap,
           EXISTS (SELECT 1
                     FROM unnest(rep_ids, ranges) AS ch(rep_id, during)
                     JOIN salesperf.activity a
                       ON a.rep_id = ch.rep_id
                      AND a.occurred_at >= COALESCE(pg_catalog.lower(ch.during), '-infinity')
                      AND a.occurred_at <= COALESCE(pg_catalog.upper(ch.during), 'infinity')
                      AND a.occurred_at <@ ch.during) AS moved
      INTO found_overlap;
    IF found_overlap.overlap IS NOT NULL THEN
        pair := found_overlap.overlap;
        RAISE EXCEPTION 'memberships of rep % overlap: % and %', pair.f1, pair.f2, pair.f3
            USING ERRCODE = '23P01', CONSTRAINT = 'membership_no_overlap', TABLE = 'membership',
                  SCHEMA = 'salesperf',
                  HINT = 'A rep belongs to one unit at a time: end the earlier membership first, or use salesperf.assign().';
    END IF;
    IF found_overlap.moved THEN
        SELECT pg_catalog.array_agg(k.rep_id), pg_catalog.array_agg(k.day) INTO reps, days
          FROM (SELECT DISTINCT a.rep_id, salesperf.local_day(a.occurred_at, s.time_zone) AS day
                  FROM unnest(rep_ids, ranges) AS ch(rep_id, during)
                  JOIN salesperf.activity a
                    ON a.rep_id = ch.rep_id
                   AND a.occurred_at >= COALESCE(pg_catalog.lower(ch.during), '-infinity')
                   AND a.occurred_at <= COALESCE(pg_catalog.upper(ch.during), 'infinity')
                   AND a.occurred_at <@ ch.during
                 CROSS JOIN salesperf.settings s) k;
    END IF;
END
$$;
COMMENT ON FUNCTION salesperf.membership_check(bigint[], tstzrange[], bigint[]) IS
  'Internal: with the reps locked, refuse overlapping memberships of the checked reps (23P01) and return the (rep, local day) pairs of each rep''s activities in its changed range.';

-- Re-derive the (rep, local day) pairs whose activities changed unit
-- after a membership change (membership_check found them, with the reps
-- locked).  Only called when there are some: an import of reps without
-- activities in the moved ranges never gets here.
CREATE FUNCTION salesperf.membership_rederive(rep_ids bigint[], days date[])
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
-- Re-derivation plans as it does everywhere else, also when this runs
-- inside assign(), whose own probes turn these off.
SET enable_seqscan = on
SET plan_cache_mode = auto
AS $$
BEGIN
    PERFORM salesperf.rederive(rep_ids, days);
END
$$;
COMMENT ON FUNCTION salesperf.membership_rederive(bigint[], date[]) IS
  'Internal: re-derive the (rep, local day) pairs whose activities changed unit after a membership change.';

-- A membership change re-attributes the rep's activities in the changed
-- ranges.  Statement-level, so loading many memberships costs one pass.
-- An activity's unit changes only where a rep's memberships say another
-- unit than before: an update that moves one end of a membership changes
-- only the time between the old and the new end (per rep and unit, the
-- old ranges minus the new and the new minus the old).
CREATE FUNCTION salesperf.membership_changed()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    reps    bigint[];
    ranges  tstzrange[];
    checked bigint[];
    changed record;
BEGIN
    -- Lock the reps whose memberships changed (as their ledger writers do)
    -- before reading which days to re-derive: the next statements see
    -- everything those writers committed.  Only these reps wait: a writer
    -- may record() and assign() in one transaction without deadlocking
    -- another doing the same for other reps.
    IF TG_OP = 'INSERT' THEN
        -- New rows' reps exist: their foreign key was checked first.
        SELECT pg_catalog.array_agg(ch.rep_id), pg_catalog.array_agg(ch.during) INTO reps, ranges
          FROM membership_new ch;
        checked := reps;
        PERFORM salesperf.lock_reps(reps);
    ELSIF TG_OP = 'DELETE' THEN
        -- A rep being deleted takes its memberships with it; it has no
        -- activities (rep_guard), so it is left out.
        SELECT pg_catalog.array_agg(ch.rep_id), pg_catalog.array_agg(ch.during) INTO reps, ranges
          FROM membership_old ch
         WHERE EXISTS (SELECT 1 FROM salesperf.rep r WHERE r.rep_id = ch.rep_id);
        PERFORM salesperf.lock_reps(reps);
    ELSE
        SELECT pg_catalog.array_agg(d.rep_id), pg_catalog.array_agg(d.during) INTO reps, ranges
          FROM (SELECT COALESCE(o.rep_id, n.rep_id) AS rep_id,
                       pg_catalog.unnest((COALESCE(o.ranges, '{}') OPERATOR(pg_catalog.-) COALESCE(n.ranges, '{}'))
                                         OPERATOR(pg_catalog.+)
                                         (COALESCE(n.ranges, '{}') OPERATOR(pg_catalog.-) COALESCE(o.ranges, '{}'))) AS during
                  FROM (SELECT ch.rep_id, ch.unit_id, pg_catalog.range_agg(ch.during) AS ranges
                          FROM membership_old ch GROUP BY ch.rep_id, ch.unit_id) o
                  FULL JOIN (SELECT ch.rep_id, ch.unit_id, pg_catalog.range_agg(ch.during) AS ranges
                               FROM membership_new ch GROUP BY ch.rep_id, ch.unit_id) n
                    ON n.rep_id = o.rep_id AND n.unit_id = o.unit_id) d
         WHERE EXISTS (SELECT 1 FROM salesperf.rep r WHERE r.rep_id = d.rep_id);
        SELECT pg_catalog.array_agg(ch.rep_id) INTO checked FROM membership_new ch;
        PERFORM salesperf.lock_reps(reps || checked);
    END IF;
    -- With the reps locked: refuse overlaps, find the days whose
    -- activities change unit.
    changed := salesperf.membership_check(reps, ranges, checked);
    IF changed.reps IS NOT NULL THEN
        PERFORM salesperf.membership_rederive(changed.reps, changed.days);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER membership_inserted AFTER INSERT ON salesperf.membership
    REFERENCING NEW TABLE AS membership_new
    FOR EACH STATEMENT EXECUTE FUNCTION salesperf.membership_changed();
CREATE TRIGGER membership_updated AFTER UPDATE ON salesperf.membership
    REFERENCING OLD TABLE AS membership_old NEW TABLE AS membership_new
    FOR EACH STATEMENT EXECUTE FUNCTION salesperf.membership_changed();
CREATE TRIGGER membership_deleted AFTER DELETE ON salesperf.membership
    REFERENCING OLD TABLE AS membership_old
    FOR EACH STATEMENT EXECUTE FUNCTION salesperf.membership_changed();

-- A rule change re-derives the activities it touches, at once.
CREATE FUNCTION salesperf.point_rule_changed()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- Wait for writers in flight first: the days to re-derive are read next.
    PERFORM salesperf.lock_ledger();
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM salesperf.rederive(array_agg(d.rep_id), array_agg(d.day))
           FROM salesperf.activity_days(NULL, OLD.valid, ARRAY[OLD.kind]) d;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM salesperf.rederive(array_agg(d.rep_id), array_agg(d.day))
           FROM salesperf.activity_days(NULL, NEW.valid, ARRAY[NEW.kind]) d;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER point_rule_changed AFTER INSERT OR UPDATE OR DELETE ON salesperf.point_rule
    FOR EACH ROW EXECUTE FUNCTION salesperf.point_rule_changed();

-- Any unit written (a restore's COPY included), re-parented, retyped or
-- deleted: rebuild the closure (refusing cycles), then the board-unit map
-- and the standings of every board, since unit scores roll up by today's
-- tree.  Statement-level: one pass however many units a statement writes.
CREATE FUNCTION salesperf.org_changed()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM salesperf.rebuild_unit_tree();
    IF EXISTS (SELECT 1 FROM salesperf.leaderboard) THEN
        IF TG_OP = 'INSERT' THEN
            -- New units hold no history yet: only the map changes.
            PERFORM salesperf.lock_ledger();
            PERFORM salesperf.rebuild_board_units();
        ELSE
            PERFORM salesperf.rebuild_standings();
        END IF;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER org_inserted AFTER INSERT ON salesperf.unit
    FOR EACH STATEMENT EXECUTE FUNCTION salesperf.org_changed();
CREATE TRIGGER org_updated AFTER UPDATE OF parent_id, kind ON salesperf.unit
    FOR EACH STATEMENT EXECUTE FUNCTION salesperf.org_changed();
CREATE TRIGGER org_deleted AFTER DELETE ON salesperf.unit
    FOR EACH STATEMENT EXECUTE FUNCTION salesperf.org_changed();

-- Rebuild every derived table from the ledger and the configuration.
-- Set-based, each step one pass: one window query for the capped awards;
-- one hash aggregate for the counters (each activity's local day, unit and
-- points computed once, the capped awards summed once and hash-joined,
-- not probed per activity); the board periods of each distinct day
-- computed once and hash-joined to what each counter row adds to each
-- board (board_contribution); the org closure and the board-unit map.
-- The new state is computed aside and compared with the stored one by one
-- hash join on each table's key, and only the rows that differ are deleted
-- and inserted: readers are never blocked and keep reading the old state
-- until the rebuild commits; ledger writers and configuration changes wait
-- for it (lock_ledger, lock_reps).  The rules are those of rederive_days()
-- (scored_activity) and refresh_standings() (computed_standing), which
-- re-derive a few keys at a time; the randomized tests hold them to the
-- same answer.
CREATE FUNCTION salesperf.recompute()
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET work_mem = '256MB'
-- Hash aggregates and joins over the whole ledger: up to 1 GB each before
-- they spill to disk (the estimates of groups run high).
SET hash_mem_multiplier = 4
AS $$
DECLARE
    s salesperf.settings;
BEGIN
    PERFORM salesperf.lock_ledger();
    PERFORM salesperf.lock_reps(pg_catalog.array_agg(r.rep_id)) FROM salesperf.rep r;
    SELECT * INTO s FROM salesperf.settings;

    PERFORM salesperf.rebuild_unit_tree();
    PERFORM salesperf.rebuild_board_units();

    -- Capped rules: a rep's activities of a local day earn in occurred_at
    -- (then id) order until the rule's cap is reached.
    CREATE TEMP TABLE salesperf_fresh_award ON COMMIT DROP AS
    SELECT t.activity_id, t.rule_id, t.rep_id, t.day, t.kind, t.earned AS points
      FROM (SELECT a.activity_id, r.rule_id, a.rep_id, a.day, a.kind,
                   LEAST(x.raw, GREATEST(0, r.daily_cap - COALESCE(sum(x.raw) OVER (
                         PARTITION BY a.rep_id, a.day, r.rule_id
                         ORDER BY a.occurred_at, a.activity_id
                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0))) AS earned
              FROM (SELECT a.activity_id, a.rep_id, a.kind, a.amount, a.occurred_at,
                           salesperf.local_day(a.occurred_at, s.time_zone) AS day
                      FROM salesperf.activity a
                     WHERE EXISTS (SELECT 1 FROM salesperf.point_rule r
                                    WHERE r.kind = a.kind AND r.daily_cap IS NOT NULL AND r.active)) a
              JOIN salesperf.point_rule r
                ON r.kind = a.kind AND r.active AND r.daily_cap IS NOT NULL
               AND r.valid @> a.occurred_at
             CROSS JOIN LATERAL (SELECT r.points + r.points_per_amount * a.amount AS raw) x) t
     WHERE t.earned <> 0;
    ANALYZE pg_temp.salesperf_fresh_award;

    -- Counters: scored_activity's rule (unit as of occurred_at, local day,
    -- uncapped rules plus the capped awards just computed), each activity
    -- read once.
    CREATE TEMP TABLE salesperf_fresh_counter ON COMMIT DROP AS
    SELECT a.rep_id, m.unit_id, a.day, a.kind, count(*) AS activities, sum(a.amount) AS amount,
           sum(a.points) AS points, max(a.occurred_at) AS last_at,
           max(a.occurred_at) FILTER (WHERE a.amount <> 0) AS last_amount_at,
           max(a.occurred_at) FILTER (WHERE a.points <> 0) AS last_point_at
      FROM (SELECT a.rep_id, a.kind, a.amount, a.occurred_at,
                   salesperf.local_day(a.occurred_at, s.time_zone) AS day,
                   salesperf.rule_points(a.kind, a.amount, a.occurred_at) + COALESCE(ca.points, 0) AS points
              FROM salesperf.activity a
              LEFT JOIN (SELECT fa.activity_id, sum(fa.points) AS points
                           FROM pg_temp.salesperf_fresh_award fa GROUP BY fa.activity_id) ca
                ON ca.activity_id = a.activity_id) a
      LEFT JOIN salesperf.membership m
             ON m.rep_id = a.rep_id AND m.during @> a.occurred_at
     GROUP BY a.rep_id, a.day, a.kind, m.unit_id;
    ANALYZE pg_temp.salesperf_fresh_counter;

    -- Apply: the stored rows that are not in the new state go (by row
    -- address: every writer of these tables is held back), the new rows
    -- that are not stored come in.
    CREATE TEMP TABLE salesperf_change ON COMMIT DROP AS
    SELECT c.ctid AS old_row, f.activity_id, f.rule_id, f.rep_id, f.day, f.kind, f.points
      FROM salesperf.capped_award c
      FULL JOIN pg_temp.salesperf_fresh_award f
        ON f.activity_id = c.activity_id AND f.rule_id = c.rule_id
     WHERE c.activity_id IS NULL OR f.activity_id IS NULL
        OR (f.rep_id, f.day, f.kind, f.points) IS DISTINCT FROM (c.rep_id, c.day, c.kind, c.points);
    DELETE FROM salesperf.capped_award c USING pg_temp.salesperf_change d WHERE c.ctid = d.old_row;
    INSERT INTO salesperf.capped_award (activity_id, rule_id, rep_id, day, kind, points)
    SELECT d.activity_id, d.rule_id, d.rep_id, d.day, d.kind, d.points
      FROM pg_temp.salesperf_change d WHERE d.activity_id IS NOT NULL;
    DROP TABLE pg_temp.salesperf_change;

    CREATE TEMP TABLE salesperf_change ON COMMIT DROP AS
    SELECT c.ctid AS old_row, f.*
      FROM salesperf.kpi_counter c
      FULL JOIN pg_temp.salesperf_fresh_counter f
        ON f.rep_id = c.rep_id AND f.day = c.day AND f.kind = c.kind
       AND (f.unit_id IS NULL) = (c.unit_id IS NULL) AND COALESCE(f.unit_id, 0) = COALESCE(c.unit_id, 0)
     WHERE c.rep_id IS NULL OR f.rep_id IS NULL
        OR (f.activities, f.amount, f.points, f.last_at, f.last_amount_at, f.last_point_at)
           IS DISTINCT FROM (c.activities, c.amount, c.points, c.last_at, c.last_amount_at, c.last_point_at);
    DELETE FROM salesperf.kpi_counter c USING pg_temp.salesperf_change d WHERE c.ctid = d.old_row;
    INSERT INTO salesperf.kpi_counter (rep_id, unit_id, day, kind, activities, amount, points,
                                       last_at, last_amount_at, last_point_at)
    SELECT d.rep_id, d.unit_id, d.day, d.kind, d.activities, d.amount, d.points,
           d.last_at, d.last_amount_at, d.last_point_at
      FROM pg_temp.salesperf_change d WHERE d.rep_id IS NOT NULL
     ORDER BY d.rep_id, d.day, d.kind;
    DROP TABLE pg_temp.salesperf_change;

    -- Standings, from the counters just written: computed_standing's rule,
    -- with the period start of each (board, distinct day) computed once.
    CREATE TEMP TABLE salesperf_period ON COMMIT DROP AS
    SELECT b.board_id, d.day,
           salesperf.calendar_start(salesperf.local_day_start(d.day, s.time_zone), b.period,
                                    s.time_zone, s.week_start, s.fiscal_year_start_month,
                                    s.calendar) AS ps
      FROM (SELECT DISTINCT c.day FROM pg_temp.salesperf_fresh_counter c) d
     CROSS JOIN salesperf.leaderboard b;
    ANALYZE pg_temp.salesperf_period;
    CREATE TEMP TABLE salesperf_fresh_standing ON COMMIT DROP AS
    SELECT bc.board_id, pm.ps AS period_start, bc.participant_id, bc.rep_id AS contributor_id,
           sum(bc.num) AS num, sum(bc.den) AS den, bc.direction, max(bc.at) AS reached_at
      FROM salesperf.board_contribution bc
      JOIN pg_temp.salesperf_period pm ON pm.board_id = bc.board_id AND pm.day = bc.day
     GROUP BY bc.board_id, pm.ps, bc.participant_id, bc.rep_id, bc.direction
    HAVING max(bc.at) IS NOT NULL;
    ANALYZE pg_temp.salesperf_fresh_standing;

    CREATE TEMP TABLE salesperf_change ON COMMIT DROP AS
    SELECT st.ctid AS old_row, f.*
      FROM salesperf.standing st
      FULL JOIN pg_temp.salesperf_fresh_standing f
        ON f.board_id = st.board_id AND f.period_start = st.period_start
       AND f.contributor_id = st.contributor_id AND f.participant_id = st.participant_id
     WHERE st.board_id IS NULL OR f.board_id IS NULL
        OR (f.num, f.den, f.direction, f.reached_at) IS DISTINCT FROM (st.num, st.den, st.direction, st.reached_at);
    DELETE FROM salesperf.standing st USING pg_temp.salesperf_change d WHERE st.ctid = d.old_row;
    INSERT INTO salesperf.standing (board_id, period_start, participant_id, contributor_id,
                                    num, den, direction, reached_at)
    SELECT d.board_id, d.period_start, d.participant_id, d.contributor_id,
           d.num, d.den, d.direction, d.reached_at
      FROM pg_temp.salesperf_change d WHERE d.board_id IS NOT NULL
     ORDER BY 1, 2, 4, 3;

    DROP TABLE pg_temp.salesperf_fresh_award, pg_temp.salesperf_fresh_counter, pg_temp.salesperf_period,
               pg_temp.salesperf_fresh_standing, pg_temp.salesperf_change;

    -- Badge awards are history: nothing is revoked; any the ledger shows
    -- earned but missing is added.
    PERFORM salesperf.award_badges(NULL, NULL);
END
$$;
COMMENT ON FUNCTION salesperf.recompute() IS
  'Rebuild the org closure, board-unit map, capped awards, KPI counters and every leaderboard''s standings from the ledger and the configuration, and add any badge award the ledger shows earned (awards are never revoked); the result equals the incrementally maintained state. Readers keep the old state until it commits; ledger writers wait.'
;
-- Tracking CRM tables (SPEC §5): salesperf.track() turns the rows of a CRM
-- table that satisfy a condition into activities, and keeps them in step as
-- rows are inserted, updated and deleted (src/track_trigger.c).  The
-- condition is validated and normalized in C (src/track_condition.c).

CREATE TABLE salesperf.tracked_source (
    tracked_id      integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    source          regclass NOT NULL,
    kind            text NOT NULL REFERENCES salesperf.activity_kind (kind),
    source_name     text NOT NULL,
    rep_column      name NOT NULL,
    occurred_column name NOT NULL,
    amount_column   name,
    key_column      name NOT NULL,
    condition       text,
    trigger_name    name NOT NULL,
    tracked_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT tracked_source_once UNIQUE (source, kind),
    CONSTRAINT tracked_source_name_once UNIQUE (source_name, kind)
);
COMMENT ON TABLE salesperf.tracked_source IS
  'CRM tables watched by salesperf.track(): one row per (table, activity kind). Change it only through track() and untrack(). A registration whose table was dropped is removed by the next track().';
COMMENT ON COLUMN salesperf.tracked_source.source IS 'The tracked table.';
COMMENT ON COLUMN salesperf.tracked_source.kind IS 'Kind of the activities its rows become.';
COMMENT ON COLUMN salesperf.tracked_source.source_name IS
  'Written to salesperf.activity.source: the table''s qualified name when it was tracked (kept if the table is renamed).';
COMMENT ON COLUMN salesperf.tracked_source.rep_column IS 'Column holding the rep id (cast to bigint).';
COMMENT ON COLUMN salesperf.tracked_source.occurred_column IS 'Column holding when the activity happened (cast to timestamptz).';
COMMENT ON COLUMN salesperf.tracked_source.amount_column IS 'Column holding the amount (cast to numeric; NULL counts as 0); NULL: every activity counts 1.';
COMMENT ON COLUMN salesperf.tracked_source.key_column IS 'Unique column whose value, as text, is the activity''s source_key.';
COMMENT ON COLUMN salesperf.tracked_source.condition IS
  'Which rows are activities, as validated and normalized by track() (NULL: every row). Column names are resolved when the trigger runs: after renaming a column, untrack and track again.';
COMMENT ON COLUMN salesperf.tracked_source.trigger_name IS
  'Prefix of the table''s four triggers: <trigger_name>_insert, _update, _delete and _truncate.';
SELECT pg_catalog.pg_extension_config_dump('salesperf.tracked_source', '');
SELECT pg_catalog.pg_extension_config_dump('salesperf.tracked_source_tracked_id_seq', '');

CREATE FUNCTION salesperf.check_track(source regclass, condition text DEFAULT NULL)
RETURNS text
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'salesperf_check_track';
COMMENT ON FUNCTION salesperf.check_track(regclass, text) IS
  'Internal: raises 42501 unless the current user owns the table; given a condition, validates it (one boolean expression over the table''s columns, no subqueries, aggregates, volatile functions or other tables: 42601) and returns its normalized text.';

CREATE FUNCTION salesperf.tracked_row_changed()
RETURNS trigger
AS 'MODULE_PATHNAME', 'salesperf_tracked_row_changed'
LANGUAGE C;
COMMENT ON FUNCTION salesperf.tracked_row_changed() IS
  'Internal: statement trigger installed by salesperf.track() on a CRM table; turns the rows a statement changed into activity inserts, updates and deletes in one set-based statement each.';

CREATE FUNCTION salesperf.track_backfill(tracked_id integer)
RETURNS bigint
LANGUAGE C VOLATILE STRICT
AS 'MODULE_PATHNAME', 'salesperf_track_backfill';
COMMENT ON FUNCTION salesperf.track_backfill(integer) IS
  'Internal: records or refreshes, in one INSERT ... SELECT, the activity of every row of a tracked table that is one; returns how many it wrote. Owner only.';

CREATE FUNCTION salesperf.track(source regclass, kind text, rep_column name, occurred_column name,
                                amount_column name DEFAULT NULL, key_column name DEFAULT NULL,
                                condition text DEFAULT NULL, backfill boolean DEFAULT true)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    relkind    "char";
    label      text;
    key_col    name := track.key_column;
    pk         name[];
    normalized text;
    id         integer;
    prefix     text;
    col        record;
BEGIN
    IF track.source IS NULL OR track.kind IS NULL OR track.rep_column IS NULL
       OR track.occurred_column IS NULL OR track.backfill IS NULL THEN
        RAISE EXCEPTION 'track() needs a source table, a kind, a rep column, an occurred column and backfill'
            USING ERRCODE = '22004';
    END IF;
    -- Only the table's owner may track it (42501).
    PERFORM salesperf.check_track(track.source);

    SELECT c.relkind, pg_catalog.format('%I.%I', n.nspname, c.relname)
      INTO relkind, label
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = track.source;
    IF relkind NOT IN ('r', 'p') THEN
        RAISE EXCEPTION '% is not a table', track.source
            USING ERRCODE = '42809', HINT = 'Only tables and partitioned tables can be tracked.';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
                WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = track.source
                  AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
                  AND d.deptype = 'e' AND e.extname = 'salesperf') THEN
        RAISE EXCEPTION 'table % belongs to salesperf and cannot be tracked', track.source
            USING ERRCODE = '42809', HINT = 'Record activities with salesperf.record() or track the CRM''s own tables.';
    END IF;
    -- Writers wait until the triggers exist and the backfill is done, so no
    -- row slips between the two.
    EXECUTE pg_catalog.format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', track.source);

    IF NOT EXISTS (SELECT 1 FROM salesperf.activity_kind k WHERE k.kind = track.kind) THEN
        RAISE EXCEPTION 'unknown activity kind "%"', track.kind
            USING ERRCODE = '42704', HINT = 'See salesperf.activity_kind.';
    END IF;
    DELETE FROM salesperf.tracked_source t
     WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = t.source);
    IF EXISTS (SELECT 1 FROM salesperf.tracked_source t
                WHERE t.kind = track.kind AND (t.source = track.source OR t.source_name = label)) THEN
        RAISE EXCEPTION 'table % is already tracked for kind "%"', track.source, track.kind
            USING ERRCODE = '42710', HINT = 'Call salesperf.untrack() first to change how it is tracked.';
    END IF;

    -- The key: the given column, or the single-column primary key.
    IF key_col IS NULL THEN
        SELECT pg_catalog.array_agg(a.attname ORDER BY k.n) INTO pk
          FROM pg_catalog.pg_index i
         CROSS JOIN LATERAL pg_catalog.unnest(i.indkey::pg_catalog.int2[]) WITH ORDINALITY AS k(attnum, n)
          JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
         WHERE i.indrelid = track.source AND i.indisprimary;
        IF pk IS NULL THEN
            RAISE EXCEPTION 'table % has no primary key', track.source
                USING ERRCODE = '42P10', HINT = 'Pass key_column: a column with a unique index of its own.';
        ELSIF pg_catalog.cardinality(pk) > 1 THEN
            RAISE EXCEPTION 'the primary key of table % has % columns', track.source, pg_catalog.cardinality(pk)
                USING ERRCODE = '42P10', HINT = 'Pass key_column: a column with a unique index of its own.';
        END IF;
        key_col := pk[1];
    END IF;

    -- Every named column exists and converts to what the ledger needs.
    FOR col IN
        SELECT v.arg, v.col, v.target
          FROM (VALUES ('rep_column', track.rep_column, 'pg_catalog.int8'),
                       ('occurred_column', track.occurred_column, 'pg_catalog.timestamptz'),
                       ('amount_column', track.amount_column, 'pg_catalog.numeric'),
                       ('key_column', key_col, 'pg_catalog.text')) AS v(arg, col, target)
         WHERE v.col IS NOT NULL
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                        WHERE a.attrelid = track.source AND a.attname = col.col
                          AND a.attnum > 0 AND NOT a.attisdropped) THEN
            RAISE EXCEPTION 'column "%" of table % does not exist', col.col, track.source
                USING ERRCODE = '42703', DETAIL = pg_catalog.format('It was given as %s.', col.arg);
        END IF;
        BEGIN
            EXECUTE pg_catalog.format('SELECT CAST(%I AS %s) FROM %s WHERE false', col.col, col.target, track.source);
        EXCEPTION WHEN cannot_coerce THEN
            RAISE EXCEPTION 'column "%" of table % cannot be used as %', col.col, track.source, col.arg
                USING ERRCODE = '42846', DETAIL = SQLERRM;
        END;
    END LOOP;
    IF NOT EXISTS (SELECT 1
                     FROM pg_catalog.pg_index i
                     JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attname = key_col
                    WHERE i.indrelid = track.source AND i.indisunique AND i.indimmediate
                      AND i.indnkeyatts = 1 AND i.indkey[0] = a.attnum
                      AND i.indpred IS NULL AND i.indexprs IS NULL) THEN
        RAISE EXCEPTION 'column "%" of table % is not unique', key_col, track.source
            USING ERRCODE = '42P10',
                  HINT = 'The key column needs a unique index (or primary key) of its own, not deferrable.';
    END IF;

    normalized := salesperf.check_track(track.source, track.condition);

    id := pg_catalog.nextval(pg_catalog.pg_get_serial_sequence('salesperf.tracked_source', 'tracked_id'));
    prefix := 'salesperf_track_' || CASE WHEN pg_catalog.length(track.kind) <= 38 THEN track.kind ELSE id::text END;
    INSERT INTO salesperf.tracked_source AS t (tracked_id, source, kind, source_name, rep_column,
                                               occurred_column, amount_column, key_column, condition,
                                               trigger_name)
    VALUES (id, track.source, track.kind, label, track.rep_column, track.occurred_column,
            track.amount_column, key_col, normalized, prefix);

    EXECUTE pg_catalog.format(
        'CREATE TRIGGER %I AFTER INSERT ON %s REFERENCING NEW TABLE AS salesperf_new'
        ' FOR EACH STATEMENT EXECUTE FUNCTION salesperf.tracked_row_changed(%L)',
        prefix || '_insert', track.source, id);
    EXECUTE pg_catalog.format(
        'CREATE TRIGGER %I AFTER UPDATE ON %s REFERENCING OLD TABLE AS salesperf_old NEW TABLE AS salesperf_new'
        ' FOR EACH STATEMENT EXECUTE FUNCTION salesperf.tracked_row_changed(%L)',
        prefix || '_update', track.source, id);
    EXECUTE pg_catalog.format(
        'CREATE TRIGGER %I AFTER DELETE ON %s REFERENCING OLD TABLE AS salesperf_old'
        ' FOR EACH STATEMENT EXECUTE FUNCTION salesperf.tracked_row_changed(%L)',
        prefix || '_delete', track.source, id);
    EXECUTE pg_catalog.format(
        'CREATE TRIGGER %I AFTER TRUNCATE ON %s'
        ' FOR EACH STATEMENT EXECUTE FUNCTION salesperf.tracked_row_changed(%L)',
        prefix || '_truncate', track.source, id);

    IF track.backfill THEN
        RETURN salesperf.track_backfill(id);
    END IF;
    RETURN 0;
END
$$;
COMMENT ON FUNCTION salesperf.track(regclass, text, name, name, name, name, text, boolean) IS
  'Watch a CRM table: every row for which `condition` holds becomes one activity of `kind` (rep, time and amount from the named columns, amount 1 without one; source = the table''s name, source_key = the key column, by default the single-column primary key), and the activity appears, changes and disappears as rows are inserted, updated, deleted or truncated. Rows whose rep, time or key is NULL are not activities; a rep missing from salesperf.rep or a negative amount makes the CRM statement fail, as record() would. Owner only; the condition is validated and stored normalized. With backfill, existing rows are recorded at once; returns how many activities that wrote.';

CREATE FUNCTION salesperf.untrack(source regclass, kind text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    reg salesperf.tracked_source;
    event text;
BEGIN
    IF untrack.source IS NULL OR untrack.kind IS NULL THEN
        RAISE EXCEPTION 'untrack() needs a source table and a kind' USING ERRCODE = '22004';
    END IF;
    PERFORM salesperf.check_track(untrack.source);
    SELECT * INTO reg FROM salesperf.tracked_source t
     WHERE t.source = untrack.source AND t.kind = untrack.kind
       FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'table % is not tracked for kind "%"', untrack.source, untrack.kind
            USING ERRCODE = '42704', HINT = 'See salesperf.tracked_source.';
    END IF;
    FOREACH event IN ARRAY ARRAY['insert', 'update', 'delete', 'truncate'] LOOP
        EXECUTE pg_catalog.format('DROP TRIGGER IF EXISTS %I ON %s', reg.trigger_name || '_' || event, untrack.source);
    END LOOP;
    DELETE FROM salesperf.tracked_source t WHERE t.tracked_id = reg.tracked_id;
END
$$;
COMMENT ON FUNCTION salesperf.untrack(regclass, text) IS
  'Stop watching a CRM table for one kind: removes the registration and its triggers. The activities already recorded stay in the ledger as history (delete them from salesperf.activity by source and kind if they should go too). Owner only.';
-- Pipeline aggregates: sales velocity, weighted pipeline, forecast summary
-- and forecast quantiles (SPEC §9).  Written in C; each has combine,
-- serialize and deserialize functions so parallel plans (and Citus) can
-- split the work.  The support functions take or return `internal`, so SQL
-- cannot call them directly; they refuse to run outside an aggregate.

CREATE TYPE salesperf.velocity AS (
    opportunities  bigint,
    won            bigint,
    lost           bigint,
    win_rate       double precision,
    avg_deal       numeric,
    avg_cycle_days double precision,
    per_day        double precision,
    per_month      double precision
);
COMMENT ON TYPE salesperf.velocity IS
  'Result of salesperf.sales_velocity_detail: the factors of sales velocity and the velocity itself.';
COMMENT ON COLUMN salesperf.velocity.opportunities IS 'N: every row aggregated.';
COMMENT ON COLUMN salesperf.velocity.won IS 'Rows with closed_at set and won = true.';
COMMENT ON COLUMN salesperf.velocity.lost IS 'Rows with closed_at set and won = false.';
COMMENT ON COLUMN salesperf.velocity.win_rate IS 'won / (won + lost); NULL when no row is closed with a known outcome.';
COMMENT ON COLUMN salesperf.velocity.avg_deal IS 'Exact average amount of won rows (NULL amounts ignored); NULL when there is none.';
COMMENT ON COLUMN salesperf.velocity.avg_cycle_days IS 'Average days from opened_at to closed_at over won rows (NULL opened_at ignored).';
COMMENT ON COLUMN salesperf.velocity.per_day IS 'opportunities * win_rate * avg_deal / avg_cycle_days: currency per day; NULL when a factor is undefined or the cycle is 0.';
COMMENT ON COLUMN salesperf.velocity.per_month IS 'per_day * 365.25 / 12.';

CREATE TYPE salesperf.forecast AS (
    closed             numeric,
    commit             numeric,
    best_case          numeric,
    pipeline           numeric,
    omitted            numeric,
    commit_forecast    numeric,
    best_case_forecast numeric,
    open_pipeline      numeric
);
COMMENT ON TYPE salesperf.forecast IS
  'Result of salesperf.forecast_summary: amounts per forecast category and the cumulative forecast totals.';
COMMENT ON COLUMN salesperf.forecast.closed IS 'Sum of amounts in category closed (0 when none).';
COMMENT ON COLUMN salesperf.forecast.commit IS 'Sum of amounts in category commit (0 when none).';
COMMENT ON COLUMN salesperf.forecast.best_case IS 'Sum of amounts in category best_case (0 when none).';
COMMENT ON COLUMN salesperf.forecast.pipeline IS 'Sum of amounts in category pipeline (0 when none).';
COMMENT ON COLUMN salesperf.forecast.omitted IS 'Sum of amounts in category omitted (0 when none).';
COMMENT ON COLUMN salesperf.forecast.commit_forecast IS 'closed + commit.';
COMMENT ON COLUMN salesperf.forecast.best_case_forecast IS 'closed + commit + best_case.';
COMMENT ON COLUMN salesperf.forecast.open_pipeline IS 'commit + best_case + pipeline.';

-- sales_velocity / sales_velocity_detail --------------------------------

CREATE FUNCTION salesperf.sales_velocity_transfn(internal, timestamptz, timestamptz, numeric, boolean)
RETURNS internal
AS 'MODULE_PATHNAME', 'salesperf_velocity_transfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.sales_velocity_transfn(internal, timestamptz, timestamptz, numeric, boolean) IS
  'Transition function of sales_velocity and sales_velocity_detail (internal).';

CREATE FUNCTION salesperf.sales_velocity_combinefn(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'salesperf_velocity_combinefn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.sales_velocity_combinefn(internal, internal) IS
  'Combine function of sales_velocity and sales_velocity_detail (internal).';

CREATE FUNCTION salesperf.sales_velocity_serialfn(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'salesperf_velocity_serialfn'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.sales_velocity_serialfn(internal) IS
  'Serialize function of sales_velocity and sales_velocity_detail (internal).';

CREATE FUNCTION salesperf.sales_velocity_deserialfn(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'salesperf_velocity_deserialfn'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.sales_velocity_deserialfn(bytea, internal) IS
  'Deserialize function of sales_velocity and sales_velocity_detail (internal).';

CREATE FUNCTION salesperf.sales_velocity_finalfn(internal)
RETURNS double precision
AS 'MODULE_PATHNAME', 'salesperf_velocity_finalfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.sales_velocity_finalfn(internal) IS
  'Final function of sales_velocity (internal).';

CREATE FUNCTION salesperf.sales_velocity_detail_finalfn(internal)
RETURNS salesperf.velocity
AS 'MODULE_PATHNAME', 'salesperf_velocity_detail_finalfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.sales_velocity_detail_finalfn(internal) IS
  'Final function of sales_velocity_detail (internal).';

CREATE AGGREGATE salesperf.sales_velocity(opened_at timestamptz, closed_at timestamptz,
                                          amount numeric, won boolean) (
    SFUNC = salesperf.sales_velocity_transfn,
    STYPE = internal,
    SSPACE = 160,
    FINALFUNC = salesperf.sales_velocity_finalfn,
    FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = salesperf.sales_velocity_combinefn,
    SERIALFUNC = salesperf.sales_velocity_serialfn,
    DESERIALFUNC = salesperf.sales_velocity_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE salesperf.sales_velocity(timestamptz, timestamptz, numeric, boolean) IS
  'Sales velocity in currency per day: N * win_rate * avg won amount / avg cycle days. NULL when a factor is undefined or the cycle is 0.';

CREATE AGGREGATE salesperf.sales_velocity_detail(opened_at timestamptz, closed_at timestamptz,
                                                 amount numeric, won boolean) (
    SFUNC = salesperf.sales_velocity_transfn,
    STYPE = internal,
    SSPACE = 160,
    FINALFUNC = salesperf.sales_velocity_detail_finalfn,
    FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = salesperf.sales_velocity_combinefn,
    SERIALFUNC = salesperf.sales_velocity_serialfn,
    DESERIALFUNC = salesperf.sales_velocity_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE salesperf.sales_velocity_detail(timestamptz, timestamptz, numeric, boolean) IS
  'Sales velocity with its factors, as salesperf.velocity.';

-- weighted_pipeline and forecast_summary ---------------------------------

CREATE FUNCTION salesperf.weighted_pipeline_transfn(internal, numeric, numeric)
RETURNS internal
AS 'MODULE_PATHNAME', 'salesperf_weighted_pipeline_transfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.weighted_pipeline_transfn(internal, numeric, numeric) IS
  'Transition function of weighted_pipeline (internal).';

CREATE FUNCTION salesperf.pipeline_sums_combinefn(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'salesperf_sums_combinefn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.pipeline_sums_combinefn(internal, internal) IS
  'Combine function of weighted_pipeline and forecast_summary (internal).';

CREATE FUNCTION salesperf.weighted_pipeline_serialfn(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'salesperf_weighted_pipeline_serialfn'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.weighted_pipeline_serialfn(internal) IS
  'Serialize function of weighted_pipeline (internal).';

CREATE FUNCTION salesperf.weighted_pipeline_deserialfn(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'salesperf_weighted_pipeline_deserialfn'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.weighted_pipeline_deserialfn(bytea, internal) IS
  'Deserialize function of weighted_pipeline (internal).';

CREATE FUNCTION salesperf.weighted_pipeline_finalfn(internal)
RETURNS numeric
AS 'MODULE_PATHNAME', 'salesperf_weighted_pipeline_finalfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.weighted_pipeline_finalfn(internal) IS
  'Final function of weighted_pipeline (internal).';

CREATE AGGREGATE salesperf.weighted_pipeline(amount numeric, probability numeric) (
    SFUNC = salesperf.weighted_pipeline_transfn,
    STYPE = internal,
    SSPACE = 96,
    FINALFUNC = salesperf.weighted_pipeline_finalfn,
    FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = salesperf.pipeline_sums_combinefn,
    SERIALFUNC = salesperf.weighted_pipeline_serialfn,
    DESERIALFUNC = salesperf.weighted_pipeline_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE salesperf.weighted_pipeline(numeric, numeric) IS
  'Exact sum of amount * probability (probability 0 to 1, amount finite and not negative); NULL when no row has both.';

CREATE FUNCTION salesperf.forecast_summary_transfn(internal, numeric, text)
RETURNS internal
AS 'MODULE_PATHNAME', 'salesperf_forecast_summary_transfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.forecast_summary_transfn(internal, numeric, text) IS
  'Transition function of forecast_summary (internal).';

CREATE FUNCTION salesperf.forecast_summary_serialfn(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'salesperf_forecast_summary_serialfn'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.forecast_summary_serialfn(internal) IS
  'Serialize function of forecast_summary (internal).';

CREATE FUNCTION salesperf.forecast_summary_deserialfn(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'salesperf_forecast_summary_deserialfn'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.forecast_summary_deserialfn(bytea, internal) IS
  'Deserialize function of forecast_summary (internal).';

CREATE FUNCTION salesperf.forecast_summary_finalfn(internal)
RETURNS salesperf.forecast
AS 'MODULE_PATHNAME', 'salesperf_forecast_summary_finalfn'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.forecast_summary_finalfn(internal) IS
  'Final function of forecast_summary (internal).';

CREATE AGGREGATE salesperf.forecast_summary(amount numeric, category text) (
    SFUNC = salesperf.forecast_summary_transfn,
    STYPE = internal,
    SSPACE = 400,
    FINALFUNC = salesperf.forecast_summary_finalfn,
    FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = salesperf.pipeline_sums_combinefn,
    SERIALFUNC = salesperf.forecast_summary_serialfn,
    DESERIALFUNC = salesperf.forecast_summary_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE salesperf.forecast_summary(numeric, text) IS
  'Exact amounts per forecast category (closed, commit, best_case, pipeline, omitted) and the cumulative forecast totals; NULL only when there are no rows.';

-- forecast_quantiles ------------------------------------------------------

CREATE FUNCTION salesperf.forecast_quantiles_transfn(internal, text, double precision,
                                                     double precision, double precision[])
RETURNS internal
AS 'MODULE_PATHNAME', 'salesperf_forecast_quantiles_transfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.forecast_quantiles_transfn(internal, text, double precision, double precision, double precision[]) IS
  'Transition function of forecast_quantiles (internal).';

CREATE FUNCTION salesperf.forecast_quantiles_transfn(internal, text, double precision,
                                                     double precision)
RETURNS internal
AS 'MODULE_PATHNAME', 'salesperf_forecast_quantiles_transfn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.forecast_quantiles_transfn(internal, text, double precision, double precision) IS
  'Transition function of forecast_quantiles with the default quantiles 0.1, 0.5, 0.9 (internal).';

CREATE FUNCTION salesperf.forecast_quantiles_combinefn(internal, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'salesperf_forecast_quantiles_combinefn'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.forecast_quantiles_combinefn(internal, internal) IS
  'Combine function of forecast_quantiles (internal).';

CREATE FUNCTION salesperf.forecast_quantiles_serialfn(internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'salesperf_forecast_quantiles_serialfn'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.forecast_quantiles_serialfn(internal) IS
  'Serialize function of forecast_quantiles (internal).';

CREATE FUNCTION salesperf.forecast_quantiles_deserialfn(bytea, internal)
RETURNS internal
AS 'MODULE_PATHNAME', 'salesperf_forecast_quantiles_deserialfn'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.forecast_quantiles_deserialfn(bytea, internal) IS
  'Deserialize function of forecast_quantiles (internal).';

CREATE FUNCTION salesperf.forecast_quantiles_finalfn(internal)
RETURNS double precision[]
AS 'MODULE_PATHNAME', 'salesperf_forecast_quantiles_finalfn'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.forecast_quantiles_finalfn(internal) IS
  'Final function of forecast_quantiles (internal).';

CREATE AGGREGATE salesperf.forecast_quantiles(deal_key text, amount double precision,
                                              probability double precision,
                                              quantiles double precision[]) (
    SFUNC = salesperf.forecast_quantiles_transfn,
    STYPE = internal,
    SSPACE = 140000,
    FINALFUNC = salesperf.forecast_quantiles_finalfn,
    FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = salesperf.forecast_quantiles_combinefn,
    SERIALFUNC = salesperf.forecast_quantiles_serialfn,
    DESERIALFUNC = salesperf.forecast_quantiles_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE salesperf.forecast_quantiles(text, double precision, double precision, double precision[]) IS
  'Quantiles of the total won when each deal closes independently with its probability: exact up to 16 deals, else 16384 Monte Carlo trials keyed by deal_key, so the same rows give the same answer for any plan, row order or parallelism. Rows sharing a deal_key win and lose together. About 140 kB of state per group.';

-- CREATE AGGREGATE takes no argument defaults: this overload is the
-- default quantiles '{0.1,0.5,0.9}' (P10, P50, P90).
CREATE AGGREGATE salesperf.forecast_quantiles(deal_key text, amount double precision,
                                              probability double precision) (
    SFUNC = salesperf.forecast_quantiles_transfn,
    STYPE = internal,
    SSPACE = 140000,
    FINALFUNC = salesperf.forecast_quantiles_finalfn,
    FINALFUNC_MODIFY = READ_ONLY,
    COMBINEFUNC = salesperf.forecast_quantiles_combinefn,
    SERIALFUNC = salesperf.forecast_quantiles_serialfn,
    DESERIALFUNC = salesperf.forecast_quantiles_deserialfn,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE salesperf.forecast_quantiles(text, double precision, double precision) IS
  'forecast_quantiles with the default quantiles 0.1, 0.5, 0.9 (P10, P50, P90).';
-- Pipeline and forecast (SPEC §9): stages, opportunities mirrored from the
-- CRM, the deal_won / deal_lost activities they imply, the forecast rolled up
-- the unit tree, managers' adjustments, the cumulative forecast and forecast
-- snapshots compared with what actually closed.
--
-- Attribution rule: a deal counts for the unit its rep belonged to when the
-- deal closes: at closed_at for a closed deal, at the local midnight that
-- starts expected_close (in the configured time zone) for an open one.  This
-- is the moment the deal_won activity carries, so the forecast's `closed`
-- column agrees with the ledger's revenue KPI unit by unit.  When the rep
-- belonged to no unit at that moment (joined later, or left), the deal
-- counts for the rep's nearest membership in time: the last one that ended
-- before, else the first one that starts after.

-- Stages ------------------------------------------------------------------

CREATE TABLE salesperf.stage (
    stage       text PRIMARY KEY CHECK (stage <> ''),
    probability numeric NOT NULL CHECK (probability >= 0 AND probability <= 1),
    category    text NOT NULL
                CHECK (category IN ('pipeline', 'best_case', 'commit', 'closed', 'omitted')),
    is_won      boolean NOT NULL DEFAULT false,
    is_closed   boolean NOT NULL DEFAULT false,
    sort_order  integer NOT NULL DEFAULT 0,
    builtin     boolean NOT NULL DEFAULT false,
    CONSTRAINT stage_won_is_closed CHECK (is_closed OR NOT is_won),
    CONSTRAINT stage_closed_category CHECK ((category = 'closed') = is_won),
    CONSTRAINT stage_lost_omitted CHECK (NOT is_closed OR is_won OR category = 'omitted')
);
COMMENT ON TABLE salesperf.stage IS
  'Sales stages of the funnel: win probability, forecast category and whether the stage closes a deal (won or lost). Change with salesperf.set_stage().';
COMMENT ON COLUMN salesperf.stage.stage IS 'Stage name, as the CRM spells it.';
COMMENT ON COLUMN salesperf.stage.probability IS 'Chance (0 to 1) that a deal in this stage is won; weights the pipeline.';
COMMENT ON COLUMN salesperf.stage.category IS 'Forecast category: pipeline, best_case, commit, closed (won stages) or omitted (lost stages, or open deals left out of the forecast).';
COMMENT ON COLUMN salesperf.stage.is_won IS 'A deal entering this stage is won (records a deal_won activity).';
COMMENT ON COLUMN salesperf.stage.is_closed IS 'A deal in this stage is closed; closed and not won means lost (records a deal_lost activity).';
COMMENT ON COLUMN salesperf.stage.sort_order IS 'Position of the stage in the funnel, for display.';
COMMENT ON COLUMN salesperf.stage.builtin IS 'Seeded by the extension (not dumped by pg_dump).';

INSERT INTO salesperf.stage (stage, probability, category, is_won, is_closed, sort_order, builtin) VALUES
    ('prospecting',    0.1, 'pipeline',  false, false, 10, true),
    ('qualification',  0.2, 'pipeline',  false, false, 20, true),
    ('needs_analysis', 0.3, 'pipeline',  false, false, 30, true),
    ('proposal',       0.5, 'best_case', false, false, 40, true),
    ('negotiation',    0.8, 'commit',    false, false, 50, true),
    ('closed_won',     1,   'closed',    true,  true,  60, true),
    ('closed_lost',    0,   'omitted',   false, true,  70, true);
SELECT pg_catalog.pg_extension_config_dump('salesperf.stage', 'WHERE NOT builtin');
CREATE TRIGGER stage_seed_edited BEFORE UPDATE ON salesperf.stage
    FOR EACH ROW EXECUTE FUNCTION salesperf.seed_edited();
CREATE TRIGGER stage_seed_restored BEFORE INSERT ON salesperf.stage
    FOR EACH ROW EXECUTE FUNCTION salesperf.seed_restored('stage');
ALTER TABLE salesperf.stage ENABLE ALWAYS TRIGGER stage_seed_restored;

-- Clear errors before the CHECK constraints (which stay as a backstop).
CREATE FUNCTION salesperf.stage_check()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW.stage IS NULL OR NEW.probability IS NULL OR NEW.category IS NULL
       OR NEW.is_won IS NULL OR NEW.is_closed IS NULL THEN
        RAISE EXCEPTION 'a stage needs a name, a probability, a category, is_won and is_closed'
            USING ERRCODE = '22004';
    END IF;
    IF NEW.probability < 0 OR NEW.probability > 1 OR NEW.probability = 'NaN' THEN
        RAISE EXCEPTION 'probability % of stage "%" is outside the range 0 to 1', NEW.probability, NEW.stage
            USING ERRCODE = '22003';
    END IF;
    IF NEW.category NOT IN ('pipeline', 'best_case', 'commit', 'closed', 'omitted') THEN
        RAISE EXCEPTION 'unknown forecast category "%"', NEW.category
            USING ERRCODE = '22023', HINT = 'Use pipeline, best_case, commit, closed or omitted.';
    END IF;
    IF NEW.is_won AND NOT NEW.is_closed THEN
        RAISE EXCEPTION 'won stage "%" must be closed', NEW.stage USING ERRCODE = '22023';
    END IF;
    IF NEW.is_won <> (NEW.category = 'closed') THEN
        RAISE EXCEPTION 'stage "%" has category "%"', NEW.stage, NEW.category
            USING ERRCODE = '22023', DETAIL = 'Won stages, and only they, have the category closed.';
    END IF;
    IF NEW.is_closed AND NOT NEW.is_won AND NEW.category <> 'omitted' THEN
        RAISE EXCEPTION 'lost stage "%" has category "%"', NEW.stage, NEW.category
            USING ERRCODE = '22023', DETAIL = 'A lost deal is out of the forecast: its stage has the category omitted.';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION salesperf.stage_check() IS
  'Internal: validates a stage before it is written (probability 0 to 1, category, won and lost consistency).';

CREATE TRIGGER stage_check BEFORE INSERT OR UPDATE ON salesperf.stage
    FOR EACH ROW EXECUTE FUNCTION salesperf.stage_check();

CREATE FUNCTION salesperf.set_stage(stage text, probability numeric, category text,
                                    is_won boolean DEFAULT NULL, is_closed boolean DEFAULT NULL,
                                    sort_order integer DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
BEGIN
    IF set_stage.stage IS NULL OR set_stage.probability IS NULL OR set_stage.category IS NULL THEN
        RAISE EXCEPTION 'set_stage() needs a stage, a probability and a category' USING ERRCODE = '22004';
    END IF;
    IF set_stage.probability < 0 OR set_stage.probability > 1 OR set_stage.probability = 'NaN' THEN
        RAISE EXCEPTION 'probability % of stage "%" is outside the range 0 to 1',
            set_stage.probability, set_stage.stage USING ERRCODE = '22003';
    END IF;
    INSERT INTO salesperf.stage AS s (stage, probability, category, is_won, is_closed, sort_order)
    VALUES (set_stage.stage, set_stage.probability, set_stage.category,
            COALESCE(set_stage.is_won, false),
            COALESCE(set_stage.is_closed, set_stage.is_won, false),
            COALESCE(set_stage.sort_order,
                     (SELECT COALESCE(max(x.sort_order), 0) + 10 FROM salesperf.stage x)))
    ON CONFLICT (stage) DO UPDATE SET
        probability = EXCLUDED.probability,
        category    = EXCLUDED.category,
        -- Flags not given keep their value; a stage made won is closed.
        is_won      = COALESCE(set_stage.is_won, s.is_won),
        is_closed   = COALESCE(set_stage.is_closed, CASE WHEN set_stage.is_won THEN true END, s.is_closed),
        sort_order  = COALESCE(set_stage.sort_order, s.sort_order);
    RETURN set_stage.stage;
END
$$;
COMMENT ON FUNCTION salesperf.set_stage(text, numeric, text, boolean, boolean, integer) IS
  'Add or change a stage. A new stage is open unless is_won or is_closed says otherwise (a won stage is closed) and goes to the end of the funnel; for an existing stage, flags and sort_order not given keep their value. Probability outside 0 to 1 raises 22003.';

-- Opportunities ---------------------------------------------------------------

CREATE TABLE salesperf.opportunity (
    opportunity_id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    source         text NOT NULL CHECK (pg_catalog.strpos(source, ':') = 0),
    source_key     text NOT NULL,
    rep_id         bigint NOT NULL REFERENCES salesperf.rep (rep_id),
    amount         numeric CHECK (amount >= 0 AND amount < 'Infinity'),
    stage          text NOT NULL REFERENCES salesperf.stage (stage) ON UPDATE CASCADE,
    expected_close date,
    opened_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    closed_at      timestamptz,
    CONSTRAINT opportunity_key UNIQUE (source, source_key),
    CONSTRAINT opportunity_closed_after_opened CHECK (closed_at >= opened_at)
);
CREATE INDEX opportunity_rep_idx ON salesperf.opportunity (rep_id);
CREATE INDEX opportunity_stage_idx ON salesperf.opportunity (stage);
CREATE INDEX opportunity_expected_close_idx ON salesperf.opportunity (expected_close);
CREATE INDEX opportunity_closed_at_idx ON salesperf.opportunity (closed_at);
COMMENT ON TABLE salesperf.opportunity IS
  'Opportunities mirrored from the CRM, keyed by (source, source_key). Write with salesperf.upsert_opportunity() or salesperf.track_opportunities(); a deal entering a won or lost stage records a deal_won or deal_lost activity.';
COMMENT ON COLUMN salesperf.opportunity.opportunity_id IS 'Internal id.';
COMMENT ON COLUMN salesperf.opportunity.source IS 'Where the deal comes from (a CRM table, an integration); no colon.';
COMMENT ON COLUMN salesperf.opportunity.source_key IS 'The deal''s key within its source.';
COMMENT ON COLUMN salesperf.opportunity.rep_id IS 'Rep who owns the deal.';
COMMENT ON COLUMN salesperf.opportunity.amount IS 'Deal value (finite, not negative); NULL while not yet sized.';
COMMENT ON COLUMN salesperf.opportunity.stage IS 'Current stage (salesperf.stage).';
COMMENT ON COLUMN salesperf.opportunity.expected_close IS 'Local date the deal is expected to close; places an open deal in a forecast period.';
COMMENT ON COLUMN salesperf.opportunity.opened_at IS 'When the deal was opened (start of the sales cycle).';
COMMENT ON COLUMN salesperf.opportunity.closed_at IS 'When the deal was won or lost; set only while its stage is closed (now() when not given).';
SELECT pg_catalog.pg_extension_config_dump('salesperf.opportunity', '');
SELECT pg_catalog.pg_extension_config_dump('salesperf.opportunity_opportunity_id_seq', '');

-- Validate and normalise a row before it is written, whoever writes it.
CREATE FUNCTION salesperf.opportunity_check()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st salesperf.stage;
BEGIN
    IF NEW.source IS NULL OR NEW.source_key IS NULL THEN
        RAISE EXCEPTION 'an opportunity needs a source and a source_key' USING ERRCODE = '22004';
    END IF;
    IF strpos(NEW.source, ':') > 0 THEN
        RAISE EXCEPTION 'invalid opportunity source "%"', NEW.source
            USING ERRCODE = '22023', DETAIL = 'A source name cannot contain a colon.';
    END IF;
    IF NEW.rep_id IS NULL THEN
        RAISE EXCEPTION 'opportunity %:% needs a rep_id', NEW.source, NEW.source_key USING ERRCODE = '22004';
    END IF;
    IF NEW.stage IS NULL THEN
        RAISE EXCEPTION 'opportunity %:% needs a stage', NEW.source, NEW.source_key USING ERRCODE = '22004';
    END IF;
    IF NEW.amount < 0 OR NEW.amount IN ('NaN', 'Infinity', '-Infinity') THEN
        RAISE EXCEPTION 'invalid amount % for opportunity %:%', NEW.amount, NEW.source, NEW.source_key
            USING ERRCODE = '22003', DETAIL = 'Deal amounts must be finite and not negative.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM salesperf.rep r WHERE r.rep_id = NEW.rep_id) THEN
        RAISE EXCEPTION 'unknown rep %', NEW.rep_id USING ERRCODE = '42704', HINT = 'See salesperf.rep.';
    END IF;
    SELECT * INTO st FROM salesperf.stage s WHERE s.stage = NEW.stage;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown stage "%"', NEW.stage
            USING ERRCODE = '42704', HINT = 'See salesperf.stage, or add it with salesperf.set_stage().';
    END IF;

    -- An opportunity opens once: a missing opened_at keeps the stored one.
    IF NEW.opened_at IS NULL THEN
        NEW.opened_at := CASE WHEN TG_OP = 'UPDATE' THEN OLD.opened_at ELSE now() END;
    END IF;
    IF NEW.opened_at IN ('infinity', '-infinity') THEN
        RAISE EXCEPTION 'opened_at of opportunity %:% must be a finite moment', NEW.source, NEW.source_key
            USING ERRCODE = '22008';
    END IF;
    -- closed_at belongs to closed stages: kept while the deal stays closed,
    -- now() when it closes without one, cleared when it reopens.
    IF st.is_closed THEN
        IF NEW.closed_at IS NULL THEN
            NEW.closed_at := CASE WHEN TG_OP = 'UPDATE' AND OLD.closed_at IS NOT NULL
                                  THEN OLD.closed_at ELSE now() END;
        END IF;
        IF NEW.closed_at IN ('infinity', '-infinity') THEN
            RAISE EXCEPTION 'closed_at of opportunity %:% must be a finite moment', NEW.source, NEW.source_key
                USING ERRCODE = '22008';
        END IF;
        IF NEW.closed_at < NEW.opened_at THEN
            RAISE EXCEPTION 'opportunity %:% closed at % before it opened at %',
                NEW.source, NEW.source_key, NEW.closed_at, NEW.opened_at USING ERRCODE = '22023';
        END IF;
    ELSE
        NEW.closed_at := NULL;
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION salesperf.opportunity_check() IS
  'Internal: validates an opportunity (22004 missing key, rep or stage; 42704 unknown rep or stage; 22003 bad amount) and keeps opened_at and closed_at consistent with the stage.';

CREATE TRIGGER opportunity_check BEFORE INSERT OR UPDATE ON salesperf.opportunity
    FOR EACH ROW EXECUTE FUNCTION salesperf.opportunity_check();

-- Won and lost deals are activities: keep deal_won / deal_lost rows of the
-- ledger in step with the opportunities a statement changed.  The activity
-- is keyed ('opportunity', source || ':' || source_key), so points, KPIs and
-- leaderboards follow through the ledger's own triggers.
CREATE FUNCTION salesperf.opportunity_activities()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_LEVEL <> 'STATEMENT' OR TG_WHEN <> 'AFTER' THEN
        RAISE EXCEPTION 'salesperf.opportunity_activities() must run as an AFTER ... FOR EACH STATEMENT trigger'
            USING ERRCODE = '39P01';
    END IF;

    IF TG_OP = 'DELETE' THEN
        DELETE FROM salesperf.activity a
         USING salesperf_old_opportunity o
         WHERE a.kind IN ('deal_won', 'deal_lost') AND a.source = 'opportunity'
           AND a.source_key = o.source || ':' || o.source_key;
        RETURN NULL;
    END IF;

    IF TG_OP = 'UPDATE' THEN
        -- Activities the old rows implied and the new rows no longer do
        -- (reopened, won <-> lost, key changed).
        DELETE FROM salesperf.activity a
         USING salesperf_old_opportunity o
         WHERE a.kind IN ('deal_won', 'deal_lost') AND a.source = 'opportunity'
           AND a.source_key = o.source || ':' || o.source_key
           AND NOT EXISTS (
                 SELECT 1 FROM salesperf_new_opportunity n
                   JOIN salesperf.stage s ON s.stage = n.stage
                  WHERE s.is_closed
                    AND n.source || ':' || n.source_key = a.source_key
                    AND CASE WHEN s.is_won THEN 'deal_won' ELSE 'deal_lost' END = a.kind);
    END IF;

    -- Closed deals: the activity appears, or follows rep, amount and close time.
    INSERT INTO salesperf.activity AS a (rep_id, kind, amount, occurred_at, source, source_key, attrs)
    SELECT n.rep_id, CASE WHEN s.is_won THEN 'deal_won' ELSE 'deal_lost' END,
           COALESCE(n.amount, 0), n.closed_at, 'opportunity', n.source || ':' || n.source_key,
           jsonb_build_object('opportunity_id', n.opportunity_id)
      FROM salesperf_new_opportunity n
      JOIN salesperf.stage s ON s.stage = n.stage
     WHERE s.is_closed
     ORDER BY n.source, n.source_key
    ON CONFLICT (kind, source, source_key) WHERE source_key IS NOT NULL DO UPDATE
       SET rep_id = EXCLUDED.rep_id, amount = EXCLUDED.amount,
           occurred_at = EXCLUDED.occurred_at, attrs = EXCLUDED.attrs
     WHERE (a.rep_id, a.amount, a.occurred_at, a.attrs)
           IS DISTINCT FROM (EXCLUDED.rep_id, EXCLUDED.amount, EXCLUDED.occurred_at, EXCLUDED.attrs);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION salesperf.opportunity_activities() IS
  'Internal: statement trigger keeping the deal_won / deal_lost activities of opportunities in step (won records, reopened or lost removes, amount, rep and close time follow).';

CREATE TRIGGER opportunity_inserted AFTER INSERT ON salesperf.opportunity
    REFERENCING NEW TABLE AS salesperf_new_opportunity
    FOR EACH STATEMENT EXECUTE FUNCTION salesperf.opportunity_activities();
CREATE TRIGGER opportunity_updated AFTER UPDATE ON salesperf.opportunity
    REFERENCING OLD TABLE AS salesperf_old_opportunity NEW TABLE AS salesperf_new_opportunity
    FOR EACH STATEMENT EXECUTE FUNCTION salesperf.opportunity_activities();
CREATE TRIGGER opportunity_deleted AFTER DELETE ON salesperf.opportunity
    REFERENCING OLD TABLE AS salesperf_old_opportunity
    FOR EACH STATEMENT EXECUTE FUNCTION salesperf.opportunity_activities();

CREATE FUNCTION salesperf.opportunity_truncated()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DELETE FROM salesperf.activity a
     WHERE a.kind IN ('deal_won', 'deal_lost') AND a.source = 'opportunity';
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION salesperf.opportunity_truncated() IS
  'Internal: TRUNCATE of salesperf.opportunity removes every deal_won / deal_lost activity it implied.';
CREATE TRIGGER opportunity_truncated AFTER TRUNCATE ON salesperf.opportunity
    FOR EACH STATEMENT EXECUTE FUNCTION salesperf.opportunity_truncated();

-- A stage that starts or stops meaning won or closed re-derives its deals.
CREATE FUNCTION salesperf.stage_changed()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE salesperf.opportunity o SET stage = o.stage WHERE o.stage = NEW.stage;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION salesperf.stage_changed() IS
  'Internal: when a stage''s is_won or is_closed changes, its opportunities are rewritten so their closed_at and deal activities follow.';
CREATE TRIGGER stage_changed AFTER UPDATE OF is_won, is_closed ON salesperf.stage
    FOR EACH ROW WHEN ((OLD.is_won, OLD.is_closed) IS DISTINCT FROM (NEW.is_won, NEW.is_closed))
    EXECUTE FUNCTION salesperf.stage_changed();

CREATE FUNCTION salesperf.upsert_opportunity(source text, source_key text, rep_id bigint,
                                             amount numeric, stage text, expected_close date,
                                             opened_at timestamptz DEFAULT pg_catalog.now(),
                                             closed_at timestamptz DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    id bigint;
BEGIN
    -- The row trigger validates too; these checks name the argument.
    IF upsert_opportunity.source IS NULL OR upsert_opportunity.source_key IS NULL THEN
        RAISE EXCEPTION 'upsert_opportunity() needs a source and a source_key' USING ERRCODE = '22004';
    ELSIF upsert_opportunity.rep_id IS NULL THEN
        RAISE EXCEPTION 'rep_id must not be NULL' USING ERRCODE = '22004';
    ELSIF upsert_opportunity.stage IS NULL THEN
        RAISE EXCEPTION 'stage must not be NULL' USING ERRCODE = '22004';
    END IF;

    LOOP
        -- opened_at only moves earlier: a call that leaves it to its default
        -- (now()) does not restart the sales cycle.
        UPDATE salesperf.opportunity AS o
           SET rep_id         = upsert_opportunity.rep_id,
               amount         = upsert_opportunity.amount,
               stage          = upsert_opportunity.stage,
               expected_close = upsert_opportunity.expected_close,
               opened_at      = LEAST(o.opened_at, upsert_opportunity.opened_at),
               closed_at      = upsert_opportunity.closed_at
         WHERE o.source = upsert_opportunity.source AND o.source_key = upsert_opportunity.source_key
        RETURNING o.opportunity_id INTO id;
        IF id IS NOT NULL THEN
            RETURN id;
        END IF;
        INSERT INTO salesperf.opportunity AS o
               (source, source_key, rep_id, amount, stage, expected_close, opened_at, closed_at)
        VALUES (upsert_opportunity.source, upsert_opportunity.source_key, upsert_opportunity.rep_id,
                upsert_opportunity.amount, upsert_opportunity.stage, upsert_opportunity.expected_close,
                upsert_opportunity.opened_at, upsert_opportunity.closed_at)
        ON CONFLICT (source, source_key) DO NOTHING
        RETURNING o.opportunity_id INTO id;
        IF id IS NOT NULL THEN
            RETURN id;
        END IF;
        -- A concurrent writer inserted the same key meanwhile: update it.
    END LOOP;
END
$$;
COMMENT ON FUNCTION salesperf.upsert_opportunity(text, text, bigint, numeric, text, date, timestamptz, timestamptz) IS
  'Insert or update the opportunity (source, source_key) and return its id. Entering a won stage records a deal_won activity (lost: deal_lost); leaving it removes the activity. opened_at only moves earlier; closed_at defaults to the stored close time, else now().';

-- Tracking a CRM's deals table ----------------------------------------------

CREATE TABLE salesperf.opportunity_source (
    relation              regclass PRIMARY KEY,
    source                text NOT NULL UNIQUE,
    key_column            name NOT NULL,
    rep_column            name NOT NULL,
    amount_column         name NOT NULL,
    stage_column          name NOT NULL,
    expected_close_column name,
    opened_column         name,
    closed_column         name,
    tracked_at            timestamptz NOT NULL DEFAULT pg_catalog.now(),
    tracked_by            name NOT NULL DEFAULT CURRENT_USER
);
COMMENT ON TABLE salesperf.opportunity_source IS
  'CRM tables mirrored into salesperf.opportunity by salesperf.track_opportunities(); remove with salesperf.untrack_opportunities(). Column names are used as stored: after renaming a column, untrack and track again.';
COMMENT ON COLUMN salesperf.opportunity_source.relation IS 'The CRM table.';
COMMENT ON COLUMN salesperf.opportunity_source.source IS 'Source name its opportunities carry: the schema-qualified table name when it was tracked.';
COMMENT ON COLUMN salesperf.opportunity_source.key_column IS 'Column holding the deal''s unique key (becomes source_key).';
COMMENT ON COLUMN salesperf.opportunity_source.rep_column IS 'Column holding the rep id.';
COMMENT ON COLUMN salesperf.opportunity_source.amount_column IS 'Column holding the deal value.';
COMMENT ON COLUMN salesperf.opportunity_source.stage_column IS 'Column holding the stage name (must match salesperf.stage).';
COMMENT ON COLUMN salesperf.opportunity_source.expected_close_column IS 'Column holding the expected close date (NULL: not tracked).';
COMMENT ON COLUMN salesperf.opportunity_source.opened_column IS 'Column holding when the deal was opened (NULL: first seen).';
COMMENT ON COLUMN salesperf.opportunity_source.closed_column IS 'Column holding when the deal closed (NULL: when its stage closed).';
COMMENT ON COLUMN salesperf.opportunity_source.tracked_at IS 'When tracking started.';
COMMENT ON COLUMN salesperf.opportunity_source.tracked_by IS 'Who started it.';
SELECT pg_catalog.pg_extension_config_dump('salesperf.opportunity_source', '');

-- The deals among the rows of `rows_from` (the CRM table or one of its
-- transition tables), as the columns of an opportunity.  A row without a
-- key, a rep or a stage is not (yet) a deal: an unassigned lead, say.
CREATE FUNCTION salesperf.opportunity_source_rows(reg salesperf.opportunity_source, rows_from text)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    close_type regtype;
BEGIN
    SELECT a.atttypid::regtype INTO close_type
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid = reg.relation AND a.attname = reg.expected_close_column AND NOT a.attisdropped;

    RETURN format('SELECT (t.%1$I)::text AS source_key, (t.%2$I)::bigint AS rep_id, (t.%3$I)::numeric AS amount, '
                  '(t.%4$I)::text AS stage, %5$s AS expected_close, %6$s AS opened_at, %7$s AS closed_at '
                  'FROM %8$s t WHERE (t.%1$I) IS NOT NULL AND (t.%2$I) IS NOT NULL AND (t.%4$I) IS NOT NULL',
                  reg.key_column, reg.rep_column, reg.amount_column, reg.stage_column,
                  CASE WHEN reg.expected_close_column IS NULL THEN 'NULL::date'
                       WHEN close_type = 'timestamp with time zone'::regtype
                       THEN format('salesperf.local_day(t.%I, (SELECT s.time_zone FROM salesperf.settings s))',
                                   reg.expected_close_column)
                       ELSE format('(t.%I)::date', reg.expected_close_column) END,
                  CASE WHEN reg.opened_column IS NULL THEN 'NULL::timestamptz'
                       ELSE format('(t.%I)::timestamptz', reg.opened_column) END,
                  CASE WHEN reg.closed_column IS NULL THEN 'NULL::timestamptz'
                       ELSE format('(t.%I)::timestamptz', reg.closed_column) END,
                  rows_from);
END
$$;
COMMENT ON FUNCTION salesperf.opportunity_source_rows(salesperf.opportunity_source, text) IS
  'Internal: SELECT of the deals (rows with a key, a rep and a stage) of a tracked CRM table or its transition table, as opportunity columns (identifiers quoted with %I).';

-- The SQL that mirrors the deals of `rows_from` into salesperf.opportunity:
-- an UPDATE of the deals already mirrored, then an INSERT of the new ones.
-- $1 is the source name.
CREATE FUNCTION salesperf.opportunity_source_sql(reg salesperf.opportunity_source, rows_from text)
RETURNS text[]
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    src text := salesperf.opportunity_source_rows(reg, rows_from);
BEGIN
    RETURN ARRAY[
        format('UPDATE salesperf.opportunity AS o
                   SET rep_id = s.rep_id, amount = s.amount, stage = s.stage,
                       expected_close = s.expected_close,
                       opened_at = COALESCE(s.opened_at, o.opened_at),
                       closed_at = s.closed_at
                  FROM (%s) AS s
                 WHERE o.source = $1 AND o.source_key = s.source_key
                   AND ((o.rep_id, o.amount, o.stage, o.expected_close)
                          IS DISTINCT FROM (s.rep_id, s.amount, s.stage, s.expected_close)
                        OR (s.opened_at IS NOT NULL AND s.opened_at <> o.opened_at)
                        OR (s.closed_at IS NOT NULL AND s.closed_at IS DISTINCT FROM o.closed_at))', src),
        format('INSERT INTO salesperf.opportunity
                       (source, source_key, rep_id, amount, stage, expected_close, opened_at, closed_at)
                SELECT $1, s.source_key, s.rep_id, s.amount, s.stage, s.expected_close, s.opened_at, s.closed_at
                  FROM (%s) AS s
                 WHERE NOT EXISTS (SELECT 1 FROM salesperf.opportunity o
                                    WHERE o.source = $1 AND o.source_key = s.source_key)
                 ORDER BY s.source_key', src)];
END
$$;
COMMENT ON FUNCTION salesperf.opportunity_source_sql(salesperf.opportunity_source, text) IS
  'Internal: the UPDATE and INSERT statements that mirror a tracked CRM table''s rows into salesperf.opportunity (identifiers quoted with %I).';

CREATE FUNCTION salesperf.opportunity_source_changed()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    reg salesperf.opportunity_source;
    stmt text;
BEGIN
    IF TG_LEVEL <> 'STATEMENT' OR TG_WHEN <> 'AFTER' THEN
        RAISE EXCEPTION 'salesperf.opportunity_source_changed() must run as an AFTER ... FOR EACH STATEMENT trigger'
            USING ERRCODE = '39P01';
    END IF;
    SELECT * INTO reg FROM salesperf.opportunity_source r WHERE r.relation = TG_RELID;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'table % is not tracked by salesperf.track_opportunities()', TG_RELID::regclass
            USING ERRCODE = '55000', HINT = 'Drop the salesperf_opportunities_* triggers, or track the table again.';
    END IF;

    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM salesperf.opportunity o WHERE o.source = reg.source;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        -- Deals gone from the CRM table, or no longer deals (key changed,
        -- rep or stage cleared).
        EXECUTE format('DELETE FROM salesperf.opportunity o
                         WHERE o.source = $1
                           AND o.source_key IN (SELECT (t.%I)::text FROM salesperf_old t)
                           %s',
                       reg.key_column,
                       CASE WHEN TG_OP = 'UPDATE' THEN
                           format('AND NOT EXISTS (SELECT 1 FROM (%s) s WHERE s.source_key = o.source_key)',
                                  salesperf.opportunity_source_rows(reg, 'salesperf_new'))
                       ELSE '' END)
          USING reg.source;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        FOREACH stmt IN ARRAY salesperf.opportunity_source_sql(reg, 'salesperf_new') LOOP
            EXECUTE stmt USING reg.source;
        END LOOP;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION salesperf.opportunity_source_changed() IS
  'Internal: statement trigger on a tracked CRM table that inserts, updates and deletes its mirror in salesperf.opportunity.';

CREATE FUNCTION salesperf.track_opportunities(source regclass, key_column name, rep_column name,
                                              amount_column name, stage_column name,
                                              expected_close_column name DEFAULT NULL,
                                              opened_column name DEFAULT NULL,
                                              closed_column name DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tbl    regclass := track_opportunities.source;
    rel    pg_catalog.pg_class;
    reg    salesperf.opportunity_source;
    col    record;
    stmt   text;
    n      bigint;
BEGIN
    IF tbl IS NULL OR key_column IS NULL OR rep_column IS NULL
       OR amount_column IS NULL OR stage_column IS NULL THEN
        RAISE EXCEPTION 'track_opportunities() needs a table and its key, rep, amount and stage columns'
            USING ERRCODE = '22004';
    END IF;
    SELECT * INTO rel FROM pg_catalog.pg_class c WHERE c.oid = tbl;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'relation with OID % does not exist', tbl::oid USING ERRCODE = '42P01';
    END IF;
    IF rel.relkind NOT IN ('r', 'p') THEN
        RAISE EXCEPTION '"%" is not a table', tbl USING ERRCODE = '42809';
    END IF;
    IF NOT pg_catalog.pg_has_role(CURRENT_USER, rel.relowner, 'USAGE') THEN
        RAISE EXCEPTION 'must be owner of table %', tbl
            USING ERRCODE = '42501', HINT = 'Only the table''s owner may track it.';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
                WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = tbl
                  AND d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass
                  AND d.deptype = 'e' AND e.extname = 'salesperf') THEN
        RAISE EXCEPTION 'table % belongs to salesperf and cannot be tracked', tbl
            USING ERRCODE = '42809', HINT = 'Track the CRM''s own deals table.';
    END IF;
    -- Every named column exists and converts to what an opportunity needs.
    FOR col IN
        SELECT v.arg, v.col, v.target
          FROM (VALUES ('key_column', key_column, 'pg_catalog.text'),
                       ('rep_column', rep_column, 'pg_catalog.int8'),
                       ('amount_column', amount_column, 'pg_catalog.numeric'),
                       ('stage_column', stage_column, 'pg_catalog.text'),
                       ('expected_close_column', expected_close_column, 'pg_catalog.date'),
                       ('opened_column', opened_column, 'pg_catalog.timestamptz'),
                       ('closed_column', closed_column, 'pg_catalog.timestamptz')) AS v(arg, col, target)
         WHERE v.col IS NOT NULL
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                        WHERE a.attrelid = tbl AND a.attname = col.col AND a.attnum > 0
                          AND NOT a.attisdropped) THEN
            RAISE EXCEPTION 'column "%" of relation % does not exist', col.col, tbl
                USING ERRCODE = '42703', DETAIL = format('It was given as %s.', col.arg);
        END IF;
        BEGIN
            EXECUTE format('SELECT CAST(%I AS %s) FROM %s WHERE false', col.col, col.target, tbl);
        EXCEPTION WHEN cannot_coerce THEN
            RAISE EXCEPTION 'column "%" of relation % cannot be used as %', col.col, tbl, col.arg
                USING ERRCODE = '42846', DETAIL = SQLERRM;
        END;
    END LOOP;
    -- One CRM row is one deal: the key must be unique in the table.
    IF NOT EXISTS (
           SELECT 1 FROM pg_catalog.pg_index i
             JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
            WHERE i.indrelid = tbl AND i.indisunique AND i.indimmediate AND i.indnkeyatts = 1
              AND i.indpred IS NULL AND i.indexprs IS NULL AND a.attname = key_column) THEN
        RAISE EXCEPTION 'column "%" of relation % is not a unique key', key_column, tbl
            USING ERRCODE = '42P10',
                  HINT = 'Track a column with a primary key or a unique index of its own, not deferrable.';
    END IF;
    -- Writers wait until the triggers exist and the backfill is done, so no
    -- deal slips between the two.
    EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', tbl);
    IF EXISTS (SELECT 1 FROM salesperf.opportunity_source r WHERE r.relation = tbl) THEN
        RAISE EXCEPTION 'table % is already tracked', tbl
            USING ERRCODE = '42710', HINT = 'Call salesperf.untrack_opportunities() first.';
    END IF;

    reg.relation := tbl;
    reg.source := format('%I.%I', (SELECT n.nspname FROM pg_catalog.pg_namespace n WHERE n.oid = rel.relnamespace),
                         rel.relname);
    IF strpos(reg.source, ':') > 0 THEN
        RAISE EXCEPTION 'cannot track table %: its name contains a colon', tbl USING ERRCODE = '22023';
    END IF;
    -- A registration left behind by a dropped table of the same name.
    DELETE FROM salesperf.opportunity_source r
     WHERE r.source = reg.source
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c WHERE c.oid = r.relation);
    reg.key_column := key_column; reg.rep_column := rep_column;
    reg.amount_column := amount_column; reg.stage_column := stage_column;
    reg.expected_close_column := expected_close_column;
    reg.opened_column := opened_column; reg.closed_column := closed_column;
    reg.tracked_at := now(); reg.tracked_by := CURRENT_USER;
    INSERT INTO salesperf.opportunity_source SELECT reg.*;

    EXECUTE format('CREATE TRIGGER salesperf_opportunities_insert AFTER INSERT ON %s
                    REFERENCING NEW TABLE AS salesperf_new
                    FOR EACH STATEMENT EXECUTE FUNCTION salesperf.opportunity_source_changed()', tbl);
    EXECUTE format('CREATE TRIGGER salesperf_opportunities_update AFTER UPDATE ON %s
                    REFERENCING OLD TABLE AS salesperf_old NEW TABLE AS salesperf_new
                    FOR EACH STATEMENT EXECUTE FUNCTION salesperf.opportunity_source_changed()', tbl);
    EXECUTE format('CREATE TRIGGER salesperf_opportunities_delete AFTER DELETE ON %s
                    REFERENCING OLD TABLE AS salesperf_old
                    FOR EACH STATEMENT EXECUTE FUNCTION salesperf.opportunity_source_changed()', tbl);
    EXECUTE format('CREATE TRIGGER salesperf_opportunities_truncate AFTER TRUNCATE ON %s
                    FOR EACH STATEMENT EXECUTE FUNCTION salesperf.opportunity_source_changed()', tbl);

    -- Backfill: the mirror becomes exactly the table's current deals.
    EXECUTE format('DELETE FROM salesperf.opportunity o WHERE o.source = $1
                      AND NOT EXISTS (SELECT 1 FROM (%s) s WHERE s.source_key = o.source_key)',
                   salesperf.opportunity_source_rows(reg, tbl::text))
      USING reg.source;
    FOREACH stmt IN ARRAY salesperf.opportunity_source_sql(reg, tbl::text) LOOP
        EXECUTE stmt USING reg.source;
    END LOOP;
    SELECT count(*) INTO n FROM salesperf.opportunity o WHERE o.source = reg.source;
    RETURN n;
END
$$;
COMMENT ON FUNCTION salesperf.track_opportunities(regclass, name, name, name, name, name, name, name) IS
  'Mirror a CRM deals table into salesperf.opportunity (source = its schema-qualified name, source_key = the unique key column): backfills the existing rows, then triggers follow every insert, update, delete and truncate. Rows without a rep or a stage are not deals (yet); an unknown rep or stage fails the CRM''s statement (42704). Only the table''s owner may; returns the number of opportunities mirrored.';

CREATE FUNCTION salesperf.untrack_opportunities(source regclass, forget boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tbl    regclass := untrack_opportunities.source;
    reg salesperf.opportunity_source;
    n   bigint := 0;
BEGIN
    IF tbl IS NULL THEN
        RAISE EXCEPTION 'untrack_opportunities() needs a table' USING ERRCODE = '22004';
    END IF;
    SELECT * INTO reg FROM salesperf.opportunity_source r WHERE r.relation = tbl;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'table % is not tracked', tbl
            USING ERRCODE = '42704', HINT = 'See salesperf.opportunity_source.';
    END IF;
    IF NOT pg_catalog.pg_has_role(CURRENT_USER,
                                  (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = tbl), 'USAGE') THEN
        RAISE EXCEPTION 'must be owner of table %', tbl
            USING ERRCODE = '42501', HINT = 'Only the table''s owner may stop tracking it.';
    END IF;
    EXECUTE format('DROP TRIGGER IF EXISTS salesperf_opportunities_insert ON %s', tbl);
    EXECUTE format('DROP TRIGGER IF EXISTS salesperf_opportunities_update ON %s', tbl);
    EXECUTE format('DROP TRIGGER IF EXISTS salesperf_opportunities_delete ON %s', tbl);
    EXECUTE format('DROP TRIGGER IF EXISTS salesperf_opportunities_truncate ON %s', tbl);
    DELETE FROM salesperf.opportunity_source r WHERE r.relation = tbl;
    IF forget THEN
        DELETE FROM salesperf.opportunity o WHERE o.source = reg.source;
        GET DIAGNOSTICS n = ROW_COUNT;
    END IF;
    RETURN n;
END
$$;
COMMENT ON FUNCTION salesperf.untrack_opportunities(regclass, boolean) IS
  'Stop mirroring a CRM table. Its opportunities stay (frozen) unless forget is true, which deletes them and the deal activities they recorded; returns the number deleted.';

-- Forecast ------------------------------------------------------------------

-- Deals that close in [lo, hi): closed deals by closed_at, open ones by the
-- local midnight starting expected_close; each with the unit it counts for
-- (see the attribution rule at the top of this file) and its weight: 1 won,
-- 0 lost, the stage probability while open.
CREATE FUNCTION salesperf.forecast_deals(lo timestamptz, hi timestamptz)
RETURNS TABLE (opportunity_id bigint, rep_id bigint, unit_id bigint, amount numeric,
               stage text, category text, weight numeric, is_won boolean, is_closed boolean,
               closes_at timestamptz)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT o.opportunity_id, o.rep_id, m.unit_id, o.amount, o.stage, s.category,
         CASE WHEN s.is_won THEN 1 WHEN s.is_closed THEN 0 ELSE s.probability END,
         s.is_won, s.is_closed, c.closes_at
    FROM salesperf.opportunity o
    JOIN salesperf.stage s ON s.stage = o.stage
   CROSS JOIN salesperf.settings st
   CROSS JOIN LATERAL (SELECT CASE WHEN s.is_closed THEN o.closed_at
                                   ELSE salesperf.local_day_start(o.expected_close, st.time_zone) END) c(closes_at)
    LEFT JOIN LATERAL (
         SELECT x.unit_id FROM salesperf.membership x
          WHERE x.rep_id = o.rep_id
          ORDER BY CASE WHEN x.during @> c.closes_at THEN 0
                        WHEN upper(x.during) <= c.closes_at THEN 1 ELSE 2 END,
                   CASE WHEN upper(x.during) <= c.closes_at THEN c.closes_at - upper(x.during)
                        ELSE lower(x.during) - c.closes_at END
          LIMIT 1) m ON true
   WHERE c.closes_at >= lo AND c.closes_at < hi
     -- The same condition on indexed columns alone (closed_at is set exactly
     -- while the stage is closed), so a bitmap OR of two index scans applies.
     AND (   (o.closed_at >= lo AND o.closed_at < hi)
          OR (o.closed_at IS NULL
              AND o.expected_close >= salesperf.local_day(lo, st.time_zone)
              AND o.expected_close <  salesperf.local_day(hi, st.time_zone)))
$$;
COMMENT ON FUNCTION salesperf.forecast_deals(timestamptz, timestamptz) IS
  'Internal: opportunities closing (closed_at, or expected_close for open deals) in [lo, hi), with the unit each counts for and its weight (1 won, 0 lost, stage probability open).';

CREATE TABLE salesperf.forecast_adjustment (
    unit_id      bigint NOT NULL REFERENCES salesperf.unit (unit_id) ON DELETE CASCADE,
    period       text NOT NULL CHECK (period IN ('day', 'week', 'month', 'quarter', 'year')),
    period_start timestamptz NOT NULL,
    commit       numeric NOT NULL CHECK (commit >= 0 AND commit < 'Infinity'),
    adjusted_by  name NOT NULL DEFAULT CURRENT_USER,
    adjusted_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (unit_id, period, period_start)
);
COMMENT ON TABLE salesperf.forecast_adjustment IS
  'Managers'' overrides of a unit''s commit forecast for one period. Write with salesperf.adjust_forecast(); delete a row to withdraw it.';
COMMENT ON COLUMN salesperf.forecast_adjustment.unit_id IS 'Unit whose (whole subtree''s) forecast is overridden.';
COMMENT ON COLUMN salesperf.forecast_adjustment.period IS 'Period kind of the forecast (quarter by default).';
COMMENT ON COLUMN salesperf.forecast_adjustment.period_start IS 'Start of the period (a period boundary in the configured time zone).';
COMMENT ON COLUMN salesperf.forecast_adjustment.commit IS 'The manager''s commit: the amount the unit will close in the period.';
COMMENT ON COLUMN salesperf.forecast_adjustment.adjusted_by IS 'Who made the adjustment.';
COMMENT ON COLUMN salesperf.forecast_adjustment.adjusted_at IS 'When it was last made.';
SELECT pg_catalog.pg_extension_config_dump('salesperf.forecast_adjustment', '');

CREATE FUNCTION salesperf.adjust_forecast(unit_id bigint, period_start timestamptz, commit numeric,
                                          period text DEFAULT 'quarter')
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    boundary timestamptz;
BEGIN
    IF adjust_forecast.unit_id IS NULL OR adjust_forecast.period_start IS NULL
       OR adjust_forecast.period IS NULL THEN
        RAISE EXCEPTION 'adjust_forecast() needs a unit_id, a period_start and a period' USING ERRCODE = '22004';
    END IF;
    IF adjust_forecast.commit IS NULL THEN
        RAISE EXCEPTION 'commit must not be NULL'
            USING ERRCODE = '22004', HINT = 'Delete the row of salesperf.forecast_adjustment to withdraw an adjustment.';
    END IF;
    IF adjust_forecast.commit < 0 OR adjust_forecast.commit IN ('NaN', 'Infinity', '-Infinity') THEN
        RAISE EXCEPTION 'invalid commit %', adjust_forecast.commit
            USING ERRCODE = '22003', DETAIL = 'A commit forecast is a finite amount, not negative.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM salesperf.unit u WHERE u.unit_id = adjust_forecast.unit_id) THEN
        RAISE EXCEPTION 'unknown unit %', adjust_forecast.unit_id USING ERRCODE = '42704', HINT = 'See salesperf.unit.';
    END IF;
    IF adjust_forecast.period NOT IN ('day', 'week', 'month', 'quarter', 'year') THEN
        RAISE EXCEPTION 'unknown period "%"', adjust_forecast.period
            USING ERRCODE = '22023', HINT = 'Use day, week, month, quarter or year.';
    END IF;
    boundary := salesperf.period_start(adjust_forecast.period_start, adjust_forecast.period);
    IF boundary <> adjust_forecast.period_start THEN
        RAISE EXCEPTION '% is not the start of a %', adjust_forecast.period_start, adjust_forecast.period
            USING ERRCODE = '22023', HINT = pg_catalog.format('The %s containing it starts at %s.',
                                                              adjust_forecast.period, boundary);
    END IF;
    INSERT INTO salesperf.forecast_adjustment AS a (unit_id, period, period_start, commit)
    VALUES (adjust_forecast.unit_id, adjust_forecast.period, adjust_forecast.period_start, adjust_forecast.commit)
    ON CONFLICT (unit_id, period, period_start) DO UPDATE
       SET commit = EXCLUDED.commit, adjusted_by = EXCLUDED.adjusted_by, adjusted_at = EXCLUDED.adjusted_at;
END
$$;
COMMENT ON FUNCTION salesperf.adjust_forecast(bigint, timestamptz, numeric, text) IS
  'Set a manager''s commit for a unit and period (quarter by default; period_start must be a period boundary). One per unit and period: a new call replaces it. Rolls up: units above count it instead of the unit''s computed commit.';

CREATE FUNCTION salesperf.forecast(period text DEFAULT 'quarter', at timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (unit_id bigint, name text, depth integer, closed numeric, commit numeric,
               best_case numeric, pipeline numeric, weighted numeric, commit_forecast numeric,
               best_case_forecast numeric, target numeric, adjusted_commit numeric)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    lo timestamptz;
    hi timestamptz;
BEGIN
    IF forecast.period IS NULL OR forecast.at IS NULL THEN
        RAISE EXCEPTION 'forecast() needs a period and a moment' USING ERRCODE = '22004';
    END IF;
    -- period_start validates the period name.
    lo := salesperf.period_start(forecast.at, forecast.period);
    hi := salesperf.period_end(forecast.at, forecast.period);

    RETURN QUERY
    WITH deal AS (
        SELECT d.unit_id, d.amount, d.category, d.weight FROM salesperf.forecast_deals(lo, hi) d
    ), rolled AS (
        -- Each unit sums its whole subtree.
        SELECT t.ancestor_id AS unit_id,
               salesperf.forecast_summary(d.amount, d.category) AS f,
               salesperf.weighted_pipeline(d.amount, d.weight) AS w
          FROM deal d JOIN salesperf.unit_tree t ON t.descendant_id = d.unit_id
         GROUP BY t.ancestor_id
    ), adj AS (
        SELECT a.unit_id, a.commit FROM salesperf.forecast_adjustment a
         WHERE a.period = forecast.period AND a.period_start = lo
    ), adj_delta AS (
        -- What adjusted units below change: for each unit, the adjustments
        -- of the highest adjusted units strictly inside its subtree.
        SELECT t.ancestor_id AS unit_id,
               sum(a.commit - COALESCE((r.f).commit_forecast, 0)) AS delta
          FROM salesperf.unit_tree t
          JOIN adj a ON a.unit_id = t.descendant_id
          LEFT JOIN rolled r ON r.unit_id = a.unit_id
         WHERE t.depth > 0
           AND NOT EXISTS (
                 SELECT 1 FROM salesperf.unit_tree t1
                   JOIN adj a1 ON a1.unit_id = t1.descendant_id
                   JOIN salesperf.unit_tree t2 ON t2.ancestor_id = t1.descendant_id
                  WHERE t1.ancestor_id = t.ancestor_id AND t1.depth > 0
                    AND t2.descendant_id = a.unit_id AND t2.depth > 0)
         GROUP BY t.ancestor_id
    ), goal AS (
        -- Each unit's effective revenue target for the period (explicit, or
        -- rolled up from the units and reps below it: see 70_targets.sql).
        SELECT g.scope_id AS unit_id, g.target
          FROM salesperf.target_period(forecast.at, forecast.period) b
         CROSS JOIN LATERAL salesperf.target_tree('revenue', forecast.period, b.period_start,
                                                  b.first_day, b.end_day) g
         WHERE g.scope = 'unit'
    ), tree AS (
        SELECT u.unit_id, u.name,
               ARRAY(SELECT x.ancestor_id FROM salesperf.unit_tree x
                      WHERE x.descendant_id = u.unit_id ORDER BY x.depth DESC) AS path
          FROM salesperf.unit u
    )
    SELECT tr.unit_id, tr.name, cardinality(tr.path) - 1,
           COALESCE((r.f).closed, 0), COALESCE((r.f).commit, 0),
           COALESCE((r.f).best_case, 0), COALESCE((r.f).pipeline, 0),
           COALESCE(r.w, 0),
           COALESCE((r.f).commit_forecast, 0), COALESCE((r.f).best_case_forecast, 0),
           go.target,
           COALESCE(a.commit, COALESCE((r.f).commit_forecast, 0) + COALESCE(ad.delta, 0))
      FROM tree tr
      LEFT JOIN rolled r ON r.unit_id = tr.unit_id
      LEFT JOIN adj a ON a.unit_id = tr.unit_id
      LEFT JOIN adj_delta ad ON ad.unit_id = tr.unit_id
      LEFT JOIN goal go ON go.unit_id = tr.unit_id
     ORDER BY tr.path;
END
$$;
COMMENT ON FUNCTION salesperf.forecast(text, timestamptz) IS
  'Forecast roll-up for the period containing `at`, one row per unit in tree pre-order (depth = distance from the root; each unit = its whole subtree by today''s org chart): amounts per category, probability-weighted total, cumulative commit and best-case forecasts, target (the unit''s effective revenue target for the period: explicit, else rolled up from the units and reps below; NULL when none) and the commit after managers'' adjustments.';

CREATE FUNCTION salesperf.cumulative_forecast(months integer DEFAULT 6, at timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (month date, won numeric, weighted numeric, cumulative numeric)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    tz text := (SELECT s.time_zone FROM salesperf.settings s);
    bounds timestamptz[];
    i integer;
BEGIN
    IF cumulative_forecast.months IS NULL OR cumulative_forecast.at IS NULL THEN
        RAISE EXCEPTION 'cumulative_forecast() needs a number of months and a moment' USING ERRCODE = '22004';
    END IF;
    IF cumulative_forecast.months <= 0 THEN
        RAISE EXCEPTION 'months must be positive, not %', cumulative_forecast.months USING ERRCODE = '22023';
    END IF;
    -- Month boundaries (fiscal months under a retail calendar).
    bounds := ARRAY[salesperf.period_start(cumulative_forecast.at, 'month')];
    FOR i IN 1 .. cumulative_forecast.months LOOP
        bounds := bounds || salesperf.period_end(bounds[i], 'month');
    END LOOP;

    RETURN QUERY
    WITH m AS (
        SELECT b.i, bounds[b.i] AS lo, bounds[b.i + 1] AS hi
          FROM generate_series(1, cumulative_forecast.months) AS b(i)
    ), per_month AS (
        SELECT m.i, m.lo,
               COALESCE(sum(d.amount) FILTER (WHERE d.is_won), 0) AS won,
               COALESCE(salesperf.weighted_pipeline(d.amount, d.weight) FILTER (WHERE NOT d.is_closed), 0) AS weighted
          FROM m
          LEFT JOIN salesperf.forecast_deals(bounds[1], bounds[cumulative_forecast.months + 1]) d
                 ON d.closes_at >= m.lo AND d.closes_at < m.hi
         GROUP BY m.i, m.lo
    )
    SELECT salesperf.local_day(p.lo, tz), p.won, p.weighted,
           sum(p.won + p.weighted) OVER (ORDER BY p.i)
      FROM per_month p
     ORDER BY p.i;
END
$$;
COMMENT ON FUNCTION salesperf.cumulative_forecast(integer, timestamptz) IS
  'Month by month from the month containing `at`: won (deals won with closed_at in the month), weighted (open deals expected to close in the month times their stage probability) and the running total of both.';

-- Snapshots and accuracy ------------------------------------------------------

CREATE TABLE salesperf.forecast_snapshot (
    snapshot_day       date NOT NULL,
    period             text NOT NULL,
    unit_id            bigint NOT NULL REFERENCES salesperf.unit (unit_id) ON DELETE CASCADE,
    period_start       timestamptz NOT NULL,
    period_end         timestamptz NOT NULL,
    closed             numeric NOT NULL,
    commit             numeric NOT NULL,
    best_case          numeric NOT NULL,
    pipeline           numeric NOT NULL,
    weighted           numeric NOT NULL,
    commit_forecast    numeric NOT NULL,
    best_case_forecast numeric NOT NULL,
    adjusted_commit    numeric NOT NULL,
    taken_at           timestamptz NOT NULL,
    PRIMARY KEY (snapshot_day, period, unit_id)
);
CREATE INDEX forecast_snapshot_period_idx ON salesperf.forecast_snapshot (period_start, unit_id);
COMMENT ON TABLE salesperf.forecast_snapshot IS
  'The forecast roll-up as it stood on a day, one row per unit; written by salesperf.snapshot_forecast() and compared with the outcome by salesperf.forecast_accuracy.';
COMMENT ON COLUMN salesperf.forecast_snapshot.snapshot_day IS 'Local day (configured time zone) the snapshot was taken.';
COMMENT ON COLUMN salesperf.forecast_snapshot.period IS 'Period kind forecast (quarter).';
COMMENT ON COLUMN salesperf.forecast_snapshot.unit_id IS 'Unit (its whole subtree).';
COMMENT ON COLUMN salesperf.forecast_snapshot.period_start IS 'Start of the period forecast.';
COMMENT ON COLUMN salesperf.forecast_snapshot.period_end IS 'Exclusive end of the period forecast.';
COMMENT ON COLUMN salesperf.forecast_snapshot.closed IS 'Won so far in the period.';
COMMENT ON COLUMN salesperf.forecast_snapshot.commit IS 'Open deals in the commit category.';
COMMENT ON COLUMN salesperf.forecast_snapshot.best_case IS 'Open deals in the best_case category.';
COMMENT ON COLUMN salesperf.forecast_snapshot.pipeline IS 'Open deals in the pipeline category.';
COMMENT ON COLUMN salesperf.forecast_snapshot.weighted IS 'Won plus open deals times their stage probability.';
COMMENT ON COLUMN salesperf.forecast_snapshot.commit_forecast IS 'closed + commit.';
COMMENT ON COLUMN salesperf.forecast_snapshot.best_case_forecast IS 'closed + commit + best_case.';
COMMENT ON COLUMN salesperf.forecast_snapshot.adjusted_commit IS 'Commit forecast after managers'' adjustments.';
COMMENT ON COLUMN salesperf.forecast_snapshot.taken_at IS 'Moment the snapshot was computed for.';
SELECT pg_catalog.pg_extension_config_dump('salesperf.forecast_snapshot', '');

CREATE FUNCTION salesperf.snapshot_forecast(period text DEFAULT 'quarter', at timestamptz DEFAULT pg_catalog.now())
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    day date;
    n   bigint;
BEGIN
    IF snapshot_forecast.period IS NULL OR snapshot_forecast.at IS NULL THEN
        RAISE EXCEPTION 'snapshot_forecast() needs a period and a moment' USING ERRCODE = '22004';
    END IF;
    day := salesperf.local_day(snapshot_forecast.at, (SELECT s.time_zone FROM salesperf.settings s));
    -- One snapshot per day: taking it again replaces the day's rows.
    DELETE FROM salesperf.forecast_snapshot f
     WHERE f.snapshot_day = day AND f.period = snapshot_forecast.period;
    INSERT INTO salesperf.forecast_snapshot
           (snapshot_day, period, unit_id, period_start, period_end, closed, commit, best_case,
            pipeline, weighted, commit_forecast, best_case_forecast, adjusted_commit, taken_at)
    SELECT day, snapshot_forecast.period, f.unit_id,
           salesperf.period_start(snapshot_forecast.at, snapshot_forecast.period),
           salesperf.period_end(snapshot_forecast.at, snapshot_forecast.period),
           f.closed, f.commit, f.best_case, f.pipeline, f.weighted, f.commit_forecast,
           f.best_case_forecast, f.adjusted_commit, snapshot_forecast.at
      FROM salesperf.forecast(snapshot_forecast.period, snapshot_forecast.at) f;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;
COMMENT ON FUNCTION salesperf.snapshot_forecast(text, timestamptz) IS
  'Store the forecast roll-up (every unit, the current quarter by default) as of `at` in salesperf.forecast_snapshot; idempotent per local day (a second run the same day replaces the first). Returns the rows stored.';

CREATE VIEW salesperf.forecast_accuracy AS
WITH period_range AS (
    SELECT DISTINCT f.period_start, f.period_end FROM salesperf.forecast_snapshot f
), won AS (
    SELECT p.period_start, p.period_end, t.ancestor_id AS unit_id, sum(d.amount) AS won
      FROM period_range p
     CROSS JOIN LATERAL salesperf.forecast_deals(p.period_start, p.period_end) d
      JOIN salesperf.unit_tree t ON t.descendant_id = d.unit_id
     WHERE d.is_won
     GROUP BY p.period_start, p.period_end, t.ancestor_id
)
SELECT f.snapshot_day, f.unit_id, u.name, f.period, f.period_start, f.period_end,
       f.commit_forecast, f.best_case_forecast, f.weighted, f.adjusted_commit,
       COALESCE(w.won, 0) AS actual_won,
       round(100 * (f.adjusted_commit - w.won) / NULLIF(w.won, 0), 1) AS error_pct,
       round(100 * (f.weighted - w.won) / NULLIF(w.won, 0), 1) AS weighted_error_pct
  FROM salesperf.forecast_snapshot f
  JOIN salesperf.unit u ON u.unit_id = f.unit_id
  LEFT JOIN won w ON w.period_start = f.period_start AND w.period_end = f.period_end
                 AND w.unit_id = f.unit_id;
COMMENT ON VIEW salesperf.forecast_accuracy IS
  'Each forecast snapshot beside what the unit actually won in that period (so far, while the period runs), with the forecast error in percent.';
COMMENT ON COLUMN salesperf.forecast_accuracy.snapshot_day IS 'Local day the snapshot was taken.';
COMMENT ON COLUMN salesperf.forecast_accuracy.unit_id IS 'Unit (its whole subtree).';
COMMENT ON COLUMN salesperf.forecast_accuracy.name IS 'Unit name.';
COMMENT ON COLUMN salesperf.forecast_accuracy.period IS 'Period kind forecast.';
COMMENT ON COLUMN salesperf.forecast_accuracy.period_start IS 'Start of the period forecast.';
COMMENT ON COLUMN salesperf.forecast_accuracy.period_end IS 'Exclusive end of the period forecast.';
COMMENT ON COLUMN salesperf.forecast_accuracy.commit_forecast IS 'Forecast on that day: closed + commit.';
COMMENT ON COLUMN salesperf.forecast_accuracy.best_case_forecast IS 'Forecast on that day: closed + commit + best_case.';
COMMENT ON COLUMN salesperf.forecast_accuracy.weighted IS 'Forecast on that day: won plus open deals times their probability.';
COMMENT ON COLUMN salesperf.forecast_accuracy.adjusted_commit IS 'Forecast on that day: the commit after managers'' adjustments (the call).';
COMMENT ON COLUMN salesperf.forecast_accuracy.actual_won IS 'Amount of deals now won with closed_at in the period, by the same attribution rule as the forecast.';
COMMENT ON COLUMN salesperf.forecast_accuracy.error_pct IS '100 * (adjusted_commit - actual_won) / actual_won, rounded to 0.1; positive means over-forecast; NULL when nothing was won.';
COMMENT ON COLUMN salesperf.forecast_accuracy.weighted_error_pct IS '100 * (weighted - actual_won) / actual_won, rounded to 0.1; NULL when nothing was won.';
-- Targets (SPEC §7): explicit targets per rep, unit or the company and
-- period, effective targets rolled up the org chart at read time, and the
-- progress of every target in force at a moment.
--
-- How a stored target finds its period.  set_target() stores the start of
-- the period containing the moment it is given (period_start) and the local
-- date that period started on (start_day).  A settings change (time zone,
-- week start, fiscal year, calendar) moves period boundaries but rewrites no
-- target: every read asks for the targets whose start_day lies in the
-- period as the current settings draw it, so a March target stays the
-- March target when the zone changes from UTC to Europe/Paris (its
-- period_start then shows the old zone's midnight; the rows of
-- target_progress show the current one).  Should a calendar change put two
-- stored targets of one key in one period, the one set for the earlier date
-- counts, and set_target() for that period replaces both.
--
-- Effective targets are computed when read, from the unit tree, today's
-- explicit targets and the memberships at each period's start (units are
-- few), so a changed rep target or a moved rep changes every unit above at
-- once and nothing derived has to be kept in step.

CREATE TABLE salesperf.target (
    kpi          text NOT NULL REFERENCES salesperf.kpi (name),
    scope        text NOT NULL CHECK (scope IN ('rep', 'unit', 'company')),
    scope_id     bigint,
    period       text NOT NULL CHECK (period IN ('day', 'week', 'month', 'quarter', 'year')),
    period_start timestamptz NOT NULL,
    start_day    date NOT NULL,
    value        numeric NOT NULL CHECK (value >= 0 AND value < 'Infinity'),
    -- The rep or unit a target is for: a deleted rep or unit takes its
    -- targets along.
    rep_id       bigint GENERATED ALWAYS AS (CASE WHEN scope = 'rep' THEN scope_id END) STORED
                 REFERENCES salesperf.rep (rep_id) ON DELETE CASCADE,
    unit_id      bigint GENERATED ALWAYS AS (CASE WHEN scope = 'unit' THEN scope_id END) STORED
                 REFERENCES salesperf.unit (unit_id) ON DELETE CASCADE,
    CONSTRAINT target_scope_id CHECK ((scope = 'company') = (scope_id IS NULL)),
    CONSTRAINT target_key UNIQUE NULLS NOT DISTINCT (kpi, scope, scope_id, period, period_start)
);
-- One rep's (or unit's) targets in force: index probes by scope, id, period.
CREATE INDEX target_scope_idx ON salesperf.target (scope_id, scope, period, start_day);
-- Which KPIs have targets in a period, and every target of one KPI and period.
CREATE INDEX target_period_idx ON salesperf.target (period, start_day, kpi);
COMMENT ON TABLE salesperf.target IS
  'Explicit targets of a KPI for a rep, a unit or the company and one period. Write with salesperf.set_target(); units and the company without one get the sum of what is below them (salesperf.effective_target).';
COMMENT ON COLUMN salesperf.target.kpi IS 'KPI the target is for.';
COMMENT ON COLUMN salesperf.target.scope IS 'rep, unit or company.';
COMMENT ON COLUMN salesperf.target.scope_id IS 'The rep''s or unit''s id; NULL for the company.';
COMMENT ON COLUMN salesperf.target.period IS 'day, week, month, quarter or year.';
COMMENT ON COLUMN salesperf.target.period_start IS 'Start of the period, as the settings drew it when the target was set (writes are normalized to the start of the period containing the given moment).';
COMMENT ON COLUMN salesperf.target.start_day IS 'Local date the period started on when the target was set: after a settings change the target applies to the period that contains this date.';
COMMENT ON COLUMN salesperf.target.value IS 'The target: a finite amount, not negative, in the KPI''s unit.';
COMMENT ON COLUMN salesperf.target.rep_id IS 'scope_id of a rep target (generated; deleting the rep deletes its targets).';
COMMENT ON COLUMN salesperf.target.unit_id IS 'scope_id of a unit target (generated; deleting the unit deletes its targets).';
SELECT pg_catalog.pg_extension_config_dump('salesperf.target', '');

-- Every write, through set_target() or directly, is validated and
-- normalized here: specific SQLSTATEs instead of constraint violations, a
-- period_start moved to the start of its period, start_day filled in.
CREATE FUNCTION salesperf.target_check()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    s salesperf.settings;
BEGIN
    IF NEW.kpi IS NULL OR NEW.scope IS NULL OR NEW.period IS NULL OR NEW.period_start IS NULL THEN
        RAISE EXCEPTION 'a target needs a kpi, a scope, a period and a period_start' USING ERRCODE = '22004';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM salesperf.kpi k WHERE k.name = NEW.kpi) THEN
        RAISE EXCEPTION 'unknown KPI "%"', NEW.kpi USING ERRCODE = '42704', HINT = 'See salesperf.kpi.';
    END IF;
    IF NEW.scope NOT IN ('rep', 'unit', 'company') THEN
        RAISE EXCEPTION 'unknown scope "%"', NEW.scope USING ERRCODE = '22023', HINT = 'Use rep, unit or company.';
    END IF;
    IF NEW.period NOT IN ('day', 'week', 'month', 'quarter', 'year') THEN
        RAISE EXCEPTION 'unknown period "%"', NEW.period
            USING ERRCODE = '22023', HINT = 'Use day, week, month, quarter or year.';
    END IF;
    IF NEW.period_start IN ('infinity', '-infinity') THEN
        RAISE EXCEPTION 'period_start must be a finite moment, not %', NEW.period_start USING ERRCODE = '22008';
    END IF;
    IF NEW.scope = 'company' THEN
        NEW.scope_id := NULL;           -- as in kpi_value(): ignored for the company
    ELSIF NEW.scope_id IS NULL THEN
        RAISE EXCEPTION 'a % target needs a scope_id', NEW.scope USING ERRCODE = '22004';
    ELSIF NEW.scope = 'rep' AND NOT EXISTS (SELECT 1 FROM salesperf.rep r WHERE r.rep_id = NEW.scope_id) THEN
        RAISE EXCEPTION 'unknown rep %', NEW.scope_id USING ERRCODE = '42704', HINT = 'See salesperf.rep.';
    ELSIF NEW.scope = 'unit' AND NOT EXISTS (SELECT 1 FROM salesperf.unit u WHERE u.unit_id = NEW.scope_id) THEN
        RAISE EXCEPTION 'unknown unit %', NEW.scope_id USING ERRCODE = '42704', HINT = 'See salesperf.unit.';
    END IF;
    IF NEW.value IS NULL THEN
        RAISE EXCEPTION 'a target value must not be NULL'
            USING ERRCODE = '22004', HINT = 'salesperf.set_target() with a NULL value removes a target.';
    END IF;
    IF NEW.value < 0 OR NEW.value IN ('NaN', 'Infinity', '-Infinity') THEN
        RAISE EXCEPTION 'invalid target value %', NEW.value
            USING ERRCODE = '22003', DETAIL = 'A target is a finite amount, not negative.';
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.period = OLD.period AND NEW.period_start = OLD.period_start THEN
        -- Same period as stored: keep it as it was set, even if the settings
        -- have moved period boundaries since (start_day keeps it in place).
        NEW.start_day := OLD.start_day;
        RETURN NEW;
    END IF;
    SELECT * INTO s FROM salesperf.settings;
    NEW.period_start := salesperf.calendar_start(NEW.period_start, NEW.period, s.time_zone, s.week_start,
                                                 s.fiscal_year_start_month, s.calendar);
    NEW.start_day := salesperf.local_day(NEW.period_start, s.time_zone);
    RETURN NEW;
END
$$;
CREATE TRIGGER target_check BEFORE INSERT OR UPDATE ON salesperf.target
    FOR EACH ROW EXECUTE FUNCTION salesperf.target_check();

-- The period containing a moment under the current settings: its bounds and
-- its local days [first_day, end_day).
CREATE FUNCTION salesperf.target_period(at timestamptz, period text,
                                        OUT period_start timestamptz, OUT period_end timestamptz,
                                        OUT first_day date, OUT end_day date)
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT b.lo, b.hi, salesperf.local_day(b.lo, s.time_zone), salesperf.local_day(b.hi, s.time_zone)
    FROM salesperf.settings s
   CROSS JOIN LATERAL (
         SELECT salesperf.calendar_start(at, period, s.time_zone, s.week_start, s.fiscal_year_start_month, s.calendar) AS lo,
                salesperf.calendar_end(at, period, s.time_zone, s.week_start, s.fiscal_year_start_month, s.calendar) AS hi) b
$$;
COMMENT ON FUNCTION salesperf.target_period(timestamptz, text) IS
  'Internal: bounds and local days [first_day, end_day) of the period containing a moment, under the current settings.';

-- The arguments that name a target, checked once for set_target() and
-- effective_target(): specific SQLSTATEs naming the bad value.
CREATE FUNCTION salesperf.target_key_check(caller text, kpi text, scope text, scope_id bigint,
                                           period text, period_start timestamptz)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    IF kpi IS NULL OR scope IS NULL OR period IS NULL OR period_start IS NULL THEN
        RAISE EXCEPTION '%() needs a kpi, a scope, a period and a period_start', caller USING ERRCODE = '22004';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM salesperf.kpi k WHERE k.name = kpi) THEN
        RAISE EXCEPTION 'unknown KPI "%"', kpi USING ERRCODE = '42704', HINT = 'See salesperf.kpi.';
    END IF;
    IF scope NOT IN ('rep', 'unit', 'company') THEN
        RAISE EXCEPTION 'unknown scope "%"', scope USING ERRCODE = '22023', HINT = 'Use rep, unit or company.';
    END IF;
    IF period NOT IN ('day', 'week', 'month', 'quarter', 'year') THEN
        RAISE EXCEPTION 'unknown period "%"', period
            USING ERRCODE = '22023', HINT = 'Use day, week, month, quarter or year.';
    END IF;
    IF scope <> 'company' AND scope_id IS NULL THEN
        RAISE EXCEPTION 'a % target needs a scope_id', scope USING ERRCODE = '22004';
    END IF;
    IF scope = 'rep' AND NOT EXISTS (SELECT 1 FROM salesperf.rep r WHERE r.rep_id = scope_id) THEN
        RAISE EXCEPTION 'unknown rep %', scope_id USING ERRCODE = '42704', HINT = 'See salesperf.rep.';
    END IF;
    IF scope = 'unit' AND NOT EXISTS (SELECT 1 FROM salesperf.unit u WHERE u.unit_id = scope_id) THEN
        RAISE EXCEPTION 'unknown unit %', scope_id USING ERRCODE = '42704', HINT = 'See salesperf.unit.';
    END IF;
END
$$;
COMMENT ON FUNCTION salesperf.target_key_check(text, text, text, bigint, text, timestamptz) IS
  'Internal: check the arguments naming a target (for set_target and effective_target); raises 22004, 42704 or 22023 naming the bad value.';

CREATE FUNCTION salesperf.set_target(kpi text, scope text, scope_id bigint, period text,
                                     period_start timestamptz, value numeric)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    p record;
    id bigint := CASE WHEN scope = 'company' THEN NULL ELSE scope_id END;
BEGIN
    PERFORM salesperf.target_key_check('set_target', kpi, scope, id, period, period_start);
    IF value < 0 OR value IN ('NaN', 'Infinity', '-Infinity') THEN
        RAISE EXCEPTION 'invalid target value %', value
            USING ERRCODE = '22003', DETAIL = 'A target is a finite amount, not negative.';
    END IF;
    IF period_start IN ('infinity', '-infinity') THEN
        RAISE EXCEPTION 'period_start must be a finite moment, not %', period_start USING ERRCODE = '22008';
    END IF;

    p := salesperf.target_period(period_start, period);
    -- One target per key and period as the current settings draw it: drop
    -- every stored row that falls in the period (after a settings change
    -- there may be one stored under the old boundaries), then write.
    DELETE FROM salesperf.target t
     WHERE t.kpi = kpi AND t.scope = scope AND t.scope_id IS NOT DISTINCT FROM id AND t.period = period
       AND t.start_day >= p.first_day AND t.start_day < p.end_day
       AND (value IS NULL OR t.period_start <> p.period_start);
    IF value IS NOT NULL THEN
        INSERT INTO salesperf.target AS t (kpi, scope, scope_id, period, period_start, start_day, value)
        VALUES (kpi, scope, id, period, p.period_start, p.first_day, value)
        ON CONFLICT ON CONSTRAINT target_key DO UPDATE SET value = EXCLUDED.value;
    END IF;
END
$$;
COMMENT ON FUNCTION salesperf.set_target(text, text, bigint, text, timestamptz, numeric) IS
  'Set the explicit target of a KPI for a rep, a unit or the company (scope_id ignored) and the period (day, week, month, quarter, year) containing period_start; a NULL value removes it. Errors: NULL kpi/scope/period/period_start 22004, unknown KPI/rep/unit 42704, unknown scope or period 22023, negative or non-finite value 22003.';

-- Targets of one KPI and period, explicit and rolled up: one row per unit
-- that has one and one for the company (if any target exists at all).
-- A unit without an explicit target gets the sum of its child units'
-- effective targets and of the explicit targets of the reps who were its
-- members at the period's start; the company without one gets the sum over
-- the root units plus the reps who belonged to no unit then.
--
-- Computed with the closure: val(D) is D's explicit target, else the sum of
-- its members' targets; D adds val(D) to a unit A above it (or A itself)
-- when no unit strictly between them has an explicit target (cut = distance
-- from D to its nearest explicit strict ancestor).
CREATE FUNCTION salesperf.target_tree(kpi text, period text, period_start timestamptz,
                                      first_day date, end_day date)
RETURNS TABLE (scope text, scope_id bigint, target numeric, explicit boolean)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  WITH stored AS (
      SELECT DISTINCT ON (t.scope, t.scope_id) t.scope, t.scope_id, t.value
        FROM salesperf.target t
       WHERE t.period = target_tree.period AND t.start_day >= target_tree.first_day
         AND t.start_day < target_tree.end_day AND t.kpi = target_tree.kpi
       ORDER BY t.scope, t.scope_id, t.start_day
  ), ex AS (
      SELECT s.scope_id AS unit_id, s.value FROM stored s WHERE s.scope = 'unit'
  ), placed AS (
      SELECT m.unit_id, s.value
        FROM stored s
        LEFT JOIN salesperf.membership m
               ON m.rep_id = s.scope_id AND m.during @> target_tree.period_start
       WHERE s.scope = 'rep'
  ), base AS (
      SELECT p.unit_id, sum(p.value) AS value FROM placed p WHERE p.unit_id IS NOT NULL GROUP BY p.unit_id
  ), val AS (
      SELECT COALESCE(e.unit_id, b.unit_id) AS unit_id,
             CASE WHEN e.unit_id IS NOT NULL THEN e.value ELSE b.value END AS value
        FROM ex e FULL JOIN base b ON b.unit_id = e.unit_id
  ), cut AS (
      SELECT v.unit_id, v.value,
             (SELECT min(t.depth) FROM salesperf.unit_tree t JOIN ex e ON e.unit_id = t.ancestor_id
               WHERE t.descendant_id = v.unit_id AND t.depth > 0) AS cut
        FROM val v
  ), derived AS (
      SELECT t.ancestor_id AS unit_id, sum(c.value) AS value
        FROM cut c JOIN salesperf.unit_tree t ON t.descendant_id = c.unit_id
       WHERE c.cut IS NULL OR c.cut >= t.depth
       GROUP BY t.ancestor_id
  )
  SELECT 'unit', COALESCE(e.unit_id, d.unit_id), COALESCE(e.value, d.value), e.unit_id IS NOT NULL
    FROM ex e FULL JOIN derived d ON d.unit_id = e.unit_id
  UNION ALL
  SELECT 'company', NULL,
         COALESCE((SELECT s.value FROM stored s WHERE s.scope = 'company'),
                  (SELECT sum(x.value)
                     FROM (SELECT c.value FROM cut c WHERE c.cut IS NULL
                           UNION ALL
                           SELECT p.value FROM placed p WHERE p.unit_id IS NULL) x)),
         EXISTS (SELECT 1 FROM stored s WHERE s.scope = 'company')
   WHERE EXISTS (SELECT 1 FROM stored)
$$;
COMMENT ON FUNCTION salesperf.target_tree(text, text, timestamptz, date, date) IS
  'Internal: effective targets of one KPI and period (bounds given) for every unit that has one and for the company: explicit, else the sum of child units'' effective targets and of member reps'' targets (members at period_start).';

CREATE FUNCTION salesperf.effective_target(kpi text, scope text, scope_id bigint, period text,
                                           period_start timestamptz)
RETURNS numeric
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    p record;
    result numeric;
BEGIN
    PERFORM salesperf.target_key_check('effective_target', kpi, scope,
                                       CASE WHEN scope = 'company' THEN NULL ELSE scope_id END,
                                       period, period_start);
    p := salesperf.target_period(period_start, period);
    IF scope = 'rep' THEN
        -- A rep's target is only ever explicit.
        SELECT t.value INTO result
          FROM salesperf.target t
         WHERE t.scope_id = effective_target.scope_id AND t.scope = 'rep' AND t.period = period
           AND t.start_day >= p.first_day AND t.start_day < p.end_day AND t.kpi = kpi
         ORDER BY t.start_day
         LIMIT 1;
        RETURN result;
    END IF;
    SELECT x.target INTO result
      FROM salesperf.target_tree(kpi, period, p.period_start, p.first_day, p.end_day) x
     WHERE x.scope = effective_target.scope
       AND x.scope_id IS NOT DISTINCT FROM CASE WHEN scope = 'company' THEN NULL ELSE effective_target.scope_id END;
    RETURN result;
END
$$;
COMMENT ON FUNCTION salesperf.effective_target(text, text, bigint, text, timestamptz) IS
  'Effective target of a KPI for a rep, a unit or the company in the period containing period_start: the explicit target if set; for a unit otherwise the sum of its child units'' effective targets and its member reps'' targets (members at the period''s start); for the company the sum over root units and reps in no unit. NULL when there is nothing to sum.';

-- Every target in force at a moment, one row per (kpi, scope, scope_id,
-- period), optionally of one scope (and id).  A rep filter reads only that
-- rep's targets (index probes); a unit or company filter computes the roll-up
-- of the KPIs and periods that have targets.
CREATE FUNCTION salesperf.targets_at(at timestamptz, for_scope text DEFAULT NULL, for_id bigint DEFAULT NULL)
RETURNS TABLE (kpi text, scope text, scope_id bigint, period text, period_start timestamptz,
               period_end timestamptz, first_day date, target numeric)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    want text := targets_at.for_scope;
    id   bigint := targets_at.for_id;
    st   salesperf.settings;
BEGIN
    SELECT * INTO st FROM salesperf.settings;
    RETURN QUERY
    WITH p AS (
        SELECT n.period, b.lo AS period_start, b.hi AS period_end,
               salesperf.local_day(b.lo, st.time_zone) AS first_day,
               salesperf.local_day(b.hi, st.time_zone) AS end_day
          FROM unnest(ARRAY['day', 'week', 'month', 'quarter', 'year']) AS n(period)
         CROSS JOIN LATERAL (
               SELECT salesperf.calendar_start(targets_at.at, n.period, st.time_zone, st.week_start,
                                               st.fiscal_year_start_month, st.calendar) AS lo,
                      salesperf.calendar_end(targets_at.at, n.period, st.time_zone, st.week_start,
                                             st.fiscal_year_start_month, st.calendar) AS hi) b
    )
    SELECT DISTINCT ON (t.kpi, t.scope_id, p.period)
           t.kpi, 'rep'::text, t.scope_id, p.period, p.period_start, p.period_end, p.first_day, t.value
      FROM p JOIN salesperf.target t
        ON t.period = p.period AND t.start_day >= p.first_day AND t.start_day < p.end_day
     WHERE t.scope = 'rep' AND (want IS NULL OR want = 'rep') AND (id IS NULL OR t.scope_id = id)
     ORDER BY t.kpi, t.scope_id, p.period, t.start_day;

    IF want IS NULL OR want <> 'rep' THEN
        RETURN QUERY
        WITH p AS (
            SELECT n.period, b.lo AS period_start, b.hi AS period_end,
                   salesperf.local_day(b.lo, st.time_zone) AS first_day,
                   salesperf.local_day(b.hi, st.time_zone) AS end_day
              FROM unnest(ARRAY['day', 'week', 'month', 'quarter', 'year']) AS n(period)
             CROSS JOIN LATERAL (
                   SELECT salesperf.calendar_start(targets_at.at, n.period, st.time_zone, st.week_start,
                                                   st.fiscal_year_start_month, st.calendar) AS lo,
                          salesperf.calendar_end(targets_at.at, n.period, st.time_zone, st.week_start,
                                                 st.fiscal_year_start_month, st.calendar) AS hi) b
        ), combo AS (
            SELECT DISTINCT t.kpi, p.period, p.period_start, p.period_end, p.first_day, p.end_day
              FROM p JOIN salesperf.target t
                ON t.period = p.period AND t.start_day >= p.first_day AND t.start_day < p.end_day
        )
        SELECT c.kpi, x.scope, x.scope_id, c.period, c.period_start, c.period_end, c.first_day, x.target
          FROM combo c
         CROSS JOIN LATERAL salesperf.target_tree(c.kpi, c.period, c.period_start, c.first_day, c.end_day) x
         WHERE x.target IS NOT NULL
           AND (want IS NULL OR x.scope = want)
           AND (id IS NULL OR want IS DISTINCT FROM 'unit' OR x.scope_id = id);
    END IF;
END
$$;
COMMENT ON FUNCTION salesperf.targets_at(timestamptz, text, bigint) IS
  'Internal: every explicit or rolled-up target whose period contains `at` (optionally of one scope and id), with its period bounds.';

CREATE FUNCTION salesperf.target_progress_at(at timestamptz, for_scope text DEFAULT NULL, for_id bigint DEFAULT NULL)
RETURNS TABLE (kpi text, scope text, scope_id bigint, name text, period text, period_start timestamptz,
               period_end timestamptz, target numeric, actual numeric, attainment numeric, elapsed numeric,
               expected_to_date numeric, projected numeric, status text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
#variable_conflict use_column
DECLARE
    today date;
BEGIN
    IF target_progress_at.at IS NULL THEN
        RAISE EXCEPTION 'target_progress_at() needs a moment' USING ERRCODE = '22004';
    END IF;
    IF target_progress_at.at IN ('infinity', '-infinity') THEN
        RAISE EXCEPTION 'at must be a finite moment, not %', target_progress_at.at USING ERRCODE = '22008';
    END IF;
    IF target_progress_at.for_scope IS NOT NULL AND target_progress_at.for_scope NOT IN ('rep', 'unit', 'company') THEN
        RAISE EXCEPTION 'unknown scope "%"', target_progress_at.for_scope
            USING ERRCODE = '22023', HINT = 'Use rep, unit or company.';
    END IF;
    today := salesperf.local_day(target_progress_at.at, (SELECT s.time_zone FROM salesperf.settings s));

    RETURN QUERY
    WITH x AS MATERIALIZED (
        -- Each target with its KPI's value from the period's first day to
        -- today, from the counters (kpi_value's rule: an empty count or sum
        -- is 0, an empty avg or a zero denominator NULL).  MATERIALIZED:
        -- the counters are read once per row, not once per use of actual.
        SELECT t.kpi, t.scope, t.scope_id, t.period, t.period_start, t.period_end, t.target,
               k.higher_is_better,
               k.measure NOT IN ('avg', 'ratio') AS additive,
               CASE WHEN k.den_measure IS NULL THEN COALESCE(a.num, 0) ELSE a.num / NULLIF(a.den, 0) END AS actual,
               GREATEST(0, LEAST(1,
                   EXTRACT(EPOCH FROM target_progress_at.at - t.period_start)
                   / EXTRACT(EPOCH FROM t.period_end - t.period_start))) AS elapsed
          FROM salesperf.targets_at(target_progress_at.at, target_progress_at.for_scope,
                                    target_progress_at.for_id) t
          JOIN salesperf.kpi k ON k.name = t.kpi
         CROSS JOIN LATERAL (
               SELECT sum(v.num) AS num, sum(v.den) AS den
                 FROM (-- One branch runs: the others are cut by their constant scope test.
                       SELECT c.* FROM salesperf.kpi_counter c
                        WHERE t.scope = 'rep' AND c.rep_id = t.scope_id
                          AND c.day >= t.first_day AND c.day <= today
                       UNION ALL
                       SELECT c.*
                         FROM salesperf.unit_tree u JOIN salesperf.kpi_counter c ON c.unit_id = u.descendant_id
                        WHERE t.scope = 'unit' AND u.ancestor_id = t.scope_id
                          AND c.day >= t.first_day AND c.day <= today
                       UNION ALL
                       SELECT c.* FROM salesperf.kpi_counter c
                        WHERE t.scope = 'company' AND c.day >= t.first_day AND c.day <= today) c
                CROSS JOIN LATERAL salesperf.kpi_contribution(k.num_kind, k.num_measure, k.den_kind, k.den_measure,
                                                              c.kind, c.activities, c.amount, c.points,
                                                              c.last_at, c.last_amount_at, c.last_point_at) v
                WHERE v.num IS NOT NULL) a
    ), r AS MATERIALIZED (
        SELECT x.*,
               CASE x.scope WHEN 'rep' THEN (SELECT rp.name FROM salesperf.rep rp WHERE rp.rep_id = x.scope_id)
                             WHEN 'unit' THEN (SELECT u.name FROM salesperf.unit u WHERE u.unit_id = x.scope_id)
                             ELSE 'company' END AS name,
               -- A rate (avg, ratio) does not accrue over the period: its
               -- pace is its value so far.
               CASE WHEN x.additive THEN x.target * x.elapsed ELSE x.target END AS expected,
               CASE WHEN x.elapsed = 0 THEN NULL
                    WHEN x.additive THEN x.actual / x.elapsed
                    ELSE x.actual END AS projected
          FROM x
    )
    SELECT r.kpi, r.scope, r.scope_id, r.name, r.period, r.period_start, r.period_end, r.target, r.actual,
           trim_scale(r.actual / NULLIF(r.target, 0)),
           trim_scale(r.elapsed), trim_scale(r.expected), trim_scale(r.projected),
           CASE
             WHEN r.actual IS NULL THEN NULL
             WHEN r.higher_is_better THEN
               CASE WHEN r.actual >= r.target THEN 'achieved'
                    WHEN r.projected IS NULL OR r.projected >= r.target THEN 'on_track'
                    WHEN r.projected >= 0.8 * r.target THEN 'behind'
                    ELSE 'at_risk' END
             ELSE
               -- Lower is better: the target is a ceiling, met only once the
               -- period is over; an additive KPI already above it cannot come
               -- back down.
               CASE WHEN r.elapsed >= 1 AND r.actual <= r.target THEN 'achieved'
                    WHEN r.additive AND r.actual > r.target THEN 'at_risk'
                    WHEN r.projected IS NULL OR r.projected <= r.target THEN 'on_track'
                    WHEN 0.8 * r.projected <= r.target THEN 'behind'
                    ELSE 'at_risk' END
           END
      FROM r
     ORDER BY r.kpi, array_position(ARRAY['day', 'week', 'month', 'quarter', 'year'], r.period),
              array_position(ARRAY['company', 'unit', 'rep'], r.scope), r.scope_id;
END
$$;
COMMENT ON FUNCTION salesperf.target_progress_at(timestamptz, text, bigint) IS
  'Progress at `at` of every explicit or rolled-up target whose period contains `at` (optionally only for_scope rep, unit or company, and only the rep or unit for_id): actual from counters up to at''s local day, attainment, elapsed share of the period (real time), expected to date, projected, status. salesperf.target_progress is this at now().';

CREATE VIEW salesperf.target_progress AS
SELECT p.kpi, p.scope, p.scope_id, p.name, p.period, p.period_start, p.period_end, p.target, p.actual,
       p.attainment, p.elapsed, p.expected_to_date, p.projected, p.status
  FROM salesperf.target_progress_at(pg_catalog.now()) p;
COMMENT ON VIEW salesperf.target_progress IS
  'Every target in force now (explicit, or a unit''s or the company''s sum of what is below it) with the KPI so far, pace and status. salesperf.target_progress_at(at, scope, scope_id) answers for another moment or one rep or unit.';
COMMENT ON COLUMN salesperf.target_progress.kpi IS 'KPI of the target.';
COMMENT ON COLUMN salesperf.target_progress.scope IS 'rep, unit or company.';
COMMENT ON COLUMN salesperf.target_progress.scope_id IS 'Rep or unit id; NULL for the company.';
COMMENT ON COLUMN salesperf.target_progress.name IS 'Rep or unit name; ''company'' for the company.';
COMMENT ON COLUMN salesperf.target_progress.period IS 'day, week, month, quarter or year.';
COMMENT ON COLUMN salesperf.target_progress.period_start IS 'Start of the period (a local midnight in the configured zone).';
COMMENT ON COLUMN salesperf.target_progress.period_end IS 'Exclusive end of the period.';
COMMENT ON COLUMN salesperf.target_progress.target IS 'Effective target: explicit, else (units, company) the sum of the targets below, members as of the period start.';
COMMENT ON COLUMN salesperf.target_progress.actual IS 'KPI value from the period start to the end of today (local day), from counters.';
COMMENT ON COLUMN salesperf.target_progress.attainment IS 'actual / target (NULL when the target is 0).';
COMMENT ON COLUMN salesperf.target_progress.elapsed IS 'Share of the period gone, 0 to 1, in real time (a DST day counts 23 or 25 hours).';
COMMENT ON COLUMN salesperf.target_progress.expected_to_date IS 'target x elapsed: where steady progress would be now (for avg and ratio KPIs, which do not accrue, the target itself).';
COMMENT ON COLUMN salesperf.target_progress.projected IS 'actual / elapsed: the period''s outcome at the current pace (NULL at the very start; for avg and ratio KPIs the value so far).';
COMMENT ON COLUMN salesperf.target_progress.status IS 'Higher is better: achieved (actual >= target), on_track (projected >= target), behind (projected >= 0.8 x target), at_risk. Lower is better: on_track (projected <= target), behind (projected <= target / 0.8), at_risk (also once a count or sum is above its target); achieved only when the period is over. NULL while the KPI has no value (empty avg or ratio).';
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
-- Scorecards (SPEC §6): reps ranked on salesperf.kpi_score, each against
-- their own targets, so a junior rep with a smaller target can top a
-- scorecard that a senior rep leads in absolute numbers.

-- One row per weighted KPI of a scorecard.
CREATE TABLE salesperf.scorecard (
    name   text NOT NULL CHECK (pg_catalog.btrim(name) <> ''),
    kpi    text NOT NULL REFERENCES salesperf.kpi (name),
    weight numeric NOT NULL CHECK (weight > 0 AND weight < 'Infinity'),
    cap    numeric DEFAULT 1.5 CHECK (cap IS NULL OR (cap > 0 AND cap < 'Infinity')),
    PRIMARY KEY (name, kpi)
);
COMMENT ON TABLE salesperf.scorecard IS
  'Scorecards: each row weighs one KPI of the scorecard `name`; reps are ranked on kpi_score(actual, target, weight, cap) against their own targets (salesperf.scorecard_ranking).';
COMMENT ON COLUMN salesperf.scorecard.name IS 'Scorecard name (one row per KPI).';
COMMENT ON COLUMN salesperf.scorecard.kpi IS 'KPI weighed.';
COMMENT ON COLUMN salesperf.scorecard.weight IS 'Weight of the KPI (above zero).';
COMMENT ON COLUMN salesperf.scorecard.cap IS 'Highest attainment the KPI contributes (default 1.5 = 150 %; NULL: no cap).';
SELECT pg_catalog.pg_extension_config_dump('salesperf.scorecard', '');

CREATE FUNCTION salesperf.scorecard_check()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW.name IS NULL OR pg_catalog.btrim(NEW.name) = '' THEN
        RAISE EXCEPTION 'a scorecard needs a name, not "%"', COALESCE(NEW.name, 'NULL') USING ERRCODE = '22023';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM salesperf.kpi k WHERE k.name = NEW.kpi) THEN
        RAISE EXCEPTION 'unknown KPI "%"', NEW.kpi USING ERRCODE = '42704', HINT = 'See salesperf.kpi.';
    END IF;
    IF NEW.weight IS NULL OR NOT (NEW.weight > 0 AND NEW.weight < 'Infinity') THEN
        RAISE EXCEPTION 'scorecard weight must be a finite number above zero, not %', COALESCE(NEW.weight::text, 'NULL')
            USING ERRCODE = '22003';
    END IF;
    IF NEW.cap IS NOT NULL AND NOT (NEW.cap > 0 AND NEW.cap < 'Infinity') THEN
        RAISE EXCEPTION 'scorecard cap must be a finite number above zero (or NULL for no cap), not %', NEW.cap
            USING ERRCODE = '22003';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER scorecard_check BEFORE INSERT OR UPDATE ON salesperf.scorecard
    FOR EACH ROW EXECUTE FUNCTION salesperf.scorecard_check();

-- Reps ranked on a scorecard for the period of the given kind containing
-- `at`: per rep, kpi_score over the scorecard's KPIs of (actual, the rep's
-- target), from target_progress_at (counters and targets, never the
-- ledger).  A KPI where lower is better counts as target / actual.  Reps
-- with no target for any of the KPIs are not ranked.
CREATE FUNCTION salesperf.scorecard_ranking(scorecard text, period text DEFAULT 'month',
                                            at timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (rank bigint, rep_id bigint, name text, score numeric, kpis bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
BEGIN
    IF scorecard IS NULL OR period IS NULL OR at IS NULL THEN
        RAISE EXCEPTION 'scorecard_ranking() needs a scorecard, a period and a moment' USING ERRCODE = '22004';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM salesperf.scorecard s WHERE s.name = scorecard_ranking.scorecard) THEN
        RAISE EXCEPTION 'unknown scorecard "%"', scorecard USING ERRCODE = '42704', HINT = 'See salesperf.scorecard.';
    END IF;
    IF period NOT IN ('day', 'week', 'month', 'quarter', 'year') THEN
        RAISE EXCEPTION 'unknown period "%"', period
            USING ERRCODE = '22023', HINT = 'Use day, week, month, quarter or year.';
    END IF;
    RETURN QUERY
    SELECT pg_catalog.rank() OVER (ORDER BY x.score DESC NULLS LAST), x.rep_id, r.name,
           pg_catalog.trim_scale(pg_catalog.round(x.score, 4)), x.kpis
      FROM (SELECT p.scope_id AS rep_id,
                   salesperf.kpi_score(CASE WHEN k.higher_is_better THEN p.actual ELSE p.target END,
                                       CASE WHEN k.higher_is_better THEN p.target ELSE p.actual END,
                                       s.weight, s.cap) AS score,
                   pg_catalog.count(*) AS kpis
              FROM salesperf.scorecard s
              JOIN salesperf.kpi k ON k.name = s.kpi
              JOIN salesperf.target_progress_at(scorecard_ranking.at, 'rep') p
                ON p.kpi = s.kpi AND p.period = scorecard_ranking.period
             WHERE s.name = scorecard_ranking.scorecard AND p.scope = 'rep'
             GROUP BY p.scope_id) x
      JOIN salesperf.rep r ON r.rep_id = x.rep_id AND r.active
     WHERE x.score IS NOT NULL
     ORDER BY x.score DESC, x.rep_id;
END
$$;
COMMENT ON FUNCTION salesperf.scorecard_ranking(text, text, timestamptz) IS
  'Active reps ranked on a scorecard for the period containing `at`: kpi_score of each KPI''s actual against the rep''s own target (target / actual where lower is better), weighted and capped; reps without targets are not ranked.';
-- Badges (SPEC §8): earned by crossing a KPI threshold in a period, or as a
-- contest prize.  Awards are history: never revoked, never given twice for
-- the same period or contest.

CREATE TABLE salesperf.badge (
    badge_id    bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (pg_catalog.btrim(name) <> ''),
    description text,
    tier        text
);
COMMENT ON TABLE salesperf.badge IS 'Badges a rep can earn: by a badge rule (a KPI threshold crossed in a period) or as a contest prize.';
COMMENT ON COLUMN salesperf.badge.badge_id IS 'Badge id.';
COMMENT ON COLUMN salesperf.badge.name IS 'Unique name, as shown (e.g. Gold, Call champion).';
COMMENT ON COLUMN salesperf.badge.description IS 'What the badge is for.';
COMMENT ON COLUMN salesperf.badge.tier IS 'Free label ordering badges for display (e.g. bronze, silver, gold).';
SELECT pg_catalog.pg_extension_config_dump('salesperf.badge', '');
SELECT pg_catalog.pg_extension_config_dump('salesperf.badge_badge_id_seq', '');

CREATE TABLE salesperf.badge_rule (
    rule_id   bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    badge     text NOT NULL REFERENCES salesperf.badge (name) ON UPDATE CASCADE,
    metric    text NOT NULL REFERENCES salesperf.kpi (name),
    threshold numeric NOT NULL CHECK (threshold > '-Infinity' AND threshold < 'Infinity'),
    period    text NOT NULL CHECK (period IN ('day', 'week', 'month', 'quarter', 'year', 'all')),
    UNIQUE (badge, metric, period, threshold)
);
COMMENT ON TABLE salesperf.badge_rule IS
  'A badge earned by a rep the moment its metric reaches threshold in a period (at most once per rep and period).';
COMMENT ON COLUMN salesperf.badge_rule.badge IS 'Badge earned (salesperf.badge.name).';
COMMENT ON COLUMN salesperf.badge_rule.metric IS 'KPI measured for the rep (points is one).';
COMMENT ON COLUMN salesperf.badge_rule.threshold IS 'Value the rep''s metric must reach (>=) within the period.';
COMMENT ON COLUMN salesperf.badge_rule.period IS 'day, week, month, quarter, year or all: the badge can be earned once per such period.';
SELECT pg_catalog.pg_extension_config_dump('salesperf.badge_rule', '');
SELECT pg_catalog.pg_extension_config_dump('salesperf.badge_rule_rule_id_seq', '');

CREATE TABLE salesperf.badge_award (
    award_id     bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    badge_id     bigint NOT NULL REFERENCES salesperf.badge (badge_id),
    rep_id       bigint NOT NULL REFERENCES salesperf.rep (rep_id),
    awarded_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    period_start timestamptz,
    contest_id   bigint,
    reason       text
);
-- Once per rep, badge and period (rules) or contest (prizes).
CREATE UNIQUE INDEX badge_award_period_key ON salesperf.badge_award (badge_id, rep_id, period_start)
    WHERE contest_id IS NULL;
CREATE UNIQUE INDEX badge_award_contest_key ON salesperf.badge_award (badge_id, rep_id, contest_id)
    WHERE contest_id IS NOT NULL;
CREATE INDEX badge_award_rep_idx ON salesperf.badge_award (rep_id, awarded_at);
COMMENT ON TABLE salesperf.badge_award IS
  'History of badges awarded (by badge rules and contests). Written only by salesperf; never revoked.';
COMMENT ON COLUMN salesperf.badge_award.awarded_at IS 'When the award was made.';
COMMENT ON COLUMN salesperf.badge_award.period_start IS 'Start of the period a badge rule award is for (NULL for contest prizes).';
COMMENT ON COLUMN salesperf.badge_award.contest_id IS 'Contest whose prize this is (NULL for badge rule awards).';
COMMENT ON COLUMN salesperf.badge_award.reason IS 'Why, in words (rule and value reached, or contest and rank).';
-- History, not configuration, but it cannot be rebuilt from the ledger
-- (awards are never revoked): pg_dump carries it.
SELECT pg_catalog.pg_extension_config_dump('salesperf.badge_award', '');
SELECT pg_catalog.pg_extension_config_dump('salesperf.badge_award_award_id_seq', '');

-- Rules are checked with errors that name the bad value.
CREATE FUNCTION salesperf.badge_rule_check()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW.badge IS NULL OR NEW.metric IS NULL OR NEW.threshold IS NULL OR NEW.period IS NULL THEN
        RAISE EXCEPTION 'a badge rule needs a badge, a metric, a threshold and a period' USING ERRCODE = '22004';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM salesperf.badge b WHERE b.name = NEW.badge) THEN
        RAISE EXCEPTION 'unknown badge "%"', NEW.badge USING ERRCODE = '42704', HINT = 'See salesperf.badge.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM salesperf.kpi k WHERE k.name = NEW.metric) THEN
        RAISE EXCEPTION 'unknown metric "%"', NEW.metric
            USING ERRCODE = '42704', HINT = 'Use points or a KPI name from salesperf.kpi.';
    END IF;
    IF NEW.period NOT IN ('day', 'week', 'month', 'quarter', 'year', 'all') THEN
        RAISE EXCEPTION 'unknown period "%"', NEW.period
            USING ERRCODE = '22023', HINT = 'Use day, week, month, quarter, year or all.';
    END IF;
    IF NEW.threshold = 'NaN' OR NEW.threshold IN ('Infinity', '-Infinity') THEN
        RAISE EXCEPTION 'badge threshold must be finite, not %', NEW.threshold USING ERRCODE = '22003';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER badge_rule_check BEFORE INSERT OR UPDATE ON salesperf.badge_rule
    FOR EACH ROW EXECUTE FUNCTION salesperf.badge_rule_check();

-- Make the badge-rule awards given as parallel arrays (rule, rep, period
-- start, value reached) that the reps do not hold yet, and announce each
-- with NOTIFY salesperf (delivered at commit).
CREATE FUNCTION salesperf.grant_badges(rule_ids bigint[], rep_ids bigint[], starts timestamptz[],
                                       reached numeric[])
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    awarded integer;
BEGIN
    WITH earned AS (
        INSERT INTO salesperf.badge_award (badge_id, rep_id, awarded_at, period_start, reason)
        SELECT g.badge_id, x.rep_id, pg_catalog.now(), x.ps,
               pg_catalog.format('%s reached %s (threshold %s) %s',
                                 r.metric, pg_catalog.trim_scale(x.value), pg_catalog.trim_scale(r.threshold),
                                 CASE WHEN r.period = 'all' THEN 'all time'
                                      ELSE pg_catalog.format('in the %s of %s', r.period,
                                             pg_catalog.to_char(salesperf.local_day(x.ps, st.time_zone), 'YYYY-MM-DD'))
                                 END)
          FROM unnest(rule_ids, rep_ids, starts, reached) AS x(rule_id, rep_id, ps, value)
          JOIN salesperf.badge_rule r ON r.rule_id = x.rule_id
          JOIN salesperf.badge g ON g.name = r.badge
         CROSS JOIN salesperf.settings st
         ORDER BY g.badge_id, x.rep_id, x.ps
        ON CONFLICT (badge_id, rep_id, period_start) WHERE contest_id IS NULL DO NOTHING
        RETURNING badge_award.award_id, badge_award.badge_id, badge_award.rep_id, badge_award.period_start,
                  badge_award.reason)
    SELECT pg_catalog.count(pg_catalog.pg_notify('salesperf', pg_catalog.json_build_object(
               'event', 'badge_awarded', 'award_id', e.award_id, 'badge_id', e.badge_id, 'badge', g.name,
               'rep_id', e.rep_id, 'rep', rp.name, 'period_start', e.period_start, 'reason', e.reason)::text))
      INTO awarded
      FROM earned e
      JOIN salesperf.badge g ON g.badge_id = e.badge_id
      JOIN salesperf.rep rp ON rp.rep_id = e.rep_id;
    RETURN awarded;
END
$$;
COMMENT ON FUNCTION salesperf.grant_badges(bigint[], bigint[], timestamptz[], numeric[]) IS
  'Internal: make the given badge-rule awards (rule, rep, period start, value reached) not held yet and NOTIFY salesperf for each.';

-- Award the badges that the given (rep, local day) pairs have earned: for
-- every badge rule, the rule's period holding each day, and the rep's value
-- of the rule's metric over that period (from the counters, by the one rule
-- kpi_contribution), an award when the value reaches the threshold and the
-- rep has none for that badge and period yet.  rep_ids NULL: every rep and
-- period in the counters, in one grouped pass (what a new rule and
-- recompute() need); rule_ids limits the rules.  Awards are never revoked:
-- a value that falls back under the threshold keeps its award, and crossing
-- it again in the same period awards nothing more.
CREATE FUNCTION salesperf.award_badges(rep_ids bigint[], days date[], rule_ids bigint[] DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    e_rules  bigint[];
    e_reps   bigint[];
    e_starts timestamptz[];
    e_values numeric[];
BEGIN
    IF NOT EXISTS (SELECT 1 FROM salesperf.badge_rule r WHERE rule_ids IS NULL OR r.rule_id = ANY (rule_ids)) THEN
        RETURN 0;
    END IF;
    IF rep_ids IS NULL THEN
        -- Every rep and period: counters grouped by the rule's period (the
        -- period of each distinct day computed once).
        SELECT pg_catalog.array_agg(x.rule_id), pg_catalog.array_agg(x.rep_id),
               pg_catalog.array_agg(x.ps), pg_catalog.array_agg(x.value)
          INTO e_rules, e_reps, e_starts, e_values
          FROM (SELECT pm.rule_id, c.rep_id, pm.ps,
                       CASE WHEN q.den_measure IS NULL THEN COALESCE(sum(v.num), 0)
                            ELSE sum(v.num) / NULLIF(sum(v.den), 0) END AS value
                  FROM (SELECT r.rule_id, r.metric, d.day,
                               salesperf.calendar_start(salesperf.local_day_start(d.day, s.time_zone), r.period,
                                                        s.time_zone, s.week_start, s.fiscal_year_start_month,
                                                        s.calendar) AS ps
                          FROM (SELECT DISTINCT c.day FROM salesperf.kpi_counter c) d
                         CROSS JOIN salesperf.settings s
                          JOIN salesperf.badge_rule r ON rule_ids IS NULL OR r.rule_id = ANY (rule_ids)) pm
                  JOIN salesperf.kpi q ON q.name = pm.metric
                  JOIN salesperf.kpi_counter c ON c.day = pm.day
                 CROSS JOIN LATERAL salesperf.kpi_contribution(q.num_kind, q.num_measure, q.den_kind, q.den_measure,
                                                               c.kind, c.activities, c.amount, c.points,
                                                               c.last_at, c.last_amount_at, c.last_point_at) v
                 WHERE v.num IS NOT NULL
                   AND (q.num_kind IS NULL OR c.kind = q.num_kind
                        OR (q.den_measure IS NOT NULL AND (q.den_kind IS NULL OR c.kind = q.den_kind)))
                 GROUP BY pm.rule_id, c.rep_id, pm.ps, q.den_measure) x
          JOIN salesperf.badge_rule r ON r.rule_id = x.rule_id
         WHERE x.value >= r.threshold;
    ELSE
        -- A few (rep, day) pairs: each rule's period around each day, read
        -- by index from the rep's counters.
        WITH s AS (SELECT * FROM salesperf.settings),
        keys AS (
            SELECT DISTINCT r.rule_id, k.rep_id,
                   salesperf.calendar_start(salesperf.local_day_start(k.day, s.time_zone), r.period, s.time_zone,
                                            s.week_start, s.fiscal_year_start_month, s.calendar) AS ps
              FROM unnest(rep_ids, days) AS k(rep_id, day) CROSS JOIN s
              JOIN salesperf.badge_rule r ON rule_ids IS NULL OR r.rule_id = ANY (rule_ids)),
        bounded AS (
            SELECT k.*, salesperf.local_day(k.ps, s.time_zone) AS d0,
                   salesperf.local_day(salesperf.calendar_end(k.ps, r.period, s.time_zone, s.week_start,
                                                              s.fiscal_year_start_month, s.calendar), s.time_zone) AS d1
              FROM keys k JOIN salesperf.badge_rule r ON r.rule_id = k.rule_id CROSS JOIN s),
        valued AS (
            -- One index probe per (rule, rep, period): a join on rep_id
            -- alone would pair every key of a rep with every counter row
            -- of that rep before the day range cut them down.
            SELECT b.rule_id, b.rep_id, b.ps,
                   CASE WHEN q.den_measure IS NULL THEN COALESCE(t.num, 0)
                        ELSE t.num / NULLIF(t.den, 0) END AS value
              FROM bounded b
              JOIN salesperf.badge_rule r ON r.rule_id = b.rule_id
              JOIN salesperf.kpi q ON q.name = r.metric
             CROSS JOIN LATERAL (
                   SELECT sum(v.num) AS num, sum(v.den) AS den
                     FROM salesperf.kpi_counter c
                    CROSS JOIN LATERAL salesperf.kpi_contribution(q.num_kind, q.num_measure, q.den_kind, q.den_measure,
                                                                  c.kind, c.activities, c.amount, c.points,
                                                                  c.last_at, c.last_amount_at, c.last_point_at) v
                    WHERE c.rep_id = b.rep_id AND c.day >= b.d0 AND c.day < b.d1 AND v.num IS NOT NULL
                      -- Only the kinds the metric reads (kpi_contribution
                      -- gives the others nothing): skipped before the call.
                      AND (q.num_kind IS NULL OR c.kind = q.num_kind
                           OR (q.den_measure IS NOT NULL AND (q.den_kind IS NULL OR c.kind = q.den_kind)))) t
             WHERE t.num IS NOT NULL)           -- as before: no counter of the metric, no value
        SELECT pg_catalog.array_agg(x.rule_id), pg_catalog.array_agg(x.rep_id),
               pg_catalog.array_agg(x.ps), pg_catalog.array_agg(x.value)
          INTO e_rules, e_reps, e_starts, e_values
          FROM valued x JOIN salesperf.badge_rule r ON r.rule_id = x.rule_id
         WHERE x.value >= r.threshold;
    END IF;
    IF e_rules IS NULL THEN
        RETURN 0;
    END IF;
    RETURN salesperf.grant_badges(e_rules, e_reps, e_starts, e_values);
END
$$;
COMMENT ON FUNCTION salesperf.award_badges(bigint[], date[], bigint[]) IS
  'Internal: award the badge-rule badges the given (rep, local day) pairs have earned (NULL: every rep and period in the counters) and NOTIFY salesperf for each; never revokes.';

-- A new or edited rule awards what the counters already show earned.
CREATE FUNCTION salesperf.badge_rule_changed()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM salesperf.lock_ledger();
    PERFORM salesperf.award_badges(NULL, NULL, pg_catalog.array_agg(n.rule_id)) FROM badge_rule_new n;
    RETURN NULL;
END
$$;
CREATE TRIGGER badge_rule_inserted AFTER INSERT ON salesperf.badge_rule
    REFERENCING NEW TABLE AS badge_rule_new
    FOR EACH STATEMENT EXECUTE FUNCTION salesperf.badge_rule_changed();
CREATE TRIGGER badge_rule_updated AFTER UPDATE ON salesperf.badge_rule
    REFERENCING NEW TABLE AS badge_rule_new
    FOR EACH STATEMENT EXECUTE FUNCTION salesperf.badge_rule_changed();
-- Contests, rewards and the achievement board (SPEC §8, second half).
--
-- A contest ranks reps (or units) on a KPI over a window [starts_at,
-- ends_at).  Its live standings are computed when read, never maintained on
-- the write path: the whole local days inside the window come from the KPI
-- counters, the partial first and last days (when the window does not start
-- or end at a local midnight) from the ledger rows of those days only, so
-- exactly the activities with starts_at <= occurred_at < ends_at count.
-- finalize_contests() freezes an ended contest once: results, badges, bonus
-- points (as 'bonus' activities) and reward grants.

-- ---------------------------------------------------------------------------
-- Rewards: what a contest (or a manager, by hand) can give.

CREATE TABLE salesperf.reward (
    reward_id   bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (pg_catalog.btrim(name) <> ''),
    kind        text NOT NULL CHECK (kind IN ('cash', 'gift', 'title', 'training', 'other')),
    value       numeric NOT NULL DEFAULT 0 CHECK (value >= 0 AND value < 'Infinity'),
    description text
);
COMMENT ON TABLE salesperf.reward IS 'Rewards a rep can be granted: as a contest prize or by hand (salesperf.grant_reward).';
COMMENT ON COLUMN salesperf.reward.reward_id IS 'Reward id.';
COMMENT ON COLUMN salesperf.reward.name IS 'Unique name, as shown (e.g. Team dinner).';
COMMENT ON COLUMN salesperf.reward.kind IS 'cash, gift, title, training or other.';
COMMENT ON COLUMN salesperf.reward.value IS 'What the reward is worth, in the settings'' currency (0 or more); classes rewards in salesperf.reward_quadrant.';
COMMENT ON COLUMN salesperf.reward.description IS 'What the reward is, in words.';
SELECT pg_catalog.pg_extension_config_dump('salesperf.reward', '');
SELECT pg_catalog.pg_extension_config_dump('salesperf.reward_reward_id_seq', '');

-- ---------------------------------------------------------------------------
-- Contests.

CREATE TABLE salesperf.contest (
    contest_id   bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name         text NOT NULL UNIQUE CHECK (pg_catalog.btrim(name) <> ''),
    metric       text NOT NULL REFERENCES salesperf.kpi (name),
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL,
    participant  text NOT NULL DEFAULT 'rep' CHECK (participant IN ('rep', 'unit')),
    unit_scope   bigint REFERENCES salesperf.unit (unit_id),
    unit_kind    text,
    prizes       jsonb NOT NULL DEFAULT '[]',
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    finalized_at timestamptz,
    CONSTRAINT contest_window CHECK (ends_at > starts_at),
    CONSTRAINT contest_unit_kind CHECK ((participant = 'unit') = (unit_kind IS NOT NULL)),
    CONSTRAINT contest_prizes_array CHECK (pg_catalog.jsonb_typeof(prizes) = 'array')
);
CREATE INDEX contest_open_idx ON salesperf.contest (ends_at) WHERE finalized_at IS NULL;
COMMENT ON TABLE salesperf.contest IS
  'Contests: reps (or units) ranked on a KPI over [starts_at, ends_at), with prizes by rank. Create with salesperf.create_contest(); salesperf.finalize_contests() freezes them.';
COMMENT ON COLUMN salesperf.contest.contest_id IS 'Contest id.';
COMMENT ON COLUMN salesperf.contest.name IS 'Unique name, as shown.';
COMMENT ON COLUMN salesperf.contest.metric IS 'KPI ranked on (points is a KPI too).';
COMMENT ON COLUMN salesperf.contest.starts_at IS 'First moment that counts (inclusive).';
COMMENT ON COLUMN salesperf.contest.ends_at IS 'End of the window (exclusive): only activities with starts_at <= occurred_at < ends_at count.';
COMMENT ON COLUMN salesperf.contest.participant IS 'rep, or unit (units of unit_kind under unit_scope, each scoring its subtree by today''s org chart).';
COMMENT ON COLUMN salesperf.contest.unit_scope IS 'Only activities credited to this unit''s subtree count, and only its members (or units) take part (NULL: whole company).';
COMMENT ON COLUMN salesperf.contest.unit_kind IS 'Kind of unit that competes in a unit contest (NULL for rep contests).';
COMMENT ON COLUMN salesperf.contest.prizes IS
  'Prizes by rank: [{"rank_from":1,"rank_to":1,"badge":"Gold","bonus_points":500,"reward":"Team dinner"}]; ties share a prize.';
COMMENT ON COLUMN salesperf.contest.created_at IS 'When the contest was created.';
COMMENT ON COLUMN salesperf.contest.finalized_at IS 'When salesperf.finalize_contests() froze the results (NULL: still live).';
SELECT pg_catalog.pg_extension_config_dump('salesperf.contest', '');
SELECT pg_catalog.pg_extension_config_dump('salesperf.contest_contest_id_seq', '');

-- The frozen results.  Derived, but not rebuildable: later back-dated
-- activities do not change them (salesperf.contest_drift reports them), so
-- pg_dump carries the table.
CREATE TABLE salesperf.contest_result (
    contest_id     bigint NOT NULL REFERENCES salesperf.contest (contest_id),
    participant_id bigint NOT NULL,
    rank           bigint NOT NULL,
    score          numeric,
    name           text NOT NULL,
    reached_at     timestamptz,
    PRIMARY KEY (contest_id, participant_id)
);
CREATE INDEX contest_result_participant_idx ON salesperf.contest_result (participant_id, rank);
COMMENT ON TABLE salesperf.contest_result IS
  'Frozen results of finalized contests, written once by salesperf.finalize_contests(); never by a role''s DML.';
COMMENT ON COLUMN salesperf.contest_result.contest_id IS 'Contest.';
COMMENT ON COLUMN salesperf.contest_result.participant_id IS 'Rep id (rep contests) or unit id (unit contests).';
COMMENT ON COLUMN salesperf.contest_result.rank IS 'Competition rank (1, 2, 2, 4) when the contest was finalized.';
COMMENT ON COLUMN salesperf.contest_result.score IS 'Exact score when finalized (NULL: an avg or ratio with nothing to divide).';
COMMENT ON COLUMN salesperf.contest_result.name IS 'Participant''s name when finalized.';
COMMENT ON COLUMN salesperf.contest_result.reached_at IS 'occurred_at of the last activity that changed the score (NULL: recorded nothing that counts; such a participant wins no prize).';
SELECT pg_catalog.pg_extension_config_dump('salesperf.contest_result', '');

CREATE TABLE salesperf.reward_grant (
    grant_id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    reward_id         bigint NOT NULL REFERENCES salesperf.reward (reward_id),
    rep_id            bigint NOT NULL REFERENCES salesperf.rep (rep_id),
    status            text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'approved', 'paid', 'cancelled')),
    granted_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    contest_id        bigint REFERENCES salesperf.contest (contest_id),
    reason            text,
    status_changed_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
-- A contest grants a reward once per rep.
CREATE UNIQUE INDEX reward_grant_contest_key ON salesperf.reward_grant (contest_id, reward_id, rep_id)
    WHERE contest_id IS NOT NULL;
CREATE INDEX reward_grant_rep_idx ON salesperf.reward_grant (rep_id, granted_at);
CREATE INDEX reward_grant_reward_idx ON salesperf.reward_grant (reward_id);
COMMENT ON TABLE salesperf.reward_grant IS
  'Rewards granted to reps (by contests or salesperf.grant_reward), moved along pending -> approved -> paid (or cancelled) by salesperf.set_grant_status(). History: pg_dump carries it.';
COMMENT ON COLUMN salesperf.reward_grant.grant_id IS 'Grant id.';
COMMENT ON COLUMN salesperf.reward_grant.reward_id IS 'Reward granted.';
COMMENT ON COLUMN salesperf.reward_grant.rep_id IS 'Rep it is granted to.';
COMMENT ON COLUMN salesperf.reward_grant.status IS 'pending, approved, paid or cancelled.';
COMMENT ON COLUMN salesperf.reward_grant.granted_at IS 'When it was granted.';
COMMENT ON COLUMN salesperf.reward_grant.contest_id IS 'Contest whose prize it is (NULL: granted by hand).';
COMMENT ON COLUMN salesperf.reward_grant.reason IS 'Why, in words (contest and rank, or the reason given).';
COMMENT ON COLUMN salesperf.reward_grant.status_changed_at IS 'When the status last changed.';
SELECT pg_catalog.pg_extension_config_dump('salesperf.reward_grant', '');
SELECT pg_catalog.pg_extension_config_dump('salesperf.reward_grant_grant_id_seq', '');

-- ---------------------------------------------------------------------------
-- Validation of a contest definition (every write, through create_contest()
-- or a restore's DML while triggers run).

CREATE FUNCTION salesperf.contest_check()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p     jsonb;
    i     integer := 0;
    key   text;
    rf    numeric;
    rt    numeric;
    bonus numeric;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.finalized_at IS NOT NULL THEN
            RAISE EXCEPTION 'contest "%" is finalized and cannot change', OLD.name
                USING ERRCODE = '55000', HINT = 'Its results are frozen; see salesperf.contest_drift for later changes.';
        END IF;
        IF (NEW.contest_id, NEW.metric, NEW.starts_at, NEW.ends_at, NEW.participant, NEW.unit_scope,
            NEW.unit_kind, NEW.prizes)
           IS NOT DISTINCT FROM
           (OLD.contest_id, OLD.metric, OLD.starts_at, OLD.ends_at, OLD.participant, OLD.unit_scope,
            OLD.unit_kind, OLD.prizes) THEN
            RETURN NEW;                        -- finalization or a rename
        END IF;
    END IF;
    IF NEW.name IS NULL OR NEW.metric IS NULL OR NEW.starts_at IS NULL OR NEW.ends_at IS NULL
       OR NEW.participant IS NULL OR NEW.prizes IS NULL THEN
        RAISE EXCEPTION 'a contest needs a name, a metric, starts_at, ends_at, a participant and prizes'
            USING ERRCODE = '22004';
    END IF;
    IF pg_catalog.btrim(NEW.name) = '' THEN
        RAISE EXCEPTION 'contest name must not be empty' USING ERRCODE = '22023';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM salesperf.kpi k WHERE k.name = NEW.metric) THEN
        RAISE EXCEPTION 'unknown metric "%"', NEW.metric
            USING ERRCODE = '42704', HINT = 'Use points or a KPI name from salesperf.kpi.';
    END IF;
    IF NOT pg_catalog.isfinite(NEW.starts_at) OR NOT pg_catalog.isfinite(NEW.ends_at)
       OR NEW.ends_at <= NEW.starts_at THEN
        RAISE EXCEPTION 'contest window is empty: ends_at % is not after starts_at %', NEW.ends_at, NEW.starts_at
            USING ERRCODE = '22023', HINT = 'Only activities with starts_at <= occurred_at < ends_at count.';
    END IF;
    IF NEW.participant NOT IN ('rep', 'unit') THEN
        RAISE EXCEPTION 'unknown participant "%"', NEW.participant USING ERRCODE = '22023', HINT = 'Use rep or unit.';
    END IF;
    IF NEW.unit_scope IS NOT NULL AND NOT EXISTS (SELECT 1 FROM salesperf.unit u WHERE u.unit_id = NEW.unit_scope) THEN
        RAISE EXCEPTION 'unknown unit %', NEW.unit_scope USING ERRCODE = '42704', HINT = 'See salesperf.unit.';
    END IF;
    IF NEW.participant = 'unit' AND NEW.unit_kind IS NULL THEN
        RAISE EXCEPTION 'a unit contest needs a unit_kind' USING ERRCODE = '22004',
            HINT = 'Name the kind of unit that competes, e.g. unit_kind => ''team''.';
    END IF;
    IF NEW.participant = 'rep' AND NEW.unit_kind IS NOT NULL THEN
        RAISE EXCEPTION 'unit_kind applies to unit contests only' USING ERRCODE = '22023';
    END IF;
    IF NEW.participant = 'unit' AND NOT EXISTS (
           SELECT 1 FROM salesperf.unit u
            WHERE u.kind = NEW.unit_kind
              AND (NEW.unit_scope IS NULL OR EXISTS (
                   SELECT 1 FROM salesperf.unit_tree t
                    WHERE t.ancestor_id = NEW.unit_scope AND t.descendant_id = u.unit_id))) THEN
        RAISE EXCEPTION 'no unit of kind "%" to compete%', NEW.unit_kind,
              CASE WHEN NEW.unit_scope IS NULL THEN '' ELSE pg_catalog.format(' under unit %s', NEW.unit_scope) END
            USING ERRCODE = '22023', HINT = 'See salesperf.unit.kind for the kinds in use.';
    END IF;

    -- Prizes: an array of objects {rank_from, rank_to, badge, bonus_points, reward}.
    IF pg_catalog.jsonb_typeof(NEW.prizes) <> 'array' THEN
        RAISE EXCEPTION 'prizes must be a JSON array, not %', NEW.prizes USING ERRCODE = '22023',
            HINT = 'E.g. [{"rank_from":1,"rank_to":1,"badge":"Gold","bonus_points":500}].';
    END IF;
    FOR p IN SELECT e FROM pg_catalog.jsonb_array_elements(NEW.prizes) e LOOP
        i := i + 1;
        IF pg_catalog.jsonb_typeof(p) <> 'object' THEN
            RAISE EXCEPTION 'prize % must be a JSON object, not %', i, p USING ERRCODE = '22023';
        END IF;
        SELECT k INTO key FROM pg_catalog.jsonb_object_keys(p) k
         WHERE k NOT IN ('rank_from', 'rank_to', 'badge', 'bonus_points', 'reward') LIMIT 1;
        IF key IS NOT NULL THEN
            RAISE EXCEPTION 'prize % has an unknown key "%"', i, key USING ERRCODE = '22023',
                HINT = 'A prize has rank_from, rank_to, badge, bonus_points and reward.';
        END IF;
        IF pg_catalog.jsonb_typeof(p -> 'rank_from') IS DISTINCT FROM 'number'
           OR pg_catalog.jsonb_typeof(COALESCE(p -> 'rank_to', p -> 'rank_from')) <> 'number' THEN
            RAISE EXCEPTION 'prize % needs a numeric rank_from (and rank_to): %', i, p USING ERRCODE = '22023';
        END IF;
        rf := (p ->> 'rank_from')::numeric;
        rt := COALESCE(p ->> 'rank_to', p ->> 'rank_from')::numeric;
        IF rf <> pg_catalog.trunc(rf) OR rt <> pg_catalog.trunc(rt) OR rf < 1 OR rt < rf OR rt > 2147483647 THEN
            RAISE EXCEPTION 'prize % ranks must be whole numbers with 1 <= rank_from <= rank_to, not % to %', i, rf, rt
                USING ERRCODE = '22023';
        END IF;
        IF p ? 'bonus_points' THEN
            IF pg_catalog.jsonb_typeof(p -> 'bonus_points') <> 'number' THEN
                RAISE EXCEPTION 'prize % bonus_points must be a number, not %', i, p -> 'bonus_points'
                    USING ERRCODE = '22023';
            END IF;
            bonus := (p ->> 'bonus_points')::numeric;
            IF bonus < 0 THEN
                RAISE EXCEPTION 'prize % bonus_points must not be negative, not %', i, bonus USING ERRCODE = '22023';
            END IF;
        END IF;
        IF p ? 'badge' THEN
            IF pg_catalog.jsonb_typeof(p -> 'badge') <> 'string' THEN
                RAISE EXCEPTION 'prize % badge must be a badge name, not %', i, p -> 'badge' USING ERRCODE = '22023';
            END IF;
            IF NOT EXISTS (SELECT 1 FROM salesperf.badge b WHERE b.name = p ->> 'badge') THEN
                RAISE EXCEPTION 'unknown badge "%"', p ->> 'badge' USING ERRCODE = '42704', HINT = 'See salesperf.badge.';
            END IF;
        END IF;
        IF p ? 'reward' THEN
            IF pg_catalog.jsonb_typeof(p -> 'reward') <> 'string' THEN
                RAISE EXCEPTION 'prize % reward must be a reward name, not %', i, p -> 'reward' USING ERRCODE = '22023';
            END IF;
            IF NOT EXISTS (SELECT 1 FROM salesperf.reward r WHERE r.name = p ->> 'reward') THEN
                RAISE EXCEPTION 'unknown reward "%"', p ->> 'reward' USING ERRCODE = '42704', HINT = 'See salesperf.reward.';
            END IF;
        END IF;
    END LOOP;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION salesperf.contest_check() IS
  'Internal: validate a contest (metric, window, participants, prizes naming existing badges and rewards); a finalized contest cannot change.';
CREATE TRIGGER contest_check BEFORE INSERT OR UPDATE ON salesperf.contest
    FOR EACH ROW EXECUTE FUNCTION salesperf.contest_check();
CREATE TRIGGER contest_key_guard BEFORE UPDATE OF contest_id ON salesperf.contest
    FOR EACH ROW WHEN (OLD.contest_id <> NEW.contest_id) EXECUTE FUNCTION salesperf.guard_key_change();

CREATE FUNCTION salesperf.create_contest(name text, metric text, starts_at timestamptz, ends_at timestamptz,
                                         participant text DEFAULT 'rep', unit_scope bigint DEFAULT NULL,
                                         prizes jsonb DEFAULT '[]', unit_kind text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    id bigint;
BEGIN
    IF name IS NULL OR metric IS NULL OR starts_at IS NULL OR ends_at IS NULL OR participant IS NULL
       OR prizes IS NULL THEN
        RAISE EXCEPTION 'create_contest() needs a name, a metric, starts_at, ends_at, a participant and prizes'
            USING ERRCODE = '22004';
    END IF;
    IF EXISTS (SELECT 1 FROM salesperf.contest c WHERE c.name = create_contest.name) THEN
        RAISE EXCEPTION 'contest "%" already exists', name USING ERRCODE = '42710';
    END IF;
    -- contest_check validates everything else.
    INSERT INTO salesperf.contest (name, metric, starts_at, ends_at, participant, unit_scope, unit_kind, prizes)
    VALUES (create_contest.name, create_contest.metric, create_contest.starts_at, create_contest.ends_at,
            create_contest.participant, create_contest.unit_scope, create_contest.unit_kind, create_contest.prizes)
    RETURNING contest_id INTO id;
    RETURN id;
END
$$;
COMMENT ON FUNCTION salesperf.create_contest(text, text, timestamptz, timestamptz, text, bigint, jsonb, text) IS
  'Create a contest on a KPI over [starts_at, ends_at) for reps (or units of unit_kind under unit_scope), with prizes by rank (badge, bonus_points, reward). Returns its id.';

CREATE FUNCTION salesperf.contest_named(name text)
RETURNS salesperf.contest
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c salesperf.contest;
BEGIN
    IF name IS NULL THEN
        RAISE EXCEPTION 'contest name must not be NULL' USING ERRCODE = '22004';
    END IF;
    SELECT * INTO c FROM salesperf.contest x WHERE x.name = contest_named.name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown contest "%"', name USING ERRCODE = '42704', HINT = 'See salesperf.contest.';
    END IF;
    RETURN c;
END
$$;
COMMENT ON FUNCTION salesperf.contest_named(text) IS 'Internal: the contest of that name, or an error naming it.';

-- ---------------------------------------------------------------------------
-- Live standings.

-- What counts in a contest's window, per rep and unit (as of occurred_at):
-- whole local days from the counters, the partial first and last days from
-- the ledger rows of those days only.  Both go through kpi_contribution(),
-- a ledger row as a counter row of one activity.
CREATE FUNCTION salesperf.contest_contribution(contest_id bigint)
RETURNS TABLE (rep_id bigint, unit_id bigint, num numeric, den numeric, reached_at timestamptz)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    c     salesperf.contest;
    k     salesperf.kpi;
    tz    text := (SELECT s.time_zone FROM salesperf.settings s);
    d0    date;          -- local day of starts_at
    d1    date;          -- local day of ends_at
    f     date;          -- first whole day; whole days are [f, d1)
    p1_hi timestamptz;   -- the ledger covers [starts_at, p1_hi) and [p2_lo, ends_at)
    p2_lo timestamptz;
BEGIN
    SELECT * INTO c FROM salesperf.contest x WHERE x.contest_id = contest_contribution.contest_id;
    SELECT * INTO k FROM salesperf.kpi x WHERE x.name = c.metric;
    d0 := salesperf.local_day(c.starts_at, tz);
    d1 := salesperf.local_day(c.ends_at, tz);
    f := CASE WHEN salesperf.local_day_start(d0, tz) = c.starts_at THEN d0 ELSE d0 + 1 END;
    p1_hi := LEAST(c.ends_at, salesperf.local_day_start(f, tz));
    p2_lo := GREATEST(c.starts_at, p1_hi, salesperf.local_day_start(d1, tz));

    RETURN QUERY
    SELECT kc.rep_id, kc.unit_id, v.num, v.den, v.reached_at
      FROM salesperf.kpi_counter kc
     CROSS JOIN LATERAL salesperf.kpi_contribution(k.num_kind, k.num_measure, k.den_kind, k.den_measure,
                                                   kc.kind, kc.activities, kc.amount, kc.points,
                                                   kc.last_at, kc.last_amount_at, kc.last_point_at) v
     WHERE kc.day >= f AND kc.day < d1 AND v.num IS NOT NULL
    UNION ALL
    SELECT sa.rep_id, sa.unit_id, v.num, v.den, v.reached_at
      FROM (-- reps with anything on a partial day, found in the counters
            SELECT DISTINCT kc.rep_id
              FROM salesperf.kpi_counter kc
             WHERE (kc.day = d0 AND c.starts_at < p1_hi) OR (kc.day = d1 AND p2_lo < c.ends_at)) r
      JOIN salesperf.scored_activity sa
        ON sa.rep_id = r.rep_id
       AND ((sa.occurred_at >= c.starts_at AND sa.occurred_at < p1_hi)
            OR (sa.occurred_at >= p2_lo AND sa.occurred_at < c.ends_at))
     CROSS JOIN LATERAL salesperf.kpi_contribution(k.num_kind, k.num_measure, k.den_kind, k.den_measure,
                                                   sa.kind, 1::bigint, sa.amount, sa.points, sa.occurred_at,
                                                   CASE WHEN sa.amount <> 0 THEN sa.occurred_at END,
                                                   CASE WHEN sa.points <> 0 THEN sa.occurred_at END) v
     WHERE v.num IS NOT NULL;
END
$$;
COMMENT ON FUNCTION salesperf.contest_contribution(bigint) IS
  'Internal: what counts in a contest''s window per rep and unit: whole local days from the KPI counters, partial first and last days from their ledger rows (starts_at <= occurred_at < ends_at exactly).';

-- Every participant of a contest, ranked, computed now.  Participants are
-- the active reps who were members of the scope (any unit when unscoped)
-- during the window plus the active reps who scored, or the units of
-- unit_kind under unit_scope.  `frozen` ranks the frozen participants plus
-- the active scorers instead (what salesperf.contest_drift compares).
CREATE FUNCTION salesperf.contest_live(contest_id bigint, frozen boolean DEFAULT false)
RETURNS TABLE (rank bigint, participant_id bigint, name text, score numeric, reached_at timestamptz)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
  WITH c AS (
      SELECT c.*, k.higher_is_better, k.den_measure
        FROM salesperf.contest c JOIN salesperf.kpi k ON k.name = c.metric
       WHERE c.contest_id = contest_live.contest_id),
  units AS (                                 -- competing units (unit contests)
      SELECT u.unit_id, u.name
        FROM c JOIN salesperf.unit u ON u.kind = c.unit_kind
       WHERE c.participant = 'unit'
         AND (c.unit_scope IS NULL OR u.unit_id IN (
              SELECT t.descendant_id FROM salesperf.unit_tree t WHERE t.ancestor_id = c.unit_scope))),
  contrib AS (SELECT * FROM salesperf.contest_contribution(contest_live.contest_id)),
  credited AS (
      SELECT x.rep_id AS participant_id, x.num, x.den, x.reached_at
        FROM contrib x CROSS JOIN c
       WHERE c.participant = 'rep'
         AND (c.unit_scope IS NULL OR x.unit_id IN (
              SELECT t.descendant_id FROM salesperf.unit_tree t WHERE t.ancestor_id = c.unit_scope))
      UNION ALL
      SELECT u.unit_id, x.num, x.den, x.reached_at
        FROM contrib x
        JOIN salesperf.unit_tree t ON t.descendant_id = x.unit_id
        JOIN units u ON u.unit_id = t.ancestor_id),
  scored AS (
      SELECT cr.participant_id,
             CASE WHEN c.den_measure IS NULL THEN sum(cr.num)
                  ELSE sum(cr.num) / NULLIF(sum(cr.den), 0) END AS score,
             max(cr.reached_at) AS reached_at
        FROM credited cr CROSS JOIN c
       GROUP BY cr.participant_id, c.den_measure),
  candidates AS (
      SELECT s.participant_id FROM scored s CROSS JOIN c
       WHERE c.participant = 'unit' AND s.participant_id IN (SELECT u.unit_id FROM units u)
          OR c.participant = 'rep'
         AND EXISTS (SELECT 1 FROM salesperf.rep r WHERE r.rep_id = s.participant_id AND r.active)
      UNION
      SELECT m.rep_id
        FROM c JOIN salesperf.membership m ON m.during && pg_catalog.tstzrange(c.starts_at, c.ends_at, '[)')
        JOIN salesperf.rep r ON r.rep_id = m.rep_id AND r.active
       WHERE c.participant = 'rep' AND NOT frozen
         AND (c.unit_scope IS NULL OR m.unit_id IN (
              SELECT t.descendant_id FROM salesperf.unit_tree t WHERE t.ancestor_id = c.unit_scope))
      UNION
      SELECT u.unit_id FROM units u WHERE NOT frozen
      UNION
      SELECT cr.participant_id FROM salesperf.contest_result cr
       WHERE frozen AND cr.contest_id = contest_live.contest_id),
  named AS (
      SELECT p.participant_id, COALESCE(r.name, u.name) AS name,
             COALESCE(s.score, CASE WHEN c.den_measure IS NULL THEN 0 END) AS score,
             s.reached_at,
             CASE WHEN c.higher_is_better THEN 1 ELSE -1 END
               * COALESCE(s.score, CASE WHEN c.den_measure IS NULL THEN 0 END) AS sort_score
        FROM candidates p
       CROSS JOIN c
        LEFT JOIN scored s ON s.participant_id = p.participant_id
        LEFT JOIN salesperf.rep r ON c.participant = 'rep' AND r.rep_id = p.participant_id
        LEFT JOIN salesperf.unit u ON c.participant = 'unit' AND u.unit_id = p.participant_id
       WHERE r.rep_id IS NOT NULL OR u.unit_id IS NOT NULL)
  SELECT pg_catalog.rank() OVER (ORDER BY n.sort_score DESC NULLS LAST),
         n.participant_id, n.name, n.score, n.reached_at
    FROM named n
   ORDER BY n.sort_score DESC NULLS LAST, n.reached_at ASC NULLS FIRST, n.participant_id
$$;
COMMENT ON FUNCTION salesperf.contest_live(bigint, boolean) IS
  'Internal: a contest''s standings computed now (competition ranking, ties by who reached the score first, then id); frozen = among the frozen participants plus active scorers.';

CREATE FUNCTION salesperf.contest_standings(contest text)
RETURNS TABLE (rank bigint, participant_id bigint, name text, score numeric, reached_at timestamptz)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    c salesperf.contest := salesperf.contest_named(contest);
BEGIN
    IF c.finalized_at IS NOT NULL THEN
        RETURN QUERY
        SELECT r.rank, r.participant_id, r.name, salesperf.display_score(r.score, c.metric), r.reached_at
          FROM salesperf.contest_result r
         WHERE r.contest_id = c.contest_id
         ORDER BY r.rank, r.reached_at ASC NULLS FIRST, r.participant_id;
        RETURN;
    END IF;
    RETURN QUERY
    SELECT l.rank, l.participant_id, l.name, salesperf.display_score(l.score, c.metric), l.reached_at
      FROM salesperf.contest_live(c.contest_id) l;
END
$$;
COMMENT ON FUNCTION salesperf.contest_standings(text) IS
  'Standings of a contest: live (computed from counters, and the ledger rows of partial first and last days) until finalized, then the frozen results. Competition ranking; ties listed by who reached the score first, then id.';

-- ---------------------------------------------------------------------------
-- Finalization.

-- Who receives each prize of a finalized contest: every participant whose
-- frozen rank lies in [rank_from, rank_to] and who recorded something that
-- counts; in a unit contest, the active reps who were members of the unit's
-- subtree (today's tree) at the last moment of the window.
CREATE FUNCTION salesperf.contest_prize_recipients(contest_id bigint)
RETURNS TABLE (prize integer, participant_id bigint, rank bigint, rep_id bigint,
               badge text, bonus_points numeric, reward text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  WITH c AS (SELECT * FROM salesperf.contest c WHERE c.contest_id = contest_prize_recipients.contest_id),
  p AS (
      SELECT e.n::integer AS prize,
             (e.v ->> 'rank_from')::numeric AS rank_from,
             COALESCE(e.v ->> 'rank_to', e.v ->> 'rank_from')::numeric AS rank_to,
             e.v ->> 'badge' AS badge,
             COALESCE((e.v ->> 'bonus_points')::numeric, 0) AS bonus_points,
             e.v ->> 'reward' AS reward
        FROM c CROSS JOIN LATERAL pg_catalog.jsonb_array_elements(c.prizes) WITH ORDINALITY AS e(v, n))
  SELECT p.prize, r.participant_id, r.rank, who.rep_id, p.badge, p.bonus_points, p.reward
    FROM c
    JOIN salesperf.contest_result r ON r.contest_id = c.contest_id AND r.reached_at IS NOT NULL
    JOIN p ON r.rank BETWEEN p.rank_from AND p.rank_to
   CROSS JOIN LATERAL (
         SELECT r.participant_id AS rep_id WHERE c.participant = 'rep'
         UNION
         SELECT m.rep_id
           FROM salesperf.unit_tree t
           JOIN salesperf.membership m
             ON m.unit_id = t.descendant_id AND m.during @> (c.ends_at - interval '1 microsecond')
           JOIN salesperf.rep x ON x.rep_id = m.rep_id AND x.active
          WHERE c.participant = 'unit' AND t.ancestor_id = r.participant_id) who
$$;
COMMENT ON FUNCTION salesperf.contest_prize_recipients(bigint) IS
  'Internal: the reps receiving each prize of a finalized contest (ranks in [rank_from, rank_to] who scored; in unit contests the unit''s active members at the end of the window).';

CREATE FUNCTION salesperf.finalize_contests(at timestamptz DEFAULT pg_catalog.now())
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    c       salesperf.contest;
    n       integer := 0;
    winners jsonb;
    b       record;
BEGIN
    IF at IS NULL THEN
        RAISE EXCEPTION 'finalize_contests() needs a moment' USING ERRCODE = '22004';
    END IF;
    -- Each ended contest is frozen by exactly one transaction: a concurrent
    -- run skips the contests this one holds, and sees them finalized after.
    FOR c IN
        SELECT * FROM salesperf.contest x
         WHERE x.finalized_at IS NULL AND x.ends_at <= at
         ORDER BY x.ends_at, x.contest_id
           FOR UPDATE SKIP LOCKED
    LOOP
        INSERT INTO salesperf.contest_result (contest_id, participant_id, rank, score, name, reached_at)
        SELECT c.contest_id, l.participant_id, l.rank, l.score, l.name, l.reached_at
          FROM salesperf.contest_live(c.contest_id) l;

        INSERT INTO salesperf.badge_award (badge_id, rep_id, period_start, contest_id, reason)
        SELECT DISTINCT ON (bd.badge_id, pr.rep_id) bd.badge_id, pr.rep_id, NULL::timestamptz, c.contest_id,
               pg_catalog.format('contest %s rank %s', c.name, pr.rank)
          FROM salesperf.contest_prize_recipients(c.contest_id) pr
          JOIN salesperf.badge bd ON bd.name = pr.badge
         ORDER BY bd.badge_id, pr.rep_id, pr.rank
        ON CONFLICT (badge_id, rep_id, contest_id) WHERE contest_id IS NOT NULL DO NOTHING;

        INSERT INTO salesperf.reward_grant (reward_id, rep_id, contest_id, reason)
        SELECT DISTINCT ON (rw.reward_id, pr.rep_id) rw.reward_id, pr.rep_id, c.contest_id,
               pg_catalog.format('contest %s rank %s', c.name, pr.rank)
          FROM salesperf.contest_prize_recipients(c.contest_id) pr
          JOIN salesperf.reward rw ON rw.name = pr.reward
         ORDER BY rw.reward_id, pr.rep_id, pr.rank
        ON CONFLICT (contest_id, reward_id, rep_id) WHERE contest_id IS NOT NULL DO NOTHING;

        -- Bonus points are ledger rows, keyed so a retry never doubles them,
        -- dated at ends_at: outside the contest's own window.
        FOR b IN
            SELECT pr.rep_id, pr.participant_id, min(pr.rank) AS rank, sum(pr.bonus_points) AS points
              FROM salesperf.contest_prize_recipients(c.contest_id) pr
             GROUP BY pr.rep_id, pr.participant_id
            HAVING sum(pr.bonus_points) > 0
             ORDER BY pr.rep_id, pr.participant_id
        LOOP
            PERFORM salesperf.record(b.rep_id, 'bonus', b.points, c.ends_at, 'salesperf.contest',
                                     CASE WHEN c.participant = 'rep' THEN pg_catalog.format('%s:%s', c.contest_id, b.rep_id)
                                          ELSE pg_catalog.format('%s:%s:%s', c.contest_id, b.participant_id, b.rep_id) END,
                                     pg_catalog.jsonb_build_object('contest_id', c.contest_id, 'contest', c.name,
                                                                   'participant_id', b.participant_id, 'rank', b.rank));
        END LOOP;

        UPDATE salesperf.contest x SET finalized_at = pg_catalog.now() WHERE x.contest_id = c.contest_id;

        SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                   'participant_id', r.participant_id, 'name', r.name,
                   'score', salesperf.display_score(r.score, c.metric))
                   ORDER BY r.reached_at, r.participant_id), '[]')
          INTO winners
          FROM salesperf.contest_result r
         WHERE r.contest_id = c.contest_id AND r.rank = 1 AND r.reached_at IS NOT NULL;
        PERFORM pg_catalog.pg_notify('salesperf', pg_catalog.jsonb_build_object(
            'event', 'contest_finalized', 'contest_id', c.contest_id, 'contest', c.name,
            'winners', winners)::text);
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;
COMMENT ON FUNCTION salesperf.finalize_contests(timestamptz) IS
  'Freeze every contest that ended by `at` and is not finalized yet, once: results, badges, bonus points (bonus activities at ends_at), reward grants, and a contest_finalized NOTIFY. Returns how many it froze; running it again (or concurrently) changes nothing.';

-- Finalized contests whose standings, computed now, differ from the frozen
-- ones (a back-dated activity inside the window, a rep's unit changed
-- after): reported, never re-ranked.
CREATE VIEW salesperf.contest_drift AS
SELECT c.contest_id, c.name AS contest, d.participant_id, d.name,
       d.frozen_rank, d.frozen_score, d.live_rank, d.live_score
  FROM salesperf.contest c
 CROSS JOIN LATERAL (
       SELECT COALESCE(f.participant_id, l.participant_id) AS participant_id,
              COALESCE(f.name, l.name) AS name,
              f.rank AS frozen_rank, salesperf.display_score(f.score, c.metric) AS frozen_score,
              l.rank AS live_rank, salesperf.display_score(l.score, c.metric) AS live_score
         FROM (SELECT * FROM salesperf.contest_result r WHERE r.contest_id = c.contest_id) f
         FULL JOIN (SELECT * FROM salesperf.contest_live(c.contest_id, true)) l
           ON l.participant_id = f.participant_id
        WHERE (f.rank, f.score) IS DISTINCT FROM (l.rank, l.score)) d
 WHERE c.finalized_at IS NOT NULL;
COMMENT ON VIEW salesperf.contest_drift IS
  'Finalized contests whose standings computed now (among the frozen participants plus active scorers) differ from the frozen results, per participant. The frozen results stay as they are.';
COMMENT ON COLUMN salesperf.contest_drift.contest_id IS 'Contest id.';
COMMENT ON COLUMN salesperf.contest_drift.contest IS 'Contest name.';
COMMENT ON COLUMN salesperf.contest_drift.participant_id IS 'Rep (or unit) whose rank or score differs.';
COMMENT ON COLUMN salesperf.contest_drift.name IS 'Participant''s name.';
COMMENT ON COLUMN salesperf.contest_drift.frozen_rank IS 'Rank frozen at finalization (NULL: not a participant then).';
COMMENT ON COLUMN salesperf.contest_drift.frozen_score IS 'Score frozen at finalization, as boards show it (compared exactly).';
COMMENT ON COLUMN salesperf.contest_drift.live_rank IS 'Rank computed now.';
COMMENT ON COLUMN salesperf.contest_drift.live_score IS 'Score computed now, as boards show it.';

-- ---------------------------------------------------------------------------
-- Reward grants.

CREATE FUNCTION salesperf.grant_reward(reward text, rep_id bigint, reason text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    rid bigint;
    id  bigint;
BEGIN
    IF reward IS NULL OR rep_id IS NULL THEN
        RAISE EXCEPTION 'grant_reward() needs a reward and a rep_id' USING ERRCODE = '22004';
    END IF;
    SELECT r.reward_id INTO rid FROM salesperf.reward r WHERE r.name = grant_reward.reward;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown reward "%"', reward USING ERRCODE = '42704', HINT = 'See salesperf.reward.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM salesperf.rep r WHERE r.rep_id = grant_reward.rep_id) THEN
        RAISE EXCEPTION 'unknown rep %', rep_id USING ERRCODE = '42704', HINT = 'See salesperf.rep.';
    END IF;
    INSERT INTO salesperf.reward_grant (reward_id, rep_id, reason)
    VALUES (rid, grant_reward.rep_id, grant_reward.reason)
    RETURNING grant_id INTO id;
    RETURN id;
END
$$;
COMMENT ON FUNCTION salesperf.grant_reward(text, bigint, text) IS
  'Grant a reward to a rep by hand (status pending). Returns the grant id.';

CREATE FUNCTION salesperf.set_grant_status(grant_id bigint, status text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    old text;
BEGIN
    IF grant_id IS NULL OR status IS NULL THEN
        RAISE EXCEPTION 'set_grant_status() needs a grant_id and a status' USING ERRCODE = '22004';
    END IF;
    IF status NOT IN ('pending', 'approved', 'paid', 'cancelled') THEN
        RAISE EXCEPTION 'unknown grant status "%"', status
            USING ERRCODE = '22023', HINT = 'Use approved, paid or cancelled.';
    END IF;
    SELECT g.status INTO old FROM salesperf.reward_grant g WHERE g.grant_id = set_grant_status.grant_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown reward grant %', grant_id USING ERRCODE = '42704', HINT = 'See salesperf.reward_grant.';
    END IF;
    IF (old, status) NOT IN (('pending', 'approved'), ('approved', 'paid'),
                             ('pending', 'cancelled'), ('approved', 'cancelled')) THEN
        RAISE EXCEPTION 'reward grant % cannot move from % to %', grant_id, old, status
            USING ERRCODE = '22023',
                  HINT = 'A grant moves pending -> approved -> paid, or to cancelled from pending or approved.';
    END IF;
    UPDATE salesperf.reward_grant g SET status = set_grant_status.status, status_changed_at = pg_catalog.now()
     WHERE g.grant_id = set_grant_status.grant_id;
END
$$;
COMMENT ON FUNCTION salesperf.set_grant_status(bigint, text) IS
  'Move a reward grant along pending -> approved -> paid, or to cancelled from pending or approved; any other move is 22023.';

-- Each reward by value and difficulty.  Value: high when above the median
-- value of all rewards (the median itself is low).  Difficulty: the share
-- of eligible reps who hold a grant that is not cancelled; eligible are the
-- participants of the finalized contests that offered it, plus every active
-- rep when it was ever granted by hand.  High difficulty when at most a
-- quarter of the eligible earned it; NULL when nobody was eligible yet.
CREATE VIEW salesperf.reward_quadrant AS
WITH med AS (
    -- The median in exact numeric (money never goes through float): the
    -- middle value, or the mean of the two middle ones.
    SELECT pg_catalog.avg(x.value) AS median
      FROM (SELECT r.value,
                   pg_catalog.row_number() OVER (ORDER BY r.value) AS i,
                   pg_catalog.count(*) OVER () AS n
              FROM salesperf.reward r) x
     WHERE x.i IN ((x.n + 1) / 2, (x.n + 2) / 2)),
offered AS (
    SELECT rw.reward_id, pg_catalog.count(cr.participant_id) AS participants
      FROM salesperf.reward rw
      JOIN salesperf.contest c
        ON c.finalized_at IS NOT NULL
       AND EXISTS (SELECT 1 FROM pg_catalog.jsonb_array_elements(c.prizes) e WHERE e ->> 'reward' = rw.name)
      JOIN salesperf.contest_result cr ON cr.contest_id = c.contest_id
     GROUP BY rw.reward_id),
granted AS (
    SELECT g.reward_id,
           pg_catalog.count(DISTINCT g.rep_id) FILTER (WHERE g.status <> 'cancelled') AS earners,
           pg_catalog.bool_or(g.contest_id IS NULL) AS by_hand
      FROM salesperf.reward_grant g
     GROUP BY g.reward_id),
shares AS (
    SELECT rw.reward_id, rw.name, rw.kind, rw.value,
           COALESCE(g.earners, 0) AS earners,
           COALESCE(o.participants, 0)
             + CASE WHEN g.by_hand THEN (SELECT pg_catalog.count(*) FROM salesperf.rep r WHERE r.active) ELSE 0 END
             AS eligible
      FROM salesperf.reward rw
      LEFT JOIN offered o ON o.reward_id = rw.reward_id
      LEFT JOIN granted g ON g.reward_id = rw.reward_id)
SELECT s.reward_id, s.name, s.kind, s.value,
       CASE WHEN s.value > med.median THEN 'high' ELSE 'low' END AS value_class,
       s.earners, s.eligible,
       CASE WHEN s.eligible > 0
            THEN pg_catalog.round(LEAST(s.earners::numeric / s.eligible, 1), 4) END AS earned_share,
       CASE WHEN s.eligible = 0 THEN NULL
            WHEN s.earners::numeric / s.eligible <= 0.25 THEN 'high' ELSE 'low' END AS difficulty,
       CASE WHEN s.eligible = 0 THEN NULL
            ELSE (CASE WHEN s.value > med.median THEN 'high value' ELSE 'low value' END)
                 || ', '
                 || (CASE WHEN s.earners::numeric / s.eligible <= 0.25 THEN 'hard' ELSE 'easy' END) END AS quadrant
  FROM shares s CROSS JOIN med;
COMMENT ON VIEW salesperf.reward_quadrant IS
  'Each reward classed by value (high: above the median reward value) and difficulty (high: at most 25% of the eligible reps earned it; eligible = participants of the finalized contests offering it, plus every active rep once it was granted by hand).';
COMMENT ON COLUMN salesperf.reward_quadrant.reward_id IS 'Reward id.';
COMMENT ON COLUMN salesperf.reward_quadrant.name IS 'Reward name.';
COMMENT ON COLUMN salesperf.reward_quadrant.kind IS 'cash, gift, title, training or other.';
COMMENT ON COLUMN salesperf.reward_quadrant.value IS 'Reward value.';
COMMENT ON COLUMN salesperf.reward_quadrant.value_class IS 'high when the value is above the median of all rewards'' values, else low.';
COMMENT ON COLUMN salesperf.reward_quadrant.earners IS 'Distinct reps holding a grant of it that is not cancelled.';
COMMENT ON COLUMN salesperf.reward_quadrant.eligible IS 'Participants of the finalized contests that offered it, plus the active reps when it was ever granted by hand.';
COMMENT ON COLUMN salesperf.reward_quadrant.earned_share IS 'earners / eligible (at most 1; NULL when nobody was eligible).';
COMMENT ON COLUMN salesperf.reward_quadrant.difficulty IS 'high when earned_share <= 0.25, else low; NULL when nobody was eligible.';
COMMENT ON COLUMN salesperf.reward_quadrant.quadrant IS 'Value and difficulty in words (e.g. high value, hard).';

-- ---------------------------------------------------------------------------
-- The achievement board.

-- Per active rep at `at`: points this (fiscal) month and all time from the
-- counters, badges awarded by then, finalized rep contests won (rank 1) and
-- placed (a prize-winning rank; wins included), and the rank on the points
-- board: the first (lowest id) rep board ranking points per month.
CREATE FUNCTION salesperf.achievement_board_at(at timestamptz)
RETURNS TABLE (rep_id bigint, name text, points_this_month numeric, points_all_time numeric,
               badges bigint, badge_list text, contests_won bigint, contests_placed bigint,
               board text, board_rank bigint, board_participants bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    s   salesperf.settings;
    k   salesperf.kpi;
    d0  date;
    d1  date;
    b   salesperf.leaderboard;
BEGIN
    IF at IS NULL THEN
        RAISE EXCEPTION 'achievement_board_at() needs a moment' USING ERRCODE = '22004';
    END IF;
    SELECT * INTO s FROM salesperf.settings;
    SELECT * INTO k FROM salesperf.kpi x WHERE x.name = 'points';
    d0 := salesperf.local_day(salesperf.calendar_start(at, 'month', s.time_zone, s.week_start,
                                                       s.fiscal_year_start_month, s.calendar), s.time_zone);
    d1 := salesperf.local_day(salesperf.calendar_end(at, 'month', s.time_zone, s.week_start,
                                                     s.fiscal_year_start_month, s.calendar), s.time_zone);
    SELECT * INTO b FROM salesperf.leaderboard x
     WHERE x.metric = 'points' AND x.participant = 'rep' AND x.period = 'month'
     ORDER BY x.board_id LIMIT 1;

    RETURN QUERY
    WITH pts AS (
        SELECT kc.rep_id,
               sum(v.num) FILTER (WHERE kc.day >= d0 AND kc.day < d1) AS month,
               sum(v.num) AS total
          FROM salesperf.kpi_counter kc
         CROSS JOIN LATERAL salesperf.kpi_contribution(k.num_kind, k.num_measure, k.den_kind, k.den_measure,
                                                       kc.kind, kc.activities, kc.amount, kc.points,
                                                       kc.last_at, kc.last_amount_at, kc.last_point_at) v
         WHERE v.num IS NOT NULL
         GROUP BY kc.rep_id),
    bdg AS (
        SELECT a.rep_id, count(*) AS n,
               string_agg(bd.name, ', ' ORDER BY a.awarded_at, a.award_id) AS list
          FROM salesperf.badge_award a
          JOIN salesperf.badge bd ON bd.badge_id = a.badge_id
          LEFT JOIN salesperf.contest c ON c.contest_id = a.contest_id
         -- a contest prize counts from the contest's end, like its result
         WHERE CASE WHEN a.contest_id IS NULL THEN a.awarded_at <= at ELSE c.ends_at <= at END
         GROUP BY a.rep_id),
    won AS (
        SELECT cr.participant_id AS rep_id,
               count(*) FILTER (WHERE cr.rank = 1) AS won,
               count(*) AS placed
          FROM salesperf.contest_result cr
          JOIN salesperf.contest c ON c.contest_id = cr.contest_id
         WHERE c.participant = 'rep' AND c.ends_at <= at AND cr.reached_at IS NOT NULL
           AND EXISTS (SELECT 1 FROM pg_catalog.jsonb_array_elements(c.prizes) e
                        WHERE cr.rank BETWEEN (e ->> 'rank_from')::numeric
                                          AND COALESCE(e ->> 'rank_to', e ->> 'rank_from')::numeric)
         GROUP BY cr.participant_id),
    brd AS (
        SELECT x.participant_id AS rep_id, x.rank, x.participants
          FROM salesperf.board_standings(b.board_id,
                   salesperf.calendar_start(at, 'month', s.time_zone, s.week_start,
                                            s.fiscal_year_start_month, s.calendar)) x
         WHERE b.board_id IS NOT NULL)
    SELECT r.rep_id, r.name,
           trim_scale(COALESCE(p.month, 0)), trim_scale(COALESCE(p.total, 0)),
           COALESCE(g.n, 0), g.list,
           COALESCE(w.won, 0), COALESCE(w.placed, 0),
           b.name, x.rank, x.participants
      FROM salesperf.rep r
      LEFT JOIN pts p ON p.rep_id = r.rep_id
      LEFT JOIN bdg g ON g.rep_id = r.rep_id
      LEFT JOIN won w ON w.rep_id = r.rep_id
      LEFT JOIN brd x ON x.rep_id = r.rep_id
     WHERE r.active
     ORDER BY x.rank NULLS LAST, COALESCE(p.total, 0) DESC, r.rep_id;
END
$$;
COMMENT ON FUNCTION salesperf.achievement_board_at(timestamptz) IS
  'The achievement board at a moment: per active rep, points this month and all time (from counters), badges, finalized contests won and placed, and rank on the first monthly rep points board.';

CREATE VIEW salesperf.achievement_board AS
SELECT * FROM salesperf.achievement_board_at(pg_catalog.now());
COMMENT ON VIEW salesperf.achievement_board IS
  'salesperf.achievement_board_at(now()): per active rep, points this month and all time, badges, contests won and placed, rank on the monthly points board.';
COMMENT ON COLUMN salesperf.achievement_board.rep_id IS 'Rep id.';
COMMENT ON COLUMN salesperf.achievement_board.name IS 'Rep name.';
COMMENT ON COLUMN salesperf.achievement_board.points_this_month IS 'Points earned in the (fiscal) month containing now, from the counters.';
COMMENT ON COLUMN salesperf.achievement_board.points_all_time IS 'Points earned ever, from the counters.';
COMMENT ON COLUMN salesperf.achievement_board.badges IS 'Number of badges awarded by then (rule awards from awarded_at, contest prizes from the contest''s end).';
COMMENT ON COLUMN salesperf.achievement_board.badge_list IS 'Badge names, oldest award first.';
COMMENT ON COLUMN salesperf.achievement_board.contests_won IS 'Finalized rep contests ranked 1 in (having scored).';
COMMENT ON COLUMN salesperf.achievement_board.contests_placed IS 'Finalized rep contests finished in a prize-winning rank (wins included).';
COMMENT ON COLUMN salesperf.achievement_board.board IS 'The points board ranked on: the first rep leaderboard on points per month (NULL: none).';
COMMENT ON COLUMN salesperf.achievement_board.board_rank IS 'Rank on that board this month.';
COMMENT ON COLUMN salesperf.achievement_board.board_participants IS 'Participants on that board this month.';
-- Notifications (SPEC §8) that ride on the write path: "entered the top 3"
-- and "target achieved" (badge awards are announced in 76_badges.sql).
--
-- "Entered the top 3": salesperf.board_podium remembers, per rep board's
-- running period, the reps whose last write found them in the top 3.  A
-- write that takes a rep into the top 3 announces it (NOTIFY salesperf,
-- delivered at commit); a write that finds the rep outside clears the
-- mark, so the next entry is announced again.  Each rep's mark is written
-- only by writers holding that rep's lock (lock_reps): no row is shared
-- between reps, so podium bookkeeping adds no lock between two writers.
-- Not a ranking: boards are read with leaderboard_top.

CREATE TABLE salesperf.board_podium (
    board_id       integer NOT NULL REFERENCES salesperf.leaderboard (board_id) ON DELETE CASCADE,
    period_start   timestamptz NOT NULL,
    participant_id bigint NOT NULL,
    PRIMARY KEY (board_id, period_start, participant_id)
);
COMMENT ON TABLE salesperf.board_podium IS
  'Bookkeeping of NOTIFY salesperf ''entered_top3'': the reps whose last write found them in the top 3 of a rep board''s running period.';
-- Not derivable from the ledger (it records what was announced): dumped.
SELECT pg_catalog.pg_extension_config_dump('salesperf.board_podium', '');

-- After the given (rep, local day) pairs changed: on every rep board of a
-- higher-is-better KPI whose running period (the one holding now()) holds
-- one of the days, each of those reps now in the top 3 -- a positive score
-- with fewer than three active reps scoring more (rank <= 3 in
-- leaderboard_top), counted with index probes only -- and not marked gets
-- its mark and is announced; each one outside loses its mark.  The one-row
-- insert path (src/write_notifications.c, podium_sql) states the same
-- "in the top 3" test to find, with one probe, the boards where a rep's
-- mark disagrees with its place, and calls this function for those only:
-- a change of the rule is made in both.
CREATE FUNCTION salesperf.note_podium(rep_ids bigint[], days date[], metrics text[] DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    announced integer;
BEGIN
    WITH touched AS (
        SELECT DISTINCT b.board_id, x.ps, k.rep_id
          FROM unnest(rep_ids, days) AS k(rep_id, day)
         CROSS JOIN salesperf.settings s
          JOIN salesperf.leaderboard b ON b.participant = 'rep' AND (metrics IS NULL OR b.metric = ANY (metrics))
          JOIN salesperf.kpi q ON q.name = b.metric AND q.higher_is_better
         CROSS JOIN LATERAL (
               SELECT salesperf.calendar_start(pg_catalog.now(), b.period, s.time_zone, s.week_start,
                                               s.fiscal_year_start_month, s.calendar) AS ps,
                      salesperf.calendar_start(salesperf.local_day_start(k.day, s.time_zone), b.period,
                                               s.time_zone, s.week_start, s.fiscal_year_start_month,
                                               s.calendar) AS day_ps) x
         WHERE x.ps = x.day_ps),
    c AS MATERIALIZED (
        SELECT t.board_id, t.ps AS period_start, t.rep_id AS participant_id,
               COALESCE(st.sort_score > 0 AND r.active
                        AND (SELECT pg_catalog.count(*)
                               FROM (SELECT 1 FROM salesperf.standing o
                                       JOIN salesperf.rep ro ON ro.rep_id = o.participant_id AND ro.active
                                      WHERE o.board_id = t.board_id AND o.period_start = t.ps
                                        AND o.sort_score > st.sort_score
                                      LIMIT 3) above) < 3, false) AS in_top3
          FROM touched t
          JOIN salesperf.rep r ON r.rep_id = t.rep_id
          LEFT JOIN salesperf.standing st
            ON st.board_id = t.board_id AND st.period_start = t.ps
           AND st.contributor_id = t.rep_id AND st.participant_id = t.rep_id),
    gone AS (
        DELETE FROM salesperf.board_podium bp
         USING c
         WHERE c.board_id = bp.board_id AND c.period_start = bp.period_start
           AND c.participant_id = bp.participant_id AND NOT c.in_top3),
    entered AS (
        INSERT INTO salesperf.board_podium (board_id, period_start, participant_id)
        SELECT c.board_id, c.period_start, c.participant_id FROM c WHERE c.in_top3
         ORDER BY 1, 2, 3
        ON CONFLICT DO NOTHING
        RETURNING board_podium.board_id, board_podium.period_start, board_podium.participant_id)
    SELECT pg_catalog.count(pg_catalog.pg_notify('salesperf', pg_catalog.json_build_object(
               'event', 'entered_top3', 'board_id', e.board_id, 'board', b.name,
               'period_start', e.period_start, 'rep_id', e.participant_id, 'rep', r.name)::text))
      INTO announced
      FROM entered e
      JOIN salesperf.leaderboard b ON b.board_id = e.board_id
      JOIN salesperf.rep r ON r.rep_id = e.participant_id;
    RETURN announced;
END
$$;
COMMENT ON FUNCTION salesperf.note_podium(bigint[], date[], text[]) IS
  'Internal: after a write of the given (rep, local day) pairs, mark and NOTIFY salesperf ''entered_top3'' for each of those reps now in the top 3 of a running rep board (ranked on one of the given metrics, or any), and clear the mark of those outside.';

-- Rep targets announced as achieved (NOTIFY salesperf 'target_achieved'),
-- once per target: history, like badge awards.
CREATE TABLE salesperf.target_achieved (
    kpi          text NOT NULL,
    rep_id       bigint NOT NULL REFERENCES salesperf.rep (rep_id) ON DELETE CASCADE,
    period       text NOT NULL,
    period_start timestamptz NOT NULL,
    achieved_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (kpi, rep_id, period, period_start)
);
COMMENT ON TABLE salesperf.target_achieved IS
  'History: rep targets announced as achieved (NOTIFY salesperf ''target_achieved''), once per target.';
SELECT pg_catalog.pg_extension_config_dump('salesperf.target_achieved', '');

-- Announce the rep targets that the given (rep, local day) pairs achieved:
-- for each rep with targets, its target progress as of the end of each
-- touched day (or now, if sooner); a target at 'achieved' not announced
-- before is recorded and announced.  Index probes only (targets, counters).
CREATE FUNCTION salesperf.note_targets(rep_ids bigint[], days date[])
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    announced integer;
BEGIN
    WITH s AS (SELECT * FROM salesperf.settings),
    touched AS (
        SELECT DISTINCT k.rep_id,
               LEAST(pg_catalog.now(), salesperf.local_day_start(k.day + 1, s.time_zone) - interval '1 microsecond') AS at
          FROM unnest(rep_ids, days) AS k(rep_id, day) CROSS JOIN s
         WHERE EXISTS (SELECT 1 FROM salesperf.target t WHERE t.scope_id = k.rep_id AND t.scope = 'rep')),
    done AS (
        INSERT INTO salesperf.target_achieved (kpi, rep_id, period, period_start)
        SELECT p.kpi, p.scope_id, p.period, p.period_start
          FROM touched t
         CROSS JOIN LATERAL salesperf.target_progress_at(t.at, 'rep', t.rep_id) p
         WHERE p.status = 'achieved'
         ORDER BY 1, 2, 3, 4
        ON CONFLICT DO NOTHING
        RETURNING target_achieved.kpi, target_achieved.rep_id, target_achieved.period,
                  target_achieved.period_start)
    SELECT pg_catalog.count(pg_catalog.pg_notify('salesperf', pg_catalog.json_build_object(
               'event', 'target_achieved', 'kpi', d.kpi, 'scope', 'rep', 'rep_id', d.rep_id, 'rep', r.name,
               'period', d.period, 'period_start', d.period_start)::text))
      INTO announced
      FROM done d JOIN salesperf.rep r ON r.rep_id = d.rep_id;
    RETURN announced;
END
$$;
COMMENT ON FUNCTION salesperf.note_targets(bigint[], date[]) IS
  'Internal: record and NOTIFY salesperf ''target_achieved'' for each rep target the given (rep, local day) pairs achieved (once per target).';

-- What follows a change of the given (rep, local day) pairs once counters
-- and standings are in step: badges earned, podium entries, rep targets
-- achieved.  The ledger triggers and rederive() call it.  When the change
-- is known to touch only some activity kinds (the insert path), only the
-- KPIs those kinds feed can have moved: rules, boards and targets on other
-- KPIs are left alone.  A one-row insert does the same in C
-- (src/write_notifications.c) with a per-backend copy of which KPIs have
-- rules, boards and targets, and prepared statements: same awards, same
-- announcements.
CREATE FUNCTION salesperf.after_change(rep_ids bigint[], days date[], kinds text[] DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    moved text[];
    rules bigint[];
BEGIN
    SELECT pg_catalog.array_agg(k.name) INTO moved
      FROM salesperf.kpi k
     WHERE kinds IS NULL OR k.num_kind IS NULL OR k.num_kind = ANY (kinds)
        OR (k.den_measure IS NOT NULL AND (k.den_kind IS NULL OR k.den_kind = ANY (kinds)));
    IF moved IS NULL THEN
        RETURN;
    END IF;
    SELECT pg_catalog.array_agg(r.rule_id) INTO rules
      FROM salesperf.badge_rule r WHERE r.metric = ANY (moved);
    IF rules IS NOT NULL THEN
        PERFORM salesperf.award_badges(rep_ids, days, rules);
    END IF;
    IF EXISTS (SELECT 1 FROM salesperf.leaderboard b WHERE b.participant = 'rep' AND b.metric = ANY (moved)) THEN
        PERFORM salesperf.note_podium(rep_ids, days, moved);
    END IF;
    IF EXISTS (SELECT 1 FROM salesperf.target t WHERE t.scope = 'rep' AND t.kpi = ANY (moved)) THEN
        PERFORM salesperf.note_targets(rep_ids, days);
    END IF;
END
$$;
COMMENT ON FUNCTION salesperf.after_change(bigint[], date[], text[]) IS
  'Internal: award the badges and announce the podium entries and achieved rep targets that a change of the given (rep, local day) pairs (of the given kinds, or any) brings.';

-- The configuration the write path's notifications depend on (calendar
-- settings, KPIs, badge rules, leaderboards, targets) has a version: every
-- statement that changes one of those tables adds a row here, numbered
-- from a sequence.  The one-row insert path (src/write_notifications.c)
-- keeps, per backend, a copy of the calendar settings and of which KPIs
-- have badge rules, rep boards and rep targets, and reads the newest
-- version its statement sees before each use: a changed configuration,
-- committed by any session, is read again.  Sequence numbers are never
-- reused, so a copy made inside a transaction that rolled back never
-- passes for a committed configuration.  pg_dump carries the rows and the
-- sequence (a restore, under session_replication_role = replica, fires no
-- trigger): a restored database has the source's newest version, which no
-- fresh copy was made at.
CREATE SEQUENCE salesperf.notify_config_version_seq;
COMMENT ON SEQUENCE salesperf.notify_config_version_seq IS
  'Numbers of salesperf.notify_config_version (never reused).';
CREATE TABLE salesperf.notify_config_version (
    version bigint PRIMARY KEY DEFAULT pg_catalog.nextval('salesperf.notify_config_version_seq')
);
COMMENT ON TABLE salesperf.notify_config_version IS
  'Internal: one row per statement that changed salesperf.configuration, kpi, badge_rule, leaderboard or target; the newest version tells the write path whether its copy of that configuration is current.';
COMMENT ON COLUMN salesperf.notify_config_version.version IS 'Version number (increasing, never reused).';
-- Version 1 is the install's own row.
INSERT INTO salesperf.notify_config_version DEFAULT VALUES;
SELECT pg_catalog.pg_extension_config_dump('salesperf.notify_config_version', 'WHERE version > 1');
SELECT pg_catalog.pg_extension_config_dump('salesperf.notify_config_version_seq', '');

CREATE FUNCTION salesperf.notify_config_changed()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO salesperf.notify_config_version DEFAULT VALUES;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION salesperf.notify_config_changed() IS
  'Internal trigger: a new salesperf.notify_config_version after a change of the settings, KPIs, badge rules, leaderboards or targets.';

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['configuration', 'kpi', 'badge_rule', 'leaderboard', 'target'] LOOP
        EXECUTE pg_catalog.format(
            'CREATE TRIGGER notify_config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON salesperf.%I'
            ' FOR EACH STATEMENT EXECUTE FUNCTION salesperf.notify_config_changed()', t);
    END LOOP;
END
$$;
-- Commission arithmetic (SPEC §10): tiered commission and payout curves,
-- exact on numeric (src/commission_math_fn.c, src/core/commission_math.c).
-- Not STRICT: a NULL amount or attainment gives NULL, a NULL array or flag
-- is an error, so a plan with a missing table cannot silently pay nothing.

CREATE FUNCTION salesperf.tiered_commission(amount numeric, breakpoints numeric[],
                                            rates numeric[], retroactive boolean DEFAULT false)
RETURNS numeric AS 'MODULE_PATHNAME', 'salesperf_tiered_commission'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.tiered_commission(numeric, numeric[], numeric[], boolean) IS
  'Commission on amount under a tier table: breakpoints[i] is where tier i starts (the first is 0, strictly ascending), rates[i] its rate (>= 0), same length. '
  'Graduated (default): each slice of the amount at its own tier''s rate, sum of (least(amount, breakpoints[i+1]) - breakpoints[i]) * rates[i] over the tiers reached. '
  'Retroactive: the whole amount at the rate of the highest tier whose breakpoint is <= amount (an amount on a breakpoint is in the tier starting there). '
  'A negative amount (returns above sales) is amount * rates[1] in both modes: the first tier extended below zero. '
  'Exact: the result has the scale of amount and breakpoints plus that of rates, as numeric multiplication gives. '
  'NULL amount gives NULL; NULL breakpoints, rates or retroactive raise 22004; an invalid tier table raises 22023 naming the element; '
  'a non-finite amount, a value with more than 30 decimals or a result beyond 38 digits raise 22003. '
  'Calling it with amount 0 validates a tier table.';

CREATE FUNCTION salesperf.payout_curve(attainment numeric, xs numeric[], ys numeric[])
RETURNS numeric AS 'MODULE_PATHNAME', 'salesperf_payout_curve'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.payout_curve(numeric, numeric[], numeric[]) IS
  'Payout multiplier at attainment: piecewise-linear through the points (xs[i], ys[i]), xs strictly ascending, ys >= 0, same length; '
  'flat before the first point (ys[1]) and after the last (ys[n]), which makes thresholds, accelerators, decelerators and caps. '
  'On a point the result is ys[i] exactly. Between points it is ys[i] + (ys[i+1] - ys[i]) * (attainment - xs[i]) / (xs[i+1] - xs[i]), '
  'rounded half away from zero to 12 decimal places (or to the scale of those two ys if larger), then stripped of trailing zeros but never below the scale of those two ys. '
  'NULL attainment gives NULL; NULL xs or ys raise 22004; an invalid curve raises 22023 naming the element; '
  'An attainment with more than 30 decimals (a quotient can have them) is first rounded to 30. '
  'A non-finite attainment, xs or ys with more than 30 decimals or a step beyond 38 digits raise 22003. '
  'Calling it with attainment 0 validates a curve.';
-- Commission (SPEC §10): plans, their assignment to reps over time,
-- statements computed from counters and targets, and the close of a period
-- with clawbacks and true-ups carried into the next open period.
--
-- How a statement is computed.  For a period kind (month, quarter...) and
-- one period, each rep is paid under the last plan of that kind assigned to
-- them during the period (a plan change takes effect for the whole period
-- in which it happens).  The inputs of a rep's line are the plan's terms,
-- the rep's target on the plan's basis KPI, and the units the rep belonged
-- to during the period with the share of the period spent in each and that
-- unit's effective target.  The results come from the counters: the basis
-- (the rep's KPI value over the period) and each unit's KPI value (its whole
-- subtree, as kpi_value() counts it).  A rep who moved team mid-period gets
-- each team's part and bonus weighted by the share of the period (in real
-- time) spent in that team.
--
-- Closing.  close_commission_period() freezes the lines of a period, inputs
-- included, in commission_paid.  A later re-run of a closed period uses the
-- frozen inputs (plan terms, targets, team shares) and today's counters, so
-- only a change to what happened (a deal deleted, reversed or back-dated)
-- moves its result.  The difference between a re-run and what was paid for
-- that period so far comes out as an adjustment line in the next open
-- period of the same kind; closing that period freezes the lines too.
-- Statements are never stored for open periods: they are read from the
-- counters, so nothing derived has to be kept in step with the ledger.

CREATE TABLE salesperf.commission_plan (
    name              text PRIMARY KEY,
    basis_kpi         text NOT NULL REFERENCES salesperf.kpi (name),
    period            text NOT NULL,
    kind              text NOT NULL,
    breakpoints       numeric[],
    rates             numeric[],
    retroactive       boolean NOT NULL DEFAULT false,
    target_incentive  numeric,
    individual_weight numeric,
    team_weight       numeric,
    curve_x           numeric[],
    curve_y           numeric[],
    team_bonus        numeric NOT NULL DEFAULT 0
);
COMMENT ON TABLE salesperf.commission_plan IS
  'Commission plans. rate: tiers on the basis KPI (tiered_commission). quota: target_incentive x (individual_weight x payout_curve(rep attainment) + team_weight x payout_curve(team attainment)). Both pay team_bonus when the team''s target is achieved. Assign with salesperf.assign_plan().';
COMMENT ON COLUMN salesperf.commission_plan.name IS 'Plan name.';
COMMENT ON COLUMN salesperf.commission_plan.basis_kpi IS 'KPI the plan pays on (higher is better), e.g. revenue.';
COMMENT ON COLUMN salesperf.commission_plan.period IS 'Pay period: day, week, month, quarter or year.';
COMMENT ON COLUMN salesperf.commission_plan.kind IS 'rate or quota.';
COMMENT ON COLUMN salesperf.commission_plan.breakpoints IS 'rate plans: where each tier starts (first 0, ascending).';
COMMENT ON COLUMN salesperf.commission_plan.rates IS 'rate plans: the rate of each tier (0.05 = 5 %).';
COMMENT ON COLUMN salesperf.commission_plan.retroactive IS 'rate plans: the whole basis at the rate of the tier reached (false: each slice at its own rate).';
COMMENT ON COLUMN salesperf.commission_plan.target_incentive IS 'quota plans: pay at 100 % on both curves.';
COMMENT ON COLUMN salesperf.commission_plan.individual_weight IS 'quota plans: share of the incentive paid on the rep''s attainment.';
COMMENT ON COLUMN salesperf.commission_plan.team_weight IS 'quota plans: share paid on the team''s attainment (the weights add up to 1).';
COMMENT ON COLUMN salesperf.commission_plan.curve_x IS 'quota plans: attainment points of the payout curve (ascending).';
COMMENT ON COLUMN salesperf.commission_plan.curve_y IS 'quota plans: payout multiplier at each point (flat before the first and after the last).';
COMMENT ON COLUMN salesperf.commission_plan.team_bonus IS 'Paid to every member of a team that achieves its target (weighted by the share of the period spent in it).';
SELECT pg_catalog.pg_extension_config_dump('salesperf.commission_plan', '');

-- Every write is validated here, with specific SQLSTATEs naming the value.
-- The arrays are checked by the functions that use them, called on a zero.
CREATE FUNCTION salesperf.commission_plan_check()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k         salesperf.kpi;
    bad_array text;
    bad_value numeric;
BEGIN
    IF NEW.name IS NULL OR NEW.basis_kpi IS NULL OR NEW.period IS NULL OR NEW.kind IS NULL
       OR NEW.retroactive IS NULL OR NEW.team_bonus IS NULL THEN
        RAISE EXCEPTION 'a commission plan needs a name, a basis_kpi, a period, a kind, retroactive and team_bonus'
            USING ERRCODE = '22004';
    END IF;
    IF btrim(NEW.name) = '' THEN
        RAISE EXCEPTION 'a commission plan needs a non-empty name' USING ERRCODE = '22023';
    END IF;
    SELECT * INTO k FROM salesperf.kpi x WHERE x.name = NEW.basis_kpi;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown KPI "%"', NEW.basis_kpi USING ERRCODE = '42704', HINT = 'See salesperf.kpi.';
    END IF;
    IF NOT k.higher_is_better THEN
        RAISE EXCEPTION 'KPI "%" is lower-is-better: commission is paid on a KPI where more is better', NEW.basis_kpi
            USING ERRCODE = '22023';
    END IF;
    IF NEW.period NOT IN ('day', 'week', 'month', 'quarter', 'year') THEN
        RAISE EXCEPTION 'unknown period "%"', NEW.period
            USING ERRCODE = '22023', HINT = 'Use day, week, month, quarter or year.';
    END IF;
    IF NEW.team_bonus < 0 OR NEW.team_bonus IN ('NaN', 'Infinity') THEN
        RAISE EXCEPTION 'invalid team_bonus % in plan "%"', NEW.team_bonus, NEW.name
            USING ERRCODE = '22003', DETAIL = 'A team bonus is a finite amount, not negative.';
    END IF;

    -- The tiers and the curve are evaluated exactly on 128-bit integers:
    -- their numbers carry at most 12 decimal places (attainments and bases
    -- are rounded to 12 places before they meet them).
    SELECT x.what, x.v INTO bad_array, bad_value
      FROM (SELECT 'breakpoints' AS what, v FROM unnest(NEW.breakpoints) v
            UNION ALL SELECT 'rates', v FROM unnest(NEW.rates) v
            UNION ALL SELECT 'curve_x', v FROM unnest(NEW.curve_x) v
            UNION ALL SELECT 'curve_y', v FROM unnest(NEW.curve_y) v) x
     WHERE pg_catalog.scale(x.v) > 12
     LIMIT 1;
    IF bad_array IS NOT NULL THEN
        RAISE EXCEPTION '% of plan "%" has % with more than 12 decimal places', bad_array, NEW.name, bad_value
            USING ERRCODE = '22023', HINT = 'Round the plan''s numbers to 12 decimal places or fewer.';
    END IF;

    IF NEW.kind = 'rate' THEN
        IF NEW.breakpoints IS NULL OR NEW.rates IS NULL THEN
            RAISE EXCEPTION 'rate plan "%" needs breakpoints and rates', NEW.name USING ERRCODE = '22004';
        END IF;
        IF NEW.target_incentive IS NOT NULL OR NEW.individual_weight IS NOT NULL OR NEW.team_weight IS NOT NULL
           OR NEW.curve_x IS NOT NULL OR NEW.curve_y IS NOT NULL THEN
            RAISE EXCEPTION 'rate plan "%" takes no target_incentive, weights or curve', NEW.name
                USING ERRCODE = '22023', HINT = 'Those belong to quota plans; leave them NULL.';
        END IF;
        PERFORM salesperf.tiered_commission(0, NEW.breakpoints, NEW.rates, NEW.retroactive);
    ELSIF NEW.kind = 'quota' THEN
        IF NEW.target_incentive IS NULL OR NEW.individual_weight IS NULL OR NEW.team_weight IS NULL
           OR NEW.curve_x IS NULL OR NEW.curve_y IS NULL THEN
            RAISE EXCEPTION 'quota plan "%" needs target_incentive, individual_weight, team_weight, curve_x and curve_y', NEW.name
                USING ERRCODE = '22004';
        END IF;
        IF NEW.breakpoints IS NOT NULL OR NEW.rates IS NOT NULL OR NEW.retroactive THEN
            RAISE EXCEPTION 'quota plan "%" takes no breakpoints, rates or retroactive', NEW.name
                USING ERRCODE = '22023', HINT = 'Those belong to rate plans; leave them NULL (retroactive false).';
        END IF;
        IF NEW.target_incentive < 0 OR NEW.target_incentive IN ('NaN', 'Infinity') THEN
            RAISE EXCEPTION 'invalid target_incentive % in plan "%"', NEW.target_incentive, NEW.name
                USING ERRCODE = '22003', DETAIL = 'An incentive is a finite amount, not negative.';
        END IF;
        IF NEW.individual_weight < 0 OR NEW.team_weight < 0
           OR 'NaN' IN (NEW.individual_weight, NEW.team_weight)
           OR 'Infinity' IN (NEW.individual_weight, NEW.team_weight) THEN
            RAISE EXCEPTION 'invalid weights % and % in plan "%"', NEW.individual_weight, NEW.team_weight, NEW.name
                USING ERRCODE = '22003', DETAIL = 'Weights are finite and not negative.';
        END IF;
        IF NEW.individual_weight + NEW.team_weight <> 1 THEN
            RAISE EXCEPTION 'weights of plan "%" add up to %, not 1', NEW.name, NEW.individual_weight + NEW.team_weight
                USING ERRCODE = '22023', DETAIL = pg_catalog.format('individual_weight %s + team_weight %s',
                                                                 NEW.individual_weight, NEW.team_weight);
        END IF;
        PERFORM salesperf.payout_curve(0, NEW.curve_x, NEW.curve_y);
    ELSE
        RAISE EXCEPTION 'unknown plan kind "%"', NEW.kind USING ERRCODE = '22023', HINT = 'Use rate or quota.';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER commission_plan_check BEFORE INSERT OR UPDATE ON salesperf.commission_plan
    FOR EACH ROW EXECUTE FUNCTION salesperf.commission_plan_check();

-- Which plan each rep is paid under when: half-open ranges [since, until),
-- never overlapping for one rep (like membership).
CREATE TABLE salesperf.plan_assignment (
    rep_id bigint NOT NULL REFERENCES salesperf.rep (rep_id) ON DELETE CASCADE,
    plan   text NOT NULL REFERENCES salesperf.commission_plan (name) ON UPDATE CASCADE,
    during tstzrange NOT NULL,
    CONSTRAINT plan_assignment_half_open CHECK (
        NOT pg_catalog.isempty(during) AND NOT pg_catalog.lower_inf(during)
        AND pg_catalog.lower_inc(during) AND NOT pg_catalog.upper_inc(during)),
    CONSTRAINT plan_assignment_no_overlap EXCLUDE USING gist (
        pg_catalog.int8range(rep_id, rep_id, '[]') WITH OPERATOR(pg_catalog.&&),
        during WITH OPERATOR(pg_catalog.&&))
);
CREATE INDEX plan_assignment_rep_idx ON salesperf.plan_assignment (rep_id, pg_catalog.lower(during));
CREATE INDEX plan_assignment_plan_idx ON salesperf.plan_assignment (plan);
COMMENT ON TABLE salesperf.plan_assignment IS
  'Which commission plan each rep is paid under when: half-open ranges [since, until), never overlapping for one rep. Write it with salesperf.assign_plan().';
COMMENT ON COLUMN salesperf.plan_assignment.during IS 'Half-open time range; an open upper bound means "still on this plan".';
SELECT pg_catalog.pg_extension_config_dump('salesperf.plan_assignment', '');

-- Closed periods, one row per period kind and period.
CREATE TABLE salesperf.commission_period (
    period       text NOT NULL,
    period_start timestamptz NOT NULL,
    period_end   timestamptz NOT NULL,
    first_day    date NOT NULL,
    end_day      date NOT NULL,
    closed_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    closed_by    name NOT NULL DEFAULT CURRENT_USER,
    PRIMARY KEY (period, period_start)
);
CREATE INDEX commission_period_days_idx ON salesperf.commission_period (period, first_day);
COMMENT ON TABLE salesperf.commission_period IS
  'Derived: commission periods closed with salesperf.close_commission_period(), with their local days [first_day, end_day).';
SELECT pg_catalog.pg_extension_config_dump('salesperf.commission_period', '');

-- The frozen statement of each closed period: what was paid, and the
-- inputs a re-run uses (the plan's terms as they were, the target, the
-- teams with their shares and targets).  plan is NULL on a line that only
-- carries adjustments.
CREATE TABLE salesperf.commission_paid (
    period            text NOT NULL,
    period_start      timestamptz NOT NULL,
    rep_id            bigint NOT NULL,
    name              text,
    plan              text,
    basis_kpi         text,
    plan_kind         text,
    breakpoints       numeric[],
    rates             numeric[],
    retroactive       boolean,
    target_incentive  numeric,
    individual_weight numeric,
    team_weight       numeric,
    curve_x           numeric[],
    curve_y           numeric[],
    plan_team_bonus   numeric,
    first_day         date NOT NULL,
    end_day           date NOT NULL,
    target            numeric,
    team_units        bigint[],
    team_shares       numeric[],
    team_targets      numeric[],
    basis             numeric,
    attainment        numeric,
    individual_part   numeric NOT NULL,
    team_part         numeric NOT NULL,
    team_bonus        numeric NOT NULL,
    adjustments       numeric NOT NULL,
    total             numeric NOT NULL,
    PRIMARY KEY (period, period_start, rep_id),
    FOREIGN KEY (period, period_start) REFERENCES salesperf.commission_period (period, period_start)
);
-- One rep's statements: an index probe (and the key a row policy filters on).
CREATE INDEX commission_paid_rep_idx ON salesperf.commission_paid (rep_id, period, period_start);
COMMENT ON TABLE salesperf.commission_paid IS
  'Derived: the frozen commission statement lines of closed periods, with the inputs a re-run uses. Written only by salesperf.close_commission_period().';
COMMENT ON COLUMN salesperf.commission_paid.plan IS 'The plan the rep was paid under (NULL: the line only carries adjustments); basis_kpi through plan_team_bonus are its terms at the close.';
COMMENT ON COLUMN salesperf.commission_paid.plan_kind IS 'The plan''s kind (rate or quota) at the close.';
COMMENT ON COLUMN salesperf.commission_paid.plan_team_bonus IS 'The plan''s team bonus amount at the close (team_bonus is what was paid of it).';
COMMENT ON COLUMN salesperf.commission_paid.team_units IS 'Units the rep belonged to during the period.';
COMMENT ON COLUMN salesperf.commission_paid.team_shares IS 'Share of the period spent in each of team_units.';
COMMENT ON COLUMN salesperf.commission_paid.team_targets IS 'Effective target of each of team_units at the close.';
SELECT pg_catalog.pg_extension_config_dump('salesperf.commission_paid', '');

-- Adjustment lines frozen with the period they were paid in: each corrects
-- one earlier closed period of one rep.
CREATE TABLE salesperf.commission_adjustment (
    period           text NOT NULL,
    period_start     timestamptz NOT NULL,
    rep_id           bigint NOT NULL,
    for_period_start timestamptz NOT NULL,
    basis_paid       numeric,
    basis_now        numeric,
    earned_paid      numeric NOT NULL,
    earned_now       numeric NOT NULL,
    adjusted_before  numeric NOT NULL,
    amount           numeric NOT NULL,
    PRIMARY KEY (period, period_start, rep_id, for_period_start),
    FOREIGN KEY (period, period_start) REFERENCES salesperf.commission_period (period, period_start)
);
CREATE INDEX commission_adjustment_rep_idx ON salesperf.commission_adjustment (rep_id, period, for_period_start);
COMMENT ON TABLE salesperf.commission_adjustment IS
  'Derived: clawbacks and true-ups paid in a closed period, each for one earlier closed period of one rep. Written only by salesperf.close_commission_period().';
COMMENT ON COLUMN salesperf.commission_adjustment.period_start IS 'The period the adjustment was paid in.';
COMMENT ON COLUMN salesperf.commission_adjustment.for_period_start IS 'The closed period it corrects.';
COMMENT ON COLUMN salesperf.commission_adjustment.earned_paid IS 'What that period''s statement paid (individual + team + bonus).';
COMMENT ON COLUMN salesperf.commission_adjustment.earned_now IS 'What a re-run of that period gave at this close.';
COMMENT ON COLUMN salesperf.commission_adjustment.adjusted_before IS 'Adjustments for that period paid in earlier closes.';
COMMENT ON COLUMN salesperf.commission_adjustment.amount IS 'earned_now - earned_paid - adjusted_before: negative is a clawback.';
SELECT pg_catalog.pg_extension_config_dump('salesperf.commission_adjustment', '');

CREATE FUNCTION salesperf.commission_period_check(caller text, period text, period_start timestamptz)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    IF period IS NULL OR period_start IS NULL THEN
        RAISE EXCEPTION '%() needs a period and a period_start', caller USING ERRCODE = '22004';
    END IF;
    IF period NOT IN ('day', 'week', 'month', 'quarter', 'year') THEN
        RAISE EXCEPTION 'unknown period "%"', period
            USING ERRCODE = '22023', HINT = 'Use day, week, month, quarter or year.';
    END IF;
    IF period_start IN ('infinity', '-infinity') THEN
        RAISE EXCEPTION 'period_start must be a finite moment, not %', period_start USING ERRCODE = '22008';
    END IF;
END
$$;
COMMENT ON FUNCTION salesperf.commission_period_check(text, text, timestamptz) IS
  'Internal: check the period arguments of the commission functions (22004, 22023, 22008).';

-- The closed period of a kind whose first local day lies in the period
-- [first_day, end_day) as the current settings draw it (NULL if none).
CREATE FUNCTION salesperf.closed_commission_period(period text, first_day date, end_day date)
RETURNS salesperf.commission_period
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c salesperf.commission_period;
BEGIN
    -- PL/pgSQL, not SQL: the plan is kept between calls.
    SELECT * INTO c FROM salesperf.commission_period x
     WHERE x.period = closed_commission_period.period
       AND x.first_day >= closed_commission_period.first_day AND x.first_day < closed_commission_period.end_day
     ORDER BY x.first_day
     LIMIT 1;
    RETURN c;
END
$$;
COMMENT ON FUNCTION salesperf.closed_commission_period(text, date, date) IS
  'Internal: the closed commission period of a kind that starts within the given local days, if any.';

CREATE FUNCTION salesperf.assign_plan(rep_id bigint, plan text, since timestamptz DEFAULT pg_catalog.now())
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cur     salesperf.plan_assignment;
    later   timestamptz;
    horizon timestamptz;
BEGIN
    IF rep_id IS NULL OR since IS NULL THEN
        RAISE EXCEPTION 'assign_plan() needs a rep_id and a since moment' USING ERRCODE = '22004';
    END IF;
    IF since IN ('infinity', '-infinity') THEN
        RAISE EXCEPTION 'since must be a finite moment, not %', since USING ERRCODE = '22008';
    END IF;
    -- Serializes plan changes of one rep (42704 for an unknown rep).
    PERFORM salesperf.lock_reps(ARRAY[assign_plan.rep_id]);
    IF plan IS NOT NULL AND NOT EXISTS (SELECT 1 FROM salesperf.commission_plan p WHERE p.name = assign_plan.plan) THEN
        RAISE EXCEPTION 'unknown commission plan "%"', plan
            USING ERRCODE = '42704', HINT = 'See salesperf.commission_plan.';
    END IF;

    SELECT pg_catalog.min(pg_catalog.lower(a.during)) INTO later
      FROM salesperf.plan_assignment a
     WHERE a.rep_id = assign_plan.rep_id AND pg_catalog.lower(a.during) > since;
    IF later IS NOT NULL THEN
        RAISE EXCEPTION 'rep % already has a plan from %, after %', rep_id, later, since
            USING ERRCODE = '23P01',
                  HINT = 'Plan assignments never overlap: change or delete the later assignment first.';
    END IF;

    SELECT * INTO cur FROM salesperf.plan_assignment a
     WHERE a.rep_id = assign_plan.rep_id AND a.during @> since;
    IF cur.plan IS NOT DISTINCT FROM plan THEN
        RETURN;                                   -- already on it (or already off)
    END IF;

    -- What was paid stays paid: no plan change inside a closed period of
    -- the kind of the plan left or the plan taken.
    SELECT pg_catalog.max(c.period_end) INTO horizon
      FROM salesperf.commission_period c
     WHERE c.period IN (SELECT p.period FROM salesperf.commission_plan p
                         WHERE p.name IN (assign_plan.plan, cur.plan));
    IF horizon > since THEN
        RAISE EXCEPTION 'cannot change the plan of rep % from %: commission is closed until %', rep_id, since, horizon
            USING ERRCODE = '22023', HINT = 'Assign the plan from the start of the next open period.';
    END IF;

    IF cur.rep_id IS NOT NULL THEN
        IF pg_catalog.lower(cur.during) = since THEN
            DELETE FROM salesperf.plan_assignment a
             WHERE a.rep_id = cur.rep_id AND a.during = cur.during;
        ELSE
            UPDATE salesperf.plan_assignment a
               SET during = pg_catalog.tstzrange(pg_catalog.lower(cur.during), since, '[)')
             WHERE a.rep_id = cur.rep_id AND a.during = cur.during;
        END IF;
    END IF;
    IF plan IS NOT NULL THEN
        INSERT INTO salesperf.plan_assignment (rep_id, plan, during)
        VALUES (assign_plan.rep_id, assign_plan.plan, pg_catalog.tstzrange(since, NULL, '[)'));
    END IF;
END
$$;
COMMENT ON FUNCTION salesperf.assign_plan(bigint, text, timestamptz) IS
  'Put a rep on a commission plan from `since` on (a NULL plan takes the rep off commission): ends the current assignment at `since`. Errors: unknown rep or plan 42704, a later assignment already there 23P01, `since` inside a closed commission period 22023.';

-- Effective target of one unit, computed for that unit's subtree only (the
-- same rule as target_tree(): explicit, else its member reps' targets at
-- the period start plus its child units' effective targets).  A statement
-- needs the targets of a rep's teams, not the whole tree.
CREATE FUNCTION salesperf.unit_target(kpi text, period text, period_start timestamptz,
                                      first_day date, end_day date, unit_id bigint)
RETURNS numeric
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    v     numeric;
    total numeric;
    child bigint;
BEGIN
    SELECT t.value INTO v
      FROM salesperf.target t
     WHERE t.scope_id = unit_id AND t.scope = 'unit' AND t.period = period
       AND t.start_day >= first_day AND t.start_day < end_day AND t.kpi = kpi
     ORDER BY t.start_day
     LIMIT 1;
    IF FOUND THEN
        RETURN v;
    END IF;
    SELECT pg_catalog.sum(x.value) INTO total
      FROM salesperf.membership m
     CROSS JOIN LATERAL (
           SELECT t.value FROM salesperf.target t
            WHERE t.scope_id = m.rep_id AND t.scope = 'rep' AND t.period = period
              AND t.start_day >= first_day AND t.start_day < end_day AND t.kpi = kpi
            ORDER BY t.start_day
            LIMIT 1) x
     WHERE m.unit_id = unit_target.unit_id AND m.during @> period_start;
    FOR child IN SELECT u.unit_id FROM salesperf.unit u WHERE u.parent_id = unit_target.unit_id LOOP
        v := salesperf.unit_target(kpi, period, period_start, first_day, end_day, child);
        IF v IS NOT NULL THEN
            total := COALESCE(total, 0) + v;
        END IF;
    END LOOP;
    RETURN total;
END
$$;
COMMENT ON FUNCTION salesperf.unit_target(text, text, timestamptz, date, date, bigint) IS
  'Internal: effective target of one unit for a KPI and period (bounds given), computed over its subtree only; equals salesperf.effective_target() for the unit.';


-- A team's KPI over local days [first_day, end_day): its whole subtree
-- (as kpi_value counts a unit), from the counters.  A team part depends on
-- what the whole team did, so a rep login, whose row-level security hides
-- its teammates' counters, must still get the team's total: this runs with
-- the owner's rights and returns only the unit's aggregate, which the
-- public unit boards show anyway.
CREATE FUNCTION salesperf.commission_team_value(kpi text, unit_id bigint, first_day date, end_day date)
RETURNS numeric
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- PL/pgSQL, not SQL: called once per team, its plan is kept.
    RETURN salesperf.kpi_value_days(kpi, 'unit', unit_id, first_day, end_day);
END
$$;
COMMENT ON FUNCTION salesperf.commission_team_value(text, bigint, date, date) IS
  'Internal: a unit''s KPI value over its whole subtree and the given local days, from counters (runs as the owner: a team part needs the whole team''s total; only the aggregate is returned).';

-- The inputs of commission lines, optionally only for_rep: for the open
-- period [ps, pe) (local days [d0, d1)) from today's plans, assignments,
-- targets and memberships, one row per rep paid under a plan of this kind;
-- with ps NULL, the frozen inputs of every closed period of the kind.
CREATE FUNCTION salesperf.commission_inputs(period text, ps timestamptz, pe timestamptz, d0 date, d1 date,
                                                 for_rep bigint)
RETURNS TABLE (rep_id bigint, period_start timestamptz, first_day date, end_day date, plan text, basis_kpi text,
               plan_kind text, breakpoints numeric[], rates numeric[], retroactive boolean,
               target_incentive numeric, individual_weight numeric, team_weight numeric, curve_x numeric[],
               curve_y numeric[], plan_team_bonus numeric, target numeric, team_units bigint[],
               team_shares numeric[], team_targets numeric[])
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- EXECUTE: planned with the values, so a one-rep call is index probes
    -- and the rep filter disappears from a whole-company call.
    IF ps IS NULL THEN
        RETURN QUERY EXECUTE $q$
          SELECT c.rep_id, c.period_start, c.first_day, c.end_day, c.plan, c.basis_kpi, c.plan_kind,
                 c.breakpoints, c.rates, c.retroactive, c.target_incentive, c.individual_weight, c.team_weight,
                 c.curve_x, c.curve_y, c.plan_team_bonus, c.target, c.team_units, c.team_shares, c.team_targets
            FROM salesperf.commission_paid c
           WHERE c.period = $1 AND c.plan IS NOT NULL AND ($2::bigint IS NULL OR c.rep_id = $2)
        $q$ USING period, for_rep;
        RETURN;
    END IF;
    RETURN QUERY EXECUTE $q$
      WITH a AS MATERIALIZED (
          SELECT DISTINCT ON (pa.rep_id) pa.rep_id, cp.*
            FROM salesperf.plan_assignment pa
            JOIN salesperf.commission_plan cp ON cp.name = pa.plan
           WHERE cp.period = $1 AND pa.during && tstzrange($2, $3, '[)')
             AND ($6::bigint IS NULL OR pa.rep_id = $6)
           ORDER BY pa.rep_id, lower(pa.during) DESC
      ), m AS MATERIALIZED (
          SELECT a.rep_id, a.basis_kpi AS kpi, ms.unit_id, lower(ms.during) AS since,
                 round(extract(epoch FROM least(coalesce(upper(ms.during), $3), $3) - greatest(lower(ms.during), $2))
                       / extract(epoch FROM $3 - $2), 12) AS share
            FROM a JOIN salesperf.membership ms
              ON ms.rep_id = a.rep_id AND ms.during && tstzrange($2, $3, '[)')
      ), ut AS MATERIALIZED (
          -- Each team's target once, however many members it has.
          SELECT u.unit_id, u.kpi, salesperf.unit_target(u.kpi, $1, $2, $4, $5, u.unit_id) AS target
            FROM (SELECT DISTINCT m.unit_id, m.kpi FROM m) u
      ), tm AS MATERIALIZED (
          -- One pass over the memberships (not one per rep).
          SELECT m.rep_id,
                 array_agg(m.unit_id ORDER BY m.since) AS units,
                 array_agg(m.share ORDER BY m.since) AS shares,
                 array_agg(ut.target ORDER BY m.since) AS targets
            FROM m JOIN ut ON ut.unit_id = m.unit_id AND ut.kpi = m.kpi
           GROUP BY m.rep_id
      )
      SELECT a.rep_id, $2, $4, $5, a.name, a.basis_kpi, a.kind, a.breakpoints, a.rates, a.retroactive,
             a.target_incentive, a.individual_weight, a.team_weight, a.curve_x, a.curve_y, a.team_bonus,
             (SELECT t.value FROM salesperf.target t
               WHERE t.scope_id = a.rep_id AND t.scope = 'rep' AND t.period = $1
                 AND t.start_day >= $4 AND t.start_day < $5 AND t.kpi = a.basis_kpi
               ORDER BY t.start_day LIMIT 1),
             tm.units, tm.shares, tm.targets
        FROM a
        LEFT JOIN tm ON tm.rep_id = a.rep_id
    $q$ USING period, ps, pe, d0, d1, for_rep;
END
$$;
COMMENT ON FUNCTION salesperf.commission_inputs(text, timestamptz, timestamptz, date, date, bigint) IS
  'Internal: inputs of commission lines (optionally one rep): of an open period (bounds given) from today''s plans, assignments, targets and memberships, or (ps NULL) as frozen for every closed period of the kind.';

-- Lines with their parts at full precision: the live lines of the open
-- period [ps, pe), or (ps NULL) re-runs of every closed period of the kind
-- from its frozen inputs.  The basis and the teams' KPI values come from
-- the counters.
CREATE FUNCTION salesperf.commission_evaluate(period text, ps timestamptz, pe timestamptz, d0 date, d1 date,
                                              for_rep bigint)
RETURNS TABLE (rep_id bigint, period_start timestamptz, first_day date, end_day date, plan text, basis_kpi text,
               plan_kind text, breakpoints numeric[], rates numeric[], retroactive boolean,
               target_incentive numeric, individual_weight numeric, team_weight numeric, curve_x numeric[],
               curve_y numeric[], plan_team_bonus numeric, target numeric, team_units bigint[],
               team_shares numeric[], team_targets numeric[], basis numeric, attainment numeric,
               individual_part numeric, team_part numeric, team_bonus numeric)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
#variable_conflict use_column
BEGIN
    -- A static query: nothing in it depends on which rep or period is asked
    -- for (the inputs function chooses the rows), so its plan is kept
    -- between calls.
    RETURN QUERY
      WITH i AS MATERIALIZED (
          SELECT l.* FROM salesperf.commission_inputs(commission_evaluate.period, commission_evaluate.ps,
                                                      commission_evaluate.pe, commission_evaluate.d0,
                                                      commission_evaluate.d1, commission_evaluate.for_rep) l
      ), b AS (
          -- Each line's basis: the rep's KPI over the line's days, one
          -- index probe per line (LATERAL: the plan is kept between calls,
          -- and must not trade the probes for a scan of a whole period's
          -- counters when it is asked for one rep).
          SELECT i.rep_id, i.period_start, x.num, x.den
            FROM i JOIN salesperf.kpi k ON k.name = i.basis_kpi
           CROSS JOIN LATERAL (
                 SELECT sum(v.num) AS num, sum(v.den) AS den
                   FROM salesperf.kpi_counter c
                  CROSS JOIN LATERAL salesperf.kpi_contribution(k.num_kind, k.num_measure, k.den_kind, k.den_measure,
                                                                c.kind, c.activities, c.amount, c.points,
                                                                c.last_at, c.last_amount_at, c.last_point_at) v
                  WHERE c.rep_id = i.rep_id AND c.day >= i.first_day AND c.day < i.end_day AND v.num IS NOT NULL
                    -- Only the kinds the KPI reads (kpi_contribution gives
                    -- the others nothing): most counter rows are skipped.
                    AND (k.num_kind IS NULL OR c.kind = k.num_kind
                         OR (k.den_measure IS NOT NULL AND (k.den_kind IS NULL OR c.kind = k.den_kind)))) x
      ), tm AS MATERIALIZED (
          -- Each line's teams, with what the team part needs of the plan.
          SELECT i.rep_id, i.period_start, i.first_day, i.end_day, i.basis_kpi, i.plan_kind, i.target_incentive,
                 i.team_weight, i.curve_x, i.curve_y, i.plan_team_bonus, t.unit_id, t.share, t.target
            FROM i CROSS JOIN LATERAL unnest(i.team_units, i.team_shares, i.team_targets) AS t(unit_id, share, target)
      ), tu AS MATERIALIZED (
          -- Each team's KPI over the line's days, once per team.
          SELECT u.unit_id, u.period_start, u.basis_kpi,
                 salesperf.commission_team_value(u.basis_kpi, u.unit_id, u.first_day, u.end_day) AS value
            FROM (SELECT DISTINCT tm.unit_id, tm.period_start, tm.first_day, tm.end_day, tm.basis_kpi FROM tm) u
      ), tp AS (
          SELECT tm.rep_id, tm.period_start,
                 sum(CASE WHEN tm.plan_kind = 'quota'
                          THEN tm.target_incentive * tm.team_weight * tm.share
                               * COALESCE(salesperf.payout_curve(round(tu.value / NULLIF(tm.target, 0), 12),
                                                                 tm.curve_x, tm.curve_y), 0)
                          ELSE 0 END) AS team_part,
                 sum(CASE WHEN tm.target IS NOT NULL AND COALESCE(tu.value, 0) >= tm.target
                          THEN tm.share * tm.plan_team_bonus ELSE 0 END) AS team_bonus
            FROM tm
            LEFT JOIN tu ON tu.unit_id = tm.unit_id AND tu.period_start = tm.period_start AND tu.basis_kpi = tm.basis_kpi
           GROUP BY tm.rep_id, tm.period_start
      )
      SELECT i.*, bv.basis, bv.attainment,
             CASE WHEN i.plan_kind = 'rate'
                  THEN COALESCE(salesperf.tiered_commission(round(bv.basis, 12), i.breakpoints, i.rates, i.retroactive), 0)
                  ELSE i.target_incentive * i.individual_weight
                       * COALESCE(salesperf.payout_curve(bv.attainment, i.curve_x, i.curve_y), 0)
             END,
             COALESCE(tp.team_part, 0), COALESCE(tp.team_bonus, 0)
        FROM i
        JOIN salesperf.kpi k ON k.name = i.basis_kpi
        LEFT JOIN b ON b.rep_id = i.rep_id AND b.period_start = i.period_start
        LEFT JOIN tp ON tp.rep_id = i.rep_id AND tp.period_start = i.period_start
       CROSS JOIN LATERAL (SELECT CASE WHEN k.den_measure IS NULL THEN COALESCE(b.num, 0)
                                       ELSE b.num / NULLIF(b.den, 0) END AS basis) bb
       -- Attainment (a quotient) and the basis enter the curve and the
       -- tiers at 12 decimal places, like the plan's own numbers.
       CROSS JOIN LATERAL (SELECT bb.basis, round(bb.basis / NULLIF(i.target, 0), 12) AS attainment) bv;
END
$$;
COMMENT ON FUNCTION salesperf.commission_evaluate(text, timestamptz, timestamptz, date, date, bigint) IS
  'Internal: commission lines at full precision, from counters: the live lines of the open period [ps, pe) (local days [d0, d1)), or (ps NULL) a re-run of every closed period of the kind from its frozen inputs.';

-- The adjustment lines owed in the period starting on local day first_day,
-- if that period is the next open one of its kind (the one after the last
-- closed): for each closed period, a re-run now minus what was paid for it
-- and the adjustments for it paid since.
CREATE FUNCTION salesperf.commission_pending_adjustments(period text, first_day date, for_rep bigint)
RETURNS TABLE (rep_id bigint, for_period_start timestamptz, basis_kpi text, basis_paid numeric,
               basis_now numeric, earned_paid numeric, earned_now numeric, adjusted_before numeric,
               amount numeric)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    last_end date;
    cs       integer;
BEGIN
    SELECT max(c.end_day) INTO last_end FROM salesperf.commission_period c
     WHERE c.period = commission_pending_adjustments.period;
    IF last_end IS DISTINCT FROM commission_pending_adjustments.first_day THEN
        RETURN;
    END IF;
    SELECT s.currency_scale INTO cs FROM salesperf.settings s;
    RETURN QUERY
    WITH rerun AS (
        SELECT e.rep_id, e.period_start, e.basis,
               round(e.individual_part + e.team_part + e.team_bonus, cs) AS earned
          FROM salesperf.commission_evaluate(commission_pending_adjustments.period, NULL, NULL, NULL, NULL,
                                             commission_pending_adjustments.for_rep) e
    ), before AS (
        SELECT a.rep_id, a.for_period_start, sum(a.amount) AS amount
          FROM salesperf.commission_adjustment a
         WHERE a.period = commission_pending_adjustments.period
           AND (commission_pending_adjustments.for_rep IS NULL OR a.rep_id = commission_pending_adjustments.for_rep)
         GROUP BY a.rep_id, a.for_period_start
    ), x AS (
        SELECT c.rep_id, c.period_start, c.basis_kpi, c.basis, e.basis AS now_basis,
               c.total - c.adjustments AS paid, e.earned AS now_earned, COALESCE(bf.amount, 0) AS before
          FROM salesperf.commission_paid c
          JOIN rerun e ON e.rep_id = c.rep_id AND e.period_start = c.period_start
          LEFT JOIN before bf ON bf.rep_id = c.rep_id AND bf.for_period_start = c.period_start
         WHERE c.period = commission_pending_adjustments.period AND c.plan IS NOT NULL
           AND (commission_pending_adjustments.for_rep IS NULL OR c.rep_id = commission_pending_adjustments.for_rep)
    )
    SELECT x.rep_id, x.period_start, x.basis_kpi, x.basis, x.now_basis, x.paid, x.now_earned,
           round(x.before, cs), x.now_earned - x.paid - x.before
      FROM x
     WHERE x.now_earned - x.paid - x.before <> 0;
END
$$;
COMMENT ON FUNCTION salesperf.commission_pending_adjustments(text, date, bigint) IS
  'Internal: adjustment lines owed in the period of a kind that starts on local day first_day when it is the next open one (re-run of each closed period minus what was paid for it so far); none otherwise.';

CREATE FUNCTION salesperf.commission_adjustments(period text, period_start timestamptz, for_rep bigint DEFAULT NULL)
RETURNS TABLE (rep_id bigint, name text, for_period_start timestamptz, basis_paid numeric, basis_now numeric,
               earned_paid numeric, earned_now numeric, adjusted_before numeric, amount numeric, kind text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    p      record;
    closed salesperf.commission_period;
BEGIN
    PERFORM salesperf.commission_period_check('commission_adjustments', commission_adjustments.period,
                                              commission_adjustments.period_start);
    p := salesperf.target_period(commission_adjustments.period_start, commission_adjustments.period);
    closed := salesperf.closed_commission_period(commission_adjustments.period, p.first_day, p.end_day);
    IF closed.period IS NOT NULL THEN
        RETURN QUERY
        SELECT a.rep_id, r.name, a.for_period_start, a.basis_paid, a.basis_now, a.earned_paid, a.earned_now,
               a.adjusted_before, a.amount, CASE WHEN a.amount < 0 THEN 'clawback' ELSE 'true_up' END
          FROM salesperf.commission_adjustment a
          LEFT JOIN salesperf.rep r ON r.rep_id = a.rep_id
         WHERE a.period = closed.period AND a.period_start = closed.period_start
           AND (commission_adjustments.for_rep IS NULL OR a.rep_id = commission_adjustments.for_rep)
         ORDER BY a.rep_id, a.for_period_start;
        RETURN;
    END IF;
    RETURN QUERY
    SELECT a.rep_id, r.name, a.for_period_start, a.basis_paid,
           salesperf.display_score(a.basis_now, a.basis_kpi),
           a.earned_paid, a.earned_now, a.adjusted_before, a.amount,
           CASE WHEN a.amount < 0 THEN 'clawback' ELSE 'true_up' END
      FROM salesperf.commission_pending_adjustments(commission_adjustments.period, p.first_day,
                                                    commission_adjustments.for_rep) a
      LEFT JOIN salesperf.rep r ON r.rep_id = a.rep_id
     ORDER BY a.rep_id, a.for_period_start;
END
$$;
COMMENT ON FUNCTION salesperf.commission_adjustments(text, timestamptz, bigint) IS
  'Clawbacks and true-ups paid in the period containing period_start (optionally for one rep), one line per earlier closed period corrected: the basis and earnings as paid and as a re-run gives them now, adjustments already paid for it, and the amount (negative: clawback). Frozen for a closed period; computed for the next open period (the one after the last closed); empty otherwise.';

-- The statement lines of an open period [ps, pe) (local days [d0, d1))
-- with their inputs (what close_commission_period() freezes).
CREATE FUNCTION salesperf.commission_open_lines(period text, ps timestamptz, pe timestamptz, d0 date, d1 date,
                                                for_rep bigint)
RETURNS TABLE (rep_id bigint, name text, plan text, basis_kpi text, plan_kind text, breakpoints numeric[],
               rates numeric[], retroactive boolean, target_incentive numeric, individual_weight numeric,
               team_weight numeric, curve_x numeric[], curve_y numeric[], plan_team_bonus numeric,
               target numeric, team_units bigint[], team_shares numeric[], team_targets numeric[],
               basis numeric, attainment numeric, individual_part numeric, team_part numeric,
               team_bonus numeric, adjustments numeric, total numeric)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    cs integer;
BEGIN
    SELECT s.currency_scale INTO cs FROM salesperf.settings s;
    RETURN QUERY
    WITH live AS (
        SELECT * FROM salesperf.commission_evaluate(commission_open_lines.period, ps, pe, d0, d1,
                                                    commission_open_lines.for_rep)
    ), adj AS (
        SELECT a.rep_id, sum(a.amount) AS amount
          FROM salesperf.commission_pending_adjustments(commission_open_lines.period, d0,
                                                        commission_open_lines.for_rep) a
         GROUP BY a.rep_id
    )
    SELECT COALESCE(l.rep_id, a.rep_id),
           (SELECT r.name FROM salesperf.rep r WHERE r.rep_id = COALESCE(l.rep_id, a.rep_id)),
           l.plan, l.basis_kpi, l.plan_kind, l.breakpoints, l.rates,
           l.retroactive, l.target_incentive, l.individual_weight, l.team_weight, l.curve_x, l.curve_y,
           l.plan_team_bonus, l.target, l.team_units, l.team_shares, l.team_targets,
           salesperf.display_score(l.basis, l.basis_kpi),
           trim_scale(round(l.attainment, 4)),
           round(COALESCE(l.individual_part, 0), cs), round(COALESCE(l.team_part, 0), cs),
           round(COALESCE(l.team_bonus, 0), cs), round(COALESCE(a.amount, 0), cs),
           round(COALESCE(l.individual_part + l.team_part + l.team_bonus, 0), cs) + COALESCE(a.amount, 0)
      FROM live l
      FULL JOIN adj a ON a.rep_id = l.rep_id;
END
$$;
COMMENT ON FUNCTION salesperf.commission_open_lines(text, timestamptz, timestamptz, date, date, bigint) IS
  'Internal: the statement lines of an open period (bounds given) with their inputs (what close_commission_period() freezes).';

CREATE FUNCTION salesperf.commission_statement(period text, period_start timestamptz, for_rep bigint DEFAULT NULL)
RETURNS TABLE (rep_id bigint, name text, plan text, basis numeric, target numeric, attainment numeric,
               individual_part numeric, team_part numeric, team_bonus numeric, adjustments numeric,
               total numeric)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    p      record;
    closed salesperf.commission_period;
BEGIN
    PERFORM salesperf.commission_period_check('commission_statement', commission_statement.period,
                                              commission_statement.period_start);
    IF commission_statement.for_rep IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM salesperf.rep r WHERE r.rep_id = commission_statement.for_rep) THEN
        RAISE EXCEPTION 'unknown rep %', commission_statement.for_rep
            USING ERRCODE = '42704', HINT = 'See salesperf.rep.';
    END IF;
    p := salesperf.target_period(commission_statement.period_start, commission_statement.period);
    closed := salesperf.closed_commission_period(commission_statement.period, p.first_day, p.end_day);
    IF closed.period IS NOT NULL THEN
        RETURN QUERY
        SELECT c.rep_id, c.name, c.plan, c.basis, c.target, c.attainment, c.individual_part, c.team_part,
               c.team_bonus, c.adjustments, c.total
          FROM salesperf.commission_paid c
         WHERE c.period = closed.period AND c.period_start = closed.period_start
           AND (commission_statement.for_rep IS NULL OR c.rep_id = commission_statement.for_rep)
         ORDER BY c.rep_id;
        RETURN;
    END IF;
    RETURN QUERY
    SELECT l.rep_id, l.name, l.plan, l.basis, l.target, l.attainment, l.individual_part, l.team_part,
           l.team_bonus, l.adjustments, l.total
      FROM salesperf.commission_open_lines(commission_statement.period, p.period_start, p.period_end,
                                           p.first_day, p.end_day, commission_statement.for_rep) l
     ORDER BY l.rep_id;
END
$$;
COMMENT ON FUNCTION salesperf.commission_statement(text, timestamptz, bigint) IS
  'Commission statement of the period (day, week, month, quarter, year) containing period_start, one row per rep paid under a plan of that kind (or owed an adjustment), optionally only rep for_rep: the plan, basis (the plan''s KPI), target, attainment, individual and team parts, team bonus, adjustments (clawbacks and true-ups of closed periods, in the next open period) and total, rounded to currency_scale at the end. A closed period answers what was frozen; an open one is computed from counters and targets. Errors: NULL period 22004, unknown period 22023, unknown rep 42704.';

CREATE FUNCTION salesperf.close_commission_period(period_start timestamptz, period text DEFAULT 'month')
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    p      record;
    closed salesperf.commission_period;
    last   salesperf.commission_period;
    lines  integer;
BEGIN
    PERFORM salesperf.commission_period_check('close_commission_period', period, period_start);
    -- One close at a time: two sessions closing the same period give one
    -- close (the second sees it closed and does nothing).
    LOCK TABLE salesperf.commission_period IN SHARE ROW EXCLUSIVE MODE;
    p := salesperf.target_period(period_start, period);
    closed := salesperf.closed_commission_period(period, p.first_day, p.end_day);
    IF closed.period IS NOT NULL THEN
        RAISE NOTICE 'commission % starting % is already closed', period, closed.period_start;
        RETURN 0;
    END IF;
    IF p.period_end > pg_catalog.now() THEN
        RAISE EXCEPTION 'commission % starting % has not ended: it ends %', period, p.period_start, p.period_end
            USING ERRCODE = '22023', HINT = 'Close a period once it is over.';
    END IF;
    SELECT c.* INTO last FROM salesperf.commission_period c
     WHERE c.period = close_commission_period.period ORDER BY c.first_day DESC LIMIT 1;
    IF last.period IS NOT NULL AND last.end_day <> p.first_day THEN
        RAISE EXCEPTION 'commission periods close in order: % starting % is not the one after the last closed (% starting %)',
                        period, p.period_start, period, last.period_start
            USING ERRCODE = '22023',
                  HINT = CASE WHEN p.first_day > last.end_day
                              THEN pg_catalog.format('Close the %s starting %s first.', period, last.period_end)
                              ELSE 'Periods before the first closed one are never closed.' END;
    END IF;

    -- One statement: the functions below read the snapshot taken before it,
    -- in which this period is still open (and the next after the last
    -- closed), so the adjustment lines frozen are the ones the statement
    -- lines add up.
    WITH closing AS (
        INSERT INTO salesperf.commission_period (period, period_start, period_end, first_day, end_day)
        VALUES (period, p.period_start, p.period_end, p.first_day, p.end_day)
    ), adj AS (
        INSERT INTO salesperf.commission_adjustment
               (period, period_start, rep_id, for_period_start, basis_paid, basis_now, earned_paid, earned_now,
                adjusted_before, amount)
        SELECT period, p.period_start, a.rep_id, a.for_period_start, a.basis_paid,
               salesperf.display_score(a.basis_now, a.basis_kpi),
               a.earned_paid, a.earned_now, a.adjusted_before, a.amount
          FROM salesperf.commission_pending_adjustments(period, p.first_day, NULL) a
    )
    INSERT INTO salesperf.commission_paid
           (period, period_start, rep_id, name, plan, basis_kpi, plan_kind, breakpoints, rates, retroactive,
            target_incentive, individual_weight, team_weight, curve_x, curve_y, plan_team_bonus, first_day,
            end_day, target, team_units, team_shares, team_targets, basis, attainment, individual_part,
            team_part, team_bonus, adjustments, total)
    SELECT period, p.period_start, l.rep_id, l.name, l.plan, l.basis_kpi, l.plan_kind, l.breakpoints, l.rates,
           l.retroactive, l.target_incentive, l.individual_weight, l.team_weight, l.curve_x, l.curve_y,
           l.plan_team_bonus, p.first_day, p.end_day, l.target, l.team_units, l.team_shares, l.team_targets,
           l.basis, l.attainment, l.individual_part, l.team_part, l.team_bonus, l.adjustments, l.total
      FROM salesperf.commission_open_lines(period, p.period_start, p.period_end, p.first_day, p.end_day, NULL) l;
    GET DIAGNOSTICS lines = ROW_COUNT;
    RETURN lines;
END
$$;
COMMENT ON FUNCTION salesperf.close_commission_period(timestamptz, text) IS
  'Close the commission period (default a month) containing period_start: freezes every statement line with its inputs and the adjustment lines it pays. Later changes to what happened in a closed period come out as adjustments in the next open period. Closing a closed period does nothing (returns 0); closing one that has not ended or is not the one after the last closed raises 22023. Returns the number of lines frozen.';
-- Row-level security (SPEC §12): a login whose only salesperf level is `rep`
-- sees the rows of its own rep (salesperf.rep.db_role = current_user) and,
-- when that rep manages units (salesperf.unit.manager_rep_id), the rows of
-- every rep who is a member today of a unit in the subtree of those units.
-- The admin, writer and reader levels see every row: BI reads everything and
-- the CRM backend writes for every rep.  Leaderboards, contests, badges,
-- rewards and the achievement board are public (no policy).
--
-- Cost: the policies call three STABLE functions, each in an uncorrelated
-- subquery, so each runs once per statement (an InitPlan) and the filter on
-- a table is `rep_id = ANY ($n)` on the rows of the query's own index probe.
-- They are PL/pgSQL so that their plans are kept for the session (an SQL
-- function with a SET clause is planned again on every call).
--
-- salesperf's own code that keeps derived state (the triggers, recompute(),
-- close_commission_period(), ...) runs as the extension's owner, a
-- superuser, which row-level security does not filter: it maintains every
-- rep's rows whoever writes the ledger.

-- ---------------------------------------------------------------------------
-- The levels handed out by salesperf.grant_access(), one row per role and
-- level.  Policies read it to tell unrestricted logins from `rep` logins.
CREATE TABLE salesperf.access_grant (
    role       name NOT NULL,
    level      text NOT NULL CHECK (level IN ('admin', 'writer', 'reader', 'rep')),
    granted_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (role, level)
);
COMMENT ON TABLE salesperf.access_grant IS
  'Levels given by salesperf.grant_access(), one row per role and level (written by grant_access; delete a role''s row when withdrawing its level with REVOKE). Row-level security reads it: a role holding admin, writer or reader, directly or through membership, sees every row.';
COMMENT ON COLUMN salesperf.access_grant.role IS 'Role given the level.';
COMMENT ON COLUMN salesperf.access_grant.level IS 'admin, writer, reader or rep.';
COMMENT ON COLUMN salesperf.access_grant.granted_at IS 'When grant_access() first gave it.';
SELECT pg_catalog.pg_extension_config_dump('salesperf.access_grant', '');

-- A rep login is found by its db_role: one index probe per statement.
CREATE INDEX rep_db_role_idx ON salesperf.rep (db_role) WHERE db_role IS NOT NULL;

-- ---------------------------------------------------------------------------
-- Whether the current role sees every row: it holds the admin, writer or
-- reader level, itself or through a role it is a member of (superusers are
-- members of every role; they bypass row-level security anyway).
CREATE FUNCTION salesperf.row_access_unrestricted()
RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (SELECT EXISTS (SELECT 1
                             FROM salesperf.access_grant g
                             JOIN pg_catalog.pg_roles r ON r.rolname = g.role
                            WHERE g.level <> 'rep'
                              AND pg_catalog.pg_has_role(CURRENT_USER, r.oid, 'USAGE')));
END
$$;
COMMENT ON FUNCTION salesperf.row_access_unrestricted() IS
  'Internal (row-level security): true when the current role holds the admin, writer or reader level and so sees every rep''s rows.';

-- The units whose whole subtree the current role manages: every descendant
-- (today's tree) of a unit whose manager is a rep linked to the role.
CREATE FUNCTION salesperf.row_access_units()
RETURNS bigint[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (SELECT COALESCE(pg_catalog.array_agg(DISTINCT t.descendant_id ORDER BY t.descendant_id), '{}')
              FROM salesperf.rep me
              JOIN salesperf.unit u ON u.manager_rep_id = me.rep_id
              JOIN salesperf.unit_tree t ON t.ancestor_id = u.unit_id
             WHERE me.db_role = CURRENT_USER);
END
$$;
COMMENT ON FUNCTION salesperf.row_access_units() IS
  'Internal (row-level security): the units the current role manages, with their whole subtree as of today''s tree (empty for a role that manages none).';

-- The reps whose rows the current role sees: its own rep(s) and every rep
-- who is a member today of a unit it manages (row_access_units).
CREATE FUNCTION salesperf.row_access_reps()
RETURNS bigint[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (SELECT COALESCE(pg_catalog.array_agg(DISTINCT x.rep_id ORDER BY x.rep_id), '{}')
              FROM (SELECT r.rep_id FROM salesperf.rep r WHERE r.db_role = CURRENT_USER
                    UNION ALL
                    SELECT m.rep_id
                      FROM salesperf.rep me
                      JOIN salesperf.unit u ON u.manager_rep_id = me.rep_id
                      JOIN salesperf.unit_tree t ON t.ancestor_id = u.unit_id
                      JOIN salesperf.membership m ON m.unit_id = t.descendant_id AND m.during @> pg_catalog.now()
                     WHERE me.db_role = CURRENT_USER) x);
END
$$;
COMMENT ON FUNCTION salesperf.row_access_reps() IS
  'Internal (row-level security): the reps whose rows the current role sees: the rep whose db_role it is, and the reps who are members today of a unit in the subtree of a unit it manages.';

-- ---------------------------------------------------------------------------
-- Policies.  One permissive policy per table, for every command: a row is
-- seen when the role is unrestricted or the row belongs to a visible rep;
-- only unrestricted roles write (the rep level holds no write privilege
-- anyway: this is the second lock).  FORCE: even a non-superuser owner of
-- these tables would be filtered.
DO $$
DECLARE
    per_rep constant text[] := ARRAY[
        'activity', 'opportunity', 'capped_award', 'commission_paid', 'commission_adjustment',
        'plan_assignment', 'target_achieved'];
    t text;
BEGIN
    FOREACH t IN ARRAY per_rep LOOP
        EXECUTE pg_catalog.format($f$
            CREATE POLICY rep_rows ON salesperf.%1$I
                USING ((SELECT salesperf.row_access_unrestricted())
                       OR rep_id = ANY ((SELECT salesperf.row_access_reps())::bigint[]))
                WITH CHECK ((SELECT salesperf.row_access_unrestricted()))$f$, t);
        EXECUTE pg_catalog.format('ALTER TABLE salesperf.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE pg_catalog.format('ALTER TABLE salesperf.%I FORCE ROW LEVEL SECURITY', t);
    END LOOP;
END
$$;

-- Counters carry the unit the activity counted for: a manager sees those of
-- the units in the subtree too (a unit's KPI for a past period includes
-- reps who have left it since), a rep only its own.
CREATE POLICY rep_rows ON salesperf.kpi_counter
    USING ((SELECT salesperf.row_access_unrestricted())
           OR rep_id = ANY ((SELECT salesperf.row_access_reps())::bigint[])
           OR unit_id = ANY ((SELECT salesperf.row_access_units())::bigint[]))
    WITH CHECK ((SELECT salesperf.row_access_unrestricted()));
ALTER TABLE salesperf.kpi_counter ENABLE ROW LEVEL SECURITY;
ALTER TABLE salesperf.kpi_counter FORCE ROW LEVEL SECURITY;

-- Targets: a rep target goes with its rep, a unit target with the unit (a
-- manager sees the targets of the units in the subtree), the company target
-- with the managers of a top-level unit.
CREATE POLICY rep_rows ON salesperf.target
    USING ((SELECT salesperf.row_access_unrestricted())
           OR rep_id = ANY ((SELECT salesperf.row_access_reps())::bigint[])
           OR unit_id = ANY ((SELECT salesperf.row_access_units())::bigint[])
           OR (scope = 'company'
               AND EXISTS (SELECT 1 FROM salesperf.unit u
                            WHERE u.parent_id IS NULL
                              AND u.unit_id = ANY ((SELECT salesperf.row_access_units())::bigint[]))))
    WITH CHECK ((SELECT salesperf.row_access_unrestricted()));
ALTER TABLE salesperf.target ENABLE ROW LEVEL SECURITY;
ALTER TABLE salesperf.target FORCE ROW LEVEL SECURITY;

-- ---------------------------------------------------------------------------
-- Views that read those tables in their own query run with the rights of
-- the role that reads them, so that the policies apply to it (a view
-- otherwise reads its tables as its owner, the superuser who installed
-- salesperf, which row-level security does not filter).  Views that only
-- call functions (kpi_report, scoreboard, target_progress) are filtered by
-- the functions' own reads, which always run as the caller.
ALTER VIEW salesperf.scored_activity SET (security_invoker = true);
ALTER VIEW salesperf.board_contribution SET (security_invoker = true);
ALTER VIEW salesperf.computed_standing SET (security_invoker = true);
ALTER VIEW salesperf.forecast_accuracy SET (security_invoker = true);
ALTER VIEW salesperf.target_progress SET (security_invoker = true);
-- Privileges (SPEC §12): who may run what, and which code runs as the
-- extension's owner.  This part comes last in the install script so that it
-- sees every object the earlier parts created.
--
-- The model:
--   * PUBLIC gets nothing: no USAGE on the schema, no table, no routine.
--   * salesperf.grant_access(role, level) hands out one of four levels
--     (admin, writer, reader, rep); the objects of each level are listed once,
--     in salesperf.access_privileges().
--   * Derived tables (capped awards, counters, standings, the unit closure,
--     board units, forecast snapshots) are written only by salesperf's own
--     code.  No level gets INSERT, UPDATE, DELETE or TRUNCATE on them; the
--     code that writes them runs as the extension's owner (SECURITY DEFINER,
--     below), reached only through triggers on salesperf's tables and
--     through the admin functions listed here.
--   * Every SECURITY DEFINER function is marked in this file, nowhere else,
--     and has its search_path pinned (checked at the end of this file).

-- ---------------------------------------------------------------------------
-- search_path of the C ledger trigger.  It runs its maintenance SQL through
-- SPI with unqualified operators (=, @>, <): with the caller's search_path a
-- look-alike operator in a schema listed before pg_catalog would be called,
-- with the owner's rights once the trigger is SECURITY DEFINER.
ALTER FUNCTION salesperf.ledger_changed() SET search_path = pg_catalog, pg_temp;

-- ---------------------------------------------------------------------------
-- Trigger functions.  Rule: a trigger function of salesperf runs as the
-- extension's owner when every trigger that uses it (at install time) is on
-- one of salesperf's own tables.  Those are the functions that keep derived
-- state in step (ledger_changed on salesperf.activity; the membership,
-- point rule, unit tree and org chart triggers; the opportunity triggers
-- that write deal activities) and the guards beside them: the rows they
-- write must not depend on what the role changing a ledger or configuration
-- row may write itself.  A trigger added later to a salesperf table gets the
-- same treatment without being listed here.
--
-- Exceptions, on purpose: the triggers salesperf.track() and
-- salesperf.track_opportunities() install on a CRM's own tables run as the
-- role writing the CRM table, so that role needs the writer level and the
-- ledger's own privileges decide what it may record.  Running them as the
-- owner would let anyone who may write a tracked CRM table write the
-- ledger.  A trigger function used on no salesperf table and not named here
-- stops the install: someone has to decide which kind it is.
DO $$
DECLARE
    runs_as_invoker constant text[] := ARRAY['tracked_row_changed', 'opportunity_source_changed'];
    f record;
BEGIN
    FOR f IN
        SELECT p.oid::pg_catalog.regprocedure AS fn, p.proname,
               EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t WHERE t.tgfoid = p.oid) AS used,
               NOT EXISTS (SELECT 1
                             FROM pg_catalog.pg_trigger t
                             JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
                            WHERE t.tgfoid = p.oid
                              AND c.relnamespace <> 'salesperf'::pg_catalog.regnamespace) AS own_tables_only
          FROM pg_catalog.pg_proc p
         WHERE p.pronamespace = 'salesperf'::pg_catalog.regnamespace
           AND p.prorettype = 'pg_catalog.trigger'::pg_catalog.regtype
         ORDER BY p.proname
    LOOP
        IF f.proname = ANY (runs_as_invoker) THEN
            CONTINUE;
        END IF;
        IF NOT f.used OR NOT f.own_tables_only THEN
            RAISE EXCEPTION 'trigger function % is neither used only on salesperf tables nor listed as running as the invoker', f.fn
                USING ERRCODE = '55000',
                      HINT = 'Decide in sql/install/90_access.sql whether it runs as the extension owner.';
        END IF;
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SECURITY DEFINER', f.fn);
    END LOOP;
END
$$;

-- ---------------------------------------------------------------------------
-- Maintenance an admin starts that writes derived tables directly.
-- recompute(): rebuilds the closure, board map, capped awards, counters and
-- standings (and locks the ledger and the reps), which no level may do itself.
ALTER FUNCTION salesperf.recompute() SECURITY DEFINER;
-- snapshot_forecast(): writes salesperf.forecast_snapshot, a derived table.
ALTER FUNCTION salesperf.snapshot_forecast(text, timestamptz) SECURITY DEFINER;
-- Contests and rewards: no level writes salesperf.contest, contest_result,
-- reward_grant or badge_award by DML.  create_contest() writes the contest
-- (validated by contest_check); finalize_contests() freezes results, awards
-- prize badges, records bonus activities and grants rewards; grant_reward()
-- and set_grant_status() are the only writers of reward grants (the status
-- moves only along pending -> approved -> paid, or to cancelled).
ALTER FUNCTION salesperf.create_contest(text, text, timestamptz, timestamptz, text, bigint, jsonb, text) SECURITY DEFINER;
ALTER FUNCTION salesperf.finalize_contests(timestamptz) SECURITY DEFINER;
ALTER FUNCTION salesperf.grant_reward(text, bigint, text) SECURITY DEFINER;
ALTER FUNCTION salesperf.set_grant_status(bigint, text) SECURITY DEFINER;
-- close_commission_period(): freezes statement lines and adjustment lines
-- into commission_period, commission_paid and commission_adjustment, which
-- no level writes by DML.
ALTER FUNCTION salesperf.close_commission_period(timestamptz, text) SECURITY DEFINER;
-- create_leaderboard() only inserts the board: the leaderboard_changed
-- trigger builds its map and standings, so it runs as the caller.
-- The achievement board and contest standings are public (SPEC §12): they
-- read counters, which row-level security filters for a rep login, and
-- answer the same to every level that may call them.  They return only what
-- the public boards show (points, badges, ranks, scores).
ALTER FUNCTION salesperf.achievement_board_at(timestamptz) SECURITY DEFINER;
ALTER FUNCTION salesperf.contest_standings(text) SECURITY DEFINER;
-- A commission statement's team part needs the whole team's value and
-- target, which a rep login's row-level security would cut down to its own
-- rows: these two return only a unit's aggregate (what the public unit
-- boards show), whoever asks.
ALTER FUNCTION salesperf.commission_team_value(text, bigint, date, date) SECURITY DEFINER;
ALTER FUNCTION salesperf.unit_target(text, text, timestamptz, date, date, bigint) SECURITY DEFINER;

-- ---------------------------------------------------------------------------
-- The objects of each access level, in one place.  Functions are named
-- without arguments: every overload (both kpi_score aggregates, say) goes
-- with its name.  A level includes nothing implicitly except as stated:
-- admin = reader + writer + rep + its own list.
CREATE FUNCTION salesperf.access_privileges(level text)
RETURNS TABLE (privileges text, object_type text, object_name text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- rep: the public boards, contests, badges, rewards and the achievement
    -- board, and one's own data (and a manager's subtree) through row-level
    -- security (88_row_security.sql): the tables that hold one rep's rows,
    -- the read API over them and what that API calls.
    rep_functions constant text[] := ARRAY[
        'leaderboard_top', 'leaderboard_rank', 'board', 'board_standings', 'board_candidates',
        'rank_in', 'previous_rank', 'display_score', 'calendar_start', 'calendar_end',
        'period_start', 'period_end', 'period_range', 'local_day', 'local_day_start',
        'achievement_board_at', 'contest_standings',
        -- the policies call these (every level that reads a filtered table)
        'row_access_unrestricted', 'row_access_reps', 'row_access_units',
        -- own data: KPIs, the scored ledger, targets, commission statements
        'unit_of', 'kpi_value', 'kpi_value_days', 'kpi_contribution', 'rule_points', 'has_capped_rule',
        'target_progress_at', 'effective_target', 'target_key_check', 'targets_at', 'target_tree', 'target_period',
        'tiered_commission', 'payout_curve',
        'commission_statement', 'commission_adjustments', 'commission_open_lines', 'commission_evaluate',
        'commission_inputs', 'unit_target', 'closed_commission_period', 'commission_period_check',
        'commission_pending_adjustments', 'commission_team_value'];
    rep_tables constant text[] := ARRAY[
        'leaderboard', 'kpi', 'settings', 'standing', 'rep', 'unit', 'unit_tree', 'membership',
        'badge', 'badge_award', 'reward', 'reward_grant', 'contest', 'contest_result', 'achievement_board',
        'access_grant',
        -- filtered by row-level security
        'activity', 'opportunity', 'target', 'kpi_counter', 'capped_award', 'target_achieved',
        'commission_paid', 'commission_adjustment', 'plan_assignment',
        'scored_activity', 'target_progress',
        -- what commission statements read besides
        'commission_period', 'commission_plan'];
    -- reader (BI): SELECT on every table and view, plus the read API and
    -- every function a view or an invoker's read function calls.
    reader_functions constant text[] := ARRAY[
        'unit_of', 'kpi_value', 'kpi_value_days', 'kpi_contribution', 'scorecard_ranking', 'rule_points', 'has_capped_rule', 'forecast_deals',
        'forecast', 'cumulative_forecast',
        -- targets: the read API and what target_progress and forecast() call.
        'target_progress_at', 'effective_target', 'target_key_check', 'targets_at', 'target_tree', 'target_period',
        'sales_velocity', 'sales_velocity_detail', 'weighted_pipeline', 'forecast_summary',
        'forecast_quantiles', 'kpi_score',
        -- commission arithmetic (79_commission_math.sql)
        'tiered_commission', 'payout_curve',
        -- contests, rewards and the achievement board (the views and what they call)
        'contest_standings', 'contest_named', 'contest_live', 'contest_contribution',
        'contest_prize_recipients', 'achievement_board_at',
        -- reports (72_reports.sql): the views kpi_report and scoreboard call these
        'sparkline', 'kpi_report_at', 'scoreboard_at',
        -- commission statements and what they call
        'commission_statement', 'commission_adjustments', 'commission_open_lines', 'commission_evaluate',
        'commission_inputs', 'unit_target', 'closed_commission_period', 'commission_period_check',
        'commission_pending_adjustments'];
    -- writer (a CRM backend): the ledger and the opportunities, and what the
    -- invoker's code on those paths reads (record(), upsert_opportunity(),
    -- the triggers on tracked CRM tables).  A 'bonus' activity is ledger
    -- data like any other: a writer can record one.
    writer_functions constant text[] := ARRAY[
        'record', 'upsert_opportunity', 'opportunity_source_rows', 'opportunity_source_sql',
        'row_access_unrestricted', 'row_access_reps', 'row_access_units'];
    writer_tables constant text[] := ARRAY['activity', 'opportunity'];
    writer_reads constant text[] := ARRAY[
        'rep', 'activity_kind', 'stage', 'settings', 'configuration', 'tracked_source',
        'opportunity_source', 'access_grant'];
    -- admin: configuration.  grant_access() itself is not part of it: handing
    -- out access stays with the extension's owner (see grant_access).
    -- track() and track_opportunities() create triggers on the admin's CRM
    -- tables, which takes EXECUTE on the trigger functions; those run as the
    -- CRM writer and refuse tables without a registration.
    admin_functions constant text[] := ARRAY[
        'configure', 'define_kpi', 'create_leaderboard', 'assign', 'recompute', 'set_stage',
        'adjust_forecast', 'snapshot_forecast', 'track', 'untrack', 'check_track',
        'track_backfill', 'tracked_row_changed', 'track_opportunities', 'untrack_opportunities',
        'opportunity_source_changed', 'set_target',
        'create_contest', 'finalize_contests', 'grant_reward', 'set_grant_status',
        'assign_plan', 'close_commission_period',
        -- assign() locks the rep's row first; an admin may update rep rows anyway.
        'lock_reps'];
    -- tracked_source and opportunity_source are written by track() and
    -- track_opportunities(), which run as the admin (they check that the
    -- caller owns the CRM table).
    admin_tables constant text[] := ARRAY[
        'rep', 'unit', 'membership', 'activity_kind', 'kpi', 'point_rule', 'leaderboard', 'stage',
        'configuration', 'forecast_adjustment', 'tracked_source', 'opportunity_source',
        'badge', 'badge_rule', 'reward', 'target', 'scorecard', 'commission_plan', 'plan_assignment'];
    levels  text[];
    missing text;
BEGIN
    IF level IS NULL THEN
        RAISE EXCEPTION 'access level must not be NULL' USING ERRCODE = '22004';
    END IF;
    levels := CASE level
                  WHEN 'admin' THEN ARRAY['rep', 'reader', 'writer', 'admin']
                  WHEN 'reader' THEN ARRAY['rep', 'reader']
                  WHEN 'writer' THEN ARRAY['writer']
                  WHEN 'rep' THEN ARRAY['rep']
              END;
    IF levels IS NULL THEN
        RAISE EXCEPTION 'unknown access level "%"', level
            USING ERRCODE = '22023', HINT = 'Use admin, writer, reader or rep.';
    END IF;

    -- A renamed or dropped object must not silently fall out of a level.
    SELECT pg_catalog.string_agg(x.name, ', ') INTO missing
      FROM (SELECT f AS name FROM unnest(rep_functions || reader_functions
                                         || writer_functions || admin_functions) f
             WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_proc p
                                WHERE p.pronamespace = 'salesperf'::pg_catalog.regnamespace
                                  AND p.proname = f)
            UNION ALL
            SELECT t FROM unnest(rep_tables || writer_tables || writer_reads || admin_tables) t
             WHERE pg_catalog.to_regclass(pg_catalog.format('salesperf.%I', t)) IS NULL) x;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'salesperf access levels name objects that do not exist: %', missing
            USING ERRCODE = '55000', HINT = 'Update salesperf.access_privileges() in sql/install/90_access.sql.';
    END IF;

    RETURN QUERY
    WITH fn(lvl, name) AS (
        SELECT 'rep', unnest(rep_functions)
        UNION ALL SELECT 'reader', unnest(reader_functions)
        UNION ALL SELECT 'writer', unnest(writer_functions)
        UNION ALL SELECT 'admin', unnest(admin_functions)
    ), tbl(lvl, privs, name) AS (
        SELECT 'rep', 'SELECT', unnest(rep_tables)
        UNION ALL SELECT 'writer', 'SELECT, INSERT, UPDATE, DELETE', unnest(writer_tables)
        UNION ALL SELECT 'writer', 'SELECT', unnest(writer_reads)
        UNION ALL SELECT 'admin', 'SELECT, INSERT, UPDATE, DELETE', unnest(admin_tables)
        UNION ALL
        SELECT 'reader', 'SELECT', c.relname::text
          FROM pg_catalog.pg_class c
         WHERE c.relnamespace = 'salesperf'::pg_catalog.regnamespace
           AND c.relkind IN ('r', 'p', 'v', 'm')
    )
    SELECT 'USAGE', 'SCHEMA', 'salesperf'
    UNION ALL
    SELECT DISTINCT 'EXECUTE', 'ROUTINE', p.oid::pg_catalog.regprocedure::text
      FROM fn JOIN pg_catalog.pg_proc p
        ON p.pronamespace = 'salesperf'::pg_catalog.regnamespace AND p.proname = fn.name
     WHERE fn.lvl = ANY (levels)
    UNION ALL
    SELECT DISTINCT tbl.privs, 'TABLE', pg_catalog.format('salesperf.%I', tbl.name)
      FROM tbl
     WHERE tbl.lvl = ANY (levels)
    UNION ALL
    -- Sequences of the tables a level may insert into.
    SELECT DISTINCT 'USAGE', 'SEQUENCE', d.objid::pg_catalog.regclass::text
      FROM tbl
      JOIN pg_catalog.pg_class c
        ON c.relnamespace = 'salesperf'::pg_catalog.regnamespace AND c.relname = tbl.name
      JOIN pg_catalog.pg_depend d
        ON d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid = c.oid
       AND d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype IN ('a', 'i')
      JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S'
     WHERE tbl.lvl = ANY (levels) AND tbl.privs LIKE '%INSERT%';
END
$$;
COMMENT ON FUNCTION salesperf.access_privileges(text) IS
  'Internal: the privileges an access level consists of (what salesperf.grant_access() grants), as (privileges, object type, object) rows.';

CREATE FUNCTION salesperf.grant_access(role name, level text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
BEGIN
    IF grant_access.role IS NULL OR grant_access.level IS NULL THEN
        RAISE EXCEPTION 'grant_access() needs a role and a level' USING ERRCODE = '22004';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = grant_access.role) THEN
        RAISE EXCEPTION 'role "%" does not exist', grant_access.role
            USING ERRCODE = '42704', HINT = 'Create the role first: salesperf creates no roles.';
    END IF;
    FOR p IN SELECT * FROM salesperf.access_privileges(grant_access.level) LOOP
        EXECUTE pg_catalog.format('GRANT %s ON %s %s TO %I',
                                  p.privileges, p.object_type, p.object_name, grant_access.role);
    END LOOP;
    -- Row-level security tells unrestricted levels from rep by this record.
    INSERT INTO salesperf.access_grant (role, level)
    VALUES (grant_access.role, grant_access.level)
    ON CONFLICT DO NOTHING;
END
$$;
COMMENT ON FUNCTION salesperf.grant_access(name, text) IS
  'Give a role one access level: admin (configuration: KPIs, rules, boards, stages, tracking, recompute; includes reader and writer), writer (a CRM backend: record activities, write opportunities, write tracked CRM tables), reader (BI: every table and view, the read functions), rep (the public boards, contests, badges and rewards, and through row-level security its own activities, opportunities, targets, counters and commission statements, or a manager''s whole subtree). Records the level in salesperf.access_grant. Idempotent. Runs with the caller''s rights: only the extension''s owner (a superuser) can hand out access.';

-- ---------------------------------------------------------------------------
-- Nothing of salesperf is executable by PUBLIC: routines (functions,
-- aggregates, procedures) are reached through grant_access() only.
REVOKE EXECUTE ON ALL ROUTINES IN SCHEMA salesperf FROM PUBLIC;

-- Checks that keep this file honest.
DO $$
DECLARE
    bad text;
BEGIN
    -- Every SECURITY DEFINER function pins its search_path.
    SELECT pg_catalog.string_agg(p.oid::pg_catalog.regprocedure::text, ', ') INTO bad
      FROM pg_catalog.pg_proc p
     WHERE p.pronamespace = 'salesperf'::pg_catalog.regnamespace AND p.prosecdef
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.unnest(p.proconfig) c
                        WHERE c LIKE 'search\_path=pg\_catalog%');
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'SECURITY DEFINER functions without a pinned search_path: %', bad USING ERRCODE = '55000';
    END IF;
    -- Every object an access level names exists (access_privileges raises).
    PERFORM salesperf.access_privileges('admin');
END
$$;
