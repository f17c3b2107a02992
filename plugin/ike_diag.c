/* ike_diag.c — diagnosis per message (ike_diag.h): refusals, stalls established by resends or by
 * silence, dead peers. The stall rules: the k-th resend of a message that waits for an answer, or
 * the negotiation's next packet after longer than the stall timeout without progress.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ike_diag.h"

#include <string.h>

/* An Informational this soon after one of the other side answers it (DPD R-U-THERE-ACK). */
#define IKS_ANSWER_NS INT64_C(1000000000)

void iks_diag_init(iks_diag *d, const iks_machine *mc, const iks_config *cfg)
{
	d->mc = mc;
	d->cfg = *cfg;
	iks_pool_init(&d->tunnels, sizeof(iks_diag_tunnel));
	d->finals = g_array_new(FALSE, FALSE, sizeof(iks_saved_verdict));
}

void iks_diag_free(iks_diag *d)
{
	if (d->refused)
		g_hash_table_destroy(d->refused);
	if (d->missing)
		g_hash_table_destroy(d->missing);
	if (d->recent)
		g_hash_table_destroy(d->recent);
	if (d->answers)
		g_hash_table_destroy(d->answers);
	if (d->probes)
		g_hash_table_destroy(d->probes);
	if (d->probe_first)
		g_hash_table_destroy(d->probe_first);
	iks_pool_free(&d->tunnels);
	g_array_free(d->finals, TRUE);
}

iks_diag_tunnel *iks_diag_at(const iks_diag *d, uint32_t num)
{
	return iks_pool_at(&d->tunnels, num);
}

/* The IKE SA is up: established and not refused; remote access (IKEv1 transactions) only once a
 * quick mode followed them: a new IKE SA after a refused XAUTH is another attempt, not a rekey. */
static bool iks_diag_is_up(const iks_diag *d, const iks_tunnel *t)
{
	if (t->version == 1 && t->v1.txn && !t->v1.qm_seen)
		return false;
	return !iks_diag_at(d, t->id)->failed && iks_established(t);
}

const iks_tunnel *iks_diag_tunnel_between(const iks_diag *d, const iks_addr *a, const iks_addr *b)
{
	const iks_tunnel *last = iks_machine_latest_between(d->mc, a, b), *t = last;
	for (unsigned i = 0; t && i < 8; i++, t = iks_tunnel_at(d->mc, t->prev_same_pair)) /* bounded: O(1) per new SA */
		if (iks_diag_is_up(d, t))
			return t;
	return last;
}

void iks_diag_new_tunnel(iks_diag *d, const iks_tunnel *t, const iks_msg *m)
{
	while (d->tunnels.n < t->id)
		iks_pool_add(&d->tunnels);
	iks_diag_tunnel *dt = iks_diag_at(d, t->id);
	const iks_tunnel *prev = iks_tunnel_at(d->mc, t->prev_same_pair);
	if (!prev)
		return;
	const iks_diag_tunnel *dp = iks_diag_at(d, prev->id);
	/* ASA's "Rekey: yes" SA: a new IKE SA while the previous one between the peers is up. Without
	 * keys a delete of the old one is not seen, so a re-negotiation after it also counts. An IKEv2
	 * SA rekeyed by CREATE_CHILD_SA shows up without IKE_SA_INIT, often after the old one's delete. */
	if (prev->version == m->version &&
	    (iks_diag_is_up(d, prev) || (m->version == 2 && !dp->failed && prev->v2.state == IKS_S_DELETE &&
					 m->exch != IKS_EXCH_IKE_SA_INIT)))
		dt->rekey_of = prev->id;
	dt->reset_after_p2 = dp->p2_failed && m->rspi == 0 && (m->exch == IKS_EXCH_MAIN || m->exch == IKS_EXCH_AGGRESSIVE);
}

/* ---------------------------------------------------------------------------------------------
 * Where the capture was taken
 */
/* The TTL a sender starts with: the smallest common initial value not below what arrived. */
static uint8_t hops_from(uint8_t ttl)
{
	static const uint8_t initial[] = { 32, 64, 128, 255 };
	for (size_t i = 0; i < G_N_ELEMENTS(initial); i++)
		if (ttl <= initial[i])
			return (uint8_t)(initial[i] - ttl);
	return 0;
}

/* The TTL each role's messages arrive with at the tunnel's own capture point (copies elsewhere are
 * another point's view). */
static void note_ttl(iks_diag_tunnel *dt, const iks_tunnel *t, const iks_msg *m, const iks_result *r)
{
	if (!m->ttl || r->role == IKS_ROLE_UNKNOWN || m->point != t->point)
		return;
	unsigned i = r->role == IKS_ROLE_RESPONDER;
	if (!dt->ttl[i])
		dt->ttl[i] = m->ttl;
	else if (dt->ttl[i] != m->ttl)
		dt->ttl_varies |= (uint8_t)(1u << i);
}

/* Both sides must speak with a steady TTL: the one with no router before the capture point is where
 * it was taken; neither: on the path; both (a direct link, or two hosts on one segment): unknown. */
iks_captured_at iks_diag_captured_at(const iks_diag *d, const iks_tunnel *t)
{
	const iks_diag_tunnel *dt = iks_diag_at(d, t->id);
	iks_captured_at c = { IKS_AT_UNKNOWN, { dt->ttl[0], dt->ttl[1] }, { hops_from(dt->ttl[0]), hops_from(dt->ttl[1]) },
			      { dt->ttl_varies & 1, dt->ttl_varies & 2 } };
	if (!c.ttl[0] || !c.ttl[1] || dt->ttl_varies)
		return c;
	bool near_i = c.hops[0] == 0, near_r = c.hops[1] == 0;
	if (near_i != near_r)
		c.at = near_i ? IKS_AT_INITIATOR : IKS_AT_RESPONDER;
	else if (!near_i)
		c.at = IKS_AT_PATH; /* both behind routers; both adjacent stays unknown */
	return c;
}

