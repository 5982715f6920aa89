-- Property: whatever happens to the ledger, the memberships and the point
-- rules, the derived tables kept by the triggers (capped_award, kpi_counter,
-- standing) equal what salesperf.recompute() builds from the ledger.
--
-- For each seed a driver builds a small company (units on three levels,
-- twelve reps, memberships, point rules with and without daily caps and
-- validity ranges, eight leaderboards), then applies random batches of
-- operations: record() with and without idempotency keys, bulk
-- INSERT ... SELECT, updates and deletes of single activities and of many,
-- back-dated assign(), membership rewrites, point rule edits, org changes
-- and statements that must fail.  After every batch the maintained tables
-- are compared, EXCEPT ALL both ways, with a recompute() run inside a
-- subtransaction that is then rolled back, so the maintained state keeps
-- evolving on its own for the whole seed.  At the end of a seed:
--   * kpi_value() is checked against an oracle computed from the ledger by
--     the rules of SPEC §6 (local days, memberships, caps, bonus points);
--   * two boards are checked against the same oracle (scores, competition
--     ranks, ties listed by who reached the score first);
--   * leaderboard_top / leaderboard_rank / kpi_value answer the same before
--     and after a real recompute().
-- Each seed runs in a subtransaction rolled back at its end, and stops
-- taking new batches once its time budget is spent (its operations are the
-- same whatever the machine; a slow one just runs fewer of them).  A last
-- check builds teams inside teams (units nest to any depth) and moves them.
--
-- A failing seed prints the first difference and the batch that caused it.
-- To replay one seed by hand, run this file's definitions in psql (up to
-- the seed list) and then: SELECT * FROM prop.run_seed(3, 'UTC', 50);
BEGIN;
SET LOCAL client_min_messages = warning;
-- The oracle queries run over tables that are never analyzed here: keep
-- JIT from compiling them.
SET LOCAL jit = off;

SELECT plan(8 * 7 + 2);

CREATE SCHEMA prop;

-- ---------------------------------------------------------------- random
CREATE FUNCTION prop.ri(lo integer, hi integer) RETURNS integer
LANGUAGE sql VOLATILE AS
$$ SELECT lo + floor(random() * (hi - lo + 1))::integer $$;

CREATE FUNCTION prop.pick(xs text[]) RETURNS text
LANGUAGE sql VOLATILE AS
$$ SELECT xs[1 + floor(random() * cardinality(xs))::integer] $$;

-- Activity kinds, weighted by repetition.
CREATE FUNCTION prop.kinds() RETURNS text[]
LANGUAGE sql IMMUTABLE AS
$$ SELECT ARRAY['call', 'call', 'call', 'email', 'email', 'email', 'lead_created', 'lead_created',
                'lead_converted', 'deal_won', 'deal_lost', 'meeting', 'meeting', 'bonus'] $$;

-- A unit for a rep to move to: mostly a team, sometimes a region, the
-- department or a team created during the run.
CREATE FUNCTION prop.rand_unit() RETURNS bigint
LANGUAGE sql VOLATILE AS $$
SELECT u.unit_id FROM salesperf.unit u
 WHERE u.unit_id <> 1 AND (u.kind = 'team' OR random() < 0.3)
 ORDER BY u.unit_id
OFFSET floor(random() * (SELECT count(*) FROM salesperf.unit u WHERE u.kind = 'team')) LIMIT 1
$$;

-- A moment between 2026-09-28 and 2027-01-04, local time: often exactly a
-- local midnight or the instant before one, sometimes inside the night the
-- clocks fall back in New York (2026-11-01).
CREATE FUNCTION prop.rand_time() RETURNS timestamptz
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    tz text := (SELECT s.time_zone FROM salesperf.settings s);
    d  date := date '2026-09-28' + prop.ri(0, 97);
    u  float8 := random();
BEGIN
    IF u < 0.12 THEN
        RETURN d::timestamp AT TIME ZONE tz;
    ELSIF u < 0.18 THEN
        RETURN (d::timestamp AT TIME ZONE tz) - interval '1 microsecond';
    ELSIF u < 0.23 THEN
        RETURN timestamptz '2026-11-01 03:30+00' + date_trunc('second', random() * interval '4 hours');
    END IF;
    RETURN (d::timestamp + date_trunc('second', random() * interval '24 hours')) AT TIME ZONE tz;
END
$$;

CREATE FUNCTION prop.rand_amount(kind text) RETURNS numeric
LANGUAGE sql VOLATILE AS $$
SELECT CASE kind
         WHEN 'call' THEN floor(random() * 900)::numeric
         WHEN 'deal_won' THEN round((random() * 5000)::numeric, 2)
         WHEN 'deal_lost' THEN round((random() * 3000)::numeric, 2)
         WHEN 'bonus' THEN (1 + floor(random() * 50))::numeric
         ELSE CASE WHEN random() < 0.1 THEN 0 ELSE 1 END
       END
$$;

CREATE FUNCTION prop.rand_activity() RETURNS bigint
LANGUAGE sql VOLATILE AS $$
SELECT a.activity_id FROM salesperf.activity a ORDER BY a.activity_id
OFFSET floor(random() * (SELECT count(*) FROM salesperf.activity)) LIMIT 1
$$;

