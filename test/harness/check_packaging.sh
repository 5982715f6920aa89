#!/usr/bin/env bash
# Packaging checks that need no server: META.json is valid PGXN meta (the
# required keys) and in step with the control file; the install script
# follows the extension-script safety rules.
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
assert m["version"] == sys.argv[1], f"META.json version {m['version']} != control {sys.argv[1]}"
p = m["provides"]["salesperf"]
assert p["version"] == sys.argv[1], "provides.salesperf.version out of step"
assert p["file"] == f"salesperf--{sys.argv[1]}.sql", "provides.salesperf.file out of step"
PY
then say "META.json is invalid or out of step"; fail=1; fi

script="salesperf--$version.sql"
[ -f "$script" ] || { say "$script not built"; exit 1; }
if grep -vE '^\s*--' "$script" | grep -nE 'CREATE +OR +REPLACE|(CREATE|ALTER) [A-Z ]*IF +NOT +EXISTS'; then
  say "the install script must create its objects plainly (CVE-2022-2625)"; fail=1
fi
if grep -nE "['\"][^'\"]*@extschema@" "$script"; then
  say "@extschema@ must never appear inside quotes (CVE-2023-39417)"; fail=1
fi
# Every SQL or PL/pgSQL function pins its search_path.
if ! python3 - "$script" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
bad = []
for m in re.finditer(r"CREATE FUNCTION (\S+?)\((.*?)\$\$", text, re.S):
    head = m.group(0)
    if re.search(r"LANGUAGE\s+(sql|plpgsql)", head) and "SET search_path" not in head:
        bad.append(m.group(1))
if bad:
    print("functions without SET search_path:", ", ".join(bad))
    sys.exit(1)
PY
then fail=1; fi
[ $fail -eq 0 ] && say "ok"
exit $fail
