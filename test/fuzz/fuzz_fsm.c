/* fuzz_fsm.c — libFuzzer harness for the state machine core (plugin/ike_fsm.h), no Wireshark.
 *
 * The input is a little program: a config, then records, each either
 *   - raw bytes for iks_parse (copied into a buffer of exactly that size, so ASan sees any
 *     over-read), whose result is then fed; its payloads also go through iks_parse_inner, as
 *     if decrypted, or
 *   - a message built field by field (iks_msg), with values drawn mostly from small pools (so
 *     cookies, message IDs, digests and addresses collide and tunnels really progress) and
 *     sometimes absurd (any 64-bit cookie, length, payload bitmap, version, exchange, flags), or
 *   - an ICMP error quoting cookies, an ESP packet or NAT-T keepalive, or a capture-end verdict
 *     (iks_fsm_finish) mid-stream.
 * Every result is checked against the header's contract and kept: after the final
 * iks_fsm_finish all of them are read again (they must stay valid until iks_fsm_free).
 *
 * Contract the glue guarantees and this harness keeps: n_notify <= IKS_MAX_NOTIFY (iks_parse's
 * bound) and timestamps in [0, INT64_MAX / 2] (pcap time since 1970, clamped by the glue).
 *
 * Build and run: test/fuzz/run-fuzz.sh (clang -fsanitize=fuzzer,address,undefined).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ike_fsm.h"
#include "ike_registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
	const uint8_t *p;
	size_t n;
} src;

static uint64_t take(src *s, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes; i++) {
		v <<= 8;
		if (s->n) {
			v |= *s->p++;
			s->n--;
		}
	}
	return v;
}

static uint8_t u8(src *s) { return (uint8_t)take(s, 1); }

#define CHECK(c) \
	do { \
		if (!(c)) { \
			fprintf(stderr, "fuzz_fsm: contract violated: %s (line %d)\n", #c, __LINE__); \
			abort(); \
		} \
	} while (0)

/* iks_parse_inner's bounds, and every proposal and selector prints. */
static void check_child(const iks_child *c)
{
	CHECK(c->offer.n <= IKS_MAX_PROPOSALS && c->n_ts[0] <= IKS_MAX_TS && c->n_ts[1] <= IKS_MAX_TS);
	char s[240];
	for (unsigned i = 0; i < c->offer.n; i++) {
		CHECK(c->offer.p[i].n <= IKS_MAX_XFORMS);
		CHECK(strlen(iks_proposal_str(c->offer.version, &c->offer.p[i], s, sizeof s)) < sizeof s);
	}
	for (unsigned side = 0; side < 2; side++)
		for (unsigned i = 0; i < c->n_ts[side]; i++) {
			CHECK(c->ts[side][i].af == 4 || c->ts[side][i].af == 6);
			CHECK(strlen(iks_ts_str(&c->ts[side][i], s, sizeof s)) < sizeof s);
		}
}

static const char *touch(const char *s)
{
	if (s)
		CHECK(strlen(s) < 1024); /* a valid, terminated string */
	return s;
}

static void check_result(const iks_fsm *fsm, const iks_result *r)
{
	CHECK(r->tunnel >= 1 && r->tunnel <= iks_fsm_tunnel_count(fsm));
	CHECK(r->msg < IKS_M__COUNT && r->role <= IKS_ROLE_RESPONDER);
	CHECK(r->state < IKS_S__COUNT && r->ios_state < IKS_IOS__COUNT && iks_qm_state_of(r) < IKS_QM__COUNT);
	CHECK(r->hint < IKS_H__COUNT);
	CHECK(r->msg == IKS_M_NONE || iks_msg_name(r->msg) != NULL);
	CHECK(r->state == IKS_S_NONE || iks_state_name(r->state) != NULL);
	CHECK(r->retrans == 0 || r->retrans_of != 0);
	CHECK(!(r->flags & (IKS_R_COPY | IKS_R_DUPLICATE)) || r->copy_of != 0);
	CHECK(!(r->flags & IKS_R_COPY) || !(r->flags & IKS_R_DUPLICATE));
	CHECK((iks_fsm_missing_at(fsm, r) & r->seen) == 0);
	CHECK(iks_fsm_result(fsm, iks_fsm_result_id(fsm, r)) == r); /* the glue's frame index keeps ids */
	touch(iks_msg_name(r->msg));
	touch(iks_role_name(r->role));
	touch(iks_state_name(r->state));
	touch(iks_ios_state_name(r->ios_state));
	touch(iks_qm_state_name(r->qm_state));
	touch(iks_stalled_name(r->stalled));
	touch(iks_failed_name(r->failed));
	touch(iks_hint_text(r->hint));
	const iks_offer *o = iks_fsm_offer(fsm, r);
	CHECK(!o || (o->n >= 1 && o->n <= IKS_MAX_PROPOSALS));
	const iks_child *ch = iks_fsm_child(fsm, r);
	if (ch)
		check_child(ch);
	const char *mismatch = iks_fsm_mismatch(fsm, r);
	CHECK(!mismatch || strlen(mismatch) < 16384);
	iks_ra ra;
	char buf[64];
	if (iks_fsm_ra(fsm, r, &ra)) {
		const char *e = iks_eap_str(&ra, buf, sizeof buf);
		CHECK(!e || strlen(e) < sizeof buf);
		const char *c = iks_cfg_str(1, &ra, buf, sizeof buf);
		CHECK(!c || strlen(c) < sizeof buf);
	}
	/* A request of IKE_AUTH or of a transaction carries its round (n-th such exchange). */
	CHECK(!iks_has_round(r) || r->round >= 1 || r->msg == IKS_M_AUTH_RESP || r->msg == IKS_M_TXN_RESP);
}