/* ---------------------------------------------------------------------------------------------
 * Findings
 */
static void fail(iks_diag_tunnel *dt, iks_result *r, uint16_t code, iks_hint h)
{
	r->failed = code;
	r->hint = (uint8_t)h;
	r->flags |= IKS_R_REFUSED;
	if (!dt->failed) {
		dt->failed = code;
		dt->fail_hint = (uint8_t)h;
	}
}

/* A refusal answered this quick mode: it waits no more (no stall for it at capture end). */
static void refuse_exchange(iks_diag *d, iks_diag_tunnel *dt, const iks_exchange *e)
{
	dt->p2_failed = true;
	if (!e)
		return;
	/* A copy of its key: the machine may forget the exchange and reuse its memory. */
	if (!d->refused)
		d->refused = g_hash_table_new_full(iks_exchange_hash, iks_exchange_equal, g_free, NULL);
	g_hash_table_add(d->refused, g_memdup2(e, sizeof *e));
}

bool iks_diag_refused(const iks_diag *d, const iks_exchange *e)
{
	return d->refused && g_hash_table_contains(d->refused, e);
}

/* The two sides derived different keys: with the keys loaded, one side's encrypted phase-1 messages
 * decrypt and the other side's decrypt into garbage. */
static bool keys_differ(const iks_diag_tunnel *dt)
{
	return ((dt->decrypt_ok & 1) && (dt->decrypt_bad & 2)) || ((dt->decrypt_ok & 2) && (dt->decrypt_bad & 1));
}

/* The first request of a negotiation unanswered, although the peer itself started a negotiation
 * between the two addresses later that completed: the peer is up (a bounded look: O(1) per tunnel). */
static bool peer_started_later(const iks_diag *d, const iks_tunnel *t)
{
	if (t->roles == ROLES_UNKNOWN)
		return false;
	iks_addr responder = iks_role_addr(t, 1);
	const iks_tunnel *u = iks_machine_latest_between(d->mc, &t->ref, &t->peer);
	for (unsigned i = 0; u && u->id > t->id && i < 16; i++, u = iks_tunnel_at(d->mc, u->prev_same_pair)) {
		iks_addr initiator = iks_role_addr(u, 0);
		if (u->roles != ROLES_UNKNOWN && iks_diag_is_up(d, u) && iks_addr_eq(&initiator, &responder))
			return true;
	}
	return false;
}

/* IKEv2: the IKE SA is stuck in IN-NEG; the hint says where by the furthest message and the evidence. */
static iks_hint v2_stall_hint(const iks_diag_tunnel *dt, const iks_tunnel *t)
{
	if (dt->fail_hint)
		return (iks_hint)dt->fail_hint;
	if (t->v2.retries >= 3 && t->v2.pos <= IKS_M_SA_INIT_RESP)
		return IKS_H_V2_RETRY_LOOP;
	switch (t->v2.pos) {
	case IKS_M_SA_INIT_REQ:
		return t->icmp ? IKS_H_NO_MM2_ICMP : IKS_H_V2_NO_INIT_RESP;
	case IKS_M_SA_INIT_RESP:
		if (t->v2.retry_pending)
			return IKS_H_V2_NO_INIT_RESP; /* the retry went unanswered or was never sent */
		return t->v2.resp_resent ? IKS_H_V2_INIT_RESP_LOST : IKS_H_V2_NO_AUTH_REQ;
	case IKS_M_AUTH_REQ:
		if (iks_eap_rounds(t))
			return IKS_H_EAP_NO_ANSWER; /* earlier rounds were answered: not the path */
		return t->v2.auth_frag ? IKS_H_V2_NO_AUTH_RESP_IKEFRAG
		       : t->v2.auth_big ? IKS_H_V2_NO_AUTH_RESP_BIG
		       : t->natt	? IKS_H_V2_NO_AUTH_RESP_NATT
					: IKS_H_V2_NO_AUTH_RESP;
	case IKS_M_AUTH_RESP:
		if (t->v2.eap_last)
			return IKS_H_EAP_ENDED; /* the client's turn: it sent no further round */
		return t->v2.resp_resent ? IKS_H_V2_AUTH_RESP_LOST : IKS_H_V2_AUTH_REJECTED;
	}
	return IKS_H_NONE;
}

/* A stall's hint said from where the capture was taken, when the TTLs show it: what this capture
 * proves, and what only the other end's can tell. */
