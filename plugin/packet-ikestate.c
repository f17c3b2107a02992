/* packet-ikestate.c — epan glue of the IKE negotiation state post-dissector.
 *
 * Hooks in front of the isakmp, udpencap, icmp and icmpv6 dissectors note each ISAKMP message's
 * tvb; the post-dissector advances the state machine (ike_fsm.c, ike_diag.c) with them on the
 * first pass only, keeps each message's labels as per-packet data and renders tree, Info column
 * and expert items from those labels on every pass.
 *
 * Why hooks and not set_postdissector_wanted_hfids (the transum pattern): a post-dissector that
 * wants any field makes tshark build a protocol tree for every frame of the file (tshark.c,
 * create_proto_tree), which alone cost +22 % CPU on a plain `tshark -r` of a mixed capture
 * (bench/, BENCHMARKS.md). The hooks see the message bytes with or without a tree. Fields are
 * still wanted when an IKE decryption table is configured: decrypted notifies exist only as fields.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_BUILD_DLL
#include "ws_compat.h"

#include <epan/expert.h>
#include <epan/packet.h>
/* after packet.h: its callback types name struct _packet_info */
#include <epan/conversation_filter.h>
#include <epan/prefs.h>
#include <epan/prefs-int.h>
#include <epan/uat-int.h>

#include <epan/tap.h>
#include <epan/to_str.h>

#include "ikestate.h"

WS_DLL_PUBLIC_DEF const char plugin_version[] = PLUGIN_VERSION;
WS_DLL_PUBLIC_DEF const int plugin_want_major = WIRESHARK_VERSION_MAJOR;
WS_DLL_PUBLIC_DEF const int plugin_want_minor = WIRESHARK_VERSION_MINOR;
WS_DLL_PUBLIC void plugin_register(void);
#ifdef IKS_HAVE_PLUGIN_DESCRIBE
WS_DLL_PUBLIC uint32_t plugin_describe(void);
uint32_t plugin_describe(void) { return WS_PLUGIN_DESC_DISSECTOR; }
#endif

static int proto_ikestate = -1;
static dissector_handle_t ikestate_handle;

static int hf_tunnel = -1;
static int hf_msg = -1;
static int hf_role = -1;
static int hf_state = -1;
static int hf_ios_state = -1;
static int hf_qm_state = -1;
static int hf_retransmission = -1;
static int hf_retransmission_of = -1;
static int hf_response_to = -1;
static int hf_response_in = -1;
static int hf_elapsed = -1;
static int hf_setup_time = -1;
static int hf_attempt = -1;
static int hf_rekey_of = -1;
static int hf_stalled = -1;
static int hf_failed = -1;
static int hf_hint = -1;
static int hf_final = -1;
static int hf_esp_one_way = -1;
static int hf_deleted = -1;
static int hf_esp_negotiated_in = -1;

static int ett_ikestate = -1;

static expert_field ei_retransmission = EI_INIT;
static expert_field ei_mid_negotiation = EI_INIT;
static expert_field ei_unexpected = EI_INIT;
static expert_field ei_phase1_completed = EI_INIT;
static expert_field ei_phase2_completed = EI_INIT;
static expert_field ei_stalled = EI_INIT;
static expert_field ei_failed = EI_INIT;
static expert_field ei_reset = EI_INIT;
static expert_field ei_esp_one_way = EI_INIT;
static expert_field ei_deleted = EI_INIT;
static expert_field ei_deleted_inferred = EI_INIT;

static guint pref_stall_retransmissions = IKS_DEFAULT_STALL_RETRANSMISSIONS;
static guint pref_stall_timeout = IKS_DEFAULT_STALL_TIMEOUT_S;

/* Decrypted notifies, Deletes and proposal SPIs: every isakmp.notify.msgtype, isakmp.delete.protoid
 * and isakmp.spi (names shared by IKEv1 and IKEv2 fields), in that order: hf_decrypted[0, n_notify_hf)
 * are notify types, [n_notify_hf, n_delete_hf) delete protocols, the rest SPIs. */
static GArray *hf_decrypted;
static guint n_notify_hf, n_delete_hf;

/* The hooked dissectors (resolved in handoff). Each hook handle carries the real protocol, so the
 * layer list (frame.protocols), "protocol disabled" and every output stay as without the plugin;
 * the real dissector is called through the private table "ikestate.real" with add_proto_name =
 * FALSE so that its layer is not added twice. */
enum { REAL_ISAKMP = 1, REAL_UDPENCAP, REAL_ICMP, REAL_ICMPV6, REAL_ESP };
static dissector_table_t real_table;
static protocol_t *isakmp_protocol;
static bool hooked;

/* What the hooks saw in the frame being dissected (first pass only), in dissection order. The
 * tvbs live until the end of this frame's dissection; the post-dissector, which runs at that end,
 * consumes and clears the list. Dissection is single-threaded. */
#define IKS_MAX_SEEN 8
static struct {
	guint32 frame;
	guint n;
	tvbuff_t *tvb[IKS_MAX_SEEN];
	guint32 icmp_frame; /* frame whose ICMP/ICMPv6 error is being dissected */
	int icmp_type;      /* its type; -1 for none */
	bool icmp_v6;
	bool quoted; /* tvb[0] is an ISAKMP header quoted by that ICMP error */
} seen;

