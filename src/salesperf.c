/*
 * salesperf.c — module entry: the one PG_MODULE_MAGIC of the library.
 *
 * Each SQL-facing concept has its own file (period_functions.c, ...); the
 * pure algorithms they wrap live in src/core/ and build without a server.
 */
#include "postgres.h"

#include "fmgr.h"

PG_MODULE_MAGIC;
