-- Property: whatever happens to the ledger, the memberships, the plan
-- assignments and the targets, commission statements agree with an
-- independent replay of the ledger, closed periods never change, and the
-- clawbacks and true-ups of the next open period are exactly what a replay
-- of each closed period from its frozen inputs says is still owed.
--
-- For each seed a driver sets a time zone, builds a small company (a root
-- and four teams under it, eleven reps: nine in teams, one directly in the
-- root, one in no unit and on no plan), quota plans (random curves with
-- thresholds, accelerators and caps, random weights, team bonuses) and rate
-- plans (graduated and retroactive, random tiers) of the seed's period kind
-- plus a quarterly plan that must never show in a monthly or weekly
-- statement, rep and unit targets on revenue for every period of the
-- window, then runs a fixed number of random batches: record() of won
-- deals (amounts like 1234.56) and of other kinds, bulk INSERT ... SELECT
-- into salesperf.activity, updates of amounts and of occurred_at (moving
-- deals across period boundaries, into and out of closed periods), deletes
-- of one and of many, back-dated deals in closed periods, assign() moves
-- and plan changes with assign_plan() (also mid-period), target changes,
-- and the close of the next period (every period of the window has ended:
-- the windows lie in 2024-2025).
--
-- After every batch:
--   (a) every open period's commission_statement equals the replay oracle
--       below, computed in plain SQL from the ledger: local days
--       (salesperf.local_day), the team of a deal = its rep's unit when it
--       happened, a unit's value = the deals whose team is in its subtree,
--       targets (salesperf.effective_target), the plan = the last
--       assignment of a plan of the period's kind overlapping the period,
--       shares = overlap seconds / period seconds rounded to 12 decimals,
--       tiered commission computed here, payout_curve for the curves, parts
--       rounded at the end, total = round(sum of parts) + adjustments;
--   (b) the statement (and adjustment lines) of every closed period equal
--       what they were right after its close;
--   (c) the adjustment lines of the next open period equal, for every
--       closed period and rep, replay(frozen inputs, ledger now) - (total -
--       adjustments paid for it) - (adjustment lines for it frozen since),
--       with no line where that is 0 and none missing where it is not;
--   (d) the statement of one rep equals that rep's row of the company
--       statement (every rep, in the next open period and in one random
--       period of the window).
--
-- Windows (local days, verified with timestamptz arithmetic in the first
-- assertion): months or weeks around clock changes at midnight --
--   America/Havana   2025-03-09 05:00 UTC: 00:00 is skipped
--                    2025-11-02 05:00 UTC: 00:00-01:00 happens twice
--                      (weekly, weeks starting on Sunday: that day starts a week)
--   America/Santiago 2024-09-08 04:00 UTC: 00:00 is skipped (weekly, Sunday
--                      weeks: a week starts at 01:00)
--                    2025-04-06 03:00 UTC: 23:00-24:00 of 04-05 happens twice
--   Asia/Beirut      2025-03-29 22:00 UTC: 00:00 of 03-30 is skipped
--                    2025-10-25 21:00 UTC: 23:00-24:00 of 10-25 happens twice
--   Europe/Paris     2025-03-30 01:00 UTC: 02:00 is skipped
-- and UTC.  Each seed runs in a subtransaction rolled back at its end;
-- sequences are reset, so a seed replays alone exactly as in the full run.
-- A failing check names seed, zone, batch, the first difference and the
-- statements of the batch.  To replay one seed by hand, run this file in
-- psql up to the line "seed runs" and then, for seed 4:
--   SELECT r.* FROM pcomm.seeds s, pcomm.run_seed(s.*) r WHERE s.seed = 4;
BEGIN;
SET LOCAL client_min_messages = warning;
SET LOCAL jit = off;

CREATE SCHEMA pcomm;

-- ------------------------------------------------------------------ seeds
CREATE TABLE pcomm.seeds (seed integer PRIMARY KEY, tz text NOT NULL, period text NOT NULL,
                          week_start integer NOT NULL, first_day date NOT NULL, periods integer NOT NULL,
                          night timestamptz NOT NULL, batches integer NOT NULL);
INSERT INTO pcomm.seeds VALUES
    (1, 'UTC',              'month', 1, '2025-01-01', 5, '2025-03-09 05:00+00', 9),
    (2, 'America/Havana',   'month', 1, '2025-01-01', 5, '2025-03-09 05:00+00', 9),
    (3, 'America/Havana',   'week',  7, '2025-10-05', 7, '2025-11-02 05:00+00', 9),
    (4, 'America/Santiago', 'week',  7, '2024-08-11', 7, '2024-09-08 04:00+00', 9),
    (5, 'America/Santiago', 'month', 1, '2025-02-01', 5, '2025-04-06 03:00+00', 9),
    (6, 'Asia/Beirut',      'month', 1, '2025-01-01', 5, '2025-03-29 22:00+00', 9),
    (7, 'Asia/Beirut',      'month', 1, '2025-08-01', 5, '2025-10-25 21:00+00', 9),
    (8, 'Europe/Paris',     'month', 1, '2025-01-01', 5, '2025-03-30 01:00+00', 9);

SELECT plan((SELECT count(*)::integer * 7 + 2 FROM pcomm.seeds));

