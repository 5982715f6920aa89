-- Commission (SPEC §10): plans, their assignment to reps over time,
-- statements computed from counters and targets, and the close of a period
-- with clawbacks and true-ups carried into the next open period.
--
-- How a statement is computed.  For a period kind (month, quarter...) and
-- one period, each rep is paid under the last plan of that kind assigned to
-- them during the period (a plan change takes effect for the whole period
-- in which it happens).  The inputs of a rep's line are the plan's terms,
-- the rep's target on the plan's basis KPI, and the units the rep belonged
-- to during the period with the share of the period spent in each and that
-- unit's effective target.  The results come from the counters: the basis
-- (the rep's KPI value over the period) and each unit's KPI value (its whole
-- subtree, as kpi_value() counts it).  A rep who moved team mid-period gets
-- each team's part and bonus weighted by the share of the period (in real
-- time) spent in that team.
--
-- Closing.  close_commission_period() freezes the lines of a period, inputs
-- included, in commission_paid.  A later re-run of a closed period uses the
-- frozen inputs (plan terms, targets, team shares) and today's counters, so
-- only a change to what happened (a deal deleted, reversed or back-dated)
-- moves its result.  The difference between a re-run and what was paid for
-- that period so far comes out as an adjustment line in the next open
-- period of the same kind; closing that period freezes the lines too.
-- Statements are never stored for open periods: they are read from the
-- counters, so nothing derived has to be kept in step with the ledger.

CREATE TABLE salesperf.commission_plan (
    name              text PRIMARY KEY,
    basis_kpi         text NOT NULL REFERENCES salesperf.kpi (name),
    period            text NOT NULL,
    kind              text NOT NULL,
    breakpoints       numeric[],
    rates             numeric[],
    retroactive       boolean NOT NULL DEFAULT false,
    target_incentive  numeric,
    individual_weight numeric,
    team_weight       numeric,
    curve_x           numeric[],
    curve_y           numeric[],
    team_bonus        numeric NOT NULL DEFAULT 0
);
COMMENT ON TABLE salesperf.commission_plan IS
  'Commission plans. rate: tiers on the basis KPI (tiered_commission). quota: target_incentive x (individual_weight x payout_curve(rep attainment) + team_weight x payout_curve(team attainment)). Both pay team_bonus when the team''s target is achieved. Assign with salesperf.assign_plan().';
COMMENT ON COLUMN salesperf.commission_plan.name IS 'Plan name.';
COMMENT ON COLUMN salesperf.commission_plan.basis_kpi IS 'KPI the plan pays on (higher is better), e.g. revenue.';
COMMENT ON COLUMN salesperf.commission_plan.period IS 'Pay period: day, week, month, quarter or year.';
COMMENT ON COLUMN salesperf.commission_plan.kind IS 'rate or quota.';
COMMENT ON COLUMN salesperf.commission_plan.breakpoints IS 'rate plans: where each tier starts (first 0, ascending).';
COMMENT ON COLUMN salesperf.commission_plan.rates IS 'rate plans: the rate of each tier (0.05 = 5 %).';
COMMENT ON COLUMN salesperf.commission_plan.retroactive IS 'rate plans: the whole basis at the rate of the tier reached (false: each slice at its own rate).';
COMMENT ON COLUMN salesperf.commission_plan.target_incentive IS 'quota plans: pay at 100 % on both curves.';
COMMENT ON COLUMN salesperf.commission_plan.individual_weight IS 'quota plans: share of the incentive paid on the rep''s attainment.';
COMMENT ON COLUMN salesperf.commission_plan.team_weight IS 'quota plans: share paid on the team''s attainment (the weights add up to 1).';
COMMENT ON COLUMN salesperf.commission_plan.curve_x IS 'quota plans: attainment points of the payout curve (ascending).';
COMMENT ON COLUMN salesperf.commission_plan.curve_y IS 'quota plans: payout multiplier at each point (flat before the first and after the last).';
COMMENT ON COLUMN salesperf.commission_plan.team_bonus IS 'Paid to every member of a team that achieves its target (weighted by the share of the period spent in it).';
SELECT pg_catalog.pg_extension_config_dump('salesperf.commission_plan', '');

-- Every write is validated here, with specific SQLSTATEs naming the value.
-- The arrays are checked by the functions that use them, called on a zero.
CREATE FUNCTION salesperf.commission_plan_check()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    k         salesperf.kpi;
    bad_array text;
    bad_value numeric;
