/* test_verdicts.c — verdicts as an engineer reads them (issue #22): a negotiation that completes
 * after a refusal is OK and says what it recovered from; a refusal is not also a stall; the hint
 * names who refused, uses the keys when they prove a mismatch, and looks at the peer's own
 * negotiations. */
#include "helpers.h"

#include <string.h>

static iks_msg decrypted(iks_msg m, iks_decryption d)
{
	m.decryption = (uint8_t)d;
	return m;
}

/* Rule: the initiator refuses MM2 (NO_PROPOSAL_CHOSEN from the initiator), then the same IKE SA
 * completes: the refusing packet keeps its verdict, the tunnel's is OK, recovered from it. */
static void test_recovered(fx *f, gconstpointer d)
{
	(void)d;
	feed(f, MM1(A, B, 1), 0);
	feed(f, MM2(B, A, 1, 2), 1);
	iks_result *n = feed(f, INFO_CLEAR(A, B, 1, 2, IKS_N_NO_PROPOSAL_CHOSEN), 1);
	g_assert_cmpstr(iks_failed_name(n->failed), ==, "NO_PROPOSAL_CHOSEN");
	g_assert_cmpuint(n->hint, ==, IKS_H_P1_CHOICE_REFUSED); /* the initiator refused the choice */
	feed(f, MM3(A, B, 1, 2), 1);
	feed(f, MM4(B, A, 1, 2), 1);
	feed(f, MM5(A, B, 1, 2), 1);
	feed(f, MM6(B, A, 1, 2), 1);
	feed(f, QM(A, B, 1, 2, 0x100, 300, 1), 1);
	feed(f, QM(B, A, 1, 2, 0x100, 300, 2), 1);
	feed(f, QM(A, B, 1, 2, 0x100, 100, 3), 1);
	iks_fsm_finish(f->fsm);
	iks_tunnel_summary s;
	g_assert_true(iks_fsm_summary(f->fsm, 1, &s));
	g_assert_cmpuint(s.failed, ==, 0);
	g_assert_cmpuint(s.stalled, ==, 0);
	g_assert_cmpstr(iks_failed_name(s.recovered_from), ==, "NO_PROPOSAL_CHOSEN");
	char v[64];
	iks_verdict vd = iks_summary_verdict(&s);
	g_assert_cmpstr(iks_verdict_text(v, sizeof v, &vd), ==, "OK, recovered from NO_PROPOSAL_CHOSEN");
	g_assert_cmpstr(iks_failed_name(n->failed), ==, "NO_PROPOSAL_CHOSEN"); /* stays on its packet */
	/* The responder refusing the initiator's offers: every proposal refused. */
	feed(f, MM1(A, C, 5), 1);
	g_assert_cmpuint(feed(f, INFO_CLEAR(C, A, 5, 0, IKS_N_NO_PROPOSAL_CHOSEN), 1)->hint, ==, IKS_H_P1_NO_PROPOSAL);
}

/* Rule: a quick mode refused by an encrypted notify is refused, not also stalled at capture end. */
static void test_refused_quick_mode_not_stalled(fx *f, gconstpointer d)
{
	(void)d;
	main_mode_done(f, A, B, 1, 2);
	iks_result *qm1 = feed(f, QM(A, B, 1, 2, 0x200, 300, 1), 1);
	iks_result *no = feed(f, INFO_ENC(B, A, 1, 2, 0x300), SEC / 1000);
	g_assert_cmpstr(iks_failed_name(no->failed), ==, "PHASE2_REJECTED");
	iks_fsm_finish(f->fsm);
	g_assert_cmpuint(qm1->stalled, ==, 0);
	g_assert_false(qm1->flags & IKS_R_FINAL);
	iks_tunnel_summary s;
	g_assert_true(iks_fsm_summary(f->fsm, 1, &s));
	g_assert_cmpuint(s.qm_failed, ==, 1);
	g_assert_cmpuint(s.stalled, ==, 0);
	g_assert_cmpstr(iks_failed_name(s.failed), ==, "PHASE2_REJECTED");
}

/* Rule: with the keys loaded, the initiator's MM5 decrypts and the responder's answer decrypts into
 * garbage: the two sides derived different keys (proven); without keys the hint stays a guess. */
