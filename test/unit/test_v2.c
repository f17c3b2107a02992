/* IKEv2 (issue #8, GLib g_test): positions, roles and Cisco status, responder deletes, COOKIE /
 * INVALID_KE retries, resends; IKE_AUTH unanswered, refusals, IKEv1 and IKEv2 mixed. */
#include "helpers.h"

/* Rule: positions from exchange + R flag, role from the I flag, Cisco status IN-NEG -> READY on
 * the IKE_AUTH answer (setup time since the first IKE_SA_INIT request). */
static void test_ikev2_labels(fx *f, gconstpointer d)
{
	(void)d;
	iks_result *q = feed(f, SA_INIT_REQ(A, B, 5), 0);
	assert_labels(q, "SA_INIT_REQ", "initiator", "IN-NEG", NULL);
	g_assert_cmpuint(q->tunnel, ==, 1);
	g_assert_false(q->flags & IKS_R_MID_NEGOTIATION);
	iks_result *rs = feed(f, SA_INIT_RESP(B, A, 5, 6), SEC / 100);
	assert_labels(rs, "SA_INIT_RESP", "responder", "IN-NEG", NULL);
	g_assert_cmpuint(rs->response_to, ==, 1);
	g_assert_cmpuint(q->response_in, ==, 2);
	assert_labels(feed(f, AUTH_REQ(A, B, 5, 6), SEC / 100), "AUTH_REQ", "initiator", "IN-NEG", NULL);
	iks_result *ar = feed(f, AUTH_RESP(B, A, 5, 6), SEC / 100);
	assert_labels(ar, "AUTH_RESP", "responder", "READY", NULL);
	g_assert_true(ar->flags & IKS_R_PHASE1_DONE);
	g_assert_cmpint(ar->span.setup_ns, ==, 3 * SEC / 100);
	g_assert_cmpuint(ar->failed, ==, 0);
	/* The original responder starts CREATE_CHILD_SA with its own first message ID, 0; it is no
	 * resend of IKE_SA_INIT and no answer to anything. */
	iks_result *cq = feed(f, mk2(B, A, 5, 6, IKS_EXCH_CREATE_CHILD_SA, 0, 0, IKS_PL2_SA, 300, 4), SEC);
	assert_labels(cq, "CHILD_REQ", "responder", "READY", NULL);
	g_assert_cmpuint(cq->retrans, ==, 0);
	g_assert_cmpuint(cq->response_to, ==, 0);
	iks_result *cr = feed(f, mk2(A, B, 5, 6, IKS_EXCH_CREATE_CHILD_SA, V2I | V2R, 0, IKS_PL2_SA, 300, 5), 1);
	assert_labels(cr, "CHILD_RESP", "initiator", "READY", NULL);
	g_assert_cmpuint(cr->response_to, ==, 5);
	g_assert_true(cr->flags & IKS_R_PHASE2_DONE);
	/* Both sides at message ID 2 at once: two exchanges. */
	iks_result *i1 = feed(f, mk2(A, B, 5, 6, IKS_EXCH_INFORMATIONAL, V2I, 2, 0, 80, 6), SEC);
	iks_result *i2 = feed(f, mk2(B, A, 5, 6, IKS_EXCH_INFORMATIONAL, 0, 2, 0, 80, 7), 1);
	assert_labels(i1, "INFO_REQ", "initiator", "READY", NULL);
	assert_labels(i2, "INFO_REQ", "responder", "READY", NULL);
	g_assert_cmpuint(i2->retrans, ==, 0);
	iks_result *i2r = feed(f, mk2(A, B, 5, 6, IKS_EXCH_INFORMATIONAL, V2I | V2R, 2, 0, 80, 8), 1);
	g_assert_cmpstr(iks_msg_name(i2r->msg), ==, "INFO_RESP");
	g_assert_cmpuint(i2r->response_to, ==, 8);
	iks_result *i1r = feed(f, mk2(B, A, 5, 6, IKS_EXCH_INFORMATIONAL, V2R, 2, 0, 80, 9), 1);
	g_assert_cmpuint(i1r->response_to, ==, 7);
	g_assert_cmpuint(iks_fsm_tunnel_count(f->fsm), ==, 1);
	iks_msg bad = SA_INIT_REQ(A, B, 5);
	bad.version = 3;
	g_assert_null(feed(f, bad, 1));
}

