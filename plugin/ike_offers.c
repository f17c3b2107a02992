/* ike_offers.c — see ike_offers.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ike_offers.h"

#include <stddef.h>
#include <string.h>

void iks_offers_init(iks_offers *o)
{
	o->tunnels = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	o->by_result = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
}

void iks_offers_free(iks_offers *o)
{
	g_hash_table_destroy(o->tunnels);
	g_hash_table_destroy(o->by_result);
}

const iks_offer_tunnel *iks_offers_tunnel(const iks_offers *o, uint32_t num)
{
	return g_hash_table_lookup(o->tunnels, GUINT_TO_POINTER(num));
}

const iks_wire_rec *iks_offers_of(const iks_offers *o, const iks_result *r)
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
	if (!m->wire)
		return;
	/* A copy cut after the alternatives it holds: most offers have one to four. */
	size_t size = offsetof(iks_wire_rec, offer.p) + m->wire->offer.n * sizeof(iks_proposal);
	iks_wire_rec *rec = g_malloc(size);
	rec->impl = iks_impl_of(m->wire);
	memcpy(&rec->offer, &m->wire->offer, size - offsetof(iks_wire_rec, offer));
	g_hash_table_insert(o->by_result, (gpointer)r, rec);
	iks_offer_tunnel *ot = g_hash_table_lookup(o->tunnels, GUINT_TO_POINTER(t->id));
	if (!ot) {
		ot = g_new0(iks_offer_tunnel, 1);
		g_hash_table_insert(o->tunnels, GUINT_TO_POINTER(t->id), ot);
	}
	/* A vendor the table knows outweighs an unknown VID from the same side. */
	iks_impl *side = r->role ? &ot->impl[r->role - 1] : NULL;
	if (side && (rec->impl.vendor || (!side->vendor && rec->impl.n_unknown)))
		*side = rec->impl;
	if (!rec->offer.n)
		return;
	if (is_offer(r->msg))
		ot->offered = &rec->offer;
	else if (is_choice(r->msg))
		ot->chosen = &rec->offer;
}