static const uint64_t cookie_pool[4] = { 0, 0x0123456789abcdefULL, 0xfedcba9876543210ULL, 0x8000000000000001ULL };
static const uint8_t exch_pool[10] = { IKS_EXCH_MAIN, IKS_EXCH_AGGRESSIVE, IKS_EXCH_INFO, IKS_EXCH_TRANSACTION,
				       IKS_EXCH_QUICK, IKS_EXCH_IKE_SA_INIT, IKS_EXCH_IKE_AUTH,
				       IKS_EXCH_CREATE_CHILD_SA, IKS_EXCH_INFORMATIONAL, 0 };
static const uint8_t payload_pool[8] = { IKS_PL_SA, IKS_PL_KE, IKS_PL_ID, IKS_PL_HASH,
					 IKS_PL_NONCE, IKS_PL_NOTIFY, IKS_PL_DELETE, IKS_PL_VID };

static uint64_t cookie(src *s)
{
	uint8_t c = u8(s);
	return c < 0xf0 ? cookie_pool[c & 3] : take(s, 8);
}

static void addr(src *s, iks_addr *a)
{
	uint8_t c = u8(s);
	memset(a, 0, sizeof *a);
	a->len = (c & 3) == 3 ? 16 : (c & 3) == 2 ? 0 : 4; /* 0: not IP (e.g. a non-IP link) */
	a->bytes[a->len ? a->len - 1 : 0] = (uint8_t)(1 + ((c >> 2) & 3));
	a->port = (c & 0x10) ? 4500 : 500;
}

/* Mostly the first few capture points (copies and losses between them), sometimes any interface. */
static uint16_t capture_point(src *s)
{
	uint8_t c = u8(s);
	return c < 0xf0 ? c & 3 : (uint16_t)take(s, 2);
}

static void build_msg(src *s, iks_msg *m)
{
	uint8_t sel = u8(s);
	m->ispi = cookie(s);
	m->rspi = cookie(s);
	m->version = (sel & 1) ? 1 : (sel & 2) ? 2 : u8(s) >> 4;
	uint8_t ex = u8(s);
	m->exch = ex < 0xf0 ? exch_pool[ex % 10] : u8(s);
	m->flags = u8(s);
	m->first_payload = payload_pool[u8(s) & 7];
	uint8_t mid = u8(s);
	m->msgid = mid < 0xc0 ? mid & 3 : (uint32_t)take(s, 4);
	uint8_t len = u8(s);
	m->length = len < 0xc0 ? (uint32_t)len * 4 : (uint32_t)take(s, 4);
	uint8_t pl = u8(s);
	m->payloads = pl < 0xe0 ? UINT64_C(1) << payload_pool[pl & 7] | UINT64_C(1) << payload_pool[(pl >> 3) & 7]
				: take(s, 8);
	m->n_notify = u8(s) % (IKS_MAX_NOTIFY + 1);
	for (unsigned i = 0; i < m->n_notify; i++)
		m->notify[i] = (uint16_t)take(s, 2);
	uint8_t dg = u8(s);
	m->digest = dg < 0xc0 ? dg & 3 : take(s, 8); /* few digests: retransmissions happen */
	addr(s, &m->src);
	addr(s, &m->dst);
	m->n_spi = u8(s) % (IKS_MAX_SPI + 1); /* decrypted proposal SPIs, few values: ESP links to them */
	for (unsigned i = 0; i < m->n_spi; i++)
		m->spi[i] = u8(s) & 3;
	m->point = capture_point(s);
	/* What the glue reads from decrypted EAP / configuration payloads: any value. */
	uint8_t ra = u8(s);
	if (ra >= 0xc0) {
		m->ra.eap_code = u8(s) % 6;
		m->ra.eap_type = u8(s);
		m->ra.cfg_type = u8(s) % 6;
		m->ra.cfg = u8(s);
	}
	m->sk_first = (ra & 0x30) == 0x30 ? u8(s) : 0;
}

