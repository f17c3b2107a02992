/* ikestate-render.c — every pass: the subtree, the Info suffix and the expert items of one message
 * or ESP packet, from the labels stored on the first pass. One finding (an IKS_R_* flag or a
 * verdict field) is one field and one expert item, each added by its own small printer.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ws_compat.h"

#include <epan/column-info.h>
#include <epan/expert.h>
#include <epan/packet.h>
#include <epan/tap.h>

#include "ikestate-addr.h"
#include "ikestate-hooks.h"
#include "ikestate-render.h"

static int proto_ikestate = -1;
static int hf_tunnel = -1;
static int hf_msg = -1;
static int hf_role = -1;
static int hf_state = -1;
static int hf_ios_state = -1;
static int hf_libreswan_state = -1;
static int hf_strongswan_state = -1;
static int hf_qm_state = -1;
static int hf_retransmission = -1;
static int hf_retransmission_of = -1;
static int hf_response_to = -1;
static int hf_response_in = -1;
static int hf_elapsed = -1;
static int hf_setup_time = -1;
static int hf_qm_time = -1;
static int hf_unanswered_for = -1;
static int hf_attempt = -1;
static int hf_rekey_of = -1;
static int hf_stalled = -1;
static int hf_failed = -1;
static int hf_hint = -1;
static int hf_final = -1;
static int hf_esp_one_way = -1;
static int hf_deleted = -1;
static int hf_esp_negotiated_in = -1;
static int hf_capture_point = -1;
static int hf_copy_of = -1;
static int hf_transit = -1;
static int hf_duplicate_of = -1;
static int hf_missing_at = -1;
static int hf_offer = -1;
static int hf_chosen = -1;
static int hf_ts_initiator = -1;
static int hf_ts_responder = -1;
static int hf_peer_impl = -1;
static int hf_mismatch = -1;
static int hf_captured_at = -1;
static int hf_pattern = -1;
static int hf_auth_round = -1;
static int hf_txn_round = -1;
static int hf_eap = -1;
static int hf_cfg = -1;

static int ett_ikestate = -1;
static int ett_ikestate_verdict = -1;

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
static expert_field ei_reflection = EI_INIT;
static expert_field ei_probe = EI_INIT;
static expert_field ei_deleted_inferred = EI_INIT;
static expert_field ei_copy = EI_INIT;
static expert_field ei_duplicate = EI_INIT;
static expert_field ei_missing = EI_INIT;

static int expert_tap_id = -1; /* Wireshark's "expert" tap (its listeners read expert texts) */

