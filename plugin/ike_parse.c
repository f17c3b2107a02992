/* ike_parse.c — see ike_parse.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ike_parse.h"

#include <stdio.h>
#include <string.h>

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) << 32 | rd32(p + 4); }

/* Retransmission check: equal bytes give equal digests. Eight bytes per step (byte-wise FNV-1a was
 * a fifth of the plugin's cost per message), in two independent lanes of alternate words (a fifth
 * fewer instructions than one, and no chain of multiplies); each lane's multiply is a bijection and
 * the final mix one for either lane with the other fixed, so messages that differ in one word
 * always differ; the rotation carries high-bit differences into later words' mix. */
uint64_t iks_content_hash(const uint8_t *buf, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL, g = 0x84222325cbf29ce4ULL, w, v;
	size_t i = 0;
	for (; i + 16 <= len; i += 16) {
		memcpy(&w, buf + i, 8);
		memcpy(&v, buf + i + 8, 8);
		h = ((h << 27 | h >> 37) ^ w) * 0x100000001b3ULL;
		g = ((g << 27 | g >> 37) ^ v) * 0x100000001b3ULL;
	}
	if (i + 8 <= len) {
		memcpy(&w, buf + i, 8);
		h = ((h << 27 | h >> 37) ^ w) * 0x100000001b3ULL;
		i += 8;
	}
	for (; i < len; i++)
		h = (h ^ buf[i]) * 0x100000001b3ULL;
	return (h ^ (g << 32 | g >> 32)) * 0x9e3779b97f4a7c15ULL;
}

/* Offset of the notify message type in a Notify payload: IKEv1 = hdr 4, DOI 4, proto 1, spi size 1;
 * IKEv2 = hdr 4, proto 1, spi size 1. 0: not a Notify. */
static size_t notify_type_offset(bool v1, unsigned type)
{
	if (v1)
		return type == IKS_PL_NOTIFY ? 10 : 0;
	return type == IKS_PL2_NOTIFY ? 6 : 0;
}

/* One payload of the clear chain; false when the walk must stop (SK / SKF: the rest is ciphertext). */
static bool note_payload(const uint8_t *p, size_t plen, unsigned type, bool v1, iks_msg *m)
{
	/* IKEv1 Delete: protocol at hdr 4 + DOI 4; 1 = the ISAKMP SA itself. */
	bool other_delete = v1 && type == IKS_PL_DELETE && (plen < 9 || p[8] != 1);
	if (type < 64 && !other_delete)
		m->payloads |= UINT64_C(1) << type;
	/* What iks_parse_wire will read (its walk meets the same payloads): where, and their hash. */
	if ((type == (v1 ? IKS_PL_SA : IKS_PL2_SA) || type == (v1 ? IKS_PL_VID : IKS_PL2_VID)) &&
	    m->n_wire_pl <= IKS_MAX_WIRE_PL) {
		size_t off = (size_t)(p - m->raw);
		if (m->n_wire_pl < IKS_MAX_WIRE_PL && off <= UINT16_MAX) {
			m->wire_pl[m->n_wire_pl].off = (uint16_t)off;
			m->wire_pl[m->n_wire_pl].len = (uint16_t)plen;
			m->wire_pl[m->n_wire_pl].type = (uint8_t)type;
			m->n_wire_pl++;
		} else {
			m->n_wire_pl = IKS_MAX_WIRE_PL + 1; /* too many, or too far in: not looked up */
		}
		m->wire_digest = ((m->wire_digest << 29 | m->wire_digest >> 35) ^ iks_content_hash(p, plen) ^ type) *
				 0x100000001b3ULL;
	}
	size_t toff = notify_type_offset(v1, type);
	if (toff && plen >= toff + 2 && m->n_notify < IKS_MAX_NOTIFY)
		m->notify[m->n_notify++] = rd16(p + toff);
	/* IKEv2 KE: header 4, DH group 2; Notify: the SPI, then the data (INVALID_KE_PAYLOAD: a group). */
	if (!v1 && type == IKS_PL2_KE && plen >= 6)
		m->ke_group = rd16(p + 4);
	if (!v1 && type == IKS_PL2_NOTIFY && plen >= 10 && plen >= 10 + (size_t)p[5] &&
	    rd16(p + 6) == IKS_N_INVALID_KE_PAYLOAD)
		m->ke_wanted = rd16(p + 8 + p[5]);
	if (v1 || (type != IKS_PL2_SK && type != IKS_PL2_SKF))
		return true;
	m->sk_first = p[0]; /* first payload inside */
	if (type == IKS_PL2_SKF && plen >= 8) {
		m->frag_num = rd16(p + 4);
		m->frag_total = rd16(p + 6);
	}
	return false;
}

