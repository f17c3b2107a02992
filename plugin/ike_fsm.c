/* ike_fsm.c — IKE negotiation state machine (no Wireshark includes; GLib only).
 *
 * Domain facts: ../shared/reference/ike-states.md §1, §2, §4.3, §5, §8. Labels describe the
 * sender's state right after sending (libreswan's convention, and what the ASA names encode).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ike_fsm_int.h"

#include <string.h>

/* A first quick-mode packet this small carries HASH only (QM3/QM4), never SA + nonce (QM1):
 * header 28 + HASH(4 + 64, SHA-512) padded to the cipher block is at most 108 bytes, while the
 * smallest QM1 (HASH + SA with one transform + nonce) is above 120. */
#define IKS_QM_HASH_ONLY_MAX_LEN 112

#define RESULTS_PER_BLOCK 1024
#define POOL_BLOCK 256 /* items */
#define ARENA_BLOCK (64 * 1024)

/* ---------------------------------------------------------------------------------------------
 * Names
 */
static const char *const msg_names[IKS_M__COUNT] = {
	[IKS_M_NONE] = NULL, [IKS_M_UNKNOWN] = "?",
	[IKS_M_MM1] = "MM1", [IKS_M_MM2] = "MM2", [IKS_M_MM3] = "MM3",
	[IKS_M_MM4] = "MM4", [IKS_M_MM5] = "MM5", [IKS_M_MM6] = "MM6",
	[IKS_M_AM1] = "AM1", [IKS_M_AM2] = "AM2", [IKS_M_AM3] = "AM3",
	[IKS_M_QM1] = "QM1", [IKS_M_QM2] = "QM2", [IKS_M_QM3] = "QM3", [IKS_M_QM4] = "QM4",
	[IKS_M_INFO] = "INFO", [IKS_M_TXN] = "TXN",
	[IKS_M_SA_INIT_REQ] = "SA_INIT_REQ", [IKS_M_SA_INIT_RESP] = "SA_INIT_RESP",
	[IKS_M_AUTH_REQ] = "AUTH_REQ", [IKS_M_AUTH_RESP] = "AUTH_RESP",
	[IKS_M_CHILD_REQ] = "CHILD_REQ", [IKS_M_CHILD_RESP] = "CHILD_RESP",
	[IKS_M_INFO_REQ] = "INFO_REQ", [IKS_M_INFO_RESP] = "INFO_RESP",
	[IKS_M_INTER_REQ] = "INTER_REQ", [IKS_M_INTER_RESP] = "INTER_RESP",
};
static const char *const role_names[] = { NULL, "initiator", "responder" };
static const char *const state_names[IKS_S__COUNT] = {
	NULL, "MM_WAIT_MSG2", "MM_WAIT_MSG3", "MM_WAIT_MSG4", "MM_WAIT_MSG5", "MM_WAIT_MSG6",
	"MM_ACTIVE", "AM_WAIT_MSG2", "AM_WAIT_MSG3", "AM_ACTIVE",
	"IN-NEG", "READY", "DELETE", "DELETED",
};
static const char *const ios_names[IKS_IOS__COUNT] = {
	NULL, "MM_NO_STATE", "MM_SA_SETUP", "MM_KEY_EXCH", "AG_NO_STATE", "AG_INIT_EXCH", "QM_IDLE",
};
static const char *const qm_names[IKS_QM__COUNT] = {
	NULL, "QM_WAIT_MSG2", "QM_WAIT_MSG3", "QM_ACTIVE",
};

#define NAME_OF(table, i) ((i) < G_N_ELEMENTS(table) ? (table)[i] : NULL)
const char *iks_msg_name(unsigned m) { return NAME_OF(msg_names, m); }
const char *iks_role_name(unsigned r) { return NAME_OF(role_names, r); }
const char *iks_state_name(unsigned s) { return NAME_OF(state_names, s); }
const char *iks_ios_state_name(unsigned s) { return NAME_OF(ios_names, s); }
const char *iks_qm_state_name(unsigned s) { return NAME_OF(qm_names, s); }

/* Sender's ASA / IOS state right after sending phase-1 message pos (ike-states.md §4.3). */
static const uint8_t state_after[IKS_M__COUNT] = {
	[IKS_M_MM1] = IKS_S_MM_WAIT_MSG2, [IKS_M_MM2] = IKS_S_MM_WAIT_MSG3,
	[IKS_M_MM3] = IKS_S_MM_WAIT_MSG4, [IKS_M_MM4] = IKS_S_MM_WAIT_MSG5,
	[IKS_M_MM5] = IKS_S_MM_WAIT_MSG6, [IKS_M_MM6] = IKS_S_MM_ACTIVE,
	[IKS_M_AM1] = IKS_S_AM_WAIT_MSG2, [IKS_M_AM2] = IKS_S_AM_WAIT_MSG3,
	[IKS_M_AM3] = IKS_S_AM_ACTIVE,
};
static const uint8_t ios_after[IKS_M__COUNT] = {
	[IKS_M_MM1] = IKS_IOS_MM_NO_STATE, [IKS_M_MM2] = IKS_IOS_MM_SA_SETUP,
	[IKS_M_MM3] = IKS_IOS_MM_SA_SETUP, [IKS_M_MM4] = IKS_IOS_MM_KEY_EXCH,
	[IKS_M_MM5] = IKS_IOS_MM_KEY_EXCH, [IKS_M_MM6] = IKS_IOS_QM_IDLE,
	[IKS_M_AM1] = IKS_IOS_AG_NO_STATE, [IKS_M_AM2] = IKS_IOS_AG_INIT_EXCH,
	[IKS_M_AM3] = IKS_IOS_QM_IDLE,
};

