#!/usr/bin/env bash
# make-screenshots.sh — the README's screenshots, from the real Wireshark GUI (Debian's wireshark-qt)
# with the plugin and the IKE-Troubleshooting profile as it ships: its colours, its columns and their
# widths (the profile's recent file; nothing here resizes a column). Lab captures from test/captures:
#   packet-list.png          three IKEv1 main modes merged (lab-mm-ok, lab-mm-lost-msg,
#                            lab-mm-psk-mismatch): completed, stalled, refused, coloured by verdict
#   filter-at-load.png       `wireshark -r mixed.pcapng -Y ikestate.stalled`: the stalled packets of
#                            a capture mixing good and failing lab negotiations, IKEv1 and IKEv2, with
#                            the filter set at load (capture-end verdicts included, issue 22)
#   ikev2.png                an IKEv2 IKE_AUTH refused (lab-ikev2-auth-fail), the refusing answer
#                            selected and its ikestate subtree expanded
#   packet-details.png       the stalled main mode (lab-mm-lost-msg), frame 5 selected, the ikestate
#                            subtree expanded with its hint
#   conversation-filter.png  Analyze → Conversation Filter → IKE negotiation (then applied)
#   stats-tree.png           Statistics → IKE negotiations (the stats tree)
#   expert-info.png          Analyze → Expert Information
#   two-points.png           lab-natt-lost-mm4 (captured inside and outside a NAT that drops MM4,
#                            merged): copies, and the first MM4 selected, missing at the inside point
#   remote-access.png        lab-ikev1-xauth-wrong-password with its keys: XAUTH / mode-config
#                            transactions paired, the gateway's SET with XAUTH_STATUS FAIL selected
#   reflection.png           gen-reflection: 400 MM2 to one spoofed cookie, grey, one reflection finding
# Debian 12, as root: installs wireshark-qt, xvfb, xdotool, imagemagick if missing, builds the plugin
# in a temporary folder (or IKESTATE_SO=…/ikestate.so), runs Wireshark as nobody (it ignores
# WIRESHARK_PLUGIN_DIR and personal profiles as root) with a private HOME on a private Xvfb.
# Clicks are at fixed coordinates: the main window is placed and sized through recent_common on a
# fixed-size screen, pane sizes are given with -o, so they are the same on every run. A dialog that
# does not open is reported and its picture skipped. Each Wireshark run is bounded by timeout(1).
set -euo pipefail
export PATH=/usr/bin:/bin:/usr/sbin:/sbin LC_ALL=C.UTF-8   # /usr/local/bin may hold a stand-in convert
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
caps=$top/test/captures
W=1600 H=900   # the profile's columns add up to 1532 px

[ "$(id -u)" = 0 ] || { echo "make-screenshots.sh: run as root (apt, and dropping to nobody)" >&2; exit 1; }
pkgs=(wireshark-qt xvfb xdotool imagemagick fonts-dejavu-core cmake gcc make pkg-config wireshark-dev
	libwireshark-dev libglib2.0-dev libpcap-dev)
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
	apt-get update -qq
	# wireshark-common asks whether non-root users may capture: not needed to read a file.
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
fi