/* Where the message's bytes end: its header length, cut to what was captured. */
static size_t msg_end(const iks_msg *m, size_t caplen)
{
	size_t end = m->length < caplen ? m->length : caplen;
	return end < IKS_ISAKMP_HDR_LEN ? caplen : end;
}

typedef bool (*payload_fn)(const uint8_t *p, size_t plen, unsigned type, bool v1, void *ctx);

/* A payload chain from off, whose first payload is of type next, bounded by end and by a count;
 * fn false stops it. False when a payload runs past end (what makes Wireshark call the message
 * malformed; a length below 4 it takes as 4, here the walk stops). */
static bool walk_chain(const uint8_t *buf, size_t off, size_t end, unsigned next, bool v1, payload_fn fn, void *ctx)
{
	for (unsigned guard = 0; next != 0 && guard < 64 && off + 4 <= end; guard++) {
		size_t plen = rd16(buf + off + 2);
		if (plen >= 4 && off + plen > end)
			return false;
		if (plen < 4 || !fn(buf + off, plen, next, v1, ctx))
			break;
		next = buf[off];
		off += plen;
	}
	return true;
}

/* The clear payload chain of a message. */
static void walk_payloads(const uint8_t *buf, size_t end, const iks_msg *m, payload_fn fn, void *ctx)
{
	bool v1 = m->version == 1;
	if (v1 && (m->flags & IKS_FLAG_ENCRYPTED))
		return; /* payloads are ciphertext */
	walk_chain(buf, IKS_ISAKMP_HDR_LEN, end, m->first_payload, v1, fn, ctx);
}

static bool note_payload_cb(const uint8_t *p, size_t plen, unsigned type, bool v1, void *ctx)
{
	return note_payload(p, plen, type, v1, ctx);
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
	m->ke_group = m->ke_wanted = 0;
	m->wire_digest = m->version;
	m->n_wire_pl = 0;
	m->raw = buf;

	/* Only what is on the wire: a truncated capture hashes what it has. */
	size_t end = msg_end(m, caplen);
	m->digest = iks_content_hash(buf, end) ^ m->length;
	walk_payloads(buf, end, m, note_payload_cb, m);
	if (!m->n_wire_pl || m->n_wire_pl > IKS_MAX_WIRE_PL)
		m->wire_digest = 0;
	else if (!m->wire_digest)
		m->wire_digest = 1;
	return true;
}

/* ---------------------------------------------------------------------------------------------
 * Proposals and Vendor IDs (iks_parse_wire)
 */
static void add_item(iks_proposal *pr, unsigned kind, uint32_t id, uint16_t key_len)
{
	if (pr->n == IKS_MAX_XFORMS) {
		if (pr->cut < UINT8_MAX)
			pr->cut++;
		return;
	}
	pr->x[pr->n++] = (iks_xform){ id, key_len, (uint8_t)kind };
}

static iks_proposal *next_alternative(iks_offer *o)
{
	if (o->n < IKS_MAX_PROPOSALS)
		return &o->p[o->n++];
	if (o->cut < UINT8_MAX)
		o->cut++;
	return NULL;
}

typedef void (*attr_fn)(unsigned type, uint32_t value, void *ctx);

