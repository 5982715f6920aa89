#!/usr/bin/env bash
# leaderboard_rank() counts a rep board's participants once per session and
# keeps the count while no org change it did not see has committed
# (board_members(), src/board_members.c).  One session reads while another
# changes the org chart; every answer must equal the participants counted
# from scratch (board_candidates()) in the same statement:
#   - after changes another session committed (a rep made inactive, a rep
#     placed in a unit, a membership deleted, a unit moved out of scope);
#   - while another session holds an uncommitted change, and after it
#     commits;
#   - inside a REPEATABLE READ transaction that began before a change;
#   - after its own change rolled back;
#   - after its own change in a transaction that had written before
#     reading, and after that transaction commits.
set -euo pipefail
name=board_members
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.bash
. "$here/common.bash"

q >/dev/null <<'SQL'
CREATE EXTENSION salesperf;
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES (1, NULL, 'Company', 'company'),
    (2, 1, 'North', 'region'), (3, 2, 'Team A', 'team'), (4, 1, 'Team B', 'team');
INSERT INTO salesperf.rep (rep_id, name) SELECT r, 'Rep ' || r FROM generate_series(1, 60) r;
SELECT count(salesperf.assign(r, 3 + r % 2, '2026-01-01')) FROM generate_series(1, 50) r;
INSERT INTO salesperf.point_rule (name, kind, points) VALUES ('call', 'call', 1);
SELECT salesperf.create_leaderboard('all reps', period => 'month');
SELECT salesperf.create_leaderboard('north', unit_scope => 2, period => 'month');
INSERT INTO salesperf.activity (rep_id, kind, occurred_at)
SELECT 1 + r % 55, 'call', timestamptz '2026-03-02 10:00' + r * interval '1 hour' FROM generate_series(1, 200) r;
SQL

session_a_start
# Session A's participants of both boards against a count from scratch:
# prints "same <label>" or "DIFFERENT <label> ...".
checks=0
check() {
  checks=$((checks + 1))
  a "SELECT CASE WHEN f IS NOT DISTINCT FROM s THEN 'same $1' ELSE 'DIFFERENT $1 ' || f::text || ' ' || s::text END
       FROM (SELECT ARRAY[(SELECT participants FROM salesperf.leaderboard_rank('all reps', 1, '2026-03-15')),
                          -- no row once nobody is left in the scope
                          COALESCE((SELECT participants FROM salesperf.leaderboard_rank('north', 2, '2026-03-15')), 0)] AS f,
                    ARRAY[(SELECT count(*) FROM salesperf.board_candidates(
                               (SELECT board_id FROM salesperf.leaderboard WHERE name = 'all reps'), '2026-03-01')),
                          (SELECT count(*) FROM salesperf.board_candidates(
                               (SELECT board_id FROM salesperf.leaderboard WHERE name = 'north'), '2026-03-01'))] AS s) x;"
}

check "first read"
check "second read (kept)"
q -c "UPDATE salesperf.rep SET active = false WHERE rep_id = 5"
check "a rep made inactive elsewhere"
q -c "SELECT salesperf.assign(55, 3, '2026-03-10')"
check "a rep placed in a unit elsewhere"
q -c "DELETE FROM salesperf.membership WHERE rep_id = 8"
check "a membership deleted elsewhere"

# An uncommitted change elsewhere: not seen; seen once committed.
psql -X -q -d "$db" -c "BEGIN; UPDATE salesperf.rep SET active = false WHERE rep_id BETWEEN 10 AND 19;
                        SELECT pg_sleep(3); COMMIT;" >/dev/null &
writer=$!
sleep 1
check "while another session holds an uncommitted change"
wait "$writer"
check "after it committed"

# A REPEATABLE READ transaction that began before a change keeps its view.
a "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM salesperf.rep;"
check "repeatable read, before"
q -c "UPDATE salesperf.unit SET parent_id = 1 WHERE unit_id = 3"
check "repeatable read, after a unit moved out of scope elsewhere"
a "COMMIT;"
check "after the repeatable read transaction"

# Its own change, rolled back.
a "BEGIN; UPDATE salesperf.rep SET active = false WHERE rep_id BETWEEN 20 AND 45;"
check "inside its own org change"
a "ROLLBACK;"
check "after its own change rolled back"

# A transaction that has written, reads, then changes the org chart itself:
# the count it read first must not be reused after its own change, nor
# after it commits.
a "BEGIN; INSERT INTO salesperf.activity (rep_id, kind, occurred_at) VALUES (1, 'call', '2026-03-03 10:00');"
# another session changes the org chart and commits: A counts again, with
# its own id already taken and below the snapshot's xmax
q -c "UPDATE salesperf.rep SET name = name WHERE rep_id = 60" >/dev/null
check "inside a transaction that has written"
a "UPDATE salesperf.rep SET active = false WHERE rep_id BETWEEN 46 AND 50;"
check "after its own org change in that transaction"
a "COMMIT;"
check "after it committed"

same=$(grep -c '^same ' "$work/a.out" || true)
if grep -q '^DIFFERENT' "$work/a.out" || [ "$same" -ne "$checks" ]; then
  cat "$work/a.out" >&2
  fail "participants differ from a count from scratch ($same of $checks the same)"
fi
echo "$name: $checks reads of two boards' participants, across org changes committed, uncommitted, rolled back and under REPEATABLE READ: all equal a count from scratch"
