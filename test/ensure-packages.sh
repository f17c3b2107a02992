#!/usr/bin/env bash
# ensure-packages.sh PKG...      install those of the Debian packages PKG that are missing
# ensure-packages.sh --run CMD... run CMD (e.g. apt-get download) under the same lock
# On a fresh machine several test stages install what they need while running side by side (the
# lab beside CTest, the matrix and libFuzzer inside it); apt lets one apt-get hold its locks and
# fails the others at once. So they install one at a time, under a lock of ours. Needs root when
# something is missing; otherwise it names the packages and fails.
set -euo pipefail
lock=/var/cache/ikestate-apt.lock   # root-only writable: no symlink games
missing() { local p; for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q 'ok installed' || echo "$p"; done; }
if [ "${1:-}" = --run ]; then
	shift
	exec flock "$lock" "$@"
fi
mapfile -t need < <(missing "$@")
[ ${#need[@]} -gt 0 ] || exit 0
[ "$(id -u)" = 0 ] || { echo "missing packages: ${need[*]} (run as root, or install them)" >&2; exit 1; }
exec 9> "$lock"
flock 9
mapfile -t need < <(missing "${need[@]}")   # another stage may have installed them meanwhile
[ ${#need[@]} -gt 0 ] || exit 0
echo "installing: ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
# A lock timeout too, for apt run by anything else on the machine.
apt-get -o DPkg::Lock::Timeout=600 update -qq
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" > /dev/null
