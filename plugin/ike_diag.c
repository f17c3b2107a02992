/* ike_diag.c — where an IKE negotiation hangs, why it usually hangs there, and on which packet
 * to say so. Rules of issue #4 (IKEv1) and #8 (IKEv2); domain facts:
 * ../shared/reference/ike-states.md §3, §5.9, §6, §7, §8.3.
 * The hints are the project's own short wording: likely causes first, then what to check.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ike_fsm_int.h"

#include <string.h>

/* ---------------------------------------------------------------------------------------------
 * Names and texts
 */
static const char *const notify_names[] = {
	[1] = "INVALID_PAYLOAD_TYPE", [2] = "DOI_NOT_SUPPORTED", [3] = "SITUATION_NOT_SUPPORTED",
	[4] = "INVALID_COOKIE", [5] = "INVALID_MAJOR_VERSION", [6] = "INVALID_MINOR_VERSION",
	[7] = "INVALID_EXCHANGE_TYPE", [8] = "INVALID_FLAGS", [9] = "INVALID_MESSAGE_ID",
	[10] = "INVALID_PROTOCOL_ID", [11] = "INVALID_SPI", [12] = "INVALID_TRANSFORM_ID",
	[13] = "ATTRIBUTES_NOT_SUPPORTED", [14] = "NO_PROPOSAL_CHOSEN", [15] = "BAD_PROPOSAL_SYNTAX",
	[16] = "PAYLOAD_MALFORMED", [17] = "INVALID_KEY_INFORMATION", [18] = "INVALID_ID_INFORMATION",
	[19] = "INVALID_CERT_ENCODING", [20] = "INVALID_CERTIFICATE", [21] = "CERT_TYPE_UNSUPPORTED",
	[22] = "INVALID_CERT_AUTHORITY", [23] = "INVALID_HASH_INFORMATION", [24] = "AUTHENTICATION_FAILED",
	[25] = "INVALID_SIGNATURE", [26] = "ADDRESS_NOTIFICATION", [27] = "NOTIFY_SA_LIFETIME",
	[28] = "CERTIFICATE_UNAVAILABLE", [29] = "UNSUPPORTED_EXCHANGE_TYPE", [30] = "UNEQUAL_PAYLOAD_LENGTHS",
};

/* IKEv2 notify types (RFC 7296 §3.10.1, IANA) where the name differs from IKEv1's. */
static const char *v2_notify_name(unsigned t)
{
	static const char *const errors[] = {
		[1] = "UNSUPPORTED_CRITICAL_PAYLOAD", [4] = "INVALID_IKE_SPI", [5] = "INVALID_MAJOR_VERSION",
		[7] = "INVALID_SYNTAX", [9] = "INVALID_MESSAGE_ID", [11] = "INVALID_SPI",
		[14] = "NO_PROPOSAL_CHOSEN", [17] = "INVALID_KE_PAYLOAD", [24] = "AUTHENTICATION_FAILED",
		[34] = "SINGLE_PAIR_REQUIRED", [35] = "NO_ADDITIONAL_SAS", [36] = "INTERNAL_ADDRESS_FAILURE",
		[37] = "FAILED_CP_REQUIRED", [38] = "TS_UNACCEPTABLE", [39] = "INVALID_SELECTORS",
		[40] = "UNACCEPTABLE_ADDRESSES", [41] = "UNEXPECTED_NAT_DETECTED", [42] = "USE_ASSIGNED_HoA",
		[43] = "TEMPORARY_FAILURE", [44] = "CHILD_SA_NOT_FOUND", [45] = "INVALID_GROUP_ID",
		[46] = "AUTHORIZATION_FAILED", [47] = "STATE_NOT_FOUND",
	};
	if (t < G_N_ELEMENTS(errors) && errors[t])
		return errors[t];
	switch (t) {
	case 16390: return "COOKIE";
	case 16407: return "REDIRECT";
	}
	return t < 8192 ? "ERROR_NOTIFY" : t < 16384 ? "PRIVATE_ERROR_NOTIFY" : "STATUS_NOTIFY";
}

