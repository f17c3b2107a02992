#!/usr/bin/env bash
# decrypted.sh CAPTURE EXPECTED UAT_ROW PROOF_FIELD PROOF_VALUE — with the IKEv1 key given to Wireshark (payloads decrypted,
# and Wireshark marking the retransmitted copy malformed because its IV has moved on), the labels
# must be the ones computed from header facts alone (EXPECTED, the no-key golden output).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cap=$1 expected=$2 row=$3 proof_field=$4 proof_value=$5
[ -f "$cap" ] || { echo "SKIP: $cap not present"; exit 77; }
cols=(frame.number ikestate.tunnel ikestate.msg ikestate.role ikestate.state ikestate.ios_state
	ikestate.qm_state ikestate.retransmission ikestate.retransmission_of)
args=(-2 -o "uat:ikev1_decryption_table:$row" -T fields -E header=y -E separator=/t -E occurrence=a -E 'aggregator=|')
for f in "${cols[@]}" "$proof_field"; do args+=(-e "$f"); done
out=$("$here/tshark-plugin.sh" "$cap" "${args[@]}")
n=${#cols[@]}
if ! cut -f$((n + 1)) <<< "$out" | grep -q "$proof_value"; then
	echo "FAIL: $proof_field never shows $proof_value: the key did not decrypt"; exit 1
fi
# The same columns, by name, from the expected (no-key) output.
pick=$(head -1 "$expected" | tr '\t' '\n' | grep -nxF -f <(printf '%s\n' "${cols[@]}") | cut -d: -f1 | paste -sd,)
diff -u <(cut -f"$pick" "$expected") <(cut -f1-$n <<< "$out")
echo "ok: labels with decryption equal labels from header facts"
