/*
 * velocity_agg.c — SQL glue of salesperf.sales_velocity and
 * salesperf.sales_velocity_detail (SPEC §9).
 *
 * Both aggregates share one transition state (the velocity core's exact
 * counts and sums, in the aggregate memory context) and its combine,
 * serialize and deserialize functions; they differ only in the final
 * function.  A row is "won" when closed_at is set and won is true, "lost"
 * when closed_at is set and won is false.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "pipeline_agg.h"
#include "velocity.h"

PG_FUNCTION_INFO_V1(salesperf_velocity_transfn);
PG_FUNCTION_INFO_V1(salesperf_velocity_combinefn);
PG_FUNCTION_INFO_V1(salesperf_velocity_serialfn);
PG_FUNCTION_INFO_V1(salesperf_velocity_deserialfn);
PG_FUNCTION_INFO_V1(salesperf_velocity_finalfn);
PG_FUNCTION_INFO_V1(salesperf_velocity_detail_finalfn);

static sp_velocity_state *
new_state(MemoryContext context)
{
	sp_velocity_state *st = MemoryContextAlloc(context, sizeof(sp_velocity_state));

	sp_velocity_init(st, pipeline_alloc, context);
	return st;
}

/* timestamptz_to_str() reuses one buffer: copy each result. */
static char *
timestamp_text(TimestampTz t)
{
	return pstrdup(timestamptz_to_str(t));
}

static void
add_won_cycle(sp_velocity_state *st, TimestampTz opened, TimestampTz closed)
{
	int64		usecs;

	if (TIMESTAMP_NOT_FINITE(opened) || TIMESTAMP_NOT_FINITE(closed))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("won deal has an infinite %s",
						TIMESTAMP_NOT_FINITE(opened) ? "opened_at" : "closed_at"),
				 errdetail("A sales cycle needs finite opened_at and closed_at.")));
	if (closed < opened)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("won deal closed at %s before it opened at %s",
						timestamp_text(closed), timestamp_text(opened)),
				 errhint("Fix the opportunity's opened_at or closed_at.")));
	if (pg_sub_s64_overflow(closed, opened, &usecs))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("sales cycle from %s to %s is out of range",
						timestamp_text(opened), timestamp_text(closed))));
	sp_velocity_add_cycle(st, (uint64) usecs);
}

/*
 * sales_velocity_transfn(state, opened_at, closed_at, amount, won)
 */
Datum
salesperf_velocity_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = pipeline_agg_context(fcinfo, "sales_velocity_transfn");
	sp_velocity_state *st;
	PipelineNumeric amount;
	bool		has_amount = !PG_ARGISNULL(3);

	st = PG_ARGISNULL(0) ? new_state(aggcontext) :
		(sp_velocity_state *) PG_GETARG_POINTER(0);

	if (has_amount)
	{
		pipeline_numeric_read(PG_GETARG_DATUM(3), &amount);
		pipeline_check_amount(&amount);
	}
	st->rows++;
	if (!PG_ARGISNULL(2) && !PG_ARGISNULL(4))
	{
		if (PG_GETARG_BOOL(4))
		{
			st->won++;
			if (has_amount)
			{
				pipeline_sum_add(&st->won_amount, &amount);
				st->amount_rows++;
			}
			if (!PG_ARGISNULL(1))
				add_won_cycle(st, PG_GETARG_TIMESTAMPTZ(1), PG_GETARG_TIMESTAMPTZ(2));
		}
		else
			st->lost++;
	}
	PG_RETURN_POINTER(st);
}

Datum
salesperf_velocity_combinefn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = pipeline_agg_context(fcinfo, "sales_velocity_combinefn");
	sp_velocity_state *st1 = PG_ARGISNULL(0) ? NULL : (sp_velocity_state *) PG_GETARG_POINTER(0);
	sp_velocity_state *st2 = PG_ARGISNULL(1) ? NULL : (sp_velocity_state *) PG_GETARG_POINTER(1);

	if (st2 == NULL)
	{
		if (st1 == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st1);
	}
	/* the second state may live in a short-lived context: copy it */
	if (st1 == NULL)
		st1 = new_state(aggcontext);
	if (!sp_velocity_merge(st1, st2))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("sales_velocity row count out of range")));
	PG_RETURN_POINTER(st1);
}