-- ------------------------------------------------------------- the company
CREATE FUNCTION prop.build_company() RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    tz text := (SELECT s.time_zone FROM salesperf.settings s);
BEGIN
    INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES
        (1, NULL, 'Acme', 'company'),
        (10, 1, 'East', 'region'), (11, 1, 'West', 'region'),
        (12, 11, 'Enterprise', 'department'),
        (100, 10, 'Boston', 'team'), (101, 10, 'New York', 'team'),
        (110, 11, 'Denver', 'team'),
        (120, 12, 'Seattle', 'team'), (121, 12, 'Portland', 'team');
    INSERT INTO salesperf.rep (rep_id, name)
    SELECT g, 'Rep ' || g FROM generate_series(1, 12) g;
    -- Reps 1-10 sit in teams, rep 11 directly in a region, rep 12 nowhere yet.
    PERFORM salesperf.assign(r, u, timestamptz '2026-09-01 00:00+00')
       FROM (VALUES (1, 100), (2, 100), (3, 100), (4, 101), (5, 101), (6, 110), (7, 110),
                    (8, 120), (9, 120), (10, 121), (11, 10)) m(r, u);

    INSERT INTO salesperf.point_rule (name, kind, points, points_per_amount, daily_cap, valid) VALUES
        ('call made',        'call',           1,  0,      NULL, '(,)'),
        ('call time',        'call',           0,  0.01,   3,    '(,)'),
        ('email sent',       'email',          2,  0,      7,    '(,)'),
        ('deal won',         'deal_won',       10, 0.001,  NULL, '(,)'),
        ('deal lost',        'deal_lost',      -2, 0,      NULL, '(,)'),
        ('lead promo',       'lead_created',   3,  0,      NULL,
         tstzrange('2026-10-15'::timestamp AT TIME ZONE tz, '2026-11-15'::timestamp AT TIME ZONE tz)),
        ('november meeting', 'meeting',        4,  0,      10,
         tstzrange('2026-11-01'::timestamp AT TIME ZONE tz, '2026-12-01'::timestamp AT TIME ZONE tz)),
        ('conversion',       'lead_converted', 5,  0,      NULL, '(,)');

    PERFORM salesperf.create_leaderboard('pts_month');
    PERFORM salesperf.create_leaderboard('calls_week', 'calls', period => 'week');
    PERFORM salesperf.create_leaderboard('team_pts', participant => 'unit', unit_kind => 'team');
    PERFORM salesperf.create_leaderboard('region_call_time_day', 'call_seconds', 'unit', 'day',
                                         unit_kind => 'region');
    PERFORM salesperf.create_leaderboard('conv_quarter', 'conversion_rate', period => 'quarter');
    PERFORM salesperf.create_leaderboard('east_revenue', 'revenue', unit_scope => 10);
    PERFORM salesperf.create_leaderboard('west_team_deals', 'deals_won', 'unit', 'all',
                                         unit_scope => 11, unit_kind => 'team');
    PERFORM salesperf.create_leaderboard('short_calls', 'avg_call_seconds');
END
$$;

-- ------------------------------------------------------------- operations
-- One random operation as SQL text (so a failure can show what ran).  A
-- statement that must fail starts with the line '-- must fail'.
CREATE FUNCTION prop.gen_op() RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    kinds text[] := prop.kinds();
    tz    text := (SELECT s.time_zone FROM salesperf.settings s);
    u     float8 := random();
    k     text;
    id    bigint;
    r     integer;
    r2    integer;
    t     timestamptz;
    last  timestamptz;
    rule  salesperf.point_rule;
    mem   salesperf.membership;
    v     numeric;
BEGIN
    IF u < 0.28 THEN
        k := prop.pick(kinds);
        RETURN format('SELECT salesperf.record(%s, %L, %s, %L)',
                      prop.ri(1, 12), k, prop.rand_amount(k), prop.rand_time());

    ELSIF u < 0.42 THEN
        -- A small key space: retries, duplicates, keys reused across sources.
        k := prop.pick(ARRAY['call', 'email', 'deal_won']);
        RETURN format('SELECT salesperf.record(%s, %L, %s, %L, %L, %L)',
                      prop.ri(1, 12), k, prop.rand_amount(k), prop.rand_time(),
                      prop.pick(ARRAY[NULL, 'crm']), 'k' || prop.ri(1, 15));

    ELSIF u < 0.46 THEN
        RETURN format($sql$INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at, source, source_key)
SELECT x.rep, x.kind,
       CASE x.kind WHEN 'call' THEN floor(x.r1 * 900)
                   WHEN 'deal_won' THEN round((x.r1 * 5000)::numeric, 2)
                   WHEN 'deal_lost' THEN round((x.r1 * 3000)::numeric, 2)
                   WHEN 'bonus' THEN 1 + floor(x.r1 * 50)
                   ELSE CASE WHEN x.r1 < 0.1 THEN 0 ELSE 1 END END,
       (x.d::timestamp + CASE WHEN x.r2 < 0.1 THEN interval '0'
                              ELSE date_trunc('second', x.r2 * interval '24 hours') END) AT TIME ZONE %L,
       CASE WHEN x.r3 < 0.5 THEN 'bulk' END,
       CASE WHEN x.r3 < 0.1 OR x.r3 > 0.9 THEN 'k' || (1 + floor(x.r2 * 15)::integer) END
  FROM (SELECT 1 + floor(random() * 12)::bigint AS rep,
               (%L::text[])[1 + floor(random() * %s)::integer] AS kind,
               date '2026-09-28' + floor(random() * 98)::integer AS d,
               random() AS r1, random() AS r2, random() AS r3
          FROM generate_series(1, %s) g) x
