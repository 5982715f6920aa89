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
  SELECT DISTINCT a.rep_id, (a.occurred_at AT TIME ZONE s.time_zone)::date
    FROM salesperf.activity a CROSS JOIN salesperf.settings s
   WHERE (rep_ids IS NULL OR a.rep_id = ANY (rep_ids))
     AND (kinds IS NULL OR a.kind = ANY (kinds))
     AND a.occurred_at >= COALESCE(pg_catalog.lower(during), '-infinity')
     AND a.occurred_at <  COALESCE(pg_catalog.upper(during), 'infinity')
$$;
COMMENT ON FUNCTION salesperf.activity_days(bigint[], tstzrange, text[]) IS
  'Internal: distinct (rep, local day) pairs of activities in a time range.';

-- Re-derive everything fed by the given (rep, day) pairs.
CREATE FUNCTION salesperf.rederive(rep_ids bigint[], days date[], kinds text[] DEFAULT NULL)
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
END
$$;
COMMENT ON FUNCTION salesperf.rederive(bigint[], date[], text[]) IS
  'Internal: re-derive awards, counters (of the given kinds, or all) and standings of the given (rep, local day) pairs.';

-- Re-derive every (rep, local day) with activities of rep_ids[i] inside
-- ranges[i].
CREATE FUNCTION salesperf.rederive_ranges(rep_ids bigint[], ranges tstzrange[])
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT salesperf.rederive(array_agg(k.rep_id), array_agg(k.day))
    FROM (SELECT DISTINCT a.rep_id, (a.occurred_at AT TIME ZONE s.time_zone)::date AS day
            FROM unnest(rep_ids, ranges) AS ch(rep_id, during)
            JOIN salesperf.activity a
              ON a.rep_id = ch.rep_id
             AND a.occurred_at >= COALESCE(pg_catalog.lower(ch.during), '-infinity')
             AND a.occurred_at < COALESCE(pg_catalog.upper(ch.during), 'infinity')
           CROSS JOIN salesperf.settings s) k
  HAVING count(*) > 0
$$;
COMMENT ON FUNCTION salesperf.rederive_ranges(bigint[], tstzrange[]) IS
  'Internal: re-derive the days of each rep''s activities inside the paired time range.';

-- A membership change re-attributes the rep's activities in the changed
-- range.  Statement-level, so loading many memberships costs one pass.
CREATE FUNCTION salesperf.membership_changed()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- Wait for writers in flight first: the days to re-derive are read by
    -- the next statement, which then sees everything they committed.
    PERFORM pg_catalog.pg_advisory_xact_lock(1936483696, 0);
    IF TG_OP = 'INSERT' THEN
        PERFORM salesperf.rederive_ranges(array_agg(ch.rep_id), array_agg(ch.during))
           FROM membership_new ch;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM salesperf.rederive_ranges(array_agg(ch.rep_id), array_agg(ch.during))
           FROM membership_old ch;
    ELSE
        PERFORM salesperf.rederive_ranges(array_agg(ch.rep_id), array_agg(ch.during))
           FROM (SELECT rep_id, during FROM membership_new
                 UNION ALL
                 SELECT rep_id, during FROM membership_old) ch;
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
    -- Wait for writers in flight first (see membership_changed).
    PERFORM pg_catalog.pg_advisory_xact_lock(1936483696, 0);
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

-- A new unit, a re-parented unit or a unit of another kind changes which
-- activities count on scoped and unit boards: rebuild the board-unit map and,
-- unless only units were added, every standing.
CREATE FUNCTION salesperf.org_changed()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM salesperf.leaderboard) THEN
        RETURN NULL;
    END IF;
    PERFORM pg_catalog.pg_advisory_xact_lock(1936483696, 0);   -- the whole ledger
    PERFORM salesperf.rebuild_board_units();
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM salesperf.standing;
        PERFORM salesperf.refresh_standings(array_agg(k.rep_id), array_agg(k.day))
           FROM (SELECT DISTINCT c.rep_id, c.day FROM salesperf.kpi_counter c) k;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER org_changed AFTER INSERT OR UPDATE OF parent_id, kind ON salesperf.unit
    FOR EACH STATEMENT EXECUTE FUNCTION salesperf.org_changed();

