/* ike_store.c — the machine's memory and small table helpers (ike_machine.h): tunnels, exchanges
 * and what they add on demand live as long as the machine, in blocks it owns and frees at once,
 * without an allocator header each. Pools for what is found by index, the arena (iks_alloc) for
 * the rest, blocks of results.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ike_machine.h"

#include <string.h>

#define RESULTS_PER_BLOCK 1024
#define POOL_BLOCK 256 /* items */
#define ARENA_BLOCK (64 * 1024)

void iks_pool_init(iks_pool *p, size_t size)
{
	p->blocks = g_ptr_array_new_with_free_func(g_free);
	p->n = 0;
	p->size = (uint32_t)size;
}

uint32_t iks_pool_add(iks_pool *p)
{
	if (p->n % POOL_BLOCK == 0)
		g_ptr_array_add(p->blocks, g_malloc0((size_t)p->size * POOL_BLOCK));
	return ++p->n;
}

void *iks_pool_at(const iks_pool *p, uint32_t num)
{
	if (!num)
		return NULL;
	uint32_t i = num - 1;
	return (char *)g_ptr_array_index(p->blocks, i / POOL_BLOCK) + (size_t)(i % POOL_BLOCK) * p->size;
}

void iks_pool_free(iks_pool *p)
{
	g_ptr_array_free(p->blocks, TRUE);
}

void *iks_alloc(iks_machine *mc, size_t size)
{
	size = (size + 7) & ~(size_t)7; /* nothing stored is aligned wider than int64_t and pointers */
	if (size > mc->arena_left) {
		mc->arena = g_slist_prepend(mc->arena, g_malloc0(ARENA_BLOCK));
		mc->arena_left = ARENA_BLOCK;
	}
	void *p = (char *)mc->arena->data + (ARENA_BLOCK - mc->arena_left);
	mc->arena_left -= size;
	return p;
}

/* A forgotten exchange's memory holds the link to the next one. */
typedef union free_exchange {
	iks_exchange e;
	union free_exchange *next;
} free_exchange;

iks_exchange *iks_exchange_new(iks_machine *mc)
{
	free_exchange *f = mc->free_exchanges;
	iks_exchange *e;
	if (f) {
		mc->free_exchanges = f->next;
		e = &f->e;
		memset(e, 0, sizeof *e);
	} else {
		e = iks_alloc(mc, sizeof *e);
	}
	return e;
}

void iks_exchange_forget(iks_machine *mc, iks_exchange *e)
{
	if (e->v2) {
		memcpy(iks_pool_at(&mc->v2_pool, e->v2), &mc->free_v2, sizeof mc->free_v2);
		mc->free_v2 = e->v2;
	}
	free_exchange *f = (free_exchange *)e;
	f->next = mc->free_exchanges;
	mc->free_exchanges = f;
}

uint32_t iks_v2_items_new(iks_machine *mc)
{
	uint32_t num = mc->free_v2;
	if (!num)
		return iks_pool_add(&mc->v2_pool);
	void *item = iks_pool_at(&mc->v2_pool, num);
	memcpy(&mc->free_v2, item, sizeof mc->free_v2);
	memset(item, 0, mc->v2_pool.size);
	return num;
}

iks_result *iks_new_result(iks_machine *mc)
{
	if (!mc->results->len || mc->used == RESULTS_PER_BLOCK) {
		g_ptr_array_add(mc->results, g_new(iks_result, RESULTS_PER_BLOCK));
		mc->used = 0;
	}
	iks_result *r = (iks_result *)g_ptr_array_index(mc->results, mc->results->len - 1) + mc->used++;
	memset(r, 0, sizeof *r);
	return r;
}

uint32_t iks_result_id(const iks_machine *mc, const iks_result *r)
{
	/* The newest block first: the glue asks for the result it was just given. */
	for (guint b = mc->results->len; b-- > 0;) {
		uintptr_t base = (uintptr_t)g_ptr_array_index(mc->results, b), at = (uintptr_t)r;
		if (at >= base && at < base + RESULTS_PER_BLOCK * sizeof *r)
			return (uint32_t)(b * RESULTS_PER_BLOCK + (at - base) / sizeof *r) + 1;
	}
	return 0;
}