BEGIN
    IF NEW.name IS NULL OR NEW.basis_kpi IS NULL OR NEW.period IS NULL OR NEW.kind IS NULL
       OR NEW.retroactive IS NULL OR NEW.team_bonus IS NULL THEN
        RAISE EXCEPTION 'a commission plan needs a name, a basis_kpi, a period, a kind, retroactive and team_bonus'
            USING ERRCODE = '22004';
    END IF;
    IF btrim(NEW.name) = '' THEN
        RAISE EXCEPTION 'a commission plan needs a non-empty name' USING ERRCODE = '22023';
    END IF;
    SELECT * INTO k FROM salesperf.kpi x WHERE x.name = NEW.basis_kpi;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown KPI "%"', NEW.basis_kpi USING ERRCODE = '42704', HINT = 'See salesperf.kpi.';
    END IF;
    IF NOT k.higher_is_better THEN
        RAISE EXCEPTION 'KPI "%" is lower-is-better: commission is paid on a KPI where more is better', NEW.basis_kpi
            USING ERRCODE = '22023';
    END IF;
    IF NEW.period NOT IN ('day', 'week', 'month', 'quarter', 'year') THEN
        RAISE EXCEPTION 'unknown period "%"', NEW.period
            USING ERRCODE = '22023', HINT = 'Use day, week, month, quarter or year.';
    END IF;
    IF NEW.team_bonus < 0 OR NEW.team_bonus IN ('NaN', 'Infinity') THEN
        RAISE EXCEPTION 'invalid team_bonus % in plan "%"', NEW.team_bonus, NEW.name
            USING ERRCODE = '22003', DETAIL = 'A team bonus is a finite amount, not negative.';
    END IF;

    -- The tiers and the curve are evaluated exactly on 128-bit integers:
    -- their numbers carry at most 12 decimal places (attainments and bases
    -- are rounded to 12 places before they meet them).
    SELECT x.what, x.v INTO bad_array, bad_value
      FROM (SELECT 'breakpoints' AS what, v FROM unnest(NEW.breakpoints) v
            UNION ALL SELECT 'rates', v FROM unnest(NEW.rates) v
            UNION ALL SELECT 'curve_x', v FROM unnest(NEW.curve_x) v
            UNION ALL SELECT 'curve_y', v FROM unnest(NEW.curve_y) v) x
     WHERE pg_catalog.scale(x.v) > 12
     LIMIT 1;
    IF bad_array IS NOT NULL THEN
        RAISE EXCEPTION '% of plan "%" has % with more than 12 decimal places', bad_array, NEW.name, bad_value
            USING ERRCODE = '22023', HINT = 'Round the plan''s numbers to 12 decimal places or fewer.';
    END IF;

    IF NEW.kind = 'rate' THEN
        IF NEW.breakpoints IS NULL OR NEW.rates IS NULL THEN
            RAISE EXCEPTION 'rate plan "%" needs breakpoints and rates', NEW.name USING ERRCODE = '22004';
        END IF;
        IF NEW.target_incentive IS NOT NULL OR NEW.individual_weight IS NOT NULL OR NEW.team_weight IS NOT NULL
           OR NEW.curve_x IS NOT NULL OR NEW.curve_y IS NOT NULL THEN
            RAISE EXCEPTION 'rate plan "%" takes no target_incentive, weights or curve', NEW.name
                USING ERRCODE = '22023', HINT = 'Those belong to quota plans; leave them NULL.';
        END IF;
        PERFORM salesperf.tiered_commission(0, NEW.breakpoints, NEW.rates, NEW.retroactive);
    ELSIF NEW.kind = 'quota' THEN
        IF NEW.target_incentive IS NULL OR NEW.individual_weight IS NULL OR NEW.team_weight IS NULL
           OR NEW.curve_x IS NULL OR NEW.curve_y IS NULL THEN
            RAISE EXCEPTION 'quota plan "%" needs target_incentive, individual_weight, team_weight, curve_x and curve_y', NEW.name
                USING ERRCODE = '22004';
        END IF;
        IF NEW.breakpoints IS NOT NULL OR NEW.rates IS NOT NULL OR NEW.retroactive THEN
            RAISE EXCEPTION 'quota plan "%" takes no breakpoints, rates or retroactive', NEW.name
                USING ERRCODE = '22023', HINT = 'Those belong to rate plans; leave them NULL (retroactive false).';
        END IF;
        IF NEW.target_incentive < 0 OR NEW.target_incentive IN ('NaN', 'Infinity') THEN
            RAISE EXCEPTION 'invalid target_incentive % in plan "%"', NEW.target_incentive, NEW.name
                USING ERRCODE = '22003', DETAIL = 'An incentive is a finite amount, not negative.';
        END IF;
        IF NEW.individual_weight < 0 OR NEW.team_weight < 0
           OR 'NaN' IN (NEW.individual_weight, NEW.team_weight)
           OR 'Infinity' IN (NEW.individual_weight, NEW.team_weight) THEN
            RAISE EXCEPTION 'invalid weights % and % in plan "%"', NEW.individual_weight, NEW.team_weight, NEW.name
                USING ERRCODE = '22003', DETAIL = 'Weights are finite and not negative.';
        END IF;
        IF NEW.individual_weight + NEW.team_weight <> 1 THEN
            RAISE EXCEPTION 'weights of plan "%" add up to %, not 1', NEW.name, NEW.individual_weight + NEW.team_weight
                USING ERRCODE = '22023', DETAIL = pg_catalog.format('individual_weight %s + team_weight %s',
                                                                 NEW.individual_weight, NEW.team_weight);
        END IF;
        PERFORM salesperf.payout_curve(0, NEW.curve_x, NEW.curve_y);
    ELSE
        RAISE EXCEPTION 'unknown plan kind "%"', NEW.kind USING ERRCODE = '22023', HINT = 'Use rate or quota.';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER commission_plan_check BEFORE INSERT OR UPDATE ON salesperf.commission_plan
    FOR EACH ROW EXECUTE FUNCTION salesperf.commission_plan_check();

-- Which plan each rep is paid under when: half-open ranges [since, until),
-- never overlapping for one rep (like membership).
CREATE TABLE salesperf.plan_assignment (
    rep_id bigint NOT NULL REFERENCES salesperf.rep (rep_id) ON DELETE CASCADE,
    plan   text NOT NULL REFERENCES salesperf.commission_plan (name) ON UPDATE CASCADE,
    during tstzrange NOT NULL,
    CONSTRAINT plan_assignment_half_open CHECK (
        NOT pg_catalog.isempty(during) AND NOT pg_catalog.lower_inf(during)
        AND pg_catalog.lower_inc(during) AND NOT pg_catalog.upper_inc(during)),
    CONSTRAINT plan_assignment_no_overlap EXCLUDE USING gist (
        pg_catalog.int8range(rep_id, rep_id, '[]') WITH OPERATOR(pg_catalog.&&),
        during WITH OPERATOR(pg_catalog.&&))
);
CREATE INDEX plan_assignment_rep_idx ON salesperf.plan_assignment (rep_id, pg_catalog.lower(during));
CREATE INDEX plan_assignment_plan_idx ON salesperf.plan_assignment (plan);
COMMENT ON TABLE salesperf.plan_assignment IS
  'Which commission plan each rep is paid under when: half-open ranges [since, until), never overlapping for one rep. Write it with salesperf.assign_plan().';
COMMENT ON COLUMN salesperf.plan_assignment.during IS 'Half-open time range; an open upper bound means "still on this plan".';
SELECT pg_catalog.pg_extension_config_dump('salesperf.plan_assignment', '');

-- Closed periods, one row per period kind and period.
CREATE TABLE salesperf.commission_period (
    period       text NOT NULL,
    period_start timestamptz NOT NULL,
    period_end   timestamptz NOT NULL,
    first_day    date NOT NULL,
    end_day      date NOT NULL,
    closed_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    closed_by    name NOT NULL DEFAULT CURRENT_USER,
    PRIMARY KEY (period, period_start)
);
CREATE INDEX commission_period_days_idx ON salesperf.commission_period (period, first_day);
COMMENT ON TABLE salesperf.commission_period IS
  'Derived: commission periods closed with salesperf.close_commission_period(), with their local days [first_day, end_day).';
SELECT pg_catalog.pg_extension_config_dump('salesperf.commission_period', '');