-- Rebuild every derived table from the ledger.  Set-based: one window query
-- for the capped awards, one GROUP BY for the counters, one for the
-- standings.  The rules are those of rederive_days() and
-- refresh_standings(), which re-derive a few keys at a time; the
-- randomized tests hold the two to the same answer after every batch.
CREATE FUNCTION salesperf.recompute()
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET work_mem = '256MB'
AS $$
DECLARE
    s salesperf.settings;
BEGIN
    -- Writers wait; readers keep reading the old state until commit.
    LOCK TABLE salesperf.activity IN SHARE MODE;
    PERFORM pg_catalog.pg_advisory_xact_lock(1936483696, 0);
    SELECT * INTO s FROM salesperf.settings;
    TRUNCATE salesperf.capped_award, salesperf.kpi_counter, salesperf.standing;

    -- Capped rules: a rep's activities of a local day earn in occurred_at
    -- (then id) order until the rule's cap is reached.
    INSERT INTO salesperf.capped_award (activity_id, rule_id, rep_id, day, kind, points)
    SELECT t.activity_id, t.rule_id, t.rep_id, t.day, t.kind, t.earned
      FROM (SELECT a.activity_id, r.rule_id, a.rep_id, a.day, a.kind,
                   LEAST(x.raw, GREATEST(0, r.daily_cap - COALESCE(sum(x.raw) OVER (
                         PARTITION BY a.rep_id, a.day, r.rule_id
                         ORDER BY a.occurred_at, a.activity_id
                         ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0))) AS earned
              FROM (SELECT a.activity_id, a.rep_id, a.kind, a.amount, a.occurred_at,
                           (a.occurred_at AT TIME ZONE s.time_zone)::date AS day
                      FROM salesperf.activity a
                     WHERE EXISTS (SELECT 1 FROM salesperf.point_rule r
                                    WHERE r.kind = a.kind AND r.daily_cap IS NOT NULL AND r.active)) a
              JOIN salesperf.point_rule r
                ON r.kind = a.kind AND r.active AND r.daily_cap IS NOT NULL
               AND r.valid @> a.occurred_at
             CROSS JOIN LATERAL (SELECT r.points + r.points_per_amount * a.amount AS raw) x) t
     WHERE t.earned <> 0;

    INSERT INTO salesperf.kpi_counter (rep_id, unit_id, day, kind, activities, amount, points,
                                       last_at, last_amount_at, last_point_at)
    SELECT sa.rep_id, sa.unit_id, sa.day, sa.kind, count(*), sum(sa.amount), sum(sa.points),
           max(sa.occurred_at),
           max(sa.occurred_at) FILTER (WHERE sa.amount <> 0),
           max(sa.occurred_at) FILTER (WHERE sa.points <> 0)
      FROM salesperf.scored_activity sa
     GROUP BY sa.rep_id, sa.day, sa.kind, sa.unit_id;

    -- Standings: each counter row feeds the period of its day on every board
    -- (period starts computed once per distinct day and board).
    INSERT INTO salesperf.standing (board_id, period_start, participant_id, contributor_id,
                                    num, den, direction, reached_at)
    SELECT bc.board_id, pm.ps, bc.participant_id, bc.rep_id,
           sum(bc.num), sum(bc.den), bc.direction, max(bc.at)
      FROM salesperf.board_contribution bc
      JOIN (SELECT b.board_id, d.day,
                   salesperf.calendar_start(d.day::timestamp AT TIME ZONE s.time_zone, b.period,
                                            s.time_zone, s.week_start, s.fiscal_year_start_month,
                                            s.calendar) AS ps
              FROM (SELECT DISTINCT c.day FROM salesperf.kpi_counter c) d
             CROSS JOIN salesperf.leaderboard b) pm
        ON pm.board_id = bc.board_id AND pm.day = bc.day
     GROUP BY bc.board_id, pm.ps, bc.participant_id, bc.rep_id, bc.direction
    HAVING max(bc.at) IS NOT NULL;
END
$$;
COMMENT ON FUNCTION salesperf.recompute() IS
  'Rebuild capped awards, KPI counters and every leaderboard''s standings from the ledger; the result equals the incrementally maintained state.';
