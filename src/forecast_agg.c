/*
 * forecast_agg.c — SQL glue of salesperf.weighted_pipeline and
 * salesperf.forecast_summary (SPEC §9).
 *
 * Both keep exact decimal sums (decimal_sum core) in the aggregate memory
 * context: weighted_pipeline one sum of amount × probability, added digit
 * product by digit product without building the product as a numeric;
 * forecast_summary one sum per forecast category.  Their results equal
 * sum(amount * probability) and sum(amount) FILTER (WHERE category = ...)
 * exactly, display scale included.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/numeric.h"

#include "pipeline_agg.h"

PG_FUNCTION_INFO_V1(salesperf_weighted_pipeline_transfn);
PG_FUNCTION_INFO_V1(salesperf_weighted_pipeline_finalfn);
PG_FUNCTION_INFO_V1(salesperf_forecast_summary_transfn);
PG_FUNCTION_INFO_V1(salesperf_forecast_summary_finalfn);
PG_FUNCTION_INFO_V1(salesperf_sums_combinefn);
PG_FUNCTION_INFO_V1(salesperf_weighted_pipeline_serialfn);
PG_FUNCTION_INFO_V1(salesperf_weighted_pipeline_deserialfn);
PG_FUNCTION_INFO_V1(salesperf_forecast_summary_serialfn);
PG_FUNCTION_INFO_V1(salesperf_forecast_summary_deserialfn);

#define WEIGHTED_KIND	'W'
#define FORECAST_KIND	'F'

/* Forecast categories, in the order of salesperf.forecast's raw sums. */
#define NCATEGORIES		5
static const char *const category_names[NCATEGORIES] = {
	"closed", "commit", "best_case", "pipeline", "omitted"
};
enum
{
	CAT_CLOSED, CAT_COMMIT, CAT_BEST_CASE, CAT_PIPELINE, CAT_OMITTED
};

static sp_sums_state *
new_state(MemoryContext context, int nsums)
{
	sp_sums_state *st = MemoryContextAlloc(context, sizeof(sp_sums_state));

	sp_sums_init(st, nsums, pipeline_alloc, context);
	return st;
}

static sp_sums_state *
get_state(FunctionCallInfo fcinfo, int nsums, const char *fn)
{
	MemoryContext aggcontext = pipeline_agg_context(fcinfo, fn);

	if (PG_ARGISNULL(0))
		return new_state(aggcontext, nsums);
	return (sp_sums_state *) PG_GETARG_POINTER(0);
}

/*
 * weighted_pipeline_transfn(state, amount, probability): rows where either
 * is NULL add nothing (as in sum(amount * probability)).
 */
Datum
salesperf_weighted_pipeline_transfn(PG_FUNCTION_ARGS)
{
	sp_sums_state *st = get_state(fcinfo, 1, "weighted_pipeline_transfn");
	PipelineNumeric amount;
	PipelineNumeric probability;

	st->rows++;
	if (!PG_ARGISNULL(1))
	{
		pipeline_numeric_read(PG_GETARG_DATUM(1), &amount);
		pipeline_check_amount(&amount);
	}
	if (!PG_ARGISNULL(2))
	{
		pipeline_numeric_read(PG_GETARG_DATUM(2), &probability);
		pipeline_check_probability(&probability);
	}
	if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2))
	{
		pipeline_sum_add_product(&st->sum[0], &amount, &probability);
		st->added++;
	}
	PG_RETURN_POINTER(st);
}

/* NULL when no row had both an amount and a probability. */
Datum
salesperf_weighted_pipeline_finalfn(PG_FUNCTION_ARGS)
{
	sp_sums_state *st;

	pipeline_agg_context(fcinfo, "weighted_pipeline_finalfn");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (sp_sums_state *) PG_GETARG_POINTER(0);
	if (st->added == 0)
		PG_RETURN_NULL();
	PG_RETURN_NUMERIC(pipeline_sum_numeric(&st->sum[0]));
}

static int
parse_category(text *category)
{
	const char *s = VARDATA_ANY(category);
	int			len = VARSIZE_ANY_EXHDR(category);
	int			i;

	for (i = 0; i < NCATEGORIES; i++)
		if (strlen(category_names[i]) == (size_t) len &&
			memcmp(category_names[i], s, len) == 0)
			return i;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown forecast category \"%s\"", text_to_cstring(category)),
			 errhint("Use closed, commit, best_case, pipeline or omitted.")));
	return -1;					/* keep the compiler quiet */
}

/*
 * forecast_summary_transfn(state, amount, category): a NULL amount counts
 * as a row and adds nothing; a NULL category is an error, because the
 * deal could not be placed in the forecast.
 */
