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
