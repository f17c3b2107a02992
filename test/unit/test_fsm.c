/* Unit tests of the state machine and the ISAKMP header parser (GLib g_test).
 * Each test names the rule of issue #2 §4 it guards. */
#include "ike_fsm.h"
#include "ike_frames.h"

#include <glib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#define BIT(t) (UINT64_C(1) << (t))
#define SEC INT64_C(1000000000)

/* Two peers: A (192.0.2.1) and B (203.0.113.1). */
static const iks_addr A = { 4, { 192, 0, 2, 1 }, 500 };
static const iks_addr B = { 4, { 203, 0, 113, 1 }, 500 };
static const iks_addr C = { 4, { 198, 51, 100, 7 }, 500 };

typedef struct {
	iks_fsm *fsm;
	uint32_t frame;
	int64_t now;
} fx;

static void fx_setup(fx *f, gconstpointer data)
{
	(void)data;
	f->fsm = iks_fsm_new(NULL);
	f->frame = 0;
	f->now = 1000 * SEC;
}

static void fx_teardown(fx *f, gconstpointer data)
{
	(void)data;
	iks_fsm_free(f->fsm);
}

/* A message from src to dst; content digest derived from what makes it distinct, plus salt. */
static iks_msg mk(iks_addr src, iks_addr dst, uint64_t ispi, uint64_t rspi, uint8_t exch, uint8_t flags,
		  uint32_t msgid, uint64_t payloads, uint32_t len, uint64_t salt)
{
	iks_msg m;
	memset(&m, 0, sizeof m);
	m.src = src;
	m.dst = dst;
	m.ispi = ispi;
	m.rspi = rspi;
	m.version = 1;
	m.exch = exch;
	m.flags = flags;
	m.msgid = msgid;
	m.payloads = payloads;
	m.length = len;
	m.digest = ispi * 31 + rspi * 7 + exch * 131 + flags * 17 + msgid * 3 + payloads + len + salt;
	return m;
}

static iks_result *feed(fx *f, iks_msg m, int64_t dt_ns)
{
	f->now += dt_ns;
	m.frame = ++f->frame;
	m.ts_ns = f->now;
	return iks_fsm_feed(f->fsm, &m);
}

#define MM1(s, d, i) mk(s, d, i, 0, IKS_EXCH_MAIN, 0, 0, BIT(IKS_PL_SA) | BIT(IKS_PL_VID), 200, 1)
#define MM2(s, d, i, r) mk(s, d, i, r, IKS_EXCH_MAIN, 0, 0, BIT(IKS_PL_SA) | BIT(IKS_PL_VID), 180, 2)
#define MM3(s, d, i, r) mk(s, d, i, r, IKS_EXCH_MAIN, 0, 0, BIT(IKS_PL_KE) | BIT(IKS_PL_NONCE) | BIT(IKS_PL_NATD), 300, 3)
#define MM4(s, d, i, r) mk(s, d, i, r, IKS_EXCH_MAIN, 0, 0, BIT(IKS_PL_KE) | BIT(IKS_PL_NONCE) | BIT(IKS_PL_NATD), 300, 4)
#define MM5(s, d, i, r) mk(s, d, i, r, IKS_EXCH_MAIN, IKS_FLAG_ENCRYPTED, 0, 0, 108, 5)
#define MM6(s, d, i, r) mk(s, d, i, r, IKS_EXCH_MAIN, IKS_FLAG_ENCRYPTED, 0, 0, 92, 6)
#define QM(s, d, i, r, mid, len, salt) mk(s, d, i, r, IKS_EXCH_QUICK, IKS_FLAG_ENCRYPTED, mid, 0, len, salt)

