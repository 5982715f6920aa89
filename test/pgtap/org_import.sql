-- Organisation changes in bulk: many assign() calls in one statement, one
-- INSERT of many memberships, one UPDATE or DELETE of many.  On an empty
-- ledger nothing derived changes; with activities in the moved ranges
-- every one of them counts for its new unit, and the maintained tables
-- equal what recompute() builds (EXCEPT ALL both ways).  Overlaps are
-- refused (23P01) whichever way the memberships are written, also between
-- rows of one statement.
BEGIN;
SELECT plan(26);

SET LOCAL client_min_messages = warning;
SELECT salesperf.configure(time_zone => 'Europe/Paris');
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES (1, NULL, 'Company', 'company');
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind)
SELECT 100 + t, 1, 'Team ' || t, 'team' FROM generate_series(1, 8) t;
INSERT INTO salesperf.rep (rep_id, name) SELECT r, 'Rep ' || r FROM generate_series(1, 400) r;
INSERT INTO salesperf.point_rule (name, kind, points, daily_cap) VALUES
    ('call', 'call', 1, NULL), ('email', 'email', 1, 3);
SELECT salesperf.create_leaderboard('points', period => 'month');
SELECT salesperf.create_leaderboard('teams', participant => 'unit', unit_kind => 'team', period => 'week');
SELECT salesperf.create_leaderboard('team 101', unit_scope => 101, period => 'day');

-- The derived tables as they are, and as recompute() builds them (run in
-- a subtransaction that is rolled back, so the maintained state stays).
CREATE TEMP TABLE now_state (what text, row_text text);
CREATE TEMP TABLE fresh_state (what text, row_text text);
CREATE FUNCTION pg_temp.snapshot(into_table text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('DELETE FROM %I', into_table);
    EXECUTE format($q$INSERT INTO %I
        SELECT 'counter', c::text FROM salesperf.kpi_counter c
        UNION ALL SELECT 'award', a::text FROM salesperf.capped_award a
        UNION ALL SELECT 'standing', s::text FROM salesperf.standing s$q$, into_table);
END $$;
CREATE FUNCTION pg_temp.differences() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n     bigint;
    fresh text[];
BEGIN
    PERFORM pg_temp.snapshot('now_state');
    BEGIN
        PERFORM salesperf.recompute();
        PERFORM pg_temp.snapshot('fresh_state');
        SELECT array_agg(f.what || ' ' || f.row_text) INTO fresh FROM fresh_state f;
        RAISE EXCEPTION 'roll back' USING ERRCODE = 'P0001';
    EXCEPTION WHEN raise_exception THEN
        NULL;
    END;
    SELECT (SELECT count(*) FROM (SELECT what || ' ' || row_text FROM now_state
                                  EXCEPT ALL SELECT unnest(fresh)) x)
         + (SELECT count(*) FROM (SELECT unnest(fresh)
                                  EXCEPT ALL SELECT what || ' ' || row_text FROM now_state) x) INTO n;
    RETURN n;
END $$;

-- ---- empty ledger --------------------------------------------------------
SELECT lives_ok($$SELECT count(salesperf.assign(r, 101 + (r - 1) % 8, '2026-01-01 00:00+01'))
                    FROM generate_series(1, 200) r$$,
                'empty ledger: 200 assign() calls in one statement');
SELECT is((SELECT count(*)::int FROM salesperf.membership), 200, 'one membership per rep');
SELECT is(salesperf.unit_of(9, '2026-02-01'), 101::bigint, 'rep 9 is in team 101');
SELECT lives_ok($$INSERT INTO salesperf.membership (rep_id, unit_id, during)
                  SELECT r, 101 + (r - 1) % 8, tstzrange('2026-01-01 00:00+01', NULL, '[)')
                    FROM generate_series(201, 400) r$$,
                'empty ledger: one INSERT of 200 memberships');
SELECT is((SELECT count(*)::int FROM salesperf.kpi_counter) + (SELECT count(*)::int FROM salesperf.standing),
          0, 'empty ledger: nothing derived');
SELECT is(pg_temp.differences(), 0::bigint, 'empty ledger: state = recompute()');

-- ---- activities in the ranges that move ----------------------------------
-- Every rep: calls and capped e-mails on days of January and February.
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at)
SELECT r, CASE WHEN (r + d + i) % 3 = 0 THEN 'email' ELSE 'call' END, 1,
       timestamptz '2026-01-02 08:00+01' + d * interval '1 day' + i * interval '50 minutes'
  FROM generate_series(1, 400, 3) r, generate_series(0, 50, 7) d, generate_series(0, 5) i;
SELECT is(pg_temp.differences(), 0::bigint, 'after loading activities: state = recompute()');

-- Back-dated moves of many reps in one statement: from 2026-01-20 on.
SELECT lives_ok($$SELECT count(salesperf.assign(r, 101 + r % 8, '2026-01-20 00:00+01'))
                    FROM generate_series(1, 400, 2) r$$,
                'back-dated assign() of 200 reps in one statement');
