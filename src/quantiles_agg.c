/*
 * quantiles_agg.c — SQL glue of salesperf.forecast_quantiles (SPEC §9).
 *
 * The state is the quantiles core's per-trial totals (SP_MC_TRIALS 64-bit
 * cents, about 140 kB per group, with the deals themselves, grouped by
 * deal key and probability, while there are at most 16 such pairs) in the
 * aggregate memory context.  Rows that share a deal_key are one deal: one
 * random draw per trial decides all of its rows, and a row is won when
 * the draw is under its probability, so rows of one deal with the same
 * probability win or lose together, and rows with different
 * probabilities are nested (never an error: the simulation could not
 * detect the conflict without keeping every deal).  See
 * src/core/quantiles.h for that rule, the exact answer of small
 * pipelines, the simulation, its determinism and its error bound.
 *
 * CREATE AGGREGATE allows no argument defaults, so the SQL default of
 * quantiles ('{0.1,0.5,0.9}') is a three-argument overload that shares
 * this transition function.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"

#include "pipeline_agg.h"
#include "quantiles.h"
#include "rng.h"

PG_FUNCTION_INFO_V1(salesperf_forecast_quantiles_transfn);
PG_FUNCTION_INFO_V1(salesperf_forecast_quantiles_combinefn);
PG_FUNCTION_INFO_V1(salesperf_forecast_quantiles_serialfn);
PG_FUNCTION_INFO_V1(salesperf_forecast_quantiles_deserialfn);
PG_FUNCTION_INFO_V1(salesperf_forecast_quantiles_finalfn);

static const double default_quantiles[] = {0.1, 0.5, 0.9};

static sp_mc_state *
new_state(MemoryContext context)
{
	sp_mc_state *st = MemoryContextAlloc(context, sizeof(sp_mc_state));

	sp_mc_init(st);
	return st;
}

/* Checks the quantiles argument and records it (or checks it is unchanged). */
static void
take_quantiles(sp_mc_state *st, ArrayType *arr)
{
	int			n;
	const double *q;
	int			bad;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("quantiles must be a one-dimensional array")));
	if (ARR_HASNULL(arr) && array_contains_nulls(arr))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("quantiles must not contain NULL")));
	n = ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));
	q = (const double *) ARR_DATA_PTR(arr);
	if (st->nquantiles >= 0 && sp_mc_same_quantiles(st, q, n))
		return;
	if (n > SP_MC_MAX_QUANTILES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many quantiles: %d", n),
				 errdetail("forecast_quantiles computes at most %d quantiles.",
						   SP_MC_MAX_QUANTILES)));
	bad = sp_mc_first_bad_quantile(q, n);
	if (bad >= 0)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("quantile %s is outside the range 0 to 1",
						float8out_internal(q[bad]))));
	if (st->nquantiles >= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("forecast_quantiles needs the same quantiles on every row")));
	sp_mc_set_quantiles(st, q, n);
}

/*
 * forecast_quantiles_transfn(state, deal_key, amount, probability
 * [, quantiles]).  Rows with a NULL amount or probability add nothing; rows
 * with the same deal_key are line items of one deal.
 */
Datum
salesperf_forecast_quantiles_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = pipeline_agg_context(fcinfo, "forecast_quantiles_transfn");
	sp_mc_state *st;
	double		amount,
				probability;
	int64		cents;
	text	   *key;

	st = PG_ARGISNULL(0) ? new_state(aggcontext) : (sp_mc_state *) PG_GETARG_POINTER(0);

	if (PG_NARGS() > 4)
	{
		if (PG_ARGISNULL(4))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("quantiles must not be NULL")));
		take_quantiles(st, PG_GETARG_ARRAYTYPE_P(4));
	}
	else if (st->nquantiles < 0)
		sp_mc_set_quantiles(st, default_quantiles, lengthof(default_quantiles));

	if (PG_ARGISNULL(2) || PG_ARGISNULL(3))
		PG_RETURN_POINTER(st);
	amount = PG_GETARG_FLOAT8(2);
	probability = PG_GETARG_FLOAT8(3);
	if (!sp_mc_amount_cents(amount, &cents))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("invalid deal amount %s", float8out_internal(amount)),
				 errdetail("Deal amounts must be finite, not negative and below 92233720368547758.07.")));
	if (!sp_mc_probability_valid(probability))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("probability %s is outside the range 0 to 1",
						float8out_internal(probability))));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("deal_key must not be NULL"),
				 errdetail("Each deal's simulated outcomes are keyed by its deal_key.")));
	key = PG_GETARG_TEXT_PP(1);
	if (sp_mc_add_deal(st, sp_rng_hash_bytes(VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key)),
					   cents, probability) != SP_MC_OK)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("pipeline total out of range for forecast_quantiles")));
	PG_RETURN_POINTER(st);
}

