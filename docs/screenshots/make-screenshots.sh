#!/usr/bin/env bash
# make-screenshots.sh — screenshots of the real Wireshark GUI with the plugin and the
# IKE-Troubleshooting profile, on a stalled main mode (test/captures/lab-mm-lost-msg.pcapng):
#   packet-list.png      the coloured packet list with the Tunnel / Msg / State / IOS state / Stalled columns
#   packet-details.png   the selected stalled packet, ikestate subtree expanded, with its hint
#   conversation-filter.png  Analyze → Conversation Filter → IKE negotiation (then applied)
#   stats-tree.png       Statistics → IKE negotiations (the stats tree)
#   expert-info.png      Analyze → Expert Information (skipped with a message if it does not open)
# Debian 12, as root: installs wireshark-qt, xvfb, xdotool, imagemagick if missing, builds the plugin
# in a temporary folder (or IKESTATE_SO=…/ikestate.so), runs Debian's wireshark under Xvfb as
# nobody (Wireshark, like tshark, ignores personal plugins and profiles as root) with a private HOME.
# Clicks are at fixed coordinates: the window geometry and pane sizes are forced through the
# profile's `recent` files, and the display is a fixed-size Xvfb, so they are the same on every run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cap=$top/test/captures/lab-mm-lost-msg.pcapng
frame=${IKESTATE_SHOT_FRAME:-5}      # MM3 retransmission 2: the stall in MM_WAIT_MSG4 is established
disp=${IKESTATE_SHOT_DISPLAY:-:77}
W=1280 H=820

[ "$(id -u)" = 0 ] || { echo "make-screenshots.sh: run as root (apt, and dropping to nobody)" >&2; exit 1; }
pkgs=(wireshark-qt xvfb xdotool imagemagick x11-utils cmake gcc make pkg-config wireshark-dev
	libwireshark-dev libglib2.0-dev libpcap-dev)
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
	apt-get update -qq
	# wireshark-common asks whether non-root users may capture: not needed to read a file.
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" > /dev/null
fi

work=$(mktemp -d /tmp/ikestate-shots.XXXXXX)
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2> /dev/null && wait "$p" 2> /dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

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
mkdir -p "$work/plugins/$ver/epan" "$conf/profiles" "$work/run" "$work/noextcap"
cp "$so" "$work/plugins/$ver/epan/"
cp "$cap" "$work/"
"$top/profiles/make-zip.sh" --dir "$conf/profiles"
# Window geometry (recent_common) and per-profile layout (recent): no byte view, so the details pane
# has room for the subtree; columns wide enough to read.
cat > "$conf/recent_common" <<EOR
gui.geometry_main_x: 0
gui.geometry_main_y: 0
gui.geometry_main_width: $W
gui.geometry_main_height: $H
gui.geometry_main_maximized: FALSE
privs.warn_if_elevated: FALSE
EOR
cat > "$conf/profiles/IKE-Troubleshooting/recent" <<'EOR'
gui.bytes_view_show: FALSE
gui.geometry_main_upper_pane: 250
column.width: "%m", 40, "%t", 90, "%s", 100, "%d", 100, "%p", 68, "%L", 52, "%i", 300
EOR
chown -R nobody:nogroup "$work"; chmod 700 "$work/run"
userenv=(PATH=/usr/bin:/bin HOME="$home" DISPLAY="$disp" XDG_RUNTIME_DIR="$work/run" LC_ALL=C.UTF-8 TZ=UTC
	WIRESHARK_PLUGIN_DIR="$work/plugins" WIRESHARK_EXTCAP_DIR="$work/noextcap")
asuser() { setpriv --reuid=65534 --regid=65534 --clear-groups env -i "${userenv[@]}" "$@"; }
if asuser xdpyinfo > /dev/null 2>&1; then
	echo "make-screenshots.sh: an X server already runs on $disp: set IKESTATE_SHOT_DISPLAY=:N" >&2; exit 1
fi
# Started without the asuser function: `f &` would fork a subshell and $! would not be the process
# to stop. setpriv and env exec, so $! is Xvfb / wireshark itself.
setpriv --reuid=65534 --regid=65534 --clear-groups env -i "${userenv[@]}" \
	Xvfb "$disp" -screen 0 ${W}x${H}x24 -nolisten tcp > "$work/xvfb.log" 2>&1 &
