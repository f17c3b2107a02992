#!/usr/bin/env bash
# run-all.sh — the whole test suite, from a fresh Debian 12 machine: installs what is missing
# (as root), builds with warnings as errors, runs CTest, then the live lab (real IKE daemons).
#   IKESTATE_BUILD=DIR   build folder (default build-test)
#   IKESTATE_NO_LAB=1    skip the lab (it needs root and network namespaces)
#   IKESTATE_NO_SLOW=1   skip the slow robustness tests (ctest -L slow)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${IKESTATE_BUILD:-build-test}
pkgs=(cmake gcc make pkg-config tshark wireshark-dev libwireshark-dev libglib2.0-dev libpcap-dev python3 util-linux
      dpkg-dev lintian cppcheck perl git   # dpkg-dev, lintian: the Debian package (package.deb); cppcheck, perl, git: wireshark.checks
      wireshark-qt xvfb xdotool imagemagick fonts-dejavu-core)   # the GUI tests (test/gui, ctest -L gui)
# Each stage's wall time, printed at the end (also when a stage fails).
stages=()
t_stage=$SECONDS
stage_done() { stages+=("$(printf '%-28s %5d s' "$1" $((SECONDS - t_stage)))"); t_stage=$SECONDS; }
report() {
	[ ${#stages[@]} -eq 0 ] && return
	echo "== stage times (wall)"; printf '   %s\n' "${stages[@]}"
	# CPU of the children waited for (user + system), from the kernel: `times` in a pipe would
	# report its own subshell's.
	local cpu
	cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%d", ($14 + $15) / hz }' "/proc/$$/stat")
	echo "   total $SECONDS s wall, $cpu s CPU of everything run (user + system)"
}
trap report EXIT
# The lab, the matrix and libFuzzer install what they need themselves, beside CTest: the same
# helper keeps their apt-get runs apart.
test/ensure-packages.sh "${pkgs[@]}"
stage_done "packages"
cmake -S . -B "$build" -DIKESTATE_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build" -j"$(nproc)"
stage_done "build"
# The live lab mostly waits on the daemons' timers: it runs beside CTest, not after it.
lab_pid=''
if [ "${IKESTATE_NO_LAB:-0}" != 1 ]; then
	lab_log=$(mktemp /tmp/ikestate-lab.XXXXXX)
	( t0=$SECONDS rc=0
	  IKESTATE_SO="$PWD/$build/plugins/$(cd "$build/plugins" && ls)/epan/ikestate.so" bash test/lab/check-lab --quick || rc=$?
	  echo "live lab: exit $rc in $((SECONDS - t0)) s"; exit $rc ) > "$lab_log" 2>&1 &
	lab_pid=$!
fi
# Robustness (test/robustness, issue #7), labelled "slow": the capture sweep (sanitizers,
# non-interference, labels), mutation and libFuzzer fuzzing, cookie flood, the Wireshark 4.4/4.6
# matrix. One CTest run for everything, so short tests fill the cores while long ones run; the long
# ones have a COST and start first. IKESTATE_NO_SLOW=1 skips them.
# One test more than cores: the GUI tests and the lab beside CTest spend much of their time waiting.
ctest_args=(--output-on-failure -j"$(( $(nproc) + 1 ))")
[ "${IKESTATE_NO_SLOW:-0}" != 1 ] || ctest_args+=(-LE slow)
ctest_rc=0
(cd "$build" && ctest "${ctest_args[@]}") || ctest_rc=$?
stage_done "ctest$([ "${IKESTATE_NO_SLOW:-0}" = 1 ] && echo ' (fast, -LE slow)')"
lab_rc=0
if [ -n "$lab_pid" ]; then
	wait "$lab_pid" || lab_rc=$?
	echo "== live lab (check-lab --quick), run beside CTest:"; cat "$lab_log"; rm -f "$lab_log"
	stage_done "live lab (rest after ctest)"
fi
[ $ctest_rc = 0 ] && [ $lab_rc = 0 ]