const char *iks_failed_name(unsigned f)
{
	switch (f) {
	case 0: return NULL;
	case IKS_F_ICMP_UNREACHABLE: return "ICMP_UNREACHABLE";
	case IKS_F_PHASE1_REJECTED: return "PHASE1_REJECTED";
	case IKS_F_PHASE2_REJECTED: return "PHASE2_REJECTED";
	case IKS_F_PEER_DEAD: return "PEER_DEAD";
	case IKS_F_AUTH_REJECTED: return "AUTH_REJECTED";
	case IKS_F_CHILD_REJECTED: return "CHILD_REJECTED";
	}
	if ((f & IKS_F_V2) && f < IKS_F_ICMP_UNREACHABLE)
		return v2_notify_name(f & ~IKS_F_V2);
	if (f < G_N_ELEMENTS(notify_names) && notify_names[f])
		return notify_names[f];
	return f < 8192 ? "ERROR_NOTIFY" : "PRIVATE_ERROR_NOTIFY";
}

const char *iks_stalled_name(unsigned s)
{
	return s < IKS_S__COUNT ? iks_state_name(s) : iks_qm_state_name(s - IKS_S__COUNT);
}

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
	[IKS_H_DELETE_INFERRED] = "The IKE SA ends with encrypted Informationals from one side, unanswered, then a "
		"new IKE SA or silence: most likely Deletes. With the keys the Delete payload makes it exact.",
	[IKS_H_ESP_ONE_WAY] = "The sender encrypts (encaps) but nothing comes back (decaps stay 0): on the far side "
		"check the route back into the tunnel, NAT exemption, a filter dropping ESP or UDP 4500, and that its "
		"IPsec SA is installed. Traffic that is one-way by nature (syslog, SNMP traps) looks the same.",
};

const char *iks_hint_text(unsigned h)
{
	return h < G_N_ELEMENTS(hints) ? hints[h] : NULL;
}

/* ---------------------------------------------------------------------------------------------
 * Attempts: IKE SAs between the same two addresses
 */
/* The pair table holds the latest IKE SA between two addresses, itself the key: the addresses of
 * its first message (ref, peer, which never change) in either order, ports left out. Its attempt
 * number is the count of the pair. */
static guint pair_hash(gconstpointer k)
{
	const iks_tunnel *t = k;
	const iks_addr *a = &t->ref, *b = &t->peer;
	bool swap = a->len != b->len ? a->len > b->len : memcmp(a->bytes, b->bytes, a->len) > 0;
	return iks_addr_pair_hash(2166136261u, swap ? b : a, swap ? a : b);
}

static gboolean pair_equal(gconstpointer x, gconstpointer y)
{
	const iks_tunnel *p = x, *q = y;
	return (iks_addr_eq(&p->ref, &q->ref) && iks_addr_eq(&p->peer, &q->peer)) ||
	       (iks_addr_eq(&p->ref, &q->peer) && iks_addr_eq(&p->peer, &q->ref));
}

static bool is_up(const iks_tunnel *t)
{
	return !t->failed && (t->version == 1 ? iks_completes_phase1(t->p1_pos) : t->v2_state == IKS_S_READY);
}

/* The IKE SA that ESP between a and b belongs to: the latest one up between them (a failed
 * re-negotiation does not take the ESP of the SA still up), else the latest one. */
const iks_tunnel *iks_diag_tunnel_between(const iks_fsm *fsm, const iks_addr *a, const iks_addr *b)
{
	iks_tunnel key; /* only its addresses are read */
	key.ref = *a;
	key.peer = *b;
	const iks_tunnel *last = fsm->pairs ? g_hash_table_lookup(fsm->pairs, &key) : NULL, *t = last;
	for (unsigned i = 0; t && i < 8; i++, t = iks_tunnel_at(fsm, t->prev_same_pair)) /* bounded: O(1) per new SA */
		if (is_up(t))
			return t;
	return last;
}

