/* ike_offers.c — see ike_offers.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ike_offers.h"

#include <limits.h>
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

/* A tunnel's latest child SA request (keys loaded). */
typedef struct {
	const iks_child *child;
	iks_addr from; /* who sent it */
	uint32_t frame;
} iks_child_req;

/* What a side did, kept for a later refusal by the same side. */
enum {
	ACC_IKE,        /* the IKE SA proposal it chose as responder, for any peer */
	ACC_CHILD,      /* the child SA it accepted as responder, for any peer */
	ACC_CHILD_PEER, /* the same, for one peer */
	ASKED_CHILD,    /* the child SA it asked one peer for as initiator */
};

/* The key (address without port, the peer's for the per-peer kinds, version, kind) first, zeroed
 * padding. */
typedef struct {
	iks_addr addr, peer;
	uint8_t version;
	uint8_t what;
} accept_key;
typedef struct {
	accept_key k;
	const iks_offer *chosen; /* interned, or the child's */
	const iks_child *child;  /* a child SA's: its selectors too */
	iks_addr peer;           /* whom it chose it for */
	uint32_t frame;
} iks_accepted;

/* A refusal's mismatch, as taken when the refusal is placed (the tables it comes from change
 * later). Its text is written when first asked for: only a tree shows it, and writing it on every
 * first pass cost about 35,000 instructions per refusal (callgrind). */
enum {
	MIS_OFFER,       /* a phase-1 offer refused: against acc (a choice) or the own offer theirs */
	MIS_AUTH,        /* offered: the choice, theirs: the refusing side's own offer */
	MIS_KE,          /* INVALID_KE_PAYLOAD */
	MIS_CHILD_OFFER, /* a child SA's proposals refused: against acc */
	MIS_CHILD_TS,    /* its selectors refused: against acc, mirrored or not */
};
typedef struct {
	uint8_t kind;
	bool has_acc, mirrored;
	uint16_t ke_wanted, ke_group;
	uint32_t own_t;           /* the tunnel of the refusing side's own offer, 0: none */
	const iks_offer *offered; /* interned (or a child SA's, owned by the children table) */
	const iks_offer *theirs;
	iks_accepted acc;
	iks_child_req q;
	iks_addr src, dst;        /* the refusal's */
	char *text;               /* NULL until asked for */
} mismatch_rec;

static void mismatch_free(gpointer p)
{
	mismatch_rec *x = p;
	g_free(x->text);
	g_free(x);
}

static guint key_hash(gconstpointer p)
{
	uint64_t h = iks_content_hash(p, sizeof(accept_key));
	return (guint)(h ^ h >> 32);
}

static gboolean key_equal(gconstpointer a, gconstpointer b)
{
	return memcmp(a, b, sizeof(accept_key)) == 0;
}

static accept_key key_of(const iks_addr *a, const iks_addr *peer, uint8_t version, uint8_t what)
{
	accept_key k;
	memset(&k, 0, sizeof k);
	k.addr = *a;
	k.addr.port = 0; /* NAT-T moves the port; the gateway is the same */
	if (peer) {
		k.peer = *peer;
		k.peer.port = 0;
	}
	k.version = version;
	k.what = what;
	return k;
}

static void remember(iks_offers *o, accept_key k, const iks_offer *chosen, const iks_child *child, const iks_msg *m)
{
	iks_accepted *a = g_hash_table_lookup(o->accepted, &k);
	if (!a) {
		a = g_new0(iks_accepted, 1);
		a->k = k;
		g_hash_table_add(o->accepted, a);
	}
	a->chosen = chosen;
	a->child = child;
	a->peer = m->dst;
	a->frame = m->frame;
}

void iks_offers_init(iks_offers *o)
{
	o->accepted = g_hash_table_new_full(key_hash, key_equal, g_free, NULL);
	o->mismatch = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, mismatch_free);
	iks_pool_init(&o->tunnels, sizeof(iks_offer_tunnel));
	o->interned = g_hash_table_new_full(rec_hash, rec_equal, g_free, NULL);
	o->recs = g_ptr_array_new();
	o->by_digest = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
}

