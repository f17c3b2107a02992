/* ike_v1.c — IKEv1 tracking: main and aggressive mode, quick mode, Informational and transaction
 * exchanges. Labels are the sender's state right after sending: MM1 leaves the initiator in
 * MM_WAIT_MSG2, MM2 the responder in MM_WAIT_MSG3, and so on (docs/architecture.md, "States").
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ike_track.h"

/* A first quick-mode packet this small carries HASH only (QM3/QM4), never SA + nonce (QM1):
 * header 28 + HASH(4 + 64, SHA-512) padded to the cipher block is at most 108 bytes, while the
 * smallest QM1 (HASH + SA with one transform + nonce) is above 120. */
#define IKS_QM_HASH_ONLY_MAX_LEN 112

/* Learn roles from a phase-1 message when the capture did not show MM1/AM1. */
static void infer_roles(iks_tunnel *t, const iks_msg *m, unsigned dir)
{
	bool sa = iks_has_payload(m, IKS_PL_SA);
	bool enc = m->flags & IKS_FLAG_ENCRYPTED;
	if (m->rspi == 0) {
		iks_set_sender_role(t, dir, IKS_ROLE_INITIATOR); /* only MM1/AM1 lack the responder cookie */
	} else if (sa && !enc) {
		iks_set_sender_role(t, dir, IKS_ROLE_RESPONDER); /* MM2/AM2 */
	} else if (m->exch == IKS_EXCH_AGGRESSIVE) {
		iks_set_sender_role(t, dir, IKS_ROLE_INITIATOR); /* AM3 */
	} else if (m->exch == IKS_EXCH_MAIN && t->roles == ROLES_UNKNOWN) {
		/* KE (MM3/MM4) or encrypted (MM5/MM6): ambiguous alone, decided by the answer. */
		unsigned kind = enc ? IKS_FLAG_ENCRYPTED : iks_has_payload(m, IKS_PL_KE) ? IKS_PL_KE : 0;
		if (!kind)
			return;
		if (!t->v1.pending_kind) {
			t->v1.pending_kind = (uint8_t)kind;
			t->v1.pending_dir = (uint8_t)dir;
		} else if (t->v1.pending_dir != dir) {
			/* KE then KE, or encrypted then encrypted: the first was the initiator's (MM3, MM5);
			 * KE then encrypted: the first was MM4 and this is MM5 from the initiator. */
			bool first_was_init = !(t->v1.pending_kind == IKS_PL_KE && kind == IKS_FLAG_ENCRYPTED);
			iks_set_sender_role(t, dir, first_was_init ? IKS_ROLE_RESPONDER : IKS_ROLE_INITIATOR);
		}
	}
}

static uint8_t phase1_position(const iks_msg *m, iks_role sender)
{
	bool init = sender == IKS_ROLE_INITIATOR;
	bool enc = m->flags & IKS_FLAG_ENCRYPTED;
	bool sa = iks_has_payload(m, IKS_PL_SA);
	if (sender == IKS_ROLE_UNKNOWN)
		return IKS_M_UNKNOWN;
	if (m->exch == IKS_EXCH_AGGRESSIVE)
		return sa && !enc ? (init ? IKS_M_AM1 : IKS_M_AM2) : (init ? IKS_M_AM3 : IKS_M_UNKNOWN);
	if (enc)
		return init ? IKS_M_MM5 : IKS_M_MM6;
	if (sa)
		return init ? IKS_M_MM1 : IKS_M_MM2;
	if (iks_has_payload(m, IKS_PL_KE))
		return init ? IKS_M_MM3 : IKS_M_MM4;
	return IKS_M_UNKNOWN;
}

/* Phase 1 is over (seen, or implied by a later exchange): both sides are ACTIVE. */
static void phase1_active(iks_tunnel *t)
{
	uint8_t done = t->v1.mode == IKS_EXCH_AGGRESSIVE ? IKS_M_AM3 : t->v1.mode == IKS_EXCH_MAIN ? IKS_M_MM6 : 0;
	t->v1.side_pos[0] = t->v1.side_pos[1] = done;
	if (done)
		t->v1.p1_pos = done;
}

