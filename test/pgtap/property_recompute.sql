-- Property: whatever happens to the ledger, the memberships, the point
-- rules, the org chart, the KPI and leaderboard definitions and the
-- configuration, the derived tables kept by the triggers (capped_award,
-- kpi_counter, standing) equal what salesperf.recompute() builds from the
-- ledger, badge awards are exactly those recompute() finds earned (it adds
-- none and revokes none), and what users read agrees with the ledger.
--
-- For each seed a driver sets a time zone, builds a small company (units on
-- three levels, twelve reps, memberships, point rules with and without
-- daily caps and validity ranges, three badge rules (a day, a week and a
-- month, one on a ratio), two contests (one over a window that starts and
-- ends mid-day, one finalized at the end of the seed), rep and unit
-- targets, ten leaderboards, two of them on ratio
-- KPIs over points), then applies a fixed number of random batches of
-- operations: record() with and without idempotency keys, bulk
-- INSERT ... SELECT, updates and deletes of single activities and of many,
-- back-dated assign(), membership rewrites, point rule edits, org changes,
-- KPI edits (higher_is_better flipped, a custom KPI's kind changed, also
-- under a ratio that uses it), leaderboard edits (period, metric,
-- unit_scope), configuration changes both through configure() and by
-- writing salesperf.configuration directly (time_zone, week_start), and
-- statements that must fail.  After every batch the maintained tables are
-- compared, EXCEPT ALL both ways, with a recompute() run inside a
-- subtransaction that is then rolled back, so the maintained state keeps
-- evolving on its own for the whole seed.  A last batch writes the seed's
-- own time zone back into salesperf.configuration.  At the end of a seed:
--   * period_start/period_end of every activity's moment bound its local
--     day, week and month (the first local moment of the day, even where
--     midnight is skipped or happens twice);
--   * kpi_value() is checked against an oracle computed from the ledger by
--     the rules of SPEC §6 (local days, memberships, caps, bonus points,
--     avg and ratio KPIs as Σ numerator ÷ Σ denominator, from the KPI
--     definitions as they are now);
--   * every board is checked against the same oracle (scores, competition
--     ranks, lower-is-better metrics, ties listed by who reached the score
--     first, nobody who scored missing);
--   * leaderboard_top / leaderboard_rank / kpi_value, contest standings,
--     frozen contest results and target progress answer the same before
--     and after a real recompute().
--
-- Seeds run in UTC and New York (autumn 2026, the fall-back night), and in
-- zones whose clocks change at midnight, each seed over a window of days
-- around one transition night, with many activities, rule bounds,
-- memberships and reads within two hours of the transition (verified with
-- timestamptz arithmetic):
--   America/Havana   2025-03-09 05:00 UTC: 00:00 is skipped (day starts 01:00)
--                    2025-11-02 05:00 UTC: 00:00-01:00 happens twice; the
--                      day starts at the first midnight, 04:00 UTC
--   America/Santiago 2024-09-08 04:00 UTC: 00:00 is skipped
--                    2025-04-06 03:00 UTC: 23:00-24:00 of 04-05 happens twice
--   Asia/Beirut      2025-03-29 22:00 UTC: 00:00 of 03-30 is skipped
--                    2025-10-25 21:00 UTC: 23:00-24:00 of 10-25 happens twice
--
-- The budget of a seed is counted in operations, not seconds: every seed
-- runs its fixed number of batches (prop.seeds.batches, 16: about 120
-- operations) whatever the machine, so a slow machine covers exactly what
-- a fast one does; the whole file takes 30 to 50 seconds on two shared
-- cores.  Sequences are reset at the start of each seed, so a seed
-- replays alone exactly as in the full run.  Each seed runs in a
-- subtransaction rolled back at its end.  A last check builds teams inside
-- teams (units nest to any depth) and moves them.
--
-- A failing check names its seed and time zone and prints the first
-- difference: for the per-batch checks with the batch that caused it and
-- that batch's statements, for the others "at the end of the seed".
-- To replay one seed by hand, run this file in psql up to the comment line
-- that ends in "seed runs", then, for seed 9 say:
--   SELECT r.* FROM prop.seeds s, prop.run_seed(s.seed, s.tz, s.first_day, s.night, s.batches) r
--    WHERE s.seed = 9;
-- property_serializable.sql runs some seeds again under SERIALIZABLE (psql
-- variables prop_isolation and prop_seeds), where the one-row path writes
-- with SQL statements instead of in place.
\if :{?prop_isolation}
\else
\set prop_isolation 'READ COMMITTED'
\endif
BEGIN ISOLATION LEVEL :prop_isolation;
SET LOCAL client_min_messages = warning;
-- The oracle queries run over tables that are never analyzed here: keep
-- JIT from compiling them.
SET LOCAL jit = off;

CREATE SCHEMA prop;

