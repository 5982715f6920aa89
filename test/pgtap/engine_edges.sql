-- Edge cases of the engine: local days whose midnight is skipped or happens
-- twice, ratio KPIs over every kind's points, edits of KPIs, boards, units
-- and settings that must re-derive at once, errors that name the right
-- problem, arrows on boards, the scale scores print with, history against
-- today's org chart, and the guards that keep the ledger's history whole.
--
-- Every expected number is computed here from the ledger (edges.oracle_activity
-- scores each activity by SPEC §6 with the point rules defined below), and
-- after each change the maintained tables (capped_award, kpi_counter,
-- standing) are compared, EXCEPT ALL both ways, with what recompute() builds
-- (edges.state_diff, run in a subtransaction that is rolled back).
--
-- Sections use their own reps, units, months and scoped boards, so one
-- section's data does not change another's answers.  The checks whose
-- failure leaves broken settings behind (direct writes to the configuration)
-- come last.
BEGIN;
SET LOCAL client_min_messages = warning;
SET LOCAL jit = off;

SELECT plan(145);

CREATE SCHEMA edges;

-- -------------------------------------------------------------- helpers
-- NULL when the maintained derived tables equal what recompute() builds from
-- the ledger; otherwise the number of differing rows and the first of them.
CREATE FUNCTION edges.state_diff() RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    re_award    salesperf.capped_award[];
    re_counter  salesperf.kpi_counter[];
    re_standing salesperf.standing[];
    n           bigint;
    first       text;
BEGIN
    BEGIN
        PERFORM salesperf.recompute();
        re_award := ARRAY(SELECT c FROM salesperf.capped_award c);
        re_counter := ARRAY(SELECT c FROM salesperf.kpi_counter c);
        re_standing := ARRAY(SELECT c FROM salesperf.standing c);
        RAISE EXCEPTION 'undo recompute' USING ERRCODE = 'ED001';
    EXCEPTION
        WHEN SQLSTATE 'ED001' THEN NULL;
        WHEN OTHERS THEN RETURN format('recompute() failed: %s (%s)', SQLERRM, SQLSTATE);
    END;
    SELECT count(*), min(x.line) INTO n, first
      FROM (SELECT 'maintained capped_award ' || d::text AS line
              FROM (SELECT * FROM salesperf.capped_award EXCEPT ALL SELECT * FROM unnest(re_award)) d
            UNION ALL
            SELECT 'recomputed capped_award ' || d::text
              FROM (SELECT * FROM unnest(re_award) EXCEPT ALL SELECT * FROM salesperf.capped_award) d
            UNION ALL
            SELECT 'maintained kpi_counter ' || d::text
              FROM (SELECT * FROM salesperf.kpi_counter EXCEPT ALL SELECT * FROM unnest(re_counter)) d
            UNION ALL
            SELECT 'recomputed kpi_counter ' || d::text
              FROM (SELECT * FROM unnest(re_counter) EXCEPT ALL SELECT * FROM salesperf.kpi_counter) d
            UNION ALL
            SELECT 'maintained standing ' || d::text
              FROM (SELECT * FROM salesperf.standing EXCEPT ALL SELECT * FROM unnest(re_standing)) d
            UNION ALL
            SELECT 'recomputed standing ' || d::text
              FROM (SELECT * FROM unnest(re_standing) EXCEPT ALL SELECT * FROM salesperf.standing) d) x;
    IF n = 0 THEN
        RETURN NULL;
    END IF;
    RETURN format('%s rows differ, first: %s', n, first);
END
$$;

-- NULL when leaderboard_top(board, 10, at) lists rows and reads the same
-- before and after a recompute() (rolled back); otherwise what differs.
CREATE FUNCTION edges.reads_diff(board text, at timestamptz) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    before text[];
    after  text[];
BEGIN
    BEGIN
        before := ARRAY(SELECT t::text FROM salesperf.leaderboard_top(board, 10, at) t);
    EXCEPTION WHEN OTHERS THEN
        RETURN format('leaderboard_top failed: %s (%s)', SQLERRM, SQLSTATE);
    END;
    BEGIN
        PERFORM salesperf.recompute();
        after := ARRAY(SELECT t::text FROM salesperf.leaderboard_top(board, 10, at) t);
        RAISE EXCEPTION 'undo recompute' USING ERRCODE = 'ED001';
    EXCEPTION
        WHEN SQLSTATE 'ED001' THEN NULL;
        WHEN OTHERS THEN RETURN format('recompute() failed: %s (%s)', SQLERRM, SQLSTATE);
    END;
    IF cardinality(before) = 0 THEN
        RETURN 'the board lists nobody';
    END IF;
    IF before IS DISTINCT FROM after THEN
        RETURN format('maintained %s; after recompute() %s', before, after);
    END IF;
    RETURN NULL;
END
$$;

-- Scoring rules used throughout (defined before any activity, never edited):
--   email: 1 point, at most 5 per rep per local day (capped);
--   call: 2 points; deal_won: 10 points; visit: 0.50 points;
--   bonus: its amount (always, SPEC §6).
INSERT INTO salesperf.point_rule (name, kind, points, daily_cap) VALUES
    ('email point', 'email', 1, 5),
    ('call point', 'call', 2, NULL),
    ('deal point', 'deal_won', 10, NULL),
    ('visit point', 'visit', 0.50, NULL);

-- Every activity with the unit it counts for and the points it earned, by
-- the rules above and SPEC §6: under the cap, a rep's emails of one local day
-- earn in occurred_at (then id) order until the cap of 5 is reached.
CREATE VIEW edges.oracle_activity AS
SELECT a.activity_id, a.rep_id, m.unit_id, a.kind, a.amount, a.occurred_at,
       (a.occurred_at AT TIME ZONE s.time_zone)::date AS day,
       CASE a.kind
            WHEN 'call' THEN 2
            WHEN 'deal_won' THEN 10
            WHEN 'visit' THEN 0.50
            WHEN 'bonus' THEN a.amount
            WHEN 'email' THEN
                 CASE WHEN row_number() OVER (PARTITION BY a.rep_id, a.kind, (a.occurred_at AT TIME ZONE s.time_zone)::date
                                              ORDER BY a.occurred_at, a.activity_id) <= 5 THEN 1 ELSE 0 END
            ELSE 0 END AS points
  FROM salesperf.activity a
 CROSS JOIN salesperf.settings s
  LEFT JOIN salesperf.membership m ON m.rep_id = a.rep_id AND m.during @> a.occurred_at;

INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES (1, NULL, 'Edges Co', 'company');

-- ---------------------------------------------------------------------------
-- 1. Local days whose midnight is skipped or happens twice (SPEC §3).
-- Defect pinned: re-derivation (rederive_days) bounds a local day by
-- day::timestamp AT TIME ZONE tz, which for America/Havana 2025-11-02 is the
-- SECOND midnight (05:00 UTC): activities of the first hour of the day
-- (04:00-05:00 UTC, local date 2025-11-02) drop out of the day's counters
-- and capped awards whenever the day is re-derived (an UPDATE, a DELETE, a
-- capped insert), while recompute() and the insert path keep them.
--
-- The first moment of each test day (checked below from the zone data, not
-- from salesperf):
--   America/Havana   2025-11-02: 01:00 -> 00:00, midnight twice; first at 04:00 UTC.
--   America/Santiago 2024-09-08: 00:00 -> 01:00, midnight skipped; 01:00 local = 04:00 UTC.
--   Asia/Beirut      2025-03-30: 00:00 -> 01:00, midnight skipped; 01:00 local = 2025-03-29 22:00 UTC.
--   Europe/Paris     2025-06-15 and UTC 2025-06-16: ordinary days.
-- ---------------------------------------------------------------------------
INSERT INTO salesperf.rep (rep_id, name) VALUES
    (101, 'Havana rep'), (102, 'Santiago rep'), (103, 'Beirut rep'), (104, 'Paris rep'), (105, 'UTC rep');

CREATE FUNCTION edges.dst_day(z text, d date, day_start timestamptz, rep bigint)
RETURNS TABLE (got text, want text, what text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    at timestamptz := day_start + interval '12 hours';
    k  text := z || ' ' || d;
BEGIN
    PERFORM salesperf.configure(time_zone => z);

    RETURN QUERY SELECT format('%s / %s', (day_start AT TIME ZONE z)::date,
                               ((day_start - interval '1 microsecond') AT TIME ZONE z)::date),
                        format('%s / %s', d, d - 1),
                        format('%s: %s is the first moment of local day %s (test data)', z, day_start, d);
    RETURN QUERY SELECT salesperf.period_start(day_start + interval '30 minutes', 'day')::text, day_start::text,
                        format('%s: period_start(%s, day) is the first moment of the local day',
                               z, day_start + interval '30 minutes');
    RETURN QUERY SELECT salesperf.period_start(day_start + interval '90 minutes', 'day')::text, day_start::text,
                        format('%s: period_start(%s, day) is the first moment of the local day',
                               z, day_start + interval '90 minutes');

    -- The day, its eve and the next day; six e-mails (one more than the cap).
    INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at, source, source_key)
    SELECT rep, x.kind, x.amount, day_start + x.off, 'edges', k || ' ' || x.tag
      FROM (VALUES ('call',  60, interval '-30 minutes', 'eve call'),
                   ('email',  1, interval '10 minutes',  'first email'),
                   ('call',  60, interval '30 minutes',  'first half hour call'),
                   ('call',  60, interval '90 minutes',  'second half hour call'),
                   ('email',  1, interval '100 minutes', 'second email'),
                   ('call',  60, interval '12 hours',    'noon call'),
                   ('email',  1, interval '13 hours',    'email to delete'),
                   ('email',  1, interval '14 hours',    'email 4'),
                   ('email',  1, interval '15 hours',    'email 5'),
                   ('email',  1, interval '16 hours',    'email 6'),
                   ('call',  60, interval '20 hours',    'evening call'),
                   ('call',  60, interval '26 hours',    'next day call')) x(kind, amount, off, tag);
    RETURN QUERY SELECT * FROM edges.dst_checks(z, d, rep, at, 'after recording the day');

    UPDATE salesperf.activity SET amount = 90 WHERE source = 'edges' AND source_key = k || ' noon call';
    RETURN QUERY SELECT * FROM edges.dst_checks(z, d, rep, at, 'after an UPDATE of an activity that day');

    DELETE FROM salesperf.activity WHERE source = 'edges' AND source_key = k || ' email to delete';
    RETURN QUERY SELECT * FROM edges.dst_checks(z, d, rep, at, 'after a DELETE of an activity that day');

    PERFORM salesperf.record(rep, 'email', 1, day_start + interval '17 hours');
    RETURN QUERY SELECT * FROM edges.dst_checks(z, d, rep, at, 'after recording a capped e-mail that day');
    RETURN QUERY
    SELECT salesperf.kpi_value('emails', 'rep', rep, 'day', at)::text,
           (SELECT count(*) FROM salesperf.activity a
             WHERE a.rep_id = rep AND a.kind = 'email' AND (a.occurred_at AT TIME ZONE z)::date = d)::text,
           format('%s: kpi_value(emails, day) counts every e-mail of local day %s', z, d);
    RETURN QUERY
    SELECT salesperf.kpi_value('points', 'rep', rep, 'day', at)::text,
           (SELECT sum(o.points) FROM edges.oracle_activity o WHERE o.rep_id = rep AND o.day = d)::text,
           format('%s: kpi_value(points, day) of local day %s: 2 per call and 5 capped e-mail points', z, d);
END
$$;

