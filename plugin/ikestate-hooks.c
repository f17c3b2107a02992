/* ikestate-hooks.c — hooks in front of the isakmp, udpencap, esp, icmp and icmpv6 dissectors, and
 * the rest of the glue's use of Wireshark's private API (Decode As list surgery, preference and UAT
 * internals).
 *
 * Why hooks and not set_postdissector_wanted_hfids (the transum pattern): a post-dissector that
 * wants any field makes tshark build a protocol tree for every frame of the file, which alone cost
 * +22 % CPU on a plain `tshark -r` of a mixed capture (BENCHMARKS.md). The hooks see the message
 * bytes with or without a tree, and with keys loaded the decrypted payloads too (the data sources
 * isakmp adds), which the core parses itself: no field is ever wanted.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ws_compat.h"

#include <cfile.h>
#include <epan/exceptions.h>
#include <epan/ipproto.h>
#include <epan/plugin_if.h>
#include <epan/packet.h>
/* after packet.h: its callback types name struct _packet_info */
#include <epan/prefs.h>
#include <epan/prefs-int.h>
#include <epan/uat-int.h>

#include "ikestate-addr.h"
#include "ikestate-hooks.h"

/* The hooked dissectors (resolved in handoff). Each hook handle carries the real protocol, so the
 * layer list (frame.protocols), "protocol disabled" and every output stay as without the plugin;
 * the real dissector is called through the private table "ikestate.real" with add_proto_name =
 * FALSE so that its layer is not added twice. */
enum { REAL_ISAKMP = 1, REAL_UDPENCAP, REAL_ICMP, REAL_ICMPV6, REAL_ESP };
static dissector_table_t real_table;
static protocol_t *isakmp_protocol;
static bool tracking;
static bool keys; /* IKE keys are loaded: isakmp decrypts */
static ikestate_seen seen = { .icmp_type = -1 };
static ikestate_esp_seen esp_seen;

void ikestate_hooks_track(bool on, bool with_keys)
{
	tracking = on;
	keys = with_keys;
	seen.n = 0;
	seen.icmp_type = -1;
	/* The next file numbers its frames from 1 again (the GUI, sharkd): forget the last ESP. */
	esp_seen = (ikestate_esp_seen){ 0 };
}

const ikestate_seen *ikestate_hooks_messages(guint32 num)
{
	return seen.n > 0 && seen.frame == num ? &seen : NULL;
}

void ikestate_hooks_clear(void)
{
	seen.n = 0;
	seen.icmp_type = -1;
}

const ikestate_esp_seen *ikestate_hooks_esp(guint32 num)
{
	return esp_seen.frame == num ? &esp_seen : NULL;
}

/* Decrypted payloads appear only with keys in isakmp's decryption tables (UATs). prefs-int.h and
 * uat-int.h are installed by wireshark-dev; the UAT is read at file open (init routine), and a
 * change of the table re-dissects, which runs the init routine again. */
bool ikestate_decryption_configured(void)
{
	static const char *const tables[] = { "ikev1_decryption_table", "ikev2_decryption_table" };
	module_t *m = prefs_find_module("isakmp");
	for (size_t i = 0; m && i < G_N_ELEMENTS(tables); i++) {
		pref_t *p = prefs_find_preference(m, tables[i]);
		struct epan_uat *u = p ? prefs_get_uat_value(p) : NULL;
		if (u && u->user_data && u->user_data->len > 0)
			return true;
	}
	return false;
}

static void note_message(packet_info *pinfo, tvbuff_t *tvb, bool quoted)
{
	if (seen.frame != pinfo->num) {
		seen.frame = pinfo->num;
		seen.n = 0;
		seen.quoted = false;
	}
	if (seen.n == 0)
		seen.quoted = quoted;
	if (seen.n < IKS_MAX_SEEN) {
		seen.decrypted[seen.n] = false;
		seen.inner[seen.n] = NULL;
		seen.reassembled[seen.n] = false;
		seen.tvb[seen.n++] = tvb;
	}
}