static iks_hint located(const iks_diag *d, const iks_tunnel *t, iks_hint h)
{
	static const struct {
		uint8_t hint, at_initiator, at_responder;
	} by_place[] = {
		{ IKS_H_MM2_NO_MM3, IKS_H_MM2_AT_INITIATOR, IKS_H_MM2_AT_RESPONDER },
		{ IKS_H_MM2_LOST, IKS_H_MM2_AT_INITIATOR, IKS_H_MM2_AT_RESPONDER },
		{ IKS_H_AM2_NO_AM3, IKS_H_AM2_AT_INITIATOR, IKS_H_AM2_AT_RESPONDER },
		{ IKS_H_NO_AM3, IKS_H_AM2_AT_INITIATOR, IKS_H_AM2_AT_RESPONDER },
		{ IKS_H_NO_MM4, IKS_H_MM3_AT_INITIATOR, IKS_H_MM3_AT_RESPONDER },
		{ IKS_H_V2_NO_AUTH_REQ, IKS_H_V2_INIT_AT_INITIATOR, IKS_H_V2_INIT_AT_RESPONDER },
		{ IKS_H_V2_INIT_RESP_LOST, IKS_H_V2_INIT_AT_INITIATOR, IKS_H_V2_INIT_AT_RESPONDER },
		{ IKS_H_V2_NO_AUTH_RESP, IKS_H_V2_AUTH_AT_INITIATOR, IKS_H_V2_AUTH_AT_RESPONDER },
	};
	for (size_t i = 0; i < G_N_ELEMENTS(by_place); i++) {
		if (by_place[i].hint != h)
			continue;
		iks_captured_at at = iks_diag_captured_at(d, t);
		return at.at == IKS_AT_INITIATOR   ? (iks_hint)by_place[i].at_initiator
		       : at.at == IKS_AT_RESPONDER ? (iks_hint)by_place[i].at_responder
						   : h;
	}
	return h;
}

/* Where a negotiation hangs, as the state of the side that sent the furthest message. */
iks_hint iks_diag_stall_hint(const iks_diag *d, const iks_tunnel *t, uint8_t stalled)
{
	static const uint8_t by_state[IKS_S__COUNT + IKS_QM__COUNT] = {
		[IKS_S_MM_WAIT_MSG2] = IKS_H_NO_MM2, [IKS_S_MM_WAIT_MSG3] = IKS_H_MM2_LOST,
		[IKS_S_MM_WAIT_MSG4] = IKS_H_NO_MM4, [IKS_S_MM_WAIT_MSG5] = IKS_H_NO_MM5,
		[IKS_S_MM_WAIT_MSG6] = IKS_H_NO_MM6, [IKS_S_AM_WAIT_MSG2] = IKS_H_NO_AM2,
		[IKS_S_AM_WAIT_MSG3] = IKS_H_NO_AM3,
		[IKS_S__COUNT + IKS_QM_WAIT_MSG2] = IKS_H_NO_QM2, [IKS_S__COUNT + IKS_QM_WAIT_MSG3] = IKS_H_NO_QM3,
	};
	const iks_diag_tunnel *dt = iks_diag_at(d, t->id);
	/* Two capture points show where: better than any guess from one side. */
	if (dt->lost_between && !dt->fail_hint)
		return IKS_H_LOST_BETWEEN_POINTS;
	if (t->version == 2) {
		iks_hint h = v2_stall_hint(dt, t);
		return h == IKS_H_V2_NO_INIT_RESP && !t->v2.retry_pending && peer_started_later(d, t) ? IKS_H_PEER_ALIVE
														: located(d, t, h);
	}
	if (dt->fail_hint)
		return (iks_hint)dt->fail_hint; /* the peer said why, or the ICMP error did */
	if ((stalled == IKS_S_MM_ACTIVE || stalled == IKS_S_AM_ACTIVE) && t->v1.txn && !t->v1.qm_seen)
		return IKS_H_RA_UNFINISHED; /* phase 1 up, remote access (XAUTH, mode-config) not finished */
	iks_hint h = stalled < G_N_ELEMENTS(by_state) ? (iks_hint)by_state[stalled] : IKS_H_NONE;
	if (h == IKS_H_NO_MM2 && t->icmp)
		h = IKS_H_NO_MM2_ICMP;
	if (h == IKS_H_NO_MM6 && t->natt)
		h = IKS_H_NO_MM6_NATT;
	if (h == IKS_H_NO_MM5 && t->v1.p1_pos >= IKS_M_MM5)
		h = IKS_H_MM5_UNUSABLE;
	/* A hint that says the responder re-sends only when it did. */
	bool responder_resent = t->resent & 2;
	if (h == IKS_H_MM2_LOST && !responder_resent)
		h = IKS_H_MM2_NO_MM3;
	if (h == IKS_H_NO_AM3 && !responder_resent)
		h = IKS_H_AM2_NO_AM3;
	if ((h == IKS_H_NO_MM6 || h == IKS_H_MM5_UNUSABLE) && keys_differ(dt))
		h = IKS_H_P1_KEYS_DIFFER;
	if ((h == IKS_H_NO_MM2 || h == IKS_H_NO_AM2) && peer_started_later(d, t))
		h = IKS_H_PEER_ALIVE;
	return located(d, t, h);
}

static void stall(const iks_diag *d, const iks_tunnel *t, iks_result *r, uint8_t stalled)
{
	if (!stalled || iks_diag_pattern(d, t))
		return; /* a reflection or a probe is no negotiation that could stall */
	r->stalled = stalled;
	r->flags |= IKS_R_STALL;
	if (!r->hint)
		r->hint = (uint8_t)iks_diag_stall_hint(d, t, stalled);
}

/* ---------------------------------------------------------------------------------------------
 * IKEv1
 */
/* sender: who sent the notify. In phase 1 the initiator refuses the responder's choice, the
 * responder the initiator's offers. */