static void assert_labels(const iks_result *r, const char *msg, const char *role, const char *state,
			  const char *ios)
{
	g_assert_nonnull(r);
	g_assert_cmpstr(iks_msg_name(r->msg), ==, msg);
	g_assert_cmpstr(iks_role_name(r->role), ==, role);
	g_assert_cmpstr(iks_state_name(r->state), ==, state);
	g_assert_cmpstr(iks_ios_state_name(r->ios_state), ==, ios);
}

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
	assert_labels(feed(f, mk(B, A, 7, 8, IKS_EXCH_TRANSACTION, IKS_FLAG_ENCRYPTED, 0x5, 0, 80, 0), 1), "TXN",
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
	iks_result *m2b = feed(f, MM2(B, A, i, r), 1);
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
	g_assert_cmpstr(iks_msg_name(rp->msg), ==, "?");
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

/* ---------------------------------------------------------------------------------------------
 * IKEv2 (issue #8)
 */
#define V2I IKS_FLAG_V2_INITIATOR
#define V2R IKS_FLAG_V2_RESPONSE

/* An IKEv2 message; sk: first payload inside SK (0 = clear message, or an empty SK). */
static iks_msg mk2(iks_addr src, iks_addr dst, uint64_t ispi, uint64_t rspi, uint8_t exch, uint8_t flags,
		   uint32_t msgid, uint8_t sk, uint32_t len, uint64_t salt)
{
	uint64_t pl = exch == IKS_EXCH_IKE_SA_INIT ? BIT(IKS_PL2_SA) | BIT(IKS_PL2_KE) : BIT(IKS_PL2_SK);
	iks_msg m = mk(src, dst, ispi, rspi, exch, flags, msgid, pl, len, salt);
	m.version = 2;
	m.sk_first = sk;
	return m;
}

static iks_msg with_notify(iks_msg m, uint16_t type)
{
	m.notify[m.n_notify++] = type;
	m.digest += type;
	return m;
}

#define SA_INIT_REQ(s, d, i) mk2(s, d, i, 0, IKS_EXCH_IKE_SA_INIT, V2I, 0, 0, 300, 0)
#define SA_INIT_RESP(s, d, i, r) mk2(s, d, i, r, IKS_EXCH_IKE_SA_INIT, V2R, 0, 0, 300, 1)
#define AUTH_REQ(s, d, i, r) mk2(s, d, i, r, IKS_EXCH_IKE_AUTH, V2I, 1, 35, 240, 2)
#define AUTH_RESP(s, d, i, r) mk2(s, d, i, r, IKS_EXCH_IKE_AUTH, V2R, 1, IKS_PL2_IDR, 224, 3)

static void v2_to_auth_req(fx *f, iks_addr a, iks_addr b, uint64_t i, uint64_t r)
{
	feed(f, SA_INIT_REQ(a, b, i), 0);
	feed(f, SA_INIT_RESP(b, a, i, r), SEC / 100);
	feed(f, AUTH_REQ(a, b, i, r), SEC / 100);
}

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
	g_assert_cmpstr(iks_stalled_name(s.stalled), ==, "IN-NEG");
	g_assert_true(af->flags & IKS_R_FINAL);
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

/* ---------------------------------------------------------------------------------------------
 * Parser
 */
static size_t put_hdr(uint8_t *b, uint8_t np, uint8_t exch, uint8_t flags, uint32_t len)
{
	memset(b, 0, IKS_ISAKMP_HDR_LEN);
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(0xa0 + i);
	b[16] = np;
	b[17] = 0x10;
	b[18] = exch;
	b[19] = flags;
	b[24] = (uint8_t)(len >> 24);
	b[25] = (uint8_t)(len >> 16);
	b[26] = (uint8_t)(len >> 8);
	b[27] = (uint8_t)len;
	return IKS_ISAKMP_HDR_LEN;
}

static size_t put_pl(uint8_t *b, uint8_t next, uint16_t len)
{
	memset(b, 0, len);
	b[0] = next;
	b[2] = (uint8_t)(len >> 8);
	b[3] = (uint8_t)len;
	return len;
}

static void test_parse_payload_chain(void)
{
	uint8_t b[200];
	/* VID, then SA, then N(NO-PROPOSAL-CHOSEN): each payload header names the next one. */
	size_t o = put_hdr(b, IKS_PL_VID, IKS_EXCH_MAIN, 0, 28 + 16 + 20 + 40);
	o += put_pl(b + o, IKS_PL_SA, 16);
	o += put_pl(b + o, IKS_PL_NOTIFY, 20);
	o += put_pl(b + o, 0, 40);
	b[o - 40 + 11] = 14;
	iks_msg m;
	memset(&m, 0, sizeof m);
	g_assert_true(iks_parse(b, o, &m));
	g_assert_cmphex(m.ispi, ==, 0xa0a1a2a3a4a5a6a7ULL);
	g_assert_cmpuint(m.version, ==, 1);
	g_assert_cmpuint(m.exch, ==, IKS_EXCH_MAIN);
	g_assert_cmphex(m.payloads, ==, BIT(IKS_PL_VID) | BIT(IKS_PL_SA) | BIT(IKS_PL_NOTIFY));
	g_assert_cmpuint(m.n_notify, ==, 1);
	g_assert_cmpuint(m.notify[0], ==, 14);

	/* Same bytes -> same digest; one changed byte -> another digest. */
	iks_msg m2;
	g_assert_true(iks_parse(b, o, &m2));
	g_assert_cmphex(m.digest, ==, m2.digest);
	b[60] ^= 1;
	g_assert_true(iks_parse(b, o, &m2));
	g_assert_cmphex(m.digest, !=, m2.digest);
	/* The same high bit flipped in two consecutive 8-byte words must not cancel out. */
	b[60] ^= 1;
	b[31] ^= 0x80;
	b[39] ^= 0x80;
	g_assert_true(iks_parse(b, o, &m2));
	g_assert_cmphex(m.digest, !=, m2.digest);
}

/* IKEv2: clear notifies before SK; the SK payload's next-payload names the first encrypted
 * payload; SKF carries fragment number and total. */
static void test_parse_ikev2(void)
{
	uint8_t b[200];
	size_t o = put_hdr(b, IKS_PL2_NOTIFY, IKS_EXCH_IKE_AUTH, IKS_FLAG_V2_RESPONSE, 28 + 12 + 60);
	b[17] = 0x20;
	o += put_pl(b + o, IKS_PL2_SK, 12);
	b[o - 12 + 6] = 0x40; /* N(COOKIE) = 16390 */
	b[o - 12 + 7] = 0x06;
	o += put_pl(b + o, IKS_PL2_NOTIFY, 60);
	iks_msg m;
	memset(&m, 0, sizeof m);
	g_assert_true(iks_parse(b, o, &m));
	g_assert_cmpuint(m.version, ==, 2);
	g_assert_cmphex(m.payloads, ==, BIT(IKS_PL2_NOTIFY) | BIT(IKS_PL2_SK));
	g_assert_cmpuint(m.n_notify, ==, 1);
	g_assert_cmpuint(m.notify[0], ==, 16390);
	g_assert_cmpuint(m.sk_first, ==, IKS_PL2_NOTIFY);
	g_assert_cmpuint(m.frag_num, ==, 0);

	o = put_hdr(b, IKS_PL2_SKF, IKS_EXCH_IKE_AUTH, IKS_FLAG_V2_INITIATOR, 28 + 100);
	b[17] = 0x20;
	put_pl(b + o, IKS_PL2_IDR - 1, 100);
	b[o + 5] = 1;
	b[o + 7] = 3;
	g_assert_true(iks_parse(b, o + 100, &m));
	g_assert_cmphex(m.payloads, ==, BIT(IKS_PL2_SKF));
	g_assert_cmpuint(m.sk_first, ==, IKS_PL2_IDR - 1);
	g_assert_cmpuint(m.frag_num, ==, 1);
	g_assert_cmpuint(m.frag_total, ==, 3);
}

static void test_parse_hostile(void)
{
	uint8_t b[128];
	iks_msg m;
	/* Runt. */
	memset(b, 0, sizeof b);
	g_assert_false(iks_parse(b, 27, &m));
	/* Payload length past the end, zero payload length, self-loop of next payload. */
	size_t o = put_hdr(b, IKS_PL_SA, IKS_EXCH_MAIN, 0, 100);
	put_pl(b + o, IKS_PL_KE, 90);
	g_assert_true(iks_parse(b, 60, &m)); /* truncated capture */
	g_assert_cmphex(m.payloads, ==, 0);
	put_pl(b + o, IKS_PL_KE, 0);
	g_assert_true(iks_parse(b, 100, &m));
	g_assert_cmphex(m.payloads, ==, 0);
	for (size_t p = o; p + 4 <= 100; p += 4)
		put_pl(b + p, IKS_PL_SA, 4);
	g_assert_true(iks_parse(b, 100, &m));
	g_assert_cmphex(m.payloads, ==, BIT(IKS_PL_SA));
	/* Header length smaller than the header itself: still parsed, digest over what is there. */
	put_hdr(b, 0, IKS_EXCH_MAIN, 0, 3);
	g_assert_true(iks_parse(b, 40, &m));
	/* Encrypted: the payload chain is ciphertext and is not walked. */
	o = put_hdr(b, IKS_PL_SA, IKS_EXCH_MAIN, IKS_FLAG_ENCRYPTED, 60);
	put_pl(b + o, 0, 32);
	g_assert_true(iks_parse(b, 60, &m));
	g_assert_cmphex(m.payloads, ==, 0);
	/* Random garbage never crashes. */
	GRand *rnd = g_rand_new_with_seed(7);
	for (int n = 0; n < 20000; n++) {
		size_t len = (size_t)g_rand_int_range(rnd, 0, sizeof b);
		for (size_t i = 0; i < len; i++)
			b[i] = (uint8_t)g_rand_int(rnd);
		iks_parse(b, len, &m);
	}
	g_rand_free(rnd);
}

/* Random message sequences through the machine: no crash, tunnels numbered 1..n. */
static void test_fsm_random_sequences(void)
{
	iks_fsm *fsm = iks_fsm_new(NULL);
	GRand *rnd = g_rand_new_with_seed(11);
	const iks_addr peers[3] = { A, B, C };
	for (uint32_t n = 1; n <= 50000; n++) {
		iks_msg m;
		memset(&m, 0, sizeof m);
		m.frame = n;
		m.ts_ns = (int64_t)n * 1000;
		m.src = peers[g_rand_int_range(rnd, 0, 3)];
		m.dst = peers[g_rand_int_range(rnd, 0, 3)];
		m.ispi = (uint64_t)g_rand_int_range(rnd, 0, 40);
		m.rspi = g_rand_boolean(rnd) ? 0 : (uint64_t)g_rand_int_range(rnd, 0, 4);
		m.version = (uint8_t)g_rand_int_range(rnd, 0, 4);
		const uint8_t ex[] = { 2, 4, 5, 6, 32, 33, 34, 35, 36, 37, 43, 99 };
		m.exch = ex[g_rand_int_range(rnd, 0, G_N_ELEMENTS(ex))];
		m.flags = (uint8_t)g_rand_int_range(rnd, 0, 256);
		m.msgid = (uint32_t)g_rand_int_range(rnd, 0, 4);
		m.payloads = g_rand_int(rnd);
		m.length = (uint32_t)g_rand_int_range(rnd, 0, 400);
		m.digest = (uint64_t)g_rand_int_range(rnd, 0, 8);
		m.sk_first = (uint8_t)g_rand_int_range(rnd, 0, 64);
		m.frag_num = (uint16_t)g_rand_int_range(rnd, 0, 40);
		m.frag_total = (uint16_t)g_rand_int_range(rnd, 0, 4);
		m.n_notify = (uint8_t)g_rand_int_range(rnd, 0, 2);
		m.notify[0] = (uint16_t)g_rand_int_range(rnd, 0, 50);
		iks_result *r = iks_fsm_feed(fsm, &m);
		if (r) {
			g_assert_cmpuint(r->tunnel, >=, 1);
			g_assert_cmpuint(r->tunnel, <=, iks_fsm_tunnel_count(fsm));
			g_assert_cmpuint(r->msg, <, IKS_M__COUNT);
			g_assert_cmpuint(r->state, <, IKS_S__COUNT);
			g_assert_cmpuint(r->hint, <, IKS_H__COUNT);
		}
		if (n % 5000 == 0)
			iks_fsm_finish(fsm);
	}
	for (uint32_t i = 1; i <= iks_fsm_tunnel_count(fsm); i++) {
		iks_tunnel_summary s;
		g_assert_true(iks_fsm_summary(fsm, i, &s));
		g_assert_cmpuint(s.state, <, IKS_S__COUNT);
	}
	g_rand_free(rnd);
	iks_fsm_free(fsm);
}

/* ---------------------------------------------------------------------------------------------
 * Diagnosis (issue #4)
 */
#define INFO_CLEAR(s, d, i, r, type) info_msg(s, d, i, r, 0, 0, type)
#define INFO_ENC(s, d, i, r, mid) info_msg(s, d, i, r, IKS_FLAG_ENCRYPTED, mid, 0)

static iks_msg info_msg(iks_addr s, iks_addr d, uint64_t i, uint64_t r, uint8_t flags, uint32_t mid, uint16_t type)
{
	iks_msg m = mk(s, d, i, r, IKS_EXCH_INFO, flags, mid, type ? BIT(IKS_PL_NOTIFY) : 0, 92, mid + type);
	if (type) {
		m.notify[0] = type;
		m.n_notify = 1;
	}
	return m;
}

static void main_mode_to_mm4(fx *f, iks_addr a, iks_addr b, uint64_t i, uint64_t r)
{
	feed(f, MM1(a, b, i), 0);
	feed(f, MM2(b, a, i, r), SEC / 100);
	feed(f, MM3(a, b, i, r), SEC / 100);
	feed(f, MM4(b, a, i, r), SEC / 100);
}

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
	feed(f, QM(C, B, 5, 6, 0x33, 300, 0), 1);
	iks_result *q = feed(f, QM(C, B, 5, 6, 0x33, 300, 0), 1);
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
	iks_config cfg = { 0, 0 };
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
	/* The initiator's later resends stall with the refusal's hint, not "no answer". */
	feed(f, MM1(A, B, 1), SEC);
	iks_result *s = feed(f, MM1(A, B, 1), SEC);
	g_assert_cmpstr(iks_stalled_name(s->stalled), ==, "MM_WAIT_MSG2");
	g_assert_cmpuint(s->hint, ==, IKS_H_P1_NO_PROPOSAL);
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
	feed(f, MM1(A, B, 0x77), SEC);
	g_assert_cmpuint(feed(f, MM1(A, B, 0x77), SEC)->hint, ==, IKS_H_NO_MM2_ICMP);
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

/* Rule (issue #9): a new IKE SA between the same peers while the previous one is up is its rekey;
 * after an incomplete or refused one it is a new attempt only. */
static void test_rekey_of(fx *f, gconstpointer d)
{
	(void)d;
	feed(f, MM1(A, B, 1), 0);
	iks_result *r = feed(f, MM1(A, B, 2), 40 * SEC); /* first attempt never answered */
	g_assert_cmpuint(iks_fsm_rekey_of(f->fsm, r->tunnel), ==, 0);
	feed(f, MM2(B, A, 2, 3), 1);
	feed(f, MM3(A, B, 2, 3), 1);
	feed(f, MM4(B, A, 2, 3), 1);
	feed(f, MM5(A, B, 2, 3), 1);
	feed(f, MM6(B, A, 2, 3), 1);
	iks_result *rk = feed(f, MM1(B, A, 7), 3600 * SEC); /* either side may rekey */
	g_assert_cmpuint(rk->tunnel, ==, 3);
	g_assert_cmpuint(iks_fsm_rekey_of(f->fsm, 3), ==, 2);
	g_assert_cmpuint(iks_fsm_rekey_of(f->fsm, 2), ==, 0);
	g_assert_cmpuint(iks_fsm_rekey_of(f->fsm, 99), ==, 0);
	/* Another pair of peers: no rekey of anything. */
	g_assert_cmpuint(iks_fsm_rekey_of(f->fsm, feed(f, MM1(C, B, 8), 1)->tunnel), ==, 0);
}

/* ---------------------------------------------------------------------------------------------
 * Lifecycle and ESP data plane (issue #9)
 */
static const iks_esp_sa *iks_esp_fed(fx *f, iks_addr src, iks_addr dst, uint32_t spi)
{
	f->now += SEC / 10;
	return iks_fsm_esp(f->fsm, ++f->frame, f->now, &src, &dst, spi, 100, false);
}

static void main_mode_done(fx *f, iks_addr a, iks_addr b, uint64_t i, uint64_t r)
{
	main_mode_to_mm4(f, a, b, i, r);
	feed(f, MM5(a, b, i, r), SEC / 100);
	feed(f, MM6(b, a, i, r), SEC / 100);
}

/* Rule: a Delete of the IKE SA (clear, or marked by the glue when decrypted) moves both sides to
 * DELETED from that message on; the summary says so. A Delete of an ESP SA changes nothing. */
static void test_delete_seen(fx *f, gconstpointer d)
{
	(void)d;
	main_mode_done(f, A, B, 1, 2);
	iks_result *esp_del = feed(f, mk(A, B, 1, 2, IKS_EXCH_INFO, IKS_FLAG_ENCRYPTED, 0x10, 0, 76, 0), SEC);
	g_assert_cmpstr(iks_state_name(esp_del->state), ==, "MM_ACTIVE");
	iks_result *del = feed(f, mk(A, B, 1, 2, IKS_EXCH_INFO, IKS_FLAG_ENCRYPTED, 0x11, BIT(IKS_PL_DELETE), 92, 0), 1);
	g_assert_cmpstr(iks_state_name(del->state), ==, "DELETED");
	g_assert_true(del->flags & IKS_R_DELETED);
	iks_result *after = feed(f, mk(B, A, 1, 2, IKS_EXCH_INFO, IKS_FLAG_ENCRYPTED, 0x12, 0, 92, 0), 1);
	g_assert_cmpstr(iks_state_name(after->state), ==, "DELETED");
	g_assert_false(after->flags & IKS_R_DELETED); /* only the deleting message carries the flag */
	iks_fsm_finish(f->fsm);
	iks_tunnel_summary s;
	g_assert_true(iks_fsm_summary(f->fsm, 1, &s));
	g_assert_true(s.deleted);
	g_assert_cmpstr(iks_state_name(s.state), ==, "DELETED");
}

/* Rule: without keys, an IKE SA that ends with unanswered encrypted Informationals from one side,
 * followed by a new IKE SA between the peers or by a stall timeout of silence, was deleted; not
 * when the capture ends right after, when the last Informational answers the peer's (DPD ACK),
 * nor when the tunnel's ESP goes on. Several at once are Deletes, not a dead peer. */
static void test_delete_inferred(fx *f, gconstpointer d)
{
	(void)d;
	iks_addr D = { 4, { 198, 51, 100, 30 }, 500 }, E = { 4, { 198, 51, 100, 31 }, 500 };
	/* 1: three Deletes in the same millisecond, then a new main mode. */
	main_mode_done(f, A, B, 1, 2);
	iks_result *last = NULL;
	for (uint32_t k = 0; k < 3; k++)
		last = feed(f, INFO_ENC(A, B, 1, 2, 0x500 + k), SEC / 10000);
	g_assert_cmpuint(last->failed, ==, 0);
	feed(f, MM1(A, B, 3), SEC);
	/* 2: R-U-THERE then its ACK, capture goes on for a long time. */
	main_mode_done(f, C, B, 5, 6);
	feed(f, INFO_ENC(C, B, 5, 6, 0x600), 10 * SEC);
	iks_result *ack = feed(f, INFO_ENC(B, C, 5, 6, 0x601), SEC / 100);
	/* 3: one Informational, then 40 s of silence (another pair's packet ends the capture). */
	main_mode_done(f, D, B, 7, 8);
	iks_result *del = feed(f, INFO_ENC(D, B, 7, 8, 0x700), SEC);
	/* 4: one Informational, but its ESP goes on. */
	main_mode_done(f, E, B, 9, 10);
	iks_result *not_del = feed(f, INFO_ENC(E, B, 9, 10, 0x800), SEC);
	f->now += 5 * SEC;
	iks_fsm_esp(f->fsm, ++f->frame, f->now, &E, &B, 0x1234, 100, false);
	f->now += 40 * SEC;
	iks_result *end = feed(f, MM1(C, A, 11), 0);
	iks_fsm_finish(f->fsm);
	g_assert_true(last->flags & IKS_R_DELETED);
	g_assert_true(last->flags & IKS_R_FINAL);
	g_assert_cmpstr(iks_state_name(last->state), ==, "DELETED");
	g_assert_cmpuint(last->hint, ==, IKS_H_DELETE_INFERRED);
	g_assert_false(ack->flags & IKS_R_DELETED);
	g_assert_true(del->flags & IKS_R_DELETED);
	g_assert_false(not_del->flags & IKS_R_DELETED);
	iks_tunnel_summary s;
	g_assert_true(iks_fsm_summary(f->fsm, del->tunnel, &s));
	g_assert_true(s.deleted);
	g_assert_cmpstr(iks_state_name(s.state), ==, "DELETED");
	g_assert_true(iks_fsm_summary(f->fsm, ack->tunnel, &s));
	g_assert_false(s.deleted);
	/* Live capture: the ESP-linked tunnel speaks again; the previous verdicts are undone first. */
	g_assert_cmpuint(end->tunnel, >, 0);
	feed(f, INFO_ENC(B, D, 7, 8, 0x701), SEC);
	iks_fsm_finish(f->fsm);
	g_assert_false(del->flags & IKS_R_DELETED);
	g_assert_cmpstr(iks_state_name(del->state), ==, "MM_ACTIVE");
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

/* Rule: iks_parse keeps the Delete bit only for a Delete of the ISAKMP SA (protocol 1). */
static void test_parse_delete_protocol(void)
{
	for (uint8_t proto = 1; proto <= 3; proto += 2) {
		uint8_t b[28 + 16] = { 0 };
		b[0] = 1;                   /* initiator cookie */
		b[16] = IKS_PL_DELETE;      /* first payload */
		b[17] = 0x10;               /* version 1.0 */
		b[18] = IKS_EXCH_INFO;
		b[27] = sizeof b;           /* length */
		b[28 + 3] = 16;             /* payload length */
		b[28 + 7] = 1;              /* DOI IPsec */
		b[28 + 8] = proto;          /* protocol */
		b[28 + 9] = 4;              /* SPI size */
		b[28 + 11] = 1;             /* one SPI */
		iks_msg m;
		memset(&m, 0, sizeof m);
		g_assert_true(iks_parse(b, sizeof b, &m));
		g_assert_cmpuint(!!(m.payloads & BIT(IKS_PL_DELETE)), ==, proto == 1);
	}
}

/* Rule: ESP is counted per SA (addresses without ports, SPI) and linked to the IKE SA up between
 * its addresses at its first packet, with the sender's role; spi 0 counts NAT-T keepalives. */
static void test_esp_counting_and_link(fx *f, gconstpointer d)
{
	(void)d;
	iks_addr a4500 = A, b4500 = B;
	a4500.port = b4500.port = 4500;
	main_mode_done(f, A, B, 1, 2);
	feed(f, MM1(A, B, 3), SEC); /* a re-negotiation that never completes */
	const iks_esp_sa *x = iks_fsm_esp(f->fsm, ++f->frame, f->now, &a4500, &b4500, 0xc001, 120, true);
	const iks_esp_sa *y = iks_fsm_esp(f->fsm, ++f->frame, f->now, &A, &B, 0xc001, 100, true);
	g_assert_true(x == y);
	g_assert_cmpuint(x->packets, ==, 2);
	g_assert_cmpuint(x->bytes, ==, 220);
	g_assert_cmpuint(x->tunnel, ==, 1); /* the IKE SA up, not the failing newer one */
	g_assert_cmpstr(iks_role_name(x->role), ==, "initiator");
	const iks_esp_sa *back = iks_fsm_esp(f->fsm, ++f->frame, f->now, &B, &A, 0xc002, 100, true);
	g_assert_cmpstr(iks_role_name(back->role), ==, "responder");
	iks_fsm_esp(f->fsm, ++f->frame, f->now, &A, &B, 0, 1, true);
	g_assert_true(iks_fsm_esp_sa(f->fsm, &A, &b4500, 0xc001) == x);
	g_assert_null(iks_fsm_esp_sa(f->fsm, &A, &B, 0xdead));
	/* No IKE SA between these two: tunnel 0, still counted. */
	g_assert_cmpuint(iks_fsm_esp(f->fsm, ++f->frame, f->now, &C, &B, 0x77, 100, false)->tunnel, ==, 0);
	iks_fsm_finish(f->fsm);
	iks_tunnel_summary s;
	g_assert_true(iks_fsm_summary(f->fsm, 1, &s));
	g_assert_cmpuint(s.esp_out, ==, 2);
	g_assert_cmpuint(s.esp_in, ==, 1);
	g_assert_cmpuint(s.keepalives, ==, 1);
	g_assert_cmpuint(s.esp_one_way, ==, 0);
}

/* Rule: an SA with IKS_ESP_ONE_WAY_MIN packets or more and no ESP at all coming back is one-way;
 * fewer packets give no verdict; ESP coming back later (live capture) withdraws it. */
static void test_esp_one_way(fx *f, gconstpointer d)
{
	(void)d;
	main_mode_done(f, A, B, 1, 2);
	const iks_esp_sa *sa = NULL;
	for (uint32_t k = 0; k < IKS_ESP_ONE_WAY_MIN; k++)
		sa = iks_esp_fed(f, A, B, 0xc001);
	const iks_esp_sa *few = NULL;
	for (uint32_t k = 0; k + 1 < IKS_ESP_ONE_WAY_MIN; k++)
		few = iks_esp_fed(f, C, B, 0xc003);
	iks_fsm_finish(f->fsm);
	g_assert_true(sa->one_way);
	g_assert_false(few->one_way);
	iks_tunnel_summary s;
	g_assert_true(iks_fsm_summary(f->fsm, 1, &s));
	g_assert_cmpuint(s.esp_one_way, ==, 1);
	g_assert_cmpuint(s.hint, ==, IKS_H_ESP_ONE_WAY);
	iks_esp_fed(f, B, A, 0xc002);
	iks_fsm_finish(f->fsm);
	g_assert_false(sa->one_way);
	g_assert_true(iks_fsm_summary(f->fsm, 1, &s));
	g_assert_cmpuint(s.esp_one_way, ==, 0);
}

/* Rule: an SPI announced in a decrypted message links its ESP to that message's IKE SA, even when
 * a newer IKE SA is up between the same peers; the address fallback would pick the newer one. */
static void test_esp_link_by_spi(fx *f, gconstpointer d)
{
	(void)d;
	main_mode_done(f, A, B, 1, 2);
	iks_msg qm1 = QM(A, B, 1, 2, 0x77, 300, 0);
	qm1.spi[0] = 0xaaaa0001;
	qm1.n_spi = 1;
	g_assert_cmpuint(feed(f, qm1, SEC)->tunnel, ==, 1);
	uint32_t qm1_frame = f->frame;
	main_mode_done(f, A, B, 3, 4);
	const iks_esp_sa *to_a = iks_esp_fed(f, B, A, 0xaaaa0001);
	g_assert_cmpuint(to_a->tunnel, ==, 1);
	g_assert_cmpuint(to_a->negotiated_in, ==, qm1_frame);
	g_assert_cmpstr(iks_role_name(to_a->role), ==, "responder");
	const iks_esp_sa *to_b = iks_esp_fed(f, A, B, 0xbbbb0001);
	g_assert_cmpuint(to_b->tunnel, ==, 2);
	g_assert_cmpuint(to_b->negotiated_in, ==, 0);
}

/* ---------------------------------------------------------------------------------------------
 * Memory (issue #6: at most 512 bytes of state per tunnel)
 */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IKS_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define IKS_ASAN 1
#endif
/* glibc's heap statistics; ASan's allocator bypasses them. */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33) && !defined(IKS_ASAN)
#define HEAP_STATS 1
#endif

#ifdef HEAP_STATS
/* Tunnel i between its own pair of addresses: each one also costs an entry of the pair table. */
static iks_addr addr_of(uint32_t i)
{
	iks_addr a = { 4, { 10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i }, 500 };
	return a;
}

/* The typical IKEv1 tunnel: main mode, then one quick mode. */
static void tunnel_mm_qm(fx *f, uint32_t i)
{
	iks_addr a = addr_of(i);
	uint64_t ic = 0x100000000 + i, rc = 0x200000000 + i;
	main_mode_done(f, a, B, ic, rc);
	feed(f, QM(a, B, ic, rc, 0x1000 + i, 300, 0), SEC);
	feed(f, QM(B, a, ic, rc, 0x1000 + i, 300, 1), SEC / 100);
	feed(f, QM(a, B, ic, rc, 0x1000 + i, 60, 2), SEC / 100);
}

/* A half-open tunnel: one MM1 with fresh cookies (a cookie flood). */
static void tunnel_mm1(fx *f, uint32_t i)
{
	feed(f, MM1(addr_of(i), B, 0x100000000 + i), SEC / 100);
}

/* IKEv2: IKE_SA_INIT and IKE_AUTH, request and response. */
static void tunnel_v2(fx *f, uint32_t i)
{
	iks_addr a = addr_of(i);
	uint64_t ic = 0x100000000 + i, rc = 0x200000000 + i;
	v2_to_auth_req(f, a, B, ic, rc);
	feed(f, AUTH_RESP(B, a, ic, rc), SEC / 100);
}

static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd; /* heap chunks, and mmapped ones (large hash-table arrays) */
}