void iks_offers_free(iks_offers *o)
{
	iks_pool_free(&o->tunnels);
	if (o->children) {
		g_hash_table_destroy(o->children);
		g_hash_table_destroy(o->child_req);
	}
	g_hash_table_destroy(o->mismatch);
	g_ptr_array_free(o->recs, TRUE);
	g_hash_table_destroy(o->by_digest);
	g_hash_table_destroy(o->interned);
	g_hash_table_destroy(o->accepted);
}

const iks_offer_tunnel *iks_offers_tunnel(const iks_offers *o, uint32_t num)
{
	return num <= o->tunnels.n ? iks_pool_at(&o->tunnels, num) : NULL;
}

const iks_wire_rec *iks_offers_of(const iks_offers *o, const iks_result *r)
{
	return r->wire_rec && r->wire_rec <= o->recs->len ? g_ptr_array_index(o->recs, r->wire_rec - 1) : NULL;
}

static bool is_offer(uint8_t pos)
{
	return pos == IKS_M_MM1 || pos == IKS_M_AM1 || pos == IKS_M_SA_INIT_REQ;
}

static bool is_choice(uint8_t pos)
{
	return pos == IKS_M_MM2 || pos == IKS_M_AM2 || pos == IKS_M_SA_INIT_RESP;
}

static bool is_child_request(uint8_t pos)
{
	return pos == IKS_M_QM1 || pos == IKS_M_AUTH_REQ || pos == IKS_M_CHILD_REQ;
}

static bool is_child_answer(uint8_t pos)
{
	return pos == IKS_M_QM2 || pos == IKS_M_AUTH_RESP || pos == IKS_M_CHILD_RESP;
}

const iks_child *iks_offers_child(const iks_offers *o, const iks_result *r)
{
	return o->children ? g_hash_table_lookup(o->children, r) : NULL;
}

static iks_offer_tunnel *tunnel_rec(iks_offers *o, uint32_t num)
{
	while (o->tunnels.n < num)
		iks_pool_add(&o->tunnels);
	return iks_pool_at(&o->tunnels, num);
}

/* The bytes a wire digest was taken of: per payload its type, then its bytes. */
typedef struct {
	uint32_t num; /* the record they parse into */
	uint32_t len;
	uint8_t version;
	uint8_t n;
	uint8_t bytes[];
} wire_seen;

static bool same_bytes(const wire_seen *s, const iks_msg *m)
{
	if (s->version != m->version || s->n != m->n_wire_pl)
		return false;
	size_t pos = 0;
	for (unsigned i = 0; i < m->n_wire_pl; i++) {
		size_t len = m->wire_pl[i].len;
		if (pos + 1 + len > s->len || s->bytes[pos] != m->wire_pl[i].type ||
		    memcmp(s->bytes + pos + 1, m->raw + m->wire_pl[i].off, len) != 0)
			return false;
		pos += 1 + len;
	}
	return pos == s->len;
}

uint32_t iks_offers_seen(const iks_offers *o, const iks_msg *m)
{
	const wire_seen *s = m->wire_digest && m->raw ? g_hash_table_lookup(o->by_digest, &m->wire_digest) : NULL;
	return s && same_bytes(s, m) ? s->num : 0;
}

/* Remembers m's SA and Vendor ID bytes as parsing into record num. */
static void remember_bytes(iks_offers *o, const iks_msg *m, uint32_t num)
{
	if (!m->wire_digest || !m->raw || g_hash_table_size(o->by_digest) >= IKS_WIRE_SEEN_MAX)
		return;
	size_t len = 0;
	for (unsigned i = 0; i < m->n_wire_pl; i++)
		len += 1 + (size_t)m->wire_pl[i].len;
	wire_seen *s = g_malloc(offsetof(wire_seen, bytes) + len);
	*s = (wire_seen){ num, (uint32_t)len, m->version, m->n_wire_pl };
	uint8_t *at = s->bytes;
	for (unsigned i = 0; i < m->n_wire_pl; i++) {
		*at++ = m->wire_pl[i].type;
		memcpy(at, m->raw + m->wire_pl[i].off, m->wire_pl[i].len);
		at += m->wire_pl[i].len;
	}
	/* Another set of bytes with the same digest is replaced: either is right, the other parsed. */
	g_hash_table_insert(o->by_digest, g_memdup2(&m->wire_digest, sizeof m->wire_digest), s);
}