static iks_hint hint_for_notify(unsigned type, bool phase2, iks_role sender)
{
	switch (type) {
	case IKS_N_INVALID_COOKIE: return IKS_H_INVALID_COOKIE;
	case IKS_N_NO_PROPOSAL_CHOSEN:
		if (phase2)
			return IKS_H_P2_NO_PROPOSAL;
		return sender == IKS_ROLE_INITIATOR ? IKS_H_P1_CHOICE_REFUSED : IKS_H_P1_NO_PROPOSAL;
	case IKS_N_INVALID_ID_INFORMATION: return phase2 ? IKS_H_P2_PROXY_ID : IKS_H_P1_ID;
	case IKS_N_PAYLOAD_MALFORMED: case IKS_N_INVALID_HASH_INFORMATION: case IKS_N_AUTHENTICATION_FAILED:
	case IKS_N_INVALID_SIGNATURE:
		return phase2 ? IKS_H_NOTIFY : IKS_H_P1_AUTH;
	default: return IKS_H_NOTIFY;
	}
}

/* An encrypted Informational where an answer was due, without keys: it can be placed, not read. */
static void encrypted_refusal(iks_diag *d, iks_diag_tunnel *dt, const iks_tunnel *t, unsigned dir, iks_result *r)
{
	bool p1_done = iks_completes_phase1(t->v1.p1_pos);
	iks_role sender = iks_role_of(t, dir);
	const iks_exchange *qm = t->v1.pending_qm && !iks_diag_refused(d, t->v1.pending_qm) ? t->v1.pending_qm : NULL;
	if (!p1_done && t->v1.mode == IKS_EXCH_MAIN && sender == IKS_ROLE_RESPONDER &&
	    (t->v1.p1_pos == IKS_M_MM4 || t->v1.p1_pos == IKS_M_MM5)) {
		fail(dt, r, IKS_F_PHASE1_REJECTED, keys_differ(dt) ? IKS_H_P1_KEYS_DIFFER : IKS_H_P1_REJECTED_MM5);
	} else if (!p1_done && t->v1.mode == IKS_EXCH_AGGRESSIVE && sender == IKS_ROLE_INITIATOR &&
		   t->v1.p1_pos == IKS_M_AM2) {
		fail(dt, r, IKS_F_PHASE1_REJECTED, IKS_H_P1_REJECTED_AM2);
	} else if (p1_done && qm && dir != qm->qm_init_dir) {
		fail(dt, r, IKS_F_PHASE2_REJECTED, IKS_H_P2_REJECTED);
		refuse_exchange(d, dt, qm);
	}
}

/* An Informational: refusal by a notify we can read, or by one we can place but not read. */
static void informational(iks_diag *d, iks_diag_tunnel *dt, const iks_tunnel *t, const iks_msg *m, unsigned dir,
			  iks_result *r)
{
	bool p1_done = iks_completes_phase1(t->v1.p1_pos);
	unsigned n = iks_first_notify(m, IKS_NF_ERROR);
	if (n) {
		fail(dt, r, (uint16_t)n, hint_for_notify(n, p1_done, iks_role_of(t, dir)));
		if (p1_done)
			refuse_exchange(d, dt, t->v1.pending_qm);
	} else if ((m->flags & IKS_FLAG_ENCRYPTED) && !m->n_notify) {
		encrypted_refusal(d, dt, t, dir, r); /* readable and no error: DPD, INITIAL-CONTACT, lifetimes… */
	}
}

/* With keys loaded: which side's encrypted phase-1 messages decrypt (first copies only: Wireshark
 * chains the IV of IKEv1 messages, so a resend never decrypts). */
static void note_decryption(iks_diag_tunnel *dt, const iks_tunnel *t, const iks_msg *m, unsigned dir,
			    const iks_result *r)
{
	iks_role sender = iks_role_of(t, dir);
	if (!m->decryption || r->retrans || sender == IKS_ROLE_UNKNOWN || iks_completes_phase1(t->v1.p1_pos))
		return;
	uint8_t bit = sender == IKS_ROLE_INITIATOR ? 1 : 2;
	if (m->decryption == IKS_DECRYPT_OK)
		dt->decrypt_ok |= bit;
	else
		dt->decrypt_bad |= bit;
}

/* Dead peer: a side keeps sending encrypted Informationals (DPD R-U-THERE, each under a new message
 * ID) and hears nothing back; as many as make a stall for resends, plus the first, over a second
 * at least (DPD retries are seconds apart; Deletes of several SAs go out together). */
static void dead_peer(const iks_diag *d, iks_diag_tunnel *dt, const iks_tunnel *t, const iks_msg *m, unsigned dir,
		      iks_result *r)
{
	const iks_result *prev = t->tail;
	dt->unanswered[!dir] = 0; /* this side spoke: the other was not talking to a dead peer */
	if (m->exch != IKS_EXCH_INFO || !(m->flags & IKS_FLAG_ENCRYPTED) || !iks_completes_phase1(t->v1.p1_pos) ||
	    r->failed)
		return;
	if (iks_has_notify(m, IKS_N_R_U_THERE_ACK)) /* the peer is alive */
		return;
	if (dt->unanswered[dir] == 0) {
		dt->unanswered_ns = m->ts_ns;
		dt->run_answers = prev && prev->msg == IKS_M_INFO && prev->role && prev->role != r->role &&
				  m->ts_ns - (t->first_ns + prev->elapsed_ns) < IKS_ANSWER_NS;
	}
	if (dt->unanswered[dir] < UINT8_MAX)
		dt->unanswered[dir]++;
	if (d->cfg.stall_retransmissions && dt->unanswered[dir] > d->cfg.stall_retransmissions &&
	    m->ts_ns - dt->unanswered_ns >= IKS_ANSWER_NS) {
		fail(dt, r, IKS_F_PEER_DEAD, IKS_H_PEER_DEAD);
		r->span.unanswered_ns = m->ts_ns - dt->unanswered_ns;
	}
}