static void test_keys_differ(fx *f, gconstpointer d)
{
	(void)d;
	main_mode_to_mm4(f, A, B, 1, 2);
	feed(f, decrypted(MM5(A, B, 1, 2), IKS_DECRYPT_OK), 1);
	iks_result *no = feed(f, decrypted(INFO_ENC(B, A, 1, 2, 0x400), IKS_DECRYPT_GARBAGE), 1);
	g_assert_cmpstr(iks_failed_name(no->failed), ==, "PHASE1_REJECTED");
	g_assert_cmpuint(no->hint, ==, IKS_H_P1_KEYS_DIFFER);
	main_mode_to_mm4(f, C, B, 3, 4);
	feed(f, MM5(C, B, 3, 4), 1);
	g_assert_cmpuint(feed(f, INFO_ENC(B, C, 3, 4, 0x401), 1)->hint, ==, IKS_H_P1_REJECTED_MM5);
}

/* Rule: MM1 unanswered, yet that peer later starts its own negotiation, which completes: the hint
 * says the peer is up instead of "peer down". */
static void test_peer_alive(fx *f, gconstpointer d)
{
	(void)d;
	iks_result *mm1 = feed(f, MM1(A, B, 1), 0);
	main_mode_done(f, B, A, 7, 8); /* B initiates, 25 s later in the real case */
	iks_fsm_finish(f->fsm);
	g_assert_cmpstr(iks_stalled_name(mm1->stalled), ==, "MM_WAIT_MSG2");
	g_assert_cmpuint(mm1->hint, ==, IKS_H_PEER_ALIVE);
	/* Without it, the usual hint. */
	iks_result *lone = feed(f, MM1(A, C, 9), 0);
	iks_fsm_finish(f->fsm);
	g_assert_cmpuint(lone->hint, ==, IKS_H_NO_MM2);
}

/* Rule: "the capture ends soon after: may still go on" only when nothing but the capture's end
 * makes the stall: not when resends established it on that packet. */
static void test_final_soon_only_without_proof(fx *f, gconstpointer d)
{
	(void)d;
	feed(f, MM1(A, B, 1), 0);
	feed(f, MM1(A, B, 1), SEC);
	iks_result *proven = feed(f, MM1(A, B, 1), SEC);
	g_assert_cmpstr(iks_stalled_name(proven->stalled), ==, "MM_WAIT_MSG2");
	iks_result *silent = feed(f, MM1(A, C, 2), SEC);
	iks_fsm_finish(f->fsm);
	g_assert_true(proven->flags & IKS_R_FINAL);
	g_assert_false(proven->flags & IKS_R_FINAL_SOON);
	g_assert_true(silent->flags & IKS_R_FINAL_SOON);
}

/* Rule: a hint says the responder re-sends only when it did: MM2 answered once and no MM3 (a
 * scanner's probe, or MM2 lost) is not "the responder re-sends MM2". */
static void test_resends_only_when_seen(fx *f, gconstpointer d)
{
	(void)d;
	feed(f, MM1(A, B, 1), 0);
	iks_result *once = feed(f, MM2(B, A, 1, 2), 1);
	feed(f, MM1(C, B, 3), 0);
	feed(f, MM2(B, C, 3, 4), 1);
	iks_result *again = feed(f, MM2(B, C, 3, 4), SEC);
	iks_fsm_finish(f->fsm);
	g_assert_cmpstr(iks_stalled_name(once->stalled), ==, "MM_WAIT_MSG3");
	g_assert_cmpuint(once->hint, ==, IKS_H_MM2_NO_MM3);
	g_assert_cmpuint(again->hint, ==, IKS_H_MM2_LOST);
}

static iks_msg ttl(iks_msg m, uint8_t v)
{
	m.ttl = v;
	return m;
}