/* Fields, subtree and expert items: registered by ikestate_render_register. */
static hf_register_info fields[] = {
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
	{ &hf_libreswan_state, { "libreswan state", "ikestate.libreswan_state", FT_STRING, BASE_NONE, NULL, 0x0,
		"The sender's state in libreswan's (pluto's) words after sending this message: STATE_MAIN_I1 "
		"... STATE_QUICK_I2, STATE_V2_IKE_SA_INIT_I ... STATE_V2_ESTABLISHED_IKE_SA", HFILL } },
	{ &hf_strongswan_state, { "strongSwan IKE_SA state", "ikestate.strongswan_state", FT_STRING, BASE_NONE, NULL, 0x0,
		"The IKE SA's state as strongSwan's swanctl --list-sas shows it: CONNECTING, ESTABLISHED, DELETING", HFILL } },
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
	{ &hf_qm_time, { "Quick mode / child SA time", "ikestate.qm_time", FT_RELATIVE_TIME, BASE_NONE, NULL, 0x0,
		"On the message that completes a quick mode (QM3) or creates an IKEv2 child SA: time since its "
		"request", HFILL } },
	{ &hf_unanswered_for, { "Unanswered for", "ikestate.unanswered_for", FT_RELATIVE_TIME, BASE_NONE, NULL,
		0x0, "Failed PEER_DEAD: time since the first Informational left unanswered", HFILL } },
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
	{ &hf_capture_point, { "Capture point", "ikestate.capture_point", FT_UINT32, BASE_DEC, NULL, 0x0,
		"Captures merged from several points (pcapng interfaces): the interface this message was seen on",
		HFILL } },
	{ &hf_copy_of, { "Copy of", "ikestate.copy_of", FT_FRAMENUM, BASE_NONE, NULL, 0x0,
		"The same transmission seen earlier at another capture point: its first sighting (labels are "
		"that transmission's)", HFILL } },
	{ &hf_transit, { "Transit", "ikestate.transit", FT_RELATIVE_TIME, BASE_NONE, NULL, 0x0,
		"Time since the transmission's first sighting at another capture point (includes the offset "
		"between the points' clocks)", HFILL } },
	{ &hf_duplicate_of, { "Capture duplicate of", "ikestate.duplicate_of", FT_FRAMENUM, BASE_NONE, NULL, 0x0,
		"The same bytes at the same capture point within 1 ms: one packet captured twice, not a "
		"retransmission", HFILL } },
	{ &hf_missing_at, { "Missing at capture point", "ikestate.missing_at", FT_UINT32, BASE_DEC, NULL, 0x0,
		"A capture point that saw earlier messages of this IKE SA but never this one: lost between the "
		"points (needs two passes: GUI, tshark -2)", HFILL } },
	{ &hf_offer, { "Offer", "ikestate.offer", FT_STRING, BASE_NONE, NULL, 0x0,
		"One proposal the initiator offers in the clear (MM1, AM1, IKE_SA_INIT request): encryption/hash/"
		"group/authentication and lifetime (IKEv1), encryption/integrity/PRF/group (IKEv2); with keys also "
		"a child SA's (quick mode: ESP encryption/integrity/PFS group/mode and lifetime; IKE_AUTH, "
		"CREATE_CHILD_SA request)", HFILL } },
	{ &hf_chosen, { "Chosen", "ikestate.chosen", FT_STRING, BASE_NONE, NULL, 0x0,
		"The proposal the responder chose (MM2, AM2, IKE_SA_INIT response; with keys QM2, IKE_AUTH and "
		"CREATE_CHILD_SA response)", HFILL } },
	{ &hf_ts_initiator, { "Initiator's selector", "ikestate.ts.initiator", FT_STRING, BASE_NONE, NULL, 0x0,
		"With keys: a traffic selector / proxy ID of the exchange initiator's side (IKEv2 TSi, IKEv1 quick "
		"mode IDci)", HFILL } },
	{ &hf_ts_responder, { "Responder's selector", "ikestate.ts.responder", FT_STRING, BASE_NONE, NULL, 0x0,
		"With keys: a traffic selector / proxy ID of the exchange responder's side (IKEv2 TSr, IKEv1 quick "
		"mode IDcr)", HFILL } },
	{ &hf_mismatch, { "Mismatch", "ikestate.mismatch", FT_STRING, BASE_NONE, NULL, 0x0,
		"What the refused side was offered (phase-1 NO_PROPOSAL_CHOSEN: the initiator's proposals; with keys "
		"a child SA's proposals or selectors) and what differs from what the refusing side accepted or asked "
		"for itself earlier in the capture, or the DH group an IKEv2 INVALID_KE_PAYLOAD asks for against the "
		"KE sent", HFILL } },
	{ &hf_peer_impl, { "Sender implementation", "ikestate.peer_impl", FT_STRING, BASE_NONE, NULL, 0x0,
		"The sender's IKE implementation, from this message's clear Vendor ID payloads (capability VIDs "
		"such as DPD or NAT-T name none; an unknown VID shows as its first bytes)", HFILL } },
	{ &hf_pattern, { "Pattern", "ikestate.pattern", FT_STRING, BASE_NONE, NULL, 0x0,
		"Not a negotiation of its own: reflection (answers from many responders to one initiator cookie "
		"whose requests are not in the capture: spoofed requests), probe (an initiator that never goes past "
		"the first exchange, again and again, no Vendor IDs: a scanner) or scan (the same to several "
		"responders)", HFILL } },
	{ &hf_captured_at, { "Captured at", "ikestate.captured_at", FT_STRING, BASE_NONE, NULL, 0x0,
		"Where this IKE SA's capture was taken: initiator or responder (its messages keep an initial IP TTL "
		"of 64, 128 or 255, the other side's arrive decremented), path (both decremented), unknown (a side "
		"not heard, a TTL that changes, or no router between them); the TTLs are shown", HFILL } },
	{ &hf_auth_round, { "IKE_AUTH round", "ikestate.auth_round", FT_UINT32, BASE_DEC, NULL, 0x0,
		"IKEv2: the n-th IKE_AUTH exchange of this IKE SA (EAP takes several; the SA is READY only after "
		"the last)", HFILL } },
	{ &hf_txn_round, { "Transaction round", "ikestate.txn_round", FT_UINT32, BASE_DEC, NULL, 0x0,
		"IKEv1: the n-th transaction exchange (XAUTH, mode-config) of this IKE SA", HFILL } },
	{ &hf_eap, { "EAP", "ikestate.eap", FT_STRING, BASE_NONE, NULL, 0x0,
		"Keys loaded: the EAP message inside this IKE_AUTH message (code and method)", HFILL } },
	{ &hf_cfg, { "Configuration", "ikestate.cfg", FT_STRING, BASE_NONE, NULL, 0x0,
		"Keys loaded: the configuration payload (XAUTH or mode-config attributes, IKEv2 CP): its type, "
		"the XAUTH status, whether an internal address was asked for or assigned", HFILL } },
};
static int *ett[] = { &ett_ikestate, &ett_ikestate_verdict };
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
	{ &ei_copy, { "ikestate.analysis.copy", PI_SEQUENCE, PI_CHAT,
		"The same transmission seen earlier at another capture point", EXPFILL } },
	{ &ei_duplicate, { "ikestate.analysis.duplicate", PI_SEQUENCE, PI_NOTE,
		"Capture duplicate: the same packet captured twice at one point, not a retransmission", EXPFILL } },
	{ &ei_reflection, { "ikestate.analysis.reflection", PI_SECURITY, PI_WARN,
		"Reflection: one initiator cookie answered by many responders, its requests not in the capture", EXPFILL } },
	{ &ei_probe, { "ikestate.analysis.probe", PI_SECURITY, PI_NOTE,
		"Probe or scan: an initiator that never goes past the first exchange, again and again", EXPFILL } },
	{ &ei_missing, { "ikestate.analysis.lost_between_points", PI_SEQUENCE, PI_WARN,
		"Seen at one capture point, never at another: lost between the capture points", EXPFILL } },
};


