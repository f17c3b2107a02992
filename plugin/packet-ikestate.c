/* packet-ikestate.c — epan glue of the IKE negotiation state post-dissector.
 *
 * Pattern of plugins/epan/transum: ask for the isakmp header fields, advance the state machine
 * (ike_fsm.c, ike_diag.c) on the first pass only, keep each message's labels as per-packet data
 * and render tree, Info column and expert items from those labels on every pass.
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
#include <epan/proto_data.h>

#include <epan/tap.h>

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
static int hf_stalled = -1;
static int hf_failed = -1;
static int hf_hint = -1;
static int hf_final = -1;

static int ett_ikestate = -1;

static expert_field ei_retransmission = EI_INIT;
static expert_field ei_mid_negotiation = EI_INIT;
static expert_field ei_unexpected = EI_INIT;
static expert_field ei_phase1_completed = EI_INIT;
static expert_field ei_phase2_completed = EI_INIT;
static expert_field ei_stalled = EI_INIT;
static expert_field ei_failed = EI_INIT;
static expert_field ei_reset = EI_INIT;

static guint pref_stall_retransmissions = IKS_DEFAULT_STALL_RETRANSMISSIONS;
static guint pref_stall_timeout = IKS_DEFAULT_STALL_TIMEOUT_S;

/* Fields of other protocols we read (resolved in handoff; name shared by IKEv1 and IKEv2 fields). */
static int hf_isakmp_ispi = -1;
static int hf_icmp_type = -1;
static int hf_icmpv6_type = -1;
static GArray *hf_notify_types; /* every isakmp.notify.msgtype */

static iks_fsm *fsm;       /* one per open capture file */
static bool fsm_finished; /* capture-end verdicts are up to date */
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

static void want(GArray *a, int hf)
{
	if (hf != -1)
		g_array_append_val(a, hf);
}

static void ikestate_init(void)
{
	if (!proto_is_protocol_enabled(find_protocol_by_id(proto_ikestate)) || hf_isakmp_ispi == -1)
		return;
	iks_config cfg = { pref_stall_retransmissions, (int64_t)pref_stall_timeout * 1000000000 };
	fsm = iks_fsm_new(&cfg);
	fsm_finished = false;
	GArray *wanted = g_array_new(FALSE, FALSE, (guint)sizeof(int));
	want(wanted, hf_isakmp_ispi);
	want(wanted, hf_icmp_type);
	want(wanted, hf_icmpv6_type);
	for (guint i = 0; i < hf_notify_types->len; i++)
		want(wanted, g_array_index(hf_notify_types, int, i));
	set_postdissector_wanted_hfids(ikestate_handle, wanted);
}

static void ikestate_cleanup(void)
{
	set_postdissector_wanted_hfids(ikestate_handle, NULL);
	iks_fsm_free(fsm);
	fsm = NULL;
}