CREATE FUNCTION edges.dst_checks(z text, d date, rep bigint, at timestamptz, step text)
RETURNS TABLE (got text, want text, what text)
LANGUAGE sql VOLATILE AS $$
  SELECT salesperf.kpi_value('calls', 'rep', rep, 'day', at)::text,
         (SELECT count(*) FROM salesperf.activity a
           WHERE a.rep_id = rep AND a.kind = 'call' AND (a.occurred_at AT TIME ZONE z)::date = d)::text,
         format('%s %s: kpi_value(calls, day) counts the calls whose local date is %s', z, step, d)
  UNION ALL
  SELECT edges.state_diff(), NULL, format('%s %s: state equals recompute()', z, step)
$$;

-- 3 + 2 x 4 + 2 = 13 assertions per zone.
SELECT is(t.got, t.want, t.what) FROM edges.dst_day('America/Havana', '2025-11-02', '2025-11-02 04:00+00', 101) t;
SELECT is(t.got, t.want, t.what) FROM edges.dst_day('America/Santiago', '2024-09-08', '2024-09-08 04:00+00', 102) t;
SELECT is(t.got, t.want, t.what) FROM edges.dst_day('Asia/Beirut', '2025-03-30', '2025-03-29 22:00+00', 103) t;
SELECT is(t.got, t.want, t.what) FROM edges.dst_day('Europe/Paris', '2025-06-15', '2025-06-14 22:00+00', 104) t;
SELECT is(t.got, t.want, t.what) FROM edges.dst_day('UTC', '2025-06-16', '2025-06-16 00:00+00', 105) t;

-- Everything below runs in UTC (sections 2-3 and 5-10); section 4 changes it.
SELECT salesperf.configure(time_zone => 'UTC');

-- ---------------------------------------------------------------------------
-- 2. Ratio KPIs whose part spans every kind (SPEC §6).
-- Defect pinned: kpi_value and board_contribution keep only counter rows of
-- the numerator's and denominator's kinds (c.kind IN (num_kind, den_kind));
-- when the denominator is 'points' (every kind) and the numerator has a kind,
-- only the numerator kind's points are counted in the denominator.
-- ---------------------------------------------------------------------------
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES
    (200, 1, 'Ratio region', 'region'), (210, 200, 'Ratio A', 'team'), (220, 200, 'Ratio B', 'team');
INSERT INTO salesperf.rep (rep_id, name) VALUES (201, 'Rhea'), (202, 'Rolf'), (203, 'Rosa');
SELECT salesperf.assign(201, 210, '2025-01-01 00:00+00'), salesperf.assign(202, 210, '2025-01-01 00:00+00'),
       salesperf.assign(203, 220, '2025-01-01 00:00+00');
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at)
SELECT 201, 'deal_won', 1000, timestamptz '2025-05-05 10:00+00'
UNION ALL SELECT 201, 'call', 60, timestamptz '2025-05-06 09:00+00' + g * interval '1 hour' FROM generate_series(0, 2) g
UNION ALL SELECT 201, 'email', 1, timestamptz '2025-05-07 09:00+00' + g * interval '1 hour' FROM generate_series(0, 6) g
UNION ALL SELECT 201, 'bonus', 4, timestamptz '2025-05-08 10:00+00'
UNION ALL SELECT 202, 'deal_won', 300, timestamptz '2025-05-05 11:00+00'
UNION ALL SELECT 202, 'deal_won', 200, timestamptz '2025-05-09 11:00+00'
UNION ALL SELECT 202, 'call', 30, timestamptz '2025-05-06 12:00+00'
UNION ALL SELECT 203, 'call', 45, timestamptz '2025-05-10 09:00+00' + g * interval '1 hour' FROM generate_series(0, 3) g
UNION ALL SELECT 203, 'bonus', 2, timestamptz '2025-05-11 10:00+00';

SELECT salesperf.define_kpi('revenue_per_point', measure => 'ratio', numerator => 'revenue', denominator => 'points');
SELECT salesperf.define_kpi('points_per_deal', measure => 'ratio', numerator => 'points', denominator => 'deals_won');
SELECT salesperf.create_leaderboard('rpp board', metric => 'revenue_per_point', unit_scope => 200);
SELECT salesperf.create_leaderboard('ppd board', metric => 'points_per_deal', unit_scope => 200);

-- The month of May 2025 by scope, from the ledger.  A ratio is its parts'
-- KPI values divided: revenue of a rep without deals is 0 (an empty sum,
-- SPEC §6), so Rosa's revenue_per_point is 0, not NULL.
CREATE VIEW edges.may AS
SELECT o.*, t.ancestor_id
  FROM edges.oracle_activity o
  LEFT JOIN salesperf.unit_tree t ON t.descendant_id = o.unit_id
 WHERE o.occurred_at >= '2025-05-01 00:00+00' AND o.occurred_at < '2025-06-01 00:00+00';

SELECT is(salesperf.kpi_value('revenue_per_point', 'rep', r, 'month', '2025-05-20 12:00+00'),
          (SELECT COALESCE(sum(amount) FILTER (WHERE kind = 'deal_won'), 0) / NULLIF(sum(points), 0)
             FROM edges.oracle_activity
            WHERE rep_id = r AND occurred_at >= '2025-05-01 00:00+00' AND occurred_at < '2025-06-01 00:00+00'),
          format('revenue_per_point of rep %s: revenue / points of every kind (deals, calls, capped e-mails, bonus)', r))
  FROM unnest(ARRAY[201, 202, 203]::bigint[]) r;
SELECT is(salesperf.kpi_value('revenue_per_point', 'unit', 200, 'month', '2025-05-20 12:00+00'),
          (SELECT COALESCE(sum(amount) FILTER (WHERE kind = 'deal_won'), 0) / NULLIF(sum(points), 0)
             FROM edges.may WHERE ancestor_id = 200),
          'revenue_per_point of a unit subtree: revenue / points of every kind');
SELECT is(salesperf.kpi_value('revenue_per_point', 'company', NULL, 'month', '2025-05-20 12:00+00'),
          (SELECT COALESCE(sum(amount) FILTER (WHERE kind = 'deal_won'), 0) / NULLIF(sum(points), 0)
             FROM edges.oracle_activity
            WHERE occurred_at >= '2025-05-01 00:00+00' AND occurred_at < '2025-06-01 00:00+00'),
          'revenue_per_point of the company: revenue / points of every kind');