/* Rule: the responder deletes the IKE SA with its own message ID 0 (flags 0x00, answer I|R, as in
 * Wireshark's ikev2-decrypt-aes256gcm16); an empty answer to a Delete is the IKE SA's: DELETE. */
static void test_ikev2_responder_delete(fx *f, gconstpointer d)
{
	(void)d;
	v2_to_auth_req(f, A, B, 7, 8);
	feed(f, AUTH_RESP(B, A, 7, 8), 1);
	iks_result *dq = feed(f, mk2(B, A, 7, 8, IKS_EXCH_INFORMATIONAL, 0, 0, IKS_PL2_DELETE, 65, 0), 70 * SEC);
	assert_labels(dq, "INFO_REQ", "responder", "READY", NULL);
	g_assert_cmpuint(dq->retrans, ==, 0);
	g_assert_cmpuint(dq->stalled, ==, 0);
	iks_result *dr = feed(f, mk2(A, B, 7, 8, IKS_EXCH_INFORMATIONAL, V2I | V2R, 0, 0, 57, 0), SEC / 10);
	assert_labels(dr, "INFO_RESP", "initiator", "DELETE", NULL);
	g_assert_cmpuint(dr->response_to, ==, 5);
	/* A child SA delete is answered with Delete payloads: the IKE SA stays READY. */
	v2_to_auth_req(f, C, B, 9, 10);
	feed(f, AUTH_RESP(B, C, 9, 10), 1);
	feed(f, mk2(C, B, 9, 10, IKS_EXCH_INFORMATIONAL, V2I, 2, IKS_PL2_DELETE, 80, 0), SEC);
	iks_result *cd = feed(f, mk2(B, C, 9, 10, IKS_EXCH_INFORMATIONAL, V2R, 2, IKS_PL2_DELETE, 80, 1), 1);
	g_assert_cmpstr(iks_state_name(cd->state), ==, "READY");
	/* Keys loaded: a decrypted Delete of the IKE SA (bit 42 from the glue) is DELETE at once. */
	iks_msg del = mk2(B, C, 9, 10, IKS_EXCH_INFORMATIONAL, 0, 0, IKS_PL2_DELETE, 80, 2);
	del.payloads |= BIT(IKS_PL2_DELETE);
	assert_labels(feed(f, del, SEC), "INFO_REQ", "responder", "DELETE", NULL);
	iks_fsm_finish(f->fsm);
	g_assert_false(dr->flags & IKS_R_FINAL);
	g_assert_false(cd->flags & IKS_R_FINAL);
}

/* Rule: a COOKIE or INVALID_KE_PAYLOAD answer makes the initiator repeat IKE_SA_INIT (same SPIi,
 * SPIr 0): same tunnel, no resend, no failure — unless it loops. */
