-- Notifications (SPEC §8) that ride on the write path: "entered the top 3"
-- and "target achieved" (badge awards are announced in 76_badges.sql).
--
-- "Entered the top 3": salesperf.board_podium remembers, per rep board's
-- running period, the reps whose last write found them in the top 3.  A
-- write that takes a rep into the top 3 announces it (NOTIFY salesperf,
-- delivered at commit); a write that finds the rep outside clears the
-- mark, so the next entry is announced again.  Each rep's mark is written
-- only by writers holding that rep's lock (lock_reps): no row is shared
-- between reps, so podium bookkeeping adds no lock between two writers.
-- Not a ranking: boards are read with leaderboard_top.

CREATE TABLE salesperf.board_podium (
    board_id       integer NOT NULL REFERENCES salesperf.leaderboard (board_id) ON DELETE CASCADE,
    period_start   timestamptz NOT NULL,
    participant_id bigint NOT NULL,
    PRIMARY KEY (board_id, period_start, participant_id)
);
COMMENT ON TABLE salesperf.board_podium IS
  'Bookkeeping of NOTIFY salesperf ''entered_top3'': the reps whose last write found them in the top 3 of a rep board''s running period.';
-- Not derivable from the ledger (it records what was announced): dumped.
SELECT pg_catalog.pg_extension_config_dump('salesperf.board_podium', '');

