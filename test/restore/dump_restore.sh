#!/usr/bin/env bash
# pg_dump -> restore of a live salesperf database gives the same state and
# the same answers (SPEC §1).
#
# Builds a source database with every part of the engine in use
# (source.sql), dumps it in plain and custom format, restores each into a new
# empty database with the documented recipe:
#
#   custom: PGOPTIONS='-c session_replication_role=replica' pg_restore -d NEWDB dump.custom
#           && psql -d NEWDB -c 'SELECT salesperf.recompute()'
#   jobs:   the same with pg_restore --jobs=2
#   plain:  pg_dump SRC | PGOPTIONS='-c session_replication_role=replica' psql NEWDB
#           && psql -d NEWDB -c 'SELECT salesperf.recompute()'
# (replica mode loads the data in any order with the extension's triggers
# and foreign keys off; recompute() then rebuilds every derived table)
#
# and checks, for each restored database:
#   * the restore ran without an error;
#   * every table of schemas salesperf and crm (configuration and derived)
#     holds the same rows as the source (EXCEPT ALL both ways);
#   * every public read (answers.sql: leaderboard_top and leaderboard_rank of
#     every board, kpi_value of every KPI at rep, unit and company scope,
#     period_start, forecast(), the catalog...) answers the same;
#   * writes after the restore (after_writes.sql) get the same ids as in the
#     source and leave the same state (sequences, triggers, tree and board
#     map all working).
# A naive restore (plain pg_restore or psql, no recompute()) must not give a
# wrong state silently: it either fails loudly or gives the same state.
#
# SALESPERF_RESTORE_RECIPES (default "plain custom jobs") picks the recipes;
# two more are known:
#   sections: pg_restore --section=pre-data, then --data-only
#             --disable-triggers (pg_dump and pg_restore honour
#             --disable-triggers in a data-only run only), then
#             --section=post-data, then recompute()
#
# Runs against the cluster in PGHOST/PGPORT/PGUSER (a superuser); creates and
# drops its own databases.  Prints TAP lines and "N passed, N failed"; exits
# non-zero on any failure.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bindir=$( (${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config} --bindir || pg_config --bindir) 2>/dev/null )
pg_dump=$bindir/pg_dump
pg_restore=$bindir/pg_restore
for tool in "$pg_dump" "$pg_restore"; do
  [ -x "$tool" ] || { echo "dump_restore: $tool not found" >&2; exit 1; }
done

prefix=salesperf_restore_$$
src=${prefix}_src
work=$(mktemp -d /tmp/salesperf-restore.XXXXXX)
dbs=()

cleanup() {
  for db in "${dbs[@]}"; do
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
  done
  rm -rf "$work"
}
trap cleanup EXIT