static void test_ikev2_cookie_retry(fx *f, gconstpointer d)
{
	(void)d;
	feed(f, SA_INIT_REQ(A, B, 0x11), 0);
	iks_result *ck = feed(f, with_notify(mk2(B, A, 0x11, 0, IKS_EXCH_IKE_SA_INIT, V2R, 0, 0, 60, 9), 16390), 1);
	g_assert_cmpstr(iks_msg_name(ck->msg), ==, "SA_INIT_RESP");
	g_assert_cmpuint(ck->failed, ==, 0);
	iks_result *q2 = feed(f, with_notify(SA_INIT_REQ(A, B, 0x11), 16390), 1);
	g_assert_cmpuint(q2->tunnel, ==, 1);
	g_assert_cmpuint(q2->retrans, ==, 0);
	iks_result *ok = feed(f, SA_INIT_RESP(B, A, 0x11, 0x12), 1);
	g_assert_cmpuint(ok->tunnel, ==, 1);
	g_assert_cmpuint(ok->retrans, ==, 0);
	g_assert_cmpuint(ok->response_to, ==, 3);
	feed(f, AUTH_REQ(A, B, 0x11, 0x12), 1);
	iks_result *done = feed(f, AUTH_RESP(B, A, 0x11, 0x12), 1);
	g_assert_cmpstr(iks_state_name(done->state), ==, "READY");
	g_assert_cmpint(done->span.setup_ns, ==, 5); /* from the first request */
	g_assert_cmpuint(iks_fsm_tunnel_count(f->fsm), ==, 1);

	/* INVALID_KE_PAYLOAD answered with a responder SPI, the retry's answer with another one. */
	feed(f, SA_INIT_REQ(C, B, 0x21), SEC);
	feed(f, with_notify(mk2(B, C, 0x21, 0x99, IKS_EXCH_IKE_SA_INIT, V2R, 0, 0, 38, 0), 17), 1);
	iks_msg retry = SA_INIT_REQ(C, B, 0x21);
	retry.digest ^= 0x55;
	g_assert_cmpuint(feed(f, retry, 1)->retrans, ==, 0);
	iks_result *ok2 = feed(f, SA_INIT_RESP(B, C, 0x21, 0x22), 1);
	g_assert_cmpuint(ok2->tunnel, ==, 2);
	g_assert_cmpuint(feed(f, AUTH_REQ(C, B, 0x21, 0x22), 1)->tunnel, ==, 2);
	g_assert_cmpuint(iks_fsm_tunnel_count(f->fsm), ==, 2);

	/* A loop: the third COOKIE answer fails. */
	iks_addr e = { 4, { 192, 0, 2, 99 }, 500 };
	for (uint64_t k = 0; k < 3; k++) {
		feed(f, with_notify(SA_INIT_REQ(e, B, 0x31), (uint16_t)(100 + k)), SEC);
		iks_result *c = feed(f, with_notify(mk2(B, e, 0x31, 0, IKS_EXCH_IKE_SA_INIT, V2R, 0, 0, 60, k), 16390), 1);
		if (k < 2) {
			g_assert_cmpuint(c->failed, ==, 0);
		} else {
			g_assert_cmpstr(iks_failed_name(c->failed), ==, "COOKIE");
			g_assert_cmpuint(c->hint, ==, IKS_H_V2_RETRY_LOOP);
		}
	}
}

/* Rule: resends by message ID and direction (IKEv2 resends carry the same message ID; the
 * responder re-sends its answer only for a resent request); stall on the k-th resend. */
