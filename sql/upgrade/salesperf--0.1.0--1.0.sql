-- salesperf upgrade from 0.1.0 to 1.0 (ALTER EXTENSION salesperf UPDATE).
--
-- An upgrade script turns a database installed with the previous version's
-- script into what the new version's install script (sql/install/*.sql)
-- creates: same objects, definitions, comments, privileges and
-- configuration.  test/upgrade/upgrade.sh checks exactly that, and fails on
-- any difference, so every change to sql/install/ after a release ships with
-- its statement here:
--   * a new object: its CREATE as in the install part, its COMMENT ON, its
--     pg_extension_config_dump() line for a configuration table, and an
--     explicit ALTER FUNCTION ... SECURITY DEFINER if sql/install/90_access.sql
--     has one for it; add it to salesperf.access_privileges() (recreated
--     with CREATE OR REPLACE here) when a level gets it;
--   * a changed function: CREATE OR REPLACE FUNCTION (a member of the
--     extension keeps its privileges and what depends on it; DROP and CREATE
--     would lose both); a changed signature, table or view: ALTER, or DROP
--     and CREATE in dependency order;
--   * new columns go at the end of the table in the install part too, so
--     that both have the same column order.
-- The script ends with salesperf.apply_access_rules(), as the install script
-- does, so that what it added follows the same rules (trigger functions on
-- salesperf tables run as the owner, PUBLIC executes nothing).  Roles that
-- already hold a level get the objects new to it when the administrator runs
--   SELECT salesperf.grant_access(role, level) FROM salesperf.access_grant;
-- after the update (see README): grants made inside the update would be
-- recorded as the extension's initial privileges and left out of pg_dump.

