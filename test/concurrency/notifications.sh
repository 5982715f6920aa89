#!/usr/bin/env bash
# NOTIFY salesperf: a listening session receives one JSON message per badge
# awarded, only when the awarding transaction commits, and never twice for
# the same award (crossing the threshold again in the period, or a
# recompute(), sends nothing); and one 'entered_top3' message when a write
# takes a rep into the top 3 of a running rep board, again only after a
# write found the rep outside it.
# A listener in its own session, writers in others, as a CRM dashboard
# would see them.
set -euo pipefail
name=notifications
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.bash
. "$here/common.bash"

# listen FILE: a session that LISTENs on salesperf and prints what arrives
# to FILE (psql prints notifications after each statement it runs), ready
# before this returns.  heard FILE: send an end marker, wait until the
# listener has printed it (at most 60 s), then stop the listener.
listen() {
  { echo "LISTEN salesperf;"; echo "SELECT 'listening';"
    for _ in $(seq 1 300); do echo "SELECT pg_sleep(0.2);"; done; } \
    | psql -X -q -At -d "$db" >"$1" 2>&1 &
  listener=$!
  background_pids+=("$listener")
  for _ in $(seq 1 300); do grep -q listening "$1" 2>/dev/null && return 0; sleep 0.1; done
  fail "the listener did not start"
}
heard() {
  q -c "NOTIFY salesperf, 'end of test'"
  for _ in $(seq 1 600); do grep -q '"end of test"' "$1" 2>/dev/null && break; sleep 0.1; done
  kill "$listener" 2>/dev/null || true
  wait "$listener" 2>/dev/null || true
  grep -q '"end of test"' "$1" || { cat "$1" >&2; fail "the listener did not hear the end marker"; }
  sed -i '/"end of test"/d' "$1"
}

q <<'SQL'
CREATE EXTENSION salesperf;
INSERT INTO salesperf.rep (rep_id, name) VALUES (1, 'Ada'), (2, 'Bo');
INSERT INTO salesperf.badge (name) VALUES ('Dialer');
INSERT INTO salesperf.badge_rule (badge, metric, threshold, period) VALUES ('Dialer', 'calls', 3, 'day');
SQL

# The listener polls for five seconds; psql prints what arrived after each
# statement.
listen "$work/listener.out"

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
heard "$work/listener.out"

# The podium of a running board: Ada, Bo and Cy enter the top 3 (three
# messages), Di passes Cy (one more; a rolled-back attempt sends nothing),
# Ada catches up (already in: nothing); Cy's next write finds her 4th and
# clears her mark; three meetings take her back in (a fifth message).
q >/dev/null <<'SQL'
INSERT INTO salesperf.rep (rep_id, name) VALUES (3, 'Cy'), (4, 'Di');
SELECT salesperf.create_leaderboard('Points now', 'points', period => 'all');
INSERT INTO salesperf.point_rule (name, kind, points) VALUES ('meeting', 'meeting', 10);
SQL
listen "$work/podium.out"
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
q -c "SELECT salesperf.record(3, 'email', 1, now())" >/dev/null                          # Cy 10, 4th: out
podium_mid=$(q -c "SELECT string_agg(participant_id::text, ',' ORDER BY participant_id) FROM salesperf.board_podium")
q -c "SELECT salesperf.record(3, 'meeting', 1, now()), salesperf.record(3, 'meeting', 1, now()),
             salesperf.record(3, 'meeting', 1, now())" >/dev/null                        # Cy 40: back in
heard "$work/podium.out"
top3=$(grep 'Asynchronous notification "salesperf"' "$work/podium.out" | grep -c '"event" : "entered_top3"' || true)
di=$(grep 'Asynchronous notification "salesperf"' "$work/podium.out" | grep '"entered_top3"' | grep -c '"rep" : "Di"' || true)
podium=$(q -c "SELECT string_agg(participant_id::text, ',' ORDER BY participant_id) FROM salesperf.board_podium")
cy=$(grep 'Asynchronous notification "salesperf"' "$work/podium.out" | grep '"entered_top3"' | grep -c '"rep" : "Cy"' || true)
[ "$top3" -eq 5 ] && [ "$di" -eq 1 ] && [ "$cy" -eq 2 ] \
  || { cat "$work/podium.out" >&2; fail "expected 5 entered_top3 messages (one for Di, two for Cy), got $top3 ($di for Di, $cy for Cy)"; }
# Ada 30, Di 30, Bo 20 rank 1, 1, 3: Cy's write at 10 (4th) cleared her mark.
[ "$podium_mid" = "1,2,4" ] || fail "expected the marks 1,2,4 once Cy was 4th, found $podium_mid"
# Cy 40 first: all four marked (Bo, at 20 now 4th, keeps his mark until his next write).
[ "$podium" = "1,2,3,4" ] || fail "expected the marks 1,2,3,4 at the end, found $podium"

got=$(grep -c 'Asynchronous notification "salesperf"' "$work/listener.out" || true)
badge=$(grep 'Asynchronous notification "salesperf"' "$work/listener.out" | grep -c '"event" : "badge_awarded"' || true)
ada=$(grep 'Asynchronous notification "salesperf"' "$work/listener.out" | grep -c '"rep_id" : 1,' || true)
awards=$(q -c "SELECT count(*) FROM salesperf.badge_award")
[ "$got" -eq 1 ] || { cat "$work/listener.out" >&2; fail "expected 1 notification, got $got"; }
[ "$badge" -eq 1 ] && [ "$ada" -eq 1 ] || { cat "$work/listener.out" >&2; fail "the notification is not Ada's badge_awarded"; }
[ "$awards" -eq 1 ] || fail "expected 1 award, found $awards"
# A rep target: Ada's 5 e-mails this month; the write that reaches it is
# announced once, later ones are not.
q -c "SELECT salesperf.set_target('emails', 'rep', 1, 'month', now(), 5)" >/dev/null
listen "$work/target.out"
q -c "SELECT salesperf.record(1, 'email', 1, now()) FROM generate_series(1, 4)" >/dev/null   # 4 of 5
q -c "SELECT salesperf.record(1, 'email', 1, now())" >/dev/null                            # 5: achieved
q -c "SELECT salesperf.record(1, 'email', 1, now())" >/dev/null                            # 6: already
heard "$work/target.out"
achieved=$(grep 'Asynchronous notification "salesperf"' "$work/target.out" | grep -c '"event" : "target_achieved"' || true)
[ "$achieved" -eq 1 ] || { cat "$work/target.out" >&2; fail "expected 1 target_achieved message, got $achieved"; }

echo "$name: ok: 1 notification (badge_awarded, rep 1) for 1 award; none for the rolled-back crossing, the re-crossing or recompute(); 5 entered_top3 (Cy twice), none rolled back; 1 target_achieved"
