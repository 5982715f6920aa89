-- The catalog of a database with salesperf, printed so that two databases
-- compare line by line (test/upgrade/upgrade.sh): every object of the
-- extension and of the other user schemas (the CRM tables salesperf tracks),
-- its definition, owner, privileges, comment and extension bookkeeping.
-- OIDs are printed as names; lists (ACLs, options) are sorted; rows are
-- fully ordered.  A section starts with a "## name" line.
\set ON_ERROR_STOP 1
\pset format unaligned
\pset tuples_only on
\pset null '<null>'
SET client_min_messages = warning;

-- Schemas other than the system's, and a sorted text form of an ACL.
CREATE TEMP VIEW ns AS
SELECT n.oid, n.nspname
  FROM pg_catalog.pg_namespace n
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
   AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%';
CREATE FUNCTION pg_temp.acl(a aclitem[]) RETURNS text LANGUAGE sql IMMUTABLE
AS $$ SELECT pg_catalog.string_agg(x::text, ' ' ORDER BY x::text) FROM pg_catalog.unnest(a) x $$;
CREATE FUNCTION pg_temp.sorted(a text[]) RETURNS text LANGUAGE sql IMMUTABLE
AS $$ SELECT pg_catalog.string_agg(x, ' ' ORDER BY x) FROM pg_catalog.unnest(a) x $$;
-- Options this server keeps per column by itself (pg_attver=...) differ from
-- one database to the next and say nothing about salesperf.
CREATE FUNCTION pg_temp.column_options(a text[]) RETURNS text LANGUAGE sql IMMUTABLE
AS $$ SELECT pg_catalog.string_agg(x, ' ' ORDER BY x) FROM pg_catalog.unnest(a) x WHERE x NOT LIKE 'pg\_attver=%' $$;

\echo '## extension'
SELECT concat_ws(' | ', e.extname, e.extversion, e.extrelocatable, n.nspname, r.rolname)
  FROM pg_catalog.pg_extension e
  JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
  JOIN pg_catalog.pg_roles r ON r.oid = e.extowner
 ORDER BY 1;

\echo '## extension configuration tables and dump filters'
SELECT concat_ws(' | ', e.extname, c.cfg::pg_catalog.regclass::text, c.cond)
  FROM pg_catalog.pg_extension e,
       unnest(e.extconfig, e.extcondition) AS c(cfg, cond)
 ORDER BY 1;

\echo '## extension members'
SELECT concat_ws(' | ', e.extname, pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid))
  FROM pg_catalog.pg_depend d
  JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
 WHERE d.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass AND d.deptype = 'e'
 ORDER BY 1;

\echo '## schemas'
SELECT concat_ws(' | ', n.nspname, r.rolname, pg_temp.acl(s.nspacl))
  FROM ns n
  JOIN pg_catalog.pg_namespace s ON s.oid = n.oid
  JOIN pg_catalog.pg_roles r ON r.oid = s.nspowner
 ORDER BY 1;

\echo '## routines'
SELECT concat_ws(' | ', p.oid::pg_catalog.regprocedure::text, p.prokind, r.rolname,
                 'acl=' || coalesce(pg_temp.acl(p.proacl), '<default>'),
                 'secdef=' || p.prosecdef, 'volatile=' || p.provolatile::text, 'parallel=' || p.proparallel::text,
                 'strict=' || p.proisstrict, 'leakproof=' || p.proleakproof,
                 'config=' || coalesce(array_to_string(p.proconfig, ','), '<none>'),
                 'cost=' || p.procost, 'rows=' || p.prorows, 'support=' || p.prosupport::text,
                 'returns=' || pg_catalog.pg_get_function_result(p.oid),
                 'args=' || pg_catalog.pg_get_function_arguments(p.oid))
  FROM pg_catalog.pg_proc p
  JOIN ns n ON n.oid = p.pronamespace
  JOIN pg_catalog.pg_roles r ON r.oid = p.proowner
 ORDER BY 1;

\echo '## function definitions'
SELECT p.oid::pg_catalog.regprocedure::text || E'\n' || pg_catalog.pg_get_functiondef(p.oid)
  FROM pg_catalog.pg_proc p
  JOIN ns n ON n.oid = p.pronamespace
 WHERE p.prokind IN ('f', 'p', 'w')
 ORDER BY p.oid::pg_catalog.regprocedure::text;

