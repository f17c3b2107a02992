/* Diagnosis (issue #4, GLib g_test): stalls by resends and by time, their configuration, refusals
 * (clear and encrypted notifies, ICMP), capture-end verdicts, the per-tunnel summary, dead peers. */
#include "helpers.h"

/* Rule: the k-th resend (k >= 2 by default) establishes a stall in the sender's state, with a hint
 * for that state; a resend of MM6 / QM3 (answering the peer's resends) is no stall of its own. */
static void test_stall_by_resends(fx *f, gconstpointer d)
{
	(void)d;
	feed(f, MM1(A, B, 1), 0);
	feed(f, MM2(B, A, 1, 2), 1);
	feed(f, MM3(A, B, 1, 2), 1);
	iks_result *k1 = feed(f, MM3(A, B, 1, 2), 8 * SEC);
	g_assert_cmpuint(k1->stalled, ==, 0);
	iks_result *k2 = feed(f, MM3(A, B, 1, 2), 8 * SEC);
	g_assert_cmpstr(iks_stalled_name(k2->stalled), ==, "MM_WAIT_MSG4");
	g_assert_true(k2->flags & IKS_R_STALL);
	g_assert_cmpuint(k2->hint, ==, IKS_H_NO_MM4);
	g_assert_nonnull(strstr(iks_hint_text(k2->hint), "tunnel-group"));
	/* The responder re-sending MM2 for duplicate MM1s: its MM2 does not get through. */
	feed(f, MM1(C, B, 7), 0);
	feed(f, MM2(B, C, 7, 8), 1);
	feed(f, MM2(B, C, 7, 8), SEC);
	iks_result *r2 = feed(f, MM2(B, C, 7, 8), SEC);
	g_assert_cmpstr(iks_stalled_name(r2->stalled), ==, "MM_WAIT_MSG3");
	g_assert_cmpuint(r2->hint, ==, IKS_H_MM2_LOST);
	/* A resent MM6 waits for nothing. */
	iks_addr D = { 4, { 198, 51, 100, 20 }, 500 };
	main_mode_to_mm4(f, D, B, 11, 12);
	feed(f, MM5(D, B, 11, 12), 1);
	feed(f, MM6(B, D, 11, 12), 1);
	feed(f, MM6(B, D, 11, 12), 1);
	g_assert_cmpuint(feed(f, MM6(B, D, 11, 12), 1)->stalled, ==, 0);
}

/* Rule: MM5 resent after the NAT-T float points at UDP 4500 first; a quick mode's QM1 resent
 * twice stalls in QM_WAIT_MSG2. */
static void test_stall_hints_by_evidence(fx *f, gconstpointer d)
{
	(void)d;
	iks_addr a4500 = A, b4500 = B;
	a4500.port = b4500.port = 4500;
	main_mode_to_mm4(f, A, B, 1, 2);
	feed(f, MM5(a4500, b4500, 1, 2), 1);
	feed(f, MM5(a4500, b4500, 1, 2), 4 * SEC);
	iks_result *s = feed(f, MM5(a4500, b4500, 1, 2), 7 * SEC);
	g_assert_cmpstr(iks_stalled_name(s->stalled), ==, "MM_WAIT_MSG6");
	g_assert_cmpuint(s->hint, ==, IKS_H_NO_MM6_NATT);

	main_mode_to_mm4(f, C, B, 5, 6);
	feed(f, MM5(C, B, 5, 6), 1);
	feed(f, MM6(B, C, 5, 6), 1);
	feed(f, QM(C, B, 5, 6, 0x33, 300, 0), 1);
	feed(f, QM(C, B, 5, 6, 0x33, 300, 0), SEC); /* resends: more than 1 ms apart */
	iks_result *q = feed(f, QM(C, B, 5, 6, 0x33, 300, 0), SEC);
	g_assert_cmpstr(iks_stalled_name(q->stalled), ==, "QM_WAIT_MSG2");
	g_assert_cmpuint(q->hint, ==, IKS_H_NO_QM2);
}

/* Rule: no progress for longer than the timeout when the negotiation's next packet arrives. */
static void test_stall_by_time(fx *f, gconstpointer d)
{
	(void)d;
	feed(f, MM1(A, B, 1), 0);
	feed(f, MM2(B, A, 1, 2), 1);
	iks_msg other = MM1(A, B, 1);
	other.digest ^= 9; /* MM1 again with new content: no progress, no resend */
	g_assert_cmpuint(feed(f, other, 10 * SEC)->stalled, ==, 0);
	iks_result *late = feed(f, other, 31 * SEC); /* resend #1, 41 s after the last step */
	g_assert_cmpuint(late->retrans, ==, 1);
	g_assert_cmpstr(iks_stalled_name(late->stalled), ==, "MM_WAIT_MSG3");
	/* Progress after a long pause is no stall. */
	g_assert_cmpuint(feed(f, MM3(A, B, 1, 2), 60 * SEC)->stalled, ==, 0);
}