-- ------------------------------------------------------------------ seeds
-- Each seed: its time zone, the first local day of its 98-day window, the
-- transition night its activities crowd around (the instant the clocks
-- change; for UTC seeds New York's) and its number of batches.
CREATE TABLE prop.seeds (seed integer PRIMARY KEY, tz text NOT NULL, first_day date NOT NULL,
                         night timestamptz NOT NULL, batches integer NOT NULL);
INSERT INTO prop.seeds VALUES
    (1,  'UTC',              '2026-09-28', '2026-11-01 06:00+00', 16),
    (2,  'UTC',              '2026-09-28', '2026-11-01 06:00+00', 16),
    (3,  'America/New_York', '2026-09-28', '2026-11-01 06:00+00', 16),
    (4,  'America/New_York', '2026-09-28', '2026-11-01 06:00+00', 16),
    (5,  'America/Havana',   '2025-09-29', '2025-11-02 05:00+00', 16),
    (6,  'America/Havana',   '2025-09-29', '2025-11-02 05:00+00', 16),
    (7,  'America/Havana',   '2025-02-03', '2025-03-09 05:00+00', 16),
    (8,  'America/Santiago', '2024-08-05', '2024-09-08 04:00+00', 16),
    (9,  'America/Santiago', '2025-03-03', '2025-04-06 03:00+00', 16),
    (10, 'Asia/Beirut',      '2025-02-24', '2025-03-29 22:00+00', 16),
    (11, 'Asia/Beirut',      '2025-09-22', '2025-10-25 21:00+00', 16);
\if :{?prop_seeds}
DELETE FROM prop.seeds WHERE seed <> ALL (:'prop_seeds'::integer[]);
\endif

-- The seed being run (one row), read by the generators.
CREATE TABLE prop.ctx (home_tz text, first_day date, days integer, night timestamptz);

SELECT plan((SELECT count(*)::integer * 8 + 3 FROM prop.seeds));

-- Each transition instant is where the offset of its zone changes.
SELECT is(count(*), 0::bigint,
          'every seed''s night is a clock change of its zone'
          || COALESCE(' -- not for seeds ' || string_agg(s.seed::text, ', '), ''))
  FROM prop.seeds s
 WHERE s.tz <> 'UTC'
   AND (s.night AT TIME ZONE s.tz) - ((s.night - interval '1 second') AT TIME ZONE s.tz) = interval '1 second';

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

-- The first moment whose local date is d (SPEC §3): where midnight happens
-- twice, the first one; where it is skipped, the first local time that
-- exists.  (d::timestamp AT TIME ZONE tz alone picks the second midnight.)
CREATE FUNCTION prop.day_start(d date, tz text) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    t timestamptz := d::timestamp AT TIME ZONE tz;
BEGIN
    WHILE ((t - interval '1 hour') AT TIME ZONE tz) >= d::timestamp LOOP
        t := t - interval '1 hour';
    END LOOP;
    RETURN t;
END
$$;

-- A moment near the seed's transition night: often one of the instants
-- around it (the change itself, an hour either side, the microsecond
-- before each), otherwise anywhere within two hours of it.
CREATE FUNCTION prop.night_time() RETURNS timestamptz
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    night timestamptz := (SELECT c.night FROM prop.ctx c);
BEGIN
    IF random() < 0.5 THEN
        RETURN night + (ARRAY[interval '0', interval '-1 microsecond', interval '-1 hour',
                              interval '-1 hour -1 microsecond', interval '1 hour',
                              interval '1 hour -1 microsecond', interval '-2 hours',
                              interval '30 minutes'])[prop.ri(1, 8)];
    END IF;
    RETURN night + date_trunc('second', (random() * 4 - 2) * interval '1 hour');
END
$$;

-- A moment in the seed's window of local days: often exactly a local
-- midnight (as AT TIME ZONE picks it, or the first moment of the day) or
-- the instant before one, often near the transition night.
CREATE FUNCTION prop.rand_time() RETURNS timestamptz
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    c  prop.ctx := (SELECT c FROM prop.ctx c);
    tz text := (SELECT s.time_zone FROM salesperf.settings s);
    d  date := c.first_day + prop.ri(0, c.days - 1);
    u  float8 := random();
BEGIN
    IF u < 0.06 THEN
        RETURN d::timestamp AT TIME ZONE tz;
    ELSIF u < 0.10 THEN
        RETURN prop.day_start(d, tz);
    ELSIF u < 0.15 THEN
        RETURN prop.day_start(d, tz) - interval '1 microsecond';
    ELSIF u < 0.32 THEN
        RETURN prop.night_time();
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

-- KPIs the random mix edits, defined once for the whole file (each seed
-- rolls its edits back): an avg and a lower-is-better KPI, a count and a
-- points-of-one-kind KPI whose kind changes, and ratios over points (SPEC
-- §6: Σ numerator ÷ Σ denominator), one of them over the count whose kind
-- changes.
DO $$ BEGIN
    PERFORM salesperf.define_kpi('avg_call_seconds', 'call', 'avg', unit => 'seconds', higher_is_better => false);
    PERFORM salesperf.define_kpi('touches', 'email');
    PERFORM salesperf.define_kpi('touch_points', 'meeting', 'points');
    PERFORM salesperf.define_kpi('revenue_per_point', measure => 'ratio', numerator => 'revenue', denominator => 'points');
    PERFORM salesperf.define_kpi('points_per_call', measure => 'ratio', numerator => 'points', denominator => 'calls');
    PERFORM salesperf.define_kpi('touches_per_call', measure => 'ratio', numerator => 'touches', denominator => 'calls');
END $$;

-- Custom KPIs whose kind the mix changes, and the KPIs boards may rank on.
CREATE FUNCTION prop.custom_kpis() RETURNS text[]
LANGUAGE sql IMMUTABLE AS
$$ SELECT ARRAY['avg_call_seconds', 'touches', 'touch_points'] $$;

CREATE FUNCTION prop.kpis() RETURNS text[]
LANGUAGE sql IMMUTABLE AS
$$ SELECT ARRAY['calls', 'call_seconds', 'emails', 'revenue', 'deals_won', 'leads_generated',
                'conversion_rate', 'points', 'avg_call_seconds', 'touches', 'touch_points',
                'revenue_per_point', 'points_per_call', 'touches_per_call'] $$;

-- ------------------------------------------------------------- the company
CREATE FUNCTION prop.build_company() RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    c       prop.ctx := (SELECT c FROM prop.ctx c);
    tz      text := (SELECT s.time_zone FROM salesperf.settings s);
    -- the local day the clocks change into (the day after a fall-back at 24:00)
    change  date := ((c.night + interval '1 hour') AT TIME ZONE tz)::date;
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
    -- Reps 1-10 sit in teams, rep 11 directly in a region, rep 12 nowhere
    -- yet; reps 9 and 10 move at the first moment of the transition day.
    PERFORM salesperf.assign(r, u, prop.day_start(c.first_day - 30, tz))
       FROM (VALUES (1, 100), (2, 100), (3, 100), (4, 101), (5, 101), (6, 110), (7, 110),
                    (8, 120), (9, 120), (10, 121), (11, 10)) m(r, u);
    PERFORM salesperf.assign(9, 121, prop.day_start(change, tz));
    PERFORM salesperf.assign(10, 101, prop.day_start(change, tz));

    -- Badge rules ride on the same counters (their awards are compared with
    -- what recompute() finds earned, see prop.compare).
    -- A contest over a window that starts and ends mid-day (partial days
    -- read from the ledger), another that is finalized at the end of the
    -- seed, and rep and unit targets (read through target_progress_at).
    INSERT INTO salesperf.reward (name, kind, value) VALUES ('prop dinner', 'gift', 80);
    PERFORM salesperf.create_contest('prop sprint', 'points',
                                     prop.day_start(c.first_day + 10, tz) + interval '13 hours',
                                     prop.day_start(c.first_day + 70, tz) + interval '9 hours');
    PERFORM salesperf.create_contest('prop calls', 'calls', prop.day_start(c.first_day, tz),
                                     prop.day_start(c.first_day + 30, tz),
                                     prizes => '[{"rank_from":1,"bonus_points":5,"reward":"prop dinner"}]');
    PERFORM salesperf.set_target('calls', 'rep', r, 'month', prop.day_start(c.first_day + 40, tz), 5 + r)
       FROM generate_series(1, 12) r;
    PERFORM salesperf.set_target('points', 'unit', 100, 'month', prop.day_start(c.first_day + 40, tz), 100);

    INSERT INTO salesperf.badge (name) VALUES ('three calls'), ('forty points'), ('half converted');
    INSERT INTO salesperf.badge_rule (badge, metric, threshold, period) VALUES
        ('three calls', 'calls', 3, 'day'), ('forty points', 'points', 40, 'week'),
        ('half converted', 'conversion_rate', 0.5, 'month');

    INSERT INTO salesperf.point_rule (name, kind, points, points_per_amount, daily_cap, valid) VALUES
        ('call made',        'call',           1,  0,      NULL, '(,)'),
        ('call time',        'call',           0,  0.01,   3,    '(,)'),
        ('email sent',       'email',          2,  0,      7,    '(,)'),
        ('deal won',         'deal_won',       10, 0.001,  NULL, '(,)'),
        ('deal lost',        'deal_lost',      -2, 0,      NULL, '(,)'),
        ('lead promo',       'lead_created',   3,  0,      NULL,
         tstzrange(prop.day_start(c.first_day + 17, tz), prop.day_start(c.first_day + 48, tz))),
        ('meeting month',    'meeting',        4,  0,      10,
         tstzrange(prop.day_start(change, tz), prop.day_start(change + 30, tz))),
        ('night visit',      'lead_converted', 2,  0,      4,
         tstzrange(prop.day_start(change - 1, tz), prop.day_start(change, tz))),
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
    PERFORM salesperf.create_leaderboard('rev_per_point', 'revenue_per_point', period => 'week');
    PERFORM salesperf.create_leaderboard('team_pts_per_call', 'points_per_call', 'unit', 'day',
                                         unit_kind => 'team');
END
$$;

-- ------------------------------------------------------------- operations
-- One random operation as SQL text (so a failure can show what ran).  A
-- statement that must fail starts with the line '-- must fail'.
CREATE FUNCTION prop.gen_op() RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    kinds text[] := prop.kinds();
    c     prop.ctx := (SELECT c FROM prop.ctx c);
    tz    text := (SELECT s.time_zone FROM salesperf.settings s);
    zones text[] := ARRAY['UTC', 'America/New_York', 'America/Havana', 'America/Santiago', 'Asia/Beirut'];
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
    IF u < 0.24 THEN
        k := prop.pick(kinds);
        RETURN format('SELECT salesperf.record(%s, %L, %s, %L)',
                      prop.ri(1, 12), k, prop.rand_amount(k), prop.rand_time());

    ELSIF u < 0.35 THEN
        -- A small key space: retries, duplicates, keys reused across sources.
        k := prop.pick(ARRAY['call', 'email', 'deal_won']);
        RETURN format('SELECT salesperf.record(%s, %L, %s, %L, %L, %L)',
                      prop.ri(1, 12), k, prop.rand_amount(k), prop.rand_time(),
                      prop.pick(ARRAY[NULL, 'crm']), 'k' || prop.ri(1, 15));

    ELSIF u < 0.39 THEN
        -- Local times in the window, a fifth of them near the transition night.
        RETURN format($sql$INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at, source, source_key)
SELECT x.rep, x.kind,
       CASE x.kind WHEN 'call' THEN floor(x.r1 * 900)
                   WHEN 'deal_won' THEN round((x.r1 * 5000)::numeric, 2)
                   WHEN 'deal_lost' THEN round((x.r1 * 3000)::numeric, 2)
                   WHEN 'bonus' THEN 1 + floor(x.r1 * 50)
                   ELSE CASE WHEN x.r1 < 0.1 THEN 0 ELSE 1 END END,
       CASE WHEN x.r4 < 0.2 THEN %L::timestamptz + date_trunc('second', (x.r2 * 4 - 2) * interval '1 hour')
            ELSE (x.d::timestamp + CASE WHEN x.r2 < 0.1 THEN interval '0'
                                        ELSE date_trunc('second', x.r2 * interval '24 hours') END) AT TIME ZONE %L END,
       CASE WHEN x.r3 < 0.5 THEN 'bulk' END,
       CASE WHEN x.r3 < 0.1 OR x.r3 > 0.9 THEN 'k' || (1 + floor(x.r2 * 15)::integer) END
  FROM (SELECT 1 + floor(random() * 12)::bigint AS rep,
               (%L::text[])[1 + floor(random() * %s)::integer] AS kind,
               %L::date + floor(random() * %s)::integer AS d,
               random() AS r1, random() AS r2, random() AS r3, random() AS r4
          FROM generate_series(1, %s) g) x
ON CONFLICT DO NOTHING$sql$, c.night, tz, kinds, cardinality(kinds), c.first_day, c.days, prop.ri(50, 200));

    ELSIF u < 0.51 THEN
        id := prop.rand_activity();
        IF id IS NULL THEN
            RETURN 'SELECT 1';
        END IF;
        RETURN format('UPDATE salesperf.activity SET %s WHERE activity_id = %s',
            CASE prop.ri(1, 9)
              WHEN 1 THEN format('amount = %s', prop.rand_amount(prop.pick(kinds)))
              WHEN 8 THEN 'activity_id = activity_id + 1000000'
              WHEN 2 THEN format('occurred_at = occurred_at + %L::interval', prop.ri(-72, 72) || ' hours')
              WHEN 3 THEN format('occurred_at = %L', prop.rand_time())
              WHEN 4 THEN format('rep_id = %s', prop.ri(1, 12))
              WHEN 5 THEN format('kind = %L', prop.pick(kinds))
              WHEN 6 THEN format('rep_id = %s, occurred_at = %L, amount = %s',
                                 prop.ri(1, 12), prop.rand_time(), prop.rand_amount('deal_won'))
              WHEN 9 THEN format('occurred_at = %L', prop.night_time())
              ELSE 'attrs = ''{"edited": true}'''
            END, id);

    ELSIF u < 0.54 THEN
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

    ELSIF u < 0.59 THEN
        -- The transition night: activities cross it (an hour either way:
        -- first and second pass of a repeated hour, across a skipped
        -- midnight), are deleted around it, or land on its instants.
        RETURN CASE prop.ri(1, 4)
          WHEN 1 THEN format('UPDATE salesperf.activity SET occurred_at = occurred_at + %L::interval '
                             'WHERE occurred_at >= %L AND occurred_at < %L AND activity_id %% %s = %s',
                             prop.pick(ARRAY['1 hour', '-1 hour', '30 minutes', '-1 hour -1 microsecond']),
                             c.night - interval '2 hours', c.night + interval '2 hours', prop.ri(2, 3), prop.ri(0, 1))
          WHEN 2 THEN format('DELETE FROM salesperf.activity WHERE occurred_at >= %L AND occurred_at < %L AND activity_id %% 3 = %s',
                             c.night - interval '1 hour', c.night + interval '1 hour', prop.ri(0, 2))
          WHEN 3 THEN format('UPDATE salesperf.activity SET occurred_at = %L WHERE rep_id = %s AND occurred_at >= %L AND occurred_at < %L',
                             prop.night_time(), prop.ri(1, 12), c.night - interval '2 hours', c.night + interval '2 hours')
          ELSE format('UPDATE salesperf.activity SET kind = %L WHERE occurred_at >= %L AND occurred_at < %L',
                      prop.pick(ARRAY['call', 'email', 'meeting', 'lead_converted']),
                      c.night - interval '1 hour', c.night + interval '1 hour')
        END;

    ELSIF u < 0.65 THEN
        id := prop.rand_activity();
        IF id IS NULL THEN
            RETURN 'SELECT 1';
        END IF;
        RETURN format('DELETE FROM salesperf.activity WHERE activity_id = %s', id);

    ELSIF u < 0.67 THEN
        RETURN CASE prop.ri(1, 3)
          WHEN 1 THEN format('DELETE FROM salesperf.activity WHERE activity_id %% %s = %s', prop.ri(6, 15), prop.ri(0, 5))
          WHEN 2 THEN format('DELETE FROM salesperf.activity WHERE rep_id = %s AND occurred_at >= %L',
                             prop.ri(1, 12), prop.rand_time())
          ELSE format('DELETE FROM salesperf.activity WHERE kind = %L AND activity_id %% 3 = 0', prop.pick(kinds))
        END;

    ELSIF u < 0.75 THEN
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
        IF last IS NULL THEN
            t := COALESCE(t, prop.rand_time());
        ELSIF t IS NULL OR t < last THEN
            t := CASE WHEN random() < 0.2 OR last >= (c.first_day + c.days)::timestamp AT TIME ZONE tz THEN last
                      ELSE last + random() * (((c.first_day + c.days)::timestamp AT TIME ZONE tz) - last) END;
        END IF;
        RETURN format('SELECT salesperf.assign(%s, %s, %L)', r, COALESCE(prop.rand_unit(), 100), t);

    ELSIF u < 0.77 THEN
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

    ELSIF u < 0.84 THEN
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

    ELSIF u < 0.865 THEN
        RETURN CASE prop.ri(1, 5)
          WHEN 5 THEN format('INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) '
                             'SELECT max(unit_id) + 1, %s, ''New team'', ''team'' FROM salesperf.unit',
                             prop.pick(ARRAY['10', '11', '12']))
          WHEN 1 THEN 'UPDATE salesperf.unit SET parent_id = CASE parent_id WHEN 10 THEN 11 ELSE 10 END WHERE unit_id = 101'
          WHEN 2 THEN 'UPDATE salesperf.unit SET parent_id = CASE parent_id WHEN 11 THEN 10 ELSE 11 END WHERE unit_id = 12'
          WHEN 3 THEN 'UPDATE salesperf.unit SET kind = CASE kind WHEN ''team'' THEN ''pod'' ELSE ''team'' END WHERE unit_id = 121'
          ELSE format('UPDATE salesperf.rep SET active = NOT active WHERE rep_id = %s', prop.ri(1, 12))
        END;

    ELSIF u < 0.895 THEN
        -- KPI edits: the direction of a ranked KPI, the kind of a custom one
        -- (touches is also the numerator of touches_per_call).
        IF random() < 0.5 THEN
            RETURN format('UPDATE salesperf.kpi SET higher_is_better = NOT higher_is_better WHERE name = %L',
                          prop.pick(prop.kpis()));
        END IF;
        RETURN format('UPDATE salesperf.kpi SET kind = %L WHERE name = %L',
                      prop.pick(ARRAY['call', 'email', 'meeting', 'deal_won', 'lead_created', 'bonus']),
                      prop.pick(prop.custom_kpis()));

    ELSIF u < 0.925 THEN
        -- Leaderboard edits: period, metric, scope, or all three at once.
        k := (SELECT b.name FROM salesperf.leaderboard b ORDER BY b.board_id
              OFFSET prop.ri(0, 9) LIMIT 1);
        RETURN format('UPDATE salesperf.leaderboard SET %s WHERE name = %L',
            CASE prop.ri(1, 4)
              WHEN 1 THEN format('period = %L', prop.pick(ARRAY['day', 'week', 'month', 'quarter', 'year', 'all']))
              WHEN 2 THEN format('metric = %L', prop.pick(prop.kpis()))
              WHEN 3 THEN format('unit_scope = %s', prop.pick(ARRAY['NULL', '1', '10', '11', '12', '101']))
              ELSE format('period = %L, metric = %L, unit_scope = %s',
                          prop.pick(ARRAY['day', 'week', 'month', 'quarter', 'year', 'all']),
                          prop.pick(prop.kpis()), prop.pick(ARRAY['NULL', '10', '11', '12']))
            END, k);

    ELSIF u < 0.95 THEN
        -- Configuration: the seed's own zone or another, a week starting
        -- another day; through configure() or written directly.
        k := CASE WHEN random() < 0.5 THEN c.home_tz ELSE prop.pick(zones) END;
        RETURN CASE prop.ri(1, 6)
          WHEN 1 THEN format('UPDATE salesperf.configuration SET time_zone = %L', k)
          WHEN 2 THEN format('UPDATE salesperf.configuration SET week_start = %s', prop.ri(1, 7))
          WHEN 3 THEN format('UPDATE salesperf.configuration SET time_zone = %L, week_start = %s', k, prop.ri(1, 7))
          WHEN 4 THEN format('SELECT salesperf.configure(time_zone => %L)', k)
          WHEN 5 THEN format('SELECT salesperf.configure(week_start => %s)', prop.ri(1, 7))
          ELSE 'UPDATE salesperf.configuration SET time_zone = NULL, week_start = NULL'
        END;

    END IF;
    -- Statements that must fail and change nothing.
    RETURN E'-- must fail\n' || CASE prop.ri(1, 7)
      WHEN 1 THEN format('INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at) '
                         'SELECT CASE WHEN g = 30 THEN 999 ELSE 1 + g %% 12 END, ''call'', g, %L FROM generate_series(1, 60) g',
                         prop.rand_time())
      WHEN 2 THEN format('INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at) '
                         'SELECT 1 + g %% 12, ''email'', CASE WHEN g = 7 THEN -1 ELSE 1 END, %L FROM generate_series(1, 20) g',
                         prop.rand_time())
      WHEN 3 THEN 'UPDATE salesperf.activity SET kind = ''no_such_kind'' WHERE activity_id % 5 = 0'
      WHEN 4 THEN format('SELECT salesperf.configure(time_zone => %L, week_start => 2)', 'Mars/Olympus_Mons')
      WHEN 5 THEN 'UPDATE salesperf.kpi SET kind = ''no_such_kind'' WHERE name = ''touches'''
      WHEN 6 THEN 'UPDATE salesperf.leaderboard SET metric = ''no_such_kpi'' WHERE name = ''pts_month'''
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
    re_badge    text[];
    d_badge     bigint;
    first_badge text;
