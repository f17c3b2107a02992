/* The ISAKMP header and clear payload chain parser, iks_parse (GLib g_test): IKEv1, IKEv2,
 * the Delete protocol, hostile input. */
#include "helpers.h"

/* Wire bytes for iks_parse: an ISAKMP header (initiator cookie a0..a7, version 1.0), a payload
 * header (the body zero). Both return the bytes written. */
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

/* Big-endian writers for the SA payload builders below. */
static size_t put16(uint8_t *b, unsigned v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
	return 2;
}

/* A TV attribute (AF bit set). */
static size_t put_tv(uint8_t *b, unsigned type, unsigned v)
{
	put16(b, 0x8000 | type);
	return 2 + put16(b + 2, v);
}

/* A substructure header (proposal / transform): more, reserved, length; returns 4. */
static size_t put_sub(uint8_t *b, uint8_t more, size_t len)
{
	b[0] = more;
	b[1] = 0;
	return 2 + put16(b + 2, (unsigned)len);
}

/* The start of an IKEv1 SA payload at b: its header (filled by the caller), DOI IPsec, situation
 * identity only, then one proposal's header (length at *prop, filled by the caller) and SPI.
 * Returns the offset after it. */
static size_t v1_sa_head(uint8_t *b, uint8_t proto, uint8_t spi_size, uint8_t transforms, size_t *prop)
{
	size_t o = 4;
	o += put16(b + o, 0) + put16(b + o + 2, 1);
	memset(b + o, 0, 4);
	b[o + 3] = 1;
	o += 4;
	*prop = o;
	o += 4;
	b[o++] = 1; /* proposal 1 */
	b[o++] = proto;
	b[o++] = spi_size;
	b[o++] = transforms;
	memset(b + o, 0xcd, spi_size);
	return o + spi_size;
}

/* An IKEv1 transform at b with TV attributes (type, value pairs). Returns its length. */
static size_t v1_transform(uint8_t *b, uint8_t more, uint8_t num, uint8_t id, const unsigned *tv, size_t n_tv)
{
	size_t o = 4;
	b[o++] = num; b[o++] = id; b[o++] = 0; b[o++] = 0;
	for (size_t i = 0; i < n_tv; i++)
		o += put_tv(b + o, tv[2 * i], tv[2 * i + 1]);
	put_sub(b, more, o);
	return o;
}

/* IKEv1 MM1: SA (DOI, situation, one ISAKMP proposal with two transforms), then a VID. Returns its
 * length; *sa_at the offset of the SA payload. */
static size_t v1_mm1(uint8_t *b, size_t *sa_at)
{
	size_t o = put_hdr(b, IKS_PL_SA, IKS_EXCH_MAIN, 0, 0);
	*sa_at = o;
	size_t sa = o, prop;
	o += v1_sa_head(b + o, 1, 0, 2, &prop); /* ISAKMP, no SPI, two transforms */
	prop += sa;
	/* Transform 1: AES-CBC-128 / SHA2-256 / PSK / MODP-2048 / 28800 s. */
	size_t t1 = o;
	o += 4;
	b[o++] = 1; b[o++] = 1; b[o++] = 0; b[o++] = 0;
	o += put_tv(b + o, 1, 7);
	o += put_tv(b + o, 14, 128);
	o += put_tv(b + o, 2, 4);
	o += put_tv(b + o, 3, 1);
	o += put_tv(b + o, 4, 14);
	o += put_tv(b + o, 11, 1);
	o += put16(b + o, 12) + put16(b + o + 2, 4); /* TLV life duration, 4 bytes */
	b[o++] = 0; b[o++] = 0; b[o++] = 0x70; b[o++] = 0x80;
	put_sub(b + t1, 3, o - t1);
	/* Transform 2: 3DES-CBC / SHA1 / RSA-SIG / MODP-1024, key length after the algorithm is fine. */
	o += v1_transform(b + o, 0, 2, 1, (const unsigned[]){ 1, 5, 2, 2, 3, 3, 4, 2 }, 4);
	put_sub(b + prop, 0, o - prop);
	b[sa] = IKS_PL_VID;
	put16(b + sa + 2, (unsigned)(o - sa));
	o += put_pl(b + o, 0, 4 + 16);
	memset(b + o - 16, 0xab, 16);
	put16(b + 26, (unsigned)o);
	return o;
}

