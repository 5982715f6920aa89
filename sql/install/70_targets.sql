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
SET enable_seqscan = off
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
    -- The key's rows are found by target_scope_idx on (scope_id, scope): a
    -- rep, unit or the company has a few.  The rest of the condition sits
    -- in a CASE, where no index can take it: through the index on period
    -- and start day each call would read every target of the period, and
    -- an import in one transaction keeps the plans it made while the table
    -- was small (scans are off for the same reason).
    IF id IS NULL THEN
        DELETE FROM salesperf.target t
         WHERE t.scope_id IS NULL AND t.scope = scope
           AND CASE WHEN t.period = period AND t.kpi = kpi
                         AND t.start_day >= p.first_day AND t.start_day < p.end_day
                    THEN value IS NULL OR t.period_start <> p.period_start
                    ELSE false END;
    ELSE
        DELETE FROM salesperf.target t
         WHERE t.scope_id = id AND t.scope = scope
           AND CASE WHEN t.period = period AND t.kpi = kpi
                         AND t.start_day >= p.first_day AND t.start_day < p.end_day
                    THEN value IS NULL OR t.period_start <> p.period_start
                    ELSE false END;
    END IF;
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