/* Data attributes (RFC 2408 §3.3): the AF bit set, type and a 2-byte value (TV); else type, length,
 * value (TLV), taken when its value fits 4 bytes. */
static void walk_attrs(const uint8_t *p, size_t plen, attr_fn fn, void *ctx)
{
	size_t off = 0;
	for (unsigned guard = 0; guard < 32 && off + 4 <= plen; guard++) {
		unsigned type = rd16(p + off);
		if (type & 0x8000) {
			fn(type & 0x7fff, rd16(p + off + 2), ctx);
			off += 4;
			continue;
		}
		size_t len = rd16(p + off + 2);
		if (len > plen - off - 4)
			break;
		if (len >= 1 && len <= 4) {
			uint32_t v = 0;
			for (size_t i = 0; i < len; i++)
				v = v << 8 | p[off + 4 + i];
			fn(type, v, ctx);
		}
		off += 4 + len;
	}
}

/* A substructure list (proposals, transforms): each with its length at bytes 2..3 and "more"
 * (RFC 2408 §3.5-3.6: next payload 2 / 3; RFC 7296 §3.3.1: last-substruc 2 / 3) in byte 0. */
typedef void (*substruc_fn)(const uint8_t *p, size_t len, void *ctx);

static void walk_substrucs(const uint8_t *p, size_t plen, unsigned more, substruc_fn fn, void *ctx)
{
	size_t off = 0;
	for (unsigned guard = 0; guard < 64 && off + 8 <= plen; guard++) {
		size_t len = rd16(p + off + 2);
		if (len < 8 || len > plen - off)
			break;
		fn(p + off, len, ctx);
		if (p[off] != more)
			break;
		off += len;
	}
}

/* IKEv1 phase-1 attributes (RFC 2409 appendix A). */
typedef struct {
	iks_proposal *pr;
	uint16_t key_len;
	uint8_t life_type; /* 1 seconds, 2 kilobytes */
} v1_attrs;

static void v1_attr(unsigned type, uint32_t v, void *ctx)
{
	v1_attrs *a = ctx;
	switch (type) {
	case 1: add_item(a->pr, IKS_X_ENCR, v, 0); break;
	case 2: add_item(a->pr, IKS_X_V1_HASH, v, 0); break;
	case 3: add_item(a->pr, IKS_X_V1_AUTH, v, 0); break;
	case 4: add_item(a->pr, IKS_X_DH, v, 0); break;
	case 11: a->life_type = (uint8_t)v; break;
	case 12: add_item(a->pr, a->life_type == 2 ? IKS_X_V1_LIFE_KB : IKS_X_V1_LIFE_S, v, 0); break;
	case 14: a->key_len = (uint16_t)v; break;
	}
}

/* The key length attribute may come before or after the encryption algorithm. */
static void set_key_len(iks_proposal *pr, uint16_t key_len)
{
	for (unsigned i = 0; key_len && i < pr->n; i++)
		if (pr->x[i].kind == IKS_X_ENCR || pr->x[i].kind == IKS_X_V1_ESP)
			pr->x[i].key_len = key_len;
}

/* IKEv1 transform: header 4, number 1, id 1 (KEY_IKE), reserved 2, attributes: one alternative. */
static void v1_transform(const uint8_t *p, size_t len, void *ctx)
{
	v1_attrs a = { next_alternative(ctx), 0, 1 };
	if (!a.pr)
		return;
	walk_attrs(p + 8, len - 8, v1_attr, &a);
	set_key_len(a.pr, a.key_len);
}

static void v2_key_len(unsigned type, uint32_t v, void *ctx)
{
	if (type == 14) /* Key Length (RFC 7296 §3.3.5) */
		*(uint16_t *)ctx = (uint16_t)v;
}

/* IKEv2 transform: header 4, type 1, reserved 1, id 2, attributes. */
static void v2_transform(const uint8_t *p, size_t len, void *ctx)
{
	uint16_t key_len = 0;
	walk_attrs(p + 8, len - 8, v2_key_len, &key_len);
	add_item(ctx, p[4], rd16(p + 6), key_len);
}

