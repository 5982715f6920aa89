--
-- Badges (SPEC §8): a badge rule awards a badge the moment a rep's metric
-- reaches its threshold in a period, once per rep and period.  Awards are
-- history: a delete that drops the rep back under the threshold keeps the
-- award, and crossing it again in the same period awards nothing more.
-- (Each award is also announced by NOTIFY salesperf at commit; see
-- test/concurrency/notifications.sh.)
--
DROP EXTENSION salesperf;
CREATE EXTENSION salesperf;
SET timezone = 'UTC';
SELECT time_zone FROM salesperf.configure(time_zone => 'Europe/Paris');
INSERT INTO salesperf.rep (rep_id, name) VALUES (1, 'Ada'), (2, 'Bo');
INSERT INTO salesperf.unit (unit_id, name, kind) VALUES (10, 'Paris', 'team');
SELECT salesperf.assign(1, 10, '2026-01-01'), salesperf.assign(2, 10, '2026-01-01');
INSERT INTO salesperf.point_rule (name, kind, points) VALUES ('call', 'call', 1);

INSERT INTO salesperf.badge (name, description, tier) VALUES
  ('Dialer', 'Three calls in a day', 'bronze'),
  ('Closer', 'Revenue of 10,000 in a month', 'gold');
INSERT INTO salesperf.badge_rule (badge, metric, threshold, period) VALUES
  ('Dialer', 'calls', 3, 'day'),
  ('Closer', 'revenue', 10000, 'month');

-- Ada calls twice on 2 March (Paris): not yet.
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at) VALUES
  (1, 'call', 60, '2026-03-02 09:00+01'), (1, 'call', 60, '2026-03-02 10:00+01');
SELECT count(*) AS awards FROM salesperf.badge_award;
-- The third call crosses the threshold: one award, for the day of 2 March
-- (a Paris day: it starts at 23:00 UTC the day before).
SELECT salesperf.record(1, 'call', 60, '2026-03-02 23:30+01') IS NOT NULL AS recorded;
SELECT b.name, a.rep_id, a.period_start, a.contest_id, a.reason
  FROM salesperf.badge_award a JOIN salesperf.badge b USING (badge_id) ORDER BY a.award_id;
-- Deleting a call drops Ada to 2 calls that day: the award stays.
DELETE FROM salesperf.activity WHERE occurred_at = '2026-03-02 10:00+01';
SELECT count(*) AS awards FROM salesperf.badge_award;
-- Crossing again the same day awards nothing more.
SELECT salesperf.record(1, 'call', 60, '2026-03-02 18:00+01') IS NOT NULL AS recorded;
SELECT count(*) AS awards FROM salesperf.badge_award;
-- The next day is another period: three calls earn a second Dialer.
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at)
SELECT 1, 'call', 60, '2026-03-03 09:00+01'::timestamptz + i * interval '1 hour'
  FROM generate_series(1, 3) i;
SELECT b.name, a.rep_id, a.period_start
  FROM salesperf.badge_award a JOIN salesperf.badge b USING (badge_id) ORDER BY a.award_id;

-- Revenue: Bo wins 6,000 then 5,000 in March: 11,000 >= 10,000, one Closer.
SELECT salesperf.record(2, 'deal_won', 6000, '2026-03-05 12:00+01') IS NOT NULL AS recorded;
SELECT salesperf.record(2, 'deal_won', 5000, '2026-03-20 12:00+01') IS NOT NULL AS recorded;
SELECT b.name, a.rep_id, a.period_start, a.reason
  FROM salesperf.badge_award a JOIN salesperf.badge b USING (badge_id) WHERE b.name = 'Closer';

-- A rule created later awards what the counters already show earned: Bo
-- reached 2 deals in March.
INSERT INTO salesperf.badge (name, tier) VALUES ('Double', 'silver');
INSERT INTO salesperf.badge_rule (badge, metric, threshold, period) VALUES ('Double', 'deals_won', 2, 'month');
SELECT b.name, a.rep_id, a.period_start
  FROM salesperf.badge_award a JOIN salesperf.badge b USING (badge_id) WHERE b.name = 'Double';

-- recompute() revokes nothing and finds nothing missing.
SELECT count(*) AS awards_before FROM salesperf.badge_award;
SELECT salesperf.recompute();
SELECT count(*) AS awards_after FROM salesperf.badge_award;
-- Bad rules are refused and change nothing.
INSERT INTO salesperf.badge_rule (badge, metric, threshold, period) VALUES ('Nobody', 'calls', 1, 'day');
INSERT INTO salesperf.badge_rule (badge, metric, threshold, period) VALUES ('Dialer', 'telepathy', 1, 'day');
INSERT INTO salesperf.badge_rule (badge, metric, threshold, period) VALUES ('Dialer', 'calls', 'Infinity', 'day');
INSERT INTO salesperf.badge_rule (badge, metric, threshold, period) VALUES ('Dialer', 'calls', 1, 'fortnight');
INSERT INTO salesperf.badge_rule (badge, metric, threshold, period) VALUES ('Dialer', 'calls', 'NaN', 'day');
INSERT INTO salesperf.badge (name) VALUES ('  ');
SELECT count(*) AS rules FROM salesperf.badge_rule;

DROP EXTENSION salesperf;
CREATE EXTENSION salesperf;
