/*
 * write_notifications.c — badges, podium entries and rep targets after a
 * one-row ledger insert (record(), a CRM's single-row INSERT).
 *
 * salesperf.after_change() (78_notifications.sql) does this for any set of
 * (rep, local day) pairs.  For one row, most of its work cannot matter: a
 * call moves no revenue KPI, most installations have a few badge rules and
 * boards, and a rep already on the podium stays there.  Here, per backend:
 *
 *   - which KPIs have badge rules, which rep boards rank a higher-is-better
 *     KPI, and which KPIs have rep targets are kept in memory, keyed by
 *     salesperf.notify_config_version (a row added, from a sequence, by
 *     every statement that changes salesperf.configuration, kpi,
 *     badge_rule, leaderboard or target: see 78_notifications.sql).  One probe of that table per
 *     write tells whether the copy is current; a number is never reused,
 *     so a rolled-back change cannot pass for a committed one.
 *     The calendar settings are kept too: periods are computed here by the same C functions
 *     SQL calls (calendar_start, calendar_end, local_day, local_day_start),
 *     not by each statement.
 *   - badges: one prepared probe over the rules of the KPIs the row's kind
 *     feeds, each with its period around the day: badge_award first (a
 *     rule already awarded for the period costs one index probe), the
 *     rep's counters of the period next.  Only when something is earned
 *     does a second statement grant it through salesperf.grant_badges(),
 *     as for many rows.
 *   - podium: for the rep boards of those KPIs whose running period holds
 *     the day, index probes in C (no statement): the rep's standing, at
 *     most three active reps above it (standing_rank_idx) and the rep's
 *     mark.  Only when mark and place disagree is salesperf.note_podium()
 *     called, which decides and writes exactly as for many rows.
 *   - targets: salesperf.note_targets() only when a rep target exists on a
 *     KPI the kind feeds.
 *
 * The statements are prepared once per backend and kept (the plan cache
 * re-plans them after DDL).  What is awarded and announced is what
 * after_change() awards and announces: the badge and podium tests run both
 * paths, and the property test holds badge awards to recompute().
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "nodes/parsenodes.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "access/xact.h"
#include "access/relation.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "executor/tuptable.h"
#include "parser/parse_relation.h"
#include "utils/fmgroids.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "config_version.h"
#include "direct_rows.h"
#include "kpi_contribution.h"
#include "write_notifications.h"

static const char *const settings_sql =
"SELECT s.time_zone, s.week_start, s.fiscal_year_start_month, s.calendar FROM salesperf.settings s";

/* KPIs: what feeds them, direction, and whether a rep target exists. */
static const char *const kpis_sql =
"SELECT k.name, k.num_kind, k.den_kind, k.den_measure IS NOT NULL, k.higher_is_better,"
"       EXISTS (SELECT 1 FROM salesperf.target t WHERE t.kpi = k.name AND t.scope = 'rep'),"
"       k.num_measure, k.den_measure"
"  FROM salesperf.kpi k ORDER BY k.name";

static const char *const rules_sql =
"SELECT r.rule_id, r.metric, r.period, r.badge, r.threshold FROM salesperf.badge_rule r ORDER BY r.rule_id";

/* Rep boards of higher-is-better KPIs (the boards note_podium() watches). */
static const char *const boards_sql =
"SELECT b.board_id::bigint, b.metric, b.period"
"  FROM salesperf.leaderboard b JOIN salesperf.kpi q ON q.name = b.metric AND q.higher_is_better"
" WHERE b.participant = 'rep' ORDER BY b.board_id";

/*
 * $1 rep; $2 rules, $3 the start of each rule's period around the day, $4
 * and $5 its first and last-plus-one local days: the awards the rep earned
 * and does not hold yet.  The same value as award_badges(): the rep's
 * counters of the period through kpi_contribution(), no value without a
 * contributing counter row.  A rule already awarded for the period stops
 * at the badge_award probe.
 */