SELECT is(count(*), 0::bigint,
          'every seed''s night is a clock change of its zone'
          || COALESCE(' -- not for seeds ' || string_agg(s.seed::text, ', '), ''))
  FROM pcomm.seeds s
 WHERE s.tz <> 'UTC'
   AND (s.night AT TIME ZONE s.tz) - ((s.night - interval '1 second') AT TIME ZONE s.tz) = interval '1 second';
SELECT is(count(*), 0::bigint, 'every window has ended before today and holds its night')
  FROM pcomm.seeds s
 WHERE s.first_day + CASE s.period WHEN 'week' THEN s.periods * 7 ELSE s.periods * 31 END >= current_date
    OR s.night < s.first_day::timestamp AT TIME ZONE s.tz;

-- The seed being run (one row), and the periods of its window.
CREATE TABLE pcomm.ctx (seed integer, tz text, period text, night timestamptz, batch integer);
CREATE TABLE pcomm.per (idx integer PRIMARY KEY, d0 date, d1 date, ps timestamptz, pe timestamptz);
-- What each closed period's statement and adjustment lines read right after its close.
CREATE TABLE pcomm.frozen (ps timestamptz PRIMARY KEY, statement text[], adjustments text[]);

-- ---------------------------------------------------------------- random
CREATE FUNCTION pcomm.ri(lo integer, hi integer) RETURNS integer
LANGUAGE sql VOLATILE AS
$$ SELECT lo + floor(random() * (hi - lo + 1))::integer $$;

-- The first moment whose local date is d: where midnight happens twice the
-- first one, where it is skipped the first local time that exists.
CREATE FUNCTION pcomm.day_start(d date, tz text) RETURNS timestamptz
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

-- A moment of the window: often a period boundary or the instant before
-- one, often near the night, otherwise anywhere.
CREATE FUNCTION pcomm.rand_time() RETURNS timestamptz
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    c  pcomm.ctx := (SELECT c FROM pcomm.ctx c);
    lo date := (SELECT min(d0) FROM pcomm.per);
    hi date := (SELECT max(d1) FROM pcomm.per);
    d  date := lo + pcomm.ri(0, hi - lo - 1);
    u  float8 := random();
    b  timestamptz := (SELECT p.ps FROM pcomm.per p ORDER BY random() LIMIT 1);
BEGIN
    IF u < 0.08 THEN
        RETURN b;
    ELSIF u < 0.16 THEN
        RETURN b - interval '1 microsecond';
    ELSIF u < 0.22 THEN
        RETURN pcomm.day_start(d, c.tz);
    ELSIF u < 0.40 THEN
        RETURN c.night + date_trunc('second', (random() * 4 - 2) * interval '1 hour');
    END IF;
    RETURN (d::timestamp + date_trunc('second', random() * interval '24 hours')) AT TIME ZONE c.tz;
END
$$;

CREATE FUNCTION pcomm.rand_amount() RETURNS numeric
LANGUAGE sql VOLATILE AS $$
SELECT CASE WHEN random() < 0.15 THEN 1234.56 * pcomm.ri(1, 4)
            WHEN random() < 0.05 THEN 0
            ELSE round((random() * 6000)::numeric, 2) END
$$;

CREATE FUNCTION pcomm.rand_activity() RETURNS bigint
LANGUAGE sql VOLATILE AS $$
SELECT a.activity_id FROM salesperf.activity a ORDER BY a.activity_id
OFFSET floor(random() * (SELECT count(*) FROM salesperf.activity)) LIMIT 1
$$;

-- A random ascending array of n values starting at first, steps in [lo, hi].
CREATE FUNCTION pcomm.ascending(n integer, first numeric, lo integer, hi integer, scale numeric) RETURNS numeric[]
LANGUAGE sql VOLATILE AS $$
SELECT array_agg(first + s ORDER BY i)
  FROM (SELECT i, sum(CASE WHEN i = 1 THEN 0 ELSE pcomm.ri(lo, hi) * scale END) OVER (ORDER BY i) AS s
          FROM generate_series(1, n) i) x
$$;

-- ------------------------------------------------------------- the company
CREATE FUNCTION pcomm.build() RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    c     pcomm.ctx := (SELECT c FROM pcomm.ctx c);
    start timestamptz := (SELECT min(ps) FROM pcomm.per) - interval '40 days';
    w     numeric;
    n     integer;