/* MM1 and MM2 with the given TTLs, MM2 answered by nothing; the capture-end hint. */
static iks_hint mm2_unanswered_hint(fx *f, uint64_t i, uint8_t ttl_i, uint8_t ttl_r, iks_captured_at *at)
{
	feed(f, ttl(MM1(A, B, i), ttl_i), SEC);
	iks_result *mm2 = feed(f, ttl(MM2(B, A, i, i + 1), ttl_r), SEC / 100);
	iks_fsm_finish(f->fsm);
	g_assert_true(iks_fsm_captured_at(f->fsm, mm2->tunnel, at));
	return (iks_hint)mm2->hint;
}

/* Rule (issue #27): the capture point from the TTLs, and the stall said from there. At the initiator
 * (its TTL 64, the responder's 63 after a router) MM2 arrived and this host never sent MM3; at the
 * responder MM2 left and nothing came back; a direct link (both 64), a changing TTL or a side not
 * heard prove nothing: the neutral hint. */
static void test_captured_at(fx *f, gconstpointer d)
{
	(void)d;
	iks_captured_at at;
	g_assert_cmpuint(mm2_unanswered_hint(f, 10, 64, 63, &at), ==, IKS_H_MM2_AT_INITIATOR);
	g_assert_cmpstr(iks_at_name(at.at), ==, "initiator");
	g_assert_cmpuint(at.hops[1], ==, 1);
	g_assert_cmpuint(mm2_unanswered_hint(f, 20, 63, 64, &at), ==, IKS_H_MM2_AT_RESPONDER);
	g_assert_cmpstr(iks_at_name(at.at), ==, "responder");
	g_assert_cmpuint(mm2_unanswered_hint(f, 30, 126, 250, &at), ==, IKS_H_MM2_NO_MM3); /* Windows, Cisco */
	g_assert_cmpstr(iks_at_name(at.at), ==, "path");
	g_assert_cmpuint(mm2_unanswered_hint(f, 40, 64, 64, &at), ==, IKS_H_MM2_NO_MM3); /* direct link */
	g_assert_cmpstr(iks_at_name(at.at), ==, "unknown");
	g_assert_cmpuint(mm2_unanswered_hint(f, 50, 64, 0, &at), ==, IKS_H_MM2_NO_MM3); /* TTL not found */
	g_assert_cmpstr(iks_at_name(at.at), ==, "unknown");
	/* A TTL that changes within the SA: no evidence. */
	feed(f, ttl(MM1(A, B, 60), 64), SEC);
	feed(f, ttl(MM2(B, A, 60, 61), 63), SEC / 100);
	iks_result *again = feed(f, ttl(MM2(B, A, 60, 61), 61), SEC);
	iks_fsm_finish(f->fsm);
	g_assert_true(iks_fsm_captured_at(f->fsm, again->tunnel, &at));
	g_assert_cmpstr(iks_at_name(at.at), ==, "unknown");
	g_assert_true(at.varies[1]);
}

static iks_addr responder(unsigned n)
{
	iks_addr a = { .len = 4, .bytes = { 198, 51, 100, (uint8_t)n }, .port = 500 };
	return a;
}

/* Rule (issue #27): answers from several responders to one initiator cookie whose requests are not
 * in the capture are a reflection: each of those IKE SAs is marked, none stalls (resent MM2s
 * included) or notes a mid-negotiation start, the first answer carries the group's one finding, and
 * the summary names the group. Two answers are not enough; IKEv2 answers from other addresses to
 * one SPIi are other responders, not a COOKIE retry of one IKE SA. */