#define EARNED_BADGES \
"SELECT r.rule_id, k.ps, y.value" \
"  FROM unnest($2::bigint[], $3::timestamptz[], $4::date[], $5::date[]) AS k(rule_id, ps, d0, d1)" \
"  JOIN salesperf.badge_rule r ON r.rule_id = k.rule_id" \
"  JOIN salesperf.kpi q ON q.name = r.metric" \
" CROSS JOIN LATERAL (" \
"       SELECT CASE WHEN q.den_measure IS NULL THEN COALESCE(pg_catalog.sum(v.num), 0)" \
"                   ELSE pg_catalog.sum(v.num) / NULLIF(pg_catalog.sum(v.den), 0) END AS value" \
"         FROM salesperf.kpi_counter c" \
"        CROSS JOIN LATERAL salesperf.kpi_contribution(q.num_kind, q.num_measure, q.den_kind," \
"                                                      q.den_measure, c.kind, c.activities, c.amount," \
"                                                      c.points, c.last_at, c.last_amount_at," \
"                                                      c.last_point_at) v" \
"        WHERE c.rep_id = $1 AND c.day >= k.d0 AND c.day < k.d1 AND v.num IS NOT NULL" \
"       HAVING pg_catalog.count(*) > 0) y" \
" WHERE NOT EXISTS (SELECT 1 FROM salesperf.badge_award a JOIN salesperf.badge g ON g.badge_id = a.badge_id" \
"                    WHERE g.name = r.badge AND a.rep_id = $1 AND a.period_start = k.ps" \
"                      AND a.contest_id IS NULL)" \
"   AND y.value >= r.threshold"

/* Grant what was earned, through the one place awards are made. */
static const char *const badges_sql =
"SELECT salesperf.grant_badges(pg_catalog.array_agg(e.rule_id), pg_catalog.array_agg($1::bigint),"
"                              pg_catalog.array_agg(e.ps), pg_catalog.array_agg(e.value))"
"  FROM (" EARNED_BADGES ") e"
" HAVING pg_catalog.count(*) > 0";

/* note_podium() decides and writes, as for many rows: $1 rep, $2 day, $3 metrics. */
static const char *const podium_sql =
"SELECT salesperf.note_podium(ARRAY[$1::bigint], ARRAY[$2::date], $3::text[])";

/* $1 rep, $2 day. */
static const char *const targets_sql =
"SELECT salesperf.note_targets(ARRAY[$1::bigint], ARRAY[$2::date])";

/* The period functions of SQL, called directly (src/period_functions.c). */
extern Datum salesperf_calendar_start(PG_FUNCTION_ARGS);
extern Datum salesperf_calendar_end(PG_FUNCTION_ARGS);
extern Datum salesperf_local_day(PG_FUNCTION_ARGS);
extern Datum salesperf_local_day_start(PG_FUNCTION_ARGS);

typedef struct KpiEntry
{
	char	   *name;
	char	   *num_kind;		/* NULL: every kind */
	char	   *den_kind;		/* NULL: every kind (if has_den) */
	bool		has_den;
	bool		rep_target;		/* a rep target exists on it */
	KpiParts	parts;			/* for kpi_contribution */
	bool		moved;			/* scratch: fed by the current row's kind */
} KpiEntry;

/* A badge rule or a rep board: id, the index of its KPI, its period. */
typedef struct Watched
{
	int64		id;
	int			kpi;
	Datum		period;			/* text */
	Datum		badge;			/* text: a badge rule's badge */
	Datum		threshold;		/* numeric: a badge rule's threshold */
} Watched;

typedef struct ConfigCopy
{
	bool		valid;
	int64		version;
	Datum		time_zone;		/* text */
	Datum		week_start;		/* int4 */
	Datum		fiscal_year_start_month;	/* int4 */
	Datum		calendar;		/* text */
	int			nkpis;
	KpiEntry   *kpis;
	int			nrules;
	Watched    *rules;
	int			nboards;
	Watched    *boards;
} ConfigCopy;

static ConfigCopy config;
static MemoryContext config_context = NULL;

#define MAX_ARGS 5

typedef struct Prepared
{
	const char *const *sql;
	int			nargs;
	Oid			types[MAX_ARGS];
	SPIPlanPtr	plan;
} Prepared;

static Prepared statements[] = {
	{&settings_sql}, {&kpis_sql}, {&rules_sql}, {&boards_sql},
	{&badges_sql, 5, {INT8OID, INT8ARRAYOID, TIMESTAMPTZARRAYOID, DATEARRAYOID, DATEARRAYOID}},
	{&podium_sql, 3, {INT8OID, DATEOID, TEXTARRAYOID}},
	{&targets_sql, 2, {INT8OID, DATEOID}}
};