ON CONFLICT DO NOTHING$sql$, tz, kinds, cardinality(kinds), prop.ri(50, 200));

    ELSIF u < 0.62 THEN
        id := prop.rand_activity();
        IF id IS NULL THEN
            RETURN 'SELECT 1';
        END IF;
        RETURN format('UPDATE salesperf.activity SET %s WHERE activity_id = %s',
            CASE prop.ri(1, 8)
              WHEN 1 THEN format('amount = %s', prop.rand_amount(prop.pick(kinds)))
              WHEN 8 THEN 'activity_id = activity_id + 1000000'
              WHEN 2 THEN format('occurred_at = occurred_at + %L::interval', prop.ri(-72, 72) || ' hours')
              WHEN 3 THEN format('occurred_at = %L', prop.rand_time())
              WHEN 4 THEN format('rep_id = %s', prop.ri(1, 12))
              WHEN 5 THEN format('kind = %L', prop.pick(kinds))
              WHEN 6 THEN format('rep_id = %s, occurred_at = %L, amount = %s',
                                 prop.ri(1, 12), prop.rand_time(), prop.rand_amount('deal_won'))
              ELSE 'attrs = ''{"edited": true}'''
            END, id);

    ELSIF u < 0.66 THEN
        r := prop.ri(1, 12);
        r2 := prop.ri(1, 12);
        RETURN CASE prop.ri(1, 4)
          WHEN 1 THEN format('UPDATE salesperf.activity SET occurred_at = occurred_at + %L::interval WHERE rep_id = %s',
                             prop.ri(-30, 30) || ' hours', r)
          WHEN 2 THEN format('UPDATE salesperf.activity SET amount = amount + 1 WHERE kind = %L AND activity_id %% %s = %s',
                             prop.pick(kinds), prop.ri(2, 5), prop.ri(0, 1))
          WHEN 3 THEN format('UPDATE salesperf.activity SET rep_id = CASE rep_id WHEN %1$s THEN %2$s ELSE %1$s END WHERE rep_id IN (%1$s, %2$s)',
                             r, r2)
          ELSE format('UPDATE salesperf.activity SET occurred_at = date_trunc(''day'', occurred_at, %L) WHERE activity_id %% 13 = %s',
                      tz, prop.ri(0, 12))
        END;

    ELSIF u < 0.73 THEN
        id := prop.rand_activity();
        IF id IS NULL THEN
            RETURN 'SELECT 1';
        END IF;
        RETURN format('DELETE FROM salesperf.activity WHERE activity_id = %s', id);

    ELSIF u < 0.75 THEN
        RETURN CASE prop.ri(1, 3)
          WHEN 1 THEN format('DELETE FROM salesperf.activity WHERE activity_id %% %s = %s', prop.ri(6, 15), prop.ri(0, 5))
          WHEN 2 THEN format('DELETE FROM salesperf.activity WHERE rep_id = %s AND occurred_at >= %L',
                             prop.ri(1, 12), prop.rand_time())
          ELSE format('DELETE FROM salesperf.activity WHERE kind = %L AND activity_id %% 3 = 0', prop.pick(kinds))
        END;

    ELSIF u < 0.84 THEN
        -- Back-dated move, never before the rep's latest membership start;
        -- often exactly at one of the rep's activities (half-open ranges).
        r := prop.ri(1, 12);
        SELECT max(lower(m.during)) INTO last FROM salesperf.membership m WHERE m.rep_id = r;
        t := prop.rand_time();
        IF random() < 0.3 THEN
            SELECT a.occurred_at INTO t FROM salesperf.activity a
             WHERE a.rep_id = r AND (last IS NULL OR a.occurred_at >= last)
             ORDER BY a.activity_id OFFSET prop.ri(0, 5) LIMIT 1;
        END IF;
        IF t IS NULL OR t < last THEN
            t := CASE WHEN random() < 0.2 OR last >= timestamptz '2027-01-04 00:00+00' THEN last
                      ELSE last + random() * (timestamptz '2027-01-04 00:00+00' - last) END;
        END IF;
        RETURN format('SELECT salesperf.assign(%s, %s, %L)', r, COALESCE(prop.rand_unit(), 100), t);

    ELSIF u < 0.86 THEN
        SELECT m.* INTO mem FROM salesperf.membership m ORDER BY m.rep_id, lower(m.during)
        OFFSET floor(random() * (SELECT count(*) FROM salesperf.membership)) LIMIT 1;
        IF NOT FOUND THEN
            RETURN 'SELECT 1';
        END IF;
        IF random() < 0.6 THEN
            RETURN format('UPDATE salesperf.membership SET unit_id = %s WHERE rep_id = %s AND during = %L',
                          COALESCE(prop.rand_unit(), 100), mem.rep_id, mem.during);
        END IF;
        RETURN format('DELETE FROM salesperf.membership WHERE rep_id = %s AND during = %L', mem.rep_id, mem.during);

    ELSIF u < 0.94 THEN
        SELECT p.* INTO rule FROM salesperf.point_rule p ORDER BY p.rule_id
        OFFSET floor(random() * (SELECT count(*) FROM salesperf.point_rule)) LIMIT 1;
        r := prop.ri(1, 9);
        IF NOT FOUND OR r = 7 THEN
            k := prop.pick(kinds);
            RETURN format('INSERT INTO salesperf.point_rule (name, kind, points, points_per_amount, daily_cap, valid) '
                          'VALUES (%L, %L, %s, %s, %s, tstzrange(%L, NULL))',
                          'extra ' || md5(random()::text), k, prop.ri(0, 4), CASE WHEN k = 'call' THEN 0.02 ELSE 0 END,
                          CASE WHEN random() < 0.5 THEN prop.ri(2, 12)::text ELSE 'NULL' END, prop.rand_time());
        END IF;
        CASE r
          WHEN 1 THEN
            v := CASE WHEN rule.daily_cap IS NULL AND random() < 0.25 THEN -prop.ri(1, 3)
                      ELSE prop.ri(0, 6) + 0.5 * prop.ri(0, 1) END;
            RETURN format('UPDATE salesperf.point_rule SET points = %s WHERE rule_id = %s', v, rule.rule_id);
          WHEN 2 THEN
            RETURN format('UPDATE salesperf.point_rule SET points_per_amount = %s WHERE rule_id = %s',
                          round((random() * 0.02)::numeric, 4), rule.rule_id);
          WHEN 3 THEN
            IF rule.daily_cap IS NOT NULL AND random() < 0.4 THEN
                RETURN format('UPDATE salesperf.point_rule SET daily_cap = NULL WHERE rule_id = %s', rule.rule_id);
            ELSIF rule.points >= 0 AND rule.points_per_amount >= 0 THEN
                RETURN format('UPDATE salesperf.point_rule SET daily_cap = %s WHERE rule_id = %s',
                              prop.ri(1, 15), rule.rule_id);
            END IF;
            RETURN format('UPDATE salesperf.point_rule SET points = 1 WHERE rule_id = %s', rule.rule_id);
          WHEN 4 THEN
            -- End the rule's validity somewhere after its start.
            t := prop.rand_time();
            IF lower(rule.valid) IS NOT NULL AND t <= lower(rule.valid) THEN
                t := lower(rule.valid) + interval '1 day';
            END IF;
            RETURN format('UPDATE salesperf.point_rule SET valid = tstzrange(lower(valid), %L) WHERE rule_id = %s',
                          t, rule.rule_id);
          WHEN 5 THEN
            RETURN format('UPDATE salesperf.point_rule SET valid = %L WHERE rule_id = %s',
                          CASE WHEN random() < 0.5 THEN '(,)' ELSE tstzrange(prop.rand_time(), NULL)::text END,
                          rule.rule_id);
          WHEN 6 THEN
            RETURN format('UPDATE salesperf.point_rule SET active = NOT active WHERE rule_id = %s', rule.rule_id);
          WHEN 9 THEN
            RETURN format('UPDATE salesperf.point_rule SET kind = %L WHERE rule_id = %s',
                          prop.pick(ARRAY['call', 'email', 'meeting', 'lead_created']), rule.rule_id);
          ELSE
            RETURN format('DELETE FROM salesperf.point_rule WHERE rule_id = %s', rule.rule_id);
        END CASE;

    ELSIF u < 0.97 THEN
        RETURN CASE prop.ri(1, 5)
          WHEN 5 THEN format('INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) '
                             'SELECT max(unit_id) + 1, %s, ''New team'', ''team'' FROM salesperf.unit',
                             prop.pick(ARRAY['10', '11', '12']))
          WHEN 1 THEN 'UPDATE salesperf.unit SET parent_id = CASE parent_id WHEN 10 THEN 11 ELSE 10 END WHERE unit_id = 101'
          WHEN 2 THEN 'UPDATE salesperf.unit SET parent_id = CASE parent_id WHEN 11 THEN 10 ELSE 11 END WHERE unit_id = 12'
          WHEN 3 THEN 'UPDATE salesperf.unit SET kind = CASE kind WHEN ''team'' THEN ''pod'' ELSE ''team'' END WHERE unit_id = 121'
          ELSE format('UPDATE salesperf.rep SET active = NOT active WHERE rep_id = %s', prop.ri(1, 12))
        END;

    END IF;
    -- Statements that must fail and change nothing.
    RETURN E'-- must fail\n' || CASE prop.ri(1, 4)
      WHEN 1 THEN format('INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at) '
                         'SELECT CASE WHEN g = 30 THEN 999 ELSE 1 + g %% 12 END, ''call'', g, %L FROM generate_series(1, 60) g',
                         prop.rand_time())
      WHEN 2 THEN format('INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at) '
                         'SELECT 1 + g %% 12, ''email'', CASE WHEN g = 7 THEN -1 ELSE 1 END, %L FROM generate_series(1, 20) g',
                         prop.rand_time())
      WHEN 3 THEN 'UPDATE salesperf.activity SET kind = ''no_such_kind'' WHERE activity_id % 5 = 0'
      ELSE format('SELECT salesperf.record(%s, ''call'', ''NaN'', %L)', prop.ri(1, 12), prop.rand_time())
    END;
