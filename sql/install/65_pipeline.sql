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
