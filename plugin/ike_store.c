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

iks_result *iks_new_result(iks_machine *mc)
{
	if (!mc->blocks || mc->used == RESULTS_PER_BLOCK) {
		mc->blocks = g_slist_prepend(mc->blocks, g_new(iks_result, RESULTS_PER_BLOCK));
		mc->used = 0;
	}
	iks_result *r = (iks_result *)mc->blocks->data + mc->used++;
	memset(r, 0, sizeof *r);
	return r;
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