SELECT results_eq(
    $$SELECT participant_id, round(score, 4) FROM salesperf.leaderboard_top('rpp board', 10, '2025-05-20 12:00+00')$$,
    $$SELECT rep_id, round(v, 4) FROM (
        SELECT r.rep_id, COALESCE(sum(o.amount) FILTER (WHERE o.kind = 'deal_won'), 0) / NULLIF(sum(o.points), 0) AS v
          FROM salesperf.rep r LEFT JOIN edges.may o ON o.rep_id = r.rep_id AND o.ancestor_id = 200
         WHERE r.rep_id IN (201, 202, 203) GROUP BY r.rep_id) x
      ORDER BY v DESC NULLS LAST, rep_id$$,
    'a revenue_per_point board ranks reps by revenue / points of every kind, with those scores');
SELECT is(salesperf.kpi_value('points_per_deal', 'rep', r, 'month', '2025-05-20 12:00+00'),
          (SELECT sum(points) / NULLIF(count(*) FILTER (WHERE kind = 'deal_won'), 0)
             FROM edges.oracle_activity
            WHERE rep_id = r AND occurred_at >= '2025-05-01 00:00+00' AND occurred_at < '2025-06-01 00:00+00'),
          format('points_per_deal of rep %s: points of every kind / deals won', r))
  FROM unnest(ARRAY[201, 202]::bigint[]) r;
SELECT is(salesperf.kpi_value('points_per_deal', 'unit', 200, 'month', '2025-05-20 12:00+00'),
          (SELECT sum(points) / NULLIF(count(*) FILTER (WHERE kind = 'deal_won'), 0)
             FROM edges.may WHERE ancestor_id = 200),
          'points_per_deal of a unit subtree');
SELECT results_eq(
    $$SELECT participant_id, round(score, 4) FROM salesperf.leaderboard_top('ppd board', 10, '2025-05-20 12:00+00')$$,
    $$SELECT rep_id, round(v, 4) FROM (
        SELECT r.rep_id, sum(o.points) / NULLIF(count(o.*) FILTER (WHERE o.kind = 'deal_won'), 0) AS v
          FROM salesperf.rep r LEFT JOIN edges.may o ON o.rep_id = r.rep_id AND o.ancestor_id = 200
         WHERE r.rep_id IN (201, 202, 203) GROUP BY r.rep_id) x
      ORDER BY v DESC NULLS LAST, rep_id$$,
    'a points_per_deal board ranks reps by points / deals won (no deal: NULL, last)');
SELECT is(edges.state_diff(), NULL, 'ratio boards: state equals recompute()');

-- ---------------------------------------------------------------------------
-- 3. Editing a KPI, a board or the unit tree re-derives at once (SPEC §2:
-- derived state always equals recompute()).
-- Defects pinned: no trigger on salesperf.kpi or salesperf.leaderboard, so
-- standings keep the old direction, period, scope and metric, and a KPI's
-- internal num_kind keeps the old kind.
-- ---------------------------------------------------------------------------
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES
    (300, 1, 'Edit region', 'region'), (350, 1, 'Other region', 'region'),
    (310, 300, 'Edit A', 'team'), (320, 300, 'Edit B', 'team'), (330, 300, 'Edit empty', 'team'),
    (340, 300, 'Edit D', 'team');
INSERT INTO salesperf.rep (rep_id, name) VALUES (301, 'Eli'), (302, 'Eva'), (303, 'Ezra'), (304, 'Emma');
SELECT salesperf.assign(301, 310, '2025-01-01 00:00+00'), salesperf.assign(302, 310, '2025-01-01 00:00+00'),
       salesperf.assign(303, 320, '2025-01-01 00:00+00'), salesperf.assign(304, 340, '2025-01-01 00:00+00');
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at) VALUES
    (301, 'meeting', 1, '2025-07-03 10:00+00'), (301, 'meeting', 1, '2025-07-14 10:00+00'),
    (301, 'meeting', 1, '2025-07-16 09:00+00'), (301, 'call', 60, '2025-07-16 08:00+00'),
    (301, 'call', 60, '2025-07-02 08:00+00'),
    (302, 'meeting', 1, '2025-07-15 10:00+00'), (302, 'call', 60, '2025-07-16 07:00+00'),
    (302, 'call', 60, '2025-07-16 07:30+00'), (302, 'call', 60, '2025-07-10 07:00+00'),
    (302, 'call', 60, '2025-07-10 08:00+00'), (302, 'call', 60, '2025-07-10 09:00+00'),
    (303, 'meeting', 1, '2025-07-16 10:00+00'), (303, 'meeting', 1, '2025-07-01 10:00+00'),
    (303, 'call', 60, '2025-07-16 11:00+00'),
    (304, 'meeting', 1, '2025-07-14 10:00+00'), (304, 'meeting', 1, '2025-07-14 11:00+00'),
    (304, 'meeting', 1, '2025-07-15 10:00+00'), (304, 'meeting', 1, '2025-07-15 11:00+00'),
    (304, 'call', 60, '2025-07-16 06:00+00'), (304, 'call', 60, '2025-07-16 06:30+00'),
    (304, 'call', 60, '2025-07-16 06:45+00');
SELECT salesperf.define_kpi('edit_touches', 'meeting');
SELECT salesperf.create_leaderboard('edit calls', metric => 'calls', unit_scope => 300);
SELECT salesperf.create_leaderboard('edit touches', metric => 'edit_touches', unit_scope => 300);
SELECT salesperf.create_leaderboard('edit teams', metric => 'calls', participant => 'unit', unit_kind => 'team',
                                    unit_scope => 300);