/* The number of the interned copy of what m carries. */
static uint32_t intern(iks_offers *o, const iks_msg *m)
{
	const iks_wire *w = m->wire;
	/* Zeroed, padding included: records are compared and hashed byte by byte. On the stack: most
	 * are known already (every resend, every attempt), and only a new one is copied. */
	iks_wire_rec key;
	size_t size = offsetof(iks_wire_rec, offer.p) + w->offer.n * sizeof(iks_proposal);
	memset(&key, 0, size);
	key.impl = iks_impl_of(w);
	memcpy(&key.offer, &w->offer, offsetof(iks_offer, p) + w->offer.n * sizeof(iks_proposal));
	gpointer rec, num;
	if (!g_hash_table_lookup_extended(o->interned, &key, &rec, &num)) {
		rec = g_memdup2(&key, size);
		g_ptr_array_add(o->recs, rec);
		num = GUINT_TO_POINTER(o->recs->len);
		g_hash_table_insert(o->interned, rec, num);
	}
	remember_bytes(o, m, GPOINTER_TO_UINT(num)); /* bytes not seen before (else the glue had not parsed them) */
	return GPOINTER_TO_UINT(num);
}

/* A decrypted child SA request or answer: kept for its fields, and as what its sender asked for or
 * accepted. */
static void note_child(iks_offers *o, const iks_tunnel *t, const iks_msg *m, const iks_result *r)
{
	bool request = is_child_request(r->msg);
	if (!request && !is_child_answer(r->msg))
		return;
	if (!o->children) {
		o->children = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
		o->child_req = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	}
	iks_child *c = g_memdup2(m->child, offsetof(iks_child, offer.p) + m->child->offer.n * sizeof(iks_proposal));
	g_hash_table_insert(o->children, (gpointer)r, c);
	if (r->retrans)
		return;
	if (request) {
		iks_child_req *q = g_new(iks_child_req, 1);
		*q = (iks_child_req){ c, m->src, m->frame };
		g_hash_table_insert(o->child_req, GUINT_TO_POINTER(t->id), q);
		remember(o, key_of(&m->src, &m->dst, m->version, ASKED_CHILD), &c->offer, c, m);
	} else {
		remember(o, key_of(&m->src, NULL, m->version, ACC_CHILD), &c->offer, c, m);
		remember(o, key_of(&m->src, &m->dst, m->version, ACC_CHILD_PEER), &c->offer, c, m);
	}
}

