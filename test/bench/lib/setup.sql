-- A benchmark company: :reps reps in :teams teams under four regions, the
-- point rules and leaderboards of a typical installation, a generator of
-- activities, and bench.plain_activity, the honest alternative to the
-- ledger: the same columns, defaults and indexes, no triggers.
--
--   psql -v reps=1000 -v teams=50 -f test/bench/lib/setup.sql
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS salesperf;
CREATE SCHEMA bench;

INSERT INTO salesperf.rep (rep_id, name)
SELECT r, 'Rep ' || r FROM generate_series(1, :reps) r;

INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES (1, NULL, 'Company', 'company');
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind)
SELECT 10 + g, 1, 'Region ' || g, 'region' FROM generate_series(1, 4) g;
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind)
SELECT 1000 + t, 11 + (t - 1) % 4, 'Team ' || t, 'team' FROM generate_series(1, :teams) t;

-- Reps 1..k are team 1, k+1..2k team 2, ... (k = reps / teams, rounded up).
INSERT INTO salesperf.membership (rep_id, unit_id, during)
SELECT r, 1001 + (r - 1) / ceil(:reps::numeric / :teams)::bigint,
       tstzrange('2020-01-01 00:00+00', NULL, '[)')
  FROM generate_series(1, :reps) r;

INSERT INTO salesperf.point_rule (name, kind, points, points_per_amount, daily_cap) VALUES
    ('call made',      'call',            1,     0,  NULL),
    ('time on calls',  'call',            0,  0.01,    20),   -- 1 point per 100 s, at most 20 a day
    ('email sent',     'email',         0.5,     0,  NULL),
    ('meeting held',   'meeting',         5,     0,  NULL),
    ('visit made',     'visit',           8,     0,  NULL),
    ('lead converted', 'lead_converted', 10,     0,  NULL),
    ('deal won',       'deal_won',       50, 0.001,  NULL);

SELECT salesperf.create_leaderboard('points_month');
SELECT salesperf.create_leaderboard('calls_week', metric => 'calls', period => 'week');
SELECT salesperf.create_leaderboard('team_revenue_month', metric => 'revenue', participant => 'unit',
                                    unit_kind => 'team');
SELECT salesperf.create_leaderboard('conversion_quarter', metric => 'conversion_rate', period => 'quarter');

-- A badge rule rides on every write (SPEC §8): twenty calls in a day.
INSERT INTO salesperf.badge (name, tier) VALUES ('Twenty calls', 'bronze');
INSERT INTO salesperf.badge_rule (badge, metric, threshold, period) VALUES ('Twenty calls', 'calls', 20, 'day');
-- And a running contest (its standings are computed when read: nothing
-- rides on the write path).
SELECT salesperf.create_contest('bench sprint', 'points', now() - interval '7 days', now() + interval '7 days');

-- Activities number first_id..last_id: a CRM's mix of kinds, uniform over
-- reps 1..reps and over [t0, t1), each with a CRM idempotency key.  A
-- fraction back_dated of them is entered late: dated uniformly over the 30
-- days before t0, where the ledger usually holds earlier rows already (a
-- capped rule then re-derives the row's day).
CREATE FUNCTION bench.activities(first_id bigint, last_id bigint, reps integer,
                                 t0 timestamptz, t1 timestamptz,
                                 back_dated float8 DEFAULT 0)
RETURNS TABLE (rep_id bigint, kind text, amount numeric, occurred_at timestamptz,
               source text, source_key text)
LANGUAGE sql VOLATILE
AS $$
  SELECT 1 + floor(x.r * reps)::bigint,
         k.kind,
         CASE k.kind WHEN 'call' THEN 30 + floor(x.a * 900)
                     WHEN 'deal_won' THEN round((1000 + x.a * 49000)::numeric, 2)
                     WHEN 'deal_lost' THEN round((1000 + x.a * 49000)::numeric, 2)
                     WHEN 'bonus' THEN 10
                     ELSE 1 END,
         CASE WHEN x.b < back_dated THEN t0 - x.t * interval '30 days'
              ELSE t0 + x.t * (t1 - t0) END,
         'crm',
         'a' || x.g
    FROM (SELECT g, random() AS r, random() AS k, random() AS a, random() AS t, random() AS b
            FROM generate_series(first_id, last_id) g) x
   CROSS JOIN LATERAL (
         SELECT CASE WHEN x.k < 0.40 THEN 'call'
                     WHEN x.k < 0.65 THEN 'email'
                     WHEN x.k < 0.75 THEN 'message'
                     WHEN x.k < 0.83 THEN 'meeting'
                     WHEN x.k < 0.89 THEN 'lead_created'
                     WHEN x.k < 0.92 THEN 'lead_converted'
                     WHEN x.k < 0.95 THEN 'visit'
                     WHEN x.k < 0.98 THEN 'deal_won'
                     WHEN x.k < 0.99 THEN 'deal_lost'
                     ELSE 'bonus' END AS kind) k
$$;

CREATE TABLE bench.plain_activity (LIKE salesperf.activity INCLUDING ALL);

-- Median of a set of timings.
CREATE FUNCTION bench.median(float8[]) RETURNS float8
LANGUAGE sql IMMUTABLE
AS $$ SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v) FROM unnest($1) v $$;

-- Milliseconds of each of `runs` executions of `sql`; $1 in it is the run
-- number (1..runs), for varying the argument.  Results are discarded.
CREATE FUNCTION bench.timings(sql text, runs integer)
RETURNS float8[]
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    t0 timestamptz;
    ms float8[] := '{}';
BEGIN
    FOR i IN 1 .. runs LOOP
        t0 := clock_timestamp();
        EXECUTE sql USING i;
        ms := ms || (extract(epoch FROM clock_timestamp() - t0) * 1000)::float8;
    END LOOP;
    RETURN ms;
END
$$;
