#!/usr/bin/env bash
# architecture.sh BUILD_DIR — the layers of docs/architecture.md only point down.
#   1. Each object file of the plugin may use only symbols defined in files of a lower rank (from
#      `nm`); a file not in the table below fails the test, so a new file must be placed.
#   2. No core file (plugin/ike_*) includes a Wireshark header: the core builds, tests and fuzzes
#      alone.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$1
plugin=$here/../plugin
# rank: file (without .c). Lower ranks are lower layers.
ranks='
0 ike_names
0 ike_parse
0 ike_registry
0 ike_hints
0 ike_frames
1 ike_v1
1 ike_v2
2 ike_store
3 ike_esp
4 ike_fsm
5 ike_offers
6 ike_diag
7 ike_final
8 ike_core
9 ikestate-addr
10 ikestate-hooks
10 ikestate-render
11 packet-ikestate
12 ikestate-summary
12 ikestate-stats
13 ikestate-plugin
'
declare -A rank
while read -r r f; do [ -n "$f" ] && rank[$f]=$r; done <<< "$ranks"

objs=$(find "$build/CMakeFiles/ike_fsm.dir" "$build/CMakeFiles/ikestate.dir" -name '*.c.o' | sort)
[ -n "$objs" ] || { echo "no object files under $build"; exit 1; }
declare -A owner
fail=0
for o in $objs; do
	f=$(basename "$o" .c.o)
	[ -n "${rank[$f]:-}" ] || { echo "FAIL: $f.c has no layer in test/architecture.sh"; fail=1; continue; }
	while read -r sym; do owner[$sym]=$f; done < <(nm --defined-only "$o" | awk '$2 ~ /^[TDBR]$/ { print $3 }')
done
for o in $objs; do
	f=$(basename "$o" .c.o)
	[ -n "${rank[$f]:-}" ] || continue
	while read -r sym; do
		g=${owner[$sym]:-}
		[ -n "$g" ] || continue # GLib, libc, Wireshark
		if [ "${rank[$g]}" -ge "${rank[$f]}" ]; then
			echo "FAIL: $f.c (layer ${rank[$f]}) uses $sym of $g.c (layer ${rank[$g]}): a layer points up or sideways"
			fail=1
		fi
	done < <(nm --undefined-only "$o" | awk '{ print $2 }')
done
if grep -nE '#include [<"](epan/|wireshark\.h|ws_compat\.h|wsutil/)' "$plugin"/ike_*.[ch]; then
	echo "FAIL: a core file (plugin/ike_*) includes a Wireshark header"
	fail=1
fi
[ $fail = 0 ] && echo "architecture: $(echo "$objs" | wc -l) object files, every use points down"
exit $fail