/* IKEv1 phase-2 attributes (RFC 2407 §4.5). */
static void v1_p2_attr(unsigned type, uint32_t v, void *ctx)
{
	v1_attrs *a = ctx;
	switch (type) {
	case 1: a->life_type = (uint8_t)v; break;
	case 2: add_item(a->pr, a->life_type == 2 ? IKS_X_V1_LIFE_KB : IKS_X_V1_LIFE_S, v, 0); break;
	case 3: add_item(a->pr, IKS_X_DH, v, 0); break;
	case 4: add_item(a->pr, IKS_X_V1_ENCAP, v, 0); break;
	case 5: add_item(a->pr, IKS_X_V1_ESP_AUTH, v, 0); break;
	case 6: a->key_len = (uint16_t)v; break;
	}
}

/* IKEv1 ESP transform: header 4, number 1, the ESP transform ID 1, reserved 2, attributes. */
static void v1_p2_transform(const uint8_t *p, size_t len, void *ctx)
{
	v1_attrs a = { next_alternative(ctx), 0, 1 };
	if (!a.pr)
		return;
	add_item(a.pr, IKS_X_V1_ESP, p[5], 0);
	walk_attrs(p + 8, len - 8, v1_p2_attr, &a);
	set_key_len(a.pr, a.key_len);
}

typedef struct {
	iks_offer *o;
	bool child; /* ESP / AH proposals (IKEv1: ESP only), not the IKE SA's */
	iks_msg *spis; /* decrypted: each proposal's 4-byte SPI goes into its spi[]; else NULL */
} proposals_ctx;

static void add_spi(iks_msg *m, const uint8_t *p)
{
	if (m->n_spi < IKS_MAX_SPI)
		m->spi[m->n_spi++] = rd32(p);
}

/* A proposal: header 4, number 1, protocol 1, SPI size 1, transform count 1, SPI, transforms (the
 * count is not trusted: the lengths bound the walk). Protocols: 1 ISAKMP (IKEv1) / IKE (IKEv2),
 * 2 AH, 3 ESP. */
static void proposal(const uint8_t *p, size_t len, void *ctx)
{
	const proposals_ctx *c = ctx;
	iks_offer *o = c->o;
	size_t spi = p[6];
	if (c->spis && spi == 4 && len >= 12)
		add_spi(c->spis, p + 8);
	bool wanted = c->child ? p[5] == 3 || (p[5] == 2 && o->version == 2) : p[5] == 1;
	if (!wanted || spi > len - 8)
		return;
	if (o->version == 1) {
		walk_substrucs(p + 8 + spi, len - 8 - spi, 3, c->child ? v1_p2_transform : v1_transform, o);
	} else {
		iks_proposal *pr = next_alternative(o);
		if (pr)
			walk_substrucs(p + 8 + spi, len - 8 - spi, 3, v2_transform, pr);
	}
}

/* An SA payload's proposals. IKEv1: DOI 4, situation 4 (IPsec DOI, RFC 2407 §4.6.1) after the header. */
static void sa_payload(const uint8_t *p, size_t plen, bool v1, iks_offer *o, bool child, iks_msg *spis)
{
	size_t skip = v1 ? 12 : 4;
	proposals_ctx c = { o, child, spis };
	if (plen > skip)
		walk_substrucs(p + skip, plen - skip, 2, proposal, &c);
}

