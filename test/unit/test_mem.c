/* Memory per tunnel (issue #6), forgetting quiet exchanges (issue #24) and the frame index (GLib g_test). */
#include "helpers.h"
#include "ike_frames.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

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

/* Heap bytes per call of `one` (n calls), the per-message results (accounted apart) left out; the
 * machine forgets exchanges after expiry_s (0: never). */
static double heap_per(void (*one)(fx *, uint32_t), uint32_t n, unsigned expiry_s, uint32_t tunnels)
{
	fx f;
	fx_setup(&f, NULL);
	iks_fsm_free(f.fsm);
	f.fsm = fsm_expiring(expiry_s);
	one(&f, UINT32_MAX); /* set-up (an established tunnel), not counted */
	uint32_t frames = f.frame;
	size_t before = heap_in_use();
	for (uint32_t i = 0; i < n; i++)
		one(&f, i);
	double used = (double)heap_in_use() - (double)before - (double)(f.frame - frames) * sizeof(iks_result);
	g_assert_cmpuint(iks_fsm_tunnel_count(f.fsm), ==, tunnels);
	fx_teardown(&f, NULL);
	return used / n;
}

static double heap_per_tunnel(void (*one)(fx *, uint32_t), uint32_t n)
{
	return heap_per(one, n, IKS_DEFAULT_EXCHANGE_EXPIRY_S, n + 1);
}

/* A head-end's day: one established tunnel, then a DPD exchange every 10 s (IKEv1: an encrypted
 * Informational each way, each its own message ID). */
static void dpd_v1(fx *f, uint32_t i)
{
	iks_addr a = addr_of(0x3ffff);
	if (i == UINT32_MAX) {
		main_mode_done(f, a, B, 0x77, 0x78);
		return;
	}
	feed(f, INFO_ENC(a, B, 0x77, 0x78, 0x10000 + 2 * i), 10 * SEC);
	feed(f, INFO_ENC(B, a, 0x77, 0x78, 0x10001 + 2 * i), SEC / 100);
}

/* IKEv2: an INFORMATIONAL request and its answer every 10 s. */
static void dpd_v2(fx *f, uint32_t i)
{
	iks_addr a = addr_of(0x3fffe);
	if (i == UINT32_MAX) {
		v2_to_auth_req(f, a, B, 0x87, 0x88);
		feed(f, AUTH_RESP(B, a, 0x87, 0x88), SEC / 100);
		return;
	}
	feed(f, mk2(a, B, 0x87, 0x88, IKS_EXCH_INFORMATIONAL, V2I, 2 + i, 0, 80, 7), 10 * SEC);
	feed(f, mk2(B, a, 0x87, 0x88, IKS_EXCH_INFORMATIONAL, V2R, 2 + i, 0, 80, 8), SEC / 100);
}

