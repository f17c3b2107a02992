/* IKEv1 labels (GLib g_test): main, aggressive and quick mode positions, roles, ASA / IOS states,
 * resends, interleaved and mid-capture negotiations, NAT-T, response links.
 * Each test names the rule of issue #2 §4 it guards. */
#include "helpers.h"

/* Rule: message position from payloads + direction; ASA/IOS states after sending (issue #2 §3). */
static void test_main_mode_labels(fx *f, gconstpointer d)
{
	(void)d;
	uint64_t i = 0x1111, r = 0x2222;
	assert_labels(feed(f, MM1(A, B, i), 0), "MM1", "initiator", "MM_WAIT_MSG2", "MM_NO_STATE");
	assert_labels(feed(f, MM2(B, A, i, r), SEC / 100), "MM2", "responder", "MM_WAIT_MSG3", "MM_SA_SETUP");
	assert_labels(feed(f, MM3(A, B, i, r), SEC / 100), "MM3", "initiator", "MM_WAIT_MSG4", "MM_SA_SETUP");
	assert_labels(feed(f, MM4(B, A, i, r), SEC / 100), "MM4", "responder", "MM_WAIT_MSG5", "MM_KEY_EXCH");
	assert_labels(feed(f, MM5(A, B, i, r), SEC / 100), "MM5", "initiator", "MM_WAIT_MSG6", "MM_KEY_EXCH");
	iks_result *r6 = feed(f, MM6(B, A, i, r), SEC / 100);
	assert_labels(r6, "MM6", "responder", "MM_ACTIVE", "QM_IDLE");
	g_assert_true(r6->flags & IKS_R_PHASE1_DONE);
	g_assert_cmpint(r6->span.setup_ns, ==, 5 * SEC / 100);
	g_assert_cmpint(r6->elapsed_ns, ==, 5 * SEC / 100);

	/* Quick mode started by the responder: QM initiator need not be the phase-1 initiator. */
	iks_result *q1 = feed(f, QM(B, A, i, r, 0xabc, 300, 0), SEC);
	assert_labels(q1, "QM1", "responder", "MM_ACTIVE", "QM_IDLE");
	g_assert_cmpstr(iks_qm_state_name(q1->qm_state), ==, "QM_WAIT_MSG2");
	iks_result *q2 = feed(f, QM(A, B, i, r, 0xabc, 300, 1), SEC / 100);
	assert_labels(q2, "QM2", "initiator", "MM_ACTIVE", "QM_IDLE");
	g_assert_cmpstr(iks_qm_state_name(q2->qm_state), ==, "QM_WAIT_MSG3");
	iks_result *q3 = feed(f, QM(B, A, i, r, 0xabc, 60, 2), SEC / 100);
	g_assert_cmpstr(iks_msg_name(q3->msg), ==, "QM3");
	g_assert_cmpstr(iks_qm_state_name(q3->qm_state), ==, "QM_ACTIVE");
	g_assert_true(q3->flags & IKS_R_PHASE2_DONE);
	g_assert_cmpuint(q3->tunnel, ==, 1);
	g_assert_cmpuint(iks_fsm_tunnel_count(f->fsm), ==, 1);

	iks_result *info = feed(f, mk(A, B, i, r, IKS_EXCH_INFO, IKS_FLAG_ENCRYPTED, 0x77, 0, 92, 0), SEC);
	assert_labels(info, "INFO", "initiator", "MM_ACTIVE", "QM_IDLE");
}

/* Rule: VID before SA (libreswan "vid-first") — position from the payload set, not the first one. */
static void test_position_from_payload_set(fx *f, gconstpointer d)
{
	(void)d;
	iks_msg m1 = MM1(A, B, 5);
	m1.first_payload = IKS_PL_VID;
	assert_labels(feed(f, m1, 0), "MM1", "initiator", "MM_WAIT_MSG2", "MM_NO_STATE");
	iks_msg m2 = MM2(B, A, 5, 6);
	m2.first_payload = IKS_PL_VID;
	assert_labels(feed(f, m2, 1), "MM2", "responder", "MM_WAIT_MSG3", "MM_SA_SETUP");
}