static bool wire_payload(const uint8_t *p, size_t plen, unsigned type, bool v1, void *ctx)
{
	iks_wire *w = ctx;
	if (type == (v1 ? IKS_PL_SA : IKS_PL2_SA) && w->offer.n == 0) {
		sa_payload(p, plen, v1, &w->offer, false, NULL);
	} else if (type == (v1 ? IKS_PL_VID : IKS_PL2_VID) && w->n_vid < IKS_MAX_VID && plen > 4) {
		size_t n = plen - 4 < IKS_VID_PREFIX ? plen - 4 : IKS_VID_PREFIX;
		memcpy(w->vid[w->n_vid], p + 4, n);
		w->vid_len[w->n_vid++] = (uint8_t)n;
	}
	return v1 || (type != IKS_PL2_SK && type != IKS_PL2_SKF); /* as iks_parse: the rest is ciphertext */
}

bool iks_parse_wire(const uint8_t *buf, size_t caplen, const iks_msg *m, iks_wire *w)
{
	memset(w, 0, sizeof *w);
	w->offer.version = m->version;
	if (caplen < IKS_ISAKMP_HDR_LEN)
		return false;
	walk_payloads(buf, msg_end(m, caplen), m, wire_payload, w);
	return w->offer.n || w->n_vid;
}

/* ---------------------------------------------------------------------------------------------
 * Decrypted payloads: the child SA (iks_parse_inner)
 */

/* The range of a subnet: the address with its host bits cleared and set (mask: its bytes). The
 * bound on lo's size is explicit: GCC -O3 otherwise warns of a write past it (n is 4 or 16). */
static void subnet_range(iks_ts *ts, const uint8_t *addr, const uint8_t *mask, size_t n)
{
	for (size_t i = 0; i < n && i < sizeof ts->lo; i++) {
		ts->lo[i] = addr[i] & mask[i];
		ts->hi[i] = (uint8_t)(addr[i] | ~mask[i]);
	}
}

/* IKEv1 quick-mode identity: header 4, ID type 1, protocol 1, port 2, data (RFC 2407 §4.6.2). */
static bool v1_identity(const uint8_t *p, size_t plen, iks_ts *ts)
{
	memset(ts, 0, sizeof *ts);
	if (plen < 8)
		return false;
	const uint8_t *d = p + 8;
	size_t dl = plen - 8, n;
	switch (p[4]) {
	case 1: case 4: case 7: n = 4; break;   /* IPv4 address, subnet, range */
	case 5: case 6: case 8: n = 16; break;  /* IPv6 */
	default: return false;                  /* a name: no selector */
	}
	bool single = p[4] == 1 || p[4] == 5;
	if (dl < (single ? n : 2 * n))
		return false;
	ts->af = n == 4 ? 4 : 6;
	if (single) {
		memcpy(ts->lo, d, n);
		memcpy(ts->hi, d, n);
	} else if (p[4] == 4 || p[4] == 6) {
		subnet_range(ts, d, d + n, n);
	} else {
		memcpy(ts->lo, d, n);
		memcpy(ts->hi, d + n, n);
	}
	ts->proto = p[5];
	ts->port_lo = rd16(p + 6);
	ts->port_hi = ts->port_lo ? ts->port_lo : 65535;
	return true;
}

/* IKEv2 TS payload: header 4, count 1, reserved 3, then selectors of type 1, protocol 1, length 2,
 * start port 2, end port 2, start and end address (RFC 7296 §3.13.1). */
static void v2_selectors(const uint8_t *p, size_t plen, iks_child *c, unsigned side)
{
	size_t off = 8;
	for (unsigned guard = 0; guard < 64 && off + 8 <= plen; guard++) {
		size_t len = rd16(p + off + 2), n = p[off] == 7 ? 4 : p[off] == 8 ? 16 : 0;
		if (len < 8 || len > plen - off)
			break;
		if (n && len >= 8 + 2 * n) {
			if (c->n_ts[side] == IKS_MAX_TS) {
				if (c->cut_ts < UINT8_MAX)
					c->cut_ts++;
			} else {
				iks_ts *ts = &c->ts[side][c->n_ts[side]++];
				memset(ts, 0, sizeof *ts);
				ts->af = n == 4 ? 4 : 6;
				ts->proto = p[off + 1];
				ts->port_lo = rd16(p + off + 4);
				ts->port_hi = rd16(p + off + 6);
				memcpy(ts->lo, p + off + 8, n);
				memcpy(ts->hi, p + off + 8 + n, n);
			}
		}
		off += len;
	}
}

