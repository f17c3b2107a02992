#!/usr/bin/env bash
# install-check.sh BUILD_DIR — `cmake --install` puts the plugin in the personal plugin folder of
# the installing user, and tshark run as that (non-root) user lists it with no extra setting.
set -euo pipefail
build=$1
tmp=$(mktemp -d /tmp/ikestate-install.XXXXXX); trap 'rm -rf "$tmp"' EXIT
HOME=$tmp/home cmake --install "$build" > /dev/null
so=$(find "$tmp/home/.local/lib/wireshark/plugins" -name ikestate.so)
[ -n "$so" ] || { echo "FAIL: nothing installed under ~/.local/lib/wireshark/plugins"; exit 1; }
echo "installed: ${so#"$tmp/"}"
chmod -R a+rX "$tmp"
as_user=(env); [ "$(id -u)" = 0 ] && as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
plugins=$("${as_user[@]}" env -i HOME="$tmp/home" PATH=/usr/bin:/bin tshark -G plugins 2>/dev/null)
grep '^ikestate\.so' <<< "$plugins" || { echo "FAIL: tshark -G plugins does not list ikestate.so"; exit 1; }
