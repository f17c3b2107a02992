/* ike_hints.c — see ike_hints.h. The project's own short wording.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ike_hints.h"

#include <stddef.h>
#include <string.h>

/* At most ~150 characters each: Wireshark cuts tree and expert labels at 240, and the expert text
 * carries the state name and the capture-end caveat in front of the hint. */
static const char *const hints[IKS_H__COUNT] = {
	[IKS_H_NO_MM2] = "No answer to MM1: peer down, UDP 500 filtered, IKE off on its interface or wrong peer "
		"address. Capture at the peer too: MM1 lost or MM2 lost?",
	[IKS_H_NO_MM2_ICMP] = "ICMP unreachable from the peer: no IKE listener on UDP 500/4500 there (daemon "
		"down, crypto map / IKE not on that interface) or a filter.",
	[IKS_H_MM2_LOST] = "Responder re-sends MM2, MM3 never comes: MM2 does not reach the initiator (return "
		"path, NAT or firewall dropping UDP 500).",
	[IKS_H_NO_MM4] = "MM3 unanswered after MM2: on ASA/IOS usually no tunnel-group / pre-shared key for this "
		"peer address; else a middle box or interop.",
	[IKS_H_NO_MM5] = "No MM5 after MM4: initiator lacks a key or certificate, or MM5 left on UDP 4500 "
		"(NAT-T) and is blocked.",
	[IKS_H_MM5_UNUSABLE] = "Responder re-sends MM4 although MM5 came: it cannot decrypt MM5 — usually a "
		"pre-shared key mismatch (libreswan sends no notify).",
	[IKS_H_NO_MM6] = "MM5 unanswered: usually a pre-shared key mismatch (responder cannot decrypt MM5) or "
		"the peer rejects our identity. Check keys and IDs.",
	[IKS_H_NO_MM6_NATT] = "MM5 on UDP 4500 (NAT-T) unanswered: UDP 4500 blocked on the path, or a "
		"pre-shared key mismatch / rejected identity.",
	[IKS_H_NO_AM2] = "No answer to AM1: peer unreachable, UDP 500 filtered, aggressive mode off, or no "
		"group / pre-shared key for the identity sent.",
	[IKS_H_NO_AM3] = "Responder re-sends AM2, no AM3: the initiator rejected AM2 (pre-shared key mismatch) "
		"or AM2 does not reach it.",
	[IKS_H_NO_QM2] = "QM1 unanswered: peer drops the phase-2 proposal (proxy IDs / crypto ACLs, transform "
		"set, PFS) or lost the IKE SA (rebooted).",
	[IKS_H_NO_QM3] = "QM responder re-sends QM2: no acceptable QM3 reaches it (QM2 rejected by the "
		"initiator, or QM3 lost on the way).",
	[IKS_H_P1_NO_PROPOSAL] = "Every phase-1 proposal refused: IKE policy mismatch (encryption, hash, DH "
		"group, authentication, lifetime).",
	[IKS_H_P2_NO_PROPOSAL] = "Phase-2 proposal refused: transform set, PFS group or encapsulation "
		"(tunnel / transport, NAT-T UDP) differ.",
	[IKS_H_INVALID_COOKIE] = "Peer has no IKE SA for these cookies: rebooted or deleted it, or (ASA) no "
		"tunnel-group / pre-shared key matches this peer.",
	[IKS_H_P1_AUTH] = "Phase-1 authentication failed: pre-shared key mismatch, or certificate / identity "
		"refused.",
	[IKS_H_P1_ID] = "Phase-1 identity refused: check the peer IDs (address, FQDN, certificate DN).",
	[IKS_H_P2_PROXY_ID] = "Proxy IDs differ: crypto ACLs / traffic selectors must mirror each other; check "
		"NAT exemption.",
	[IKS_H_NOTIFY] = "The peer refused with an error notify; see its type.",
	[IKS_H_P1_REJECTED_MM5] = "Encrypted notify answers MM5: the responder cannot authenticate us, usually "
		"a pre-shared key mismatch. Load the key to read it.",
	[IKS_H_P1_REJECTED_AM2] = "Encrypted notify instead of AM3: the initiator cannot verify AM2, usually a "
		"pre-shared key mismatch.",
	[IKS_H_P2_REJECTED] = "Encrypted notify instead of QM2: phase 2 refused — proxy IDs, transform set or "
		"PFS. Load the IKE key to see which.",
	[IKS_H_PEER_DEAD] = "The peer answers none of the encrypted Informationals (DPD R-U-THERE): peer "
		"down, path broken or its SA gone; the tunnel will be torn down.",
	[IKS_H_P1_RESET_AFTER_P2] = "New phase 1 right after a phase-2 failure between these peers: phase 2 "
		"fails, not phase 1.",
	[IKS_H_V2_NO_INIT_RESP] = "No answer to IKE_SA_INIT: peer down or unreachable, UDP 500 filtered, wrong "
		"peer address, or no IKEv2 on the peer (IKEv1 only).",
	[IKS_H_V2_INIT_RESP_LOST] = "Responder re-sends its IKE_SA_INIT answer, no IKE_AUTH follows: the answer "
		"does not reach the initiator (return path, NAT, firewall).",
	[IKS_H_V2_NO_AUTH_REQ] = "IKE_SA_INIT answered, but no IKE_AUTH follows: the initiator dropped the "
		"answer (proposal, DH group, NAT detection) or has no credentials.",
	[IKS_H_V2_RETRY_LOOP] = "IKE_SA_INIT answered with COOKIE / INVALID_KE_PAYLOAD again and again: the "
		"retries do not converge (DH groups, cookie handling).",
	[IKS_H_V2_INIT_NO_PROPOSAL] = "Every IKE proposal refused: IKEv2 proposals differ (encryption, "
		"integrity / PRF, DH group).",
	[IKS_H_V2_MAJOR_VERSION] = "The peer refuses IKEv2 (INVALID_MAJOR_VERSION): it runs IKEv1 only for this "
		"peer. Enable IKEv2 there or use IKEv1.",
	[IKS_H_V2_NO_AUTH_RESP] = "IKE_AUTH unanswered: the responder drops it (no matching profile, identity "
		"or certificate) or it is lost on the way. Check IDs, keys, path.",
	[IKS_H_V2_NO_AUTH_RESP_NATT] = "IKE_AUTH on UDP 4500 (NAT-T) unanswered: UDP 4500 blocked on the path, "
		"or the responder drops it (profile, identity).",
	[IKS_H_V2_NO_AUTH_RESP_IKEFRAG] = "IKE_AUTH sent as IKEv2 fragments, unanswered: fragments lost (MTU, "
		"filters) or the peer cannot reassemble. Check MTU / fragment size.",
	[IKS_H_V2_NO_AUTH_RESP_BIG] = "Large IKE_AUTH (IP fragments) unanswered: fragments are likely dropped "
		"(MTU, firewall). Enable IKEv2 fragmentation or lower the MTU.",
	[IKS_H_V2_AUTH_RESP_LOST] = "Responder re-sends its IKE_AUTH answer: it does not reach the initiator "
		"(return path, or the large answer is lost to fragmentation).",
	[IKS_H_V2_AUTH_FAILED] = "IKE_AUTH refused: pre-shared key mismatch, or identity / certificate not "
		"accepted. Check keys, IDs and the CA.",
	[IKS_H_V2_AUTH_REJECTED] = "IKE_AUTH answered by notifies only (no IDr): almost surely "
		"AUTHENTICATION_FAILED — PSK, ID or certificate. Load keys to read it.",
	[IKS_H_V2_TS] = "Traffic selectors refused: crypto ACLs / proxy IDs must mirror each other. The IKE SA "
		"itself may be up.",
	[IKS_H_V2_CHILD_NO_PROPOSAL] = "Child SA proposal refused: ESP transform set or PFS group differ. The "
		"IKE SA itself may be up.",
	[IKS_H_V2_CHILD_REJECTED] = "Child SA request answered by notifies only: refused (transform set, PFS "
		"group, traffic selectors) or a retry asked. Load keys to read it.",
	[IKS_H_V2_CP] = "Remote-access configuration refused: address pool exhausted, or the client sent no "
		"configuration request.",
	[IKS_H_V2_REDIRECT] = "The gateway redirects the client to another gateway (REDIRECT, load balancing): "
		"see the attempt to the new address.",
	[IKS_H_V2_SYNTAX] = "The peer found a message malformed or could not verify it (INVALID_SYNTAX): interop "
		"problem, or keys out of step.",
	[IKS_H_V2_INVALID_SPI] = "The peer has no IKE SA for these SPIs: it rebooted or deleted it.",
	[IKS_H_V2_PEER_DEAD] = "Requests under the IKE SA go unanswered (liveness check / DPD): peer down, path "
		"broken or its SA gone; the SA will be deleted.",
	[IKS_H_DELETE_INFERRED] = "Unanswered encrypted Informationals from one side end the IKE SA, then a new IKE SA or "
		"silence: most likely Deletes. With the keys the Delete payload makes it exact.",
	[IKS_H_P1_CHOICE_REFUSED] = "The initiator refused the responder's choice (MM2 / AM2): it does not match what the "
		"initiator offered or accepts. Compare both sides' IKE policies.",
	[IKS_H_PEER_ALIVE] = "Unanswered, yet the peer started its own negotiation later, which completed: it is up and "
		"reachable. It drops or never gets this initiator's requests: filter on the way in, peer address / "
		"crypto map, or a policy for this initiator.",
	[IKS_H_P1_KEYS_DIFFER] = "Pre-shared key mismatch, proven: the initiator's key decrypts its own MM5, not the "
		"responder's answer. The two sides derived different keys.",
	[IKS_H_MM2_NO_MM3] = "MM2 sent, no MM3 came: the initiator dropped MM2 or never got it (return path, NAT, "
		"firewall), or it is a probe (scanners never send MM3). Capture at the initiator to tell.",
	[IKS_H_AM2_NO_AM3] = "AM2 sent, no AM3 came: the initiator rejected AM2 (pre-shared key, identity) or never got "
		"it (return path), or it is a probe.",
	[IKS_H_LOST_BETWEEN_POINTS] = "Lost between the capture points: a message of this negotiation left one "
		"point and never reached the other (ikestate.missing_at). Check what lies between them: filter, NAT, "
		"route, MTU.",
	[IKS_H_XAUTH_FAILED] = "XAUTH refused by the gateway (XAUTH_STATUS FAIL): wrong user name or password, "
		"the AAA / RADIUS server rejected the user, or the group policy does not admit them. Check the "
		"gateway's AAA log for this user.",
	[IKS_H_RA_NO_QM] = "Remote access refused after phase 1: transaction exchanges (XAUTH, mode-config) and then "
		"no quick mode. Most likely the user was refused (XAUTH credentials, AAA / RADIUS server, group "
		"policy) or no address was given; with the keys XAUTH_STATUS shows which.",
	[IKS_H_RA_UNFINISHED] = "Remote access unfinished after phase 1: transaction exchanges (XAUTH, mode-config), no "
		"quick mode yet. If it never comes the user was refused (XAUTH credentials, AAA / RADIUS server, group "
		"policy) or got no address; with the keys XAUTH_STATUS shows which.",
	[IKS_H_CFG_NO_ADDRESS] = "No address assigned: the mode-config answer lacks the internal address the client "
		"asked for. The gateway's address pool is exhausted or none is set for this group / user.",
	[IKS_H_EAP_FAILURE] = "EAP authentication failed: wrong user name or password (most often), an EAP method the two sides do "
		"not share, or the RADIUS server rejected the user. Check the gateway's RADIUS / EAP log.",
	[IKS_H_EAP_ENDED] = "EAP ended without success: the gateway's last IKE_AUTH answer carried EAP and the client "
		"sent no further IKE_AUTH. Most likely EAP Failure (credentials, EAP method, RADIUS reject) or the "
		"user gave up; with the keys the EAP code shows it.",
	[IKS_H_EAP_REJECTED] = "IKE_AUTH refused after the EAP rounds (answer of notifies only): the user was refused "
		"(credentials, RADIUS) or no address could be given (pool). Load keys to read the notify.",
	[IKS_H_EAP_NO_ANSWER] = "An EAP round of IKE_AUTH unanswered after earlier rounds were answered: the path "
		"works, the gateway waits for its RADIUS / AAA server (timeout, unreachable, shared secret). Check "
		"its RADIUS log.",
	[IKS_H_MM2_AT_INITIATOR] = "MM2 arrived here, at the initiator, and this host never sent MM3: look at this host "
		"(its log; proposal, identity or pre-shared key lookup), or it is a probe (scanners never send MM3).",
	[IKS_H_MM2_AT_RESPONDER] = "MM2 left this host, the responder, and no MM3 came back: the initiator dropped MM2 "
		"or never got it (path, NAT, firewall), or it is a probe. A capture at the initiator tells which.",
	[IKS_H_AM2_AT_INITIATOR] = "AM2 arrived here, at the initiator, and this host never sent AM3: it rejected AM2 "
		"(pre-shared key, identity; its log says which), or it is a probe.",
	[IKS_H_AM2_AT_RESPONDER] = "AM2 left this host, the responder, and no AM3 came back: the initiator rejected it "
		"(pre-shared key, identity) or never got it (path), or it is a probe.",
	[IKS_H_MM3_AT_INITIATOR] = "MM3 left this host, the initiator, and no MM4 came back: the responder has no key "
		"for this peer (ASA: tunnel-group; IOS: crypto isakmp key) or MM3 is lost on the way. A capture at "
		"the responder tells which.",
	[IKS_H_MM3_AT_RESPONDER] = "MM3 arrived here, at the responder, and this host did not answer: it has no "
		"pre-shared key / tunnel-group for this peer address, or rejected the KE; its log says which.",
	[IKS_H_V2_INIT_AT_INITIATOR] = "The IKE_SA_INIT answer arrived here, at the initiator, and this host sent no "
		"IKE_AUTH: it rejected the answer (proposal, DH group) or has no credentials; its log says which.",
	[IKS_H_V2_INIT_AT_RESPONDER] = "The IKE_SA_INIT answer left this host, the responder, and no IKE_AUTH came: the "
		"initiator dropped it or never got it (path, NAT). A capture at the initiator tells which.",
	[IKS_H_V2_AUTH_AT_INITIATOR] = "IKE_AUTH left this host, the initiator, and no answer came back: the responder "
		"drops it (profile, identity, certificate) or it is lost (fragments, UDP 4500). A capture at the "
		"responder tells which.",
	[IKS_H_V2_AUTH_AT_RESPONDER] = "IKE_AUTH arrived here, at the responder, and this host never answered: no "
		"matching profile, identity or certificate; its log says which.",
	[IKS_H_ESP_ONE_WAY] = "The sender encrypts (encaps) but nothing comes back (decaps stay 0): on the far side "
		"check the route back into the tunnel, NAT exemption, a filter dropping ESP or UDP 4500, and that its "
		"IPsec SA is installed. Traffic that is one-way by nature (syslog, SNMP traps) looks the same.",
};

const char *iks_hint_text(unsigned h)
{
	return h < sizeof hints / sizeof hints[0] ? hints[h] : NULL;
}

size_t iks_hint_clause(const char *hint)
{
	return hint ? strcspn(hint, ":.") : 0;
}
