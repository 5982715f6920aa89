-- Acme's sales pipeline for `make demo`, loaded after demo/company.sql.
--
-- The CRM keeps its deals in crm.deal; salesperf mirrors that table with
-- track_opportunities().  Every deal Acme won since the history began (the
-- deal_won activities of demo/company.sql) becomes a won CRM deal with its
-- sales cycle, so revenue, points and leaderboards stay exactly as they
-- were but now come from the opportunities.  Around them: the deals lost on
-- the way and the open pipeline, expected to close over the next months.
-- Everything is placed relative to the demo's moment (demo.clock), and
-- deterministic in shape (demo.noise(), never random()).
\set ON_ERROR_STOP 1
SET timezone = 'Europe/Paris';
SELECT c.at AS now_at, (c.at AT TIME ZONE 'Europe/Paris')::date AS today,
       (c.history_start AT TIME ZONE 'Europe/Paris')::date AS history_start
  FROM demo.clock c
\gset

CREATE SCHEMA crm;
CREATE TABLE crm.deal (
    id         integer PRIMARY KEY,
    owner_id   bigint NOT NULL,
    title      text NOT NULL,
    amount     numeric(12, 2),
    stage      text NOT NULL,
    close_date date,
    created_at timestamptz NOT NULL,
    closed_at  timestamptz
);
COMMENT ON TABLE crm.deal IS 'The CRM''s deals (demo), mirrored into salesperf.opportunity.';
SELECT salesperf.track_opportunities('crm.deal', 'id', 'owner_id', 'amount', 'stage',
                                     'close_date', 'created_at', 'closed_at') AS mirrored;

CREATE TEMP TABLE demo_customer AS
SELECT n, c FROM unnest(ARRAY[
  'Boulangeries Martin', 'Hôtel du Parc', 'Stadtwerke Köln', 'Nordsee Logistik', 'Brightline Foods',
  'Hudson Dental', 'Vale Mineração', 'Café Aurora', 'Rheinmetall Service', 'Maison Lefèvre',
  'Atlas Insurance', 'Pinecrest Schools', 'Grupo Lumen', 'Clinique Saint-Luc', 'Bergmann Bau',
  'Harbor Freight Lines', 'Mercado Verde', 'Optique Duval', 'Alpen Hotels', 'Summit Realty',
  'Tecelagem Norte', 'Librairie Colette', 'Kaufhaus Weber', 'Blue Ridge Labs', 'Farmácia Sol',
  'Vins de Loire', 'Schneider Metall', 'Greenleaf Energy', 'Banco Pampa', 'Atelier Nomade'])
  WITH ORDINALITY AS x(c, n);
CREATE TEMP TABLE demo_product AS
SELECT n, p FROM unnest(ARRAY['annual licence', 'fleet renewal', 'pilot', 'expansion', 'support plan',
                              'onboarding', 'multi-site rollout', 'upgrade'])
  WITH ORDINALITY AS x(p, n);

-- Working days before today, for deals lost on the way.
CREATE TEMP TABLE demo_workday AS
SELECT row_number() OVER (ORDER BY d) AS n, d::date AS day
  FROM generate_series(:'history_start'::date, :'today'::date - 1, interval '1 day') d
 WHERE extract(isodow FROM d) < 6;

-- Won: every deal_won of the ledger, with a sales cycle of two to thirteen weeks.
CREATE TEMP TABLE demo_deal AS
SELECT row_number() OVER (ORDER BY a.occurred_at, a.activity_id)::int AS id,
       a.rep_id, a.amount, 'closed_won'::text AS stage,
       (a.occurred_at AT TIME ZONE 'Europe/Paris')::date AS close_date,
       a.occurred_at AS closed_at
  FROM salesperf.activity a
 WHERE a.kind = 'deal_won' AND a.source = 'demo'
 ORDER BY a.occurred_at, a.activity_id;

-- Lost: about two for every three won, on a working day, in office hours.
CREATE TEMP TABLE demo_lost AS
SELECT w.rep_id, k.k,
       demo.noise(concat_ws(':', 'lost amount', w.rep_id, k.k)) AS r_amount,
       demo.noise(concat_ws(':', 'lost day', w.rep_id, k.k)) AS r_day,
       demo.noise(concat_ws(':', 'lost time', w.rep_id, k.k)) AS r_time
  FROM (SELECT rep_id, count(*) AS won FROM demo_deal GROUP BY rep_id ORDER BY rep_id) w
 CROSS JOIN LATERAL generate_series(1, greatest(1, round(w.won * (0.4 + demo.noise('lost:' || w.rep_id) * 0.6))::int)) AS k(k)
 ORDER BY w.rep_id, k.k;
