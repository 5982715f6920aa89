/*
 * kpi_score.c — the salesperf.kpi_score aggregate (SPEC §6).
 *
 *   kpi_score(actual, target, weight, cap) =
 *       Σ weight × least(actual ÷ target, cap) ÷ Σ weight
 *
 * over rows whose target is neither 0 nor NULL.  Exact numeric throughout:
 * the state is two numeric sums, so the answer does not depend on row
 * order or on how a parallel plan splits the rows.
 */
#include "postgres.h"

#include "fmgr.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/numeric.h"

PG_FUNCTION_INFO_V1(salesperf_kpi_score_trans);
PG_FUNCTION_INFO_V1(salesperf_kpi_score_trans_default_cap);
PG_FUNCTION_INFO_V1(salesperf_kpi_score_combine);
PG_FUNCTION_INFO_V1(salesperf_kpi_score_serialize);
PG_FUNCTION_INFO_V1(salesperf_kpi_score_deserialize);
PG_FUNCTION_INFO_V1(salesperf_kpi_score_final);

#define KPI_SCORE_STATE_VERSION 1

typedef struct KpiScoreState
{
	Numeric		weighted;		/* Σ weight × least(actual / target, cap) */
	Numeric		weights;		/* Σ weight */
} KpiScoreState;

static Numeric
numeric_zero(void)
{
	return int64_to_numeric(0);
}

static MemoryContext
aggregate_context(FunctionCallInfo fcinfo, const char *name)
{
	MemoryContext aggcontext;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "%s called in non-aggregate context", name);
	return aggcontext;
}

static KpiScoreState *
new_state(MemoryContext aggcontext)
{
	KpiScoreState *state = MemoryContextAlloc(aggcontext, sizeof(KpiScoreState));
	MemoryContext old = MemoryContextSwitchTo(aggcontext);

	state->weighted = numeric_zero();
	state->weights = numeric_zero();
	MemoryContextSwitchTo(old);
	return state;
}

/* Replace *sum by *sum + addend, keeping the result in the aggregate context. */
static void
accumulate(MemoryContext aggcontext, Numeric *sum, Numeric addend)
{
	Numeric		result = DatumGetNumeric(DirectFunctionCall2(numeric_add,
															 NumericGetDatum(*sum),
															 NumericGetDatum(addend)));
	Numeric		kept = MemoryContextAlloc(aggcontext, VARSIZE(result));

	memcpy(kept, result, VARSIZE(result));
	pfree(*sum);
	*sum = kept;
}

static bool
numeric_is_zero(Numeric n)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(n),
											 NumericGetDatum(numeric_zero()))) == 0;
}

static bool
numeric_is_negative(Numeric n)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(n),
											 NumericGetDatum(numeric_zero()))) < 0;
}

static void
require_finite(Numeric n, const char *what)
{
	if (numeric_is_nan(n) || numeric_is_inf(n))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("kpi_score %s must be finite, not %s", what,
						DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(n))))));
}

/* One row: cap_arg is the argument number of the cap, or -1 for the default. */
static KpiScoreState *
add_row(FunctionCallInfo fcinfo, int cap_arg)
{
	MemoryContext aggcontext = aggregate_context(fcinfo, "kpi_score_trans");
	KpiScoreState *state = PG_ARGISNULL(0) ? NULL : (KpiScoreState *) PG_GETARG_POINTER(0);
	Numeric		actual,
				target,
				weight,
				capped;

	if (state == NULL)
		state = new_state(aggcontext);

	/* Rows without a target (NULL or 0) or without a weight are skipped. */
	if (PG_ARGISNULL(2) || PG_ARGISNULL(3))
		return state;
	target = PG_GETARG_NUMERIC(2);
	weight = PG_GETARG_NUMERIC(3);
	require_finite(target, "target");
	require_finite(weight, "weight");
	if (numeric_is_negative(target))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("kpi_score target must not be negative, not %s",
						DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(target)))),
				 errdetail("Attainment is actual / target; a target below zero has no meaning.")));
	if (numeric_is_negative(weight))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("kpi_score weight must not be negative, not %s",
						DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(weight))))));
	if (numeric_is_zero(target))
		return state;

	/* No actual value yet means nothing achieved. */
	actual = PG_ARGISNULL(1) ? numeric_zero() : PG_GETARG_NUMERIC(1);
	require_finite(actual, "actual");

	capped = DatumGetNumeric(DirectFunctionCall2(numeric_div, NumericGetDatum(actual),
												 NumericGetDatum(target)));
	if (cap_arg < 0 || !PG_ARGISNULL(cap_arg))
	{
		Numeric		cap = cap_arg < 0
			? DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum("1.5"),
												  ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)))
			: PG_GETARG_NUMERIC(cap_arg);

		if (numeric_is_nan(cap) || numeric_is_negative(cap) || numeric_is_zero(cap))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("kpi_score cap must be above zero, not %s",
							DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(cap)))),
					 errhint("Pass a cap such as 1.5 (150 %% attainment), or NULL for no cap.")));
		capped = DatumGetNumeric(DirectFunctionCall2(numeric_smaller, NumericGetDatum(capped),
													 NumericGetDatum(cap)));
	}
	accumulate(aggcontext, &state->weighted,
			   DatumGetNumeric(DirectFunctionCall2(numeric_mul, NumericGetDatum(weight),
												   NumericGetDatum(capped))));
	accumulate(aggcontext, &state->weights, weight);
	return state;
}