typedef struct {
	iks_child *c;
	iks_msg *m;
	bool quick;     /* IKEv1 quick mode: its ID payloads are the selectors */
	unsigned n_ids; /* IKEv1 ID payloads so far: IDci, then IDcr */
} inner_ctx;

/* XAUTH attribute types (draft-beaulieu-ike-xauth §6.1; 16527: XAUTH_STATUS), internal address
 * types (RFC 7296 §3.15.1, the same numbers in IKEv1 mode-config). */
enum { XAUTH_FIRST = 16520, XAUTH_STATUS = 16527, XAUTH_LAST = 16531, CFG_IP4_ADDRESS = 1, CFG_IP6_ADDRESS = 8 };

/* Configuration attributes (IKEv1: data attributes, the high bit set for a 2-byte value (TV);
 * IKEv2: type, length, value, the high bit reserved). */
static void cfg_attrs(const uint8_t *p, size_t plen, bool v1, iks_ra *ra)
{
	size_t off = 0;
	for (unsigned guard = 0; guard < 64 && off + 4 <= plen; guard++) {
		unsigned type = rd16(p + off) & 0x7fff;
		bool tv = v1 && (p[off] & 0x80);
		size_t len = tv ? 2 : rd16(p + off + 2);
		const uint8_t *v = p + off + (tv ? 2 : 4);
		if (!tv && len > plen - off - 4)
			break;
		if (type >= XAUTH_FIRST && type <= XAUTH_LAST)
			ra->cfg |= IKS_CFG_HAS_XAUTH;
		if (type == XAUTH_STATUS && len == 2)
			ra->cfg |= rd16(v) ? IKS_CFG_HAS_XAUTH_OK : IKS_CFG_HAS_XAUTH_FAIL;
		if (type == CFG_IP4_ADDRESS || type == CFG_IP6_ADDRESS) {
			ra->cfg |= IKS_CFG_HAS_ADDRESS_ASKED;
			if (type == CFG_IP4_ADDRESS ? len >= 4 && len % 4 == 0 : len >= 16)
				ra->cfg |= IKS_CFG_HAS_ADDRESS; /* a value: an address given */
		}
		off += (tv ? 2 : 4) + (tv ? 0 : len);
	}
}

/* A decrypted Notify: its type (after the clear ones), and a 4-byte SPI (IKEv2 REKEY_SA names the
 * sender's inbound SPI of the child SA it rekeys). IKEv1: hdr 4, DOI 4, proto 1, SPI size 1, type 2;
 * IKEv2: hdr 4, proto 1, SPI size 1, type 2; the SPI follows the type. */
static void inner_notify(const uint8_t *p, size_t plen, bool v1, iks_msg *m)
{
	size_t toff = v1 ? 10 : 6;
	if (plen < toff + 2)
		return;
	size_t spi_size = p[toff - 1];
	uint16_t type = rd16(p + toff);
	if (!iks_has_notify(m, type) && m->n_notify < IKS_MAX_NOTIFY)
		m->notify[m->n_notify++] = type;
	if (spi_size == 4 && plen >= toff + 6)
		add_spi(m, p + toff + 2);
}