\echo '## aggregates'
SELECT concat_ws(' | ', a.aggfnoid::pg_catalog.regprocedure::text, a.aggkind, a.aggnumdirectargs,
                 a.aggtransfn::text, a.aggfinalfn::text, a.aggcombinefn::text, a.aggserialfn::text,
                 a.aggdeserialfn::text, a.aggmtransfn::text, a.aggminvtransfn::text, a.aggmfinalfn::text,
                 a.aggfinalextra, a.aggmfinalextra, a.aggfinalmodify, a.aggmfinalmodify,
                 a.aggsortop::pg_catalog.regoperator::text, a.aggtranstype::pg_catalog.regtype::text,
                 a.aggtransspace, a.aggmtranstype::pg_catalog.regtype::text, a.aggmtransspace,
                 coalesce(a.agginitval, '<null>'), coalesce(a.aggminitval, '<null>'))
  FROM pg_catalog.pg_aggregate a
  JOIN pg_catalog.pg_proc p ON p.oid = a.aggfnoid
  JOIN ns n ON n.oid = p.pronamespace
 ORDER BY 1;

\echo '## types'
SELECT concat_ws(' | ', pg_catalog.format('%I.%I', n.nspname, t.typname), t.typtype, t.typlen, t.typbyval,
                 t.typcategory, t.typdelim, r.rolname,
                 'acl=' || coalesce(pg_temp.acl(t.typacl), '<default>'),
                 'elem=' || t.typelem::pg_catalog.regtype::text,
                 'base=' || t.typbasetype::pg_catalog.regtype::text, 'typmod=' || t.typtypmod,
                 'notnull=' || t.typnotnull, 'default=' || coalesce(t.typdefault, '<none>'),
                 'collation=' || t.typcollation,
                 'enum=' || coalesce((SELECT pg_catalog.string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
                                        FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid), '<none>'))
  FROM pg_catalog.pg_type t
  JOIN ns n ON n.oid = t.typnamespace
  JOIN pg_catalog.pg_roles r ON r.oid = t.typowner
 ORDER BY 1;

\echo '## relations'
SELECT concat_ws(' | ', pg_catalog.format('%I.%I', n.nspname, c.relname), c.relkind, c.relpersistence,
                 r.rolname, 'acl=' || coalesce(pg_temp.acl(c.relacl), '<default>'),
                 'rls=' || c.relrowsecurity, 'force_rls=' || c.relforcerowsecurity,
                 'options=' || coalesce(pg_temp.sorted(c.reloptions), '<none>'),
                 'replident=' || c.relreplident::text, 'partition=' || c.relispartition,
                 'bound=' || coalesce(pg_catalog.pg_get_expr(c.relpartbound, c.oid), '<none>'),
                 'of=' || c.reloftype::pg_catalog.regtype::text,
                 'am=' || coalesce((SELECT a.amname FROM pg_catalog.pg_am a WHERE a.oid = c.relam), '<none>'))
  FROM pg_catalog.pg_class c
  JOIN ns n ON n.oid = c.relnamespace
  JOIN pg_catalog.pg_roles r ON r.oid = c.relowner
 ORDER BY 1;

\echo '## columns'
SELECT concat_ws(' | ', c.oid::pg_catalog.regclass::text, a.attname,
                 pg_catalog.format_type(a.atttypid, a.atttypmod), 'notnull=' || a.attnotnull,
                 'default=' || coalesce(pg_catalog.pg_get_expr(d.adbin, d.adrelid), '<none>'),
                 'generated=' || a.attgenerated::text, 'identity=' || a.attidentity::text,
                 'collation=' || coalesce((SELECT co.collname FROM pg_catalog.pg_collation co
                                            WHERE co.oid = a.attcollation), '<none>'),
                 'acl=' || coalesce(pg_temp.acl(a.attacl), '<default>'),
                 'statistics=' || a.attstattarget, 'storage=' || a.attstorage::text,
                 'compression=' || a.attcompression::text,
                 'options=' || coalesce(pg_temp.column_options(a.attoptions), '<none>'))
  FROM pg_catalog.pg_attribute a
  JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
  JOIN ns n ON n.oid = c.relnamespace
  LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE a.attnum > 0 AND NOT a.attisdropped
 ORDER BY 1;

\echo '## column order'
SELECT c.oid::pg_catalog.regclass::text || ' | '
       || pg_catalog.string_agg(a.attname::text, ', ' ORDER BY a.attnum)
  FROM pg_catalog.pg_attribute a
  JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
  JOIN ns n ON n.oid = c.relnamespace
 WHERE a.attnum > 0 AND NOT a.attisdropped
 GROUP BY c.oid
 ORDER BY 1;

\echo '## constraints'
SELECT concat_ws(' | ', coalesce(co.conrelid::pg_catalog.regclass::text, co.contypid::pg_catalog.regtype::text),
                 co.conname, co.contype, pg_catalog.pg_get_constraintdef(co.oid),
                 'deferrable=' || co.condeferrable, 'deferred=' || co.condeferred,
                 'validated=' || co.convalidated, 'noinherit=' || co.connoinherit)
  FROM pg_catalog.pg_constraint co
  JOIN ns n ON n.oid = co.connamespace
 ORDER BY 1;