uint8_t iks_state_after(uint8_t pos)
{
	return pos < G_N_ELEMENTS(state_after) ? state_after[pos] : IKS_S_NONE;
}

uint8_t iks_ios_after(uint8_t pos)
{
	return pos < G_N_ELEMENTS(ios_after) ? ios_after[pos] : IKS_IOS_NONE;
}

/* ---------------------------------------------------------------------------------------------
 * Parsing
 */
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) << 32 | rd32(p + 4); }

/* Retransmission check: equal bytes give equal digests. Eight bytes per step (byte-wise FNV-1a was
 * a fifth of the plugin's cost per message); the multiply is a bijection, so messages that differ
 * in one word always differ, and the rotation carries high-bit differences into later words' mix. */
static uint64_t content_hash(const uint8_t *buf, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL, w;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		memcpy(&w, buf + i, 8);
		h = ((h << 27 | h >> 37) ^ w) * 0x100000001b3ULL;
	}
	for (; i < len; i++)
		h = (h ^ buf[i]) * 0x100000001b3ULL;
	return h;
}

bool iks_parse(const uint8_t *buf, size_t caplen, iks_msg *m)
{
	if (caplen < IKS_ISAKMP_HDR_LEN)
		return false;
	m->ispi = rd64(buf);
	m->rspi = rd64(buf + 8);
	m->first_payload = buf[16];
	m->version = buf[17] >> 4;
	m->exch = buf[18];
	m->flags = buf[19];
	m->msgid = rd32(buf + 20);
	m->length = rd32(buf + 24);
	m->payloads = 0;
	m->n_notify = 0;
	m->sk_first = 0;
	m->frag_num = m->frag_total = 0;

	/* Only what is on the wire: a truncated capture hashes what it has. */
	size_t end = m->length < caplen ? m->length : caplen;
	if (end < IKS_ISAKMP_HDR_LEN)
		end = caplen;
	m->digest = content_hash(buf, end) ^ m->length;

	bool v1 = m->version == 1;
	if (v1 && (m->flags & IKS_FLAG_ENCRYPTED))
		return true; /* payloads are ciphertext */
	/* IKEv2 SK (46) hides the rest of the chain; the walk stops there naturally. */
	unsigned next = m->first_payload;
	size_t off = IKS_ISAKMP_HDR_LEN;
	for (unsigned guard = 0; next != 0 && guard < 64 && off + 4 <= end; guard++) {
		unsigned type = next;
		size_t plen = rd16(buf + off + 2);
		if (plen < 4 || off + plen > end)
			break;
		/* IKEv1 Delete: protocol at hdr 4 + DOI 4; 1 = the ISAKMP SA itself. */
		bool other_delete = v1 && type == IKS_PL_DELETE && (plen < 9 || buf[off + 8] != 1);
		if (type < 64 && !other_delete)
			m->payloads |= UINT64_C(1) << type;
		/* Notify type: IKEv1 N = hdr 4, DOI 4, proto 1, spi size 1, type 2; IKEv2 N (41) = hdr 4,
		 * proto 1, spi size 1, type 2. */
		size_t toff = v1 && type == IKS_PL_NOTIFY ? 10 : (!v1 && type == 41 ? 6 : 0);
		if (toff && plen >= toff + 2 && m->n_notify < IKS_MAX_NOTIFY)
			m->notify[m->n_notify++] = rd16(buf + off + toff);
		if (!v1 && (type == IKS_PL2_SK || type == IKS_PL2_SKF)) {
			m->sk_first = buf[off]; /* first payload inside: the rest is ciphertext */
			if (type == IKS_PL2_SKF && plen >= 8) {
				m->frag_num = rd16(buf + off + 4);
				m->frag_total = rd16(buf + off + 6);
			}
			break;
		}
		next = buf[off];
		off += plen;
	}
	return true;
}

/* ---------------------------------------------------------------------------------------------
 * Tables
 */
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

static guint exchange_hash(gconstpointer k)
{
	const iks_exchange *e = k;
	return (guint)(e->tunnel * 2654435761u) ^ e->msgid ^ ((guint)e->exch << 24);
}

static gboolean exchange_equal(gconstpointer a, gconstpointer b)
{
	const iks_exchange *x = a, *y = b;
	return x->tunnel == y->tunnel && x->msgid == y->msgid && x->exch == y->exch;
}

/* Tunnels, exchanges and what they add on demand live as long as the machine: they come from
 * blocks it owns and frees at once, without an allocator header each (issue #6: memory per
 * tunnel). Pools for what is found by index, the arena (iks_alloc) for the rest. */
static void pool_init(iks_pool *p, size_t size)
{
	p->blocks = g_ptr_array_new_with_free_func(g_free);
	p->n = 0;
	p->size = (uint32_t)size;
}

/* A new zeroed item: its index. */
static uint32_t pool_add(iks_pool *p)
{
	if (p->n % POOL_BLOCK == 0)
		g_ptr_array_add(p->blocks, g_malloc0((size_t)p->size * POOL_BLOCK));
	return ++p->n;
}

static void *pool_at(const iks_pool *p, uint32_t index)
{
	if (!index)
		return NULL;
	uint32_t i = index - 1;
	return (char *)g_ptr_array_index(p->blocks, i / POOL_BLOCK) + (size_t)(i % POOL_BLOCK) * p->size;
}