void ikestate_render_register(int proto)
{
	proto_ikestate = proto;
	proto_register_field_array(proto, fields, array_length(fields));
	proto_register_subtree_array(ett, array_length(ett));
	expert_register_field_array(expert_register_protocol(proto), ei, array_length(ei));
}

void ikestate_render_init(void)
{
	expert_tap_id = find_tap_id("expert");
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

static void info_putn(info_buf *b, const char *t, size_t l)
{
	if (l > sizeof b->s - 1 - b->n)
		l = sizeof b->s - 1 - b->n;
	memcpy(b->s + b->n, t, l);
	b->n += l;
}

static void info_put(info_buf *b, const char *t)
{
	info_putn(b, t, strlen(t));
}

/* A literal: its length known when compiled. */
#define INFO_LIT(b, lit) info_putn(b, lit, sizeof lit - 1)

/* Appends s (n bytes, our own ASCII) to Info. Every append function copies byte by byte (glib's
 * g_strlcpy; 4.2 and later also escape each byte), a third of rendering (callgrind): when Info is
 * one unfenced column, the whole new text is built here with memcpy and handed over by pointer
 * (col_set_str), as a dissector hands over a constant; it lives as long as the packet. A fence
 * (text a tunnel's dissector froze) or a second Info column takes the append. */
static void info_append(packet_info *pinfo, const char *s, size_t n)
{
	column_info *ci = pinfo->cinfo;
	int i = ci ? ci->col_first[COL_INFO] : -1; /* both calls below check that Info is writable */
	if (i < 0)
		return;
	if (i == ci->col_last[COL_INFO] && ci->columns[i].col_fence == 0) {
		const char *cur = ci->columns[i].col_data;
		size_t l = strlen(cur);
		if (l + n < COL_MAX_INFO_LEN) {
			char *t = (char *)wmem_alloc(pinfo->pool, l + n + 1);
			memcpy(t, cur, l);
			memcpy(t + l, s, n + 1);
			col_set_str(ci, COL_INFO, t);
			return;
		}
	}
	col_append_lstr(ci, COL_INFO, s, COL_ADD_LSTR_TERMINATOR);
}

/* " [Copy, Retransmission 2, MM1 MM_WAIT_MSG2, STALLED in MM_WAIT_MSG2]"-style Info suffix. */
static void info_suffix(packet_info *pinfo, const iks_result *r, const char *msg, const char *state, const char *detail)
{
	info_buf b = { " [", 2 };
	/* Another sighting of a transmission is no packet of its own: say so before its labels. */
	if (r->flags & IKS_R_COPY)
		INFO_LIT(&b, "Copy, ");
	else if (r->flags & IKS_R_DUPLICATE)
		INFO_LIT(&b, "Capture duplicate, ");
	if (r->retrans) {
		char num[8];
		size_t k = sizeof num;
		num[--k] = '\0';
		for (unsigned v = r->retrans; v && k; v /= 10)
			num[--k] = (char)('0' + v % 10);
		INFO_LIT(&b, "Retransmission ");
		info_put(&b, num + k);
		INFO_LIT(&b, ", ");
	}
	if (msg) {
		info_put(&b, msg);
		if (state) {
			INFO_LIT(&b, " ");
			info_put(&b, state);
		}
		INFO_LIT(&b, ", ");
	}
	if (detail) { /* keys loaded: what the EAP or configuration payload says */
		info_put(&b, detail);
		INFO_LIT(&b, ", ");
	}
	if (r->stalled) {
		INFO_LIT(&b, "STALLED in ");
		info_put(&b, iks_stalled_name(r->stalled));
		INFO_LIT(&b, ", ");
	}
	if (r->failed) {
		INFO_LIT(&b, "FAILED: ");
		info_put(&b, iks_failed_name(r->failed));
		INFO_LIT(&b, ", ");
	}
	if (b.n == 2)
		return;
	b.s[b.n - 2] = ']';
	b.s[b.n - 1] = '\0';
	info_append(pinfo, b.s, b.n - 1);
}

/* The severity an item has now: a user's override (the expert_severity table) is written into the
 * registered entry. */
static int severity_of(const expert_field *f)
{
	for (size_t i = 0; i < array_length(ei); i++)
		if (ei[i].ids == f)
			return ei[i].eiinfo.severity;
	return PI_ERROR;
}

/* Without a tree and without an expert tap an item's only readers are the Expert column and the
 * capture's highest severity (the status bar): add it only when one of them would change, with its
 * registered summary. An item cost about 1,100 instructions this way too, on a third of all IKE
 * messages (callgrind). */
static void expert_mark(packet_info *pinfo, proto_item *pi, expert_field *f)
{
	if ((pinfo->cinfo && pinfo->cinfo->col_first[COL_EXPERT] >= 0) || severity_of(f) > expert_get_highest_severity())
		expert_add_info(pinfo, pi, f);
}

/* Without a tree and an expert tap nobody reads an item's text: the formatting is skipped too. */
#define IKS_EXPERT(text, pinfo, pi, ei, ...) \
	((text) ? expert_add_info_format(pinfo, pi, ei, __VA_ARGS__) : expert_mark(pinfo, pi, ei))

static bool expert_text_wanted(const proto_tree *tree)
{
	return tree || (expert_tap_id >= 0 && have_tap_listener(expert_tap_id));
}

/* What the printers of one message share. */
typedef struct {
	tvbuff_t *tvb;
	packet_info *pinfo;
	const iks_result *r;
	proto_tree *st;   /* the subtree; NULL without a tree */
	proto_item *ti;   /* its item */
	const char *msg;
	const char *hint;
	int clause;       /* length of the hint's first clause: what the expert items say */
	bool text;        /* expert texts are read */
} render_ctx;

/* The subtree's label fields; returns the subtree. */
static proto_tree *label_fields(render_ctx *c, proto_tree *tree, const iks_fsm *fsm, const char *state)
{
	const iks_result *r = c->r;
	tvbuff_t *tvb = c->tvb;
	c->ti = proto_tree_add_item(tree, proto_ikestate, tvb, 0, 0, ENC_NA);
	proto_item_set_generated(c->ti);
	proto_item_append_text(c->ti, ": tunnel %u%s%s%s%s", r->tunnel, c->msg ? ", " : "", c->msg ? c->msg : "",
			       state ? ", " : "", state ? state : "");
	if (r->stalled)
		proto_item_append_text(c->ti, ", STALLED in %s", iks_stalled_name(r->stalled));
	if (r->failed)
		proto_item_append_text(c->ti, ", FAILED: %s", iks_failed_name(r->failed));
	proto_tree *st = proto_item_add_subtree(c->ti, ett_ikestate);
	add_uint(st, hf_tunnel, tvb, r->tunnel);
	add_uint(st, hf_attempt, tvb, r->attempt);
	add_uint(st, hf_rekey_of, tvb, iks_fsm_rekey_of(fsm, r->tunnel));
	add_string(st, hf_msg, tvb, c->msg);
	add_string(st, hf_role, tvb, iks_role_name(r->role));
	add_string(st, hf_state, tvb, iks_state_name(r->state));
	add_string(st, hf_ios_state, tvb, iks_ios_state_name(r->ios_state));
	add_string(st, hf_libreswan_state, tvb, iks_libreswan_name(r->msg, r->state, r->failed != 0));
	add_string(st, hf_strongswan_state, tvb, iks_strongswan_name(r->state));
	add_string(st, hf_qm_state, tvb, iks_qm_state_name(iks_qm_state_of(r)));
	uint64_t points = iks_fsm_points(fsm);
	if (points & (points - 1)) { /* two points or more */
		unsigned point = ikestate_capture_point(c->pinfo);
		proto_item_set_generated(proto_tree_add_uint_format_value(st, hf_capture_point, tvb, 0, 0, point, "%s",
						ikestate_point_str(c->pinfo->pool, c->pinfo, point)));
	}
	return st;
}

/* A field of the subtree (when there is one) for an expert item to sit on; else the top item. */
static proto_item *field_or_top(const render_ctx *c, proto_item *pi)
{
	return pi ? pi : c->ti;
}

static void print_retransmission(const render_ctx *c)
{
	const iks_result *r = c->r;
	proto_item *pi = NULL;
	if (c->st) {
		pi = add_uint(c->st, hf_retransmission, c->tvb, r->retrans);
		add_uint(c->st, hf_retransmission_of, c->tvb, r->retrans_of);
	}
	if (r->retrans)
		IKS_EXPERT(c->text, c->pinfo, field_or_top(c, pi), &ei_retransmission,
			   "Retransmission %u of %s (original in frame %u)", r->retrans, c->msg ? c->msg : "message",
			   r->retrans_of);
}

static void print_copy(const render_ctx *c)
{
	const iks_result *r = c->r;
	if (!(r->flags & IKS_R_COPY))
		return;
	proto_item *pi = c->st ? add_uint(c->st, hf_copy_of, c->tvb, r->copy_of) : NULL;
	if (c->st)
		add_time(c->st, hf_transit, c->tvb, r->span.transit_ns);
	IKS_EXPERT(c->text, c->pinfo, field_or_top(c, pi), &ei_copy,
		   "%s seen earlier at another capture point (frame %u, %.6f s before): the same transmission",
		   c->msg ? c->msg : "Message", r->copy_of, (double)r->span.transit_ns / 1e9);
}

static void print_duplicate(const render_ctx *c)
{
	const iks_result *r = c->r;
	if (!(r->flags & IKS_R_DUPLICATE))
		return;
	proto_item *pi = c->st ? add_uint(c->st, hf_duplicate_of, c->tvb, r->copy_of) : NULL;
	IKS_EXPERT(c->text, c->pinfo, field_or_top(c, pi), &ei_duplicate,
		   "Capture duplicate of frame %u: the same packet captured twice, not a retransmission", r->copy_of);
}

/* "0 (inside), 2": the points of a mask (bit n: point n). */
static const char *points_str(const render_ctx *c, unsigned mask)
{
	wmem_strbuf_t *b = wmem_strbuf_new(c->pinfo->pool, "");
	for (unsigned p = 0; p < 8; p++)
		if (mask & (1u << p))
			wmem_strbuf_append_printf(b, "%s%s", wmem_strbuf_get_len(b) ? ", " : "",
						  ikestate_point_str(c->pinfo->pool, c->pinfo, p));
	return wmem_strbuf_get_str(b);
}

static void print_missing(const render_ctx *c, const iks_fsm *fsm)
{
	unsigned missing = iks_fsm_missing_at(fsm, c->r);
	if (!missing)
		return;
	proto_item *first = NULL;
	for (unsigned p = 0; c->st && p < 8; p++) {
		if (!(missing & (1u << p)))
			continue;
		proto_item *pi = proto_tree_add_uint_format_value(c->st, hf_missing_at, c->tvb, 0, 0, p, "%s",
								  ikestate_point_str(c->pinfo->pool, c->pinfo, p));
		proto_item_set_generated(pi);
		if (!first)
			first = pi;
	}
	IKS_EXPERT(c->text, c->pinfo, field_or_top(c, first), &ei_missing,
		   "%s seen at %s, never at %s: lost between the capture points", c->msg ? c->msg : "Message",
		   points_str(c, c->r->seen), points_str(c, missing));
}

/* ikestate.pattern on every packet of a reflection, probe or scan group; its first packet carries
 * the group's one expert item. */
static void print_pattern(const render_ctx *c, const iks_fsm *fsm)
{
	if (!c->st && !(c->r->flags & IKS_R_PATTERN))
		return; /* without a tree only the group's first packet shows it (its expert item) */
	uint8_t pattern = iks_fsm_pattern(fsm, c->r->tunnel);
	if (!pattern)
		return;
	proto_item *pi = c->st ? add_string(c->st, hf_pattern, c->tvb, iks_pattern_name(pattern)) : NULL;
	iks_tunnel_summary s;
	if (!(c->r->flags & IKS_R_PATTERN) || !iks_fsm_summary(fsm, c->r->tunnel, &s))
		return;
	char buf[240];
	const char *text = iks_pattern_text(buf, sizeof buf, &s, ikestate_addr_str(c->pinfo->pool, &s.initiator, false));
	IKS_EXPERT(c->text, c->pinfo, field_or_top(c, pi), pattern == IKS_P_REFLECTION ? &ei_reflection : &ei_probe,
		   "%s: %s", pattern == IKS_P_REFLECTION ? "Reflection" : pattern == IKS_P_SCAN ? "Scan" : "Probe", text);
}

static void proposal_fields(const render_ctx *c, const iks_offer *o, bool answer)
{
	for (unsigned i = 0; o && i < o->n; i++) {
		char s[240];
		add_string(c->st, answer ? hf_chosen : hf_offer, c->tvb, iks_proposal_str(o->version, &o->p[i], s, sizeof s));
	}
}

/* ikestate.offer: one item per alternative offered; ikestate.chosen on the answer; with keys the
 * child SA's and its selectors; the sender's implementation. */
static void offer_fields(const render_ctx *c, const iks_fsm *fsm)
{
	uint8_t msg = c->r->msg;
	proposal_fields(c, iks_fsm_offer(fsm, c->r), msg == IKS_M_MM2 || msg == IKS_M_AM2 || msg == IKS_M_SA_INIT_RESP);
	const iks_child *ch = iks_fsm_child(fsm, c->r);
	if (ch) {
		proposal_fields(c, &ch->offer, msg == IKS_M_QM2 || msg == IKS_M_AUTH_RESP || msg == IKS_M_CHILD_RESP);
		for (unsigned side = 0; side < 2; side++)
			for (unsigned i = 0; i < ch->n_ts[side]; i++) {
				char s[120];
				add_string(c->st, side ? hf_ts_responder : hf_ts_initiator, c->tvb,
					   iks_ts_str(&ch->ts[side][i], s, sizeof s));
			}
	}
	const iks_impl *impl = iks_fsm_impl(fsm, c->r);
	char buf[64];
	if (impl)
		add_string(c->st, hf_peer_impl, c->tvb, iks_impl_str(impl, buf, sizeof buf));
}

/* "initiator TTL 64 (adjacent), responder TTL 63 (1 hop)": the evidence of ikestate.captured_at. */
static void captured_at_field(const render_ctx *c, const iks_fsm *fsm)
{
	iks_captured_at at;
	if (!iks_fsm_captured_at(fsm, c->r->tunnel, &at) || (!at.ttl[0] && !at.ttl[1]))
		return;
	static const char *const role[] = { "initiator", "responder" };
	char ev[2][48];
	for (unsigned i = 0; i < 2; i++) {
		if (!at.ttl[i])
			snprintf(ev[i], sizeof ev[i], "%s not heard", role[i]);
		else if (at.varies[i])
			snprintf(ev[i], sizeof ev[i], "%s TTL %u, changing", role[i], at.ttl[i]);
		else if (at.hops[i] == 0)
			snprintf(ev[i], sizeof ev[i], "%s TTL %u (adjacent)", role[i], at.ttl[i]);
		else
			snprintf(ev[i], sizeof ev[i], "%s TTL %u (%u hop%s)", role[i], at.ttl[i], at.hops[i], at.hops[i] == 1 ? "" : "s");
	}
	const char *name = iks_at_name(at.at);
	proto_item_set_generated(proto_tree_add_string_format_value(c->st, hf_captured_at, c->tvb, 0, 0, name, "%s: %s, %s",
								     name, ev[0], ev[1]));
}

/* The IKE version a message's position belongs to. */
static unsigned version_of(const iks_result *r)
{
	return r->msg >= IKS_M_SA_INIT_REQ ? 2 : 1;
}

/* The round of an IKE_AUTH / transaction message; with keys, its EAP and configuration payloads. */
static void ra_fields(const render_ctx *c, const iks_ra *ra)
{
	const iks_result *r = c->r;
	if (iks_has_round(r) && r->round)
		add_uint(c->st, version_of(r) == 2 ? hf_auth_round : hf_txn_round, c->tvb, r->round);
	char buf[64];
	add_string(c->st, hf_eap, c->tvb, iks_eap_str(ra, buf, sizeof buf));
	add_string(c->st, hf_cfg, c->tvb, iks_cfg_str(version_of(r), ra, buf, sizeof buf));
}

static void print_sequence(const render_ctx *c)
{
	const iks_result *r = c->r;
	if (r->flags & IKS_R_MID_NEGOTIATION)
		expert_add_info(c->pinfo, c->ti, &ei_mid_negotiation);
	if ((r->flags & IKS_R_UNEXPECTED) && r->msg != IKS_M_UNKNOWN)
		IKS_EXPERT(c->text, c->pinfo, c->ti, &ei_unexpected, "Unexpected %s: out of sequence for this negotiation",
			   c->msg);
	else if (r->flags & IKS_R_UNEXPECTED)
		IKS_EXPERT(c->text, c->pinfo, c->ti, &ei_unexpected,
			   "Unexpected message: does not fit this negotiation, state not changed");
}

static void print_completed(const render_ctx *c)
{
	const iks_result *r = c->r;
	bool v2 = r->msg >= IKS_M_SA_INIT_REQ;
	if (r->flags & IKS_R_PHASE1_DONE) {
		proto_item *su = r->span.setup_ns >= 0 && c->st ? add_time(c->st, hf_setup_time, c->tvb, r->span.setup_ns)
								 : c->ti;
		const char *done = v2 ? "IKE SA established" : "Phase 1 completed";
		if (r->span.setup_ns >= 0)
			IKS_EXPERT(c->text, c->pinfo, su, &ei_phase1_completed, "%s (%s) in %.3f s", done,
				   iks_state_name(r->state), (double)r->span.setup_ns / 1e9);
		else
			IKS_EXPERT(c->text, c->pinfo, su, &ei_phase1_completed, "%s (%s)", done, iks_state_name(r->state));
	}
	if (r->flags & IKS_R_PHASE2_DONE) {
		proto_item *qt = c->st ? add_time(c->st, hf_qm_time, c->tvb, r->span.child_ns) : NULL;
		IKS_EXPERT(c->text, c->pinfo, field_or_top(c, qt), &ei_phase2_completed, "%s in %.3f s",
			   v2 ? "Child SA created" : "Phase 2 (quick mode) completed", (double)r->span.child_ns / 1e9);
	}
}

/* The verdict fields: Stalled in, Failed (with the dead peer's silence); the items for the experts. */
static void verdict_fields(const render_ctx *c, proto_item **stl, proto_item **fl)
{
	const iks_result *r = c->r;
	*stl = add_string(c->st, hf_stalled, c->tvb, iks_stalled_name(r->stalled));
	/* "State" is the sender's, "Stalled in" the negotiation's: say so where they can differ. */
	if (*stl)
		proto_item_append_text(*stl, " (the negotiation: the sender of its furthest message waits)");
	*fl = add_string(c->st, hf_failed, c->tvb, iks_failed_name(r->failed));
	if (r->failed == IKS_F_PEER_DEAD)
		add_time(c->st, hf_unanswered_for, c->tvb, r->span.unanswered_ns);
}

/* The full hint under the verdict it explains (the expert items carry its first clause). */
static void hint_field(const render_ctx *c, proto_item *stl, proto_item *fl)
{
	proto_item *parent = fl ? fl : stl;
	proto_tree *t = parent ? proto_item_add_subtree(parent, ett_ikestate_verdict) : c->st;
	add_string(t, hf_hint, c->tvb, c->hint);
}

static void mismatch_field(const render_ctx *c, const iks_fsm *fsm, proto_item *fl)
{
	proto_tree *t = fl ? proto_item_add_subtree(fl, ett_ikestate_verdict) : c->st;
	add_string(t, hf_mismatch, c->tvb, iks_fsm_mismatch(fsm, c->r));
}

static void print_failed(const render_ctx *c, proto_item *fl)
{
	const iks_result *r = c->r;
	if (r->failed == IKS_F_PEER_DEAD)
		IKS_EXPERT(c->text, c->pinfo, field_or_top(c, fl), &ei_failed, "Failed (%s): no answer for %.1f s. %.*s",
			   iks_failed_name(r->failed), (double)r->span.unanswered_ns / 1e9, c->clause, c->hint ? c->hint : "");
	else if (r->failed)
		IKS_EXPERT(c->text, c->pinfo, field_or_top(c, fl), &ei_failed, "Failed (%s): %.*s", iks_failed_name(r->failed),
			   c->clause, c->hint ? c->hint : "");
}

static void print_deleted(const render_ctx *c)
{
	if (!(c->r->flags & IKS_R_DELETED))
		return;
	proto_item *de = c->st ? proto_tree_add_boolean(c->st, hf_deleted, c->tvb, 0, 0, TRUE) : NULL;
	proto_item_set_generated(de);
	if (c->r->flags & IKS_R_DELETE_INFERRED)
		IKS_EXPERT(c->text, c->pinfo, field_or_top(c, de), &ei_deleted_inferred, "IKE SA deleted (inferred): %.*s",
			   c->clause, c->hint ? c->hint : "");
	else
		expert_add_info(c->pinfo, field_or_top(c, de), &ei_deleted);
}

static void print_stalled(const render_ctx *c, proto_item *stl)
{
	const iks_result *r = c->r;
	const char *when = !(r->flags & IKS_R_FINAL)	     ? ""
			   : (r->flags & IKS_R_FINAL_SOON) ? " (at capture end, which came soon after: it may still go on)"
							    : " (at capture end)";
	if (r->stalled)
		IKS_EXPERT(c->text, c->pinfo, field_or_top(c, stl), &ei_stalled, "Stalled in %s%s: %.*s",
			   iks_stalled_name(r->stalled), when, c->clause, c->hint ? c->hint : "");
}

static void print_reset(const render_ctx *c)
{
	const iks_result *r = c->r;
	if ((r->flags & IKS_R_RESET_AFTER_P2) && !r->stalled && !r->failed && !(r->flags & IKS_R_DELETED))
		IKS_EXPERT(c->text, c->pinfo, c->ti, &ei_reset, "%.*s", c->clause, c->hint ? c->hint : "");
}

/* Which names the Info column and the tree's top line use. The fields keep theirs whatever is chosen
 * (ikestate.state stays ASA): a preference that changed a field's values would silently break saved
 * display filters, colouring rules and scripts. */
enum { VOCAB_ASA, VOCAB_IOS, VOCAB_LIBRESWAN, VOCAB_STRONGSWAN };
static gint pref_vocabulary = VOCAB_ASA;
static const enum_val_t vocabularies[] = {
	{ "asa", "Cisco ASA (MM_WAIT_MSG2 ... MM_ACTIVE, QM_WAIT_MSG2; IKEv2 IN-NEG, READY)", VOCAB_ASA },
	{ "ios", "Cisco IOS (MM_NO_STATE ... QM_IDLE)", VOCAB_IOS },
	{ "libreswan", "libreswan (STATE_MAIN_I1 ... STATE_QUICK_I2)", VOCAB_LIBRESWAN },
	{ "strongswan", "strongSwan (CONNECTING, ESTABLISHED)", VOCAB_STRONGSWAN },
	{ NULL, NULL, 0 },
};

void ikestate_render_register_prefs(module_t *prefs)
{
	prefs_register_enum_preference(prefs, "vocabulary", "State names in the Info column",
				       "Whose names the Info column and the tree's summary line give the sender's "
				       "state in. The fields keep all of them (ikestate.state ASA, "
				       "ikestate.ios_state, ikestate.libreswan_state, ikestate.strongswan_state); "
				       "where a vocabulary has no name for a message, the ASA one is shown",
				       &pref_vocabulary, vocabularies, FALSE);
}

static const char *state_in_vocabulary(const iks_result *r)
{
	const char *s = NULL;
	if (pref_vocabulary == VOCAB_IOS)
		s = iks_ios_state_name(r->ios_state);
	else if (pref_vocabulary == VOCAB_LIBRESWAN)
		s = iks_libreswan_name(r->msg, r->state, r->failed != 0);
	else if (pref_vocabulary == VOCAB_STRONGSWAN)
		s = iks_strongswan_name(r->state);
	if (s)
		return s;
	return iks_qm_state_of(r) ? iks_qm_state_name(iks_qm_state_of(r)) : iks_state_name(r->state);
}

void ikestate_render(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, const iks_fsm *fsm, const iks_result *r)
{
	render_ctx c = { .tvb = tvb, .pinfo = pinfo, .r = r, .msg = iks_msg_name(r->msg) };
	const char *state = state_in_vocabulary(r);
	iks_ra ra;
	char ra_text[64];
	const char *detail = NULL;
	if (iks_fsm_ra(fsm, r, &ra))
		detail = ra.eap_code ? iks_eap_str(&ra, ra_text, sizeof ra_text)
				     : iks_cfg_str(version_of(r), &ra, ra_text, sizeof ra_text);
	info_suffix(pinfo, r, c.msg, state, detail);

	c.text = expert_text_wanted(tree);
	c.hint = iks_hint_text(r->hint);
	c.clause = c.text ? (int)iks_hint_clause(c.hint) : 0; /* read only with the texts */

	/* Tree calls cost even without a tree (callgrind): none when there is none. */
	proto_item *stl = NULL, *fl = NULL;
	if (tree)
		c.st = label_fields(&c, tree, fsm, state);
	print_retransmission(&c);
	print_copy(&c);
	print_duplicate(&c);
	print_missing(&c, fsm);
	if (c.st) {
		if (!(r->flags & (IKS_R_COPY | IKS_R_DUPLICATE))) /* theirs holds copy_of */
			add_uint(c.st, hf_response_to, tvb, r->response_to);
		add_uint(c.st, hf_response_in, tvb, r->response_in);
		add_time(c.st, hf_elapsed, tvb, r->elapsed_ns);
		offer_fields(&c, fsm);
		ra_fields(&c, &ra);
		captured_at_field(&c, fsm);
	}
	print_pattern(&c, fsm);
	print_sequence(&c);
	print_completed(&c);
	if (c.st) {
		verdict_fields(&c, &stl, &fl);
		hint_field(&c, stl, fl);
		mismatch_field(&c, fsm, fl);
		if (r->flags & IKS_R_FINAL)
			proto_item_set_generated(proto_tree_add_boolean(c.st, hf_final, tvb, 0, 0, TRUE));
	}
	print_failed(&c, fl);
	print_deleted(&c);
	print_stalled(&c, stl);
	print_reset(&c);
}

/* ESP and NAT-T keepalives: the SA's tunnel and sender role on every packet; the one-way verdict
 * (capture end) flags all its packets, and its last one carries the expert item. */
int ikestate_render_esp(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, const iks_esp_sa *sa)
{
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
	if (!sa->one_way)
		return tvb_captured_length(tvb);
	proto_item *ow = proto_tree_add_boolean(st, hf_esp_one_way, tvb, 0, 0, TRUE);
	proto_item_set_generated(ow);
	if (expert) {
		proto_item_set_generated(proto_tree_add_boolean(st, hf_final, tvb, 0, 0, TRUE));
		expert_add_info_format(pinfo, ow, &ei_esp_one_way,
				       "ESP one way: %u packets (SPI 0x%08x) in %.1f s from %s to %s, none back. %.*s", sa->packets,
				       sa->spi, (double)(sa->last_ns - sa->first_ns) / 1e9,
				       ikestate_addr_str(pinfo->pool, &sa->src, false),
				       ikestate_addr_str(pinfo->pool, &sa->dst, false),
				       (int)iks_hint_clause(iks_hint_text(IKS_H_ESP_ONE_WAY)), iks_hint_text(IKS_H_ESP_ONE_WAY));
	}
	return tvb_captured_length(tvb);
}
