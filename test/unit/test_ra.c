/* test_ra.c — remote access (issue #21): IKEv2 IKE_AUTH in several rounds (EAP) whose states only
 * move forward, IKEv1 transaction exchanges (XAUTH, mode-config) paired and counted, and the
 * refusals of both read with keys or inferred from how the negotiation ended without them. */
#include "helpers.h"

#define EAP IKS_PL2_EAP
#define AUTH 39 /* IKEv2 AUTH payload */

/* The n-th IKE_AUTH request / answer of SA (1, 2); sk: the first payload inside SK. */
static iks_msg auth_req(uint32_t n, uint8_t sk)
{
	return mk2(A, B, 1, 2, IKS_EXCH_IKE_AUTH, V2I, n, sk, 120, 10 + n);
}

static iks_msg auth_resp(uint32_t n, uint8_t sk)
{
	return mk2(B, A, 1, 2, IKS_EXCH_IKE_AUTH, V2R, n, sk, 120, 20 + n);
}

static iks_msg with_eap(iks_msg m, uint8_t code, uint8_t type)
{
	m.ra.eap_code = code;
	m.ra.eap_type = type;
	return m;
}

static void sa_init(fx *f)
{
	feed(f, SA_INIT_REQ(A, B, 1), 0);
	feed(f, SA_INIT_RESP(B, A, 1, 2), SEC / 100);
}

/* IKE_SA_INIT, then two IKE_AUTH rounds without keys: the gateway's first answer (it opens with IDr)
 * and its EAP answer in round 2; returns that last answer. */
static iks_result *to_eap_round2(fx *f)
{
	sa_init(f);
	feed(f, auth_req(1, 35), SEC / 100);
	feed(f, auth_resp(1, IKS_PL2_IDR), SEC / 100);
	feed(f, auth_req(2, EAP), SEC / 100);
	return feed(f, auth_resp(2, EAP), SEC / 100);
}

/* Rule: EAP without keys. The first answer (IDr, AUTH, EAP inside: it opens with IDr) looks final
 * in a single pass; the next IKE_AUTH request shows it was not: its packet becomes IN-NEG and loses
 * the completion, so a second pass sees the states only move forward. READY comes with the last
 * answer, which the setup time counts to; the rounds are counted. */
static void test_eap_rounds_monotonic(fx *f, gconstpointer d)
{
	(void)d;
	sa_init(f);
	iks_result *q1 = feed(f, auth_req(1, 35), SEC / 100);
	iks_result *a1 = feed(f, auth_resp(1, IKS_PL2_IDR), SEC / 100);
	g_assert_cmpstr(iks_state_name(a1->state), ==, "READY"); /* one pass cannot know yet */
	g_assert_true(a1->flags & IKS_R_PHASE1_DONE);
	iks_result *q2 = feed(f, auth_req(2, EAP), SEC / 100);
	g_assert_cmpstr(iks_state_name(a1->state), ==, "IN-NEG");
	g_assert_false(a1->flags & IKS_R_PHASE1_DONE);
	iks_result *a2 = feed(f, auth_resp(2, EAP), SEC / 100);
	iks_result *q3 = feed(f, auth_req(3, EAP), SEC / 100);
	iks_result *a3 = feed(f, auth_resp(3, EAP), SEC / 100); /* EAP Success */
	iks_result *q4 = feed(f, auth_req(4, AUTH), SEC / 100);
	iks_result *a4 = feed(f, auth_resp(4, AUTH), SEC / 100);
	iks_result *all[] = { q1, a1, q2, a2, q3, a3, q4 };
	for (unsigned i = 0; i < G_N_ELEMENTS(all); i++) {
		g_assert_cmpstr(iks_state_name(all[i]->state), ==, "IN-NEG");
		g_assert_false(all[i]->flags & IKS_R_PHASE1_DONE);
	}
	g_assert_cmpstr(iks_state_name(a4->state), ==, "READY");
	g_assert_true(a4->flags & IKS_R_PHASE1_DONE);
	g_assert_cmpint(a4->span.setup_ns, ==, 9 * SEC / 100);
	g_assert_cmpuint(q1->round, ==, 1);
	g_assert_cmpuint(a2->round, ==, 2);
	g_assert_cmpuint(q4->round, ==, 4);
	g_assert_cmpuint(a4->round, ==, 4);
	iks_fsm_finish(f->fsm);
	iks_tunnel_summary s;
	g_assert_true(iks_fsm_summary(f->fsm, 1, &s));
	g_assert_cmpint(s.setup_ns, ==, 9 * SEC / 100);
	g_assert_cmpuint(s.qm_done, ==, 1); /* one child SA, with the last answer */
	g_assert_cmpuint(s.failed, ==, 0);
	g_assert_cmpuint(s.stalled, ==, 0);
}

