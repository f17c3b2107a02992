#!/usr/bin/env bash
# info-column.sh CAPTURE... — the Info suffix takes two routes: one unfenced Info column gets the
# whole new text by pointer (col_set_str), anything else (here: a second Info column) the append
# (col_append_lstr). Both must show the same text, the default columns' text, with the suffix.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
status=0
one='gui.column.format:"No.","%m","Info","%i"'
two='gui.column.format:"No.","%m","Info","%i","Info2","%i"'
for cap in "$@"; do
	n=$(basename "$cap")
	a=$("$here/tshark-plugin.sh" "$cap" -T tabs -o "$one")
	b=$("$here/tshark-plugin.sh" "$cap" -T tabs -o "$two")
	suffixed=$(grep -cE $'\t.*\\[.*(MM|AM|QM|SA_INIT|AUTH|INFO|CHILD).*\\]$' <<<"$a" || true)
	if [ "$suffixed" -eq 0 ]; then
		echo "FAIL: $n: no Info suffix"; head -5 <<<"$a"; status=1
	elif ! awk -F'\t' '$2 != $3 { bad++ } END { exit bad > 0 }' <<<"$b"; then
		echo "FAIL: $n: the two Info columns differ"; awk -F'\t' '$2 != $3' <<<"$b" | head -5; status=1
	elif [ "$(cut -f1,2 <<<"$b")" != "$a" ]; then
		echo "FAIL: $n: the appended Info differs from the one set by pointer"
		diff <(echo "$a") <(cut -f1,2 <<<"$b") | head -10; status=1
	else
		echo "ok: $n: $(wc -l <<<"$a") packets, $suffixed with a suffix, same by both routes"
	fi
done
exit $status