iks_result *iks_result_at(const iks_machine *mc, uint32_t id)
{
	uint32_t i = id - 1, b = i / RESULTS_PER_BLOCK;
	if (!id || b >= mc->results->len || (b + 1 == mc->results->len && i % RESULTS_PER_BLOCK >= mc->used))
		return NULL;
	return (iks_result *)g_ptr_array_index(mc->results, b) + i % RESULTS_PER_BLOCK;
}

iks_tunnel *iks_tunnel_at(const iks_machine *mc, uint32_t num)
{
	return iks_pool_at(&mc->tunnel_pool, num);
}

bool iks_addr_eq(const iks_addr *a, const iks_addr *b)
{
	return a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
}

/* FNV-1a over two addresses' bytes (ports left out, as in iks_addr_eq). */
guint iks_addr_pair_hash(guint seed, const iks_addr *a, const iks_addr *b)
{
	guint h = seed;
	for (unsigned i = 0; i < a->len; i++)
		h = (h ^ a->bytes[i]) * 16777619u;
	for (unsigned i = 0; i < b->len; i++)
		h = (h ^ b->bytes[i]) * 16777619u;
	return h;
}

void iks_results_foreach(const iks_machine *mc, void (*fn)(iks_result *r, void *data), void *data)
{
	guint n = mc->results->len;
	for (guint i = 0; i < n; i++) {
		iks_result *block = g_ptr_array_index(mc->results, i);
		for (unsigned k = 0; k < (i + 1 == n ? mc->used : RESULTS_PER_BLOCK); k++)
			fn(&block[k], data);
	}
}

/* ---------------------------------------------------------------------------------------------
 * Sightings
 */
#define SIGHTINGS_FIRST_CAP 256

static uint32_t bucket_of(const iks_sightings *w, uint64_t digest)
{
	/* The digest is a content hash already. */
	return (uint32_t)(digest ^ (digest >> 32)) & (2 * w->cap - 1);
}

static bool kept(const iks_sightings *w, uint32_t seq)
{
	return seq && seq >= w->oldest && seq < w->next;
}

iks_sighting *iks_sighting_at(const iks_sightings *w, uint32_t seq)
{
	return kept(w, seq) ? &w->ring[seq & (w->cap - 1)] : NULL;
}

uint32_t iks_sighting_newest(const iks_sightings *w, uint64_t digest)
{
	if (!w->cap)
		return 0;
	uint32_t seq = w->bucket[bucket_of(w, digest)];
	return kept(w, seq) ? seq : 0;
}

/* Twice the room: the kept sightings move to their new slots and the buckets are chained anew. */
static void grow(iks_sightings *w)
{
	uint32_t old_cap = w->cap;
	iks_sighting *old = w->ring;
	w->cap = old_cap ? 2 * old_cap : SIGHTINGS_FIRST_CAP;
	w->ring = g_new(iks_sighting, w->cap);
	g_free(w->bucket);
	w->bucket = g_new0(uint32_t, 2 * (size_t)w->cap);
	if (!old_cap)
		w->oldest = w->next = 1;
	for (uint32_t seq = w->oldest; seq < w->next; seq++) {
		iks_sighting *s = &w->ring[seq & (w->cap - 1)];
		*s = old[seq & (old_cap - 1)];
		uint32_t b = bucket_of(w, s->digest);
		s->older = w->bucket[b];
		w->bucket[b] = seq;
	}
	g_free(old);
}

uint32_t iks_sighting_add(iks_sightings *w, uint64_t digest)
{
	if (!w->cap || w->next - w->oldest == w->cap)
		grow(w);
	uint32_t seq = w->next++, b = bucket_of(w, digest);
	iks_sighting *s = &w->ring[seq & (w->cap - 1)];
	memset(s, 0, sizeof *s);
	s->digest = digest;
	s->older = w->bucket[b];
	w->bucket[b] = seq;
	return seq;
}

void iks_sightings_forget(iks_sightings *w, int64_t before_ns)
{
	while (w->oldest < w->next && w->ring[w->oldest & (w->cap - 1)].ts_ns < before_ns)
		w->oldest++;
}

void iks_sightings_free(iks_sightings *w)
{
	g_free(w->ring);
	g_free(w->bucket);
}