pids=($!)
for _ in $(seq 50); do asuser xdpyinfo > /dev/null 2>&1 && break; sleep 0.2; done
# Another X server on $disp would take our clients: ours must still be running.
kill -0 "${pids[0]}" 2> /dev/null || { echo "Xvfb $disp did not start (display in use? IKESTATE_SHOT_DISPLAY=:N):"; cat "$work/xvfb.log"; exit 1; }
setpriv --reuid=65534 --regid=65534 --clear-groups env -i "${userenv[@]}" \
	wireshark -C IKE-Troubleshooting -r "$work/$(basename "$cap")" -g "$frame" > "$work/wireshark.log" 2>&1 &
pids=($! "${pids[@]}")   # wireshark first: it is stopped before its X server

# wait_win NAME: the id of the visible window whose title matches NAME (waits up to 30 s)
wait_win() {
	local id
	for _ in $(seq 150); do
		id=$(asuser xdotool search --onlyvisible --name "$1" 2>/dev/null | tail -1 || true)
		[ -n "$id" ] && { echo "$id"; return 0; }
		sleep 0.2
	done
	return 1
}
key() { asuser xdotool key --clearmodifiers "$@"; sleep 0.7; }
click() { asuser xdotool mousemove "$1" "$2" click 1; sleep 0.7; }
# shot NAME GEOMETRY: root window, cropped (WxH+X+Y) and as a 64-colour PNG to stay small
shot() {
	asuser import -window root "$work/raw.png"
	convert "$work/raw.png" -crop "$2" +repage -colors 64 -strip "PNG8:$here/$1.png"
	echo "$here/$1.png: $(stat -c %s "$here/$1.png") bytes"
}

main=$(wait_win "$(basename "$cap")") || { echo "wireshark did not open:"; cat "$work/wireshark.log"; exit 1; }
asuser xdotool windowmove "$main" 0 0 windowsize "$main" $W $H
sleep 3   # the file is read and frame $frame selected

# Wireshark 4.0 does not take custom column widths from `recent` (all are "%Cus"): they open 78 px
# wide, after Info ending at x=750. Drag their right borders in the header row (y=101), left to right.
drag() {
	asuser xdotool mousemove "$1" 101 sleep 0.3 mousedown 1 sleep 0.3 mousemove "$(( ($1 + $2) / 2 ))" 101 \
		sleep 0.3 mousemove "$2" 101 sleep 0.3 mouseup 1
	sleep 0.5
}
drag 828 805    # Tunnel: 55 px
drag 883 850    # Msg: 45 px
drag 928 975    # State: 125 px
drag 1053 1085  # IOS state: 110 px; Stalled takes the rest

# (a) packet list
shot packet-list "${W}x300+0+0"

# (b) packet details: the byte view gets the splitter dragged out of the window (the `recent`
# setting to hide it is not honoured), then the ikestate subtree (6th top-level item, y=438) is
# selected and expanded with its children (Shift+Right: View → Expand Subtrees).
asuser xdotool mousemove 640 560 sleep 0.3 mousedown 1 sleep 0.3 mousemove 1000 560 sleep 0.3 \
	mousemove 1279 560 sleep 0.3 mouseup 1
sleep 0.5
click 200 438
key shift+Right
shot packet-details "1258x440+0+345"   # right edge: what is left of the byte view

# (c) Analyze (menu at x=255) → Conversation Filter (y=186, opens a submenu) → IKE negotiation,
# the last entry; clicking it applies `ikestate.tunnel == 1`.
click 255 10
click 320 186
shot conversation-filter "760x500+0+0"
click 620 486

# (d) Statistics (x=325) → IKE negotiations (last item, y=713): the stats tree, in its own window;
# closed again with its Close button so that the menu bar is reachable.
click 325 10
click 372 713
if dlg=$(wait_win 'IKE negotiations'); then
	asuser xdotool windowmove "$dlg" 0 0 windowsize "$dlg" 800 400
	sleep 2
	shot stats-tree "790x270+0+0"
	click 748 376
else
	echo "make-screenshots.sh: the IKE negotiations stats tree did not open: stats-tree.png not made" >&2
fi

# (e) Analyze (menu at x=255) → Expert Information (last item, y=367); it opens a dialog window.
click 255 10
click 314 367
if dlg=$(wait_win 'Expert Information'); then
	asuser xdotool windowmove "$dlg" 0 0 windowsize "$dlg" 1100 420
	sleep 2
	click 21 41    # expand the first group (Warning: Negotiation stalled) to list its packets
	shot expert-info "1100x420+0+0"
else
	echo "make-screenshots.sh: the Expert Information dialog did not open: expert-info.png not made" >&2
fi