/* Quick mode and XAUTH/mode-config run under a finished phase 1: when the capture did not show
 * its end (started later, or lost MM6 / AM3), they imply it. In the clear part of phase 1
 * (MM1-MM4, AM1 without AM2) they cannot be genuine, and change nothing. */
static bool phase1_implied(iks_tunnel *t)
{
	uint8_t pos = t->v1.p1_pos;
	if (iks_completes_phase1(pos))
		return true;
	if (pos != 0 && (pos < IKS_M_MM5 || pos == IKS_M_AM1))
		return false;
	phase1_active(t);
	return true;
}

/* Returns true when the message moved the negotiation on. */
static bool phase1_step(iks_tunnel *t, const iks_msg *m, iks_role sender, iks_result *r)
{
	uint8_t pos = phase1_position(m, sender);
	r->msg = pos;
	if (!t->v1.mode)
		t->v1.mode = m->exch;
	if (pos == IKS_M_UNKNOWN || m->exch != t->v1.mode) {
		r->flags |= pos == IKS_M_UNKNOWN && sender == IKS_ROLE_UNKNOWN ? 0 : IKS_R_UNEXPECTED;
		r->msg = IKS_M_UNKNOWN;
		return false;
	}
	if ((pos == IKS_M_MM1 || pos == IKS_M_AM1) && !t->p1_start_seen) {
		t->p1_start_seen = true;
		t->p1_start_ns = m->ts_ns;
	}
	/* Behind the furthest step seen: reordered in the capture (its sender still moves on) or an
	 * old step sent again with new content (never moves a side back). */
	uint8_t *side = &t->v1.side_pos[sender == IKS_ROLE_RESPONDER];
	if (pos < t->v1.p1_pos || pos <= *side)
		r->flags |= IKS_R_UNEXPECTED;
	if (pos <= *side)
		return false;
	*side = pos;
	if (pos > t->v1.p1_pos)
		t->v1.p1_pos = pos;
	if (iks_completes_phase1(pos)) {
		phase1_active(t);
		r->flags |= IKS_R_PHASE1_DONE;
		r->span.setup_ns = t->p1_start_seen ? m->ts_ns - t->p1_start_ns : -1;
		t->setup_ns = r->span.setup_ns;
	}
	return true;
}

/* The first message of a quick mode: QM1, or a QM3 / QM4 whose start the capture missed. */
static bool quick_start(iks_tunnel *t, iks_exchange *e, const iks_msg *m, unsigned dir, bool new_tunnel,
			iks_result *r)
{
	e->qm_init_dir = (uint8_t)dir;
	e->start_ns = m->ts_ns;
	if (m->length <= IKS_QM_HASH_ONLY_MAX_LEN) {
		e->step = IKS_M_UNKNOWN;
		r->msg = IKS_M_UNKNOWN;
		r->flags |= new_tunnel ? 0 : IKS_R_UNEXPECTED;
		return false;
	}
	e->step = IKS_M_QM1;
	t->v1.pending_qm = e;
	return true;
}

static bool quick_step(iks_tunnel *t, iks_exchange *e, const iks_msg *m, unsigned dir, bool new_exchange,
		       bool new_tunnel, iks_result *r)
{
	t->v1.qm_seen = true;
	if (m->flags & IKS_FLAG_COMMIT)
		e->commit = true;
	if (!phase1_implied(t))
		r->flags |= IKS_R_UNEXPECTED;
	if (new_exchange) {
		if (!quick_start(t, e, m, dir, new_tunnel, r))
			return false;
	} else if (dir != e->qm_init_dir && e->step == IKS_M_QM1) {
		e->step = IKS_M_QM2;
		if (t->v1.pending_qm == e)
			t->v1.pending_qm = NULL;
	} else if (dir == e->qm_init_dir && e->step == IKS_M_QM2) {
		e->step = IKS_M_QM3;
		r->flags |= IKS_R_PHASE2_DONE;
		r->span.child_ns = m->ts_ns - e->start_ns;
	} else if (dir != e->qm_init_dir && e->step == IKS_M_QM3 && e->commit) {
		e->step = IKS_M_QM4; /* CONNECTED notify of the commit bit (RFC 2409 §5.5) */
	} else {
		r->msg = IKS_M_UNKNOWN;
		r->flags |= e->step == IKS_M_UNKNOWN ? 0 : IKS_R_UNEXPECTED;
		return false;
	}
	r->msg = e->step;
	r->qm_state = e->step == IKS_M_QM1 ? IKS_QM_WAIT_MSG2 : e->step == IKS_M_QM2 ? IKS_QM_WAIT_MSG3 : IKS_QM_ACTIVE;
	e->progress_ns = m->ts_ns;
	return true;
}