/* Half-open negotiations at a head-end's pace: a fresh MM1 every second. */
static void cookie_per_second(fx *f, uint32_t i)
{
	feed(f, MM1(addr_of(i == UINT32_MAX ? 0x3fffd : i), B, 0x100000000 + i), SEC);
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

/* Rule (issue #24): with exchanges forgotten after the expiry, a long-lived tunnel's DPD costs no
 * memory beyond its packets' labels (about 190 bytes an exchange kept otherwise), and a half-open
 * negotiation at a head-end's pace gives back its phase-1 exchange. */
static void test_memory_expiry(void)
{
#ifdef HEAP_STATS
	const uint32_t n = 20000; /* 55 hours of DPD, 5.5 hours of cookies */
	const unsigned exp = IKS_DEFAULT_EXCHANGE_EXPIRY_S;
	double v1_kept = heap_per(dpd_v1, n, 0, 1), v1 = heap_per(dpd_v1, n, exp, 1);
	double v2_kept = heap_per(dpd_v2, n, 0, 1), v2 = heap_per(dpd_v2, n, exp, 1);
	double mm1_kept = heap_per(cookie_per_second, n, 0, n + 1), mm1 = heap_per(cookie_per_second, n, exp, n + 1);
	g_test_message("bytes per DPD exchange pair / cookie, kept vs forgotten after %u s: IKEv1 %.1f / %.1f, "
		       "IKEv2 %.1f / %.1f, MM1 %.1f / %.1f", exp, v1_kept, v1, v2_kept, v2, mm1_kept, mm1);
	g_assert_cmpfloat(v1, <=, 4);
	g_assert_cmpfloat(v2, <=, 4);
	g_assert_cmpfloat(v1_kept, >=, 2 * sizeof(iks_exchange));
	g_assert_cmpfloat(v2_kept, >=, sizeof(iks_exchange));
	/* less the phase-1 exchanges of the last expiry, still live, and the allocator's noise */
	g_assert_cmpfloat(mm1, <=, mm1_kept - sizeof(iks_exchange) + 16);
#else
	g_test_skip("needs glibc's mallinfo2() and its allocator (no AddressSanitizer)");
#endif
}

/* Rule: the frame index gives back each frame's items in order, nothing for other frames, across
 * block boundaries; frames out of capture order, frame 0 and item 0 are refused, not misfiled. */
static void test_frame_index(void)
{
	iks_frames *x = iks_frames_new();
	g_assert_false(iks_frames_add(x, 0, 1));
	g_assert_false(iks_frames_add(x, 3, 0));
	g_assert_true(iks_frames_add(x, 3, 101));
	g_assert_true(iks_frames_add(x, 3, 102));
	for (uint32_t f = 10; f < 9000; f++)
		g_assert_true(iks_frames_add(x, f * 3, 1000 + f));
	g_assert_true(iks_frames_add(x, 5000000, UINT32_MAX));
	g_assert_false(iks_frames_add(x, 4, 103)); /* before the last one added */
	g_assert_cmpuint(iks_frames_get(x, 3, 0), ==, 101);
	g_assert_cmpuint(iks_frames_get(x, 3, 1), ==, 102);
	g_assert_cmpuint(iks_frames_get(x, 3, 2), ==, 0);
	g_assert_cmpuint(iks_frames_get(x, 4, 0), ==, 0);
	g_assert_cmpuint(iks_frames_get(x, 31, 0), ==, 0);
	for (uint32_t f = 10; f < 9000; f++) {
		g_assert_cmpuint(iks_frames_get(x, f * 3, 0), ==, 1000 + f);
		g_assert_cmpuint(iks_frames_get(x, f * 3, 1), ==, 0);
		g_assert_cmpuint(iks_frames_get(x, f * 3 + 1, 0), ==, 0);
	}
	for (uint32_t f = 8999; f >= 10; f -= 7) /* backwards and in jumps: GUI random access */
		g_assert_cmpuint(iks_frames_get(x, f * 3, 0), ==, 1000 + f);
	g_assert_cmpuint(iks_frames_get(x, 3, 1), ==, 102);
	g_assert_cmpuint(iks_frames_get(x, 5000000, 0), ==, UINT32_MAX);
	g_assert_cmpuint(iks_frames_get(x, 4999999, 0), ==, 0);
	g_assert_cmpuint(iks_frames_get(x, UINT32_MAX, 0), ==, 0);
	iks_frames_free(x);
}

/* Rule: a result's id finds it again, across result blocks; 0 and ids not given out find nothing. */
static void test_result_ids(fx *f, gconstpointer d)
{
	(void)d;
	iks_result *r[3000];
	for (uint32_t i = 0; i < G_N_ELEMENTS(r); i++)
		r[i] = feed(f, MM1(A, B, 100 + i), SEC / 100);
	for (uint32_t i = 0; i < G_N_ELEMENTS(r); i++) {
		uint32_t id = iks_fsm_result_id(f->fsm, r[i]);
		g_assert_cmpuint(id, ==, i + 1);
		g_assert_true(iks_fsm_result(f->fsm, id) == r[i]);
	}
	g_assert_null(iks_fsm_result(f->fsm, 0));
	g_assert_null(iks_fsm_result(f->fsm, G_N_ELEMENTS(r) + 1));
	g_assert_null(iks_fsm_result(f->fsm, UINT32_MAX));
	iks_result other;
	g_assert_cmpuint(iks_fsm_result_id(f->fsm, &other), ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/mem/per-tunnel", test_memory_per_tunnel);
	g_test_add_func("/mem/expiry", test_memory_expiry);
	g_test_add_func("/frames/index", test_frame_index);
	ADD("/frames/result-ids", test_result_ids);
	return g_test_run();
}
