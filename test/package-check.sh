#!/usr/bin/env bash
# package-check.sh BUILD_DIR — the Debian package (`cmake --build BUILD_DIR --target package`),
# installed with dpkg into a private root folder, never into this system (a system-wide ikestate.so
# next to the personal ones the other tests use would be registered twice). In that root:
#   (a) ikestate.so is where this system's Wireshark looks for plugins ("Global Plugins" of
#       tshark -G folders)/epan, owned by the package, and the package holds nothing else than the
#       plugin, the profile and its /usr/share/doc folder;
#   (b) tshark, as an unprivileged user, lists the plugin with WIRESHARK_PLUGIN_DIR in the root;
#   (c) a user with no profile of his own uses `-C IKE-Troubleshooting` from the package's global
#       profiles folder (WIRESHARK_DATA_DIR in the root): its colouring rules are applied (the
#       rules expected in test/expected/colour/rules.txt, the rule's colour with --color);
#   (d) Depends names the libwireshark package the plugin is linked against (Debian 12: libwireshark16);
#   (e) `dpkg -r` leaves no file of the package behind;
# and lintian finds no error (when lintian is installed).
# Exit 77 (skipped) without dpkg-deb / dpkg-shlibdeps (apt-get install dpkg-dev).
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
for tool in dpkg dpkg-deb dpkg-shlibdeps; do
	command -v "$tool" > /dev/null ||
		{ echo "SKIP: $tool not found (apt-get install dpkg-dev): no Debian package to check"; exit 77; }
done
tmp=$(mktemp -d /tmp/ikestate-package.XXXXXX); trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# What this system's Wireshark expects (not what the build thinks): its global plugin and data folders.
folders=$(env -u WIRESHARK_PLUGIN_DIR -u WIRESHARK_DATA_DIR tshark -G folders 2> /dev/null)
plugin_dir=$(sed -n 's/^Global Plugins:[[:space:]]*//p' <<< "$folders")      # .../plugins/<major.minor>
data_dir=$(sed -n 's/^Global configuration:[[:space:]]*//p' <<< "$folders")  # /usr/share/wireshark
[ -n "$plugin_dir" ] && [ -n "$data_dir" ] || { echo "FAIL: tshark -G folders names no global folders"; exit 1; }
host_state=$(dpkg-query -W -f='${Status}' ikestate-wireshark 2> /dev/null || true)

# Build it afresh: an older .deb left in BUILD_DIR must not be what is tested.
rm -f "$build"/ikestate-wireshark_*.deb
cmake --build "$build" --target package > "$tmp/package.log" 2>&1 ||
	{ cat "$tmp/package.log"; echo "FAIL: cmake --build $build --target package"; exit 1; }
