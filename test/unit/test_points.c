/* Two capture points (issue #20, GLib g_test): the same transmission seen at two points (both
 * sides of a NAT, merged captures whose clocks differ), resends seen at both, capture duplicates
 * at one point, and the messages a point never saw. */
#include "helpers.h"

static bool same_addr(const iks_addr *a, const iks_addr *b)
{
	return a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
}

/* The NAT's outside address: the initiator A is seen as NAT_A:4321 outside. */
static const iks_addr NAT_A = { 4, { 198, 51, 100, 1 }, 4321 };

static iks_msg at(iks_msg m, uint16_t point)
{
	m.point = point;
	return m;
}

/* NAT rewrites the initiator's address and port; the ISAKMP bytes (digest) stay. */
static iks_msg outside(iks_msg m)
{
	if (same_addr(&m.src, &A))
		m.src = NAT_A;
	if (same_addr(&m.dst, &A))
		m.dst = NAT_A;
	return at(m, 1);
}

/* MM1 seen inside then outside, MM2 outside then inside: both points saw the tunnel. */
static void mm1_mm2_at_both_points(fx *f)
{
	feed(f, MM1(A, B, 1), 0);
	feed(f, outside(MM1(A, B, 1)), SEC / 10000);
	feed(f, outside(MM2(B, A, 1, 2)), SEC / 100);
	feed(f, MM2(B, A, 1, 2), SEC / 10000);
}

static void assert_copy_of(const iks_result *copy, const iks_result *orig, uint32_t frame)
{
	g_assert_true(copy->flags & IKS_R_COPY);
	g_assert_false(copy->flags & IKS_R_DUPLICATE);
	g_assert_cmpuint(copy->copy_of, ==, frame);
	g_assert_cmpuint(copy->tunnel, ==, orig->tunnel);
	g_assert_cmpuint(copy->msg, ==, orig->msg);
	g_assert_cmpuint(copy->role, ==, orig->role);
	g_assert_cmpuint(copy->state, ==, orig->state);
	g_assert_cmpuint(copy->retrans, ==, orig->retrans);
}

/* Rule: every message of a main mode seen inside the NAT and then outside (other address and
 * port) is one transmission: the outside sighting takes the inside one's labels and advances
 * nothing; one tunnel. */
static void test_copy_across_nat(fx *f, gconstpointer d)
{
	(void)d;
	iks_msg mm[6] = { MM1(A, B, 1), MM2(B, A, 1, 2), MM3(A, B, 1, 2),
			  MM4(B, A, 1, 2), MM5(A, B, 1, 2), MM6(B, A, 1, 2) };
	for (unsigned i = 0; i < 6; i++) {
		/* The initiator's messages pass inside first, the responder's outside first. */
		bool from_inside = i % 2 == 0;
		iks_msg first = from_inside ? mm[i] : outside(mm[i]);
		iks_msg second = from_inside ? outside(mm[i]) : mm[i];
		iks_result *o = feed(f, first, SEC / 100);
		iks_result *c = feed(f, second, SEC / 10000);
		g_assert_false(o->flags & IKS_R_COPY);
		g_assert_cmpuint(o->retrans, ==, 0);
		assert_copy_of(c, o, f->frame - 1);
		g_assert_cmpint(c->span.transit_ns, ==, SEC / 10000);
	}
	g_assert_cmpuint(iks_fsm_tunnel_count(f->fsm), ==, 1);
	/* The machine moved on with the transmissions only: a quick mode comes next. */
	iks_result *q = feed(f, QM(A, B, 1, 2, 0x77, 300, 0), SEC / 100);
	g_assert_cmpstr(iks_msg_name(q->msg), ==, "QM1");
	g_assert_cmpstr(iks_role_name(q->role), ==, "initiator");
	/* The summary keeps the tunnel's own point's addresses, not the NAT's. */
	iks_fsm_finish(f->fsm);
	iks_tunnel_summary s;
	g_assert_true(iks_fsm_summary(f->fsm, 1, &s));
	g_assert_true(same_addr(&s.initiator, &A));
	g_assert_cmpuint(s.retrans, ==, 0);
}

/* Rule: a message seen only at the other point (lost before the first) is a transmission; its
 * sender comes from where earlier copies showed each side to be there, not from its addresses. */
static void test_direction_at_other_point(fx *f, gconstpointer d)
{
	(void)d;
	mm1_mm2_at_both_points(f);
	/* MM3 seen outside only: NAT_A -> B, and NAT_A is not the tunnel's first sender's address. */
	iks_result *m3 = feed(f, outside(MM3(A, B, 1, 2)), SEC / 100);
	assert_labels(m3, "MM3", "initiator", "MM_WAIT_MSG4", "MM_SA_SETUP");
	g_assert_false(m3->flags & IKS_R_COPY);
	iks_result *m4 = feed(f, outside(MM4(B, A, 1, 2)), SEC / 100);
	assert_labels(m4, "MM4", "responder", "MM_WAIT_MSG5", "MM_KEY_EXCH");
	iks_fsm_finish(f->fsm);
	g_assert_cmpuint(iks_fsm_missing_at(f->fsm, m3), ==, 1); /* point 0 saw MM1, MM2 */
	g_assert_true(m3->flags & IKS_R_MISSING);
}