-- After the given (rep, local day) pairs changed: on every rep board of a
-- higher-is-better KPI whose running period (the one holding now()) holds
-- one of the days, each of those reps now in the top 3 -- a positive score
-- with fewer than three active reps scoring more (rank <= 3 in
-- leaderboard_top), counted with index probes only -- and not marked gets
-- its mark and is announced; each one outside loses its mark.  The one-row
-- insert path (src/write_notifications.c, podium_sql) states the same
-- "in the top 3" test to find, with one probe, the boards where a rep's
-- mark disagrees with its place, and calls this function for those only:
-- a change of the rule is made in both.
CREATE FUNCTION salesperf.note_podium(rep_ids bigint[], days date[], metrics text[] DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    announced integer;
BEGIN
    WITH touched AS (
        SELECT DISTINCT b.board_id, x.ps, k.rep_id
          FROM unnest(rep_ids, days) AS k(rep_id, day)
         CROSS JOIN salesperf.settings s
          JOIN salesperf.leaderboard b ON b.participant = 'rep' AND (metrics IS NULL OR b.metric = ANY (metrics))
          JOIN salesperf.kpi q ON q.name = b.metric AND q.higher_is_better
         CROSS JOIN LATERAL (
               SELECT salesperf.calendar_start(pg_catalog.now(), b.period, s.time_zone, s.week_start,
                                               s.fiscal_year_start_month, s.calendar) AS ps,
                      salesperf.calendar_start(salesperf.local_day_start(k.day, s.time_zone), b.period,
                                               s.time_zone, s.week_start, s.fiscal_year_start_month,
                                               s.calendar) AS day_ps) x
         WHERE x.ps = x.day_ps),
    c AS MATERIALIZED (
        SELECT t.board_id, t.ps AS period_start, t.rep_id AS participant_id,
               COALESCE(st.sort_score > 0 AND r.active
                        AND (SELECT pg_catalog.count(*)
                               FROM (SELECT 1 FROM salesperf.standing o
                                       JOIN salesperf.rep ro ON ro.rep_id = o.participant_id AND ro.active
                                      WHERE o.board_id = t.board_id AND o.period_start = t.ps
                                        AND o.sort_score > st.sort_score
                                      LIMIT 3) above) < 3, false) AS in_top3
          FROM touched t
          JOIN salesperf.rep r ON r.rep_id = t.rep_id
          LEFT JOIN salesperf.standing st
            ON st.board_id = t.board_id AND st.period_start = t.ps
           AND st.contributor_id = t.rep_id AND st.participant_id = t.rep_id),
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
COMMENT ON FUNCTION salesperf.note_podium(bigint[], date[], text[]) IS
  'Internal: after a write of the given (rep, local day) pairs, mark and NOTIFY salesperf ''entered_top3'' for each of those reps now in the top 3 of a running rep board (ranked on one of the given metrics, or any), and clear the mark of those outside.';

-- Rep targets announced as achieved (NOTIFY salesperf 'target_achieved'),
-- once per target: history, like badge awards.
CREATE TABLE salesperf.target_achieved (
    kpi          text NOT NULL,
    rep_id       bigint NOT NULL REFERENCES salesperf.rep (rep_id) ON DELETE CASCADE,
    period       text NOT NULL,
    period_start timestamptz NOT NULL,
    achieved_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (kpi, rep_id, period, period_start)
);
COMMENT ON TABLE salesperf.target_achieved IS
  'History: rep targets announced as achieved (NOTIFY salesperf ''target_achieved''), once per target.';
SELECT pg_catalog.pg_extension_config_dump('salesperf.target_achieved', '');

-- Announce the rep targets that the given (rep, local day) pairs achieved:
-- for each rep with targets, its target progress as of the end of each
-- touched day (or now, if sooner); a target at 'achieved' not announced
-- before is recorded and announced.  Index probes only (targets, counters).
CREATE FUNCTION salesperf.note_targets(rep_ids bigint[], days date[])
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
DECLARE
    announced integer;
BEGIN
    WITH s AS (SELECT * FROM salesperf.settings),
    touched AS (
        SELECT DISTINCT k.rep_id,
               LEAST(pg_catalog.now(), salesperf.local_day_start(k.day + 1, s.time_zone) - interval '1 microsecond') AS at
          FROM unnest(rep_ids, days) AS k(rep_id, day) CROSS JOIN s
         WHERE EXISTS (SELECT 1 FROM salesperf.target t WHERE t.scope_id = k.rep_id AND t.scope = 'rep')),
    done AS (
        INSERT INTO salesperf.target_achieved (kpi, rep_id, period, period_start)
        SELECT p.kpi, p.scope_id, p.period, p.period_start
          FROM touched t
         CROSS JOIN LATERAL salesperf.target_progress_at(t.at, 'rep', t.rep_id) p
         WHERE p.status = 'achieved'
         ORDER BY 1, 2, 3, 4
        ON CONFLICT DO NOTHING
        RETURNING target_achieved.kpi, target_achieved.rep_id, target_achieved.period,
                  target_achieved.period_start)
    SELECT pg_catalog.count(pg_catalog.pg_notify('salesperf', pg_catalog.json_build_object(
               'event', 'target_achieved', 'kpi', d.kpi, 'scope', 'rep', 'rep_id', d.rep_id, 'rep', r.name,
               'period', d.period, 'period_start', d.period_start)::text))
      INTO announced
      FROM done d JOIN salesperf.rep r ON r.rep_id = d.rep_id;
    RETURN announced;
END
$$;
COMMENT ON FUNCTION salesperf.note_targets(bigint[], date[]) IS
  'Internal: record and NOTIFY salesperf ''target_achieved'' for each rep target the given (rep, local day) pairs achieved (once per target).';

-- What follows a change of the given (rep, local day) pairs once counters
-- and standings are in step: badges earned, podium entries, rep targets
-- achieved.  The ledger triggers and rederive() call it.  When the change
-- is known to touch only some activity kinds (the insert path), only the
-- KPIs those kinds feed can have moved: rules, boards and targets on other
-- KPIs are left alone.  A one-row insert does the same in C
-- (src/write_notifications.c) with a per-backend copy of which KPIs have
-- rules, boards and targets, and prepared statements: same awards, same
-- announcements.
CREATE FUNCTION salesperf.after_change(rep_ids bigint[], days date[], kinds text[] DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    moved text[];
    rules bigint[];
BEGIN
    SELECT pg_catalog.array_agg(k.name) INTO moved
      FROM salesperf.kpi k
     WHERE kinds IS NULL OR k.num_kind IS NULL OR k.num_kind = ANY (kinds)
        OR (k.den_measure IS NOT NULL AND (k.den_kind IS NULL OR k.den_kind = ANY (kinds)));
    IF moved IS NULL THEN
        RETURN;
    END IF;
    SELECT pg_catalog.array_agg(r.rule_id) INTO rules
      FROM salesperf.badge_rule r WHERE r.metric = ANY (moved);
    IF rules IS NOT NULL THEN
        PERFORM salesperf.award_badges(rep_ids, days, rules);
    END IF;
    IF EXISTS (SELECT 1 FROM salesperf.leaderboard b WHERE b.participant = 'rep' AND b.metric = ANY (moved)) THEN
        PERFORM salesperf.note_podium(rep_ids, days, moved);
    END IF;
    IF EXISTS (SELECT 1 FROM salesperf.target t WHERE t.scope = 'rep' AND t.kpi = ANY (moved)) THEN
        PERFORM salesperf.note_targets(rep_ids, days);
    END IF;
END
$$;
COMMENT ON FUNCTION salesperf.after_change(bigint[], date[], text[]) IS
  'Internal: award the badges and announce the podium entries and achieved rep targets that a change of the given (rep, local day) pairs (of the given kinds, or any) brings.';

-- The configuration the write path's notifications depend on (calendar
-- settings, KPIs, badge rules, leaderboards, targets) has a version: every
-- statement that changes one of those tables adds a row here, numbered
-- from a sequence.  The one-row insert path (src/write_notifications.c)
-- keeps, per backend, a copy of the calendar settings and of which KPIs
-- have badge rules, rep boards and rep targets, and reads the newest
-- version its statement sees before each use: a changed configuration,
-- committed by any session, is read again.  Sequence numbers are never
-- reused, so a copy made inside a transaction that rolled back never
-- passes for a committed configuration.  pg_dump carries the rows and the
-- sequence (a restore, under session_replication_role = replica, fires no
-- trigger): a restored database has the source's newest version, which no
-- fresh copy was made at.
CREATE SEQUENCE salesperf.notify_config_version_seq;
COMMENT ON SEQUENCE salesperf.notify_config_version_seq IS
  'Numbers of salesperf.notify_config_version (never reused).';
CREATE TABLE salesperf.notify_config_version (
    version bigint PRIMARY KEY DEFAULT pg_catalog.nextval('salesperf.notify_config_version_seq')
);
COMMENT ON TABLE salesperf.notify_config_version IS
  'Internal: one row per statement that changed salesperf.configuration, kpi, badge_rule, leaderboard or target; the newest version tells the write path whether its copy of that configuration is current.';
COMMENT ON COLUMN salesperf.notify_config_version.version IS 'Version number (increasing, never reused).';
-- Version 1 is the install's own row.
INSERT INTO salesperf.notify_config_version DEFAULT VALUES;
SELECT pg_catalog.pg_extension_config_dump('salesperf.notify_config_version', 'WHERE version > 1');
SELECT pg_catalog.pg_extension_config_dump('salesperf.notify_config_version_seq', '');

CREATE FUNCTION salesperf.notify_config_changed()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    INSERT INTO salesperf.notify_config_version DEFAULT VALUES;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION salesperf.notify_config_changed() IS
  'Internal trigger: a new salesperf.notify_config_version after a change of the settings, KPIs, badge rules, leaderboards or targets.';

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['configuration', 'kpi', 'badge_rule', 'leaderboard', 'target'] LOOP
        EXECUTE pg_catalog.format(
            'CREATE TRIGGER notify_config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON salesperf.%I'
            ' FOR EACH STATEMENT EXECUTE FUNCTION salesperf.notify_config_changed()', t);
    END LOOP;
END
$$;
