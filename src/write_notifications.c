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
 *     every statement that changes salesperf.kpi, badge_rule, leaderboard
 *     or target: see 78_notifications.sql).  One probe of that table per
 *     write tells whether the copy is current; a number is never reused,
 *     so a rolled-back change cannot pass for a committed one.
 *   - badges: one prepared probe over the rules of the KPIs the row's kind
 *     feeds, reading badge_award first (a rule already awarded for the
 *     period costs one index probe) and the rep's counters of the period
 *     next.  Only when something is earned does a second statement grant
 *     it through salesperf.grant_badges(), as for many rows.
 *   - podium: one prepared probe over the rep boards of those KPIs whose
 *     running period holds the day: the rep's standing, at most three rows
 *     above it (standing_rank_idx) and the rep's mark.  Only when mark and
 *     place disagree is salesperf.note_podium() called, which decides and
 *     writes exactly as for many rows.
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
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "write_notifications.h"

/* The configuration version the in-memory copy was read at. */
static const char *const version_sql =
"SELECT pg_catalog.max(v.version) FROM salesperf.notify_config_version v";

/* KPIs: what feeds them, direction, and whether a rep target exists. */
static const char *const kpis_sql =
"SELECT k.name, k.num_kind, k.den_kind, k.den_measure IS NOT NULL, k.higher_is_better,"
"       EXISTS (SELECT 1 FROM salesperf.target t WHERE t.kpi = k.name AND t.scope = 'rep')"
"  FROM salesperf.kpi k ORDER BY k.name";

static const char *const rules_sql =
"SELECT r.rule_id, r.metric FROM salesperf.badge_rule r ORDER BY r.rule_id";

/* Rep boards of higher-is-better KPIs (the boards note_podium() watches). */
static const char *const boards_sql =
"SELECT b.board_id, b.metric"
"  FROM salesperf.leaderboard b JOIN salesperf.kpi q ON q.name = b.metric AND q.higher_is_better"
" WHERE b.participant = 'rep' ORDER BY b.board_id";

/*
 * $1 rep, $2 local day, $3 rules: the awards the rep earned with that day
 * and does not hold yet.  The same value as award_badges(): the rule's
 * period around the day, the rep's counters of it through
 * kpi_contribution(), no value without a contributing counter row.  A rule
 * already awarded for the period stops at the badge_award probe.
 */
#define EARNED_BADGES \
"SELECT r.rule_id, x.ps, y.value" \
"  FROM salesperf.badge_rule r" \
"  JOIN salesperf.kpi q ON q.name = r.metric" \
" CROSS JOIN salesperf.settings s" \
" CROSS JOIN LATERAL (" \
"       SELECT salesperf.calendar_start(salesperf.local_day_start($2, s.time_zone), r.period," \
"                                       s.time_zone, s.week_start, s.fiscal_year_start_month," \
"                                       s.calendar) AS ps) x" \
" CROSS JOIN LATERAL (" \
"       SELECT CASE WHEN q.den_measure IS NULL THEN COALESCE(pg_catalog.sum(v.num), 0)" \
"                   ELSE pg_catalog.sum(v.num) / NULLIF(pg_catalog.sum(v.den), 0) END AS value" \
"         FROM salesperf.kpi_counter c" \
"        CROSS JOIN LATERAL salesperf.kpi_contribution(q.num_kind, q.num_measure, q.den_kind," \
"                                                      q.den_measure, c.kind, c.activities, c.amount," \
"                                                      c.points, c.last_at, c.last_amount_at," \
"                                                      c.last_point_at) v" \
"        WHERE c.rep_id = $1" \
"          AND c.day >= salesperf.local_day(x.ps, s.time_zone)" \
"          AND c.day < salesperf.local_day(salesperf.calendar_end(x.ps, r.period, s.time_zone," \
"                                                                 s.week_start, s.fiscal_year_start_month," \
"                                                                 s.calendar), s.time_zone)" \
"          AND v.num IS NOT NULL" \
"       HAVING pg_catalog.count(*) > 0) y" \
" WHERE r.rule_id = ANY ($3)" \
"   AND NOT EXISTS (SELECT 1 FROM salesperf.badge_award a JOIN salesperf.badge g ON g.badge_id = a.badge_id" \
"                    WHERE g.name = r.badge AND a.rep_id = $1 AND a.period_start = x.ps" \
"                      AND a.contest_id IS NULL)" \
"   AND y.value >= r.threshold"

/* Anything earned?  (No aggregate around it: the common answer is no.) */
static const char *const badges_probe_sql = EARNED_BADGES;