n=0; passed=0; failed=0
ok()     { n=$((n + 1)); passed=$((passed + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
diag()   { sed 's/^/#   /'; }

newdb() {
  psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $1" >/dev/null || exit 1
  dbs+=("$1")
}

# Tables compared: every table of the extension's schema and of the CRM.
tables_of() {
  psql -X -At -d "$1" -c "
    SELECT format('%I.%I', n.nspname, c.relname)
      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname IN ('salesperf', 'crm') AND c.relkind IN ('r', 'p')
       -- transaction ids of org changes: each database has its own
       AND NOT (n.nspname = 'salesperf' AND c.relname = 'org_change')
       -- its rows depend on the order of the writes: compare_tally
       AND NOT (n.nspname = 'salesperf' AND c.relname = 'standing_tally')
     ORDER BY 1"
}

# compare_tally A B LABEL: the score bands of A and B, each band's rows
# summed (rows are added and merged as writes come, so only the sums are
# state), and in B the same sums as a recount of B's standings.
compare_tally() {
  local q_sums="SELECT board_id, period_start, bucket, sum(participants) FROM salesperf.standing_tally
                 GROUP BY 1, 2, 3 HAVING sum(participants) <> 0 ORDER BY 1, 2, 3"
  local q_recount="SELECT board_id, period_start, salesperf.score_bucket(sort_score), count(*) FROM salesperf.standing
                    WHERE participant_id = contributor_id AND sort_score IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
  psql -X -At -d "$1" -c "$q_sums" >"$work/tally.a"
  psql -X -At -d "$2" -c "$q_sums" >"$work/tally.b"
  psql -X -At -d "$2" -c "$q_recount" >"$work/tally.recount"
  if diff -q "$work/tally.a" "$work/tally.b" >/dev/null && diff -q "$work/tally.b" "$work/tally.recount" >/dev/null; then
    ok "$3: same score bands ($(wc -l <"$work/tally.b") bands), a recount of the standings"
  else
    not_ok "$3: same score bands, a recount of the standings"
    diff "$work/tally.a" "$work/tally.b" | grep '^[<>]' | head -4 | diag
    diff "$work/tally.b" "$work/tally.recount" | grep '^[<>]' | head -4 | diag
  fi
}

# compare_state A B LABEL MODE: rows of every table of A against B, EXCEPT ALL
# both ways inside A (B's rows copied into temporary tables shaped LIKE A's).
# MODE each: one TAP line per table; MODE one: a single line for all.
# Diagnostics: "-" rows only in A (the source), "+" rows only in B.
compare_state() {
  local a=$1 b=$2 label=$3 mode=$4 dir=$work/$3.state
  mkdir -p "$dir"
  tables_of "$a" >"$dir/tables.a"
  tables_of "$b" >"$dir/tables.b"
  if ! diff -q "$dir/tables.a" "$dir/tables.b" >/dev/null; then
    not_ok "$label: same tables"
    diff "$dir/tables.a" "$dir/tables.b" | diag
  fi
  local i=0 t
  : >"$dir/export.sql"; : >"$dir/compare.sql"
  while read -r t; do
    i=$((i + 1))
    grep -qxF "$t" "$dir/tables.b" || continue
    echo "\\copy (SELECT * FROM $t) TO '$dir/$i.copy'" >>"$dir/export.sql"
    cat >>"$dir/compare.sql" <<SQL
CREATE TEMP TABLE r$i (LIKE $t);
\\copy r$i FROM '$dir/$i.copy'
SELECT '$t|' || (SELECT count(*) FROM $t) || '|' || (SELECT count(*) FROM r$i) || '|'
       || (SELECT count(*) FROM (TABLE $t EXCEPT ALL TABLE r$i) x) || '|'
       || (SELECT count(*) FROM (TABLE r$i EXCEPT ALL TABLE $t) y);
SELECT '$t|#-|' || x::text FROM (TABLE $t EXCEPT ALL TABLE r$i) x LIMIT 4;
SELECT '$t|#+|' || y::text FROM (TABLE r$i EXCEPT ALL TABLE $t) y LIMIT 4;
SQL
  done <"$dir/tables.a"
  psql -X -q -At -d "$b" -f "$dir/export.sql" >/dev/null 2>"$dir/export.err"
  psql -X -q -At -d "$a" -f "$dir/compare.sql" >"$dir/result" 2>"$dir/compare.err"
  if [ -s "$dir/export.err" ] || [ -s "$dir/compare.err" ]; then
    not_ok "$label: state comparison ran"
    cat "$dir/export.err" "$dir/compare.err" | head -20 | diag
  fi
  local bad=() line na nb only_a only_b
  while read -r t; do
    grep -qxF "$t" "$dir/tables.b" || continue
    line=$(awk -F'|' -v t="$t" '$1 == t && $2 !~ /^#/' "$dir/result" | head -1)
    IFS='|' read -r _ na nb only_a only_b <<<"$line"
    if [ -n "$line" ] && [ "$only_a" = 0 ] && [ "$only_b" = 0 ]; then
      [ "$mode" = each ] && ok "$label: $t ($na rows)"
    else
      bad+=("$t")
      if [ "$mode" = each ]; then
        not_ok "$label: $t (source $na rows, restored $nb; only in source $only_a, only in restored $only_b)"
        awk -F'|' -v t="$t" '$1 == t && $2 ~ /^#/' "$dir/result" | cut -d'|' -f2- | sed 's/^#//' | diag
      fi
    fi
  done <"$dir/tables.a"
  if [ "$mode" = one ]; then
    if [ ${#bad[@]} -eq 0 ]; then ok "$label: every table equal"; else
      not_ok "$label: tables differ: ${bad[*]}"
      for t in "${bad[@]}"; do
        awk -F'|' -v t="$t" '$1 == t' "$dir/result" | head -3
      done | diag
    fi
  fi
  [ ${#bad[@]} -eq 0 ]
}

# answers DB FILE: run answers.sql, one file per "## section" in FILE.d/.
answers() {
  psql -X -q -d "$1" -f "$here/answers.sql" >"$2" 2>"$2.err"
  mkdir -p "$2.d"
  awk -v d="$2.d" '/^## /{f=sprintf("%s/%03d", d, ++k); print > f; next} {print >> f}' "$2"
}

# compare_answers LABEL SRCFILE DSTFILE MODE
compare_answers() {
  local label=$1 a=$2 b=$3 mode=$4 s name bad=()
  if [ -s "$b.err" ]; then
    not_ok "$label: answers.sql ran without error"
    head -5 "$b.err" | diag
  fi
  for s in "$a.d"/*; do
    name=$(head -1 "$s" | sed 's/^## //')
    if [ -f "$b.d/$(basename "$s")" ] && diff -q "$s" "$b.d/$(basename "$s")" >/dev/null; then
      [ "$mode" = each ] && ok "$label: same answers: $name"
    else
      bad+=("$name")
      if [ "$mode" = each ]; then
        not_ok "$label: same answers: $name"
        diff "$s" "$b.d/$(basename "$s")" 2>&1 | grep '^[<>]' | head -8 | diag
      fi
    fi
  done
  if [ "$mode" = one ]; then
    if [ ${#bad[@]} -eq 0 ]; then ok "$label: same answers"; else
      not_ok "$label: answers differ: ${bad[*]}"; fi
  fi
  [ ${#bad[@]} -eq 0 ]
}

# ---- the source ---------------------------------------------------------------
newdb "$src"
if ! psql -X -q -d "$src" -f "$here/source.sql" >"$work/source.out" 2>&1; then
  echo "Bail out! source.sql failed"; tail -20 "$work/source.out" | diag; exit 1
fi
answers "$src" "$work/src.answers"
if [ -s "$work/src.answers.err" ]; then
  echo "Bail out! answers.sql failed on the source"; diag <"$work/src.answers.err"; exit 1
fi

"$pg_dump" -Fc -f "$work/dump.custom" "$src" 2>"$work/dump.custom.err" \
  || { echo "Bail out! pg_dump -Fc failed"; diag <"$work/dump.custom.err"; exit 1; }

# ---- the recipe ---------------------------------------------------------------
# restore FORMAT DB: the documented restore, its stderr in $work/FORMAT.err.
restore() {
  case "$1" in
    plain)
      "$pg_dump" "$src" 2>"$work/$1.dump.err" \
        | PGOPTIONS='-c session_replication_role=replica' psql -X -q -v ON_ERROR_STOP=1 -d "$2" >/dev/null 2>"$work/$1.err" \
        && psql -X -q -d "$2" -c 'SELECT salesperf.recompute()' >/dev/null 2>>"$work/$1.err" ;;
    custom)
      PGOPTIONS='-c session_replication_role=replica' "$pg_restore" -d "$2" "$work/dump.custom" 2>"$work/$1.err" \
        && psql -X -q -d "$2" -c 'SELECT salesperf.recompute()' >/dev/null 2>>"$work/$1.err" ;;
    jobs)
      PGOPTIONS='-c session_replication_role=replica' "$pg_restore" --jobs=2 -d "$2" "$work/dump.custom" 2>"$work/$1.err" \
        && psql -X -q -d "$2" -c 'SELECT salesperf.recompute()' >/dev/null 2>>"$work/$1.err" ;;
    sections)
      { "$pg_restore" --section=pre-data -d "$2" "$work/dump.custom" \
          && "$pg_restore" --data-only --disable-triggers -d "$2" "$work/dump.custom" \
          && "$pg_restore" --section=post-data -d "$2" "$work/dump.custom" \
          && psql -X -q -d "$2" -c 'SELECT salesperf.recompute()' >/dev/null; } 2>"$work/$1.err" ;;
    naive-plain)
      "$pg_dump" "$src" 2>"$work/$1.dump.err" | psql -X -q -d "$2" >/dev/null 2>"$work/$1.err" ;;
    naive-custom)
      "$pg_restore" -d "$2" "$work/dump.custom" 2>"$work/$1.err" ;;
  esac
}

restored=()
for format in ${SALESPERF_RESTORE_RECIPES:-plain custom jobs}; do
  db=${prefix}_$format
  newdb "$db"
  restore "$format" "$db"; rc=$?
  if [ $rc -eq 0 ] && ! grep -q 'ERROR' "$work/$format.err"; then
    ok "$format: restore and recompute() ran without error"
  else
    not_ok "$format: restore and recompute() ran without error (exit status $rc)"
    grep -E 'ERROR|error' "$work/$format.err" | head -6 | diag
  fi
  compare_state "$src" "$db" "$format" each
  compare_tally "$src" "$db" "$format"
  answers "$db" "$work/$format.answers"
  compare_answers "$format" "$work/src.answers" "$work/$format.answers" each
  restored+=("$db")
done

# ---- a naive restore fails loudly or restores the same state -------------------
for format in naive-plain naive-custom; do
  db=${prefix}_${format//-/_}
  newdb "$db"
  restore "$format" "$db"; rc=$?
  errors=$(grep -c 'ERROR' "$work/$format.err")
  same=yes
  # in subshells: these comparisons only inform this one assertion
  ( compare_state "$src" "$db" "$format" one ) >"$work/$format.tap" || same=no
  if [ $same = yes ]; then
    answers "$db" "$work/$format.answers"
    ( compare_answers "$format" "$work/src.answers" "$work/$format.answers" one ) >>"$work/$format.tap" || same=no
  fi
  if [ $rc -ne 0 ] || [ "$errors" -gt 0 ]; then
    ok "$format: without the recipe the restore fails loudly (exit status $rc, $errors errors; same state: $same)"
    grep 'ERROR' "$work/$format.err" | sort | uniq -c | sort -rn | head -5 | diag
  elif [ $same = yes ]; then
    ok "$format: without the recipe the restore still gives the same state"
  else
    not_ok "$format: without the recipe the restore reports success but the state is wrong"
  fi
  sed -n 's/^not ok [0-9]* - //p' "$work/$format.tap" | diag
done

# ---- writes after the restore ---------------------------------------------------
if ! psql -X -q -d "$src" -f "$here/after_writes.sql" >"$work/src.after" 2>&1; then
  not_ok "source: after_writes.sql ran"; tail -5 "$work/src.after" | diag
fi
for db in "${restored[@]}"; do
  format=${db#"${prefix}_"}
  psql -X -q -d "$db" -f "$here/after_writes.sql" >"$work/$format.after" 2>&1
  if diff -q "$work/src.after" "$work/$format.after" >/dev/null; then
    ok "$format: writes after the restore get the same ids and answers"
  else
    not_ok "$format: writes after the restore get the same ids and answers"
    diff "$work/src.after" "$work/$format.after" | grep '^[<>]' | head -10 | diag
  fi
  compare_state "$src" "$db" "$format after writes" one
  compare_tally "$src" "$db" "$format after writes"
done

echo "1..$n"
echo "dump_restore: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
