#!/usr/bin/env bash
# A writing session keeps, between writes, which KPIs have badge rules, rep
# boards and rep targets.  Configuration changed by another session after
# it has written must count at its next write: a badge rule defined
# elsewhere awards, a board created elsewhere announces entered_top3, a
# dropped board announces nothing, a rep target set elsewhere announces
# target_achieved.  And a copy made inside a transaction that rolled back
# must not pass for the configuration another session commits later.
# The writing session listens too: psql prints what it receives after each
# statement, its own announcements included, once they are committed.
set -euo pipefail
name=notify_config
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=common.bash
. "$here/common.bash"

q >/dev/null <<'SQL'
CREATE EXTENSION salesperf;
INSERT INTO salesperf.rep (rep_id, name) VALUES (1, 'Ada'), (2, 'Bo'), (3, 'Cy'), (4, 'Di');
INSERT INTO salesperf.badge (name) VALUES ('Caller'), ('Mailer');
INSERT INTO salesperf.point_rule (name, kind, points) VALUES ('meeting', 'meeting', 10);
SELECT salesperf.create_leaderboard('Kept', 'points', period => 'all');
SELECT salesperf.create_leaderboard('Dropped', 'points', period => 'all');
SQL

# Session A: one psql fed through a fifo, its output in a file.  a SQL runs
# SQL in it and waits until it is done.
mkfifo "$work/a.in"
psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" <"$work/a.in" >"$work/a.out" 2>&1 &
background_pids+=("$!")
exec 3>"$work/a.in"
steps=0
a() {
  steps=$((steps + 1))
  printf '%s\nSELECT %s;\n' "$1" "'step $steps done'" >&3
  for _ in $(seq 1 600); do
    grep -q "^step $steps done\$" "$work/a.out" && return 0
    grep -q 'ERROR' "$work/a.out" && { cat "$work/a.out" >&2; fail "session A failed"; }
    sleep 0.1
  done
  cat "$work/a.out" >&2
  fail "session A did not finish step $steps"
}
# heard EVENT [FIELD]: how many EVENT messages session A received so far
# (with FIELD, e.g. '"board" : "Kept"', in them).
heard() {
  grep 'Asynchronous notification "salesperf"' "$work/a.out" | grep "\"event\" : \"$1\"" \
    | grep -c -- "${2:-}" || true
}

a "LISTEN salesperf;"
# A writes calls with no badge rule anywhere: its copy has none.
a "SELECT salesperf.record(1, 'call', 1, now()) FROM generate_series(1, 2);"
a "SELECT salesperf.record(1, 'call', 1, now());"
# Another session defines "three calls a day" (Ada has three already: the
# rule's own check awards it).  Ada's fourth call awards nothing more; Bo's
# third call, written by A, must be awarded.
q -c "INSERT INTO salesperf.badge_rule (badge, metric, threshold, period) VALUES ('Caller', 'calls', 3, 'day')"
a "SELECT salesperf.record(1, 'call', 1, now());"
a "SELECT salesperf.record(2, 'call', 1, now()) FROM generate_series(1, 3);"
bo=$(q -c "SELECT count(*) FROM salesperf.badge_award WHERE rep_id = 2")
[ "$bo" -eq 1 ] || fail "Bo's third call after a rule defined in another session: $bo awards, expected 1"
[ "$(heard badge_awarded '"rep" : "Bo"')" -eq 1 ] || { cat "$work/a.out" >&2; fail "no badge_awarded for Bo"; }

# Podium: Ada's meeting takes her into the top 3 of both boards (two
# messages).  Another session drops one; Cy's meeting is announced on the
# other only.
a "SELECT salesperf.record(1, 'meeting', 1, now());"
[ "$(heard entered_top3 '"rep" : "Ada"')" -eq 2 ] || { cat "$work/a.out" >&2; fail "expected Ada on two podiums"; }
dropped=$(heard entered_top3 '"board" : "Dropped"')
q -c "DELETE FROM salesperf.leaderboard WHERE name = 'Dropped'"
a "SELECT salesperf.record(3, 'meeting', 1, now());"
[ "$(heard entered_top3 '"rep" : "Cy"')" -eq 1 ] && [ "$(heard entered_top3 '"board" : "Dropped"')" -eq "$dropped" ] \
  || { cat "$work/a.out" >&2; fail "expected Cy on the kept board only, and nothing more on the dropped one"; }
# Another session creates a board on calls: Di's call is announced on it.
q -c "SELECT salesperf.create_leaderboard('Calls', 'calls', period => 'all')" >/dev/null
a "SELECT salesperf.record(4, 'call', 1, now());"
[ "$(heard entered_top3 '"board" : "Calls"')" -eq 1 ] \
  || { cat "$work/a.out" >&2; fail "a board created in another session: no entered_top3 on it"; }

# A rep target set in another session: Di's next e-mail achieves it.
a "SELECT salesperf.record(4, 'email', 1, now());"
q -c "SELECT salesperf.set_target('emails', 'rep', 4, 'month', now(), 2)" >/dev/null
a "SELECT salesperf.record(4, 'email', 1, now());"
[ "$(heard target_achieved '"rep" : "Di"')" -eq 1 ] \
  || { cat "$work/a.out" >&2; fail "a target set in another session: no target_achieved"; }

# A copy made under a rolled-back change: A deletes every rule, writes (its
# copy: no rules), rolls back.  Another session then changes the
# configuration once (a board).  Cy's third call must be awarded: the
# configuration A sees now has the rule, whatever the version numbers.
a "BEGIN; DELETE FROM salesperf.badge_rule; SELECT salesperf.record(3, 'call', 1, now()); ROLLBACK;"
q -c "SELECT salesperf.create_leaderboard('Mails', 'emails', period => 'all')" >/dev/null
a "SELECT salesperf.record(3, 'call', 1, now()) FROM generate_series(1, 3);"
cy=$(q -c "SELECT count(*) FROM salesperf.badge_award WHERE rep_id = 3")
[ "$cy" -eq 1 ] || fail "Cy's third call after a rolled-back change and a committed one: $cy awards, expected 1"

awards=$(q -c "SELECT count(*) FROM salesperf.badge_award")
[ "$awards" -eq 3 ] || fail "expected 3 awards (Ada, Bo, Cy), found $awards"
exec 3>&-
echo "$name: ok: a rule, a board and a target defined in another session count at the next write; a dropped board is not announced; a rolled-back change does not stick"