BEGIN
    BEGIN
        PERFORM salesperf.recompute();
        -- Badge awards are history: recompute() must find none missing and
        -- revoke none, so the (badge, rep, period, contest) sets match.
        re_badge := ARRAY(SELECT format('%s/%s/%s/%s', b.badge_id, b.rep_id, b.period_start, b.contest_id)
                            FROM salesperf.badge_award b);
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
    SELECT count(*), min(x.line) INTO d_badge, first_badge
      FROM (SELECT 'maintained badge award ' || d AS line
              FROM (SELECT format('%s/%s/%s/%s', b.badge_id, b.rep_id, b.period_start, b.contest_id)
                      FROM salesperf.badge_award b
                    EXCEPT ALL SELECT unnest(re_badge)) x(d)
            UNION ALL
            SELECT 'recomputed badge award ' || d
              FROM (SELECT unnest(re_badge)
                    EXCEPT ALL
                    SELECT format('%s/%s/%s/%s', b.badge_id, b.rep_id, b.period_start, b.contest_id)
                      FROM salesperf.badge_award b) y(d)) x;
    d_award := d_award + d_badge;
    first_award := COALESCE(first_award, first_badge);
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
-- The oracle reads the ledger, the rules, the memberships, the unit tree and
-- the public KPI and board definitions; periods are computed from local
-- dates here (gregorian calendar, fiscal year from January: the mix never
-- changes those), never with the extension's calendar functions.