static void test_parse_wire_v1(void)
{
	uint8_t b[300];
	size_t sa_at, len = v1_mm1(b, &sa_at);
	iks_msg m;
	memset(&m, 0, sizeof m);
	g_assert_true(iks_parse(b, len, &m));
	g_assert_true(iks_wants_wire(&m));
	iks_wire w;
	g_assert_true(iks_parse_wire(b, len, &m, &w));
	g_assert_cmpuint(w.offer.n, ==, 2);
	char s[240];
	g_assert_cmpstr(iks_proposal_str(1, &w.offer.p[0], s, sizeof s), ==, "AES-CBC-128/SHA2-256/MODP-2048/PSK lifetime 28800 s");
	g_assert_cmpstr(iks_proposal_str(1, &w.offer.p[1], s, sizeof s), ==, "3DES-CBC/SHA1/MODP-1024/RSA-SIG");
	g_assert_cmpuint(w.n_vid, ==, 1);
	g_assert_cmpuint(w.vid_len[0], ==, 16);
	g_assert_cmphex(w.vid[0][15], ==, 0xab);

	/* Every cut of the message: never a read past it (ASan in the sanitized build), and never
	 * more than what is whole: a truncated transform is not an alternative. */
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *t = g_memdup2(b, cut);
		iks_msg mc;
		memset(&mc, 0, sizeof mc);
		if (iks_parse(t, cut, &mc))
			iks_parse_wire(t, cut, &mc, &w);
		g_assert_cmpuint(w.offer.n, <=, 2);
		g_free(t);
	}

	/* The transform count lies (255): the lengths bound the walk. */
	b[sa_at + 12 + 7] = 255;
	g_assert_true(iks_parse_wire(b, len, &m, &w));
	g_assert_cmpuint(w.offer.n, ==, 2);
	/* The proposal length lies past the SA payload: no alternative from it. */
	put16(b + sa_at + 12 + 2, 0xfff0);
	iks_parse_wire(b, len, &m, &w);
	g_assert_cmpuint(w.offer.n, ==, 0);
}

/* Attributes past their transform's end; a zero-length SA payload. */
static void test_parse_wire_hostile(void)
{
	uint8_t b[300];
	size_t sa_at, len = v1_mm1(b, &sa_at);
	iks_msg m;
	memset(&m, 0, sizeof m);
	g_assert_true(iks_parse(b, len, &m));
	iks_wire w;
	/* The first transform ends 2 bytes early, inside its TLV lifetime (4 bytes said, 2 left): the
	 * lifetime is dropped, the TV attributes before it kept; what follows is no transform. */
	size_t t1 = sa_at + 12 + 8;
	put16(b + t1 + 2, 8 + 6 * 4 + 4 + 2);
	g_assert_true(iks_parse_wire(b, len, &m, &w));
	g_assert_cmpuint(w.offer.n, ==, 1);
	char s[240];
	g_assert_cmpstr(iks_proposal_str(1, &w.offer.p[0], s, sizeof s), ==, "AES-CBC-128/SHA2-256/MODP-2048/PSK");
	/* A TV attribute cut by the transform's end (its length 2 short). */
	v1_mm1(b, &sa_at);
	put16(b + t1 + 2, 8 + 2);
	g_assert_true(iks_parse_wire(b, len, &m, &w));
	g_assert_cmpuint(w.offer.p[0].n, ==, 0);
	/* A zero-length SA payload stops the chain in iks_parse already; iks_parse_wire agrees. */
	v1_mm1(b, &sa_at);
	put16(b + sa_at + 2, 0);
	memset(&m, 0, sizeof m);
	g_assert_true(iks_parse(b, len, &m));
	g_assert_false(iks_wants_wire(&m));
	g_assert_false(iks_parse_wire(b, len, &m, &w));
	/* An SA payload of just its header. */
	v1_mm1(b, &sa_at);
	put16(b + sa_at + 2, 4);
	b[sa_at] = 0;
	g_assert_true(iks_parse(b, len, &m));
	g_assert_false(iks_parse_wire(b, len, &m, &w));
	/* Random garbage after a valid header never crashes. */
	GRand *rnd = g_rand_new_with_seed(11);
	for (int n = 0; n < 20000; n++) {
		size_t l = (size_t)g_rand_int_range(rnd, 28, sizeof b);
		len = v1_mm1(b, &sa_at);
		for (size_t i = 28 + (size_t)g_rand_int_range(rnd, 0, 40); i < l; i++)
			if (g_rand_int_range(rnd, 0, 4) == 0)
				b[i] = (uint8_t)g_rand_int(rnd);
		memset(&m, 0, sizeof m);
		if (iks_parse(b, l, &m))
			iks_parse_wire(b, l, &m, &w);
		g_assert_cmpuint(w.offer.n, <=, IKS_MAX_PROPOSALS);
	}
	g_rand_free(rnd);
}

static bool same_wire(const iks_wire *a, const iks_wire *b)
{
	return a->offer.n == b->offer.n && a->offer.cut == b->offer.cut && a->n_vid == b->n_vid &&
	       memcmp(a->offer.p, b->offer.p, a->offer.n * sizeof a->offer.p[0]) == 0 &&
	       memcmp(a->vid, b->vid, sizeof a->vid) == 0 && memcmp(a->vid_len, b->vid_len, sizeof a->vid_len) == 0;
}

static uint64_t wire_digest_of(const uint8_t *b, size_t len)
{
	iks_msg m;
	memset(&m, 0, sizeof m);
	return iks_parse(b, len, &m) ? m.wire_digest : 0;
}

/* The wire digest: what makes another message parse the same is only its SA and VID bytes (and
 * the version), so equal digests must mean equal parses. */
