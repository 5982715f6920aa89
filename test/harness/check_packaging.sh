#!/usr/bin/env bash
# Packaging checks that need no server: META.json is valid PGXN meta (the
# required keys) and in step with the control file; the install scripts (the
# built one and the earlier releases' in sql/released/) and the upgrade
# scripts (sql/upgrade/) follow the extension-script safety rules; every
# earlier release has an upgrade path to the current version, every upgrade
# script ends by applying the access rules, and `make install` installs them
# all.
set -uo pipefail
cd "$(dirname "$0")/../.."
fail=0
say() { echo "packaging: $*"; }

version=$(sed -n "s/^default_version = '\(.*\)'/\1/p" salesperf.control)
if ! python3 - "$version" <<'PY'
import json, sys
m = json.load(open("META.json"))
for key in ("name", "abstract", "version", "maintainer", "license", "provides", "meta-spec"):
    assert key in m, f"META.json lacks {key}"
assert m["meta-spec"]["version"] == "1.0.0", "meta-spec version must be 1.0.0"
# PGXN versions are semantic versions: control 1.0 is META 1.0.0.
semver = sys.argv[1] + ".0" * (2 - sys.argv[1].count("."))
assert m["version"] == semver, f"META.json version {m['version']} != control {sys.argv[1]} ({semver})"
p = m["provides"]["salesperf"]
assert p["version"] == semver, "provides.salesperf.version out of step"
assert p["file"] == f"salesperf--{sys.argv[1]}.sql", "provides.salesperf.file out of step"
PY
then say "META.json is invalid or out of step"; fail=1; fi

script="salesperf--$version.sql"
[ -f "$script" ] || { say "$script not built"; exit 1; }
released=$(ls sql/released/salesperf--*.sql 2>/dev/null)
upgrades=$(ls sql/upgrade/salesperf--*--*.sql 2>/dev/null)

# Install scripts create their objects plainly (CVE-2022-2625); an upgrade
# script may CREATE OR REPLACE a function the extension already owns (it
# keeps its privileges and dependants), never IF NOT EXISTS.
for f in "$script" $released; do
  if grep -vE '^\s*--' "$f" | grep -nE 'CREATE +OR +REPLACE|(CREATE|ALTER) [A-Z ]*IF +NOT +EXISTS'; then
    say "$f must create its objects plainly (CVE-2022-2625)"; fail=1
  fi
done
for f in $upgrades; do
  if grep -vE '^\s*--' "$f" | grep -nE '(CREATE|ALTER) [A-Z ]*IF +NOT +EXISTS'; then
    say "$f must not use IF NOT EXISTS (CVE-2022-2625)"; fail=1
  fi
done
for f in "$script" $released $upgrades; do
  if grep -nE "['\"][^'\"]*@extschema@" "$f"; then
    say "$f: @extschema@ must never appear inside quotes (CVE-2023-39417)"; fail=1
  fi
  grep -q '^\\echo Use "\(CREATE\|ALTER\) EXTENSION salesperf.*\\quit' "$f" \
    || { say "$f lacks the \\echo ... \\quit guard against psql -f"; fail=1; }
done
# Every SQL or PL/pgSQL function pins its search_path.
if ! python3 - "$script" $released $upgrades <<'PY'
import re, sys
bad = []
for path in sys.argv[1:]:
    text = open(path).read()
    for m in re.finditer(r"CREATE (?:OR REPLACE )?FUNCTION (\S+?)\((.*?)\$\$", text, re.S):
        head = m.group(0)
        if re.search(r"LANGUAGE\s+(sql|plpgsql)", head) and "SET search_path" not in head:
            bad.append(f"{path}: {m.group(1)}")
if bad:
    print("functions without SET search_path:", ", ".join(bad))
    sys.exit(1)
PY
then fail=1; fi

# The current version is built from sql/install/, not kept in sql/released/;
# every earlier release reaches it through the upgrade scripts; each upgrade
# script ends by applying the access rules (sql/install/90_access.sql).
if ! python3 - "$version" $released -- $upgrades <<'PY'
import re, sys
args = sys.argv[2:]
cut = args.index("--")
released = [re.match(r".*/salesperf--(.+)\.sql$", f).group(1) for f in args[:cut]]
edges = {}
problems = []
for f in args[cut + 1:]:
    a, b = re.match(r".*/salesperf--(.+)--(.+)\.sql$", f).groups()
    edges.setdefault(a, []).append(b)
    statements = [l for l in open(f).read().splitlines() if l.strip() and not l.lstrip().startswith("--")]
    if not statements or statements[-1].strip() != "SELECT salesperf.apply_access_rules();":
        problems.append(f"{f} does not end with SELECT salesperf.apply_access_rules();")
current = sys.argv[1]
if current in released:
    problems.append(f"sql/released/salesperf--{current}.sql: the current version is built, not kept")
for v in released:
    seen, todo = set(), [v]
    while todo:
        x = todo.pop()
        if x in seen:
            continue
        seen.add(x)
        todo += edges.get(x, [])
    if current not in seen:
        problems.append(f"no upgrade path from {v} to {current} in sql/upgrade/")
for p in problems:
    print("packaging:", p)
sys.exit(1 if problems else 0)
PY
then fail=1; fi

# make install installs every released and upgrade script.
if make -s -n install >/tmp/salesperf-packaging.$$ 2>&1; then
  for f in $released $upgrades; do
    grep -q "[ /]$f " /tmp/salesperf-packaging.$$ || { say "make install does not install $f"; fail=1; }
  done
else
  say "make -n install failed"; head -5 /tmp/salesperf-packaging.$$; fail=1
fi
rm -f /tmp/salesperf-packaging.$$
[ $fail -eq 0 ] && say "ok"
exit $fail