static bool inner_payload(const uint8_t *p, size_t plen, unsigned type, bool v1, void *ctx)
{
	inner_ctx *x = ctx;
	iks_child *c = x->c;
	iks_msg *m = x->m;
	if (type == (v1 ? IKS_PL_SA : IKS_PL2_SA)) {
		iks_offer more = { .version = m->version }; /* a second SA payload: its SPIs only */
		sa_payload(p, plen, v1, c->offer.n ? &more : &c->offer, true, m);
	} else if (v1 && type == IKS_PL_ID && x->quick && x->n_ids < 2) {
		unsigned side = x->n_ids++;
		c->has_ts = true;
		if (v1_identity(p, plen, &c->ts[side][0]))
			c->n_ts[side] = 1;
	} else if (!v1 && (type == IKS_PL2_TSI || type == IKS_PL2_TSR)) {
		c->has_ts = true;
		v2_selectors(p, plen, c, type - IKS_PL2_TSI);
	} else if (type == (v1 ? IKS_PL_NOTIFY : IKS_PL2_NOTIFY)) {
		inner_notify(p, plen, v1, m);
	} else if (type == (v1 ? IKS_PL_DELETE : IKS_PL2_DELETE)) {
		/* Protocol (IKEv1 after the DOI) 1: the IKE SA itself. */
		if (plen > (v1 ? 8u : 4u) && p[v1 ? 8 : 4] == 1)
			m->payloads |= UINT64_C(1) << type;
	} else if (!v1 && type == IKS_PL2_EAP && plen >= 5 && !m->ra.eap_code) {
		/* EAP (RFC 3748 §4): code 1, identifier 1, length 2, then the method of a Request / Response. */
		m->ra.eap_code = p[4];
		if ((p[4] == IKS_EAP_REQUEST || p[4] == IKS_EAP_RESPONSE) && plen >= 9)
			m->ra.eap_type = p[8];
	} else if (type == (v1 ? IKS_PL_ATTR : IKS_PL2_CP) && plen >= 8) {
		/* IKEv1 attribute payload: type 1, reserved 1, identifier 2; IKEv2 CP: type 1, reserved 3. */
		if (!m->ra.cfg_type)
			m->ra.cfg_type = p[4];
		cfg_attrs(p + 8, plen - 8, v1, &m->ra);
	}
	return true;
}

bool iks_parse_inner(const uint8_t *buf, size_t len, unsigned first, iks_msg *m, iks_child *c)
{
	memset(c, 0, sizeof *c);
	c->offer.version = m->version;
	inner_ctx x = { c, m, m->exch == IKS_EXCH_QUICK, 0 };
	if (!walk_chain(buf, 0, len, first, m->version == 1, inner_payload, &x) && m->decryption == IKS_DECRYPT_OK)
		m->decryption = IKS_DECRYPT_GARBAGE;
	return c->offer.n || c->has_ts;
}

bool iks_ts_eq(const iks_ts *a, const iks_ts *b)
{
	return a->af == b->af && a->proto == b->proto && a->port_lo == b->port_lo && a->port_hi == b->port_hi &&
	       memcmp(a->lo, b->lo, sizeof a->lo) == 0 && memcmp(a->hi, b->hi, sizeof a->hi) == 0;
}

/* The prefix length when lo..hi is one subnet, else -1. */
static int prefix_len(const iks_ts *ts, size_t n)
{
	int bits = 0;
	size_t i = 0;
	for (; i < n && ts->lo[i] == ts->hi[i]; i++)
		bits += 8;
	if (i < n) {
		unsigned diff = ts->lo[i] ^ ts->hi[i], host = 0;
		while (host < 8 && (diff >> host & 1))
			host++;
		if (diff != (1u << host) - 1 || (ts->lo[i] & diff) || (ts->hi[i] & diff) != diff)
			return -1;
		bits += (int)(8 - host);
		for (i++; i < n; i++)
			if (ts->lo[i] != 0 || ts->hi[i] != 0xff)
				return -1;
	}
	return bits;
}

static const char *proto_name(uint8_t proto)
{
	switch (proto) {
	case 1: return "icmp";
	case 6: return "tcp";
	case 17: return "udp";
	case 47: return "gre";
	case 58: return "ipv6-icmp";
	}
	return NULL;
}