iks_fsm *iks_fsm_new(const iks_config *cfg)
{
	iks_fsm *fsm = g_new0(iks_fsm, 1);
	fsm->cfg.stall_retransmissions = IKS_DEFAULT_STALL_RETRANSMISSIONS;
	fsm->cfg.stall_timeout_ns = (int64_t)IKS_DEFAULT_STALL_TIMEOUT_S * 1000000000;
	if (cfg)
		fsm->cfg = *cfg;
	fsm->tunnels = g_hash_table_new(g_int64_hash, g_int64_equal);
	fsm->exchanges = g_hash_table_new(exchange_hash, exchange_equal);
	pool_init(&fsm->tunnel_pool, sizeof(iks_tunnel));
	pool_init(&fsm->v2_pool, 2 * sizeof(iks_v2_last));
	fsm->finals = g_array_new(FALSE, FALSE, sizeof(iks_saved_verdict));
	fsm->used = RESULTS_PER_BLOCK;
	return fsm;
}

void iks_fsm_free(iks_fsm *fsm)
{
	if (!fsm)
		return;
	iks_diag_free(fsm);
	g_hash_table_destroy(fsm->tunnels);
	g_hash_table_destroy(fsm->exchanges);
	g_ptr_array_free(fsm->tunnel_pool.blocks, TRUE);
	g_ptr_array_free(fsm->v2_pool.blocks, TRUE);
	g_array_free(fsm->finals, TRUE);
	g_slist_free_full(fsm->blocks, g_free);
	g_slist_free_full(fsm->arena, g_free);
	g_free(fsm);
}

uint32_t iks_fsm_tunnel_count(const iks_fsm *fsm)
{
	return fsm->tunnel_pool.n;
}

iks_tunnel *iks_tunnel_at(const iks_fsm *fsm, uint32_t index)
{
	return pool_at(&fsm->tunnel_pool, index);
}

/* Zeroed memory for the life of the machine. */
void *iks_alloc(iks_fsm *fsm, size_t size)
{
	size = (size + 7) & ~(size_t)7; /* nothing stored is aligned wider than int64_t and pointers */
	if (size > fsm->arena_left) {
		fsm->arena = g_slist_prepend(fsm->arena, g_malloc0(ARENA_BLOCK));
		fsm->arena_left = ARENA_BLOCK;
	}
	void *p = (char *)fsm->arena->data + (ARENA_BLOCK - fsm->arena_left);
	fsm->arena_left -= size;
	return p;
}

uint32_t iks_fsm_rekey_of(const iks_fsm *fsm, uint32_t index)
{
	if (index == 0 || index > fsm->tunnel_pool.n)
		return 0;
	return iks_tunnel_at(fsm, index)->rekey_of;
}

iks_result *iks_new_result(iks_fsm *fsm)
{
	if (fsm->used == RESULTS_PER_BLOCK) {
		fsm->blocks = g_slist_prepend(fsm->blocks, g_new(iks_result, RESULTS_PER_BLOCK));
		fsm->used = 0;
	}
	iks_result *r = (iks_result *)fsm->blocks->data + fsm->used++;
	memset(r, 0, sizeof *r);
	return r;
}

/* The IKE SA a message belongs to: same initiator cookie, and the same responder cookie unless
 * one of the two is still zero (MM1/AM1 and their retransmissions carry rspi 0). */
static iks_tunnel *find_tunnel(iks_fsm *fsm, const iks_msg *m, bool *created)
{
	iks_tunnel *head = g_hash_table_lookup(fsm->tunnels, &m->ispi), *match = NULL, *t;
	for (t = head; t; t = iks_tunnel_at(fsm, t->next_same_ispi)) {
		if (t->rspi == m->rspi)
			match = t; /* exact: the latest one wins */
		else if ((t->rspi == 0 || m->rspi == 0) && (!match || match->rspi != m->rspi))
			match = t;
		else if (m->version == 2 && m->exch == IKS_EXCH_IKE_SA_INIT && t->version == 2 &&
			 t->v2_pos < IKS_M_AUTH_REQ && (!match || match->rspi != m->rspi))
			match = t;
	}
	/* IKEv2: an IKE_SA_INIT answer (COOKIE, INVALID_KE_PAYLOAD) may carry a responder SPI that the
	 * answer to the retry replaces; the negotiation is the same until IKE_AUTH. */
	if (match && match->rspi != m->rspi && m->rspi && m->version == 2 && m->exch == IKS_EXCH_IKE_SA_INIT &&
	    match->v2_pos < IKS_M_AUTH_REQ)
		match->rspi = 0;
	*created = match == NULL;
	if (match) {
		if (match->rspi == 0)
			match->rspi = m->rspi;
		return match;
	}
	t = iks_tunnel_at(fsm, pool_add(&fsm->tunnel_pool));
	t->ispi = m->ispi;
	t->rspi = m->rspi;
	t->index = fsm->tunnel_pool.n;
	t->ref = m->src;
	t->peer = m->dst;
	t->first_ns = t->progress_ns = m->ts_ns;
	t->setup_ns = -1;
	if (!head) {
		g_hash_table_insert(fsm->tunnels, &t->ispi, t);
	} else {
		while (head->next_same_ispi)
			head = iks_tunnel_at(fsm, head->next_same_ispi);
		head->next_same_ispi = t->index;
	}
	return t;
}