SELECT is(salesperf.unit_of(1, '2026-01-19 23:59+01'), 101::bigint, 'rep 1 before the move: team 101');
SELECT is(salesperf.unit_of(1, '2026-01-20 00:00+01'), 102::bigint, 'rep 1 from the move on: team 102');
SELECT is((SELECT sum(c.activities)::int FROM salesperf.kpi_counter c
            WHERE c.rep_id = 1 AND c.day >= '2026-01-20' AND c.unit_id IS DISTINCT FROM 102), NULL,
          'every activity of rep 1 after the move counts for team 102');
SELECT is(pg_temp.differences(), 0::bigint, 'back-dated assign() in bulk: state = recompute()');

-- Moves and new reps mixed in one statement, two assign() of one rep.
SELECT lives_ok($$SELECT count(salesperf.assign(x.r, x.u, x.since))
                    FROM (VALUES (4::bigint, 103::bigint, timestamptz '2026-01-10 12:00+01'),
                                 (4, 104, '2026-02-01 00:00+01'),
                                 (6, 105, '2026-01-05 00:00+01'),
                                 (6, 105, '2026-01-09 00:00+01')) x(r, u, since)$$,
                'several assign() of the same reps in one statement');
SELECT is(pg_temp.differences(), 0::bigint, 'repeated assign() of one rep: state = recompute()');

-- One UPDATE of many memberships: move their start earlier (only the time
-- between the old and the new start changes unit).
SELECT lives_ok($$UPDATE salesperf.membership m
                     SET during = tstzrange('2026-01-05 00:00+01', pg_catalog.upper(m.during), '[)')
                   WHERE pg_catalog.lower(m.during) = '2026-01-01 00:00+01' AND m.rep_id % 5 = 0$$,
                'one UPDATE moves the start of many memberships');
SELECT is(salesperf.unit_of(10, '2026-01-04'), NULL::bigint, 'rep 10 has no unit before its new start');
SELECT is(pg_temp.differences(), 0::bigint, 'bulk UPDATE of memberships: state = recompute()');

-- One UPDATE that changes the unit of many memberships and leaves the
-- ranges: every activity in them moves.
SELECT lives_ok($$UPDATE salesperf.membership m SET unit_id = 108
                   WHERE m.unit_id = 103$$, 'one UPDATE changes the unit of many memberships');
SELECT is(pg_temp.differences(), 0::bigint, 'bulk unit change: state = recompute()');

-- One DELETE of many: their activities count for no unit.
SELECT lives_ok($$DELETE FROM salesperf.membership m WHERE m.rep_id % 7 = 0 AND pg_catalog.upper_inf(m.during)$$,
                'one DELETE of many memberships');
SELECT is(pg_temp.differences(), 0::bigint, 'bulk DELETE of memberships: state = recompute()');

-- A bulk INSERT of new memberships where activities are already recorded.
SELECT lives_ok($$INSERT INTO salesperf.membership (rep_id, unit_id, during)
                  SELECT m.rep_id, 106, tstzrange(pg_catalog.upper(m.during), NULL, '[)')
                    FROM salesperf.membership m
                   WHERE NOT pg_catalog.upper_inf(m.during)
                     AND NOT EXISTS (SELECT 1 FROM salesperf.membership n
                                      WHERE n.rep_id = m.rep_id AND pg_catalog.lower(n.during) >= pg_catalog.upper(m.during))$$,
                'one INSERT re-places every rep whose membership ended');
SELECT is(pg_temp.differences(), 0::bigint, 'bulk INSERT over recorded activities: state = recompute()');

-- ---- overlaps --------------------------------------------------------------
SELECT throws_ok($$INSERT INTO salesperf.membership (rep_id, unit_id, during)
                   SELECT r, 101, tstzrange('2025-06-01', '2026-02-01', '[)') FROM generate_series(1, 50) r$$,
                 '23P01', NULL, 'a bulk INSERT overlapping existing memberships is refused');
SELECT throws_ok($$INSERT INTO salesperf.membership (rep_id, unit_id, during)
                   VALUES (500, 101, '[2025-01-01, 2025-03-01)'), (500, 102, '[2025-02-01, 2025-04-01)')$$,
                 '23503', NULL, 'an unknown rep is refused by its foreign key');
INSERT INTO salesperf.rep (rep_id, name) VALUES (500, 'Rep 500');
SELECT throws_ok($$INSERT INTO salesperf.membership (rep_id, unit_id, during)
                   VALUES (500, 101, '[2025-01-01, 2025-03-01)'), (500, 102, '[2025-02-01, 2025-04-01)')$$,
                 '23P01', NULL, 'two overlapping rows of one statement are refused');

SELECT * FROM finish();
ROLLBACK;
