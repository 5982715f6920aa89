#!/usr/bin/env bash
# A SERIALIZABLE writer whose snapshot predates a membership change that a
# READ COMMITTED session committed (serializable conflict detection does not
# see the latter).  Step by step, with a second session held open:
#   1. A begins SERIALIZABLE and reads; another session inserts a membership
#      of rep 1 and commits; A inserts an overlapping one: A must end in
#      40001, and no two memberships of rep 1 overlap afterwards.
#   2. Same, but the other session moves rep 2 to another team and A then
#      records an activity of rep 2 after the move: A must end in 40001
#      (committing would count the activity for the old team).
#   3. A control: A records an activity of rep 3 while the other session
#      changes rep 2's memberships: that commits.
#   4. The other session records an activity of rep 1 where rep 1 has no
#      membership, and commits; A inserts a membership over it: A must end
#      in 40001 (committing would leave the activity counted for no unit).
# Afterwards the derived state equals recompute().
set -euo pipefail
name=serializable_memberships
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.bash
. "$here/common.bash"

q >/dev/null <<'SQL'
CREATE EXTENSION salesperf;
INSERT INTO salesperf.unit (unit_id, parent_id, name, kind) VALUES
    (1, NULL, 'Acme', 'company'), (10, 1, 'Boston', 'team'), (11, 1, 'Denver', 'team');
INSERT INTO salesperf.rep (rep_id, name) VALUES (1, 'Ann'), (2, 'Bo'), (3, 'Cy');
SELECT salesperf.assign(r, 10, '2026-01-01') FROM generate_series(2, 3) r;
INSERT INTO salesperf.membership (rep_id, unit_id, during) VALUES (1, 10, '[2026-01-01,2026-02-01)');
INSERT INTO salesperf.point_rule (name, kind, points) VALUES ('calls', 'call', 1);
SELECT salesperf.create_leaderboard('teams', participant => 'unit', unit_kind => 'team', period => 'month');
SQL

session_a_start errors_allowed
failures=0
# Session A's output since the last mark.
mark=0
mark_a() { mark=$(cat "$work/a.out" 2>/dev/null | wc -l); }
a_since_mark() { tail -n +"$((mark + 1))" "$work/a.out"; }
expect_in_a() {
  if ! a_since_mark | grep -q "$1"; then
    echo "$name: expected '$1' in session A for: $2" >&2
    a_since_mark >&2
    failures=$((failures + 1))
  fi
}

# 1. Overlapping membership inserts.
mark_a
a "BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT count(*) FROM salesperf.rep;"
q -c "INSERT INTO salesperf.membership (rep_id, unit_id, during) VALUES (1, 11, '[2026-03-01,2026-04-01)')"
a "INSERT INTO salesperf.membership (rep_id, unit_id, during) VALUES (1, 10, '[2026-03-15,2026-05-01)'); COMMIT;"
expect_in_a 'ERROR:  40001' "an overlapping membership"
overlapping=$(q -c "SELECT count(*) FROM salesperf.membership a JOIN salesperf.membership b
                     ON b.rep_id = a.rep_id AND b.ctid <> a.ctid AND b.during && a.during")
[ "$overlapping" = 0 ] || { echo "$name: $overlapping pairs of memberships overlap" >&2; failures=$((failures + 1)); }

# 2. An activity after a move the writer's snapshot does not see.
mark_a
a "BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT count(*) FROM salesperf.rep;"
q -c "SELECT salesperf.assign(2, 11, '2026-06-01')" >/dev/null
a "SELECT salesperf.record(2, 'call', 0, '2026-06-10 10:00'); COMMIT;"
expect_in_a 'ERROR:  40001' "an activity after a concurrent move"

# 3. Another rep's membership change does not fail the writer.
mark_a
a "BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT count(*) FROM salesperf.rep;"
q -c "SELECT salesperf.assign(2, 10, '2026-07-01')" >/dev/null
a "SELECT salesperf.record(3, 'call', 0, '2026-06-10 10:00') > 0 AS recorded; COMMIT;"
if a_since_mark | grep -q ERROR; then
  echo "$name: rep 3's write failed" >&2; a_since_mark >&2; failures=$((failures + 1))
fi
[ "$(q -c "SELECT count(*) FROM salesperf.activity WHERE rep_id = 3")" = 1 ] ||
  { echo "$name: rep 3's activity is missing" >&2; failures=$((failures + 1)); }

# 4. A membership over an activity the writer's snapshot does not see.
mark_a
a "BEGIN ISOLATION LEVEL SERIALIZABLE; SELECT count(*) FROM salesperf.rep;"
q -c "SELECT salesperf.record(1, 'call', 0, '2026-08-10 10:00')" >/dev/null
a "INSERT INTO salesperf.membership (rep_id, unit_id, during) VALUES (1, 11, '[2026-08-01,2026-09-01)'); COMMIT;"
expect_in_a 'ERROR:  40001' "a membership over a concurrently recorded activity"

report=$(derived_report)
check_derived "$report"
[ "$failures" = 0 ] || fail "$failures of 5 checks failed"
echo "$name: ok: a SERIALIZABLE writer ends in 40001 after a concurrent membership change of its rep (overlap refused, no activity counted for the old team, no membership over an activity it cannot see); other reps' changes let it commit; derived state equals recompute()"
