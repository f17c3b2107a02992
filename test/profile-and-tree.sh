#!/usr/bin/env bash
# profile-and-tree.sh CAPTURE — what the GUI opens with:
#   1. the IKE-Troubleshooting profile ships a width for every packet-list column it defines, wide
#      enough for the state names (Wireshark reads them from the profile's "recent" file);
#   2. Statistics › IKE negotiations lists its items by name, ascending (MM1 … MM6, QM1 …), as
#      `tshark -2 -z ikestate,tree` prints them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
profile=$here/../profiles/IKE-Troubleshooting
status=0
[ -f "$profile/recent" ] || { echo "FAIL: the profile has no recent file (column widths)"; exit 1; }
# 1. Column formats of the preferences ("%Cus:ikestate.state:0:R", "%i", …) and their widths. recent
# names a custom column "%Cus:FIELD", without occurrence and alignment: Wireshark 4.0 writes and
# matches only that form (it ignores a width under "%Cus:ikestate.state:0:R"; ctest gui.profile
# reads back in the real GUI which widths took effect).
formats=$(grep -o '"%[^"]*"' "$profile/preferences" | tr -d '"')
for f in $formats; do
	k=$f
	[[ $f != %Cus:* ]] || k=%Cus:$(cut -d: -f2 <<< "$f")
	w=$(awk -v f="$k," '$1 == f { getline; gsub(/[ \t,]/, ""); print; exit }' "$profile/recent")
	if [ -z "$w" ]; then
		echo "FAIL: no width for column $f (recent: $k) in profiles/IKE-Troubleshooting/recent"; status=1
	elif [[ $f == %Cus:ikestate.state* || $f == %Cus:ikestate.ios_state* || $f == %Cus:ikestate.stalled* ]] && [ "$w" -lt 110 ]; then
		echo "FAIL: column $f is $w px, too narrow for MM_WAIT_MSG2 / MM_KEY_EXCH"; status=1
	fi
done
# 2. The messages under "IKE messages", in the printed order, must be sorted.
"$here/tshark-plugin.sh" "$1" -2 -q -z ikestate,tree > /tmp/ikestate-tree.$$ || status=1
items=$(awk '/^IKE messages/ { on = 1; next } on && /^ [^ ]/ { print $1 } on && /^[^ ]/ { on = 0 }' /tmp/ikestate-tree.$$)
rm -f /tmp/ikestate-tree.$$
[ -n "$items" ] || { echo "FAIL: no IKE messages in the stats tree"; status=1; }
if [ "$items" != "$(printf '%s\n' $items | LC_ALL=C sort)" ]; then
	echo "FAIL: stats tree items not in name order:" $items; status=1
fi
[ $status = 0 ] && echo "ok: $(echo $formats | wc -w) columns with widths; tree items in order:" $items
exit $status
