#!/usr/bin/env bash
# field-reference.sh SO VERSION — print the display filter field reference of the built plugin SO
# (installed by the Debian package as /usr/share/doc/<package>/fields.txt), from what the plugin
# registers: `tshark -G fields` with SO loaded (through test/tshark-plugin.sh, which runs tshark as
# nobody when run as root). The README's "What it shows" explains the values.
set -euo pipefail
so=$1 version=$2
here=$(cd "$(dirname "$0")" && pwd)
fields=$(IKESTATE_SO=$so "$here/../test/tshark-plugin.sh" - -G fields 2> /dev/null | awk -F'\t' '$1 == "F" && $5 == "ikestate"')
[ -n "$fields" ] || { echo "field-reference.sh: tshark -G fields lists no ikestate field for $so" >&2; exit 1; }
ws=$(tshark -v 2> /dev/null | sed -n '1s/^TShark (Wireshark) \([0-9][0-9.]*\).*/\1/p')
cat <<HEAD
ikestate $version: display filter fields (Wireshark ${ws:-?})
Generated from \`tshark -G fields\` with the plugin loaded. Every field is a display filter
(tshark -Y, the Wireshark filter bar) and can be a column; README.md ("What it shows") explains
the values. The ikestate.analysis.* items are expert infos (Analyze > Expert Information,
tshark -z expert): filter on them, they carry no value.

HEAD
awk -F'\t' '
	BEGIN {
		t["FT_UINT32"] = "unsigned integer"; t["FT_STRING"] = "string"; t["FT_BOOLEAN"] = "boolean"
		t["FT_FRAMENUM"] = "frame number"; t["FT_RELATIVE_TIME"] = "time offset"; t["FT_NONE"] = "expert item"
	}
	{
		type = ($4 in t) ? t[$4] : $4
		printf "%s (%s)\n    %s\n", $3, type, $2
		if ($8 != "") printf "    %s\n", $8
		print ""
	}' <<< "$fields"