UPDATE salesperf.kpi SET higher_is_better = false WHERE name = 'edit_touches';
SELECT is((SELECT participant_id FROM salesperf.leaderboard_top('edit touches', 1, '2025-07-16 12:00+00')),
          (SELECT rep_id FROM salesperf.activity
            WHERE kind = 'meeting' AND rep_id BETWEEN 301 AND 304
              AND occurred_at >= '2025-07-01 00:00+00' AND occurred_at < '2025-08-01 00:00+00'
            GROUP BY rep_id ORDER BY count(*) LIMIT 1),
          'KPI made lower-is-better: the top of its board is the rep with the fewest meetings');
SELECT results_eq($$SELECT * FROM salesperf.leaderboard_top('edit touches', 1, '2025-07-16 12:00+00')$$,
                  $$SELECT * FROM salesperf.leaderboard_top('edit touches', 10, '2025-07-16 12:00+00') LIMIT 1$$,
                  'KPI made lower-is-better: leaderboard_top(b, 1) is the first row of leaderboard_top(b, 10)');
SELECT is(edges.state_diff(), NULL, 'KPI made lower-is-better: state equals recompute()');

UPDATE salesperf.leaderboard SET period = 'week' WHERE name = 'edit calls';
SELECT is(edges.reads_diff('edit calls', '2025-07-16 12:00+00'), NULL,
          'board period changed to week: its top lists reps and reads as after recompute()');
SELECT is(edges.state_diff(), NULL, 'board period changed to week: state equals recompute()');
UPDATE salesperf.leaderboard SET period = 'day' WHERE name = 'edit calls';
SELECT is(edges.reads_diff('edit calls', '2025-07-16 12:00+00'), NULL,
          'board period changed to day: its top lists reps and reads as after recompute()');
SELECT is(edges.state_diff(), NULL, 'board period changed to day: state equals recompute()');
UPDATE salesperf.leaderboard SET period = 'all' WHERE name = 'edit calls';
SELECT is(edges.reads_diff('edit calls', '2025-07-16 12:00+00'), NULL,
          'board period changed to all: its top lists reps and reads as after recompute()');
SELECT is(edges.state_diff(), NULL, 'board period changed to all: state equals recompute()');

UPDATE salesperf.leaderboard SET period = 'month', unit_scope = 310 WHERE name = 'edit calls';
SELECT is(edges.reads_diff('edit calls', '2025-07-16 12:00+00'), NULL,
          'board unit_scope changed: its top reads as after recompute()');
SELECT is(edges.state_diff(), NULL, 'board unit_scope changed: state equals recompute()');

UPDATE salesperf.leaderboard SET metric = 'edit_touches' WHERE name = 'edit calls';
SELECT is(edges.reads_diff('edit calls', '2025-07-16 12:00+00'), NULL,
          'board metric changed: its top reads as after recompute()');
SELECT is(edges.state_diff(), NULL, 'board metric changed: state equals recompute()');

UPDATE salesperf.kpi SET kind = 'call' WHERE name = 'edit_touches';
SELECT is(salesperf.kpi_value('edit_touches', 'rep', r, 'month', '2025-07-16 12:00+00'),
          (SELECT count(*)::numeric FROM salesperf.activity
            WHERE rep_id = r AND kind = 'call'
              AND occurred_at >= '2025-07-01 00:00+00' AND occurred_at < '2025-08-01 00:00+00'),
          format('KPI kind changed to call: kpi_value counts rep %s''s calls', r))
  FROM unnest(ARRAY[301, 302]::bigint[]) r;
SELECT is(edges.reads_diff('edit touches', '2025-07-16 12:00+00'), NULL,
          'KPI kind changed to call: its board reads as after recompute()');
SELECT is(edges.state_diff(), NULL, 'KPI kind changed to call: state equals recompute()');

UPDATE salesperf.unit SET parent_id = 350 WHERE unit_id = 320;
SELECT is(edges.reads_diff('edit teams', '2025-07-16 12:00+00'), NULL,
          'team re-parented out of the board''s scope: the unit board reads as after recompute()');
SELECT is(edges.state_diff(), NULL, 'team re-parented: state equals recompute()');
UPDATE salesperf.unit SET name = 'Edit A renamed' WHERE unit_id = 310;
SELECT is(edges.reads_diff('edit teams', '2025-07-16 12:00+00'), NULL,
          'team renamed: the unit board reads as after recompute()');
UPDATE salesperf.unit SET kind = 'pod' WHERE unit_id = 340;
SELECT is(edges.reads_diff('edit teams', '2025-07-16 12:00+00'), NULL,
          'team retyped to pod: the unit board reads as after recompute()');
SELECT is(edges.state_diff(), NULL, 'team retyped: state equals recompute()');
DELETE FROM salesperf.unit WHERE unit_id = 330;
SELECT is(edges.reads_diff('edit teams', '2025-07-16 12:00+00'), NULL,
          'leaf team without members deleted: the unit board reads as after recompute()');
SELECT is(edges.state_diff(), NULL, 'leaf team deleted: state equals recompute()');

-- ---------------------------------------------------------------------------
-- 6. No false arrows on a new board (SPEC §8: previous_rank is NULL for a
-- participant who recorded nothing in the previous period).
-- Defect pinned: the previous period's ranking counts every member of the
-- scope as a zero scorer, so reps new to the board get an arrow.
-- ---------------------------------------------------------------------------
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES (600, 1, 'Arrows', 'team');
INSERT INTO salesperf.rep (rep_id, name) VALUES (601, 'Ada'), (602, 'Bea'), (603, 'Cal'), (604, 'Dot');
SELECT salesperf.assign(r, 600, '2025-01-01 00:00+00') FROM generate_series(601, 604) r;
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at)
SELECT 601, 'call', 60, timestamptz '2025-09-10 09:00+00' + g * interval '1 hour' FROM generate_series(0, 2) g
UNION ALL SELECT 602, 'call', 60, timestamptz '2025-09-12 09:00+00'
UNION ALL SELECT 601, 'call', 60, timestamptz '2025-10-03 09:00+00' + g * interval '1 hour' FROM generate_series(0, 1) g
UNION ALL SELECT 602, 'call', 60, timestamptz '2025-10-04 09:00+00' + g * interval '1 hour' FROM generate_series(0, 3) g
UNION ALL SELECT 603, 'call', 60, timestamptz '2025-10-05 09:00+00';
SELECT salesperf.create_leaderboard('arrows', metric => 'calls', unit_scope => 600);