void iks_diag_new_tunnel(iks_fsm *fsm, iks_tunnel *t, const iks_msg *m)
{
	if (!fsm->pairs)
		fsm->pairs = g_hash_table_new(pair_hash, pair_equal);
	iks_tunnel *prev = g_hash_table_lookup(fsm->pairs, t); /* t's addresses are m's */
	t->attempt = prev ? prev->attempt : 0;
	if (t->attempt < UINT16_MAX)
		t->attempt++;
	/* ASA's "Rekey: yes" SA: a new IKE SA while the previous one between the peers is up. Without
	 * keys a delete of the old one is not seen, so a re-negotiation after it also counts. An IKEv2
	 * SA rekeyed by CREATE_CHILD_SA shows up without IKE_SA_INIT, often after the old one's delete. */
	if (prev && prev->version == m->version &&
	    (is_up(prev) || (m->version == 2 && !prev->failed && prev->v2_state == IKS_S_DELETE &&
			     m->exch != IKS_EXCH_IKE_SA_INIT)))
		t->rekey_of = prev->index;
	t->reset_after_p2 = prev && prev->p2_failed && m->rspi == 0 &&
			    (m->exch == IKS_EXCH_MAIN || m->exch == IKS_EXCH_AGGRESSIVE);
	t->prev_same_pair = prev ? prev->index : 0;
	g_hash_table_add(fsm->pairs, t); /* replaces prev */
}

void iks_diag_free(iks_fsm *fsm)
{
	iks_esp_free(fsm);
	if (fsm->pairs)
		g_hash_table_destroy(fsm->pairs);
}

/* ---------------------------------------------------------------------------------------------
 * Verdicts
 */
static uint8_t stalled_qm(uint8_t qm_state) { return (uint8_t)(IKS_S__COUNT + qm_state); }

/* Where a negotiation hangs, as the state of the side that sent the furthest message. */
static iks_hint hint_for_stall(const iks_tunnel *t, uint8_t stalled)
{
	static const uint8_t by_state[IKS_S__COUNT + IKS_QM__COUNT] = {
		[IKS_S_MM_WAIT_MSG2] = IKS_H_NO_MM2, [IKS_S_MM_WAIT_MSG3] = IKS_H_MM2_LOST,
		[IKS_S_MM_WAIT_MSG4] = IKS_H_NO_MM4, [IKS_S_MM_WAIT_MSG5] = IKS_H_NO_MM5,
		[IKS_S_MM_WAIT_MSG6] = IKS_H_NO_MM6, [IKS_S_AM_WAIT_MSG2] = IKS_H_NO_AM2,
		[IKS_S_AM_WAIT_MSG3] = IKS_H_NO_AM3,
		[IKS_S__COUNT + IKS_QM_WAIT_MSG2] = IKS_H_NO_QM2, [IKS_S__COUNT + IKS_QM_WAIT_MSG3] = IKS_H_NO_QM3,
	};
	if (t->version == 2)
		return iks_v2_stall_hint(t);
	if (t->fail_hint)
		return (iks_hint)t->fail_hint; /* the peer said why, or the ICMP error did */
	iks_hint h = stalled < G_N_ELEMENTS(by_state) ? (iks_hint)by_state[stalled] : IKS_H_NONE;
	if (h == IKS_H_NO_MM2 && t->icmp)
		h = IKS_H_NO_MM2_ICMP;
	if (h == IKS_H_NO_MM6 && t->natt)
		h = IKS_H_NO_MM6_NATT;
	if (h == IKS_H_NO_MM5 && t->p1_pos >= IKS_M_MM5)
		h = IKS_H_MM5_UNUSABLE;
	return h;
}

static iks_hint hint_for_notify(unsigned type, bool phase2)
{
	switch (type) {
	case 4: return IKS_H_INVALID_COOKIE;
	case 14: return phase2 ? IKS_H_P2_NO_PROPOSAL : IKS_H_P1_NO_PROPOSAL;
	case 18: return phase2 ? IKS_H_P2_PROXY_ID : IKS_H_P1_ID;
	case 16: case 23: case 24: case 25: return phase2 ? IKS_H_NOTIFY : IKS_H_P1_AUTH;
	default: return IKS_H_NOTIFY;
	}
}

static void fail(iks_tunnel *t, iks_result *r, uint16_t code, iks_hint h)
{
	r->failed = code;
	r->hint = (uint8_t)h;
	r->flags |= IKS_R_REFUSED;
	if (!t->failed) {
		t->failed = code;
		t->fail_hint = (uint8_t)h;
	}
}