static field_info *first_finfo(proto_tree *tree, int hf)
{
	GPtrArray *a = hf == -1 ? NULL : proto_get_finfo_ptr_array(tree, hf);
	return a && a->len > 0 ? (field_info *)g_ptr_array_index(a, 0) : NULL;
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

static uint64_t be64(const guint8 *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Decrypted notifies (Wireshark has the key) are only visible as fields; with one message in the
 * frame they are that message's. */
static void add_decrypted_notifies(proto_tree *tree, iks_msg *m)
{
	for (guint h = 0; h < hf_notify_types->len; h++) {
		GPtrArray *a = proto_get_finfo_ptr_array(tree, g_array_index(hf_notify_types, int, h));
		for (guint i = 0; a && i < a->len && m->n_notify < IKS_MAX_NOTIFY; i++) {
			const guint8 *p = finfo_bytes((field_info *)g_ptr_array_index(a, i), 2);
			uint16_t type = p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
			bool seen = false;
			for (unsigned k = 0; k < m->n_notify; k++)
				seen |= m->notify[k] == type;
			if (p && !seen)
				m->notify[m->n_notify++] = type;
		}
	}
}

/* ICMP destination unreachable quoting an ISAKMP header: evidence for its negotiation. */
static iks_result *track_icmp(packet_info *pinfo, proto_tree *tree, field_info *ispi)
{
	field_info *t4 = first_finfo(tree, hf_icmp_type), *t6 = first_finfo(tree, hf_icmpv6_type);
	const guint8 *type = finfo_bytes(t4 ? t4 : t6, 1);
	const guint8 *cookies = finfo_bytes(ispi, 16);
	if (!type || !cookies || *type != (t4 ? 3 : 1)) /* ICMP type 3 / ICMPv6 type 1 */
		return NULL;
	return iks_fsm_icmp(fsm, ts_of(pinfo), be64(cookies), be64(cookies + 8));
}

/* First pass: one result per ISAKMP message of the frame, in order, kept as per-packet data. */
static void ikestate_track(packet_info *pinfo, proto_tree *tree)
{
	GPtrArray *ispis = hf_isakmp_ispi == -1 ? NULL : proto_get_finfo_ptr_array(tree, hf_isakmp_ispi);
	if (!ispis || ispis->len == 0 || !fsm)
		return;
	fsm_finished = false;
	/* An ICMP error quotes the packet that caused it: never a message of its own. */
	if (first_finfo(tree, hf_icmp_type) || first_finfo(tree, hf_icmpv6_type)) {
		iks_result *r = track_icmp(pinfo, tree, (field_info *)g_ptr_array_index(ispis, 0));
		if (r)
			p_add_proto_data(wmem_file_scope(), pinfo, proto_ikestate, 0, r);
		return;
	}
	guint32 key = 0;
	for (guint i = 0; i < ispis->len; i++) {
		field_info *fi = (field_info *)g_ptr_array_index(ispis, i);
		int avail = tvb_captured_length_remaining(fi->ds_tvb, fi->start);
		iks_msg m;
		memset(&m, 0, sizeof m);
		if (avail <= 0 || !iks_parse(tvb_get_ptr(fi->ds_tvb, fi->start, avail), (size_t)avail, &m))
			continue;
		if (ispis->len == 1)
			add_decrypted_notifies(tree, &m);
		m.frame = pinfo->num;
		m.ts_ns = ts_of(pinfo);
		to_iks_addr(&pinfo->src, pinfo->srcport, &m.src);
		to_iks_addr(&pinfo->dst, pinfo->destport, &m.dst);
		iks_result *r = iks_fsm_feed(fsm, &m);
		if (r)
			p_add_proto_data(wmem_file_scope(), pinfo, proto_ikestate, key++, r);
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

/* " [Retransmission 2, MM1 MM_WAIT_MSG2, STALLED]"-style Info suffix. */
static void info_suffix(packet_info *pinfo, const iks_result *r, const char *msg, const char *state)
{
	wmem_strbuf_t *b = wmem_strbuf_new(pinfo->pool, " [");
	if (r->retrans)
		wmem_strbuf_append_printf(b, "Retransmission %u, ", r->retrans);
	if (msg)
		wmem_strbuf_append_printf(b, "%s%s%s, ", msg, state ? " " : "", state ? state : "");
	if (r->stalled)
		wmem_strbuf_append_printf(b, "STALLED in %s, ", iks_stalled_name(r->stalled));
	if (r->failed)
		wmem_strbuf_append_printf(b, "FAILED: %s, ", iks_failed_name(r->failed));
	if (wmem_strbuf_get_len(b) == 2)
		return;
	wmem_strbuf_truncate(b, wmem_strbuf_get_len(b) - 2);
	wmem_strbuf_append_c(b, ']');
	col_append_str(pinfo->cinfo, COL_INFO, wmem_strbuf_get_str(b));
}

/* Every pass: tree, Info column and expert items from the stored labels. */
static void ikestate_render(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, const iks_result *r)
{
	const char *msg = iks_msg_name(r->msg);
	const char *state = r->qm_state ? iks_qm_state_name(r->qm_state) : iks_state_name(r->state);
	const char *hint = iks_hint_text(r->hint);
	if (hint && (r->flags & IKS_R_FINAL_SOON))
		hint = wmem_strdup_printf(pinfo->pool, "Capture ends soon after: may still go on. %s", hint);

	info_suffix(pinfo, r, msg, state);

	proto_item *ti = proto_tree_add_item(tree, proto_ikestate, tvb, 0, 0, ENC_NA);
	proto_item_set_generated(ti);
	proto_item_append_text(ti, ": tunnel %u%s%s%s%s", r->tunnel, msg ? ", " : "", msg ? msg : "",
			       state ? ", " : "", state ? state : "");
	proto_tree *st = proto_item_add_subtree(ti, ett_ikestate);

	add_uint(st, hf_tunnel, tvb, r->tunnel);
	add_uint(st, hf_attempt, tvb, r->attempt);
	add_string(st, hf_msg, tvb, msg);
	add_string(st, hf_role, tvb, iks_role_name(r->role));
	add_string(st, hf_state, tvb, iks_state_name(r->state));
	add_string(st, hf_ios_state, tvb, iks_ios_state_name(r->ios_state));
	add_string(st, hf_qm_state, tvb, iks_qm_state_name(r->qm_state));
	proto_item *rt = add_uint(st, hf_retransmission, tvb, r->retrans);
	add_uint(st, hf_retransmission_of, tvb, r->retrans_of);
	add_uint(st, hf_response_to, tvb, r->response_to);
	add_uint(st, hf_response_in, tvb, r->response_in);
	add_time(st, hf_elapsed, tvb, r->elapsed_ns);
	proto_item *stl = add_string(st, hf_stalled, tvb, iks_stalled_name(r->stalled));
	proto_item *fl = add_string(st, hf_failed, tvb, iks_failed_name(r->failed));
	proto_item *hi = add_string(st, hf_hint, tvb, hint);
	if (r->flags & IKS_R_FINAL)
		proto_item_set_generated(proto_tree_add_boolean(st, hf_final, tvb, 0, 0, TRUE));

	if (r->retrans)
		expert_add_info_format(pinfo, rt ? rt : ti, &ei_retransmission,
				       "Retransmission %u of %s (original in frame %u)", r->retrans, msg ? msg : "message",
				       r->retrans_of);
	if (r->flags & IKS_R_MID_NEGOTIATION)
		expert_add_info(pinfo, ti, &ei_mid_negotiation);
	if ((r->flags & IKS_R_UNEXPECTED) && r->msg != IKS_M_UNKNOWN)
		expert_add_info_format(pinfo, ti, &ei_unexpected, "Unexpected %s: out of sequence for this negotiation", msg);
	else if (r->flags & IKS_R_UNEXPECTED)
		expert_add_info_format(pinfo, ti, &ei_unexpected,
				       "Unexpected message: does not fit this negotiation, state not changed");
	if (r->flags & IKS_R_PHASE1_DONE) {
		proto_item *su = r->setup_ns >= 0 ? add_time(st, hf_setup_time, tvb, r->setup_ns) : ti;
		if (r->setup_ns >= 0)
			expert_add_info_format(pinfo, su, &ei_phase1_completed, "Phase 1 completed (%s) in %.3f s",
					       iks_state_name(r->state), (double)r->setup_ns / 1e9);
		else
			expert_add_info_format(pinfo, su, &ei_phase1_completed, "Phase 1 completed (%s)",
					       iks_state_name(r->state));
	}
	if (r->flags & IKS_R_PHASE2_DONE)
		expert_add_info_format(pinfo, ti, &ei_phase2_completed, "Phase 2 (quick mode) completed in %.3f s",
				       (double)r->setup_ns / 1e9);
	if (r->failed)
		expert_add_info_format(pinfo, fl, &ei_failed, "Failed (%s): %s", iks_failed_name(r->failed),
				       hint ? hint : "");
	if (r->stalled)
		expert_add_info_format(pinfo, stl, &ei_stalled, "Stalled in %s%s: %s", iks_stalled_name(r->stalled),
				       (r->flags & IKS_R_FINAL) ? " (at capture end)" : "", hint ? hint : "");
	else if (hint && !r->failed)
		expert_add_info_format(pinfo, hi, &ei_reset, "%s", hint);
}

static int dissect_ikestate(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data _U_)
{
	if (!PINFO_FD_VISITED(pinfo))
		ikestate_track(pinfo, tree);
	else
		ikestate_finished_fsm(); /* the first pass is over (or paused, in a live capture) */
	const iks_result *r;
	guint32 key = 0;
	while ((r = (const iks_result *)p_get_proto_data(wmem_file_scope(), pinfo, proto_ikestate, key++))) {
		ikestate_render(tvb, pinfo, tree, r);
		tap_queue_packet(ikestate_tap, pinfo, r);
	}
	return key > 1 ? tvb_captured_length(tvb) : 0;
}

/* Right-click › Conversation Filter › IKE negotiation: the whole negotiation of this packet. */
static iks_conv_bool ikestate_filter_valid(IKS_CONV_FILTER_ARGS)
{
	return p_get_proto_data(wmem_file_scope(), pinfo, proto_ikestate, 0) != NULL;
}

static char *ikestate_build_filter(IKS_CONV_FILTER_ARGS)
{
	const iks_result *r = p_get_proto_data(wmem_file_scope(), pinfo, proto_ikestate, 0);
	return r ? g_strdup_printf("ikestate.tunnel == %u", r->tunnel) : NULL;
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
		{ &hf_msg, { "Message", "ikestate.msg", FT_STRING, BASE_NONE, NULL, 0x0,
			"Position in the exchange: MM1-MM6, AM1-AM3, QM1-QM4, INFO, TXN, ? when not inferable", HFILL } },
		{ &hf_role, { "Sender role", "ikestate.role", FT_STRING, BASE_NONE, NULL, 0x0,
			"Sender's role in the phase-1 SA: initiator or responder", HFILL } },
		{ &hf_state, { "ASA state", "ikestate.state", FT_STRING, BASE_NONE, NULL, 0x0,
			"Cisco ASA phase-1 state of the sender right after sending this message", HFILL } },
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
			"Last packet of a negotiation that never completed (needs two passes: GUI, tshark -2)", HFILL } },
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
			"Phase 1 completed", EXPFILL } },
		{ &ei_phase2_completed, { "ikestate.analysis.phase2_completed", PI_SEQUENCE, PI_CHAT,
			"Phase 2 (quick mode) completed", EXPFILL } },
		{ &ei_stalled, { "ikestate.analysis.stalled", PI_SEQUENCE, PI_WARN,
			"Negotiation stalled", EXPFILL } },
		{ &ei_failed, { "ikestate.analysis.failed", PI_RESPONSE_CODE, PI_WARN,
			"The negotiation failed: refused by the peer, ICMP error or dead peer", EXPFILL } },
		{ &ei_reset, { "ikestate.analysis.reset_after_phase2", PI_SEQUENCE, PI_NOTE,
			"Phase 1 restarted after a phase-2 failure", EXPFILL } },
	};

	proto_ikestate = proto_register_protocol("IKE negotiation state", "IKE state", "ikestate");
	proto_register_field_array(proto_ikestate, hf, array_length(hf));
	proto_register_subtree_array(ett, array_length(ett));
	expert_register_field_array(expert_register_protocol(proto_ikestate), ei, array_length(ei));
	ikestate_handle = register_dissector("ikestate", dissect_ikestate, proto_ikestate);
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
	hf_isakmp_ispi = proto_registrar_get_id_byname("isakmp.ispi");
	hf_icmp_type = proto_registrar_get_id_byname("icmp.type");
	hf_icmpv6_type = proto_registrar_get_id_byname("icmpv6.type");
	/* isakmp.notify.msgtype is registered twice (IKEv1 and IKEv2 value strings). */
	hf_notify_types = g_array_new(FALSE, FALSE, (guint)sizeof(int));
	for (int id = proto_registrar_get_id_byname("isakmp.notify.msgtype"); id != -1;
	     id = proto_registrar_get_nth(id)->same_name_prev_id)
		g_array_append_val(hf_notify_types, id);
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
