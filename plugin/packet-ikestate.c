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
static guint pref_exchange_expiry = IKS_DEFAULT_EXCHANGE_EXPIRY_S;

/* The open capture file. */
static struct {
	iks_fsm *fsm;       /* NULL: disabled, or nothing hooked */
	iks_frames *labels; /* frame -> its iks_results' ids, in message order (not per-packet proto
			     * data: a fifth of the memory, and one bit test for frames without) */
	bool finished;      /* the first pass is over and the capture-end verdicts are in */
} cap;

/* IKEv2 fragments (RFC 7383): only the first names the first payload inside, and Wireshark
 * reassembles the message in the frame of the last. The first's type until then, by SPI, message ID
 * and direction (only fragmented messages, only with keys). */
typedef struct {
	guint64 ispi;
	guint32 msgid;
	guint32 response;
} frag_key;

static guint frag_hash(gconstpointer p)
{
	const frag_key *k = (const frag_key *)p;
	return (guint)(k->ispi ^ k->ispi >> 32) ^ k->msgid * 2654435761u ^ k->response;
}

static gboolean frag_equal(gconstpointer a, gconstpointer b)
{
	return memcmp(a, b, sizeof(frag_key)) == 0;
}

static GHashTable *frag_first; /* frag_key -> first inner payload type */

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
			   (int64_t)pref_sighting_window * 1000000, (int64_t)pref_exchange_expiry * 1000000000 };
	cap.fsm = iks_fsm_new(&cfg);
	cap.labels = iks_frames_new();
	ikestate_hooks_track(true, ikestate_decryption_configured());
}