-- The first local date of the period holding local date d.
CREATE FUNCTION prop.pkey(d date, period text, week_start integer) RETURNS date
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE period
           WHEN 'day' THEN d
           WHEN 'week' THEN d - ((extract(isodow FROM d)::integer - week_start + 7) % 7)
           WHEN 'month' THEN date_trunc('month', d::timestamp)::date
           WHEN 'quarter' THEN date_trunc('quarter', d::timestamp)::date
           WHEN 'year' THEN date_trunc('year', d::timestamp)::date
           ELSE date '1900-01-01'
         END
$$;

-- Points of every activity, straight from SPEC §6: every active rule of its
-- kind valid at occurred_at, capped per rep, local day and rule in order of
-- (occurred_at, activity_id); bonus earns its amount.  Unit: membership at
-- occurred_at.  Day: the local date in the configured time zone.
CREATE FUNCTION prop.oracle_activity()
RETURNS TABLE (activity_id bigint, rep_id bigint, unit_id bigint, kind text, amount numeric,
               occurred_at timestamptz, day date, points numeric)
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
  SELECT a.activity_id, a.rep_id, m.unit_id, a.kind, a.amount, a.occurred_at, a.day,
         COALESCE(e.points, 0) + CASE WHEN a.kind = 'bonus' THEN a.amount ELSE 0 END
    FROM a
    LEFT JOIN earned e ON e.activity_id = a.activity_id
    LEFT JOIN salesperf.membership m ON m.rep_id = a.rep_id AND m.during @> a.occurred_at
