#!/usr/bin/env bash
# leaderboard_top()'s previous ranks come from the final ranking of the
# previous period, kept per session once that period has ended and reused
# while no change to it has committed (previous_ranks(), src/previous_ranks.c).
# One session reads while others change the ended period; every answer must
# equal the ranking computed from scratch (board_standings()) in the same
# statement, for every rep and for the arrows of the top:
#   - after back-dated activities another session committed, including one
#     that moves a rep past another inside the same score band (no band
#     count changes), an edit and a delete;
#   - while another session holds an uncommitted back-dated change, and
#     after it commits;
#   - after a point rule edit and org changes;
#   - inside a REPEATABLE READ transaction that began before a change;
#   - under SERIALIZABLE, and for a period that has not ended (counted for
#     the call, never kept);
#   - while a transaction that began before the reads holds an id (the
#     ranking is not kept until it ends).
# The session's DEBUG1 messages say which way each read went; the script
# checks that the kept ranking is used where it may be, so that the checks
# above exercise it.
set -euo pipefail
name=final_ranks
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.bash
. "$here/common.bash"

q >/dev/null <<'SQL'
CREATE EXTENSION salesperf;
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES (1, NULL, 'Company', 'company'),
    (2, 1, 'Team A', 'team'), (3, 1, 'Team B', 'team');
INSERT INTO salesperf.rep (rep_id, name) SELECT r, 'Rep ' || r FROM generate_series(1, 40) r;
SELECT count(salesperf.assign(r, 2 + r % 2, '2026-01-01')) FROM generate_series(1, 40) r;
INSERT INTO salesperf.point_rule (name, kind, points, points_per_amount) VALUES
    ('call', 'call', 1, 0), ('deal', 'deal_won', 0, 0.01);
SELECT salesperf.create_leaderboard('monthly', period => 'month');
SELECT salesperf.create_leaderboard('teams', participant => 'unit', unit_kind => 'team', period => 'month');
SELECT salesperf.create_leaderboard('yearly', period => 'year');
-- February and March 2026: scores from 1 to about 150; reps 1 and 2 at
-- 120 and 121 in February (one score band: 120 to 129).
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at)
SELECT 3 + r % 37, 'call', 0, timestamptz '2026-02-02 10:00' + r * interval '37 minutes' FROM generate_series(1, 600) r;
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at) VALUES
    (1, 'deal_won', 12000, '2026-02-10 10:00'), (2, 'deal_won', 12100, '2026-02-11 10:00');
INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at)
SELECT 1 + r % 40, 'call', 0, timestamptz '2026-03-02 10:00' + r * interval '41 minutes' FROM generate_series(1, 500) r;
SQL

session_a_start
a "SET client_min_messages = debug1;"

# Session A's previous ranks of every rep (monthly board) and team (teams
# board) for February, and the arrows of both tops in March, against the
# final ranking computed from scratch in the same statement: prints
# "same <label>" or "DIFFERENT <label> ...".  The messages the read leaves
# go to a file of their own.
checks=0
check() {
  checks=$((checks + 1))
  : >"$work/step.log"
  local from; from=$(wc -l <"$work/a.out")
  a "SELECT CASE WHEN f IS NOT DISTINCT FROM s THEN 'same $1' ELSE 'DIFFERENT $1 ' || f || ' / ' || s END
       FROM (SELECT (SELECT string_agg(format('%s:%s:%s', b.name, p.participant_id, p.rank), ',' ORDER BY b.name, p.participant_id)
                       FROM salesperf.leaderboard b
                      CROSS JOIN LATERAL salesperf.previous_ranks(b.board_id, '2026-02-01',
                                   ARRAY(SELECT generate_series(1, 40)::bigint)) p
                      WHERE b.name IN ('monthly', 'teams'))
                 || (SELECT string_agg(format('top:%s:%s', t.participant_id, t.previous_rank), ',' ORDER BY t.participant_id)
                       FROM salesperf.leaderboard_top('monthly', 10, '2026-03-15') t)
                 || (SELECT string_agg(format('teamtop:%s:%s', t.participant_id, t.previous_rank), ',' ORDER BY t.participant_id)
                       FROM salesperf.leaderboard_top('teams', 10, '2026-03-15') t) AS f,
                    (SELECT string_agg(format('%s:%s:%s', b.name, c.participant_id, c.rank), ',' ORDER BY b.name, c.participant_id)
                       FROM salesperf.leaderboard b
                      CROSS JOIN LATERAL salesperf.board_standings(b.board_id, '2026-02-01', true) c
                      WHERE b.name IN ('monthly', 'teams') AND c.reached_at IS NOT NULL AND c.participant_id <= 40)
                 || (SELECT string_agg(format('top:%s:%s', t.participant_id, p.rank), ',' ORDER BY t.participant_id)
                       FROM salesperf.board_standings((SELECT board_id FROM salesperf.leaderboard WHERE name = 'monthly'),
                                                      '2026-03-01') t
                       LEFT JOIN salesperf.board_standings((SELECT board_id FROM salesperf.leaderboard WHERE name = 'monthly'),
                                                           '2026-02-01', true) p
                         ON p.participant_id = t.participant_id AND p.reached_at IS NOT NULL
                      WHERE t.participant_id IN (SELECT participant_id FROM salesperf.leaderboard_top('monthly', 10, '2026-03-15')))
                 || (SELECT string_agg(format('teamtop:%s:%s', t.participant_id, p.rank), ',' ORDER BY t.participant_id)
                       FROM salesperf.board_standings((SELECT board_id FROM salesperf.leaderboard WHERE name = 'teams'),
                                                      '2026-03-01') t
                       LEFT JOIN salesperf.board_standings((SELECT board_id FROM salesperf.leaderboard WHERE name = 'teams'),
                                                           '2026-02-01', true) p
                         ON p.participant_id = t.participant_id AND p.reached_at IS NOT NULL
                      WHERE t.participant_id IN (SELECT participant_id FROM salesperf.leaderboard_top('teams', 10, '2026-03-15'))) AS s) x;"
  tail -n +"$((from + 1))" "$work/a.out" >"$work/step.log"
}
# How many reads of the last check used the kept ranking.
kept_reads() { grep -c 'read from the kept final ranking' "$work/step.log" || true; }
counted_reads() { grep -c 'counted for this call' "$work/step.log" || true; }