/* Rule: aggressive mode; AM3 in clear or encrypted; AM_ACTIVE and setup time. */
static void test_aggressive(fx *f, gconstpointer d)
{
	(void)d;
	uint64_t am1 = BIT(IKS_PL_SA) | BIT(IKS_PL_KE) | BIT(IKS_PL_NONCE) | BIT(IKS_PL_ID);
	assert_labels(feed(f, mk(A, B, 7, 0, IKS_EXCH_AGGRESSIVE, 0, 0, am1, 400, 0), 0), "AM1", "initiator",
		      "AM_WAIT_MSG2", "AG_NO_STATE");
	assert_labels(feed(f, mk(B, A, 7, 8, IKS_EXCH_AGGRESSIVE, 0, 0, am1 | BIT(IKS_PL_HASH), 420, 0), SEC / 10),
		      "AM2", "responder", "AM_WAIT_MSG3", "AG_INIT_EXCH");
	iks_result *r3 = feed(f, mk(A, B, 7, 8, IKS_EXCH_AGGRESSIVE, 0, 0, BIT(IKS_PL_HASH) | BIT(IKS_PL_NATD), 100, 0),
			      SEC / 10);
	assert_labels(r3, "AM3", "initiator", "AM_ACTIVE", "QM_IDLE");
	g_assert_true(r3->flags & IKS_R_PHASE1_DONE);
	g_assert_cmpint(r3->span.setup_ns, ==, 2 * SEC / 10);
	/* The responder's next message shows it active too. */
	assert_labels(feed(f, mk(B, A, 7, 8, IKS_EXCH_TRANSACTION, IKS_FLAG_ENCRYPTED, 0x5, 0, 80, 0), 1), "TXN_REQ",
		      "responder", "AM_ACTIVE", "QM_IDLE");

	/* Second negotiation with an encrypted AM3. */
	feed(f, mk(C, B, 9, 0, IKS_EXCH_AGGRESSIVE, 0, 0, am1, 400, 0), SEC);
	feed(f, mk(B, C, 9, 10, IKS_EXCH_AGGRESSIVE, 0, 0, am1 | BIT(IKS_PL_HASH), 420, 0), 1);
	iks_result *e3 = feed(f, mk(C, B, 9, 10, IKS_EXCH_AGGRESSIVE, IKS_FLAG_ENCRYPTED, 0, 0, 76, 0), 1);
	assert_labels(e3, "AM3", "initiator", "AM_ACTIVE", "QM_IDLE");
	g_assert_cmpuint(e3->tunnel, ==, 2);
}

/* Rule: initiator = sender of the phase-1 message with zero responder cookie; an unencrypted
 * Informational with zero rspi from the responder does not make it the initiator. */
static void test_initiator_from_zero_rspi(fx *f, gconstpointer d)
{
	(void)d;
	/* The first packet seen is the responder's refusal (the MM1 was not captured). */
	iks_result *n = feed(f, mk(B, A, 0x42, 0, IKS_EXCH_INFO, 0, 0, BIT(IKS_PL_NOTIFY), 40, 0), 0);
	g_assert_cmpstr(iks_msg_name(n->msg), ==, "INFO");
	g_assert_null(iks_role_name(n->role));
	g_assert_true(n->flags & IKS_R_MID_NEGOTIATION);
	/* The MM1 retransmission from A fixes the roles: A is the initiator. */
	assert_labels(feed(f, MM1(A, B, 0x42), SEC), "MM1", "initiator", "MM_WAIT_MSG2", "MM_NO_STATE");
	iks_result *n2 = feed(f, mk(B, A, 0x42, 0, IKS_EXCH_INFO, 0, 0, BIT(IKS_PL_NOTIFY), 40, 1), 1);
	g_assert_cmpstr(iks_role_name(n2->role), ==, "responder");
	g_assert_cmpuint(n2->tunnel, ==, 1);
}

