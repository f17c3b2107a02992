/* Shared by the unit tests: see helpers.h. */
#include "helpers.h"

const iks_addr A = { 4, { 192, 0, 2, 1 }, 500 };
const iks_addr B = { 4, { 203, 0, 113, 1 }, 500 };
const iks_addr C = { 4, { 198, 51, 100, 7 }, 500 };

void fx_setup(fx *f, gconstpointer data)
{
	(void)data;
	f->fsm = iks_fsm_new(NULL);
	f->frame = 0;
	f->now = 1000 * SEC;
}

iks_fsm *fsm_expiring(unsigned expiry_s)
{
	iks_config cfg = { IKS_DEFAULT_STALL_RETRANSMISSIONS, (int64_t)IKS_DEFAULT_STALL_TIMEOUT_S * SEC,
			   (int64_t)IKS_DEFAULT_SIGHTING_WINDOW_MS * 1000000, (int64_t)expiry_s * SEC };
	return iks_fsm_new(&cfg);
}

void fx_teardown(fx *f, gconstpointer data)
{
	(void)data;
	iks_fsm_free(f->fsm);
}

/* A message from src to dst; content digest derived from what makes it distinct, plus salt. */
iks_msg mk(iks_addr src, iks_addr dst, uint64_t ispi, uint64_t rspi, uint8_t exch, uint8_t flags,
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

iks_result *feed(fx *f, iks_msg m, int64_t dt_ns)
{
	f->now += dt_ns;
	m.frame = ++f->frame;
	m.ts_ns = f->now;
	return iks_fsm_feed(f->fsm, &m);
}

void assert_labels(const iks_result *r, const char *msg, const char *role, const char *state,
		   const char *ios)
{
	g_assert_nonnull(r);
	g_assert_cmpstr(iks_msg_name(r->msg), ==, msg);
	g_assert_cmpstr(iks_role_name(r->role), ==, role);
	g_assert_cmpstr(iks_state_name(r->state), ==, state);
	g_assert_cmpstr(iks_ios_state_name(r->ios_state), ==, ios);
}

/* An IKEv2 message; sk: first payload inside SK (0 = clear message, or an empty SK). */
iks_msg mk2(iks_addr src, iks_addr dst, uint64_t ispi, uint64_t rspi, uint8_t exch, uint8_t flags,
	    uint32_t msgid, uint8_t sk, uint32_t len, uint64_t salt)
{
	/* IKE_SA_INIT as implementations send it: with notifies (NAT detection, fragmentation…). */
	uint64_t pl = exch == IKS_EXCH_IKE_SA_INIT ? BIT(IKS_PL2_SA) | BIT(IKS_PL2_KE) | BIT(IKS_PL2_NOTIFY) : BIT(IKS_PL2_SK);
	iks_msg m = mk(src, dst, ispi, rspi, exch, flags, msgid, pl, len, salt);
	m.version = 2;
	m.sk_first = sk;
	return m;
}

iks_msg with_notify(iks_msg m, uint16_t type)
{
	m.notify[m.n_notify++] = type;
	m.digest += type;
	return m;
}

void v2_to_auth_req(fx *f, iks_addr a, iks_addr b, uint64_t i, uint64_t r)
{
	feed(f, SA_INIT_REQ(a, b, i), 0);
	feed(f, SA_INIT_RESP(b, a, i, r), SEC / 100);
	feed(f, AUTH_REQ(a, b, i, r), SEC / 100);
}

iks_msg info_msg(iks_addr s, iks_addr d, uint64_t i, uint64_t r, uint8_t flags, uint32_t mid, uint16_t type)
{
	iks_msg m = mk(s, d, i, r, IKS_EXCH_INFO, flags, mid, type ? BIT(IKS_PL_NOTIFY) : 0, 92, mid + type);
	if (type) {
		m.notify[0] = type;
		m.n_notify = 1;
	}
	return m;
}

void main_mode_to_mm4(fx *f, iks_addr a, iks_addr b, uint64_t i, uint64_t r)
{
	feed(f, MM1(a, b, i), 0);
	feed(f, MM2(b, a, i, r), SEC / 100);
	feed(f, MM3(a, b, i, r), SEC / 100);
	feed(f, MM4(b, a, i, r), SEC / 100);
}

void main_mode_done(fx *f, iks_addr a, iks_addr b, uint64_t i, uint64_t r)
{
	main_mode_to_mm4(f, a, b, i, r);
	feed(f, MM5(a, b, i, r), SEC / 100);
	feed(f, MM6(b, a, i, r), SEC / 100);
}
