/* ike_offers.c — see ike_offers.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ike_offers.h"

#include <stddef.h>
#include <string.h>

/* Bytes of a record: its offer cut after the alternatives it holds (most offers have one to four). */
static size_t rec_size(const iks_wire_rec *rec)
{
	return offsetof(iks_wire_rec, offer.p) + rec->offer.n * sizeof(iks_proposal);
}

static guint rec_hash(gconstpointer p)
{
	uint64_t h = iks_content_hash(p, rec_size(p));
	return (guint)(h ^ h >> 32);
}

static gboolean rec_equal(gconstpointer a, gconstpointer b)
{
	size_t n = rec_size(a);
	return n == rec_size(b) && memcmp(a, b, n) == 0;
}

void iks_offers_init(iks_offers *o)
{
	o->mismatch = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	iks_pool_init(&o->tunnels, sizeof(iks_offer_tunnel));
	o->interned = g_hash_table_new_full(rec_hash, rec_equal, g_free, NULL);
	o->by_result = g_hash_table_new(g_direct_hash, g_direct_equal);
}

void iks_offers_free(iks_offers *o)
{
	iks_pool_free(&o->tunnels);
	g_hash_table_destroy(o->mismatch);
	g_hash_table_destroy(o->by_result);
	g_hash_table_destroy(o->interned);
}

const iks_offer_tunnel *iks_offers_tunnel(const iks_offers *o, uint32_t num)
{
	return num <= o->tunnels.n ? iks_pool_at(&o->tunnels, num) : NULL;
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

static iks_offer_tunnel *tunnel_rec(iks_offers *o, uint32_t num)
{
	while (o->tunnels.n < num)
		iks_pool_add(&o->tunnels);
	return iks_pool_at(&o->tunnels, num);
}

/* The interned copy of what m carries. */
static const iks_wire_rec *intern(iks_offers *o, const iks_wire *w)
{
	/* Zeroed, padding included: records are compared and hashed byte by byte. */
	iks_wire_rec *rec = g_malloc0(sizeof *rec);
	rec->impl = iks_impl_of(w);
	memcpy(&rec->offer, &w->offer, offsetof(iks_offer, p) + w->offer.n * sizeof(iks_proposal));
	const iks_wire_rec *known = g_hash_table_lookup(o->interned, rec);
	if (known) {
		g_free(rec);
		return known;
	}
	rec = g_realloc(rec, rec_size(rec));
	g_hash_table_add(o->interned, rec);
	return rec;
}

void iks_offers_note(iks_offers *o, const iks_tunnel *t, const iks_msg *m, const iks_result *r)
{
	if (r->msg == IKS_M_SA_INIT_REQ && m->ke_group)
		tunnel_rec(o, t->id)->ke_group = m->ke_group;
	if (!m->wire)
		return;
	const iks_wire_rec *rec = intern(o, m->wire);
	g_hash_table_insert(o->by_result, (gpointer)r, (gpointer)rec);
	iks_offer_tunnel *ot = tunnel_rec(o, t->id);
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

const char *iks_offers_mismatch(const iks_offers *o, const iks_result *r)
{
	return g_hash_table_lookup(o->mismatch, r);
}

/* "AES-CBC-128/SHA2-256/MODP-2048/PSK; 3DES-CBC/SHA1/MODP-1024/PSK" */
static void offer_text(GString *s, const iks_offer *of)
{
	for (unsigned i = 0; i < of->n; i++) {
		char buf[240];
		g_string_append_printf(s, "%s%s", i ? "; " : "", iks_proposal_str(of->version, &of->p[i], buf, sizeof buf));
	}
	if (of->cut)
		g_string_append_printf(s, " (and %u more)", of->cut);
}

static const char *group_str(uint16_t group, char *buf, size_t len)
{
	iks_xform x = { group, 0, IKS_X_DH };
	return iks_item_str(2, &x, buf, len);
}

void iks_offers_explain(iks_offers *o, const iks_tunnel *t, const iks_msg *m, const iks_result *r)
{
	const iks_offer_tunnel *ot = iks_offers_tunnel(o, t->id);
	if (!ot || !ot->offered || r->retrans)
		return;
	GString *s = NULL;
	bool phase1 = t->version == 1 ? !iks_completes_phase1(t->v1.p1_pos) : r->msg == IKS_M_SA_INIT_RESP;
	if (phase1 && iks_has_notify(m, IKS_N_NO_PROPOSAL_CHOSEN) && !ot->chosen) {
		s = g_string_new("offered ");
		offer_text(s, ot->offered);
		g_string_append(s, ": the responder accepts none of it");
	} else if (t->version == 2 && r->msg == IKS_M_SA_INIT_RESP && m->ke_wanted) {
		char a[40], b[40];
		s = g_string_new(NULL);
		g_string_append_printf(s, "the responder asks for %s; the KE sent was %s; offered ",
				       group_str(m->ke_wanted, a, sizeof a), group_str(ot->ke_group, b, sizeof b));
		offer_text(s, ot->offered);
	}
	if (s)
		g_hash_table_insert(o->mismatch, (gpointer)r, g_string_free(s, FALSE));
}