/* Rule: retransmissions from either side — k-th resend, original frame, state does not advance. */
static void test_retransmissions(fx *f, gconstpointer d)
{
	(void)d;
	uint64_t i = 0xaa, r = 0xbb;
	iks_result *m1 = feed(f, MM1(A, B, i), 0);
	g_assert_cmpuint(m1->retrans, ==, 0);
	iks_result *m1b = feed(f, MM1(A, B, i), 8 * SEC);
	iks_result *m1c = feed(f, MM1(A, B, i), 8 * SEC);
	g_assert_cmpuint(m1b->retrans, ==, 1);
	g_assert_cmpuint(m1c->retrans, ==, 2);
	g_assert_cmpuint(m1c->retrans_of, ==, 1);
	assert_labels(m1c, "MM1", "initiator", "MM_WAIT_MSG2", "MM_NO_STATE");
	feed(f, MM2(B, A, i, r), 1);
	feed(f, MM3(A, B, i, r), 1);
	/* The responder re-sends its cached MM2 after MM3 went out (MM3 lost on the way): labelled
	 * like the original, and MM3's progress is not undone. */
	iks_result *m2b = feed(f, MM2(B, A, i, r), SEC); /* within 1 ms it would be a capture duplicate */
	assert_labels(m2b, "MM2", "responder", "MM_WAIT_MSG3", "MM_SA_SETUP");
	g_assert_cmpuint(m2b->retrans, ==, 1);
	g_assert_cmpuint(m2b->retrans_of, ==, 4);
	iks_result *m4 = feed(f, MM4(B, A, i, r), 1);
	assert_labels(m4, "MM4", "responder", "MM_WAIT_MSG5", "MM_KEY_EXCH");
	g_assert_cmpuint(m4->retrans, ==, 0);
	/* Same message ID and direction but different bytes is no retransmission. */
	iks_msg m3x = MM3(A, B, i, r);
	m3x.digest ^= 1;
	g_assert_cmpuint(feed(f, m3x, 1)->retrans, ==, 0);
	/* Quick-mode retransmission (QM1 twice). */
	feed(f, MM5(A, B, i, r), 1);
	feed(f, MM6(B, A, i, r), 1);
	feed(f, QM(A, B, i, r, 9, 300, 0), 1);
	iks_result *q1b = feed(f, QM(A, B, i, r, 9, 300, 0), 10 * SEC);
	g_assert_cmpuint(q1b->retrans, ==, 1);
	g_assert_cmpstr(iks_msg_name(q1b->msg), ==, "QM1");
	g_assert_cmpstr(iks_qm_state_name(q1b->qm_state), ==, "QM_WAIT_MSG2");
	g_assert_cmpstr(iks_msg_name(feed(f, QM(B, A, i, r, 9, 300, 1), 1)->msg), ==, "QM2");
}

/* Rule: interleaved negotiations keep separate tunnels and states, including two between the
 * same pair of addresses. */
static void test_interleaved(fx *f, gconstpointer d)
{
	(void)d;
	feed(f, MM1(A, B, 1), 0);
	feed(f, MM1(C, B, 2), 1);
	feed(f, MM1(A, B, 3), 1);
	iks_result *a2 = feed(f, MM2(B, A, 1, 11), 1);
	iks_result *c2 = feed(f, MM2(B, C, 2, 22), 1);
	iks_result *b3 = feed(f, MM3(A, B, 1, 11), 1);
	iks_result *x2 = feed(f, MM2(B, A, 3, 33), 1);
	g_assert_cmpuint(a2->tunnel, ==, 1);
	g_assert_cmpuint(c2->tunnel, ==, 2);
	g_assert_cmpuint(b3->tunnel, ==, 1);
	g_assert_cmpuint(x2->tunnel, ==, 3);
	assert_labels(x2, "MM2", "responder", "MM_WAIT_MSG3", "MM_SA_SETUP");
	assert_labels(b3, "MM3", "initiator", "MM_WAIT_MSG4", "MM_SA_SETUP");
	/* The same message ID in two tunnels are two exchanges. */
	iks_result *q = feed(f, QM(A, B, 1, 11, 5, 300, 0), 1);
	iks_result *q3 = feed(f, QM(A, B, 3, 33, 5, 300, 0), 1);
	g_assert_cmpstr(iks_msg_name(q->msg), ==, "QM1");
	g_assert_cmpstr(iks_msg_name(q3->msg), ==, "QM1");
	g_assert_cmpuint(q3->retrans, ==, 0);
}

