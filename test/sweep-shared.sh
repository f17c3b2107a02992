#!/usr/bin/env bash
# sweep-shared.sh [SHARED_DIR] — every third-party capture under ../shared/captures, with the plugin:
#   - tshark with WIRESHARK_ABORT_ON_DISSECTOR_BUG=1, one pass and two passes, exits as stock tshark does;
#   - every IKEv1 and IKEv2 message outside an ICMP error gets ikestate.tunnel and ikestate.msg.
# The captures are read in place and never copied into the project (../shared/captures/README.md).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shared=${1:-${IKESTATE_SHARED:-$here/../../shared}}
if [ ! -d "$shared/captures" ]; then
	echo "SKIP: no shared captures at $shared/captures"
	exit 77
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=0 bad=0 labelled=0
while IFS= read -r -d '' cap; do
	n=$((n + 1))
	name=${cap#"$shared"/captures/}
	# Stock tshark: as root no personal or WIRESHARK_PLUGIN_DIR plugin is loaded.
	env -i PATH=/usr/bin:/bin HOME="$tmp" tshark -r "$cap" > /dev/null 2>&1; stock=$?
	for pass in 1 2; do
		extra=(); [ $pass = 2 ] && extra=(-2)
		IKESTATE_CHECK_LOADED=0 "$here/tshark-plugin.sh" "$cap" "${extra[@]}" -T fields -E separator=/t \
			-E occurrence=a -e frame.number -e isakmp.version -e icmp.type -e icmpv6.type \
			-e ikestate.tunnel -e ikestate.msg > "$tmp/out" 2> "$tmp/err"
		rc=$?
		if [ $rc != "$stock" ] || grep -qiE 'dissector bug|assert|abort' "$tmp/err"; then
			echo "FAIL $name (pass $pass): exit $rc, stock tshark $stock"; sed 's/^/    /' "$tmp/err" | head -5
			bad=$((bad + 1))
		fi
	done
	# IKEv1 = version 0x10, IKEv2 = 0x20; a frame may hold several messages (comma-separated values).
	missing=$(awk -F'\t' '$2 ~ /0x[12]0/ && $3 == "" && $4 == "" {
		nv = split($2, v, ","); nt = split($5, t, ","); nm = split($6, m, ",");
		if (nt < nv || nm < nv) print $1 }' "$tmp/out" | head -5 | tr '\n' ' ')
	labelled=$((labelled + $(awk -F'\t' '$6 != ""' "$tmp/out" | wc -l)))
	if [ -n "$missing" ]; then
		echo "FAIL $name: IKE frames without tunnel/msg: $missing"
		bad=$((bad + 1))
	fi
done < <(find "$shared/captures" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \) -print0 | sort -z)
echo "$n captures swept, $labelled labelled frames, $bad failures"
[ $bad = 0 ]
