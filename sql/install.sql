--
-- Installing salesperf (SPEC §1, §12).
--
-- The extension has C functions, so only a superuser installs it.
SELECT version, superuser, relocatable, schema
  FROM pg_available_extension_versions WHERE name = 'salesperf' ORDER BY version;

-- A schema named salesperf that another role owns could hold look-alike
-- functions and operators planted before the install: CREATE EXTENSION
-- refuses it (42501) and creates nothing.
DROP EXTENSION salesperf;
DROP SCHEMA salesperf;          -- CREATE EXTENSION made it; DROP EXTENSION leaves it
CREATE ROLE regress_salesperf_squatter;
CREATE SCHEMA salesperf AUTHORIZATION regress_salesperf_squatter;
DO $$
BEGIN
    CREATE EXTENSION salesperf;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'refused with %: %', SQLSTATE,
        regexp_replace(SQLERRM, 'not by "[^"]*"', 'not by "<installer>"');
END
$$;
SELECT count(*) AS salesperf_functions
  FROM pg_proc WHERE pronamespace = 'salesperf'::regnamespace;
SELECT count(*) AS salesperf_extensions FROM pg_extension WHERE extname = 'salesperf';
DROP SCHEMA salesperf;
DROP ROLE regress_salesperf_squatter;

-- A salesperf schema the installing role owns is used as it is.
CREATE SCHEMA salesperf;
CREATE EXTENSION salesperf;
SELECT n.nspowner = (SELECT oid FROM pg_roles WHERE rolname = current_user) AS owned_by_installer
  FROM pg_namespace n WHERE n.nspname = 'salesperf';

-- Nothing is granted to PUBLIC: no function is executable by it, and the
-- schema gives it no usage.  Access comes through salesperf.grant_access().
SELECT count(*) AS public_executable
  FROM pg_proc p
 WHERE p.pronamespace = 'salesperf'::regnamespace
   AND has_function_privilege('public', p.oid, 'EXECUTE');
SELECT has_schema_privilege('public', 'salesperf', 'USAGE') AS public_usage;

-- Leave a plain install for the files that follow.
DROP EXTENSION salesperf;
DROP SCHEMA salesperf;
CREATE EXTENSION salesperf;