/* Rule: with keys, the first answer's EAP Request says another round is due: never READY. */
static void test_eap_keys_first_pass(fx *f, gconstpointer d)
{
	(void)d;
	sa_init(f);
	feed(f, auth_req(1, 35), SEC / 100);
	iks_result *a1 = feed(f, with_eap(auth_resp(1, IKS_PL2_IDR), IKS_EAP_REQUEST, 26), SEC / 100);
	g_assert_cmpstr(iks_state_name(a1->state), ==, "IN-NEG");
	iks_ra ra;
	g_assert_true(iks_fsm_ra(f->fsm, a1, &ra));
	char buf[64];
	g_assert_cmpstr(iks_eap_str(&ra, buf, sizeof buf), ==, "Request MSCHAPv2");
}

/* Rule: with keys, a first answer in IKEv2 fragments: the first fragment (it opens with IDr) looks
 * final, the last one's frame holds the reassembled answer with its EAP Request; both are IN-NEG at
 * once, with no completion, and the last carries the round. */
static void test_eap_keys_fragments(fx *f, gconstpointer d)
{
	(void)d;
	sa_init(f);
	feed(f, auth_req(1, 35), SEC / 100);
	iks_msg f1 = auth_resp(1, IKS_PL2_IDR), f2 = auth_resp(1, 0);
	f1.frag_num = 1, f1.frag_total = 2, f2.frag_num = 2, f2.frag_total = 2, f2.digest++;
	iks_result *r1 = feed(f, f1, SEC / 100);
	g_assert_cmpstr(iks_state_name(r1->state), ==, "READY"); /* not known yet */
	iks_result *r2 = feed(f, with_eap(f2, IKS_EAP_REQUEST, 1), SEC / 1000);
	g_assert_cmpstr(iks_state_name(r1->state), ==, "IN-NEG");
	g_assert_false(r1->flags & IKS_R_PHASE1_DONE);
	g_assert_cmpstr(iks_state_name(r2->state), ==, "IN-NEG");
	g_assert_cmpuint(r2->round, ==, 1);
	iks_tunnel_summary s;
	g_assert_true(iks_fsm_summary(f->fsm, 1, &s));
	g_assert_cmpint(s.setup_ns, ==, -1);
}

/* Rule: EAP Failure read with keys refuses the SA on its packet, with the credentials hint. */
static void test_eap_failure_keys(fx *f, gconstpointer d)
{
	(void)d;
	sa_init(f);
	feed(f, auth_req(1, 35), SEC / 100);
	feed(f, with_eap(auth_resp(1, IKS_PL2_IDR), IKS_EAP_REQUEST, 26), SEC / 100);
	feed(f, with_eap(auth_req(2, EAP), IKS_EAP_RESPONSE, 26), SEC / 100);
	iks_result *fl = feed(f, with_eap(auth_resp(2, EAP), IKS_EAP_FAILURE, 0), SEC / 100);
	g_assert_cmpstr(iks_failed_name(fl->failed), ==, "EAP_FAILURE");
	g_assert_cmpuint(fl->hint, ==, IKS_H_EAP_FAILURE);
	iks_fsm_finish(f->fsm);
	g_assert_cmpuint(fl->stalled, ==, 0); /* refused, not also stalled */
}