-- Expected from the ledger: rank this month among the four members; the
-- previous rank only for reps who recorded something in September.
CREATE VIEW edges.arrows AS
WITH cur AS (
    SELECT r AS rep_id, (SELECT count(*) FROM salesperf.activity a
                          WHERE a.rep_id = r AND a.kind = 'call'
                            AND a.occurred_at >= '2025-10-01 00:00+00' AND a.occurred_at < '2025-11-01 00:00+00') AS n
      FROM generate_series(601, 604) r),
prev AS (
    SELECT a.rep_id, rank() OVER (ORDER BY count(*) DESC) AS rank
      FROM salesperf.activity a
     WHERE a.rep_id BETWEEN 601 AND 604
       AND a.occurred_at >= '2025-09-01 00:00+00' AND a.occurred_at < '2025-10-01 00:00+00'
     GROUP BY a.rep_id)
SELECT c.rep_id::bigint, rank() OVER (ORDER BY c.n DESC) AS rank, p.rank AS previous_rank,
       (p.rank - rank() OVER (ORDER BY c.n DESC))::integer AS movement, c.n
  FROM cur c LEFT JOIN prev p USING (rep_id);

SELECT results_eq(
    $$SELECT participant_id, rank, previous_rank, movement FROM salesperf.leaderboard_top('arrows', 10, '2025-10-15 12:00+00')$$,
    $$SELECT rep_id, rank, previous_rank, movement FROM edges.arrows ORDER BY n DESC, rep_id$$,
    'new board: reps with nothing last month have no previous_rank and no movement; the others their final rank');
SELECT results_eq(
    $$SELECT participant_id, rank, previous_rank, movement FROM salesperf.leaderboard_top('arrows', 3, '2025-10-15 12:00+00')$$,
    $$SELECT rep_id, rank, previous_rank, movement FROM edges.arrows ORDER BY n DESC, rep_id LIMIT 3$$,
    'new board, short top: the same arrows');
SELECT is((SELECT count(*)::int FROM salesperf.leaderboard_top('arrows', 10, '2025-10-15 12:00+00')
            WHERE participant_id IN (603, 604) AND (previous_rank IS NOT NULL OR movement IS NOT NULL)),
          0, 'new board: no arrow for the two reps who recorded nothing in September');

-- ---------------------------------------------------------------------------
-- 7. Scores print with the scale a person expects.
-- Defect pinned: a points score keeps the scale of the rules' numerics
-- (98 x 0.50 prints 49.00), a revenue score the scale of the amounts.
-- ---------------------------------------------------------------------------
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES (700, 1, 'Scale', 'team');
INSERT INTO salesperf.rep (rep_id, name) VALUES (701, 'Vic'), (702, 'Val'), (703, 'Vera');
SELECT salesperf.assign(r, 700, '2025-01-01 00:00+00') FROM generate_series(701, 703) r;
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at)
SELECT 701, 'visit', 1, timestamptz '2025-12-01 08:00+00' + g * interval '5 minutes' FROM generate_series(1, 98) g
UNION ALL SELECT 702, 'visit', 1, timestamptz '2025-12-02 08:00+00' + g * interval '5 minutes' FROM generate_series(1, 5) g
UNION ALL SELECT 703, 'call', 60, timestamptz '2025-12-03 08:00+00' + g * interval '5 minutes' FROM generate_series(1, 3) g
UNION ALL SELECT 703, 'deal_won', 617.255, timestamptz '2025-12-04 10:00+00'
UNION ALL SELECT 703, 'deal_won', 617.245, timestamptz '2025-12-05 10:00+00';
SELECT salesperf.create_leaderboard('scale points', unit_scope => 700);
SELECT salesperf.create_leaderboard('scale calls', metric => 'calls', unit_scope => 700);
SELECT salesperf.create_leaderboard('scale revenue', metric => 'revenue', unit_scope => 700);

SELECT is((SELECT score::text FROM salesperf.leaderboard_top('scale points', 10, '2025-12-15 12:00+00')
            WHERE participant_id = 701), '49', 'points board: 98 visits at 0.50 print as 49');
SELECT is((SELECT score::text FROM salesperf.leaderboard_top('scale points', 10, '2025-12-15 12:00+00')
            WHERE participant_id = 702), '2.5', 'points board: 5 visits at 0.50 print as 2.5');
SELECT is((SELECT string_agg(participant_id || '=' || score, ', ' ORDER BY participant_id)
             FROM salesperf.leaderboard_top('scale points', 10, '2025-12-15 12:00+00')
            WHERE score::text ~ '\.\d*0$'), NULL, 'points board: no score prints trailing zeros');
SELECT is((SELECT string_agg(participant_id || '=' || score, ', ' ORDER BY participant_id)
             FROM salesperf.leaderboard_top('scale calls', 10, '2025-12-15 12:00+00')
            WHERE score::text !~ '^\d+$'), NULL, 'count board: every score prints as an integer');
SELECT is((SELECT score::text FROM salesperf.leaderboard_top('scale calls', 10, '2025-12-15 12:00+00')
            WHERE participant_id = 703), '3', 'count board: 3 calls print as 3');
SELECT is((SELECT string_agg(participant_id || '=' || score, ', ' ORDER BY participant_id)
             FROM salesperf.leaderboard_top('scale revenue', 10, '2025-12-15 12:00+00')
            WHERE scale(score) > (SELECT currency_scale FROM salesperf.settings)), NULL,
          'revenue board: no score has more decimals than settings.currency_scale');
