/* ikestate-addr.c — the core's addresses and Wireshark's (ikestate-addr.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ws_compat.h"

#include <epan/address.h>
#include <epan/epan.h>
#include <epan/to_str.h>
#include <string.h>
#include <wiretap/wtap.h>

#include "ikestate-addr.h"

void ikestate_to_iks_addr(const address *a, guint32 port, iks_addr *out)
{
	/* Copies of a size known when compiled: moves, not a library call (twice a message). */
	out->len = 0;
	if (a->type == AT_IPv4 && a->len == 4) {
		memcpy(out->bytes, a->data, 4);
		out->len = 4;
	} else if (a->type == AT_IPv6 && a->len == 16) {
		memcpy(out->bytes, a->data, 16);
		out->len = 16;
	}
	out->port = (uint16_t)port;
}

const char *ikestate_addr_str(wmem_allocator_t *pool, const iks_addr *a, bool with_port)
{
	if (a->len != 4 && a->len != 16)
		return "?";
	address ad;
	set_address(&ad, a->len == 16 ? AT_IPv6 : AT_IPv4, a->len, a->bytes);
	char *s = address_to_str(pool, &ad);
	if (!with_port)
		return s;
	return wmem_strdup_printf(pool, a->len == 16 ? "[%s]:%u" : "%s:%u", s, a->port);
}

uint16_t ikestate_capture_point(const packet_info *pinfo)
{
	if (!pinfo->rec || !(pinfo->rec->presence_flags & WTAP_HAS_INTERFACE_ID))
		return 0;
	guint32 id = pinfo->rec->rec_header.packet_header.interface_id;
	return id < UINT16_MAX ? (uint16_t)id : UINT16_MAX;
}

const char *ikestate_point_str(wmem_allocator_t *pool, const packet_info *pinfo, unsigned point)
{
	const char *name = pinfo->epan ? iks_interface_name(pinfo, point) : NULL;
	if (!name || !*name)
		return wmem_strdup_printf(pool, "%u", point);
	return wmem_strdup_printf(pool, "%u (%s)", point, name);
}

/* Whether the bytes at b hold the address a (len a constant: the compare is inlined). */
static inline bool addr_at(const uint8_t *b, const address *a, int len)
{
	return a->len == len && memcmp(b, a->data, len) == 0;
}

uint8_t ikestate_ip_ttl(tvbuff_t *tvb, const uint8_t *msg, const packet_info *pinfo)
{
	tvbuff_t *ds = tvb_get_ds_tvb(tvb);
	guint len = ds ? tvb_captured_length(ds) : 0;
	const uint8_t *b = len ? tvb_get_ptr(ds, 0, len) : NULL;
	/* Where the message starts in the frame: from the two pointers into its one buffer, not
	 * tvb_raw_offset, which walks the chain of subsets (a third of this function's cost). A message
	 * in a buffer of its own (reassembled, decrypted) is not inside: 0. */
	uintptr_t p = (uintptr_t)msg, base = (uintptr_t)b;
	if (!b || p < base + 28 || p >= base + len)
		return 0;
	/* The headers before the message, read in place: every offset below is before `at`. */
	int at = (int)(p - base);
	for (int marker = 0; marker <= 4; marker += 4) { /* UDP 4500: the non-ESP marker before ISAKMP */
		int udp = at - marker - 8;
		if (udp < 20 || iks_pntoh16(b + udp) != pinfo->srcport || iks_pntoh16(b + udp + 2) != pinfo->destport)
			continue;
		if (pinfo->src.type == AT_IPv4) {
			for (int ihl = 5; ihl <= 15; ihl++) {
				int ip = udp - 4 * ihl;
				if (ip >= 0 && b[ip] == (0x40 | ihl) && b[ip + 9] == 17 && addr_at(b + ip + 12, &pinfo->src, 4))
					return b[ip + 8];
			}
		} else if (pinfo->src.type == AT_IPv6) {
			int ip = udp - 40; /* extension headers: not found, 0 */
			if (ip >= 0 && b[ip] >> 4 == 6 && b[ip + 6] == 17 && addr_at(b + ip + 8, &pinfo->src, 16))
				return b[ip + 7];
		}
	}
	return 0;
}
