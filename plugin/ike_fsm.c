/* ike_fsm.c — the machine (ike_machine.h): tables, memory, identity, resends, version dispatch.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ike_machine.h"

#include <string.h>


/* IKEv2 fragments: their resends are counted per fragment number. Most exchanges have none:
 * allocated with the first fragment (v2_last). */
typedef struct {
	uint8_t frag_copies[16]; /* SKF: copies seen per fragment number (mod 16) */
} iks_v2_last;

/* IKEv2 exchanges are keyed with this bit on the exchange type when the original responder
 * started them: both sides count message IDs from 0 (a responder's INFORMATIONAL can be ID 0). */
#define IKS_EXCH_BY_RESPONDER 0x80

/* ---------------------------------------------------------------------------------------------
 * Tables
 */
guint iks_exchange_hash(gconstpointer k)
{
	const iks_exchange *e = k;
	return (guint)(e->tunnel * 2654435761u) ^ e->msgid ^ ((guint)e->exch << 24);
}

gboolean iks_exchange_equal(gconstpointer a, gconstpointer b)
{
	const iks_exchange *x = a, *y = b;
	return x->tunnel == y->tunnel && x->msgid == y->msgid && x->exch == y->exch;
}

/* The pair table holds the latest IKE SA between two addresses, itself the key: the addresses of
 * its first message (ref, peer, which never change) in either order, ports left out. Its attempt
 * number is the count of the pair. */
static guint pair_hash(gconstpointer k)
{
	const iks_tunnel *t = k;
	const iks_addr *a = &t->ref, *b = &t->peer;
	bool swap = a->len != b->len ? a->len > b->len : memcmp(a->bytes, b->bytes, a->len) > 0;
	return iks_addr_pair_hash(2166136261u, swap ? b : a, swap ? a : b);
}

static gboolean pair_equal(gconstpointer x, gconstpointer y)
{
	const iks_tunnel *p = x, *q = y;
	return (iks_addr_eq(&p->ref, &q->ref) && iks_addr_eq(&p->peer, &q->peer)) ||
	       (iks_addr_eq(&p->ref, &q->peer) && iks_addr_eq(&p->peer, &q->ref));
}

const iks_tunnel *iks_machine_latest_between(const iks_machine *mc, const iks_addr *a, const iks_addr *b)
{
	iks_tunnel key; /* only its addresses are read */
	key.ref = *a;
	key.peer = *b;
	return g_hash_table_lookup(mc->pairs, &key);
}

void iks_machine_init(iks_machine *mc, int64_t sighting_window_ns, int64_t exchange_expiry_ns)
{
	memset(mc, 0, sizeof *mc);
	mc->window_ns = sighting_window_ns;
	mc->expiry_ns = exchange_expiry_ns > 0 ? exchange_expiry_ns : 0;
	mc->p1_from = 1;
	mc->tunnels = g_hash_table_new(g_int64_hash, g_int64_equal);
	mc->exchanges = g_hash_table_new(iks_exchange_hash, iks_exchange_equal);
	mc->pairs = g_hash_table_new(pair_hash, pair_equal);
	mc->results = g_ptr_array_new_with_free_func(g_free);
	iks_pool_init(&mc->tunnel_pool, sizeof(iks_tunnel));
	iks_pool_init(&mc->v2_pool, 2 * sizeof(iks_v2_last));
}

void iks_machine_free(iks_machine *mc)
{
	iks_esp_free(mc);
	g_hash_table_destroy(mc->tunnels);
	g_hash_table_destroy(mc->exchanges);
	g_hash_table_destroy(mc->pairs);
	if (mc->point_refs)
		g_hash_table_destroy(mc->point_refs);
	if (mc->ra)
		g_hash_table_destroy(mc->ra);
	iks_sightings_free(&mc->sightings);
	iks_pool_free(&mc->tunnel_pool);
	iks_pool_free(&mc->v2_pool);
	g_ptr_array_free(mc->results, TRUE);
	g_slist_free_full(mc->arena, g_free);
}

