#!/usr/bin/env bash
# golden.sh CAPTURE EXPECTED [KEYTABLE] — the plugin's labels on CAPTURE, checked three ways
# (KEYTABLE: a Wireshark ikev1_decryption_table / ikev2_decryption_table file, so the decrypted path
# is what is checked):
#   1. two passes (-2) must print exactly EXPECTED (IKESTATE_UPDATE=1 rewrites it: review the diff);
#   2. a single pass must print the same labels, except what needs the second pass: response_in
#      (like dns.response_in), the capture-end verdicts (rows with ikestate.final) and the one-way
#      flag of ESP packets;
#   3. a display filter on our fields (-Y) selects the labelled frames in a single pass (in two
#      passes the filter and the printed fields read the same tree: check 1 covers it).
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
	"$here/tshark-plugin.sh" "$cap" "${args[@]}" 2> "$tmp/err1" | normalise > "$tmp/one"
	"$here/tshark-plugin.sh" "$cap" -Y 'ikestate.msg' -T fields -e frame.number > "$tmp/y1"
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
	# Blank what only the second pass can know, in both outputs, then compare.
	idx() { head -1 "$tmp/two" | tr '\t' '\n' | grep -nx "$1" | cut -d: -f1; }
	one_pass_view() {
		awk -F'\t' -v OFS='\t' -v ri="$(idx ikestate.response_in)" -v st="$(idx ikestate.stalled)" \
			-v fi="$(idx ikestate.final)" -v ex="$(idx _ws.expert.message)" -v de="$(idx ikestate.deleted)" \
			-v ow="$(idx ikestate.esp.one_way)" -v sa="$(idx ikestate.state)" -v fa="$(idx ikestate.failed)" \
			-v ms="$(idx ikestate.msg)" -v su="$(idx ikestate.setup_time)" -v hi="$(idx ikestate.hint)" -v pa="$(idx ikestate.pattern)" '
			NR == FNR { if ($fi != "") final[FNR] = 1; if ($fi != "" && $de != "") del[FNR] = 1
				    # an IKE_AUTH answer that looked final until the next round (EAP) is relabelled
				    if ($ms == "AUTH_RESP" && $sa == "IN-NEG") relabel[FNR] = 1
				    # a reflection group is known from its third answer on
				    if (pa != "" && $pa != "") group[FNR] = 1; next }
			{ $ri = ""; $ow = ""; if (final[FNR]) { $st = ""; $fi = ""; $ex = ""; $de = ""; $fa = ""; if (hi != "") $hi = "" }
			  if (del[FNR]) $sa = ""  # an inferred delete relabels the state at capture end
			  if (relabel[FNR]) { $sa = ""; $su = ""; $ex = "" }
			  if (group[FNR]) { $pa = ""; $ex = "" }
			  print }' "$tmp/two" "$1"
	}
	if ! diff -u <(one_pass_view "$tmp/two") <(one_pass_view "$tmp/one"); then
		echo "FAIL: single pass and two passes disagree" >&2; status=1
	fi
	want=$(awk -F'\t' -v m="$(idx ikestate.msg)" 'NR > 1 && $m != "" {print $1}' "$tmp/two")
	if [ "$want" != "$(cat "$tmp/y1")" ]; then
		echo "FAIL: -Y ikestate.msg selects other frames than the labelled ones" >&2; status=1
	fi
fi
[ -s "$tmp/err2" ] && { echo "tshark stderr:" >&2; cat "$tmp/err2" >&2; }
exit $status