static void stall(iks_tunnel *t, iks_result *r, uint8_t stalled)
{
	if (!stalled)
		return;
	r->stalled = stalled;
	r->flags |= IKS_R_STALL;
	if (!r->hint)
		r->hint = (uint8_t)hint_for_stall(t, stalled);
}

/* An Informational: refusal by a notify we can read, or by one we can place but not read. */
static void informational(iks_tunnel *t, const iks_msg *m, unsigned dir, iks_result *r)
{
	bool p1_done = iks_completes_phase1(t->p1_pos);
	for (unsigned i = 0; i < m->n_notify; i++) {
		if (m->notify[i] > 0 && m->notify[i] < 16384) {
			fail(t, r, m->notify[i], hint_for_notify(m->notify[i], p1_done));
			if (p1_done) {
				t->p2_failed = true;
				t->pending_qm = NULL;
			}
			return;
		}
	}
	if (!(m->flags & IKS_FLAG_ENCRYPTED) || m->n_notify)
		return; /* readable and no error (DPD, INITIAL-CONTACT, lifetimes…) */
	iks_role sender = iks_role_of(t, dir);
	if (!p1_done && t->mode == IKS_EXCH_MAIN && sender == IKS_ROLE_RESPONDER &&
	    (t->p1_pos == IKS_M_MM4 || t->p1_pos == IKS_M_MM5)) {
		fail(t, r, IKS_F_PHASE1_REJECTED, IKS_H_P1_REJECTED_MM5);
	} else if (!p1_done && t->mode == IKS_EXCH_AGGRESSIVE && sender == IKS_ROLE_INITIATOR &&
		   t->p1_pos == IKS_M_AM2) {
		fail(t, r, IKS_F_PHASE1_REJECTED, IKS_H_P1_REJECTED_AM2);
	} else if (p1_done && t->pending_qm && dir != t->pending_qm->qm_init_dir) {
		fail(t, r, IKS_F_PHASE2_REJECTED, IKS_H_P2_REJECTED);
		t->p2_failed = true;
		t->pending_qm = NULL;
	}
}

/* Dead peer: a side keeps sending encrypted Informationals (DPD R-U-THERE, each under a new message
 * ID) and hears nothing back; as many as make a stall for resends, plus the first, over a second
 * at least (DPD retries are seconds apart; Deletes of several SAs go out together). */
static void dead_peer(const iks_fsm *fsm, iks_tunnel *t, const iks_msg *m, unsigned dir, iks_result *r)
{
	const iks_result *prev = t->tail;
	t->unanswered[!dir] = 0; /* this side spoke: the other was not talking to a dead peer */
	if (m->exch != IKS_EXCH_INFO || !(m->flags & IKS_FLAG_ENCRYPTED) || !iks_completes_phase1(t->p1_pos) ||
	    r->failed)
		return;
	if (iks_has_notify(m, 36137)) /* R-U-THERE-ACK: the peer is alive */
		return;
	if (t->unanswered[dir] == 0) {
		t->unanswered_ns = m->ts_ns;
		t->run_answers = prev && prev->msg == IKS_M_INFO && prev->role && prev->role != r->role &&
				 m->ts_ns - (t->first_ns + prev->elapsed_ns) < IKS_ANSWER_NS;
	}
	if (t->unanswered[dir] < UINT8_MAX)
		t->unanswered[dir]++;
	if (fsm->cfg.stall_retransmissions && t->unanswered[dir] > fsm->cfg.stall_retransmissions &&
	    m->ts_ns - t->unanswered_ns >= IKS_ANSWER_NS) {
		fail(t, r, IKS_F_PEER_DEAD, IKS_H_PEER_DEAD);
		r->setup_ns = m->ts_ns - t->unanswered_ns;
	}
}

/* Capture end, IKEv1: the IKE SA's last messages are encrypted Informationals from one side that
 * answer nothing, draw no answer and are not a dead-peer run, and then the peers start a new IKE SA
 * or stay silent (ESP of the tunnel included) for a stall timeout: most likely Deletes. */