static void test_reflection(fx *f, gconstpointer d)
{
	(void)d;
	iks_result *first = feed(f, MM2(responder(1), A, 0x77, 1), 0);
	feed(f, MM2(responder(2), A, 0x77, 2), SEC / 100);
	g_assert_cmpuint(iks_fsm_pattern(f->fsm, first->tunnel), ==, 0); /* two: not yet */
	iks_result *third = feed(f, MM2(responder(3), A, 0x77, 3), SEC / 100);
	for (uint32_t n = 1; n <= 3; n++)
		g_assert_cmpstr(iks_pattern_name(iks_fsm_pattern(f->fsm, n)), ==, "reflection");
	g_assert_true(first->flags & IKS_R_PATTERN);
	g_assert_false(first->flags & IKS_R_MID_NEGOTIATION);
	g_assert_false(third->flags & (IKS_R_PATTERN | IKS_R_MID_NEGOTIATION));
	iks_msg again = MM2(responder(3), A, 0x77, 3);
	feed(f, again, 4 * SEC);
	iks_result *resent = feed(f, again, 8 * SEC);
	g_assert_cmpuint(resent->retrans, ==, 2);
	g_assert_cmpuint(resent->stalled, ==, 0);
	/* IKEv2: IKE_SA_INIT answers from three addresses to one SPIi. */
	for (unsigned n = 10; n < 13; n++)
		feed(f, SA_INIT_RESP(responder(n), A, 0x99, n), SEC / 100);
	g_assert_cmpuint(iks_fsm_tunnel_count(f->fsm), ==, 6);
	iks_fsm_finish(f->fsm);
	g_assert_cmpuint(resent->stalled, ==, 0);
	iks_tunnel_summary s;
	g_assert_true(iks_fsm_summary(f->fsm, 3, &s));
	g_assert_cmpuint(s.group_leader, ==, 1);
	g_assert_cmpuint(s.group_size, ==, 3);
	g_assert_cmpint(s.group_span_ns, ==, 2 * SEC / 100);
	char v[64];
	iks_verdict vd = iks_summary_verdict(&s);
	g_assert_cmpstr(iks_verdict_text(v, sizeof v, &vd), ==, "REFLECTION");
	g_assert_true(iks_fsm_summary(f->fsm, 6, &s));
	g_assert_cmpuint(s.group_size, ==, 3);
	g_assert_cmpuint(s.stalled, ==, 0);
}

/* An MM1 as ike-scan sends it: an SA payload, no Vendor ID. */
static iks_msg probe_mm1(iks_addr src, iks_addr dst, uint64_t i)
{
	return mk(src, dst, i, 0, IKS_EXCH_MAIN, 0, 0, BIT(IKS_PL_SA), 200, i);
}

/* Rule (issue #27): an initiator whose first messages carry no Vendor ID and that never goes past the
 * first exchange, twice or more, is a probe (one responder) or a scan (several): no stall on any of
 * its negotiations, refusals stay on their packets, the summary says PROBE / SCAN. One alone stays a
 * stall; one that goes on (MM3) is a negotiation. */
static void test_probes(fx *f, gconstpointer d)
{
	(void)d;
	feed(f, probe_mm1(C, B, 0x10), 0); /* refused */
	iks_result *npc = feed(f, INFO_CLEAR(B, C, 0x10, 0, IKS_N_NO_PROPOSAL_CHOSEN), SEC / 1000);
	feed(f, probe_mm1(C, B, 0x20), SEC / 3); /* accepted, never MM3 */
	iks_result *mm2 = feed(f, MM2(B, C, 0x20, 0x21), SEC / 1000);
	g_assert_cmpstr(iks_pattern_name(iks_fsm_pattern(f->fsm, npc->tunnel)), ==, "probe");
	g_assert_true(npc->flags & IKS_R_PATTERN);
	/* One VID-less MM1 from A alone, answered: a stall, not a probe. */
	feed(f, probe_mm1(A, B, 0x30), SEC);
	iks_result *alone = feed(f, MM2(B, A, 0x30, 0x31), SEC / 1000);
	/* A VID-less initiator that goes on is a negotiation. */
	feed(f, probe_mm1(A, B, 0x40), SEC);
	iks_result *goes_on = feed(f, MM2(B, A, 0x40, 0x41), SEC / 1000);
	feed(f, MM3(A, B, 0x40, 0x41), SEC / 1000);
	g_assert_cmpuint(iks_fsm_pattern(f->fsm, goes_on->tunnel), ==, 0);
	iks_fsm_finish(f->fsm);
	g_assert_cmpuint(mm2->stalled, ==, 0);
	g_assert_cmpstr(iks_failed_name(npc->failed), ==, "NO_PROPOSAL_CHOSEN");
	g_assert_cmpstr(iks_stalled_name(alone->stalled), ==, "MM_WAIT_MSG3");
	g_assert_cmpuint(iks_fsm_pattern(f->fsm, alone->tunnel), ==, 0);
	iks_tunnel_summary s;
	char v[64];
	g_assert_true(iks_fsm_summary(f->fsm, npc->tunnel, &s));
	iks_verdict vd = iks_summary_verdict(&s);
	g_assert_cmpstr(iks_verdict_text(v, sizeof v, &vd), ==, "PROBE, FAILED: NO_PROPOSAL_CHOSEN");
	g_assert_cmpuint(s.group_size, ==, 2);
	/* The same initiator to another responder: a scan. */
	feed(f, probe_mm1(C, responder(9), 0x50), SEC);
	g_assert_cmpstr(iks_pattern_name(iks_fsm_pattern(f->fsm, npc->tunnel)), ==, "scan");
}

