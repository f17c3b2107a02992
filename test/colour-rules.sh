#!/usr/bin/env bash
# colour-rules.sh [TABLE] — the IKE-Troubleshooting profile's colouring, headless: tshark with the
# plugin, -C IKE-Troubleshooting --color -2, must name the rule given in TABLE (default
# test/expected/colour/rules.txt: capture, frame, rule name) for each listed frame.
# Needs IKESTATE_SO (see tshark-plugin.sh). The profile is assembled by profiles/make-zip.sh --dir, as
# for the zip, so the default rules appended below the IKE ones are tested too.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
table=${1:-$here/expected/colour/rules.txt}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$here/../profiles/make-zip.sh" --dir "$tmp/config/profiles"

fail=0 checked=0
# One tshark run per capture; then look the listed frames up in its output.
for cap in $(grep -v '^#' "$table" | cut -f1 | sort -u); do
	# -2: the capture-end verdicts (ikestate.final) need the second pass, as in the GUI.
	IKESTATE_CONFIG_DIR="$tmp/config" "$here/tshark-plugin.sh" "$here/captures/$cap" \
		-C IKE-Troubleshooting --color -2 -T fields -e frame.number -e frame.coloring_rule.name \
		> "$tmp/out" 2> "$tmp/err" || { echo "FAIL $cap: tshark failed:"; cat "$tmp/err"; fail=1; continue; }
	# A rule whose filter does not compile is only warned about and disabled: treat that as failure.
	if [ -s "$tmp/err" ]; then echo "FAIL $cap: tshark warned:"; cat "$tmp/err"; fail=1; fi
	while IFS=$'\t' read -r c frame want _; do
		[ "$c" = "$cap" ] || continue
		checked=$((checked + 1))
		got=$(awk -F'\t' -v f="$frame" '$1 == f { print $2 }' "$tmp/out")
		if [ "$got" = "$want" ]; then
			echo "ok   $cap frame $frame: $got"
		else
			echo "FAIL $cap frame $frame: expected rule '$want', got '$got'"
			fail=1
		fi
	done < <(grep -v '^#' "$table")
done
[ "$checked" -gt 0 ] || { echo "FAIL: no rows in $table"; exit 1; }
echo "$checked frames checked"
exit "$fail"