/* ---------------------------------------------------------------------------------------------
 * Identity
 */
/* A new tunnel's attempt number among the IKE SAs between its two addresses, and its link to the
 * one before it there. */
static void new_identity(iks_machine *mc, iks_tunnel *t)
{
	iks_tunnel *prev = g_hash_table_lookup(mc->pairs, t);
	t->attempt = prev ? prev->attempt : 0;
	if (t->attempt < UINT16_MAX)
		t->attempt++;
	t->prev_same_pair = prev ? prev->id : 0;
	g_hash_table_add(mc->pairs, t); /* replaces prev */
}

static iks_tunnel *new_tunnel(iks_machine *mc, const iks_msg *m, iks_tunnel *head)
{
	iks_tunnel *t = iks_tunnel_at(mc, iks_pool_add(&mc->tunnel_pool));
	t->ispi = m->ispi;
	t->rspi = m->rspi;
	t->id = mc->tunnel_pool.n;
	t->ref = m->src;
	t->peer = m->dst;
	t->point = m->point;
	t->first_ns = t->progress_ns = m->ts_ns;
	t->setup_ns = -1;
	if (!head) {
		g_hash_table_insert(mc->tunnels, &t->ispi, t);
	} else {
		while (head->next_same_ispi)
			head = iks_tunnel_at(mc, head->next_same_ispi);
		head->next_same_ispi = t->id;
	}
	new_identity(mc, t);
	return t;
}

/* IKEv2 until IKE_AUTH: an IKE_SA_INIT answer (COOKIE, INVALID_KE_PAYLOAD) may carry a responder
 * SPI that the answer to the retry replaces; the negotiation is the same, between the same two
 * addresses (answers from elsewhere to one SPIi are other responders: a reflection). */
static bool v2_setup_init(const iks_tunnel *t, const iks_msg *m)
{
	return m->version == 2 && m->exch == IKS_EXCH_IKE_SA_INIT && t->version == 2 && t->v2.pos < IKS_M_AUTH_REQ &&
	       (iks_addr_eq(&m->src, &t->ref) || iks_addr_eq(&m->src, &t->peer));
}

/* IKEv1 before MM2 / AM2: a responder that refuses each MM1 resend with a clear Informational may
 * give each refusal a cookie of its own (strongSwan makes an IKE SA per MM1); the negotiation is the
 * same, between the same two addresses. */
static bool v1_setup_refusal(const iks_tunnel *t, const iks_msg *m)
{
	return m->version == 1 && t->version == 1 && !(m->flags & IKS_FLAG_ENCRYPTED) &&
	       (t->v1.p1_pos == IKS_M_MM1 || t->v1.p1_pos == IKS_M_AM1) &&
	       (iks_addr_eq(&m->src, &t->ref) || iks_addr_eq(&m->src, &t->peer));
}

/* The IKE SA a message belongs to: same initiator cookie, and the same responder cookie unless
 * one of the two is still zero (MM1/AM1 and their retransmissions carry rspi 0). */
static iks_tunnel *find_tunnel(iks_machine *mc, const iks_msg *m, bool *created)
{
	iks_tunnel *head = g_hash_table_lookup(mc->tunnels, &m->ispi), *match = NULL, *t;
	for (t = head; t; t = iks_tunnel_at(mc, t->next_same_ispi)) {
		bool exact_match = match && match->rspi == m->rspi;
		if (t->rspi == m->rspi)
			match = t; /* exact: the latest one wins */
		else if (!exact_match && (t->rspi == 0 || m->rspi == 0 || v2_setup_init(t, m) || v1_setup_refusal(t, m)))
			match = t;
	}
	*created = match == NULL;
	if (!match)
		return new_tunnel(mc, m, head);
	if (match->rspi != m->rspi && m->rspi &&
	    ((m->version == 2 && m->exch == IKS_EXCH_IKE_SA_INIT && match->v2.pos < IKS_M_AUTH_REQ) ||
	     v1_setup_refusal(match, m)))
		match->rspi = 0;
	if (match->rspi == 0)
		match->rspi = m->rspi;
	return match;
}

