#!/usr/bin/env bash
# ALTER EXTENSION salesperf UPDATE from every earlier release gives what a
# fresh install of the current version gives, in a live database.
#
# For each earlier version V that is installed (sql/released/salesperf--V.sql)
# and the current default version D:
#   database "updated": CREATE EXTENSION salesperf VERSION 'V', the live data
#     of the dump/restore test (test/restore/source.sql) and what it leaves
#     unused (extra.sql: badges, contests, rewards, a scorecard), so that
#     every part of the engine is in use, the four access levels granted to
#     four roles, then
#     ALTER EXTENSION salesperf UPDATE and the documented step after an
#     update (grant_access() again for every role in salesperf.access_grant);
#   database "fresh": CREATE EXTENSION salesperf (D), the same data, the same
#     grants and the same step;
# and checks that the two are the same:
#   * the catalog (catalog.sql): extension members and configuration tables,
#     routines with their definitions, privileges, SECURITY DEFINER,
#     volatility, parallel safety, strictness and settings; aggregates, types,
#     relations (row-level security flags, ACLs), columns (defaults,
#     generated expressions, order), constraints, indexes, triggers,
#     policies, views, sequences, comments and the extension's initial
#     privileges (what pg_dump leaves out);
#   * every public answer (test/restore/answers.sql and answers.sql);
#   * every row of every table, derived ones included (state.sql), and the
#     sequences' positions;
#   * writes after the update (test/restore/after_writes.sql) print the same
#     ids and answers and leave the same rows and catalog.
# Runs against the cluster in PGHOST/PGPORT/PGUSER (a superuser); creates and
# drops its own databases and roles.  Prints TAP lines and
# "upgrade: N passed, N failed"; exits non-zero on any failure.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
restore=$here/../restore
work=$(mktemp -d /tmp/salesperf-upgrade.XXXXXX)
prefix=salesperf_upgrade_$$
roles=("${prefix}_admin" "${prefix}_writer" "${prefix}_reader" "${prefix}_rep")
levels=(admin writer reader rep)
dbs=()

cleanup() {
  for db in "${dbs[@]}"; do
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
  done
  for r in "${roles[@]}"; do
    psql -X -q -d postgres -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1
  done
  rm -rf "$work"
}
trap cleanup EXIT