Datum
salesperf_kpi_score_trans(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(add_row(fcinfo, 4));
}

Datum
salesperf_kpi_score_trans_default_cap(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(add_row(fcinfo, -1));
}

Datum
salesperf_kpi_score_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = aggregate_context(fcinfo, "kpi_score_combine");
	KpiScoreState *a = PG_ARGISNULL(0) ? NULL : (KpiScoreState *) PG_GETARG_POINTER(0);
	KpiScoreState *b = PG_ARGISNULL(1) ? NULL : (KpiScoreState *) PG_GETARG_POINTER(1);

	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
		a = new_state(aggcontext);
	accumulate(aggcontext, &a->weighted, b->weighted);
	accumulate(aggcontext, &a->weights, b->weights);
	PG_RETURN_POINTER(a);
}

Datum
salesperf_kpi_score_serialize(PG_FUNCTION_ARGS)
{
	KpiScoreState *state = (KpiScoreState *) PG_GETARG_POINTER(0);
	StringInfoData buf;
	bytea	   *weighted = DatumGetByteaPP(DirectFunctionCall1(numeric_send, NumericGetDatum(state->weighted)));
	bytea	   *weights = DatumGetByteaPP(DirectFunctionCall1(numeric_send, NumericGetDatum(state->weights)));

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, KPI_SCORE_STATE_VERSION);
	pq_sendint32(&buf, VARSIZE_ANY_EXHDR(weighted));
	pq_sendbytes(&buf, VARDATA_ANY(weighted), VARSIZE_ANY_EXHDR(weighted));
	pq_sendint32(&buf, VARSIZE_ANY_EXHDR(weights));
	pq_sendbytes(&buf, VARDATA_ANY(weights), VARSIZE_ANY_EXHDR(weights));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

static void
malformed_state(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("malformed kpi_score aggregate state")));
}

/* Read one length-prefixed numeric_send image, checking every length. */
static Numeric
read_numeric(StringInfo buf)
{
	int32		len;
	StringInfoData part;

	if (buf->len - buf->cursor < 4)
		malformed_state();
	len = pq_getmsgint(buf, 4);
	if (len < 0 || len > buf->len - buf->cursor)
		malformed_state();
	part.data = &buf->data[buf->cursor];
	part.len = len;
	part.maxlen = len;
	part.cursor = 0;
	buf->cursor += len;
	return DatumGetNumeric(DirectFunctionCall3(numeric_recv, PointerGetDatum(&part),
											   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
}

Datum
salesperf_kpi_score_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = aggregate_context(fcinfo, "kpi_score_deserialize");
	bytea	   *blob = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;
	KpiScoreState *state;
	Numeric		weighted,
				weights;
	MemoryContext old;

	buf.data = VARDATA_ANY(blob);
	buf.len = VARSIZE_ANY_EXHDR(blob);
	buf.maxlen = buf.len;
	buf.cursor = 0;
	if (buf.len < 1 || pq_getmsgbyte(&buf) != KPI_SCORE_STATE_VERSION)
		malformed_state();
	weighted = read_numeric(&buf);
	weights = read_numeric(&buf);
	if (buf.cursor != buf.len)
		malformed_state();

	state = MemoryContextAlloc(aggcontext, sizeof(KpiScoreState));
	old = MemoryContextSwitchTo(aggcontext);
	state->weighted = DatumGetNumericCopy(NumericGetDatum(weighted));
	state->weights = DatumGetNumericCopy(NumericGetDatum(weights));
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(state);
}

Datum
salesperf_kpi_score_final(PG_FUNCTION_ARGS)
{
	KpiScoreState *state = PG_ARGISNULL(0) ? NULL : (KpiScoreState *) PG_GETARG_POINTER(0);

	if (state == NULL || numeric_is_zero(state->weights))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(DirectFunctionCall2(numeric_div, NumericGetDatum(state->weighted),
										NumericGetDatum(state->weights)));
}
