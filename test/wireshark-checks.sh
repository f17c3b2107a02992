#!/usr/bin/env bash
# wireshark-checks.sh — Wireshark's own pre-commit / check_dissector checkers on plugin/ must report
# no error (../shared/tools/wireshark-checks/run.sh; skipped when ../shared is absent).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
run=$here/../../shared/tools/wireshark-checks/run.sh
[ -x "$run" ] || { echo "SKIP: $run not present"; exit 77; }
for tool in perl python3 git cppcheck; do
	command -v "$tool" > /dev/null || { echo "SKIP: $tool not installed (test/run-all.sh installs it)"; exit 77; }
done
cd "$here/.."
# The whitespace check reads `git diff`: a copy without .git (the matrix chroots) cannot run it.
git rev-parse --git-dir > /dev/null 2>&1 || { echo "SKIP: not a git checkout"; exit 77; }
"$run" plugin ikestate
