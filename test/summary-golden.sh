#!/usr/bin/env bash
# summary-golden.sh EXPECTED CAPTURE... [-- Z_ARG] — `tshark -q -z ikestate,tunnels[…]` on the
# captures (merged when several) prints exactly EXPECTED (IKESTATE_UPDATE=1 rewrites it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
expected=$1; shift
caps=(); z=ikestate,tunnels
while [ $# -gt 0 ]; do
	if [ "$1" = -- ]; then z=$2; break; fi
	caps+=("$1"); shift
done
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mergecap -F pcapng -w "$tmp/in.pcapng" "${caps[@]}"
"$here/tshark-plugin.sh" "$tmp/in.pcapng" -q -z "$z" > "$tmp/out"
[ "${IKESTATE_UPDATE:-0}" = 1 ] && cp "$tmp/out" "$expected"
diff -u "$expected" "$tmp/out"
