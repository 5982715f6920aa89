-- Organisation: units, closure table, cycles, reps, temporal membership.
BEGIN;
SELECT plan(44);

SELECT has_table('salesperf', 'unit', 'unit table exists');
SELECT has_table('salesperf', 'rep', 'rep table exists');
SELECT has_table('salesperf', 'membership', 'membership table exists');
SELECT has_function('salesperf', 'assign', ARRAY['bigint', 'bigint', 'timestamp with time zone']);
SELECT has_column('salesperf', 'unit', 'manager_rep_id', 'unit has manager_rep_id');

INSERT INTO salesperf.rep (rep_id, name, external_ref) VALUES
  (1, 'Ada', 'ada@example.com'), (2, 'Bo', 'bo@example.com'), (3, 'Cy', NULL);
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind, manager_rep_id) VALUES
  (10, NULL, 'Acme', 'company', NULL),
  (20, 10, 'EMEA', 'region', 1),
  (21, 10, 'Americas', 'region', NULL),
  (30, 20, 'Paris', 'team', 2),
  (31, 20, 'Berlin', 'team', NULL),
  (32, 21, 'Boston', 'team', NULL);

SELECT results_eq(
  'SELECT descendant_id FROM salesperf.unit_tree WHERE ancestor_id = 20 ORDER BY 1',
  ARRAY[20::bigint, 30, 31], 'subtree of EMEA is EMEA, Paris, Berlin');
SELECT results_eq(
  'SELECT ancestor_id, depth FROM salesperf.unit_tree WHERE descendant_id = 30 ORDER BY depth',
  $$VALUES (30::bigint, 0), (20::bigint, 1), (10::bigint, 2)$$, 'Paris has three ancestors with depths');
SELECT is((SELECT count(*)::int FROM salesperf.unit_tree), 6 + 5 + 3, 'closure has one row per ancestor pair');

-- Move Berlin (with a new child) from EMEA to Americas: closure follows.
INSERT INTO salesperf.unit (unit_id, parent_id, name) VALUES (40, 31, 'Berlin inside');
UPDATE salesperf.unit SET parent_id = 21 WHERE unit_id = 31;
SELECT results_eq(
  'SELECT descendant_id FROM salesperf.unit_tree WHERE ancestor_id = 21 ORDER BY 1',
  ARRAY[21::bigint, 31, 32, 40], 'after the move Americas holds Berlin and its child');
SELECT results_eq(
  'SELECT descendant_id FROM salesperf.unit_tree WHERE ancestor_id = 20 ORDER BY 1',
  ARRAY[20::bigint, 30], 'EMEA lost Berlin');
SELECT results_eq(
  'SELECT ancestor_id, depth FROM salesperf.unit_tree WHERE descendant_id = 40 ORDER BY depth',
  $$VALUES (40::bigint, 0), (31::bigint, 1), (21::bigint, 2), (10::bigint, 3)$$,
  'grandchild depths are recomputed');
-- Closure equals a recursive walk of parent_id.
SELECT set_eq(
  'SELECT ancestor_id, descendant_id, depth FROM salesperf.unit_tree',
  $$WITH RECURSIVE walk(ancestor_id, descendant_id, depth) AS (
      SELECT unit_id, unit_id, 0 FROM salesperf.unit
      UNION ALL
      SELECT u.parent_id, w.descendant_id, w.depth + 1
        FROM walk w JOIN salesperf.unit u ON u.unit_id = w.ancestor_id
       WHERE u.parent_id IS NOT NULL)
    SELECT * FROM walk$$,
  'closure equals a recursive walk of parent_id');

-- Cycles are rejected with 22023 and nothing changes.
SELECT throws_ok('UPDATE salesperf.unit SET parent_id = 40 WHERE unit_id = 21', '22023', NULL,
  'moving a unit under its own descendant is rejected');
SELECT throws_ok('UPDATE salesperf.unit SET parent_id = 30 WHERE unit_id = 30', '22023', NULL,
  'a unit cannot become its own parent');
SELECT throws_ok('INSERT INTO salesperf.unit (unit_id, parent_id, name) VALUES (98, 98, ''loop'')', '22023', NULL,
  'a new unit cannot be its own parent (a one-unit cycle)');
SELECT is((SELECT parent_id FROM salesperf.unit WHERE unit_id = 21), 10::bigint, 'failed move changed nothing');
SELECT throws_ok('INSERT INTO salesperf.unit (unit_id, parent_id, name) VALUES (99, 12345, ''x'')', '23503', NULL,
  'unknown parent is rejected');
SELECT throws_ok('UPDATE salesperf.unit SET unit_id = 77 WHERE unit_id = 40', '22023', NULL,
  'unit ids are stable');

