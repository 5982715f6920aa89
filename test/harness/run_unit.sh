#!/usr/bin/env bash
# Runs each cmocka binary given; prints their output and a one-line total.
# Exit status is non-zero if any test failed.
set -uo pipefail
passed=0; failed=0
for t in "$@"; do
  out=$("$t" 2>&1); rc=$?
  printf '%s\n' "$out"
  p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
  if [ $rc -ne 0 ] && [ -z "$f" ]; then failed=$((failed + 1)); fi
done
echo "cmocka: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