const char *iks_ts_str(const iks_ts *ts, char *buf, size_t len)
{
	size_t n = ts->af == 4 ? 4 : 16;
	iks_addr lo = { (uint8_t)n, { 0 }, 0 }, hi = lo;
	memcpy(lo.bytes, ts->lo, n);
	memcpy(hi.bytes, ts->hi, n);
	char a[48], b[48], port[16] = "", proto[16];
	int bits = prefix_len(ts, n);
	int at = bits >= 0 ? snprintf(buf, len, "%s/%d", iks_addr_text(&lo, a, sizeof a), bits)
			   : snprintf(buf, len, "%s-%s", iks_addr_text(&lo, a, sizeof a), iks_addr_text(&hi, b, sizeof b));
	bool any_port = ts->port_lo == 0 && ts->port_hi == 65535;
	if ((!ts->proto && any_port) || at < 0 || (size_t)at >= len)
		return buf;
	if (ts->port_lo == ts->port_hi)
		snprintf(port, sizeof port, "/%u", ts->port_lo);
	else if (!any_port)
		snprintf(port, sizeof port, "/%u-%u", ts->port_lo, ts->port_hi);
	const char *pn = proto_name(ts->proto);
	if (!pn)
		snprintf(proto, sizeof proto, "%u", ts->proto);
	snprintf(buf + at, len - (size_t)at, "[%s%s]", pn ? pn : proto, port);
	return buf;
}

bool iks_has_notify(const iks_msg *m, unsigned type)
{
	for (unsigned i = 0; i < m->n_notify; i++)
		if (m->notify[i] == type)
			return true;
	return false;
}

bool iks_v2_child_error(unsigned type)
{
	switch (type) {
	case IKS_N_NO_PROPOSAL_CHOSEN: case IKS_N_SINGLE_PAIR_REQUIRED: case IKS_N_NO_ADDITIONAL_SAS:
	case IKS_N_INTERNAL_ADDRESS_FAILURE: case IKS_N_FAILED_CP_REQUIRED: case IKS_N_TS_UNACCEPTABLE:
	case IKS_N_TEMPORARY_FAILURE: case IKS_N_CHILD_SA_NOT_FOUND:
		return true;
	}
	return false;
}

static bool notify_taken(unsigned n, iks_notify_filter f)
{
	bool error = n > 0 && n <= IKS_N_ERROR_MAX;
	switch (f) {
	case IKS_NF_ERROR:
		return error;
	case IKS_NF_V2_IKE_FATAL:
		return error && !iks_v2_child_error(n);
	case IKS_NF_V2_REFUSAL:
		return n == IKS_N_REDIRECT ||
		       (error && n != IKS_N_INVALID_KE_PAYLOAD && n != IKS_N_TEMPORARY_FAILURE);
	case IKS_NF_V2_RETRY:
		return n == IKS_N_COOKIE || n == IKS_N_INVALID_KE_PAYLOAD;
	}
	return false;
}

unsigned iks_first_notify(const iks_msg *m, iks_notify_filter f)
{
	for (unsigned i = 0; i < m->n_notify; i++)
		if (notify_taken(m->notify[i], f))
			return m->notify[i];
	return 0;
}

const char *iks_addr_text(const iks_addr *a, char *buf, size_t len)
{
	const uint8_t *b = a->bytes;
	if (a->len == 4) {
		snprintf(buf, len, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
		return buf;
	}
	if (a->len != 16) {
		snprintf(buf, len, "?");
		return buf;
	}
	/* The longest run of two or more zero groups becomes "::". */
	unsigned g[8], run = 0, run_at = 8;
	for (unsigned i = 0; i < 8; i++)
		g[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
	for (unsigned i = 0; i < 8;) {
		unsigned j = i;
		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > run && j - i >= 2) {
			run = j - i;
			run_at = i;
		}
		i = j > i ? j : i + 1;
	}
	size_t at = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < 8 && at < len; i++) {
		if (i == run_at) {
			at += (size_t)snprintf(buf + at, len - at, "::");
			i += run - 1;
			continue;
		}
		at += (size_t)snprintf(buf + at, len - at, "%s%x", at && buf[at - 1] != ':' ? ":" : "", g[i]);
	}
	return buf;
}
