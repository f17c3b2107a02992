#!/usr/bin/env bash
# gui-check.sh BUILD_DIR [CHECK...] — the real Wireshark GUI (Debian's wireshark-qt, Qt) with the
# built plugin, on a private Xvfb, driven with xdotool and read back from what it exports and shows.
# CHECK (default: all):
#   filter-at-load  `wireshark -r CAP -Y ikestate.stalled`: the packets the GUI displays (File →
#                   Export Specified Packets → Displayed, counted with tshark) are exactly those
#                   `tshark -2 -Y ikestate.stalled` selects, capture-end verdicts included (issue 22:
#                   the filter ran in the first pass, before they existed); then the capture file is
#                   replaced by another one and Ctrl+R (reload) must display that one's set.
#   eap-at-load     `wireshark -r lab-ikev2-eap-ok -Y 'ikestate.state == "READY"'`: only the final
#                   IKE_AUTH answer, as in `tshark -2` (issue 21: a single pass also selects the first
#                   answer, which looks final until the next round).
#   profile         `wireshark -C IKE-Troubleshooting -r CAP`: every IKE rule background colour that
#                   `tshark -C IKE-Troubleshooting --color -2` gives a packet fills its rows on first
#                   load (pixels counted in a screenshot of the packet list); the column widths the
#                   profile ships in its recent file are those in effect (Wireshark writes them back
#                   to that file when it quits).
# The captures are merges of test/captures files, made so that some stalled packets exist only
# through the capture-end verdict (checked: single-pass tshark does not select them).
#
# Exit 77 (skipped) when it cannot run: no wireshark-qt, Xvfb, xdotool or ImageMagick, or a
# sanitizer build. With CI=true (or IKESTATE_GUI_REQUIRED=1) a missing tool is a failure instead.
# IKESTATE_SO=FILE tests that plugin instead of BUILD_DIR's. IKESTATE_GUI_KEEP=1 keeps the work
# folder (screenshots, exports, Wireshark's log) and prints its path.
# As root, Xvfb and Wireshark run as nobody (Wireshark ignores WIRESHARK_PLUGIN_DIR as root) with a
# private HOME; every Wireshark run is bounded by timeout(1) and is quit (Ctrl+Q) or killed at the end.
set -euo pipefail
export PATH=/usr/bin:/bin:/usr/sbin:/sbin LC_ALL=C.UTF-8
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
caps=$top/test/captures
build=${1:?usage: gui-check.sh BUILD_DIR [filter-at-load|eap-at-load|profile]...}
shift
checks=("$@"); [ ${#checks[@]} -gt 0 ] || checks=(filter-at-load eap-at-load profile)

required=${IKESTATE_GUI_REQUIRED:-0}
[ "${CI:-}" != true ] || required=1
cannot_run() {
	if [ "$required" = 1 ]; then echo "FAIL: $* (CI=true / IKESTATE_GUI_REQUIRED=1: the GUI test must run)"; exit 1; fi
	echo "SKIP: $*"; exit 77
}
so=${IKESTATE_SO:-$(find "$build/plugins" -name ikestate.so 2> /dev/null | head -1)}
[ -n "$so" ] && [ -f "$so" ] || { echo "FAIL: no ikestate.so under $build/plugins (IKESTATE_SO unset)"; exit 1; }
# /usr/bin only: /usr/local/bin may hold a stand-in convert.
for t in wireshark Xvfb xdotool import convert tshark mergecap setpriv timeout; do
	p=$(command -v "$t") && [ -f "$p" ] && [ -x "$p" ] || cannot_run "$t not found (apt-get install wireshark-qt xvfb xdotool imagemagick)"
done
if readelf -d "$so" 2> /dev/null | grep -q 'NEEDED.*lib[at]san'; then
	cannot_run "sanitizer build of the plugin: the GUI would need the runtime preloaded"
fi

W=1600 H=900     # screen, and the main window's size (recent_common)
work=$(mktemp -d /tmp/ikestate-gui.XXXXXX)
ws_pid='' xvfb_pid=''
cleanup() {
	local rc=$?
	[ -z "$ws_pid" ] || { kill "$ws_pid" 2> /dev/null; wait "$ws_pid" 2> /dev/null || true; }
	[ -z "$xvfb_pid" ] || { kill "$xvfb_pid" 2> /dev/null; wait "$xvfb_pid" 2> /dev/null || true; }
	if [ "${IKESTATE_GUI_KEEP:-0}" = 1 ]; then echo "work folder kept: $work"; else rm -rf "$work"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ver=$(basename "$(dirname "$(dirname "$so")")")   # .../plugins/<major.minor>/epan/ikestate.so
conf=$work/home/.config/wireshark
mkdir -p "$work/plugins/$ver/epan" "$conf/profiles" "$work/run" "$work/noextcap" "$work/cap" "$work/out" "$work/shots"
cp "$so" "$work/plugins/$ver/epan/"
# The profile as `cmake --install` / the zip lay it out: IKE rules, then the system's default rules.
"$top/profiles/make-zip.sh" --dir "$conf/profiles"
# Window geometry is kept in recent_common; a fixed size and place make the menu clicks repeatable.
cat > "$conf/recent_common" << EOR
gui.geometry_main_x: 0
gui.geometry_main_y: 0
gui.geometry_main_width: $W
gui.geometry_main_height: $H
gui.geometry_main_maximized: FALSE
privs.warn_if_elevated: FALSE
EOR
if [ "$(id -u)" = 0 ]; then
	chown -R nobody:nogroup "$work/home" "$work/run" "$work/out" "$work/shots" "$work/cap"
	chmod 755 "$work"
	as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
else
	as_user=()
fi
chmod 700 "$work/run"
base_env=(PATH=/usr/bin:/bin HOME="$work/home" XDG_RUNTIME_DIR="$work/run" LC_ALL=C.UTF-8 TZ=UTC
	WIRESHARK_PLUGIN_DIR="$work/plugins" WIRESHARK_EXTCAP_DIR="$work/noextcap" QT_QPA_PLATFORM=xcb)

# A private X server: -displayfd picks a free display number and writes it when ready.
# Bounded by timeout(1) beyond the CTest time limit, in case this script is killed without its trap;
# $! is timeout, which passes the kill on to Xvfb (setpriv and env exec).
timeout -k 5 700 "${as_user[@]}" env -i "${base_env[@]}" Xvfb -displayfd 3 -screen 0 ${W}x${H}x24 -nolisten tcp \
	3> "$work/display" > "$work/xvfb.log" 2>&1 &
xvfb_pid=$!
for _ in $(seq 100); do [ -s "$work/display" ] && break; kill -0 "$xvfb_pid" 2> /dev/null || break; sleep 0.1; done
[ -s "$work/display" ] || { echo "FAIL: Xvfb did not start:"; cat "$work/xvfb.log"; exit 1; }
user_env=("${base_env[@]}" DISPLAY=":$(head -1 "$work/display")")
x() { "${as_user[@]}" env -i "${user_env[@]}" "$@"; }

fails=0 passes=0
ok() { echo "ok   $*"; passes=$((passes + 1)); }
bad() { echo "FAIL $*"; fails=$((fails + 1)); }

# tshark with the plugin (as nobody when root; tshark-plugin.sh copies what it needs).
tsp() { IKESTATE_SO=$so "$top/test/tshark-plugin.sh" "$@"; }

# wait_win REGEX [SECONDS]: id of the visible window whose name matches REGEX
wait_win() {
	local id n=$(( ${2:-60} * 5 ))
	for _ in $(seq "$n"); do
		id=$(x xdotool search --onlyvisible --name "$1" 2> /dev/null | tail -1 || true)
		[ -n "$id" ] && { echo "$id"; return 0; }
		[ -z "$ws_pid" ] || kill -0 "$ws_pid" 2> /dev/null || return 1
		sleep 0.2
	done
	return 1
}
# gone REGEX: no visible window matches (waits up to 30 s)
gone() {
	for _ in $(seq 150); do
		x xdotool search --onlyvisible --name "$1" > /dev/null 2>&1 || return 0
		sleep 0.2
	done
	return 1
}
# settled: the window below the filter bar (packet list, details, status bar) has not changed for
# three screenshots in a row, 0.4 s apart: the file is read and filtered. Up to 60 s.
settled() {
	local prev='' same=0 h
	for _ in $(seq 150); do
		h=$(x import -window root -crop ${W}x$((H - 90))+0+90 rgb:- 2> /dev/null | md5sum)
		if [ "$h" = "$prev" ]; then same=$((same + 1)); [ "$same" -ge 2 ] && return 0; else same=0; fi
		prev=$h
		sleep 0.4
	done
	return 1
}
shot() { x import -window root "$work/shots/$1.png"; }

# start_ws TITLE ARGS...: runs wireshark, waits for its main window (title = the file's name) and
# for the load to settle; sets main_win. Bounded: timeout(1) ends it after 300 s whatever happens.
start_ws() {
	local title=$1; shift
	timeout -k 5 300 "${as_user[@]}" env -i "${user_env[@]}" wireshark \
		-o gui.ask_unsaved:FALSE -o gui.update.enabled:FALSE -o gui.geometry_main_upper_pane:500 "$@" \
		>> "$work/wireshark.log" 2>&1 &
	ws_pid=$!
	main_win=$(wait_win "^$title" 90) || { bad "wireshark did not open $title"; tail -20 "$work/wireshark.log"; return 1; }
	x xdotool windowmove "$main_win" 0 0 windowsize "$main_win" $W $H
	settled || echo "     (the window kept changing for 60 s; going on)"
}
# quit_ws: Ctrl+Q, then it must exit by itself, with status 0 (no crash at exit) within 30 s.
quit_ws() {
	local rc=0
	x xdotool windowfocus --sync "$main_win" key --clearmodifiers ctrl+q 2> /dev/null || true
	for _ in $(seq 150); do kill -0 "$ws_pid" 2> /dev/null || break; sleep 0.2; done
	if kill -0 "$ws_pid" 2> /dev/null; then
		bad "wireshark did not quit on Ctrl+Q within 30 s: killed"
		kill "$ws_pid" 2> /dev/null || true
	fi
	wait "$ws_pid" || rc=$?
	ws_pid=''
	[ "$rc" = 0 ] && ok "wireshark quit cleanly" || bad "wireshark exited with status $rc (log: $(tail -3 "$work/wireshark.log" | tr '\n' ' '))"
}
# export_displayed FILE: File → Export Specified Packets… with its default range (All packets,
# Displayed when a filter is applied), into FILE. Menu positions are those of the 4.0 main window
# at (0,0) on this font set; the dialog's title is checked, so a miss fails loudly.
export_displayed() {
	local out=$1 dlg
	x xdotool mousemove 20 10 click 1; sleep 0.8
	x xdotool mousemove 120 240 click 1
	dlg=$(wait_win 'Export Specified Packets' 20) || { shot export-menu; x xdotool key Escape; bad "File → Export Specified Packets did not open (screenshot export-menu.png)"; return 1; }
	sleep 0.5
	x xdotool windowfocus --sync "$dlg" type --delay 15 "$out"
	x xdotool key Return
	for _ in $(seq 100); do [ -s "$out" ] && break; sleep 0.2; done
	gone 'Export Specified Packets' || { shot export-dialog; bad "the export dialog did not close"; x xdotool key Escape; return 1; }
	[ -s "$out" ] || { bad "nothing exported to $out"; return 1; }
}
# keys FILE: "epoch len" of each packet (identifies a packet across files; the export renumbers)
keys() { tshark -r "$1" -T fields -e frame.time_epoch -e frame.len 2> /dev/null; }
# frames_of CAP KEYSFILE: the CAP frame numbers of the packets listed in KEYSFILE
frames_of() {
	awk 'NR == FNR { want[$1" "$2] = 1; next } ($2" "$3) in want { printf "%s ", $1 }' "$2" \
		<(tshark -r "$1" -T fields -e frame.number -e frame.time_epoch -e frame.len 2> /dev/null)
}
# expect_selected CAP NAME [FILTER]: the two-pass selection of FILTER (default ikestate.stalled),
# after checking that some of it differs from a single pass (else the check would prove nothing)
expect_selected() {
	local cap=$1 name=$2 flt=${3:-ikestate.stalled} one two only
	one=$(tsp "$cap" -Y "$flt" -T fields -e frame.number | tr '\n' ' ')
	two=$(tsp "$cap" -2 -Y "$flt" -T fields -e frame.number | tr '\n' ' ')
	only=$(comm -3 <(tr ' ' '\n' <<< "$one" | sort) <(tr ' ' '\n' <<< "$two" | sort) | tr -d '\t' | sort -n | tr '\n' ' ')
	if [ -z "${only// /}" ]; then
		bad "$name: '$flt' selects the same in one pass and in two ($two): the check would prove nothing"
		return 1
	fi
	echo "     $name: tshark -2 -Y '$flt' selects frames ${two}(one pass differs on: ${only% })"
	echo "$flt" > "$work/out/$name.filter"
	tsp "$cap" -2 -Y "$flt" -T fields -e frame.time_epoch -e frame.len > "$work/out/$name.expected"
}
# compare_shown CAP NAME EXPORTED WHAT: the exported packets must be the expected set
compare_shown() {
	local cap=$1 name=$2 exported=$3 what=$4 shown want flt
	flt=$(cat "$work/out/$name.filter")
	keys "$exported" > "$work/out/$name.shown"
	shown=$(frames_of "$cap" "$work/out/$name.shown")
	want=$(frames_of "$cap" "$work/out/$name.expected")
	if [ "$(sort "$work/out/$name.shown")" = "$(sort "$work/out/$name.expected")" ]; then
		ok "$what: the GUI displays frames ${shown}= tshark -2 -Y '$flt'"
	else
		bad "$what: the GUI displays frames [${shown% }] ($(wc -l < "$work/out/$name.shown") packets), tshark -2 -Y '$flt' selects [${want% }]"
	fi
}

check_filter_at_load() {
	local a=$work/cap/stalled.pcapng
	# A: a stall by retransmissions (seen in the first pass) + an out-of-order capture whose two
	# stalls are capture-end verdicts only. B (for the reload): a lost-message stall + a malformed
	# capture with one capture-end stall.
	mergecap -w "$work/cap/a.pcapng" "$caps/lab-no-answer.pcapng" "$caps/gen-out-of-order.pcap"
	mergecap -w "$work/cap/b.pcapng" "$caps/lab-mm-lost-msg.pcapng" "$caps/gen-malformed.pcap"
	expect_selected "$work/cap/a.pcapng" load || return 0
	expect_selected "$work/cap/b.pcapng" reload || return 0
	cp "$work/cap/a.pcapng" "$a"; chmod a+r "$work"/cap/*
	start_ws stalled.pcapng -r "$a" -Y ikestate.stalled || return 0
	shot filter-at-load
	if export_displayed "$work/out/load.pcapng"; then
		compare_shown "$work/cap/a.pcapng" load "$work/out/load.pcapng" "open with -Y ikestate.stalled"
	fi
	# Reload (Ctrl+R, View → Reload) reads the file again with the filter set: the same first-pass
	# filtering. The file now holds capture B, so the result also proves that the reload happened.
	cp "$work/cap/b.pcapng" "$a"
	x xdotool windowfocus --sync "$main_win" key --clearmodifiers ctrl+r
	sleep 1
	settled || echo "     (the window kept changing for 60 s after Ctrl+R; going on)"
	shot filter-at-reload
	if export_displayed "$work/out/reload.pcapng"; then
		compare_shown "$work/cap/b.pcapng" reload "$work/out/reload.pcapng" "Ctrl+R (reload) with the filter set"
	fi
	quit_ws
}

# EAP (issue #21): the first IKE_AUTH answer looks final in a single pass; with READY as the filter at
# load, the GUI must show the final answer only, as two passes do.
check_eap_at_load() {
	local cap=$work/cap/eap.pcapng flt='ikestate.state == "READY"'
	cp "$caps/lab-ikev2-eap-ok.pcapng" "$cap"; chmod a+r "$cap"
	expect_selected "$cap" eap "$flt" || return 0
	start_ws eap.pcapng -r "$cap" -Y "$flt" || return 0
	shot eap-at-load
	if export_displayed "$work/out/eap.pcapng"; then
		compare_shown "$cap" eap "$work/out/eap.pcapng" "open an EAP capture with -Y '$flt'"
	fi
	quit_ws
}

check_profile() {
	local cap=$work/cap/colours.pcapng rules=$conf/profiles/IKE-Troubleshooting/colorfilters
	# Refused (failed, retransmissions) + out of order (unexpected, phases completed, capture-end
	# stalls): every IKE rule but ESP one way, 17 rows.
	mergecap -w "$cap" "$caps/gen-out-of-order.pcap" "$caps/gen-p1-refused.pcap"; chmod a+r "$cap"
	mkdir -p "$work/tcfg"; cp -r "$conf/profiles" "$work/tcfg/"
	IKESTATE_CONFIG_DIR=$work/tcfg tsp "$cap" -C IKE-Troubleshooting --color -2 \
		-T fields -e frame.number -e frame.coloring_rule.name > "$work/out/colours.rules"
	start_ws colours.pcapng -C IKE-Troubleshooting -r "$cap" || return 0
	# The pointer off the list (on an empty part of the toolbar): a hovered row is drawn lighter.
	x xdotool mousemove $((W - 10)) 40; sleep 0.5
	shot colours
	# The packet list: below the column header (y 92..) down to the top of the details pane. The
	# first packet is selected (selection colour): rules only it has are not looked for.
	x import -window root -crop ${W}x440+0+105 "$work/shots/list.png"
	convert "$work/shots/list.png" -format %c histogram:info:- > "$work/out/histogram"
	local name bg r g b hex n rows found=0
	while IFS= read -r name; do
		[[ $name == IKE* || $name == ESP* ]] || continue
		bg=$(awk -F@ -v n="$name" '$2 == n { print $4; exit }' "$rules")   # [r,g,b][r,g,b]
		IFS=, read -r r g b <<< "$(sed 's/^\[\([0-9,]*\)\].*/\1/' <<< "$bg")"
		hex=$(printf '#%02X%02X%02X' $((r / 257)) $((g / 257)) $((b / 257)))
		rows=$(awk -F'\t' -v n="$name" '$1 > 1 && $2 == n { c++ } END { print c + 0 }' "$work/out/colours.rules")
		n=$(awk -v h="$hex " 'index($0, h) { sub(":.*", ""); print $1; exit }' "$work/out/histogram")
		n=${n:-0}
		found=$((found + 1))
		# A row is the list's width by ~15 px; text and the column gaps take some: 5000 px a row.
		if [ "$n" -ge $((rows * 5000)) ]; then
			ok "colours: rule '$name' ($hex) on $rows rows: $n pixels"
		else
			bad "colours: rule '$name' ($hex) should colour $rows rows, found $n pixels (< $((rows * 5000)))"
		fi
	done < <(awk -F'\t' '$1 > 1 { print $2 }' "$work/out/colours.rules" | sort -u)
	[ "$found" -ge 5 ] || bad "colours: tshark --color named only $found IKE rules on the capture"
	quit_ws
	# Wireshark writes the profile's recent again at exit, with the column widths in effect (-1: its
	# own default, the width from recent was not taken): they must be those the profile ships.
	local shipped written
	shipped=$(widths "$top/profiles/IKE-Troubleshooting/recent")
	written=$(widths "$conf/profiles/IKE-Troubleshooting/recent")
	if [ -n "$shipped" ] && [ "$written" = "$shipped" ]; then
		ok "column widths: the profile's recent takes effect ($written)"
	else
		bad "column widths: the profile ships [$shipped], Wireshark used [$written] (-1: not taken from recent)"
	fi
}
# widths RECENT: the column.width list's widths, in column order
widths() {
	awk '/^column\.width:/ { on = 1; sub(/^column\.width:/, "") } on && /^[[:space:]]*$/ && seen { exit }
		on { line = line $0; seen = 1 } END { print line }' "$1" |
		tr -d ' \t"' | tr ',' '\n' | awk 'NF && NR % 2 == 0' | paste -sd,
}

t0=$SECONDS
for c in "${checks[@]}"; do
	case $c in
		filter-at-load) check_filter_at_load ;;
		eap-at-load) check_eap_at_load ;;
		profile) check_profile ;;
		*) echo "unknown check $c"; exit 2 ;;
	esac
done
echo "$passes passed, $fails failed ($((SECONDS - t0)) s; wireshark-qt $(dpkg-query -W -f='${Version}' wireshark-qt 2> /dev/null || echo '?'), plugin $so)"
[ "$fails" = 0 ]
