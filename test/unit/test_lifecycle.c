/* Lifecycle and ESP data plane (issue #9, GLib g_test): rekeys, Deletes seen and inferred, ESP
 * counting, its link to the IKE SA, one-way ESP. */
#include "helpers.h"

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

/* Rule (issue #24): an exchange quiet for the expiry is forgotten, and only then: the longest known
 * gap between two resends (AIX, 512 s) still finds the original; a quick mode that waits for its
 * answer is never forgotten (its capture-end verdict); a message for a forgotten exchange starts it
 * afresh. Labels of the packets already seen do not change. */
static void test_exchange_expiry(fx *f, gconstpointer d)
{
	(void)d;
	for (unsigned expiry = 0; expiry <= IKS_DEFAULT_EXCHANGE_EXPIRY_S; expiry += IKS_DEFAULT_EXCHANGE_EXPIRY_S) {
		iks_fsm_free(f->fsm);
		f->fsm = fsm_expiring(expiry);
		iks_result *mm1 = feed(f, MM1(C, B, 9), 0);
		uint32_t mm1_frame = f->frame;
		iks_result *aix = feed(f, MM1(C, B, 9), 512 * SEC); /* AIX's last back-off step */
		g_assert_cmpuint(aix->retrans, ==, 1);
		g_assert_cmpuint(aix->retrans_of, ==, mm1_frame);
		main_mode_done(f, A, B, 1, 2);
		iks_result *open_qm = feed(f, QM(A, B, 1, 2, 0x10, 300, 0), 1);
		feed(f, QM(A, B, 1, 2, 0x20, 300, 0), 1);
		feed(f, QM(B, A, 1, 2, 0x20, 300, 1), SEC / 100);
		iks_result *qm3 = feed(f, QM(A, B, 1, 2, 0x20, 60, 2), SEC / 100);
		uint32_t qm3_frame = f->frame;
		/* An hour of DPD on the tunnel, one Informational every 10 s, each its own exchange. */
		for (uint32_t k = 0; k < 360; k++)
			feed(f, INFO_ENC(A, B, 1, 2, 0x1000 + k), 10 * SEC);
		iks_result *late = feed(f, QM(A, B, 1, 2, 0x20, 60, 2), 1); /* QM3's bytes again, an hour on */
		iks_result *late_mm = feed(f, MM1(C, B, 9), 1);
		if (expiry) {
			g_assert_cmpuint(late->retrans, ==, 0); /* its exchange was forgotten: a quick mode of its own */
			g_assert_cmpuint(late_mm->retrans, ==, 0);
			g_assert_cmpuint(late_mm->tunnel, ==, mm1->tunnel); /* the tunnel is not forgotten */
		} else {
			g_assert_cmpuint(late->retrans, ==, 1);
			g_assert_cmpuint(late->retrans_of, ==, qm3_frame);
			g_assert_cmpuint(late_mm->retrans, ==, 2);
		}
		g_assert_cmpuint(qm3->flags & IKS_R_PHASE2_DONE, !=, 0);
		iks_fsm_finish(f->fsm);
		g_assert_true(open_qm->flags & IKS_R_FINAL);
		g_assert_cmpstr(iks_stalled_name(open_qm->stalled), ==, "QM_WAIT_MSG2");
	}
}

/* Rule: one packet stamped far ahead (a bogus timestamp) makes nothing quiet; a quiet hour, which
 * the next message confirms, does. */
static void test_exchange_expiry_clock(fx *f, gconstpointer d)
{
	(void)d;
	main_mode_done(f, A, B, 1, 2);
	feed(f, INFO_ENC(A, B, 1, 2, 0x100), 1);
	uint32_t dpd = f->frame;
	int64_t now = f->now;
	feed(f, MM1(C, B, 9), 10 * 365 * 24 * 3600 * SEC); /* ten years on: one packet only */
	f->now = now;
	iks_result *again = feed(f, INFO_ENC(A, B, 1, 2, 0x100), 5 * SEC);
	g_assert_cmpuint(again->retrans, ==, 1);
	g_assert_cmpuint(again->retrans_of, ==, dpd);
	/* An hour without a packet, then two: the exchanges before it are quiet. */
	feed(f, MM1(C, B, 10), 3600 * SEC);
	feed(f, MM1(C, B, 11), 1);
	g_assert_cmpuint(feed(f, INFO_ENC(A, B, 1, 2, 0x100), 1)->retrans, ==, 0);
}

static const iks_esp_sa *iks_esp_fed(fx *f, iks_addr src, iks_addr dst, uint32_t spi)
{
	f->now += SEC / 10;
	return iks_fsm_esp(f->fsm, ++f->frame, f->now, &src, &dst, spi, 100, false);
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

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	ADD("/fsm/rekey-of", test_rekey_of);
	ADD("/lifecycle/delete-seen", test_delete_seen);
	ADD("/lifecycle/delete-inferred", test_delete_inferred);
	ADD("/lifecycle/exchange-expiry", test_exchange_expiry);
	ADD("/lifecycle/exchange-expiry-clock", test_exchange_expiry_clock);
	ADD("/esp/counting-and-link", test_esp_counting_and_link);
	ADD("/esp/one-way", test_esp_one_way);
	ADD("/esp/link-by-spi", test_esp_link_by_spi);
	return g_test_run();
}
