#!/usr/bin/env bash
# two-points.sh INSIDE OUTSIDE — one negotiation captured at two points (both sides of a NAT),
# merged with mergecap: interface 0 is INSIDE, interface 1 OUTSIDE (issue #20). Cases: as captured,
# OUTSIDE's clock shifted by +0.4 s and -0.4 s (editcap -t), and one message dropped at one point.
# Each case checks, from stock tshark's view of the merged file, not the plugin's:
#   1. every ISAKMP frame keeps the msg / role / state / retransmission labels it has in the two-pass
#      run of its own file (frames are matched back by interface and their order in it);
#   2. of two frames with the same ISAKMP bytes (UDP payload, the non-ESP marker left out), the one
#      later in the merged file carries ikestate.copy_of = the earlier one, the earlier one none;
#   3. dropped cases: the remaining sighting of the dropped message names the point that lost it in
#      ikestate.missing_at, and no other frame names a point there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
inside=$1 outside=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
labels=(ikestate.msg ikestate.role ikestate.state ikestate.retransmission)

# Labels of each ISAKMP frame of a file, one line each: "<n-th frame of the file> <labels>".
own_labels() {
	local args=(-2 -T fields -E separator=/t -E occurrence=a -E 'aggregator=|' -e frame.number -e isakmp.ispi)
	for f in "${labels[@]}"; do args+=(-e "$f"); done
	"$here/tshark-plugin.sh" "$1" "${args[@]}" | awk -F'\t' -v OFS='\t' '$2 != "" { $2 = ""; print }'
}
own_labels "$inside" > "$tmp/own.0"
own_labels "$outside" > "$tmp/own.1"
[ -s "$tmp/own.0" ] && [ -s "$tmp/own.1" ] || { echo "FAIL: no labelled ISAKMP frames in the inputs"; exit 1; }

status=0
# check NAME IN0 IN1 DROPPED_POINT DROPPED_FRAME: IN0 / IN1 are the inputs (edited copies); the
# dropped frame's number is in the original file of that point (0 = nothing dropped).
check() {
	local name=$1 in0=$2 in1=$3 dpoint=$4 dframe=$5
	mergecap -w "$tmp/$name.pcapng" "$in0" "$in1"
	local args=(-2 -T fields -E separator=/t -E occurrence=a -E 'aggregator=|' -e frame.number
		-e frame.interface_id -e isakmp.ispi -e udp.dstport -e udp.srcport -e udp.payload)
	for f in "${labels[@]}"; do args+=(-e "$f"); done
	args+=(-e ikestate.copy_of -e ikestate.missing_at)
	if ! "$here/tshark-plugin.sh" "$tmp/$name.pcapng" "${args[@]}" > "$tmp/$name.out" 2> "$tmp/$name.err"; then
		echo "FAIL [$name]: tshark: $(head -3 "$tmp/$name.err")"; status=1; return
	fi
	# The Info column as shown (4.4 and later leave post-dissector text out of the _ws.col fields).
	"$here/tshark-plugin.sh" "$tmp/$name.pcapng" -2 -T tabs -o 'gui.column.format:"No.","%m","Info","%i"' |
		sed 's/^ *//' > "$tmp/$name.info"
	local out
	out=$(awk -F'\t' -v name="$name" -v dpoint="$dpoint" -v dframe="$dframe" -v nl="${#labels[@]}" '
		FILENAME ~ /own\.[01]$/ { p = substr(FILENAME, length(FILENAME)); lab[p, $1] = $0; next }
		FILENAME ~ /\.info$/ { info[$1] = $2; next }
		$3 == "" { pos[$2]++; next }   # not ISAKMP (NAT-T keepalive): counts in the order, no label
		{ p = $2; n = ++pos[p]
		  # frame number in the point file before the drop
		  if (dframe && p == dpoint && n >= dframe) n++
		  want = lab[p, n]; sub(/^[^\t]*\t[^\t]*\t/, "", want)
		  got = ""; for (i = 7; i < 7 + nl; i++) got = got (i > 7 ? "\t" : "") $i
		  if (want != got) { print "FAIL [" name "]: frame " $1 " (point " p " frame " n ") labelled \"" got "\", in its own capture \"" want "\"" }
		  bytes = $6; if ($4 == 4500 || $5 == 4500) sub(/^00000000/, "", bytes)
		  copy = $(7 + nl); missing = $(8 + nl)
		  if ((copy != "") != (info[$1] ~ /\[Copy, /)) print "FAIL [" name "]: frame " $1 " copy_of \"" copy "\" but Info \"" info[$1] "\""
		  if (bytes in first) { if (copy != first[bytes]) print "FAIL [" name "]: frame " $1 " repeats frame " first[bytes] " but ikestate.copy_of is \"" copy "\"" }
		  else { first[bytes] = $1; if (copy != "") print "FAIL [" name "]: frame " $1 " is the first sighting but ikestate.copy_of is " copy }
		  if (missing != "") miss[$1] = missing
		  pt[$1] = p; nth[$1] = n }
		END {
		  found = 0
		  for (f in miss) {
		    if (dframe && pt[f] != dpoint && nth[f] == dframe && miss[f] == dpoint) found = 1
		    else print "FAIL [" name "]: frame " f " has ikestate.missing_at " miss[f]
		  }
		  if (dframe && !found) print "FAIL [" name "]: the sighting of the message dropped at point " dpoint " does not name it in ikestate.missing_at"
		}' "$tmp/own.0" "$tmp/own.1" "$tmp/$name.info" "$tmp/$name.out")
	if [ -n "$out" ]; then echo "$out"; status=1; else echo "ok [$name]"; fi
}

check merged "$inside" "$outside" 0 0
editcap -t 0.4 "$outside" "$tmp/later.pcapng"
check outside-later "$inside" "$tmp/later.pcapng" 0 0
editcap -t -0.4 "$outside" "$tmp/earlier.pcapng"
check outside-earlier "$inside" "$tmp/earlier.pcapng" 0 0
# Main mode's MM3 lost inside (seen outside only), MM4 lost outside (seen inside only). The frame
# numbers are the messages' places in the lab capture: a change there fails case 1 loudly.
editcap "$inside" "$tmp/no-mm3.pcapng" 3
check mm3-dropped-inside "$tmp/no-mm3.pcapng" "$outside" 0 3
editcap "$outside" "$tmp/no-mm4.pcapng" 4
check mm4-dropped-outside "$inside" "$tmp/no-mm4.pcapng" 1 4
exit $status
