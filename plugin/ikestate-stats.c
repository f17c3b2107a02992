/* ikestate-stats.c — Statistics › IKE negotiations (GUI) and `tshark -z ikestate,tree`: negotiations
 * by final state, by verdict and by peer pair.
 *
 * A stats tree only sees packets, so each negotiation is counted once and moved between nodes
 * when one of its packets changes its state or verdict. The verdict is the capture-end one, as in
 * the summary: the GUI and `tshark -2` have it; single-pass tshark shows failures, not stalls.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_BUILD_DLL
#include "ws_compat.h"

#include <epan/address.h>
#include <epan/packet.h>
#include <epan/stats_tree.h>
#include <epan/to_str.h>

#include "ikestate.h"

/* Where a negotiation is counted at the moment. */
typedef struct {
	int pair_node;
	iks_verdict v;
	uint8_t state;
} tree_tunnel;

typedef struct {
	int total, by_state, by_verdict, by_pair, messages, lifecycle;
	GHashTable *tunnels; /* index -> tree_tunnel */
} tree_ctx;

static GHashTable *trees; /* stats_tree* -> tree_ctx*: the GUI may show several at once */

/* Add (delta 1) or take back (-1) a negotiation under its state, verdict and peer-pair nodes. */
static void count(stats_tree *st, const tree_ctx *c, const tree_tunnel *t, int delta)
{
	char v[96];
	const char *state = iks_state_name(t->state);
	iks_verdict_text(v, sizeof v, &t->v);
	increase_stat_node(st, state && *state ? state : "(none)", c->by_state, false, delta);
	increase_stat_node(st, v, c->by_verdict, false, delta);
	increase_stat_node(st, v, t->pair_node, false, delta);
}

/* Tunnels that replace another, were deleted, carried ESP, had a one-way ESP SA (capture-end facts:
 * after the first pass only). */
static void lifecycle(stats_tree *st, const tree_ctx *c, const iks_tunnel_summary *s)
{
	if (s->rekey_of || s->deleted || s->esp_out || s->esp_in)
		tick_stat_node(st, "Lifecycle", c->total, true);
	if (s->rekey_of)
		tick_stat_node(st, "Rekey of an IKE SA still up", c->lifecycle, false);
	if (s->deleted)
		tick_stat_node(st, "Deleted", c->lifecycle, false);
	if (s->esp_out || s->esp_in)
		tick_stat_node(st, "With ESP traffic", c->lifecycle, false);
	if (s->esp_one_way)
		tick_stat_node(st, "ESP one way", c->lifecycle, false);
}

static void tree_init(stats_tree *st)
{
	tree_ctx *c = g_new0(tree_ctx, 1);
	c->total = stats_tree_create_node(st, "IKE negotiations", 0, STAT_DT_INT, true);
	c->by_state = stats_tree_create_node(st, "By final state", c->total, STAT_DT_INT, true);
	c->by_verdict = stats_tree_create_node(st, "By verdict", c->total, STAT_DT_INT, true);
	c->by_pair = stats_tree_create_node(st, "By peer pair", c->total, STAT_DT_INT, true);
	c->lifecycle = stats_tree_create_node(st, "Lifecycle", c->total, STAT_DT_INT, true);
	c->messages = stats_tree_create_node(st, "IKE messages", 0, STAT_DT_INT, true);
	c->tunnels = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
	if (!trees)
		trees = g_hash_table_new(g_direct_hash, g_direct_equal);
	g_hash_table_insert(trees, st, c);
}

static void tree_cleanup(stats_tree *st)
{
	tree_ctx *c = g_hash_table_lookup(trees, st);
	if (!c)
		return;
	g_hash_table_remove(trees, st);
	g_hash_table_destroy(c->tunnels);
	g_free(c);
}