$$;

-- Each KPI as numerator and optional denominator, from its public
-- definition (SPEC §6): count/sum of a kind, points (of every kind, or of
-- one), avg = sum ÷ count of its kind, ratio = numerator KPI ÷ denominator
-- KPI as those are defined now.
CREATE FUNCTION prop.kpi_parts()
RETURNS TABLE (kpi text, num_kind text, num_measure text, den_kind text, den_measure text, direction integer)
LANGUAGE sql STABLE AS $$
  SELECT k.name,
         CASE WHEN k.measure = 'ratio' THEN n.kind ELSE k.kind END,
         CASE k.measure WHEN 'ratio' THEN n.measure WHEN 'avg' THEN 'sum' ELSE k.measure END,
         CASE k.measure WHEN 'ratio' THEN d.kind WHEN 'avg' THEN k.kind END,
         CASE k.measure WHEN 'ratio' THEN d.measure WHEN 'avg' THEN 'count' END,
         CASE WHEN k.higher_is_better THEN 1 ELSE -1 END
    FROM salesperf.kpi k
    LEFT JOIN salesperf.kpi n ON n.name = k.numerator
    LEFT JOIN salesperf.kpi d ON d.name = k.denominator
$$;

-- What activities of one kind (cnt of them, amounts summing to amt, points
-- to pts) add to a part, and the last time one of them changed it (any
-- activity for a count, a non-zero amount for a sum, non-zero points).
CREATE FUNCTION prop.part(part_kind text, measure text, kind text, cnt bigint, amt numeric, pts numeric)
RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN measure IS NULL THEN NULL
              WHEN part_kind IS NOT NULL AND part_kind <> kind THEN 0
              WHEN measure = 'count' THEN cnt::numeric
              WHEN measure = 'sum' THEN amt
              ELSE pts END
