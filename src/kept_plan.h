/*
 * kept_plan.h — SPI statements prepared once per backend and kept.
 */
#ifndef SALESPERF_KEPT_PLAN_H
#define SALESPERF_KEPT_PLAN_H

#include "postgres.h"
#include "executor/spi.h"

/* *plan, prepared from sql on first use and kept for the backend's life. */
extern SPIPlanPtr salesperf_kept_plan(SPIPlanPtr *plan, const char *sql, int nargs, Oid *types);

/* The same, always run with its generic plan (see kept_plan.c). */
extern SPIPlanPtr salesperf_kept_generic_plan(SPIPlanPtr *plan, const char *sql, int nargs, Oid *types);

#endif