#if IKS_WS_AT_LEAST(4, 6)
/* 4.6 has no get_data_source_name; find the source by its name instead. */
static bool source_is(packet_info *pinfo, const struct data_source *src, const char *name)
{
	return get_data_source_by_name(pinfo, name) == src;
}
#else
static bool source_is(packet_info *pinfo _U_, const struct data_source *src, const char *name)
{
	char *label = get_data_source_name(src); /* "NAME (N bytes)" */
	bool r = g_str_has_prefix(label, name);
	wmem_free(NULL, label);
	return r;
}
#endif

/* The data sources isakmp added: a Cisco IKE fragment's reassembled message (isakmp dissects it
 * inside the last fragment's frame without going through a handle), and the decrypted payloads of
 * the message last noted (keys in its decryption tables; IKEv1 "Decrypted IKE", IKEv2's SK
 * payload "Decrypted Data", and a fragmented IKEv2 message's "Reassembled IKE2 ISAKMP"). */
static void note_sources(packet_info *pinfo, guint n_before, bool quoted)
{
	for (GSList *l = g_slist_nth(pinfo->data_src, n_before); l; l = l->next) {
		const struct data_source *src = (const struct data_source *)l->data;
		if (source_is(pinfo, src, "Reassembled ISAKMP")) {
			note_message(pinfo, get_data_source_tvb(src), quoted);
		} else if (seen.n > 0 && source_is(pinfo, src, "Decrypted IKE")) {
			seen.decrypted[seen.n - 1] = true;
			seen.inner[seen.n - 1] = get_data_source_tvb(src);
		} else if (seen.n > 0 && source_is(pinfo, src, "Decrypted Data")) {
			seen.inner[seen.n - 1] = get_data_source_tvb(src);
		} else if (seen.n > 0 && source_is(pinfo, src, "Reassembled IKE2 ISAKMP")) {
			/* after the last fragment's own "Decrypted Data": the whole message's payloads */
			seen.inner[seen.n - 1] = get_data_source_tvb(src);
			seen.reassembled[seen.n - 1] = true;
		}
	}
}

/* Each dissector call decrements can_desegment: undo the hook's, so that the real dissector sees
 * the value it would see without the hook. add_proto_name FALSE: the hook's call added the layer. */
static int call_real(guint32 real, tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
	pinfo->can_desegment = pinfo->saved_can_desegment;
	return iks_try_uint(real_table, real, tvb, pinfo, tree, FALSE, data);
}

/* With keys, a message decrypted into garbage ends in an exception (Malformed): its decrypted
 * source is noted on the way out all the same. The noting arguments are copied into volatiles:
 * nothing set between setjmp and longjmp may live in a register. */
static int call_noting_decryption(guint32 real, tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data,
				  guint n_before, bool quoted)
{
	volatile guint n = n_before;
	volatile bool q = quoted;
	volatile int r = 0;
	TRY {
		r = call_real(real, tvb, pinfo, tree, data);
	}
	FINALLY {
		note_sources(pinfo, n, q);
	}
	ENDTRY;
	return r;
}

/* Notes msg (NULL: not an ISAKMP message) and the messages reassembled while `real` dissects. */
static int hook_call(guint32 real, tvbuff_t *tvb, tvbuff_t *msg, packet_info *pinfo, proto_tree *tree, void *data)
{
	if (!tracking || PINFO_FD_VISITED(pinfo))
		return call_real(real, tvb, pinfo, tree, data);
	/* Inside an ICMP error of this frame: the quoted header is evidence, not a message. */
	bool quoted = seen.icmp_frame == pinfo->num && seen.icmp_type >= 0;
	if (msg)
		note_message(pinfo, msg, quoted);
	guint n = g_slist_length(pinfo->data_src);
	if (keys)
		return call_noting_decryption(real, tvb, pinfo, tree, data, n, quoted);
	int r = call_real(real, tvb, pinfo, tree, data);
	note_sources(pinfo, n, quoted);
	return r;
}

