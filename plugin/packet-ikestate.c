/* packet-ikestate.c — epan glue of the IKE negotiation state post-dissector.
 *
 * The hooks (ikestate-hooks.c) note each ISAKMP message's tvb; on the first pass the post-dissector
 * feeds them to the core (ike_fsm.h) and keeps each message's labels in a frame index; on every pass
 * it renders them (ikestate-render.c). When the first pass is over the capture-end verdicts are
 * computed, once; the taps read the finished analyser through ikestate_view().
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ws_compat.h"

#include <epan/packet.h>
/* after packet.h: its callback types name struct _packet_info */
#include <epan/conversation_filter.h>
#include <epan/prefs.h>
#include <epan/tap.h>

#include "ikestate-addr.h"
#include "ikestate-hooks.h"
#include "ikestate-render.h"
#include "ikestate.h"

static int proto_ikestate = -1;
static const char proto_short_name[] = "IKE state";
static dissector_handle_t ikestate_handle;
static int ikestate_tap = -1;
static bool hooked;

static guint pref_stall_retransmissions = IKS_DEFAULT_STALL_RETRANSMISSIONS;
static guint pref_stall_timeout = IKS_DEFAULT_STALL_TIMEOUT_S;
static guint pref_sighting_window = IKS_DEFAULT_SIGHTING_WINDOW_MS;

/* The open capture file. */
static struct {
	iks_fsm *fsm;       /* NULL: disabled, or nothing hooked */
	iks_frames *labels; /* frame -> its iks_results, in message order (not per-packet proto data:
			     * a quarter of the memory, and one bit test for frames without) */
	bool finished;      /* the first pass is over and the capture-end verdicts are in */
} cap;

/* Decrypted payloads (Wireshark has the IKE keys) exist only as fields: the ones read, by name. */
typedef enum {
	WANT_NOTIFY, WANT_DELETE, WANT_SPI, WANT_MALFORMED, WANT_EAP_CODE, WANT_EAP_TYPE, WANT_CFG_TYPE,
	WANT_CFG_ATTR, WANT_XAUTH_STATUS, WANT_ADDRESS
} want_kind;
static const struct {
	const char *name; /* registered under several ids when IKEv1 and IKEv2 differ (notify types) */
	want_kind kind;
} wanted_fields[] = {
	{ "isakmp.notify.msgtype", WANT_NOTIFY }, /* a notify's type: refusals */
	{ "isakmp.delete.protoid", WANT_DELETE }, /* protocol 1: a Delete of the IKE SA itself */
	{ "isakmp.spi", WANT_SPI },               /* a 4-byte proposal SPI: an ESP SPI the sender receives on */
	{ "_ws.malformed", WANT_MALFORMED },      /* decrypted into garbage: not the sender's key */
	/* Remote access: EAP inside IKE_AUTH, XAUTH / mode-config attributes, IKEv2 CP. */
	{ "eap.code", WANT_EAP_CODE },
	{ "eap.type", WANT_EAP_TYPE },
	{ "isakmp.cfg.type", WANT_CFG_TYPE },
	{ "isakmp.cfg.attr.type", WANT_CFG_ATTR },
	{ "isakmp.cfg.attr.xauth.status", WANT_XAUTH_STATUS },
	{ "isakmp.cfg.attr.internal_ip4_address", WANT_ADDRESS }, /* only with a value: an address given */
	{ "isakmp.cfg.attr.internal_ip6_address", WANT_ADDRESS },
};
typedef struct {
	int hf;
	want_kind kind;
} wanted_hf;
static GArray *wanted; /* wanted_hf, every id of each wanted_fields name, in table order */

static void want_fields_resolve(void)
{
	wanted = g_array_new(FALSE, FALSE, (guint)sizeof(wanted_hf));
	for (size_t f = 0; f < G_N_ELEMENTS(wanted_fields); f++) {
		for (int id = proto_registrar_get_id_byname(wanted_fields[f].name); id != -1;
		     id = proto_registrar_get_nth(id)->same_name_prev_id) {
			wanted_hf w = { id, wanted_fields[f].kind };
			g_array_append_val(wanted, w);
		}
	}
}

static GArray *wanted_ids(void)
{
	GArray *ids = g_array_sized_new(FALSE, FALSE, (guint)sizeof(int), wanted->len);
	for (guint i = 0; i < wanted->len; i++)
		g_array_append_val(ids, g_array_index(wanted, wanted_hf, i).hf);
	return ids;
}

/* The capture-end verdicts, once the first pass is over: when Wireshark says the sequential pass
 * ended (post-sequential cleanup: tshark -2, the GUI), when a frame is dissected again (a live
 * capture paused), or when a tap draws after tshark's single pass. A later first-pass frame opens
 * it again. */
