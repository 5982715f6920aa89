#!/usr/bin/env bash
# NOTIFY salesperf: a listening session receives one JSON message per badge
# awarded, only when the awarding transaction commits, and never twice for
# the same award (crossing the threshold again in the period, or a
# recompute(), sends nothing).  A listener in its own session, writers in
# others, as a CRM dashboard would see them.
set -euo pipefail
name=notifications
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.bash
. "$here/common.bash"

q <<'SQL'
CREATE EXTENSION salesperf;
INSERT INTO salesperf.rep (rep_id, name) VALUES (1, 'Ada'), (2, 'Bo');
INSERT INTO salesperf.badge (name) VALUES ('Dialer');
INSERT INTO salesperf.badge_rule (badge, metric, threshold, period) VALUES ('Dialer', 'calls', 3, 'day');
SQL

# The listener polls for five seconds; psql prints what arrived after each
# statement.
psql -X -q -d "$db" >"$work/listener.out" 2>&1 <<'SQL' &
LISTEN salesperf;
SELECT pg_sleep(1);
SELECT pg_sleep(1);
SELECT pg_sleep(1);
SELECT pg_sleep(1);
SELECT pg_sleep(1);
SQL
listener=$!
background_pids+=("$listener")
sleep 0.5

# Rolled back: crosses the threshold, but nothing is sent.
q -c "BEGIN; INSERT INTO salesperf.activity (rep_id, kind, occurred_at)
        SELECT 2, 'call', '2026-03-02 10:00+00'::timestamptz + i * interval '1 minute' FROM generate_series(1, 3) i;
      ROLLBACK;"
# Committed: Ada crosses 3 calls on 2 March: one message.
q -c "INSERT INTO salesperf.activity (rep_id, kind, occurred_at)
        SELECT 1, 'call', '2026-03-02 10:00+00'::timestamptz + i * interval '1 minute' FROM generate_series(1, 4) i"
# Crossing again the same day after a delete, and a recompute(): nothing.
q -c "DELETE FROM salesperf.activity WHERE rep_id = 1 AND occurred_at > '2026-03-02 10:02+00'"
q -c "SELECT salesperf.record(1, 'call', 1, '2026-03-02 15:00+00')" >/dev/null
q -c "SELECT salesperf.record(1, 'call', 1, '2026-03-02 16:00+00')" >/dev/null
q -c "SELECT salesperf.recompute()" >/dev/null
wait "$listener" || true

got=$(grep -c 'Asynchronous notification "salesperf"' "$work/listener.out" || true)
badge=$(grep 'Asynchronous notification "salesperf"' "$work/listener.out" | grep -c '"event" : "badge_awarded"' || true)
ada=$(grep 'Asynchronous notification "salesperf"' "$work/listener.out" | grep -c '"rep_id" : 1,' || true)
awards=$(q -c "SELECT count(*) FROM salesperf.badge_award")
[ "$got" -eq 1 ] || { cat "$work/listener.out" >&2; fail "expected 1 notification, got $got"; }
[ "$badge" -eq 1 ] && [ "$ada" -eq 1 ] || { cat "$work/listener.out" >&2; fail "the notification is not Ada's badge_awarded"; }
[ "$awards" -eq 1 ] || fail "expected 1 award, found $awards"
echo "$name: ok: 1 notification (badge_awarded, rep 1) for 1 award; none for the rolled-back crossing, the re-crossing or recompute()"
