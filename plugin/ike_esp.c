/* ike_esp.c — the ESP data plane after the negotiation: packets and bytes per SPI and direction,
 * each SA linked to an IKE SA, and the one-way flag (the `show crypto ipsec sa` picture "encaps
 * rising, decaps zero" on the sending side).
 *
 * Without keys an ESP packet names only its SPI and addresses: which IKE SA it belongs to is decided
 * by the caller when its first packet is seen (iks_esp_add), and kept for the SA's life.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ike_machine.h"

#include <string.h>

/* Keys of the tables are iks_esp_sa (ports cleared: NAT-T moves them); the pair table's have
 * spi 0 and count nothing, they only say "ESP went this way". */
static uint32_t addr_word(const iks_addr *a)
{
	uint32_t w = 0;
	if (a->len >= 4)
		memcpy(&w, a->bytes + a->len - 4, 4);
	return w;
}

/* Runs for every ESP packet: the SPI (random) and the last four bytes of each address, mixed by
 * multiplication, instead of a byte-wise hash over both addresses. */
static guint esp_hash(gconstpointer k)
{
	const iks_esp_sa *s = k;
	return (s->spi * 2654435761u) ^ (addr_word(&s->src) * 0x85ebca6bu) ^ (addr_word(&s->dst) * 0xc2b2ae35u);
}

static gboolean esp_equal(gconstpointer a, gconstpointer b)
{
	const iks_esp_sa *x = a, *y = b;
	return x->spi == y->spi && iks_addr_eq(&x->src, &y->src) && iks_addr_eq(&x->dst, &y->dst);
}

static iks_esp_sa esp_key(const iks_addr *src, const iks_addr *dst, uint32_t spi)
{
	iks_esp_sa k;
	memset(&k, 0, sizeof k);
	k.src = *src;
	k.dst = *dst;
	k.src.port = k.dst.port = 0;
	k.spi = spi;
	return k;
}

/* Key of the SPI table: the receiver that announced the SPI (src left empty). */
static iks_esp_sa spi_key(const iks_addr *receiver, uint32_t spi)
{
	iks_addr none;
	memset(&none, 0, sizeof none);
	return esp_key(&none, receiver, spi);
}

static GHashTable *esp_table(void)
{
	return g_hash_table_new_full(esp_hash, esp_equal, g_free, NULL);
}

void iks_esp_free(iks_machine *mc)
{
	if (mc->esp_sas) {
		g_hash_table_destroy(mc->esp_sas);
		g_hash_table_destroy(mc->esp_pairs);
	}
	if (mc->esp_spis)
		g_hash_table_destroy(mc->esp_spis);
}

/* A decrypted SA proposal names the SPI its sender will receive ESP on: the exact link of the ESP
 * SA to its IKE SA and to the message, whatever other IKE SAs the two peers have. */
void iks_esp_note_spis(iks_machine *mc, const iks_msg *m, const iks_result *r)
{
	if (!r->tunnel || r->retrans)
		return;
	if (!mc->esp_spis)
		mc->esp_spis = esp_table();
	for (unsigned i = 0; i < m->n_spi && i < IKS_MAX_SPI; i++) {
		iks_esp_sa k = spi_key(&m->src, m->spi[i]);
		if (!k.spi || g_hash_table_contains(mc->esp_spis, &k))
			continue;
		iks_esp_sa *s = g_memdup2(&k, sizeof k);
		s->tunnel = r->tunnel;
		s->negotiated_in = m->frame;
		g_hash_table_add(mc->esp_spis, s);
	}
}

const iks_esp_sa *iks_esp_negotiated(const iks_machine *mc, const iks_addr *receiver, uint32_t spi)
{
	iks_esp_sa k = spi_key(receiver, spi);
	return mc->esp_spis ? g_hash_table_lookup(mc->esp_spis, &k) : NULL;
}

const iks_esp_sa *iks_esp_lookup(const iks_machine *mc, const iks_addr *src, const iks_addr *dst, uint32_t spi)
{
	iks_esp_sa k = esp_key(src, dst, spi);
	return mc->esp_sas ? g_hash_table_lookup(mc->esp_sas, &k) : NULL;
}