static bool delete_inferred(const iks_fsm *fsm, const iks_tunnel *t)
{
	const iks_result *r = t->tail;
	if (t->version != 1 || t->deleted || t->failed || !r || r->msg != IKS_M_INFO || !iks_completes_phase1(t->p1_pos) ||
	    (!t->unanswered[0] && !t->unanswered[1]) || t->run_answers)
		return false;
	int64_t end = t->first_ns + r->elapsed_ns;
	if ((t->esp ? t->esp->last_ns : 0) > end + IKS_ANSWER_NS)
		return false; /* its ESP went on */
	const iks_tunnel *next = iks_diag_tunnel_between(fsm, &t->ref, &t->peer);
	bool replaced = next && next->index > t->index;
	return replaced || (fsm->cfg.stall_timeout_ns > 0 && fsm->last_ns - end >= fsm->cfg.stall_timeout_ns);
}

/* ---------------------------------------------------------------------------------------------
 * IKEv2 (issue #8)
 */
iks_hint iks_v2_stall_hint(const iks_tunnel *t)
{
	if (t->fail_hint)
		return (iks_hint)t->fail_hint;
	if (t->v2_retries >= 3 && t->v2_pos <= IKS_M_SA_INIT_RESP)
		return IKS_H_V2_RETRY_LOOP;
	switch (t->v2_pos) {
	case IKS_M_SA_INIT_REQ:
		return t->icmp ? IKS_H_NO_MM2_ICMP : IKS_H_V2_NO_INIT_RESP;
	case IKS_M_SA_INIT_RESP:
		if (t->v2_retry_pending)
			return IKS_H_V2_NO_INIT_RESP; /* the retry went unanswered or was never sent */
		return t->v2_resp_resent ? IKS_H_V2_INIT_RESP_LOST : IKS_H_V2_NO_AUTH_REQ;
	case IKS_M_AUTH_REQ:
		return t->v2_auth_frag ? IKS_H_V2_NO_AUTH_RESP_IKEFRAG
		       : t->v2_auth_big ? IKS_H_V2_NO_AUTH_RESP_BIG
		       : t->natt	? IKS_H_V2_NO_AUTH_RESP_NATT
					: IKS_H_V2_NO_AUTH_RESP;
	case IKS_M_AUTH_RESP:
		return t->v2_resp_resent ? IKS_H_V2_AUTH_RESP_LOST : IKS_H_V2_AUTH_REJECTED;
	}
	return IKS_H_NONE;
}

static iks_hint v2_hint_for_notify(unsigned type, unsigned exch)
{
	switch (type) {
	case 4: return IKS_H_V2_INVALID_SPI;
	case 5: return IKS_H_V2_MAJOR_VERSION;
	case 7: return IKS_H_V2_SYNTAX;
	case 14: return exch == IKS_EXCH_IKE_SA_INIT ? IKS_H_V2_INIT_NO_PROPOSAL : IKS_H_V2_CHILD_NO_PROPOSAL;
	case 24: case 46: return IKS_H_V2_AUTH_FAILED;
	case 34: case 38: return IKS_H_V2_TS;
	case 36: case 37: return IKS_H_V2_CP;
	case 16407: return IKS_H_V2_REDIRECT;
	}
	return IKS_H_NOTIFY;
}

/* Notifies that refuse (clear, or decrypted when Wireshark has the keys), and the answers that
 * can be placed but not read. COOKIE / INVALID_KE_PAYLOAD are a normal retry unless they loop. */
static bool has_retry_notify(const iks_msg *m)
{
	for (unsigned i = 0; i < m->n_notify; i++)
		if (m->notify[i] == 16390 || m->notify[i] == 17)
			return true;
	return false;
}

/* Notifies that refuse (clear, or decrypted when Wireshark has the keys), and the answers that
 * can be placed but not read. COOKIE / INVALID_KE_PAYLOAD are a normal retry unless they loop. */
