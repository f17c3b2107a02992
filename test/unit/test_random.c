/* Random message sequences through the state machine (GLib g_test). */
#include "helpers.h"

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

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/fsm/random-sequences", test_fsm_random_sequences);
	return g_test_run();
}