$$;

CREATE FUNCTION prop.part_at(part_kind text, measure text, kind text,
                             last_at timestamptz, last_amount_at timestamptz, last_point_at timestamptz)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN measure IS NULL OR (part_kind IS NOT NULL AND part_kind <> kind) THEN NULL
              WHEN measure = 'count' THEN last_at
              WHEN measure = 'sum' THEN last_amount_at
              ELSE last_point_at END
$$;

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
-- and zero denominators NULL, a ratio is Σ numerator ÷ Σ denominator; a
-- unit is its whole subtree).
CREATE FUNCTION prop.kpi_oracle(ats timestamptz[])
RETURNS TABLE (kpi text, scope text, scope_id bigint, period text, at timestamptz, value numeric)
LANGUAGE sql STABLE AS $$
  WITH s AS (SELECT * FROM salesperf.settings),
  a AS MATERIALIZED (SELECT * FROM prop.oracle_activity()),
  e AS (
      SELECT 'rep' AS scope, a.rep_id AS scope_id, a.* FROM a
      UNION ALL
      SELECT 'unit', t.ancestor_id, a.* FROM a JOIN salesperf.unit_tree t ON t.descendant_id = a.unit_id
      UNION ALL
      SELECT 'company', 0, a.* FROM a),
  q AS MATERIALIZED (
      SELECT sc.scope, sc.scope_id, p, t, prop.pkey((t AT TIME ZONE s.time_zone)::date, p, s.week_start) AS key
        FROM prop.scopes() sc, unnest(ats) t, unnest(ARRAY['day', 'week', 'month', 'quarter', 'all']) p, s),
  g AS (
      SELECT q.scope, q.scope_id, q.p, q.t, e.kind,
             count(*) AS cnt, sum(e.amount) AS amt, sum(e.points) AS pts
        FROM q CROSS JOIN s
        JOIN e ON e.scope = q.scope AND e.scope_id = q.scope_id
       WHERE prop.pkey(e.day, q.p, s.week_start) = q.key
       GROUP BY q.scope, q.scope_id, q.p, q.t, e.kind),
  k AS (SELECT * FROM prop.kpi_parts() x WHERE x.kpi = ANY (prop.kpis()))
  SELECT k.kpi, q.scope, q.scope_id, q.p, q.t,
         CASE WHEN k.den_measure IS NULL
              THEN COALESCE(sum(prop.part(k.num_kind, k.num_measure, g.kind, g.cnt, g.amt, g.pts)), 0)
              ELSE sum(prop.part(k.num_kind, k.num_measure, g.kind, g.cnt, g.amt, g.pts))
                   / NULLIF(sum(prop.part(k.den_kind, k.den_measure, g.kind, g.cnt, g.amt, g.pts)), 0)
         END
    FROM q CROSS JOIN k
    LEFT JOIN g ON (g.scope, g.scope_id, g.p, g.t) = (q.scope, q.scope_id, q.p, q.t)
   GROUP BY k.kpi, k.den_measure, q.scope, q.scope_id, q.p, q.t
$$;

CREATE FUNCTION prop.kpi_check(ats timestamptz[], OUT failures bigint, OUT first text)
LANGUAGE sql STABLE AS $$
  SELECT count(*), min(format('%s %s %s %s at %s: kpi_value %s, ledger %s',
                              g.kpi, g.scope, g.scope_id, g.period, g.at, g.value, o.value))
    FROM prop.kpi_grid(ats) g
    FULL JOIN prop.kpi_oracle(ats) o USING (kpi, scope, scope_id, period, at)
   WHERE round(g.value, 10) IS DISTINCT FROM round(o.value, 10)
$$;