debs=("$build"/ikestate-wireshark_*.deb)
[ ${#debs[@]} = 1 ] && [ -f "${debs[0]}" ] || { cat "$tmp/package.log"; echo "FAIL: no single $build/ikestate-wireshark_*.deb"; exit 1; }
deb=${debs[0]}
pkg=$(dpkg-deb -f "$deb" Package)
echo "package: ${deb#"$build/"} ($pkg $(dpkg-deb -f "$deb" Version))"

# (d) Depends: the package of the libwireshark the plugin needs, found from the plugin itself.
dpkg-deb -x "$deb" "$tmp/x"
so_x=$(find "$tmp/x" -name ikestate.so)
needed=$(readelf -d "$so_x" 2> /dev/null | sed -n 's/.*(NEEDED).*\[\(libwireshark\.so\.[0-9]*\)\].*/\1/p' || true)
lib_pkg=$(dpkg -S "*/$needed" 2> /dev/null | sed -n '1s/[:,].*//p' || true)
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
if [ -z "$lib_pkg" ]; then
	bad "no installed package holds $needed (NEEDED by the plugin: '${needed:-none}')"
elif grep -Eq "(^|, )$lib_pkg( |,|$)" <<< "$depends"; then
	echo "ok   (d) Depends names $lib_pkg (the owner of $needed)"
else
	bad "(d) Depends does not name $lib_pkg (the owner of $needed)"
fi

# The files: only the plugin, the profile and the doc folder.
dpkg-deb --fsys-tarfile "$deb" | tar -t | sed 's|^\./|/|' | grep -v '/$' > "$tmp/files"
doc=/usr/share/doc/$pkg
want=("$plugin_dir/epan/ikestate.so" "$data_dir/profiles/IKE-Troubleshooting/colorfilters"
      "$data_dir/profiles/IKE-Troubleshooting/preferences" "$doc/copyright" "$doc/changelog.gz"
      "$doc/README.md" "$doc/fields.txt")
for f in "${want[@]}"; do grep -qxF "$f" "$tmp/files" || bad "the package has no $f"; done
others=$(grep -vxF "$plugin_dir/epan/ikestate.so" "$tmp/files" |
	grep -vE "^($data_dir/profiles/IKE-Troubleshooting|$doc)/[^/]+$" || true)
[ -z "$others" ] || bad "files outside the plugin, profile and doc folders: $others"

# Install into a private root: its own dpkg database and log; dependencies are this system's
# (WIRESHARK_PLUGIN_DIR / WIRESHARK_DATA_DIR point tshark into the root), not the root's.
root=$tmp/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status"
dpkg_root=(dpkg --root="$root" --log="$tmp/dpkg.log" --force-not-root)
# --path-include: undo any path-exclude of this system's dpkg.cfg.d (docker images drop /usr/share/doc).
"${dpkg_root[@]}" --force-depends --path-include='*' -i "$deb" > "$tmp/dpkg-i.log" 2>&1 ||
	{ cat "$tmp/dpkg-i.log"; echo "FAIL: dpkg --root -i"; exit 1; }

# (a) the plugin where Wireshark looks, owned by the package; so are the profile and the docs.
so=$root$plugin_dir/epan/ikestate.so
if [ -f "$so" ]; then echo "ok   (a) $plugin_dir/epan/ikestate.so"; else bad "(a) no $plugin_dir/epan/ikestate.so in the root"; fi
for f in "${want[@]}"; do
	owner=$("${dpkg_root[@]}" -S "$f" 2> /dev/null | sed -n '1s/:.*//p' || true)
	[ "$owner" = "$pkg" ] || bad "$f is not owned by $pkg (owner: '${owner:-none}')"
done

# The field reference is the plugin's own list (tshark -G fields at package time), not empty.
grep -q '^ikestate\.state (string)$' "$root$doc/fields.txt" 2> /dev/null ||
	bad "$doc/fields.txt does not describe ikestate.state"

# As an unprivileged user (tshark ignores WIRESHARK_PLUGIN_DIR for root), with an empty HOME:
# no personal plugin, no personal profile.
mkdir -p "$tmp/home"
cp "$here/captures/gen-retrans.pcap" "$here/captures/gen-natt.pcap" "$tmp/"
chmod -R a+rX "$tmp"; chmod a+rwx "$tmp/home"
envs=(HOME="$tmp/home" WIRESHARK_PLUGIN_DIR="$root$(dirname "$plugin_dir")" WIRESHARK_DATA_DIR="$root$data_dir"
      PATH=/usr/bin:/bin TZ=UTC LC_ALL=C.UTF-8)
run() {
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid=65534 --regid=65534 --clear-groups env -i "${envs[@]}" "$@"
	else
		env -i "${envs[@]}" "$@"
	fi
}

# (b) tshark lists the plugin, from the root.
listed=$(run tshark -G plugins 2> /dev/null | awk -F'\t' '$1 ~ /^ikestate\.so *$/ { print $NF }' || true)
if [ "$listed" = "$so" ]; then echo "ok   (b) tshark -G plugins: $listed"; else bad "(b) tshark -G plugins lists ikestate.so at '${listed:-nowhere}', not $so"; fi

# (c) the global profile: expected rules (test/expected/colour/rules.txt) on two captures, one
# of them Wireshark's default UDP rule that the package appended below the IKE ones.
checked=0
for cap in gen-retrans.pcap gen-natt.pcap; do
	run tshark -r "$tmp/$cap" -C IKE-Troubleshooting --color -2 -T fields -e frame.number \
		-e frame.coloring_rule.name > "$tmp/out" 2> "$tmp/err" || { cat "$tmp/err"; bad "(c) tshark -C IKE-Troubleshooting on $cap"; continue; }
	[ ! -s "$tmp/err" ] || { cat "$tmp/err"; bad "(c) tshark warned on $cap"; }
	while IFS=$'\t' read -r c frame want_rule _; do
		[ "$c" = "$cap" ] || continue
		checked=$((checked + 1))
		got=$(awk -F'\t' -v f="$frame" '$1 == f { print $2 }' "$tmp/out")
		[ "$got" = "$want_rule" ] || bad "(c) $cap frame $frame: rule '$got', expected '$want_rule'"
	done < <(grep -v '^#' "$here/expected/colour/rules.txt")
done
[ "$checked" -ge 4 ] || bad "(c) only $checked frames checked"
# And the colours themselves: --color adds them to PSML (escape codes only go to a truecolor terminal).
# Frame 3 of gen-retrans is "IKE stalled" (rules.txt): the background of that rule in the installed file.
bg=$(awk -F'@' '$2 == "IKE stalled" { split($4, c, /[][,]/); printf "#%02x%02x%02x", c[2] / 257, c[3] / 257, c[4] / 257 }' \
	"$root$data_dir/profiles/IKE-Troubleshooting/colorfilters" 2> /dev/null || true)
got_bg=$(run tshark -r "$tmp/gen-retrans.pcap" -C IKE-Troubleshooting --color -2 -T psml 2> /dev/null |
	grep -o "<packet [^>]*>" | sed -n "3s/.*background='\([^']*\)'.*/\1/p" || true)
if [ -n "$bg" ] && [ "$got_bg" = "$bg" ]; then
	echo "ok   (c) -C IKE-Troubleshooting from the global profile: $checked frames' rules as expected, frame 3 background $got_bg"
else
	bad "(c) frame 3 of gen-retrans.pcap: background '$got_bg', expected the 'IKE stalled' rule's '$bg'"
fi

# lintian, when installed (~3 s): no error.
if command -v lintian > /dev/null; then
	if lintian --fail-on error "$deb" > "$tmp/lintian" 2>&1; then
		echo "ok   lintian: no error"
		grep -E '^[EW]:' "$tmp/lintian" | sed 's/^/     /' || true
	else
		cat "$tmp/lintian"; bad "lintian reports errors"
	fi
else
	echo "note: lintian not installed, not run"
fi

# (e) removal: nothing of the package left (dpkg's own database aside).
"${dpkg_root[@]}" -r "$pkg" > "$tmp/dpkg-r.log" 2>&1 || { cat "$tmp/dpkg-r.log"; bad "(e) dpkg --root -r"; }
left=$(cd "$root" && find . -path ./var/lib/dpkg -prune -o ! -type d -print)
leftdirs=$(cd "$root" && find . -mindepth 1 -path ./var -prune -o -type d -print)
if [ -z "$left$leftdirs" ]; then echo "ok   (e) dpkg -r left nothing"; else bad "(e) left after dpkg -r: $left $leftdirs"; fi

# This system's own dpkg database was not touched.
[ "$(dpkg-query -W -f='${Status}' ikestate-wireshark 2> /dev/null || true)" = "$host_state" ] ||
	bad "this system's dpkg status of ikestate-wireshark changed"
[ "$fail" = 0 ] && echo "package check passed"
exit "$fail"