/* Grant what was earned, through the one place awards are made. */
static const char *const badges_sql =
"SELECT salesperf.grant_badges(pg_catalog.array_agg(e.rule_id), pg_catalog.array_agg($1::bigint),"
"                              pg_catalog.array_agg(e.ps), pg_catalog.array_agg(e.value))"
"  FROM (" EARNED_BADGES ") e"
" HAVING pg_catalog.count(*) > 0";

/*
 * $1 rep, $2 local day, $3 boards: the metrics of the boards where the
 * rep's podium mark disagrees with its place (the rule of note_podium(): a
 * positive score, an active rep, fewer than three active reps above -- no
 * third row above it in standing_rank_idx).  Boards whose running period
 * does not hold the day are left.
 */
#define PODIUM_CHANGES \
"SELECT b.metric" \
"  FROM salesperf.leaderboard b" \
"  JOIN salesperf.kpi q ON q.name = b.metric AND q.higher_is_better" \
" CROSS JOIN salesperf.settings s" \
" CROSS JOIN LATERAL (" \
"       SELECT salesperf.calendar_start(pg_catalog.now(), b.period, s.time_zone, s.week_start," \
"                                       s.fiscal_year_start_month, s.calendar) AS ps," \
"              salesperf.calendar_start(salesperf.local_day_start($2, s.time_zone), b.period," \
"                                       s.time_zone, s.week_start, s.fiscal_year_start_month," \
"                                       s.calendar) AS day_ps) x" \
"  JOIN salesperf.rep r ON r.rep_id = $1" \
"  LEFT JOIN salesperf.standing st" \
"    ON st.board_id = b.board_id AND st.period_start = x.ps" \
"   AND st.contributor_id = $1 AND st.participant_id = $1" \
" WHERE b.board_id = ANY ($3) AND b.participant = 'rep' AND x.ps = x.day_ps" \
"   AND COALESCE(st.sort_score > 0 AND r.active" \
"                AND NOT EXISTS (SELECT 1 FROM salesperf.standing o" \
"                                  JOIN salesperf.rep ro ON ro.rep_id = o.participant_id AND ro.active" \
"                                 WHERE o.board_id = b.board_id AND o.period_start = x.ps" \
"                                   AND o.sort_score > st.sort_score" \
"                                OFFSET 2), false)" \
"       <> EXISTS (SELECT 1 FROM salesperf.board_podium bp" \
"                   WHERE bp.board_id = b.board_id AND bp.period_start = x.ps AND bp.participant_id = $1)"

static const char *const podium_probe_sql = PODIUM_CHANGES;

/* note_podium() decides and writes, as for many rows, on those metrics. */
static const char *const podium_sql =
"SELECT salesperf.note_podium(ARRAY[$1::bigint], ARRAY[$2::date], pg_catalog.array_agg(DISTINCT p.metric))"
"  FROM (" PODIUM_CHANGES ") p"
" HAVING pg_catalog.count(*) > 0";

static const char *const targets_sql =
"SELECT salesperf.note_targets(ARRAY[$1::bigint], ARRAY[$2::date])";

typedef struct KpiEntry
{
	char	   *name;
	char	   *num_kind;		/* NULL: every kind */
	char	   *den_kind;		/* NULL: every kind (if has_den) */
	bool		has_den;
	bool		rep_target;		/* a rep target exists on it */
	bool		moved;			/* scratch: fed by the current row's kind */
} KpiEntry;

/* A badge rule or a rep board, by id, with the index of its KPI. */
typedef struct Watched
{
	int64		id;
	int			kpi;
} Watched;

typedef struct ConfigCopy
{
	bool		valid;
	int64		version;
	int			nkpis;
	KpiEntry   *kpis;
	int			nrules;
	Watched    *rules;
	int			nboards;
	Watched    *boards;
} ConfigCopy;

static ConfigCopy config;
static MemoryContext config_context = NULL;

typedef struct Prepared
{
	const char *const *sql;
	int			nargs;			/* 0, or 3: rep, day, ids */
	Oid			ids_type;
	SPIPlanPtr	plan;
} Prepared;

