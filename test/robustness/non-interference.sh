#!/usr/bin/env bash
# non-interference.sh — the plugin must not change what Wireshark's own dissectors say. On every
# capture of test/captures and ../shared/captures, one pass and two passes, `tshark -T json`
# with stock tshark (as root: no personal plugin is loaded) and with ikestate (test/tshark-plugin.sh)
# must give the same layers once the "ikestate" layer is removed. -J isakmp keeps the isakmp
# layer in full and the others as placeholders (a changed protocol stack still shows). The Info
# column, to which the plugin appends on purpose, is not part of -T json.
#   IKESTATE_SO=PATH  the plugin (any build); IKESTATE_SHARED: see common.sh
set -euo pipefail
source "$(dirname "$0")/common.sh"
: "${IKESTATE_SO:?set IKESTATE_SO to the built ikestate.so}"
export IKESTATE_SO
tmp=$(mktemp -d /tmp/ikestate-nonint.XXXXXX); trap 'rm -rf "$tmp"' EXIT
"$rob_here/../tshark-plugin.sh" - -v > /dev/null   # the plugin loads

one() { # CAPTURE: prints "DIFF name mode" lines, or nothing
	local cap=$1 name w mode
	name=${cap#"$rob_src/"}; name=${name#"$rob_shared/"}
	w=$(mktemp -d "$tmp/c.XXXXXX")
	for mode in 1 2; do
		local extra=(); [ $mode = 2 ] && extra=(-2)
		rob_stock -r "$cap" "${extra[@]}" -T json -J isakmp > "$w/stock" 2> /dev/null || true
		IKESTATE_CHECK_LOADED=0 "$rob_here/../tshark-plugin.sh" "$cap" "${extra[@]}" -T json -J isakmp \
			> "$w/plugin" 2> /dev/null || true
		if ! python3 "$rob_here/json-layers-diff.py" "$w/stock" "$w/plugin" > "$w/diff"; then
			echo "DIFF $name (mode $mode pass$([ $mode = 2 ] && echo es))"
			sed 's/^/    /' "$w/diff"
		else
			echo "SAME $name (mode $mode)"
		fi
	done
	rm -rf "$w"
}
export -f one rob_stock
export tmp rob_src rob_shared rob_here
rob_corpus > "$tmp/list"
n=$(tr -cd '\0' < "$tmp/list" | wc -c)
xargs -0 -P "$(nproc)" -I{} bash -c 'one "$1"' _ {} < "$tmp/list" > "$tmp/log" || true
grep -v '^SAME' "$tmp/log" || true
bad=$(grep -c '^DIFF' "$tmp/log" || true)
same=$(grep -c '^SAME' "$tmp/log" || true)
echo "non-interference: $n captures x 2 modes: $same identical, $bad differ"
# Every capture must have been compared in both modes (a worker that died counts as a failure).
[ "$n" -gt 0 ] && [ "$bad" = 0 ] && [ "$same" = $((2 * n)) ]
