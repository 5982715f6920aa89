-- Demo company for `make demo`: Acme Corp, two regions, four teams, 24 reps,
-- and every activity they recorded from 1 October until now.
-- Deterministic: the same script gives the same company (setseed).
\set ON_ERROR_STOP 1
CREATE EXTENSION salesperf;
SELECT salesperf.configure(time_zone => 'Europe/Paris', currency => 'EUR');

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

-- Six reps per team, all there since January; the team leads manage them.
SELECT salesperf.assign(r, (ARRAY[11, 12, 21, 22])[(r - 1) / 6 + 1], '2026-01-01') FROM generate_series(1, 24) r;
UPDATE salesperf.unit SET manager_rep_id = CASE unit_id WHEN 11 THEN 1 WHEN 12 THEN 7 WHEN 21 THEN 13 WHEN 22 THEN 19 END
 WHERE kind = 'team';
-- Elise moved from Paris to Berlin on 9 November: her earlier work stays with Paris.
SELECT salesperf.assign(5, 12, '2026-11-09 00:00+01');

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

-- Activities: each rep has a steady rhythm with a personal skill factor;
-- working days only, office hours in Paris time.
SELECT setseed(0.42);
CREATE TEMP TABLE demo_rep AS
SELECT rep_id, 0.55 + random() * 0.9 AS skill FROM salesperf.rep;

CREATE TEMP TABLE demo_day AS
SELECT d::date AS day
  FROM generate_series(date '2026-10-01', (now() AT TIME ZONE 'Europe/Paris')::date, interval '1 day') d
 WHERE extract(isodow FROM d) < 6;

-- How many of each kind a rep did each working day.
CREATE TEMP TABLE demo_plan AS
SELECT r.rep_id, r.skill, d.day, k.kind,
       floor(k.per_day * r.skill * (0.4 + 1.2 * random()) + random())::int AS how_many
  FROM demo_rep r
 CROSS JOIN demo_day d
 CROSS JOIN (VALUES ('call', 9), ('email', 12), ('meeting', 1.2), ('visit', 0.4),
                    ('lead_created', 1.5), ('lead_converted', 0.5), ('deal_won', 0.25)) AS k(kind, per_day);

INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at, source)
SELECT x.rep_id, x.kind, x.amount, x.occurred_at, 'demo'
  FROM (SELECT p.rep_id, p.kind,
               CASE p.kind
                 WHEN 'call'     THEN round(45 + random() * 600 * p.skill)
                 WHEN 'deal_won' THEN round((2000 + random() * 18000 * p.skill)::numeric, -2)
                 ELSE 1 END AS amount,
               (p.day + time '08:30' + random() * interval '9 hours') AT TIME ZONE 'Europe/Paris' AS occurred_at
          FROM demo_plan p
         CROSS JOIN LATERAL generate_series(1, p.how_many) AS n) x
 WHERE x.occurred_at < now()
 ORDER BY x.occurred_at;

-- A bonus for the October contest winner of last month.
SELECT salesperf.record(14, 'bonus', 150, '2026-11-02 09:00+01', 'demo', 'october-bonus');
ANALYZE;
