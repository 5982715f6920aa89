/*
 * kept_plan.c — SPI statements prepared once per backend and kept (the plan
 * cache re-plans them after DDL).
 */
#include "postgres.h"

#include "executor/spi.h"

#include "kept_plan.h"

static SPIPlanPtr
kept(SPIPlanPtr *plan, const char *sql, int nargs, Oid *types, int options)
{
	if (*plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare_cursor(sql, nargs, types, options);

		if (p == NULL)
			elog(ERROR, "salesperf: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		if (SPI_keepplan(p) != 0)
			elog(ERROR, "salesperf: SPI_keepplan failed");
		*plan = p;
	}
	return *plan;
}

SPIPlanPtr
salesperf_kept_plan(SPIPlanPtr *plan, const char *sql, int nargs, Oid *types)
{
	return kept(plan, sql, nargs, types, 0);
}

/*
 * For reads whose best plan does not depend on the values: the plan cache
 * would otherwise plan them again on every call whenever the generic plan's
 * estimate looks worse (a LIMIT $n is costed as a tenth of the rows), and
 * planning costs more than the read.
 */
SPIPlanPtr
salesperf_kept_generic_plan(SPIPlanPtr *plan, const char *sql, int nargs, Oid *types)
{
	return kept(plan, sql, nargs, types, CURSOR_OPT_GENERIC_PLAN);
}