END
$$;

-- ------------------------------------------------------------- comparison
-- Differences between the maintained derived tables and a recompute() run
-- in a subtransaction that is rolled back.
CREATE FUNCTION prop.compare(OUT d_award bigint, OUT d_counter bigint, OUT d_standing bigint,
                             OUT first_award text, OUT first_counter text, OUT first_standing text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    re_award    salesperf.capped_award[];
    re_counter  salesperf.kpi_counter[];
    re_standing salesperf.standing[];
BEGIN
    BEGIN
        PERFORM salesperf.recompute();
        re_award := ARRAY(SELECT c FROM salesperf.capped_award c);
        re_counter := ARRAY(SELECT c FROM salesperf.kpi_counter c);
        re_standing := ARRAY(SELECT c FROM salesperf.standing c);
        RAISE EXCEPTION 'undo recompute' USING ERRCODE = 'PR001';
    EXCEPTION WHEN SQLSTATE 'PR001' THEN
        NULL;
    END;

    SELECT count(*), min(x.line) INTO d_award, first_award
      FROM (SELECT 'maintained ' || d::text AS line
              FROM (SELECT * FROM salesperf.capped_award EXCEPT ALL SELECT * FROM unnest(re_award)) d
            UNION ALL
            SELECT 'recomputed ' || d::text
              FROM (SELECT * FROM unnest(re_award) EXCEPT ALL SELECT * FROM salesperf.capped_award) d) x;
    SELECT count(*), min(x.line) INTO d_counter, first_counter
      FROM (SELECT 'maintained ' || d::text AS line
              FROM (SELECT * FROM salesperf.kpi_counter EXCEPT ALL SELECT * FROM unnest(re_counter)) d
            UNION ALL
            SELECT 'recomputed ' || d::text
              FROM (SELECT * FROM unnest(re_counter) EXCEPT ALL SELECT * FROM salesperf.kpi_counter) d) x;
    SELECT count(*), min(x.line) INTO d_standing, first_standing
      FROM (SELECT 'maintained ' || d::text AS line
              FROM (SELECT * FROM salesperf.standing EXCEPT ALL SELECT * FROM unnest(re_standing)) d
            UNION ALL
            SELECT 'recomputed ' || d::text
              FROM (SELECT * FROM unnest(re_standing) EXCEPT ALL SELECT * FROM salesperf.standing) d) x;
END
$$;

-- ----------------------------------------------------------------- oracle
-- Points of every activity, straight from SPEC §6: every active rule of its
-- kind valid at occurred_at, capped per rep, local day and rule in order of
-- (occurred_at, activity_id); bonus earns its amount.  Unit: membership at
-- occurred_at.
CREATE FUNCTION prop.oracle_activity()
RETURNS TABLE (activity_id bigint, rep_id bigint, unit_id bigint, kind text, amount numeric,
               occurred_at timestamptz, points numeric)
LANGUAGE sql STABLE AS $$
  WITH a AS (
      SELECT a.*, (a.occurred_at AT TIME ZONE s.time_zone)::date AS day
        FROM salesperf.activity a CROSS JOIN salesperf.settings s),
  per_rule AS (
      SELECT a.activity_id, r.daily_cap, x.raw,
             sum(x.raw) OVER (PARTITION BY a.rep_id, a.day, r.rule_id
                              ORDER BY a.occurred_at, a.activity_id ROWS UNBOUNDED PRECEDING) - x.raw AS earlier
        FROM a JOIN salesperf.point_rule r
          ON r.kind = a.kind AND r.active AND r.valid @> a.occurred_at
       CROSS JOIN LATERAL (SELECT r.points + r.points_per_amount * a.amount AS raw) x),
  earned AS (
      SELECT p.activity_id,
             sum(CASE WHEN p.daily_cap IS NULL THEN p.raw
                      ELSE GREATEST(0, LEAST(p.raw, p.daily_cap - p.earlier)) END) AS points
        FROM per_rule p GROUP BY p.activity_id)
  SELECT a.activity_id, a.rep_id, m.unit_id, a.kind, a.amount, a.occurred_at,
         COALESCE(e.points, 0) + CASE WHEN a.kind = 'bonus' THEN a.amount ELSE 0 END
    FROM a
    LEFT JOIN earned e ON e.activity_id = a.activity_id
    LEFT JOIN salesperf.membership m ON m.rep_id = a.rep_id AND m.during @> a.occurred_at
$$;

CREATE FUNCTION prop.kpis() RETURNS text[]
LANGUAGE sql IMMUTABLE AS
$$ SELECT ARRAY['calls', 'call_seconds', 'emails', 'revenue', 'deals_won', 'leads_generated',
                'conversion_rate', 'points', 'avg_call_seconds'] $$;

-- Reps in teams, in a region directly and nowhere at first; units on every
-- level; the company.
CREATE FUNCTION prop.scopes() RETURNS TABLE (scope text, scope_id bigint)
LANGUAGE sql STABLE AS $$
  SELECT 'rep', r.rep_id FROM salesperf.rep r WHERE r.rep_id IN (1, 4, 8, 11, 12)
  UNION ALL SELECT 'unit', u.unit_id FROM salesperf.unit u WHERE u.unit_id IN (1, 10, 12, 101, 120)
  UNION ALL SELECT 'company', 0
$$;

CREATE FUNCTION prop.kpi_grid(ats timestamptz[])
RETURNS TABLE (kpi text, scope text, scope_id bigint, period text, at timestamptz, value numeric)
LANGUAGE sql STABLE AS $$
  SELECT k, s.scope, s.scope_id, p, t, salesperf.kpi_value(k, s.scope, s.scope_id, p, t)
    FROM unnest(prop.kpis()) k, prop.scopes() s, unnest(ats) t,
         unnest(ARRAY['day', 'week', 'month', 'quarter', 'all']) p
$$;

-- The same grid from the ledger (SPEC §6: empty count and sum 0, empty avg
-- and zero denominators NULL; a unit is its whole subtree).
CREATE FUNCTION prop.kpi_oracle(ats timestamptz[])
RETURNS TABLE (kpi text, scope text, scope_id bigint, period text, at timestamptz, value numeric)
LANGUAGE sql STABLE AS $$
  WITH a AS MATERIALIZED (SELECT * FROM prop.oracle_activity()),
  e AS (
      SELECT 'rep' AS scope, a.rep_id AS scope_id, a.* FROM a
      UNION ALL
      SELECT 'unit', t.ancestor_id, a.* FROM a JOIN salesperf.unit_tree t ON t.descendant_id = a.unit_id
      UNION ALL
      SELECT 'company', 0, a.* FROM a),
  q AS (
      SELECT s.scope, s.scope_id, p, t, salesperf.period_range(t, p) AS during
        FROM prop.scopes() s, unnest(ats) t, unnest(ARRAY['day', 'week', 'month', 'quarter', 'all']) p),
  g AS (
      SELECT q.scope, q.scope_id, q.p, q.t,
             count(*) FILTER (WHERE e.kind = 'call') AS calls,
             sum(e.amount) FILTER (WHERE e.kind = 'call') AS call_seconds,
             count(*) FILTER (WHERE e.kind = 'email') AS emails,
             sum(e.amount) FILTER (WHERE e.kind = 'deal_won') AS revenue,
             count(*) FILTER (WHERE e.kind = 'deal_won') AS deals,
             count(*) FILTER (WHERE e.kind = 'lead_created') AS leads,
             count(*) FILTER (WHERE e.kind = 'lead_converted') AS converted,
             sum(e.points) AS points
        FROM q LEFT JOIN e
          ON e.scope = q.scope AND e.scope_id = q.scope_id AND e.occurred_at <@ q.during
       GROUP BY q.scope, q.scope_id, q.p, q.t)
  SELECT v.kpi, g.scope, g.scope_id, g.p, g.t, v.value
    FROM g CROSS JOIN LATERAL (VALUES
         ('calls', g.calls::numeric),
         ('call_seconds', COALESCE(g.call_seconds, 0)),
         ('emails', g.emails::numeric),
         ('revenue', COALESCE(g.revenue, 0)),
         ('deals_won', g.deals::numeric),
         ('leads_generated', g.leads::numeric),
         ('conversion_rate', g.converted::numeric / NULLIF(g.leads, 0)::numeric),
         ('points', COALESCE(g.points, 0)),
         ('avg_call_seconds', g.call_seconds / NULLIF(g.calls, 0)::numeric)) v(kpi, value)
$$;

CREATE FUNCTION prop.kpi_check(ats timestamptz[], OUT failures bigint, OUT first text)
LANGUAGE sql STABLE AS $$
  SELECT count(*), min(format('%s %s %s %s at %s: kpi_value %s, ledger %s',
                              g.kpi, g.scope, g.scope_id, g.period, g.at, g.value, o.value))
    FROM prop.kpi_grid(ats) g
    JOIN prop.kpi_oracle(ats) o USING (kpi, scope, scope_id, period, at)
   WHERE round(g.value, 10) IS DISTINCT FROM round(o.value, 10)
$$;

-- Two boards against the ledger: each participant leaderboard_top lists
-- has the oracle's score, rank (1, 2, 2, 4) and place (ties: who reached
-- the score first, then the lower id); nobody active with points is
-- missing; and the short top (index fast path) is the head of the full one.
CREATE FUNCTION prop.board_check(ats timestamptz[], OUT failures bigint, OUT first text)
LANGUAGE sql STABLE AS $$
  WITH a AS MATERIALIZED (SELECT * FROM prop.oracle_activity()),
  top AS (
      SELECT b.name, t, x.*
        FROM unnest(ARRAY['pts_month', 'team_pts']) b(name), unnest(ats) t,
             LATERAL salesperf.leaderboard_top(b.name, 100, t) WITH ORDINALITY
               x(rank, participant_id, pname, score, previous_rank, movement, place)),
  scored AS (
      SELECT 'pts_month' AS name, t, a.rep_id AS participant_id, sum(a.points) AS score,
             max(a.occurred_at) FILTER (WHERE a.points <> 0) AS reached_at
        FROM unnest(ats) t JOIN a ON a.occurred_at <@ salesperf.period_range(t, 'month')
       GROUP BY t, a.rep_id
      UNION ALL
      SELECT 'team_pts', t, u.unit_id, sum(a.points),
             max(a.occurred_at) FILTER (WHERE a.points <> 0)
        FROM unnest(ats) t JOIN a ON a.occurred_at <@ salesperf.period_range(t, 'month')
        JOIN salesperf.unit_tree ut ON ut.descendant_id = a.unit_id
        JOIN salesperf.unit u ON u.unit_id = ut.ancestor_id AND u.kind = 'team'
       GROUP BY t, u.unit_id),
  expected AS (
      SELECT top.name, top.t, top.participant_id, COALESCE(s.score, 0) AS score,
             rank() OVER w AS rank,
             row_number() OVER (PARTITION BY top.name, top.t
                                ORDER BY COALESCE(s.score, 0) DESC, s.reached_at NULLS LAST, top.participant_id) AS place
        FROM top LEFT JOIN scored s USING (name, t, participant_id)
      WINDOW w AS (PARTITION BY top.name, top.t ORDER BY COALESCE(s.score, 0) DESC)),
  bad AS (
      (SELECT 'board ' || x::text AS line FROM
         (SELECT name, t, place, rank, participant_id, score FROM top
          EXCEPT ALL
          SELECT name, t, place, rank, participant_id, score FROM expected) x)
      UNION ALL
      (SELECT 'oracle ' || x::text FROM
         (SELECT name, t, place, rank, participant_id, score FROM expected
          EXCEPT ALL
          SELECT name, t, place, rank, participant_id, score FROM top) x)
      UNION ALL
      SELECT format('missing %s at %s: %s scores %s', s.name, s.t, s.participant_id, s.score)
        FROM scored s
       WHERE s.score <> 0 AND NOT EXISTS (SELECT 1 FROM top WHERE (top.name, top.t, top.participant_id) = (s.name, s.t, s.participant_id))
         AND (s.name = 'team_pts' OR EXISTS (SELECT 1 FROM salesperf.rep r WHERE r.rep_id = s.participant_id AND r.active))
      UNION ALL
      (SELECT 'fast path ' || x::text FROM
         (SELECT b.name, t, f.* FROM salesperf.leaderboard b, unnest(ats) t,
                 LATERAL salesperf.leaderboard_top(b.name, 3, t) WITH ORDINALITY f
          EXCEPT ALL
          SELECT b.name, t, f.* FROM salesperf.leaderboard b, unnest(ats) t,
                 LATERAL salesperf.leaderboard_top(b.name, 100, t) WITH ORDINALITY f
           WHERE f.ordinality <= 3) x))
  SELECT count(*), min(line) FROM bad