\echo Use "ALTER EXTENSION salesperf UPDATE TO '1.0'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- How sql/install/90_access.sql applies its access rules: once a DO block
-- at install, now a function the install and every upgrade script call.
CREATE FUNCTION salesperf.apply_access_rules()
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    runs_as_invoker constant text[] := ARRAY['tracked_row_changed', 'opportunity_source_changed'];
    f   record;
    bad text;
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
           AND NOT p.prosecdef
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

    FOR f IN
        SELECT p.oid::pg_catalog.regprocedure AS fn
          FROM pg_catalog.pg_proc p
         WHERE p.pronamespace = 'salesperf'::pg_catalog.regnamespace
           AND (p.proacl IS NULL
                OR EXISTS (SELECT 1 FROM pg_catalog.aclexplode(p.proacl) a
                            WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE'))
         ORDER BY 1
    LOOP
        EXECUTE pg_catalog.format('REVOKE EXECUTE ON ROUTINE %s FROM PUBLIC', f.fn);
    END LOOP;

    SELECT pg_catalog.string_agg(p.oid::pg_catalog.regprocedure::text, ', ') INTO bad
      FROM pg_catalog.pg_proc p
     WHERE p.pronamespace = 'salesperf'::pg_catalog.regnamespace AND p.prosecdef
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.unnest(p.proconfig) c
                        WHERE c LIKE 'search\_path=pg\_catalog%');
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'SECURITY DEFINER functions without a pinned search_path: %', bad USING ERRCODE = '55000';
    END IF;
    -- access_privileges() raises when a level names a missing object.
    PERFORM salesperf.access_privileges('admin');
END
$$;
COMMENT ON FUNCTION salesperf.apply_access_rules() IS
  'Internal: applies the access rules to every salesperf routine (trigger functions on salesperf tables run as the owner, PUBLIC executes nothing) and checks them; called at the end of the install script and of every upgrade script.';

-- ---------------------------------------------------------------------------
-- Ranks from counts (leaderboard_rank and previous ranks read score bands and a
-- kept member count instead of ranking every participant).

-- sql/install/52_standing_tally.sql
-- Score bands of every board period (src/standing_tally.c): a rank counts
-- the participants above a score by adding up the bands above it and
-- looking only inside its own band.

CREATE FUNCTION salesperf.score_bucket(score numeric)
RETURNS numeric
AS 'MODULE_PATHNAME', 'salesperf_score_bucket'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.score_bucket(numeric) IS
  'Internal: the score band of a sort score in salesperf.standing_tally: the score cut to two significant digits (floored when positive, minus the ceiling of its magnitude when negative), 0 for 0.';

CREATE TABLE salesperf.standing_tally (
    board_id     integer NOT NULL REFERENCES salesperf.leaderboard (board_id) ON DELETE CASCADE,
    period_start timestamptz NOT NULL,
    bucket       numeric NOT NULL,
    participants bigint NOT NULL
);
-- No key: rows are only added (and merged when free), so writers never wait.
CREATE INDEX standing_tally_idx ON salesperf.standing_tally (board_id, period_start, bucket);
COMMENT ON TABLE salesperf.standing_tally IS
  'Derived: per board period and score band, how many standings of a participant that is its own contributor (every row of a rep board) score in the band; the sum of a band''s rows is its count. Maintained by triggers on salesperf.standing.';
COMMENT ON COLUMN salesperf.standing_tally.bucket IS 'The band: salesperf.score_bucket(sort_score).';
COMMENT ON COLUMN salesperf.standing_tally.participants IS 'Standings added to (or, when negative, taken from) the band; a band counts the sum of its rows.';

CREATE FUNCTION salesperf.standing_tally_sync()
RETURNS trigger
AS 'MODULE_PATHNAME', 'salesperf_standing_tally_sync'
LANGUAGE C
SET search_path = pg_catalog, pg_temp
-- Its statements touch a few bands each and are planned once per session:
-- a plan made while the tally was small must not read it whole later.
SET enable_seqscan = off;
COMMENT ON FUNCTION salesperf.standing_tally_sync() IS
  'Internal: statement trigger on salesperf.standing that keeps salesperf.standing_tally in step.';

CREATE TRIGGER standing_tally_insert AFTER INSERT ON salesperf.standing
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION salesperf.standing_tally_sync();
CREATE TRIGGER standing_tally_update AFTER UPDATE ON salesperf.standing
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION salesperf.standing_tally_sync();
CREATE TRIGGER standing_tally_delete AFTER DELETE ON salesperf.standing
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION salesperf.standing_tally_sync();

-- How many standings of a rep board period score above `mine` (NULL: how
-- many have a score at all).  Rep boards only: there every standing is its
-- own contributor's, so the count inside the band reads standing_rank_idx
-- alone.  The bands above mine's are
-- summed; inside mine's band -- below the next band that holds anyone --
-- the standings are counted one by one in standing_rank_idx.
CREATE FUNCTION salesperf.standings_above(board_id integer, ps timestamptz, mine numeric)
RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    band   numeric := salesperf.score_bucket(mine);
    above  bigint;
    next   numeric;
    inside bigint;
BEGIN
    IF mine IS NULL THEN
        RETURN (SELECT COALESCE(pg_catalog.sum(t.participants), 0)::bigint
                  FROM salesperf.standing_tally t
                 WHERE t.board_id = standings_above.board_id AND t.period_start = ps);
    END IF;
    SELECT COALESCE(pg_catalog.sum(t.participants), 0)::bigint, pg_catalog.min(t.bucket)
      INTO above, next
      FROM salesperf.standing_tally t
     WHERE t.board_id = standings_above.board_id AND t.period_start = ps AND t.bucket > band;
    SELECT pg_catalog.count(*) INTO inside
      FROM salesperf.standing st
     WHERE st.board_id = standings_above.board_id AND st.period_start = ps
       AND st.sort_score > mine AND st.sort_score < COALESCE(next, 'Infinity'::numeric);
    RETURN above + inside;
END
$$;
COMMENT ON FUNCTION salesperf.standings_above(integer, timestamptz, numeric) IS
  'Internal: how many standings of a rep board period score above a sort score, from salesperf.standing_tally; with NULL, how many have a score.';

-- Every standing counted once in its band: what the triggers maintain.
INSERT INTO salesperf.standing_tally (board_id, period_start, bucket, participants)
SELECT st.board_id, st.period_start, salesperf.score_bucket(st.sort_score), pg_catalog.count(*)
  FROM salesperf.standing st
 WHERE st.participant_id = st.contributor_id AND st.sort_score IS NOT NULL
 GROUP BY 1, 2, 3;

-- sql/install/53_board_members.sql
-- How many participants a rep board period has ("rank 57 of 60"), without
-- counting every rep on each read (src/board_members.c).

-- Transactions that changed the org chart, the boards, the calendar or the
-- standings of a period that had ended: one row each, so that a kept count
-- of board members or final ranking can tell whether it is still exact.
CREATE TABLE salesperf.org_change (
    txid xid8 PRIMARY KEY
);
COMMENT ON TABLE salesperf.org_change IS
  'Derived: the transactions that changed reps, units, memberships, leaderboards, KPIs, the configuration or the standings of a period that had ended (one row each); kept member counts and final ranks are checked against it.';

CREATE FUNCTION salesperf.note_org_change()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- Once per transaction (a local setting, undone with a rolled-back
    -- savepoint together with the row).
    IF pg_catalog.current_setting('salesperf.org_change_noted', true)
           IS DISTINCT FROM pg_catalog.pg_current_xact_id()::text THEN
        INSERT INTO salesperf.org_change (txid) VALUES (pg_catalog.pg_current_xact_id())
            ON CONFLICT DO NOTHING;
        PERFORM pg_catalog.set_config('salesperf.org_change_noted', pg_catalog.pg_current_xact_id()::text, true);
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION salesperf.note_org_change() IS
  'Internal: statement trigger that records the transaction in salesperf.org_change.';

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['rep', 'unit', 'membership', 'leaderboard', 'kpi', 'configuration'] LOOP
        EXECUTE pg_catalog.format(
            'CREATE TRIGGER org_change_noted AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON salesperf.%I'
            ' FOR EACH STATEMENT EXECUTE FUNCTION salesperf.note_org_change()', t);
    END LOOP;
END
$$;

-- Active reps who were members of the board's scope during the period: the
-- participants board_candidates() finds by the org chart (rep boards).
CREATE FUNCTION salesperf.board_members_now(board_id integer, ps timestamptz)
RETURNS bigint
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
  SELECT pg_catalog.count(DISTINCT m.rep_id)
    FROM salesperf.leaderboard b
   CROSS JOIN salesperf.settings s
    JOIN salesperf.membership m
      ON m.during && pg_catalog.tstzrange(ps, salesperf.calendar_end(ps, b.period, s.time_zone, s.week_start,
                                                                     s.fiscal_year_start_month, s.calendar), '[)')
    JOIN salesperf.rep r ON r.rep_id = m.rep_id AND r.active
   WHERE b.board_id = board_members_now.board_id AND b.participant = 'rep'
     AND (b.unit_scope IS NULL OR m.unit_id IN (
          SELECT t.descendant_id FROM salesperf.unit_tree t WHERE t.ancestor_id = b.unit_scope))
$$;
COMMENT ON FUNCTION salesperf.board_members_now(integer, timestamptz) IS
  'Internal: how many active reps were members of a rep board''s scope during the period starting at ps, counted now.';

CREATE FUNCTION salesperf.board_members(board_id integer, ps timestamptz)
RETURNS bigint
AS 'MODULE_PATHNAME', 'salesperf_board_members'
LANGUAGE C STABLE STRICT;
COMMENT ON FUNCTION salesperf.board_members(integer, timestamptz) IS
  'Internal: board_members_now(), kept per backend and reused while no org-changing transaction it did not see has committed.';

-- Active reps with standings on an unscoped rep board who were members of
-- no unit during the period: participants too, found from their counters
-- without a unit (index kpi_counter_unit_day_idx), usually none.
CREATE FUNCTION salesperf.board_unassigned(board_id integer, ps timestamptz)
RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
SET jit = off
AS $$
BEGIN
    -- PL/pgSQL: its plan is kept between calls.
    RETURN (
      SELECT pg_catalog.count(*)
        FROM (SELECT DISTINCT c.rep_id FROM salesperf.kpi_counter c WHERE c.unit_id IS NULL) c
        JOIN salesperf.rep r ON r.rep_id = c.rep_id AND r.active
        JOIN salesperf.leaderboard b ON b.board_id = board_unassigned.board_id
       CROSS JOIN salesperf.settings s
       WHERE b.participant = 'rep' AND b.unit_scope IS NULL
         AND EXISTS (SELECT 1 FROM salesperf.standing st
                      WHERE st.board_id = b.board_id AND st.period_start = ps
                        AND st.contributor_id = c.rep_id AND st.participant_id = c.rep_id)
         AND NOT EXISTS (SELECT 1 FROM salesperf.membership m
                          WHERE m.rep_id = c.rep_id
                            AND m.during && pg_catalog.tstzrange(ps,
                                  salesperf.calendar_end(ps, b.period, s.time_zone, s.week_start,
                                                         s.fiscal_year_start_month, s.calendar), '[)')));
END
$$;
COMMENT ON FUNCTION salesperf.board_unassigned(integer, timestamptz) IS
  'Internal: how many active reps with standings on an unscoped rep board were in no unit during the period (participants the org chart does not show).';

-- Changed functions (sql/install/50_leaderboards.sql)
CREATE OR REPLACE FUNCTION salesperf.previous_rank(board_id integer, prev timestamptz, participant_id bigint)
RETURNS bigint
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
SET jit = off
AS $$
BEGIN
    -- A rep board's rows are the rep's own (contributor = participant): a
    -- key probe.  A unit board's are its reps'.
    IF prev IS NULL THEN
        RETURN NULL;
    END IF;
    IF (SELECT b.participant FROM salesperf.leaderboard b WHERE b.board_id = previous_rank.board_id) = 'rep' THEN
        IF NOT EXISTS (
               SELECT 1 FROM salesperf.standing st
                WHERE st.board_id = previous_rank.board_id AND st.period_start = prev
                  AND st.contributor_id = previous_rank.participant_id
                  AND st.participant_id = previous_rank.participant_id) THEN
            RETURN NULL;
        END IF;
    ELSIF NOT EXISTS (
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

CREATE FUNCTION salesperf.previous_ranks_now(board_id integer, prev timestamptz, rep_ids bigint[])
RETURNS TABLE (participant_id bigint, rank bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
SET jit = off
AS $$
BEGIN
    IF prev IS NULL THEN
        RETURN;
    END IF;
    IF (SELECT b.participant FROM salesperf.leaderboard b WHERE b.board_id = previous_ranks_now.board_id) = 'unit' THEN
        RETURN QUERY
        SELECT f.participant_id, f.rank
          FROM salesperf.final_ranks(previous_ranks_now.board_id, prev) f
         WHERE f.participant_id = ANY (rep_ids);
        RETURN;
    END IF;
    RETURN QUERY
    WITH mine AS (
        SELECT st.participant_id, st.sort_score, salesperf.score_bucket(st.sort_score) AS band
          FROM pg_catalog.unnest(rep_ids) r(rep_id)
          JOIN salesperf.standing st
            ON st.board_id = previous_ranks_now.board_id AND st.period_start = prev
           AND st.contributor_id = r.rep_id AND st.participant_id = r.rep_id),
    bands AS (
        SELECT t.bucket, pg_catalog.sum(t.participants) AS n
          FROM salesperf.standing_tally t
         WHERE t.board_id = previous_ranks_now.board_id AND t.period_start = prev
           AND (SELECT pg_catalog.bool_and(m.sort_score >= 0) FROM mine m)
         GROUP BY t.bucket),
    above AS (
        SELECT d.bucket,
               COALESCE(pg_catalog.sum(d.n) OVER (ORDER BY d.bucket DESC
                                                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS n,
               pg_catalog.lag(d.bucket) OVER (ORDER BY d.bucket DESC) AS next
          FROM bands d)
    SELECT m.participant_id,
           (1 + a.n + (SELECT pg_catalog.count(*)
                         FROM salesperf.standing st
                        WHERE st.board_id = previous_ranks_now.board_id AND st.period_start = prev
                          AND st.sort_score > m.sort_score
                          AND st.sort_score < COALESCE(a.next, 'Infinity'::numeric)))::bigint
      FROM mine m JOIN above a ON a.bucket = m.band
     WHERE m.sort_score >= 0
    UNION ALL
    SELECT m.participant_id, salesperf.previous_rank(previous_ranks_now.board_id, prev, m.participant_id)
      FROM mine m
     WHERE NOT (m.sort_score >= 0) OR m.sort_score IS NULL
        OR NOT (SELECT pg_catalog.bool_and(x.sort_score >= 0) FROM mine x);
END
$$;
COMMENT ON FUNCTION salesperf.previous_ranks_now(integer, timestamptz, bigint[]) IS
  'Internal: previous_rank() of several participants, counted for this call (a rep board''s score bands are read once).';

CREATE FUNCTION salesperf.final_ranks(board_id integer, ps timestamptz)
RETURNS TABLE (participant_id bigint, rank bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
BEGIN
    IF (SELECT b.participant FROM salesperf.leaderboard b WHERE b.board_id = final_ranks.board_id) = 'rep'
       AND NOT EXISTS (SELECT 1 FROM salesperf.standing st
                        WHERE st.board_id = final_ranks.board_id AND st.period_start = ps AND st.sort_score < 0) THEN
        RETURN QUERY
        SELECT st.participant_id, pg_catalog.rank() OVER (ORDER BY st.sort_score DESC NULLS LAST)
          FROM salesperf.standing st
         WHERE st.board_id = final_ranks.board_id AND st.period_start = ps;
        RETURN;
    END IF;
    RETURN QUERY
    SELECT c.participant_id, c.rank
      FROM salesperf.board_standings(final_ranks.board_id, ps, true) c
     WHERE c.reached_at IS NOT NULL;
END
$$;
COMMENT ON FUNCTION salesperf.final_ranks(integer, timestamptz) IS
  'Internal: rank of every participant who recorded something that counts in a board period, among everyone who took part then.';

CREATE OR REPLACE FUNCTION salesperf.previous_ranks(board_id integer, prev timestamptz, rep_ids bigint[])
RETURNS TABLE (participant_id bigint, rank bigint)
LANGUAGE c STABLE
AS 'MODULE_PATHNAME', 'salesperf_previous_ranks';
COMMENT ON FUNCTION salesperf.previous_ranks(integer, timestamptz, bigint[]) IS
  'Internal: previous_rank() of several participants, from the kept final ranking of the period when it is still exact.';

CREATE OR REPLACE FUNCTION salesperf.rank_in(board_id integer, ps timestamptz, participant_id bigint,
                                  history boolean DEFAULT false)
RETURNS TABLE (rank bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
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
            SELECT 1 + salesperf.standings_above(rank_in.board_id, ps, mine)
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

CREATE OR REPLACE FUNCTION salesperf.leaderboard_rank(board text, participant_id bigint,
                                           at timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (rank bigint, score numeric, participants bigint)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
SET jit = off
AS $$
DECLARE
    b        salesperf.leaderboard := salesperf.board(board);
    k        salesperf.kpi;
    s        salesperf.settings;
    ps       timestamptz;
    mine     numeric;          -- sort score (score x direction); NULL ranks last
    shown    numeric;          -- score
    everyone bigint;
    above    bigint;
    inactive_above bigint;
    inactive_all   bigint;
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
        -- Rep boards read counts, never every participant: the standings
        -- above from salesperf.standing_tally, the participants from
        -- board_members() (kept while the org chart is unchanged).
        IF NOT EXISTS (SELECT 1 FROM salesperf.rep r WHERE r.rep_id = leaderboard_rank.participant_id AND r.active) THEN
            RETURN;                                   -- inactive reps leave running boards
        END IF;
        SELECT * INTO k FROM salesperf.kpi x WHERE x.name = b.metric;
        SELECT st.score, st.sort_score INTO shown, mine
          FROM salesperf.standing st
         WHERE st.board_id = b.board_id AND st.period_start = ps
           AND st.contributor_id = leaderboard_rank.participant_id
           AND st.participant_id = leaderboard_rank.participant_id;
        IF NOT FOUND THEN
            IF NOT EXISTS (
                SELECT 1 FROM salesperf.membership m
                 WHERE m.rep_id = leaderboard_rank.participant_id
                   AND m.during && pg_catalog.tstzrange(ps,
                         salesperf.calendar_end(ps, b.period, s.time_zone, s.week_start,
                                                s.fiscal_year_start_month, s.calendar), '[)')
                   AND (b.unit_scope IS NULL OR m.unit_id IN (
                        SELECT t.descendant_id FROM salesperf.unit_tree t WHERE t.ancestor_id = b.unit_scope))) THEN
                RETURN;                               -- not a participant then
            END IF;
            -- Recorded nothing: 0, or no value for an average or a ratio.
            shown := CASE WHEN k.den_measure IS NULL THEN 0 END;
            mine := shown;
        END IF;
        everyone := salesperf.board_members(b.board_id, ps)
                    + CASE WHEN b.unit_scope IS NULL THEN salesperf.board_unassigned(b.board_id, ps) ELSE 0 END;
        -- Inactive reps' standings (few: rep_inactive_idx): those above,
        -- and all of them.
        SELECT pg_catalog.count(*) FILTER (WHERE st.sort_score IS NOT NULL
                                             AND (mine IS NULL OR st.sort_score > mine)),
               pg_catalog.count(*)
          INTO inactive_above, inactive_all
          FROM salesperf.rep r
          JOIN salesperf.standing st
            ON st.board_id = b.board_id AND st.period_start = ps
           AND st.contributor_id = r.rep_id AND st.participant_id = r.rep_id
         WHERE NOT r.active;
        -- Standings with a score above (all with a score when mine has
        -- none), less inactive reps'.
        above := salesperf.standings_above(b.board_id, ps, mine) - inactive_above;
        IF mine < 0 AND k.den_measure IS NULL THEN
            -- Below zero (a lower-is-better board): every participant
            -- who recorded nothing scores 0 and ranks above.
            above := above + everyone
                     - (salesperf.standings_above(b.board_id, ps, NULL) - inactive_all);
        END IF;
        RETURN QUERY SELECT 1 + above, salesperf.display_score(shown, b.metric), everyone;
        RETURN;
    END IF;
    RETURN QUERY
    SELECT c.rank, salesperf.display_score(c.score, b.metric), c.participants
      FROM salesperf.board_standings(b.board_id, ps) c
     WHERE c.participant_id = leaderboard_rank.participant_id;
END
$$;
COMMENT ON FUNCTION salesperf.leaderboard_rank(text, bigint, timestamptz) IS
  'Rank, score and number of participants of one rep (or unit) on a board for the period containing `at` ("rank 57 of 60"). No row if not a participant.';

-- leaderboard_top() the long way: rank every participant of the period
-- (board_standings()) and take the first n.  Zero-score reps rank together
-- with the rest, unit boards roll up.
CREATE OR REPLACE FUNCTION salesperf.leaderboard_top_ranked(board text, n integer, at timestamptz)
RETURNS TABLE (rank bigint, participant_id bigint, name text, score numeric,
               previous_rank bigint, movement integer)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
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

    RETURN QUERY
    WITH top AS (
        SELECT c.*, pg_catalog.row_number() OVER () AS place
          FROM (SELECT * FROM salesperf.board_standings(b.board_id, ps) LIMIT n) c)
    SELECT c.rank, c.participant_id, c.name, salesperf.display_score(c.score, b.metric), p.rank,
           (p.rank - c.rank)::integer
      FROM top c
      LEFT JOIN salesperf.previous_ranks(b.board_id, prev, ARRAY(SELECT t.participant_id FROM top t)) p
        ON p.participant_id = c.participant_id
     ORDER BY c.place;
END
$$;
COMMENT ON FUNCTION salesperf.leaderboard_top_ranked(text, integer, timestamptz) IS
  'Internal: leaderboard_top() by ranking every participant of the period (unit boards, scores at or below zero, fewer than n standings); raises leaderboard_top()''s errors.';

-- The top n, in C (src/leaderboard_top.c): on a rep board whose first n
-- standings all score above zero, one probe of the standings index and the
-- kept previous ranks; otherwise leaderboard_top_ranked() above.
CREATE OR REPLACE FUNCTION salesperf.leaderboard_top(board text, n integer DEFAULT 10,
                                          at timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE (rank bigint, participant_id bigint, name text, score numeric,
               previous_rank bigint, movement integer)
AS 'MODULE_PATHNAME', 'salesperf_leaderboard_top'
LANGUAGE C STABLE;
COMMENT ON FUNCTION salesperf.leaderboard_top(text, integer, timestamptz) IS
  'Top n of a board for the period containing `at`: competition rank, score (money at the currency scale), rank at the end of the previous period (NULL if the participant recorded nothing then) and movement (positive = climbed). Unit boards roll up by today''s org chart.';


-- sql/install/55_maintenance.sql: recompute() groups by sorting
ALTER FUNCTION salesperf.recompute() SET enable_hashagg = off;

-- sql/install/90_access.sql: the new objects in their levels
CREATE OR REPLACE FUNCTION salesperf.board(name text)
RETURNS salesperf.leaderboard
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
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

CREATE OR REPLACE FUNCTION salesperf.display_score(score numeric, metric text)
RETURNS numeric
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
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

CREATE OR REPLACE FUNCTION salesperf.access_privileges(level text)
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
        'leaderboard_top', 'leaderboard_top_ranked', 'leaderboard_rank', 'board', 'board_standings', 'board_candidates',
        'rank_in', 'previous_rank', 'previous_ranks', 'previous_ranks_now', 'final_ranks', 'standings_above', 'score_bucket',
        'board_members', 'board_members_now', 'board_unassigned', 'display_score', 'calendar_start', 'calendar_end',
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
        'leaderboard', 'kpi', 'settings', 'standing', 'standing_tally', 'org_change', 'rep', 'unit', 'unit_tree', 'membership',
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

-- board_unassigned() finds participants through counters, which a rep
-- login's row-level security cuts down to its own rows: it returns only a
-- count of a public board's participants, whoever asks.
ALTER FUNCTION salesperf.board_unassigned(integer, timestamptz) SECURITY DEFINER;

-- assign() is C (src/assign.c): an org import calls it once per rep.
CREATE OR REPLACE FUNCTION salesperf.assign(rep_id bigint, unit_id bigint,
                                            since timestamptz DEFAULT pg_catalog.now())
RETURNS void
AS 'MODULE_PATHNAME', 'salesperf_assign'
LANGUAGE C VOLATILE;

-- set_target() finds a key's stored rows by target_scope_idx.
CREATE OR REPLACE FUNCTION salesperf.set_target(kpi text, scope text, scope_id bigint, period text,
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

-- ---------------------------------------------------------------------------
-- sql/install/50_leaderboards.sql: board_contribution drops the (board,
-- counter) pairs whose kind feeds neither part of the KPI before calling
-- kpi_contribution(), and calls it as an expression (same rows); its last
-- column is the counter row's kind.  Replacing a view resets its options:
-- security_invoker is set again.
CREATE OR REPLACE VIEW salesperf.board_contribution AS
SELECT b.board_id, c.rep_id, c.day, p.participant_id,
       CASE WHEN k.higher_is_better THEN 1 ELSE -1 END AS direction,
       (v.c).num, (v.c).den, (v.c).reached_at AS at, c.kind
  FROM salesperf.leaderboard b
  JOIN salesperf.kpi k ON k.name = b.metric
 CROSS JOIN salesperf.kpi_counter c
 CROSS JOIN LATERAL (SELECT salesperf.kpi_contribution(k.num_kind, k.num_measure, k.den_kind, k.den_measure,
                                                       c.kind, c.activities, c.amount, c.points,
                                                       c.last_at, c.last_amount_at, c.last_point_at) AS c
                     OFFSET 0) v
  LEFT JOIN salesperf.board_unit bu ON bu.board_id = b.board_id AND bu.unit_id = c.unit_id
 CROSS JOIN LATERAL (
       SELECT CASE WHEN b.participant = 'unit' THEN bu.participant_id
                   WHEN b.unit_scope IS NULL OR bu.unit_id IS NOT NULL THEN c.rep_id
              END AS participant_id) p
 WHERE ((k.num_measure IS NOT NULL AND (k.num_kind IS NULL OR k.num_kind = c.kind))
        OR (k.den_measure IS NOT NULL AND (k.den_kind IS NULL OR k.den_kind = c.kind)))
   AND (v.c).num IS NOT NULL AND p.participant_id IS NOT NULL;
ALTER VIEW salesperf.board_contribution SET (security_invoker = true);
COMMENT ON COLUMN salesperf.board_contribution.kind IS 'Activity kind of the counter row.';

-- ---------------------------------------------------------------------------
-- sql/install/55_maintenance.sql: recompute() compares each new state with
-- the stored one as it computes it (nothing written aside), and groups the
-- standings by hashing (the counters still by sorting).
CREATE OR REPLACE FUNCTION salesperf.recompute()
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET jit = off
SET work_mem = '256MB'
-- Hash joins over the whole ledger: up to 1 GB each before they spill to
-- disk (the estimates run high).
SET hash_mem_multiplier = 4
-- Sorting groups the counters faster than hashing them: most
-- groups hold one or two rows, and each hashed group keeps numeric sum
-- states (3,000,000 activities at 100,000 reps: 71 s instead of 82 s).
SET enable_hashagg = off
-- Whole-table passes: one hash join beats repeated index probes (the
-- standings' join on (board, day, kind) could be planned as a memoized
-- probe of the counters per key, several times slower).
SET enable_memoize = off
AS $$
DECLARE
    s salesperf.settings;
BEGIN
    PERFORM salesperf.lock_ledger();
    PERFORM salesperf.lock_reps(pg_catalog.array_agg(r.rep_id)) FROM salesperf.rep r;
    SELECT * INTO s FROM salesperf.settings;

    PERFORM salesperf.rebuild_unit_tree();
    PERFORM salesperf.rebuild_board_units();

    -- Each step compares what the ledger gives with what is stored in one
    -- hash join, without writing the new state aside first; only the rows
    -- that differ are kept (salesperf_change, usually empty), then the
    -- stored rows that are not in the new state go (by row address: every
    -- writer of these tables is held back) and the new rows that are not
    -- stored come in.

    -- Capped rules: a rep's activities of a local day earn in occurred_at
    -- (then id) order until the rule's cap is reached.
    CREATE TEMP TABLE salesperf_change ON COMMIT DROP AS
    SELECT c.ctid AS old_row, f.activity_id, f.rule_id, f.rep_id, f.day, f.kind, f.points
      FROM salesperf.capped_award c
      FULL JOIN (
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
             WHERE t.earned <> 0) f
        ON f.activity_id = c.activity_id AND f.rule_id = c.rule_id
     WHERE c.activity_id IS NULL OR f.activity_id IS NULL
        OR (f.rep_id, f.day, f.kind, f.points) IS DISTINCT FROM (c.rep_id, c.day, c.kind, c.points);
    DELETE FROM salesperf.capped_award c USING pg_temp.salesperf_change d WHERE c.ctid = d.old_row;
    INSERT INTO salesperf.capped_award (activity_id, rule_id, rep_id, day, kind, points)
    SELECT d.activity_id, d.rule_id, d.rep_id, d.day, d.kind, d.points
      FROM pg_temp.salesperf_change d WHERE d.activity_id IS NOT NULL;
    DROP TABLE pg_temp.salesperf_change;

    -- Counters: scored_activity's rule (unit as of occurred_at, local day,
    -- uncapped rules plus the capped awards just stored), each activity
    -- read once.
    CREATE TEMP TABLE salesperf_change ON COMMIT DROP AS
    SELECT c.ctid AS old_row, f.*
      FROM salesperf.kpi_counter c
      FULL JOIN (
            SELECT a.rep_id, m.unit_id, a.day, a.kind, count(*) AS activities, sum(a.amount) AS amount,
                   sum(a.points) AS points, max(a.occurred_at) AS last_at,
                   max(a.occurred_at) FILTER (WHERE a.amount <> 0) AS last_amount_at,
                   max(a.occurred_at) FILTER (WHERE a.points <> 0) AS last_point_at
              FROM (SELECT a.rep_id, a.kind, a.amount, a.occurred_at,
                           salesperf.local_day(a.occurred_at, s.time_zone) AS day,
                           salesperf.rule_points(a.kind, a.amount, a.occurred_at) + COALESCE(ca.points, 0) AS points
                      FROM salesperf.activity a
                      LEFT JOIN (SELECT ca.activity_id, sum(ca.points) AS points
                                   FROM salesperf.capped_award ca GROUP BY ca.activity_id) ca
                        ON ca.activity_id = a.activity_id) a
              LEFT JOIN salesperf.membership m
                     ON m.rep_id = a.rep_id AND m.during @> a.occurred_at
             GROUP BY a.rep_id, a.day, a.kind, m.unit_id) f
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

    -- The distinct (day, kind) pairs are hashed (a few thousand).
    PERFORM pg_catalog.set_config('enable_hashagg', 'on', true);

    -- Standings, from the counters just stored: computed_standing's rule,
    -- with the period start of each (board, distinct day) computed once.
    -- A (board, day) row is listed once per kind the board's KPI reads
    -- (board_contribution's own test, which still applies), so that the
    -- join on (board, day, kind) pairs each counter row only with the
    -- boards it counts on (3,000,000 counter rows on four boards: 4.5
    -- million pairs instead of 11.9 million filtered down to them).
    CREATE TEMP TABLE salesperf_period ON COMMIT DROP AS
    SELECT b.board_id, d.day, d.kind,
           salesperf.calendar_start(salesperf.local_day_start(d.day, s.time_zone), b.period,
                                    s.time_zone, s.week_start, s.fiscal_year_start_month,
                                    s.calendar) AS ps
      FROM (SELECT DISTINCT c.day, c.kind FROM salesperf.kpi_counter c) d
      JOIN salesperf.leaderboard b ON true
      JOIN salesperf.kpi k ON k.name = b.metric
     WHERE (k.num_measure IS NOT NULL AND (k.num_kind IS NULL OR k.num_kind = d.kind))
        OR (k.den_measure IS NOT NULL AND (k.den_kind IS NULL OR k.den_kind = d.kind));
    ANALYZE pg_temp.salesperf_period;
    -- The standings are grouped by sorting: the planner's count of them
    -- runs low, and a hash aggregate of numeric sums that does not fit
    -- spills (3,000,000 activities: 20.4 s, against about 10 s sorted rep
    -- first).
    PERFORM pg_catalog.set_config('enable_hashagg', 'off', true);

    CREATE TEMP TABLE salesperf_change ON COMMIT DROP AS
    SELECT st.ctid AS old_row, f.*
      FROM salesperf.standing st
      FULL JOIN (
            SELECT bc.board_id, pm.ps AS period_start, bc.participant_id, bc.rep_id AS contributor_id,
                   sum(bc.num) AS num, sum(bc.den) AS den, bc.direction, max(bc.at) AS reached_at
              FROM salesperf.board_contribution bc
              JOIN pg_temp.salesperf_period pm
                ON pm.board_id = bc.board_id AND pm.day = bc.day AND pm.kind = bc.kind
             -- Most distinct keys first: the sort compares fewer columns.
             GROUP BY bc.rep_id, bc.participant_id, bc.board_id, pm.ps, bc.direction
            HAVING max(bc.at) IS NOT NULL) f
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

    DROP TABLE pg_temp.salesperf_period, pg_temp.salesperf_change;

    -- Badge awards are history: nothing is revoked; any the ledger shows
    -- earned but missing is added.
    PERFORM salesperf.award_badges(NULL, NULL);
END
$$;
ALTER FUNCTION salesperf.recompute() SECURITY DEFINER;

-- ---------------------------------------------------------------------------
-- sql/install/76_badges.sql: award_badges() groups every rep's periods rep
-- first.
CREATE OR REPLACE FUNCTION salesperf.award_badges(rep_ids bigint[], days date[], rule_ids bigint[] DEFAULT NULL)
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
        -- period of each distinct day computed once), the rep first in the
        -- grouping (most distinct keys first: the sort compares fewer
        -- columns).
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
                 GROUP BY c.rep_id, pm.rule_id, pm.ps, q.den_measure) x
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

-- ---------------------------------------------------------------------------
-- Inserts into salesperf.membership have a trigger of their own, in C
-- (membership_inserted); membership_changed keeps updates and deletes.
CREATE OR REPLACE FUNCTION salesperf.membership_changed()
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
    IF TG_OP = 'DELETE' THEN
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

CREATE FUNCTION salesperf.membership_inserted()
RETURNS trigger
AS 'MODULE_PATHNAME', 'salesperf_membership_inserted'
LANGUAGE C
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION salesperf.membership_inserted() IS
  'Internal: statement trigger after an INSERT into salesperf.membership: locks the reps, refuses overlapping memberships (23P01) and re-derives the days of activities that change unit.';
DROP TRIGGER membership_inserted ON salesperf.membership;
CREATE TRIGGER membership_inserted AFTER INSERT ON salesperf.membership
    REFERENCING NEW TABLE AS membership_new
    FOR EACH STATEMENT EXECUTE FUNCTION salesperf.membership_inserted();

-- ---------------------------------------------------------------------------
-- Last, as in the install script: the access rules, applied to every routine
-- (after every change above).
SELECT salesperf.apply_access_rules();