static void v2_refusals(iks_tunnel *t, const iks_msg *m, iks_result *r)
{
	uint8_t pos = r->msg;
	bool child_exch = pos == IKS_M_AUTH_RESP || pos == IKS_M_CHILD_RESP;
	for (unsigned i = 0; i < m->n_notify; i++) {
		unsigned n = m->notify[i];
		/* 17 and 43 (TEMPORARY_FAILURE: rekey collision) ask for a retry; 16407 is a gateway's
		 * REDIRECT (the client's support for it is 16406). */
		if (n == 16407 || (n > 0 && n < 16384 && n != 17 && n != 43)) {
			if (child_exch && iks_v2_child_error(n))
				t->child_failed++;
			fail(t, r, (uint16_t)(IKS_F_V2 | n), v2_hint_for_notify(n, m->exch));
			return;
		}
	}
	if (pos == IKS_M_SA_INIT_RESP && t->v2_retries >= 3 && has_retry_notify(m)) {
		fail(t, r, (uint16_t)(IKS_F_V2 | (iks_has_notify(m, 17) ? 17 : 16390)), IKS_H_V2_RETRY_LOOP);
		return;
	}
	bool notify_only = m->sk_first == IKS_PL2_NOTIFY && m->n_notify == 0;
	if (pos == IKS_M_AUTH_RESP && notify_only) {
		fail(t, r, IKS_F_AUTH_REJECTED, IKS_H_V2_AUTH_REJECTED);
	} else if (pos == IKS_M_CHILD_RESP && notify_only) {
		t->child_failed++;
		fail(t, r, IKS_F_CHILD_REJECTED, IKS_H_V2_CHILD_REJECTED);
	}
}

/* The IKE SA is stuck in IN-NEG; the hint says where by the furthest message and the evidence. */
static void stall_v2(iks_tunnel *t, iks_result *r)
{
	r->stalled = IKS_S_IN_NEG;
	r->flags |= IKS_R_STALL;
	if (!r->hint)
		r->hint = (uint8_t)iks_v2_stall_hint(t);
}

static void diag_v2(iks_fsm *fsm, iks_tunnel *t, const iks_exchange *e, const iks_msg *m, bool progressed,
		    iks_result *r)
{
	uint8_t pos = r->msg;
	if (!r->retrans && !(m->frag_num > 1))
		v2_refusals(t, m, r);
	if (r->retrans && (pos == IKS_M_SA_INIT_RESP || pos == IKS_M_AUTH_RESP))
		t->v2_resp_resent = true;
	unsigned k = fsm->cfg.stall_retransmissions;
	if (r->retrans && k && r->retrans >= k && !r->failed) {
		if (t->v2_state == IKS_S_IN_NEG && pos >= IKS_M_SA_INIT_REQ && pos <= IKS_M_INTER_RESP &&
		    pos != IKS_M_CHILD_REQ && pos != IKS_M_CHILD_RESP && pos != IKS_M_INFO_REQ && pos != IKS_M_INFO_RESP)
			stall_v2(t, r);
		else if (pos == IKS_M_INFO_REQ && t->v2_state == IKS_S_READY) {
			fail(t, r, IKS_F_PEER_DEAD, IKS_H_V2_PEER_DEAD);
			r->setup_ns = m->ts_ns - e->start_ns;
		}
	}
	if (progressed || r->stalled || fsm->cfg.stall_timeout_ns <= 0)
		return;
	if (t->v2_state == IKS_S_IN_NEG && m->ts_ns - t->progress_ns > fsm->cfg.stall_timeout_ns)
		stall_v2(t, r);
}

void iks_diag_message(iks_fsm *fsm, iks_tunnel *t, iks_exchange *e, const iks_msg *m, unsigned dir,
		      bool progressed, iks_result *r)
{
	r->attempt = t->attempt;
	if (!t->tail && t->reset_after_p2)
		r->hint = IKS_H_P1_RESET_AFTER_P2;
	if (m->version == 2) {
		diag_v2(fsm, t, e, m, progressed, r);
		return;
	}
	if (m->exch == IKS_EXCH_INFO && !r->retrans)
		informational(t, m, dir, r);
	dead_peer(fsm, t, m, dir, r);

	/* The k-th resend of a message that waits for an answer (a resent MM6 or QM3 only answers the
	 * peer's resends: the peer's own resends say where it waits). */
	if (r->retrans && fsm->cfg.stall_retransmissions && r->retrans >= fsm->cfg.stall_retransmissions) {
		if (r->qm_state == IKS_QM_WAIT_MSG2 || r->qm_state == IKS_QM_WAIT_MSG3)
			stall(t, r, stalled_qm(r->qm_state));
		else if ((m->exch == IKS_EXCH_MAIN || m->exch == IKS_EXCH_AGGRESSIVE) && r->state != IKS_S_MM_ACTIVE &&
			 r->state != IKS_S_AM_ACTIVE)
			stall(t, r, r->state);
	}
	/* No progress for too long when the negotiation's next packet arrives. */
	if (progressed || r->stalled || fsm->cfg.stall_timeout_ns <= 0)
		return;
	if (m->exch == IKS_EXCH_QUICK && (e->step == IKS_M_QM1 || e->step == IKS_M_QM2)) {
		if (m->ts_ns - e->progress_ns > fsm->cfg.stall_timeout_ns)
			stall(t, r, stalled_qm(e->step == IKS_M_QM1 ? IKS_QM_WAIT_MSG2 : IKS_QM_WAIT_MSG3));
	} else if (t->mode && t->p1_pos && !iks_completes_phase1(t->p1_pos)) {
		if (m->ts_ns - t->progress_ns > fsm->cfg.stall_timeout_ns)
			stall(t, r, iks_state_after(t->p1_pos));
	}
}

