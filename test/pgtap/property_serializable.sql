-- The property of property_recompute.sql (derived state equals
-- recompute()), for three of its seeds, in a SERIALIZABLE transaction.
-- Under READ COMMITTED a one-row write updates its counter, standings and
-- score bands in place (direct_rows.c); a stricter isolation level must
-- raise a serialization failure exactly where ON CONFLICT would, so there
-- the same rows are written with SQL statements.  Both must agree with
-- recompute().
\set prop_isolation SERIALIZABLE
\set prop_seeds '{1,5,10}'
\ir property_recompute.sql
