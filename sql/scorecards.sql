--
-- Scorecards (SPEC §6): reps ranked on kpi_score against their own targets.
--
DROP EXTENSION salesperf;
CREATE EXTENSION salesperf;
SET timezone = 'UTC';
INSERT INTO salesperf.rep (rep_id, name) VALUES (1, 'Senior'), (2, 'Junior'), (3, 'Nobody');
INSERT INTO salesperf.point_rule (name, kind, points) VALUES ('call', 'call', 1);

-- November 2026: the senior rep's targets are 100 calls and 50,000 revenue,
-- the junior's 10 calls and 5,000.
SELECT salesperf.set_target('calls', 'rep', 1, 'month', '2026-11-01', 100),
       salesperf.set_target('revenue', 'rep', 1, 'month', '2026-11-01', 50000),
       salesperf.set_target('calls', 'rep', 2, 'month', '2026-11-01', 10),
       salesperf.set_target('revenue', 'rep', 2, 'month', '2026-11-01', 5000);
-- Senior: 80 calls, 40,000 won.  Junior: 12 calls, 4,500 won.
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at)
SELECT 1, 'call', 60, '2026-11-02 09:00+00'::timestamptz + i * interval '10 minutes' FROM generate_series(1, 80) i
UNION ALL
SELECT 2, 'call', 60, '2026-11-03 09:00+00'::timestamptz + i * interval '10 minutes' FROM generate_series(1, 12) i
UNION ALL SELECT 1, 'deal_won', 40000, '2026-11-10 12:00+00'
UNION ALL SELECT 2, 'deal_won', 4500, '2026-11-11 12:00+00';

-- Calls weigh 1, revenue 3; attainment capped at 1.2 (120 %).
INSERT INTO salesperf.scorecard (name, kpi, weight, cap) VALUES
  ('field', 'calls', 1, 1.2), ('field', 'revenue', 3, 1.2);

-- Senior: (1 × 80/100 + 3 × 40000/50000) / 4 = (0.8 + 2.4) / 4 = 0.8
-- Junior: (1 × min(12/10, 1.2) + 3 × 4500/5000) / 4 = (1.2 + 2.7) / 4 = 0.975
-- The junior tops the scorecard; the rep without targets is not ranked.
SELECT * FROM salesperf.scorecard_ranking('field', 'month', '2026-11-30 12:00+00');

-- Errors name the bad value and change nothing.
SELECT * FROM salesperf.scorecard_ranking('nope');
SELECT * FROM salesperf.scorecard_ranking('field', 'fortnight');
SELECT * FROM salesperf.scorecard_ranking(NULL);
INSERT INTO salesperf.scorecard (name, kpi, weight) VALUES ('field', 'meetings', 0);
INSERT INTO salesperf.scorecard (name, kpi, weight) VALUES ('field', 'telepathy', 1);
INSERT INTO salesperf.scorecard (name, kpi, weight, cap) VALUES ('field', 'meetings', 1, -1);
INSERT INTO salesperf.scorecard (name, kpi, weight) VALUES ('', 'meetings', 1);
SELECT count(*) AS scorecard_rows FROM salesperf.scorecard;

DROP EXTENSION salesperf;
CREATE EXTENSION salesperf;
