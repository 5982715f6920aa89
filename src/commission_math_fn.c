/*
 * commission_math_fn.c — SQL entry points of salesperf.tiered_commission
 * and salesperf.payout_curve (SPEC §10); the arithmetic is in
 * src/core/commission_math.c.
 *
 * Numeric values cross over as their canonical text (numeric_out) and come
 * back through numeric_in, so the display scale the core computes is the
 * one SQL shows.  The functions are not STRICT: a NULL amount or
 * attainment gives NULL once the arrays have been checked, while a NULL
 * array or flag is an error (22004), so a plan with a missing table is
 * never silently worth nothing.
 *
 * SQLSTATEs: 22004 a NULL array or flag; 22023 an array that is not a
 * valid tier table or curve (empty, several dimensions, NULL or non-finite
 * elements, lengths that differ, not ascending, first breakpoint not 0,
 * negative rate or y); 22003 a non-finite amount or attainment, a value
 * with more than SP_CM_SCALE_MAX decimals or 38 digits, and a result
 * beyond the exact 128-bit range.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/numeric.h"

#include "commission_math.h"

PG_FUNCTION_INFO_V1(salesperf_tiered_commission);
PG_FUNCTION_INFO_V1(salesperf_payout_curve);

/* One numeric array argument, parsed. */
typedef struct DecArray
{
	const char *name;			/* argument name, for messages */
	sp_cm_dec  *v;
	char	  **text;			/* numeric_out of each element */
	int			n;
	int			lbound;			/* subscript of v[0] */
} DecArray;

/*
 * sp_cm_dec holds an __int128, which the compiler may access with 16-byte
 * aligned instructions; palloc only guarantees MAXALIGN (8), so align by
 * hand.
 */
static sp_cm_dec *
palloc_decimals(int n)
{
	char	   *raw = palloc(sizeof(sp_cm_dec) * n + _Alignof(sp_cm_dec));

	return (sp_cm_dec *) TYPEALIGN(_Alignof(sp_cm_dec), raw);
}

static char *
numeric_text(Numeric n)
{
	return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(n)));
}

static void
require_not_null(FunctionCallInfo fcinfo, int argno, const char *name, const char *hint)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name),
				 errhint("%s", hint)));
}

/* Parses one finite numeric's text; `what` names it in messages. */
static sp_cm_dec
parse_value(const char *text, const char *what)
{
	sp_cm_dec	v;
	sp_cm_status st = sp_cm_parse(text, &v);

	if (st == SP_CM_TOO_PRECISE)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s = %s has more than %d decimal places", what, text, SP_CM_SCALE_MAX),
				 errhint("Round it to %d decimal places or fewer.", SP_CM_SCALE_MAX)));
	if (st == SP_CM_OVERFLOW)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s = %s is out of the supported range", what, text),
				 errdetail("Commission arithmetic is exact on decimals of up to 38 digits.")));
	if (st != SP_CM_OK)
		elog(ERROR, "unexpected numeric text \"%s\"", text);
	return v;
}

/* A scalar argument that must be finite (non-finite is 22003). */
static sp_cm_dec
read_scalar(Numeric n, const char *name, char **text)
{
	*text = numeric_text(n);
	if (numeric_is_nan(n) || numeric_is_inf(n))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s must be finite, not %s", name, *text)));
	return parse_value(*text, name);
}

static void
read_array(ArrayType *arr, const char *name, DecArray *out)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a one-dimensional array, not one of %d dimensions",
						name, ARR_NDIM(arr))));
	if (ARR_ELEMTYPE(arr) != NUMERICOID)
		elog(ERROR, "%s must be a numeric array", name);
	deconstruct_array(arr, NUMERICOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be empty", name),
				 errhint("Give at least one element.")));

	out->name = name;
	out->n = n;
	out->lbound = ARR_LBOUND(arr)[0];
	out->v = palloc_decimals(n);
	out->text = palloc(sizeof(char *) * n);
	for (int i = 0; i < n; i++)
	{
		Numeric		num;
		char	   *what;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s[%d] must not be NULL", name, out->lbound + i),
					 errhint("Give every element a value.")));
		num = DatumGetNumeric(elems[i]);
		out->text[i] = numeric_text(num);
		if (numeric_is_nan(num) || numeric_is_inf(num))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s[%d] = %s is not a finite number", name, out->lbound + i,
							out->text[i]),
					 errhint("Give every element a finite value.")));
		what = psprintf("%s[%d]", name, out->lbound + i);
		out->v[i] = parse_value(out->text[i], what);
		pfree(what);
	}
}

/*
 * Raises the error for a failed check of two arrays `a` (breakpoints or
 * xs) and `b` (rates or ys); `bad` is the core's index.
 */