/* A transaction exchange (XAUTH, mode-config): a request and its reply under one message ID, in
 * either direction (the gateway asks for XAUTH credentials and pushes mode-config SET, the client
 * pulls mode-config with REQUEST). The round counts the tunnel's transaction exchanges. */
static bool transaction_step(iks_tunnel *t, iks_exchange *e, const iks_msg *m, unsigned dir, bool new_exchange,
			     iks_result *r)
{
	if (!phase1_implied(t))
		r->flags |= IKS_R_UNEXPECTED;
	if (new_exchange) {
		e->qm_init_dir = (uint8_t)dir;
		e->step = IKS_M_TXN_REQ;
		if (t->v1.txn < UINT8_MAX)
			t->v1.txn++;
		r->round = t->v1.txn;
		t->v1.addr_asked |= m->ra.cfg_type == IKS_CFG_REQUEST && (m->ra.cfg & IKS_CFG_HAS_ADDRESS_ASKED);
	} else if (dir != e->qm_init_dir && e->step == IKS_M_TXN_REQ) {
		e->step = IKS_M_TXN_RESP;
		r->round = e->tail ? e->tail->round : 0;
	} else {
		r->msg = IKS_M_UNKNOWN;
		r->flags |= IKS_R_UNEXPECTED;
		return false;
	}
	t->v1.ra_ok |= (m->ra.cfg_type == IKS_CFG_SET && (m->ra.cfg & IKS_CFG_HAS_XAUTH_OK)) ||
		       (m->ra.cfg & IKS_CFG_HAS_ADDRESS);
	r->msg = e->step;
	e->progress_ns = m->ts_ns;
	return true;
}

/* Main / aggressive mode, quick mode, Informational, transaction; then the sender's states. */
static bool v1_exchange(iks_tunnel *t, iks_exchange *e, const iks_msg *m, unsigned dir, bool new_exchange,
			bool new_tunnel, iks_result *r)
{
	switch (m->exch) {
	case IKS_EXCH_MAIN:
	case IKS_EXCH_AGGRESSIVE:
		infer_roles(t, m, dir);
		return phase1_step(t, m, iks_role_of(t, dir), r);
	case IKS_EXCH_QUICK:
		return quick_step(t, e, m, dir, new_exchange, new_tunnel, r);
	case IKS_EXCH_INFO:
		r->msg = IKS_M_INFO;
		if (iks_has_payload(m, IKS_PL_DELETE) && !t->deleted) {
			t->deleted = true;
			r->flags |= IKS_R_DELETED;
		}
		return false;
	case IKS_EXCH_TRANSACTION:
		return transaction_step(t, e, m, dir, new_exchange, r);
	}
	r->msg = IKS_M_UNKNOWN;
	return false;
}

bool iks_v1_step(iks_tunnel *t, iks_exchange *e, const iks_msg *m, unsigned dir, bool new_exchange,
		 bool new_tunnel, iks_result *r)
{
	bool progressed = v1_exchange(t, e, m, dir, new_exchange, new_tunnel, r);
	r->role = (uint8_t)iks_role_of(t, dir);
	if (r->role != IKS_ROLE_UNKNOWN) {
		uint8_t pos = t->v1.side_pos[r->role == IKS_ROLE_RESPONDER];
		r->state = t->deleted ? IKS_S_DELETED : iks_state_after(pos);
		r->ios_state = iks_ios_after(pos);
	}
	if (m->exch == IKS_EXCH_QUICK || m->exch == IKS_EXCH_TRANSACTION)
		r->ios_state = IKS_IOS_QM_IDLE; /* IOS keeps showing QM_IDLE while quick modes run */
	return progressed;
}
