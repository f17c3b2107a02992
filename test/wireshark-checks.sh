#!/usr/bin/env bash
# wireshark-checks.sh — Wireshark's own pre-commit / check_dissector checkers on plugin/ must report
# no error (../shared/tools/wireshark-checks/run.sh; skipped when ../shared is absent).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
run=$here/../../shared/tools/wireshark-checks/run.sh
[ -x "$run" ] || { echo "SKIP: $run not present"; exit 77; }
cd "$here/.."
"$run" plugin ikestate
