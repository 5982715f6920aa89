-- Privileges (SPEC §12): who may run what, and which code runs as the
-- extension's owner.  This part comes last in the install script so that it
-- sees every object the earlier parts created.
--
-- The model:
--   * PUBLIC gets nothing: no USAGE on the schema, no table, no routine.
--   * salesperf.grant_access(role, level) hands out one of four levels
--     (admin, writer, reader, rep); the objects of each level are listed once,
--     in salesperf.access_privileges().
--   * Derived tables (capped awards, counters, standings, the unit closure,
--     board units, forecast snapshots) are written only by salesperf's own
--     code.  No level gets INSERT, UPDATE, DELETE or TRUNCATE on them; the
--     code that writes them runs as the extension's owner (SECURITY DEFINER,
--     below), reached only through triggers on salesperf's tables and
--     through the admin functions listed here.
--   * Every SECURITY DEFINER function is marked in this file, nowhere else,
--     and has its search_path pinned (checked at the end of this file).

-- ---------------------------------------------------------------------------
-- search_path of the C ledger trigger.  It runs its maintenance SQL through
-- SPI with unqualified operators (=, @>, <): with the caller's search_path a
-- look-alike operator in a schema listed before pg_catalog would be called,
-- with the owner's rights once the trigger is SECURITY DEFINER.
ALTER FUNCTION salesperf.ledger_changed() SET search_path = pg_catalog, pg_temp;

-- ---------------------------------------------------------------------------
-- The rules every salesperf routine follows, applied by one function that
-- the install script calls at its end (below) and every upgrade script calls
-- at its end (sql/upgrade/), so that a routine an upgrade adds is treated as
-- a fresh install treats it:
--
-- Trigger functions.  Rule: a trigger function of salesperf runs as the
-- extension's owner when every trigger that uses it is on one of
-- salesperf's own tables.  Those are the functions that keep derived
-- state in step (ledger_changed on salesperf.activity; the membership,
-- point rule, unit tree and org chart triggers; the opportunity triggers
-- that write deal activities) and the guards beside them: the rows they
-- write must not depend on what the role changing a ledger or configuration
-- row may write itself.  A trigger added later to a salesperf table gets the
-- same treatment without being listed here.  The rule is applied once, to
-- the routines that do not yet run as the owner: a trigger someone later
-- puts on a table of their own with a function that runs as the owner
-- changes nothing and does not stop an upgrade.
--
-- Exceptions, on purpose: the triggers salesperf.track() and
-- salesperf.track_opportunities() install on a CRM's own tables run as the
-- role writing the CRM table, so that role needs the writer level and the
-- ledger's own privileges decide what it may record.  Running them as the
-- owner would let anyone who may write a tracked CRM table write the
-- ledger.  A trigger function used on no salesperf table and not named here
-- stops the install: someone has to decide which kind it is.
--
-- PUBLIC.  Nothing of salesperf is executable by PUBLIC: routines
-- (functions, aggregates, procedures) are reached through grant_access()
-- only.  The EXECUTE that PUBLIC gets by default is revoked from each
-- routine that still has it, and from no other: a REVOKE on a routine
-- during CREATE or ALTER EXTENSION records its whole ACL, grants made by
-- grant_access() included, as the extension's initial privileges, which
-- pg_dump then leaves out of a dump.
--
-- Checks that keep this file honest: every SECURITY DEFINER function pins
-- its search_path, and every object an access level names exists.
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
-- Maintenance an admin starts that writes derived tables directly.
-- recompute(): rebuilds the closure, board map, capped awards, counters and
-- standings (and locks the ledger and the reps), which no level may do itself.
ALTER FUNCTION salesperf.recompute() SECURITY DEFINER;
-- snapshot_forecast(): writes salesperf.forecast_snapshot, a derived table.
ALTER FUNCTION salesperf.snapshot_forecast(text, timestamptz) SECURITY DEFINER;
-- Contests and rewards: no level writes salesperf.contest, contest_result,
-- reward_grant or badge_award by DML.  create_contest() writes the contest
-- (validated by contest_check); finalize_contests() freezes results, awards
-- prize badges, records bonus activities and grants rewards; grant_reward()
-- and set_grant_status() are the only writers of reward grants (the status
-- moves only along pending -> approved -> paid, or to cancelled).
ALTER FUNCTION salesperf.create_contest(text, text, timestamptz, timestamptz, text, bigint, jsonb, text) SECURITY DEFINER;
ALTER FUNCTION salesperf.finalize_contests(timestamptz) SECURITY DEFINER;
ALTER FUNCTION salesperf.grant_reward(text, bigint, text) SECURITY DEFINER;
ALTER FUNCTION salesperf.set_grant_status(bigint, text) SECURITY DEFINER;
-- close_commission_period(): freezes statement lines and adjustment lines
-- into commission_period, commission_paid and commission_adjustment, which
-- no level writes by DML.
ALTER FUNCTION salesperf.close_commission_period(timestamptz, text) SECURITY DEFINER;
-- create_leaderboard() only inserts the board: the leaderboard_changed
-- trigger builds its map and standings, so it runs as the caller.
-- The achievement board and contest standings are public (SPEC §12): they
-- read counters, which row-level security filters for a rep login, and
-- answer the same to every level that may call them.  They return only what
-- the public boards show (points, badges, ranks, scores).
ALTER FUNCTION salesperf.achievement_board_at(timestamptz) SECURITY DEFINER;
ALTER FUNCTION salesperf.contest_standings(text) SECURITY DEFINER;
-- A commission statement's team part needs the whole team's value and
-- target, which a rep login's row-level security would cut down to its own
-- rows: these two return only a unit's aggregate (what the public unit
-- boards show), whoever asks.
ALTER FUNCTION salesperf.commission_team_value(text, bigint, date, date) SECURITY DEFINER;
ALTER FUNCTION salesperf.unit_target(text, text, timestamptz, date, date, bigint) SECURITY DEFINER;
-- board_unassigned() finds participants through counters, which a rep
-- login's row-level security cuts down to its own rows: it returns only a
-- count of a public board's participants, whoever asks.
ALTER FUNCTION salesperf.board_unassigned(integer, timestamptz) SECURITY DEFINER;