/* Rule: expert items carry a hint's first clause; every clause fits a label with its prefix. */
static void test_hint_clauses(void)
{
	for (unsigned h = 1; h < IKS_H__COUNT; h++) {
		const char *t = iks_hint_text(h);
		g_assert_nonnull(t);
		size_t n = iks_hint_clause(t);
		g_assert_cmpuint(n, >, 10);
		g_assert_cmpuint(n, <, 100); /* "Stalled in MM_WAIT_MSG2 (at capture end, …): " + clause < 240 */
	}
	g_assert_cmpuint(iks_hint_clause(iks_hint_text(IKS_H_NO_MM2)), ==, strlen("No answer to MM1"));
}

/* One IKEv1 proposal (AES-CBC-128 key length attribute, SHA2-256, the group, PSK) as MM1 / MM2 carry it. */
static iks_wire v1_offer(uint32_t group)
{
	iks_wire w;
	memset(&w, 0, sizeof w);
	w.offer.version = 1;
	w.offer.n = 1;
	iks_proposal *p = &w.offer.p[0];
	p->x[p->n++] = (iks_xform){ 7, 128, IKS_X_ENCR };
	p->x[p->n++] = (iks_xform){ 4, 0, IKS_X_V1_HASH };
	p->x[p->n++] = (iks_xform){ group, 0, IKS_X_DH };
	p->x[p->n++] = (iks_xform){ 1, 0, IKS_X_V1_AUTH };
	p->x[p->n++] = (iks_xform){ 28800, 0, IKS_X_V1_LIFE_S };
	return w;
}

static iks_msg with_wire(iks_msg m, const iks_wire *w)
{
	m.wire = w;
	return m;
}

/* Rule: a phase-1 refusal is compared with what the same responder chose earlier in the capture (for
 * another peer here): the text names the items the refused offer lacks, not the lifetime. */
static void test_refusal_against_accepted(fx *f, gconstpointer d)
{
	(void)d;
	iks_wire ecp256 = v1_offer(19), modp2048 = v1_offer(14), other_life = v1_offer(19);
	other_life.offer.p[0].x[4].id = 3600;
	feed(f, with_wire(MM1(A, B, 1), &ecp256), 0);
	feed(f, with_wire(MM2(B, A, 1, 2), &ecp256), 1);
	feed(f, with_wire(MM1(C, B, 3), &modp2048), 1);
	iks_result *no = feed(f, INFO_CLEAR(B, C, 3, 0, IKS_N_NO_PROPOSAL_CHOSEN), 1);
	g_assert_cmpstr(iks_fsm_mismatch(f->fsm, no), ==,
			"offered AES-CBC-128/SHA2-256/MODP-2048/PSK lifetime 28800 s: the responder accepts none of it; "
			"it accepted AES-CBC-128/SHA2-256/ECP-256/PSK lifetime 28800 s from 192.0.2.1 (frame 2): "
			"the DH group differs (MODP-2048 offered, ECP-256 accepted)");
	/* Only the lifetime differs: nothing to name but the per-peer policy. */
	feed(f, with_wire(MM1(C, B, 4), &other_life), 1);
	no = feed(f, INFO_CLEAR(B, C, 4, 0, IKS_N_NO_PROPOSAL_CHOSEN), 1);
	g_assert_nonnull(strstr(iks_fsm_mismatch(f->fsm, no), ": the same items, so its policy for this peer differs"));
	/* Another responder's choice says nothing about this one. */
	feed(f, with_wire(MM1(B, C, 5), &modp2048), 1);
	no = feed(f, INFO_CLEAR(C, B, 5, 0, IKS_N_NO_PROPOSAL_CHOSEN), 1);
	g_assert_null(strstr(iks_fsm_mismatch(f->fsm, no), "it accepted"));
}

