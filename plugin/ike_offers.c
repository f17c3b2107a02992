/* ike_offers.c — see ike_offers.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ike_offers.h"

#include <stddef.h>

void iks_offers_init(iks_offers *o)
{
	iks_pool_init(&o->tunnels, sizeof(iks_offer_tunnel));
	o->by_result = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
}

void iks_offers_free(iks_offers *o)
{
	iks_pool_free(&o->tunnels);
	g_hash_table_destroy(o->by_result);
}

const iks_offer_tunnel *iks_offers_tunnel(const iks_offers *o, uint32_t num)
{
	return num <= o->tunnels.n ? iks_pool_at(&o->tunnels, num) : NULL;
}

const iks_offer *iks_offers_of(const iks_offers *o, const iks_result *r)
{
	return g_hash_table_lookup(o->by_result, r);
}

static bool is_offer(uint8_t pos)
{
	return pos == IKS_M_MM1 || pos == IKS_M_AM1 || pos == IKS_M_SA_INIT_REQ;
}

static bool is_choice(uint8_t pos)
{
	return pos == IKS_M_MM2 || pos == IKS_M_AM2 || pos == IKS_M_SA_INIT_RESP;
}

void iks_offers_note(iks_offers *o, const iks_tunnel *t, const iks_msg *m, const iks_result *r)
{
	while (o->tunnels.n < t->id)
		iks_pool_add(&o->tunnels);
	if (!m->wire || !m->wire->offer.n)
		return;
	/* A copy cut after the alternatives it holds: most offers have one to four. */
	size_t size = offsetof(iks_offer, p) + m->wire->offer.n * sizeof(iks_proposal);
	iks_offer *copy = g_memdup2(&m->wire->offer, size);
	g_hash_table_insert(o->by_result, (gpointer)r, copy);
	iks_offer_tunnel *ot = iks_pool_at(&o->tunnels, t->id);
	if (is_offer(r->msg))
		ot->offered = copy;
	else if (is_choice(r->msg))
		ot->chosen = copy;
}