/* Preferences: thresholds come from the configuration; 0 turns a rule off. */
static void test_stall_config(void)
{
	iks_config cfg = { 0, 0, 0, 0 };
	iks_fsm *fsm = iks_fsm_new(&cfg);
	iks_msg m = MM1(A, B, 1);
	for (uint32_t n = 1; n <= 6; n++) {
		m.frame = n;
		m.ts_ns = (int64_t)n * 100 * SEC;
		g_assert_cmpuint(iks_fsm_feed(fsm, &m)->stalled, ==, 0);
	}
	iks_fsm_free(fsm);
	cfg.stall_retransmissions = 4;
	fsm = iks_fsm_new(&cfg);
	for (uint32_t n = 1; n <= 5; n++) {
		m.frame = n;
		m.ts_ns = (int64_t)n * SEC; /* resends, not capture duplicates (same time) */
		iks_result *r = iks_fsm_feed(fsm, &m);
		g_assert_cmpuint(r->stalled != 0, ==, n == 5);
	}
	iks_fsm_free(fsm);
}

/* Rule: an unencrypted error notify fails the negotiation with its name and meaning. */
static void test_clear_notify(fx *f, gconstpointer d)
{
	(void)d;
	feed(f, MM1(A, B, 1), 0);
	iks_result *n = feed(f, INFO_CLEAR(B, A, 1, 0, 14), 1);
	g_assert_cmpstr(iks_failed_name(n->failed), ==, "NO_PROPOSAL_CHOSEN");
	g_assert_true(n->flags & IKS_R_REFUSED);
	g_assert_cmpuint(n->hint, ==, IKS_H_P1_NO_PROPOSAL);
	/* Refused, not also stalled: the initiator's later resends establish no stall, and the capture
	 * end adds none. */
	feed(f, MM1(A, B, 1), SEC);
	iks_result *s = feed(f, MM1(A, B, 1), SEC);
	g_assert_cmpuint(s->stalled, ==, 0);
	g_assert_cmpuint(s->retrans, ==, 2);
	iks_fsm_finish(f->fsm);
	g_assert_cmpuint(s->stalled, ==, 0);
	g_assert_false(s->flags & IKS_R_FINAL);
	/* INVALID-COOKIE after MM3. */
	main_mode_to_mm4(f, C, B, 3, 4);
	iks_result *c = feed(f, INFO_CLEAR(B, C, 3, 4, 4), 1);
	g_assert_cmpstr(iks_failed_name(c->failed), ==, "INVALID_COOKIE");
	g_assert_cmpuint(c->hint, ==, IKS_H_INVALID_COOKIE);
	/* Status notifies are no refusal. */
	g_assert_cmpuint(feed(f, INFO_CLEAR(B, C, 3, 4, 24578), 1)->failed, ==, 0);
	g_assert_cmpstr(iks_failed_name(99), ==, "ERROR_NOTIFY");
}