static void test_wire_digest(void)
{
	uint8_t b[300], c[300];
	size_t sa_at, len = v1_mm1(b, &sa_at);
	uint64_t d = wire_digest_of(b, len);
	g_assert_cmphex(d, !=, 0);
	/* Another tunnel's MM1 (cookies, message length), the same offer and VID: the same digest. */
	memcpy(c, b, len);
	memset(c, 0x5a, 8);
	c[26]++;
	g_assert_cmphex(wire_digest_of(c, len), ==, d);
	/* One attribute value or one VID byte other: another digest. */
	memcpy(c, b, len);
	c[sa_at + 12 + 8 + 8 + 3] ^= 1;
	g_assert_cmphex(wire_digest_of(c, len), !=, d);
	memcpy(c, b, len);
	c[len - 1] ^= 1;
	g_assert_cmphex(wire_digest_of(c, len), !=, d);
	/* Neither payload: none (read as IKEv2 the same types are other payloads). */
	memcpy(c, b, len);
	c[16] = 0;
	g_assert_cmphex(wire_digest_of(c, len), ==, 0);
	memcpy(c, b, len);
	c[17] = 0x20;
	g_assert_cmphex(wire_digest_of(c, len), ==, 0);

	/* Every cut and random damage: two messages with one digest parse alike. */
	GHashTable *seen = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
	GRand *rnd = g_rand_new_with_seed(5);
	unsigned equal = 0;
	for (int n = 0; n < 20000; n++) {
		len = v1_mm1(b, &sa_at);
		size_t l = n < (int)len ? (size_t)n : (size_t)g_rand_int_range(rnd, 28, (gint32)len + 1);
		if (n >= (int)len && g_rand_boolean(rnd))
			b[g_rand_int_range(rnd, 28, (gint32)len)] ^= (uint8_t)(1u << g_rand_int_range(rnd, 0, 2));
		iks_msg x;
		memset(&x, 0, sizeof x);
		iks_wire w;
		if (!iks_parse(b, l, &x) || !iks_parse_wire(b, l, &x, &w))
			continue;
		uint64_t k = x.wire_digest;
		g_assert_cmphex(k, !=, 0);
		const iks_wire *before = g_hash_table_lookup(seen, &k);
		if (before) {
			g_assert_true(same_wire(before, &w));
			equal++;
		} else {
			g_hash_table_insert(seen, g_memdup2(&k, sizeof k), g_memdup2(&w, sizeof w));
		}
	}
	g_assert_cmpuint(equal, >, 1000); /* the damage repeats: the property was put to the test */
	g_rand_free(rnd);
	g_hash_table_destroy(seen);
}

/* Feeds MM1 bytes b as the glue does (the proposals parsed only when their bytes were not seen);
 * forged: a wire digest to claim instead of the bytes' own. *seen_out: what iks_fsm_wire_seen said. */
static const iks_result *feed_mm1(iks_fsm *fsm, const uint8_t *b, size_t len, uint32_t frame, uint64_t forged,
				  uint32_t *seen_out)
{
	iks_msg m;
	memset(&m, 0, sizeof m);
	g_assert_true(iks_parse(b, len, &m));
	if (forged)
		m.wire_digest = forged;
	m.src = A;
	m.dst = B;
	m.frame = frame;
	m.ts_ns = frame * INT64_C(1000000000);
	iks_wire w;
	m.wire_rec = iks_fsm_wire_seen(fsm, &m);
	if (!m.wire_rec && iks_parse_wire(b, len, &m, &w))
		m.wire = &w;
	*seen_out = m.wire_rec;
	const iks_result *r = iks_fsm_feed(fsm, &m);
	g_assert_nonnull(r);
	return r;
}

/* A message whose SA and VID bytes were seen is fed without a parse: it gets the same proposals and
 * implementation as the one that was parsed. Bytes that only share the digest (a collision, which
 * a sender can build: the hash is fast, not collision-proof) are parsed: their own proposals. */