-- Temporal membership.
SELECT lives_ok($$SELECT salesperf.assign(1, 30, '2026-01-01 00:00+00')$$, 'assign Ada to Paris');
SELECT lives_ok($$SELECT salesperf.assign(1, 31, '2026-03-15 12:00+00')$$, 'move Ada to Berlin mid-March');
SELECT results_eq(
  $$SELECT unit_id, during FROM salesperf.membership WHERE rep_id = 1 ORDER BY lower(during)$$,
  $$VALUES (30::bigint, tstzrange('2026-01-01 00:00+00', '2026-03-15 12:00+00', '[)')),
           (31::bigint, tstzrange('2026-03-15 12:00+00', NULL, '[)'))$$,
  'the move ends the old membership exactly where the new one starts');
SELECT is(salesperf.unit_of(1, '2026-03-15 11:59:59+00'), 30::bigint, 'just before the move: Paris');
SELECT is(salesperf.unit_of(1, '2026-03-15 12:00+00'), 31::bigint, 'exactly at since: the new unit');
SELECT is(salesperf.unit_of(1, '2025-12-31 23:59+00'), NULL::bigint, 'before the first membership: none');
-- Back-dating splits the membership in force at that moment.
SELECT lives_ok($$SELECT salesperf.assign(2, 30, '2026-01-01 00:00+00')$$, 'assign Bo');
SELECT lives_ok($$SELECT salesperf.assign(2, 32, '2026-02-01 00:00+00')$$, 'back-dated move of Bo');
SELECT is(salesperf.unit_of(2, '2026-02-10 00:00+00'), 32::bigint, 'back-dated move is in force');
-- A later membership exists: assigning before it would overlap.
SELECT throws_ok($$SELECT salesperf.assign(1, 32, '2026-02-01 00:00+00')$$, '23P01', NULL,
  'assign before a later membership is rejected');
SELECT throws_ok($$INSERT INTO salesperf.membership VALUES (1, 32, tstzrange('2026-04-01', '2026-05-01'))$$,
  '23P01', NULL, 'a directly inserted overlapping membership is rejected');
SELECT is((SELECT count(*)::int FROM salesperf.membership WHERE rep_id = 1), 2, 'failed assigns changed nothing');
-- Assign at the exact start of the current membership replaces it.
SELECT lives_ok($$SELECT salesperf.assign(1, 32, '2026-03-15 12:00+00')$$, 'replace the open membership');
SELECT is(salesperf.unit_of(1, '2026-06-01'), 32::bigint, 'replaced membership');
SELECT is((SELECT count(*)::int FROM salesperf.membership WHERE rep_id = 1), 2, 'still two memberships');
-- Assigning to the current unit is a no-op.
SELECT lives_ok($$SELECT salesperf.assign(1, 32, '2026-07-01')$$, 'same unit again');
SELECT is((SELECT count(*)::int FROM salesperf.membership WHERE rep_id = 1), 2, 'no new membership');

-- Bad input.
SELECT throws_ok($$SELECT salesperf.assign(999, 30)$$, '42704', 'unknown rep 999', 'unknown rep');
SELECT throws_ok($$SELECT salesperf.assign(1, 999)$$, '42704', 'unknown unit 999', 'unknown unit');
SELECT throws_ok($$SELECT salesperf.assign(NULL, 30)$$, '22004', NULL, 'NULL rep');
SELECT throws_ok($$SELECT salesperf.assign(3, 30, 'infinity')$$, '22008', NULL, 'infinite since');
SELECT throws_ok($$INSERT INTO salesperf.rep (rep_id, name, external_ref) VALUES (4, 'Dup', 'ada@example.com')$$,
  '23505', NULL, 'external_ref is unique');

-- The membership INSERT trigger names the rep whose memberships overlap,
-- also when one statement writes several reps, and runs only where it
-- belongs.
SELECT throws_like($$INSERT INTO salesperf.membership VALUES (1, 32, tstzrange('2026-04-01', '2026-05-01'))$$,
  'memberships of rep 1 overlap: %', 'the overlap error names the rep');
SELECT throws_like($$INSERT INTO salesperf.membership VALUES (3, 30, tstzrange('2030-01-01', NULL)),
                                                           (2, 30, tstzrange('2026-03-01', '2026-04-01'))$$,
  'memberships of rep 2 overlap: %', 'a statement of several reps names the one that overlaps');
CREATE TABLE public.not_membership (rep_id bigint, during tstzrange);
CREATE TRIGGER misuse AFTER INSERT ON public.not_membership REFERENCING NEW TABLE AS n
    FOR EACH STATEMENT EXECUTE FUNCTION salesperf.membership_inserted();
SELECT throws_ok($$INSERT INTO public.not_membership VALUES (1, tstzrange('2026-01-01', NULL))$$, '39P01',
  NULL, 'membership_inserted() refuses to run on another table');
DROP TRIGGER misuse ON public.not_membership;
CREATE TRIGGER misuse AFTER INSERT ON public.not_membership
    FOR EACH ROW EXECUTE FUNCTION salesperf.membership_inserted();
SELECT throws_ok($$INSERT INTO public.not_membership VALUES (1, tstzrange('2026-01-01', NULL))$$, '39P01',
  NULL, 'membership_inserted() refuses to run as a row trigger');

SELECT * FROM finish();
ROLLBACK;
