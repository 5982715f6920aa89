#!/usr/bin/env bash
# `make test`: every suite against a throwaway cluster, which is always removed.
#   pg_regress (sql/ + expected/), pgTAP via pg_prove (test/pgtap/),
#   concurrency, dump/restore, upgrade and security scripts
#   (test/concurrency/, test/restore/, test/upgrade/, test/security/ -- the
#   last as real non-superuser logins), cmocka (build/unit/).
# Prints each suite's summary and a closing total; exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
here=$(pwd)
state=$(mktemp /tmp/salesperf-test-state.XXXXXX)
trap 'bash test/harness/cluster.sh stop "$state"' EXIT

bash test/harness/cluster.sh start "$state" || exit 1
# shellcheck disable=SC1090
. "$state"
echo "salesperf: test cluster on 127.0.0.1:$PGPORT"

passed=0; failed=0; suites_failed=()

# ---- packaging ---------------------------------------------------------------
if bash test/harness/check_packaging.sh; then passed=$((passed + 1)); else
  failed=$((failed + 1)); suites_failed+=(packaging); fi

# ---- pg_regress -------------------------------------------------------
out=$(make -s installcheck 2>&1); rc=$?
printf '%s\n' "$out" | grep -E '^(ok|not ok|test |     |#)|tests (passed|failed)' || true
n=$(printf '%s\n' "$out" | grep -cE '^(ok|not ok) ')
nf=$(printf '%s\n' "$out" | grep -cE '^not ok ')
if [ "$n" -eq 0 ]; then
  # older pg_regress output format
  n=$(printf '%s\n' "$out" | grep -cE '^test .* \.\.\. ')
  nf=$(printf '%s\n' "$out" | grep -cE '\.\.\. FAILED')
fi
if [ $rc -ne 0 ]; then
  [ "$nf" -eq 0 ] && nf=1
  suites_failed+=(pg_regress)
  [ -f regression.diffs ] && head -200 regression.diffs
fi
echo "pg_regress: $((n - nf)) passed, $nf failed"
passed=$((passed + n - nf)); failed=$((failed + nf))

# ---- pgTAP --------------------------------------------------------------
psql -X -q -d postgres -c "CREATE DATABASE salesperf_tap" >/dev/null
psql -X -q -d salesperf_tap -c "CREATE EXTENSION pgtap; CREATE EXTENSION salesperf" >/dev/null
tap_files=$(ls test/pgtap/*.sql 2>/dev/null)
if [ -n "$tap_files" ]; then
  out=$(pg_prove -d salesperf_tap $tap_files 2>&1); rc=$?
  printf '%s\n' "$out"
  n=$(printf '%s\n' "$out" | sed -n 's/^Files=[0-9]*, Tests=\([0-9]*\).*/\1/p')
  nf=$(printf '%s\n' "$out" | sed -n 's/.*Failed \([0-9]*\)\/[0-9]* subtests.*/\1/p' | awk "{s+=\$1} END {print s+0}")
  n=${n:-0}; nf=${nf:-0}
  if [ $rc -ne 0 ]; then [ "$nf" -eq 0 ] && nf=1; suites_failed+=(pgtap); fi
  echo "pgtap: $((n - nf)) passed, $nf failed"
  passed=$((passed + n - nf)); failed=$((failed + nf))
fi

# ---- script suites: concurrency, dump and restore, upgrade, security --------
# Each script exits 0 when it passes.  A script that prints its own
# "NAME: N passed, N failed" line (the restore, upgrade and security suites count
# TAP assertions) adds those counts; otherwise it counts as one test.
run_scripts() {
  local label=$1 script out rc n nf
  shift
  for script in "$@"; do
    [ -f "$script" ] || continue
    out=$(bash "$script" 2>&1); rc=$?
    printf '%s\n' "$out"
    n=$(printf '%s\n' "$out" | sed -n 's/^[a-z_]*: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' | tail -1)
    nf=$(printf '%s\n' "$out" | sed -n 's/^[a-z_]*: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' | tail -1)
    if [ -z "$n" ]; then
      if [ $rc -eq 0 ]; then n=1; nf=0; else n=0; nf=1; fi
    fi
    [ $rc -ne 0 ] && [ "$nf" -eq 0 ] && nf=1
    if [ $rc -eq 0 ]; then
      echo "$label $(basename "$script"): ok"
    else
      echo "$label $(basename "$script"): FAILED"
      suites_failed+=("$(basename "$script")")
    fi
    passed=$((passed + n)); failed=$((failed + nf))
  done
}
run_scripts concurrency test/concurrency/*.sh
run_scripts restore test/restore/*.sh
run_scripts upgrade test/upgrade/*.sh      # ALTER EXTENSION UPDATE from each release
run_scripts security test/security/*.sh    # real non-superuser logins

# ---- cmocka ---------------------------------------------------------------
out=$(bash test/harness/run_unit.sh build/unit/test_* 2>&1); rc=$?
printf '%s\n' "$out"
n=$(printf '%s\n' "$out" | sed -n 's/^cmocka: \([0-9]*\) passed, \([0-9]*\) failed/\1/p')
nf=$(printf '%s\n' "$out" | sed -n 's/^cmocka: \([0-9]*\) passed, \([0-9]*\) failed/\2/p')
[ $rc -ne 0 ] && suites_failed+=(cmocka)
passed=$((passed + ${n:-0})); failed=$((failed + ${nf:-0}))

echo
if [ ${#suites_failed[@]} -gt 0 ]; then
  echo "FAILED suites: ${suites_failed[*]}"
fi
echo "total: $passed passed, $failed failed"
[ ${#suites_failed[@]} -eq 0 ] && [ "$failed" -eq 0 ]