void ikestate_first_pass_over(void)
{
	if (cap.fsm && !cap.finished) {
		iks_fsm_finish(cap.fsm);
		cap.finished = true;
	}
}

/* Wireshark's end of the sequential pass. Only here may the GUI be asked to filter again: not from
 * a dissection, which may itself be part of a rescan. */
static void sequential_pass_over(void)
{
	ikestate_first_pass_over();
	if (cap.fsm)
		ikestate_gui_refilter();
}

const iks_fsm *ikestate_view(void)
{
	return cap.finished ? cap.fsm : NULL;
}

static void ikestate_init(void)
{
	ikestate_render_init();
	cap.finished = false;
	if (!proto_is_protocol_enabled(find_protocol_by_id(proto_ikestate)) || !hooked)
		return;
	iks_config cfg = { pref_stall_retransmissions, (int64_t)pref_stall_timeout * 1000000000,
			   (int64_t)pref_sighting_window * 1000000 };
	cap.fsm = iks_fsm_new(&cfg);
	cap.labels = iks_frames_new();
	bool keys = ikestate_decryption_configured();
	ikestate_hooks_track(true, keys);
	if (keys && wanted->len > 0)
		set_postdissector_wanted_hfids(ikestate_handle, wanted_ids());
}

static void ikestate_cleanup(void)
{
	set_postdissector_wanted_hfids(ikestate_handle, NULL);
	ikestate_hooks_track(false, false);
	iks_fsm_free(cap.fsm);
	cap.fsm = NULL;
	iks_frames_free(cap.labels);
	cap.labels = NULL;
	cap.finished = false;
}

/* Nanoseconds, clamped to [0, 2^62) so that differences and added timeouts cannot overflow
 * (pcapng allows times past 2262 and negative offsets). */
static int64_t ts_of(const packet_info *pinfo)
{
	int64_t secs = pinfo->abs_ts.secs < 0 ? 0 : pinfo->abs_ts.secs > 4611686017 ? 4611686017 : pinfo->abs_ts.secs;
	return secs * 1000000000 + pinfo->abs_ts.nsecs;
}

/* Read field bytes from their data source: the same on every Wireshark version (no fvalue API). */
static const guint8 *finfo_bytes(const field_info *fi, int len)
{
	return tvb_bytes_exist(fi->ds_tvb, fi->start, len) ? tvb_get_ptr(fi->ds_tvb, fi->start, len) : NULL;
}

static void add_notify(iks_msg *m, uint16_t type)
{
	if (!iks_has_notify(m, type) && m->n_notify < IKS_MAX_NOTIFY)
		m->notify[m->n_notify++] = type;
}

/* XAUTH attribute types (draft-beaulieu-ike-xauth §6.1), internal address types (RFC 7296 §3.15.1,
 * the same numbers in IKEv1 mode-config). */
#define XAUTH_ATTR_FIRST 16520
#define XAUTH_ATTR_LAST 16531
#define CFG_INTERNAL_IP4_ADDRESS 1
#define CFG_INTERNAL_IP6_ADDRESS 8

static void add_remote_access(const field_info *fi, want_kind kind, iks_ra *ra)
{
	bool two = kind == WANT_CFG_ATTR || kind == WANT_XAUTH_STATUS; /* 16-bit fields */
	const guint8 *p = finfo_bytes(fi, two ? 2 : 1);
	if (!p)
		return;
	unsigned v = two ? (unsigned)(p[0] << 8 | p[1]) : p[0];
	switch (kind) {
	case WANT_EAP_CODE:
		if (!ra->eap_code) /* the first EAP message of the IKE message */
			ra->eap_code = (uint8_t)v;
		break;
	case WANT_EAP_TYPE:
		if (!ra->eap_type)
			ra->eap_type = (uint8_t)v;
		break;
	case WANT_CFG_TYPE:
		if (!ra->cfg_type)
			ra->cfg_type = (uint8_t)v;
		break;
	case WANT_CFG_ATTR:
		v &= 0x7fff; /* the high bit is the attribute's format (TV / TLV) */
		if (v >= XAUTH_ATTR_FIRST && v <= XAUTH_ATTR_LAST)
			ra->cfg |= IKS_CFG_HAS_XAUTH;
		if (v == CFG_INTERNAL_IP4_ADDRESS || v == CFG_INTERNAL_IP6_ADDRESS)
			ra->cfg |= IKS_CFG_HAS_ADDRESS_ASKED;
		break;
	case WANT_XAUTH_STATUS:
		ra->cfg |= v ? IKS_CFG_HAS_XAUTH_OK : IKS_CFG_HAS_XAUTH_FAIL;
		break;
	case WANT_ADDRESS:
		if (fi->length > 0)
			ra->cfg |= IKS_CFG_HAS_ADDRESS;
		break;
	default:
		break;
	}
}