/* Rule: clocks of two machines differ: a copy may come first in file order, before or after the
 * original's time. The first in file order is the transmission, the other its copy. */
static void test_copy_before_original(fx *f, gconstpointer d)
{
	(void)d;
	iks_result *o = feed(f, outside(MM1(A, B, 1)), 0);
	iks_result *c = feed(f, MM1(A, B, 1), SEC * 4 / 10); /* inside clock 0.4 s ahead */
	assert_copy_of(c, o, 1);
	g_assert_cmpint(c->span.transit_ns, ==, SEC * 4 / 10);
	assert_labels(o, "MM1", "initiator", "MM_WAIT_MSG2", "MM_NO_STATE");
	assert_labels(c, "MM1", "initiator", "MM_WAIT_MSG2", "MM_NO_STATE");
	/* The answer, seen inside 0.3 s "before" its outside sighting (the clock the other way). */
	iks_result *a = feed(f, MM2(B, A, 1, 2), SEC / 100);
	iks_result *ac = feed(f, outside(MM2(B, A, 1, 2)), -SEC * 3 / 10);
	assert_copy_of(ac, a, 3);
	g_assert_cmpint(ac->span.transit_ns, ==, -SEC * 3 / 10);
	assert_labels(a, "MM2", "responder", "MM_WAIT_MSG3", "MM_SA_SETUP");
	g_assert_cmpuint(a->retrans, ==, 0);
	/* Outside the window (2 s by default) the same bytes are a message of their own: a resend. */
	iks_result *late = feed(f, outside(MM2(B, A, 1, 2)), 3 * SEC);
	g_assert_false(late->flags & IKS_R_COPY);
	g_assert_cmpuint(late->retrans, ==, 1);
}

/* Rule: resends stay resends: the k-th transmission is k at every point that saw it, and a
 * resend lost at one point leaves the next sighting there to the next resend. */
static void test_resends_at_two_points(fx *f, gconstpointer d)
{
	(void)d;
	iks_result *t0 = feed(f, MM1(A, B, 1), 0);
	iks_result *c0 = feed(f, outside(MM1(A, B, 1)), SEC / 10000);
	iks_result *t1 = feed(f, MM1(A, B, 1), SEC);
	iks_result *c1 = feed(f, outside(MM1(A, B, 1)), SEC / 10000);
	iks_result *t2 = feed(f, MM1(A, B, 1), SEC); /* never seen outside */
	iks_result *t3 = feed(f, MM1(A, B, 1), SEC);
	iks_result *c3 = feed(f, outside(MM1(A, B, 1)), SEC / 10000);
	g_assert_cmpuint(t1->retrans, ==, 1);
	g_assert_cmpuint(t2->retrans, ==, 2);
	g_assert_cmpuint(t3->retrans, ==, 3);
	assert_copy_of(c0, t0, 1);
	assert_copy_of(c1, t1, 3);
	assert_copy_of(c3, t3, 6);
	g_assert_cmpuint(c3->retrans_of, ==, 1);
	/* No answer: stalled; point 1 saw the tunnel, so the resend it lacks was lost between. */
	iks_fsm_finish(f->fsm);
	g_assert_cmpuint(iks_fsm_missing_at(f->fsm, t2), ==, 2);
	g_assert_cmpuint(iks_fsm_missing_at(f->fsm, t3), ==, 0);
	g_assert_cmpuint(iks_fsm_missing_at(f->fsm, t0), ==, 0); /* the first: nothing before it */
	g_assert_cmpuint(t3->hint, ==, IKS_H_LOST_BETWEEN_POINTS);
	iks_tunnel_summary s;
	g_assert_true(iks_fsm_summary(f->fsm, 1, &s));
	g_assert_cmpuint(s.hint, ==, IKS_H_LOST_BETWEEN_POINTS);
	g_assert_cmpuint(s.retrans, ==, 3); /* copies are no resends */
}

/* Rule: identical bytes at the same point within 1 ms are one packet captured twice, IKEv1 as
 * IKEv2: flagged, not a retransmission, nothing moves; later it is a resend again. */
