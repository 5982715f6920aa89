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
DECLARE
    n salesperf.kpi;
    d salesperf.kpi;
    row salesperf.kpi;
BEGIN
    IF name IS NULL OR measure IS NULL THEN
        RAISE EXCEPTION 'define_kpi() needs a name and a measure' USING ERRCODE = '22004';
    END IF;
    IF name !~ '^[a-z][a-z0-9_]*$' THEN
        RAISE EXCEPTION 'invalid KPI name "%"', name
            USING ERRCODE = '22023', HINT = 'Use lower-case letters, digits and underscores, starting with a letter.';
    END IF;
    IF EXISTS (SELECT 1 FROM salesperf.kpi k WHERE k.name = define_kpi.name) THEN
        RAISE EXCEPTION 'KPI "%" already exists', name USING ERRCODE = '42710';
    END IF;
    IF measure NOT IN ('count', 'sum', 'avg', 'ratio', 'points') THEN
        RAISE EXCEPTION 'unknown measure "%"', measure
            USING ERRCODE = '22023', HINT = 'Use count, sum, avg, ratio or points.';
    END IF;
    IF kind IS NOT NULL AND NOT EXISTS (SELECT 1 FROM salesperf.activity_kind k WHERE k.kind = define_kpi.kind) THEN
        RAISE EXCEPTION 'unknown activity kind "%"', kind USING ERRCODE = '42704', HINT = 'See salesperf.activity_kind.';
    END IF;

    row.name := name; row.kind := kind; row.measure := measure; row.unit := unit;
    row.higher_is_better := COALESCE(higher_is_better, true); row.description := description;
    row.builtin := false;

    IF measure IN ('count', 'sum', 'avg') THEN
        IF kind IS NULL THEN
            RAISE EXCEPTION 'a % KPI needs an activity kind', measure USING ERRCODE = '22004';
        END IF;
        IF numerator IS NOT NULL OR denominator IS NOT NULL THEN
            RAISE EXCEPTION 'only a ratio KPI has a numerator and a denominator' USING ERRCODE = '22023';
        END IF;
        row.num_kind := kind;
        row.num_measure := CASE measure WHEN 'avg' THEN 'sum' ELSE measure END;
        IF measure = 'avg' THEN
            row.den_kind := kind; row.den_measure := 'count';
        END IF;
    ELSIF measure = 'points' THEN
        row.num_kind := kind; row.num_measure := 'points';
    ELSE
        IF numerator IS NULL OR denominator IS NULL THEN
            RAISE EXCEPTION 'a ratio KPI needs a numerator and a denominator KPI' USING ERRCODE = '22004';
        END IF;
        SELECT * INTO n FROM salesperf.kpi k WHERE k.name = define_kpi.numerator;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'unknown KPI "%"', numerator USING ERRCODE = '42704', HINT = 'See salesperf.kpi.';
        END IF;
        SELECT * INTO d FROM salesperf.kpi k WHERE k.name = define_kpi.denominator;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'unknown KPI "%"', denominator USING ERRCODE = '42704', HINT = 'See salesperf.kpi.';
        END IF;
        IF n.den_measure IS NOT NULL OR d.den_measure IS NOT NULL THEN
            RAISE EXCEPTION 'a ratio KPI is built from count, sum or points KPIs, not from "%"',
                CASE WHEN n.den_measure IS NOT NULL THEN n.name ELSE d.name END
                USING ERRCODE = '22023';
        END IF;
        row.numerator := numerator; row.denominator := denominator;
        row.num_kind := n.num_kind; row.num_measure := n.num_measure;
        row.den_kind := d.num_kind; row.den_measure := d.num_measure;
    END IF;

    INSERT INTO salesperf.kpi SELECT row.*;
    RETURN name;
END
$$;
COMMENT ON FUNCTION salesperf.define_kpi(text, text, text, text, text, text, boolean, text) IS
  'Define a KPI: count/sum/avg of an activity kind, points, or a ratio of two KPIs (computed from its parts, never averaged).';

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

-- The value of a KPI for one scope over the period containing `at`.
CREATE FUNCTION salesperf.kpi_value(kpi text, scope text, scope_id bigint, period text,
                                    at timestamptz DEFAULT pg_catalog.now())
RETURNS numeric
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    k   salesperf.kpi;
    s   salesperf.settings;
    d0  date;
    d1  date;
    num numeric;
    den numeric;
BEGIN
    IF kpi IS NULL OR scope IS NULL OR period IS NULL OR at IS NULL THEN
        RAISE EXCEPTION 'kpi_value() needs a kpi, a scope, a period and a moment' USING ERRCODE = '22004';
    END IF;
    SELECT * INTO k FROM salesperf.kpi x WHERE x.name = kpi_value.kpi;
    IF NOT FOUND THEN
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
    d0 := (salesperf.calendar_start(at, period, s.time_zone, s.week_start, s.fiscal_year_start_month, s.calendar)
           AT TIME ZONE s.time_zone)::date;
    d1 := (salesperf.calendar_end(at, period, s.time_zone, s.week_start, s.fiscal_year_start_month, s.calendar)
           AT TIME ZONE s.time_zone)::date;

    SELECT sum(CASE WHEN k.num_kind IS NULL OR c.kind = k.num_kind THEN
                   CASE k.num_measure WHEN 'count' THEN c.activities WHEN 'sum' THEN c.amount ELSE c.points END
               ELSE 0 END),
           sum(CASE WHEN k.den_kind IS NULL OR c.kind = k.den_kind THEN
                   CASE k.den_measure WHEN 'count' THEN c.activities WHEN 'sum' THEN c.amount ELSE c.points END
               ELSE 0 END)
      INTO num, den
      FROM (-- One branch runs: the others are cut by their constant scope test.
            SELECT c.kind, c.activities, c.amount, c.points FROM salesperf.kpi_counter c
             WHERE scope = 'rep' AND c.rep_id = scope_id AND c.day >= d0 AND c.day < d1
            UNION ALL
            SELECT c.kind, c.activities, c.amount, c.points
              FROM salesperf.unit_tree t JOIN salesperf.kpi_counter c ON c.unit_id = t.descendant_id
             WHERE scope = 'unit' AND t.ancestor_id = scope_id AND c.day >= d0 AND c.day < d1
            UNION ALL
            SELECT c.kind, c.activities, c.amount, c.points FROM salesperf.kpi_counter c
             WHERE scope = 'company' AND c.day >= d0 AND c.day < d1) c
     WHERE k.num_kind IS NULL OR c.kind IN (k.num_kind, k.den_kind);

    IF k.den_measure IS NULL THEN
        RETURN COALESCE(num, 0);
    END IF;
    RETURN num / NULLIF(den, 0);
END
$$;
COMMENT ON FUNCTION salesperf.kpi_value(text, text, bigint, text, timestamptz) IS
  'Value of a KPI for a rep, a unit''s whole subtree or the company over the period containing `at`, from counters (never the ledger). Empty count/sum: 0; empty avg or zero denominator: NULL.';
