/* ikestate-addr.h — the core's addresses and Wireshark's.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IKESTATE_ADDR_H
#define IKESTATE_ADDR_H

#include <epan/address.h>
#include <epan/packet_info.h>
#include <epan/tvbuff.h>

#include "ike_parse.h"

void ikestate_to_iks_addr(const address *a, guint32 port, iks_addr *out);
/* "192.0.2.1"; with the port "192.0.2.1:500" or "[2001:db8::1]:500"; "?" for no address. From `pool`. */
const char *ikestate_addr_str(wmem_allocator_t *pool, const iks_addr *a, bool with_port);

/* A frame's capture point as the core counts it: its pcapng interface, 0 without one. */
uint16_t ikestate_capture_point(const packet_info *pinfo);
/* "1 (outside)": a capture point and its interface's name, from `pool`; without a name, the number. */
const char *ikestate_point_str(wmem_allocator_t *pool, const packet_info *pinfo, unsigned point);

/* The IP TTL / IPv6 hop limit of the packet that carried the ISAKMP message in tvb (msg: its first
 * byte, tvb_get_ptr), read from the frame's bytes: the UDP header right before the message (after
 * the non-ESP marker on 4500) and the IP header right before that, recognised by version, length,
 * protocol and source address. 0 when not found: IP reassembly, IPv6 extension headers. */
uint8_t ikestate_ip_ttl(tvbuff_t *tvb, const uint8_t *msg, const packet_info *pinfo);

#endif