static iks_exchange *find_exchange(iks_machine *mc, iks_tunnel *t, const iks_msg *m, bool *created)
{
	*created = false;
	if (m->msgid == 0 && (m->exch == IKS_EXCH_MAIN || m->exch == IKS_EXCH_AGGRESSIVE)) {
		if (!t->v1.p1) {
			t->v1.p1 = iks_exchange_new(mc);
			t->v1.p1->tunnel = t->id;
			if (mc->p1_from > t->id) /* a late message for a forgotten one: look here again */
				mc->p1_from = t->id;
		}
		return t->v1.p1;
	}
	iks_exchange key = { .tunnel = t->id, .msgid = m->msgid, .exch = m->exch };
	/* IKEv2: the exchange's initiator is the original initiator iff I differs from R. */
	if (m->version == 2 && !(m->flags & IKS_FLAG_V2_INITIATOR) == !(m->flags & IKS_FLAG_V2_RESPONSE))
		key.exch |= IKS_EXCH_BY_RESPONDER;
	iks_exchange *e = g_hash_table_lookup(mc->exchanges, &key);
	if (!e) {
		e = iks_exchange_new(mc);
		*e = key;
		g_hash_table_insert(mc->exchanges, e, e);
		*created = true;
	}
	return e;
}

/* ---------------------------------------------------------------------------------------------
 * Addresses of the roles
 */
enum { ROLE_AT_NONE = 0, ROLE_AT_REF, ROLE_AT_PEER, ROLE_AT_OWN }; /* iks_tunnel.role_at */

/* The latest address:port of a role (0 initiator, 1 responder), for the summary. The address is
 * nearly always ref's or peer's, and only the port moves (NAT-T): then only the port is kept. */
static void set_role_addr(iks_machine *mc, iks_tunnel *t, unsigned role, const iks_addr *a)
{
	t->role_port[role] = a->port;
	/* All 16 bytes compared: the address given back is the one set. */
	if (a->len == t->ref.len && memcmp(a->bytes, t->ref.bytes, sizeof a->bytes) == 0) {
		t->role_at[role] = ROLE_AT_REF;
	} else if (a->len == t->peer.len && memcmp(a->bytes, t->peer.bytes, sizeof a->bytes) == 0) {
		t->role_at[role] = ROLE_AT_PEER;
	} else {
		if (!t->role_own)
			t->role_own = iks_alloc(mc, 2 * sizeof *t->role_own);
		t->role_own[role] = *a;
		t->role_at[role] = ROLE_AT_OWN;
	}
}

iks_addr iks_role_addr(const iks_tunnel *t, unsigned role)
{
	iks_addr a;
	switch (t->role_at[role]) {
	case ROLE_AT_REF:
		a = t->ref;
		break;
	case ROLE_AT_PEER:
		a = t->peer;
		break;
	case ROLE_AT_OWN:
		return t->role_own[role];
	default:
		memset(&a, 0, sizeof a); /* never set */
		return a;
	}
	a.port = t->role_port[role];
	return a;
}

/* ---------------------------------------------------------------------------------------------
 * Resends, fragments, duplicates
 */
static iks_v2_last *v2_last(iks_machine *mc, iks_exchange *e)
{
	if (!e->v2)
		e->v2 = iks_v2_items_new(mc);
	return iks_pool_at(&mc->v2_pool, e->v2);
}

/* The labels of the message a copy repeats; `states` also the IOS and quick-mode states. */
static void copy_labels(iks_result *r, const iks_result *o, bool states)
{
	r->msg = o->msg;
	r->role = o->role;
	r->state = o->state;
	if (states) {
		r->ios_state = o->ios_state;
		r->qm_state = o->qm_state;
	}
}

/* IKEv2 fragments (SKF): the k-th copy of a fragment number is the k-th resend of the message; a
 * first copy is the next piece of a sending, no resend. */
