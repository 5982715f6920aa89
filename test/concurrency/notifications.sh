#!/usr/bin/env bash
# NOTIFY salesperf: a listening session receives one JSON message per badge
# awarded, only when the awarding transaction commits, and never twice for
# the same award (crossing the threshold again in the period, or a
# recompute(), sends nothing); and one 'entered_top3' message when a rep
# enters the top 3 of a running rep board, again only after dropping out.
# A listener in its own session, writers in others, as a CRM dashboard
# would see them.
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

# The podium of a running board: Ada, Bo and Cy enter the top 3 (three
# messages), Di passes Cy (one more; a rolled-back attempt sends nothing),
# and when Ada catches up Cy ranks 4th and leaves the podium.
q >/dev/null <<'SQL'
INSERT INTO salesperf.rep (rep_id, name) VALUES (3, 'Cy'), (4, 'Di');
SELECT salesperf.create_leaderboard('Points now', 'points', period => 'all');
INSERT INTO salesperf.point_rule (name, kind, points) VALUES ('meeting', 'meeting', 10);
SQL
psql -X -q -d "$db" >"$work/podium.out" 2>&1 <<'SQL' &
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
q -c "SELECT salesperf.record(1, 'meeting', 1, now() - interval '4 minutes')" >/dev/null   # Ada 10: in
q -c "SELECT salesperf.record(2, 'meeting', 1, now() - interval '3 minutes'),
             salesperf.record(2, 'meeting', 1, now() - interval '3 minutes')" >/dev/null   # Bo 20: in
q -c "SELECT salesperf.record(3, 'meeting', 1, now() - interval '2 minutes')" >/dev/null   # Cy 10: in (tied 2nd)
q -c "BEGIN; SELECT salesperf.record(4, 'meeting', 1, now()), salesperf.record(4, 'meeting', 1, now()),
             salesperf.record(4, 'meeting', 1, now()); ROLLBACK" >/dev/null             # rolled back: nothing
q -c "SELECT salesperf.record(4, 'meeting', 1, now()), salesperf.record(4, 'meeting', 1, now()),
             salesperf.record(4, 'meeting', 1, now())" >/dev/null                        # Di 30: in; nobody out
q -c "SELECT salesperf.record(1, 'meeting', 1, now()), salesperf.record(1, 'meeting', 1, now())" >/dev/null
                                                                                          # Ada 30: already in
wait "$listener" || true
top3=$(grep 'Asynchronous notification "salesperf"' "$work/podium.out" | grep -c '"event" : "entered_top3"' || true)
di=$(grep 'Asynchronous notification "salesperf"' "$work/podium.out" | grep '"entered_top3"' | grep -c '"rep" : "Di"' || true)
podium=$(q -c "SELECT string_agg(participant_id::text, ',' ORDER BY participant_id) FROM salesperf.board_podium")
[ "$top3" -eq 4 ] && [ "$di" -eq 1 ] || { cat "$work/podium.out" >&2; fail "expected 4 entered_top3 messages (one for Di), got $top3 ($di for Di)"; }
# Ada 30, Di 30, Bo 20 rank 1, 1, 3; Cy 10 ranks 4th and has left the podium.
[ "$podium" = "1,2,4" ] || fail "expected the podium 1,2,4, found $podium"

got=$(grep -c 'Asynchronous notification "salesperf"' "$work/listener.out" || true)
badge=$(grep 'Asynchronous notification "salesperf"' "$work/listener.out" | grep -c '"event" : "badge_awarded"' || true)
ada=$(grep 'Asynchronous notification "salesperf"' "$work/listener.out" | grep -c '"rep_id" : 1,' || true)
awards=$(q -c "SELECT count(*) FROM salesperf.badge_award")
[ "$got" -eq 1 ] || { cat "$work/listener.out" >&2; fail "expected 1 notification, got $got"; }
[ "$badge" -eq 1 ] && [ "$ada" -eq 1 ] || { cat "$work/listener.out" >&2; fail "the notification is not Ada's badge_awarded"; }
[ "$awards" -eq 1 ] || fail "expected 1 award, found $awards"
echo "$name: ok: 1 notification (badge_awarded, rep 1) for 1 award; none for the rolled-back crossing, the re-crossing or recompute(); 4 entered_top3, none rolled back, podium 1,2,4"