SELECT is((SELECT round(score, (SELECT currency_scale FROM salesperf.settings))
             FROM salesperf.leaderboard_top('scale revenue', 10, '2025-12-15 12:00+00') WHERE participant_id = 703),
          (SELECT round(sum(amount), (SELECT currency_scale FROM salesperf.settings)) FROM salesperf.activity
            WHERE rep_id = 703 AND kind = 'deal_won'),
          'revenue board: the score is the revenue rounded to currency_scale');

-- ---------------------------------------------------------------------------
-- 8. History and today's org chart: the previous period's ranks are history.
-- Defect pinned: previous ranks are computed over today's active reps, so
-- deactivating a rep today moves the others' previous_rank.
-- January 2025 (the previous period) is fully in the past.
-- ---------------------------------------------------------------------------
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES (800, 1, 'History', 'team');
INSERT INTO salesperf.rep (rep_id, name) VALUES (801, 'Hal'), (802, 'Hana'), (803, 'Hugo');
SELECT salesperf.assign(r, 800, '2024-12-01 00:00+00') FROM generate_series(801, 803) r;
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at)
SELECT 801, 'call', 60, timestamptz '2025-01-10 09:00+00' + g * interval '1 hour' FROM generate_series(1, 5) g
UNION ALL SELECT 802, 'call', 60, timestamptz '2025-01-11 09:00+00' + g * interval '1 hour' FROM generate_series(1, 3) g
UNION ALL SELECT 803, 'call', 60, timestamptz '2025-01-12 09:00+00'
UNION ALL SELECT 801, 'call', 60, timestamptz '2025-02-03 09:00+00'
UNION ALL SELECT 802, 'call', 60, timestamptz '2025-02-04 09:00+00' + g * interval '1 hour' FROM generate_series(1, 2) g
UNION ALL SELECT 803, 'call', 60, timestamptz '2025-02-05 09:00+00' + g * interval '1 hour' FROM generate_series(1, 4) g;
SELECT salesperf.create_leaderboard('history', metric => 'calls', unit_scope => 800);
UPDATE salesperf.rep SET active = false WHERE rep_id = 801;

-- Expected: January ranks over everyone who scored in January (801 first),
-- February ranks over today's active reps.
SELECT results_eq(
    $$SELECT participant_id, rank, previous_rank, movement FROM salesperf.leaderboard_top('history', 10, '2025-02-15 12:00+00')$$,
    $$WITH jan AS (SELECT rep_id, rank() OVER (ORDER BY count(*) DESC) AS rank FROM salesperf.activity
                    WHERE rep_id BETWEEN 801 AND 803 AND occurred_at >= '2025-01-01 00:00+00' AND occurred_at < '2025-02-01 00:00+00'
                    GROUP BY rep_id),
           feb AS (SELECT a.rep_id, rank() OVER (ORDER BY count(*) DESC) AS rank, count(*) AS n
                     FROM salesperf.activity a JOIN salesperf.rep r ON r.rep_id = a.rep_id AND r.active
                    WHERE a.rep_id BETWEEN 801 AND 803 AND a.occurred_at >= '2025-02-01 00:00+00' AND a.occurred_at < '2025-03-01 00:00+00'
                    GROUP BY a.rep_id)
      SELECT feb.rep_id, feb.rank, jan.rank, (jan.rank - feb.rank)::integer
        FROM feb LEFT JOIN jan USING (rep_id) ORDER BY feb.n DESC, feb.rep_id$$,
    'a rep deactivated today still counts in last period''s ranks; the current top no longer lists them');
SELECT results_eq(
    $$SELECT participant_id, previous_rank FROM salesperf.leaderboard_top('history', 1, '2025-02-15 12:00+00')$$,
    $$VALUES (803::bigint, 3::bigint)$$,
    'short top: the leader''s previous_rank is its January rank among all who scored (3)');
SELECT is((SELECT count(*)::int FROM salesperf.leaderboard_top('history', 10, '2025-02-15 12:00+00') WHERE participant_id = 801),
          0, 'the deactivated rep is not listed in the current period');

-- ---------------------------------------------------------------------------
-- 9. Deleting a rep that has activities is refused and keeps the rep.
-- 10. record() of an unknown rep names it (42704); a kind in use stays.
-- Defect pinned (10): record() inserts activities for reps that do not exist.
-- ---------------------------------------------------------------------------
SELECT throws_ok($$DELETE FROM salesperf.rep WHERE rep_id = 801$$, '23503', NULL,
                 'deleting a rep that has activities is refused (23503)');
SELECT is((SELECT count(*)::int FROM salesperf.rep WHERE rep_id = 801), 1, 'the rep is kept');
SELECT throws_ok($$SELECT salesperf.record(999999, 'call', 60, '2025-08-01 10:00+00')$$, '42704', NULL,
                 'record() of an unknown rep raises 42704');
SELECT is((SELECT count(*)::int FROM salesperf.activity WHERE rep_id = 999999), 0,
          'no activity is left for the unknown rep');
SELECT throws_ok($$DELETE FROM salesperf.activity_kind WHERE kind = 'email'$$, '23503', NULL,
                 'deleting an activity kind in use is refused (23503)');

-- ---------------------------------------------------------------------------
-- 5. Errors that name the right problem (SPEC §13).
-- Defects pinned: a cycle made by one statement slips past the per-row check
-- (the closure is updated after the statement); kpi_score accepts a negative
-- cap and target; create_leaderboard accepts an empty name and a unit kind
-- no unit has.
-- ---------------------------------------------------------------------------
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES (501, 1, 'Loop A', 'team'), (502, 1, 'Loop B', 'team');
SELECT throws_ok($$UPDATE salesperf.unit SET parent_id = CASE unit_id WHEN 501 THEN 502 WHEN 502 THEN 501 END
                    WHERE unit_id IN (501, 502)$$, '22023', NULL,
                 'a two-unit cycle made in one statement is refused as a cycle (22023)');
SELECT is((SELECT array_agg(parent_id ORDER BY unit_id) FROM salesperf.unit WHERE unit_id IN (501, 502)),
          ARRAY[1, 1]::bigint[], 'the refused cycle changes no parent');