work=$(mktemp -d /tmp/ikestate-shots.XXXXXX)
ws_pid='' xvfb_pid=''
cleanup() {
	[ -z "$ws_pid" ] || { kill "$ws_pid" 2> /dev/null; wait "$ws_pid" 2> /dev/null || true; }
	[ -z "$xvfb_pid" ] || { kill "$xvfb_pid" 2> /dev/null; wait "$xvfb_pid" 2> /dev/null || true; }
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

so=${IKESTATE_SO:-}
if [ -z "$so" ]; then
	# Never in the checkout's build folder: others build there.
	cmake -S "$top" -B "$work/build" -DBUILD_TESTING=OFF > "$work/build.log"
	cmake --build "$work/build" -j"$(nproc)" >> "$work/build.log"
	so=$(find "$work/build/plugins" -name ikestate.so | head -1)
fi
ver=$(basename "$(dirname "$(dirname "$so")")")
home=$work/home conf=$work/home/.config/wireshark
# noextcap: an empty extcap folder, so no capture helpers are spawned (and left behind) for a file view.
mkdir -p "$work/plugins/$ver/epan" "$conf/profiles" "$work/run" "$work/noextcap" "$work/cap"
cp "$so" "$work/plugins/$ver/epan/"
# The profile as the zip and `cmake --install` lay it out (colorfilters, preferences, recent).
"$top/profiles/make-zip.sh" --dir "$conf/profiles"
# The main window's place and size (kept in recent_common, not in the profile).
cat > "$conf/recent_common" <<EOR
gui.geometry_main_x: 0
gui.geometry_main_y: 0
gui.geometry_main_width: $W
gui.geometry_main_height: $H
gui.geometry_main_maximized: FALSE
privs.warn_if_elevated: FALSE
EOR
# The captures, named as their window titles will be.
cp "$caps/lab-mm-lost-msg.pcapng" "$caps/lab-ikev2-auth-fail.pcapng" "$caps/lab-natt-lost-mm4.pcapng" \
	"$caps/lab-ikev1-xauth-wrong-password.pcapng" "$caps/gen-reflection.pcap" "$work/cap/"
mergecap -w "$work/cap/three-main-modes.pcapng" "$caps/lab-mm-ok.pcapng" "$caps/lab-mm-lost-msg.pcapng" \
	"$caps/lab-mm-psk-mismatch.pcapng"
mixed=()
# The lab ran them one after the other between the same two addresses: none of the good ones is
# older than the first stalled one, which would otherwise read as its rekey (ikestate.rekey_of).
for n in lab-no-answer lab-mm-lost-msg lab-qm-ts-mismatch lab-rekey lab-ikev2-ok lab-mm-psk-mismatch \
	lab-ikev2-no-answer lab-ikev2-frag-lost; do mixed+=("$caps/$n.pcapng"); done
mergecap -w "$work/cap/mixed.pcapng" "${mixed[@]}"
chown -R nobody:nogroup "$work"; chmod 700 "$work/run"

base_env=(PATH=/usr/bin:/bin HOME="$home" XDG_RUNTIME_DIR="$work/run" LC_ALL=C.UTF-8 TZ=UTC
	WIRESHARK_PLUGIN_DIR="$work/plugins" WIRESHARK_EXTCAP_DIR="$work/noextcap" QT_QPA_PLATFORM=xcb)
as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups env -i)
# A private X server on a free display (-displayfd writes its number once it accepts clients).
# Bounded by timeout(1) in case this script is killed without its trap; $! is timeout, which passes
# the kill on to Xvfb (setpriv and env exec).
timeout -k 5 1800 "${as_user[@]}" "${base_env[@]}" Xvfb -displayfd 3 -screen 0 ${W}x${H}x24 -nolisten tcp \
	3> "$work/display" > "$work/xvfb.log" 2>&1 &
xvfb_pid=$!
for _ in $(seq 100); do [ -s "$work/display" ] && break; kill -0 "$xvfb_pid" 2> /dev/null || break; sleep 0.1; done
[ -s "$work/display" ] || { echo "Xvfb did not start:"; cat "$work/xvfb.log"; exit 1; }
user_env=("${base_env[@]}" DISPLAY=":$(head -1 "$work/display")")
x() { "${as_user[@]}" "${user_env[@]}" "$@"; }

# wait_win REGEX: the id of the visible window whose title matches REGEX (waits up to 30 s)
wait_win() {
	local id
	for _ in $(seq 150); do
		id=$(x xdotool search --onlyvisible --name "$1" 2>/dev/null | tail -1 || true)
		[ -n "$id" ] && { echo "$id"; return 0; }
		sleep 0.2
	done
	return 1
}
# settled: the screen has not changed for three screenshots in a row, 0.4 s apart (up to 60 s).
# The filter bar's row is left out: its text cursor blinks.
settled() {
	local prev='' same=0 h
	for _ in $(seq 150); do
		h=$(x import -window root -crop ${W}x$((H - 90))+0+90 rgb:- 2> /dev/null | md5sum)
		if [ "$h" = "$prev" ]; then same=$((same + 1)); [ "$same" -ge 2 ] && return 0; else same=0; fi
		prev=$h
		sleep 0.4
	done
}
key() { x xdotool key --clearmodifiers "$@"; sleep 0.7; }
click() { x xdotool mousemove "$1" "$2" click 1; sleep 0.7; }
# shot NAME GEOMETRY: the screen cropped to GEOMETRY (WxH+X+Y), as a 64-colour PNG to stay small
shot() {
	x import -window root "$work/raw.png"
	convert "$work/raw.png" -crop "$2" +repage -colors 64 -strip "PNG8:$here/$1.png"
	echo "$here/$1.png: $(identify -format '%wx%h' "$here/$1.png"), $(stat -c %s "$here/$1.png") bytes"
}
# start_ws FILE ARGS...: Wireshark on $work/cap/FILE with the profile, window at (0,0), file loaded
start_ws() {
	local f=$1; shift
	timeout -k 5 600 "${as_user[@]}" "${user_env[@]}" wireshark -o gui.ask_unsaved:FALSE \
		-o gui.update.enabled:FALSE -C IKE-Troubleshooting -r "$work/cap/$f" "$@" >> "$work/wireshark.log" 2>&1 &
	ws_pid=$!
	main=$(wait_win "^$f") || { echo "wireshark did not open $f:"; cat "$work/wireshark.log"; exit 1; }
	x xdotool windowmove "$main" 0 0 windowsize "$main" $W $H
	settled
}
quit_ws() {
	x xdotool windowfocus --sync "$main" key --clearmodifiers ctrl+q 2> /dev/null || true
	for _ in $(seq 100); do kill -0 "$ws_pid" 2> /dev/null || break; sleep 0.2; done
	kill "$ws_pid" 2> /dev/null || true
	wait "$ws_pid" 2> /dev/null || true
	ws_pid=''
}
# expand_last_tree_item Y: click the first item of the packet details (at height Y), go to its last
# top-level item (the ikestate subtree) and expand it with its children (View → Expand Subtrees)
expand_last_tree_item() {
	click 100 "$1"
	key End
	key shift+Right
	x xdotool mousemove 1590 40   # off the tree (an empty part of the toolbar): no hover highlight
	sleep 0.5
}

