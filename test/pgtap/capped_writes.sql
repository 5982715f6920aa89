-- Capped rules on the write path: rows that come after their day's last
-- activity earn from the day's running total, one-row inserts take their
-- own prepared path, bulk inserts the set-based one; back-dated rows, ties,
-- updates and deletes re-derive.  Every mix must leave capped_award,
-- kpi_counter, standing and badge awards exactly as recompute() builds
-- them, including around Havana's clock changes at midnight:
--   2025-11-02 05:00 UTC: 00:00-01:00 happens twice; the local day starts
--                         at the first midnight, 04:00 UTC
--   2025-03-09 05:00 UTC: 00:00 is skipped; the local day starts at 01:00,
--                         05:00 UTC
-- Hand-checked awards first (rule 'call time': 0.01 point per second, at
-- most 3 a day; rule 'email sent': 2 points, at most 5 a day), then a
-- randomized CRM day mixing record(), single-row INSERTs, multi-row
-- INSERTs, back-dated rows, ties, updates and deletes in one transaction.
BEGIN;
SET LOCAL client_min_messages = warning;
SET LOCAL jit = off;
SELECT plan(20);

CREATE SCHEMA cw;

-- Differences between the maintained state and what recompute() builds
-- (recompute() runs in a subtransaction that is rolled back): the count
-- and the first difference.
CREATE FUNCTION cw.diff(OUT n bigint, OUT first text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    re_award    salesperf.capped_award[];
    re_counter  salesperf.kpi_counter[];
    re_standing salesperf.standing[];
    re_badge    text[];
BEGIN
    BEGIN
        PERFORM salesperf.recompute();
        re_award := ARRAY(SELECT c FROM salesperf.capped_award c);
        re_counter := ARRAY(SELECT c FROM salesperf.kpi_counter c);
        re_standing := ARRAY(SELECT c FROM salesperf.standing c);
        re_badge := ARRAY(SELECT format('%s/%s/%s', b.badge_id, b.rep_id, b.period_start)
                            FROM salesperf.badge_award b);
        RAISE EXCEPTION 'undo recompute' USING ERRCODE = 'CW001';
    EXCEPTION WHEN SQLSTATE 'CW001' THEN
        NULL;
    END;
    SELECT count(*), min(x.line) INTO n, first
      FROM (SELECT 'maintained award ' || d::text AS line
              FROM (SELECT * FROM salesperf.capped_award EXCEPT ALL SELECT * FROM unnest(re_award)) d
            UNION ALL
            SELECT 'recomputed award ' || d::text
              FROM (SELECT * FROM unnest(re_award) EXCEPT ALL SELECT * FROM salesperf.capped_award) d
            UNION ALL
            SELECT 'maintained counter ' || d::text
              FROM (SELECT * FROM salesperf.kpi_counter EXCEPT ALL SELECT * FROM unnest(re_counter)) d
            UNION ALL
            SELECT 'recomputed counter ' || d::text
              FROM (SELECT * FROM unnest(re_counter) EXCEPT ALL SELECT * FROM salesperf.kpi_counter) d
            UNION ALL
            SELECT 'maintained standing ' || d::text
              FROM (SELECT * FROM salesperf.standing EXCEPT ALL SELECT * FROM unnest(re_standing)) d
            UNION ALL
            SELECT 'recomputed standing ' || d::text
              FROM (SELECT * FROM unnest(re_standing) EXCEPT ALL SELECT * FROM salesperf.standing) d
            UNION ALL
            SELECT 'recomputed badge award ' || d
              FROM (SELECT unnest(re_badge)
                    EXCEPT ALL
                    SELECT format('%s/%s/%s', b.badge_id, b.rep_id, b.period_start)
                      FROM salesperf.badge_award b) y(d)) x;
END
$$;

-- 'ok' or the first difference.
CREATE FUNCTION cw.state() RETURNS text
LANGUAGE sql VOLATILE AS
$$ SELECT CASE WHEN d.n = 0 THEN 'ok' ELSE d.n || ' differences, first: ' || d.first END FROM cw.diff() d $$;

-- Awards of 'call time' of a rep, in ledger order, as text.
CREATE FUNCTION cw.call_awards(of_rep bigint, of_day date) RETURNS text
LANGUAGE sql STABLE AS $$
SELECT string_agg(to_char(a.occurred_at AT TIME ZONE 'UTC', 'HH24:MI') || '=' || COALESCE(trim_scale(c.points), 0)::text,
                  ' ' ORDER BY a.occurred_at, a.activity_id)
  FROM salesperf.activity a
  LEFT JOIN salesperf.capped_award c
         ON c.activity_id = a.activity_id
        AND c.rule_id = (SELECT r.rule_id FROM salesperf.point_rule r WHERE r.name = 'call time')
 WHERE a.rep_id = of_rep AND a.kind = 'call'
   AND salesperf.local_day(a.occurred_at, 'America/Havana') = of_day
$$;

SELECT salesperf.configure(time_zone => 'America/Havana');
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES
    (1, NULL, 'Acme', 'company'), (10, 1, 'Havana', 'team'), (11, 1, 'Varadero', 'team');
INSERT INTO salesperf.rep (rep_id, name) SELECT g, 'Rep ' || g FROM generate_series(1, 6) g;
SELECT salesperf.assign(g, CASE WHEN g <= 3 THEN 10 ELSE 11 END, '2025-01-01 00:00+00') FROM generate_series(1, 6) g;
-- Rep 3 changes team at 04:30 UTC on 2025-11-02, inside its local day.
SELECT salesperf.assign(3, 11, '2025-11-02 04:30+00');
INSERT INTO salesperf.point_rule (name, kind, points, points_per_amount, daily_cap) VALUES
    ('call made', 'call', 1, 0, NULL),
    ('call time', 'call', 0, 0.01, 3),
    ('email sent', 'email', 2, 0, 5);
SELECT salesperf.create_leaderboard('pts_month');
SELECT salesperf.create_leaderboard('calls_day', 'calls', period => 'day');
SELECT salesperf.create_leaderboard('team_pts_week', participant => 'unit', unit_kind => 'team', period => 'week');
INSERT INTO salesperf.badge (name) VALUES ('four points a day');
INSERT INTO salesperf.badge_rule (badge, metric, threshold, period) VALUES ('four points a day', 'points', 4, 'day');

-- ---------------------------------------------------------- hand-checked
-- In order, one row at a time: 1, 1.5, then 0.5 of the 1 earned (the cap
-- of 3 reached), then nothing.  04:10 and 04:30 are 00:10 and 00:30 local
-- of the first pass of the repeated hour, 05:30 the 00:30 of the second.
SELECT salesperf.record(1, 'call', 100, '2025-11-02 04:10+00');
SELECT salesperf.record(1, 'call', 150, '2025-11-02 04:20+00');
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at) VALUES (1, 'call', 100, '2025-11-02 04:30+00');
SELECT salesperf.record(1, 'call', 200, '2025-11-02 05:30+00');
SELECT is(cw.call_awards(1, '2025-11-02'), '04:10=1 04:20=1.5 04:30=0.5 05:30=0',
          'in-order calls earn until the daily cap, across the repeated hour');
