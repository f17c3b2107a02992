#!/usr/bin/env bash
# mixed-stalled.sh CAPTURE_DIR — on one capture mixing good and failing negotiations,
# `tshark -2 -Y 'ikestate.stalled || ikestate.failed'` must list packets of every failing negotiation
# and of no good one (a refused negotiation is failed, not also stalled).
# Which negotiations fail comes from the lab scenarios (what the daemons reported), and which
# packets belong to which comes from stock tshark's cookies: neither from the plugin.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$1
good=(lab-mm-ok lab-am-ok lab-natt-outside lab-rekey lab-ls-to-ss)
bad=(lab-no-answer lab-no-daemon lab-mm-lost-msg lab-mm-psk-mismatch lab-am-psk-mismatch
	lab-qm-ts-mismatch lab-qm-proposal-mismatch lab-mm-proposal-mismatch)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cookies() { env -i PATH=/usr/bin:/bin HOME="$tmp" tshark -r "$1" -Y isakmp -T fields -e isakmp.ispi 2>/dev/null | tr ',' '\n' | sort -u; }
files=()
for n in "${good[@]}" "${bad[@]}"; do
	files+=("$dir/$n.pcapng")
	cookies "$dir/$n.pcapng" > "$tmp/$n.cookies"
done
mergecap -w "$tmp/mixed.pcapng" "${files[@]}"
"$here/tshark-plugin.sh" "$tmp/mixed.pcapng" -2 -Y 'ikestate.stalled || ikestate.failed' -T fields -e isakmp.ispi \
	| tr ',' '\n' | sort -u > "$tmp/stalled.cookies"
status=0
for n in "${good[@]}"; do
	if grep -qxFf "$tmp/$n.cookies" "$tmp/stalled.cookies"; then echo "FAIL: $n completed but is listed as stalled or failed"; status=1; fi
done
for n in "${bad[@]}"; do
	if ! grep -qxFf "$tmp/$n.cookies" "$tmp/stalled.cookies"; then echo "FAIL: $n failed but no packet of it is stalled or failed"; status=1; fi
done
[ $status = 0 ] && echo "ok: ${#bad[@]} failing negotiations listed, ${#good[@]} good ones not"
exit $status
