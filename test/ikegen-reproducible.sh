#!/usr/bin/env bash
# ikegen-reproducible.sh IKEGEN CAPTURE_DIR — the committed gen-*.pcap captures are exactly what
# the project's generator writes today (so expected outputs are tied to a known input).
set -euo pipefail
ikegen=$1 dir=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
status=0 n=0
for s in $("$ikegen" --list | awk '{print $1}'); do
	n=$((n + 1))
	"$ikegen" "$s" "$tmp/gen-$s.pcap"
	if ! cmp -s "$tmp/gen-$s.pcap" "$dir/gen-$s.pcap"; then
		echo "FAIL: ikegen $s differs from $dir/gen-$s.pcap"; status=1
	fi
done
extra=$(comm -13 <("$ikegen" --list | awk '{print "gen-" $1 ".pcap"}' | sort) <(cd "$dir" && ls gen-*.pcap | sort))
[ -z "$extra" ] || { echo "FAIL: captures with no generator scenario: $extra"; status=1; }
echo "$n scenarios regenerated"
exit $status