/* Rule: the same peers renegotiating with fresh cookies get a new tunnel index. */
static void test_fresh_cookies_new_tunnel(fx *f, gconstpointer d)
{
	(void)d;
	feed(f, MM1(A, B, 100), 0);
	feed(f, MM2(B, A, 100, 200), 1);
	feed(f, MM3(A, B, 100, 200), 1);
	feed(f, MM3(A, B, 100, 200), 8 * SEC);
	iks_result *n = feed(f, MM1(A, B, 101), 30 * SEC);
	g_assert_cmpuint(n->tunnel, ==, 2);
	assert_labels(n, "MM1", "initiator", "MM_WAIT_MSG2", "MM_NO_STATE");
	g_assert_cmpint(n->elapsed_ns, ==, 0);
	g_assert_false(n->flags & IKS_R_MID_NEGOTIATION);
}

/* Rule: NAT-T — the port float 500 -> 4500 (and a NAT'ed source port) keeps tunnel and direction. */
static void test_natt_float(fx *f, gconstpointer d)
{
	(void)d;
	iks_addr a4500 = A, b4500 = B;
	a4500.port = 4500;
	b4500.port = 4500;
	feed(f, MM1(A, B, 1), 0);
	feed(f, MM2(B, A, 1, 2), 1);
	feed(f, MM3(A, B, 1, 2), 1);
	feed(f, MM4(B, A, 1, 2), 1);
	iks_result *r5 = feed(f, MM5(a4500, b4500, 1, 2), 1);
	assert_labels(r5, "MM5", "initiator", "MM_WAIT_MSG6", "MM_KEY_EXCH");
	assert_labels(feed(f, MM6(b4500, a4500, 1, 2), 1), "MM6", "responder", "MM_ACTIVE", "QM_IDLE");
	g_assert_cmpuint(iks_fsm_tunnel_count(f->fsm), ==, 1);
}

/* Rule: a capture that starts mid-negotiation labels what can be inferred, "?" otherwise. */
static void test_mid_negotiation(fx *f, gconstpointer d)
{
	(void)d;
	/* Starts at MM2: SA with a responder cookie can only come from the responder. */
	iks_result *r2 = feed(f, MM2(B, A, 1, 2), 0);
	assert_labels(r2, "MM2", "responder", "MM_WAIT_MSG3", "MM_SA_SETUP");
	g_assert_true(r2->flags & IKS_R_MID_NEGOTIATION);
	assert_labels(feed(f, MM3(A, B, 1, 2), 1), "MM3", "initiator", "MM_WAIT_MSG4", "MM_SA_SETUP");

	/* Starts at MM3: ambiguous alone; MM4 from the other side decides. */
	iks_result *u = feed(f, MM3(C, B, 3, 4), 1);
	g_assert_cmpstr(iks_msg_name(u->msg), ==, "?");
	g_assert_null(iks_role_name(u->role));
	g_assert_true(u->flags & IKS_R_MID_NEGOTIATION);
	g_assert_false(u->flags & IKS_R_UNEXPECTED);
	assert_labels(feed(f, MM4(B, C, 3, 4), 1), "MM4", "responder", "MM_WAIT_MSG5", "MM_KEY_EXCH");
	assert_labels(feed(f, MM5(C, B, 3, 4), 1), "MM5", "initiator", "MM_WAIT_MSG6", "MM_KEY_EXCH");
	iks_result *r6 = feed(f, MM6(B, C, 3, 4), 1);
	g_assert_true(r6->flags & IKS_R_PHASE1_DONE);
	g_assert_cmpint(r6->span.setup_ns, ==, -1); /* MM1 not seen: no setup time */

	/* Starts at MM4 (KE), then encrypted from the other side: the first was MM4. */
	iks_addr D = { 4, { 198, 51, 100, 9 }, 500 };
	g_assert_cmpstr(iks_msg_name(feed(f, MM4(B, D, 5, 6), 1)->msg), ==, "?");
	assert_labels(feed(f, MM5(D, B, 5, 6), 1), "MM5", "initiator", "MM_WAIT_MSG6", "MM_KEY_EXCH");

	/* Starts at MM5 then MM6. */
	iks_addr E = { 4, { 198, 51, 100, 10 }, 4500 };
	g_assert_cmpstr(iks_msg_name(feed(f, MM5(E, B, 7, 8), 1)->msg), ==, "?");
	assert_labels(feed(f, MM6(B, E, 7, 8), 1), "MM6", "responder", "MM_ACTIVE", "QM_IDLE");

	/* Starts at a quick mode of an established SA: QM1 by size; phase-1 mode unknown. */
	iks_addr F = { 4, { 198, 51, 100, 11 }, 500 };
	iks_result *q = feed(f, QM(F, B, 9, 10, 0x99, 300, 0), 1);
	g_assert_cmpstr(iks_msg_name(q->msg), ==, "QM1");
	g_assert_null(iks_state_name(q->state));
	g_assert_cmpstr(iks_ios_state_name(q->ios_state), ==, "QM_IDLE");
	g_assert_true(q->flags & IKS_R_MID_NEGOTIATION);
	/* A HASH-only first quick-mode packet (QM3 of a missed exchange) is not called QM1. */
	g_assert_cmpstr(iks_msg_name(feed(f, QM(F, B, 9, 10, 0x98, 76, 0), 1)->msg), ==, "?");
}

