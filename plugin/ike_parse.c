/* ike_parse.c — see ike_parse.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ike_parse.h"

#include <string.h>

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
	size_t toff = notify_type_offset(v1, type);
	if (toff && plen >= toff + 2 && m->n_notify < IKS_MAX_NOTIFY)
		m->notify[m->n_notify++] = rd16(p + toff);
	if (v1 || (type != IKS_PL2_SK && type != IKS_PL2_SKF))
		return true;
	m->sk_first = p[0]; /* first payload inside */
	if (type == IKS_PL2_SKF && plen >= 8) {
		m->frag_num = rd16(p + 4);
		m->frag_total = rd16(p + 6);
	}
	return false;
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
	unsigned next = m->first_payload;
	size_t off = IKS_ISAKMP_HDR_LEN;
	for (unsigned guard = 0; next != 0 && guard < 64 && off + 4 <= end; guard++) {
		size_t plen = rd16(buf + off + 2);
		if (plen < 4 || off + plen > end || !note_payload(buf + off, plen, next, v1, m))
			break;
		next = buf[off];
		off += plen;
	}
	return true;
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