-- ---------------------------------------------------------------------------
-- The objects of each access level, in one place.  Functions are named
-- without arguments: every overload (both kpi_score aggregates, say) goes
-- with its name.  A level includes nothing implicitly except as stated:
-- admin = reader + writer + rep + its own list.
CREATE FUNCTION salesperf.access_privileges(level text)
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

CREATE FUNCTION salesperf.grant_access(role name, level text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p record;
BEGIN
    IF grant_access.role IS NULL OR grant_access.level IS NULL THEN
        RAISE EXCEPTION 'grant_access() needs a role and a level' USING ERRCODE = '22004';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = grant_access.role) THEN
        RAISE EXCEPTION 'role "%" does not exist', grant_access.role
            USING ERRCODE = '42704', HINT = 'Create the role first: salesperf creates no roles.';
    END IF;
    FOR p IN SELECT * FROM salesperf.access_privileges(grant_access.level) LOOP
        EXECUTE pg_catalog.format('GRANT %s ON %s %s TO %I',
                                  p.privileges, p.object_type, p.object_name, grant_access.role);
    END LOOP;
    -- Row-level security tells unrestricted levels from rep by this record.
    INSERT INTO salesperf.access_grant (role, level)
    VALUES (grant_access.role, grant_access.level)
    ON CONFLICT DO NOTHING;
END
$$;
COMMENT ON FUNCTION salesperf.grant_access(name, text) IS
  'Give a role one access level: admin (configuration: KPIs, rules, boards, stages, tracking, recompute; includes reader and writer), writer (a CRM backend: record activities, write opportunities, write tracked CRM tables), reader (BI: every table and view, the read functions), rep (the public boards, contests, badges and rewards, and through row-level security its own activities, opportunities, targets, counters and commission statements, or a manager''s whole subtree). Records the level in salesperf.access_grant. Idempotent. Runs with the caller''s rights: only the extension''s owner (a superuser) can hand out access.';

-- ---------------------------------------------------------------------------
-- Last: the rules above, applied to every routine created so far.  Every
-- upgrade script ends with the same call.
SELECT salesperf.apply_access_rules();