static void test_duplicate_v1(fx *f, gconstpointer d)
{
	(void)d;
	iks_result *o = feed(f, MM1(A, B, 1), 0);
	iks_result *dup = feed(f, MM1(A, B, 1), SEC / 10000);
	g_assert_true(dup->flags & IKS_R_DUPLICATE);
	g_assert_false(dup->flags & IKS_R_COPY);
	g_assert_cmpuint(dup->copy_of, ==, 1);
	g_assert_cmpuint(dup->retrans, ==, 0);
	assert_labels(dup, "MM1", "initiator", "MM_WAIT_MSG2", "MM_NO_STATE");
	iks_result *r = feed(f, MM1(A, B, 1), SEC);
	g_assert_cmpuint(r->retrans, ==, 1);
	g_assert_cmpuint(r->retrans_of, ==, 1);
	/* At the very same time: a capture without time information (all zero), a resend. */
	iks_result *r2 = feed(f, MM1(A, B, 1), 0);
	g_assert_false(r2->flags & IKS_R_DUPLICATE);
	g_assert_cmpuint(r2->retrans, ==, 2);
	(void)o;
	/* IKEv2 the same, and a single point has no losses. */
	iks_result *v = feed(f, SA_INIT_REQ(A, C, 9), SEC);
	iks_result *vd = feed(f, SA_INIT_REQ(A, C, 9), SEC / 2000);
	g_assert_true(vd->flags & IKS_R_DUPLICATE);
	g_assert_cmpuint(vd->copy_of, ==, 5);
	g_assert_cmpuint(vd->msg, ==, v->msg);
	iks_fsm_finish(f->fsm);
	g_assert_cmpuint(iks_fsm_points(f->fsm), ==, 1);
	g_assert_cmpuint(iks_fsm_missing_at(f->fsm, v), ==, 0);
	g_assert_false(v->flags & IKS_R_MISSING);
}

/* Rule: a point that never saw the tunnel before a message blames nothing (its capture began
 * later); verdicts are redone on a second finish (live capture). */
static void test_missing_needs_earlier_sighting(fx *f, gconstpointer d)
{
	(void)d;
	iks_result *m1 = feed(f, MM1(A, B, 1), 0);          /* point 1 not capturing yet */
	iks_result *m2 = feed(f, MM2(B, A, 1, 2), SEC / 100);
	feed(f, outside(MM2(B, A, 1, 2)), SEC / 10000);
	iks_result *m3 = feed(f, MM3(A, B, 1, 2), SEC / 100); /* lost between */
	iks_fsm_finish(f->fsm);
	g_assert_cmpuint(iks_fsm_missing_at(f->fsm, m1), ==, 0);
	g_assert_cmpuint(iks_fsm_missing_at(f->fsm, m2), ==, 0);
	g_assert_cmpuint(iks_fsm_missing_at(f->fsm, m3), ==, 2);
	feed(f, outside(MM3(A, B, 1, 2)), SEC / 10000); /* it came after all */
	iks_fsm_finish(f->fsm);
	g_assert_cmpuint(iks_fsm_missing_at(f->fsm, m3), ==, 0);
	g_assert_false(m3->flags & IKS_R_MISSING);
}

/* Rule: in the first pass, once the sighting window has passed, a transmission that a point never
 * saw although it saw the tunnel before is lost between the points, and the initiator's stall says
 * so instead of guessing (MM4 left the responder side, never reached the initiator side). */
static void test_stall_hint_names_loss(fx *f, gconstpointer d)
{
	(void)d;
	mm1_mm2_at_both_points(f);
	feed(f, MM3(A, B, 1, 2), SEC / 100);
	feed(f, outside(MM3(A, B, 1, 2)), SEC / 10000);
	feed(f, outside(MM4(B, A, 1, 2)), SEC / 100); /* never seen inside */
	iks_result *r1 = feed(f, MM3(A, B, 1, 2), SEC);   /* within the window: MM4 may still come */
	g_assert_cmpuint(r1->retrans, ==, 1);
	g_assert_cmpuint(r1->hint, !=, IKS_H_LOST_BETWEEN_POINTS);
	feed(f, outside(MM3(A, B, 1, 2)), SEC / 10000);
	iks_result *r2 = feed(f, MM3(A, B, 1, 2), 3 * SEC / 2);
	g_assert_cmpuint(r2->retrans, ==, 2);
	g_assert_cmpuint(r2->stalled, ==, IKS_S_MM_WAIT_MSG4);
	g_assert_cmpuint(r2->hint, ==, IKS_H_LOST_BETWEEN_POINTS);
}

/* The same negotiation seen at one point only: the old guess (no MM4 came). */
static void test_stall_hint_one_point(fx *f, gconstpointer d)
{
	(void)d;
	feed(f, MM1(A, B, 1), 0);
	feed(f, MM2(B, A, 1, 2), SEC / 100);
	feed(f, MM3(A, B, 1, 2), SEC / 100);
	feed(f, MM3(A, B, 1, 2), SEC);
	iks_result *r2 = feed(f, MM3(A, B, 1, 2), 3 * SEC / 2);
	g_assert_cmpuint(r2->stalled, ==, IKS_S_MM_WAIT_MSG4);
	g_assert_cmpuint(r2->hint, ==, IKS_H_NO_MM4);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	ADD("/points/copy-across-nat", test_copy_across_nat);
	ADD("/points/direction-at-other-point", test_direction_at_other_point);
	ADD("/points/copy-before-original", test_copy_before_original);
	ADD("/points/resends-at-two-points", test_resends_at_two_points);
	ADD("/points/duplicate-v1", test_duplicate_v1);
	ADD("/points/missing-needs-earlier-sighting", test_missing_needs_earlier_sighting);
	ADD("/points/stall-hint-names-loss", test_stall_hint_names_loss);
	ADD("/points/stall-hint-one-point", test_stall_hint_one_point);
	return g_test_run();
}