Datum
salesperf_forecast_summary_transfn(PG_FUNCTION_ARGS)
{
	sp_sums_state *st = get_state(fcinfo, NCATEGORIES, "forecast_summary_transfn");
	PipelineNumeric amount;
	int			category;

	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("forecast category must not be NULL"),
				 errhint("Use closed, commit, best_case, pipeline or omitted.")));
	category = parse_category(PG_GETARG_TEXT_PP(2));
	st->rows++;
	if (!PG_ARGISNULL(1))
	{
		pipeline_numeric_read(PG_GETARG_DATUM(1), &amount);
		pipeline_check_amount(&amount);
		pipeline_sum_add(&st->sum[category], &amount);
		st->added++;
	}
	PG_RETURN_POINTER(st);
}

static Datum
add_numerics(Numeric a, Numeric b)
{
	return NumericGetDatum(numeric_add_opt_error(a, b, NULL));
}

/*
 * salesperf.forecast: closed, commit, best_case, pipeline, omitted, then
 * commit_forecast = closed + commit, best_case_forecast = closed + commit +
 * best_case and open_pipeline = commit + best_case + pipeline.
 */
Datum
salesperf_forecast_summary_finalfn(PG_FUNCTION_ARGS)
{
	sp_sums_state *st;
	TupleDesc	tupdesc;
	Numeric		raw[NCATEGORIES];
	Datum		values[8];
	bool		nulls[8];
	int			i;

	pipeline_agg_context(fcinfo, "forecast_summary_finalfn");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (sp_sums_state *) PG_GETARG_POINTER(0);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "forecast_summary must return a composite type");
	tupdesc = BlessTupleDesc(tupdesc);
	if (tupdesc->natts != 8)
		elog(ERROR, "salesperf.forecast has %d attributes, expected 8", tupdesc->natts);

	for (i = 0; i < NCATEGORIES; i++)
	{
		raw[i] = pipeline_sum_numeric(&st->sum[i]);
		values[i] = NumericGetDatum(raw[i]);
	}
	values[5] = add_numerics(raw[CAT_CLOSED], raw[CAT_COMMIT]);
	values[6] = add_numerics(DatumGetNumeric(values[5]), raw[CAT_BEST_CASE]);
	values[7] = add_numerics(DatumGetNumeric(add_numerics(raw[CAT_COMMIT],
														  raw[CAT_BEST_CASE])),
							 raw[CAT_PIPELINE]);
	memset(nulls, false, sizeof(nulls));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* Combine for both aggregates: the states differ only in their number of sums. */
Datum
salesperf_sums_combinefn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = pipeline_agg_context(fcinfo, "sums_combinefn");
	sp_sums_state *st1 = PG_ARGISNULL(0) ? NULL : (sp_sums_state *) PG_GETARG_POINTER(0);
	sp_sums_state *st2 = PG_ARGISNULL(1) ? NULL : (sp_sums_state *) PG_GETARG_POINTER(1);

	if (st2 == NULL)
	{
		if (st1 == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st1);
	}
	/* the second state may live in a short-lived context: copy it */
	if (st1 == NULL)
		st1 = new_state(aggcontext, st2->nsums);
	if (!sp_sums_merge(st1, st2))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("pipeline aggregate row count out of range")));
	PG_RETURN_POINTER(st1);
}

static Datum
serialize(FunctionCallInfo fcinfo, uint8 kind, const char *fn)
{
	sp_sums_state *st;
	bytea	   *blob;
	size_t		len;

	pipeline_agg_context(fcinfo, fn);
	st = (sp_sums_state *) PG_GETARG_POINTER(0);
	blob = palloc(VARHDRSZ + sp_sums_encoded_bound(st));
	len = sp_sums_encode(st, kind, (uint8 *) VARDATA(blob));
	SET_VARSIZE(blob, VARHDRSZ + len);
	PG_RETURN_BYTEA_P(blob);
}

static Datum
deserialize(FunctionCallInfo fcinfo, uint8 kind, int nsums, const char *aggregate)
{
	bytea	   *blob;
	sp_sums_state *st;
	const char *why;

	pipeline_agg_context(fcinfo, aggregate);
	blob = PG_GETARG_BYTEA_PP(0);
	st = new_state(CurrentMemoryContext, nsums);
	why = sp_sums_decode(st, kind, (const uint8 *) VARDATA_ANY(blob),
						 VARSIZE_ANY_EXHDR(blob));
	if (why != NULL)
		pipeline_bad_state(aggregate, why);
	PG_RETURN_POINTER(st);
}

Datum
salesperf_weighted_pipeline_serialfn(PG_FUNCTION_ARGS)
{
	return serialize(fcinfo, WEIGHTED_KIND, "weighted_pipeline_serialfn");
}

Datum
salesperf_weighted_pipeline_deserialfn(PG_FUNCTION_ARGS)
{
	return deserialize(fcinfo, WEIGHTED_KIND, 1, "weighted_pipeline");
}

Datum
salesperf_forecast_summary_serialfn(PG_FUNCTION_ARGS)
{
	return serialize(fcinfo, FORECAST_KIND, "forecast_summary_serialfn");
}

Datum
salesperf_forecast_summary_deserialfn(PG_FUNCTION_ARGS)
{
	return deserialize(fcinfo, FORECAST_KIND, NCATEGORIES, "forecast_summary");
}