static void
report_check(sp_cm_status st, size_t bad, const DecArray *a, const DecArray *b)
{
	int			i = (int) bad;

	if (bad >= (size_t) a->n || (st == SP_CM_NOT_ASCENDING && bad == 0))
		elog(ERROR, "commission check status %d names no element (%zu)", (int) st, bad);
	switch (st)
	{
		case SP_CM_OK:
			return;
		case SP_CM_EMPTY:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s and %s must not be empty", a->name, b->name)));
			break;
		case SP_CM_LENGTH_MISMATCH:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s and %s must have the same length, not %d and %d",
							a->name, b->name, a->n, b->n),
					 errhint("Give one element of %s for each element of %s.", b->name, a->name)));
			break;
		case SP_CM_FIRST_NOT_ZERO:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s must start at 0, not %s[%d] = %s",
							a->name, a->name, a->lbound, a->text[0]),
					 errhint("The first tier starts at 0; its rate is the first element of %s.",
							 b->name)));
			break;
		case SP_CM_NOT_ASCENDING:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s must ascend strictly: %s[%d] = %s is not above %s[%d] = %s",
							a->name, a->name, a->lbound + i, a->text[i],
							a->name, a->lbound + i - 1, a->text[i - 1]),
					 errhint("List each value of %s once, in increasing order, with the matching element of %s at the same position.",
							 a->name, b->name)));
			break;
		case SP_CM_NEGATIVE_RATE:
		case SP_CM_NEGATIVE_Y:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s must not be negative: %s[%d] = %s",
							b->name, b->name, b->lbound + i, b->text[i]),
					 errhint(st == SP_CM_NEGATIVE_RATE
							 ? "A rate is a fraction of the amount, such as 0.05 for 5 %%; use 0 for a tier that pays nothing."
							 : "A payout multiplier is 0 or more; use 0 below the threshold.")));
			break;
		default:
			elog(ERROR, "unexpected commission check status %d", (int) st);
	}
}

static Datum
result_datum(sp_cm_dec v)
{
	char		buf[SP_CM_TEXT_MAX];

	sp_cm_format(v, buf);
	return DirectFunctionCall3(numeric_in, CStringGetDatum(buf),
							   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

/*
 * tiered_commission(amount numeric, breakpoints numeric[], rates numeric[],
 *                   retroactive boolean DEFAULT false) → numeric
 */
Datum
salesperf_tiered_commission(PG_FUNCTION_ARGS)
{
	DecArray	bps,
				rates;
	bool		retroactive;
	sp_cm_dec	amount,
				result;
	char	   *amount_text;
	size_t		bad = 0;
	sp_cm_status st;

	require_not_null(fcinfo, 1, "breakpoints",
					 "Pass the start of each tier in ascending order, beginning with 0, such as '{0,100000}'.");
	require_not_null(fcinfo, 2, "rates",
					 "Pass the rate of each tier, such as '{0.05,0.10}'.");
	require_not_null(fcinfo, 3, "retroactive",
					 "Pass false for graduated tiers or true for retroactive ones.");
	read_array(PG_GETARG_ARRAYTYPE_P(1), "breakpoints", &bps);
	read_array(PG_GETARG_ARRAYTYPE_P(2), "rates", &rates);
	retroactive = PG_GETARG_BOOL(3);
	st = sp_cm_check_tiers(bps.v, bps.n, rates.v, rates.n, &bad);
	report_check(st, bad, &bps, &rates);

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	amount = read_scalar(PG_GETARG_NUMERIC(0), "amount", &amount_text);

	st = sp_cm_tiered(amount, bps.v, bps.n, rates.v, rates.n, retroactive, &result, &bad);
	if (st == SP_CM_OVERFLOW)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("commission of amount %s is out of the supported range", amount_text),
				 errdetail("The exact result or one of its products needs more than 38 digits.")));
	report_check(st, bad, &bps, &rates);
	PG_RETURN_DATUM(result_datum(result));
}

/* payout_curve(attainment numeric, xs numeric[], ys numeric[]) → numeric */
Datum
salesperf_payout_curve(PG_FUNCTION_ARGS)
{
	DecArray	xs,
				ys;
	sp_cm_dec	attainment,
				result;
	char	   *attainment_text;
	size_t		bad = 0;
	sp_cm_status st;

	require_not_null(fcinfo, 1, "xs",
					 "Pass the attainment of each point in ascending order, such as '{0.5,1,1.5}'.");
	require_not_null(fcinfo, 2, "ys",
					 "Pass the payout multiplier of each point, such as '{0,1,2}'.");
	read_array(PG_GETARG_ARRAYTYPE_P(1), "xs", &xs);
	read_array(PG_GETARG_ARRAYTYPE_P(2), "ys", &ys);
	st = sp_cm_check_curve(xs.v, xs.n, ys.v, ys.n, &bad);
	report_check(st, bad, &xs, &ys);

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	attainment = read_scalar(PG_GETARG_NUMERIC(0), "attainment", &attainment_text);

	st = sp_cm_curve(attainment, xs.v, xs.n, ys.v, ys.n, &result, &bad);
	if (st == SP_CM_OVERFLOW)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("payout curve at attainment %s is out of the supported range", attainment_text),
				 errdetail("The exact interpolation needs more than 38 digits.")));
	report_check(st, bad, &xs, &ys);
	PG_RETURN_DATUM(result_datum(result));
}
