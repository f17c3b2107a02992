# shellcheck shell=bash disable=SC2034  # variables are used by the scripts that source this
# common.sh — sourced by the robustness scripts (not run on its own).
#   IKESTATE_SAN_SO=PATH  a sanitized ikestate.so (cmake -DIKESTATE_SANITIZE=ON)
#   IKESTATE_SAN_BUILD=DIR  or the build folder of one (CTest's robustness.san-build makes it);
#                         without either, one is built from this checkout into a temporary folder
#   IKESTATE_SHARED=DIR   the shared captures (default ../shared next to the checkout)
rob_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
rob_src=$(cd "$rob_here/../.." && pwd)
rob_shared=${IKESTATE_SHARED:-$(cd "$rob_src/.." && pwd)/shared}

# rob_san_so TMPDIR: print the path of a sanitized plugin, building one under TMPDIR if needed.
rob_san_so() {
	if [ -n "${IKESTATE_SAN_SO:-}" ]; then
		echo "$IKESTATE_SAN_SO"
		return
	fi
	if [ -n "${IKESTATE_SAN_BUILD:-}" ] && [ -d "$IKESTATE_SAN_BUILD/plugins" ]; then
		find "$IKESTATE_SAN_BUILD/plugins" -name ikestate.so
		return
	fi
	cmake -S "$rob_src" -B "$1/san-build" -DIKESTATE_SANITIZE=ON -DIKESTATE_WERROR=OFF -DBUILD_TESTING=OFF > "$1/san-build.log" 2>&1 &&
		cmake --build "$1/san-build" --target ikestate -j"$(nproc)" >> "$1/san-build.log" 2>&1 ||
		{ cat "$1/san-build.log" >&2; return 1; }
	find "$1/san-build/plugins" -name ikestate.so
}

# rob_corpus: every capture of test/captures and ../shared/captures, NUL-separated, read in place.
rob_corpus() {
	find "$rob_src/test/captures" -maxdepth 1 -type f \( -name '*.pcap' -o -name '*.pcapng' \) -print0 | sort -z
	[ -d "$rob_shared/captures" ] &&
		find "$rob_shared/captures" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \) -print0 | sort -z
	return 0
}

# rob_stock ARGS...: stock tshark (as root no personal or WIRESHARK_PLUGIN_DIR plugin loads; as a
# normal user an empty plugin folder keeps ikestate out).
rob_stock() {
	local e
	e=$(mktemp -d)
	env -i PATH=/usr/bin:/bin HOME="$e" WIRESHARK_PLUGIN_DIR="$e" TZ=UTC LC_ALL=C.UTF-8 \
		${WIRESHARK_ABORT_ON_DISSECTOR_BUG:+WIRESHARK_ABORT_ON_DISSECTOR_BUG=1} tshark "$@"
	local rc=$?
	rm -rf "$e"
	return $rc
}

# What a sanitizer or Wireshark prints when it catches something.
rob_finding_re='ERROR: AddressSanitizer|runtime error:|SUMMARY: (Address|UndefinedBehavior)Sanitizer|[Dd]issector bug|assertion|Assertion|AddressSanitizer:DEADLYSIGNAL'
