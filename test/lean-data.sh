# shellcheck shell=bash
# lean-data.sh — sourced by test/tshark-plugin.sh and test/robustness/common.sh.
# lean_data_dir DIR: make DIR a Wireshark data folder of links to the system one, without the two
# name-resolution tables that Wireshark 4.0 parses at every start: manuf (MAC vendors) and
# enterprises.tsv (SNMP enterprise numbers). They are half of tshark's start-up (callgrind,
# `tshark -r` of a 33-frame capture: 870 M instructions, 672 M without manuf, 684 M without
# enterprises.tsv), the suite starts tshark about a thousand times, and nothing the tests compare
# is a MAC vendor or an enterprise name. Prints DIR, or nothing when there is no system folder.
lean_data_dir() {
	local sys=/usr/share/wireshark
	[ -d "$sys" ] || return 0
	mkdir -p "$1"
	ln -s "$sys"/* "$1"/
	rm -f "$1/manuf" "$1/enterprises.tsv"
	echo "$1"
}