/* Rule: with no choice of its own in the capture, a refusal is compared with the proposals the
 * refusing side offered this peer when it initiated; a kind differs only when no item of it is
 * common (its offer lists two encryptions, one of them offered to it). What it offered another
 * peer is not looked for. */
static void test_refusal_against_own_offer(fx *f, gconstpointer d)
{
	(void)d;
	iks_wire own, refused;
	memset(&own, 0, sizeof own);
	own.offer.version = 2;
	own.offer.n = 1;
	iks_proposal *p = &own.offer.p[0];
	p->x[p->n++] = (iks_xform){ 3, 0, IKS_X_ENCR };
	p->x[p->n++] = (iks_xform){ 12, 256, IKS_X_ENCR };
	p->x[p->n++] = (iks_xform){ 12, 0, IKS_X_INTEG };
	p->x[p->n++] = (iks_xform){ 5, 0, IKS_X_PRF };
	p->x[p->n++] = (iks_xform){ 19, 0, IKS_X_DH };
	refused = own;
	p = &refused.offer.p[0];
	p->x[0] = (iks_xform){ 12, 256, IKS_X_ENCR };
	p->x[1] = (iks_xform){ 12, 0, IKS_X_INTEG };
	p->x[2] = (iks_xform){ 5, 0, IKS_X_PRF };
	p->x[3] = (iks_xform){ 14, 0, IKS_X_DH };
	p->n = 4;
	feed(f, with_wire(SA_INIT_REQ(C, A, 9), &own), 0); /* frame 1, never answered */
	feed(f, with_wire(SA_INIT_REQ(A, C, 1), &refused), 1);
	iks_result *no = feed(f, with_notify(SA_INIT_RESP(C, A, 1, 0), IKS_N_NO_PROPOSAL_CHOSEN), 1);
	g_assert_cmpstr(iks_fsm_mismatch(f->fsm, no), ==,
			"offered AES-CBC-256/HMAC-SHA2-256-128/PRF-HMAC-SHA2-256/MODP-2048: the responder accepts none of "
			"it; it offers 3DES|AES-CBC-256/HMAC-SHA2-256-128/PRF-HMAC-SHA2-256/ECP-256 itself (tunnel 1): the DH "
			"group differs (MODP-2048 offered, ECP-256 its own)");
	feed(f, with_wire(SA_INIT_REQ(B, C, 11), &own), 1);
	feed(f, with_wire(SA_INIT_REQ(A, B, 3), &refused), 1);
	no = feed(f, with_notify(SA_INIT_RESP(B, A, 3, 0), IKS_N_NO_PROPOSAL_CHOSEN), 1);
	g_assert_null(strstr(iks_fsm_mismatch(f->fsm, no), "itself"));
}

/* A child SA whose initiator's side is 10.<i>.0.0/24 and responder's 10.<r>.0.0/24. */
static iks_child child_nets(uint8_t i, uint8_t r)
{
	iks_child c;
	memset(&c, 0, sizeof c);
	c.offer.version = 2;
	c.has_ts = true;
	uint8_t net[2] = { i, r };
	for (unsigned side = 0; side < 2; side++) {
		iks_ts *ts = &c.ts[side][c.n_ts[side]++];
		ts->af = 4;
		ts->port_hi = 65535;
		memcpy(ts->lo, (const uint8_t[]){ 10, net[side], 0, 0 }, 4);
		memcpy(ts->hi, (const uint8_t[]){ 10, net[side], 0, 255 }, 4);
	}
	return c;
}

static iks_msg with_child(iks_msg m, const iks_child *c)
{
	m.child = c;
	return m;
}

/* Rule: refused selectors are compared with what the refusing side accepted from this peer, else
 * with what it asked this peer for itself, mirrored; what it accepted from another peer says
 * nothing about this one's selectors. */