static void add_decrypted_field(const field_info *fi, want_kind kind, iks_msg *m)
{
	const guint8 *p;
	switch (kind) {
	case WANT_NOTIFY:
		if ((p = finfo_bytes(fi, 2)) != NULL)
			add_notify(m, (uint16_t)(p[0] << 8 | p[1]));
		break;
	case WANT_DELETE:
		if ((p = finfo_bytes(fi, 1)) != NULL && *p == 1)
			m->payloads |= UINT64_C(1) << (m->version == 1 ? IKS_PL_DELETE : IKS_PL2_DELETE);
		break;
	case WANT_SPI:
		p = fi->length == 4 ? finfo_bytes(fi, 4) : NULL;
		if (p && m->n_spi < IKS_MAX_SPI)
			m->spi[m->n_spi++] = (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
		break;
	case WANT_MALFORMED:
		if (m->decryption == IKS_DECRYPT_OK)
			m->decryption = IKS_DECRYPT_GARBAGE;
		break;
	default:
		add_remote_access(fi, kind, &m->ra);
	}
}

/* Decrypted notifies, Deletes and SA proposals are only visible as fields; with one message in the
 * frame they are that message's. */
static void add_decrypted(proto_tree *tree, iks_msg *m)
{
	for (guint h = 0; h < wanted->len; h++) {
		const wanted_hf *w = &g_array_index(wanted, wanted_hf, h);
		GPtrArray *a = proto_get_finfo_ptr_array(tree, w->hf);
		for (guint i = 0; a && i < a->len; i++)
			add_decrypted_field((const field_info *)g_ptr_array_index(a, i), w->kind, m);
	}
}

/* The child SA of a decrypted message, parsed from its decrypted payloads. An IKEv2 fragment holds
 * a piece of them only: not read. */
static bool parse_inner(tvbuff_t *inner, const iks_msg *m, iks_child *c)
{
	int len = inner ? (int)tvb_captured_length(inner) : 0;
	if (len <= 0 || m->frag_total)
		return false;
	return iks_parse_inner(tvb_get_ptr(inner, 0, len), (size_t)len, m->version == 1 ? m->first_payload : m->sk_first, m, c);
}

/* ICMP destination unreachable quoting an ISAKMP header: evidence for its negotiation. */
static iks_result *track_icmp(packet_info *pinfo, const ikestate_seen *s)
{
	tvbuff_t *quoted = s->tvb[0];
	if (s->icmp_type != (s->icmp_v6 ? 1 : 3) || !tvb_bytes_exist(quoted, 0, 16)) /* ICMP 3 / ICMPv6 1 */
		return NULL;
	return iks_fsm_icmp(cap.fsm, ts_of(pinfo), tvb_get_ntoh64(quoted, 0), tvb_get_ntoh64(quoted, 8));
}

static void keep(guint32 frame, const iks_result *r)
{
	/* Frames come in capture order on the first pass; a refusal would only lose this label. */
	if (r && !iks_frames_add(cap.labels, frame, r))
		ws_warning("ikestate: frame %u out of order, its labels are not kept", frame);
}

/* First pass: one result per ISAKMP message of the frame, in order, kept in the frame index. */
static void track(packet_info *pinfo, proto_tree *tree, const ikestate_seen *s)
{
	cap.finished = false;
	/* An ICMP error quotes the packet that caused it: never a message of its own. */
	if (s->quoted) {
		keep(pinfo->num, track_icmp(pinfo, s));
		return;
	}
	for (guint i = 0; i < s->n; i++) {
		int avail = (int)tvb_captured_length(s->tvb[i]);
		iks_msg m;
		memset(&m, 0, sizeof m);
		if (avail <= 0 || !iks_parse(tvb_get_ptr(s->tvb[i], 0, avail), (size_t)avail, &m))
			continue;
		/* Proposals and Vendor IDs: a second parse, only of the few messages that carry them. */
		iks_wire wire;
		if (iks_wants_wire(&m) && iks_parse_wire(tvb_get_ptr(s->tvb[i], 0, avail), (size_t)avail, &m, &wire))
			m.wire = &wire;
		m.decryption = s->decrypted[i] ? IKS_DECRYPT_OK : IKS_DECRYPT_NONE;
		iks_child child;
		if (parse_inner(s->inner[i], &m, &child))
			m.child = &child;
		if (s->n == 1 && tree)
			add_decrypted(tree, &m);
		m.frame = pinfo->num;
		m.ts_ns = ts_of(pinfo);
		ikestate_to_iks_addr(&pinfo->src, pinfo->srcport, &m.src);
		ikestate_to_iks_addr(&pinfo->dst, pinfo->destport, &m.dst);
		m.point = ikestate_capture_point(pinfo);
		m.ttl = ikestate_ip_ttl(s->tvb[i], pinfo);
		keep(pinfo->num, iks_fsm_feed(cap.fsm, &m));
	}
}

static const iks_esp_sa *esp_of(packet_info *pinfo, const ikestate_esp_seen *e)
{
	if (PINFO_FD_VISITED(pinfo))
		return iks_fsm_esp_sa(cap.fsm, &e->src, &e->dst, e->spi);
	return iks_fsm_esp(cap.fsm, pinfo->num, ts_of(pinfo), &e->src, &e->dst, e->spi, e->len, e->udp);
}

static int dissect_ikestate(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data _U_)
{
	if (!cap.fsm)
		return 0;
	const ikestate_esp_seen *esp = ikestate_hooks_esp(pinfo->num);
	if (!PINFO_FD_VISITED(pinfo)) {
		/* First pass: only frames in which a hook saw a message can have labels. */
		const ikestate_seen *s = ikestate_hooks_messages(pinfo->num);
		if (s)
			track(pinfo, tree, s);
		ikestate_hooks_clear();
		if (!s && !esp)
			return 0;
	} else {
		ikestate_first_pass_over();
	}
	/* The handle has no protocol (cheaper per frame): name ours for the expert items, which Wireshark
	 * files under the current protocol. */
	const char *caller = pinfo->current_proto;
	pinfo->current_proto = proto_short_name;
	int done = esp ? ikestate_render_esp(tvb, pinfo, tree, esp_of(pinfo, esp)) : 0;
	const iks_result *r;
	guint32 key = 0; /* ISAKMP too: ESP decrypted with Wireshark's keys can carry IKE inside */
	while ((r = (const iks_result *)iks_frames_get(cap.labels, pinfo->num, key++))) {
		ikestate_render(tvb, pinfo, tree, cap.fsm, r);
		tap_queue_packet(ikestate_tap, pinfo, r);
	}
	pinfo->current_proto = caller;
	return key > 1 ? (int)tvb_captured_length(tvb) : done;
}

/* The tunnel of a dissected packet (its first message, or its ESP SA), 0 for none. */
static guint32 tunnel_of(packet_info *pinfo)
{
	if (!cap.fsm)
		return 0;
	const iks_result *r = (const iks_result *)iks_frames_get(cap.labels, pinfo->num, 0);
	if (r)
		return r->tunnel;
	const ikestate_esp_seen *e = ikestate_hooks_esp(pinfo->num);
	const iks_esp_sa *sa = e ? iks_fsm_esp_sa(cap.fsm, &e->src, &e->dst, e->spi) : NULL;
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

void proto_register_ikestate(void)
{
	proto_ikestate = proto_register_protocol("IKE negotiation state", proto_short_name, "ikestate");
	ikestate_render_register(proto_ikestate);
	/* No protocol on the post-dissector's handle: Wireshark then skips the enabled check and the
	 * layer-list bookkeeping it does for every frame and every post-dissector (half of what being
	 * a post-dissector costs per frame, callgrind). ikestate_init checks "enabled" instead. */
	ikestate_handle = register_dissector("ikestate", dissect_ikestate, -1);
	ikestate_tap = register_tap("ikestate");

	module_t *prefs = prefs_register_protocol(proto_ikestate, NULL);
	prefs_register_uint_preference(prefs, "stall_retransmissions", "Resends that establish a stall",
				       "The k-th byte-identical resend of a message, k at least this, marks the "
				       "negotiation stalled (0: never)", 10, &pref_stall_retransmissions);
	prefs_register_uint_preference(prefs, "stall_timeout", "Seconds without progress that establish a stall",
				       "A negotiation whose next packet comes later than this after its last step "
				       "is marked stalled (0: never)", 10, &pref_stall_timeout);
	prefs_register_uint_preference(prefs, "sighting_window", "Sighting window between capture points (ms)",
				       "The same ISAKMP message seen at another capture point (pcapng interface) "
				       "this many milliseconds earlier or later is one transmission seen twice, "
				       "not a message of its own: covers the transit and the clock offset of "
				       "merged captures (0: never)", 10, &pref_sighting_window);
	ikestate_render_register_prefs(prefs);

	register_init_routine(ikestate_init);
	register_cleanup_routine(ikestate_cleanup);
	register_postseq_cleanup_routine(sequential_pass_over);
}

void proto_reg_handoff_ikestate(void)
{
	hooked = ikestate_hooks_install(proto_ikestate);
	want_fields_resolve();
	register_postdissector(ikestate_handle);
	iks_register_conversation_filter("ikestate", "IKE negotiation", ikestate_filter_valid, ikestate_build_filter);
}
