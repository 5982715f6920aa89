-- "Entered the top 3" notifications (SPEC §8).  salesperf.board_podium
-- remembers who is in the top 3 of each rep board's running period, so a
-- rep who enters it is announced once (NOTIFY salesperf, delivered at
-- commit) and again only after having dropped out of it.  Bookkeeping for
-- the notifications, not a ranking: boards are read with leaderboard_top.

CREATE TABLE salesperf.board_podium (
    board_id       integer NOT NULL REFERENCES salesperf.leaderboard (board_id) ON DELETE CASCADE,
    period_start   timestamptz NOT NULL,
    participant_id bigint NOT NULL,
    PRIMARY KEY (board_id, period_start, participant_id)
);
COMMENT ON TABLE salesperf.board_podium IS
  'Derived: reps announced as being in the top 3 of a rep board''s running period (NOTIFY salesperf ''entered_top3'').';

-- Update the podium after the given (rep, local day) pairs changed and
-- announce the reps who entered it.
CREATE FUNCTION salesperf.note_podium(rep_ids bigint[], days date[])
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    announced integer;
BEGIN
    -- The reps of the given pairs and the current podium members, on every
    -- rep board of a higher-is-better metric whose running period (the one
    -- holding now()) holds one of the days, and whether each is in the top
    -- 3 now: a positive score with fewer than three active reps scoring
    -- more (rank <= 3 in leaderboard_top), counted with index probes only.
    WITH touched AS (
        SELECT DISTINCT b.board_id, x.ps, k.rep_id
          FROM unnest(rep_ids, days) AS k(rep_id, day)
         CROSS JOIN salesperf.settings s
          JOIN salesperf.leaderboard b ON b.participant = 'rep'
          JOIN salesperf.kpi q ON q.name = b.metric AND q.higher_is_better
         CROSS JOIN LATERAL (
               SELECT salesperf.calendar_start(pg_catalog.now(), b.period, s.time_zone, s.week_start,
                                               s.fiscal_year_start_month, s.calendar) AS ps,
                      salesperf.calendar_start(salesperf.local_day_start(k.day, s.time_zone), b.period,
                                               s.time_zone, s.week_start, s.fiscal_year_start_month,
                                               s.calendar) AS day_ps) x
         WHERE x.ps = x.day_ps),
    considered AS (
        SELECT t.board_id, t.ps, t.rep_id FROM touched t
        UNION
        SELECT bp.board_id, bp.period_start, bp.participant_id
          FROM salesperf.board_podium bp
         WHERE (bp.board_id, bp.period_start) IN (SELECT t.board_id, t.ps FROM touched t)),
    c AS MATERIALIZED (
        SELECT cn.board_id, cn.ps AS period_start, cn.rep_id AS participant_id,
               COALESCE(st.sort_score > 0 AND r.active
                        AND (SELECT pg_catalog.count(*)
                               FROM (SELECT 1 FROM salesperf.standing o
                                       JOIN salesperf.rep ro ON ro.rep_id = o.participant_id AND ro.active
                                      WHERE o.board_id = cn.board_id AND o.period_start = cn.ps
                                        AND o.sort_score > st.sort_score
                                      LIMIT 3) above) < 3, false) AS in_top3
          FROM considered cn
          JOIN salesperf.rep r ON r.rep_id = cn.rep_id
          LEFT JOIN salesperf.standing st
            ON st.board_id = cn.board_id AND st.period_start = cn.ps
           AND st.contributor_id = cn.rep_id AND st.participant_id = cn.rep_id),
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
COMMENT ON FUNCTION salesperf.note_podium(bigint[], date[]) IS
  'Internal: keep salesperf.board_podium in step after the given (rep, local day) pairs changed, and NOTIFY salesperf ''entered_top3'' for each rep who entered a running board''s top 3.';

-- The podium as the standings say it is now, without announcing anything
-- (recompute(), a restore): for every rep board of a higher-is-better KPI,
-- its running period's reps with a positive score and fewer than three
-- active reps scoring more.
CREATE FUNCTION salesperf.rebuild_podium()
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
BEGIN
    DELETE FROM salesperf.board_podium;
    INSERT INTO salesperf.board_podium (board_id, period_start, participant_id)
    SELECT st.board_id, st.period_start, st.participant_id
      FROM salesperf.leaderboard b
      JOIN salesperf.kpi q ON q.name = b.metric AND q.higher_is_better
     CROSS JOIN salesperf.settings s
      JOIN salesperf.standing st
        ON st.board_id = b.board_id
       AND st.period_start = salesperf.calendar_start(pg_catalog.now(), b.period, s.time_zone, s.week_start,
                                                      s.fiscal_year_start_month, s.calendar)
       AND st.contributor_id = st.participant_id
      JOIN salesperf.rep r ON r.rep_id = st.participant_id AND r.active
     WHERE b.participant = 'rep' AND st.sort_score > 0
       AND (SELECT pg_catalog.count(*)
              FROM (SELECT 1 FROM salesperf.standing o
                      JOIN salesperf.rep ro ON ro.rep_id = o.participant_id AND ro.active
                     WHERE o.board_id = st.board_id AND o.period_start = st.period_start
                       AND o.sort_score > st.sort_score
                     LIMIT 3) above) < 3
     ORDER BY 1, 2, 3;
END
$$;
COMMENT ON FUNCTION salesperf.rebuild_podium() IS
  'Internal: set salesperf.board_podium from the standings of every running rep board, announcing nothing.';

-- What follows a change of the given (rep, local day) pairs once counters
-- and standings are in step: badges earned, podium entries.  The ledger
-- triggers and rederive() call it.
CREATE FUNCTION salesperf.after_change(rep_ids bigint[], days date[])
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM salesperf.badge_rule) THEN
        PERFORM salesperf.award_badges(rep_ids, days);
    END IF;
    IF EXISTS (SELECT 1 FROM salesperf.leaderboard) THEN
        PERFORM salesperf.note_podium(rep_ids, days);
    END IF;
END
$$;
COMMENT ON FUNCTION salesperf.after_change(bigint[], date[]) IS
  'Internal: award the badges and announce the podium entries that a change of the given (rep, local day) pairs brings.';