static int hook_isakmp(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
	return hook_call(REAL_ISAKMP, tvb, tvb, pinfo, tree, data);
}

static void note_esp(packet_info *pinfo, guint32 spi, guint32 len, bool udp)
{
	if (tracking && esp_seen.icmp_frame != pinfo->num && esp_seen.frame != pinfo->num) {
		esp_seen.frame = pinfo->num;
		esp_seen.spi = spi;
		esp_seen.len = len;
		esp_seen.udp = udp;
		ikestate_to_iks_addr(&pinfo->src, 0, &esp_seen.src);
		ikestate_to_iks_addr(&pinfo->dst, 0, &esp_seen.dst);
	}
}

/* UDP 4500 (RFC 3948): udpencap hands the bytes after a zero non-ESP marker to isakmp; else ESP
 * (SPI first, never 0) or a one-byte 0xff NAT-T keepalive. */
static int hook_udpencap(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
	guint n = tvb_captured_length(tvb);
	guint32 first = n >= 4 ? tvb_get_ntohl(tvb, 0) : 0;
	bool ike = proto_is_protocol_enabled(isakmp_protocol) && n > 4 && first == 0;
	if (first)
		note_esp(pinfo, first, tvb_reported_length(tvb), true);
	else if (n == 1 && tvb_get_uint8(tvb, 0) == 0xff)
		note_esp(pinfo, 0, 1, true);
	return hook_call(REAL_UDPENCAP, tvb, ike ? tvb_new_subset_remaining(tvb, 4) : NULL, pinfo, tree, data);
}

static int hook_esp(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
	guint32 spi = tvb_captured_length(tvb) >= 4 ? tvb_get_ntohl(tvb, 0) : 0;
	if (spi)
		note_esp(pinfo, spi, tvb_reported_length(tvb), false);
	return call_real(REAL_ESP, tvb, pinfo, tree, data);
}

static int hook_icmp_common(guint32 real, bool v6, tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
	esp_seen.icmp_frame = pinfo->num;
	if (tracking && !PINFO_FD_VISITED(pinfo) && tvb_captured_length(tvb) > 0) {
		seen.icmp_frame = pinfo->num;
		seen.icmp_type = tvb_get_uint8(tvb, 0);
		seen.icmp_v6 = v6;
	}
	return call_real(real, tvb, pinfo, tree, data);
}

static int hook_icmp(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
	return hook_icmp_common(REAL_ICMP, false, tvb, pinfo, tree, data);
}

static int hook_icmpv6(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
	return hook_icmp_common(REAL_ICMPV6, true, tvb, pinfo, tree, data);
}

/* Decode As (GUI, tshark -d, saved entries, the isakmp port preference) picks a table's handle by
 * protocol or description: keep exactly one per description there, the hook under the real
 * handle's description, so that every ISAKMP port goes through the hook and Decode As looks as
 * before. Unlinks in place the handles with that description; the list is sorted by name and they
 * are never its head (else: not hooked). */
#if !IKS_WS_AT_LEAST(4, 6)
static bool drop_from_decode_as(dissector_table_t t, const char *desc)
{
	GSList *l = dissector_table_get_dissector_handles(t);
	if (!desc || (l && g_strcmp0(dissector_handle_get_description((dissector_handle_t)l->data), desc) == 0))
		return false;
	for (GSList *p = l; p && p->next;) {
		GSList *n = p->next;
		if (g_strcmp0(dissector_handle_get_description((dissector_handle_t)n->data), desc) == 0) {
			p->next = n->next;
			g_slist_free_1(n);
		} else {
			p = n;
		}
	}
	return true;
}
#endif

/* 4.6 still finds the real handle in the list after the unlinking (not understood yet): there the
 * hook keeps a description of its own and Decode As lists both handles, as the prototype did. */
