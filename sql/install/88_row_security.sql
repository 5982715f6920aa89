-- Row-level security (SPEC §12): a login whose only salesperf level is `rep`
-- sees the rows of its own rep (salesperf.rep.db_role = current_user) and,
-- when that rep manages units (salesperf.unit.manager_rep_id), the rows of
-- every rep who is a member today of a unit in the subtree of those units.
-- The admin, writer and reader levels see every row: BI reads everything and
-- the CRM backend writes for every rep.  Leaderboards, contests, badges,
-- rewards and the achievement board are public (no policy).
--
-- Cost: the policies call three STABLE functions, each in an uncorrelated
-- subquery, so each runs once per statement (an InitPlan) and the filter on
-- a table is `rep_id = ANY ($n)` on the rows of the query's own index probe.
-- They are PL/pgSQL so that their plans are kept for the session (an SQL
-- function with a SET clause is planned again on every call).
--
-- salesperf's own code that keeps derived state (the triggers, recompute(),
-- close_commission_period(), ...) runs as the extension's owner, a
-- superuser, which row-level security does not filter: it maintains every
-- rep's rows whoever writes the ledger.

-- ---------------------------------------------------------------------------
-- The levels handed out by salesperf.grant_access(), one row per role and
-- level.  Policies read it to tell unrestricted logins from `rep` logins.
CREATE TABLE salesperf.access_grant (
    role       name NOT NULL,
    level      text NOT NULL CHECK (level IN ('admin', 'writer', 'reader', 'rep')),
    granted_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (role, level)
);
COMMENT ON TABLE salesperf.access_grant IS
  'Levels given by salesperf.grant_access(), one row per role and level (written by grant_access; delete a role''s row when withdrawing its level with REVOKE). Row-level security reads it: a role holding admin, writer or reader, directly or through membership, sees every row.';
COMMENT ON COLUMN salesperf.access_grant.role IS 'Role given the level.';
COMMENT ON COLUMN salesperf.access_grant.level IS 'admin, writer, reader or rep.';
COMMENT ON COLUMN salesperf.access_grant.granted_at IS 'When grant_access() first gave it.';
SELECT pg_catalog.pg_extension_config_dump('salesperf.access_grant', '');

-- A rep login is found by its db_role: one index probe per statement.
CREATE INDEX rep_db_role_idx ON salesperf.rep (db_role) WHERE db_role IS NOT NULL;

-- ---------------------------------------------------------------------------
-- Whether the current role sees every row: it holds the admin, writer or
-- reader level, itself or through a role it is a member of (superusers are
-- members of every role; they bypass row-level security anyway).
CREATE FUNCTION salesperf.row_access_unrestricted()
RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (SELECT EXISTS (SELECT 1
                             FROM salesperf.access_grant g
                             JOIN pg_catalog.pg_roles r ON r.rolname = g.role
                            WHERE g.level <> 'rep'
                              AND pg_catalog.pg_has_role(CURRENT_USER, r.oid, 'USAGE')));
END
$$;
COMMENT ON FUNCTION salesperf.row_access_unrestricted() IS
  'Internal (row-level security): true when the current role holds the admin, writer or reader level and so sees every rep''s rows.';