/* Rule: without keys, IKE_AUTH that ends on the gateway's EAP answer, the client sending no further
 * round: an EAP refusal once the end is certain (the capture went on for a stall timeout), not a
 * stall; before that a stall whose hint says the same. More packets undo it (live capture). */
static void test_eap_ended_no_keys(fx *f, gconstpointer d)
{
	(void)d;
	iks_result *last = to_eap_round2(f);
	iks_fsm_finish(f->fsm);
	g_assert_cmpuint(last->failed, ==, 0); /* the capture ends right after: not certain */
	g_assert_cmpstr(iks_stalled_name(last->stalled), ==, "IN-NEG");
	g_assert_cmpuint(last->hint, ==, IKS_H_EAP_ENDED);
	feed(f, MM1(C, B, 9), 31 * SEC); /* the capture goes on */
	iks_fsm_finish(f->fsm);
	g_assert_cmpstr(iks_failed_name(last->failed), ==, "EAP_FAILURE");
	g_assert_cmpuint(last->hint, ==, IKS_H_EAP_ENDED);
	g_assert_cmpuint(last->stalled, ==, 0);
	g_assert_true(last->flags & IKS_R_FINAL);
	iks_tunnel_summary s;
	g_assert_true(iks_fsm_summary(f->fsm, 1, &s));
	g_assert_cmpstr(iks_failed_name(s.failed), ==, "EAP_FAILURE");
	g_assert_cmpuint(s.hint, ==, IKS_H_EAP_ENDED);
	/* The client answered after all, and the SA completes. */
	feed(f, auth_req(3, AUTH), SEC / 100);
	feed(f, auth_resp(3, AUTH), SEC / 100);
	iks_fsm_finish(f->fsm);
	g_assert_cmpuint(last->failed, ==, 0);
	g_assert_true(iks_fsm_summary(f->fsm, 1, &s));
	g_assert_cmpuint(s.failed, ==, 0);
}

/* Rule: an EAP round left unanswered (resent) after earlier rounds were answered stalls, and the
 * hint points at the gateway's back end, not at the path. */
static void test_eap_round_unanswered(fx *f, gconstpointer d)
{
	(void)d;
	to_eap_round2(f);
	iks_msg q3 = auth_req(3, EAP);
	feed(f, q3, SEC / 100);
	feed(f, q3, 2 * SEC);
	iks_result *again = feed(f, q3, 4 * SEC);
	g_assert_cmpstr(iks_stalled_name(again->stalled), ==, "IN-NEG");
	g_assert_cmpuint(again->hint, ==, IKS_H_EAP_NO_ANSWER);
	g_assert_cmpuint(again->failed, ==, 0);
}

/* IKEv1: main mode, then transaction exchanges under their own message IDs. */
static iks_msg txn(iks_addr s, iks_addr d, uint32_t mid, uint64_t salt)
{
	return mk(s, d, 1, 2, IKS_EXCH_TRANSACTION, IKS_FLAG_ENCRYPTED, mid, 0, 76, salt);
}

static iks_msg with_cfg(iks_msg m, uint8_t type, uint8_t bits)
{
	m.ra.cfg_type = type;
	m.ra.cfg = bits;
	return m;
}

/* Rule: a transaction exchange is a request and its reply (paired, either direction); the round
 * counts the tunnel's transaction exchanges; a quick mode after them is a working remote access. */