check "first read"
check "second read"
[ "$(kept_reads)" -ge 2 ] || { cat "$work/step.log" >&2; fail "the second read did not use the kept ranking"; }

q -c "INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at) VALUES (5, 'call', 0, '2026-02-20 10:00')"
check "a back-dated call committed elsewhere"
# Rep 1 (120) passes rep 2 (121) inside their score band: no band count moves.
q -c "INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at) VALUES (1, 'call', 0, '2026-02-21 10:00'),
                                                                             (1, 'call', 0, '2026-02-21 11:00')"
check "a rep passing another inside its score band"
check "and read again"
[ "$(kept_reads)" -ge 1 ] || { cat "$work/step.log" >&2; fail "the kept ranking was not used again after a change"; }
q -c "UPDATE salesperf.activity SET amount = 30000 WHERE rep_id = 2 AND kind = 'deal_won'"
check "a back-dated deal edited"
q -c "DELETE FROM salesperf.activity WHERE activity_id = (SELECT min(activity_id) FROM salesperf.activity WHERE rep_id = 7)"
check "a back-dated call deleted"

# An uncommitted back-dated change elsewhere: not seen; seen once committed.
psql -X -q -d "$db" -c "BEGIN; INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at)
                        SELECT 9, 'call', 0, '2026-02-25 10:00' FROM generate_series(1, 30);
                        SELECT pg_sleep(3); COMMIT;" >/dev/null &
writer=$!
sleep 1
check "while another session holds an uncommitted back-dated change"
wait "$writer"
check "after it committed"

q -c "UPDATE salesperf.point_rule SET points = 2 WHERE name = 'call'"
check "a point rule edited"
q -c "UPDATE salesperf.rep SET active = false WHERE rep_id = 3"
check "a rep made inactive"
q -c "SELECT salesperf.assign(4, 3, '2026-02-15')"
check "a rep moved to another team in February"

# A REPEATABLE READ transaction that began before a change keeps its view.
a "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM salesperf.rep;"
check "repeatable read, before"
q -c "INSERT INTO salesperf.activity (rep_id, kind, amount, occurred_at)
      SELECT 11, 'call', 0, '2026-02-26 10:00' FROM generate_series(1, 40)"
check "repeatable read, after a back-dated change elsewhere"
a "COMMIT;"
check "after the repeatable read transaction"

# SERIALIZABLE: counted for the call.
a "BEGIN ISOLATION LEVEL SERIALIZABLE;"
check "serializable"
[ "$(kept_reads)" -eq 0 ] || { cat "$work/step.log" >&2; fail "a serializable read used the kept ranking"; }
a "COMMIT;"

# A transaction that holds an id from before the reads: the ranking of a
# period first read now is not kept until it ends.
psql -X -q -d "$db" -c "BEGIN; SELECT pg_current_xact_id(); SELECT pg_sleep(4); COMMIT;" >/dev/null &
older=$!
sleep 1
from=$(wc -l <"$work/a.out")
a "SELECT count(*) FROM salesperf.previous_ranks((SELECT board_id FROM salesperf.leaderboard WHERE name = 'monthly'),
                                                '2026-01-01', '{1,2,3}');"
tail -n +"$((from + 1))" "$work/a.out" | grep -q 'counted for this call' \
  || fail "a ranking was kept while an older transaction was running"
wait "$older"

# A period that has not ended by the clock (next year's previous year is
# this one): counted for the call.
from=$(wc -l <"$work/a.out")
a "SELECT count(*) FROM salesperf.leaderboard_top('yearly', 10, now() + interval '1 year');"
tail -n +"$((from + 1))" "$work/a.out" | grep -q 'counted for this call' \
  || fail "a running period's ranks were not counted"
tail -n +"$((from + 1))" "$work/a.out" | grep -q 'final ranking of board [0-9]* kept' \
  && fail "a running period's ranking was kept"

same=$(grep -c '^same ' "$work/a.out" || true)
if grep -q '^DIFFERENT' "$work/a.out" || [ "$same" -ne "$checks" ]; then
  grep -v '^DEBUG' "$work/a.out" >&2
  fail "previous ranks differ from the final ranking computed from scratch ($same of $checks the same)"
fi
echo "$name: $checks reads of every previous rank of a rep board and a unit board, and both tops' arrows, across back-dated changes committed, uncommitted and inside a score band, rule and org changes, REPEATABLE READ and SERIALIZABLE: all equal the ranking computed from scratch"
