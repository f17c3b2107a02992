/* ikestate-addr.c — the core's addresses and Wireshark's (ikestate-addr.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ws_compat.h"

#include <epan/address.h>
#include <epan/epan.h>
#include <epan/to_str.h>
#include <wiretap/wtap.h>

#include "ikestate-addr.h"

void ikestate_to_iks_addr(const address *a, guint32 port, iks_addr *out)
{
	out->len = (a->type == AT_IPv4 || a->type == AT_IPv6) && a->len <= 16 ? (uint8_t)a->len : 0;
	if (out->len)
		memcpy(out->bytes, a->data, out->len);
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