iks_esp_sa *iks_esp_find(iks_machine *mc, const iks_addr *src, const iks_addr *dst, uint32_t spi)
{
	if (!mc->esp_sas)
		return NULL;
	iks_esp_sa k = esp_key(src, dst, spi);
	/* Packets of one SA often come in a row (bursts, one big transfer): try the last one first. */
	if (mc->esp_last && esp_equal(mc->esp_last, &k))
		return mc->esp_last;
	return g_hash_table_lookup(mc->esp_sas, &k);
}

iks_esp_sa *iks_esp_add(iks_machine *mc, uint32_t frame, int64_t ts_ns, const iks_addr *src, const iks_addr *dst,
			uint32_t spi, bool udp, const iks_tunnel *t, uint32_t negotiated_in)
{
	if (!mc->esp_sas) {
		mc->esp_sas = esp_table();
		mc->esp_pairs = esp_table();
	}
	iks_esp_sa k = esp_key(src, dst, spi);
	iks_esp_sa *sa = g_memdup2(&k, sizeof k);
	sa->first_ns = ts_ns;
	sa->first_frame = frame;
	sa->udp = udp;
	sa->negotiated_in = negotiated_in;
	if (t) {
		sa->tunnel = t->id;
		sa->role = (uint8_t)iks_role_of(t, iks_addr_eq(src, &t->ref) ? DIR_REF : DIR_OTHER);
	}
	g_hash_table_add(mc->esp_sas, sa);
	if (spi && !g_hash_table_contains(mc->esp_pairs, &k)) {
		iks_esp_sa *p = g_memdup2(&k, sizeof k);
		p->spi = 0;
		g_hash_table_add(mc->esp_pairs, p);
	}
	return sa;
}

void iks_esp_count(iks_machine *mc, iks_esp_sa *sa, uint32_t frame, int64_t ts_ns, const iks_addr *src, uint32_t len)
{
	mc->esp_last = sa;
	if (ts_ns > mc->last_ns)
		mc->last_ns = ts_ns; /* the capture end for the final verdicts: ESP says time went on */
	if (sa->packets < UINT32_MAX)
		sa->packets++;
	sa->bytes += len;
	sa->last_ns = ts_ns;
	sa->last_frame = frame;
	if (!sa->tunnel)
		return;
	iks_tunnel *t = iks_tunnel_at(mc, sa->tunnel);
	if (!t->esp)
		t->esp = iks_alloc(mc, sizeof *t->esp);
	t->esp->last_ns = ts_ns;
	if (!sa->spi)
		t->esp->keepalives++;
	else if (sa->role)
		t->esp->packets[sa->role == IKS_ROLE_RESPONDER]++;
	else /* roles unknown: the summary reports first sender and peer */
		t->esp->packets[!iks_addr_eq(src, &t->ref)]++;
}

/* Capture end: an SA is one-way when it carried enough packets and no ESP at all went from its
 * receiver back to its sender (any SPI: a rekey changes SPIs, not the picture). */
void iks_esp_finish(iks_machine *mc)
{
	if (!mc->esp_sas)
		return; /* and no tunnel has ESP */
	for (uint32_t i = 1; i <= mc->tunnel_pool.n; i++) {
		iks_tunnel *t = iks_tunnel_at(mc, i);
		if (t->esp)
			t->esp->one_way = 0;
	}
	GHashTableIter it;
	gpointer k;
	g_hash_table_iter_init(&it, mc->esp_sas);
	while (g_hash_table_iter_next(&it, &k, NULL)) {
		iks_esp_sa *sa = k;
		iks_esp_sa back = esp_key(&sa->dst, &sa->src, 0);
		sa->one_way = sa->spi && sa->packets >= IKS_ESP_ONE_WAY_MIN && !g_hash_table_contains(mc->esp_pairs, &back);
		if (sa->one_way && sa->tunnel)
			iks_tunnel_at(mc, sa->tunnel)->esp->one_way++; /* esp: from the SA's first packet */
	}
}