/* With keys: the gateway's XAUTH_STATUS FAIL, or a mode-config answer without the address the
 * client asked for. */
static void transaction(iks_diag_tunnel *dt, const iks_tunnel *t, const iks_msg *m, iks_result *r)
{
	if (m->ra.cfg_type == IKS_CFG_SET && (m->ra.cfg & IKS_CFG_HAS_XAUTH_FAIL))
		fail(dt, r, IKS_F_XAUTH_FAILED, IKS_H_XAUTH_FAILED);
	else if (r->msg == IKS_M_TXN_RESP && m->ra.cfg_type == IKS_CFG_REPLY && !(m->ra.cfg & IKS_CFG_HAS_XAUTH) &&
		 t->v1.addr_asked && !(m->ra.cfg & IKS_CFG_HAS_ADDRESS))
		fail(dt, r, IKS_F_NO_ADDRESS, IKS_H_CFG_NO_ADDRESS);
}

static bool resend_stalls(const iks_diag *d, const iks_result *r)
{
	unsigned k = d->cfg.stall_retransmissions;
	return r->retrans && k && r->retrans >= k;
}

static void diag_v1(iks_diag *d, iks_diag_tunnel *dt, const iks_step *s, const iks_msg *m, iks_result *r)
{
	const iks_tunnel *t = s->t;
	const iks_exchange *e = s->e;
	bool phase1 = m->exch == IKS_EXCH_MAIN || m->exch == IKS_EXCH_AGGRESSIVE;
	note_decryption(dt, t, m, s->dir, r);
	if (m->exch == IKS_EXCH_INFO && !r->retrans)
		informational(d, dt, t, m, s->dir, r);
	if (m->exch == IKS_EXCH_TRANSACTION && !r->retrans)
		transaction(dt, t, m, r);
	dead_peer(d, dt, t, m, s->dir, r);

	/* The k-th resend of a message that waits for an answer (a resent MM6 or QM3 only answers the
	 * peer's resends: the peer's own resends say where it waits), unless a refusal answered it. */
	if (resend_stalls(d, r)) {
		uint8_t qm = iks_qm_state_of(r);
		bool quick = qm == IKS_QM_WAIT_MSG2 || qm == IKS_QM_WAIT_MSG3;
		if (quick && !iks_diag_refused(d, e))
			stall(d, t, r, IKS_STALLED_QM(qm));
		else if (!quick && phase1 && r->state != IKS_S_MM_ACTIVE && r->state != IKS_S_AM_ACTIVE && !dt->failed)
			stall(d, t, r, r->state);
	}
	/* No progress for too long when the negotiation's next packet arrives. */
	if (s->progressed || r->stalled || d->cfg.stall_timeout_ns <= 0)
		return;
	if (m->exch == IKS_EXCH_QUICK && (e->step == IKS_M_QM1 || e->step == IKS_M_QM2)) {
		if (m->ts_ns - e->progress_ns > d->cfg.stall_timeout_ns)
			stall(d, t, r, IKS_STALLED_QM(e->step == IKS_M_QM1 ? IKS_QM_WAIT_MSG2 : IKS_QM_WAIT_MSG3));
	} else if (t->v1.mode && t->v1.p1_pos && !iks_completes_phase1(t->v1.p1_pos)) {
		if (m->ts_ns - t->progress_ns > d->cfg.stall_timeout_ns)
			stall(d, t, r, iks_state_after(t->v1.p1_pos));
	}
}

/* ---------------------------------------------------------------------------------------------
 * IKEv2
 */
static iks_hint v2_hint_for_notify(unsigned type, unsigned exch)
{
	switch (type) {
	case IKS_N_INVALID_COOKIE: return IKS_H_V2_INVALID_SPI;
	case IKS_N_INVALID_MAJOR_VERSION: return IKS_H_V2_MAJOR_VERSION;
	case IKS_N_INVALID_SYNTAX: return IKS_H_V2_SYNTAX;
	case IKS_N_NO_PROPOSAL_CHOSEN:
		return exch == IKS_EXCH_IKE_SA_INIT ? IKS_H_V2_INIT_NO_PROPOSAL : IKS_H_V2_CHILD_NO_PROPOSAL;
	case IKS_N_AUTHENTICATION_FAILED: case IKS_N_AUTHORIZATION_FAILED: return IKS_H_V2_AUTH_FAILED;
	case IKS_N_SINGLE_PAIR_REQUIRED: case IKS_N_TS_UNACCEPTABLE: return IKS_H_V2_TS;
	case IKS_N_INTERNAL_ADDRESS_FAILURE: case IKS_N_FAILED_CP_REQUIRED: return IKS_H_V2_CP;
	case IKS_N_REDIRECT: return IKS_H_V2_REDIRECT;
	}
	return IKS_H_NOTIFY;
}

/* Notifies that refuse (clear, or decrypted when Wireshark has the keys), and the answers that
 * can be placed but not read. COOKIE / INVALID_KE_PAYLOAD are a normal retry unless they loop;
 * TEMPORARY_FAILURE (a rekey collision) asks for a retry too. */