n=0; passed=0; failed=0
ok()     { n=$((n + 1)); passed=$((passed + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check()  { local label=$1; shift; if "$@"; then ok "$label"; else not_ok "$label"; fi; }
diag()   { sed 's/^/#   /'; }
finish() { echo "1..$n"; echo "upgrade: $passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

for r in "${roles[@]}"; do
  sql -d postgres -c "CREATE ROLE $r NOLOGIN" >/dev/null || { echo "Bail out! cannot create role $r"; finish; }
done

current=$(sql -d postgres -c "SELECT default_version FROM pg_available_extensions WHERE name = 'salesperf'")
earlier=$(sql -d postgres -c "SELECT version FROM pg_available_extension_versions
                               WHERE name = 'salesperf' AND version <> '$current' ORDER BY version")
if [ -z "$current" ]; then echo "Bail out! salesperf is not installed"; finish; fi
if [ -z "$earlier" ]; then
  not_ok "an earlier release of salesperf is installed beside $current (sql/released/)"; finish
fi

# load DB VERSION: source.sql with its CREATE EXTENSION at VERSION (empty:
# the default), then the access levels and the step after an update.
load() {
  local db=$1 version=$2 script=$work/$1.source.sql
  if [ -n "$version" ]; then
    sed "s/^CREATE EXTENSION salesperf;\$/CREATE EXTENSION salesperf VERSION '$version';/" \
      "$restore/source.sql" >"$script"
    grep -qxF "CREATE EXTENSION salesperf VERSION '$version';" "$script" \
      || { echo "source.sql has no line 'CREATE EXTENSION salesperf;' to install $version with"; return 1; }
  else
    cp "$restore/source.sql" "$script"
  fi
  sql -d postgres -c "CREATE DATABASE $db" >/dev/null || return 1
  dbs+=("$db")
  sql -d "$db" -f "$script" -f "$here/extra.sql" >"$work/$db.load" 2>&1 || { cat "$work/$db.load"; return 1; }
  local i
  for i in "${!roles[@]}"; do
    sql -d "$db" -c "SELECT salesperf.grant_access('${roles[$i]}', '${levels[$i]}')" >/dev/null || return 1
  done
}
# The step README asks for after ALTER EXTENSION salesperf UPDATE.
regrant() {
  sql -d "$1" -c "SELECT salesperf.grant_access(role, level) FROM salesperf.access_grant ORDER BY role" >/dev/null
}

# run_file DB FILE OUT: FILE's output in OUT, its errors in OUT.err.
# state.sql prints "<clock>" for clock-filled values from $since on.
since=$(sql -d postgres -c "SELECT now()")
run_file() { psql -X -q -v ON_ERROR_STOP=1 -v since="$since" -d "$1" -f "$2" >"$3" 2>"$3.err"; }

# compare LABEL A B MODE: A and B are outputs made of "## name" sections.
# MODE each: one TAP line per section; MODE one: one line for all.
# Diagnostics: "<" lines of the updated database, ">" of the fresh one.
compare() {
  local label=$1 a=$2 b=$3 mode=$4 s bad=()
  for f in "$a" "$b"; do
    if [ -s "$f.err" ]; then not_ok "$label: $(basename "$f") ran without error"; head -5 "$f.err" | diag; fi
  done
  grep '^## ' "$a" >"$a.sections"; grep '^## ' "$b" >"$b.sections"
  if ! diff -q "$a.sections" "$b.sections" >/dev/null; then
    not_ok "$label: the same sections"
    diff "$a.sections" "$b.sections" | grep '^[<>]' | head -10 | diag
  fi
  while IFS= read -r s; do
    awk -v h="$s" '$0 == h {p = 1; next} /^## / {p = 0} p' "$a" >"$work/section.a"
    awk -v h="$s" '$0 == h {p = 1; next} /^## / {p = 0} p' "$b" >"$work/section.b"
    if diff -q "$work/section.a" "$work/section.b" >/dev/null; then
      [ "$mode" = each ] && ok "$label: ${s#\#\# } ($(wc -l <"$work/section.a") lines)"
    else
      bad+=("${s#\#\# }")
      if [ "$mode" = each ]; then
        not_ok "$label: ${s#\#\# }"
        diff "$work/section.a" "$work/section.b" | grep '^[<>]' | head -10 | cut -c1-400 | diag
      fi
    fi
  done <"$a.sections"
  if [ "$mode" = one ]; then
    if [ ${#bad[@]} -eq 0 ]; then ok "$label"; else
      not_ok "$label: differ in ${bad[*]}"
      diff "$a" "$b" | grep '^[<>]' | head -10 | cut -c1-400 | diag
    fi
  fi
}

# ---- the fresh install of the current version ---------------------------------
fresh=${prefix}_fresh
if load "$fresh" "" >"$work/fresh.err" 2>&1 && regrant "$fresh" 2>>"$work/fresh.err"; then
  ok "fresh $current: CREATE EXTENSION salesperf, the live data and the access levels load"
else
  not_ok "fresh $current: CREATE EXTENSION salesperf, the live data and the access levels load"
  tail -5 "$work/fresh.err" | diag; finish
fi
run_file "$fresh" "$here/catalog.sql" "$work/fresh.catalog"
run_file "$fresh" "$restore/answers.sql" "$work/fresh.answers"
run_file "$fresh" "$here/answers.sql" "$work/fresh.answers_more"
run_file "$fresh" "$here/state.sql" "$work/fresh.state"
run_file "$fresh" "$restore/after_writes.sql" "$work/fresh.after"
run_file "$fresh" "$here/state.sql" "$work/fresh.state_after"
run_file "$fresh" "$here/catalog.sql" "$work/fresh.catalog_after"

# ---- each earlier release, updated ---------------------------------------------
for version in $earlier; do
  label="$version -> $current"
  db=${prefix}_from_${version//[^0-9a-zA-Z]/_}
  if load "$db" "$version" >"$work/$db.err" 2>&1; then
    ok "$label: CREATE EXTENSION salesperf VERSION '$version' (with the current shared library), the live data and the access levels load"
  else
    not_ok "$label: CREATE EXTENSION salesperf VERSION '$version' (with the current shared library), the live data and the access levels load"
    tail -5 "$work/$db.err" | diag; continue
  fi
  if sql -d "$db" -c "ALTER EXTENSION salesperf UPDATE" >"$work/$db.update" 2>&1; then
    ok "$label: ALTER EXTENSION salesperf UPDATE ran without error"
  else
    not_ok "$label: ALTER EXTENSION salesperf UPDATE ran without error"; tail -5 "$work/$db.update" | diag; continue
  fi
  got=$(sql -d "$db" -c "SELECT extversion FROM pg_extension WHERE extname = 'salesperf'")
  check "$label: the updated extension is at version $current (got $got)" [ "$got" = "$current" ]
  if regrant "$db" 2>"$work/$db.regrant"; then
    ok "$label: granting the levels again after the update works"
  else
    not_ok "$label: granting the levels again after the update works"; diag <"$work/$db.regrant"
  fi

  run_file "$db" "$here/catalog.sql" "$work/$db.catalog"
  compare "$label: same catalog" "$work/$db.catalog" "$work/fresh.catalog" each
  run_file "$db" "$restore/answers.sql" "$work/$db.answers"
  compare "$label: same answers" "$work/$db.answers" "$work/fresh.answers" each
  run_file "$db" "$here/answers.sql" "$work/$db.answers_more"
  compare "$label: same answers" "$work/$db.answers_more" "$work/fresh.answers_more" each
  run_file "$db" "$here/state.sql" "$work/$db.state"
  compare "$label: same rows" "$work/$db.state" "$work/fresh.state" each

  run_file "$db" "$restore/after_writes.sql" "$work/$db.after"
  if [ ! -s "$work/$db.after.err" ] && [ ! -s "$work/fresh.after.err" ] \
     && diff -q "$work/$db.after" "$work/fresh.after" >/dev/null; then
    ok "$label: writes after the update get the same ids and answers"
  else
    not_ok "$label: writes after the update get the same ids and answers"
    cat "$work/$db.after.err" "$work/fresh.after.err" | head -5 | diag
    diff "$work/$db.after" "$work/fresh.after" | grep '^[<>]' | head -10 | diag
  fi
  run_file "$db" "$here/state.sql" "$work/$db.state_after"
  compare "$label: same rows after the writes" "$work/$db.state_after" "$work/fresh.state_after" one
  run_file "$db" "$here/catalog.sql" "$work/$db.catalog_after"
  compare "$label: same catalog after the writes" "$work/$db.catalog_after" "$work/fresh.catalog_after" one
done

finish