static SPIPlanPtr
prepared(const char *const *sql)
{
	Prepared   *p = NULL;

	for (size_t i = 0; i < lengthof(statements); i++)
		if (statements[i].sql == sql)
			p = &statements[i];
	Assert(p != NULL);
	if (p->plan == NULL)
	{
		/*
		 * Generic plans always: a custom plan knows how many rules or boards
		 * the arrays hold, looks cheaper, and would be planned again on
		 * every write.
		 */
		SPIPlanPtr	plan = SPI_prepare_cursor(*sql, p->nargs, p->types, CURSOR_OPT_GENERIC_PLAN);

		if (plan == NULL)
			elog(ERROR, "salesperf: SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "salesperf: SPI_keepplan failed");
		p->plan = plan;
	}
	return p->plan;
}

static void
run(const char *const *sql, Datum *values)
{
	int			rc = SPI_execute_plan(prepared(sql), values, NULL, false, 0);

	if (rc < 0)
		elog(ERROR, "salesperf: notification statement failed: %s", SPI_result_code_string(rc));
}

static char *
text_column(HeapTuple row, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(row, desc, col, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

/* A column of the last statement's row, copied into the current context. */
static Datum
copied_column(HeapTuple row, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(row, desc, col, &isnull);
	Form_pg_attribute att = TupleDescAttr(desc, col - 1);

	if (isnull)
		elog(ERROR, "salesperf: unexpected NULL in the notification configuration");
	return datumCopy(d, att->attbyval, att->attlen);
}

static int
kpi_index(const char *name)
{
	for (int i = 0; i < config.nkpis; i++)
		if (strcmp(config.kpis[i].name, name) == 0)
			return i;
	elog(ERROR, "salesperf: KPI \"%s\" missing from the configuration copy", name);
	return -1;					/* keep the compiler quiet */
}

/* Read (rule or board id, KPI, period) rows of the last statement into `out`. */
/* A text column as a text pointer (NULL: NULL), copied into the current context. */
static text *
text_datum_or_null(HeapTuple row, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(row, desc, col, &isnull);

	return isnull ? NULL : DatumGetTextPCopy(d);
}

static int
read_watched(Watched **out)
{
	Watched    *w = palloc(sizeof(Watched) * Max(SPI_processed, 1));

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;

		w[i].id = DatumGetInt64(copied_column(row, desc, 1));
		w[i].kpi = kpi_index(text_column(row, desc, 2));
		w[i].period = copied_column(row, desc, 3);
		w[i].badge = w[i].threshold = (Datum) 0;
	}
	*out = w;
	return (int) SPI_processed;
}

/* Read the configuration as this statement sees it, at `version`. */
static void
load_config(int64 version)
{
	MemoryContext old;
	HeapTuple	row;
	TupleDesc	desc;

	config.valid = false;
	if (config_context == NULL)
		config_context = AllocSetContextCreate(TopMemoryContext, "salesperf notification configuration",
											   ALLOCSET_SMALL_SIZES);
	else
		MemoryContextReset(config_context);

	run(&settings_sql, NULL);
	if (SPI_processed != 1)
		elog(ERROR, "salesperf: salesperf.settings must have one row");
	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	old = MemoryContextSwitchTo(config_context);
	config.time_zone = copied_column(row, desc, 1);
	config.week_start = copied_column(row, desc, 2);
	config.fiscal_year_start_month = copied_column(row, desc, 3);
	config.calendar = copied_column(row, desc, 4);
	MemoryContextSwitchTo(old);

	run(&kpis_sql, NULL);
	old = MemoryContextSwitchTo(config_context);
	config.nkpis = (int) SPI_processed;
	config.kpis = palloc0(sizeof(KpiEntry) * Max(config.nkpis, 1));
	for (int i = 0; i < config.nkpis; i++)
	{
		bool		isnull;

		row = SPI_tuptable->vals[i];
		desc = SPI_tuptable->tupdesc;
		config.kpis[i].name = text_column(row, desc, 1);
		config.kpis[i].num_kind = text_column(row, desc, 2);
		config.kpis[i].den_kind = text_column(row, desc, 3);
		config.kpis[i].has_den = DatumGetBool(SPI_getbinval(row, desc, 4, &isnull));
		config.kpis[i].rep_target = DatumGetBool(SPI_getbinval(row, desc, 6, &isnull));
		config.kpis[i].parts.num_kind = config.kpis[i].num_kind ? cstring_to_text(config.kpis[i].num_kind) : NULL;
		config.kpis[i].parts.den_kind = config.kpis[i].den_kind ? cstring_to_text(config.kpis[i].den_kind) : NULL;
		config.kpis[i].parts.num_measure = salesperf_kpi_measure(text_datum_or_null(row, desc, 7));
		config.kpis[i].parts.den_measure = salesperf_kpi_measure(text_datum_or_null(row, desc, 8));
	}
	MemoryContextSwitchTo(old);

	run(&rules_sql, NULL);
	old = MemoryContextSwitchTo(config_context);
	config.nrules = read_watched(&config.rules);
	for (int i = 0; i < config.nrules; i++)
	{
		config.rules[i].badge = copied_column(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 4);
		config.rules[i].threshold = copied_column(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 5);
	}
	MemoryContextSwitchTo(old);

	run(&boards_sql, NULL);
	old = MemoryContextSwitchTo(config_context);
	config.nboards = read_watched(&config.boards);
	MemoryContextSwitchTo(old);

	config.version = version;
	config.valid = true;
}

/* Make the in-memory copy the one this statement's configuration is. */
static void
current_config(void)
{
	int64		version = salesperf_config_version();

	if (!config.valid || config.version != version)
		load_config(version);
}

/* Which KPIs a new activity of `kind` feeds (after_change's rule); any? */
static bool
mark_moved(const char *kind)
{
	bool		any = false;

	for (int i = 0; i < config.nkpis; i++)
	{
		KpiEntry   *k = &config.kpis[i];

		k->moved = k->num_kind == NULL || strcmp(k->num_kind, kind) == 0 ||
			(k->has_den && (k->den_kind == NULL || strcmp(k->den_kind, kind) == 0));
		any |= k->moved;
	}
	return any;
}

/* salesperf.calendar_start(ts, period, <settings>) */
static Datum
calendar_start(Datum ts, Datum period)
{
	return DirectFunctionCall6(salesperf_calendar_start, ts, period, config.time_zone, config.week_start,
							   config.fiscal_year_start_month, config.calendar);
}

/* salesperf.local_day(salesperf.calendar_end(ps, period, <settings>), time_zone) */
static Datum
local_day_after(Datum ps, Datum period)
{
	Datum		end = DirectFunctionCall6(salesperf_calendar_end, ps, period, config.time_zone,
										  config.week_start, config.fiscal_year_start_month,
										  config.calendar);

	return DirectFunctionCall2(salesperf_local_day, end, config.time_zone);
}

static Datum
array_of(Datum *elements, int n, Oid type)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;

	get_typlenbyvalalign(type, &typlen, &typbyval, &typalign);
	return PointerGetDatum(construct_array(elements, n, type, typlen, typbyval, typalign));
}

/* The id of the badge named `name` (0: none). */
static int64
badge_id_of(Datum name)
{
	DirectKey	k = {BTEqualStrategyNumber, F_TEXTEQ, name};
	DirectProbe p;
	int64		id = 0;

	salesperf_probe_begin(&p, "badge", "badge_name_key", 1, &k);
	if (salesperf_probe_next(&p, ForwardScanDirection))
	{
		bool		isnull;
		Datum		v = slot_getattr(p.row, attnameAttNum(p.rel, "badge_id", false), &isnull);

		if (!isnull)
			id = DatumGetInt64(v);
	}
	salesperf_probe_end(&p);
	return id;
}

/* Whether the rep holds the badge for the period (not from a contest). */
static bool
badge_held(int64 badge_id, Datum rep, Datum ps)
{
	DirectKey	k[3] = {
		{BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(badge_id)},
		{BTEqualStrategyNumber, F_INT8EQ, rep},
		{BTEqualStrategyNumber, F_TIMESTAMPTZ_EQ, ps}
	};
	DirectProbe p;
	bool		held;

	/* badge_award_period_key holds the rows WHERE contest_id IS NULL. */
	salesperf_probe_begin(&p, "badge_award", "badge_award_period_key", 3, k);
	held = salesperf_probe_next(&p, ForwardScanDirection);
	salesperf_probe_end(&p);
	return held;
}

/*
 * The rep's value of a KPI over the local days [d0, d1), from its counters
 * through kpi_contribution(); false when no counter row contributes (the
 * value award_badges() and EARNED_BADGES give; a ratio over zero has none).
 */
static bool
rep_kpi_value(const KpiEntry *k, Datum rep, Datum d0, Datum d1, Datum *value)
{
	/* Two keys on the day column: btree keeps both bounds. */
	DirectKey	keys[3] = {
		{BTEqualStrategyNumber, F_INT8EQ, rep},
		{BTGreaterEqualStrategyNumber, F_DATE_GE, d0, 2},
		{BTLessStrategyNumber, F_DATE_LT, d1, 2}
	};
	static const char *const names[] = {"kind", "activities", "amount", "points", "last_at",
	"last_amount_at", "last_point_at"};
	AttrNumber	att[lengthof(names)];
	DirectProbe p;
	TupleTableSlot *slot;
	Datum		num = NumericGetDatum(int64_to_numeric(0));
	Datum		den = (Datum) 0;
	bool		any = false;

	salesperf_probe_begin(&p, "kpi_counter", "kpi_counter_key", 3, keys);
	slot = p.row;
	for (int i = 0; i < (int) lengthof(names); i++)
		att[i] = attnameAttNum(p.rel, names[i], false);
	while (salesperf_probe_next(&p, ForwardScanDirection))
	{
		KpiCounterRow row;
		KpiContribution c;

		slot_getallattrs(slot);
		row.kind = DatumGetTextPP(slot->tts_values[att[0] - 1]);
		row.activities_null = slot->tts_isnull[att[1] - 1];
		row.activities = row.activities_null ? 0 : DatumGetInt64(slot->tts_values[att[1] - 1]);
		row.amount_null = slot->tts_isnull[att[2] - 1];
		row.amount = slot->tts_values[att[2] - 1];
		row.points_null = slot->tts_isnull[att[3] - 1];
		row.points = slot->tts_values[att[3] - 1];
		for (int i = 0; i < 3; i++)
		{
			row.last_null[i] = slot->tts_isnull[att[4 + i] - 1];
			row.last[i] = row.last_null[i] ? 0 : DatumGetTimestampTz(slot->tts_values[att[4 + i] - 1]);
		}
		if (!salesperf_kpi_contribution_of(&k->parts, &row, &c))
			continue;
		any = true;
		num = DirectFunctionCall2(numeric_add, num, c.num);
		if (!c.den_null)
			den = den == (Datum) 0 ? c.den : DirectFunctionCall2(numeric_add, den, c.den);
	}
	salesperf_probe_end(&p);
	if (!any)
		return false;
	if (k->parts.den_measure == KPI_MEASURE_NONE)
	{
		*value = num;
		return true;
	}
	/* sum(num) / NULLIF(sum(den), 0): no value without a denominator. */
	if (den == (Datum) 0 ||
		DatumGetBool(DirectFunctionCall2(numeric_eq, den, NumericGetDatum(int64_to_numeric(0)))))
		return false;
	*value = DirectFunctionCall2(numeric_div, num, den);
	return true;
}

/*
 * Whether any of the n rules (config.rules[which[i]], period starting
 * starts[i], local days [d0[i], d1[i])) is earned by the rep and not held
 * yet: what badges_probe_sql asks, read by index probes.
 */
static bool
any_badge_earned(Datum rep, const int *which, const Datum *starts, const Datum *d0, const Datum *d1, int n)
{
	bool		earned = false;

	salesperf_direct_read_begin();
	for (int i = 0; i < n && !earned; i++)
	{
		Watched    *w = &config.rules[which[i]];
		int64		badge_id = badge_id_of(w->badge);
		Datum		value;

		if (badge_id != 0 && badge_held(badge_id, rep, starts[i]))
			continue;
		if (!rep_kpi_value(&config.kpis[w->kpi], rep, d0[i], d1[i], &value))
			continue;
		earned = DatumGetBool(DirectFunctionCall2(numeric_ge, value, w->threshold));
	}
	salesperf_direct_read_end();
	return earned;
}

/* Badge rules on moved KPIs: probe, and grant what is earned. */
static void
badges(Datum rep, Datum day_start)
{
	Datum	   *ids = palloc(sizeof(Datum) * Max(config.nrules, 1));
	Datum	   *starts = palloc(sizeof(Datum) * Max(config.nrules, 1));
	Datum	   *d0 = palloc(sizeof(Datum) * Max(config.nrules, 1));
	Datum	   *d1 = palloc(sizeof(Datum) * Max(config.nrules, 1));
	int		   *which = palloc(sizeof(int) * Max(config.nrules, 1));
	Datum		values[5];
	int			n = 0;

	for (int i = 0; i < config.nrules; i++)
	{
		Watched    *w = &config.rules[i];

		if (!config.kpis[w->kpi].moved)
			continue;
		ids[n] = Int64GetDatum(w->id);
		starts[n] = calendar_start(day_start, w->period);
		d0[n] = DirectFunctionCall2(salesperf_local_day, starts[n], config.time_zone);
		d1[n] = local_day_after(starts[n], w->period);
		which[n] = i;
		n++;
	}
	if (n == 0 || !any_badge_earned(rep, which, starts, d0, d1, n))
		return;
	values[0] = rep;
	values[1] = array_of(ids, n, INT8OID);
	values[2] = array_of(starts, n, TIMESTAMPTZOID);
	values[3] = array_of(d0, n, DATEOID);
	values[4] = array_of(d1, n, DATEOID);
	run(&badges_sql, values);
}

/* The relations the podium probe reads. */
typedef struct PodiumProbe
{
	Relation	standing;
	Relation	standing_key;	/* (board_id, period_start, contributor_id, participant_id) */
	Relation	standing_rank;	/* (board_id, period_start, sort_score DESC NULLS LAST, ...) */
	Relation	rep;
	Relation	rep_key;
	Relation	podium;
	Relation	podium_key;		/* (board_id, period_start, participant_id) */
	TupleTableSlot *standing_row;
	TupleTableSlot *rep_row;
	TupleTableSlot *podium_row;
	AttrNumber	sort_score;
	AttrNumber	participant;
	AttrNumber	active;
} PodiumProbe;

static bool
rep_active(PodiumProbe *p, Datum rep)
{
	DirectKey	key = {BTEqualStrategyNumber, F_INT8EQ, rep};
	IndexScanDesc scan = salesperf_direct_scan(p->rep, p->rep_key, 1, &key);
	bool		active = false;

	if (index_getnext_slot(scan, ForwardScanDirection, p->rep_row))
	{
		bool		isnull;

		active = DatumGetBool(slot_getattr(p->rep_row, p->active, &isnull)) && !isnull;
	}
	index_endscan(scan);
	return active;
}

/*
 * Whether the rep's podium mark on a board period disagrees with its place:
 * the rule of note_podium() -- a positive score, an active rep, fewer than
 * three active reps above (read down standing_rank_idx, three at most) --
 * against a row in board_podium.  Index probes only, no statement.
 */
static bool
podium_disagrees(PodiumProbe *p, Datum rep, bool active, int32 board, Datum ps)
{
	DirectKey	keys[4] = {
		{BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(board)},
		{BTEqualStrategyNumber, F_TIMESTAMPTZ_EQ, ps},
		{BTEqualStrategyNumber, F_INT8EQ, rep},
		{BTEqualStrategyNumber, F_INT8EQ, rep}
	};
	IndexScanDesc scan;
	bool		on_podium = false;
	bool		marked;
	bool		isnull = true;
	Datum		mine = (Datum) 0;

	scan = salesperf_direct_scan(p->standing, p->standing_key, 4, keys);
	if (index_getnext_slot(scan, ForwardScanDirection, p->standing_row))
	{
		mine = slot_getattr(p->standing_row, p->sort_score, &isnull);
		/* The slot lets go of the row at the next scan. */
		if (!isnull)
			mine = datumCopy(mine, false, -1);
	}
	index_endscan(scan);

	if (active && !isnull &&
		DatumGetBool(DirectFunctionCall2(numeric_gt, mine, NumericGetDatum(int64_to_numeric(0)))))
	{
		DirectKey	above[3] = {keys[0], keys[1], {BTGreaterStrategyNumber, F_NUMERIC_GT, mine}};
		int			active_above = 0;

		scan = salesperf_direct_scan(p->standing, p->standing_rank, 3, above);
		while (active_above < 3 && index_getnext_slot(scan, ForwardScanDirection, p->standing_row))
		{
			bool		null;
			Datum		other = slot_getattr(p->standing_row, p->participant, &null);

			if (rep_active(p, other))
				active_above++;
		}
		index_endscan(scan);
		on_podium = active_above < 3;
	}

	keys[2] = keys[3];
	scan = salesperf_direct_scan(p->podium, p->podium_key, 3, keys);
	marked = index_getnext_slot(scan, ForwardScanDirection, p->podium_row);
	index_endscan(scan);
	return on_podium != marked;
}

static void
podium_probe_open(PodiumProbe *p)
{
	p->standing = salesperf_open_relation("standing");
	p->standing_key = salesperf_open_relation("standing_pkey");
	p->standing_rank = salesperf_open_relation("standing_rank_idx");
	p->rep = salesperf_open_relation("rep");
	p->rep_key = salesperf_open_relation("rep_pkey");
	p->podium = salesperf_open_relation("board_podium");
	p->podium_key = salesperf_open_relation("board_podium_pkey");
	p->standing_row = table_slot_create(p->standing, NULL);
	p->rep_row = table_slot_create(p->rep, NULL);
	p->podium_row = table_slot_create(p->podium, NULL);
	p->sort_score = attnameAttNum(p->standing, "sort_score", false);
	p->participant = attnameAttNum(p->standing, "participant_id", false);
	p->active = attnameAttNum(p->rep, "active", false);
	if (p->sort_score <= 0 || p->participant <= 0 || p->active <= 0)
		elog(ERROR, "salesperf: the podium probe cannot find its columns");
}

static void
podium_probe_close(PodiumProbe *p)
{
	ExecDropSingleTupleTableSlot(p->standing_row);
	ExecDropSingleTupleTableSlot(p->rep_row);
	ExecDropSingleTupleTableSlot(p->podium_row);
	relation_close(p->podium_key, NoLock);
	relation_close(p->podium, NoLock);
	relation_close(p->rep_key, NoLock);
	relation_close(p->rep, NoLock);
	relation_close(p->standing_rank, NoLock);
	relation_close(p->standing_key, NoLock);
	relation_close(p->standing, NoLock);
}

/* Rep boards on moved KPIs whose running period holds the day. */
static void
podium(Datum rep, Datum day, Datum day_start)
{
	Datum		now = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	Datum	   *metrics = palloc(sizeof(Datum) * Max(config.nboards, 1));
	PodiumProbe probe;
	bool		opened = false;
	bool		active = false;
	Datum		values[3];
	int			m = 0;

	for (int i = 0; i < config.nboards; i++)
	{
		Watched    *w = &config.boards[i];
		Datum		running;

		if (!config.kpis[w->kpi].moved)
			continue;
		running = calendar_start(now, w->period);
		if (DatumGetTimestampTz(running) != DatumGetTimestampTz(calendar_start(day_start, w->period)))
			continue;
		if (!opened)
		{
			salesperf_direct_read_begin();
			podium_probe_open(&probe);
			active = rep_active(&probe, rep);
			opened = true;
		}
		if (podium_disagrees(&probe, rep, active, (int32) w->id, running))
			metrics[m++] = CStringGetTextDatum(config.kpis[w->kpi].name);
	}
	if (opened)
	{
		podium_probe_close(&probe);
		salesperf_direct_read_end();
	}
	if (m == 0)
		return;
	/* note_podium() decides and writes, for the metrics of the boards found. */
	values[0] = rep;
	values[1] = day;
	values[2] = array_of(metrics, m, TEXTOID);
	run(&podium_sql, values);
}

void
salesperf_after_one_write(int64 rep_id, Datum day, Datum kind)
{
	char	   *kind_name = TextDatumGetCString(kind);
	Datum		rep = Int64GetDatum(rep_id);
	Datum		day_start;
	bool		targets = false;

	current_config();
	if (!mark_moved(kind_name))
		return;
	day_start = DirectFunctionCall2(salesperf_local_day_start, day, config.time_zone);

	badges(rep, day_start);
	podium(rep, day, day_start);

	for (int i = 0; i < config.nkpis; i++)
		targets |= config.kpis[i].moved && config.kpis[i].rep_target;
	if (targets)
	{
		Datum		values[2] = {rep, day};

		run(&targets_sql, values);
	}
}
