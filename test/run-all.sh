#!/usr/bin/env bash
# run-all.sh — the whole test suite, from a fresh Debian 12 machine: installs what is missing
# (as root), builds with warnings as errors, runs CTest, then the live lab (real IKE daemons).
#   IKESTATE_BUILD=DIR   build folder (default build-test)
#   IKESTATE_NO_LAB=1    skip the lab (it needs root and network namespaces)
#   IKESTATE_NO_SLOW=1   skip the slow robustness tests (ctest -L slow, ~20 min)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${IKESTATE_BUILD:-build-test}
pkgs=(cmake gcc make pkg-config tshark wireshark-dev libwireshark-dev libglib2.0-dev libpcap-dev python3 util-linux
      dpkg-dev lintian cppcheck perl git   # dpkg-dev, lintian: the Debian package (package.deb); cppcheck, perl, git: wireshark.checks
      wireshark-qt xvfb xdotool imagemagick fonts-dejavu-core)   # the GUI tests (test/gui, ctest -L gui)
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || { echo "missing packages: ${missing[*]} (run as root, or install them)"; exit 1; }
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
fi
# Each stage's wall time, printed at the end (also when a stage fails).
stages=()
t_stage=$SECONDS
stage_done() { stages+=("$(printf '%-28s %5d s' "$1" $((SECONDS - t_stage)))"); t_stage=$SECONDS; }
report() { [ ${#stages[@]} -eq 0 ] || { echo "== stage times"; printf '   %s\n' "${stages[@]}"; }; }
trap report EXIT
stage_done "packages"
cmake -S . -B "$build" -DIKESTATE_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build" -j"$(nproc)"
stage_done "build"
(cd "$build" && ctest --output-on-failure -j"$(nproc)" -LE slow)
stage_done "ctest (fast, -LE slow)"
# Robustness (test/robustness, issue #7): sanitizer sweep, mutation and libFuzzer fuzzing, non-interference,
# cookie flood, Wireshark 4.4/4.6 matrix. One at a time: each uses all cores. IKESTATE_NO_SLOW=1 skips them.
if [ "${IKESTATE_NO_SLOW:-0}" != 1 ]; then
	(cd "$build" && ctest --output-on-failure -L slow)
	stage_done "ctest (slow, -L slow)"
fi
if [ "${IKESTATE_NO_LAB:-0}" != 1 ]; then
	IKESTATE_SO="$PWD/$build/plugins/$(cd "$build/plugins" && ls)/epan/ikestate.so" bash test/lab/check-lab --quick
	stage_done "live lab (check-lab --quick)"
fi