static void fragment_copy(iks_last *mine, iks_v2_last *mine_v2, const iks_msg *m, iks_result *r)
{
	uint8_t *copies = &mine_v2->frag_copies[(m->frag_num - 1) % 16];
	copy_labels(r, mine->res, false);
	r->round = mine->res->round;
	r->retrans = *copies;
	r->retrans_of = *copies ? mine->frame : 0;
	if (*copies < UINT8_MAX)
		(*copies)++;
	if (r->retrans > mine->count)
		mine->count = r->retrans;
}

/* A message answers the other side's newest message if that came after our own last one; then
 * it is the newest of its direction. */
static void pair_and_remember(iks_exchange *e, const iks_msg *m, unsigned dir, iks_v2_last *mine_v2, iks_result *r)
{
	iks_last *mine = &e->last[dir], *theirs = &e->last[!dir];
	if (theirs->res && (!mine->res || theirs->frame > mine->frame) &&
	    (m->version == 1 || (m->flags & IKS_FLAG_V2_RESPONSE))) { /* an IKEv2 request answers nothing */
		r->response_to = theirs->frame;
		if (!theirs->res->response_in)
			theirs->res->response_in = m->frame;
	}
	*mine = (iks_last){ .digest = m->digest, .frame = m->frame, .res = r };
	if (mine_v2) {
		memset(mine_v2, 0, sizeof *mine_v2);
		if (m->frag_num)
			mine_v2->frag_copies[(m->frag_num - 1) % 16] = 1;
	}
}

/* The one place the IKE version decides how a message moves its negotiation on. */
static bool track(iks_step *s, const iks_msg *m, bool new_exchange, iks_v2_last *mine_v2, iks_result *r)
{
	bool progressed = m->version == 2 ? iks_v2_step(s->t, s->e, m, s->dir, new_exchange, r)
					  : iks_v1_step(s->t, s->e, m, s->dir, new_exchange, s->new_tunnel, r);
	pair_and_remember(s->e, m, s->dir, mine_v2, r);
	return progressed;
}

/* IKEv2: the initiator's IKE_SA_INIT retry (new bytes: COOKIE or another KE) after a COOKIE /
 * INVALID_KE_PAYLOAD answer starts the exchange afresh; its answer is no resend either. */
static void v2_retry_restarts(iks_machine *mc, const iks_step *s, const iks_msg *m)
{
	const iks_last *mine = &s->e->last[s->dir];
	if (m->version == 2 && m->exch == IKS_EXCH_IKE_SA_INIT && !(m->flags & IKS_FLAG_V2_RESPONSE) &&
	    s->t->v2.retry_pending && mine->res && mine->digest != m->digest) {
		memset(s->e->last, 0, sizeof s->e->last);
		if (s->e->v2)
			memset(v2_last(mc, s->e), 0, 2 * sizeof(iks_v2_last));
	}
}

/* Labels a message from its copies (fragment, resend) or from its step. */
static bool place(iks_machine *mc, iks_step *s, const iks_msg *m, bool new_exchange, iks_result *r)
{
	iks_last *mine = &s->e->last[s->dir];
	bool v2_seen = m->version == 2 && mine->res;
	iks_v2_last *mine_v2 = s->e->v2 || m->frag_num ? &v2_last(mc, s->e)[s->dir] : NULL;
	/* A message ID is used once per direction: a request again is a resend even with other bytes
	 * (a new IV); a responder re-sends its cached answer byte for byte. */
	bool v2_repeat = v2_seen && (!(m->flags & IKS_FLAG_V2_RESPONSE) || mine->digest == m->digest);
	if (v2_seen && m->frag_num) {
		fragment_copy(mine, mine_v2, m, r);
		iks_v2_fragment(s->t, m, r);
	} else if (v2_repeat || (mine->res && mine->digest == m->digest)) {
		/* Resend (IKEv1: byte-identical): same labels as the original, state does not advance. */
		copy_labels(r, mine->res, true);
		r->retrans = ++mine->count;
		r->retrans_of = mine->frame;
	} else if (m->version == 1 && m->first_payload == IKS_PL_CISCO_FRAG && !(m->flags & IKS_FLAG_ENCRYPTED)) {
		/* A piece of a fragmented message: Wireshark dissects the reassembled message in the frame
		 * of the last piece, and that is what we label; the pieces change nothing. */
		r->msg = IKS_M_FRAG;
		r->role = (uint8_t)iks_role_of(s->t, s->dir);
	} else {
		return track(s, m, new_exchange, mine_v2, r);
	}
	return false;
}