static void test_wire_known(void)
{
	uint8_t b[300];
	size_t sa_at, len = v1_mm1(b, &sa_at);
	iks_fsm *fsm = iks_fsm_new(NULL);
	uint32_t seen;
	const iks_result *r0 = feed_mm1(fsm, b, len, 1, 0, &seen);
	g_assert_cmpuint(seen, ==, 0);
	b[7] = 2; /* another tunnel, the same offer */
	const iks_result *r1 = feed_mm1(fsm, b, len, 2, 0, &seen);
	g_assert_cmpuint(seen, !=, 0);
	g_assert_cmpuint(r0->tunnel, !=, r1->tunnel);
	const iks_offer *o = iks_fsm_offer(fsm, r1);
	g_assert_nonnull(o);
	g_assert_true(o == iks_fsm_offer(fsm, r0));
	g_assert_cmpuint(o->n, ==, 2);
	g_assert_true(iks_fsm_impl(fsm, r1) == iks_fsm_impl(fsm, r0));

	/* Another offer (3DES -> AES-CBC in the second transform) claiming the first one's digest. */
	iks_msg m0;
	memset(&m0, 0, sizeof m0);
	g_assert_true(iks_parse(b, len, &m0));
	b[7] = 3;
	uint8_t *enc = memchr(b + sa_at + 12 + 8 + 8 + 32, 5, 40); /* transform 2's encryption value 5 */
	g_assert_nonnull(enc);
	*enc = 7;
	const iks_result *r2 = feed_mm1(fsm, b, len, 3, m0.wire_digest, &seen);
	g_assert_cmpuint(seen, ==, 0);
	const iks_offer *o2 = iks_fsm_offer(fsm, r2);
	g_assert_nonnull(o2);
	g_assert_true(o2 != o);
	char s[240];
	g_assert_cmpstr(iks_proposal_str(1, &o2->p[1], s, sizeof s), ==, "AES-CBC/SHA1/MODP-1024/RSA-SIG");
	iks_fsm_free(fsm);

	/* Past IKS_WIRE_SEEN_MAX distinct byte sets new ones are parsed every time, and still right. */
	fsm = iks_fsm_new(NULL);
	for (uint32_t k = 0; k <= IKS_WIRE_SEEN_MAX + 1; k++) {
		len = v1_mm1(b, &sa_at);
		b[7] = (uint8_t)k;
		b[6] = (uint8_t)(k >> 8);
		b[len - 1] = (uint8_t)k; /* the VID: another byte set each time */
		b[len - 2] = (uint8_t)(k >> 8);
		const iks_result *r = feed_mm1(fsm, b, len, k + 1, 0, &seen);
		g_assert_cmpuint(seen, ==, 0);
		g_assert_nonnull(iks_fsm_offer(fsm, r));
		if (k == IKS_WIRE_SEEN_MAX + 1) {
			b[5] = 1; /* the same bytes again, another tunnel: past the limit, not remembered */
			feed_mm1(fsm, b, len, k + 2, 0, &seen);
			g_assert_cmpuint(seen, ==, 0);
		}
	}
	iks_fsm_free(fsm);
}

/* IKEv2 IKE_SA_INIT: two proposals (the second with two ENCR alternatives), a KE, and in the answer
 * an INVALID_KE_PAYLOAD with the group the responder wants. */
static void test_parse_wire_v2(void)
{
	uint8_t b[300];
	size_t o = put_hdr(b, IKS_PL2_SA, IKS_EXCH_IKE_SA_INIT, IKS_FLAG_V2_INITIATOR, 0);
	b[17] = 0x20;
	size_t sa = o;
	o += 4;
	static const uint16_t p1[][3] = { { 1, 12, 256 }, { 3, 12, 0 }, { 2, 5, 0 }, { 4, 20, 0 } };
	static const uint16_t p2[][3] = { { 1, 20, 128 }, { 1, 20, 256 }, { 2, 7, 0 }, { 4, 31, 0 } };
	const uint16_t (*props[2])[3] = { p1, p2 };
	for (unsigned p = 0; p < 2; p++) {
		size_t prop = o;
		o += 4;
		b[o++] = (uint8_t)(p + 1);
		b[o++] = 1;   /* IKE */
		b[o++] = 0;
		b[o++] = 4;
		for (unsigned t = 0; t < 4; t++) {
			size_t tr = o;
			o += 4;
			b[o++] = (uint8_t)props[p][t][0];
			b[o++] = 0;
			o += put16(b + o, props[p][t][1]);
			if (props[p][t][2])
				o += put_tv(b + o, 14, props[p][t][2]);
			put_sub(b + tr, t < 3 ? 3 : 0, o - tr);
		}
		put_sub(b + prop, p == 0 ? 2 : 0, o - prop);
	}
	b[sa] = IKS_PL2_KE;
	put16(b + sa + 2, (unsigned)(o - sa));
	o += put_pl(b + o, 0, 8 + 32);
	put16(b + o - 40 + 4, 20);
	put16(b + 26, (unsigned)o);
	iks_msg m;
	memset(&m, 0, sizeof m);
	g_assert_true(iks_parse(b, o, &m));
	g_assert_cmpuint(m.ke_group, ==, 20);
	iks_wire w;
	g_assert_true(iks_parse_wire(b, o, &m, &w));
	g_assert_cmpuint(w.offer.n, ==, 2);
	char s[240];
	g_assert_cmpstr(iks_proposal_str(2, &w.offer.p[0], s, sizeof s), ==,
			"AES-CBC-256/HMAC-SHA2-256-128/PRF-HMAC-SHA2-256/ECP-384");
	g_assert_cmpstr(iks_proposal_str(2, &w.offer.p[1], s, sizeof s), ==,
			"AES-GCM-16-128|AES-GCM-16-256/PRF-HMAC-SHA2-512/CURVE25519");

	/* The answer: N(INVALID_KE_PAYLOAD) with a 2-byte group, no SA. */
	o = put_hdr(b, IKS_PL2_NOTIFY, IKS_EXCH_IKE_SA_INIT, IKS_FLAG_V2_RESPONSE, 28 + 10);
	b[17] = 0x20;
	put_pl(b + o, 0, 10);
	put16(b + o + 6, IKS_N_INVALID_KE_PAYLOAD);
	put16(b + o + 8, 31);
	memset(&m, 0, sizeof m);
	g_assert_true(iks_parse(b, o + 10, &m));
	g_assert_cmpuint(m.ke_wanted, ==, 31);
	g_assert_false(iks_wants_wire(&m));
	/* Its data cut off: no group. */
	put16(b + o + 2, 9);
	put16(b + 26, 28 + 9);
	g_assert_true(iks_parse(b, o + 9, &m));
	g_assert_cmpuint(m.ke_wanted, ==, 0);
}