static Prepared statements[] = {
	{&version_sql}, {&kpis_sql}, {&rules_sql}, {&boards_sql},
	{&badges_probe_sql, 3, INT8ARRAYOID}, {&badges_sql, 3, INT8ARRAYOID},
	{&podium_probe_sql, 3, INT4ARRAYOID}, {&podium_sql, 3, INT4ARRAYOID}, {&targets_sql, 2}
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
		Oid			types[3] = {INT8OID, DATEOID, p->ids_type};
		SPIPlanPtr	plan = SPI_prepare(*sql, p->nargs, types);

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

static int
kpi_index(const char *name)
{
	for (int i = 0; i < config.nkpis; i++)
		if (strcmp(config.kpis[i].name, name) == 0)
			return i;
	elog(ERROR, "salesperf: KPI \"%s\" missing from the configuration copy", name);
	return -1;					/* keep the compiler quiet */
}

/* Read (rule or board id, KPI) pairs of the last statement into `out`. */
static int
read_watched(Watched **out)
{
	Watched    *w = palloc(sizeof(Watched) * Max(SPI_processed, 1));

	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		id = SPI_getbinval(row, desc, 1, &isnull);

		w[i].id = desc->attrs[0].atttypid == INT4OID ? DatumGetInt32(id) : DatumGetInt64(id);
		w[i].kpi = kpi_index(text_column(row, desc, 2));
	}
	*out = w;
	return (int) SPI_processed;
}

/* Read the configuration as this statement sees it, at `version`. */
static void
load_config(int64 version)
{
	MemoryContext old;

	config.valid = false;
	if (config_context == NULL)
		config_context = AllocSetContextCreate(TopMemoryContext, "salesperf notification configuration",
											   ALLOCSET_SMALL_SIZES);
	else
		MemoryContextReset(config_context);

	run(&kpis_sql, NULL);
	old = MemoryContextSwitchTo(config_context);
	config.nkpis = (int) SPI_processed;
	config.kpis = palloc0(sizeof(KpiEntry) * Max(config.nkpis, 1));
	for (int i = 0; i < config.nkpis; i++)
	{
		HeapTuple	row = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;

		config.kpis[i].name = text_column(row, desc, 1);
		config.kpis[i].num_kind = text_column(row, desc, 2);
		config.kpis[i].den_kind = text_column(row, desc, 3);
		config.kpis[i].has_den = DatumGetBool(SPI_getbinval(row, desc, 4, &isnull));
		config.kpis[i].rep_target = DatumGetBool(SPI_getbinval(row, desc, 6, &isnull));
	}
	MemoryContextSwitchTo(old);

	run(&rules_sql, NULL);
	old = MemoryContextSwitchTo(config_context);
	config.nrules = read_watched(&config.rules);
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
	bool		isnull;
	Datum		v;
	int64		version;

	run(&version_sql, NULL);
	if (SPI_processed != 1)
		elog(ERROR, "salesperf: cannot read salesperf.notify_config_version");
	v = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	version = isnull ? 0 : DatumGetInt64(v);
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

/* The ids of the watched rules or boards on moved KPIs, as an array (NULL: none). */
static ArrayType *
moved_ids(const Watched *w, int n, Oid element_type)
{
	Datum	   *ids = palloc(sizeof(Datum) * Max(n, 1));
	int			count = 0;

	for (int i = 0; i < n; i++)
		if (config.kpis[w[i].kpi].moved)
			ids[count++] = element_type == INT4OID ? Int32GetDatum((int32) w[i].id) : Int64GetDatum(w[i].id);
	if (count == 0)
		return NULL;
	if (element_type == INT4OID)
		return construct_array(ids, count, INT4OID, sizeof(int32), true, TYPALIGN_INT);
	return construct_array(ids, count, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

void
salesperf_after_one_write(int64 rep_id, Datum day, Datum kind)
{
	char	   *kind_name = TextDatumGetCString(kind);
	Datum		values[3];
	ArrayType  *ids;
	bool		targets = false;

	current_config();
	if (!mark_moved(kind_name))
		return;

	values[0] = Int64GetDatum(rep_id);
	values[1] = day;

	ids = moved_ids(config.rules, config.nrules, INT8OID);
	if (ids != NULL)
	{
		values[2] = PointerGetDatum(ids);
		run(&badges_probe_sql, values);
		if (SPI_processed > 0)
			run(&badges_sql, values);
	}

	ids = moved_ids(config.boards, config.nboards, INT4OID);
	if (ids != NULL)
	{
		values[2] = PointerGetDatum(ids);
		run(&podium_probe_sql, values);
		if (SPI_processed > 0)
			run(&podium_sql, values);
	}

	for (int i = 0; i < config.nkpis; i++)
		targets |= config.kpis[i].moved && config.kpis[i].rep_target;
	if (targets)
		run(&targets_sql, values);
}
