#!/usr/bin/env bash
# sweep.sh — every capture of test/captures and ../shared/captures, one pass and two passes,
# through stock tshark and through tshark with the ASan+UBSan build of the plugin (libasan preloaded
# by test/tshark-plugin.sh, WIRESHARK_ABORT_ON_DISSECTOR_BUG=1), both as `-T json -J "isakmp ikestate"`
# (a full tree: every printer of ours runs). A capture fails on
#   - any sanitizer report or dissector bug,
#   - an exit status other than stock tshark's,
#   - a change to what Wireshark's own dissectors say (non-interference), or
#   - an IKE message outside an ICMP error without ikestate.tunnel / ikestate.msg
# (the last two: sweep-check.py). One run per batch of captures and mode serves all four checks.
#   IKESTATE_SWEEP_BATCH=N   captures per batch (default 120: a tshark start costs more than most
#                            captures; 1: each capture alone)
# Environment: see common.sh.
set -euo pipefail
source "$(dirname "$0")/common.sh"
tmp=$(mktemp -d /tmp/ikestate-sweep.XXXXXX); trap 'rm -rf "$tmp"' EXIT
so=$(rob_san_so "$tmp")
export IKESTATE_SO=$so WIRESHARK_ABORT_ON_DISSECTOR_BUG=1
readelf -d "$so" | grep -q 'NEEDED.*libasan' || { echo "FAIL: $so is not a sanitized build"; exit 1; }
"$rob_here/../tshark-plugin.sh" - -v > /dev/null   # loads under the preload at all
check() { # CAPTURE NAME: one line per mode, "OK NAME ..." or "FAIL NAME ..." with the reason
	local cap=$1 name=$2 w rc stock pass try
	w=$(mktemp -d "$tmp/c.XXXXXX")
	for pass in 1 2; do
		local extra=(-T json -J "isakmp ikestate"); [ $pass = 2 ] && extra+=(-2)
		stock=0; rob_stock -r "$cap" "${extra[@]}" > "$w/stock" 2> /dev/null || stock=$?
		for try in 1 2; do
			rc=0
			"$rob_here/../tshark-plugin.sh" "$cap" "${extra[@]}" > "$w/plugin" 2> "$w/err" || rc=$?
			# A sanitizer report is final; an odd exit status alone gets a second try (seen once
			# under heavy load: exit 2, no message, not reproducible) and is reported either way.
			grep -qE "$rob_finding_re" "$w/err" && break
			[ $rc = "$stock" ] && break
			echo "RETRY $name (pass $pass): exit $rc, stock tshark $stock: $(head -c 300 "$w/err")"
		done
		if [ $rc != "$stock" ] || grep -qE "$rob_finding_re" "$w/err"; then
			echo "FAIL $name (pass $pass): exit $rc, stock tshark $stock"
			grep -E -A12 "$rob_finding_re" "$w/err" | head -30 | sed 's/^/    /'
			head -5 "$w/err" | sed 's/^/    stderr: /'
		elif ! python3 "$rob_here/sweep-check.py" "$w/stock" "$w/plugin" > "$w/check"; then
			echo "FAIL $name (pass $pass):"; sed 's/^/    /' "$w/check"
		else
			echo "OK $name (pass $pass)"
		fi
	done
	rm -rf "$w"
}
# batch FILE: the captures listed in FILE appended into one (mergecap -a) and checked together: a
# tshark start costs more than dissecting a small capture. A batch that fails, or that mergecap
# cannot make (a capture cut short), is checked capture by capture, which names the culprit.
batch() {
	local list=$1 caps=() out
	mapfile -t caps < "$list"
	if mergecap -a -F pcapng -w "$list.pcapng" "${caps[@]}" 2> /dev/null; then
		out=$(check "$list.pcapng" "batch $(basename "$list") (${#caps[@]} captures)")
		rm -f "$list.pcapng"
		if ! grep -q '^FAIL' <<< "$out"; then echo "$out"; echo "DONE $list"; return; fi
		grep -v '^OK' <<< "$out"
	fi
	local cap name
	for cap in "${caps[@]}"; do
		name=${cap#"$rob_src/"}; name=${name#"$rob_shared/"}
		check "$cap" "$name"
	done
	echo "DONE $list"
}
export -f check batch rob_stock
export tmp rob_src rob_shared rob_here rob_finding_re
rob_corpus | tr '\0' '\n' > "$tmp/list"
n=$(wc -l < "$tmp/list")
size=${IKESTATE_SWEEP_BATCH:-120}
(cd "$tmp" && split -l "$size" -d -a 3 list b.)
find "$tmp" -maxdepth 1 -name 'b.[0-9][0-9][0-9]' -print0 | sort -z |
	xargs -0 -P "$(nproc)" -I{} bash -c 'batch "$1"' _ {} > "$tmp/log" || true
batches=$(find "$tmp" -maxdepth 1 -name 'b.[0-9][0-9][0-9]' | wc -l)
ok=$(grep -c '^OK' "$tmp/log" || true)
fail=$(grep -c '^FAIL' "$tmp/log" || true)
done=$(grep -c '^DONE' "$tmp/log" || true)
grep -v '^OK\|^DONE' "$tmp/log" || true
echo "sweep: $n captures in $batches batches x 2 modes, $ok clean, $fail failures ($so)"
# Every batch finished (a worker that died counts as a failure).
[ "$n" -gt 0 ] && [ "$fail" = 0 ] && [ "$ok" -gt 0 ] && [ "$done" = "$batches" ]
