/* ike_v2.c — IKEv2 tracking (RFC 7296): the position from exchange type + Response flag, and the
 * IKE SA status as Cisco shows it (`show crypto ikev2 sa`: IN-NEG, READY, DELETE).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ike_track.h"

/* An IKE_AUTH request this large (ISAKMP length, bytes) may be IP-fragmented on the way: with the IP
 * and UDP headers and any tunnel overhead between the peers it nears common path MTUs. */
#define IKS_V2_BIG_AUTH 1200

static uint8_t v2_position(const iks_msg *m)
{
	bool resp = m->flags & IKS_FLAG_V2_RESPONSE;
	switch (m->exch) {
	case IKS_EXCH_IKE_SA_INIT: return resp ? IKS_M_SA_INIT_RESP : IKS_M_SA_INIT_REQ;
	case IKS_EXCH_IKE_AUTH: return resp ? IKS_M_AUTH_RESP : IKS_M_AUTH_REQ;
	case IKS_EXCH_CREATE_CHILD_SA: return resp ? IKS_M_CHILD_RESP : IKS_M_CHILD_REQ;
	case IKS_EXCH_INFORMATIONAL: return resp ? IKS_M_INFO_RESP : IKS_M_INFO_REQ;
	case IKS_EXCH_IKE_INTERMEDIATE: return resp ? IKS_M_INTER_RESP : IKS_M_INTER_REQ;
	}
	return IKS_M_UNKNOWN;
}

/* An IKE_AUTH response that completes the IKE SA: not refused by a notify we can read (keys
 * loaded), and, without keys, its SK payload opens with IDr / CERT / AUTH / VID, not with a
 * Notify (an error-only answer) or EAP (more IKE_AUTH rounds follow). With keys, an EAP payload
 * anywhere in it says another round is due (the first answer of an EAP exchange opens with IDr). */
static bool v2_auth_ok(const iks_msg *m)
{
	if (iks_first_notify(m, IKS_NF_V2_IKE_FATAL))
		return false;
	if (m->sk_first == IKS_PL2_EAP || m->ra.eap_code)
		return false;
	return m->sk_first != IKS_PL2_NOTIFY || m->n_notify > 0;
}

/* A CREATE_CHILD_SA answer that creates the child SA: no error notify we can read, and without
 * keys not an answer that opens with a Notify. */
static bool v2_child_ok(const iks_msg *m)
{
	return !iks_first_notify(m, IKS_NF_ERROR) && !(m->sk_first == IKS_PL2_NOTIFY && m->n_notify == 0);
}

static void sa_init_request(iks_tunnel *t, const iks_msg *m, iks_result *r)
{
	if (!t->p1_start_seen) {
		t->p1_start_seen = true;
		t->p1_start_ns = m->ts_ns;
	}
	t->v2.retry_pending = false;
	if (t->v2.state && t->v2.state != IKS_S_IN_NEG)
		r->flags |= IKS_R_UNEXPECTED;
	else
		t->v2.state = IKS_S_IN_NEG;
}

static void sa_init_response(iks_tunnel *t, const iks_msg *m)
{
	if (iks_first_notify(m, IKS_NF_V2_RETRY)) {
		if (t->v2.retries < UINT8_MAX)
			t->v2.retries++;
		t->v2.retry_pending = true;
	}
	if (!t->v2.state)
		t->v2.state = IKS_S_IN_NEG;
}

/* Another IKE_AUTH round after an answer that looked final (without keys the first answer of an
 * EAP exchange cannot be told from a last one): that answer did not complete the SA. Its packet,
 * and its last fragment when it came in pieces, are relabelled, so a second pass sees the states
 * only move forward; setup time waits for the final answer. */
static void not_final_after_all(iks_tunnel *t)
{
	iks_result *ready = t->v2.ready;
	if (!ready)
		return;
	ready->state = IKS_S_IN_NEG;
	ready->flags &= (uint16_t)~IKS_R_PHASE1_DONE;
	ready->span.setup_ns = 0;
	if (t->tail && t->tail->msg == IKS_M_AUTH_RESP && t->tail->state == IKS_S_READY)
		t->tail->state = IKS_S_IN_NEG;
	t->setup_ns = -1;
	if (t->v2.auth_done)
		t->v2.auth_done--;
	t->v2.ready = NULL;
	t->v2.state = IKS_S_IN_NEG;
}

void iks_v2_fragment(iks_tunnel *t, const iks_msg *m, iks_result *r)
{
	if (r->msg != IKS_M_AUTH_RESP || !m->ra.eap_code)
		return;
	/* Keys loaded: the reassembled answer (in its last fragment's frame) carries EAP. */
	t->v2.eap_last = true;
	not_final_after_all(t);
	r->state = IKS_S_IN_NEG;
}