/* The frame's ESP packet or NAT-T keepalive (spi 0), noted on every pass: ESP frames keep no
 * per-packet data, a later pass finds the SA again by its addresses and SPI. */
static struct {
	guint32 frame; /* 0: none */
	guint32 spi, len;
	bool udp;
	iks_addr src, dst; /* outer addresses: after a decrypted ESP, pinfo's are the inner packet's */
	guint32 icmp_frame; /* frame whose ICMP error is being dissected: its quoted ESP is not counted */
} esp_seen;

static iks_fsm *fsm;       /* one per open capture file */
static iks_frames *labels; /* frame -> its iks_results, in message order (not per-packet proto data:
			    * a quarter of the memory, and one bit test for frames without) */
static bool fsm_finished; /* capture-end verdicts are up to date */
static int expert_tap_id = -1; /* Wireshark's "expert" tap (its listeners read expert texts) */
int ikestate_tap = -1;

iks_fsm *ikestate_finished_fsm(void)
{
	if (fsm && !fsm_finished) {
		iks_fsm_finish(fsm);
		fsm_finished = true;
	}
	return fsm;
}

bool ikestate_first_pass_done(void)
{
	return fsm_finished;
}

/* Decrypted payloads appear only with keys in isakmp's decryption tables (UATs). prefs-int.h and
 * uat-int.h are installed by wireshark-dev; the UAT is read at file open (init routine), and a
 * change of the table re-dissects, which runs the init routine again. */
static bool ike_decryption_configured(void)
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

static void ikestate_init(void)
{
	seen.n = 0;
	seen.icmp_type = -1;
	expert_tap_id = find_tap_id("expert");
	if (!proto_is_protocol_enabled(find_protocol_by_id(proto_ikestate)) || !hooked)
		return;
	iks_config cfg = { pref_stall_retransmissions, (int64_t)pref_stall_timeout * 1000000000 };
	fsm = iks_fsm_new(&cfg);
	labels = iks_frames_new();
	fsm_finished = false;
	if (ike_decryption_configured() && hf_decrypted->len > 0)
		set_postdissector_wanted_hfids(ikestate_handle, g_array_copy(hf_decrypted));
}

static void ikestate_cleanup(void)
{
	set_postdissector_wanted_hfids(ikestate_handle, NULL);
	iks_fsm_free(fsm);
	fsm = NULL;
	iks_frames_free(labels);
	labels = NULL;
}

/* --- Hooks ---------------------------------------------------------------------------------- */

static void note_message(packet_info *pinfo, tvbuff_t *tvb, bool quoted)
{
	if (seen.frame != pinfo->num) {
		seen.frame = pinfo->num;
		seen.n = 0;
		seen.quoted = false;
	}
	if (seen.n == 0)
		seen.quoted = quoted;
	if (seen.n < IKS_MAX_SEEN)
		seen.tvb[seen.n++] = tvb;
}

#if IKS_WS_AT_LEAST(4, 6)
/* 4.6 has no get_data_source_name; find the source by its name instead. */
static bool is_reassembled_isakmp(packet_info *pinfo, const struct data_source *src)
{
	return get_data_source_by_name(pinfo, "Reassembled ISAKMP") == src;
}
#else
static bool is_reassembled_isakmp(packet_info *pinfo _U_, const struct data_source *src)
{
	char *name = get_data_source_name(src); /* "NAME (N bytes)" */
	bool r = g_str_has_prefix(name, "Reassembled ISAKMP");
	wmem_free(NULL, name);
	return r;
}
#endif

/* Cisco IKE fragments: isakmp dissects the reassembled message inside the last fragment's frame,
 * from a new data source, without going through a handle. */
static void note_reassembled(packet_info *pinfo, guint n_before, bool quoted)
{
	for (GSList *l = g_slist_nth(pinfo->data_src, n_before); l; l = l->next) {
		const struct data_source *src = (const struct data_source *)l->data;
		if (is_reassembled_isakmp(pinfo, src))
			note_message(pinfo, get_data_source_tvb(src), quoted);
	}
}

/* Each dissector call decrements can_desegment: undo the hook's, so that the real dissector sees
 * the value it would see without the hook. add_proto_name FALSE: the hook's call added the layer. */
static int call_real(guint32 real, tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
	pinfo->can_desegment = pinfo->saved_can_desegment;
	return iks_try_uint(real_table, real, tvb, pinfo, tree, FALSE, data);
}

/* Notes msg (NULL: not an ISAKMP message) and the messages reassembled while `real` dissects. */
static int hook_call(guint32 real, tvbuff_t *tvb, tvbuff_t *msg, packet_info *pinfo, proto_tree *tree, void *data)
{
	bool track = fsm && !PINFO_FD_VISITED(pinfo);
	/* Inside an ICMP error of this frame: the quoted header is evidence, not a message. */
	bool quoted = track && seen.icmp_frame == pinfo->num && seen.icmp_type >= 0;
	if (track && msg)
		note_message(pinfo, msg, quoted);
	guint n = track ? g_slist_length(pinfo->data_src) : 0;
	int r = call_real(real, tvb, pinfo, tree, data);
	if (track)
		note_reassembled(pinfo, n, quoted);
	return r;
}

static int hook_isakmp(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data)
{
	return hook_call(REAL_ISAKMP, tvb, tvb, pinfo, tree, data);
}