iks_result *iks_fsm_icmp(iks_fsm *fsm, int64_t ts_ns, uint64_t ispi, uint64_t rspi)
{
	iks_tunnel *t = g_hash_table_lookup(fsm->tunnels, &ispi), *match = NULL;
	for (; t; t = iks_tunnel_at(fsm, t->next_same_ispi))
		if (t->rspi == rspi || rspi == 0 || t->rspi == 0)
			match = t;
	if (!match)
		return NULL;
	iks_result *r = iks_new_result(fsm);
	r->tunnel = match->index;
	r->attempt = match->attempt;
	r->elapsed_ns = ts_ns - match->first_ns;
	match->icmp = true;
	fail(match, r, IKS_F_ICMP_UNREACHABLE, IKS_H_NO_MM2_ICMP);
	return r;
}

/* ---------------------------------------------------------------------------------------------
 * Capture end
 */
static void final_verdict(iks_fsm *fsm, const iks_tunnel *t, iks_result *r, uint8_t stalled)
{
	iks_saved_verdict saved = { r, r->flags, r->stalled, r->hint, r->state };
	g_array_append_val(fsm->finals, saved);
	r->flags |= IKS_R_FINAL | IKS_R_STALL;
	/* "May still go on" is no fair caveat once the peer has refused. */
	if (!t->failed && fsm->last_ns - (t->first_ns + r->elapsed_ns) < fsm->cfg.stall_timeout_ns)
		r->flags |= IKS_R_FINAL_SOON;
	if (!r->stalled)
		r->stalled = stalled;
	if (!r->hint || r->hint == IKS_H_P1_RESET_AFTER_P2)
		r->hint = (uint8_t)hint_for_stall(t, r->stalled);
}

static int by_last_packet(gconstpointer a, gconstpointer b)
{
	const iks_exchange *x = *(const iks_exchange *const *)a, *y = *(const iks_exchange *const *)b;
	int64_t tx = x->tail ? x->tail->elapsed_ns : -1, ty = y->tail ? y->tail->elapsed_ns : -1;
	if (x->tunnel != y->tunnel)
		return x->tunnel < y->tunnel ? -1 : 1;
	if (tx != ty)
		return tx < ty ? -1 : 1;
	return x->msgid < y->msgid ? -1 : x->msgid > y->msgid;
}