static void ikestate_cleanup(void)
{
	ikestate_hooks_track(false, false);
	if (frag_first)
		g_hash_table_destroy(frag_first);
	frag_first = NULL;
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

/* A decrypted message's payloads (keys loaded), parsed in the core: what only they show is added
 * to m, the child SA goes to c. An IKEv2 fragment's own piece is not read: its reassembled message
 * is, in the frame of its last fragment. */
static bool parse_inner(tvbuff_t *inner, bool reassembled, iks_msg *m, iks_child *c)
{
	int len = inner ? (int)tvb_captured_length(inner) : 0;
	if (len <= 0)
		return false; /* not decrypted: no keys, or none for this SA */
	unsigned first = m->version == 1 ? m->first_payload : m->sk_first;
	if (m->frag_total) {
		frag_key k = { m->ispi, m->msgid, m->flags & IKS_FLAG_V2_RESPONSE };
		if (m->frag_num == 1 && m->sk_first) {
			if (!frag_first)
				frag_first = g_hash_table_new_full(frag_hash, frag_equal, g_free, NULL);
			g_hash_table_insert(frag_first, g_memdup2(&k, sizeof k), GUINT_TO_POINTER(m->sk_first));
		}
		first = reassembled && frag_first ? GPOINTER_TO_UINT(g_hash_table_lookup(frag_first, &k)) : 0;
		if (first)
			g_hash_table_remove(frag_first, &k); /* used: a resent message starts again at its first fragment */
	}
	if (!first)
		return false;
	return iks_parse_inner(tvb_get_ptr(inner, 0, len), (size_t)len, first, m, c);
}

/* ICMP destination unreachable quoting an ISAKMP header: evidence for its negotiation. */
static iks_result *track_icmp(packet_info *pinfo, const ikestate_seen *s)
{
	tvbuff_t *quoted = s->tvb[0];
	if (s->icmp_type != (s->icmp_v6 ? 1 : 3) || !tvb_bytes_exist(quoted, 0, 16)) /* ICMP 3 / ICMPv6 1 */
		return NULL;
	return iks_fsm_icmp(cap.fsm, ts_of(pinfo), tvb_get_ntoh64(quoted, 0), tvb_get_ntoh64(quoted, 8));
}

/* The results of this frame's messages, on the first pass: rendered from here, not looked up. */
typedef struct {
	const iks_result *r[IKS_MAX_SEEN];
	unsigned n;
} fed_list;

static void keep(guint32 frame, const iks_result *r, fed_list *fed)
{
	if (!r)
		return;
	/* Frames come in capture order on the first pass; a refusal would only lose this label (and it
	 * is not rendered either: every pass shows the same). */
	if (!iks_frames_add(cap.labels, frame, iks_fsm_result_id(cap.fsm, r)))
		ws_warning("ikestate: frame %u out of order, its labels are not kept", frame);
	else if (fed->n < IKS_MAX_SEEN)
		fed->r[fed->n++] = r;
}

static const iks_result *fed_at(const fed_list *fed, guint32 i)
{
	return i < fed->n ? fed->r[i] : NULL;
}

/* First pass: one result per ISAKMP message of the frame, in order, kept in the frame index. */
static void track(packet_info *pinfo, const ikestate_seen *s, fed_list *fed)
{
	cap.finished = false;
	/* An ICMP error quotes the packet that caused it: never a message of its own. */
	if (s->quoted) {
		keep(pinfo->num, track_icmp(pinfo, s), fed);
		return;
	}
	for (guint i = 0; i < s->n; i++) {
		int avail = (int)tvb_captured_length(s->tvb[i]);
		iks_msg m;
		memset(&m, 0, sizeof m);
		const uint8_t *msg = avail > 0 ? tvb_get_ptr(s->tvb[i], 0, avail) : NULL;
		if (!msg || !iks_parse(msg, (size_t)avail, &m))
			continue;
		/* Proposals and Vendor IDs: a second parse, only of the few messages that carry them, and
		 * only of bytes not seen before. */
		iks_wire wire;
		if (iks_wants_wire(&m)) {
			m.wire_rec = iks_fsm_wire_seen(cap.fsm, &m);
			if (!m.wire_rec && iks_parse_wire(msg, (size_t)avail, &m, &wire))
				m.wire = &wire;
		}
		m.decryption = s->decrypted[i] ? IKS_DECRYPT_OK : IKS_DECRYPT_NONE;
		iks_child child;
		if (parse_inner(s->inner[i], s->reassembled[i], &m, &child))
			m.child = &child;
		m.frame = pinfo->num;
		m.ts_ns = ts_of(pinfo);
		ikestate_to_iks_addr(&pinfo->src, pinfo->srcport, &m.src);
		ikestate_to_iks_addr(&pinfo->dst, pinfo->destport, &m.dst);
		m.point = ikestate_capture_point(pinfo);
		m.ttl = ikestate_ip_ttl(s->tvb[i], msg, pinfo);
		keep(pinfo->num, iks_fsm_feed(cap.fsm, &m), fed);
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
	fed_list fed;
	fed.n = 0;
	bool first = !PINFO_FD_VISITED(pinfo);
	if (first) {
		/* First pass: only frames in which a hook saw a message can have labels. */
		const ikestate_seen *s = ikestate_hooks_messages(pinfo->num);
		if (s)
			track(pinfo, s, &fed);
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
	/* ISAKMP too: ESP decrypted with Wireshark's keys can carry IKE inside. */
	const iks_result *r;
	guint32 key = 0;
	while ((r = first ? fed_at(&fed, key) : iks_fsm_result(cap.fsm, iks_frames_get(cap.labels, pinfo->num, key)))) {
		ikestate_render(tvb, pinfo, tree, cap.fsm, r);
		tap_queue_packet(ikestate_tap, pinfo, r);
		key++;
	}
	pinfo->current_proto = caller;
	return key ? (int)tvb_captured_length(tvb) : done;
}

/* The tunnel of a dissected packet (its first message, or its ESP SA), 0 for none. */
static guint32 tunnel_of(packet_info *pinfo)
{
	if (!cap.fsm)
		return 0;
	const iks_result *r = iks_fsm_result(cap.fsm, iks_frames_get(cap.labels, pinfo->num, 0));
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
	prefs_register_uint_preference(prefs, "exchange_expiry", "Seconds after which a quiet exchange is forgotten",
				       "An exchange (phase 1, a quick mode, an Informational, an IKEv2 request and "
				       "its answer) without a message for this long gives its memory back, so that "
				       "a long capture needs memory for its live exchanges only; its packets keep "
				       "their labels. A message for it later starts it afresh: not a resend. Keep it "
				       "above the longest gap between resends (AIX: 512 s) (0: never)",
				       10, &pref_exchange_expiry);
	ikestate_render_register_prefs(prefs);

	register_init_routine(ikestate_init);
	register_cleanup_routine(ikestate_cleanup);
	register_postseq_cleanup_routine(sequential_pass_over);
}

void proto_reg_handoff_ikestate(void)
{
	hooked = ikestate_hooks_install(proto_ikestate);
	register_postdissector(ikestate_handle);
	iks_register_conversation_filter("ikestate", "IKE negotiation", ikestate_filter_valid, ikestate_build_filter);
}
