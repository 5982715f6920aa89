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
-- 1.0 differs from 0.1.0 only in how sql/install/90_access.sql applies its
-- access rules: once a DO block at install, now a function the install and
-- every upgrade script call.  No table, view, type or public function
-- changed.
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
-- Last, as in the install script: the access rules, applied to every routine
-- (after every change above).
SELECT salesperf.apply_access_rules();
