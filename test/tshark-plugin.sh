#!/usr/bin/env bash
# Run tshark (or sharkd) with the freshly built ikestate plugin on a capture.
#
#   IKESTATE_SO=build/plugins/4.0/epan/ikestate.so test/tshark-plugin.sh CAPTURE [tshark args...]
#   IKESTATE_TOOL=sharkd ... test/tshark-plugin.sh CAPTURE < requests.jsonl
#     (sharkd JSON-RPC on stdin; the string @CAPTURE@ in it is replaced by the capture's copy)
#
# tshark ignores WIRESHARK_PLUGIN_DIR and the personal plugin folder when run as root, so as root
# we drop to nobody. Plugin and capture are copied into a private world-readable directory so that
# nobody can read them wherever the checkout lives.
set -euo pipefail
: "${IKESTATE_SO:?set IKESTATE_SO to the built ikestate.so}"
tool=${IKESTATE_TOOL:-tshark}
cap=$1; shift
work=$(mktemp -d /tmp/ikestate-run.XXXXXX)
trap 'rm -rf "$work"' EXIT
ver=$(basename "$(dirname "$(dirname "$IKESTATE_SO")")")   # .../plugins/<major.minor>/epan/ikestate.so
mkdir -p "$work/plugins/$ver/epan" "$work/home"
cp "$IKESTATE_SO" "$work/plugins/$ver/epan/"
args=()
if [ "$cap" != - ]; then
	cp "$cap" "$work/capture"
	args=(-r "$work/capture")
fi
chmod -R a+rX "$work"; chmod a+rwx "$work/home"
envs=(HOME="$work/home" WIRESHARK_PLUGIN_DIR="$work/plugins"
      TZ=UTC LC_ALL=C.UTF-8 PATH=/usr/bin:/bin
      WIRESHARK_ABORT_ON_DISSECTOR_BUG="${WIRESHARK_ABORT_ON_DISSECTOR_BUG:-1}")
run() {
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid=65534 --regid=65534 --clear-groups env -i "${envs[@]}" "$@"
	else
		env -i "${envs[@]}" "$@"
	fi
}
if [ "${IKESTATE_CHECK_LOADED:-1}" = 1 ] && ! run tshark -G plugins 2>/dev/null | grep -q '^ikestate\.so'; then
	echo "tshark-plugin.sh: ikestate.so did not load (tshark -G plugins does not list it)" >&2
	exit 3
fi
if [ "$tool" = sharkd ]; then
	sed "s|@CAPTURE@|$work/capture|g" | run sharkd - 2>/dev/null
else
	run tshark "${args[@]}" "$@"
fi
