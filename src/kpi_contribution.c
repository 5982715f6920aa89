/*
 * kpi_contribution.c — what one KPI counter row adds to a KPI: the one
 * definition that kpi_value(), the leaderboard views, the insert path's
 * deltas and recompute() all call.
 *
 * A KPI is `num` or `num / den`.  Each part is the count, amount sum or
 * points of one activity kind, or of every kind when the part's kind is
 * NULL (`points` spans all kinds).  A counter row of kind K adds to a part
 * when the part's kind is NULL or K; it adds nothing to a KPI when it adds
 * to neither part, and then the function returns NULL.  Otherwise num is
 * the row's measure for the numerator (0 when only the denominator takes
 * it), den likewise (NULL for a KPI without a denominator), and reached_at
 * is the latest moment one of the row's activities changed a part it adds
 * to: count -> any activity (last_at), sum -> a non-zero amount
 * (last_amount_at), points -> non-zero points (last_point_at).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(salesperf_kpi_contribution);

enum
{
	ARG_NUM_KIND, ARG_NUM_MEASURE, ARG_DEN_KIND, ARG_DEN_MEASURE,
	ARG_KIND, ARG_ACTIVITIES, ARG_AMOUNT, ARG_POINTS,
	ARG_LAST_AT, ARG_LAST_AMOUNT_AT, ARG_LAST_POINT_AT
};

typedef enum
{
	MEASURE_NONE, MEASURE_COUNT, MEASURE_SUM, MEASURE_POINTS
} Measure;

static Measure
measure_arg(FunctionCallInfo fcinfo, int arg)
{
	text	   *t;
	char	   *s;

	if (PG_ARGISNULL(arg))
		return MEASURE_NONE;
	t = PG_GETARG_TEXT_PP(arg);
	s = VARDATA_ANY(t);
	switch (VARSIZE_ANY_EXHDR(t))
	{
		case 5:
			if (memcmp(s, "count", 5) == 0)
				return MEASURE_COUNT;
			break;
		case 3:
			if (memcmp(s, "sum", 3) == 0)
				return MEASURE_SUM;
			break;
		case 6:
			if (memcmp(s, "points", 6) == 0)
				return MEASURE_POINTS;
			break;
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown KPI part measure \"%s\"", text_to_cstring(t)),
			 errhint("A KPI part is a count, a sum or points.")));
	return MEASURE_NONE;		/* keep the compiler quiet */
}

/* Does a part of kind `part_arg` (NULL: every kind) take a row of `kind`? */
static bool
part_takes(FunctionCallInfo fcinfo, int part_arg)
{
	text	   *part;
	text	   *kind;

	if (PG_ARGISNULL(part_arg))
		return true;
	if (PG_ARGISNULL(ARG_KIND))
		return false;
	part = PG_GETARG_TEXT_PP(part_arg);
	kind = PG_GETARG_TEXT_PP(ARG_KIND);
	return VARSIZE_ANY_EXHDR(part) == VARSIZE_ANY_EXHDR(kind) &&
		memcmp(VARDATA_ANY(part), VARDATA_ANY(kind), VARSIZE_ANY_EXHDR(kind)) == 0;
}

/* The row's value for a measure; NULL inputs count as zero. */
static Datum
measure_value(FunctionCallInfo fcinfo, Measure m)
{
	switch (m)
	{
		case MEASURE_COUNT:
			if (PG_ARGISNULL(ARG_ACTIVITIES))
				break;
			return DirectFunctionCall1(int8_numeric, PG_GETARG_DATUM(ARG_ACTIVITIES));
		case MEASURE_SUM:
			if (PG_ARGISNULL(ARG_AMOUNT))
				break;
			return PG_GETARG_DATUM(ARG_AMOUNT);
		case MEASURE_POINTS:
			if (PG_ARGISNULL(ARG_POINTS))
				break;
			return PG_GETARG_DATUM(ARG_POINTS);
		case MEASURE_NONE:
			break;
	}
	return DirectFunctionCall1(int8_numeric, Int64GetDatum(0));
}

/* Fold the moment a measure last changed into *latest. */
static void
note_reached(FunctionCallInfo fcinfo, Measure m, bool *have, TimestampTz *latest)
{
	int			arg = m == MEASURE_COUNT ? ARG_LAST_AT :
		m == MEASURE_SUM ? ARG_LAST_AMOUNT_AT : ARG_LAST_POINT_AT;
	TimestampTz at;

	if (PG_ARGISNULL(arg))
		return;
	at = PG_GETARG_TIMESTAMPTZ(arg);
	if (!*have || at > *latest)
		*latest = at;
	*have = true;
}

Datum
salesperf_kpi_contribution(PG_FUNCTION_ARGS)
{
	Measure		num_measure = measure_arg(fcinfo, ARG_NUM_MEASURE);
	Measure		den_measure = measure_arg(fcinfo, ARG_DEN_MEASURE);
	bool		to_num = num_measure != MEASURE_NONE && part_takes(fcinfo, ARG_NUM_KIND);
	bool		to_den = den_measure != MEASURE_NONE && part_takes(fcinfo, ARG_DEN_KIND);
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	bool		have_at = false;
	TimestampTz at = 0;

	if (!to_num && !to_den)
		PG_RETURN_NULL();

	/* Called once per counter row: build the result's descriptor once. */
	desc = (TupleDesc) fcinfo->flinfo->fn_extra;
	if (desc == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
			elog(ERROR, "salesperf_kpi_contribution must return a record");
		desc = BlessTupleDesc(CreateTupleDescCopy(desc));
		MemoryContextSwitchTo(old);
		fcinfo->flinfo->fn_extra = desc;
	}

	values[0] = measure_value(fcinfo, to_num ? num_measure : MEASURE_NONE);
	if (den_measure == MEASURE_NONE)
		nulls[1] = true;
	else
		values[1] = measure_value(fcinfo, to_den ? den_measure : MEASURE_NONE);
	if (to_num)
		note_reached(fcinfo, num_measure, &have_at, &at);
	if (to_den)
		note_reached(fcinfo, den_measure, &have_at, &at);
	if (have_at)
		values[2] = TimestampTzGetDatum(at);
	else
		nulls[2] = true;

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
