/* Shared by the unit tests (test/unit/test_*.c): peers, the per-test fixture (a fresh state machine,
 * frame counter and clock), message builders (IKEv1, IKEv2, Informational) and label checks. */
#ifndef IKESTATE_TEST_HELPERS_H
#define IKESTATE_TEST_HELPERS_H

#include "ike_fsm.h"

#include <glib.h>
#include <string.h>

#define BIT(t) (UINT64_C(1) << (t))
#define SEC INT64_C(1000000000)

/* Two peers: A (192.0.2.1) and B (203.0.113.1), and a third, C (198.51.100.7). */
extern const iks_addr A, B, C;

typedef struct {
	iks_fsm *fsm;
	uint32_t frame;
	int64_t now;
} fx;

void fx_setup(fx *f, gconstpointer data);
/* A machine with the default settings that forgets exchanges after expiry_s seconds (0: never). */
iks_fsm *fsm_expiring(unsigned expiry_s);
void fx_teardown(fx *f, gconstpointer data);
/* A test with the fixture: a fresh machine per test. */
#define ADD(name, fn) g_test_add(name, fx, NULL, fx_setup, fn, fx_teardown)

/* A message from src to dst; content digest derived from what makes it distinct, plus salt. */
iks_msg mk(iks_addr src, iks_addr dst, uint64_t ispi, uint64_t rspi, uint8_t exch, uint8_t flags, uint32_t msgid,
	   uint64_t payloads, uint32_t len, uint64_t salt);
/* Feeds m as the next frame, dt_ns after the previous one. */
iks_result *feed(fx *f, iks_msg m, int64_t dt_ns);

#define MM1(s, d, i) mk(s, d, i, 0, IKS_EXCH_MAIN, 0, 0, BIT(IKS_PL_SA) | BIT(IKS_PL_VID), 200, 1)
#define MM2(s, d, i, r) mk(s, d, i, r, IKS_EXCH_MAIN, 0, 0, BIT(IKS_PL_SA) | BIT(IKS_PL_VID), 180, 2)
#define MM3(s, d, i, r) mk(s, d, i, r, IKS_EXCH_MAIN, 0, 0, BIT(IKS_PL_KE) | BIT(IKS_PL_NONCE) | BIT(IKS_PL_NATD), 300, 3)
#define MM4(s, d, i, r) mk(s, d, i, r, IKS_EXCH_MAIN, 0, 0, BIT(IKS_PL_KE) | BIT(IKS_PL_NONCE) | BIT(IKS_PL_NATD), 300, 4)
#define MM5(s, d, i, r) mk(s, d, i, r, IKS_EXCH_MAIN, IKS_FLAG_ENCRYPTED, 0, 0, 108, 5)
#define MM6(s, d, i, r) mk(s, d, i, r, IKS_EXCH_MAIN, IKS_FLAG_ENCRYPTED, 0, 0, 92, 6)
#define QM(s, d, i, r, mid, len, salt) mk(s, d, i, r, IKS_EXCH_QUICK, IKS_FLAG_ENCRYPTED, mid, 0, len, salt)

void assert_labels(const iks_result *r, const char *msg, const char *role, const char *state, const char *ios);

/* IKEv2 (issue #8) */
#define V2I IKS_FLAG_V2_INITIATOR
#define V2R IKS_FLAG_V2_RESPONSE

/* An IKEv2 message; sk: first payload inside SK (0 = clear message, or an empty SK). */
iks_msg mk2(iks_addr src, iks_addr dst, uint64_t ispi, uint64_t rspi, uint8_t exch, uint8_t flags, uint32_t msgid,
	    uint8_t sk, uint32_t len, uint64_t salt);
iks_msg with_notify(iks_msg m, uint16_t type);

#define SA_INIT_REQ(s, d, i) mk2(s, d, i, 0, IKS_EXCH_IKE_SA_INIT, V2I, 0, 0, 300, 0)
#define SA_INIT_RESP(s, d, i, r) mk2(s, d, i, r, IKS_EXCH_IKE_SA_INIT, V2R, 0, 0, 300, 1)
#define AUTH_REQ(s, d, i, r) mk2(s, d, i, r, IKS_EXCH_IKE_AUTH, V2I, 1, 35, 240, 2)
#define AUTH_RESP(s, d, i, r) mk2(s, d, i, r, IKS_EXCH_IKE_AUTH, V2R, 1, IKS_PL2_IDR, 224, 3)

/* IKE_SA_INIT request and response, then the IKE_AUTH request. */
void v2_to_auth_req(fx *f, iks_addr a, iks_addr b, uint64_t i, uint64_t r);

/* Informationals (issue #4) */
#define INFO_CLEAR(s, d, i, r, type) info_msg(s, d, i, r, 0, 0, type)
#define INFO_ENC(s, d, i, r, mid) info_msg(s, d, i, r, IKS_FLAG_ENCRYPTED, mid, 0)

iks_msg info_msg(iks_addr s, iks_addr d, uint64_t i, uint64_t r, uint8_t flags, uint32_t mid, uint16_t type);

/* Main mode MM1..MM4, and MM1..MM6. */
void main_mode_to_mm4(fx *f, iks_addr a, iks_addr b, uint64_t i, uint64_t r);
void main_mode_done(fx *f, iks_addr a, iks_addr b, uint64_t i, uint64_t r);

#endif
