/*
 * point_rules.h — the active point rules, read once and matched in C
 * (point_rules.c).
 */
#ifndef SALESPERF_POINT_RULES_H
#define SALESPERF_POINT_RULES_H

#include "utils/numeric.h"
#include "utils/timestamp.h"

typedef struct PointRule PointRule;

typedef struct RuleSet
{
	int			count;
	PointRule  *rules;
} RuleSet;

extern RuleSet *salesperf_load_point_rules(MemoryContext cxt);
/* The same rules read by a scan of the table, under the active snapshot: no statement. */
extern RuleSet *salesperf_scan_point_rules(MemoryContext cxt);
extern Numeric salesperf_uncapped_points(const RuleSet *set, const char *kind, Numeric amount,
										 TimestampTz at);
extern bool salesperf_capped_rule_in_force(const RuleSet *set, const char *kind, TimestampTz at);
extern RuleSet *salesperf_point_rules_of_kind(const RuleSet *set, const char *kind,
											  MemoryContext cxt);
extern bool salesperf_point_rules_capped(const RuleSet *set);

#endif
