-- How many participants a rep board period has ("rank 57 of 60"), without
-- counting every rep on each read (src/board_members.c).

-- Transactions that changed the org chart, the boards, the KPIs, the calendar or the
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
