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
# The suite runs this about a thousand times: what is known once is kept, and the rest uses bash
# builtins where it can (each fork and exec costs milliseconds of CPU).
shopt -s extglob
tool=${IKESTATE_TOOL:-tshark}
cap=$1; shift
work=$(mktemp -d /tmp/ikestate-run.XXXXXX)
trap 'rm -rf "$work"' EXIT
ver=${IKESTATE_SO%/epan/*}; ver=${ver##*/}   # .../plugins/<major.minor>/epan/ikestate.so
mkdir -p "$work/plugins/$ver/epan" "$work/home" "$work/data" "$work/noextcap"
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
envs=(HOME="$work/home" WIRESHARK_PLUGIN_DIR="$work/plugins"
      TZ=UTC LC_ALL=C.UTF-8 PATH=/usr/bin:/bin)
# Wireshark's data folder without the two name-resolution tables that 4.0 parses at every start:
# manuf (MAC vendors) and enterprises.tsv (SNMP enterprise numbers). They are half of tshark's
# start-up (callgrind, `tshark -r` of a 33-frame capture: 870 M instructions, 672 M without manuf,
# 684 M without enterprises.tsv), and nothing the tests compare is a MAC vendor or an enterprise name.
if [ -d /usr/share/wireshark ]; then
	ln -s /usr/share/wireshark/!(manuf|enterprises.tsv) "$work/data/"
	envs+=(WIRESHARK_DATA_DIR="$work/data")
fi
chmod -R a+rwX "$work"   # nobody reads it all, and writes its home
# Wireshark aborts on a dissector bug when the variable is set at all: 0 leaves it unset.
[ "${WIRESHARK_ABORT_ON_DISSECTOR_BUG:-1}" = 0 ] || envs+=(WIRESHARK_ABORT_ON_DISSECTOR_BUG=1)
[ -z "${IKESTATE_CONFIG_DIR:-}" ] || envs+=(WIRESHARK_CONFIG_DIR="$work/config")

# What is known of this plugin file while neither it nor tshark changes, in a stamp file: the ASan
# runtime it needs ("-": none; a sanitized build, cmake -DIKESTATE_SANITIZE=ON: tshark is not
# instrumented, so the runtime is preloaded), and the preload with which tshark was seen to load it
# (`tshark -G plugins` costs a tshark start).
stamp=${TMPDIR:-/tmp}/ikestate-so.$EUID${IKESTATE_SO//[^A-Za-z0-9.]/_}
asan='' loaded=''
if [ -f "$stamp" ] && [ "$stamp" -nt "$IKESTATE_SO" ] && [ "$stamp" -nt /usr/bin/tshark ]; then
	read -r asan loaded < "$stamp" || true   # being written by another run: found out again
fi
if [ -z "$asan" ]; then
	asan=-
	if readelf -d "$IKESTATE_SO" 2> /dev/null | grep -q 'NEEDED.*libasan'; then
		asan=$(gcc -print-file-name=libasan.so)
	fi
	loaded=''
fi
preload=${IKESTATE_PRELOAD:-}   # IKESTATE_PRELOAD=LIB forces a library
[ -n "$preload" ] || [ "$asan" = - ] || preload=$asan
if [ -n "$preload" ]; then
	# Wireshark itself leaks at exit: leak reports would drown real findings. The extcap helpers
	# tshark spawns inherit the preload and hang (seen with 4.0): give it an empty extcap folder.
	envs+=(LD_PRELOAD="$preload" ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}"
	       UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
	       WIRESHARK_EXTCAP_DIR="$work/noextcap")
fi
run() {
	if [ "$EUID" = 0 ]; then
		setpriv --reuid=65534 --regid=65534 --clear-groups env -i "${envs[@]}" "$@"
	else
		env -i "${envs[@]}" "$@"
	fi
}
if [ "${IKESTATE_CHECK_LOADED:-1}" = 1 ] && [ "$loaded" != "${preload:--}" ]; then
	if ! run tshark -G plugins 2>/dev/null | grep -q '^ikestate\.so'; then
		echo "tshark-plugin.sh: ikestate.so did not load (tshark -G plugins does not list it)" >&2
		exit 3
	fi
	loaded=${preload:--}
	printf '%s %s\n' "$asan" "$loaded" > "$stamp"
elif [ ! -f "$stamp" ] || [ "$stamp" -ot "$IKESTATE_SO" ]; then
	printf '%s %s\n' "$asan" "${loaded:-?}" > "$stamp"
fi
if [ "$tool" = sharkd ]; then
	sed "s|@CAPTURE@|$work/capture|g" | run sharkd - 2>/dev/null
else
	run tshark "${args[@]}" "$@"
fi
