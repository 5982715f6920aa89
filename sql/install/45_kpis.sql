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