/* ---------------------------------------------------------------------------------------------
 * Sightings: one transmission seen at several capture points (both ends, both sides of a NAT,
 * merged with mergecap) or captured twice at one. Matched by the ISAKMP bytes (a NAT rewrites
 * addresses and ports, not those) before anything else: a copy names no tunnel of its own.
 */
/* The same bytes again at the same point this soon are one packet captured twice (two interfaces
 * of one machine, a bridge): no peer resends within a millisecond. Not at the very same time:
 * captures without time information (all zero, sanitised samples) would have no resends. */
#define IKS_DUPLICATE_NS 1000000
/* Sightings of one hash bucket looked at: O(1) a message, even when one message floods. */
#define IKS_SIGHTING_WALK 64

static uint64_t point_bit(unsigned point)
{
	return UINT64_C(1) << (point < 63 ? point : 63);
}

/* Where a tunnel's ref sender is at a point other than the tunnel's own: NULL until a copy there
 * showed it. */
static const iks_addr *point_ref(const iks_machine *mc, const iks_tunnel *t, unsigned point)
{
	if (!mc->point_refs)
		return NULL;
	int64_t key = (int64_t)t->id << 16 | point;
	return g_hash_table_lookup(mc->point_refs, &key);
}

/* A copy at another point than its tunnel's shows where the tunnel's ref sender is there. */
static void learn_point_ref(iks_machine *mc, const iks_sighting *tx, const iks_msg *m)
{
	const iks_tunnel *t = iks_tunnel_at(mc, tx->res->tunnel);
	if (m->point == t->point || point_ref(mc, t, m->point))
		return;
	if (!mc->point_refs)
		mc->point_refs = g_hash_table_new(g_int64_hash, g_int64_equal);
	struct {
		int64_t key;
		iks_addr ref;
	} *e = iks_alloc(mc, sizeof *e);
	e->key = (int64_t)t->id << 16 | m->point;
	e->ref = tx->dir == DIR_REF ? m->src : m->dst;
	g_hash_table_insert(mc->point_refs, &e->key, &e->ref);
}

/* The sighting m repeats, if any: a capture duplicate (same point, within a millisecond), else the
 * transmission not yet seen at m's point nearest in time within the window (the k-th sighting at a
 * point is of the k-th transmission, the clocks of two machines may differ either way). */
static uint32_t repeated(const iks_machine *mc, const iks_msg *m, bool *dup)
{
	const iks_sightings *w = &mc->sightings;
	uint32_t best = 0;
	int64_t best_dt = 0;
	unsigned n = 0;
	*dup = false;
	for (uint32_t q = iks_sighting_newest(w, m->digest); q && n < IKS_SIGHTING_WALK; n++) {
		const iks_sighting *x = iks_sighting_at(w, q);
		if (!x)
			break;
		int64_t dt = m->ts_ns - x->ts_ns;
		if (x->digest == m->digest && x->point == m->point && dt > 0 && dt < IKS_DUPLICATE_NS) {
			*dup = true;
			return q;
		}
		int64_t adt = dt < 0 ? -dt : dt;
		if (x->digest == m->digest && !x->tx && !(x->seen & point_bit(m->point)) && adt < mc->window_ns &&
		    (!best || adt <= best_dt)) { /* newest first: a tie goes to the older */
			best = q;
			best_dt = adt;
		}
		q = x->older;
	}
	return best;
}