-- The frozen statement of each closed period: what was paid, and the
-- inputs a re-run uses (the plan's terms as they were, the target, the
-- teams with their shares and targets).  plan is NULL on a line that only
-- carries adjustments.
CREATE TABLE salesperf.commission_paid (
    period            text NOT NULL,
    period_start      timestamptz NOT NULL,
    rep_id            bigint NOT NULL,
    name              text,
    plan              text,
    basis_kpi         text,
    plan_kind         text,
    breakpoints       numeric[],
    rates             numeric[],
    retroactive       boolean,
    target_incentive  numeric,
    individual_weight numeric,
    team_weight       numeric,
    curve_x           numeric[],
    curve_y           numeric[],
    plan_team_bonus   numeric,
    first_day         date NOT NULL,
    end_day           date NOT NULL,
    target            numeric,
    team_units        bigint[],
    team_shares       numeric[],
    team_targets      numeric[],
    basis             numeric,
    attainment        numeric,
    individual_part   numeric NOT NULL,
    team_part         numeric NOT NULL,
    team_bonus        numeric NOT NULL,
    adjustments       numeric NOT NULL,
    total             numeric NOT NULL,
    PRIMARY KEY (period, period_start, rep_id),
    FOREIGN KEY (period, period_start) REFERENCES salesperf.commission_period (period, period_start)
);
-- One rep's statements: an index probe (and the key a row policy filters on).
CREATE INDEX commission_paid_rep_idx ON salesperf.commission_paid (rep_id, period, period_start);
COMMENT ON TABLE salesperf.commission_paid IS
  'Derived: the frozen commission statement lines of closed periods, with the inputs a re-run uses. Written only by salesperf.close_commission_period().';
COMMENT ON COLUMN salesperf.commission_paid.plan IS 'The plan the rep was paid under (NULL: the line only carries adjustments); basis_kpi through plan_team_bonus are its terms at the close.';
COMMENT ON COLUMN salesperf.commission_paid.plan_kind IS 'The plan''s kind (rate or quota) at the close.';
COMMENT ON COLUMN salesperf.commission_paid.plan_team_bonus IS 'The plan''s team bonus amount at the close (team_bonus is what was paid of it).';
COMMENT ON COLUMN salesperf.commission_paid.team_units IS 'Units the rep belonged to during the period.';
COMMENT ON COLUMN salesperf.commission_paid.team_shares IS 'Share of the period spent in each of team_units.';
COMMENT ON COLUMN salesperf.commission_paid.team_targets IS 'Effective target of each of team_units at the close.';
SELECT pg_catalog.pg_extension_config_dump('salesperf.commission_paid', '');

-- Adjustment lines frozen with the period they were paid in: each corrects
-- one earlier closed period of one rep.
CREATE TABLE salesperf.commission_adjustment (
    period           text NOT NULL,
    period_start     timestamptz NOT NULL,
    rep_id           bigint NOT NULL,
    for_period_start timestamptz NOT NULL,
    basis_paid       numeric,
    basis_now        numeric,
    earned_paid      numeric NOT NULL,
    earned_now       numeric NOT NULL,
    adjusted_before  numeric NOT NULL,
    amount           numeric NOT NULL,
    PRIMARY KEY (period, period_start, rep_id, for_period_start),
    FOREIGN KEY (period, period_start) REFERENCES salesperf.commission_period (period, period_start)
);
CREATE INDEX commission_adjustment_rep_idx ON salesperf.commission_adjustment (rep_id, period, for_period_start);
COMMENT ON TABLE salesperf.commission_adjustment IS
  'Derived: clawbacks and true-ups paid in a closed period, each for one earlier closed period of one rep. Written only by salesperf.close_commission_period().';
COMMENT ON COLUMN salesperf.commission_adjustment.period_start IS 'The period the adjustment was paid in.';
COMMENT ON COLUMN salesperf.commission_adjustment.for_period_start IS 'The closed period it corrects.';
COMMENT ON COLUMN salesperf.commission_adjustment.earned_paid IS 'What that period''s statement paid (individual + team + bonus).';
COMMENT ON COLUMN salesperf.commission_adjustment.earned_now IS 'What a re-run of that period gave at this close.';
COMMENT ON COLUMN salesperf.commission_adjustment.adjusted_before IS 'Adjustments for that period paid in earlier closes.';
COMMENT ON COLUMN salesperf.commission_adjustment.amount IS 'earned_now - earned_paid - adjusted_before: negative is a clawback.';
SELECT pg_catalog.pg_extension_config_dump('salesperf.commission_adjustment', '');

CREATE FUNCTION salesperf.commission_period_check(caller text, period text, period_start timestamptz)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
BEGIN
    IF period IS NULL OR period_start IS NULL THEN
        RAISE EXCEPTION '%() needs a period and a period_start', caller USING ERRCODE = '22004';
    END IF;
    IF period NOT IN ('day', 'week', 'month', 'quarter', 'year') THEN
        RAISE EXCEPTION 'unknown period "%"', period
            USING ERRCODE = '22023', HINT = 'Use day, week, month, quarter or year.';
    END IF;
    IF period_start IN ('infinity', '-infinity') THEN
        RAISE EXCEPTION 'period_start must be a finite moment, not %', period_start USING ERRCODE = '22008';
    END IF;
END
$$;
COMMENT ON FUNCTION salesperf.commission_period_check(text, text, timestamptz) IS
  'Internal: check the period arguments of the commission functions (22004, 22023, 22008).';

-- The closed period of a kind whose first local day lies in the period
-- [first_day, end_day) as the current settings draw it (NULL if none).
CREATE FUNCTION salesperf.closed_commission_period(period text, first_day date, end_day date)
RETURNS salesperf.commission_period
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    c salesperf.commission_period;
BEGIN
    -- PL/pgSQL, not SQL: the plan is kept between calls.
    SELECT * INTO c FROM salesperf.commission_period x
     WHERE x.period = closed_commission_period.period
       AND x.first_day >= closed_commission_period.first_day AND x.first_day < closed_commission_period.end_day
     ORDER BY x.first_day
     LIMIT 1;
    RETURN c;
END
$$;
COMMENT ON FUNCTION salesperf.closed_commission_period(text, date, date) IS
  'Internal: the closed commission period of a kind that starts within the given local days, if any.';

CREATE FUNCTION salesperf.assign_plan(rep_id bigint, plan text, since timestamptz DEFAULT pg_catalog.now())
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cur     salesperf.plan_assignment;
    later   timestamptz;
    horizon timestamptz;
