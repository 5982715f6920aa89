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
    manager_rep_id bigint REFERENCES salesperf.rep (rep_id) ON DELETE SET NULL,
    CHECK (parent_id IS DISTINCT FROM unit_id)
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

CREATE FUNCTION salesperf.unit_tree_maintain()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.parent_id IS NOT NULL THEN
            PERFORM 1 FROM salesperf.unit WHERE unit_id = NEW.parent_id FOR KEY SHARE;
        END IF;
        INSERT INTO salesperf.unit_tree (ancestor_id, descendant_id, depth)
        SELECT t.ancestor_id, NEW.unit_id, t.depth + 1
          FROM salesperf.unit_tree t
         WHERE t.descendant_id = NEW.parent_id
        UNION ALL
        SELECT NEW.unit_id, NEW.unit_id, 0;
        RETURN NULL;
    END IF;

    -- AFTER UPDATE of parent_id (checked by unit_guard before).
    IF NEW.parent_id IS NOT DISTINCT FROM OLD.parent_id THEN
        RETURN NULL;
    END IF;
    -- Detach the subtree from its old ancestors, attach it to the new ones.
    DELETE FROM salesperf.unit_tree t
     USING salesperf.unit_tree sub, salesperf.unit_tree sup
     WHERE sub.ancestor_id = NEW.unit_id
       AND sup.descendant_id = NEW.unit_id AND sup.ancestor_id <> NEW.unit_id
       AND t.ancestor_id = sup.ancestor_id AND t.descendant_id = sub.descendant_id;
    INSERT INTO salesperf.unit_tree (ancestor_id, descendant_id, depth)
    SELECT sup.ancestor_id, sub.descendant_id, sup.depth + sub.depth + 1
      FROM salesperf.unit_tree sup, salesperf.unit_tree sub
     WHERE sup.descendant_id = NEW.parent_id AND sub.ancestor_id = NEW.unit_id;
    RETURN NULL;
END
$$;


-- Checks before a unit changes: ids are stable and the tree stays acyclic.
CREATE FUNCTION salesperf.unit_guard()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NEW.unit_id <> OLD.unit_id THEN
        RAISE EXCEPTION 'unit_id of unit % cannot change', OLD.unit_id
            USING ERRCODE = '22023', HINT = 'Create a new unit and reassign its members instead.';
    END IF;
    IF NEW.parent_id IS NOT DISTINCT FROM OLD.parent_id THEN
        RETURN NEW;
    END IF;
    -- Re-parenting is rare: serialize it so two moves cannot form a cycle together.
    LOCK TABLE salesperf.unit_tree IN SHARE ROW EXCLUSIVE MODE;
    IF NEW.parent_id IS NOT NULL AND EXISTS (
           SELECT 1 FROM salesperf.unit_tree
            WHERE ancestor_id = NEW.unit_id AND descendant_id = NEW.parent_id) THEN
        RAISE EXCEPTION 'moving unit % under unit % would create a cycle', NEW.unit_id, NEW.parent_id
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('Unit %s is inside the subtree of unit %s.', NEW.parent_id, NEW.unit_id);
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER unit_guard
    BEFORE UPDATE OF unit_id, parent_id ON salesperf.unit
    FOR EACH ROW EXECUTE FUNCTION salesperf.unit_guard();

CREATE TRIGGER unit_tree_maintain
    AFTER INSERT OR UPDATE OF parent_id ON salesperf.unit
    FOR EACH ROW EXECUTE FUNCTION salesperf.unit_tree_maintain();

-- Temporal membership: half-open ranges [since, until), no overlaps per rep.
CREATE TABLE salesperf.membership (
    rep_id  bigint NOT NULL REFERENCES salesperf.rep (rep_id) ON DELETE CASCADE,
    unit_id bigint NOT NULL REFERENCES salesperf.unit (unit_id),
    during  tstzrange NOT NULL,
    CONSTRAINT membership_half_open CHECK (
        NOT pg_catalog.isempty(during) AND NOT pg_catalog.lower_inf(during)
        AND pg_catalog.lower_inc(during) AND NOT pg_catalog.upper_inc(during)),
    CONSTRAINT membership_no_overlap EXCLUDE USING gist (
        pg_catalog.int8range(rep_id, rep_id, '[]') WITH OPERATOR(pg_catalog.&&),
        during WITH OPERATOR(pg_catalog.&&))
);
CREATE INDEX membership_rep_idx ON salesperf.membership (rep_id, pg_catalog.lower(during));
CREATE INDEX membership_unit_idx ON salesperf.membership (unit_id);
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

CREATE FUNCTION salesperf.assign(rep_id bigint, unit_id bigint,
                                 since timestamptz DEFAULT pg_catalog.now())
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cur   salesperf.membership;
    later timestamptz;
BEGIN
    IF rep_id IS NULL OR unit_id IS NULL OR since IS NULL THEN
        RAISE EXCEPTION 'assign() needs a rep_id, a unit_id and a since moment'
            USING ERRCODE = '22004';
    END IF;
    IF since IN ('infinity', '-infinity') THEN
        RAISE EXCEPTION 'since must be a finite moment, not %', since USING ERRCODE = '22008';
    END IF;
    -- The rep row lock serializes membership changes of one rep.
    PERFORM 1 FROM salesperf.rep r WHERE r.rep_id = assign.rep_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown rep %', rep_id USING ERRCODE = '42704', HINT = 'See salesperf.rep.';
    END IF;
    PERFORM 1 FROM salesperf.unit u WHERE u.unit_id = assign.unit_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown unit %', unit_id USING ERRCODE = '42704', HINT = 'See salesperf.unit.';
    END IF;

    SELECT pg_catalog.min(pg_catalog.lower(m.during)) INTO later
      FROM salesperf.membership m
     WHERE m.rep_id = assign.rep_id AND pg_catalog.lower(m.during) > since;
    IF later IS NOT NULL THEN
        RAISE EXCEPTION 'rep % already has a membership starting at %, after %', rep_id, later, since
            USING ERRCODE = '23P01',
                  HINT = 'Memberships never overlap: change or delete the later membership first.';
    END IF;

    SELECT * INTO cur FROM salesperf.membership m
     WHERE m.rep_id = assign.rep_id AND m.during @> since;
    IF FOUND THEN
        IF cur.unit_id = assign.unit_id THEN
            RETURN;                               -- already there
        END IF;
        IF pg_catalog.lower(cur.during) = since THEN
            DELETE FROM salesperf.membership m
             WHERE m.rep_id = cur.rep_id AND m.during = cur.during;
        ELSE
            UPDATE salesperf.membership m
               SET during = pg_catalog.tstzrange(pg_catalog.lower(cur.during), since, '[)')
             WHERE m.rep_id = cur.rep_id AND m.during = cur.during;
        END IF;
    END IF;
    INSERT INTO salesperf.membership (rep_id, unit_id, during)
    VALUES (assign.rep_id, assign.unit_id, pg_catalog.tstzrange(since, NULL, '[)'));
END
$$;
COMMENT ON FUNCTION salesperf.assign(bigint, bigint, timestamptz) IS
  'Move a rep to a unit from `since` on: ends the current membership at `since` and opens the new one. Back-dating re-attributes activities.';
