-- Commission arithmetic (SPEC §10): tiered commission and payout curves,
-- exact on numeric (src/commission_math_fn.c, src/core/commission_math.c).
-- Not STRICT: a NULL amount or attainment gives NULL, a NULL array or flag
-- is an error, so a plan with a missing table cannot silently pay nothing.

CREATE FUNCTION salesperf.tiered_commission(amount numeric, breakpoints numeric[],
                                            rates numeric[], retroactive boolean DEFAULT false)
RETURNS numeric AS 'MODULE_PATHNAME', 'salesperf_tiered_commission'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.tiered_commission(numeric, numeric[], numeric[], boolean) IS
  'Commission on amount under a tier table: breakpoints[i] is where tier i starts (the first is 0, strictly ascending), rates[i] its rate (>= 0), same length. '
  'Graduated (default): each slice of the amount at its own tier''s rate, sum of (least(amount, breakpoints[i+1]) - breakpoints[i]) * rates[i] over the tiers reached. '
  'Retroactive: the whole amount at the rate of the highest tier whose breakpoint is <= amount (an amount on a breakpoint is in the tier starting there). '
  'A negative amount (returns above sales) is amount * rates[1] in both modes: the first tier extended below zero. '
  'Exact: the result has the scale of amount and breakpoints plus that of rates, as numeric multiplication gives. '
  'NULL amount gives NULL; NULL breakpoints, rates or retroactive raise 22004; an invalid tier table raises 22023 naming the element; '
  'a non-finite amount, a value with more than 30 decimals or a result beyond 38 digits raise 22003. '
  'Calling it with amount 0 validates a tier table.';

CREATE FUNCTION salesperf.payout_curve(attainment numeric, xs numeric[], ys numeric[])
RETURNS numeric AS 'MODULE_PATHNAME', 'salesperf_payout_curve'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION salesperf.payout_curve(numeric, numeric[], numeric[]) IS
  'Payout multiplier at attainment: piecewise-linear through the points (xs[i], ys[i]), xs strictly ascending, ys >= 0, same length; '
  'flat before the first point (ys[1]) and after the last (ys[n]), which makes thresholds, accelerators, decelerators and caps. '
  'On a point the result is ys[i] exactly. Between points it is ys[i] + (ys[i+1] - ys[i]) * (attainment - xs[i]) / (xs[i+1] - xs[i]), '
  'rounded half away from zero to 12 decimal places (or to the scale of those two ys if larger), then stripped of trailing zeros but never below the scale of those two ys. '
  'NULL attainment gives NULL; NULL xs or ys raise 22004; an invalid curve raises 22023 naming the element; '
  'a non-finite attainment, a value with more than 30 decimals or a step beyond 38 digits raise 22003. '
  'Calling it with attainment 0 validates a curve.';