BEGIN
    IF rep_id IS NULL OR since IS NULL THEN
        RAISE EXCEPTION 'assign_plan() needs a rep_id and a since moment' USING ERRCODE = '22004';
    END IF;
    IF since IN ('infinity', '-infinity') THEN
        RAISE EXCEPTION 'since must be a finite moment, not %', since USING ERRCODE = '22008';
    END IF;
    -- Serializes plan changes of one rep (42704 for an unknown rep).
    PERFORM salesperf.lock_reps(ARRAY[assign_plan.rep_id]);
    IF plan IS NOT NULL AND NOT EXISTS (SELECT 1 FROM salesperf.commission_plan p WHERE p.name = assign_plan.plan) THEN
        RAISE EXCEPTION 'unknown commission plan "%"', plan
            USING ERRCODE = '42704', HINT = 'See salesperf.commission_plan.';
    END IF;

    SELECT pg_catalog.min(pg_catalog.lower(a.during)) INTO later
      FROM salesperf.plan_assignment a
     WHERE a.rep_id = assign_plan.rep_id AND pg_catalog.lower(a.during) > since;
    IF later IS NOT NULL THEN
        RAISE EXCEPTION 'rep % already has a plan from %, after %', rep_id, later, since
            USING ERRCODE = '23P01',
                  HINT = 'Plan assignments never overlap: change or delete the later assignment first.';
    END IF;

    SELECT * INTO cur FROM salesperf.plan_assignment a
     WHERE a.rep_id = assign_plan.rep_id AND a.during @> since;
    IF cur.plan IS NOT DISTINCT FROM plan THEN
        RETURN;                                   -- already on it (or already off)
    END IF;

    -- What was paid stays paid: no plan change inside a closed period of
    -- the kind of the plan left or the plan taken.
    SELECT pg_catalog.max(c.period_end) INTO horizon
      FROM salesperf.commission_period c
     WHERE c.period IN (SELECT p.period FROM salesperf.commission_plan p
                         WHERE p.name IN (assign_plan.plan, cur.plan));
    IF horizon > since THEN
        RAISE EXCEPTION 'cannot change the plan of rep % from %: commission is closed until %', rep_id, since, horizon
            USING ERRCODE = '22023', HINT = 'Assign the plan from the start of the next open period.';
    END IF;

    IF cur.rep_id IS NOT NULL THEN
        IF pg_catalog.lower(cur.during) = since THEN
            DELETE FROM salesperf.plan_assignment a
             WHERE a.rep_id = cur.rep_id AND a.during = cur.during;
        ELSE
            UPDATE salesperf.plan_assignment a
               SET during = pg_catalog.tstzrange(pg_catalog.lower(cur.during), since, '[)')
             WHERE a.rep_id = cur.rep_id AND a.during = cur.during;
        END IF;
    END IF;
    IF plan IS NOT NULL THEN
        INSERT INTO salesperf.plan_assignment (rep_id, plan, during)
        VALUES (assign_plan.rep_id, assign_plan.plan, pg_catalog.tstzrange(since, NULL, '[)'));
    END IF;
END
$$;
COMMENT ON FUNCTION salesperf.assign_plan(bigint, text, timestamptz) IS
  'Put a rep on a commission plan from `since` on (a NULL plan takes the rep off commission): ends the current assignment at `since`. Errors: unknown rep or plan 42704, a later assignment already there 23P01, `since` inside a closed commission period 22023.';

-- Effective target of one unit, computed for that unit's subtree only (the
-- same rule as target_tree(): explicit, else its member reps' targets at
-- the period start plus its child units' effective targets).  A statement
-- needs the targets of a rep's teams, not the whole tree.
CREATE FUNCTION salesperf.unit_target(kpi text, period text, period_start timestamptz,
                                      first_day date, end_day date, unit_id bigint)
RETURNS numeric
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    v     numeric;
    total numeric;
    child bigint;
BEGIN
    SELECT t.value INTO v
      FROM salesperf.target t
     WHERE t.scope_id = unit_id AND t.scope = 'unit' AND t.period = period
       AND t.start_day >= first_day AND t.start_day < end_day AND t.kpi = kpi
     ORDER BY t.start_day
     LIMIT 1;
    IF FOUND THEN
        RETURN v;
    END IF;
    SELECT pg_catalog.sum(x.value) INTO total
      FROM salesperf.membership m
     CROSS JOIN LATERAL (
           SELECT t.value FROM salesperf.target t
            WHERE t.scope_id = m.rep_id AND t.scope = 'rep' AND t.period = period
              AND t.start_day >= first_day AND t.start_day < end_day AND t.kpi = kpi
            ORDER BY t.start_day
            LIMIT 1) x
     WHERE m.unit_id = unit_target.unit_id AND m.during @> period_start;
    FOR child IN SELECT u.unit_id FROM salesperf.unit u WHERE u.parent_id = unit_target.unit_id LOOP
        v := salesperf.unit_target(kpi, period, period_start, first_day, end_day, child);
        IF v IS NOT NULL THEN
            total := COALESCE(total, 0) + v;
        END IF;
    END LOOP;
    RETURN total;
END
$$;
COMMENT ON FUNCTION salesperf.unit_target(text, text, timestamptz, date, date, bigint) IS
  'Internal: effective target of one unit for a KPI and period (bounds given), computed over its subtree only; equals salesperf.effective_target() for the unit.';


-- A team's KPI over local days [first_day, end_day): its whole subtree
-- (as kpi_value counts a unit), from the counters.  A team part depends on
-- what the whole team did, so a rep login, whose row-level security hides
-- its teammates' counters, must still get the team's total: this runs with
-- the owner's rights and returns only the unit's aggregate, which the
-- public unit boards show anyway.
CREATE FUNCTION salesperf.commission_team_value(kpi text, unit_id bigint, first_day date, end_day date)
RETURNS numeric
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- PL/pgSQL, not SQL: called once per team, its plan is kept.
    RETURN salesperf.kpi_value_days(kpi, 'unit', unit_id, first_day, end_day);
END
$$;
COMMENT ON FUNCTION salesperf.commission_team_value(text, bigint, date, date) IS
  'Internal: a unit''s KPI value over its whole subtree and the given local days, from counters (runs as the owner: a team part needs the whole team''s total; only the aggregate is returned).';

