/*
 * kept_plan.c — SPI statements prepared once per backend and kept (the plan
 * cache re-plans them after DDL).
 */
#include "postgres.h"

#include "executor/spi.h"

#include "kept_plan.h"

SPIPlanPtr
salesperf_kept_plan(SPIPlanPtr *plan, const char *sql, int nargs, Oid *types)
{
	if (*plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare(sql, nargs, types);

		if (p == NULL)
			elog(ERROR, "salesperf: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		if (SPI_keepplan(p) != 0)
			elog(ERROR, "salesperf: SPI_keepplan failed");
		*plan = p;
	}
	return *plan;
}