/* Heap bytes per tunnel, the per-message results (accounted apart) left out. */
static double heap_per_tunnel(void (*one)(fx *, uint32_t), uint32_t n)
{
	fx f;
	fx_setup(&f, NULL);
	size_t before = heap_in_use();
	for (uint32_t i = 0; i < n; i++)
		one(&f, i);
	double used = (double)heap_in_use() - (double)before - (double)f.frame * sizeof(iks_result);
	g_assert_cmpuint(iks_fsm_tunnel_count(f.fsm), ==, n);
	fx_teardown(&f, NULL);
	return used / n;
}
#endif

/* Rule: a tunnel's state (tables, hash-table slots and allocator overhead included) is at most 512
 * bytes: the typical IKEv1 tunnel, a half-open one and an IKEv2 one. */
static void test_memory_per_tunnel(void)
{
#ifdef HEAP_STATS
	const uint32_t n = 20000;
	double mm_qm = heap_per_tunnel(tunnel_mm_qm, n), mm1 = heap_per_tunnel(tunnel_mm1, n),
	       v2 = heap_per_tunnel(tunnel_v2, n);
	g_test_message("bytes per tunnel (%u tunnels): MM+QM %.1f, MM1 only %.1f, IKEv2 SA_INIT+AUTH %.1f", n, mm_qm,
		       mm1, v2);
	g_assert_cmpfloat(mm_qm, <=, 512);
	g_assert_cmpfloat(mm1, <=, 512);
	g_assert_cmpfloat(v2, <=, 512);
#else
	g_test_skip("needs glibc's mallinfo2() and its allocator (no AddressSanitizer)");
#endif
}