void iks_offers_note(iks_offers *o, const iks_tunnel *t, const iks_msg *m, iks_result *r)
{
	if (r->msg == IKS_M_SA_INIT_REQ && m->ke_group)
		tunnel_rec(o, t->id)->ke_group = m->ke_group;
	if (m->child)
		note_child(o, t, m, r);
	r->wire_rec = m->wire ? intern(o, m) : m->wire_rec;
	const iks_wire_rec *rec = iks_offers_of(o, r);
	if (!rec)
		return;
	iks_offer_tunnel *ot = tunnel_rec(o, t->id);
	/* A vendor the table knows outweighs an unknown VID from the same side. */
	iks_impl *side = r->role ? &ot->impl[r->role - 1] : NULL;
	if (side && (rec->impl.vendor || (!side->vendor && rec->impl.n_unknown)))
		*side = rec->impl;
	if (!rec->offer.n)
		return;
	if (is_offer(r->msg)) {
		ot->offered = &rec->offer;
	} else if (is_choice(r->msg)) {
		ot->chosen = &rec->offer;
		remember(o, key_of(&m->src, NULL, rec->offer.version, ACC_IKE), &rec->offer, NULL, m);
	}
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

/* What a choice is compared on: not the lifetimes (a responder takes the shorter) nor ESN. A child
 * SA's DH group is its PFS group. */
static const uint8_t compared[] = { IKS_X_ENCR, IKS_X_V1_ESP, IKS_X_V1_HASH, IKS_X_INTEG, IKS_X_V1_ESP_AUTH,
				    IKS_X_PRF, IKS_X_DH, IKS_X_V1_AUTH, IKS_X_V1_ENCAP };
static const char *const compared_name[] = { "encryption", "encryption", "hash", "integrity", "integrity",
					     "PRF", "DH group", "authentication", "encapsulation mode" };

static bool has_item(const iks_proposal *p, const iks_xform *x)
{
	for (unsigned i = 0; i < p->n; i++)
		if (p->x[i].kind == x->kind && p->x[i].id == x->id && p->x[i].key_len == x->key_len)
			return true;
	return false;
}

/* The two alternatives have no item of this kind in common (one has the kind, the other not: a
 * PFS group offered, none accepted). */
static bool kind_differs(const iks_proposal *a, const iks_proposal *b, uint8_t kind)
{
	bool in_a = false, in_b = false;
	for (unsigned i = 0; i < a->n; i++)
		in_a |= a->x[i].kind == kind;
	for (unsigned i = 0; i < b->n; i++) {
		if (b->x[i].kind != kind)
			continue;
		in_b = true;
		if (has_item(a, &b->x[i]))
			return false;
	}
	return in_a || in_b;
}

/* Bit k: the alternatives differ in kind compared[k]. */
static unsigned differing(const iks_proposal *a, const iks_proposal *b)
{
	unsigned bits = 0;
	for (unsigned k = 0; k < G_N_ELEMENTS(compared); k++)
		if (kind_differs(a, b, compared[k]))
			bits |= 1u << k;
	return bits;
}

/* The items of one kind: "MODP-2048", "MODP-2048|MODP-3072", "none". */
static void kind_text(GString *s, unsigned version, const iks_proposal *p, uint8_t kind)
{
	bool any = false;
	for (unsigned i = 0; i < p->n; i++) {
		char buf[40];
		if (p->x[i].kind == kind) {
			g_string_append_printf(s, "%s%s", any ? "|" : "", iks_item_str(version, &p->x[i], buf, sizeof buf));
			any = true;
		}
	}
	if (!any)
		g_string_append(s, "none");
}

/* The refusing side's choice (one alternative) or its own offer to this peer in an earlier tunnel
 * (several), against the refused offer: "; it accepted AES-CBC-128/SHA2-256/ECP-256/PSK from
 * 192.0.2.11 (frame 5): the DH group differs (MODP-2048 offered, ECP-256 accepted)", or "; it offers
 * … itself (tunnel 1): … (MODP-2048 offered, MODP-3072 its own)" — the closest pair of
 * alternatives. own_tunnel 0: a choice, a->peer and a->frame say where. */
static void compared_text(GString *s, const iks_offer *offered, const iks_offer *theirs, const iks_accepted *a,
			  uint32_t own_tunnel, bool child)
{
	bool own = own_tunnel != 0;
	unsigned best = 0, best_t = 0, best_n = UINT_MAX, bits = 0;
	for (unsigned t = 0; t < theirs->n; t++)
		for (unsigned i = 0; i < offered->n; i++) {
			unsigned d = differing(&offered->p[i], &theirs->p[t]), n = 0;
			for (unsigned b = d; b; b &= b - 1)
				n++;
			if (n < best_n) {
				best = i;
				best_t = t;
				best_n = n;
				bits = d;
			}
		}
	const iks_proposal *acc = &theirs->p[best_t];
	char buf[240], addr[48];
	if (own)
		g_string_append_printf(s, "; it offers %s itself (tunnel %u)", iks_proposal_str(offered->version, acc, buf, sizeof buf),
				       own_tunnel);
	else
		g_string_append_printf(s, "; it accepted %s from %s (frame %u)",
				       iks_proposal_str(offered->version, acc, buf, sizeof buf),
				       iks_addr_text(&a->peer, addr, sizeof addr), a->frame);
	if (!bits) {
		g_string_append(s, child ? ": the same items, so its policy for this peer or these selectors differs "
					   "(the peer's crypto map entry or connection)"
					 : ": the same items, so its policy for this peer differs (the peer's own tunnel group, "
					   "connection or IKE gateway)");
		return;
	}
	g_string_append(s, ": ");
	bool first = true;
	for (unsigned k = 0; k < G_N_ELEMENTS(compared); k++) {
		if (!(bits & 1u << k))
			continue;
		const char *name = child && compared[k] == IKS_X_DH ? "PFS group" : compared_name[k];
		g_string_append_printf(s, "%sthe %s differs (", first ? "" : ", ", name);
		kind_text(s, offered->version, &offered->p[best], compared[k]);
		g_string_append(s, " offered, ");
		kind_text(s, offered->version, acc, compared[k]);
		g_string_append(s, own ? " its own)" : " accepted)");
		first = false;
	}
}

/* What the side `by` offered this peer itself: the latest earlier tunnel between the two
 * addresses (of t's version) that it initiated with proposals in the clear; 0 for none. */
static uint32_t own_offer(const iks_offers *o, const iks_machine *mc, const iks_tunnel *t, const iks_addr *by)
{
	uint32_t p = t->prev_same_pair;
	for (unsigned hops = 0; p && hops < 16; hops++) { /* bounded: a pair's history can be long */
		const iks_tunnel *pt = iks_tunnel_at(mc, p);
		const iks_offer_tunnel *ot = iks_offers_tunnel(o, p);
		iks_addr initiator = iks_role_addr(pt, 0);
		if (pt->version == t->version && ot && ot->offered && ot->offered->n && iks_addr_eq(&initiator, by))
			return p;
		p = pt->prev_same_pair;
	}
	return 0;
}

/* An IKEv1 refusal after the choice: the refusing side's own offer to this peer has no method like
 * the chosen one. */
static bool auth_mismatch(const iks_offers *o, const iks_machine *mc, const iks_tunnel *t, const iks_msg *m,
			  mismatch_rec *x)
{
	uint32_t own_t = own_offer(o, mc, t, &m->src);
	if (!own_t)
		return false;
	const iks_offer *own = iks_offers_tunnel(o, own_t)->offered;
	const iks_offer *chosen = iks_offers_tunnel(o, t->id)->chosen;
	for (unsigned i = 0; i < own->n; i++)
		if (!kind_differs(&own->p[i], &chosen->p[0], IKS_X_V1_AUTH))
			return false;
	x->kind = MIS_AUTH;
	x->own_t = own_t;
	x->offered = chosen;
	x->theirs = own;
	return true;
}

/* "chose AES-CBC-128/SHA2-256/MODP-2048/RSA-SIG but offers …/PSK itself (tunnel 1): the
 * authentication differs (RSA-SIG chosen, PSK its own)" */
static void auth_text(GString *s, const mismatch_rec *x)
{
	const iks_offer *own = x->theirs;
	const iks_proposal *chosen = &x->offered->p[0];
	char a[240];
	g_string_append_printf(s, "chose %s but offers ", iks_proposal_str(1, chosen, a, sizeof a));
	offer_text(s, own);
	g_string_append_printf(s, " itself (tunnel %u): the authentication differs (", x->own_t);
	kind_text(s, 1, chosen, IKS_X_V1_AUTH);
	g_string_append(s, " chosen, ");
	/* Its methods, each once. */
	for (unsigned i = 0; i < own->n; i++) {
		bool again = false;
		for (unsigned j = 0; j < i; j++)
			again |= !kind_differs(&own->p[j], &own->p[i], IKS_X_V1_AUTH);
		if (again)
			continue;
		if (i)
			g_string_append(s, "|");
		kind_text(s, 1, &own->p[i], IKS_X_V1_AUTH);
	}
	g_string_append(s, " its own)");
}

/* One side's selectors: "198.51.100.0/24", "10.0.0.0/8, 172.16.0.0/12", "its own address" (IKEv1
 * without identities). */
static void side_text(GString *s, const iks_child *c, unsigned side)
{
	if (!c->n_ts[side])
		g_string_append(s, c->has_ts ? "none" : "its own address");
	for (unsigned i = 0; i < c->n_ts[side]; i++) {
		char buf[120];
		g_string_append_printf(s, "%s%s", i ? ", " : "", iks_ts_str(&c->ts[side][i], buf, sizeof buf));
	}
}

/* "198.51.100.1/32 === 198.51.100.129/32": the exchange initiator's side, then the responder's;
 * mirrored: the other way round. */
static void pair_text(GString *s, const iks_child *c, bool mirrored)
{
	side_text(s, c, mirrored ? 1 : 0);
	g_string_append(s, " === ");
	side_text(s, c, mirrored ? 0 : 1);
	if (c->cut_ts)
		g_string_append_printf(s, " (and %u more)", c->cut_ts);
}

static bool same_side(const iks_child *a, unsigned sa, const iks_child *b, unsigned sb)
{
	if (a->n_ts[sa] != b->n_ts[sb])
		return false;
	for (unsigned i = 0; i < a->n_ts[sa]; i++)
		if (!iks_ts_eq(&a->ts[sa][i], &b->ts[sb][i]))
			return false;
	return true;
}

/* "; it accepted 198.51.100.1/32 === 198.51.100.129/32 from 192.0.2.1 (frame 7): the side of
 * 192.0.2.2 differs (198.51.100.130/32 proposed, 198.51.100.129/32 accepted)"; mirrored: what the
 * refusing side asked this peer for itself, its sides swapped. */
static void selectors_text(GString *s, const iks_child *offered, const iks_accepted *a, bool mirrored,
			   const iks_addr *proposer, const iks_addr *refuser)
{
	char addr[48];
	if (mirrored) {
		g_string_append(s, "; it asked for ");
		pair_text(s, a->child, false);
		g_string_append_printf(s, " itself (frame %u), mirrored ", a->frame);
		pair_text(s, a->child, true);
	} else {
		g_string_append(s, "; it accepted ");
		pair_text(s, a->child, false);
		g_string_append_printf(s, " from %s (frame %u)", iks_addr_text(&a->peer, addr, sizeof addr), a->frame);
	}
	bool first = true;
	for (unsigned side = 0; side < 2; side++) {
		unsigned other = mirrored ? 1 - side : side;
		if (same_side(offered, side, a->child, other))
			continue;
		g_string_append_printf(s, "%sthe side of %s differs (", first ? ": " : ", ",
				       iks_addr_text(side ? refuser : proposer, addr, sizeof addr));
		side_text(s, offered, side);
		g_string_append(s, " proposed, ");
		side_text(s, a->child, other);
		g_string_append(s, mirrored ? " mirrored)" : " accepted)");
		first = false;
	}
	if (first)
		g_string_append(s, ": the same selectors");
}

/* A child SA refused by m's sender (keys loaded: the notify was decrypted): the notify, 0 for none. */
static unsigned child_refusal(const iks_tunnel *t, const iks_msg *m, const iks_result *r)
{
	unsigned ts_refusal = t->version == 1 ? IKS_N_INVALID_ID_INFORMATION : IKS_N_TS_UNACCEPTABLE;
	if (t->version == 1 ? r->msg != IKS_M_INFO || !iks_completes_phase1(t->v1.p1_pos)
			    : r->msg != IKS_M_AUTH_RESP && r->msg != IKS_M_CHILD_RESP)
		return 0;
	return iks_has_notify(m, IKS_N_NO_PROPOSAL_CHOSEN) ? IKS_N_NO_PROPOSAL_CHOSEN
	       : iks_has_notify(m, ts_refusal)              ? ts_refusal
							    : 0;
}

/* A child SA refused (notify): what it is compared with. */
static bool child_mismatch(const iks_offers *o, const iks_child_req *q, const iks_msg *m, unsigned notify,
			   mismatch_rec *x)
{
	const iks_accepted *a;
	x->q = *q;
	if (notify == IKS_N_NO_PROPOSAL_CHOSEN) {
		if (!q->child->offer.n)
			return false;
		x->kind = MIS_CHILD_OFFER;
		accept_key k = key_of(&m->src, NULL, m->version, ACC_CHILD);
		a = g_hash_table_lookup(o->accepted, &k);
		x->has_acc = a && a->chosen->n;
	} else {
		x->kind = MIS_CHILD_TS;
		accept_key k = key_of(&m->src, &m->dst, m->version, ACC_CHILD_PEER);
		a = g_hash_table_lookup(o->accepted, &k);
		x->mirrored = !a || !a->child->has_ts;
		if (x->mirrored) {
			k.what = ASKED_CHILD;
			a = g_hash_table_lookup(o->accepted, &k);
		}
		x->has_acc = a && a->child->has_ts;
	}
	if (x->has_acc)
		x->acc = *a;
	return true;
}

static void child_text(GString *s, const mismatch_rec *x)
{
	const iks_child *c = x->q.child;
	if (x->kind == MIS_CHILD_OFFER) {
		g_string_append(s, "offered ");
		offer_text(s, &c->offer);
		g_string_append_printf(s, " (frame %u): the peer accepts none of it", x->q.frame);
		if (x->has_acc)
			compared_text(s, &c->offer, x->acc.chosen, &x->acc, 0, true);
		return;
	}
	g_string_append(s, "proposed ");
	pair_text(s, c, false);
	g_string_append_printf(s, " (frame %u): the peer accepts none of it", x->q.frame);
	if (x->has_acc)
		selectors_text(s, c, &x->acc, x->mirrored, &x->dst, &x->src);
}

/* A phase-1 refusal: NO_PROPOSAL_CHOSEN against the responder's earlier choice or its own offer,
 * a refusal after the choice against its own offer's authentication, INVALID_KE_PAYLOAD. */
static bool phase1_mismatch(const iks_offers *o, const iks_machine *mc, const iks_tunnel *t, const iks_msg *m,
			    const iks_result *r, mismatch_rec *x)
{
	const iks_offer_tunnel *ot = iks_offers_tunnel(o, t->id);
	bool phase1 = t->version == 1 ? !iks_completes_phase1(t->v1.p1_pos) : r->msg == IKS_M_SA_INIT_RESP;
	if (!ot || !phase1)
		return false;
	if (ot->offered && iks_has_notify(m, IKS_N_NO_PROPOSAL_CHOSEN) && !ot->chosen) {
		x->kind = MIS_OFFER;
		x->offered = ot->offered;
		accept_key k = key_of(&m->src, NULL, ot->offered->version, ACC_IKE);
		const iks_accepted *a = g_hash_table_lookup(o->accepted, &k);
		x->has_acc = a && a->chosen->n;
		if (x->has_acc)
			x->acc = *a;
		else if ((x->own_t = own_offer(o, mc, t, &m->src)))
			x->theirs = iks_offers_tunnel(o, x->own_t)->offered;
		return true;
	}
	if (ot->chosen && ot->chosen->n && t->version == 1 && r->msg == IKS_M_INFO)
		return auth_mismatch(o, mc, t, m, x);
	if (ot->offered && t->version == 2 && m->ke_wanted) {
		x->kind = MIS_KE;
		x->offered = ot->offered;
		x->ke_wanted = m->ke_wanted;
		x->ke_group = ot->ke_group;
		return true;
	}
	return false;
}

static void phase1_text(GString *s, const mismatch_rec *x)
{
	if (x->kind == MIS_AUTH) {
		auth_text(s, x);
	} else if (x->kind == MIS_KE) {
		char a[40], b[40];
		g_string_append_printf(s, "the responder asks for %s; the KE sent was %s; offered ",
				       group_str(x->ke_wanted, a, sizeof a), group_str(x->ke_group, b, sizeof b));
		offer_text(s, x->offered);
	} else {
		g_string_append(s, "offered ");
		offer_text(s, x->offered);
		g_string_append(s, ": the responder accepts none of it");
		if (x->has_acc && x->offered->n)
			compared_text(s, x->offered, x->acc.chosen, &x->acc, 0, false);
		else if (x->own_t && x->offered->n)
			compared_text(s, x->offered, x->theirs, NULL, x->own_t, false);
	}
}

void iks_offers_explain(iks_offers *o, const iks_machine *mc, const iks_tunnel *t, const iks_msg *m,
			const iks_result *r)
{
	/* Every mismatch answers a refusal: a notify, an IKEv2 KE asked for, or an encrypted IKEv1
	 * Informational. Most messages are none: they skip the record's clearing (about 70 instructions). */
	if (r->retrans || (!m->n_notify && !m->ke_wanted && r->msg != IKS_M_INFO))
		return;
	mismatch_rec x;
	memset(&x, 0, sizeof x);
	bool found = phase1_mismatch(o, mc, t, m, r, &x);
	const iks_child_req *q = !found && o->child_req ? g_hash_table_lookup(o->child_req, GUINT_TO_POINTER(t->id)) : NULL;
	unsigned notify = q ? child_refusal(t, m, r) : 0;
	if (notify && iks_addr_eq(&q->from, &m->dst))
		found = child_mismatch(o, q, m, notify, &x);
	if (!found)
		return;
	x.src = m->src;
	x.dst = m->dst;
	g_hash_table_insert(o->mismatch, (gpointer)r, g_memdup2(&x, sizeof x));
}

const char *iks_offers_mismatch(const iks_offers *o, const iks_result *r)
{
	mismatch_rec *x = g_hash_table_lookup(o->mismatch, r);
	if (!x)
		return NULL;
	if (!x->text) {
		GString *s = g_string_new(NULL);
		if (x->kind == MIS_CHILD_OFFER || x->kind == MIS_CHILD_TS)
			child_text(s, x);
		else
			phase1_text(s, x);
		x->text = g_string_free(s, FALSE);
	}
	return x->text;
}