-- The inputs of commission lines, optionally only for_rep: for the open
-- period [ps, pe) (local days [d0, d1)) from today's plans, assignments,
-- targets and memberships, one row per rep paid under a plan of this kind;
-- with ps NULL, the frozen inputs of every closed period of the kind.
CREATE FUNCTION salesperf.commission_inputs(period text, ps timestamptz, pe timestamptz, d0 date, d1 date,
                                                 for_rep bigint)
RETURNS TABLE (rep_id bigint, period_start timestamptz, first_day date, end_day date, plan text, basis_kpi text,
               plan_kind text, breakpoints numeric[], rates numeric[], retroactive boolean,
               target_incentive numeric, individual_weight numeric, team_weight numeric, curve_x numeric[],
               curve_y numeric[], plan_team_bonus numeric, target numeric, team_units bigint[],
               team_shares numeric[], team_targets numeric[])
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- EXECUTE: planned with the values, so a one-rep call is index probes
    -- and the rep filter disappears from a whole-company call.
    IF ps IS NULL THEN
        RETURN QUERY EXECUTE $q$
          SELECT c.rep_id, c.period_start, c.first_day, c.end_day, c.plan, c.basis_kpi, c.plan_kind,
                 c.breakpoints, c.rates, c.retroactive, c.target_incentive, c.individual_weight, c.team_weight,
                 c.curve_x, c.curve_y, c.plan_team_bonus, c.target, c.team_units, c.team_shares, c.team_targets
            FROM salesperf.commission_paid c
           WHERE c.period = $1 AND c.plan IS NOT NULL AND ($2::bigint IS NULL OR c.rep_id = $2)
        $q$ USING period, for_rep;
        RETURN;
    END IF;
    RETURN QUERY EXECUTE $q$
      WITH a AS MATERIALIZED (
          SELECT DISTINCT ON (pa.rep_id) pa.rep_id, cp.*
            FROM salesperf.plan_assignment pa
            JOIN salesperf.commission_plan cp ON cp.name = pa.plan
           WHERE cp.period = $1 AND pa.during && tstzrange($2, $3, '[)')
             AND ($6::bigint IS NULL OR pa.rep_id = $6)
           ORDER BY pa.rep_id, lower(pa.during) DESC
      ), m AS MATERIALIZED (
          SELECT a.rep_id, a.basis_kpi AS kpi, ms.unit_id, lower(ms.during) AS since,
                 round(extract(epoch FROM least(coalesce(upper(ms.during), $3), $3) - greatest(lower(ms.during), $2))
                       / extract(epoch FROM $3 - $2), 12) AS share
            FROM a JOIN salesperf.membership ms
              ON ms.rep_id = a.rep_id AND ms.during && tstzrange($2, $3, '[)')
      ), ut AS MATERIALIZED (
          -- Each team's target once, however many members it has.
          SELECT u.unit_id, u.kpi, salesperf.unit_target(u.kpi, $1, $2, $4, $5, u.unit_id) AS target
            FROM (SELECT DISTINCT m.unit_id, m.kpi FROM m) u
      ), tm AS MATERIALIZED (
          -- One pass over the memberships (not one per rep).
          SELECT m.rep_id,
                 array_agg(m.unit_id ORDER BY m.since) AS units,
                 array_agg(m.share ORDER BY m.since) AS shares,
                 array_agg(ut.target ORDER BY m.since) AS targets
            FROM m JOIN ut ON ut.unit_id = m.unit_id AND ut.kpi = m.kpi
           GROUP BY m.rep_id
      )
      SELECT a.rep_id, $2, $4, $5, a.name, a.basis_kpi, a.kind, a.breakpoints, a.rates, a.retroactive,
             a.target_incentive, a.individual_weight, a.team_weight, a.curve_x, a.curve_y, a.team_bonus,
             (SELECT t.value FROM salesperf.target t
               WHERE t.scope_id = a.rep_id AND t.scope = 'rep' AND t.period = $1
                 AND t.start_day >= $4 AND t.start_day < $5 AND t.kpi = a.basis_kpi
               ORDER BY t.start_day LIMIT 1),
             tm.units, tm.shares, tm.targets
        FROM a
        LEFT JOIN tm ON tm.rep_id = a.rep_id
    $q$ USING period, ps, pe, d0, d1, for_rep;
END
$$;
COMMENT ON FUNCTION salesperf.commission_inputs(text, timestamptz, timestamptz, date, date, bigint) IS
  'Internal: inputs of commission lines (optionally one rep): of an open period (bounds given) from today''s plans, assignments, targets and memberships, or (ps NULL) as frozen for every closed period of the kind.';

-- Lines with their parts at full precision: the live lines of the open
-- period [ps, pe), or (ps NULL) re-runs of every closed period of the kind
-- from its frozen inputs.  The basis and the teams' KPI values come from
-- the counters.
CREATE FUNCTION salesperf.commission_evaluate(period text, ps timestamptz, pe timestamptz, d0 date, d1 date,
                                              for_rep bigint)
RETURNS TABLE (rep_id bigint, period_start timestamptz, first_day date, end_day date, plan text, basis_kpi text,
               plan_kind text, breakpoints numeric[], rates numeric[], retroactive boolean,
               target_incentive numeric, individual_weight numeric, team_weight numeric, curve_x numeric[],
               curve_y numeric[], plan_team_bonus numeric, target numeric, team_units bigint[],
               team_shares numeric[], team_targets numeric[], basis numeric, attainment numeric,
               individual_part numeric, team_part numeric, team_bonus numeric)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET jit = off