/* Rule: the frame index gives back each frame's items in order, nothing for other frames, across
 * block boundaries; frames out of capture order (and frame 0) are refused, not misfiled. */
static void test_frame_index(void)
{
	iks_frames *x = iks_frames_new();
	static int items[10000];
	g_assert_false(iks_frames_add(x, 0, &items[0]));
	g_assert_true(iks_frames_add(x, 3, &items[1]));
	g_assert_true(iks_frames_add(x, 3, &items[2]));
	for (uint32_t f = 10; f < 9000; f++)
		g_assert_true(iks_frames_add(x, f * 3, &items[f]));
	g_assert_true(iks_frames_add(x, 5000000, &items[9999]));
	g_assert_false(iks_frames_add(x, 4, &items[3])); /* before the last one added */
	g_assert_true(iks_frames_get(x, 3, 0) == &items[1]);
	g_assert_true(iks_frames_get(x, 3, 1) == &items[2]);
	g_assert_null(iks_frames_get(x, 3, 2));
	g_assert_null(iks_frames_get(x, 4, 0));
	g_assert_null(iks_frames_get(x, 31, 0));
	for (uint32_t f = 10; f < 9000; f++) {
		g_assert_true(iks_frames_get(x, f * 3, 0) == &items[f]);
		g_assert_null(iks_frames_get(x, f * 3, 1));
		g_assert_null(iks_frames_get(x, f * 3 + 1, 0));
	}
	for (uint32_t f = 8999; f >= 10; f -= 7) /* backwards and in jumps: GUI random access */
		g_assert_true(iks_frames_get(x, f * 3, 0) == &items[f]);
	g_assert_true(iks_frames_get(x, 3, 1) == &items[2]);
	g_assert_true(iks_frames_get(x, 5000000, 0) == &items[9999]);
	g_assert_null(iks_frames_get(x, 4999999, 0));
	g_assert_null(iks_frames_get(x, UINT32_MAX, 0));
	iks_frames_free(x);
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

#define ADD(name, fn) g_test_add(name, fx, NULL, fx_setup, fn, fx_teardown)

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	ADD("/fsm/main-mode-labels", test_main_mode_labels);
	ADD("/fsm/position-from-payload-set", test_position_from_payload_set);
	ADD("/fsm/aggressive", test_aggressive);
	ADD("/fsm/initiator-from-zero-rspi", test_initiator_from_zero_rspi);
	ADD("/fsm/retransmissions", test_retransmissions);
	ADD("/fsm/interleaved", test_interleaved);
	ADD("/fsm/fresh-cookies-new-tunnel", test_fresh_cookies_new_tunnel);
	ADD("/fsm/natt-float", test_natt_float);
	ADD("/fsm/rekey-of", test_rekey_of);
	ADD("/fsm/mid-negotiation", test_mid_negotiation);
	ADD("/fsm/out-of-order", test_out_of_order);
	ADD("/fsm/commit-bit", test_commit_bit);
	ADD("/fsm/several-in-one-frame", test_several_in_one_frame);
	ADD("/fsm/response-links", test_response_links);
	ADD("/fsm/ikev2-labels", test_ikev2_labels);
	ADD("/fsm/ikev2-responder-delete", test_ikev2_responder_delete);
	ADD("/fsm/ikev2-cookie-retry", test_ikev2_cookie_retry);
	ADD("/fsm/ikev2-retransmission", test_ikev2_retransmission);
	ADD("/diag/ikev2-auth-unanswered", test_ikev2_auth_unanswered);
	ADD("/diag/ikev2-refusals", test_ikev2_refusals);
	ADD("/diag/ikev2-mixed", test_ikev2_mixed);
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
	ADD("/lifecycle/delete-seen", test_delete_seen);
	ADD("/lifecycle/delete-inferred", test_delete_inferred);
	ADD("/esp/counting-and-link", test_esp_counting_and_link);
	ADD("/esp/one-way", test_esp_one_way);
	ADD("/esp/link-by-spi", test_esp_link_by_spi);
	g_test_add_func("/mem/per-tunnel", test_memory_per_tunnel);
	g_test_add_func("/parse/delete-protocol", test_parse_delete_protocol);
	g_test_add_func("/frames/index", test_frame_index);
	g_test_add_func("/parse/payload-chain", test_parse_payload_chain);
	g_test_add_func("/parse/ikev2", test_parse_ikev2);
	g_test_add_func("/parse/hostile", test_parse_hostile);
	g_test_add_func("/fsm/random-sequences", test_fsm_random_sequences);
	return g_test_run();
}
