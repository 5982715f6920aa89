/*
 * kpi_contribution.h — what one KPI counter row adds to a KPI (see
 * kpi_contribution.c), for C callers.
 */
#ifndef SALESPERF_KPI_CONTRIBUTION_H
#define SALESPERF_KPI_CONTRIBUTION_H

#include "postgres.h"
#include "datatype/timestamp.h"

typedef enum KpiMeasure
{
	KPI_MEASURE_NONE, KPI_MEASURE_COUNT, KPI_MEASURE_SUM, KPI_MEASURE_POINTS
} KpiMeasure;

/* A KPI's two parts; a NULL kind takes every kind. */
typedef struct KpiParts
{
	text	   *num_kind;
	KpiMeasure	num_measure;
	text	   *den_kind;
	KpiMeasure	den_measure;	/* NONE: the KPI has no denominator */
} KpiParts;

/* A counter row (or a delta of one): last[] is last_at, last_amount_at, last_point_at. */
typedef struct KpiCounterRow
{
	text	   *kind;
	int64		activities;
	bool		activities_null;
	Datum		amount;			/* numeric */
	bool		amount_null;
	Datum		points;			/* numeric */
	bool		points_null;
	TimestampTz last[3];
	bool		last_null[3];
} KpiCounterRow;

typedef struct KpiContribution
{
	Datum		num;			/* numeric */
	Datum		den;			/* numeric, unless den_null */
	bool		den_null;
	TimestampTz reached_at;
	bool		reached_at_null;
} KpiContribution;

/* count, sum or points (NULL: none); 22023 for anything else. */
extern KpiMeasure salesperf_kpi_measure(text *name);

/* What row adds to a KPI of these parts; false when it adds nothing. */
extern bool salesperf_kpi_contribution_of(const KpiParts *parts, const KpiCounterRow *row,
										  KpiContribution *out);

#endif