SELECT is((SELECT points FROM salesperf.kpi_counter WHERE rep_id = 1 AND day = '2025-11-02' AND kind = 'call'),
          7::numeric, 'the day''s call counter holds 4 calls and 3 capped points');

-- A multi-row INSERT after them: nothing more for rep 1; rep 2's e-mails
-- earn 2, 2, 1, 0 in (occurred_at, id) order, the two at 06:00 by id.
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at) VALUES
    (1, 'call', 300, '2025-11-02 07:00+00'),
    (2, 'email', 1, '2025-11-02 06:00+00'),
    (2, 'email', 1, '2025-11-02 06:00+00'),
    (2, 'email', 1, '2025-11-02 06:30+00'),
    (2, 'email', 1, '2025-11-02 05:00+00');
SELECT is(cw.call_awards(1, '2025-11-02'), '04:10=1 04:20=1.5 04:30=0.5 05:30=0 07:00=0',
          'a bulk row after the cap earns nothing');
SELECT is((SELECT string_agg(trim_scale(COALESCE(c.points, 0))::text, ' ' ORDER BY a.occurred_at, a.activity_id)
             FROM salesperf.activity a LEFT JOIN salesperf.capped_award c ON c.activity_id = a.activity_id
            WHERE a.rep_id = 2 AND a.kind = 'email'),
          '2 2 1 0', 'bulk e-mails earn in (occurred_at, activity_id) order until the cap');
SELECT is(cw.state(), 'ok', 'in-order rows, one at a time and in bulk: state = recompute()');

