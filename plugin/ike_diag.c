/* ike_diag.c — where an IKEv1 negotiation hangs, why it usually hangs there, and on which packet
 * to say so. Rules of issue #4; domain facts: ../shared/reference/ike-states.md §3, §6, §7, §8.3.
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

const char *iks_failed_name(unsigned f)
{
	switch (f) {
	case 0: return NULL;
	case IKS_F_ICMP_UNREACHABLE: return "ICMP_UNREACHABLE";
	case IKS_F_PHASE1_REJECTED: return "PHASE1_REJECTED";
	case IKS_F_PHASE2_REJECTED: return "PHASE2_REJECTED";
	case IKS_F_PEER_DEAD: return "PEER_DEAD";
	}
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
};

const char *iks_hint_text(unsigned h)
{
	return h < G_N_ELEMENTS(hints) ? hints[h] : NULL;
}

/* ---------------------------------------------------------------------------------------------
 * Attempts: IKE SAs between the same two addresses
 */
typedef struct {
	iks_addr a, b; /* ordered, ports cleared */
	uint16_t count;
	iks_tunnel *last;
} iks_pair;

static guint pair_hash(gconstpointer k)
{
	const iks_pair *p = k;
	guint h = 2166136261u;
	for (unsigned i = 0; i < p->a.len; i++)
		h = (h ^ p->a.bytes[i]) * 16777619u;
	for (unsigned i = 0; i < p->b.len; i++)
		h = (h ^ p->b.bytes[i]) * 16777619u;
	return h;
}

static gboolean pair_equal(gconstpointer x, gconstpointer y)
{
	const iks_pair *p = x, *q = y;
	return iks_addr_eq(&p->a, &q->a) && iks_addr_eq(&p->b, &q->b);
}

void iks_diag_new_tunnel(iks_fsm *fsm, iks_tunnel *t, const iks_msg *m)
{
	if (!fsm->pairs)
		fsm->pairs = g_hash_table_new_full(pair_hash, pair_equal, g_free, NULL);
	iks_pair key;
	memset(&key, 0, sizeof key);
	bool swap = m->src.len != m->dst.len ? m->src.len > m->dst.len
					     : memcmp(m->src.bytes, m->dst.bytes, m->src.len) > 0;
	key.a = swap ? m->dst : m->src;
	key.b = swap ? m->src : m->dst;
	key.a.port = key.b.port = 0;
	iks_pair *p = g_hash_table_lookup(fsm->pairs, &key);
	if (!p) {
		p = g_new(iks_pair, 1);
		*p = key;
		g_hash_table_insert(fsm->pairs, p, p);
	}
	if (p->count < UINT16_MAX)
		p->count++;
	t->attempt = p->count;
	t->reset_after_p2 = p->last && p->last->p2_failed && m->rspi == 0 &&
			    (m->exch == IKS_EXCH_MAIN || m->exch == IKS_EXCH_AGGRESSIVE);
	p->last = t;
}

void iks_diag_free(iks_fsm *fsm)
{
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
 * ID) and hears nothing back; as many as make a stall for resends, plus the first. */
static void dead_peer(const iks_fsm *fsm, iks_tunnel *t, const iks_msg *m, unsigned dir, iks_result *r)
{
	t->unanswered[!dir] = 0; /* this side spoke: the other was not talking to a dead peer */
	if (m->exch != IKS_EXCH_INFO || !(m->flags & IKS_FLAG_ENCRYPTED) || !iks_completes_phase1(t->p1_pos) ||
	    r->failed || !fsm->cfg.stall_retransmissions)
		return;
	for (unsigned i = 0; i < m->n_notify; i++)
		if (m->notify[i] == 36137) /* R-U-THERE-ACK: the peer is alive */
			return;
	if (t->unanswered[dir] < UINT8_MAX)
		t->unanswered[dir]++;
	if (t->unanswered[dir] > fsm->cfg.stall_retransmissions)
		fail(t, r, IKS_F_PEER_DEAD, IKS_H_PEER_DEAD);
}

void iks_diag_message(iks_fsm *fsm, iks_tunnel *t, iks_exchange *e, const iks_msg *m, unsigned dir,
		      bool progressed, iks_result *r)
{
	r->attempt = t->attempt;
	if (!t->tail && t->reset_after_p2)
		r->hint = IKS_H_P1_RESET_AFTER_P2;
	if (m->version != 1)
		return; /* IKEv2 diagnosis is not done yet */
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
	for (; t; t = t->next_same_ispi)
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
	iks_saved_verdict saved = { r, r->stalled, r->hint, r->flags };
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

void iks_fsm_finish(iks_fsm *fsm)
{
	/* Undo the previous call's verdicts: more packets may have come since (live capture). */
	for (guint i = 0; i < fsm->finals->len; i++) {
		iks_saved_verdict *s = &g_array_index(fsm->finals, iks_saved_verdict, i);
		s->res->stalled = s->stalled;
		s->res->hint = s->hint;
		s->res->flags = s->flags;
	}
	g_array_set_size(fsm->finals, 0);

	for (guint i = 0; i < fsm->all_tunnels->len; i++) {
		iks_tunnel *t = g_ptr_array_index(fsm->all_tunnels, i);
		t->final_stalled = t->qm_stall = 0;
		t->qm_failed = 0;
		if (t->mode && t->p1_pos && t->tail && !iks_completes_phase1(t->p1_pos)) {
			final_verdict(fsm, t, t->tail, iks_state_after(t->p1_pos));
			t->final_stalled = t->tail->stalled;
		}
	}
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, fsm->exchanges);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		const iks_exchange *e = v;
		if (e->exch != IKS_EXCH_QUICK || (e->step != IKS_M_QM1 && e->step != IKS_M_QM2))
			continue;
		iks_tunnel *t = g_ptr_array_index(fsm->all_tunnels, e->tunnel - 1);
		uint8_t stall = stalled_qm(e->step == IKS_M_QM1 ? IKS_QM_WAIT_MSG2 : IKS_QM_WAIT_MSG3);
		t->qm_failed++; /* counted here so that a summary costs O(1) per tunnel */
		t->qm_stall = stall;
		if (e->tail)
			final_verdict(fsm, t, e->tail, stall);
	}
}

/* ---------------------------------------------------------------------------------------------
 * Summary
 */
bool iks_fsm_summary(const iks_fsm *fsm, uint32_t index, iks_tunnel_summary *out)
{
	if (index == 0 || index > fsm->all_tunnels->len)
		return false;
	const iks_tunnel *t = g_ptr_array_index(fsm->all_tunnels, index - 1);
	memset(out, 0, sizeof *out);
	out->attempt = t->attempt;
	out->version = t->version;
	out->mode = t->mode;
	out->roles_known = t->roles != ROLES_UNKNOWN;
	out->initiator = out->roles_known ? t->by_role[0] : t->ref;
	out->responder = out->roles_known ? t->by_role[1] : t->peer;
	out->first_ns = t->first_ns;
	out->setup_ns = t->setup_ns;
	out->qm_done = t->qm_done;
	out->retrans = t->retrans;
	out->failed = t->failed;
	if (t->version == 1 && t->p1_pos) {
		out->state = iks_state_after(t->p1_pos);
		out->ios_state = iks_ios_after(t->p1_pos);
	}
	out->qm_failed = t->qm_failed;
	if (t->final_stalled)
		out->stalled = t->final_stalled; /* what its last packet says */
	else
		out->stalled = t->qm_stall;
	if (out->stalled || out->failed)
		out->hint = (uint8_t)(t->fail_hint ? t->fail_hint : hint_for_stall(t, out->stalled));
	return true;
}