static void test_txn_pairs_and_rounds(fx *f, gconstpointer d)
{
	(void)d;
	main_mode_done(f, A, B, 1, 2);
	iks_result *x1 = feed(f, txn(B, A, 0x11, 1), SEC / 100); /* gateway: XAUTH REQUEST */
	uint32_t frame1 = f->frame;
	iks_result *x2 = feed(f, txn(A, B, 0x11, 2), SEC / 100);
	uint32_t frame2 = f->frame;
	iks_result *x3 = feed(f, txn(B, A, 0x12, 3), SEC / 100); /* gateway: XAUTH SET */
	iks_result *x4 = feed(f, txn(A, B, 0x12, 4), SEC / 100);
	iks_result *x5 = feed(f, txn(A, B, 0x13, 5), SEC / 100); /* client: mode-config REQUEST */
	iks_result *x6 = feed(f, txn(B, A, 0x13, 6), SEC / 100);
	assert_labels(x1, "TXN_REQ", "responder", "MM_ACTIVE", "QM_IDLE");
	assert_labels(x2, "TXN_RESP", "initiator", "MM_ACTIVE", "QM_IDLE");
	assert_labels(x5, "TXN_REQ", "initiator", "MM_ACTIVE", "QM_IDLE");
	assert_labels(x6, "TXN_RESP", "responder", "MM_ACTIVE", "QM_IDLE");
	g_assert_cmpuint(x2->response_to, ==, frame1);
	g_assert_cmpuint(x1->response_in, ==, frame2);
	g_assert_cmpuint(x1->round, ==, 1);
	g_assert_cmpuint(x2->round, ==, 1);
	g_assert_cmpuint(x3->round, ==, 2);
	g_assert_cmpuint(x4->round, ==, 2);
	g_assert_cmpuint(x6->round, ==, 3);
	g_assert_cmpuint(iks_qm_state_of(x1), ==, 0); /* a round is no quick-mode state */
	feed(f, QM(A, B, 1, 2, 0x100, 300, 1), SEC / 100);
	feed(f, QM(B, A, 1, 2, 0x100, 300, 2), SEC / 100);
	feed(f, QM(A, B, 1, 2, 0x100, 100, 3), SEC / 100);
	iks_fsm_finish(f->fsm);
	iks_tunnel_summary s;
	g_assert_true(iks_fsm_summary(f->fsm, 1, &s));
	g_assert_cmpuint(s.failed, ==, 0);
	g_assert_cmpuint(s.stalled, ==, 0);
	g_assert_cmpuint(s.qm_done, ==, 1);
}

/* Rule: without keys, transactions after phase 1, then an Informational (a Delete) and never a
 * quick mode: refused remote access at capture end (XAUTH_FAILED, the hint names credentials / AAA
 * / pool), never OK. A capture that simply ends after the transactions proves no refusal: a stall
 * that may still go on. */
static void test_txn_no_quick_mode(fx *f, gconstpointer d)
{
	(void)d;
	main_mode_done(f, A, B, 1, 2);
	feed(f, txn(B, A, 0x11, 1), SEC / 100);
	feed(f, txn(A, B, 0x11, 2), SEC / 100);
	feed(f, txn(B, A, 0x12, 3), SEC / 100);
	iks_result *ack = feed(f, txn(A, B, 0x12, 4), SEC / 100);
	iks_fsm_finish(f->fsm);
	g_assert_cmpuint(ack->failed, ==, 0); /* the capture ends right after: it may still go on */
	g_assert_cmpstr(iks_stalled_name(ack->stalled), ==, "MM_ACTIVE");
	g_assert_true(ack->flags & IKS_R_FINAL_SOON);
	g_assert_cmpuint(ack->hint, ==, IKS_H_RA_UNFINISHED);
	/* The user tries again: another attempt, not a rekey of an SA that was never usable. */
	iks_result *again = feed(f, MM1(A, B, 3), SEC / 100);
	g_assert_cmpuint(iks_fsm_rekey_of(f->fsm, again->tunnel), ==, 0);
	iks_result *del = feed(f, INFO_ENC(B, A, 1, 2, 0x99), SEC / 100);
	iks_fsm_finish(f->fsm);
	g_assert_cmpstr(iks_failed_name(del->failed), ==, "XAUTH_FAILED");
	g_assert_cmpuint(del->hint, ==, IKS_H_RA_NO_QM);
	g_assert_cmpuint(del->stalled, ==, 0);
	iks_tunnel_summary s;
	g_assert_true(iks_fsm_summary(f->fsm, 1, &s));
	g_assert_cmpstr(iks_failed_name(s.failed), ==, "XAUTH_FAILED");
}

