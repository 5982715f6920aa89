-- Demo company for `make demo`: Acme Corp, two regions, four teams, 24 reps,
-- and every activity they recorded from the start of last quarter until a
-- few minutes ago.
--
-- The whole history is laid out backwards from the demo's moment: now(),
-- or the moment given in the psql variable demo_now (DEMO_NOW='2027-03-01
-- 00:03' make demo; read in Europe/Paris time).  Office work happens on
-- working days in each team's own time zone, and whatever the hour, every
-- rep also logged a little in the last forty minutes (calls and e-mails
-- from the CRM's phone app, a lead, now and then a deal), never before
-- today's local midnight: so today, this week, this month and last month
-- always have work in them, even at 00:03 on Monday 1 March.
--
-- Deterministic in shape: every "random" number is demo.noise() of a key
-- (rep, kind, days before today, ...), an md5 hash, never random().
\set ON_ERROR_STOP 1
SET timezone = 'Europe/Paris';
\if :{?demo_now}
\else
\set demo_now ''
\endif

CREATE EXTENSION salesperf;
SELECT salesperf.configure(time_zone => 'Europe/Paris', currency => 'EUR');

-- The demo's own helpers (not part of salesperf): its clock, a hash in
-- [0, 1), and how the pages print movement and points.
CREATE SCHEMA demo;
COMMENT ON SCHEMA demo IS 'Helpers of the salesperf demo: its clock and display functions.';
CREATE TABLE demo.clock (
    at             timestamptz NOT NULL,
    fixed          boolean NOT NULL,
    history_start  timestamptz,
    elise_moved_on date
);
COMMENT ON TABLE demo.clock IS 'The moment the demo history was generated up to, whether it was given (demo_now) or now(), when the history starts, and the day Elise Moreau changed teams.';
INSERT INTO demo.clock (at, fixed)
SELECT COALESCE(NULLIF(:'demo_now', '')::timestamptz, now()), NULLIF(:'demo_now', '') IS NOT NULL;

CREATE FUNCTION demo.noise(key text) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT ('x' || substr(md5(key), 1, 8))::bit(32)::bigint / 4294967296.0 $$;
COMMENT ON FUNCTION demo.noise(text) IS 'A number in [0, 1) fixed by key: the demo''s deterministic dice.';

CREATE FUNCTION demo.arrow(movement integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE WHEN movement IS NULL THEN 'new'
              WHEN movement > 0 THEN '▲ ' || movement
              WHEN movement < 0 THEN '▼ ' || -movement
              ELSE '–' END
$$;
COMMENT ON FUNCTION demo.arrow(integer) IS 'A leaderboard movement as a TV screen shows it: ▲ climbed, ▼ fell, – held, new (not ranked last period).';

CREATE FUNCTION demo.points(score numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT trim_scale(round(score, 2)) $$;
COMMENT ON FUNCTION demo.points(numeric) IS 'Points as people read them: at most two decimals, no trailing zeros.';

-- The history starts with last quarter, so every board (week, month,
-- quarter) has a previous period to compare with.
UPDATE demo.clock c
   SET history_start = salesperf.period_start(salesperf.period_start(c.at, 'quarter') - interval '1 microsecond', 'quarter');

-- The demo's calendar, as psql variables.
SELECT c.at AS now_at,
       (c.at AT TIME ZONE 'Europe/Paris')::date AS today,
       salesperf.period_start(c.at, 'day') AS day_start,
       salesperf.period_start(salesperf.period_start(c.at, 'month') - interval '1 microsecond', 'month') AS prev_month_start,
       c.history_start
  FROM demo.clock c
\gset

INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES
  (1,  NULL, 'Acme Corp', 'company'),
  (10, 1,    'EMEA',      'region'),
  (20, 1,    'Americas',  'region'),
  (11, 10,   'Paris',     'team'),
  (12, 10,   'Berlin',    'team'),
  (21, 20,   'New York',  'team'),
  (22, 20,   'São Paulo', 'team');

INSERT INTO salesperf.rep (rep_id, name, external_ref)
SELECT id, name, lower(replace(name, ' ', '.')) || '@acme.example'
  FROM unnest(ARRAY[
    'Amélie Roux', 'Bastien Leroy', 'Chloé Martin', 'Damien Petit', 'Elise Moreau', 'Farid Haddad',
    'Greta Vogel', 'Hannes Braun', 'Ines Keller', 'Jonas Wolf', 'Klara Schmidt', 'Lukas Becker',
    'Maya Johnson', 'Noah Williams', 'Olivia Brown', 'Peter Davis', 'Quinn Miller', 'Rosa Garcia',
    'Sofia Almeida', 'Tiago Costa', 'Ursula Lima', 'Vitor Souza', 'Wanda Rocha', 'Xavier Nunes'])
       WITH ORDINALITY AS r(name, id);

-- Six reps per team, all there since the start of last year; the team leads
-- manage them.
SELECT salesperf.assign(r, (ARRAY[11, 12, 21, 22])[(r - 1) / 6 + 1],
                        salesperf.period_start(:'now_at'::timestamptz - interval '1 year', 'year'))
  FROM generate_series(1, 24) r;
UPDATE salesperf.unit SET manager_rep_id = CASE unit_id WHEN 11 THEN 1 WHEN 12 THEN 7 WHEN 21 THEN 13 WHEN 22 THEN 19 END
 WHERE kind = 'team';
-- Elise moved from Paris to Berlin on the second Monday of last month: her
-- earlier work stays with Paris.
SELECT d + (8 - extract(isodow FROM d)::int) % 7 AS elise_moved_on
  FROM (SELECT (:'prev_month_start'::timestamptz AT TIME ZONE 'Europe/Paris')::date + 7 AS d) x
\gset
SELECT salesperf.assign(5, 12, :'elise_moved_on'::date::timestamp AT TIME ZONE 'Europe/Paris');
UPDATE demo.clock SET elise_moved_on = :'elise_moved_on';

-- How work is scored.
INSERT INTO salesperf.point_rule (name, kind, points, points_per_amount, daily_cap) VALUES
  ('Call made',        'call',           1,  0,     NULL),
  ('Talk time',        'call',           0,  0.01,  20),     -- 0.6 points a minute, at most 20 a day
  ('E-mail sent',      'email',          0.5, 0,    10),
  ('Meeting held',     'meeting',        5,  0,     NULL),
  ('Customer visit',   'visit',          8,  0,     NULL),
  ('New lead',         'lead_created',   2,  0,     NULL),
  ('Lead converted',   'lead_converted', 10, 0,     NULL),
  ('Deal won',         'deal_won',       25, 0.002, NULL);     -- 25 + 2 points per 1,000 €

SELECT salesperf.create_leaderboard('Points this month');
SELECT salesperf.create_leaderboard('Team points this month', participant => 'unit', unit_kind => 'team');
SELECT salesperf.create_leaderboard('Revenue this quarter', metric => 'revenue', period => 'quarter');
SELECT salesperf.create_leaderboard('Calls this week', metric => 'calls', period => 'week');

-- Badges, set up before any work is recorded: salesperf awards each one in
-- the write that takes a rep over the threshold, as the history arrives.
-- Sprint champion has no rule: it is the prize of a contest
-- (demo/motivation.sql).
INSERT INTO salesperf.badge (name, description, tier) VALUES
  ('Dialer',           '20 calls in a day',                   'bronze'),
  ('Road warrior',     '4 customer visits in a week',         'bronze'),
  ('Closer',           '4 deals won in a week',               'silver'),
  ('Rainmaker',        '100,000 € of deals won in a month',   'gold'),
  ('Sprint champion',  'Won a weekly revenue sprint',         'gold');
INSERT INTO salesperf.badge_rule (badge, metric, threshold, period) VALUES
  ('Dialer',       'calls',     20,     'day'),
  ('Road warrior', 'visits',    4,      'week'),
  ('Closer',       'deals_won', 4,      'week'),
  ('Rainmaker',    'revenue',   100000, 'month');

-- Each rep has a personal skill, a form that changes from month to month
-- (so the boards move), and works in the team's time zone.
CREATE TEMP TABLE demo_rep AS
SELECT r.rep_id,
       0.55 + 0.9 * demo.noise('skill:' || r.rep_id) AS skill,
       (ARRAY['Europe/Paris', 'Europe/Berlin', 'America/New_York', 'America/Sao_Paulo'])[(r.rep_id - 1) / 6 + 1] AS tz
  FROM salesperf.rep r;

-- Every local day of each rep from just before the history starts to
-- today; `back` counts days before today, `month_back` months before this
-- one (the keys of the dice).
CREATE TEMP TABLE demo_day AS
SELECT r.rep_id, r.skill, r.tz, d::date AS day, :'today'::date - d::date AS back,
       (extract(year FROM :'today'::date) * 12 + extract(month FROM :'today'::date))
     - (extract(year FROM d) * 12 + extract(month FROM d)) AS month_back
  FROM demo_rep r,
       generate_series((:'history_start'::timestamptz AT TIME ZONE 'Europe/Paris')::date - 1,
                       :'today'::date + 1, interval '1 day') d
 WHERE extract(isodow FROM d) < 6;

-- How many of each kind a rep did each working day.
CREATE TEMP TABLE demo_plan AS
SELECT d.rep_id, d.skill, d.tz, d.day, d.back, k.kind,
       floor(k.per_day * d.skill
             * (0.75 + 0.5 * demo.noise(concat_ws(':', 'form', d.rep_id, d.month_back)))
             * (0.4 + 1.2 * demo.noise(concat_ws(':', 'many', d.rep_id, k.kind, d.back)))
             + demo.noise(concat_ws(':', 'more', d.rep_id, k.kind, d.back)))::int AS how_many
  FROM demo_day d
 CROSS JOIN (VALUES ('call', 9), ('email', 12), ('meeting', 1.2), ('visit', 0.4),
                    ('lead_created', 1.5), ('lead_converted', 0.5), ('deal_won', 0.25)) AS k(kind, per_day);

-- Office hours, 08:30 to 17:30 where the rep works.
CREATE TEMP TABLE demo_work AS
SELECT p.rep_id, p.kind,
       CASE p.kind
         WHEN 'call'     THEN round(45 + demo.noise(concat_ws(':', 'talk', p.rep_id, p.back, n)) * 600 * p.skill)
         WHEN 'deal_won' THEN round((2000 + demo.noise(concat_ws(':', 'deal', p.rep_id, p.back, n)) * 18000 * p.skill)::numeric, -2)
         ELSE 1 END AS amount,
       (p.day + time '08:30' + demo.noise(concat_ws(':', 'when', p.rep_id, p.kind, p.back, n)) * interval '9 hours')
         AT TIME ZONE p.tz AS occurred_at
  FROM demo_plan p
 CROSS JOIN LATERAL generate_series(1, p.how_many) AS n;

-- The last forty minutes (never before today's local midnight): every rep
-- logged a call or two, some e-mails and a lead or two; some a meeting,
-- every third rep a converted lead and every fourth (different ones every
-- day) a signed deal.
INSERT INTO demo_work (rep_id, kind, amount, occurred_at)
SELECT f.rep_id, f.kind,
       CASE f.kind
         WHEN 'call'     THEN round(60 + demo.noise(concat_ws(':', 'fresh talk', f.rep_id, n)) * 500 * f.skill)
         WHEN 'deal_won' THEN round((3000 + demo.noise(concat_ws(':', 'fresh deal', f.rep_id)) * 15000 * f.skill)::numeric, -2)
         ELSE 1 END,
       w.lo + (:'now_at'::timestamptz - w.lo) * demo.noise(concat_ws(':', 'fresh when', f.rep_id, f.kind, n))
  FROM (SELECT r.rep_id, r.skill, k.kind,
               CASE WHEN k.kind = 'deal_won' THEN ((r.rep_id + (:'today'::date - date '2000-01-01')) % 4 = 0)::int
                    WHEN k.kind = 'lead_converted' THEN ((r.rep_id + (:'today'::date - date '2000-01-01')) % 3 = 0)::int
                    ELSE k.base + floor(k.spread * r.skill * demo.noise(concat_ws(':', 'fresh', r.rep_id, k.kind)))::int
               END AS how_many
          FROM demo_rep r
         CROSS JOIN (VALUES ('call', 1, 3), ('email', 1, 4), ('lead_created', 1, 2), ('meeting', 0, 1.6),
                            ('lead_converted', 0, 0), ('deal_won', 0, 0)) AS k(kind, base, spread)) f
 CROSS JOIN LATERAL generate_series(1, f.how_many) AS n
 CROSS JOIN (SELECT greatest(:'now_at'::timestamptz - interval '40 minutes', :'day_start'::timestamptz) AS lo) w;

-- Recorded a day at a time, as a CRM would have sent them: badges are
-- awarded by the write of the day a rep crossed the threshold, with the
-- value reached by the end of that day.
CREATE TEMP TABLE demo_load AS
SELECT w.rep_id, w.kind, w.amount, w.occurred_at, (w.occurred_at AT TIME ZONE 'Europe/Paris')::date AS day
  FROM demo_work w
 WHERE w.occurred_at >= :'history_start' AND w.occurred_at <= :'now_at';
DO $$
DECLARE
    d date;
BEGIN
    FOR d IN SELECT DISTINCT l.day FROM demo_load l ORDER BY l.day LOOP
        INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at, source)
        SELECT l.rep_id, l.kind, l.amount, l.occurred_at, 'demo'
          FROM demo_load l
         WHERE l.day = d
         ORDER BY l.occurred_at, l.rep_id, l.kind;
    END LOOP;
END
$$;

-- A bonus for Noah, who won the call contest of the month before last:
-- paid on the first working day of last month at 09:00.
SELECT salesperf.record(14, 'bonus', 150,
                        (d + (CASE extract(isodow FROM d) WHEN 6 THEN 2 WHEN 7 THEN 1 ELSE 0 END)::int
                         + time '09:00') AT TIME ZONE 'Europe/Paris',
                        'demo', 'contest-bonus')
  FROM (SELECT (:'prev_month_start'::timestamptz AT TIME ZONE 'Europe/Paris')::date AS d) x;
ANALYZE;