SELECT throws_ok($$SELECT salesperf.kpi_score(a, t, w, c) FROM (VALUES (1::numeric, 2::numeric, 1::numeric, -1::numeric)) v(a, t, w, c)$$,
                 '22003', NULL, 'kpi_score with a negative cap raises 22003');
SELECT throws_ok($$SELECT salesperf.kpi_score(a, t, w) FROM (VALUES (1::numeric, -2::numeric, 1::numeric)) v(a, t, w)$$,
                 '22003', NULL, 'kpi_score with a negative target raises 22003');
SELECT throws_ok($$SELECT salesperf.kpi_score(a, t, w) FROM (VALUES (1::numeric, 2::numeric, -1::numeric)) v(a, t, w)$$,
                 '22003', NULL, 'kpi_score with a negative weight raises 22003');
SELECT throws_ok($$SELECT salesperf.create_leaderboard('')$$, '22023', NULL,
                 'create_leaderboard with an empty name raises 22023');
SELECT throws_ok($$SELECT salesperf.create_leaderboard('x', participant => 'unit', unit_kind => 'galaxy')$$, '22023', NULL,
                 'create_leaderboard over a unit kind no unit has raises 22023');
SELECT is((SELECT count(*)::int FROM salesperf.leaderboard WHERE name IN ('', 'x')), 0,
          'the refused boards are not created');

-- ---------------------------------------------------------------------------
-- 4. Configuration written directly (SPEC §3: a change that moves period
-- boundaries rebuilds derived state).
-- Defects pinned: no trigger on salesperf.configuration, so a direct UPDATE
-- neither rebuilds nor validates the time zone; week_start and calendar are
-- refused by CHECK constraints with 23514, not 22023.
-- Last section: on an engine that accepts the bad time zone, later reads fail.
-- ---------------------------------------------------------------------------
INSERT INTO salesperf.rep (rep_id, name) VALUES (401, 'Toshi');
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at) VALUES
    (401, 'call', 60, '2025-08-10 10:00+00'),   -- Tokyo 2025-08-10 19:00
    (401, 'call', 60, '2025-08-10 16:00+00'),   -- Tokyo 2025-08-11 01:00
    (401, 'call', 60, '2025-08-11 14:00+00');   -- Tokyo 2025-08-11 23:00
UPDATE salesperf.configuration SET time_zone = 'Asia/Tokyo';
SELECT is(edges.state_diff(), NULL, 'time_zone set by UPDATE of configuration: state equals recompute()');
SELECT is(salesperf.kpi_value('calls', 'rep', 401, 'day', t),
          (SELECT count(*)::numeric FROM salesperf.activity
            WHERE rep_id = 401 AND kind = 'call'
              AND (occurred_at AT TIME ZONE 'Asia/Tokyo')::date = (t AT TIME ZONE 'Asia/Tokyo')::date),
          format('time_zone set by UPDATE: kpi_value(calls, day, %s) counts the Tokyo day', t))
  FROM unnest(ARRAY['2025-08-10 12:00+00', '2025-08-10 18:00+00']::timestamptz[]) t;

SELECT throws_ok($$UPDATE salesperf.configuration SET time_zone = 'Mars/Olympus'$$, '22023', NULL,
                 'an unknown time zone written to configuration raises 22023');
SELECT is((SELECT time_zone FROM salesperf.settings), 'Asia/Tokyo', 'the unknown time zone changes nothing');
SELECT lives_ok($$SELECT salesperf.record(401, 'call', 60, '2025-08-12 03:00+00')$$,
                'record() still works after the refused time zone');
SELECT throws_ok($$UPDATE salesperf.configuration SET week_start = 9$$, '22023', NULL,
                 'week_start 9 written to configuration raises 22023');
SELECT is((SELECT week_start FROM salesperf.settings), 1, 'the refused week_start changes nothing');
SELECT throws_ok($$UPDATE salesperf.configuration SET calendar = 'lunar'$$, '22023', NULL,
                 'an unknown calendar written to configuration raises 22023');
SELECT is((SELECT calendar FROM salesperf.settings), 'gregorian', 'the refused calendar changes nothing');
SELECT is(edges.state_diff(), NULL, 'after the refused settings, state equals recompute()');

-- ---------------------------------------------------------------------------
-- Edits that cannot be supported are refused with a clear error and change
-- nothing (README: every configuration change).
-- ---------------------------------------------------------------------------
SELECT throws_ok($$UPDATE salesperf.kpi SET name = 'ringing' WHERE name = 'calls'$$, '22023', NULL,
                 'renaming a KPI is refused with 22023');
SELECT is((SELECT count(*) FROM salesperf.kpi WHERE name = 'calls'), 1::bigint, 'the KPI keeps its name');
SELECT throws_ok($$UPDATE salesperf.kpi SET measure = 'median' WHERE name = 'calls'$$, '22023', NULL,
                 'an unknown measure written to a KPI is refused with 22023');
SELECT throws_ok($$UPDATE salesperf.kpi SET kind = 'telepathy' WHERE name = 'calls'$$, '42704', NULL,
                 'an unknown kind written to a KPI is refused with 42704');
SELECT is((SELECT num_kind FROM salesperf.kpi WHERE name = 'calls'), 'call', 'the refused KPI edits change nothing');
SELECT throws_ok($$UPDATE salesperf.leaderboard SET board_id = board_id + 1000
                    WHERE board_id = (SELECT min(board_id) FROM salesperf.leaderboard)$$, '22023', NULL,
                 'changing a board''s id is refused with 22023');
SELECT throws_ok($$UPDATE salesperf.unit SET unit_id = unit_id + 1000
                    WHERE unit_id = (SELECT min(unit_id) FROM salesperf.unit)$$, '22023', NULL,
                 'changing a unit''s id is refused with 22023');
SELECT is(edges.state_diff(), NULL, 'after the refused edits, state equals recompute()');

SELECT * FROM finish();
ROLLBACK;