-- Every board against the ledger: each participant leaderboard_top lists
-- has the oracle's score, rank (1, 2, 2, 4; lower-is-better metrics
-- reversed, undefined ratios last) and place (ties: who reached the score
-- first, never-scored first, then the lower id); every active rep whose
-- activities moved the score, and every unit of the board's kind in its
-- scope, is listed; nobody inactive is; and the short top (index fast path)
-- is the head of the full one.
CREATE FUNCTION prop.board_check(ats timestamptz[], OUT failures bigint, OUT first text)
LANGUAGE sql STABLE AS $$
  WITH s AS (SELECT * FROM salesperf.settings),
  a AS MATERIALIZED (SELECT * FROM prop.oracle_activity()),
  bt AS MATERIALIZED (
      SELECT b.board_id, b.name, b.participant, b.unit_scope, b.unit_kind, b.period, t,
             prop.pkey((t AT TIME ZONE s.time_zone)::date, b.period, s.week_start) AS key,
             k.num_kind, k.num_measure, k.den_kind, k.den_measure, k.direction,
             (SELECT x.unit FROM salesperf.kpi x WHERE x.name = b.metric) AS kpi_unit, s.currency_scale
        FROM salesperf.leaderboard b
        JOIN prop.kpi_parts() k ON k.kpi = b.metric
       CROSS JOIN s CROSS JOIN unnest(ats) t),
  -- The participants of unit boards: units of the kind under the scope.
  bu AS (
      SELECT bt.board_id, bt.t, u.unit_id
        FROM bt JOIN salesperf.unit u ON u.kind = bt.unit_kind
       WHERE bt.participant = 'unit'
         AND (bt.unit_scope IS NULL OR EXISTS (
              SELECT 1 FROM salesperf.unit_tree sc
               WHERE sc.ancestor_id = bt.unit_scope AND sc.descendant_id = u.unit_id))),
  credited AS (
      SELECT bt.board_id, bt.t, a.rep_id AS participant_id, a.kind, a.amount, a.points, a.occurred_at
        FROM bt CROSS JOIN s
        JOIN a ON prop.pkey(a.day, bt.period, s.week_start) = bt.key
       WHERE bt.participant = 'rep'
         AND (bt.unit_scope IS NULL OR EXISTS (
              SELECT 1 FROM salesperf.unit_tree sc
               WHERE sc.ancestor_id = bt.unit_scope AND sc.descendant_id = a.unit_id))
      UNION ALL
      SELECT bt.board_id, bt.t, bu.unit_id, a.kind, a.amount, a.points, a.occurred_at
        FROM bt CROSS JOIN s
        JOIN bu ON bu.board_id = bt.board_id AND bu.t = bt.t
        JOIN salesperf.unit_tree ut ON ut.ancestor_id = bu.unit_id
        JOIN a ON a.unit_id = ut.descendant_id AND prop.pkey(a.day, bt.period, s.week_start) = bt.key),
  per_kind AS (
      SELECT c.board_id, c.t, c.participant_id, c.kind,
             count(*) AS cnt, sum(c.amount) AS amt, sum(c.points) AS pts,
             max(c.occurred_at) AS last_at,
             max(c.occurred_at) FILTER (WHERE c.amount <> 0) AS last_amount_at,
             max(c.occurred_at) FILTER (WHERE c.points <> 0) AS last_point_at
        FROM credited c
       GROUP BY c.board_id, c.t, c.participant_id, c.kind),
  scored AS (
      SELECT bt.board_id, bt.t, p.participant_id,
             CASE WHEN bt.den_measure IS NULL
                  THEN sum(prop.part(bt.num_kind, bt.num_measure, p.kind, p.cnt, p.amt, p.pts))
                  ELSE sum(prop.part(bt.num_kind, bt.num_measure, p.kind, p.cnt, p.amt, p.pts))
                       / NULLIF(sum(prop.part(bt.den_kind, bt.den_measure, p.kind, p.cnt, p.amt, p.pts)), 0)
             END AS score,
             max(GREATEST(prop.part_at(bt.num_kind, bt.num_measure, p.kind, p.last_at, p.last_amount_at, p.last_point_at),
                          prop.part_at(bt.den_kind, bt.den_measure, p.kind, p.last_at, p.last_amount_at, p.last_point_at)))
               AS reached_at
        FROM bt JOIN per_kind p ON p.board_id = bt.board_id AND p.t = bt.t
       GROUP BY bt.board_id, bt.t, bt.den_measure, p.participant_id),
  top AS (
      SELECT bt.board_id, bt.name, bt.t, bt.participant, x.*
        FROM bt, LATERAL salesperf.leaderboard_top(bt.name, 100, bt.t) WITH ORDINALITY
               x(rank, participant_id, pname, score, previous_rank, movement, place)),
  expected AS (
      SELECT y.*,
             rank() OVER (PARTITION BY y.board_id, y.t ORDER BY y.sort_score DESC NULLS LAST) AS rank,
             row_number() OVER (PARTITION BY y.board_id, y.t
                                ORDER BY y.sort_score DESC NULLS LAST, y.reached_at NULLS FIRST, y.participant_id) AS place
        FROM (SELECT top.board_id, top.name, top.t, top.participant_id, sc.reached_at,
                     -- shown as README says: money at the currency scale,
                     -- ratios and averages to four decimals, the rest exact
                     CASE WHEN bt.kpi_unit = 'currency' THEN round(z.score, bt.currency_scale)
                          WHEN bt.den_measure IS NOT NULL THEN round(z.score, 4)
                          ELSE z.score END AS score,
                     bt.direction * z.score AS sort_score
                FROM top
                JOIN bt ON bt.board_id = top.board_id AND bt.t = top.t
                LEFT JOIN scored sc
                  ON sc.board_id = top.board_id AND sc.t = top.t AND sc.participant_id = top.participant_id
               CROSS JOIN LATERAL (SELECT COALESCE(sc.score, CASE WHEN bt.den_measure IS NULL THEN 0 END) AS score) z) y),
  bad AS (
      (SELECT 'board ' || x::text AS line FROM
         (SELECT name, t, place, rank, participant_id, round(score, 12) FROM top
          EXCEPT ALL
          SELECT name, t, place, rank, participant_id, round(score, 12) FROM expected) x)
      UNION ALL
      (SELECT 'oracle ' || x::text FROM
         (SELECT name, t, place, rank, participant_id, round(score, 12) FROM expected
          EXCEPT ALL
          SELECT name, t, place, rank, participant_id, round(score, 12) FROM top) x)
      UNION ALL
      SELECT format('missing on %s at %s: %s scores %s', bt.name, sc.t, sc.participant_id, sc.score)
        FROM scored sc JOIN bt ON bt.board_id = sc.board_id AND bt.t = sc.t
       WHERE sc.reached_at IS NOT NULL AND bt.participant = 'rep'
         AND EXISTS (SELECT 1 FROM salesperf.rep r WHERE r.rep_id = sc.participant_id AND r.active)
         AND NOT EXISTS (SELECT 1 FROM top
                          WHERE (top.board_id, top.t, top.participant_id) = (sc.board_id, sc.t, sc.participant_id))
      UNION ALL
      SELECT format('missing on %s at %s: unit %s', bt.name, bu.t, bu.unit_id)
        FROM bu JOIN bt ON bt.board_id = bu.board_id AND bt.t = bu.t
       WHERE NOT EXISTS (SELECT 1 FROM top
                          WHERE (top.board_id, top.t, top.participant_id) = (bu.board_id, bu.t, bu.unit_id))
      UNION ALL
      SELECT format('listed on %s at %s but not a participant: %s', top.name, top.t, top.participant_id)
        FROM top
       WHERE CASE WHEN top.participant = 'rep'
                  THEN NOT EXISTS (SELECT 1 FROM salesperf.rep r WHERE r.rep_id = top.participant_id AND r.active)
                  ELSE NOT EXISTS (SELECT 1 FROM bu WHERE (bu.board_id, bu.t, bu.unit_id) = (top.board_id, top.t, top.participant_id))
             END
      UNION ALL
      (SELECT 'fast path ' || x::text FROM
         (SELECT bt.name, bt.t, f.* FROM bt, LATERAL salesperf.leaderboard_top(bt.name, 3, bt.t) WITH ORDINALITY f
          EXCEPT ALL
          SELECT top.name, top.t, top.rank, top.participant_id, top.pname, top.score, top.previous_rank,
                 top.movement, top.place
            FROM top WHERE top.place <= 3) x))
  SELECT count(*), min(line) FROM bad
$$;