static void to_iks_addr(const address *a, guint32 port, iks_addr *out);

static void note_esp(packet_info *pinfo, guint32 spi, guint32 len, bool udp)
{
	if (fsm && esp_seen.icmp_frame != pinfo->num && esp_seen.frame != pinfo->num) {
		esp_seen.frame = pinfo->num;
		esp_seen.spi = spi;
		esp_seen.len = len;
		esp_seen.udp = udp;
		to_iks_addr(&pinfo->src, 0, &esp_seen.src);
		to_iks_addr(&pinfo->dst, 0, &esp_seen.dst);
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
	if (fsm && !PINFO_FD_VISITED(pinfo) && tvb_captured_length(tvb) > 0) {
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

/* Read field bytes from their data source: the same on every Wireshark version (no fvalue API). */
static const guint8 *finfo_bytes(const field_info *fi, int len)
{
	return tvb_bytes_exist(fi->ds_tvb, fi->start, len) ? tvb_get_ptr(fi->ds_tvb, fi->start, len) : NULL;
}

static void to_iks_addr(const address *a, guint32 port, iks_addr *out)
{
	out->len = (a->type == AT_IPv4 || a->type == AT_IPv6) && a->len <= 16 ? (uint8_t)a->len : 0;
	if (out->len)
		memcpy(out->bytes, a->data, out->len);
	out->port = (uint16_t)port;
}

/* Nanoseconds, clamped to [0, 2^62) so that differences and added timeouts cannot overflow
 * (pcapng allows times past 2262 and negative offsets). */
static int64_t ts_of(const packet_info *pinfo)
{
	int64_t secs = pinfo->abs_ts.secs < 0 ? 0 : pinfo->abs_ts.secs > 4611686017 ? 4611686017 : pinfo->abs_ts.secs;
	return secs * 1000000000 + pinfo->abs_ts.nsecs;
}

/* Decrypted notifies, Deletes and SA proposals (Wireshark has the key) are only visible as fields;
 * with one message in the frame they are that message's. A Delete of protocol 1 deletes the IKE SA;
 * a 4-byte proposal SPI is an ESP (or AH) SPI the sender receives on. */
static void add_decrypted(proto_tree *tree, iks_msg *m)
{
	for (guint h = 0; h < hf_decrypted->len; h++) {
		GPtrArray *a = proto_get_finfo_ptr_array(tree, g_array_index(hf_decrypted, int, h));
		for (guint i = 0; a && i < a->len; i++) {
			field_info *fi = (field_info *)g_ptr_array_index(a, i);
			if (h >= n_delete_hf) {
				const guint8 *p = fi->length == 4 ? finfo_bytes(fi, 4) : NULL;
				if (p && m->n_spi < IKS_MAX_SPI)
					m->spi[m->n_spi++] = (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
				continue;
			}
			if (h >= n_notify_hf) {
				const guint8 *p = finfo_bytes(fi, 1);
				if (p && *p == 1)
					m->payloads |= UINT64_C(1) << (m->version == 1 ? IKS_PL_DELETE : IKS_PL2_DELETE);
				continue;
			}
			const guint8 *p = finfo_bytes(fi, 2);
			uint16_t type = p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
			bool seen = false;
			for (unsigned k = 0; k < m->n_notify; k++)
				seen |= m->notify[k] == type;
			if (p && !seen && m->n_notify < IKS_MAX_NOTIFY)
				m->notify[m->n_notify++] = type;
		}
	}
}

/* ICMP destination unreachable quoting an ISAKMP header: evidence for its negotiation. */
static iks_result *track_icmp(packet_info *pinfo, tvbuff_t *quoted)
{
	if (seen.icmp_type != (seen.icmp_v6 ? 1 : 3) || !tvb_bytes_exist(quoted, 0, 16)) /* ICMP 3 / ICMPv6 1 */
		return NULL;
	return iks_fsm_icmp(fsm, ts_of(pinfo), tvb_get_ntoh64(quoted, 0), tvb_get_ntoh64(quoted, 8));
}

/* First pass: one result per ISAKMP message of the frame, in order, kept in `labels`. */
static void ikestate_track(packet_info *pinfo, proto_tree *tree)
{
	fsm_finished = false;
	/* An ICMP error quotes the packet that caused it: never a message of its own. */
	if (seen.quoted) {
		iks_result *r = track_icmp(pinfo, seen.tvb[0]);
		if (r)
			iks_frames_add(labels, pinfo->num, r);
		return;
	}
	for (guint i = 0; i < seen.n; i++) {
		int avail = (int)tvb_captured_length(seen.tvb[i]);
		iks_msg m;
		memset(&m, 0, sizeof m);
		if (avail <= 0 || !iks_parse(tvb_get_ptr(seen.tvb[i], 0, avail), (size_t)avail, &m))
			continue;
		if (seen.n == 1 && tree)
			add_decrypted(tree, &m);
		m.frame = pinfo->num;
		m.ts_ns = ts_of(pinfo);
		to_iks_addr(&pinfo->src, pinfo->srcport, &m.src);
		to_iks_addr(&pinfo->dst, pinfo->destport, &m.dst);
		iks_result *r = iks_fsm_feed(fsm, &m);
		if (r)
			iks_frames_add(labels, pinfo->num, r);
	}
}

static nstime_t ns_to_nstime(int64_t ns)
{
	nstime_t t;
	t.secs = (time_t)(ns / 1000000000);
	t.nsecs = (int)(ns % 1000000000);
	return t;
}

static proto_item *add_string(proto_tree *t, int hf, tvbuff_t *tvb, const char *s)
{
	proto_item *pi = s ? proto_tree_add_string(t, hf, tvb, 0, 0, s) : NULL;
	proto_item_set_generated(pi);
	return pi;
}

static proto_item *add_uint(proto_tree *t, int hf, tvbuff_t *tvb, guint32 v)
{
	proto_item *pi = v ? proto_tree_add_uint(t, hf, tvb, 0, 0, v) : NULL;
	proto_item_set_generated(pi);
	return pi;
}

static proto_item *add_time(proto_tree *t, int hf, tvbuff_t *tvb, int64_t ns)
{
	nstime_t ts = ns_to_nstime(ns);
	proto_item *pi = proto_tree_add_time(t, hf, tvb, 0, 0, &ts);
	proto_item_set_generated(pi);
	return pi;
}

/* The Info suffix, built on the stack: it runs for every ISAKMP message on every pass, and printf
 * and wmem string buffers were the larger part of rendering (callgrind). */
typedef struct {
	char s[160];
	size_t n;
} info_buf;

static void info_put(info_buf *b, const char *t)
{
	size_t l = strlen(t);
	if (l > sizeof b->s - 1 - b->n)
		l = sizeof b->s - 1 - b->n;
	memcpy(b->s + b->n, t, l);
	b->n += l;
	b->s[b->n] = '\0';
}

/* " [Retransmission 2, MM1 MM_WAIT_MSG2, STALLED in MM_WAIT_MSG2]"-style Info suffix. */
static void info_suffix(packet_info *pinfo, const iks_result *r, const char *msg, const char *state)
{
	info_buf b = { " [", 2 };
	if (r->retrans) {
		char num[8];
		size_t k = sizeof num;
		num[--k] = '\0';
		for (unsigned v = r->retrans; v && k; v /= 10)
			num[--k] = (char)('0' + v % 10);
		info_put(&b, "Retransmission ");
		info_put(&b, num + k);
		info_put(&b, ", ");
	}
	if (msg) {
		info_put(&b, msg);
		if (state) {
			info_put(&b, " ");
			info_put(&b, state);
		}
		info_put(&b, ", ");
	}
	if (r->stalled) {
		info_put(&b, "STALLED in ");
		info_put(&b, iks_stalled_name(r->stalled));
		info_put(&b, ", ");
	}
	if (r->failed) {
		info_put(&b, "FAILED: ");
		info_put(&b, iks_failed_name(r->failed));
		info_put(&b, ", ");
	}
	if (b.n == 2)
		return;
	b.s[b.n - 2] = ']';
	b.s[b.n - 1] = '\0';
	col_append_str(pinfo->cinfo, COL_INFO, b.s);
}

/* Without a tree and without an expert tap nobody reads an expert item's text: add the item with
 * its registered summary only (the severity still reaches the Expert column and the status bar),
 * and skip the formatting, which was a third of rendering (callgrind). */
#define IKS_EXPERT(text, pinfo, pi, ei, ...) \
	((text) ? expert_add_info_format(pinfo, pi, ei, __VA_ARGS__) : expert_add_info(pinfo, pi, ei))

static bool expert_text_wanted(const proto_tree *tree)
{
	return tree || (expert_tap_id >= 0 && have_tap_listener(expert_tap_id));
}

/* Every pass: tree, Info column and expert items from the stored labels. */
static void ikestate_render(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, const iks_result *r)
{
	const char *msg = iks_msg_name(r->msg);
	const char *state = r->qm_state ? iks_qm_state_name(r->qm_state) : iks_state_name(r->state);
	info_suffix(pinfo, r, msg, state);

	bool text = expert_text_wanted(tree);
	const char *hint = iks_hint_text(r->hint);
	if (text && hint && (r->flags & IKS_R_FINAL_SOON))
		hint = wmem_strdup_printf(pinfo->pool, "Capture ends soon after: may still go on. %s", hint);

	/* Tree calls cost even without a tree (callgrind): none when there is none. */
	proto_item *ti = NULL, *rt = NULL, *stl = NULL, *fl = NULL, *hi = NULL;
	proto_tree *st = NULL;
	if (tree) {
		ti = proto_tree_add_item(tree, proto_ikestate, tvb, 0, 0, ENC_NA);
		proto_item_set_generated(ti);
		proto_item_append_text(ti, ": tunnel %u%s%s%s%s", r->tunnel, msg ? ", " : "", msg ? msg : "",
				       state ? ", " : "", state ? state : "");
		st = proto_item_add_subtree(ti, ett_ikestate);

		add_uint(st, hf_tunnel, tvb, r->tunnel);
		add_uint(st, hf_attempt, tvb, r->attempt);
		if (fsm)
			add_uint(st, hf_rekey_of, tvb, iks_fsm_rekey_of(fsm, r->tunnel));
		add_string(st, hf_msg, tvb, msg);
		add_string(st, hf_role, tvb, iks_role_name(r->role));
		add_string(st, hf_state, tvb, iks_state_name(r->state));
		add_string(st, hf_ios_state, tvb, iks_ios_state_name(r->ios_state));
		add_string(st, hf_qm_state, tvb, iks_qm_state_name(r->qm_state));
		rt = add_uint(st, hf_retransmission, tvb, r->retrans);
		add_uint(st, hf_retransmission_of, tvb, r->retrans_of);
		add_uint(st, hf_response_to, tvb, r->response_to);
		add_uint(st, hf_response_in, tvb, r->response_in);
		add_time(st, hf_elapsed, tvb, r->elapsed_ns);
		stl = add_string(st, hf_stalled, tvb, iks_stalled_name(r->stalled));
		fl = add_string(st, hf_failed, tvb, iks_failed_name(r->failed));
		hi = add_string(st, hf_hint, tvb, hint);
		if (r->flags & IKS_R_FINAL)
			proto_item_set_generated(proto_tree_add_boolean(st, hf_final, tvb, 0, 0, TRUE));
	}

	if (r->retrans)
		IKS_EXPERT(text, pinfo, rt ? rt : ti, &ei_retransmission, "Retransmission %u of %s (original in frame %u)",
			   r->retrans, msg ? msg : "message", r->retrans_of);
	if (r->flags & IKS_R_MID_NEGOTIATION)
		expert_add_info(pinfo, ti, &ei_mid_negotiation);
	if ((r->flags & IKS_R_UNEXPECTED) && r->msg != IKS_M_UNKNOWN)
		IKS_EXPERT(text, pinfo, ti, &ei_unexpected, "Unexpected %s: out of sequence for this negotiation", msg);
	else if (r->flags & IKS_R_UNEXPECTED)
		IKS_EXPERT(text, pinfo, ti, &ei_unexpected,
			   "Unexpected message: does not fit this negotiation, state not changed");
	bool v2 = r->msg >= IKS_M_SA_INIT_REQ;
	if (r->flags & IKS_R_PHASE1_DONE) {
		proto_item *su = r->setup_ns >= 0 && tree ? add_time(st, hf_setup_time, tvb, r->setup_ns) : ti;
		const char *done = v2 ? "IKE SA established" : "Phase 1 completed";
		if (r->setup_ns >= 0)
			IKS_EXPERT(text, pinfo, su, &ei_phase1_completed, "%s (%s) in %.3f s", done, iks_state_name(r->state),
				   (double)r->setup_ns / 1e9);
		else
			IKS_EXPERT(text, pinfo, su, &ei_phase1_completed, "%s (%s)", done, iks_state_name(r->state));
	}
	if (r->flags & IKS_R_PHASE2_DONE)
		IKS_EXPERT(text, pinfo, ti, &ei_phase2_completed, "%s in %.3f s",
			   v2 ? "Child SA created" : "Phase 2 (quick mode) completed", (double)r->setup_ns / 1e9);
	if (r->failed == IKS_F_PEER_DEAD)
		IKS_EXPERT(text, pinfo, fl, &ei_failed, "Failed (%s): no answer for %.1f s. %s", iks_failed_name(r->failed),
			   (double)r->setup_ns / 1e9, hint ? hint : "");
	else if (r->failed)
		IKS_EXPERT(text, pinfo, fl, &ei_failed, "Failed (%s): %s", iks_failed_name(r->failed), hint ? hint : "");
	if (r->flags & IKS_R_DELETED) {
		proto_item *de = tree ? proto_tree_add_boolean(st, hf_deleted, tvb, 0, 0, TRUE) : NULL;
		proto_item_set_generated(de);
		if (r->hint == IKS_H_DELETE_INFERRED)
			IKS_EXPERT(text, pinfo, de, &ei_deleted_inferred, "IKE SA deleted (inferred): %s", hint);
		else
			expert_add_info(pinfo, de, &ei_deleted);
	}
	if (r->stalled)
		IKS_EXPERT(text, pinfo, stl, &ei_stalled, "Stalled in %s%s: %s", iks_stalled_name(r->stalled),
			   (r->flags & IKS_R_FINAL) ? " (at capture end)" : "", hint ? hint : "");
	else if (hint && !r->failed && !(r->flags & IKS_R_DELETED))
		IKS_EXPERT(text, pinfo, hi, &ei_reset, "%s", hint);
}

static const char *iks_addr_str(packet_info *pinfo, const iks_addr *a)
{
	address ad;
	set_address(&ad, a->len == 16 ? AT_IPv6 : AT_IPv4, a->len == 16 || a->len == 4 ? a->len : 0, a->bytes);
	return a->len == 16 || a->len == 4 ? address_to_str(pinfo->pool, &ad) : "?";
}

/* ESP and NAT-T keepalives: the SA's tunnel and sender role on every packet; the one-way verdict
 * (capture end) flags all its packets, and its last one carries the expert item. */
static int render_esp(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree)
{
	const iks_esp_sa *sa = PINFO_FD_VISITED(pinfo)
				       ? iks_fsm_esp_sa(fsm, &esp_seen.src, &esp_seen.dst, esp_seen.spi)
				       : iks_fsm_esp(fsm, pinfo->num, ts_of(pinfo), &esp_seen.src, &esp_seen.dst,
						     esp_seen.spi, esp_seen.len, esp_seen.udp);
	bool expert = sa && sa->one_way && pinfo->num == sa->last_frame;
	if (!sa || (!tree && !expert)) /* most ESP: tree calls cost even without a tree (callgrind) */
		return 0;
	proto_item *ti = proto_tree_add_item(tree, proto_ikestate, tvb, 0, 0, ENC_NA);
	proto_item_set_generated(ti);
	if (sa->tunnel)
		proto_item_append_text(ti, ": tunnel %u", sa->tunnel);
	else
		proto_item_append_text(ti, ": no IKE SA between these peers in the capture");
	if (sa->spi)
		proto_item_append_text(ti, ", ESP SPI 0x%08x", sa->spi);
	else
		proto_item_append_text(ti, ", NAT-T keepalive");
	proto_tree *st = proto_item_add_subtree(ti, ett_ikestate);
	add_uint(st, hf_tunnel, tvb, sa->tunnel);
	add_string(st, hf_role, tvb, iks_role_name(sa->role));
	add_uint(st, hf_esp_negotiated_in, tvb, sa->negotiated_in);
	if (sa->one_way) {
		proto_item *ow = proto_tree_add_boolean(st, hf_esp_one_way, tvb, 0, 0, TRUE);
		proto_item_set_generated(ow);
		if (expert) {
			proto_item_set_generated(proto_tree_add_boolean(st, hf_final, tvb, 0, 0, TRUE));
			expert_add_info_format(pinfo, ow, &ei_esp_one_way,
					       "ESP one way: %u packets (SPI 0x%08x) in %.1f s from %s to %s, none back. %s",
					       sa->packets, sa->spi, (double)(sa->last_ns - sa->first_ns) / 1e9,
					       iks_addr_str(pinfo, &sa->src), iks_addr_str(pinfo, &sa->dst),
					       iks_hint_text(IKS_H_ESP_ONE_WAY));
		}
	}
	return tvb_captured_length(tvb);
}

static int dissect_ikestate(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data _U_)
{
	if (!fsm) /* disabled, or nothing hooked */
		return 0;
	bool esp = esp_seen.frame == pinfo->num;
	if (!PINFO_FD_VISITED(pinfo)) {
		/* First pass: only frames in which a hook saw a message can have labels. */
		bool mine = seen.n > 0 && seen.frame == pinfo->num;
		if (mine)
			ikestate_track(pinfo, tree);
		seen.n = 0;
		seen.icmp_type = -1;
		if (!mine && !esp)
			return 0;
	} else {
		ikestate_finished_fsm(); /* the first pass is over (or paused, in a live capture) */
	}
	int done = esp ? render_esp(tvb, pinfo, tree) : 0;
	const iks_result *r;
	guint32 key = 0; /* ISAKMP too: ESP decrypted with Wireshark's keys can carry IKE inside */
	while ((r = (const iks_result *)iks_frames_get(labels, pinfo->num, key++))) {
		ikestate_render(tvb, pinfo, tree, r);
		tap_queue_packet(ikestate_tap, pinfo, r);
	}
	return key > 1 ? (int)tvb_captured_length(tvb) : done;
}

/* The tunnel of a dissected packet (its first message, or its ESP SA), 0 for none. */
static guint32 tunnel_of(packet_info *pinfo)
{
	const iks_result *r = fsm ? (const iks_result *)iks_frames_get(labels, pinfo->num, 0) : NULL;
	if (r)
		return r->tunnel;
	const iks_esp_sa *sa = fsm && esp_seen.frame == pinfo->num
				       ? iks_fsm_esp_sa(fsm, &esp_seen.src, &esp_seen.dst, esp_seen.spi)
				       : NULL;
	return sa ? sa->tunnel : 0;
}

/* Right-click › Conversation Filter › IKE negotiation: the whole negotiation of this packet (ESP
 * and NAT-T keepalives included). */
static iks_conv_bool ikestate_filter_valid(IKS_CONV_FILTER_ARGS)
{
	return tunnel_of(pinfo) != 0;
}

static char *ikestate_build_filter(IKS_CONV_FILTER_ARGS)
{
	guint32 t = tunnel_of(pinfo);
	return t ? g_strdup_printf("ikestate.tunnel == %u", t) : NULL;
}

void proto_register_ikestate(void);
void proto_reg_handoff_ikestate(void);

void proto_register_ikestate(void)
{
	static hf_register_info hf[] = {
		{ &hf_tunnel, { "Tunnel", "ikestate.tunnel", FT_UINT32, BASE_DEC, NULL, 0x0,
			"Index of the IKE SA (cookie pair) in order of first appearance", HFILL } },
		{ &hf_attempt, { "Attempt", "ikestate.attempt", FT_UINT32, BASE_DEC, NULL, 0x0,
			"n-th IKE SA negotiated between this pair of addresses in the capture", HFILL } },
		{ &hf_rekey_of, { "Rekey of tunnel", "ikestate.rekey_of", FT_UINT32, BASE_DEC, NULL, 0x0,
			"The IKE SA between the same peers that was up when this one started (ASA: Rekey yes)", HFILL } },
		{ &hf_msg, { "Message", "ikestate.msg", FT_STRING, BASE_NONE, NULL, 0x0,
			"Position in the exchange: MM1-MM6, AM1-AM3, QM1-QM4, INFO, TXN; IKEv2 SA_INIT/AUTH/CHILD/INFO/INTER "
			"_REQ/_RESP; ? when not inferable", HFILL } },
		{ &hf_role, { "Sender role", "ikestate.role", FT_STRING, BASE_NONE, NULL, 0x0,
			"Sender's role in the phase-1 / IKE SA: initiator or responder", HFILL } },
		{ &hf_state, { "ASA state", "ikestate.state", FT_STRING, BASE_NONE, NULL, 0x0,
			"Cisco ASA phase-1 state of the sender right after sending this message; IKEv2: IN-NEG, READY, "
			"DELETE", HFILL } },
		{ &hf_ios_state, { "IOS state", "ikestate.ios_state", FT_STRING, BASE_NONE, NULL, 0x0,
			"Cisco IOS/PIX display state of the sender right after sending this message", HFILL } },
		{ &hf_qm_state, { "Quick mode state", "ikestate.qm_state", FT_STRING, BASE_NONE, NULL, 0x0,
			"State of this quick mode (message ID) after this message", HFILL } },
		{ &hf_retransmission, { "Retransmission", "ikestate.retransmission", FT_UINT32, BASE_DEC, NULL, 0x0,
			"k for the k-th byte-identical resend of a message", HFILL } },
		{ &hf_retransmission_of, { "Retransmission of", "ikestate.retransmission_of", FT_FRAMENUM, BASE_NONE,
			FRAMENUM_TYPE(FT_FRAMENUM_RETRANS_PREV), 0x0, "Frame of the original message", HFILL } },
		{ &hf_response_to, { "Response to", "ikestate.response_to", FT_FRAMENUM, BASE_NONE,
			FRAMENUM_TYPE(FT_FRAMENUM_REQUEST), 0x0, "Frame of the message this one answers", HFILL } },
		{ &hf_response_in, { "Response in", "ikestate.response_in", FT_FRAMENUM, BASE_NONE,
			FRAMENUM_TYPE(FT_FRAMENUM_RESPONSE), 0x0,
			"Frame of the answer to this message (known after the first pass)", HFILL } },
		{ &hf_elapsed, { "Time since tunnel start", "ikestate.elapsed", FT_RELATIVE_TIME, BASE_NONE, NULL, 0x0,
			"Time since the first packet of this IKE SA", HFILL } },
		{ &hf_setup_time, { "Phase 1 setup time", "ikestate.setup_time", FT_RELATIVE_TIME, BASE_NONE, NULL, 0x0,
			"On the message that completes phase 1: time since MM1/AM1", HFILL } },
		{ &hf_stalled, { "Stalled in", "ikestate.stalled", FT_STRING, BASE_NONE, NULL, 0x0,
			"State the negotiation is stuck in, on each packet where the stall is established", HFILL } },
		{ &hf_failed, { "Failed", "ikestate.failed", FT_STRING, BASE_NONE, NULL, 0x0,
			"Why the peer refused or the exchange provably failed (notify name, ICMP_UNREACHABLE, "
			"PHASE1_REJECTED, PHASE2_REJECTED, PEER_DEAD)", HFILL } },
		{ &hf_hint, { "Hint", "ikestate.hint", FT_STRING, BASE_NONE, NULL, 0x0,
			"Likely causes and what to check", HFILL } },
		{ &hf_final, { "Verdict at capture end", "ikestate.final", FT_BOOLEAN, BASE_NONE, NULL, 0x0,
			"A verdict given at capture end on this packet (needs two passes: GUI, tshark -2): the last "
			"packet of a negotiation that never completed, an inferred delete, the last packet of a one-way "
			"ESP SA", HFILL } },
		{ &hf_deleted, { "Deletes the IKE SA", "ikestate.deleted", FT_BOOLEAN, BASE_NONE, NULL, 0x0,
			"This message deletes the IKE SA: a Delete payload (clear or decrypted), the IKEv2 delete "
			"exchange, or inferred at capture end (see the hint)", HFILL } },
		{ &hf_esp_negotiated_in, { "SPI negotiated in", "ikestate.esp.negotiated_in", FT_FRAMENUM, BASE_NONE,
			NULL, 0x0, "ESP packets: the decrypted quick mode / CREATE_CHILD_SA / IKE_AUTH message that "
			"announced this SPI (needs the IKE keys); its IKE SA is then the packet's tunnel", HFILL } },
		{ &hf_esp_one_way, { "ESP one way", "ikestate.esp.one_way", FT_BOOLEAN, BASE_NONE, NULL, 0x0,
			"ESP SA whose receiver never sent ESP back (needs two passes: GUI, tshark -2)", HFILL } },
	};
	static int *ett[] = { &ett_ikestate };
	static ei_register_info ei[] = {
		{ &ei_retransmission, { "ikestate.analysis.retransmission", PI_SEQUENCE, PI_NOTE,
			"Retransmission of an IKE message", EXPFILL } },
		{ &ei_mid_negotiation, { "ikestate.analysis.mid_negotiation", PI_SEQUENCE, PI_NOTE,
			"Capture started mid-negotiation: the start of this IKE SA is not in the capture", EXPFILL } },
		{ &ei_unexpected, { "ikestate.analysis.unexpected", PI_SEQUENCE, PI_WARN,
			"Unexpected message: out of sequence for this negotiation", EXPFILL } },
		{ &ei_phase1_completed, { "ikestate.analysis.phase1_completed", PI_SEQUENCE, PI_CHAT,
			"Phase 1 completed / IKEv2 SA established", EXPFILL } },
		{ &ei_phase2_completed, { "ikestate.analysis.phase2_completed", PI_SEQUENCE, PI_CHAT,
			"Phase 2 (quick mode) completed / IKEv2 child SA created", EXPFILL } },
		{ &ei_stalled, { "ikestate.analysis.stalled", PI_SEQUENCE, PI_WARN,
			"Negotiation stalled", EXPFILL } },
		{ &ei_failed, { "ikestate.analysis.failed", PI_RESPONSE_CODE, PI_WARN,
			"The negotiation failed: refused by the peer, ICMP error or dead peer", EXPFILL } },
		{ &ei_reset, { "ikestate.analysis.reset_after_phase2", PI_SEQUENCE, PI_NOTE,
			"Phase 1 restarted after a phase-2 failure", EXPFILL } },
		{ &ei_deleted, { "ikestate.analysis.deleted", PI_SEQUENCE, PI_NOTE,
			"IKE SA deleted", EXPFILL } },
		{ &ei_deleted_inferred, { "ikestate.analysis.deleted_inferred", PI_SEQUENCE, PI_NOTE,
			"IKE SA deleted (inferred from encrypted Informationals and what follows)", EXPFILL } },
		{ &ei_esp_one_way, { "ikestate.analysis.esp_one_way", PI_SEQUENCE, PI_WARN,
			"ESP flows one way only (encaps without decaps)", EXPFILL } },
	};

	proto_ikestate = proto_register_protocol("IKE negotiation state", "IKE state", "ikestate");
	proto_register_field_array(proto_ikestate, hf, array_length(hf));
	proto_register_subtree_array(ett, array_length(ett));
	expert_register_field_array(expert_register_protocol(proto_ikestate), ei, array_length(ei));
	/* No protocol on the post-dissector's handle: Wireshark then skips the enabled check and the
	 * layer-list bookkeeping it does for every frame and every post-dissector (half of what being
	 * a post-dissector costs per frame, callgrind). ikestate_init checks "enabled" instead. */
	ikestate_handle = register_dissector("ikestate", dissect_ikestate, -1);
	ikestate_tap = register_tap("ikestate");
	ikestate_register_summary();

	module_t *prefs = prefs_register_protocol(proto_ikestate, NULL);
	prefs_register_uint_preference(prefs, "stall_retransmissions", "Resends that establish a stall",
				       "The k-th byte-identical resend of a message, k at least this, marks the "
				       "negotiation stalled (0: never)", 10, &pref_stall_retransmissions);
	prefs_register_uint_preference(prefs, "stall_timeout", "Seconds without progress that establish a stall",
				       "A negotiation whose next packet comes later than this after its last step "
				       "is marked stalled (0: never)", 10, &pref_stall_timeout);

	register_init_routine(ikestate_init);
	register_cleanup_routine(ikestate_cleanup);
}

void proto_reg_handoff_ikestate(void)
{
	/* Plugin handoffs run after the built-in ones: these table entries are the final defaults. */
	isakmp_protocol = find_protocol_by_id(proto_get_id_by_filter_name("isakmp"));
	if (isakmp_protocol) {
		real_table = register_dissector_table("ikestate.real", "Dissectors behind the ikestate hooks",
						      proto_ikestate, FT_UINT8, BASE_DEC);
		dissector_handle_t isakmp_real = dissector_get_uint_handle(find_dissector_table("udp.port"), 500);
		dissector_handle_t hook = hook_entry("udp.port", 500, "ISAKMP", REAL_ISAKMP, hook_isakmp, "ikestate_isakmp_hook");
		hooked = hook != NULL;
		if (hooked) /* isakmp registers the same handle for TCP 500 */
			swap_in("tcp.port", 500, isakmp_real, hook);
		hook_entry("udp.port", 4500, "UDPENCAP", REAL_UDPENCAP, hook_udpencap, "ikestate_udpencap_hook");
		hook_entry("ip.proto", 1, "ICMP", REAL_ICMP, hook_icmp, "ikestate_icmp_hook");
		hook_entry("ip.proto", 58, "ICMPv6", REAL_ICMPV6, hook_icmpv6, "ikestate_icmpv6_hook");
		hook_entry("ip.proto", 50, "ESP", REAL_ESP, hook_esp, "ikestate_esp_hook");
	}
	/* isakmp.notify.msgtype is registered twice (IKEv1 and IKEv2 value strings). */
	hf_decrypted = g_array_new(FALSE, FALSE, (guint)sizeof(int));
	static const char *const decrypted[] = { "isakmp.notify.msgtype", "isakmp.delete.protoid", "isakmp.spi" };
	for (size_t f = 0; f < G_N_ELEMENTS(decrypted); f++) {
		for (int id = proto_registrar_get_id_byname(decrypted[f]); id != -1;
		     id = proto_registrar_get_nth(id)->same_name_prev_id)
			g_array_append_val(hf_decrypted, id);
		if (f == 0)
			n_notify_hf = hf_decrypted->len;
		if (f == 1)
			n_delete_hf = hf_decrypted->len;
	}
	register_postdissector(ikestate_handle);
	iks_register_conversation_filter("ikestate", "IKE negotiation", ikestate_filter_valid, ikestate_build_filter);
	ikestate_register_stats_tree();
}

void plugin_register(void)
{
	static proto_plugin plug;
	plug.register_protoinfo = proto_register_ikestate;
	plug.register_handoff = proto_reg_handoff_ikestate;
	proto_register_plugin(&plug);
}