/* The implementation from Vendor IDs: capabilities name none, the most specific VID wins, an
 * unknown VID shows as its first bytes only when nothing is known. */
static void test_parse_impl(void)
{
	static const uint8_t dpd[16] = { 0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9, 0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 1, 0 };
	static const uint8_t unity[16] = { 0x12, 0xf5, 0xf2, 0x8c, 0x45, 0x71, 0x68, 0xa9, 0x70, 0x2d, 0x9f, 0xe2, 0x74, 0xcc, 1, 0 };
	static const uint8_t win7[20] = { 0x1e, 0x2b, 0x51, 0x69, 0x05, 0x99, 0x1c, 0x7d, 0x7c, 0x96,
					  0xfc, 0xbf, 0xb5, 0x87, 0xe4, 0x61, 0, 0, 0, 7 };
	static const uint8_t other[4] = { 0xde, 0xad, 0xbe, 0xef };
	iks_wire w;
	memset(&w, 0, sizeof w);
	char buf[64];
	memcpy(w.vid[0], dpd, 16);
	w.vid_len[0] = 16;
	w.n_vid = 1;
	iks_impl i = iks_impl_of(&w);
	g_assert_false(iks_impl_known(&i));
	memcpy(w.vid[1], other, 4);
	w.vid_len[1] = 4;
	w.n_vid = 2;
	i = iks_impl_of(&w);
	g_assert_cmpstr(iks_impl_str(&i, buf, sizeof buf), ==, "unknown (VID deadbeef…)");
	memcpy(w.vid[2], unity, 16);
	w.vid_len[2] = 16;
	memcpy(w.vid[3], win7, 20);
	w.vid_len[3] = 20;
	w.n_vid = 4;
	i = iks_impl_of(&w);
	g_assert_cmpstr(iks_impl_str(&i, buf, sizeof buf), ==, "Windows 7");
	w.vid_len[3] = 16; /* the version cut off: the generic Windows row */
	i = iks_impl_of(&w);
	g_assert_cmpstr(iks_impl_str(&i, buf, sizeof buf), ==, "Windows (MS NT5 ISAKMPOAKLEY)");
}

/* A decrypted quick mode's payload chain: HASH, SA (one ESP proposal, two transforms), NONCE, IDci
 * (an IPv4 subnet), IDcr (an IPv4 range, UDP port 500). Returns its length. */
static size_t v1_qm_inner(uint8_t *b, size_t *sa_at)
{
	size_t o = put_pl(b, IKS_PL_SA, 24); /* HASH */
	*sa_at = o;
	size_t sa = o, prop;
	o += v1_sa_head(b + o, 3, 4, 2, &prop); /* ESP, 4-byte SPI, two transforms */
	prop += sa;
	/* ESP AES-CBC (12), HMAC-SHA2-256, key length 256, group 15 (PFS), tunnel. */
	o += v1_transform(b + o, 3, 1, 12, (const unsigned[]){ 5, 5, 6, 256, 3, 15, 4, 1 }, 4);
	/* ESP 3DES (3), HMAC-SHA1, no PFS, UDP tunnel (RFC 3947). */
	o += v1_transform(b + o, 0, 2, 3, (const unsigned[]){ 5, 2, 4, 3 }, 2);
	put_sub(b + prop, 0, o - prop);
	b[sa] = IKS_PL_NONCE;
	put16(b + sa + 2, (unsigned)(o - sa));
	o += put_pl(b + o, IKS_PL_ID, 20); /* NONCE */
	size_t idci = o;
	o += put_pl(b + o, IKS_PL_ID, 16);
	b[idci + 4] = 4; /* ID_IPV4_ADDR_SUBNET 10.1.2.3 / 255.255.255.0 */
	memcpy(b + idci + 8, (const uint8_t[]){ 10, 1, 2, 3, 255, 255, 255, 0 }, 8);
	size_t idcr = o;
	o += put_pl(b + o, 0, 16);
	b[idcr + 4] = 7; /* ID_IPV4_ADDR_RANGE 10.9.0.5 - 10.9.0.9, udp/500 */
	b[idcr + 5] = 17;
	put16(b + idcr + 6, 500);
	memcpy(b + idcr + 8, (const uint8_t[]){ 10, 9, 0, 5, 10, 9, 0, 9 }, 8);
	memset(b + o, 0x55, 7); /* CBC padding after the chain */
	return o + 7;
}

