/* packet-ikestate.c — epan glue of the IKE negotiation state post-dissector.
 *
 * Pattern of plugins/epan/transum: ask for the isakmp header fields, advance the state machine
 * (ike_fsm.c) on the first pass only, keep each message's labels as per-packet data and render
 * tree, Info column and expert items from those labels on every pass.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_BUILD_DLL
#include "ws_compat.h"

#include <epan/expert.h>
#include <epan/packet.h>
#include <epan/proto_data.h>

#include "ike_fsm.h"

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

static int ett_ikestate = -1;

static expert_field ei_retransmission = EI_INIT;
static expert_field ei_mid_negotiation = EI_INIT;
static expert_field ei_unexpected = EI_INIT;
static expert_field ei_phase1_completed = EI_INIT;
static expert_field ei_phase2_completed = EI_INIT;

/* Fields of other protocols we read (resolved in handoff). */
static int hf_isakmp_ispi = -1;
static int proto_icmp = -1;
static int proto_icmpv6 = -1;

static iks_fsm *fsm; /* one per open capture file */

static void ikestate_init(void)
{
	if (!proto_is_protocol_enabled(find_protocol_by_id(proto_ikestate)) || hf_isakmp_ispi == -1)
		return;
	fsm = iks_fsm_new();
	GArray *wanted = g_array_new(FALSE, FALSE, (guint)sizeof(int));
	g_array_append_val(wanted, hf_isakmp_ispi);
	if (proto_icmp != -1)
		g_array_append_val(wanted, proto_icmp);
	if (proto_icmpv6 != -1)
		g_array_append_val(wanted, proto_icmpv6);
	set_postdissector_wanted_hfids(ikestate_handle, wanted);
}

static void ikestate_cleanup(void)
{
	set_postdissector_wanted_hfids(ikestate_handle, NULL);
	iks_fsm_free(fsm);
	fsm = NULL;
}

static bool frame_has(proto_tree *tree, int hf)
{
	GPtrArray *a = hf == -1 ? NULL : proto_get_finfo_ptr_array(tree, hf);
	return a && a->len > 0;
}

static void to_iks_addr(const address *a, guint32 port, iks_addr *out)
{
	out->len = (a->type == AT_IPv4 || a->type == AT_IPv6) && a->len <= 16 ? (uint8_t)a->len : 0;
	if (out->len)
		memcpy(out->bytes, a->data, out->len);
	out->port = (uint16_t)port;
}

/* First pass: one result per ISAKMP message of the frame, in order, kept as per-packet data. */
static void ikestate_track(packet_info *pinfo, proto_tree *tree)
{
	GPtrArray *ispis = hf_isakmp_ispi == -1 ? NULL : proto_get_finfo_ptr_array(tree, hf_isakmp_ispi);
	if (!ispis || ispis->len == 0 || !fsm)
		return;
	/* An ICMP error quotes the packet that caused it: never a message of its own. */
	if (frame_has(tree, proto_icmp) || frame_has(tree, proto_icmpv6))
		return;
	guint32 key = 0;
	for (guint i = 0; i < ispis->len; i++) {
		field_info *fi = (field_info *)g_ptr_array_index(ispis, i);
		int avail = tvb_captured_length_remaining(fi->ds_tvb, fi->start);
		iks_msg m;
		memset(&m, 0, sizeof m);
		if (avail <= 0 || !iks_parse(tvb_get_ptr(fi->ds_tvb, fi->start, avail), (size_t)avail, &m))
			continue;
		m.frame = pinfo->num;
		m.ts_ns = (int64_t)pinfo->abs_ts.secs * 1000000000 + pinfo->abs_ts.nsecs;
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

/* Every pass: tree, Info column and expert items from the stored labels. */
static void ikestate_render(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, const iks_result *r)
{
	const char *msg = iks_msg_name(r->msg);
	const char *state = r->qm_state ? iks_qm_state_name(r->qm_state) : iks_state_name(r->state);

	if (msg) {
		if (r->retrans)
			col_append_fstr(pinfo->cinfo, COL_INFO, " [Retransmission %u, %s%s%s]", r->retrans, msg,
					state ? " " : "", state ? state : "");
		else
			col_append_fstr(pinfo->cinfo, COL_INFO, " [%s%s%s]", msg, state ? " " : "", state ? state : "");
	}

	proto_item *ti = proto_tree_add_item(tree, proto_ikestate, tvb, 0, 0, ENC_NA);
	proto_item_set_generated(ti);
	proto_item_append_text(ti, ": tunnel %u%s%s%s%s", r->tunnel, msg ? ", " : "", msg ? msg : "",
			       state ? ", " : "", state ? state : "");
	proto_tree *st = proto_item_add_subtree(ti, ett_ikestate);

	add_uint(st, hf_tunnel, tvb, r->tunnel);
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
		if (r->setup_ns >= 0) {
			proto_item *su = add_time(st, hf_setup_time, tvb, r->setup_ns);
			expert_add_info_format(pinfo, su, &ei_phase1_completed, "Phase 1 completed (%s) in %.3f s",
					       iks_state_name(r->state), (double)r->setup_ns / 1e9);
		} else {
			expert_add_info_format(pinfo, ti, &ei_phase1_completed, "Phase 1 completed (%s)",
					       iks_state_name(r->state));
		}
	}
	if (r->flags & IKS_R_PHASE2_DONE)
		expert_add_info(pinfo, ti, &ei_phase2_completed);
}

static int dissect_ikestate(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data _U_)
{
	if (!PINFO_FD_VISITED(pinfo))
		ikestate_track(pinfo, tree);
	const iks_result *r;
	guint32 key = 0;
	while ((r = (const iks_result *)p_get_proto_data(wmem_file_scope(), pinfo, proto_ikestate, key++)))
		ikestate_render(tvb, pinfo, tree, r);
	return key > 1 ? tvb_captured_length(tvb) : 0;
}

void proto_register_ikestate(void);
void proto_reg_handoff_ikestate(void);

void proto_register_ikestate(void)
{
	static hf_register_info hf[] = {
		{ &hf_tunnel, { "Tunnel", "ikestate.tunnel", FT_UINT32, BASE_DEC, NULL, 0x0,
			"Index of the IKE SA (cookie pair) in order of first appearance", HFILL } },
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
	};

	proto_ikestate = proto_register_protocol("IKE negotiation state", "IKE state", "ikestate");
	proto_register_field_array(proto_ikestate, hf, array_length(hf));
	proto_register_subtree_array(ett, array_length(ett));
	expert_register_field_array(expert_register_protocol(proto_ikestate), ei, array_length(ei));
	ikestate_handle = register_dissector("ikestate", dissect_ikestate, proto_ikestate);
	register_init_routine(ikestate_init);
	register_cleanup_routine(ikestate_cleanup);
}

void proto_reg_handoff_ikestate(void)
{
	hf_isakmp_ispi = proto_registrar_get_id_byname("isakmp.ispi");
	proto_icmp = proto_get_id_by_filter_name("icmp");
	proto_icmpv6 = proto_get_id_by_filter_name("icmpv6");
	register_postdissector(ikestate_handle);
}

void plugin_register(void)
{
	static proto_plugin plug;
	plug.register_protoinfo = proto_register_ikestate;
	plug.register_handoff = proto_reg_handoff_ikestate;
	proto_register_plugin(&plug);
}