-- The units whose whole subtree the current role manages: every descendant
-- (today's tree) of a unit whose manager is a rep linked to the role.
CREATE FUNCTION salesperf.row_access_units()
RETURNS bigint[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (SELECT COALESCE(pg_catalog.array_agg(DISTINCT t.descendant_id ORDER BY t.descendant_id), '{}')
              FROM salesperf.rep me
              JOIN salesperf.unit u ON u.manager_rep_id = me.rep_id
              JOIN salesperf.unit_tree t ON t.ancestor_id = u.unit_id
             WHERE me.db_role = CURRENT_USER);
END
$$;
COMMENT ON FUNCTION salesperf.row_access_units() IS
  'Internal (row-level security): the units the current role manages, with their whole subtree as of today''s tree (empty for a role that manages none).';

-- The reps whose rows the current role sees: its own rep(s) and every rep
-- who is a member today of a unit it manages (row_access_units).
CREATE FUNCTION salesperf.row_access_reps()
RETURNS bigint[]
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (SELECT COALESCE(pg_catalog.array_agg(DISTINCT x.rep_id ORDER BY x.rep_id), '{}')
              FROM (SELECT r.rep_id FROM salesperf.rep r WHERE r.db_role = CURRENT_USER
                    UNION ALL
                    SELECT m.rep_id
                      FROM salesperf.rep me
                      JOIN salesperf.unit u ON u.manager_rep_id = me.rep_id
                      JOIN salesperf.unit_tree t ON t.ancestor_id = u.unit_id
                      JOIN salesperf.membership m ON m.unit_id = t.descendant_id AND m.during @> pg_catalog.now()
                     WHERE me.db_role = CURRENT_USER) x);
END
$$;
COMMENT ON FUNCTION salesperf.row_access_reps() IS
  'Internal (row-level security): the reps whose rows the current role sees: the rep whose db_role it is, and the reps who are members today of a unit in the subtree of a unit it manages.';

-- ---------------------------------------------------------------------------
-- Policies.  One permissive policy per table, for every command: a row is
-- seen when the role is unrestricted or the row belongs to a visible rep;
-- only unrestricted roles write (the rep level holds no write privilege
-- anyway: this is the second lock).  FORCE: even a non-superuser owner of
-- these tables would be filtered.
DO $$
DECLARE
    per_rep constant text[] := ARRAY[
        'activity', 'opportunity', 'capped_award', 'commission_paid', 'commission_adjustment',
        'plan_assignment', 'target_achieved'];
    t text;
BEGIN
    FOREACH t IN ARRAY per_rep LOOP
        EXECUTE pg_catalog.format($f$
            CREATE POLICY rep_rows ON salesperf.%1$I
                USING ((SELECT salesperf.row_access_unrestricted())
                       OR rep_id = ANY ((SELECT salesperf.row_access_reps())::bigint[]))
                WITH CHECK ((SELECT salesperf.row_access_unrestricted()))$f$, t);
        EXECUTE pg_catalog.format('ALTER TABLE salesperf.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE pg_catalog.format('ALTER TABLE salesperf.%I FORCE ROW LEVEL SECURITY', t);
    END LOOP;
END
$$;

-- Counters carry the unit the activity counted for: a manager sees those of
-- the units in the subtree too (a unit's KPI for a past period includes
-- reps who have left it since), a rep only its own.
CREATE POLICY rep_rows ON salesperf.kpi_counter
    USING ((SELECT salesperf.row_access_unrestricted())
           OR rep_id = ANY ((SELECT salesperf.row_access_reps())::bigint[])
           OR unit_id = ANY ((SELECT salesperf.row_access_units())::bigint[]))
    WITH CHECK ((SELECT salesperf.row_access_unrestricted()));
ALTER TABLE salesperf.kpi_counter ENABLE ROW LEVEL SECURITY;
ALTER TABLE salesperf.kpi_counter FORCE ROW LEVEL SECURITY;

-- Targets: a rep target goes with its rep, a unit target with the unit (a
-- manager sees the targets of the units in the subtree), the company target
-- with the managers of a top-level unit.
CREATE POLICY rep_rows ON salesperf.target
    USING ((SELECT salesperf.row_access_unrestricted())
           OR rep_id = ANY ((SELECT salesperf.row_access_reps())::bigint[])
           OR unit_id = ANY ((SELECT salesperf.row_access_units())::bigint[])
           OR (scope = 'company'
               AND EXISTS (SELECT 1 FROM salesperf.unit u
                            WHERE u.parent_id IS NULL
                              AND u.unit_id = ANY ((SELECT salesperf.row_access_units())::bigint[]))))
    WITH CHECK ((SELECT salesperf.row_access_unrestricted()));
ALTER TABLE salesperf.target ENABLE ROW LEVEL SECURITY;
ALTER TABLE salesperf.target FORCE ROW LEVEL SECURITY;

-- ---------------------------------------------------------------------------
-- Views that read those tables in their own query run with the rights of
-- the role that reads them, so that the policies apply to it (a view
-- otherwise reads its tables as its owner, the superuser who installed
-- salesperf, which row-level security does not filter).  Views that only
-- call functions (kpi_report, scoreboard, target_progress) are filtered by
-- the functions' own reads, which always run as the caller.
ALTER VIEW salesperf.scored_activity SET (security_invoker = true);
ALTER VIEW salesperf.board_contribution SET (security_invoker = true);
ALTER VIEW salesperf.computed_standing SET (security_invoker = true);
ALTER VIEW salesperf.forecast_accuracy SET (security_invoker = true);
ALTER VIEW salesperf.target_progress SET (security_invoker = true);