/* IKE_AUTH request, IKE_INTERMEDIATE either way: the SA is being set up. */
static void auth_request(iks_tunnel *t, const iks_msg *m, uint8_t pos, iks_result *r)
{
	if (pos == IKS_M_AUTH_REQ) {
		t->v2.auth_frag |= m->frag_total > 1;
		t->v2.auth_big |= m->length > IKS_V2_BIG_AUTH;
		if (t->auth_round < UINT8_MAX)
			t->auth_round++;
		r->round = t->auth_round;
	}
	if (t->v2.state == IKS_S_READY && pos == IKS_M_AUTH_REQ) {
		not_final_after_all(t); /* another IKE_AUTH round (EAP, multiple auth) */
	} else if (t->v2.state && t->v2.state != IKS_S_IN_NEG) {
		r->flags |= IKS_R_UNEXPECTED;
	} else {
		t->v2.state = IKS_S_IN_NEG;
	}
}

static void auth_response(iks_tunnel *t, const iks_msg *m, iks_result *r)
{
	r->round = t->auth_round;
	t->v2.eap_last = m->sk_first == IKS_PL2_EAP || m->ra.eap_code;
	if (t->v2.state == IKS_S_DELETE) {
		r->flags |= IKS_R_UNEXPECTED;
	} else if (v2_auth_ok(m)) {
		t->v2.state = IKS_S_READY;
		t->v2.ready = r;
		r->flags |= IKS_R_PHASE1_DONE;
		r->span.setup_ns = t->p1_start_seen ? m->ts_ns - t->p1_start_ns : -1;
		t->setup_ns = r->span.setup_ns;
	} else {
		t->v2.state = IKS_S_IN_NEG;
	}
}

/* CREATE_CHILD_SA and INFORMATIONAL run under an IKE SA; true when the message answers one. */
static bool under_sa(iks_tunnel *t, iks_exchange *e, const iks_msg *m, uint8_t pos, bool new_exchange,
		     iks_result *r)
{
	/* One whose start the capture missed is up. An INFORMATIONAL may also carry an error during
	 * IKE_AUTH, and changes nothing then. */
	bool child = pos == IKS_M_CHILD_REQ || pos == IKS_M_CHILD_RESP;
	if (!t->v2.state)
		t->v2.state = IKS_S_READY;
	else if (t->v2.state == IKS_S_IN_NEG && child)
		r->flags |= IKS_R_UNEXPECTED;
	if (new_exchange)
		e->start_ns = m->ts_ns;
	if (pos == IKS_M_INFO_REQ)
		e->v2_delete = m->sk_first == IKS_PL2_DELETE || m->sk_first == IKS_PL2_VID;
	/* Keys loaded: the glue marks a decrypted Delete of the IKE SA itself (payload bit 42). An
	 * empty answer to a Delete: the IKE SA's own delete (a child SA delete is answered with Delete
	 * payloads for the paired SAs). */
	if ((pos == IKS_M_INFO_REQ && iks_has_payload(m, IKS_PL2_DELETE)) ||
	    (pos == IKS_M_INFO_RESP && e->v2_delete && iks_has_payload(m, IKS_PL2_SK) && m->sk_first == 0)) {
		if (t->v2.state != IKS_S_DELETE)
			r->flags |= IKS_R_DELETED;
		t->v2.state = IKS_S_DELETE;
		t->deleted = true;
	}
	if (pos == IKS_M_CHILD_RESP && t->v2.state == IKS_S_READY && v2_child_ok(m)) {
		r->flags |= IKS_R_PHASE2_DONE;
		r->span.child_ns = m->ts_ns - e->start_ns;
	}
	return pos == IKS_M_CHILD_RESP || pos == IKS_M_INFO_RESP;
}

bool iks_v2_step(iks_tunnel *t, iks_exchange *e, const iks_msg *m, unsigned dir, bool new_exchange, iks_result *r)
{
	/* The original initiator sets the I flag on every message it sends. */
	iks_set_sender_role(t, dir, m->flags & IKS_FLAG_V2_INITIATOR ? IKS_ROLE_INITIATOR : IKS_ROLE_RESPONDER);
	uint8_t pos = v2_position(m);
	bool progressed = true;
	r->msg = pos;
	switch (pos) {
	case IKS_M_SA_INIT_REQ:
		sa_init_request(t, m, r);
		break;
	case IKS_M_SA_INIT_RESP:
		sa_init_response(t, m);
		break;
	case IKS_M_AUTH_REQ:
	case IKS_M_INTER_REQ:
	case IKS_M_INTER_RESP:
		auth_request(t, m, pos, r);
		break;
	case IKS_M_AUTH_RESP:
		auth_response(t, m, r);
		break;
	case IKS_M_CHILD_REQ:
	case IKS_M_INFO_REQ:
	case IKS_M_CHILD_RESP:
	case IKS_M_INFO_RESP:
		progressed = under_sa(t, e, m, pos, new_exchange, r);
		break;
	default:
		r->msg = IKS_M_UNKNOWN;
		progressed = false;
	}
	/* Each IKE_AUTH round starts again from its request (EAP). */
	if (pos != IKS_M_UNKNOWN && pos <= IKS_M_AUTH_RESP && (pos > t->v2.pos || pos == IKS_M_AUTH_REQ))
		t->v2.pos = pos;
	r->state = t->v2.state;
	r->role = (uint8_t)iks_role_of(t, dir);
	return progressed;
}