/* Rule: encrypted Informationals placed by context; decrypted notifies refine them. */
static void test_encrypted_refusals(fx *f, gconstpointer d)
{
	(void)d;
	/* strongSwan responder with a PSK mismatch: an encrypted notify answers MM5. */
	main_mode_to_mm4(f, A, B, 1, 2);
	feed(f, MM5(A, B, 1, 2), 1);
	iks_result *p1 = feed(f, INFO_ENC(B, A, 1, 2, 0x41), 1);
	g_assert_cmpstr(iks_failed_name(p1->failed), ==, "PHASE1_REJECTED");
	g_assert_cmpuint(p1->hint, ==, IKS_H_P1_REJECTED_MM5);

	/* Aggressive mode: the initiator rejects AM2. */
	uint64_t am = BIT(IKS_PL_SA) | BIT(IKS_PL_KE) | BIT(IKS_PL_NONCE) | BIT(IKS_PL_ID);
	feed(f, mk(C, B, 5, 0, IKS_EXCH_AGGRESSIVE, 0, 0, am, 400, 0), 1);
	feed(f, mk(B, C, 5, 6, IKS_EXCH_AGGRESSIVE, 0, 0, am | BIT(IKS_PL_HASH), 420, 0), 1);
	iks_result *a = feed(f, INFO_ENC(C, B, 5, 6, 0x42), 1);
	g_assert_cmpuint(a->hint, ==, IKS_H_P1_REJECTED_AM2);

	/* Phase 2: an encrypted notify from the QM responder instead of QM2. */
	iks_addr D = { 4, { 198, 51, 100, 30 }, 500 };
	main_mode_to_mm4(f, D, B, 7, 8);
	feed(f, MM5(D, B, 7, 8), 1);
	feed(f, MM6(B, D, 7, 8), 1);
	feed(f, QM(D, B, 7, 8, 0x50, 300, 0), 1);
	/* An Informational from the QM initiator itself is not the answer. */
	g_assert_cmpuint(feed(f, INFO_ENC(D, B, 7, 8, 0x51), 1)->failed, ==, 0);
	iks_result *p2 = feed(f, INFO_ENC(B, D, 7, 8, 0x52), 1);
	g_assert_cmpstr(iks_failed_name(p2->failed), ==, "PHASE2_REJECTED");
	g_assert_cmpuint(p2->hint, ==, IKS_H_P2_REJECTED);
	/* Decrypted (Wireshark has the key): the notify names the cause. */
	feed(f, QM(D, B, 7, 8, 0x60, 300, 0), 1);
	iks_msg dec = INFO_ENC(B, D, 7, 8, 0x61);
	dec.notify[0] = 18;
	dec.n_notify = 1;
	iks_result *id = feed(f, dec, 1);
	g_assert_cmpstr(iks_failed_name(id->failed), ==, "INVALID_ID_INFORMATION");
	g_assert_cmpuint(id->hint, ==, IKS_H_P2_PROXY_ID);
	/* A decrypted DPD R-U-THERE where QM2 was expected is not a refusal. */
	feed(f, QM(D, B, 7, 8, 0x70, 300, 0), 1);
	iks_msg dpd = INFO_ENC(B, D, 7, 8, 0x71);
	dpd.notify[0] = 36136;
	dpd.n_notify = 1;
	g_assert_cmpuint(feed(f, dpd, 1)->failed, ==, 0);

	/* A fresh phase 1 between the same peers after the phase-2 failure: a reset. */
	iks_result *reset = feed(f, MM1(D, B, 9), SEC);
	g_assert_cmpuint(reset->tunnel, ==, 4);
	g_assert_cmpuint(reset->attempt, ==, 2);
	g_assert_cmpuint(reset->hint, ==, IKS_H_P1_RESET_AFTER_P2);
}

/* Rule: ICMP unreachable quoting a message of the negotiation. */
static void test_icmp(fx *f, gconstpointer d)
{
	(void)d;
	feed(f, MM1(A, B, 0x77), 0);
	iks_result *i = iks_fsm_icmp(f->fsm, f->now + 1000, 0x77, 0);
	g_assert_nonnull(i);
	g_assert_cmpuint(i->tunnel, ==, 1);
	g_assert_cmpstr(iks_failed_name(i->failed), ==, "ICMP_UNREACHABLE");
	g_assert_cmpuint(i->hint, ==, IKS_H_NO_MM2_ICMP);
	g_assert_null(iks_fsm_icmp(f->fsm, f->now, 0x78, 0)); /* not ours */
	/* The ICMP error is the verdict: the resends after it establish no stall. */
	feed(f, MM1(A, B, 0x77), SEC);
	g_assert_cmpuint(feed(f, MM1(A, B, 0x77), SEC)->stalled, ==, 0);
	iks_fsm_finish(f->fsm);
	iks_tunnel_summary s;
	g_assert_true(iks_fsm_summary(f->fsm, 1, &s));
	g_assert_cmpstr(iks_failed_name(s.failed), ==, "ICMP_UNREACHABLE");
	g_assert_cmpuint(s.stalled, ==, 0);
	g_assert_cmpuint(s.hint, ==, IKS_H_NO_MM2_ICMP);
}

/* Rule: at capture end, a negotiation that never completed (or a quick mode) gets the verdict on
 * its last packet; weaker when the capture ends soon after; recomputed after more packets. */