$$;

-- Everything a reader sees: every board's top (short and long), every
-- participant's rank, and the KPI grid.
CREATE FUNCTION prop.reads(ats timestamptz[]) RETURNS text[]
LANGUAGE sql STABLE AS $$
  SELECT ARRAY(
      SELECT format('top %s n=%s at %s: %s', b.name, n, t, f::text)
        FROM salesperf.leaderboard b, unnest(ARRAY[3, 100]) n, unnest(ats) t,
             LATERAL salesperf.leaderboard_top(b.name, n, t) WITH ORDINALITY f
      UNION ALL
      SELECT format('rank %s %s at %s: %s', b.name, p, t, f::text)
        FROM salesperf.leaderboard b, unnest(ats[2:2]) t,
             LATERAL (SELECT r.rep_id FROM salesperf.rep r WHERE b.participant = 'rep'
                      UNION ALL SELECT u.unit_id FROM salesperf.unit u WHERE b.participant = 'unit') x(p),
             LATERAL salesperf.leaderboard_rank(b.name, p, t) f
      UNION ALL
      SELECT format('kpi %s', g::text) FROM prop.kpi_grid(ats[2:2]) g)
$$;

-- ----------------------------------------------------------------- driver
-- Batches stop early when `budget` is spent (a loaded machine runs fewer;
-- the sequence of operations of a seed is always the same).
CREATE FUNCTION prop.run_seed(seed integer, tz text, batches integer,
                              budget interval DEFAULT interval '1 hour')