static int pair_node(stats_tree *st, tree_ctx *c, packet_info *pinfo)
{
	/* Lower address first, so both directions name the same pair. */
	const address *a = &pinfo->net_src, *b = &pinfo->net_dst;
	if (cmp_address(a, b) > 0) {
		const address *x = a;
		a = b;
		b = x;
	}
	char *as = address_to_str(NULL, a), *bs = address_to_str(NULL, b);
	char *name = g_strdup_printf("%s - %s", as, bs);
	int id = tick_stat_node(st, name, c->by_pair, true);
	g_free(name);
	wmem_free(NULL, as);
	wmem_free(NULL, bs);
	return id;
}

/* Single pass: a negotiation's verdict from its packets so far. */
static void packet_verdict(tree_tunnel *t, const iks_result *r)
{
	if (r->state > t->state)
		t->state = r->state;
	if (r->failed && !t->v.failed)
		t->v.failed = r->failed;
	if ((r->flags & (IKS_R_PHASE1_DONE | IKS_R_PHASE2_DONE)) && !r->failed && t->v.failed) {
		t->v.recovered_from = t->v.failed;
		t->v.failed = 0;
	}
	if (r->state || (r->flags & IKS_R_PHASE2_DONE))
		t->v.placed = true;
}

static tap_packet_status tree_packet(stats_tree *st, packet_info *pinfo, epan_dissect_t *edt _U_, const void *data,
				     tap_flags_t flags _U_)
{
	tree_ctx *c = g_hash_table_lookup(trees, st);
	const iks_result *r = data;
	if (!c)
		return TAP_PACKET_DONT_REDRAW;

	const char *msg = iks_msg_name(r->msg);
	tick_stat_node(st, "IKE messages", 0, true);
	tick_stat_node(st, msg && *msg ? msg : "(not placed)", c->messages, false);
	if (r->retrans && !(r->flags & (IKS_R_COPY | IKS_R_DUPLICATE))) /* a resend seen twice is one resend */
		tick_stat_node(st, "Retransmissions", c->messages, false);

	tree_tunnel *t = g_hash_table_lookup(c->tunnels, GUINT_TO_POINTER(r->tunnel));
	const iks_fsm *fsm = ikestate_view();
	if (fsm) {
		/* After the first pass (GUI, tshark -2): the summary's final facts, counted once. */
		iks_tunnel_summary s;
		if (t || !iks_fsm_summary(fsm, r->tunnel, &s))
			return TAP_PACKET_REDRAW;
		t = g_new0(tree_tunnel, 1);
		t->v = iks_summary_verdict(&s);
		t->state = s.state;
		lifecycle(st, c, &s);
	} else if (t) {
		/* Single pass: what its packets said so far; the capture-end stall never comes. */
		tree_tunnel was = *t;
		packet_verdict(t, r);
		if (was.state != t->state || memcmp(&was.v, &t->v, sizeof was.v) != 0) {
			count(st, c, &was, -1);
			count(st, c, t, 1);
		}
		return TAP_PACKET_REDRAW;
	} else {
		t = g_new0(tree_tunnel, 1);
		packet_verdict(t, r);
	}
	g_hash_table_insert(c->tunnels, GUINT_TO_POINTER(r->tunnel), t);
	tick_stat_node(st, "IKE negotiations", 0, true);
	tick_stat_node(st, "By final state", c->total, true);
	tick_stat_node(st, "By verdict", c->total, true);
	tick_stat_node(st, "By peer pair", c->total, true);
	t->pair_node = pair_node(st, c, pinfo);
	count(st, c, t, 1);
	return TAP_PACKET_REDRAW;
}

void ikestate_register_stats_tree(void)
{
	/* Sorted by name, ascending (without ST_FLG_SORT_DESC): MM1 before MM6 and QM1, verdicts and states
	 * in a steady order. The default, by count descending, gave equal counts reverse name order. */
	stats_tree_register_plugin("ikestate", "ikestate", "IKE negotiations", ST_SORT_COL_NAME << ST_FLG_SRTCOL_SHIFT,
				   tree_packet, tree_init, tree_cleanup);
}