static void v2_refusals(iks_diag_tunnel *dt, const iks_tunnel *t, const iks_msg *m, iks_result *r)
{
	uint8_t pos = r->msg;
	if (pos == IKS_M_AUTH_RESP && m->ra.eap_code == IKS_EAP_FAILURE) {
		fail(dt, r, IKS_F_EAP_FAILURE, IKS_H_EAP_FAILURE);
		return;
	}
	unsigned n = iks_first_notify(m, IKS_NF_V2_REFUSAL);
	if (n) {
		if ((pos == IKS_M_AUTH_RESP || pos == IKS_M_CHILD_RESP) && iks_v2_child_error(n))
			dt->child_failed++;
		iks_hint h = v2_hint_for_notify(n, m->exch);
		fail(dt, r, (uint16_t)(IKS_F_V2 | n), h == IKS_H_V2_AUTH_FAILED && iks_eap_rounds(t) ? IKS_H_EAP_FAILURE : h);
		return;
	}
	if (pos == IKS_M_SA_INIT_RESP && t->v2.retries >= 3 && iks_first_notify(m, IKS_NF_V2_RETRY)) {
		unsigned retry = iks_has_notify(m, IKS_N_INVALID_KE_PAYLOAD) ? IKS_N_INVALID_KE_PAYLOAD : IKS_N_COOKIE;
		fail(dt, r, (uint16_t)(IKS_F_V2 | retry), IKS_H_V2_RETRY_LOOP);
		return;
	}
	bool notify_only = m->sk_first == IKS_PL2_NOTIFY && m->n_notify == 0;
	/* Mid-EAP (the gateway's EAP answer was the last) the client sends an error notify instead of
	 * the next round: it gave up EAP, as strongSwan does on an MSCHAPv2 failure. */
	if (pos == IKS_M_INFO_REQ && notify_only && r->role == IKS_ROLE_INITIATOR && t->v2.state == IKS_S_IN_NEG &&
	    t->v2.eap_last && t->v2.pos == IKS_M_AUTH_RESP) {
		fail(dt, r, IKS_F_EAP_FAILURE, IKS_H_EAP_FAILURE);
	} else if (pos == IKS_M_AUTH_RESP && notify_only) {
		fail(dt, r, IKS_F_AUTH_REJECTED, iks_eap_rounds(t) ? IKS_H_EAP_REJECTED : IKS_H_V2_AUTH_REJECTED);
	} else if (pos == IKS_M_CHILD_RESP && notify_only) {
		dt->child_failed++;
		fail(dt, r, IKS_F_CHILD_REJECTED, IKS_H_V2_CHILD_REJECTED);
	}
}

/* IKE SA setup messages (not CREATE_CHILD_SA, not INFORMATIONAL). */
static bool v2_setup_msg(uint8_t pos)
{
	return pos == IKS_M_SA_INIT_REQ || pos == IKS_M_SA_INIT_RESP || pos == IKS_M_AUTH_REQ ||
	       pos == IKS_M_AUTH_RESP || pos == IKS_M_INTER_REQ || pos == IKS_M_INTER_RESP;
}

static void stall_v2(const iks_diag *d, iks_diag_tunnel *dt, const iks_tunnel *t, iks_result *r)
{
	if (iks_diag_pattern(d, t))
		return;
	r->stalled = IKS_S_IN_NEG;
	r->flags |= IKS_R_STALL;
	if (!r->hint)
		r->hint = (uint8_t)v2_stall_hint(dt, t);
}

static void diag_v2(const iks_diag *d, iks_diag_tunnel *dt, const iks_step *s, const iks_msg *m, iks_result *r)
{
	const iks_tunnel *t = s->t;
	uint8_t pos = r->msg;
	if (!r->retrans && !(m->frag_num > 1))
		v2_refusals(dt, t, m, r);
	if ((r->flags & IKS_R_PHASE1_DONE) && r->failed)
		dt->auth_child_refused++;
	if (resend_stalls(d, r) && !r->failed) {
		if (t->v2.state == IKS_S_IN_NEG && v2_setup_msg(pos) && !dt->failed) {
			stall_v2(d, dt, t, r);
		} else if (pos == IKS_M_INFO_REQ && t->v2.state == IKS_S_READY) {
			fail(dt, r, IKS_F_PEER_DEAD, IKS_H_V2_PEER_DEAD);
			r->span.unanswered_ns = m->ts_ns - s->e->start_ns;
		}
	}
	if (s->progressed || r->stalled || d->cfg.stall_timeout_ns <= 0)
		return;
	if (t->v2.state == IKS_S_IN_NEG && m->ts_ns - t->progress_ns > d->cfg.stall_timeout_ns)
		stall_v2(d, dt, t, r);
}

/* ---------------------------------------------------------------------------------------------
 * Loss between capture points, as soon as it is certain
 */
#define IKS_RECENT 4
typedef struct {
	const iks_result *res[IKS_RECENT]; /* the tunnel's latest transmissions, oldest first */
	int64_t ts_ns[IKS_RECENT];
	uint8_t n;
	uint8_t older_seen; /* points that saw the transmissions before these */
} iks_recent;

/* A transmission the window has passed is missing at a point that saw an earlier one of its tunnel:
 * no copy can come any more. The stall hints of the first pass can then say where the message was
 * lost instead of guessing from one side; capture end (ike_final.c) finds every such loss. */