/* An ESP packet (spi != 0) or NAT-T keepalive (spi 0); SAs stay valid and are found again. */
static void esp(src *s, iks_fsm *fsm, uint32_t frame, int64_t now)
{
	iks_addr a, b;
	addr(s, &a);
	addr(s, &b);
	uint8_t sel = u8(s);
	uint32_t spi = sel < 0xf0 ? sel & 3 : (uint32_t)take(s, 4);
	const iks_esp_sa *sa = iks_fsm_esp(fsm, frame, now, &a, &b, spi, (uint32_t)take(s, 2), sel & 4);
	CHECK(sa && sa->packets >= 1 && sa->tunnel <= iks_fsm_tunnel_count(fsm));
	CHECK(sa->role <= IKS_ROLE_RESPONDER && sa->last_frame == frame);
	CHECK(iks_fsm_esp_sa(fsm, &a, &b, spi) == sa);
}

/* The config record: stall threshold and timeout, sighting window, exchange expiry, and whether to use
 * them or the defaults. */
static iks_fsm *new_fsm(src *s, iks_config *cfg)
{
	cfg->stall_retransmissions = u8(s) & 7;
	/* The glue passes seconds (a guint preference) * 1e9; 0 disables the timeout. */
	cfg->stall_timeout_ns = (int64_t)(take(s, 4) & 0xffffffffu) * 1000000000;
	cfg->sighting_window_ns = (int64_t)u8(s) * 100000000; /* 0 (off) to 25.5 s */
	cfg->exchange_expiry_ns = (int64_t)u8(s) * 100000000; /* 0 (never) to 25.5 s: forgetting and reuse often */
	return iks_fsm_new((u8(s) & 1) ? NULL : cfg);
}

/* Time mostly moves forward; sometimes jumps anywhere in the allowed range. */
static int64_t next_time(src *s, int64_t now)
{
	uint8_t dt = u8(s);
	if (dt < 0xf0)
		now += (int64_t)dt * 250000000; /* up to ~60 s per step */
	else
		now = (int64_t)(take(s, 8) & (UINT64_MAX >> 2));
	if (now < 0 || now > INT64_MAX / 2)
		now = INT64_MAX / 2;
	return now;
}

/* Raw bytes through the parser, copied into a buffer of exactly that size; fed when parsed. */
/* iks_parse_wire's bounds, and every proposal prints. */
static void check_wire(const iks_wire *w)
{
	CHECK(w->offer.n <= IKS_MAX_PROPOSALS && w->n_vid <= IKS_MAX_VID);
	for (unsigned i = 0; i < w->n_vid; i++)
		CHECK(w->vid_len[i] >= 1 && w->vid_len[i] <= IKS_VID_PREFIX);
	for (unsigned i = 0; i < w->offer.n; i++) {
		char s[240];
		CHECK(w->offer.p[i].n <= IKS_MAX_XFORMS);
		CHECK(strlen(iks_proposal_str(w->offer.version, &w->offer.p[i], s, sizeof s)) < sizeof s);
	}
}

