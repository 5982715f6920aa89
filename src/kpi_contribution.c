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

#include "kpi_contribution.h"

PG_FUNCTION_INFO_V1(salesperf_kpi_contribution);

enum
{
	ARG_NUM_KIND, ARG_NUM_MEASURE, ARG_DEN_KIND, ARG_DEN_MEASURE,
	ARG_KIND, ARG_ACTIVITIES, ARG_AMOUNT, ARG_POINTS,
	ARG_LAST_AT, ARG_LAST_AMOUNT_AT, ARG_LAST_POINT_AT
};

KpiMeasure
salesperf_kpi_measure(text *name)
{
	char	   *s;

	if (name == NULL)
		return KPI_MEASURE_NONE;
	s = VARDATA_ANY(name);
	switch (VARSIZE_ANY_EXHDR(name))
	{
		case 5:
			if (memcmp(s, "count", 5) == 0)
				return KPI_MEASURE_COUNT;
			break;
		case 3:
			if (memcmp(s, "sum", 3) == 0)
				return KPI_MEASURE_SUM;
			break;
		case 6:
			if (memcmp(s, "points", 6) == 0)
				return KPI_MEASURE_POINTS;
			break;
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown KPI part measure \"%s\"", text_to_cstring(name)),
			 errhint("A KPI part is a count, a sum or points.")));
	return KPI_MEASURE_NONE;	/* keep the compiler quiet */
}

/* Does a part of kind `part` (NULL: every kind) take a row of `kind`? */
static bool
part_takes(text *part, text *kind)
{
	if (part == NULL)
		return true;
	if (kind == NULL)
		return false;
	return VARSIZE_ANY_EXHDR(part) == VARSIZE_ANY_EXHDR(kind) &&
		memcmp(VARDATA_ANY(part), VARDATA_ANY(kind), VARSIZE_ANY_EXHDR(kind)) == 0;
}

/* The row's value for a measure; NULL inputs count as zero. */
static Datum
measure_value(const KpiCounterRow *row, KpiMeasure m)
{
	switch (m)
	{
		case KPI_MEASURE_COUNT:
			if (row->activities_null)
				break;
			return DirectFunctionCall1(int8_numeric, Int64GetDatum(row->activities));
		case KPI_MEASURE_SUM:
			if (row->amount_null)
				break;
			return row->amount;
		case KPI_MEASURE_POINTS:
			if (row->points_null)
				break;
			return row->points;
		case KPI_MEASURE_NONE:
			break;
	}
	return DirectFunctionCall1(int8_numeric, Int64GetDatum(0));
}

/* Fold the moment a measure last changed into *latest. */
static void
note_reached(const KpiCounterRow *row, KpiMeasure m, bool *have, TimestampTz *latest)
{
	int			which = m == KPI_MEASURE_COUNT ? 0 : m == KPI_MEASURE_SUM ? 1 : 2;
	TimestampTz at;

	if (row->last_null[which])
		return;
	at = row->last[which];
	if (!*have || at > *latest)
		*latest = at;
	*have = true;
}

bool
salesperf_kpi_contribution_of(const KpiParts *parts, const KpiCounterRow *row, KpiContribution *out)
{
	bool		to_num = parts->num_measure != KPI_MEASURE_NONE && part_takes(parts->num_kind, row->kind);
	bool		to_den = parts->den_measure != KPI_MEASURE_NONE && part_takes(parts->den_kind, row->kind);
	bool		have_at = false;
	TimestampTz at = 0;

	if (!to_num && !to_den)
		return false;
	out->num = measure_value(row, to_num ? parts->num_measure : KPI_MEASURE_NONE);
	out->den_null = parts->den_measure == KPI_MEASURE_NONE;
	if (!out->den_null)
		out->den = measure_value(row, to_den ? parts->den_measure : KPI_MEASURE_NONE);
	if (to_num)
		note_reached(row, parts->num_measure, &have_at, &at);
	if (to_den)
		note_reached(row, parts->den_measure, &have_at, &at);
	out->reached_at_null = !have_at;
	out->reached_at = at;
	return true;
}

static text *
text_arg(FunctionCallInfo fcinfo, int arg)
{
	return PG_ARGISNULL(arg) ? NULL : PG_GETARG_TEXT_PP(arg);
}

Datum
salesperf_kpi_contribution(PG_FUNCTION_ARGS)
{
	KpiParts	parts;
	KpiCounterRow row;
	KpiContribution c;
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	parts.num_kind = text_arg(fcinfo, ARG_NUM_KIND);
	parts.num_measure = salesperf_kpi_measure(text_arg(fcinfo, ARG_NUM_MEASURE));
	parts.den_kind = text_arg(fcinfo, ARG_DEN_KIND);
	parts.den_measure = salesperf_kpi_measure(text_arg(fcinfo, ARG_DEN_MEASURE));
	row.kind = text_arg(fcinfo, ARG_KIND);
	row.activities_null = PG_ARGISNULL(ARG_ACTIVITIES);
	row.activities = row.activities_null ? 0 : PG_GETARG_INT64(ARG_ACTIVITIES);
	row.amount_null = PG_ARGISNULL(ARG_AMOUNT);
	row.amount = row.amount_null ? (Datum) 0 : PG_GETARG_DATUM(ARG_AMOUNT);
	row.points_null = PG_ARGISNULL(ARG_POINTS);
	row.points = row.points_null ? (Datum) 0 : PG_GETARG_DATUM(ARG_POINTS);
	for (int i = 0; i < 3; i++)
	{
		row.last_null[i] = PG_ARGISNULL(ARG_LAST_AT + i);
		row.last[i] = row.last_null[i] ? 0 : PG_GETARG_TIMESTAMPTZ(ARG_LAST_AT + i);
	}

	if (!salesperf_kpi_contribution_of(&parts, &row, &c))
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
	values[0] = c.num;
	values[1] = c.den;
	nulls[1] = c.den_null;
	values[2] = TimestampTzGetDatum(c.reached_at);
	nulls[2] = c.reached_at_null;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}