/* Rule: out-of-order and unexpected messages never corrupt a tunnel. */
static void test_out_of_order(fx *f, gconstpointer d)
{
	(void)d;
	feed(f, MM1(A, B, 1), 0);
	feed(f, MM2(B, A, 1, 2), 1);
	/* MM4 captured before MM3: both labelled by position, the reordered MM3 flagged but its
	 * sender still moves on. */
	assert_labels(feed(f, MM4(B, A, 1, 2), 1), "MM4", "responder", "MM_WAIT_MSG5", "MM_KEY_EXCH");
	iks_result *m3 = feed(f, MM3(A, B, 1, 2), 1);
	assert_labels(m3, "MM3", "initiator", "MM_WAIT_MSG4", "MM_SA_SETUP");
	g_assert_true(m3->flags & IKS_R_UNEXPECTED);
	/* A late MM2 with new content: labelled MM2, flagged, the responder's state stays. */
	iks_msg late = MM2(B, A, 1, 2);
	late.digest ^= 0x55;
	iks_result *l = feed(f, late, 1);
	g_assert_cmpstr(iks_msg_name(l->msg), ==, "MM2");
	g_assert_true(l->flags & IKS_R_UNEXPECTED);
	g_assert_cmpstr(iks_state_name(l->state), ==, "MM_WAIT_MSG5");
	/* An aggressive-mode message on a main-mode SA. */
	iks_result *x = feed(f, mk(A, B, 1, 2, IKS_EXCH_AGGRESSIVE, 0, 0, BIT(IKS_PL_HASH), 60, 0), 1);
	g_assert_cmpstr(iks_msg_name(x->msg), ==, "?");
	g_assert_true(x->flags & IKS_R_UNEXPECTED);
	/* QM3-like packet for an unknown message ID, QM2 direction message first. */
	iks_result *q = feed(f, QM(B, A, 1, 2, 0x1234, 60, 0), 1);
	g_assert_cmpstr(iks_msg_name(q->msg), ==, "?");
	/* The negotiation still completes normally. */
	assert_labels(feed(f, MM5(A, B, 1, 2), 1), "MM5", "initiator", "MM_WAIT_MSG6", "MM_KEY_EXCH");
	assert_labels(feed(f, MM6(B, A, 1, 2), 1), "MM6", "responder", "MM_ACTIVE", "QM_IDLE");
	/* QM messages out of turn: a second QM2-direction message before QM3. */
	feed(f, QM(A, B, 1, 2, 0x77, 300, 0), 1);
	feed(f, QM(B, A, 1, 2, 0x77, 300, 1), 1);
	iks_result *bad = feed(f, QM(B, A, 1, 2, 0x77, 300, 2), 1);
	g_assert_cmpstr(iks_msg_name(bad->msg), ==, "?");
	g_assert_true(bad->flags & IKS_R_UNEXPECTED);
	iks_result *q3 = feed(f, QM(A, B, 1, 2, 0x77, 60, 3), 1);
	g_assert_cmpstr(iks_msg_name(q3->msg), ==, "QM3");
	/* Without the commit bit, a 4th message is not QM4. */
	g_assert_cmpstr(iks_msg_name(feed(f, QM(B, A, 1, 2, 0x77, 60, 4), 1)->msg), ==, "?");
	g_assert_cmpuint(iks_fsm_tunnel_count(f->fsm), ==, 1);
}