static void test_ikev2_retransmission(fx *f, gconstpointer d)
{
	(void)d;
	feed(f, SA_INIT_REQ(A, B, 1), 0);
	/* The same packet captured twice, microseconds apart: no resend. */
	iks_result *dup = feed(f, SA_INIT_REQ(A, B, 1), 9000);
	g_assert_cmpuint(dup->retrans, ==, 0);
	assert_labels(dup, "SA_INIT_REQ", "initiator", "IN-NEG", NULL);
	iks_result *r1 = feed(f, SA_INIT_REQ(A, B, 1), SEC);
	iks_result *r2 = feed(f, SA_INIT_REQ(A, B, 1), 2 * SEC);
	g_assert_cmpuint(r1->retrans, ==, 1);
	g_assert_cmpuint(r2->retrans, ==, 2);
	g_assert_cmpuint(r2->retrans_of, ==, 1);
	assert_labels(r2, "SA_INIT_REQ", "initiator", "IN-NEG", NULL);
	g_assert_cmpstr(iks_stalled_name(r2->stalled), ==, "IN-NEG");
	g_assert_cmpuint(r2->hint, ==, IKS_H_V2_NO_INIT_RESP);
	iks_fsm_finish(f->fsm);
	g_assert_true(r2->flags & IKS_R_FINAL);

	/* IKE_AUTH resent with new bytes (new IV) is still a resend; the answer re-sent too. */
	v2_to_auth_req(f, C, B, 3, 4);
	iks_msg again = AUTH_REQ(C, B, 3, 4);
	again.digest ^= 0xabc;
	iks_result *a1 = feed(f, again, SEC);
	g_assert_cmpuint(a1->retrans, ==, 1);
	iks_result *resp = feed(f, AUTH_RESP(B, C, 3, 4), 1);
	g_assert_cmpuint(resp->retrans, ==, 0);
	feed(f, again, SEC);
	iks_result *resp2 = feed(f, AUTH_RESP(B, C, 3, 4), 1);
	g_assert_cmpuint(resp2->retrans, ==, 1);
	g_assert_cmpstr(iks_state_name(resp2->state), ==, "READY");
	/* A liveness check (empty INFORMATIONAL) re-sent without answer: a dead peer. */
	iks_msg dpd = mk2(C, B, 3, 4, IKS_EXCH_INFORMATIONAL, V2I, 2, 0, 80, 0);
	feed(f, dpd, 30 * SEC);
	g_assert_cmpuint(feed(f, dpd, 2 * SEC)->failed, ==, 0);
	iks_result *dead = feed(f, dpd, 4 * SEC);
	g_assert_cmpstr(iks_failed_name(dead->failed), ==, "PEER_DEAD");
	g_assert_cmpuint(dead->hint, ==, IKS_H_V2_PEER_DEAD);
}

/* Rule: IKE_AUTH unanswered — the hint names fragmentation when the request was sent as IKEv2
 * fragments (SKF) or is large; fragments of one sending are no resends. */
static void test_ikev2_auth_unanswered(fx *f, gconstpointer d)
{
	(void)d;
	feed(f, SA_INIT_REQ(A, B, 1), 0);
	feed(f, SA_INIT_RESP(B, A, 1, 2), 1);
	iks_result *fr[6];
	for (int k = 0; k < 6; k++) {
		iks_msg m = mk2(A, B, 1, 2, IKS_EXCH_IKE_AUTH, V2I, 1, k % 2 ? 0 : 35, 1236, (uint64_t)k % 2);
		m.payloads = BIT(IKS_PL2_SKF);
		m.frag_num = (uint16_t)(k % 2 + 1);
		m.frag_total = 2;
		fr[k] = feed(f, m, k % 2 ? 1 : 2 * SEC);
		g_assert_cmpstr(iks_msg_name(fr[k]->msg), ==, "AUTH_REQ");
		g_assert_cmpuint(fr[k]->retrans, ==, (unsigned)k / 2);
	}
	g_assert_cmpuint(fr[3]->retrans_of, ==, 3);
	g_assert_cmpstr(iks_stalled_name(fr[4]->stalled), ==, "IN-NEG");
	g_assert_cmpuint(fr[4]->hint, ==, IKS_H_V2_NO_AUTH_RESP_IKEFRAG);

	/* A large unfragmented IKE_AUTH, and a small one. */
	feed(f, SA_INIT_REQ(C, B, 3), SEC);
	feed(f, SA_INIT_RESP(B, C, 3, 4), 1);
	iks_msg big = AUTH_REQ(C, B, 3, 4);
	big.length = 1500;
	feed(f, big, 1);
	feed(f, big, SEC);
	iks_result *b2 = feed(f, big, SEC);
	g_assert_cmpuint(b2->hint, ==, IKS_H_V2_NO_AUTH_RESP_BIG);
	iks_addr e = { 4, { 192, 0, 2, 99 }, 500 };
	v2_to_auth_req(f, e, B, 5, 6);
	feed(f, AUTH_REQ(e, B, 5, 6), SEC);
	iks_result *s2 = feed(f, AUTH_REQ(e, B, 5, 6), SEC);
	g_assert_cmpuint(s2->hint, ==, IKS_H_V2_NO_AUTH_RESP);
	iks_fsm_finish(f->fsm);
	g_assert_true(s2->flags & IKS_R_FINAL);
	iks_tunnel_summary sum;
	g_assert_true(iks_fsm_summary(f->fsm, 3, &sum));
	g_assert_cmpstr(iks_state_name(sum.state), ==, "IN-NEG");
	g_assert_cmpstr(iks_stalled_name(sum.stalled), ==, "IN-NEG");
	g_assert_cmpuint(sum.hint, ==, IKS_H_V2_NO_AUTH_RESP);
}

