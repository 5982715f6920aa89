/*
 * point_rules.h — the active point rules, read once and matched in C
 * (point_rules.c).
 */
#ifndef SALESPERF_POINT_RULES_H
#define SALESPERF_POINT_RULES_H

#include "utils/numeric.h"
#include "utils/timestamp.h"

/* One active rule of salesperf.point_rule. */
typedef struct PointRule
{
	int32		rule_id;
	char	   *kind;
	Numeric		points;
	Numeric		points_per_amount;
	bool		capped;
	Numeric		daily_cap;		/* NULL unless capped */
	bool		lower_inf,
				upper_inf,
				lower_inc,
				upper_inc;
	TimestampTz lower,
				upper;
} PointRule;

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
/* Whether the rule's `valid` range contains `at` (tstzrange @> timestamptz). */
extern bool salesperf_point_rule_in_force(const PointRule *rule, TimestampTz at);

#endif