/* Rule: commit bit — the QM responder's 4th message is QM4 (CONNECTED). */
static void test_commit_bit(fx *f, gconstpointer d)
{
	(void)d;
	feed(f, MM1(A, B, 1), 0);
	feed(f, MM2(B, A, 1, 2), 1);
	uint8_t fl = IKS_FLAG_ENCRYPTED | IKS_FLAG_COMMIT;
	feed(f, mk(A, B, 1, 2, IKS_EXCH_QUICK, fl, 3, 0, 300, 0), 1);
	feed(f, mk(B, A, 1, 2, IKS_EXCH_QUICK, fl, 3, 0, 300, 1), 1);
	feed(f, mk(A, B, 1, 2, IKS_EXCH_QUICK, fl, 3, 0, 60, 2), 1);
	iks_result *q4 = feed(f, mk(B, A, 1, 2, IKS_EXCH_QUICK, fl, 3, 0, 76, 3), 1);
	g_assert_cmpstr(iks_msg_name(q4->msg), ==, "QM4");
	g_assert_cmpstr(iks_qm_state_name(q4->qm_state), ==, "QM_ACTIVE");
}

/* Rule: several ISAKMP messages in one frame are fed one after the other with the same frame
 * number; each gets its own labels. */
static void test_several_in_one_frame(fx *f, gconstpointer d)
{
	(void)d;
	iks_msg a = MM1(A, B, 1), b = MM1(A, B, 2);
	a.frame = b.frame = 1;
	iks_result *ra = iks_fsm_feed(f->fsm, &a), *rb = iks_fsm_feed(f->fsm, &b);
	g_assert_cmpuint(ra->tunnel, ==, 1);
	g_assert_cmpuint(rb->tunnel, ==, 2);
	g_assert_cmpuint(rb->retrans, ==, 0);

	/* Cisco IKE fragmentation: the last piece and the reassembled MM5 share a frame; only the
	 * reassembled message moves the state. */
	feed(f, MM2(B, A, 1, 9), 1);
	feed(f, MM3(A, B, 1, 9), 1);
	feed(f, MM4(B, A, 1, 9), 1);
	iks_msg piece = mk(A, B, 1, 9, IKS_EXCH_MAIN, 0, 0, 0, 500, 77), whole = MM5(A, B, 1, 9);
	piece.first_payload = IKS_PL_CISCO_FRAG;
	piece.frame = whole.frame = 50;
	iks_result *rp = iks_fsm_feed(f->fsm, &piece), *rw = iks_fsm_feed(f->fsm, &whole);
	g_assert_cmpstr(iks_msg_name(rp->msg), ==, "FRAG");
	g_assert_false(rp->flags & IKS_R_UNEXPECTED);
	assert_labels(rw, "MM5", "initiator", "MM_WAIT_MSG6", "MM_KEY_EXCH");
}

/* Rule: response_to / response_in link a message and its answer; resends link to the original. */
static void test_response_links(fx *f, gconstpointer d)
{
	(void)d;
	iks_result *m1 = feed(f, MM1(A, B, 1), 0);      /* frame 1 */
	feed(f, MM1(A, B, 1), SEC);                       /* frame 2, resend */
	iks_result *m2 = feed(f, MM2(B, A, 1, 2), 1);   /* frame 3 */
	g_assert_cmpuint(m2->response_to, ==, 1);
	g_assert_cmpuint(m1->response_in, ==, 3);
	iks_result *m3 = feed(f, MM3(A, B, 1, 2), 1);   /* frame 4 */
	g_assert_cmpuint(m3->response_to, ==, 3);
	g_assert_cmpuint(m2->response_in, ==, 4);
	/* An Informational, one-way, answers nothing. */
	iks_result *n = feed(f, mk(B, A, 1, 2, IKS_EXCH_INFO, IKS_FLAG_ENCRYPTED, 0x10, 0, 92, 0), 1);
	g_assert_cmpuint(n->response_to, ==, 0);
}

