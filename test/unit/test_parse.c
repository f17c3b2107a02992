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

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/parse/delete-protocol", test_parse_delete_protocol);
	g_test_add_func("/parse/payload-chain", test_parse_payload_chain);
	g_test_add_func("/parse/ikev2", test_parse_ikev2);
	g_test_add_func("/parse/hostile", test_parse_hostile);
	return g_test_run();
}