AS $$
#variable_conflict use_column
BEGIN
    -- A static query: nothing in it depends on which rep or period is asked
    -- for (the inputs function chooses the rows), so its plan is kept
    -- between calls.
    RETURN QUERY
      WITH i AS MATERIALIZED (
          SELECT l.* FROM salesperf.commission_inputs(commission_evaluate.period, commission_evaluate.ps,
                                                      commission_evaluate.pe, commission_evaluate.d0,
                                                      commission_evaluate.d1, commission_evaluate.for_rep) l
      ), b AS (
          -- Each line's basis: the rep's KPI over the line's days, one
          -- index probe per line (LATERAL: the plan is kept between calls,
          -- and must not trade the probes for a scan of a whole period's
          -- counters when it is asked for one rep).
          SELECT i.rep_id, i.period_start, x.num, x.den
            FROM i JOIN salesperf.kpi k ON k.name = i.basis_kpi
           CROSS JOIN LATERAL (
                 SELECT sum(v.num) AS num, sum(v.den) AS den
                   FROM salesperf.kpi_counter c
                  CROSS JOIN LATERAL salesperf.kpi_contribution(k.num_kind, k.num_measure, k.den_kind, k.den_measure,
                                                                c.kind, c.activities, c.amount, c.points,
                                                                c.last_at, c.last_amount_at, c.last_point_at) v
                  WHERE c.rep_id = i.rep_id AND c.day >= i.first_day AND c.day < i.end_day AND v.num IS NOT NULL
                    -- Only the kinds the KPI reads (kpi_contribution gives
                    -- the others nothing): most counter rows are skipped.
                    AND (k.num_kind IS NULL OR c.kind = k.num_kind
                         OR (k.den_measure IS NOT NULL AND (k.den_kind IS NULL OR c.kind = k.den_kind)))) x
      ), tm AS MATERIALIZED (
          -- Each line's teams, with what the team part needs of the plan.
          SELECT i.rep_id, i.period_start, i.first_day, i.end_day, i.basis_kpi, i.plan_kind, i.target_incentive,
                 i.team_weight, i.curve_x, i.curve_y, i.plan_team_bonus, t.unit_id, t.share, t.target
            FROM i CROSS JOIN LATERAL unnest(i.team_units, i.team_shares, i.team_targets) AS t(unit_id, share, target)
      ), tu AS MATERIALIZED (
          -- Each team's KPI over the line's days, once per team.
          SELECT u.unit_id, u.period_start, u.basis_kpi,
                 salesperf.commission_team_value(u.basis_kpi, u.unit_id, u.first_day, u.end_day) AS value
            FROM (SELECT DISTINCT tm.unit_id, tm.period_start, tm.first_day, tm.end_day, tm.basis_kpi FROM tm) u
      ), tp AS (
          SELECT tm.rep_id, tm.period_start,
                 sum(CASE WHEN tm.plan_kind = 'quota'
                          THEN tm.target_incentive * tm.team_weight * tm.share
                               * COALESCE(salesperf.payout_curve(round(tu.value / NULLIF(tm.target, 0), 12),
                                                                 tm.curve_x, tm.curve_y), 0)
                          ELSE 0 END) AS team_part,
                 sum(CASE WHEN tm.target IS NOT NULL AND COALESCE(tu.value, 0) >= tm.target
                          THEN tm.share * tm.plan_team_bonus ELSE 0 END) AS team_bonus
            FROM tm
            LEFT JOIN tu ON tu.unit_id = tm.unit_id AND tu.period_start = tm.period_start AND tu.basis_kpi = tm.basis_kpi
           GROUP BY tm.rep_id, tm.period_start
      )
      SELECT i.*, bv.basis, bv.attainment,
             CASE WHEN i.plan_kind = 'rate'
                  THEN COALESCE(salesperf.tiered_commission(round(bv.basis, 12), i.breakpoints, i.rates, i.retroactive), 0)
                  ELSE i.target_incentive * i.individual_weight
                       * COALESCE(salesperf.payout_curve(bv.attainment, i.curve_x, i.curve_y), 0)
             END,
             COALESCE(tp.team_part, 0), COALESCE(tp.team_bonus, 0)
        FROM i
        JOIN salesperf.kpi k ON k.name = i.basis_kpi
        LEFT JOIN b ON b.rep_id = i.rep_id AND b.period_start = i.period_start
        LEFT JOIN tp ON tp.rep_id = i.rep_id AND tp.period_start = i.period_start
       CROSS JOIN LATERAL (SELECT CASE WHEN k.den_measure IS NULL THEN COALESCE(b.num, 0)
                                       ELSE b.num / NULLIF(b.den, 0) END AS basis) bb
       -- Attainment (a quotient) and the basis enter the curve and the
       -- tiers at 12 decimal places, like the plan's own numbers.
       CROSS JOIN LATERAL (SELECT bb.basis, round(bb.basis / NULLIF(i.target, 0), 12) AS attainment) bv;
END
$$;
COMMENT ON FUNCTION salesperf.commission_evaluate(text, timestamptz, timestamptz, date, date, bigint) IS
  'Internal: commission lines at full precision, from counters: the live lines of the open period [ps, pe) (local days [d0, d1)), or (ps NULL) a re-run of every closed period of the kind from its frozen inputs.';

-- The adjustment lines owed in the period starting on local day first_day,
-- if that period is the next open one of its kind (the one after the last
-- closed): for each closed period, a re-run now minus what was paid for it
-- and the adjustments for it paid since.
CREATE FUNCTION salesperf.commission_pending_adjustments(period text, first_day date, for_rep bigint)
RETURNS TABLE (rep_id bigint, for_period_start timestamptz, basis_kpi text, basis_paid numeric,
               basis_now numeric, earned_paid numeric, earned_now numeric, adjusted_before numeric,
               amount numeric)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    last_end date;
    cs       integer;
BEGIN
    SELECT max(c.end_day) INTO last_end FROM salesperf.commission_period c
     WHERE c.period = commission_pending_adjustments.period;
    IF last_end IS DISTINCT FROM commission_pending_adjustments.first_day THEN
        RETURN;
    END IF;
    SELECT s.currency_scale INTO cs FROM salesperf.settings s;
    RETURN QUERY
    WITH rerun AS (
        SELECT e.rep_id, e.period_start, e.basis,
               round(e.individual_part + e.team_part + e.team_bonus, cs) AS earned
          FROM salesperf.commission_evaluate(commission_pending_adjustments.period, NULL, NULL, NULL, NULL,
                                             commission_pending_adjustments.for_rep) e
    ), before AS (
        SELECT a.rep_id, a.for_period_start, sum(a.amount) AS amount
          FROM salesperf.commission_adjustment a
         WHERE a.period = commission_pending_adjustments.period
           AND (commission_pending_adjustments.for_rep IS NULL OR a.rep_id = commission_pending_adjustments.for_rep)
         GROUP BY a.rep_id, a.for_period_start
    ), x AS (
        SELECT c.rep_id, c.period_start, c.basis_kpi, c.basis, e.basis AS now_basis,
               c.total - c.adjustments AS paid, e.earned AS now_earned, COALESCE(bf.amount, 0) AS before
          FROM salesperf.commission_paid c
          JOIN rerun e ON e.rep_id = c.rep_id AND e.period_start = c.period_start
          LEFT JOIN before bf ON bf.rep_id = c.rep_id AND bf.for_period_start = c.period_start
         WHERE c.period = commission_pending_adjustments.period AND c.plan IS NOT NULL
           AND (commission_pending_adjustments.for_rep IS NULL OR c.rep_id = commission_pending_adjustments.for_rep)
    )
    SELECT x.rep_id, x.period_start, x.basis_kpi, x.basis, x.now_basis, x.paid, x.now_earned,
           round(x.before, cs), x.now_earned - x.paid - x.before
      FROM x
     WHERE x.now_earned - x.paid - x.before <> 0;