void iks_fsm_finish(iks_fsm *fsm)
{
	/* Undo the previous call's verdicts, newest first (a packet may be saved twice): more packets
	 * may have come since (live capture). */
	for (guint i = fsm->finals->len; i-- > 0;) {
		iks_saved_verdict *s = &g_array_index(fsm->finals, iks_saved_verdict, i);
		s->res->stalled = s->stalled;
		s->res->hint = s->hint;
		s->res->flags = s->flags;
		s->res->state = s->state;
	}
	g_array_set_size(fsm->finals, 0);

	for (uint32_t i = 1; i <= fsm->tunnel_pool.n; i++) {
		iks_tunnel *t = iks_tunnel_at(fsm, i);
		t->final_stalled = t->qm_stall = 0;
		t->qm_failed = 0;
		t->deleted_inferred = delete_inferred(fsm, t);
		if (t->deleted_inferred) {
			iks_result *r = t->tail;
			iks_saved_verdict saved = { r, r->flags, r->stalled, r->hint, r->state };
			g_array_append_val(fsm->finals, saved);
			r->flags |= IKS_R_DELETED | IKS_R_FINAL;
			r->state = IKS_S_DELETED;
			r->hint = IKS_H_DELETE_INFERRED;
		}
		if (t->mode && t->p1_pos && t->tail && !iks_completes_phase1(t->p1_pos)) {
			final_verdict(fsm, t, t->tail, iks_state_after(t->p1_pos));
			t->final_stalled = t->tail->stalled;
		} else if (t->version == 2 && t->v2_state == IKS_S_IN_NEG && t->tail) {
			final_verdict(fsm, t, t->tail, IKS_S_IN_NEG); /* never READY */
			t->final_stalled = t->tail->stalled;
		}
	}
	/* Unfinished quick modes in the order they last moved, so that a tunnel's summary names its
	 * latest one, not whichever the hash table yields last. */
	GPtrArray *open_qm = g_ptr_array_new();
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, fsm->exchanges);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		const iks_exchange *e = v;
		if (e->exch == IKS_EXCH_QUICK && (e->step == IKS_M_QM1 || e->step == IKS_M_QM2))
			g_ptr_array_add(open_qm, v);
	}
	g_ptr_array_sort(open_qm, by_last_packet);
	for (guint i = 0; i < open_qm->len; i++) {
		const iks_exchange *e = g_ptr_array_index(open_qm, i);
		iks_tunnel *t = iks_tunnel_at(fsm, e->tunnel);
		uint8_t stall = stalled_qm(e->step == IKS_M_QM1 ? IKS_QM_WAIT_MSG2 : IKS_QM_WAIT_MSG3);
		t->qm_failed++; /* counted here so that a summary costs O(1) per tunnel */
		t->qm_stall = stall;
		if (e->tail)
			final_verdict(fsm, t, e->tail, stall);
	}
	g_ptr_array_free(open_qm, TRUE);
	iks_esp_finish(fsm);
}

/* ---------------------------------------------------------------------------------------------
 * Summary
 */
bool iks_fsm_summary(const iks_fsm *fsm, uint32_t index, iks_tunnel_summary *out)
{
	if (index == 0 || index > fsm->tunnel_pool.n)
		return false;
	const iks_tunnel *t = iks_tunnel_at(fsm, index);
	memset(out, 0, sizeof *out);
	out->attempt = t->attempt;
	out->version = t->version;
	out->mode = t->mode;
	out->roles_known = t->roles != ROLES_UNKNOWN;
	out->initiator = out->roles_known ? iks_role_addr(t, 0) : t->ref;
	out->responder = out->roles_known ? iks_role_addr(t, 1) : t->peer;
	out->first_ns = t->first_ns;
	out->setup_ns = t->setup_ns;
	out->qm_done = t->qm_done;
	out->retrans = t->retrans;
	out->failed = t->failed;
	out->rekey_of = t->rekey_of;
	out->deleted = t->deleted || t->deleted_inferred;
	if (t->esp) {
		out->esp_out = t->esp->packets[0];
		out->esp_in = t->esp->packets[1];
		out->esp_one_way = t->esp->one_way;
		out->keepalives = t->esp->keepalives;
	}
	if (t->version == 1 && t->p1_pos) {
		out->state = iks_state_after(t->p1_pos);
		out->ios_state = iks_ios_after(t->p1_pos);
	}
	if (t->version == 2)
		out->state = t->v2_state;
	else if (out->deleted)
		out->state = IKS_S_DELETED;
	out->qm_failed = t->qm_failed + t->child_failed; /* IKEv2: child SAs refused */
	if (t->final_stalled)
		out->stalled = t->final_stalled; /* what its last packet says */
	else
		out->stalled = t->qm_stall;
	if (out->stalled || out->failed)
		out->hint = (uint8_t)(t->fail_hint ? t->fail_hint : hint_for_stall(t, out->stalled));
	else if (t->esp && t->esp->one_way)
		out->hint = IKS_H_ESP_ONE_WAY;
	return true;
}
