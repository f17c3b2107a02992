#!/usr/bin/env bash
# exchange-expiry.sh IKEGEN — forgetting quiet exchanges (ikestate.exchange_expiry) changes no label,
# verdict or summary row on a capture whose peers resend within the expiry, and the preference
# reaches the core: a 400-s mix of interleaved negotiations (ikegen --mix, with resends, stalls and
# refusals), two passes with the expiry off (0), at 60 s (a sweep every 30 s of capture time) and at
# 1 s (shorter than its resend gaps: resends must then change, or the preference is not applied).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ikegen=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$ikegen" --mix 20000 --ike-percent 100 --seed 3 "$tmp/mix.pcap" > /dev/null
chmod -R a+rX "$tmp"
fields=(-T fields -E occurrence=a)
for f in frame.number ikestate.tunnel ikestate.attempt ikestate.msg ikestate.role ikestate.state ikestate.qm_state \
	ikestate.retransmission ikestate.retransmission_of ikestate.response_to ikestate.response_in \
	ikestate.stalled ikestate.failed ikestate.final ikestate.hint ikestate.pattern _ws.expert.message; do
	fields+=(-e "$f")
done
run() { # expiry -> labels, then the tunnel summary
	"$here/tshark-plugin.sh" "$tmp/mix.pcap" -2 -o "ikestate.exchange_expiry:$1" "${fields[@]}" -z ikestate,tunnels,csv
}
run 0 > "$tmp/off"
run 60 > "$tmp/60"
run 1 > "$tmp/1"
resends=$(awk -F'\t' '$8 != ""' "$tmp/off" | wc -l)
[ "$resends" -gt 100 ] || { echo "FAIL: the mix has $resends resends: nothing to check"; exit 1; }
status=0
if ! diff -q "$tmp/off" "$tmp/60" > /dev/null; then
	echo "FAIL: forgetting exchanges quiet for 60 s changed labels or the summary:"
	diff "$tmp/off" "$tmp/60" | head -20
	status=1
fi
if diff -q "$tmp/off" "$tmp/1" > /dev/null; then
	echo "FAIL: a 1-s expiry changed nothing: the preference does not reach the core"
	status=1
fi
[ $status = 0 ] && echo "ok: $(wc -l < "$tmp/off") rows, $resends resends: the same with a 60-s expiry; a 1-s one changes them"
exit $status