INSERT INTO demo_deal (id, rep_id, amount, stage, close_date, closed_at)
SELECT 1000 + row_number() OVER (ORDER BY x.rep_id, x.k), x.rep_id, x.amount, 'closed_lost',
       (x.closed_at AT TIME ZONE 'Europe/Paris')::date, x.closed_at
  FROM (SELECT l.rep_id, l.k, round((1500 + l.r_amount * 22000)::numeric, -2) AS amount,
               (w.day + time '08:30' + l.r_time * interval '9 hours') AT TIME ZONE 'Europe/Paris' AS closed_at
          FROM demo_lost l
          JOIN demo_workday w ON w.n = 1 + floor(l.r_day * (SELECT count(*) FROM demo_workday))::int) x;

-- Open: four to eight per rep; the further along, the sooner it should close.
CREATE TEMP TABLE demo_open AS
SELECT r.rep_id, k.k,
       demo.noise(concat_ws(':', 'open stage', r.rep_id, k.k)) AS r_stage,
       demo.noise(concat_ws(':', 'open amount', r.rep_id, k.k)) AS r_amount,
       demo.noise(concat_ws(':', 'open close', r.rep_id, k.k)) AS r_close
  FROM generate_series(1, 24) AS r(rep_id)
 CROSS JOIN LATERAL generate_series(1, 4 + floor(demo.noise('open:' || r.rep_id) * 5)::int) AS k(k)
 ORDER BY r.rep_id, k.k;
INSERT INTO demo_deal (id, rep_id, amount, stage, close_date, closed_at)
SELECT 2000 + row_number() OVER (ORDER BY o.rep_id, o.k), o.rep_id,
       round((2000 + o.r_amount ^ 2 * 58000)::numeric, -2), s.stage,
       :'today'::date + s.soonest + floor(o.r_close * s.spread)::int, NULL
  FROM demo_open o
 CROSS JOIN LATERAL (SELECT z.stage, z.soonest, z.spread
                       FROM (VALUES ('prospecting',    0.25, 45, 110),
                                    ('qualification',  0.45, 30, 90),
                                    ('needs_analysis', 0.65, 20, 70),
                                    ('proposal',       0.83, 7,  55),
                                    ('negotiation',    1.00, 2,  35)) AS z(stage, upto, soonest, spread)
                      WHERE z.upto >= o.r_stage
                      ORDER BY z.upto LIMIT 1) s;

-- The won deals are now recorded through their opportunities: drop the
-- direct entries first, so nothing ever counts twice (same rep, amount and
-- moment), not even for a moment: a badge rule would award a doubled week.
DELETE FROM salesperf.activity WHERE kind = 'deal_won' AND source = 'demo';

-- Into the CRM: opened two to thirteen weeks before closing (open deals:
-- before today), named after a customer.
INSERT INTO crm.deal (id, owner_id, title, amount, stage, close_date, created_at, closed_at)
SELECT d.id, d.rep_id,
       (SELECT c.c FROM demo_customer c WHERE c.n = 1 + (d.id * 7 + d.rep_id) % 30) || ' — ' ||
       (SELECT p.p FROM demo_product p WHERE p.n = 1 + (d.id * 3) % 8),
       d.amount, d.stage, d.close_date,
       CASE WHEN d.closed_at IS NOT NULL
            THEN d.closed_at - (14 + demo.noise('cycle:' || d.id) * 77) * interval '1 day'
            ELSE :'now_at'::timestamptz - (3 + demo.noise('cycle:' || d.id) * 80) * interval '1 day' END,
       d.closed_at
  FROM demo_deal d
 ORDER BY d.id;

-- The Paris lead calls her quarter: commit plus half of best case.
SELECT salesperf.adjust_forecast(11, salesperf.period_start(:'now_at', 'quarter'),
                                 round(f.commit_forecast + f.best_case / 2, -3))
  FROM salesperf.forecast('quarter', :'now_at') f WHERE f.unit_id = 11;
-- Today's forecast, kept for salesperf.forecast_accuracy.
SELECT salesperf.snapshot_forecast('quarter', :'now_at') AS units_snapshotted;
ANALYZE;