-- period_start/period_end around every activity's moment and the read
-- moments: the day, week and month that hold its local date, starting at the
-- first local moment of that date (SPEC §3).
CREATE FUNCTION prop.period_check(ats timestamptz[], OUT failures bigint, OUT first text)
LANGUAGE sql STABLE AS $$
  WITH s AS (SELECT * FROM salesperf.settings),
  m AS (SELECT a.occurred_at AS t FROM salesperf.activity a UNION SELECT unnest(ats)),
  x AS (
      SELECT m.t, p, salesperf.period_start(m.t, p) AS ps, salesperf.period_end(m.t, p) AS pe,
             prop.pkey((m.t AT TIME ZONE s.time_zone)::date, p, s.week_start) AS key
        FROM m, unnest(ARRAY['day', 'week', 'month']) p, s)
  SELECT count(*), min(format('%s holding %s (local %s %s): [%s, %s)',
                              x.p, x.t, x.t AT TIME ZONE s.time_zone, s.time_zone, x.ps, x.pe))
    FROM x, s
   WHERE NOT (x.ps <= x.t AND x.t < x.pe
              AND prop.pkey((x.ps AT TIME ZONE s.time_zone)::date, x.p, s.week_start) = x.key
              AND prop.pkey(((x.ps - interval '1 microsecond') AT TIME ZONE s.time_zone)::date, x.p, s.week_start) < x.key
              AND prop.pkey(((x.pe - interval '1 microsecond') AT TIME ZONE s.time_zone)::date, x.p, s.week_start) = x.key
              AND prop.pkey((x.pe AT TIME ZONE s.time_zone)::date, x.p, s.week_start) > x.key)
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
      SELECT format('kpi %s', g::text) FROM prop.kpi_grid(ats[2:2]) g
      UNION ALL
      SELECT format('contest %s: %s', k.name, f::text)
        FROM salesperf.contest k, LATERAL salesperf.contest_standings(k.name) f
      UNION ALL
      SELECT format('frozen %s', x::text) FROM salesperf.contest_result x
      UNION ALL
      SELECT format('target at %s: %s', t, p::text)
        FROM unnest(ats) t, LATERAL salesperf.target_progress_at(t) p)
$$;

-- ----------------------------------------------------------------- driver
-- A seed runs `batches` random batches and then a last one that writes its
-- own time zone back into salesperf.configuration; the operations of a seed
-- depend only on the seed.
CREATE FUNCTION prop.run_seed(seed integer, tz text, first_day date, night timestamptz, batches integer)
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
    n_rows     bigint;
    errors     bigint := 0;
    first_err  text;
    d_award    bigint := 0;
    d_counter  bigint := 0;
    d_standing bigint := 0;
    f_award    text;
    f_counter  text;
    f_standing text;
    period_bad bigint;
    period_first text;
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
        -- Ids as in a run of this seed alone.
        PERFORM setval(pg_get_serial_sequence('salesperf.activity', 'activity_id'), 1, false);
        PERFORM setval(pg_get_serial_sequence('salesperf.point_rule', 'rule_id'), 1, false);
        PERFORM setval(pg_get_serial_sequence('salesperf.leaderboard', 'board_id'), 1, false);
        DELETE FROM prop.ctx;
        INSERT INTO prop.ctx VALUES (tz, first_day, 98, night);
        PERFORM salesperf.configure(time_zone => tz, week_start => 1);
        PERFORM prop.build_company();
        FOR b IN 1..batches + 1 LOOP
            n_batches := b;
            ops := '{}';
            -- Each operation is generated against the state the previous one left.
            FOR o IN 1..CASE WHEN b > batches THEN 1 ELSE prop.ri(1, 14) END LOOP
                op := CASE WHEN b > batches THEN format('UPDATE salesperf.configuration SET time_zone = %L', tz)
                           ELSE prop.gen_op() END;
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
                    -- A kind or rep change may meet another row's idempotency key,
                    -- a new activity_id another row's id (never a derived table's key).
                    IF NOT must_fail
                       AND NOT (SQLSTATE = '23505' AND op LIKE 'UPDATE salesperf.activity %'
                                AND SQLERRM ~ '"activity_(source_key_idx|pkey)"') THEN
                        errors := errors + 1;
                        first_err := COALESCE(first_err, format('batch %s: %s: %s (%s)', b, op, SQLERRM, SQLSTATE));
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

        -- Read moments: half an hour either side of the clock change (the
        -- first and second pass of a repeated hour, or both sides of a
        -- skipped one) and the last minute of the window's last full month.
        ats := ARRAY[night - interval '30 minutes', night + interval '30 minutes',
                     prop.day_start(date_trunc('month', first_day + 97)::date, tz) - interval '1 minute'];
        SELECT k.failures, 'at the end of the seed: ' || k.first INTO period_bad, period_first FROM prop.period_check(ats) k;
        SELECT k.failures, 'at the end of the seed: ' || k.first INTO kpi_bad, kpi_first FROM prop.kpi_check(ats) k;
        SELECT k.failures, 'at the end of the seed: ' || k.first INTO board_bad, board_first FROM prop.board_check(ats) k;

        -- Freeze the contest that has ended: its results must survive the
        -- recompute() below unchanged, like every other read.
        PERFORM salesperf.finalize_contests(prop.day_start(first_day + 35, tz));
        before := prop.reads(ats);
        PERFORM salesperf.recompute();
        after := prop.reads(ats);
        SELECT count(*), 'at the end of the seed: ' || min(x.line) INTO reads_bad, reads_first
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
            first_err := format('seed aborted in batch %s after %s operations: %s (%s)', n_batches, n_ops, SQLERRM, SQLSTATE);
    END;

    RETURN QUERY VALUES
        (format('%s operations in %s batches, %s activities at the end: no unexpected errors', n_ops, n_batches, n_rows),
         errors, first_err),
        ('capped_award equals recompute() after every batch', d_award, f_award),
        ('kpi_counter equals recompute() after every batch', d_counter, f_counter),
        ('standing equals recompute() after every batch', d_standing, f_standing),
        ('period_start/period_end bound local days, weeks and months', period_bad, period_first),
        ('kpi_value agrees with the ledger', kpi_bad, kpi_first),
        ('leaderboard_top agrees with the ledger on every board', board_bad, board_first),
        ('leaderboard_top, leaderboard_rank and kpi_value read the same after recompute()', reads_bad, reads_first);
END
$$;

-- -------------------------------------------------------------- seed runs
SELECT is(r.failures, 0::bigint,
          format('seed %s (%s): %s%s', s.seed, s.tz, r.check_name,
                 CASE WHEN r.failures <> 0 THEN ' -- ' || left(regexp_replace(r.detail, '\s+', ' ', 'g'), 1500) ELSE '' END))
  FROM prop.seeds s
 CROSS JOIN LATERAL prop.run_seed(s.seed, s.tz, s.first_day, s.night, s.batches) r;

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
