#!/usr/bin/env bash
# golden.sh CAPTURE EXPECTED [KEYTABLE] — the plugin's labels on CAPTURE, checked three ways
# (KEYTABLE: a Wireshark ikev1_decryption_table / ikev2_decryption_table file, so the decrypted path
# is what is checked):
#   1. two passes (-2) must print exactly EXPECTED (IKESTATE_UPDATE=1 rewrites it: review the diff);
#   2. a single pass filtered on our protocol (-Y ikestate) must print exactly the frames that two
#      passes label, with the same labels, except what needs the second pass: response_in (like
#      dns.response_in), the capture-end verdicts (rows with ikestate.final) and the one-way flag of
#      ESP packets. So a display filter selects the labelled frames in a single pass (in two passes
#      the filter and the printed fields read the same tree: check 1 covers it).
# IKESTATE_GOLDEN_TWO_PASS_ONLY=1: check 1 only (the Wireshark version matrix: the labels are what
# may differ between versions; how passes and filters agree is checked on the host's version).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cap=$1 expected=$2 keys=${3:-}
[ -f "$cap" ] || { echo "SKIP: $cap not present"; exit 77; }
fields=(frame.number ikestate.tunnel ikestate.attempt ikestate.msg ikestate.role ikestate.state
	ikestate.ios_state ikestate.qm_state ikestate.retransmission ikestate.retransmission_of
	ikestate.response_to ikestate.response_in ikestate.elapsed ikestate.setup_time ikestate.stalled
	ikestate.failed ikestate.deleted ikestate.esp.one_way ikestate.final _ws.expert.message)
# An expected file names its own columns in its header (the remote-access ones add rounds, EAP and
# configuration); a new one gets the default columns plus IKESTATE_GOLDEN_EXTRA.
if [ -f "$expected" ]; then
	IFS=$'\t' read -r -a fields < "$expected"
else
	read -r -a extra <<<"${IKESTATE_GOLDEN_EXTRA:-}"
	fields+=("${extra[@]}")
fi
args=(-T fields -E header=y -E separator=/t -E occurrence=a -E 'aggregator=|')
for f in "${fields[@]}"; do args+=(-e "$f"); done
if [ -n "$keys" ]; then
	uat=$(basename "$keys" .tmpl); uat=${uat##*.}   # NAME.ikev2_decryption_table, or Wireshark's .tmpl
	while IFS= read -r row; do args+=(-o "uat:$uat:$row"); done < <(grep -v '^#' "$keys")
fi

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# What differs between Wireshark versions without being ours is left out: other dissectors'
# expert messages (only ikestate's are kept), and how a boolean prints (1 on 4.0, True on 4.4+).
ours='^(Retransmission [0-9]|Capture started|Unexpected |Phase [12] |IKE SA established|Child SA created|Stalled in |Failed \(|New phase 1|IKE SA deleted|ESP one way)'
normalise() {
	awk -F'\t' -v OFS='\t' -v ours="$ours" 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; print; next }
		{ split("ikestate.final ikestate.deleted ikestate.esp.one_way", b, " ")
		  for (k in b) { f = col[b[k]]; if ($f == "True") $f = 1; if ($f == "False") $f = 0 }
		  e = col["_ws.expert.message"]; n = split($e, m, "|"); $e = ""
		  for (i = 1; i <= n; i++) if (m[i] ~ ours) $e = $e ($e == "" ? "" : "|") m[i]
		  print }'
}
"$here/tshark-plugin.sh" "$cap" -2 "${args[@]}" 2> "$tmp/err2" | normalise > "$tmp/two"
only_two=${IKESTATE_GOLDEN_TWO_PASS_ONLY:-0}
if [ "$only_two" != 1 ]; then
	"$here/tshark-plugin.sh" "$cap" -Y ikestate "${args[@]}" 2> "$tmp/err1" | normalise > "$tmp/one"
fi

if [ "${IKESTATE_UPDATE:-0}" = 1 ]; then
	cp "$tmp/two" "$expected"
	echo "updated $expected"
fi
status=0
if ! diff -u "$expected" "$tmp/two"; then
	echo "FAIL: two-pass labels differ from $expected" >&2; status=1
fi
if [ "$only_two" != 1 ]; then
	# Blank what only the second pass can know, in both outputs, then compare; of the two-pass
	# output only the frames labelled (the single pass is filtered on ikestate).
	one_pass_view() {
		awk -F'\t' -v OFS='\t' '
			# the columns by name, from the two-pass header (a column not there: "")
			NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i
				  ri = col["ikestate.response_in"]; st = col["ikestate.stalled"]; fi = col["ikestate.final"]
				  ex = col["_ws.expert.message"]; de = col["ikestate.deleted"]; ow = col["ikestate.esp.one_way"]
				  sa = col["ikestate.state"]; fa = col["ikestate.failed"]; ms = col["ikestate.msg"]
				  su = col["ikestate.setup_time"]; hi = col["ikestate.hint"]; pa = col["ikestate.pattern"] }
			# keyed by frame number ($1): the filtered single pass has fewer rows
			NR == FNR { if ($fi != "") final[$1] = 1; if ($fi != "" && $de != "") del[$1] = 1
				    # an IKE_AUTH answer that looked final until the next round (EAP) is relabelled
				    if ($ms == "AUTH_RESP" && $sa == "IN-NEG") relabel[$1] = 1
				    # a reflection group is known from its third answer on
				    if (pa != "" && $pa != "") group[$1] = 1; next }
			FNR > 1 && $0 ~ /^[^\t]*\t*$/ { next }   # frame.number only: not labelled
			{ $ri = ""; $ow = ""; if (final[$1]) { $st = ""; $fi = ""; $ex = ""; $de = ""; $fa = ""; if (hi != "") $hi = "" }
			  if (del[$1]) $sa = ""  # an inferred delete relabels the state at capture end
			  if (relabel[$1]) { $sa = ""; $su = ""; $ex = "" }
			  if (group[$1]) { $pa = ""; $ex = "" }
			  print }' "$tmp/two" "$1"
	}
	if ! diff -u <(one_pass_view "$tmp/two") <(one_pass_view "$tmp/one"); then
		echo "FAIL: single pass (-Y ikestate) and two passes disagree" >&2; status=1
	fi
fi
[ -s "$tmp/err2" ] && { echo "tshark stderr:" >&2; cat "$tmp/err2" >&2; }
exit $status