#if IKS_WS_AT_LEAST(4, 6)
#define IKS_HOOK_DESC(h) g_strdup_printf("%s (ikestate hook)", dissector_handle_get_description(h))
#define drop_from_decode_as(t, desc) true
#else
#define IKS_HOOK_DESC(h) dissector_handle_get_description(h)
#endif

static bool swap_in(const char *table, guint32 key, dissector_handle_t real, dissector_handle_t hook)
{
	dissector_table_t t = find_dissector_table(table);
	if (!t || dissector_get_uint_handle(t, key) != real || !drop_from_decode_as(t, dissector_handle_get_description(hook)))
		return false;
	dissector_add_uint(table, key, hook);
	return true;
}

/* Puts a hook in front of the dissector registered for `key` in `table`, if it is `expect`. */
static dissector_handle_t hook_entry(const char *table, guint32 key, const char *expect, guint32 real,
				     dissector_t fn, const char *name)
{
	dissector_table_t t = find_dissector_table(table);
	dissector_handle_t h = t ? dissector_get_uint_handle(t, key) : NULL;
	const char *pname = h ? dissector_handle_get_protocol_short_name(h) : NULL;
	int proto = h ? dissector_handle_get_protocol_index(h) : -1;
	if (!pname || proto == -1 || g_ascii_strcasecmp(pname, expect) != 0)
		return NULL;
	dissector_handle_t hook = create_dissector_handle_with_name_and_description(fn, proto, name, IKS_HOOK_DESC(h));
	if (!swap_in(table, key, h, hook))
		return NULL;
	dissector_add_uint("ikestate.real", real, h);
	return hook;
}

bool ikestate_hooks_install(int proto_ikestate)
{
	/* Plugin handoffs run after the built-in ones: these table entries are the final defaults. */
	isakmp_protocol = find_protocol_by_id(proto_get_id_by_filter_name("isakmp"));
	if (!isakmp_protocol)
		return false;
	real_table = register_dissector_table("ikestate.real", "Dissectors behind the ikestate hooks", proto_ikestate,
					      FT_UINT8, BASE_DEC);
	dissector_handle_t isakmp_real = dissector_get_uint_handle(find_dissector_table("udp.port"), 500);
	dissector_handle_t hook = hook_entry("udp.port", 500, "ISAKMP", REAL_ISAKMP, hook_isakmp, "ikestate_isakmp_hook");
	if (!hook)
		return false;
	swap_in("tcp.port", 500, isakmp_real, hook); /* isakmp registers the same handle for TCP 500 */
	hook_entry("udp.port", 4500, "UDPENCAP", REAL_UDPENCAP, hook_udpencap, "ikestate_udpencap_hook");
	hook_entry("ip.proto", IP_PROTO_ICMP, "ICMP", REAL_ICMP, hook_icmp, "ikestate_icmp_hook");
	hook_entry("ip.proto", IP_PROTO_ICMPV6, "ICMPv6", REAL_ICMPV6, hook_icmpv6, "ikestate_icmpv6_hook");
	hook_entry("ip.proto", IP_PROTO_ESP, "ESP", REAL_ESP, hook_esp, "ikestate_esp_hook");
	return true;
}

/* The Qt GUI filters the packet list while it reads the file, before the capture-end verdicts exist.
 * Asking for a rescan (the filter applied again, no redissection) in its capture_file, while its
 * read still holds the lock, makes cf_read() refilter before it returns: what pressing Enter in the
 * filter bar does. tshark and sharkd register no capture-file handler: the callback never runs. */
static void *queue_rescan(capture_file *cf, void *user_data _U_)
{
	if (cf && cf->read_lock && cf->dfilter && strstr(cf->dfilter, "ikestate") &&
	    cf->redissection_queued == RESCAN_NONE)
		cf->redissection_queued = RESCAN_SCAN;
	return NULL;
}

void ikestate_gui_refilter(void)
{
	plugin_if_get_capture_file(queue_rescan, NULL);
}
