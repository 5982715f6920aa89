/*
 * sparkline_fn.c — SQL entry point of salesperf.sparkline(double
 * precision[]) (SPEC §11); the scaling is in src/core/sparkline.c.
 *
 * An empty array gives the empty string (one character per element, none
 * here); a NULL array gives NULL (the function is STRICT).  A NULL element
 * is a space.  NaN and infinities cannot be placed on a scale and are
 * refused (22003) with their position; a multi-dimensional array is
 * refused (22023) rather than silently flattened.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/memutils.h"

#include "sparkline.h"

PG_FUNCTION_INFO_V1(salesperf_sparkline);

Datum
salesperf_sparkline(PG_FUNCTION_ARGS)
{
	ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(0);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	double	   *values;
	size_t		size;
	size_t		len;
	size_t		bad = 0;
	text	   *result;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sparkline() takes a one-dimensional array, not one of %d dimensions",
						ARR_NDIM(arr))));
	if (ARR_ELEMTYPE(arr) != FLOAT8OID)
		elog(ERROR, "sparkline() expects a double precision array");

	deconstruct_array(arr, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &nulls, &n);

	size = sp_spark_size((size_t) n);
	if (size == 0 || size > MaxAllocSize - VARHDRSZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("sparkline() of %d values would be too long", n)));

	values = palloc(sizeof(double) * Max(n, 1));
	for (int i = 0; i < n; i++)
		values[i] = nulls[i] ? 0 : DatumGetFloat8(elems[i]);

	result = palloc(VARHDRSZ + size);
	len = sp_sparkline(values, nulls, (size_t) n, VARDATA(result), &bad);
	if (len == (size_t) -1)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("sparkline() cannot draw %s at position %d",
						float8out_internal(values[bad]), (int) bad + ARR_LBOUND(arr)[0]),
				 errdetail("Only finite values can be placed on the scale."),
				 errhint("Replace NaN and infinities by NULL to leave a gap.")));
	SET_VARSIZE(result, VARHDRSZ + len);

	pfree(values);
	pfree(elems);
	pfree(nulls);
	PG_RETURN_TEXT_P(result);
}