/* Rule: a quick mode or transaction implies a phase 1 the capture did not show end only past its
 * clear part: after AM1 alone (AM2 unseen) it is out of sequence, as after MM1-MM4; after AM2 the
 * capture may just have missed AM3. */
static void test_phase1_implied(fx *f, gconstpointer d)
{
	(void)d;
	uint64_t am1 = BIT(IKS_PL_SA) | BIT(IKS_PL_KE) | BIT(IKS_PL_NONCE) | BIT(IKS_PL_ID);
	feed(f, mk(A, B, 7, 0, IKS_EXCH_AGGRESSIVE, 0, 0, am1, 400, 0), 0);
	iks_result *q = feed(f, QM(A, B, 7, 8, 0x100, 300, 1), 1);
	g_assert_true(q->flags & IKS_R_UNEXPECTED);
	g_assert_cmpstr(iks_state_name(q->state), ==, "AM_WAIT_MSG2"); /* phase 1 not taken as done */
	feed(f, mk(C, B, 9, 0, IKS_EXCH_AGGRESSIVE, 0, 0, am1, 400, 0), 0);
	feed(f, mk(B, C, 9, 10, IKS_EXCH_AGGRESSIVE, 0, 0, am1 | BIT(IKS_PL_HASH), 420, 0), 1);
	iks_result *q2 = feed(f, QM(C, B, 9, 10, 0x100, 300, 1), 1);
	g_assert_false(q2->flags & IKS_R_UNEXPECTED);
	g_assert_cmpstr(iks_state_name(q2->state), ==, "AM_ACTIVE");
}

/* Rule: a responder that refuses each MM1 resend with a clear Informational of a new cookie
 * (strongSwan against libreswan, which ignores the unauthenticated notify and resends) is one
 * negotiation: one tunnel, the MM1s resends; another address's answer is not. */
static void test_refusals_with_new_cookies(fx *f, gconstpointer d)
{
	(void)d;
	iks_result *r[6];
	for (unsigned i = 0; i < 3; i++) {
		r[2 * i] = feed(f, MM1(A, B, 1), SEC / 2);
		r[2 * i + 1] = feed(f, INFO_CLEAR(B, A, 1, 0x100 + i, IKS_N_NO_PROPOSAL_CHOSEN), SEC / 1000);
	}
	for (unsigned i = 0; i < 6; i++)
		g_assert_cmpuint(r[i]->tunnel, ==, 1);
	g_assert_cmpuint(r[4]->retrans, ==, 2);
	g_assert_cmpuint(iks_fsm_tunnel_count(f->fsm), ==, 1);
	/* After MM2 the responder cookie is the IKE SA's: a clear answer with another one is another SA. */
	feed(f, MM1(A, B, 2), SEC);
	feed(f, MM2(B, A, 2, 0x200), SEC / 1000);
	g_assert_cmpuint(feed(f, INFO_CLEAR(B, A, 2, 0x201, IKS_N_NO_PROPOSAL_CHOSEN), SEC / 1000)->tunnel, ==, 3);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	ADD("/fsm/phase1-implied", test_phase1_implied);
	ADD("/fsm/main-mode-labels", test_main_mode_labels);
	ADD("/fsm/position-from-payload-set", test_position_from_payload_set);
	ADD("/fsm/aggressive", test_aggressive);
	ADD("/fsm/initiator-from-zero-rspi", test_initiator_from_zero_rspi);
	ADD("/fsm/retransmissions", test_retransmissions);
	ADD("/fsm/interleaved", test_interleaved);
	ADD("/fsm/fresh-cookies-new-tunnel", test_fresh_cookies_new_tunnel);
	ADD("/fsm/natt-float", test_natt_float);
	ADD("/fsm/mid-negotiation", test_mid_negotiation);
	ADD("/fsm/out-of-order", test_out_of_order);
	ADD("/fsm/commit-bit", test_commit_bit);
	ADD("/fsm/several-in-one-frame", test_several_in_one_frame);
	ADD("/fsm/response-links", test_response_links);
	ADD("/fsm/refusals-with-new-cookies", test_refusals_with_new_cookies);
	return g_test_run();
}
