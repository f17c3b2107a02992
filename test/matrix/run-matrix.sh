#!/usr/bin/env bash
# run-matrix.sh [SUITE...] — build with -Werror and run the CTest suite against the Wireshark of
# other Debian suites (default: trixie = 4.4, sid = 4.6) in debootstrap minbase chroots.
#   IKESTATE_CHROOTS=DIR   where chroots are kept and reused (default /var/cache/ikestate-chroots)
#   IKESTATE_SHARED=DIR    the shared captures folder (default ../shared)
#   IKESTATE_MATRIX_CTEST  ctest arguments (default: -LE slow and -E MATRIX_SKIP below; when set,
#                          every target is built)
# What a version can change is how Wireshark dissects, decrypts and calls the plugin: each version
# builds with -Werror and runs the quick suite, the golden tests on their two-pass labels only
# (IKESTATE_GOLDEN_TWO_PASS_ONLY=1; single pass and filters agreeing is checked on the host).
#   IKESTATE_MATRIX_SERIAL=1  one suite after the other (default: all suites in parallel)
# Needs root (debootstrap, chroot, mount). Any failure on any suite fails the script; all suites
# are tried first so one report shows every version.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
shared=${IKESTATE_SHARED:-$(cd "$src/.." && pwd)/shared}
base=${IKESTATE_CHROOTS:-/var/cache/ikestate-chroots}
suites=("$@"); [ ${#suites[@]} -gt 0 ] || suites=(trixie sid)
[ "$(id -u)" = 0 ] || { echo "run-matrix.sh: needs root (debootstrap, chroot, mount)" >&2; exit 1; }

command -v debootstrap > /dev/null || "$src/test/ensure-packages.sh" debootstrap
# The host's own mirror: CI can reach nothing else.
mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/*.sources 2> /dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '$1=="deb"{for(i=2;i<=NF;i++) if($i ~ /^https?:/){print $i; exit}}' /etc/apt/sources.list)
pkgs="tshark libwireshark-dev wireshark-dev libglib2.0-dev cmake gcc libc6-dev make pkg-config libpcap-dev python3 util-linux"

# Not run per version: the slow tests; those about the host's GUI, package and source checks; and
# those whose subject no Wireshark version changes: the layering of our objects, ikegen's output,
# summary.consistency (our tap against our fields on every capture; the summary.* tests still
# run the taps on each version, the goldens the labels), and the core's verdicts on merged or
# keyed lab captures (diagnosis.*) and on the Vendor IDs of third-party ones (peer-impl.shared):
# what a version can change there is the bytes the core is given, which the goldens check on
# every capture, keyed ones included. (Shown: with the decrypted IKEv1 or IKEv2 payloads not
# handed to the core on 4.4 and later, this matrix fails in the keyed goldens.) Nor the unit tests
# of the core, which includes no Wireshark header: only the plugin is built (the core with it, so
# each suite's compiler still checks it with warnings as errors). Nor memory.exchange-expiry: it
# needs ikegen, and what it checks is the core's forgetting (the preference is registered with the
# same call on every version).
MATRIX_SKIP='^(unit\.|gui\.|package\.|wireshark\.|architecture\.|ikegen\.|summary\.consistency$|diagnosis\.|peer-impl\.|memory\.)'
mounts=()
cleanup() {
	local i
	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[i]}" 2> /dev/null || true; done
	mounts=()
}
trap cleanup EXIT INT TERM

prepare() { # SUITE DIR: a chroot with the build dependencies, made once and reused
	local suite=$1 dir=$2
	[ -e "$dir/.ikestate-ready" ] && return 0
	rm -rf "$dir"   # a half-made chroot from an interrupted run
	mkdir -p "$base"
	# debootstrap 1.0.128 has no script for forky; sid's works for any newer suite.
	debootstrap --variant=minbase "$suite" "$dir" "$mirror" /usr/share/debootstrap/scripts/sid > "$dir.log" 2>&1 ||
		{ tail -20 "$dir.log"; return 1; }
	# The mirror is frozen: sid's Release is past its Valid-Until.
	echo 'Acquire::Check-Valid-Until "false";' > "$dir/etc/apt/apt.conf.d/99no-check-valid-until"
	chroot "$dir" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive sh -c \
		"apt-get update -qq && apt-get install -y -qq --no-install-recommends $pkgs && apt-get clean" >> "$dir.log" 2>&1 ||
		{ tail -20 "$dir.log"; return 1; }
	touch "$dir/.ikestate-ready"
}

run_suite() { # SUITE
	local suite=$1 dir=$base/$1 t0=$SECONDS
	prepare "$suite" "$dir" || { echo "[$suite] FAIL: could not make the chroot"; return 1; }
	# A copy of the checkout (builds write into it), ../shared read-only where the tests expect it.
	rm -rf "$dir/src"; mkdir -p "$dir/src/ikestate" "$dir/src/shared" "$dir/proc"
	tar -C "$src" --exclude=./.git --exclude='./build*' -cf - . | tar -C "$dir/src/ikestate" -xf -
	mount -t proc proc "$dir/proc"; mounts+=("$dir/proc")
	if [ -d "$shared" ]; then
		mount --bind "$shared" "$dir/src/shared"; mounts+=("$dir/src/shared")
		mount -o remount,bind,ro "$dir/src/shared"
	fi
	local ver rc=0 targets='--target ikestate'   # what the default tests run; all for other ones
	[ -z "${IKESTATE_MATRIX_CTEST:-}" ] || targets=''
	ver=$(chroot "$dir" dpkg-query -W -f='${Version}' libwireshark-dev)
	echo "[$suite] Wireshark $ver"
	chroot "$dir" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 IKESTATE_GOLDEN_TWO_PASS_ONLY=1 sh -c "
		cd /src/ikestate &&
		cmake -S . -B /src/build -DIKESTATE_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo > /src/build.log 2>&1 &&
		cmake --build /src/build -j$(nproc) $targets >> /src/build.log 2>&1 || { cat /src/build.log; exit 2; }
		cd /src/build && ctest --output-on-failure -j$(nproc) ${IKESTATE_MATRIX_CTEST:--LE slow -E '$MATRIX_SKIP'}" || rc=$?
	cleanup
	echo "[$suite] $([ $rc = 0 ] && echo PASS || echo "FAIL (rc $rc)") in $((SECONDS - t0)) s"
	return $rc
}

fail=0
if [ "${IKESTATE_MATRIX_SERIAL:-0}" = 1 ] || [ ${#suites[@]} = 1 ]; then
	for s in "${suites[@]}"; do run_suite "$s" || fail=1; done
	exit $fail
fi
# In parallel: a suite alone leaves a core idle while it configures, builds and runs its slowest tests.
logs=$(mktemp -d /tmp/ikestate-matrix.XXXXXX)
pids=()
for s in "${suites[@]}"; do
	( trap cleanup EXIT INT TERM; run_suite "$s" ) > "$logs/$s.log" 2>&1 &
	pids+=($!)
done
# Stopped (ctest timeout, ^C): stop the suites too; each unmounts what it mounted.
trap 'kill "${pids[@]}" 2> /dev/null; wait; rm -rf "$logs"' INT TERM
for i in "${!suites[@]}"; do
	wait "${pids[i]}" || fail=1
	cat "$logs/${suites[i]}.log"
done
rm -rf "$logs"
exit $fail