BEGIN
    INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES
        (1, NULL, 'Acme', 'company'), (11, 1, 'North', 'team'), (12, 1, 'South', 'team'),
        (13, 1, 'East', 'team'), (14, 1, 'West', 'team');
    INSERT INTO salesperf.rep (rep_id, name) SELECT g, 'Rep ' || g FROM generate_series(1, 11) g;
    PERFORM salesperf.assign(r, u, start)
       FROM (VALUES (1, 11), (2, 11), (3, 11), (4, 12), (5, 12), (6, 13), (7, 13), (8, 14), (9, 14), (10, 1)) m(r, u);

    -- Two quota plans and two rate plans of the seed's kind, a quarterly one.
    FOR i IN 1..2 LOOP
        n := pcomm.ri(2, 4);
        w := (ARRAY[1, 0.5, 0.6, 0.75, 0])[pcomm.ri(1, 5)];
        INSERT INTO salesperf.commission_plan
               (name, basis_kpi, period, kind, target_incentive, individual_weight, team_weight, curve_x, curve_y, team_bonus)
        VALUES ('Q' || i, 'revenue', c.period, 'quota', pcomm.ri(10, 80) * 100, w, 1 - w,
                pcomm.ascending(n, (ARRAY[0, 0.5, 0.8])[pcomm.ri(1, 3)], 1, 5, 0.1),
                (SELECT array_agg(trim_scale(v) ORDER BY v) FROM (SELECT pcomm.ri(0, 25) / 10.0 AS v FROM generate_series(1, n)) y),
                (ARRAY[0, 0, 150, 400.5])[pcomm.ri(1, 4)]);
        n := pcomm.ri(1, 4);
        INSERT INTO salesperf.commission_plan (name, basis_kpi, period, kind, breakpoints, rates, retroactive, team_bonus)
        VALUES ('R' || i, 'revenue', c.period, 'rate', pcomm.ascending(n, 0, 10, 80, 100),
                (SELECT array_agg(trim_scale(pcomm.ri(1, 200) / 1000.0)) FROM generate_series(1, n)), i = 2,
                (ARRAY[0, 0, 250])[pcomm.ri(1, 3)]);
    END LOOP;
    INSERT INTO salesperf.commission_plan (name, basis_kpi, period, kind, breakpoints, rates, team_bonus)
    VALUES ('Quarterly', 'revenue', 'quarter', 'rate', '{0}', '{0.5}', 1000);
    PERFORM salesperf.assign_plan(r, (ARRAY['Q1', 'Q2', 'R1', 'R2'])[1 + r % 4], start)
       FROM generate_series(1, 9) r;
    PERFORM salesperf.assign_plan(10, 'Quarterly', start);

    -- Targets: most reps, South explicitly, the root in some periods.
    PERFORM salesperf.set_target('revenue', 'rep', r, c.period, p.ps, pcomm.ri(20, 200) * 100)
       FROM pcomm.per p, generate_series(1, 10) r
      WHERE random() < 0.85;
    PERFORM salesperf.set_target('revenue', 'unit', 12, c.period, p.ps, pcomm.ri(50, 400) * 100)
       FROM pcomm.per p;
    PERFORM salesperf.set_target('revenue', 'unit', 1, c.period, p.ps, pcomm.ri(200, 1200) * 100)
       FROM pcomm.per p WHERE random() < 0.4;
    -- A first month of deals.
    PERFORM salesperf.record(pcomm.ri(1, 11), 'deal_won', pcomm.rand_amount(), pcomm.rand_time())
       FROM generate_series(1, 30);
END
$$;

-- ------------------------------------------------------------- operations
-- One random operation as SQL text (a failure shows what ran).
CREATE FUNCTION pcomm.gen_op() RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    c    pcomm.ctx := (SELECT c FROM pcomm.ctx c);
    u    float8 := random();
    r    integer := pcomm.ri(1, 11);
    t    timestamptz;
    lo   timestamptz;
    hi   timestamptz := (SELECT max(pe) FROM pcomm.per);
    id   bigint := pcomm.rand_activity();
    vals text;
BEGIN
    IF u < 0.22 THEN
        RETURN format('SELECT salesperf.record(%s, %L, %s, %L)', r,
                      CASE WHEN random() < 0.85 THEN 'deal_won' ELSE 'call' END, pcomm.rand_amount(), pcomm.rand_time());
    ELSIF u < 0.32 THEN
        SELECT string_agg(format('(%s, %L, %s, %L::timestamptz)', pcomm.ri(1, 11),
                                 CASE WHEN random() < 0.8 THEN 'deal_won' ELSE 'deal_lost' END,
                                 pcomm.rand_amount(), pcomm.rand_time()), ', ')
          INTO vals FROM generate_series(1, pcomm.ri(2, 12));
        RETURN 'INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at) SELECT * FROM (VALUES '
               || vals || ') v(rep_id, kind, amount, occurred_at)';
    ELSIF u < 0.42 AND id IS NOT NULL THEN
        RETURN format('UPDATE salesperf.activity SET amount = %s WHERE activity_id = %s', pcomm.rand_amount(), id);
    ELSIF u < 0.55 AND id IS NOT NULL THEN
        RETURN format('UPDATE salesperf.activity SET occurred_at = %L WHERE activity_id = %s', pcomm.rand_time(), id);
    ELSIF u < 0.60 THEN
        RETURN format('UPDATE salesperf.activity SET occurred_at = occurred_at + interval %L WHERE rep_id = %s',
                      (ARRAY['-7 days', '3 days', '-20 hours', '31 days'])[pcomm.ri(1, 4)], r);
    ELSIF u < 0.66 AND id IS NOT NULL THEN
        RETURN format('DELETE FROM salesperf.activity WHERE activity_id = %s', id);
    ELSIF u < 0.69 THEN
        RETURN format('DELETE FROM salesperf.activity WHERE rep_id = %s AND activity_id %% 3 = %s', r, pcomm.ri(0, 2));
    ELSIF u < 0.76 THEN
        -- back-dated into a closed period when there is one
        SELECT p.ps + (p.pe - p.ps) * random() INTO t
          FROM pcomm.per p JOIN salesperf.commission_period cp ON cp.period = c.period AND cp.period_start = p.ps
         ORDER BY random() LIMIT 1;
        RETURN format('SELECT salesperf.record(%s, ''deal_won'', %s, %L)', r, pcomm.rand_amount(),
                      COALESCE(date_trunc('second', t), pcomm.rand_time()));
    ELSIF u < 0.86 THEN
        -- a move: after the rep's last membership started
        r := pcomm.ri(1, 10);
        SELECT max(lower(m.during)) INTO lo FROM salesperf.membership m WHERE m.rep_id = r;
        t := greatest(pcomm.rand_time(), lo + interval '1 minute');
        IF t >= hi THEN
            RETURN 'SELECT 1';
        END IF;
        RETURN format('SELECT salesperf.assign(%s, %s, %L)', r, (ARRAY[1, 11, 12, 13, 14])[pcomm.ri(1, 5)], t);
    ELSIF u < 0.94 THEN
        -- a plan change: after the rep's last assignment started and after
        -- every closed period
        r := pcomm.ri(1, 10);
        SELECT max(x) INTO lo
          FROM (SELECT max(lower(a.during)) + interval '1 second' AS x FROM salesperf.plan_assignment a WHERE a.rep_id = r
                UNION ALL
                SELECT max(cp.period_end) FROM salesperf.commission_period cp) y;
        t := greatest(pcomm.rand_time(), lo);
        IF t >= hi THEN
            RETURN 'SELECT 1';
        END IF;
        RETURN format('SELECT salesperf.assign_plan(%s, %L, %L)', r,
                      (ARRAY['Q1', 'Q2', 'R1', 'R2', 'Quarterly', NULL])[pcomm.ri(1, 6)], t);
    END IF;
    SELECT p.ps INTO t FROM pcomm.per p ORDER BY random() LIMIT 1;
    IF random() < 0.6 THEN
        RETURN format('SELECT salesperf.set_target(''revenue'', ''rep'', %s, %L, %L, %s)', pcomm.ri(1, 10), c.period,
                      t + interval '2 days', CASE WHEN random() < 0.15 THEN 'NULL' ELSE (pcomm.ri(20, 200) * 100)::text END);
    END IF;
    RETURN format('SELECT salesperf.set_target(''revenue'', ''unit'', %s, %L, %L, %s)', (ARRAY[1, 11, 12, 13, 14])[pcomm.ri(1, 5)],
                  c.period, t + interval '3 days', CASE WHEN random() < 0.3 THEN 'NULL' ELSE (pcomm.ri(50, 600) * 100)::text END);