/* A copy or duplicate takes the labels of its transmission and moves nothing. */
static void label_repeat(iks_machine *mc, const iks_sighting *x, const iks_sighting *tx, bool dup,
			 const iks_msg *m, iks_result *r)
{
	const iks_result *o = tx->res;
	r->tunnel = o->tunnel;
	r->attempt = o->attempt;
	r->retrans = o->retrans;
	r->retrans_of = o->retrans_of;
	copy_labels(r, o, true);
	r->elapsed_ns = o->elapsed_ns + (m->ts_ns - tx->ts_ns);
	r->copy_of = x->frame;
	if (dup) {
		r->flags |= IKS_R_DUPLICATE;
	} else {
		r->flags |= IKS_R_COPY;
		r->span.transit_ns = m->ts_ns - tx->ts_ns;
		tx->res->seen |= m->point < 8 ? (uint8_t)(1u << m->point) : 0;
		learn_point_ref(mc, tx, m);
	}
}

static void add_sighting(iks_machine *mc, const iks_msg *m, uint32_t tx_seq, iks_result *res, unsigned dir)
{
	iks_sightings *w = &mc->sightings;
	iks_sighting *me = iks_sighting_at(w, iks_sighting_add(w, m->digest));
	me->ts_ns = m->ts_ns;
	me->frame = m->frame;
	me->point = (uint16_t)m->point;
	me->tx = tx_seq;
	me->res = res;
	me->seen = point_bit(m->point);
	me->dir = (uint8_t)dir;
}

/* A copy or duplicate of a transmission gets its labels in r and its sighting noted: then true. */
static bool sighted(iks_machine *mc, const iks_msg *m, iks_result *r)
{
	iks_sightings *w = &mc->sightings;
	mc->points |= point_bit(m->point);
	if (m->ts_ns > mc->newest_ns)
		mc->newest_ns = m->ts_ns;
	/* What is older than the window cannot be repeated any more (a second more for captures whose
	 * times go back a little). */
	iks_sightings_forget(w, mc->newest_ns - (mc->window_ns > IKS_DUPLICATE_NS ? mc->window_ns : IKS_DUPLICATE_NS) -
					INT64_C(1000000000));
	bool dup;
	uint32_t q = repeated(mc, m, &dup);
	iks_sighting *x = iks_sighting_at(w, q);
	if (!x)
		return false;
	uint32_t tx_seq = x->tx ? x->tx : q;
	iks_sighting *tx = iks_sighting_at(w, tx_seq);
	if (!tx)
		return false; /* its transmission left the window: this is one of its own */
	if (!dup)
		tx->seen |= point_bit(m->point);
	label_repeat(mc, x, tx, dup, m, r);
	add_sighting(mc, m, tx_seq, tx->res, tx->dir);
	return true;
}

/* ---------------------------------------------------------------------------------------------
 * Forgetting: an exchange without a message for iks_config.exchange_expiry_ns gives its memory to
 * the next one, so that a long capture (a head-end's day: DPD, rekeys, cookies) keeps what its
 * live exchanges need, not every exchange it saw. Its packets keep their labels (results are never
 * forgotten); a message for it after that finds no exchange and starts one. Looked for every half
 * expiry of capture time: nothing is spent on captures shorter than that, and each look costs the
 * exchanges of about one expiry and a half, which the messages of that time paid for (once more the
 * tunnels since an old one whose phase 1 a late message started again).
 */
/* A quick mode still waiting for QM2 / QM3 is kept: its capture-end verdict goes on its last packet.
 * Every exchange has a tail: its first message was settled before any later sweep. */
static bool quiet(const iks_machine *mc, const iks_exchange *e, int64_t before_ns)
{
	if (e->exch == IKS_EXCH_QUICK && (e->step == IKS_M_QM1 || e->step == IKS_M_QM2))
		return false;
	return iks_tunnel_at(mc, e->tunnel)->first_ns + e->tail->elapsed_ns < before_ns;
}