static void note_lost_between(iks_diag *d, iks_diag_tunnel *dt, const iks_tunnel *t, const iks_msg *m,
			      const iks_result *r)
{
	if (!(d->mc->points & (d->mc->points - 1)) || !r->seen)
		return; /* one capture point so far */
	if (!d->recent)
		d->recent = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	iks_recent *rc = g_hash_table_lookup(d->recent, GUINT_TO_POINTER(t->id));
	if (!rc) {
		rc = g_new0(iks_recent, 1);
		g_hash_table_insert(d->recent, GUINT_TO_POINTER(t->id), rc);
	}
	uint8_t before = rc->older_seen;
	for (unsigned i = 0; i < rc->n; i++) {
		if (m->ts_ns - rc->ts_ns[i] >= d->mc->window_ns && (before & (uint8_t)~rc->res[i]->seen))
			dt->lost_between = true;
		before |= rc->res[i]->seen;
	}
	if (rc->n == IKS_RECENT) {
		rc->older_seen |= rc->res[0]->seen;
		memmove(rc->res, rc->res + 1, (IKS_RECENT - 1) * sizeof rc->res[0]);
		memmove(rc->ts_ns, rc->ts_ns + 1, (IKS_RECENT - 1) * sizeof rc->ts_ns[0]);
		rc->n--;
	}
	rc->res[rc->n] = r;
	rc->ts_ns[rc->n++] = m->ts_ns;
}

/* ---------------------------------------------------------------------------------------------
 * Reflection: answers to requests this capture never saw
 */
/* Responders answering one initiator cookie, the requests unseen, that make a reflection: one
 * initiator's cookie is answered by one responder (a second after a NAT or a retry to another
 * address is possible; a third is not a negotiation). */
#define IKS_REFLECTION_MIN 3

/* The first message of an IKE SA is a responder's answer: MM2, AM2, an IKE_SA_INIT response. */
static bool starts_with_answer(const iks_msg *m)
{
	if (m->version == 2)
		return m->exch == IKS_EXCH_IKE_SA_INIT && (m->flags & IKS_FLAG_V2_RESPONSE);
	return (m->exch == IKS_EXCH_MAIN || m->exch == IKS_EXCH_AGGRESSIVE) && m->rspi && !(m->flags & IKS_FLAG_ENCRYPTED) &&
	       iks_has_payload(m, IKS_PL_SA);
}

/* Mark one member: a reflection is no negotiation of its own (no stall, no mid-negotiation note). */
static void reflected(iks_diag_tunnel *dt, iks_result *first)
{
	dt->pattern = IKS_P_REFLECTION;
	if (first)
		first->flags &= (uint16_t)~IKS_R_MID_NEGOTIATION;
}

/* One hash lookup, only for IKE SAs that start with an answer (none in a cookie flood of MM1). */
static void note_answers(iks_diag *d, iks_diag_tunnel *dt, const iks_tunnel *t, const iks_msg *m, iks_result *r)
{
	if (!starts_with_answer(m))
		return;
	if (!d->answers)
		d->answers = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, g_free);
	iks_answers_group *g = g_hash_table_lookup(d->answers, &m->ispi);
	if (!g) {
		g = g_new0(iks_answers_group, 1);
		*g = (iks_answers_group){ .ispi = m->ispi, .target = m->dst, .leader = t->id, .first_ns = m->ts_ns };
		g_hash_table_insert(d->answers, &g->ispi, g);
	} else if (!iks_addr_eq(&g->target, &m->dst)) {
		return;
	}
	g->last_ns = m->ts_ns;
	if (g->responders < G_N_ELEMENTS(g->early))
		g->early[g->responders] = r;
	g->responders++;
	if (g->reflection) {
		reflected(dt, r);
	} else if (g->responders >= IKS_REFLECTION_MIN) {
		g->reflection = true;
		for (unsigned i = 0; i < G_N_ELEMENTS(g->early); i++)
			if (g->early[i])
				reflected(iks_diag_at(d, g->early[i]->tunnel), g->early[i]);
		g->early[0]->flags |= IKS_R_PATTERN;
	}
}

/* ---------------------------------------------------------------------------------------------
 * Probes and scans: an initiator that never goes past the first exchange, again and again
 */
/* Negotiations like that from one initiator make a probe (one responder) or a scan (several): a
 * single abandoned one stays a stall. Implementations send Vendor IDs in their first message
 * (NAT-T, DPD, their own) and IKEv2 ones NAT detection notifies; ike-scan and the like send none. */
#define IKS_PROBE_MIN 2

static bool starts_like_probe(const iks_msg *m)
{
	if (m->version == 2)
		return m->exch == IKS_EXCH_IKE_SA_INIT && !(m->flags & IKS_FLAG_V2_RESPONSE) && !m->rspi &&
		       !iks_has_payload(m, IKS_PL2_VID) && !iks_has_payload(m, IKS_PL2_NOTIFY);
	return (m->exch == IKS_EXCH_MAIN || m->exch == IKS_EXCH_AGGRESSIVE) && !m->rspi &&
	       iks_has_payload(m, IKS_PL_SA) && !iks_has_payload(m, IKS_PL_VID);
}

static guint addr_hash(gconstpointer a)
{
	return iks_addr_pair_hash(0, a, a);
}

static gboolean addr_equal(gconstpointer a, gconstpointer b)
{
	return iks_addr_eq(a, b);
}

static iks_probe_group *probe_group(const iks_diag *d, const iks_tunnel *t)
{
	if (!d->probes || t->roles == ROLES_UNKNOWN)
		return NULL;
	iks_addr who = iks_role_addr(t, 0);
	return g_hash_table_lookup(d->probes, &who);
}

/* A probe-like negotiation that goes past its first exchange is a negotiation after all, and its
 * initiator no scanner: its group is none. */