static void test_final_verdicts(fx *f, gconstpointer d)
{
	(void)d;
	feed(f, MM1(A, B, 1), 0);
	iks_result *last = feed(f, MM2(B, A, 1, 2), 1);
	main_mode_to_mm4(f, C, B, 3, 4);
	feed(f, MM5(C, B, 3, 4), 1);
	iks_result *done = feed(f, MM6(B, C, 3, 4), 1);
	iks_result *q1 = feed(f, QM(C, B, 3, 4, 0x10, 300, 0), 1);
	iks_fsm_finish(f->fsm);
	g_assert_cmpuint(done->flags & (IKS_R_FINAL | IKS_R_STALL), ==, 0); /* completed phase 1 */
	g_assert_true(last->flags & IKS_R_FINAL);
	g_assert_true(last->flags & IKS_R_FINAL_SOON);
	g_assert_cmpstr(iks_stalled_name(last->stalled), ==, "MM_WAIT_MSG3");
	g_assert_cmpstr(iks_stalled_name(q1->stalled), ==, "QM_WAIT_MSG2");
	/* More packets (live capture): QM2 comes, MM1's tunnel still hangs, 60 s later. */
	feed(f, QM(B, C, 3, 4, 0x10, 300, 1), 60 * SEC);
	iks_fsm_finish(f->fsm);
	g_assert_cmpuint(q1->stalled, ==, 0);
	g_assert_false(q1->flags & IKS_R_FINAL);
	g_assert_true(last->flags & IKS_R_FINAL);
	g_assert_false(last->flags & IKS_R_FINAL_SOON);
}

/* The per-tunnel summary (tshark -z ikestate,tunnels) says what the packets say. */
static void test_summary(fx *f, gconstpointer d)
{
	(void)d;
	iks_addr a4500 = A, b4500 = B;
	a4500.port = b4500.port = 4500;
	main_mode_to_mm4(f, A, B, 1, 2);
	feed(f, MM5(a4500, b4500, 1, 2), 1);
	iks_result *m6 = feed(f, MM6(b4500, a4500, 1, 2), SEC / 100);
	feed(f, QM(a4500, b4500, 1, 2, 9, 300, 0), 1);
	feed(f, QM(b4500, a4500, 1, 2, 9, 300, 1), 1);
	feed(f, QM(a4500, b4500, 1, 2, 9, 60, 2), 1);
	feed(f, QM(a4500, b4500, 1, 2, 10, 300, 3), 1); /* never answered */
	/* Second tunnel: libreswan-style responder re-sending MM4 after MM5. */
	main_mode_to_mm4(f, C, B, 3, 4);
	feed(f, MM5(C, B, 3, 4), 1);
	feed(f, MM4(B, C, 3, 4), SEC);
	iks_result *r4 = feed(f, MM4(B, C, 3, 4), SEC);
	g_assert_cmpuint(r4->hint, ==, IKS_H_MM5_UNUSABLE);
	iks_fsm_finish(f->fsm);

	iks_tunnel_summary s;
	g_assert_false(iks_fsm_summary(f->fsm, 0, &s));
	g_assert_false(iks_fsm_summary(f->fsm, 3, &s));
	g_assert_true(iks_fsm_summary(f->fsm, 1, &s));
	g_assert_true(s.roles_known);
	g_assert_cmpuint(s.initiator.port, ==, 4500); /* final ports, after the NAT-T float */
	g_assert_cmpmem(s.initiator.bytes, 4, A.bytes, 4);
	g_assert_cmpint(s.setup_ns, ==, m6->span.setup_ns);
	g_assert_cmpstr(iks_state_name(s.state), ==, "MM_ACTIVE");
	g_assert_cmpuint(s.qm_done, ==, 1);
	g_assert_cmpuint(s.qm_failed, ==, 1);
	g_assert_cmpstr(iks_stalled_name(s.stalled), ==, "QM_WAIT_MSG2");
	g_assert_true(iks_fsm_summary(f->fsm, 2, &s));
	g_assert_cmpuint(s.retrans, ==, 2);
	g_assert_cmpstr(iks_stalled_name(s.stalled), ==, iks_stalled_name(r4->stalled)); /* its last packet */
	g_assert_cmpuint(s.hint, ==, IKS_H_MM5_UNUSABLE);
	g_assert_cmpint(s.setup_ns, ==, -1);
}

