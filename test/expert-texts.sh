#!/usr/bin/env bash
# expert-texts.sh CAPTURE... — without a protocol tree the plugin formats an expert item's text only
# when an expert tap listens (tshark -z expert, the GUI's Expert Information): the texts must be the
# same as with a tree (-Y frame builds one), and be the formatted ones, not the registered summaries.
# Every ikestate item is filed under the plugin's protocol ("IKE state"), not "Frame".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
status=0
formatted='completed \(.*\) in [0-9.]+ s|Stalled in .*: |Retransmission [0-9]+ of |Failed \([A-Z_]+\): '
for cap in "$@"; do
	n=$(basename "$cap")
	plain=$("$here/tshark-plugin.sh" "$cap" -q -z expert)
	tree=$("$here/tshark-plugin.sh" "$cap" -q -z expert -Y frame)
	if [ "$plain" != "$tree" ]; then
		echo "FAIL: $n: expert texts differ without a tree"; diff <(echo "$tree") <(echo "$plain") | head -10; status=1
	elif ! grep -qE "$formatted" <<<"$plain"; then
		echo "FAIL: $n: no formatted ikestate expert text in -z expert"; echo "$plain" | head -20; status=1
	elif grep -E "$formatted" <<<"$plain" | grep -vq ' IKE state '; then
		echo "FAIL: $n: ikestate expert items not filed under IKE state"; grep -E "$formatted" <<<"$plain" | head -5; status=1
	else
		echo "ok: $n: $(grep -cE "$formatted" <<<"$plain") formatted texts, same with a tree"
	fi
done
exit $status
