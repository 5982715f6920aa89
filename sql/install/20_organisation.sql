-- Organisation: reps, the unit tree and temporal membership (SPEC §4).

CREATE TABLE salesperf.rep (
    rep_id       bigint PRIMARY KEY,
    name         text NOT NULL,
    external_ref text UNIQUE,
    db_role      name,
    active       boolean NOT NULL DEFAULT true
);
CREATE INDEX rep_inactive_idx ON salesperf.rep (rep_id) WHERE NOT active;
COMMENT ON TABLE salesperf.rep IS 'Sales reps; rep_id is normally the CRM''s user id.';
COMMENT ON COLUMN salesperf.rep.rep_id IS 'Rep id (normally the CRM user id).';
COMMENT ON COLUMN salesperf.rep.name IS 'Display name.';
COMMENT ON COLUMN salesperf.rep.external_ref IS 'Optional unique reference in another system (HR id, e-mail).';
COMMENT ON COLUMN salesperf.rep.db_role IS 'Database login that acts as this rep (row-level security).';
COMMENT ON COLUMN salesperf.rep.active IS 'Inactive reps keep their history but leave leaderboards.';
SELECT pg_catalog.pg_extension_config_dump('salesperf.rep', '');

CREATE TABLE salesperf.unit (
    unit_id        bigint PRIMARY KEY,
    parent_id      bigint REFERENCES salesperf.unit (unit_id),
    name           text NOT NULL,
    kind           text NOT NULL DEFAULT 'team' CHECK (kind <> ''),
    manager_rep_id bigint REFERENCES salesperf.rep (rep_id) ON DELETE SET NULL
    -- a unit that is its own parent is a cycle: rebuild_unit_tree() refuses it (22023)
);
CREATE INDEX unit_parent_idx ON salesperf.unit (parent_id);
COMMENT ON TABLE salesperf.unit IS 'Org chart: company / region / department / team, any depth, no cycles.';
COMMENT ON COLUMN salesperf.unit.parent_id IS 'Parent unit; NULL for a root.';
COMMENT ON COLUMN salesperf.unit.kind IS 'Free label such as company, region, department, team (boards filter on it).';
COMMENT ON COLUMN salesperf.unit.manager_rep_id IS 'Rep who manages the unit and sees its whole subtree.';
SELECT pg_catalog.pg_extension_config_dump('salesperf.unit', '');

-- Closure of the unit tree: one row per (ancestor, descendant), self included
-- at depth 0.  Maintained by trigger; answers "all units under X" with one
-- index scan.
CREATE TABLE salesperf.unit_tree (
    ancestor_id   bigint NOT NULL REFERENCES salesperf.unit (unit_id) ON DELETE CASCADE,
    descendant_id bigint NOT NULL REFERENCES salesperf.unit (unit_id) ON DELETE CASCADE,
    depth         integer NOT NULL CHECK (depth >= 0),
    PRIMARY KEY (ancestor_id, descendant_id)
);
CREATE INDEX unit_tree_descendant_idx ON salesperf.unit_tree (descendant_id, depth);
COMMENT ON TABLE salesperf.unit_tree IS
  'Closure of the unit tree (maintained automatically): every ancestor/descendant pair, self at depth 0.';

-- The closure computed from the unit table (loops forever on a cycle: call
-- it only once rebuild_unit_tree() has ruled cycles out).
CREATE VIEW salesperf.unit_closure AS
WITH RECURSIVE closure AS (
    SELECT u.unit_id AS ancestor_id, u.unit_id AS descendant_id, 0 AS depth FROM salesperf.unit u
    UNION ALL
    SELECT c.ancestor_id, u.unit_id, c.depth + 1
      FROM closure c JOIN salesperf.unit u ON u.parent_id = c.descendant_id)
SELECT closure.ancestor_id, closure.descendant_id, closure.depth FROM closure;
COMMENT ON VIEW salesperf.unit_closure IS
  'Internal: the unit tree''s closure computed from salesperf.unit (salesperf.unit_tree keeps it materialized).';
COMMENT ON COLUMN salesperf.unit_closure.ancestor_id IS 'A unit.';
COMMENT ON COLUMN salesperf.unit_closure.descendant_id IS 'A unit in its subtree (itself included).';
COMMENT ON COLUMN salesperf.unit_closure.depth IS 'Levels between them (0 for the unit itself).';