/* A decrypted message's facts as the glue has them before iks_parse_inner. */
static iks_msg decrypted_msg(uint8_t version, uint8_t exch)
{
	iks_msg m;
	memset(&m, 0, sizeof m);
	m.version = version;
	m.exch = exch;
	return m;
}

static void test_parse_inner_v1(void)
{
	uint8_t b[300];
	size_t sa_at, len = v1_qm_inner(b, &sa_at);
	iks_msg m = decrypted_msg(1, IKS_EXCH_QUICK);
	iks_child c;
	g_assert_true(iks_parse_inner(b, len, IKS_PL_HASH, &m, &c));
	g_assert_cmpuint(c.offer.n, ==, 2);
	char s[240];
	g_assert_cmpstr(iks_proposal_str(1, &c.offer.p[0], s, sizeof s), ==, "AES-CBC-256/HMAC-SHA2-256/MODP-3072/TUNNEL");
	g_assert_cmpstr(iks_proposal_str(1, &c.offer.p[1], s, sizeof s), ==, "3DES/HMAC-SHA1/UDP-TUNNEL");
	g_assert_true(c.has_ts);
	g_assert_cmpuint(c.n_ts[0], ==, 1);
	g_assert_cmpuint(c.n_ts[1], ==, 1);
	g_assert_cmpstr(iks_ts_str(&c.ts[0][0], s, sizeof s), ==, "10.1.2.0/24");
	g_assert_cmpstr(iks_ts_str(&c.ts[1][0], s, sizeof s), ==, "10.9.0.5-10.9.0.9[udp/500]");
	/* Outside quick mode an ID payload is the peer's identity, not a selector. */
	m.exch = IKS_EXCH_INFO;
	g_assert_true(iks_parse_inner(b, len, IKS_PL_HASH, &m, &c));
	g_assert_false(c.has_ts);
	m.exch = IKS_EXCH_QUICK;
	/* Every cut: no read past it (ASan), nothing beyond what is whole. */
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *t = g_memdup2(b, cut);
		iks_parse_inner(t, cut, IKS_PL_HASH, &m, &c);
		g_assert_cmpuint(c.offer.n, <=, 2);
		g_assert_cmpuint(c.n_ts[0] + c.n_ts[1], <=, 2);
		g_free(t);
	}
	/* Garbage in place of the chain (a wrong key): never a crash, never past the caps. */
	GRand *rnd = g_rand_new_with_seed(23);
	for (int n = 0; n < 20000; n++) {
		len = v1_qm_inner(b, &sa_at);
		for (size_t i = (size_t)g_rand_int_range(rnd, 0, 40); i < len; i++)
			if (g_rand_int_range(rnd, 0, 4) == 0)
				b[i] = (uint8_t)g_rand_int(rnd);
		iks_parse_inner(b, len, IKS_PL_HASH, &m, &c);
		g_assert_cmpuint(c.offer.n, <=, IKS_MAX_PROPOSALS);
		g_assert_cmpuint(c.n_ts[0], <=, 1);
		g_assert_cmpuint(c.n_ts[1], <=, 1);
	}
	g_rand_free(rnd);
}

/* What only decrypted payloads show, parsed from them: notify types and a 4-byte SPI, a Delete of
 * the IKE SA, XAUTH / mode-config attributes, EAP, CP; a chain that runs past its end is garbage
 * (a key that is not the sender's). */