static void
merge(sp_mc_state *st1, const sp_mc_state *st2)
{
	switch (sp_mc_merge(st1, st2))
	{
		case SP_MC_OK:
			break;
		case SP_MC_OVERFLOW:
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("pipeline total out of range for forecast_quantiles")));
			break;
		case SP_MC_QUANTILES_DIFFER:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("forecast_quantiles needs the same quantiles on every row")));
			break;
	}
}

Datum
salesperf_forecast_quantiles_combinefn(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = pipeline_agg_context(fcinfo, "forecast_quantiles_combinefn");
	sp_mc_state *st1 = PG_ARGISNULL(0) ? NULL : (sp_mc_state *) PG_GETARG_POINTER(0);
	sp_mc_state *st2 = PG_ARGISNULL(1) ? NULL : (sp_mc_state *) PG_GETARG_POINTER(1);

	if (st2 == NULL)
	{
		if (st1 == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st1);
	}
	/* the second state may live in a short-lived context: copy it */
	if (st1 == NULL)
		st1 = new_state(aggcontext);
	merge(st1, st2);
	PG_RETURN_POINTER(st1);
}

Datum
salesperf_forecast_quantiles_serialfn(PG_FUNCTION_ARGS)
{
	sp_mc_state *st;
	bytea	   *blob;
	size_t		len;

	pipeline_agg_context(fcinfo, "forecast_quantiles_serialfn");
	st = (sp_mc_state *) PG_GETARG_POINTER(0);
	len = sp_mc_encoded_size(st);
	blob = palloc(VARHDRSZ + len);
	sp_mc_encode(st, (uint8 *) VARDATA(blob));
	SET_VARSIZE(blob, VARHDRSZ + len);
	PG_RETURN_BYTEA_P(blob);
}

Datum
salesperf_forecast_quantiles_deserialfn(PG_FUNCTION_ARGS)
{
	bytea	   *blob;
	sp_mc_state *st;
	const char *why;

	pipeline_agg_context(fcinfo, "forecast_quantiles_deserialfn");
	blob = PG_GETARG_BYTEA_PP(0);
	st = new_state(CurrentMemoryContext);
	why = sp_mc_decode(st, (const uint8 *) VARDATA_ANY(blob), VARSIZE_ANY_EXHDR(blob));
	if (why != NULL)
		pipeline_bad_state("forecast_quantiles", why);
	PG_RETURN_POINTER(st);
}

/* NULL when no row had an amount and a probability. */
Datum
salesperf_forecast_quantiles_finalfn(PG_FUNCTION_ARGS)
{
	sp_mc_state *st;
	void	   *scratch;
	double	   *out;
	Datum	   *elems;
	int			i;

	pipeline_agg_context(fcinfo, "forecast_quantiles_finalfn");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (sp_mc_state *) PG_GETARG_POINTER(0);
	if (st->rows == 0 || st->nquantiles < 0)
		PG_RETURN_NULL();
	scratch = palloc(sp_mc_scratch_size(st));
	out = palloc((st->nquantiles + 1) * sizeof(double));
	elems = palloc((st->nquantiles + 1) * sizeof(Datum));
	sp_mc_quantiles(st, scratch, out);
	for (i = 0; i < st->nquantiles; i++)
		elems[i] = Float8GetDatum(out[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, st->nquantiles, FLOAT8OID,
										  sizeof(float8), FLOAT8PASSBYVAL,
										  TYPALIGN_DOUBLE));
}