static iks_exchange *find_exchange(iks_fsm *fsm, iks_tunnel *t, const iks_msg *m, bool *created)
{
	*created = false;
	if (m->msgid == 0 && (m->exch == IKS_EXCH_MAIN || m->exch == IKS_EXCH_AGGRESSIVE)) {
		if (!t->p1) {
			t->p1 = iks_alloc(fsm, sizeof *t->p1);
			t->p1->tunnel = t->index;
		}
		return t->p1;
	}
	iks_exchange key = { .tunnel = t->index, .msgid = m->msgid, .exch = m->exch };
	/* IKEv2: the exchange's initiator is the original initiator iff I differs from R. */
	if (m->version == 2 && !(m->flags & IKS_FLAG_V2_INITIATOR) == !(m->flags & IKS_FLAG_V2_RESPONSE))
		key.exch |= IKS_EXCH_BY_RESPONDER;
	iks_exchange *e = g_hash_table_lookup(fsm->exchanges, &key);
	if (!e) {
		e = iks_alloc(fsm, sizeof *e);
		*e = key;
		g_hash_table_insert(fsm->exchanges, e, e);
		*created = true;
	}
	return e;
}

/* ---------------------------------------------------------------------------------------------
 * Roles and positions
 */
iks_role iks_role_of(const iks_tunnel *t, unsigned dir)
{
	if (t->roles == ROLES_UNKNOWN)
		return IKS_ROLE_UNKNOWN;
	return (dir == DIR_REF) == (t->roles == INIT_IS_REF) ? IKS_ROLE_INITIATOR : IKS_ROLE_RESPONDER;
}

/* The latest address:port of a role (0 initiator, 1 responder), for the summary. The address is
 * nearly always ref's or peer's, and only the port moves (NAT-T): then only the port is kept. */