typedef struct {
	iks_machine *mc;
	int64_t before_ns;
} sweep;

static gboolean forget_if_quiet(gpointer key, gpointer value, gpointer data)
{
	(void)key;
	const sweep *w = data;
	if (!quiet(w->mc, value, w->before_ns))
		return FALSE;
	iks_exchange_forget(w->mc, value); /* the table then drops it without reading it */
	return TRUE;
}

/* The clock moves on with the messages; a jump of more than the expiry is believed only when the
 * next message is as late (a quiet hour), not on one packet's word (a bogus timestamp would
 * otherwise forget every exchange at once, and put the next look years ahead). */
static bool clock_moves(iks_machine *mc, int64_t ts_ns)
{
	bool jump = mc->clock_ns && ts_ns - mc->clock_ns > mc->expiry_ns;
	if (jump && !mc->clock_jumped) {
		mc->clock_jumped = true;
		return false;
	}
	mc->clock_jumped = false;
	if (ts_ns > mc->clock_ns)
		mc->clock_ns = ts_ns;
	return true;
}

static void forget_quiet_exchanges(iks_machine *mc, int64_t ts_ns)
{
	if (!clock_moves(mc, ts_ns) || mc->clock_ns < mc->sweep_ns)
		return;
	mc->sweep_ns = mc->clock_ns + mc->expiry_ns / 2;
	sweep w = { mc, mc->clock_ns - mc->expiry_ns };
	g_hash_table_foreach_remove(mc->exchanges, forget_if_quiet, &w);
	/* Phase-1 exchanges hang off their tunnels: from the first tunnel that may still have one. */
	bool none_before = true;
	for (uint32_t id = mc->p1_from; id <= mc->tunnel_pool.n; id++) {
		iks_tunnel *t = iks_tunnel_at(mc, id);
		if (t->v1.p1 && quiet(mc, t->v1.p1, w.before_ns)) {
			iks_exchange_forget(mc, t->v1.p1);
			t->v1.p1 = NULL;
		}
		none_before = none_before && !t->v1.p1;
		if (none_before)
			mc->p1_from = id + 1;
	}
}

/* ---------------------------------------------------------------------------------------------
 * Feeding
 */
/* The direction of a transmission in its tunnel: at the tunnel's own point by its addresses; at
 * another by where a copy showed the ref sender to be there (a NAT between the points). */
static unsigned direction(const iks_machine *mc, const iks_tunnel *t, const iks_msg *m)
{
	const iks_addr *ref = m->point == t->point ? &t->ref : point_ref(mc, t, m->point);
	return iks_addr_eq(&m->src, ref ? ref : &t->ref) ? DIR_REF : DIR_OTHER;
}

iks_result *iks_machine_feed(iks_machine *mc, const iks_msg *m, iks_step *s)
{
	if (m->version != 1 && m->version != 2)
		return NULL;
	iks_result *r = iks_new_result(mc);
	if (sighted(mc, m, r)) {
		s->t = NULL;
		if (m->ts_ns > mc->last_ns)
			mc->last_ns = m->ts_ns;
		return r;
	}
	if (mc->expiry_ns)
		forget_quiet_exchanges(mc, m->ts_ns);
	bool new_exchange;
	s->t = find_tunnel(mc, m, &s->new_tunnel);
	iks_tunnel *t = s->t;
	s->dir = direction(mc, t, m);
	/* IKEv2 names the sender in every header (I flag): trust it over addresses (NAT, MOBIKE). */
	if (m->version == 2 && t->roles != ROLES_UNKNOWN)
		s->dir = !(m->flags & IKS_FLAG_V2_INITIATOR) == (t->roles == INIT_IS_OTHER) ? DIR_REF : DIR_OTHER;
	s->e = find_exchange(mc, t, m, &new_exchange);
	r->tunnel = t->id;
	r->seen = m->point < 8 ? (uint8_t)(1u << m->point) : 0;
	r->attempt = t->attempt;
	r->elapsed_ns = m->ts_ns - t->first_ns;
	if (s->new_tunnel && !(m->rspi == 0 && (m->exch == IKS_EXCH_MAIN || m->exch == IKS_EXCH_AGGRESSIVE ||
						m->exch == IKS_EXCH_IKE_SA_INIT)))
		r->flags |= IKS_R_MID_NEGOTIATION;
	if (m->src.port == 4500 || m->dst.port == 4500)
		t->natt = true;
	v2_retry_restarts(mc, s, m);
	s->progressed = place(mc, s, m, new_exchange, r);
	if (m->version == 2 && r->retrans && (r->msg == IKS_M_SA_INIT_RESP || r->msg == IKS_M_AUTH_RESP))
		t->v2.resp_resent = true;
	add_sighting(mc, m, 0, r, s->dir);
	return r;
}

