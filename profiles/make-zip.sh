#!/usr/bin/env bash
# make-zip.sh — assemble the IKE-Troubleshooting configuration profile.
#
#   profiles/make-zip.sh [ZIP]        importable zip (default profiles/IKE-Troubleshooting.zip), layout
#                                     IKE-Troubleshooting/{colorfilters,preferences,recent}:
#                                     Configuration Profiles → Import → from zip file
#   profiles/make-zip.sh --dir DIR    the same profile as a folder DIR/IKE-Troubleshooting (e.g. DIR =
#                                     ~/.config/wireshark/profiles, or a test's private config dir)
#
# A profile's colorfilters file replaces Wireshark's global rules instead of adding to them (checked
# with tshark 4.0: a profile holding only the IKE rules leaves a NAT keepalive uncoloured instead of
# "UDP"). So the committed file holds only the IKE rules, and the installed system copy of the default
# rules (GPL data shipped with Wireshark, not ours to commit) is appended here, below them, so the rest
# of the traffic looks as usual. IKESTATE_WS_COLORFILTERS=FILE picks another defaults file.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
name=IKE-Troubleshooting
src=$here/$name
defaults=${IKESTATE_WS_COLORFILTERS:-/usr/share/wireshark/colorfilters}

# assemble DIR: write DIR/$name/{colorfilters,preferences,recent}
assemble() {
	local out=$1/$name
	mkdir -p "$out"
	cp "$src/preferences" "$out/preferences"
	cp "$src/recent" "$out/recent"
	{
		cat "$src/colorfilters"
		if [ -r "$defaults" ]; then
			echo "# Wireshark's default rules, copied from $defaults when this profile was built."
			grep -v '^#' "$defaults"
		else
			echo "make-zip.sh: $defaults not found: the profile colours IKE only" >&2
		fi
	} > "$out/colorfilters"
}

if [ "${1:-}" = --dir ]; then
	[ $# = 2 ] || { echo "usage: $0 --dir DIR" >&2; exit 2; }
	assemble "$2"
	exit 0
fi
zip_out=${1:-$here/$name.zip}
case $zip_out in /*) ;; *) zip_out=$PWD/$zip_out ;; esac
command -v zip > /dev/null || { echo "make-zip.sh: needs zip (apt-get install zip)" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
assemble "$tmp"
rm -f "$zip_out"
# -X: no extra attributes (uid/gid, times beyond DOS), so only the content differs between builds.
(cd "$tmp" && zip -q -X -r "$zip_out" "$name")
echo "$zip_out"