static void set_role_addr(iks_fsm *fsm, iks_tunnel *t, unsigned role, const iks_addr *a)
{
	t->role_port[role] = a->port;
	/* All 16 bytes compared: the address given back is the one set. */
	if (a->len == t->ref.len && memcmp(a->bytes, t->ref.bytes, sizeof a->bytes) == 0) {
		t->role_at[role] = ROLE_AT_REF;
	} else if (a->len == t->peer.len && memcmp(a->bytes, t->peer.bytes, sizeof a->bytes) == 0) {
		t->role_at[role] = ROLE_AT_PEER;
	} else {
		if (!t->role_own)
			t->role_own = iks_alloc(fsm, 2 * sizeof *t->role_own);
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

static void set_sender_role(iks_tunnel *t, unsigned dir, iks_role r)
{
	if (t->roles == ROLES_UNKNOWN)
		t->roles = (dir == DIR_REF) == (r == IKS_ROLE_INITIATOR) ? INIT_IS_REF : INIT_IS_OTHER;
}

/* Learn roles from a phase-1 message when the capture did not show MM1/AM1 (§8.2). */
static void infer_roles(iks_tunnel *t, const iks_msg *m, unsigned dir)
{
	bool sa = m->payloads & (UINT64_C(1) << IKS_PL_SA);
	bool enc = m->flags & IKS_FLAG_ENCRYPTED;
	if (m->rspi == 0) {
		set_sender_role(t, dir, IKS_ROLE_INITIATOR); /* only MM1/AM1 lack the responder cookie */
	} else if (sa && !enc) {
		set_sender_role(t, dir, IKS_ROLE_RESPONDER); /* MM2/AM2 */
	} else if (m->exch == IKS_EXCH_AGGRESSIVE) {
		set_sender_role(t, dir, IKS_ROLE_INITIATOR); /* AM3 */
	} else if (m->exch == IKS_EXCH_MAIN && t->roles == ROLES_UNKNOWN) {
		/* KE (MM3/MM4) or encrypted (MM5/MM6): ambiguous alone, decided by the answer. */
		unsigned kind = enc ? IKS_FLAG_ENCRYPTED : (m->payloads & (UINT64_C(1) << IKS_PL_KE)) ? IKS_PL_KE : 0;
		if (!kind)
			return;
		if (!t->pending_kind) {
			t->pending_kind = (uint8_t)kind;
			t->pending_dir = (uint8_t)dir;
		} else if (t->pending_dir != dir) {
			/* KE then KE, or encrypted then encrypted: the first was the initiator's (MM3, MM5);
			 * KE then encrypted: the first was MM4 and this is MM5 from the initiator. */
			bool first_was_init = !(t->pending_kind == IKS_PL_KE && kind == IKS_FLAG_ENCRYPTED);
			set_sender_role(t, dir, first_was_init ? IKS_ROLE_RESPONDER : IKS_ROLE_INITIATOR);
		}
	}
}

static uint8_t phase1_position(const iks_msg *m, iks_role sender)
{
	bool init = sender == IKS_ROLE_INITIATOR;
	bool enc = m->flags & IKS_FLAG_ENCRYPTED;
	bool sa = m->payloads & (UINT64_C(1) << IKS_PL_SA);
	if (sender == IKS_ROLE_UNKNOWN)
		return IKS_M_UNKNOWN;
	if (m->exch == IKS_EXCH_AGGRESSIVE)
		return sa && !enc ? (init ? IKS_M_AM1 : IKS_M_AM2) : (init ? IKS_M_AM3 : IKS_M_UNKNOWN);
	if (enc)
		return init ? IKS_M_MM5 : IKS_M_MM6;
	if (sa)
		return init ? IKS_M_MM1 : IKS_M_MM2;
	if (m->payloads & (UINT64_C(1) << IKS_PL_KE))
		return init ? IKS_M_MM3 : IKS_M_MM4;
	return IKS_M_UNKNOWN;
}

bool iks_completes_phase1(uint8_t pos)
{
	return pos == IKS_M_MM6 || pos == IKS_M_AM3;
}

/* Phase 1 is over (seen, or implied by a later exchange): both sides are ACTIVE. */
static void phase1_active(iks_tunnel *t)
{
	uint8_t done = t->mode == IKS_EXCH_AGGRESSIVE ? IKS_M_AM3 : t->mode == IKS_EXCH_MAIN ? IKS_M_MM6 : 0;
	t->side_pos[0] = t->side_pos[1] = done;
	if (done)
		t->p1_pos = done;
}

/* Quick mode and XAUTH/mode-config run under a finished phase 1: when the capture did not show
 * its end (started later, or lost MM6/AM3), they imply it. In the clear part of phase 1 they
 * cannot be genuine, and change nothing. */
static bool phase1_implied(iks_tunnel *t)
{
	if (iks_completes_phase1(t->p1_pos))
		return true;
	if (t->p1_pos != 0 && t->p1_pos < IKS_M_MM5 && t->p1_pos != IKS_M_AM2)
		return false;
	phase1_active(t);
	return true;
}

/* Returns true when the message moved the negotiation on. */
static bool phase1_step(iks_tunnel *t, const iks_msg *m, iks_role sender, iks_result *r)
{
	uint8_t pos = phase1_position(m, sender);
	r->msg = pos;
	if (!t->mode)
		t->mode = m->exch;
	if (pos == IKS_M_UNKNOWN || m->exch != t->mode) {
		r->flags |= pos == IKS_M_UNKNOWN && sender == IKS_ROLE_UNKNOWN ? 0 : IKS_R_UNEXPECTED;
		r->msg = IKS_M_UNKNOWN;
		return false;
	}
	if ((pos == IKS_M_MM1 || pos == IKS_M_AM1) && !t->p1_start_seen) {
		t->p1_start_seen = true;
		t->p1_start_ns = m->ts_ns;
	}
	/* Behind the furthest step seen: reordered in the capture (its sender still moves on) or an
	 * old step sent again with new content (never moves a side back). */
	uint8_t *side = &t->side_pos[sender == IKS_ROLE_RESPONDER];
	if (pos < t->p1_pos || pos <= *side)
		r->flags |= IKS_R_UNEXPECTED;
	if (pos <= *side)
		return false;
	*side = pos;
	if (pos > t->p1_pos)
		t->p1_pos = pos;
	if (iks_completes_phase1(pos)) {
		phase1_active(t);
		r->flags |= IKS_R_PHASE1_DONE;
		r->setup_ns = t->p1_start_seen ? m->ts_ns - t->p1_start_ns : -1;
		t->setup_ns = r->setup_ns;
	}
	return true;
}

static bool quick_step(iks_tunnel *t, iks_exchange *e, const iks_msg *m, unsigned dir, bool new_exchange,
		       bool new_tunnel, iks_result *r)
{
	if (m->flags & IKS_FLAG_COMMIT)
		e->commit = true;
	if (!phase1_implied(t))
		r->flags |= IKS_R_UNEXPECTED;
	if (new_exchange) {
		e->qm_init_dir = (uint8_t)dir;
		e->start_ns = m->ts_ns;
		if (m->length <= IKS_QM_HASH_ONLY_MAX_LEN) {
			e->step = IKS_M_UNKNOWN; /* QM3/QM4 of an exchange whose start we missed */
			r->msg = IKS_M_UNKNOWN;
			r->flags |= new_tunnel ? 0 : IKS_R_UNEXPECTED;
			return false;
		}
		e->step = IKS_M_QM1;
		t->pending_qm = e;
	} else if (dir != e->qm_init_dir && e->step == IKS_M_QM1) {
		e->step = IKS_M_QM2;
		if (t->pending_qm == e)
			t->pending_qm = NULL;
	} else if (dir == e->qm_init_dir && e->step == IKS_M_QM2) {
		e->step = IKS_M_QM3;
		r->flags |= IKS_R_PHASE2_DONE;
		r->setup_ns = m->ts_ns - e->start_ns;
	} else if (dir != e->qm_init_dir && e->step == IKS_M_QM3 && e->commit) {
		e->step = IKS_M_QM4; /* CONNECTED notify of the commit bit (§3.3-7) */
	} else {
		r->msg = IKS_M_UNKNOWN;
		r->flags |= e->step == IKS_M_UNKNOWN ? 0 : IKS_R_UNEXPECTED;
		return false;
	}
	r->msg = e->step;
	r->qm_state = e->step == IKS_M_QM1 ? IKS_QM_WAIT_MSG2 : e->step == IKS_M_QM2 ? IKS_QM_WAIT_MSG3 : IKS_QM_ACTIVE;
	e->progress_ns = m->ts_ns;
	return true;
}

/* ---------------------------------------------------------------------------------------------
 * IKEv2 (RFC 7296): position from exchange type + R flag; the IKE SA status as Cisco shows it.
 */
bool iks_has_notify(const iks_msg *m, unsigned type)
{
	for (unsigned i = 0; i < m->n_notify; i++)
		if (m->notify[i] == type)
			return true;
	return false;
}

/* Errors that refuse a child SA but leave the IKE SA up (RFC 7296 §1.2, §2.21.2). */
bool iks_v2_child_error(unsigned type)
{
	switch (type) {
	case 14: case 34: case 35: case 36: case 37: case 38: case 43: case 44:
		return true;
	}
	return false;
}

static bool v2_error_notify(const iks_msg *m, bool ike_fatal_only)
{
	for (unsigned i = 0; i < m->n_notify; i++)
		if (m->notify[i] > 0 && m->notify[i] < 16384 && !(ike_fatal_only && iks_v2_child_error(m->notify[i])))
			return true;
	return false;
}

static uint8_t v2_position(const iks_msg *m)
{
	bool resp = m->flags & IKS_FLAG_V2_RESPONSE;
	switch (m->exch) {
	case IKS_EXCH_IKE_SA_INIT: return resp ? IKS_M_SA_INIT_RESP : IKS_M_SA_INIT_REQ;
	case IKS_EXCH_IKE_AUTH: return resp ? IKS_M_AUTH_RESP : IKS_M_AUTH_REQ;
	case IKS_EXCH_CREATE_CHILD_SA: return resp ? IKS_M_CHILD_RESP : IKS_M_CHILD_REQ;
	case IKS_EXCH_INFORMATIONAL: return resp ? IKS_M_INFO_RESP : IKS_M_INFO_REQ;
	case IKS_EXCH_IKE_INTERMEDIATE: return resp ? IKS_M_INTER_RESP : IKS_M_INTER_REQ;
	}
	return IKS_M_UNKNOWN;
}

/* An IKE_AUTH response that completes the IKE SA: not refused by a notify we can read (keys
 * loaded), and, without keys, its SK payload opens with IDr / CERT / AUTH / VID, not with a
 * Notify (an error-only answer) or EAP (more IKE_AUTH rounds follow). */
static bool v2_auth_ok(const iks_msg *m)
{
	if (v2_error_notify(m, true))
		return false;
	if (m->sk_first == IKS_PL2_EAP)
		return false;
	return m->sk_first != IKS_PL2_NOTIFY || m->n_notify > 0;
}

/* IKE_SA_INIT, IKE_AUTH (and IKE_INTERMEDIATE) set the IKE SA up; CREATE_CHILD_SA and
 * INFORMATIONAL run under it. Returns true when the message moved the negotiation on. */
static bool v2_step(iks_tunnel *t, iks_exchange *e, const iks_msg *m, bool new_exchange, iks_result *r)
{
	uint8_t pos = v2_position(m);
	r->msg = pos;
	bool progressed = true;
	switch (pos) {
	case IKS_M_SA_INIT_REQ:
		if (!t->p1_start_seen) {
			t->p1_start_seen = true;
			t->p1_start_ns = m->ts_ns;
		}
		t->v2_retry_pending = false;
		if (t->v2_state && t->v2_state != IKS_S_IN_NEG)
			r->flags |= IKS_R_UNEXPECTED;
		else
			t->v2_state = IKS_S_IN_NEG;
		break;
	case IKS_M_SA_INIT_RESP:
		if (iks_has_notify(m, 16390) || iks_has_notify(m, 17)) { /* COOKIE, INVALID_KE_PAYLOAD: retry */
			if (t->v2_retries < UINT8_MAX)
				t->v2_retries++;
			t->v2_retry_pending = true;
		}
		if (!t->v2_state)
			t->v2_state = IKS_S_IN_NEG;
		break;
	case IKS_M_AUTH_REQ:
	case IKS_M_INTER_REQ:
	case IKS_M_INTER_RESP:
		if (pos == IKS_M_AUTH_REQ) {
			t->v2_auth_frag |= m->frag_total > 1;
			t->v2_auth_big |= m->length > 1200;
		}
		if (t->v2_state == IKS_S_READY && pos == IKS_M_AUTH_REQ)
			t->v2_state = IKS_S_IN_NEG; /* another IKE_AUTH round (EAP, multiple auth) */
		else if (t->v2_state && t->v2_state != IKS_S_IN_NEG)
			r->flags |= IKS_R_UNEXPECTED;
		else
			t->v2_state = IKS_S_IN_NEG;
		break;
	case IKS_M_AUTH_RESP:
		if (t->v2_state == IKS_S_DELETE) {
			r->flags |= IKS_R_UNEXPECTED;
		} else if (v2_auth_ok(m)) {
			t->v2_state = IKS_S_READY;
			r->flags |= IKS_R_PHASE1_DONE;
			r->setup_ns = t->p1_start_seen ? m->ts_ns - t->p1_start_ns : -1;
			t->setup_ns = r->setup_ns;
		} else {
			t->v2_state = IKS_S_IN_NEG;
		}
		break;
	case IKS_M_CHILD_REQ:
	case IKS_M_INFO_REQ:
	case IKS_M_CHILD_RESP:
	case IKS_M_INFO_RESP:
		/* Run under an IKE SA: one whose start the capture missed is up. An INFORMATIONAL may also
		 * carry an error during IKE_AUTH, and changes nothing then. */
		if (!t->v2_state)
			t->v2_state = IKS_S_READY;
		else if (t->v2_state == IKS_S_IN_NEG && (pos == IKS_M_CHILD_REQ || pos == IKS_M_CHILD_RESP))
			r->flags |= IKS_R_UNEXPECTED;
		if (new_exchange)
			e->start_ns = m->ts_ns;
		if (pos == IKS_M_INFO_REQ)
			e->v2_delete = m->sk_first == IKS_PL2_DELETE || m->sk_first == IKS_PL2_VID;
		/* Keys loaded: the glue marks a decrypted Delete of the IKE SA itself (payload bit 42). */
		/* An empty answer to a Delete: the IKE SA's own delete (a child SA delete is answered with
		 * Delete payloads for the paired SAs). */
		if ((pos == IKS_M_INFO_REQ && (m->payloads & (UINT64_C(1) << IKS_PL2_DELETE))) ||
		    (pos == IKS_M_INFO_RESP && e->v2_delete && (m->payloads & (UINT64_C(1) << IKS_PL2_SK)) &&
		     m->sk_first == 0)) {
			if (t->v2_state != IKS_S_DELETE)
				r->flags |= IKS_R_DELETED;
			t->v2_state = IKS_S_DELETE;
			t->deleted = true;
		}
		if (pos == IKS_M_CHILD_RESP && t->v2_state == IKS_S_READY && !v2_error_notify(m, false) &&
		    !(m->sk_first == IKS_PL2_NOTIFY && m->n_notify == 0)) {
			r->flags |= IKS_R_PHASE2_DONE;
			r->setup_ns = m->ts_ns - e->start_ns;
		}
		progressed = pos == IKS_M_CHILD_RESP || pos == IKS_M_INFO_RESP;
		break;
	default:
		r->msg = IKS_M_UNKNOWN;
		return false;
	}
	if (pos <= IKS_M_AUTH_RESP && pos > t->v2_pos)
		t->v2_pos = pos;
	return progressed;
}

/* Labels of a message that is neither a resend nor a fragment; true if it moved things on. */
static bool track(iks_tunnel *t, iks_exchange *e, const iks_msg *m, unsigned dir, bool new_exchange,
		  bool new_tunnel, iks_v2_last *mine_v2, iks_result *r)
{
	bool progressed = false;
	if (m->version == 2) {
		/* The original initiator sets the I flag on every message it sends. */
		set_sender_role(t, dir, m->flags & IKS_FLAG_V2_INITIATOR ? IKS_ROLE_INITIATOR : IKS_ROLE_RESPONDER);
		progressed = v2_step(t, e, m, new_exchange, r);
		r->state = t->v2_state;
	} else if (m->exch == IKS_EXCH_MAIN || m->exch == IKS_EXCH_AGGRESSIVE) {
		infer_roles(t, m, dir);
		progressed = phase1_step(t, m, iks_role_of(t, dir), r);
	} else if (m->exch == IKS_EXCH_QUICK) {
		progressed = quick_step(t, e, m, dir, new_exchange, new_tunnel, r);
	} else if (m->exch == IKS_EXCH_INFO) {
		r->msg = IKS_M_INFO;
		if ((m->payloads & (UINT64_C(1) << IKS_PL_DELETE)) && !t->deleted) {
			t->deleted = true;
			r->flags |= IKS_R_DELETED;
		}
	} else if (m->exch == IKS_EXCH_TRANSACTION) {
		if (!phase1_implied(t))
			r->flags |= IKS_R_UNEXPECTED;
		r->msg = IKS_M_TXN;
	} else {
		r->msg = IKS_M_UNKNOWN;
	}

	r->role = (uint8_t)iks_role_of(t, dir);
	if (m->version == 1 && r->role != IKS_ROLE_UNKNOWN) {
		uint8_t pos = t->side_pos[r->role == IKS_ROLE_RESPONDER];
		r->state = t->deleted ? IKS_S_DELETED : state_after[pos];
		r->ios_state = ios_after[pos];
	}
	if (m->version == 1 && (m->exch == IKS_EXCH_QUICK || m->exch == IKS_EXCH_TRANSACTION))
		r->ios_state = IKS_IOS_QM_IDLE; /* IOS keeps showing QM_IDLE while quick modes run */

	/* A message answers the other side's newest message if that came after our own last one. */
	iks_last *mine = &e->last[dir], *theirs = &e->last[!dir];
	if (theirs->res && (!mine->res || theirs->frame > mine->frame) &&
	    (m->version == 1 || (m->flags & IKS_FLAG_V2_RESPONSE))) { /* an IKEv2 request answers nothing */
		r->response_to = theirs->frame;
		if (!theirs->res->response_in)
			theirs->res->response_in = m->frame;
	}
	*mine = (iks_last){ .digest = m->digest, .frame = m->frame, .res = r };
	if (mine_v2) {
		*mine_v2 = (iks_v2_last){ .prev_digest = m->digest, .prev_ns = m->ts_ns };
		if (m->frag_num)
			mine_v2->frag_copies[(m->frag_num - 1) % 16] = 1;
	}
	return progressed;
}

/* Until an exchange has its iks_v2_last, the latest packet of a direction is the original in
 * iks_last (its result gives the time) and no fragment was seen: what it starts with. */
static iks_v2_last *v2_last(iks_fsm *fsm, const iks_tunnel *t, iks_exchange *e)
{
	if (e->v2)
		return pool_at(&fsm->v2_pool, e->v2);
	e->v2 = pool_add(&fsm->v2_pool);
	iks_v2_last *v = pool_at(&fsm->v2_pool, e->v2);
	for (unsigned d = 0; d < 2; d++) {
		if (e->last[d].res) {
			v[d].prev_digest = e->last[d].digest;
			v[d].prev_ns = t->first_ns + e->last[d].res->elapsed_ns;
		}
	}
	return v;
}

/* ---------------------------------------------------------------------------------------------
 * Feeding
 */
iks_result *iks_fsm_feed(iks_fsm *fsm, const iks_msg *m)
{
	if (m->version != 1 && m->version != 2)
		return NULL;
	bool new_tunnel, new_exchange;
	iks_tunnel *t = find_tunnel(fsm, m, &new_tunnel);
	unsigned dir = iks_addr_eq(&m->src, &t->ref) ? DIR_REF : DIR_OTHER;
	/* IKEv2 names the sender in every header (I flag): trust it over addresses (NAT, MOBIKE). */
	if (m->version == 2 && t->roles != ROLES_UNKNOWN)
		dir = !(m->flags & IKS_FLAG_V2_INITIATOR) == (t->roles == INIT_IS_OTHER) ? DIR_REF : DIR_OTHER;
	iks_exchange *e = find_exchange(fsm, t, m, &new_exchange);
	iks_last *mine = &e->last[dir];
	iks_result *r = iks_new_result(fsm);
	r->tunnel = t->index;
	r->elapsed_ns = m->ts_ns - t->first_ns;
	if (new_tunnel) {
		if (!(m->rspi == 0 && (m->exch == IKS_EXCH_MAIN || m->exch == IKS_EXCH_AGGRESSIVE ||
				       m->exch == IKS_EXCH_IKE_SA_INIT)))
			r->flags |= IKS_R_MID_NEGOTIATION;
		iks_diag_new_tunnel(fsm, t, m);
	}
	if (m->src.port == 4500 || m->dst.port == 4500)
		t->natt = true;

	/* IKEv2: the initiator's IKE_SA_INIT retry (new bytes: COOKIE or another KE) after a COOKIE /
	 * INVALID_KE_PAYLOAD answer starts the exchange afresh; its answer is no resend either. */
	if (m->version == 2 && m->exch == IKS_EXCH_IKE_SA_INIT && !(m->flags & IKS_FLAG_V2_RESPONSE) &&
	    t->v2_retry_pending && mine->res && mine->digest != m->digest) {
		memset(e->last, 0, sizeof e->last);
		if (e->v2)
			memset(v2_last(fsm, t, e), 0, 2 * sizeof(iks_v2_last));
		mine = &e->last[dir];
	}
	bool progressed = false;
	/* IKEv2 resends, fragments and duplicates look further back. */
	iks_v2_last *mine_v2 = NULL;
	if (e->v2 || (m->version == 2 && mine->res) || m->frag_num)
		mine_v2 = &v2_last(fsm, t, e)[dir];
	/* A message ID is used once per direction: a request again is a resend even with other bytes
	 * (a new IV); a responder re-sends its cached answer byte for byte. */
	bool v2_repeat = m->version == 2 && mine->res &&
			 (!(m->flags & IKS_FLAG_V2_RESPONSE) || mine->digest == m->digest);
	bool dup = m->version == 2 && mine->res && mine_v2->prev_digest == m->digest && m->ts_ns >= mine_v2->prev_ns &&
		   m->ts_ns - mine_v2->prev_ns < 1000000;
	if (m->version == 2 && mine->res) {
		mine_v2->prev_digest = m->digest;
		mine_v2->prev_ns = m->ts_ns;
	}
	if (dup) {
		/* The same packet captured twice (two interfaces, a bridge): the labels of the message,
		 * no resend. */
		const iks_result *o = mine->res;
		r->msg = o->msg;
		r->role = o->role;
		r->state = o->state;
	} else if (m->version == 2 && mine->res && m->frag_num) {
		/* IKEv2 fragments (SKF): the k-th copy of a fragment number is the k-th resend of the
		 * message; a first copy is the next piece of a sending, no resend. */
		uint8_t *copies = &mine_v2->frag_copies[(m->frag_num - 1) % 16];
		const iks_result *o = mine->res;
		r->msg = o->msg;
		r->role = o->role;
		r->state = o->state;
		r->retrans = *copies;
		r->retrans_of = *copies ? mine->frame : 0;
		if (*copies < UINT8_MAX)
			(*copies)++;
		if (r->retrans > mine->count)
			mine->count = r->retrans;
	} else if (v2_repeat || (mine->res && mine->digest == m->digest)) {
		/* Resend (IKEv1: byte-identical): same labels as the original, state does not advance. */
		const iks_result *o = mine->res;
		r->msg = o->msg;
		r->role = o->role;
		r->state = o->state;
		r->ios_state = o->ios_state;
		r->qm_state = o->qm_state;
		r->retrans = ++mine->count;
		r->retrans_of = mine->frame;
	} else if (m->version == 1 && m->first_payload == IKS_PL_CISCO_FRAG && !(m->flags & IKS_FLAG_ENCRYPTED)) {
		/* A piece of a fragmented message: Wireshark dissects the reassembled message in the frame
		 * of the last piece, and that is what we label; the pieces change nothing. */
		r->msg = IKS_M_UNKNOWN;
		r->role = (uint8_t)iks_role_of(t, dir);
	} else {
		progressed = track(t, e, m, dir, new_exchange, new_tunnel, mine_v2, r);
	}
	iks_diag_message(fsm, t, e, m, dir, progressed, r);
	t->version = m->version;
	t->retrans += r->retrans ? 1 : 0;
	t->qm_done += (r->flags & IKS_R_PHASE2_DONE) ? 1 : 0;
	/* IKEv2: IKE_AUTH carries the first child SA, unless its answer refused it. */
	t->qm_done += m->version == 2 && (r->flags & IKS_R_PHASE1_DONE) && !r->failed ? 1 : 0;
	if (r->role != IKS_ROLE_UNKNOWN) {
		set_role_addr(fsm, t, r->role == IKS_ROLE_RESPONDER, &m->src);
		set_role_addr(fsm, t, r->role == IKS_ROLE_INITIATOR, &m->dst);
	}
	if (progressed)
		t->progress_ns = m->ts_ns;
	if (m->n_spi)
		iks_esp_note_spis(fsm, m, r);
	t->tail = e->tail = r;
	if (m->ts_ns > fsm->last_ns)
		fsm->last_ns = m->ts_ns;
	return r;
}