RETURNS TABLE (check_name text, failures bigint, detail text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    ats        timestamptz[];
    op         text;
    ops        text[];
    must_fail  boolean;
    c          record;
    n_ops      integer := 0;
    n_batches  integer := 0;
    started    timestamptz := clock_timestamp();
    n_rows     bigint;
    errors     bigint := 0;
    first_err  text;
    d_award    bigint := 0;
    d_counter  bigint := 0;
    d_standing bigint := 0;
    f_award    text;
    f_counter  text;
    f_standing text;
    kpi_bad    bigint;
    kpi_first  text;
    board_bad  bigint;
    board_first text;
    before     text[];
    after      text[];
    reads_bad  bigint;
    reads_first text;
BEGIN
    BEGIN
        PERFORM setseed(seed / 16.0);
        PERFORM salesperf.configure(time_zone => tz);
        PERFORM prop.build_company();
        FOR b IN 1..batches LOOP
            EXIT WHEN clock_timestamp() - started > budget AND b > 10;
            n_batches := b;
            ops := '{}';
            FOR o IN 1..prop.ri(1, 14) LOOP
                op := prop.gen_op();
                ops := ops || op;
                must_fail := op LIKE '-- must fail%';
                BEGIN
                    EXECUTE op;
                    n_ops := n_ops + 1;
                    IF must_fail THEN
                        errors := errors + 1;
                        first_err := COALESCE(first_err, format('batch %s: succeeded but must fail: %s', b, op));
                    END IF;
                EXCEPTION WHEN OTHERS THEN
                    -- A kind or rep change may meet another row's idempotency key.
                    IF NOT must_fail
                       AND NOT (SQLSTATE = '23505' AND op LIKE 'UPDATE salesperf.activity %') THEN
                        errors := errors + 1;
                        first_err := COALESCE(first_err, format('batch %s: %s: %s', b, op, SQLERRM));
                    END IF;
                END;
            END LOOP;
            c := prop.compare();
            IF c.d_award > 0 AND f_award IS NULL THEN
                f_award := format('batch %s: %s after [%s]', b, c.first_award, array_to_string(ops, '; '));
            END IF;
            IF c.d_counter > 0 AND f_counter IS NULL THEN
                f_counter := format('batch %s: %s after [%s]', b, c.first_counter, array_to_string(ops, '; '));
            END IF;
            IF c.d_standing > 0 AND f_standing IS NULL THEN
                f_standing := format('batch %s: %s after [%s]', b, c.first_standing, array_to_string(ops, '; '));
            END IF;
            d_award := d_award + c.d_award;
            d_counter := d_counter + c.d_counter;
            d_standing := d_standing + c.d_standing;
        END LOOP;
        SELECT count(*) INTO n_rows FROM salesperf.activity;

        ats := ARRAY['2026-10-20 12:00'::timestamp AT TIME ZONE tz,
                     '2026-11-01 12:00'::timestamp AT TIME ZONE tz,
                     '2026-12-31 23:59'::timestamp AT TIME ZONE tz];
        SELECT k.failures, k.first INTO kpi_bad, kpi_first FROM prop.kpi_check(ats) k;
        SELECT k.failures, k.first INTO board_bad, board_first FROM prop.board_check(ats) k;

        before := prop.reads(ats);
        PERFORM salesperf.recompute();
        after := prop.reads(ats);
        SELECT count(*), min(x.line) INTO reads_bad, reads_first
          FROM ((SELECT 'before ' || l AS line FROM (SELECT unnest(before) EXCEPT ALL SELECT unnest(after)) d(l))
                UNION ALL
                (SELECT 'after ' || l FROM (SELECT unnest(after) EXCEPT ALL SELECT unnest(before)) d(l))) x;
        IF cardinality(before) = 0 THEN
            reads_bad := 1;
            reads_first := 'nothing was read';
        END IF;

        RAISE EXCEPTION 'undo seed' USING ERRCODE = 'PR002';
    EXCEPTION
        WHEN SQLSTATE 'PR002' THEN
            NULL;
        WHEN OTHERS THEN
            errors := errors + 1;
            first_err := format('seed aborted after %s operations: %s (%s)', n_ops, SQLERRM, SQLSTATE);
    END;

    RETURN QUERY VALUES
        (format('%s operations in %s batches, %s activities at the end: no unexpected errors', n_ops, n_batches, n_rows),
         errors, first_err),
        ('capped_award equals recompute() after every batch', d_award, f_award),
        ('kpi_counter equals recompute() after every batch', d_counter, f_counter),
        ('standing equals recompute() after every batch', d_standing, f_standing),
        ('kpi_value agrees with the ledger', kpi_bad, kpi_first),
        ('leaderboard_top agrees with the ledger', board_bad, board_first),
        ('leaderboard_top, leaderboard_rank and kpi_value read the same after recompute()', reads_bad, reads_first);
END
$$;

DO $$ BEGIN
    PERFORM salesperf.define_kpi('avg_call_seconds', 'call', 'avg', unit => 'seconds', higher_is_better => false);
END $$;

-- ------------------------------------------------------------------ seeds
-- Seeds 1-4 in UTC, 5-8 in New York (local days, the fall-back night).
SELECT is(r.failures, 0::bigint,
          format('seed %s (%s): %s%s', s.seed, s.tz, r.check_name,
                 CASE WHEN r.failures <> 0 THEN ' -- ' || left(regexp_replace(r.detail, '\s+', ' ', 'g'), 1500) ELSE '' END))
  FROM (VALUES (1, 'UTC'), (2, 'UTC'), (3, 'UTC'), (4, 'UTC'),
               (5, 'America/New_York'), (6, 'America/New_York'),
               (7, 'America/New_York'), (8, 'America/New_York')) s(seed, tz)
 CROSS JOIN LATERAL prop.run_seed(s.seed, s.tz, 50, interval '4 seconds') r;

-- ------------------------------------------------------------ nested units
-- A team inside a team (units nest to any depth, SPEC §4): on a unit board
-- each team scores its whole subtree, as kpi_value(..., 'unit', ...) does,
-- and adding or moving units keeps the standings equal to recompute().
CREATE FUNCTION prop.nested_units(OUT score_bad bigint, OUT score_first text,
                                  OUT state_bad bigint, OUT state_first text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    c record;
    step text;
BEGIN
    state_bad := 0;
    BEGIN
        INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES
            (1, NULL, 'Acme', 'company'), (10, 1, 'East', 'region'), (11, 1, 'West', 'region'),
            (100, 10, 'Boston', 'team'), (102, 100, 'Boston North', 'team'), (103, 102, 'Back Bay', 'team'),
            (110, 11, 'Denver', 'team');
        INSERT INTO salesperf.rep (rep_id, name) SELECT g, 'Rep ' || g FROM generate_series(1, 4) g;
        PERFORM salesperf.assign(r, u, timestamptz '2026-10-01 00:00+00')
           FROM (VALUES (1, 100), (2, 102), (3, 103), (4, 110)) m(r, u);
        INSERT INTO salesperf.point_rule (name, kind, points) VALUES ('call made', 'call', 1);
        PERFORM salesperf.create_leaderboard('nested teams', participant => 'unit', unit_kind => 'team');
        PERFORM salesperf.record(r, 'call', 60, timestamptz '2026-11-10 10:00+00' + r * interval '1 hour')
           FROM generate_series(1, 4) r, generate_series(1, 5) n;

        SELECT count(*), min(format('team %s scores %s on the board, kpi_value %s',
                                    t.participant_id, t.score, k.v))
          INTO score_bad, score_first
          FROM salesperf.leaderboard_top('nested teams', 10, timestamptz '2026-11-15 00:00+00') t
         CROSS JOIN LATERAL (SELECT salesperf.kpi_value('points', 'unit', t.participant_id, 'month',
                                                        timestamptz '2026-11-15 00:00+00') AS v) k
         WHERE t.score IS DISTINCT FROM k.v;

        FOREACH step IN ARRAY ARRAY[
            'INSERT INTO salesperf.unit VALUES (104, 102, ''Beacon Hill'', ''team'')',
            'UPDATE salesperf.unit SET parent_id = 11 WHERE unit_id = 100',
            'INSERT INTO salesperf.unit VALUES (111, 11, ''Aurora'', ''team'')',
            'UPDATE salesperf.unit SET parent_id = 110 WHERE unit_id = 102',
            'INSERT INTO salesperf.unit VALUES (112, 110, ''Golden'', ''team'')',
            'UPDATE salesperf.unit SET kind = ''pod'' WHERE unit_id = 102',
            'INSERT INTO salesperf.unit VALUES (113, 10, ''Salem'', ''team'')',
            'UPDATE salesperf.unit SET kind = ''team'' WHERE unit_id = 102',
            'INSERT INTO salesperf.unit VALUES (114, 103, ''Fenway'', ''team'')'] LOOP
            EXECUTE step;
            c := prop.compare();
            IF c.d_standing > 0 AND state_first IS NULL THEN
                state_first := format('after %s: %s', step, c.first_standing);
            END IF;
            state_bad := state_bad + c.d_standing + c.d_counter + c.d_award;
        END LOOP;
        RAISE EXCEPTION 'undo' USING ERRCODE = 'PR002';
    EXCEPTION WHEN SQLSTATE 'PR002' THEN
        NULL;
    END;
END
$$;

CREATE TEMP TABLE nested AS SELECT * FROM prop.nested_units();
SELECT is(n.score_bad, 0::bigint,
          'nested teams: each team on a unit board scores its whole subtree, as kpi_value does'
          || COALESCE(' -- ' || n.score_first, ''))
  FROM nested n;
SELECT is(n.state_bad, 0::bigint,
          'nested teams: standings equal recompute() as units are added, moved and re-kinded'
          || COALESCE(' -- ' || n.state_first, ''))
  FROM nested n;

SELECT * FROM finish();
ROLLBACK;