/* Rule: refusals — clear IKE_SA_INIT notifies, decrypted IKE_AUTH notifies (keys loaded), and an
 * IKE_AUTH answer of notifies only without keys. A child SA refusal leaves the IKE SA READY. */
static void test_ikev2_refusals(fx *f, gconstpointer d)
{
	(void)d;
	/* NO_PROPOSAL_CHOSEN in the clear. */
	feed(f, SA_INIT_REQ(A, B, 1), 0);
	iks_result *np = feed(f, with_notify(mk2(B, A, 1, 0, IKS_EXCH_IKE_SA_INIT, V2R, 0, 0, 36, 0), 14), 1);
	g_assert_cmpstr(iks_failed_name(np->failed), ==, "NO_PROPOSAL_CHOSEN");
	g_assert_cmpuint(np->hint, ==, IKS_H_V2_INIT_NO_PROPOSAL);
	g_assert_cmpstr(iks_state_name(np->state), ==, "IN-NEG");

	/* AUTHENTICATION_FAILED decrypted. */
	v2_to_auth_req(f, C, B, 3, 4);
	iks_result *af = feed(f, with_notify(mk2(B, C, 3, 4, IKS_EXCH_IKE_AUTH, V2R, 1, IKS_PL2_NOTIFY, 80, 0), 24), 1);
	assert_labels(af, "AUTH_RESP", "responder", "IN-NEG", NULL);
	g_assert_cmpstr(iks_failed_name(af->failed), ==, "AUTHENTICATION_FAILED");
	g_assert_cmpuint(af->hint, ==, IKS_H_V2_AUTH_FAILED);
	g_assert_false(af->flags & IKS_R_PHASE1_DONE);

	/* The same without keys: notifies only. */
	iks_addr e = { 4, { 192, 0, 2, 99 }, 500 };
	v2_to_auth_req(f, e, B, 5, 6);
	iks_result *ar = feed(f, mk2(B, e, 5, 6, IKS_EXCH_IKE_AUTH, V2R, 1, IKS_PL2_NOTIFY, 80, 0), 1);
	g_assert_cmpstr(iks_failed_name(ar->failed), ==, "AUTH_REJECTED");
	g_assert_cmpstr(iks_state_name(ar->state), ==, "IN-NEG");

	/* TS_UNACCEPTABLE decrypted: IKE SA up, child SA refused. */
	iks_addr g = { 4, { 192, 0, 2, 77 }, 500 };
	v2_to_auth_req(f, g, B, 7, 8);
	iks_result *ts = feed(f, with_notify(AUTH_RESP(B, g, 7, 8), 38), 1);
	g_assert_cmpstr(iks_state_name(ts->state), ==, "READY");
	g_assert_cmpstr(iks_failed_name(ts->failed), ==, "TS_UNACCEPTABLE");
	g_assert_cmpuint(ts->hint, ==, IKS_H_V2_TS);

	/* REDIRECT. */
	iks_addr h = { 4, { 192, 0, 2, 66 }, 500 };
	feed(f, SA_INIT_REQ(h, B, 9), 1);
	iks_result *rd = feed(f, with_notify(mk2(B, h, 9, 0, IKS_EXCH_IKE_SA_INIT, V2R, 0, 0, 100, 0), 16407), 1);
	g_assert_cmpstr(iks_failed_name(rd->failed), ==, "REDIRECT");
	g_assert_cmpuint(rd->hint, ==, IKS_H_V2_REDIRECT);

	iks_fsm_finish(f->fsm);
	iks_tunnel_summary s;
	g_assert_true(iks_fsm_summary(f->fsm, 2, &s));
	g_assert_cmpuint(s.version, ==, 2);
	g_assert_cmpstr(iks_failed_name(s.failed), ==, "AUTHENTICATION_FAILED");
	g_assert_cmpuint(s.stalled, ==, 0); /* refused, not also stalled */
	g_assert_false(af->flags & IKS_R_FINAL);
	g_assert_true(iks_fsm_summary(f->fsm, 4, &s));
	g_assert_cmpstr(iks_state_name(s.state), ==, "READY");
	g_assert_cmpuint(s.qm_done, ==, 0);
	g_assert_cmpuint(s.qm_failed, ==, 1);
	g_assert_cmpuint(s.stalled, ==, 0);
	g_assert_cmpint(s.setup_ns, >, 0);
}

