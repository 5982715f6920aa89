-- What test/restore/source.sql leaves unused, loaded after it (in the
-- database that is then updated, before ALTER EXTENSION salesperf UPDATE):
-- badges earned by rule and as contest prizes, a finalized contest with bonus
-- points and reward grants, a grant moved along its statuses, a scorecard.
-- Deterministic but for the columns the engine fills from the clock
-- (test/upgrade/state.sql leaves them out).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

INSERT INTO salesperf.badge (name, description, tier) VALUES
    ('Gold', 'First in a contest', 'gold'),
    ('Dialer', 'Ten calls in a week', 'bronze');
INSERT INTO salesperf.badge_rule (badge, metric, threshold, period) VALUES ('Dialer', 'calls', 10, 'week');
INSERT INTO salesperf.reward (name, kind, value, description) VALUES
    ('Dinner', 'gift', 150, 'Dinner for two'),
    ('Spot bonus', 'cash', 500.25, NULL);

-- A contest on calls over May 2025 (after every activity of source.sql).
SELECT salesperf.create_contest('May calls', 'calls', '2025-05-01 00:00 America/New_York',
                                '2025-06-01 00:00 America/New_York',
                                prizes => '[{"rank_from":1,"badge":"Gold","bonus_points":50,"reward":"Dinner"},
                                            {"rank_from":2,"rank_to":3,"bonus_points":20}]');
SELECT salesperf.create_contest('May team revenue', 'revenue', '2025-05-01 00:00 America/New_York',
                                '2025-06-01 00:00 America/New_York', participant => 'unit', unit_kind => 'team');
SELECT salesperf.record(r, 'call', 60, timestamptz '2025-05-05 09:00 America/New_York' + (r * 20 + i) * interval '37 minutes',
                        'dialer', 'may' || r || '-' || i)
  FROM generate_series(1, 6) r, generate_series(1, 14 - 2 * r) i;     -- rep 1 most, rep 6 fewest
SELECT salesperf.record(1 + (i % 3), 'deal_won', 1000 * i, timestamptz '2025-05-12 10:00 America/New_York' + i * interval '1 day')
  FROM generate_series(1, 6) i;
SELECT salesperf.finalize_contests('2025-06-01 00:00 America/New_York');

-- A reward given by hand, approved, then paid; another cancelled.
SELECT salesperf.grant_reward('Spot bonus', 2, 'best demo of May');
SELECT salesperf.grant_reward('Spot bonus', 6, 'duplicate');
SELECT salesperf.set_grant_status(g.grant_id, 'approved') FROM salesperf.reward_grant g WHERE g.reason = 'best demo of May';
SELECT salesperf.set_grant_status(g.grant_id, 'paid') FROM salesperf.reward_grant g WHERE g.reason = 'best demo of May';
SELECT salesperf.set_grant_status(g.grant_id, 'cancelled') FROM salesperf.reward_grant g WHERE g.reason = 'duplicate';

-- A scorecard weighing calls and revenue.
INSERT INTO salesperf.scorecard (name, kpi, weight, cap) VALUES
    ('balanced', 'calls', 1, 1.5),
    ('balanced', 'revenue', 2, NULL);
