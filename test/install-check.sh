#!/usr/bin/env bash
# install-check.sh BUILD_DIR — `cmake --install` puts the plugin in the personal plugin folder of
# the installing user, and tshark run as that (non-root) user lists it with no extra setting.
set -euo pipefail
build=$1
tmp=$(mktemp -d /tmp/ikestate-install.XXXXXX)
# cmake --install rewrites BUILD_DIR/install_manifest.txt, which `--target uninstall` reads: put the
# real one (the developer's own install from this build folder) back afterwards.
manifest=$build/install_manifest.txt
[ ! -e "$manifest" ] || cp -p "$manifest" "$tmp/manifest"
restore() { if [ -e "$tmp/manifest" ]; then cp -p "$tmp/manifest" "$manifest"; else rm -f "$manifest"; fi; rm -rf "$tmp"; }
trap restore EXIT
HOME=$tmp/home cmake --install "$build" > /dev/null
so=$(find "$tmp/home/.local/lib/wireshark/plugins" -name ikestate.so)
[ -n "$so" ] || { echo "FAIL: nothing installed under ~/.local/lib/wireshark/plugins"; exit 1; }
echo "installed: ${so#"$tmp/"}"
chmod -R a+rX "$tmp"
as_user=(env); [ "$(id -u)" = 0 ] && as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
plugins=$("${as_user[@]}" env -i HOME="$tmp/home" PATH=/usr/bin:/bin tshark -G plugins 2>/dev/null)
grep '^ikestate\.so' <<< "$plugins" || { echo "FAIL: tshark -G plugins does not list ikestate.so"; exit 1; }