/* Rule: encrypted Informationals (DPD) that the peer never answers: a dead peer. */
static void test_dead_peer(fx *f, gconstpointer d)
{
	(void)d;
	main_mode_to_mm4(f, A, B, 1, 2);
	feed(f, MM5(A, B, 1, 2), 1);
	feed(f, MM6(B, A, 1, 2), 1);
	/* R-U-THERE answered by an ACK: alive. */
	for (uint32_t k = 0; k < 4; k++) {
		g_assert_cmpuint(feed(f, INFO_ENC(A, B, 1, 2, 0x100 + k), 10 * SEC)->failed, ==, 0);
		g_assert_cmpuint(feed(f, INFO_ENC(B, A, 1, 2, 0x200 + k), SEC / 100)->failed, ==, 0);
	}
	/* Two unanswered are not enough (default threshold 2 resends), the third is. */
	g_assert_cmpuint(feed(f, INFO_ENC(A, B, 1, 2, 0x300), 10 * SEC)->failed, ==, 0);
	g_assert_cmpuint(feed(f, INFO_ENC(A, B, 1, 2, 0x301), 2 * SEC)->failed, ==, 0);
	iks_result *dead = feed(f, INFO_ENC(A, B, 1, 2, 0x302), 2 * SEC);
	g_assert_cmpstr(iks_failed_name(dead->failed), ==, "PEER_DEAD");
	g_assert_cmpuint(dead->hint, ==, IKS_H_PEER_DEAD);
	/* A decrypted R-U-THERE-ACK never counts as unanswered. */
	iks_msg ack = INFO_ENC(B, A, 1, 2, 0x400);
	ack.notify[0] = 36137;
	ack.n_notify = 1;
	for (int k = 0; k < 4; k++) {
		ack.msgid++;
		ack.digest++;
		g_assert_cmpuint(feed(f, ack, SEC)->failed, ==, 0);
	}
}

/* Rule: a dead peer needs its unanswered Informationals spread over a second at least, and says
 * for how long it went unanswered. */
static void test_dead_peer_timing(fx *f, gconstpointer d)
{
	(void)d;
	main_mode_done(f, A, B, 1, 2);
	feed(f, INFO_ENC(A, B, 1, 2, 0x10), 30 * SEC);
	feed(f, INFO_ENC(A, B, 1, 2, 0x11), 2 * SEC);
	iks_result *dead = feed(f, INFO_ENC(A, B, 1, 2, 0x12), 2 * SEC);
	g_assert_cmpstr(iks_failed_name(dead->failed), ==, "PEER_DEAD");
	g_assert_cmpint(dead->span.unanswered_ns, ==, 4 * SEC);
}

/* Rule: a tunnel with several unfinished quick modes is summed up by the latest of them, whatever
 * order its exchanges sit in the state machine's tables. */
static void test_summary_latest_qm_stall(void)
{
	for (unsigned order = 0; order < 4; order++) {
		fx f;
		fx_setup(&f, NULL);
		uint64_t i = 0x51, r = 0x52;
		feed(&f, MM1(A, B, i), 0);
		feed(&f, MM2(B, A, i, r), 1);
		feed(&f, MM3(A, B, i, r), 1);
		feed(&f, MM4(B, A, i, r), 1);
		feed(&f, MM5(A, B, i, r), 1);
		feed(&f, MM6(B, A, i, r), 1);
		/* Two message IDs, each order; the later quick mode stops after QM1 or after QM2. */
		uint32_t early = order & 1 ? 0x1000 : 0x2000, late = order & 1 ? 0x2000 : 0x1000;
		bool late_qm2 = order & 2;
		feed(&f, QM(A, B, i, r, early, 300, 10), SEC);
		if (!late_qm2)
			feed(&f, QM(B, A, i, r, early, 300, 11), SEC / 100);
		feed(&f, QM(A, B, i, r, late, 300, 12), SEC);
		if (late_qm2)
			feed(&f, QM(B, A, i, r, late, 300, 13), SEC / 100);
		iks_fsm_finish(f.fsm);
		iks_tunnel_summary s;
		g_assert_true(iks_fsm_summary(f.fsm, 1, &s));
		g_assert_cmpuint(s.qm_failed, ==, 2);
		g_assert_cmpstr(iks_stalled_name(s.stalled), ==, late_qm2 ? "QM_WAIT_MSG3" : "QM_WAIT_MSG2");
		fx_teardown(&f, NULL);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	ADD("/diag/stall-by-resends", test_stall_by_resends);
	ADD("/diag/stall-hints-by-evidence", test_stall_hints_by_evidence);
	ADD("/diag/stall-by-time", test_stall_by_time);
	g_test_add_func("/diag/stall-config", test_stall_config);
	ADD("/diag/clear-notify", test_clear_notify);
	ADD("/diag/encrypted-refusals", test_encrypted_refusals);
	ADD("/diag/icmp", test_icmp);
	ADD("/diag/final-verdicts", test_final_verdicts);
	ADD("/diag/summary", test_summary);
	g_test_add_func("/diag/summary-latest-qm-stall", test_summary_latest_qm_stall);
	ADD("/diag/dead-peer", test_dead_peer);
	ADD("/diag/dead-peer-timing", test_dead_peer_timing);
	return g_test_run();
}
