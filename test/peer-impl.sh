#!/usr/bin/env bash
# peer-impl.sh — ikestate.peer_impl and the summary's implementation columns on third-party
# captures whose origin ../shared/captures/public/INDEX.md states (read in place; skipped when
# ../shared is absent): the name must be the stated vendor's.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pub=$here/../../shared/captures/public
[ -d "$pub" ] || { echo "SKIP: $pub not present"; exit 77; }
fail=0
# CAPTURE FRAME EXPECTED-PREFIX — the origin as INDEX.md gives it.
check() {
	local got
	got=$("$here/tshark-plugin.sh" "$pub/$1" -2 -Y "frame.number == $2" -T fields -e ikestate.peer_impl)
	if [[ "$got" == "$3"* ]]; then echo "ok: $1 frame $2: $got"
	else echo "FAIL: $1 frame $2: peer_impl '$got', expected '$3…'"; fail=1; fi
}
check ndpi__esp.pcapng 1 Cisco                                # Cisco IOS FlexVPN, IKEv2
check ndpi__esp.pcapng 2 Cisco
check zeekspicyipsec__ikev1-certs.pcap 1 'Openswan / libreswan' # OpenSwan <-> Juniper
check tcpdump__ISAKMP_sa_setup.pcap 3 'Cisco'                 # Cisco <-> Cisco
check tcpdump__ISAKMP_sa_setup.pcap 4 'Cisco'
check libreswan__weirdike-eastwest.pcap 1 'Windows 2008'      # Windows 2008 AuthIP
# The summary's columns: both sides of the Cisco <-> Cisco negotiation.
row=$("$here/tshark-plugin.sh" "$pub/tcpdump__ISAKMP_sa_setup.pcap" -q -z ikestate,tunnels,csv | grep '^1,')
if [[ "$row" == *',"Cisco (Unity)","Cisco (Unity)",,0' ]]; then echo "ok: summary: $row"
else echo "FAIL: summary row: $row"; fail=1; fi
exit $fail