static void test_selectors_mirrored(fx *f, gconstpointer d)
{
	(void)d;
	iks_child b_asks = child_nets(2, 1), c_asks = child_nets(7, 2), a_asks = child_nets(1, 3);
	feed(f, SA_INIT_REQ(B, A, 5), 0);
	feed(f, SA_INIT_RESP(A, B, 5, 6), 1);
	feed(f, with_child(AUTH_REQ(B, A, 5, 6), &b_asks), 1); /* frame 3, never answered */
	feed(f, SA_INIT_REQ(C, B, 7), 1);
	feed(f, SA_INIT_RESP(B, C, 7, 8), 1);
	feed(f, with_child(AUTH_REQ(C, B, 7, 8), &c_asks), 1);
	feed(f, with_child(AUTH_RESP(B, C, 7, 8), &c_asks), 1); /* B accepts C's */
	feed(f, SA_INIT_REQ(A, B, 1), 1);
	feed(f, SA_INIT_RESP(B, A, 1, 2), 1);
	iks_result *asked = feed(f, with_child(AUTH_REQ(A, B, 1, 2), &a_asks), 1);
	iks_result *no = feed(f, with_notify(AUTH_RESP(B, A, 1, 2), IKS_N_TS_UNACCEPTABLE), 1);
	g_assert_cmpstr(iks_fsm_mismatch(f->fsm, no), ==,
			"proposed 10.1.0.0/24 === 10.3.0.0/24 (frame 10): the peer accepts none of it; it asked for "
			"10.2.0.0/24 === 10.1.0.0/24 itself (frame 3), mirrored 10.1.0.0/24 === 10.2.0.0/24: the side of "
			"203.0.113.1 differs (10.3.0.0/24 proposed, 10.2.0.0/24 mirrored)");
	/* The request keeps its own copy for its fields. */
	const iks_child *shown = iks_fsm_child(f->fsm, asked);
	g_assert_nonnull(shown);
	g_assert_true(shown != &a_asks && iks_ts_eq(&shown->ts[1][0], &a_asks.ts[1][0]));
}

static void test_addr_text(void)
{
	char b[48];
	iks_addr v6 = { 16, { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, 500 };
	g_assert_cmpstr(iks_addr_text(&A, b, sizeof b), ==, "192.0.2.1");
	g_assert_cmpstr(iks_addr_text(&v6, b, sizeof b), ==, "2001:db8::1");
	iks_addr v6b = { 16, { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 }, 0 };
	g_assert_cmpstr(iks_addr_text(&v6b, b, sizeof b), ==, "2001:db8:0:1::1");
	iks_addr zero = { 16, { 0 }, 0 }, none = { 0, { 0 }, 0 };
	g_assert_cmpstr(iks_addr_text(&zero, b, sizeof b), ==, "::");
	g_assert_cmpstr(iks_addr_text(&none, b, sizeof b), ==, "?");
	iks_addr one = { 16, { 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0 }, 0 };
	g_assert_cmpstr(iks_addr_text(&one, b, sizeof b), ==, "1:0:2::3:0:0"); /* the first of two equal runs; one zero alone stays */
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	ADD("/verdicts/recovered", test_recovered);
	ADD("/verdicts/refused-quick-mode-not-stalled", test_refused_quick_mode_not_stalled);
	ADD("/verdicts/keys-differ", test_keys_differ);
	ADD("/verdicts/peer-alive", test_peer_alive);
	ADD("/verdicts/final-soon-only-without-proof", test_final_soon_only_without_proof);
	ADD("/verdicts/resends-only-when-seen", test_resends_only_when_seen);
	ADD("/verdicts/captured-at", test_captured_at);
	ADD("/verdicts/reflection", test_reflection);
	ADD("/verdicts/probes", test_probes);
	ADD("/verdicts/refusal-against-accepted", test_refusal_against_accepted);
	ADD("/verdicts/selectors-mirrored", test_selectors_mirrored);
	ADD("/verdicts/refusal-against-own-offer", test_refusal_against_own_offer);
	g_test_add_func("/verdicts/hint-clauses", test_hint_clauses);
	g_test_add_func("/verdicts/addr-text", test_addr_text);
	return g_test_run();
}