/* Rule: mixed IKEv1 and IKEv2 between the same peers; a CHILD exchange refused by notifies only;
 * a capture that starts under an established IKEv2 SA. */
static void test_ikev2_mixed(fx *f, gconstpointer d)
{
	(void)d;
	feed(f, MM1(A, B, 1), 0);
	v2_to_auth_req(f, A, B, 2, 3);
	iks_result *v1 = feed(f, MM2(B, A, 1, 4), 1);
	assert_labels(v1, "MM2", "responder", "MM_WAIT_MSG3", "MM_SA_SETUP");
	iks_result *ok = feed(f, AUTH_RESP(B, A, 2, 3), 1);
	g_assert_cmpuint(ok->tunnel, ==, 2);
	g_assert_cmpuint(ok->attempt, ==, 2);
	iks_result *cq = feed(f, mk2(A, B, 2, 3, IKS_EXCH_CREATE_CHILD_SA, V2I, 2, IKS_PL2_SA, 300, 0), SEC);
	iks_result *cr = feed(f, mk2(B, A, 2, 3, IKS_EXCH_CREATE_CHILD_SA, V2R, 2, IKS_PL2_NOTIFY, 76, 0), 1);
	g_assert_cmpuint(cr->response_to, ==, 7);
	g_assert_cmpuint(cq->response_in, ==, 8);
	g_assert_cmpstr(iks_failed_name(cr->failed), ==, "CHILD_REJECTED");
	g_assert_false(cr->flags & IKS_R_PHASE2_DONE);
	/* Mid-capture: an Informational under an SA whose start we missed. */
	iks_result *mid = feed(f, mk2(C, B, 7, 8, IKS_EXCH_INFORMATIONAL, V2I, 9, 0, 80, 0), SEC);
	g_assert_true(mid->flags & IKS_R_MID_NEGOTIATION);
	assert_labels(mid, "INFO_REQ", "initiator", "READY", NULL);
	iks_fsm_finish(f->fsm);
	g_assert_false(mid->flags & IKS_R_FINAL);
	iks_tunnel_summary s;
	g_assert_true(iks_fsm_summary(f->fsm, 2, &s));
	g_assert_cmpuint(s.qm_done, ==, 1); /* the IKE_AUTH child */
	g_assert_cmpuint(s.qm_failed, ==, 1);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	ADD("/fsm/ikev2-labels", test_ikev2_labels);
	ADD("/fsm/ikev2-responder-delete", test_ikev2_responder_delete);
	ADD("/fsm/ikev2-cookie-retry", test_ikev2_cookie_retry);
	ADD("/fsm/ikev2-retransmission", test_ikev2_retransmission);
	ADD("/diag/ikev2-auth-unanswered", test_ikev2_auth_unanswered);
	ADD("/diag/ikev2-refusals", test_ikev2_refusals);
	ADD("/diag/ikev2-mixed", test_ikev2_mixed);
	return g_test_run();
}
