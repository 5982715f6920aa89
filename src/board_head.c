/*
 * board_head.c — the first standings of a rep board for a period, read
 * straight from the standings index and the reps' primary key.
 *
 * The top of a board is the most frequent read there is: every screen that
 * shows a board asks for it on every refresh.  Through SQL it costs the
 * setup of a plan (executor start, a join, a limit) several times over what
 * reading ten index entries and their rows costs, so when nothing in the
 * transaction asks for more than a plain read (no SERIALIZABLE predicate
 * locks, no row-level security, the privileges a query would check), the
 * read is done here with the index scan the query's plan would use: the
 * btree on (board_id, period_start, sort_score DESC NULLS LAST,
 * reached_at, participant_id), under the statement's snapshot.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"

#include "board_head.h"

/* Reps kept per board; a board paged through further reads the rest. */
#define MAX_KEPT_PARTICIPANTS 10000

Datum
salesperf_board_display_score(const BoardFacts *facts, Datum score)
{
	if (facts->money)
		return DirectFunctionCall2(numeric_round, score, Int32GetDatum(facts->currency_scale));
	if (facts->ratio)
		score = DirectFunctionCall2(numeric_round, score, Int32GetDatum(4));
	return DirectFunctionCall1(numeric_trim_scale, score);
}

/* The relation's oid if this user may read it as a plain query would. */
static Oid
readable(const char *relname, Oid namespace)
{
	Oid			relid = get_relname_relid(relname, namespace);

	if (!OidIsValid(relid) ||
		pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK ||
		check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
		return InvalidOid;
	return relid;
}

static AttrNumber
column(Oid relid, const char *name)
{
	AttrNumber	attnum = get_attnum(relid, name);

	if (attnum == InvalidAttrNumber)
		elog(ERROR, "salesperf: column %s is missing", name);
	return attnum;
}

int
salesperf_board_head_read(const BoardFacts *facts, int n, HeadRow *rows)
{
	Oid			namespace = get_namespace_oid("salesperf", true);
	Oid			standing_id;
	Oid			rank_idx_id;
	Oid			rep_id;
	Oid			rep_pkey_id;
	Relation	standing;
	Relation	rank_idx;
	Relation	rep;
	Relation	rep_pkey;
	IndexScanDesc scan;
	IndexScanDesc rep_scan;
	TupleTableSlot *slot;
	TupleTableSlot *rep_slot;
	ScanKeyData keys[2];
	ScanKeyData rep_key;
	Snapshot	snapshot;
	AttrNumber	participant_att,
				score_att,
				sort_score_att,
				name_att,
				active_att;
	Datum		zero;
	int			count = 0;

	if (IsolationIsSerializable() || !ActiveSnapshotSet() || !OidIsValid(namespace))
		return -1;
	standing_id = readable("standing", namespace);
	rep_id = readable("rep", namespace);
	rank_idx_id = get_relname_relid("standing_rank_idx", namespace);
	rep_pkey_id = get_relname_relid("rep_pkey", namespace);
	if (!OidIsValid(standing_id) || !OidIsValid(rep_id) ||
		!OidIsValid(rank_idx_id) || !OidIsValid(rep_pkey_id))
		return -1;

	participant_att = column(standing_id, "participant_id");
	score_att = column(standing_id, "score");
	sort_score_att = column(standing_id, "sort_score");
	name_att = column(rep_id, "name");
	active_att = column(rep_id, "active");
	zero = NumericGetDatum(int64_to_numeric(0));
	snapshot = GetActiveSnapshot();

	standing = table_open(standing_id, AccessShareLock);
	rank_idx = index_open(rank_idx_id, AccessShareLock);
	rep = table_open(rep_id, AccessShareLock);
	rep_pkey = index_open(rep_pkey_id, AccessShareLock);

	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(facts->board_id));
	ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, F_TIMESTAMPTZ_EQ,
				TimestampTzGetDatum(facts->period_start));
	slot = table_slot_create(standing, NULL);
	rep_slot = table_slot_create(rep, NULL);
	scan = index_beginscan(standing, rank_idx, snapshot, 2, 0);
	index_rescan(scan, keys, 2, NULL, 0);
	rep_scan = index_beginscan(rep, rep_pkey, snapshot, 1, 0);

	while (count < n && index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		int64		participant = DatumGetInt64(slot_getattr(slot, participant_att, &isnull));
		Datum		score = slot_getattr(slot, score_att, &isnull);
		bool		score_null = isnull;
		Datum		sort_score = slot_getattr(slot, sort_score_att, &isnull);
		bool		sort_null = isnull;
		HeadRow    *row;
		KeptParticipant *kept;
		Datum		name;

		/*
		 * The rep, if active (inactive reps are not on boards): kept with
		 * the board's facts, or read from its primary key (and kept).
		 */
		kept = facts->participants == NULL ? NULL
			: hash_search(facts->participants, &participant, HASH_FIND, NULL);
		if (kept != NULL)
		{
			if (!kept->active)
				continue;
			name = kept->name;
		}
		else
		{
			bool		active;

			ScanKeyInit(&rep_key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(participant));
			index_rescan(rep_scan, &rep_key, 1, NULL, 0);
			if (!index_getnext_slot(rep_scan, ForwardScanDirection, rep_slot))
				continue;
			active = DatumGetBool(slot_getattr(rep_slot, active_att, &isnull)) && !isnull;
			name = slot_getattr(rep_slot, name_att, &isnull);
			if (facts->participants != NULL &&
				hash_get_num_entries(facts->participants) < MAX_KEPT_PARTICIPANTS)
			{
				struct varlena *packed = PG_DETOAST_DATUM_PACKED(name);

				kept = hash_search(facts->participants, &participant, HASH_ENTER, NULL);
				kept->active = active;
				kept->name = PointerGetDatum(MemoryContextAlloc(facts->kept_in, VARSIZE_ANY(packed)));
				memcpy(DatumGetPointer(kept->name), packed, VARSIZE_ANY(packed));
				name = kept->name;
			}
			else
				name = PointerGetDatum(DatumGetTextPCopy(name));
			if (!active)
				continue;
		}

		row = &rows[count++];
		row->name = name;
		row->participant_id = participant;
		row->score = score_null ? (Datum) 0
			: salesperf_board_display_score(facts, datumCopy(score, false, -1));
		row->positive = !sort_null
			&& DatumGetBool(DirectFunctionCall2(numeric_gt, sort_score, zero));
		row->sort_score = sort_null ? (Datum) 0 : datumCopy(sort_score, false, -1);
	}

	index_endscan(rep_scan);
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(rep_slot);
	ExecDropSingleTupleTableSlot(slot);
	index_close(rep_pkey, NoLock);
	table_close(rep, NoLock);
	index_close(rank_idx, NoLock);
	table_close(standing, NoLock);
	return count;
}