static void test_parse_inner_facts(void)
{
	uint8_t b[200];
	iks_child c;
	/* IKEv1 Informational: HASH, N(INVALID_ID_INFORMATION, protocol ESP, SPI 0x01020304), D(ISAKMP). */
	memset(b, 0, sizeof b);
	size_t o = put_pl(b, IKS_PL_NOTIFY, 24);
	size_t n = o;
	o += put_pl(b + o, IKS_PL_DELETE, 16);
	b[n + 8] = 3; b[n + 9] = 4; put16(b + n + 10, IKS_N_INVALID_ID_INFORMATION);
	memcpy(b + n + 12, (const uint8_t[]){ 1, 2, 3, 4 }, 4);
	size_t d = o;
	o += put_pl(b + o, 0, 16);
	b[d + 8] = 1; /* protocol ISAKMP */
	iks_msg m = decrypted_msg(1, IKS_EXCH_INFO);
	m.decryption = IKS_DECRYPT_OK;
	g_assert_false(iks_parse_inner(b, o + 5, IKS_PL_HASH, &m, &c));
	g_assert_true(iks_has_notify(&m, IKS_N_INVALID_ID_INFORMATION));
	g_assert_true(iks_has_payload(&m, IKS_PL_DELETE));
	g_assert_cmpuint(m.n_spi, ==, 1);
	g_assert_cmphex(m.spi[0], ==, 0x01020304);
	g_assert_cmpuint(m.decryption, ==, IKS_DECRYPT_OK);
	/* A Delete of an IPsec SA is not the IKE SA's. */
	b[d + 8] = 3;
	m = decrypted_msg(1, IKS_EXCH_INFO);
	iks_parse_inner(b, o, IKS_PL_HASH, &m, &c);
	g_assert_false(iks_has_payload(&m, IKS_PL_DELETE));
	/* The same bytes with the Delete's length past the end: garbage. */
	put16(b + d + 2, 200);
	m = decrypted_msg(1, IKS_EXCH_INFO);
	m.decryption = IKS_DECRYPT_OK;
	iks_parse_inner(b, o, IKS_PL_HASH, &m, &c);
	g_assert_cmpuint(m.decryption, ==, IKS_DECRYPT_GARBAGE);
	/* A Notify too short for its type, last and alone in a heap copy of exactly its bytes: no type
	 * is read, nor any byte past it (a sanitized build of this test sees such a read). */
	for (unsigned v = 1; v <= 2; v++) {
		for (uint16_t len = 4; len < (v == 1 ? 12 : 8); len++) {
			uint8_t *h = g_malloc0(len);
			put_pl(h, 0, len);
			m = decrypted_msg(v, v == 1 ? IKS_EXCH_INFO : IKS_EXCH_INFORMATIONAL);
			iks_parse_inner(h, len, v == 1 ? IKS_PL_NOTIFY : IKS_PL2_NOTIFY, &m, &c);
			g_assert_cmpuint(m.n_notify, ==, 0);
			g_free(h);
		}
	}

	/* IKEv1 transaction: HASH, attributes SET with XAUTH_STATUS (TV) FAIL. */
	memset(b, 0, sizeof b);
	o = put_pl(b, IKS_PL_ATTR, 24);
	size_t a = o;
	o += put_pl(b + o, 0, 8 + 4);
	b[a + 4] = IKS_CFG_SET;
	put_tv(b + a + 8, 16527, 0);
	m = decrypted_msg(1, IKS_EXCH_TRANSACTION);
	iks_parse_inner(b, o, IKS_PL_HASH, &m, &c);
	g_assert_cmpuint(m.ra.cfg_type, ==, IKS_CFG_SET);
	g_assert_cmpuint(m.ra.cfg, ==, IKS_CFG_HAS_XAUTH | IKS_CFG_HAS_XAUTH_FAIL);

	/* IKEv2: EAP Request MSCHAPv2 (26), CP REPLY with an INTERNAL_IP4_ADDRESS. */
	memset(b, 0, sizeof b);
	o = put_pl(b, IKS_PL2_CP, 4 + 10);
	b[4] = IKS_EAP_REQUEST; b[5] = 7; put16(b + 6, 10); b[8] = 26;
	size_t cp = o;
	o += put_pl(b + o, 0, 8 + 8);
	b[cp + 4] = IKS_CFG_REPLY;
	put16(b + cp + 8, 1); put16(b + cp + 10, 4);
	memcpy(b + cp + 12, (const uint8_t[]){ 10, 99, 0, 1 }, 4);
	m = decrypted_msg(2, IKS_EXCH_IKE_AUTH);
	iks_parse_inner(b, o, IKS_PL2_EAP, &m, &c);
	g_assert_cmpuint(m.ra.eap_code, ==, IKS_EAP_REQUEST);
	g_assert_cmpuint(m.ra.eap_type, ==, 26);
	g_assert_cmpuint(m.ra.cfg_type, ==, IKS_CFG_REPLY);
	g_assert_cmpuint(m.ra.cfg, ==, IKS_CFG_HAS_ADDRESS_ASKED | IKS_CFG_HAS_ADDRESS);
	/* A request asks with an empty value. */
	put16(b + cp + 10, 0);
	put16(b + cp + 2, 8 + 4);
	m = decrypted_msg(2, IKS_EXCH_IKE_AUTH);
	iks_parse_inner(b, cp + 12, IKS_PL2_EAP, &m, &c);
	g_assert_cmpuint(m.ra.cfg, ==, IKS_CFG_HAS_ADDRESS_ASKED);
}

/* IKEv2 child SA: SA (ESP AES-GCM-16 256, no integrity), TSi with two selectors (one IPv6, one of
 * an unknown type that is skipped), TSr with one. */