-- Rebuild the closure from the unit table: statement-level, so it does not
-- matter in which order a statement (or a restore's COPY) writes units, and
-- a cycle made by one statement that moves several units at once is seen
-- whole.  Only the rows that differ are written.  Units are few (the org
-- chart, not the ledger), so each statement rebuilds the whole closure.
CREATE FUNCTION salesperf.rebuild_unit_tree()
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    looped bigint[];
BEGIN
    -- Serialize org changes, so two moves cannot form a cycle together.
    LOCK TABLE salesperf.unit_tree IN SHARE ROW EXCLUSIVE MODE;
    -- A unit that cannot be reached from a root is in (or under) a cycle.
    WITH RECURSIVE reached AS (
        SELECT u.unit_id FROM salesperf.unit u WHERE u.parent_id IS NULL
        UNION
        SELECT u.unit_id FROM reached r JOIN salesperf.unit u ON u.parent_id = r.unit_id)
    SELECT pg_catalog.array_agg(u.unit_id ORDER BY u.unit_id) INTO looped
      FROM salesperf.unit u
     WHERE NOT EXISTS (SELECT 1 FROM reached r WHERE r.unit_id = u.unit_id);
    IF looped IS NOT NULL THEN
        RAISE EXCEPTION 'units % would form a cycle', pg_catalog.array_to_string(looped, ', ')
            USING ERRCODE = '22023',
                  DETAIL = 'Following parent_id from these units never reaches a unit without a parent.',
                  HINT = 'A unit cannot be moved inside its own subtree.';
    END IF;

    DELETE FROM salesperf.unit_tree t
     WHERE NOT EXISTS (SELECT 1 FROM salesperf.unit_closure c
                        WHERE c.ancestor_id = t.ancestor_id AND c.descendant_id = t.descendant_id
                          AND c.depth = t.depth);

    INSERT INTO salesperf.unit_tree (ancestor_id, descendant_id, depth)
    SELECT c.ancestor_id, c.descendant_id, c.depth
      FROM salesperf.unit_closure c
     WHERE NOT EXISTS (SELECT 1 FROM salesperf.unit_tree t
                        WHERE t.ancestor_id = c.ancestor_id AND t.descendant_id = c.descendant_id)
     ORDER BY 1, 2;
END
$$;
COMMENT ON FUNCTION salesperf.rebuild_unit_tree() IS
  'Internal: bring salesperf.unit_tree in line with salesperf.unit; refuses parent links that form a cycle (22023).';

-- Unit ids are stable: history and boards refer to them.
CREATE FUNCTION salesperf.unit_guard()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'unit_id of unit % cannot change', OLD.unit_id
        USING ERRCODE = '22023', HINT = 'Create a new unit and reassign its members instead.';
END
$$;

CREATE TRIGGER unit_guard
    BEFORE UPDATE OF unit_id ON salesperf.unit
    FOR EACH ROW WHEN (OLD.unit_id <> NEW.unit_id) EXECUTE FUNCTION salesperf.unit_guard();

-- Temporal membership: half-open ranges [since, until), no overlaps per rep.
-- Overlaps are refused by the statement triggers (membership_changed, in
-- 55_maintenance.sql) under the rep locks, with the same error an exclusion
-- constraint would raise (23P01, membership_no_overlap): a GiST exclusion
-- over (rep, range) made every inserted row search and extend a
-- two-column GiST index (about 8 s for 100,000 rows, most of an org
-- import), while the check over the btree on (rep_id, lower(during)) is
-- one ordered pass per statement.
CREATE TABLE salesperf.membership (
    rep_id  bigint NOT NULL REFERENCES salesperf.rep (rep_id) ON DELETE CASCADE,
    unit_id bigint NOT NULL REFERENCES salesperf.unit (unit_id),
    during  tstzrange NOT NULL,
    CONSTRAINT membership_half_open CHECK (
        NOT pg_catalog.isempty(during) AND NOT pg_catalog.lower_inf(during)
        AND pg_catalog.lower_inc(during) AND NOT pg_catalog.upper_inc(during))
);
CREATE INDEX membership_rep_idx ON salesperf.membership (rep_id, pg_catalog.lower(during));
CREATE INDEX membership_unit_idx ON salesperf.membership (unit_id);
-- "Who was a member during this period": board and contest participants.
CREATE INDEX membership_during_idx ON salesperf.membership USING gist (during);
COMMENT ON TABLE salesperf.membership IS
  'Which unit each rep belonged to when: half-open ranges [since, until), never overlapping for one rep. Write it with salesperf.assign().';
COMMENT ON COLUMN salesperf.membership.during IS 'Half-open time range of the membership; an open upper bound means "still there".';
SELECT pg_catalog.pg_extension_config_dump('salesperf.membership', '');

CREATE FUNCTION salesperf.unit_of(rep_id bigint, at timestamptz DEFAULT pg_catalog.now())
RETURNS bigint
LANGUAGE sql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT m.unit_id FROM salesperf.membership m
   WHERE m.rep_id = unit_of.rep_id AND m.during @> unit_of.at
$$;
COMMENT ON FUNCTION salesperf.unit_of(bigint, timestamptz) IS
  'The unit a rep belonged to at a moment (NULL if none).';

-- In C (src/assign.c): an org import calls it once per rep, and each call
-- is a handful of key probes with kept plans.
CREATE FUNCTION salesperf.assign(rep_id bigint, unit_id bigint,
                                 since timestamptz DEFAULT pg_catalog.now())
RETURNS void
AS 'MODULE_PATHNAME', 'salesperf_assign'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION salesperf.assign(bigint, bigint, timestamptz) IS
  'Move a rep to a unit from `since` on: ends the current membership at `since` and opens the new one. Back-dating re-attributes activities.';