END
$$;
COMMENT ON FUNCTION salesperf.commission_pending_adjustments(text, date, bigint) IS
  'Internal: adjustment lines owed in the period of a kind that starts on local day first_day when it is the next open one (re-run of each closed period minus what was paid for it so far); none otherwise.';

CREATE FUNCTION salesperf.commission_adjustments(period text, period_start timestamptz, for_rep bigint DEFAULT NULL)
RETURNS TABLE (rep_id bigint, name text, for_period_start timestamptz, basis_paid numeric, basis_now numeric,
               earned_paid numeric, earned_now numeric, adjusted_before numeric, amount numeric, kind text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    p      record;
    closed salesperf.commission_period;
BEGIN
    PERFORM salesperf.commission_period_check('commission_adjustments', commission_adjustments.period,
                                              commission_adjustments.period_start);
    p := salesperf.target_period(commission_adjustments.period_start, commission_adjustments.period);
    closed := salesperf.closed_commission_period(commission_adjustments.period, p.first_day, p.end_day);
    IF closed.period IS NOT NULL THEN
        RETURN QUERY
        SELECT a.rep_id, r.name, a.for_period_start, a.basis_paid, a.basis_now, a.earned_paid, a.earned_now,
               a.adjusted_before, a.amount, CASE WHEN a.amount < 0 THEN 'clawback' ELSE 'true_up' END
          FROM salesperf.commission_adjustment a
          LEFT JOIN salesperf.rep r ON r.rep_id = a.rep_id
         WHERE a.period = closed.period AND a.period_start = closed.period_start
           AND (commission_adjustments.for_rep IS NULL OR a.rep_id = commission_adjustments.for_rep)
         ORDER BY a.rep_id, a.for_period_start;
        RETURN;
    END IF;
    RETURN QUERY
    SELECT a.rep_id, r.name, a.for_period_start, a.basis_paid,
           salesperf.display_score(a.basis_now, a.basis_kpi),
           a.earned_paid, a.earned_now, a.adjusted_before, a.amount,
           CASE WHEN a.amount < 0 THEN 'clawback' ELSE 'true_up' END
      FROM salesperf.commission_pending_adjustments(commission_adjustments.period, p.first_day,
                                                    commission_adjustments.for_rep) a
      LEFT JOIN salesperf.rep r ON r.rep_id = a.rep_id
     ORDER BY a.rep_id, a.for_period_start;
END
$$;
COMMENT ON FUNCTION salesperf.commission_adjustments(text, timestamptz, bigint) IS
  'Clawbacks and true-ups paid in the period containing period_start (optionally for one rep), one line per earlier closed period corrected: the basis and earnings as paid and as a re-run gives them now, adjustments already paid for it, and the amount (negative: clawback). Frozen for a closed period; computed for the next open period (the one after the last closed); empty otherwise.';

-- The statement lines of an open period [ps, pe) (local days [d0, d1))
-- with their inputs (what close_commission_period() freezes).
CREATE FUNCTION salesperf.commission_open_lines(period text, ps timestamptz, pe timestamptz, d0 date, d1 date,
                                                for_rep bigint)
RETURNS TABLE (rep_id bigint, name text, plan text, basis_kpi text, plan_kind text, breakpoints numeric[],
               rates numeric[], retroactive boolean, target_incentive numeric, individual_weight numeric,
               team_weight numeric, curve_x numeric[], curve_y numeric[], plan_team_bonus numeric,
               target numeric, team_units bigint[], team_shares numeric[], team_targets numeric[],
               basis numeric, attainment numeric, individual_part numeric, team_part numeric,
               team_bonus numeric, adjustments numeric, total numeric)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    cs integer;
BEGIN
    SELECT s.currency_scale INTO cs FROM salesperf.settings s;
    RETURN QUERY
    WITH live AS (
        SELECT * FROM salesperf.commission_evaluate(commission_open_lines.period, ps, pe, d0, d1,
                                                    commission_open_lines.for_rep)
    ), adj AS (
        SELECT a.rep_id, sum(a.amount) AS amount
          FROM salesperf.commission_pending_adjustments(commission_open_lines.period, d0,
                                                        commission_open_lines.for_rep) a
         GROUP BY a.rep_id
    )
    SELECT COALESCE(l.rep_id, a.rep_id),
           (SELECT r.name FROM salesperf.rep r WHERE r.rep_id = COALESCE(l.rep_id, a.rep_id)),
           l.plan, l.basis_kpi, l.plan_kind, l.breakpoints, l.rates,
           l.retroactive, l.target_incentive, l.individual_weight, l.team_weight, l.curve_x, l.curve_y,
           l.plan_team_bonus, l.target, l.team_units, l.team_shares, l.team_targets,
           salesperf.display_score(l.basis, l.basis_kpi),
           trim_scale(round(l.attainment, 4)),
           round(COALESCE(l.individual_part, 0), cs), round(COALESCE(l.team_part, 0), cs),
           round(COALESCE(l.team_bonus, 0), cs), round(COALESCE(a.amount, 0), cs),
           round(COALESCE(l.individual_part + l.team_part + l.team_bonus, 0), cs) + COALESCE(a.amount, 0)
      FROM live l
      FULL JOIN adj a ON a.rep_id = l.rep_id;
END
$$;
COMMENT ON FUNCTION salesperf.commission_open_lines(text, timestamptz, timestamptz, date, date, bigint) IS
  'Internal: the statement lines of an open period (bounds given) with their inputs (what close_commission_period() freezes).';

CREATE FUNCTION salesperf.commission_statement(period text, period_start timestamptz, for_rep bigint DEFAULT NULL)
RETURNS TABLE (rep_id bigint, name text, plan text, basis numeric, target numeric, attainment numeric,
               individual_part numeric, team_part numeric, team_bonus numeric, adjustments numeric,
               total numeric)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    p      record;
    closed salesperf.commission_period;
BEGIN
    PERFORM salesperf.commission_period_check('commission_statement', commission_statement.period,
                                              commission_statement.period_start);
    IF commission_statement.for_rep IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM salesperf.rep r WHERE r.rep_id = commission_statement.for_rep) THEN
        RAISE EXCEPTION 'unknown rep %', commission_statement.for_rep
            USING ERRCODE = '42704', HINT = 'See salesperf.rep.';
    END IF;
    p := salesperf.target_period(commission_statement.period_start, commission_statement.period);
    closed := salesperf.closed_commission_period(commission_statement.period, p.first_day, p.end_day);
    IF closed.period IS NOT NULL THEN
        RETURN QUERY
        SELECT c.rep_id, c.name, c.plan, c.basis, c.target, c.attainment, c.individual_part, c.team_part,
               c.team_bonus, c.adjustments, c.total
          FROM salesperf.commission_paid c
         WHERE c.period = closed.period AND c.period_start = closed.period_start
           AND (commission_statement.for_rep IS NULL OR c.rep_id = commission_statement.for_rep)
         ORDER BY c.rep_id;
        RETURN;
    END IF;
    RETURN QUERY
    SELECT l.rep_id, l.name, l.plan, l.basis, l.target, l.attainment, l.individual_part, l.team_part,
           l.team_bonus, l.adjustments, l.total
      FROM salesperf.commission_open_lines(commission_statement.period, p.period_start, p.period_end,
                                           p.first_day, p.end_day, commission_statement.for_rep) l
     ORDER BY l.rep_id;
