#!/usr/bin/env bash
# Run tshark (or sharkd) with the freshly built ikestate plugin on a capture.
#
#   IKESTATE_SO=build/plugins/4.0/epan/ikestate.so test/tshark-plugin.sh CAPTURE [tshark args...]
#   IKESTATE_TOOL=sharkd ... test/tshark-plugin.sh CAPTURE < requests.jsonl
#     (sharkd JSON-RPC on stdin; the string @CAPTURE@ in it is replaced by the capture's copy;
#     CAPTURE may be a folder of captures)
#   IKESTATE_CONFIG_DIR=DIR ... test/tshark-plugin.sh ...
#     (optional: DIR is a Wireshark personal configuration folder, e.g. DIR/profiles/NAME for
#     `-C NAME`; it is copied and used as WIRESHARK_CONFIG_DIR. Unset: an empty HOME, as before)
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
	cp -r "$cap" "$work/capture"   # sharkd: a folder of captures too (@CAPTURE@/NAME)
	args=(-r "$work/capture")
fi
if [ -n "${IKESTATE_CONFIG_DIR:-}" ]; then
	# A copy: user nobody must be able to read it wherever it lives, and nothing written leaks back.
	cp -r "$IKESTATE_CONFIG_DIR" "$work/config"
fi
source "$(dirname "${BASH_SOURCE[0]}")/lean-data.sh"
data=$(lean_data_dir "$work/data")
chmod -R a+rX "$work"; chmod a+rwx "$work/home"
envs=(HOME="$work/home" WIRESHARK_PLUGIN_DIR="$work/plugins"
      TZ=UTC LC_ALL=C.UTF-8 PATH=/usr/bin:/bin)
# Wireshark aborts on a dissector bug when the variable is set at all: 0 leaves it unset.
[ "${WIRESHARK_ABORT_ON_DISSECTOR_BUG:-1}" = 0 ] || envs+=(WIRESHARK_ABORT_ON_DISSECTOR_BUG=1)
[ -z "$data" ] || envs+=(WIRESHARK_DATA_DIR="$data")
[ -z "${IKESTATE_CONFIG_DIR:-}" ] || envs+=(WIRESHARK_CONFIG_DIR="$work/config")
# A sanitized plugin (cmake -DIKESTATE_SANITIZE=ON) needs the ASan runtime loaded before anything
# else, and tshark is not instrumented: preload it. IKESTATE_PRELOAD=LIB forces a library.
preload=${IKESTATE_PRELOAD:-}
if [ -z "$preload" ] && readelf -d "$IKESTATE_SO" 2> /dev/null | grep -q 'NEEDED.*libasan'; then
	preload=$(gcc -print-file-name=libasan.so)
fi
if [ -n "$preload" ]; then
	# Wireshark itself leaks at exit: leak reports would drown real findings. The extcap helpers
	# tshark spawns inherit the preload and hang (seen with 4.0): give it an empty extcap folder.
	mkdir -p "$work/noextcap"
	envs+=(LD_PRELOAD="$preload" ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}"
	       UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
	       WIRESHARK_EXTCAP_DIR="$work/noextcap")
fi
run() {
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid=65534 --regid=65534 --clear-groups env -i "${envs[@]}" "$@"
	else
		env -i "${envs[@]}" "$@"
	fi
}
# Proven once per plugin binary, tshark binary, user and preload: the check costs a tshark start
# (~0.6 s), and the suite starts tshark about a thousand times with the same few plugins.
loaded_stamp() {
	local key
	key=$( { sha256sum "$IKESTATE_SO"; stat -L -c '%i %Y' "$(command -v tshark)"; id -u; echo "$preload"; } |
		sha256sum | cut -c1-32)
	echo "${TMPDIR:-/tmp}/ikestate-loaded.$key"
}
if [ "${IKESTATE_CHECK_LOADED:-1}" = 1 ] && [ ! -e "$(loaded_stamp)" ]; then
	if ! run tshark -G plugins 2>/dev/null | grep -q '^ikestate\.so'; then
		echo "tshark-plugin.sh: ikestate.so did not load (tshark -G plugins does not list it)" >&2
		exit 3
	fi
	touch "$(loaded_stamp)"
fi
if [ "$tool" = sharkd ]; then
	sed "s|@CAPTURE@|$work/capture|g" | run sharkd - 2>/dev/null
else
	run tshark "${args[@]}" "$@"
fi