# (1) packet list: the list pane tall enough for the 27 packets
start_ws three-main-modes.pcapng -o gui.geometry_main_upper_pane:520
shot packet-list "${W}x575+0+0"
quit_ws

# (2) a display filter set at load: only the stalled packets (status bar: how many of how many); the
# first one's subtree expanded
start_ws mixed.pcapng -Y ikestate.stalled -o gui.geometry_main_upper_pane:330 -o gui.byte_view_show:FALSE
expand_last_tree_item 433
shot filter-at-load "${W}x${H}+0+0"
quit_ws

# (3) IKEv2: the refusing IKE_AUTH answer (frame 4) with its subtree; no byte view
start_ws lab-ikev2-auth-fail.pcapng -g 4 -o gui.geometry_main_upper_pane:200 -o gui.byte_view_show:FALSE
expand_last_tree_item 320
shot ikev2 "${W}x620+0+0"
quit_ws

# (4) the stalled main mode: frame 5 (MM3 retransmission 2: the stall in MM_WAIT_MSG4 is established)
start_ws lab-mm-lost-msg.pcapng -g 5 -o gui.geometry_main_upper_pane:200 -o gui.byte_view_show:FALSE
expand_last_tree_item 320
shot packet-details "${W}x740+0+0"

# (5) Analyze (menu at x=255) → Conversation Filter (y=186, opens a submenu) → IKE negotiation,
# its last entry; clicking it applies `ikestate.tunnel == 1`.
click 255 10
click 320 186
shot conversation-filter "760x500+0+0"
click 620 486
settled

# (6) Statistics (x=325) → IKE negotiations (last item, y=713): the stats tree, in its own window;
# closed again with its Close button so that the menu bar is reachable.
click 325 10
click 372 713
if dlg=$(wait_win 'IKE negotiations'); then
	x xdotool windowmove "$dlg" 0 0 windowsize "$dlg" 800 400
	sleep 2
	shot stats-tree "790x270+0+0"
	click 748 376
else
	echo "make-screenshots.sh: the IKE negotiations stats tree did not open: stats-tree.png not made" >&2
fi

# (7) Analyze (x=255) → Expert Information (last item, y=367); it opens a dialog window.
click 255 10
click 314 367
if dlg=$(wait_win 'Expert Information'); then
	x xdotool windowmove "$dlg" 0 0 windowsize "$dlg" 1100 420
	sleep 2
	click 21 41    # expand the first group (Warning: Negotiation stalled) to list its packets
	shot expert-info "1100x420+0+0"
	key Escape
else
	echo "make-screenshots.sh: the Expert Information dialog did not open: expert-info.png not made" >&2
fi
quit_ws

# (8) two capture points: frame 7, the first MM4, seen outside (n1) only: missing at n0
start_ws lab-natt-lost-mm4.pcapng -g 7 -o gui.geometry_main_upper_pane:330 -o gui.byte_view_show:FALSE
expand_last_tree_item 433
shot two-points "${W}x${H}+0+0"
quit_ws

# (9) remote access with the keys: the gateway's XAUTH SET with status FAIL (frame 9)
keys=()
while IFS= read -r row; do keys+=(-o "uat:ikev1_decryption_table:$row"); done \
	< <(grep -v '^#' "$caps/keys/lab-ikev1-xauth-wrong-password.ikev1_decryption_table")
start_ws lab-ikev1-xauth-wrong-password.pcapng -g 9 "${keys[@]}" -o gui.geometry_main_upper_pane:330 \
	-o gui.byte_view_show:FALSE
expand_last_tree_item 433
shot remote-access "${W}x${H}+0+0"
quit_ws

# (10) a reflection: the group's first answer, its pattern and finding; the rows grey
start_ws gen-reflection.pcap -o gui.geometry_main_upper_pane:330 -o gui.byte_view_show:FALSE
expand_last_tree_item 433
shot reflection "${W}x${H}+0+0"
quit_ws