static void test_parse_inner_v2(void)
{
	uint8_t b[300];
	memset(b, 0, sizeof b);
	size_t o = 4; /* the SA payload's header, filled below */
	size_t prop = o;
	o += 4;
	b[o++] = 1; b[o++] = 3; b[o++] = 4; b[o++] = 2; /* proposal 1, ESP, SPI size 4, 2 transforms */
	memset(b + o, 0xcd, 4);
	o += 4;
	size_t t1 = o;
	o += 4;
	b[o++] = IKS_X_ENCR; b[o++] = 0; o += put16(b + o, 20);
	o += put_tv(b + o, 14, 256);
	put_sub(b + t1, 3, o - t1);
	size_t t2 = o;
	o += 4;
	b[o++] = IKS_X_ESN; b[o++] = 0; o += put16(b + o, 0);
	put_sub(b + t2, 0, o - t2);
	put_sub(b + prop, 0, o - prop);
	b[0] = IKS_PL2_TSI;
	put16(b + 2, (unsigned)o);
	size_t tsi = o;
	o += put_pl(b + o, IKS_PL2_TSR, 8 + 40 + 12);
	b[tsi + 4] = 2;
	size_t sel = tsi + 8;
	b[sel] = 8; b[sel + 1] = 6; put16(b + sel + 2, 40); put16(b + sel + 4, 443); put16(b + sel + 6, 443);
	memcpy(b + sel + 8, (const uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, 0, 1 }, 6);
	memcpy(b + sel + 24, (const uint8_t[]){ 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 16);
	sel += 40;
	b[sel] = 9; put16(b + sel + 2, 12); /* an unknown selector type */
	size_t tsr = o;
	o += put_pl(b + o, 0, 8 + 16);
	b[tsr + 4] = 1;
	b[tsr + 8] = 7; put16(b + tsr + 10, 16); put16(b + tsr + 14, 65535);
	memcpy(b + tsr + 16, (const uint8_t[]){ 192, 0, 2, 0, 192, 0, 2, 255 }, 8);
	iks_msg m = decrypted_msg(2, IKS_EXCH_IKE_AUTH);
	iks_child c;
	g_assert_true(iks_parse_inner(b, o, IKS_PL2_SA, &m, &c));
	g_assert_cmpuint(c.offer.n, ==, 1);
	char s[240];
	g_assert_cmpstr(iks_proposal_str(2, &c.offer.p[0], s, sizeof s), ==, "AES-GCM-16-256");
	g_assert_cmpuint(c.n_ts[0], ==, 1);
	g_assert_cmpuint(c.n_ts[1], ==, 1);
	g_assert_cmpstr(iks_ts_str(&c.ts[0][0], s, sizeof s), ==, "2001:db8:1::/48[tcp/443]");
	g_assert_cmpstr(iks_ts_str(&c.ts[1][0], s, sizeof s), ==, "192.0.2.0/24");
	g_assert_false(iks_ts_eq(&c.ts[0][0], &c.ts[1][0]));
	for (size_t cut = 0; cut < o; cut++) {
		uint8_t *t = g_memdup2(b, cut);
		iks_parse_inner(t, cut, IKS_PL2_SA, &m, &c);
		g_assert_cmpuint(c.n_ts[0] + c.n_ts[1], <=, 2);
		g_free(t);
	}
	/* An IKE SA rekey (protocol IKE) is no child SA proposal. */
	b[prop + 5] = 1;
	iks_parse_inner(b, o, IKS_PL2_SA, &m, &c);
	g_assert_cmpuint(c.offer.n, ==, 0);
}

/* Selectors as text: host, subnet, range, ports without a protocol. */
static void test_ts_text(void)
{
	iks_ts ts = { { 198, 51, 100, 1 }, { 198, 51, 100, 1 }, 0, 65535, 4, 0 };
	char s[120];
	g_assert_cmpstr(iks_ts_str(&ts, s, sizeof s), ==, "198.51.100.1/32");
	ts.lo[3] = 0;
	ts.hi[3] = 127;
	g_assert_cmpstr(iks_ts_str(&ts, s, sizeof s), ==, "198.51.100.0/25");
	ts.lo[3] = 1;
	g_assert_cmpstr(iks_ts_str(&ts, s, sizeof s), ==, "198.51.100.1-198.51.100.127");
	ts.lo[3] = 0;
	ts.hi[2] = 101;
	ts.hi[3] = 255;
	g_assert_cmpstr(iks_ts_str(&ts, s, sizeof s), ==, "198.51.100.0/23");
	ts.hi[2] = 102;
	g_assert_cmpstr(iks_ts_str(&ts, s, sizeof s), ==, "198.51.100.0-198.51.102.255");
	ts.port_lo = 1024;
	g_assert_cmpstr(iks_ts_str(&ts, s, sizeof s), ==, "198.51.100.0-198.51.102.255[0/1024-65535]");
	memset(ts.lo, 0, 4);
	memset(ts.hi, 0xff, 4);
	ts.proto = 50;
	ts.port_lo = 0;
	g_assert_cmpstr(iks_ts_str(&ts, s, sizeof s), ==, "0.0.0.0/0[50]");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/parse/delete-protocol", test_parse_delete_protocol);
	g_test_add_func("/parse/payload-chain", test_parse_payload_chain);
	g_test_add_func("/parse/ikev2", test_parse_ikev2);
	g_test_add_func("/parse/hostile", test_parse_hostile);
	g_test_add_func("/parse/wire-v1", test_parse_wire_v1);
	g_test_add_func("/parse/wire-v2", test_parse_wire_v2);
	g_test_add_func("/parse/wire-hostile", test_parse_wire_hostile);
	g_test_add_func("/parse/wire-digest", test_wire_digest);
	g_test_add_func("/parse/wire-known", test_wire_known);
	g_test_add_func("/parse/impl", test_parse_impl);
	g_test_add_func("/parse/inner-v1", test_parse_inner_v1);
	g_test_add_func("/parse/inner-v2", test_parse_inner_v2);
	g_test_add_func("/parse/inner-facts", test_parse_inner_facts);
	g_test_add_func("/parse/ts-text", test_ts_text);
	return g_test_run();
}