-- Back-dated: a 200 s call at 04:05 UTC (00:05 local, first pass) earns
-- 2 and pushes the later ones back under the cap.
SELECT salesperf.record(1, 'call', 200, '2025-11-02 04:05+00');
SELECT is(cw.call_awards(1, '2025-11-02'), '04:05=2 04:10=1 04:20=0 04:30=0 05:30=0 07:00=0',
          'a back-dated call re-orders the day''s awards');
-- A tie with the last activity (same occurred_at, larger id) comes after it.
SELECT salesperf.record(1, 'call', 100, '2025-11-02 07:00+00');
SELECT is(cw.state(), 'ok', 'back-dated and tied rows: state = recompute()');

-- Rep 3 moved teams inside the day: in-order rows on both sides of the move.
SELECT salesperf.record(3, 'call', 120, '2025-11-02 04:20+00');
SELECT salesperf.record(3, 'call', 120, '2025-11-02 04:40+00');
SELECT salesperf.record(3, 'call', 120, '2025-11-02 05:40+00');
SELECT is(cw.call_awards(3, '2025-11-02'), '04:20=1.2 04:40=1.2 05:40=0.6',
          'the cap is per rep and day, whichever team the rep is in');

-- Deletes and updates of capped rows.
DELETE FROM salesperf.activity WHERE rep_id = 1 AND occurred_at = '2025-11-02 04:05+00';
SELECT is(cw.call_awards(1, '2025-11-02'), '04:10=1 04:20=1.5 04:30=0.5 05:30=0 07:00=0 07:00=0',
          'deleting a capped row gives its points back to the later ones');
UPDATE salesperf.activity SET amount = 10 WHERE rep_id = 1 AND occurred_at = '2025-11-02 04:20+00';
SELECT is(cw.call_awards(1, '2025-11-02'), '04:10=1 04:20=0.1 04:30=1 05:30=0.9 07:00=0 07:00=0',
          'a smaller amount leaves room under the cap for the later ones');
UPDATE salesperf.activity SET occurred_at = '2025-11-02 08:00+00'
 WHERE rep_id = 1 AND occurred_at = '2025-11-02 04:10+00';
SELECT is(cw.state(), 'ok', 'deletes and updates of capped rows: state = recompute()');
-- After the update the day's last activity is at 08:00: a row at 07:30 is
-- back-dated, one at 09:00 in order.
SELECT salesperf.record(1, 'call', 500, '2025-11-02 07:30+00');
SELECT salesperf.record(1, 'call', 500, '2025-11-02 09:00+00');
SELECT is(cw.state(), 'ok', 'rows around a moved last activity: state = recompute()');

-- The skipped midnight of 2025-03-09: 04:59:59 UTC is 23:59:59 of 03-08,
-- 05:00 UTC the first moment of 03-09.  Each day has its own cap.
SELECT salesperf.record(4, 'call', 250, '2025-03-09 04:00+00');
SELECT salesperf.record(4, 'call', 250, '2025-03-09 04:59:59+00');
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at) VALUES
    (4, 'call', 250, '2025-03-09 05:00+00'),
    (4, 'call', 250, '2025-03-09 05:30+00');
SELECT is(cw.call_awards(4, '2025-03-08') || ' | ' || cw.call_awards(4, '2025-03-09'),
          '04:00=2.5 04:59=0.5 | 05:00=2.5 05:30=0.5', 'each side of the skipped midnight has its own cap');
-- A bulk statement mixing an in-order row of one (rep, day) with a
-- back-dated row of another, and rows of uncapped kinds.
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at) VALUES
    (4, 'call', 100, '2025-03-09 06:00+00'),
    (4, 'call', 100, '2025-03-09 04:30+00'),
    (4, 'meeting', 1, '2025-03-09 04:30+00'),
    (5, 'call', 400, '2025-03-09 05:00+00');
SELECT is(cw.call_awards(4, '2025-03-08') || ' | ' || cw.call_awards(4, '2025-03-09'),
          '04:00=2.5 04:30=0.5 04:59=0 | 05:00=2.5 05:30=0.5 06:00=0',
          'one bulk statement: a back-dated row re-derives its day, an in-order row earns from the total');
SELECT is(cw.state(), 'ok', 'mixed bulk statement around the skipped midnight: state = recompute()');

-- A rule that is not in force all day: the in-order test is per kind.
INSERT INTO salesperf.point_rule (name, kind, points, points_per_amount, daily_cap, valid) VALUES
    ('meeting noon', 'meeting', 3, 0, 5, tstzrange('2025-11-02 17:00+00', NULL));