END
$$;

-- ------------------------------------------------------------- the oracle
-- Won deals with their local day and their team (the rep's unit then).
CREATE TABLE pcomm.deal (rep_id bigint, amount numeric, day date, unit_id bigint);
-- Line inputs (one per period and rep) and team inputs (one per membership
-- overlapping the period), live for open periods, frozen for closed ones.
CREATE TABLE pcomm.li (ps timestamptz, rep_id bigint, plan text, cp salesperf.commission_plan, target numeric);
CREATE TABLE pcomm.ti (ps timestamptz, rep_id bigint, unit_id bigint, share numeric, target numeric, since timestamptz);
-- Evaluated lines at full precision.
CREATE TABLE pcomm.ev (ps timestamptz, rep_id bigint, plan text, basis numeric, target numeric,
                       ind numeric, team numeric, bonus numeric);
-- Adjustment lines the next open period must carry.
CREATE TABLE pcomm.adj (rep_id bigint, for_ps timestamptz, amount numeric);

-- Tiered commission, computed here: graduated, each slice at its rate;
-- retroactive, the whole basis at the rate of the last tier reached.
CREATE FUNCTION pcomm.tiered(basis numeric, bps numeric[], rates numeric[], retro boolean) RETURNS numeric
LANGUAGE sql IMMUTABLE AS $$
SELECT CASE WHEN retro
            THEN basis * (SELECT rates[max(i)] FROM generate_subscripts(bps, 1) i WHERE bps[i] <= basis)
            ELSE (SELECT sum(greatest(0, least(basis, COALESCE(bps[i + 1], basis)) - bps[i]) * rates[i])
                    FROM generate_subscripts(bps, 1) i) END
$$;

-- A frozen line's plan terms as a plan row.
CREATE FUNCTION pcomm.frozen_plan(k salesperf.commission_paid) RETURNS salesperf.commission_plan
LANGUAGE sql IMMUTABLE AS $$
SELECT ROW(k.plan, k.basis_kpi, k.period, k.plan_kind, k.breakpoints, k.rates, k.retroactive, k.target_incentive,
           k.individual_weight, k.team_weight, k.curve_x, k.curve_y, k.plan_team_bonus)::salesperf.commission_plan
$$;

CREATE FUNCTION pcomm.replay() RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    c pcomm.ctx := (SELECT c FROM pcomm.ctx c);
BEGIN
    TRUNCATE pcomm.deal, pcomm.li, pcomm.ti, pcomm.ev, pcomm.adj;
    INSERT INTO pcomm.deal
    SELECT a.rep_id, a.amount, salesperf.local_day(a.occurred_at, c.tz),
           (SELECT m.unit_id FROM salesperf.membership m WHERE m.rep_id = a.rep_id AND m.during @> a.occurred_at)
      FROM salesperf.activity a WHERE a.kind = 'deal_won';

    -- Open periods: today's plans, assignments, memberships and targets.
    INSERT INTO pcomm.li
    SELECT p.ps, x.rep_id, x.plan, cp, salesperf.effective_target('revenue', 'rep', x.rep_id, c.period, p.ps)
      FROM pcomm.per p
     CROSS JOIN LATERAL (
           SELECT DISTINCT ON (a.rep_id) a.rep_id, a.plan
             FROM salesperf.plan_assignment a JOIN salesperf.commission_plan q ON q.name = a.plan
            WHERE q.period = c.period AND lower(a.during) < p.pe AND (upper(a.during) IS NULL OR upper(a.during) > p.ps)
            ORDER BY a.rep_id, lower(a.during) DESC) x
      JOIN salesperf.commission_plan cp ON cp.name = x.plan
     WHERE NOT EXISTS (SELECT 1 FROM salesperf.commission_period k WHERE k.period = c.period AND k.period_start = p.ps);
    INSERT INTO pcomm.ti
    SELECT l.ps, l.rep_id, m.unit_id,
           round(extract(epoch FROM least(COALESCE(upper(m.during), p.pe), p.pe) - greatest(lower(m.during), p.ps))
                 / extract(epoch FROM p.pe - p.ps), 12),
           salesperf.effective_target('revenue', 'unit', m.unit_id, c.period, p.ps), lower(m.during)
      FROM pcomm.li l JOIN pcomm.per p ON p.ps = l.ps
      JOIN salesperf.membership m ON m.rep_id = l.rep_id AND lower(m.during) < p.pe
                                 AND (upper(m.during) IS NULL OR upper(m.during) > p.ps);
    -- Closed periods: the inputs frozen at the close.
    INSERT INTO pcomm.li
    SELECT k.period_start, k.rep_id, k.plan, pcomm.frozen_plan(k), k.target
      FROM salesperf.commission_paid k WHERE k.period = c.period AND k.plan IS NOT NULL;
    INSERT INTO pcomm.ti
    SELECT k.period_start, k.rep_id, t.unit_id, t.share, t.target, NULL
      FROM salesperf.commission_paid k
     CROSS JOIN LATERAL unnest(k.team_units, k.team_shares, k.team_targets) t(unit_id, share, target)
     WHERE k.period = c.period AND k.plan IS NOT NULL;

    WITH RECURSIVE sub(anc, des) AS (
        SELECT u.unit_id, u.unit_id FROM salesperf.unit u
        UNION ALL
        SELECT s.anc, u.unit_id FROM sub s JOIN salesperf.unit u ON u.parent_id = s.des
    ), basis AS (
        SELECT l.ps, l.rep_id, COALESCE((SELECT sum(d.amount) FROM pcomm.deal d
                                          WHERE d.rep_id = l.rep_id AND d.day >= p.d0 AND d.day < p.d1), 0) AS v
          FROM pcomm.li l JOIN pcomm.per p ON p.ps = l.ps
    ), teamval AS (
        SELECT t.ps, t.rep_id, t.unit_id, t.share, t.target,
               COALESCE((SELECT sum(d.amount) FROM pcomm.deal d JOIN sub s ON s.des = d.unit_id AND s.anc = t.unit_id
                          WHERE d.day >= p.d0 AND d.day < p.d1), 0) AS v
          FROM pcomm.ti t JOIN pcomm.per p ON p.ps = t.ps
    ), teams AS (
        SELECT tv.ps, tv.rep_id,
               sum(CASE WHEN (l.cp).kind = 'quota'
                        THEN (l.cp).target_incentive * (l.cp).team_weight * tv.share
                             * COALESCE(salesperf.payout_curve(round(tv.v / NULLIF(tv.target, 0), 12), (l.cp).curve_x, (l.cp).curve_y), 0)
                        ELSE 0 END) AS team,
               sum(CASE WHEN tv.v >= tv.target THEN tv.share * (l.cp).team_bonus ELSE 0 END) AS bonus
          FROM teamval tv JOIN pcomm.li l ON l.ps = tv.ps AND l.rep_id = tv.rep_id
         GROUP BY tv.ps, tv.rep_id
    )
    INSERT INTO pcomm.ev
    SELECT l.ps, l.rep_id, l.plan, b.v, l.target,
           CASE WHEN (l.cp).kind = 'rate' THEN pcomm.tiered(round(b.v, 12), (l.cp).breakpoints, (l.cp).rates, (l.cp).retroactive)
                ELSE (l.cp).target_incentive * (l.cp).individual_weight
                     * COALESCE(salesperf.payout_curve(round(b.v / NULLIF(l.target, 0), 12), (l.cp).curve_x, (l.cp).curve_y), 0) END,
           COALESCE(t.team, 0), COALESCE(t.bonus, 0)
      FROM pcomm.li l JOIN basis b ON b.ps = l.ps AND b.rep_id = l.rep_id
      LEFT JOIN teams t ON t.ps = l.ps AND t.rep_id = l.rep_id;

    -- What each closed period still owes: replay - paid - adjusted since.
    INSERT INTO pcomm.adj
    SELECT x.rep_id, x.ps, x.amount
      FROM (SELECT k.rep_id, k.period_start AS ps,
                   round(e.ind + e.team + e.bonus, 2) - (k.total - k.adjustments)
                   - COALESCE((SELECT sum(a.amount) FROM salesperf.commission_adjustment a
                                WHERE a.period = c.period AND a.rep_id = k.rep_id
                                  AND a.for_period_start = k.period_start), 0) AS amount
              FROM salesperf.commission_paid k
              JOIN pcomm.ev e ON e.ps = k.period_start AND e.rep_id = k.rep_id
             WHERE k.period = c.period AND k.plan IS NOT NULL) x
     WHERE x.amount <> 0;
END
$$;

-- The next open period (after the last closed one), if any.
CREATE FUNCTION pcomm.next_open() RETURNS timestamptz
LANGUAGE sql STABLE AS $$
SELECT p.ps FROM pcomm.per p
 WHERE p.idx = (SELECT max(q.idx) + 1 FROM pcomm.per q JOIN salesperf.commission_period k
                  ON k.period = (SELECT period FROM pcomm.ctx) AND k.period_start = q.ps)
$$;

-- Expected statement of an open period.
CREATE FUNCTION pcomm.expected(at timestamptz)
RETURNS TABLE (rep_id bigint, name text, plan text, basis numeric, target numeric, attainment numeric,
               individual_part numeric, team_part numeric, team_bonus numeric, adjustments numeric, total numeric)
LANGUAGE sql STABLE AS $$
WITH a AS (
    SELECT j.rep_id, sum(j.amount) AS amount FROM pcomm.adj j WHERE at = pcomm.next_open() GROUP BY j.rep_id
), e AS (
    SELECT * FROM pcomm.ev WHERE ps = at
)
SELECT COALESCE(e.rep_id, a.rep_id), r.name, e.plan, round(e.basis, 2), e.target,
       trim_scale(round(e.basis / NULLIF(e.target, 0), 4)),
       round(COALESCE(e.ind, 0), 2), round(COALESCE(e.team, 0), 2), round(COALESCE(e.bonus, 0), 2),
       round(COALESCE(a.amount, 0), 2),
       round(COALESCE(e.ind + e.team + e.bonus, 0), 2) + COALESCE(a.amount, 0)
  FROM e FULL JOIN a ON a.rep_id = e.rep_id
  LEFT JOIN salesperf.rep r ON r.rep_id = COALESCE(e.rep_id, a.rep_id)
$$;

-- The checks after a batch: (a) open statements, (b) closed ones frozen,
-- (c) adjustment lines, (d) one rep against the company.  Each returns
-- its number of differences and the first.
CREATE FUNCTION pcomm.check(OUT a_bad bigint, OUT a_first text, OUT b_bad bigint, OUT b_first text,
                            OUT c_bad bigint, OUT c_first text, OUT d_bad bigint, OUT d_first text,
                            OUT paid_lines bigint)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    c    pcomm.ctx := (SELECT c FROM pcomm.ctx c);
    nxt  timestamptz;
    pick timestamptz;
BEGIN
    PERFORM pcomm.replay();
    nxt := pcomm.next_open();

    SELECT count(*), min(x.line) INTO a_bad, a_first
      FROM pcomm.per p
     CROSS JOIN LATERAL (
           (SELECT format('period %s, statement has %s', p.ps, s::text) AS line
              FROM (SELECT * FROM salesperf.commission_statement(c.period, p.ps)
                    EXCEPT ALL SELECT * FROM pcomm.expected(p.ps)) s)
           UNION ALL
           (SELECT format('period %s, replay has %s', p.ps, s::text)
              FROM (SELECT * FROM pcomm.expected(p.ps)
                    EXCEPT ALL SELECT * FROM salesperf.commission_statement(c.period, p.ps)) s)) x
     WHERE NOT EXISTS (SELECT 1 FROM salesperf.commission_period k WHERE k.period = c.period AND k.period_start = p.ps);

    SELECT count(*), min(format('period %s: %s', f.ps, CASE WHEN f.statement IS DISTINCT FROM s.st
                                                            THEN 'statement was ' || f.statement::text || ' now ' || s.st::text
                                                            ELSE 'adjustments were ' || f.adjustments::text || ' now ' || s.aj::text END))
      INTO b_bad, b_first
      FROM pcomm.frozen f
     CROSS JOIN LATERAL (
           SELECT (SELECT array_agg(x::text ORDER BY x.rep_id) FROM salesperf.commission_statement(c.period, f.ps) x) AS st,
                  (SELECT array_agg(x::text ORDER BY x.rep_id, x.for_period_start)
                     FROM salesperf.commission_adjustments(c.period, f.ps) x) AS aj) s
     WHERE f.statement IS DISTINCT FROM s.st OR f.adjustments IS DISTINCT FROM s.aj;

    IF nxt IS NULL THEN
        c_bad := 0;
    ELSE
        SELECT count(*), min(x.line) INTO c_bad, c_first
          FROM ((SELECT format('next open %s has a line rep %s for %s amount %s', nxt, s.rep_id, s.for_period_start, s.amount) AS line
                   FROM (SELECT a.rep_id, a.for_period_start, a.amount FROM salesperf.commission_adjustments(c.period, nxt) a
                         EXCEPT ALL SELECT j.rep_id, j.for_ps, j.amount FROM pcomm.adj j) s)
                UNION ALL
                (SELECT format('next open %s lacks a line rep %s for %s amount %s', nxt, s.rep_id, s.for_ps, s.amount)
                   FROM (SELECT j.rep_id, j.for_ps, j.amount FROM pcomm.adj j
                         EXCEPT ALL SELECT a.rep_id, a.for_period_start, a.amount
                           FROM salesperf.commission_adjustments(c.period, nxt) a) s)) x;
    END IF;

    SELECT p.ps INTO pick FROM pcomm.per p ORDER BY random() LIMIT 1;
    SELECT count(*), min(format('period %s rep %s: alone %s, in the company %s', x.at, r.rep_id, x.alone, x.company))
      INTO d_bad, d_first
      FROM salesperf.rep r
     CROSS JOIN (SELECT DISTINCT at FROM unnest(ARRAY[pick, nxt]) at WHERE at IS NOT NULL) w
     CROSS JOIN LATERAL (
           SELECT w.at,
                  (SELECT array_agg(s::text) FROM salesperf.commission_statement(c.period, w.at, r.rep_id) s) AS alone,
                  (SELECT array_agg(s::text) FROM salesperf.commission_statement(c.period, w.at) s
                    WHERE s.rep_id = r.rep_id) AS company) x
     WHERE x.alone IS DISTINCT FROM x.company;

    SELECT count(*) INTO paid_lines FROM salesperf.commission_paid WHERE total <> 0;
END
$$;

CREATE FUNCTION pcomm.freeze(at timestamptz) RETURNS void
LANGUAGE sql VOLATILE AS $$
INSERT INTO pcomm.frozen
SELECT at,
       (SELECT array_agg(x::text ORDER BY x.rep_id) FROM salesperf.commission_statement((SELECT period FROM pcomm.ctx), at) x),
       (SELECT array_agg(x::text ORDER BY x.rep_id, x.for_period_start)
          FROM salesperf.commission_adjustments((SELECT period FROM pcomm.ctx), at) x)
$$;

-- What a close must freeze: the replayed statement of the period and the
-- inputs it was computed from (plan terms, target, teams in the order the
-- rep joined them, shares, team targets), taken just before the close.
CREATE TABLE pcomm.close_statement AS SELECT * FROM pcomm.expected(NULL) WITH NO DATA;
CREATE TABLE pcomm.close_inputs (rep_id bigint, plan text, plan_terms salesperf.commission_plan, target numeric, team_units bigint[],
                                 team_shares numeric[], team_targets numeric[]);

CREATE FUNCTION pcomm.before_close(at timestamptz) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pcomm.replay();
    TRUNCATE pcomm.close_statement, pcomm.close_inputs;
    INSERT INTO pcomm.close_statement SELECT * FROM pcomm.expected(at);
    INSERT INTO pcomm.close_inputs
    SELECT l.rep_id, l.plan, l.cp, l.target,
           (SELECT array_agg(t.unit_id ORDER BY t.since) FROM pcomm.ti t WHERE t.ps = l.ps AND t.rep_id = l.rep_id),
           (SELECT array_agg(t.share ORDER BY t.since) FROM pcomm.ti t WHERE t.ps = l.ps AND t.rep_id = l.rep_id),
           (SELECT array_agg(t.target ORDER BY t.since) FROM pcomm.ti t WHERE t.ps = l.ps AND t.rep_id = l.rep_id)
      FROM pcomm.li l WHERE l.ps = at;
END
$$;

CREATE FUNCTION pcomm.after_close(at timestamptz, OUT bad bigint, OUT first text)
LANGUAGE sql STABLE AS $$
SELECT count(*), min(x.line)
  FROM ((SELECT format('closed %s: frozen statement has %s', at, s::text) AS line
           FROM (SELECT * FROM salesperf.commission_statement((SELECT period FROM pcomm.ctx), at)
                 EXCEPT ALL SELECT * FROM pcomm.close_statement) s)
        UNION ALL
        (SELECT format('closed %s: replay before the close has %s', at, s::text)
           FROM (SELECT * FROM pcomm.close_statement
                 EXCEPT ALL SELECT * FROM salesperf.commission_statement((SELECT period FROM pcomm.ctx), at)) s)
        UNION ALL
        (SELECT format('closed %s: frozen inputs %s', at, s::text)
           FROM (SELECT k.rep_id, k.plan, pcomm.frozen_plan(k), k.target, k.team_units, k.team_shares, k.team_targets
                   FROM salesperf.commission_paid k
                  WHERE k.period = (SELECT period FROM pcomm.ctx) AND k.period_start = at AND k.plan IS NOT NULL
                 EXCEPT ALL SELECT * FROM pcomm.close_inputs) s)
        UNION ALL
        (SELECT format('closed %s: inputs before the close %s', at, s::text)
           FROM (SELECT * FROM pcomm.close_inputs
                 EXCEPT ALL SELECT k.rep_id, k.plan, pcomm.frozen_plan(k), k.target, k.team_units, k.team_shares, k.team_targets
                   FROM salesperf.commission_paid k
                  WHERE k.period = (SELECT period FROM pcomm.ctx) AND k.period_start = at AND k.plan IS NOT NULL) s)) x
$$;

-- ------------------------------------------------------------- a seed
CREATE FUNCTION pcomm.run_seed(s pcomm.seeds)
RETURNS TABLE (check_name text, failures bigint, detail text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    op        text;
    ops       text[];
    ck        record;
    n_ops     integer := 0;
    n_batch   integer := 0;
    n_closed  integer := 0;
    n_adj     bigint := 0;
    n_paid    bigint := 0;
    errors    bigint := 0;
    first_err text;
    bad       bigint[] := ARRAY[0, 0, 0, 0, 0];
    first     text[] := ARRAY[NULL, NULL, NULL, NULL, NULL];
    nxt       timestamptz;
BEGIN
    BEGIN
        PERFORM setseed(s.seed / 16.0);
        PERFORM setval(pg_get_serial_sequence('salesperf.activity', 'activity_id'), 1, false);
        DELETE FROM pcomm.ctx;
        DELETE FROM pcomm.per;
        DELETE FROM pcomm.frozen;
        INSERT INTO pcomm.ctx VALUES (s.seed, s.tz, s.period, s.night, 0);
        PERFORM salesperf.configure(time_zone => s.tz, week_start => s.week_start);
        INSERT INTO pcomm.per
        SELECT i, d0, d1, pcomm.day_start(d0, s.tz), pcomm.day_start(d1, s.tz)
          FROM generate_series(0, s.periods - 1) i
         CROSS JOIN LATERAL (SELECT CASE s.period WHEN 'week' THEN s.first_day + 7 * i
                                                  ELSE (s.first_day + make_interval(months => i))::date END AS d0,
                                    CASE s.period WHEN 'week' THEN s.first_day + 7 * (i + 1)
                                                  ELSE (s.first_day + make_interval(months => i + 1))::date END AS d1) d;
        PERFORM pcomm.build();
        FOR b IN 1..s.batches LOOP
            n_batch := b;
            UPDATE pcomm.ctx SET batch = b;
            ops := '{}';
            FOR o IN 1..pcomm.ri(3, 9) LOOP
                op := pcomm.gen_op();
                ops := ops || op;
                BEGIN
                    EXECUTE op;
                    n_ops := n_ops + 1;
                EXCEPTION WHEN OTHERS THEN
                    errors := errors + 1;
                    first_err := COALESCE(first_err, format('batch %s: %s: %s (%s)', b, op, SQLERRM, SQLSTATE));
                END;
            END LOOP;
            -- Close the next period on most even batches, never the last of
            -- the window (its successor would fall outside).
            nxt := COALESCE(pcomm.next_open(), (SELECT ps FROM pcomm.per WHERE idx = 0));
            IF (b % 2 = 0 OR random() < 0.2) AND nxt < (SELECT max(ps) FROM pcomm.per) THEN
                op := format('SELECT salesperf.close_commission_period(%L, %L)', nxt, s.period);
                ops := ops || op;
                BEGIN
                    PERFORM pcomm.before_close(nxt);
                    EXECUTE op;
                    PERFORM pcomm.freeze(nxt);
                    n_closed := n_closed + 1;
                    ck := pcomm.after_close(nxt);
                    bad[5] := bad[5] + ck.bad;
                    IF ck.bad > 0 AND first[5] IS NULL THEN
                        first[5] := format('batch %s: %s after [%s]', b, ck.first, array_to_string(ops, '; '));
                    END IF;
                EXCEPTION WHEN OTHERS THEN
                    errors := errors + 1;
                    first_err := COALESCE(first_err, format('batch %s: %s: %s (%s)', b, op, SQLERRM, SQLSTATE));
                END;
            END IF;
            ck := pcomm.check();
            bad[1] := bad[1] + ck.a_bad;
            bad[2] := bad[2] + ck.b_bad;
            bad[3] := bad[3] + ck.c_bad;
            bad[4] := bad[4] + ck.d_bad;
            IF ck.a_bad > 0 AND first[1] IS NULL THEN
                first[1] := format('batch %s: %s after [%s]', b, ck.a_first, array_to_string(ops, '; '));
            END IF;
            IF ck.b_bad > 0 AND first[2] IS NULL THEN
                first[2] := format('batch %s: %s after [%s]', b, ck.b_first, array_to_string(ops, '; '));
            END IF;
            IF ck.c_bad > 0 AND first[3] IS NULL THEN
                first[3] := format('batch %s: %s after [%s]', b, ck.c_first, array_to_string(ops, '; '));
            END IF;
            IF ck.d_bad > 0 AND first[4] IS NULL THEN
                first[4] := format('batch %s: %s after [%s]', b, ck.d_first, array_to_string(ops, '; '));
            END IF;
            n_adj := n_adj + (SELECT count(*) FROM pcomm.adj);
            n_paid := ck.paid_lines;
        END LOOP;
        RAISE EXCEPTION 'undo seed' USING ERRCODE = 'PC001';
    EXCEPTION
        WHEN SQLSTATE 'PC001' THEN
            NULL;
        WHEN OTHERS THEN
            errors := errors + 1;
            first_err := format('seed aborted in batch %s after %s operations: %s (%s)', n_batch, n_ops, SQLERRM, SQLSTATE);
    END;
    RETURN QUERY VALUES
        (format('%s operations in %s batches, %s periods closed: no unexpected errors', n_ops, n_batch, n_closed),
         errors, first_err),
        ('the test bites: periods closed, lines paid, adjustments owed',
         CASE WHEN n_closed >= 2 AND n_paid > 0 AND n_adj > 0 THEN 0 ELSE 1 END::bigint,
         format('%s closed, %s nonzero paid lines, %s adjustment lines seen', n_closed, n_paid, n_adj)),
        ('(a) open statements equal the replay of the ledger after every batch', bad[1], first[1]),
        ('(b) closed statements never change', bad[2], first[2]),
        ('(c) adjustment lines equal replay of closed periods - paid - adjusted since', bad[3], first[3]),
        ('(d) one rep''s statement equals their row of the company statement', bad[4], first[4]),
        ('(e) a close freezes the replayed statement and the inputs it was computed from', bad[5], first[5]);
END
$$;

-- -------------------------------------------------------------- seed runs
SELECT is(r.failures, 0::bigint,
          format('seed %s (%s, %s): %s%s', s.seed, s.tz, s.period, r.check_name,
                 CASE WHEN r.failures <> 0 THEN ' -- ' || left(regexp_replace(r.detail, '\s+', ' ', 'g'), 1500) ELSE '' END))
  FROM pcomm.seeds s
 CROSS JOIN LATERAL pcomm.run_seed(s) r;

SELECT * FROM finish();
ROLLBACK;