static guint32 ra_pack(const iks_ra *ra)
{
	return (guint32)ra->eap_code << 24 | (guint32)ra->eap_type << 16 | (guint32)ra->cfg_type << 8 | ra->cfg;
}

static void note_ra(iks_machine *mc, const iks_msg *m, const iks_result *r)
{
	guint32 packed = ra_pack(&m->ra);
	if (!packed)
		return;
	if (!mc->ra)
		mc->ra = g_hash_table_new(g_direct_hash, g_direct_equal);
	g_hash_table_insert(mc->ra, (gpointer)r, GUINT_TO_POINTER(packed));
}

bool iks_machine_ra(const iks_machine *mc, const iks_result *r, iks_ra *out)
{
	guint32 packed = mc->ra ? GPOINTER_TO_UINT(g_hash_table_lookup(mc->ra, r)) : 0;
	*out = (iks_ra){ (uint8_t)(packed >> 24), (uint8_t)(packed >> 16), (uint8_t)(packed >> 8), (uint8_t)packed };
	return packed != 0;
}

void iks_machine_settle(iks_machine *mc, const iks_msg *m, const iks_step *s, iks_result *r)
{
	iks_tunnel *t = s->t;
	t->version = m->version;
	t->retrans += r->retrans ? 1 : 0;
	if (r->retrans && r->role != IKS_ROLE_UNKNOWN)
		t->resent |= r->role == IKS_ROLE_INITIATOR ? 1 : 2;
	t->qm_done += (r->flags & IKS_R_PHASE2_DONE) ? 1 : 0;
	t->v2.auth_done += m->version == 2 && (r->flags & IKS_R_PHASE1_DONE) ? 1 : 0;
	/* The roles' addresses as the tunnel's own point sees them (another may be across a NAT). */
	if (r->role != IKS_ROLE_UNKNOWN && m->point == t->point) {
		set_role_addr(mc, t, r->role == IKS_ROLE_RESPONDER, &m->src);
		set_role_addr(mc, t, r->role == IKS_ROLE_INITIATOR, &m->dst);
	}
	if (s->progressed)
		t->progress_ns = m->ts_ns;
	if (m->n_spi)
		iks_esp_note_spis(mc, m, r);
	note_ra(mc, m, r);
	t->tail = s->e->tail = r;
	if (m->ts_ns > mc->last_ns)
		mc->last_ns = m->ts_ns;
}

iks_result *iks_machine_icmp(iks_machine *mc, int64_t ts_ns, uint64_t ispi, uint64_t rspi, iks_tunnel **out)
{
	iks_tunnel *t = g_hash_table_lookup(mc->tunnels, &ispi), *match = NULL;
	for (; t; t = iks_tunnel_at(mc, t->next_same_ispi))
		if (t->rspi == rspi || rspi == 0 || t->rspi == 0)
			match = t;
	*out = match;
	if (!match)
		return NULL;
	iks_result *r = iks_new_result(mc);
	r->tunnel = match->id;
	r->attempt = match->attempt;
	r->elapsed_ns = ts_ns - match->first_ns;
	match->icmp = true;
	return r;
}