static iks_result *feed_parsed(src *s, iks_fsm *fsm, uint32_t frame, int64_t now)
{
	iks_msg m;
	memset(&m, 0, sizeof m);
	size_t len = (size_t)take(s, 2) % 2048;
	if (len > s->n)
		len = s->n;
	uint8_t *buf = malloc(len ? len : 1);
	memcpy(buf, s->p, len);
	s->p += len;
	s->n -= len;
	bool ok = iks_parse(buf, len, &m);
	/* The second parse, as the glue does it: only for messages with proposals or Vendor IDs, on
	 * the same exact-size buffer, and only of bytes not seen before (parsed here all the same: what
	 * bytes seen before are known by must be what they parse into, checked once fed). */
	iks_wire wire;
	bool parsed = ok && iks_wants_wire(&m) && iks_parse_wire(buf, len, &m, &wire);
	if (parsed)
		check_wire(&wire);
	CHECK(!parsed || m.wire_digest || m.n_wire_pl > IKS_MAX_WIRE_PL);
	if (ok && iks_wants_wire(&m))
		m.wire_rec = iks_fsm_wire_seen(fsm, &m);
	CHECK(!m.wire_rec || parsed);
	if (parsed && !m.wire_rec)
		m.wire = &wire;
	/* The payloads after the header as if decrypted (the glue parses Wireshark's decrypted bytes
	 * the same way), ending where the buffer ends. */
	iks_child child;
	if (ok && iks_parse_inner(buf + IKS_ISAKMP_HDR_LEN, len - IKS_ISAKMP_HDR_LEN,
				  m.version == 1 ? m.first_payload : m.sk_first, &m, &child)) {
		check_child(&child);
		m.child = &child;
	}
	CHECK(!ok || len >= IKS_ISAKMP_HDR_LEN);
	if (!ok) {
		free(buf);
		return NULL;
	}
	CHECK(m.n_notify <= IKS_MAX_NOTIFY);
	addr(s, &m.src);
	addr(s, &m.dst);
	m.point = capture_point(s);
	m.frame = frame;
	m.ts_ns = now;
	iks_result *r = iks_fsm_feed(fsm, &m); /* reads the bytes (m.raw) of what it remembers */
	free(buf);
	if (parsed && r && !(r->flags & (IKS_R_COPY | IKS_R_DUPLICATE))) {
		const iks_offer *o = iks_fsm_offer(fsm, r);
		CHECK(!o == !wire.offer.n);
		CHECK(!o || (o->n == wire.offer.n && memcmp(o->p, wire.offer.p, o->n * sizeof o->p[0]) == 0));
		iks_impl want = iks_impl_of(&wire);
		const iks_impl *got = iks_fsm_impl(fsm, r);
		CHECK(!got == !iks_impl_known(&want));
		CHECK(!got || memcmp(got, &want, sizeof want) == 0);
	}
	return r;
}

/* A message built field by field. */
static iks_result *feed_built(src *s, iks_fsm *fsm, uint32_t frame, int64_t now)
{
	iks_msg m;
	memset(&m, 0, sizeof m);
	build_msg(s, &m);
	m.frame = frame;
	m.ts_ns = now;
	return iks_fsm_feed(fsm, &m);
}

/* One record after its op and time: the result to check and keep, or NULL. */
static iks_result *run_record(src *s, iks_fsm *fsm, uint8_t op, uint32_t frame, int64_t now)
{
	switch (op & 7) {
	case 0:
	case 1:
		return feed_parsed(s, fsm, frame, now);
	case 2:
	case 3:
	case 4:
	case 5:
		return feed_built(s, fsm, frame, now);
	case 6: {
		if (op & 8) {
			esp(s, fsm, frame, now);
			return NULL;
		}
		uint64_t i = cookie(s), rs = cookie(s);
		return iks_fsm_icmp(fsm, now, i, rs);
	}
	default: /* 7, live capture: verdicts so far, then more messages */
		iks_fsm_finish(fsm);
		return NULL;
	}
}

/* After the last iks_fsm_finish: every kept result is still valid, every tunnel summed up. */
static void check_end(const iks_fsm *fsm, const iks_result *const *kept, unsigned n_kept)
{
	for (unsigned i = 0; i < n_kept; i++)
		check_result(fsm, kept[i]);
	for (uint32_t t = 1; t <= iks_fsm_tunnel_count(fsm); t++) {
		iks_tunnel_summary sum;
		CHECK(iks_fsm_summary(fsm, t, &sum));
		CHECK(sum.state < IKS_S__COUNT && sum.hint < IKS_H__COUNT && sum.rekey_of < t);
		CHECK(sum.esp_one_way == 0 || sum.esp_out + sum.esp_in >= IKS_ESP_ONE_WAY_MIN);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	src s = { data, size };
	iks_config cfg;
	iks_fsm *fsm = new_fsm(&s, &cfg);

	enum { MAX_KEPT = 4096 };
	static const iks_result *kept[MAX_KEPT];
	unsigned n_kept = 0;
	uint32_t frame = 0;
	int64_t now = 0;
	while (s.n) {
		uint8_t op = u8(&s);
		frame++;
		now = next_time(&s, now);
		iks_result *r = run_record(&s, fsm, op, frame, now);
		if (r) {
			check_result(fsm, r);
			if (n_kept < MAX_KEPT)
				kept[n_kept++] = r;
		}
	}
	iks_fsm_finish(fsm);
	check_end(fsm, kept, n_kept);
	iks_fsm_free(fsm);
	return 0;
}