\echo '## indexes'
SELECT concat_ws(' | ', pg_catalog.pg_get_indexdef(i.indexrelid), 'clustered=' || i.indisclustered,
                 'replident=' || i.indisreplident, 'valid=' || i.indisvalid)
  FROM pg_catalog.pg_index i
  JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
  JOIN ns n ON n.oid = c.relnamespace
 ORDER BY 1;

\echo '## triggers'
SELECT concat_ws(' | ', t.tgrelid::pg_catalog.regclass::text, t.tgname,
                 pg_catalog.pg_get_triggerdef(t.oid), 'enabled=' || t.tgenabled::text)
  FROM pg_catalog.pg_trigger t
  JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
  JOIN ns n ON n.oid = c.relnamespace
 WHERE NOT t.tgisinternal
 ORDER BY 1;

\echo '## policies'
SELECT concat_ws(' | ', p.schemaname, p.tablename, p.policyname, p.permissive, pg_temp.sorted(p.roles::text[]),
                 p.cmd, coalesce(p.qual, '<none>'), coalesce(p.with_check, '<none>'))
  FROM pg_catalog.pg_policies p
  JOIN ns n ON n.nspname = p.schemaname
 ORDER BY 1;

\echo '## views'
SELECT c.oid::pg_catalog.regclass::text || ' | ' || c.relkind::text || E'\n' || pg_catalog.pg_get_viewdef(c.oid)
  FROM pg_catalog.pg_class c
  JOIN ns n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('v', 'm')
 ORDER BY c.oid::pg_catalog.regclass::text;

\echo '## rules'
SELECT concat_ws(' | ', r.schemaname, r.tablename, r.rulename, r.definition::text)
  FROM pg_catalog.pg_rules r
  JOIN ns n ON n.nspname = r.schemaname
 ORDER BY 1;

\echo '## sequences'
SELECT concat_ws(' | ', s.seqrelid::pg_catalog.regclass::text, s.seqtypid::pg_catalog.regtype::text,
                 s.seqstart, s.seqincrement, s.seqmax, s.seqmin, s.seqcache, s.seqcycle,
                 'owned by=' || coalesce((SELECT pg_catalog.pg_describe_object(d.refclassid, d.refobjid, d.refobjsubid)
                                                 || ' (' || d.deptype::text || ')'
                                            FROM pg_catalog.pg_depend d
                                           WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                                             AND d.objid = s.seqrelid AND d.deptype IN ('a', 'i')), '<none>'))
  FROM pg_catalog.pg_sequence s
  JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid
  JOIN ns n ON n.oid = c.relnamespace
 ORDER BY 1;

\echo '## casts, operators, event triggers'
SELECT concat_ws(' | ', 'cast', c.castsource::pg_catalog.regtype::text, c.casttarget::pg_catalog.regtype::text,
                 c.castfunc::pg_catalog.regprocedure::text, c.castcontext, c.castmethod)
  FROM pg_catalog.pg_cast c WHERE c.oid >= 16384
UNION ALL
SELECT concat_ws(' | ', 'operator', o.oid::pg_catalog.regoperator::text, o.oprcode::text,
                 o.oprcom::pg_catalog.regoperator::text, o.oprnegate::pg_catalog.regoperator::text,
                 o.oprrest::text, o.oprjoin::text, o.oprcanmerge, o.oprcanhash)
  FROM pg_catalog.pg_operator o JOIN ns n ON n.oid = o.oprnamespace
UNION ALL
SELECT concat_ws(' | ', 'event trigger', e.evtname, e.evtevent, e.evtfoid::pg_catalog.regprocedure::text,
                 e.evtenabled, pg_temp.sorted(e.evttags))
  FROM pg_catalog.pg_event_trigger e
 ORDER BY 1;

-- Comments on every object created after initdb (OIDs from 16384 on):
-- tables, columns, functions, types, constraints, triggers, policies...
\echo '## comments'
SELECT pg_catalog.pg_describe_object(d.classoid, d.objoid, d.objsubid) || ' | ' || d.description
  FROM pg_catalog.pg_description d
 WHERE d.objoid >= 16384
   AND pg_catalog.pg_describe_object(d.classoid, d.objoid, d.objsubid) IS NOT NULL
 ORDER BY 1;

-- What pg_dump takes as the extension's own privileges: it dumps only the
-- difference between these and the current ACLs.
\echo '## initial privileges'
SELECT concat_ws(' | ', pg_catalog.pg_describe_object(i.classoid, i.objoid, i.objsubid), i.privtype,
                 pg_temp.acl(i.initprivs))
  FROM pg_catalog.pg_init_privs i
 WHERE i.objoid >= 16384
 ORDER BY 1;