/* Rule: with keys, the gateway's XAUTH SET with status FAIL refuses on its packet; a mode-config
 * REPLY without the address the client asked for is NO_ADDRESS. */
static void test_txn_keys(fx *f, gconstpointer d)
{
	(void)d;
	main_mode_done(f, A, B, 1, 2);
	feed(f, with_cfg(txn(B, A, 0x11, 1), IKS_CFG_REQUEST, IKS_CFG_HAS_XAUTH), SEC / 100);
	feed(f, with_cfg(txn(A, B, 0x11, 2), IKS_CFG_REPLY, IKS_CFG_HAS_XAUTH), SEC / 100);
	iks_result *set = feed(f, with_cfg(txn(B, A, 0x12, 3), IKS_CFG_SET, IKS_CFG_HAS_XAUTH_FAIL), SEC / 100);
	g_assert_cmpstr(iks_failed_name(set->failed), ==, "XAUTH_FAILED");
	g_assert_cmpuint(set->hint, ==, IKS_H_XAUTH_FAILED);
	iks_ra ra;
	g_assert_true(iks_fsm_ra(f->fsm, set, &ra));
	char buf[64];
	g_assert_cmpstr(iks_cfg_str(1, &ra, buf, sizeof buf), ==, "XAUTH SET status FAIL");

	/* Another SA: XAUTH OK, then mode-config without an address. */
	feed(f, MM1(C, B, 5), SEC);
	feed(f, MM2(B, C, 5, 6), 1);
	feed(f, MM3(C, B, 5, 6), 1);
	feed(f, MM4(B, C, 5, 6), 1);
	feed(f, MM5(C, B, 5, 6), 1);
	feed(f, MM6(B, C, 5, 6), 1);
	iks_msg ok = mk(B, C, 5, 6, IKS_EXCH_TRANSACTION, IKS_FLAG_ENCRYPTED, 0x21, 0, 76, 7);
	g_assert_cmpuint(feed(f, with_cfg(ok, IKS_CFG_SET, IKS_CFG_HAS_XAUTH_OK), 1)->failed, ==, 0);
	iks_msg req = mk(C, B, 5, 6, IKS_EXCH_TRANSACTION, IKS_FLAG_ENCRYPTED, 0x22, 0, 76, 8);
	feed(f, with_cfg(req, IKS_CFG_REQUEST, IKS_CFG_HAS_ADDRESS_ASKED), 1);
	iks_msg rep = mk(B, C, 5, 6, IKS_EXCH_TRANSACTION, IKS_FLAG_ENCRYPTED, 0x22, 0, 76, 9);
	iks_result *none = feed(f, with_cfg(rep, IKS_CFG_REPLY, 0), 1);
	g_assert_cmpstr(iks_failed_name(none->failed), ==, "NO_ADDRESS");
	g_assert_cmpuint(none->hint, ==, IKS_H_CFG_NO_ADDRESS);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	ADD("/ra/eap-rounds-monotonic", test_eap_rounds_monotonic);
	ADD("/ra/eap-keys-first-pass", test_eap_keys_first_pass);
	ADD("/ra/eap-keys-fragments", test_eap_keys_fragments);
	ADD("/ra/eap-failure-keys", test_eap_failure_keys);
	ADD("/ra/eap-ended-no-keys", test_eap_ended_no_keys);
	ADD("/ra/eap-round-unanswered", test_eap_round_unanswered);
	ADD("/ra/txn-pairs-and-rounds", test_txn_pairs_and_rounds);
	ADD("/ra/txn-no-quick-mode", test_txn_no_quick_mode);
	ADD("/ra/txn-keys", test_txn_keys);
	return g_test_run();
}