END
$$;
COMMENT ON FUNCTION salesperf.commission_statement(text, timestamptz, bigint) IS
  'Commission statement of the period (day, week, month, quarter, year) containing period_start, one row per rep paid under a plan of that kind (or owed an adjustment), optionally only rep for_rep: the plan, basis (the plan''s KPI), target, attainment, individual and team parts, team bonus, adjustments (clawbacks and true-ups of closed periods, in the next open period) and total, rounded to currency_scale at the end. A closed period answers what was frozen; an open one is computed from counters and targets. Errors: NULL period 22004, unknown period 22023, unknown rep 42704.';

CREATE FUNCTION salesperf.close_commission_period(period_start timestamptz, period text DEFAULT 'month')
RETURNS integer
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_variable
DECLARE
    p      record;
    closed salesperf.commission_period;
    last   salesperf.commission_period;
    lines  integer;
BEGIN
    PERFORM salesperf.commission_period_check('close_commission_period', period, period_start);
    -- One close at a time: two sessions closing the same period give one
    -- close (the second sees it closed and does nothing).
    LOCK TABLE salesperf.commission_period IN SHARE ROW EXCLUSIVE MODE;
    p := salesperf.target_period(period_start, period);
    closed := salesperf.closed_commission_period(period, p.first_day, p.end_day);
    IF closed.period IS NOT NULL THEN
        RAISE NOTICE 'commission % starting % is already closed', period, closed.period_start;
        RETURN 0;
    END IF;
    IF p.period_end > pg_catalog.now() THEN
        RAISE EXCEPTION 'commission % starting % has not ended: it ends %', period, p.period_start, p.period_end
            USING ERRCODE = '22023', HINT = 'Close a period once it is over.';
    END IF;
    SELECT c.* INTO last FROM salesperf.commission_period c
     WHERE c.period = close_commission_period.period ORDER BY c.first_day DESC LIMIT 1;
    IF last.period IS NOT NULL AND last.end_day <> p.first_day THEN
        RAISE EXCEPTION 'commission periods close in order: % starting % is not the one after the last closed (% starting %)',
                        period, p.period_start, period, last.period_start
            USING ERRCODE = '22023',
                  HINT = CASE WHEN p.first_day > last.end_day
                              THEN pg_catalog.format('Close the %s starting %s first.', period, last.period_end)
                              ELSE 'Periods before the first closed one are never closed.' END;
    END IF;

    -- One statement: the functions below read the snapshot taken before it,
    -- in which this period is still open (and the next after the last
    -- closed), so the adjustment lines frozen are the ones the statement
    -- lines add up.
    WITH closing AS (
        INSERT INTO salesperf.commission_period (period, period_start, period_end, first_day, end_day)
        VALUES (period, p.period_start, p.period_end, p.first_day, p.end_day)
    ), adj AS (
        INSERT INTO salesperf.commission_adjustment
               (period, period_start, rep_id, for_period_start, basis_paid, basis_now, earned_paid, earned_now,
                adjusted_before, amount)
        SELECT period, p.period_start, a.rep_id, a.for_period_start, a.basis_paid,
               salesperf.display_score(a.basis_now, a.basis_kpi),
               a.earned_paid, a.earned_now, a.adjusted_before, a.amount
          FROM salesperf.commission_pending_adjustments(period, p.first_day, NULL) a
    )
    INSERT INTO salesperf.commission_paid
           (period, period_start, rep_id, name, plan, basis_kpi, plan_kind, breakpoints, rates, retroactive,
            target_incentive, individual_weight, team_weight, curve_x, curve_y, plan_team_bonus, first_day,
            end_day, target, team_units, team_shares, team_targets, basis, attainment, individual_part,
            team_part, team_bonus, adjustments, total)
    SELECT period, p.period_start, l.rep_id, l.name, l.plan, l.basis_kpi, l.plan_kind, l.breakpoints, l.rates,
           l.retroactive, l.target_incentive, l.individual_weight, l.team_weight, l.curve_x, l.curve_y,
           l.plan_team_bonus, p.first_day, p.end_day, l.target, l.team_units, l.team_shares, l.team_targets,
           l.basis, l.attainment, l.individual_part, l.team_part, l.team_bonus, l.adjustments, l.total
      FROM salesperf.commission_open_lines(period, p.period_start, p.period_end, p.first_day, p.end_day, NULL) l;
    GET DIAGNOSTICS lines = ROW_COUNT;
    RETURN lines;
END
$$;
COMMENT ON FUNCTION salesperf.close_commission_period(timestamptz, text) IS
  'Close the commission period (default a month) containing period_start: freezes every statement line with its inputs and the adjustment lines it pays. Later changes to what happened in a closed period come out as adjustments in the next open period. Closing a closed period does nothing (returns 0); closing one that has not ended or is not the one after the last closed raises 22023. Returns the number of lines frozen.';