static void progressed_past_probe(const iks_diag *d, iks_diag_tunnel *dt, const iks_tunnel *t)
{
	if (dt->pattern != IKS_P_PROBE)
		return;
	bool past = t->version == 2 ? t->v2.pos >= IKS_M_AUTH_REQ
				    : t->v1.p1_pos >= IKS_M_MM3 && t->v1.p1_pos != IKS_M_AM1 && t->v1.p1_pos != IKS_M_AM2;
	if (!past)
		return;
	dt->pattern = IKS_P_NONE;
	iks_probe_group *g = probe_group(d, t);
	if (g) {
		g->negotiates = true;
		g->pattern = IKS_P_NONE;
	}
}

/* The earlier probe-like negotiation from this initiator, when there was one: its tunnel. */
static const iks_tunnel *earlier_probe(iks_diag *d, const iks_tunnel *t, const iks_addr *who)
{
	if (!d->probe_first)
		d->probe_first = g_hash_table_new(g_direct_hash, g_direct_equal);
	gpointer key = GUINT_TO_POINTER(addr_hash(who) | 1u);
	const iks_tunnel *u = iks_tunnel_at(d->mc, GPOINTER_TO_UINT(g_hash_table_lookup(d->probe_first, key)));
	if (u && iks_addr_eq(&u->ref, who))
		return u;
	g_hash_table_insert(d->probe_first, key, GUINT_TO_POINTER(t->id)); /* the first, or a hash collision */
	return NULL;
}

/* Hash lookups only for negotiations whose first message carries no Vendor ID; a group only from an
 * initiator's second such negotiation. */
static void note_probe(iks_diag *d, iks_diag_tunnel *dt, const iks_tunnel *t, const iks_msg *m)
{
	if (!starts_like_probe(m))
		return;
	iks_addr who = m->src, whom = m->dst;
	who.port = whom.port = 0;
	iks_probe_group *g = d->probes ? g_hash_table_lookup(d->probes, &who) : NULL;
	if (!g) {
		const iks_tunnel *u = earlier_probe(d, t, &who);
		if (!u)
			return;
		if (!d->probes)
			d->probes = g_hash_table_new_full(addr_hash, addr_equal, NULL, g_free);
		g = g_new0(iks_probe_group, 1);
		*g = (iks_probe_group){ .initiator = who, .first_responder = u->peer, .leader = u->id,
					.first_ns = u->first_ns, .first = u->tail, .negotiations = 1 };
		g->first_responder.port = 0;
		g_hash_table_insert(d->probes, &g->initiator, g);
	}
	g->negotiations++;
	g->last_ns = m->ts_ns;
	if (g->negotiates)
		return; /* this initiator negotiates: no scanner */
	uint8_t was = g->pattern;
	g->pattern = g->pattern == IKS_P_SCAN || !iks_addr_eq(&whom, &g->first_responder) ? IKS_P_SCAN : IKS_P_PROBE;
	dt->pattern = IKS_P_PROBE; /* its members read the group's probe or scan */
	if (!was) {
		iks_diag_tunnel *lead = iks_diag_at(d, g->leader);
		lead->pattern = IKS_P_PROBE;
		progressed_past_probe(d, lead, iks_tunnel_at(d->mc, g->leader));
		if (g->first)
			g->first->flags |= IKS_R_PATTERN;
	}
}

const iks_probe_group *iks_diag_probes(const iks_diag *d, const iks_tunnel *t)
{
	const iks_probe_group *g = iks_diag_at(d, t->id)->pattern == IKS_P_PROBE ? probe_group(d, t) : NULL;
	return g && g->pattern ? g : NULL;
}

uint8_t iks_diag_pattern(const iks_diag *d, const iks_tunnel *t)
{
	uint8_t p = iks_diag_at(d, t->id)->pattern;
	if (p != IKS_P_PROBE)
		return p;
	const iks_probe_group *g = iks_diag_probes(d, t);
	return g ? g->pattern : IKS_P_NONE; /* a probe's group says probe or scan, or that it negotiates */
}

const iks_answers_group *iks_diag_reflection(const iks_diag *d, const iks_tunnel *t)
{
	if (!d->answers || iks_diag_at(d, t->id)->pattern != IKS_P_REFLECTION)
		return NULL;
	return g_hash_table_lookup(d->answers, &t->ispi);
}

void iks_diag_message(iks_diag *d, const iks_step *s, const iks_msg *m, iks_result *r)
{
	iks_diag_tunnel *dt = iks_diag_at(d, s->t->id);
	note_lost_between(d, dt, s->t, m, r);
	note_ttl(dt, s->t, m, r);
	if (s->new_tunnel) {
		note_answers(d, dt, s->t, m, r);
		note_probe(d, dt, s->t, m);
	}
	progressed_past_probe(d, dt, s->t);
	if (s->new_tunnel && dt->reset_after_p2) {
		r->hint = IKS_H_P1_RESET_AFTER_P2;
		r->flags |= IKS_R_RESET_AFTER_P2;
	}
	if (m->version == 2)
		diag_v2(d, dt, s, m, r);
	else
		diag_v1(d, dt, s, m, r);
	/* Completed after a refusal: the negotiation went past it (the refusing packet keeps its verdict). */
	if ((r->flags & (IKS_R_PHASE1_DONE | IKS_R_PHASE2_DONE)) && !r->failed && dt->failed) {
		dt->recovered_from = dt->failed;
		dt->failed = 0;
		dt->fail_hint = 0;
	}
}

void iks_diag_icmp(iks_diag *d, const iks_tunnel *t, iks_result *r)
{
	fail(iks_diag_at(d, t->id), r, IKS_F_ICMP_UNREACHABLE, IKS_H_NO_MM2_ICMP);
}