SELECT salesperf.record(6, 'meeting', 1, '2025-11-02 16:00+00');
SELECT salesperf.record(6, 'meeting', 1, '2025-11-02 17:00+00');
SELECT salesperf.record(6, 'meeting', 1, '2025-11-02 18:00+00');
SELECT salesperf.record(6, 'meeting', 1, '2025-11-02 16:30+00');
SELECT is((SELECT string_agg(trim_scale(c.points)::text, ' ' ORDER BY c.activity_id)
             FROM salesperf.capped_award c JOIN salesperf.point_rule r USING (rule_id)
            WHERE r.name = 'meeting noon'),
          '3 2', 'a rule valid from noon caps only the rows in force');
SELECT is(cw.state(), 'ok', 'a rule valid for part of the day: state = recompute()');

-- ------------------------------------------------------------ randomized
-- A CRM's day: each rep's clock moves forward; most rows come in order,
-- some are back-dated, some tie with the previous one; single-row INSERTs,
-- record() and multi-row INSERTs in one transaction, with updates and
-- deletes now and then.  Checked against recompute() every 40 operations.
CREATE FUNCTION cw.crm_day(seed float8, ops integer, t0 timestamptz) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    clock timestamptz[] := array_fill(t0, ARRAY[6]);
    r integer;
    k text;
    t timestamptz;
    u float8;
    st text;
BEGIN
    PERFORM setseed(seed);
    FOR i IN 1 .. ops LOOP
        r := 1 + floor(random() * 6)::integer;
        k := (ARRAY['call', 'call', 'call', 'email', 'email', 'meeting', 'deal_won'])[1 + floor(random() * 7)::integer];
        u := random();
        IF u < 0.65 THEN
            clock[r] := clock[r] + floor(random() * 50) * interval '1 minute';
            t := clock[r];
        ELSIF u < 0.80 THEN
            t := clock[r] - floor(random() * 600) * interval '1 minute';
        ELSIF u < 0.85 THEN
            t := clock[r];
        END IF;
        IF u < 0.85 THEN
            IF random() < 0.5 THEN
                PERFORM salesperf.record(r, k, floor(random() * 400)::numeric, t);
            ELSE
                INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at)
                VALUES (r, k, floor(random() * 400)::numeric, t);
            END IF;
        ELSIF u < 0.93 THEN
            -- Several rows in one statement, most after their rep's clock.
            INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at)
            SELECT x.rep, x.kind, floor(random() * 400)::numeric,
                   clock[x.rep] + (floor(random() * 240) - CASE WHEN random() < 0.2 THEN 300 ELSE 0 END)
                                  * interval '1 minute'
              FROM (SELECT 1 + floor(random() * 6)::integer AS rep,
                           (ARRAY['call', 'email', 'call'])[1 + floor(random() * 3)::integer] AS kind
                      FROM generate_series(1, 2 + floor(random() * 6)::integer)) x;
        ELSIF u < 0.97 THEN
            UPDATE salesperf.activity SET amount = floor(random() * 400)::numeric
             WHERE activity_id = (SELECT a.activity_id FROM salesperf.activity a
                                   ORDER BY a.activity_id DESC OFFSET floor(random() * 10) LIMIT 1);
        ELSE
            DELETE FROM salesperf.activity
             WHERE activity_id = (SELECT a.activity_id FROM salesperf.activity a
                                   ORDER BY a.activity_id DESC OFFSET floor(random() * 10) LIMIT 1);
        END IF;
        IF i % 40 = 0 THEN
            st := cw.state();
            IF st <> 'ok' THEN
                RETURN format('after operation %s: %s', i, st);
            END IF;
        END IF;
    END LOOP;
    RETURN cw.state();
END
$$;

SELECT is(cw.crm_day(0.11, 240, '2025-11-01 22:00+00'), 'ok',
          'a randomized CRM day across the repeated midnight: state = recompute()');
SELECT is(cw.crm_day(0.37, 240, '2025-03-08 23:00+00'), 'ok',
          'a randomized CRM day across the skipped midnight: state = recompute()');
SELECT is(cw.crm_day(0.73, 160, '2025-11-02 03:00+00'), 'ok',
          'more rows on days that already have activities: state = recompute()');

SELECT * FROM finish();
ROLLBACK;
