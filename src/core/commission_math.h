/*
 * commission_math.h — exact commission arithmetic (no PostgreSQL headers).
 *
 * The money maths behind salesperf.tiered_commission and
 * salesperf.payout_curve (SPEC §10).  No floating point: every value is a
 * decimal held as a signed 128-bit coefficient and a scale (the number of
 * digits after the point), value = coef / 10^scale.  Every multiplication,
 * addition and rescale is checked; a result that does not fit is reported
 * as SP_CM_OVERFLOW, never wrapped.
 *
 * Text in and out is the canonical form numeric_out prints: an optional
 * '-', digits, and optionally '.' and more digits.  Exponents, NaN and
 * infinities are not accepted here; the SQL glue refuses non-finite values
 * before calling.
 *
 * Nothing here allocates or exits: results go into caller-supplied
 * structures, and a failing call says why with a status and, where one
 * array element is to blame, its zero-based index.
 */
#ifndef SALESPERF_COMMISSION_MATH_H
#define SALESPERF_COMMISSION_MATH_H

#include <stdbool.h>
#include <stddef.h>

/* Inputs with more decimals than this are refused (SP_CM_TOO_PRECISE). */
#define SP_CM_SCALE_MAX		30

/*
 * Payout curves interpolate to this many decimals (or to the scale of the
 * ys of the segment when that is larger), rounding half away from zero.
 */
#define SP_CM_CURVE_SCALE	12

/*
 * Buffer size for sp_cm_format, terminating NUL included: sign, 39 digits
 * of the coefficient, the point, a leading "0" and up to 2 × SP_CM_SCALE_MAX
 * decimals.
 */
#define SP_CM_TEXT_MAX		(1 + 40 + 1 + 2 * SP_CM_SCALE_MAX + 1)

typedef struct sp_cm_dec
{
	__int128	coef;
	int			scale;			/* 0 .. 2 × SP_CM_SCALE_MAX */
} sp_cm_dec;

typedef enum sp_cm_status
{
	SP_CM_OK = 0,
	SP_CM_SYNTAX,				/* text is not [-]digits[.digits] */
	SP_CM_TOO_PRECISE,			/* more than SP_CM_SCALE_MAX decimals */
	SP_CM_OVERFLOW,				/* a value or a step outside the 128-bit range */
	SP_CM_EMPTY,				/* no tiers or no curve points */
	SP_CM_LENGTH_MISMATCH,		/* breakpoints/rates or xs/ys differ in length */
	SP_CM_FIRST_NOT_ZERO,		/* breakpoints[0] is not 0 (index 0) */
	SP_CM_NOT_ASCENDING,		/* v[index] <= v[index - 1] */
	SP_CM_NEGATIVE_RATE,		/* rates[index] < 0 */
	SP_CM_NEGATIVE_Y			/* ys[index] < 0 */
} sp_cm_status;

/*
 * Parses canonical decimal text.  "-0.50" gives coef -50, scale 2.  On
 * SP_CM_SYNTAX, SP_CM_TOO_PRECISE or SP_CM_OVERFLOW *out is unchanged.
 */
sp_cm_status sp_cm_parse(const char *text, sp_cm_dec *out);

/*
 * Writes v with exactly v.scale decimals into buf (SP_CM_TEXT_MAX bytes):
 * "0", "-0.50", "13750.0000".  Zero never carries a sign.
 */
void		sp_cm_format(sp_cm_dec v, char *buf);

/* -1, 0 or 1 as a < b, a = b, a > b (exact at any scales). */
int			sp_cm_cmp(sp_cm_dec a, sp_cm_dec b);

/*
 * num / den rounded half away from zero (den != 0).  Returns false when
 * the quotient does not fit (only INT128_MIN / -1).
 */
bool		sp_cm_div_round(__int128 num, __int128 den, __int128 *quotient);

/*
 * Checks a tier table: non-empty, nb == nr, breakpoints[0] = 0, strictly
 * ascending, every rate >= 0.  *bad is the index of the offending element
 * (0 when no single element is to blame).
 */
sp_cm_status sp_cm_check_tiers(const sp_cm_dec *breakpoints, size_t nb,
							   const sp_cm_dec *rates, size_t nr, size_t *bad);

/*
 * Commission on `amount` under a tier table (checked first, as above).
 *
 * Graduated: sum over the tiers the amount reaches of
 *   (min(amount, breakpoints[i + 1]) - breakpoints[i]) × rates[i].
 * Retroactive: amount × rates[k], k the highest tier with
 *   breakpoints[k] <= amount (an amount on a breakpoint is in the tier that
 *   starts there).
 * A negative amount is amount × rates[0] in both modes (the first tier
 * extended below zero).
 *
 * The result's scale is max(scale of amount and breakpoints) + max(scale
 * of rates), the scale SQL numeric multiplication gives.
 */
sp_cm_status sp_cm_tiered(sp_cm_dec amount,
						  const sp_cm_dec *breakpoints, size_t nb,
						  const sp_cm_dec *rates, size_t nr,
						  bool retroactive, sp_cm_dec *result, size_t *bad);

/*
 * Checks a payout curve: non-empty, nx == ny, xs strictly ascending, every
 * y >= 0.  *bad as for sp_cm_check_tiers.
 */
sp_cm_status sp_cm_check_curve(const sp_cm_dec *xs, size_t nx,
							   const sp_cm_dec *ys, size_t ny, size_t *bad);

/*
 * Piecewise-linear payout through the points (xs[i], ys[i]), flat before
 * the first point (ys[0]) and after the last (ys[n - 1]).  On a point, and
 * on the flat parts, the result is that y exactly (its own scale).  Between
 * points x_i < a < x_{i+1} it is
 *   y_i + (y_{i+1} - y_i) × (a - x_i) / (x_{i+1} - x_i)
 * rounded half away from zero to max(SP_CM_CURVE_SCALE, s) decimals, s the
 * larger scale of y_i and y_{i+1}, then stripped of trailing zeros down to
 * no fewer than s decimals.
 */
sp_cm_status sp_cm_curve(sp_cm_dec attainment,
						 const sp_cm_dec *xs, size_t nx,
						 const sp_cm_dec *ys, size_t ny,
						 sp_cm_dec *result, size_t *bad);

#endif
