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