Datum
salesperf_velocity_serialfn(PG_FUNCTION_ARGS)
{
	sp_velocity_state *st;
	bytea	   *blob;
	size_t		len;

	pipeline_agg_context(fcinfo, "sales_velocity_serialfn");
	st = (sp_velocity_state *) PG_GETARG_POINTER(0);
	blob = palloc(VARHDRSZ + sp_velocity_encoded_bound(st));
	len = sp_velocity_encode(st, (uint8 *) VARDATA(blob));
	SET_VARSIZE(blob, VARHDRSZ + len);
	PG_RETURN_BYTEA_P(blob);
}

Datum
salesperf_velocity_deserialfn(PG_FUNCTION_ARGS)
{
	bytea	   *blob;
	sp_velocity_state *st;
	const char *why;

	pipeline_agg_context(fcinfo, "sales_velocity_deserialfn");
	blob = PG_GETARG_BYTEA_PP(0);
	st = new_state(CurrentMemoryContext);
	why = sp_velocity_decode(st, (const uint8 *) VARDATA_ANY(blob), VARSIZE_ANY_EXHDR(blob));
	if (why != NULL)
		pipeline_bad_state("sales_velocity", why);
	PG_RETURN_POINTER(st);
}

/* The exact average won amount, or NULL when no won row has an amount. */
static Numeric
average_won_amount(const sp_velocity_state *st)
{
	if (st->amount_rows == 0)
		return NULL;
	return numeric_div_opt_error(pipeline_sum_numeric(&st->won_amount),
								 int64_to_numeric(st->amount_rows), NULL);
}

static void
compute(const sp_velocity_state *st, Numeric *avg_deal, sp_velocity_result *res)
{
	double		avg_amount = 0.0;

	*avg_deal = average_won_amount(st);
	if (*avg_deal != NULL)
		avg_amount = DatumGetFloat8(DirectFunctionCall1(numeric_float8,
														NumericGetDatum(*avg_deal)));
	sp_velocity_compute(st, *avg_deal != NULL, avg_amount, res);
}

Datum
salesperf_velocity_finalfn(PG_FUNCTION_ARGS)
{
	sp_velocity_state *st;
	sp_velocity_result res;
	Numeric		avg_deal;

	pipeline_agg_context(fcinfo, "sales_velocity_finalfn");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (sp_velocity_state *) PG_GETARG_POINTER(0);
	compute(st, &avg_deal, &res);
	if (!res.has_velocity)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(res.per_day);
}

/*
 * salesperf.velocity: (opportunities, won, lost, win_rate, avg_deal,
 * avg_cycle_days, per_day, per_month).  No rows gives zero counts and
 * NULL for the rest.
 */
Datum
salesperf_velocity_detail_finalfn(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[8];
	bool		nulls[8];
	sp_velocity_result res;
	Numeric		avg_deal = NULL;

	pipeline_agg_context(fcinfo, "sales_velocity_detail_finalfn");
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "sales_velocity_detail must return a composite type");
	tupdesc = BlessTupleDesc(tupdesc);
	if (tupdesc->natts != 8)
		elog(ERROR, "salesperf.velocity has %d attributes, expected 8", tupdesc->natts);

	memset(nulls, true, sizeof(nulls));
	values[0] = Int64GetDatum(0);
	values[1] = Int64GetDatum(0);
	values[2] = Int64GetDatum(0);
	nulls[0] = nulls[1] = nulls[2] = false;

	if (!PG_ARGISNULL(0))
	{
		sp_velocity_state *st = (sp_velocity_state *) PG_GETARG_POINTER(0);

		compute(st, &avg_deal, &res);
		values[0] = Int64GetDatum(st->rows);
		values[1] = Int64GetDatum(st->won);
		values[2] = Int64GetDatum(st->lost);
		if (res.has_win_rate)
		{
			values[3] = Float8GetDatum(res.win_rate);
			nulls[3] = false;
		}
		if (avg_deal != NULL)
		{
			values[4] = NumericGetDatum(avg_deal);
			nulls[4] = false;
		}
		if (res.has_cycle)
		{
			values[5] = Float8GetDatum(res.avg_cycle_days);
			nulls[5] = false;
		}
		if (res.has_velocity)
		{
			values[6] = Float8GetDatum(res.per_day);
			values[7] = Float8GetDatum(res.per_month);
			nulls[6] = nulls[7] = false;
		}
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
