/* ikestate-summary.c — `tshark -z ikestate,tunnels[,csv][,FILTER]`: one row per IKE SA, in the spirit
 * of `show crypto isakmp sa`, from the same state machine that labels the packets.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_BUILD_DLL
#include "ws_compat.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include <epan/address.h>
#include <epan/to_str.h>
#include <epan/packet.h>
#include <epan/stat_tap_ui.h>
#include <epan/tap.h>

#include "ikestate-addr.h"
#include "ikestate.h"

typedef struct {
	bool csv;
	GHashTable *tunnels; /* indexes of the tunnels whose packets passed the filter */
} summary_ctx;

static void summary_reset(void *tapdata)
{
	g_hash_table_remove_all(((summary_ctx *)tapdata)->tunnels);
}

static tap_packet_status summary_packet(void *tapdata, packet_info *pinfo _U_, epan_dissect_t *edt _U_,
					const void *data, tap_flags_t flags _U_)
{
	const iks_result *r = data;
	g_hash_table_add(((summary_ctx *)tapdata)->tunnels, GUINT_TO_POINTER(r->tunnel));
	return TAP_PACKET_REDRAW;
}

static const char *or_dash(const char *s) { return s && *s ? s : "-"; }

static gint by_index(gconstpointer a, gconstpointer b)
{
	guint x = *(const guint *)a, y = *(const guint *)b;
	return x < y ? -1 : x > y;
}

/* One row's cells, from `pool`. */
typedef struct {
	const char *ini, *rsp, *group_rsp, *first, *setup, *ike, *qm, *rekey, *esp, *verdict, *hint;
	const char *impl[2]; /* the initiator's, the responder's implementation; "" unknown */
} summary_row;

static summary_row row_cells(wmem_allocator_t *pool, const iks_tunnel_summary *s)
{
	summary_row c;
	c.group_rsp = NULL;
	time_t secs = (time_t)(s->first_ns / 1000000000);
	struct tm tm;
	char day[32];
	strftime(day, sizeof day, "%Y-%m-%d %H:%M:%S", gmtime_r(&secs, &tm));
	c.first = wmem_strdup_printf(pool, "%s.%03d", day, (int)(s->first_ns % 1000000000 / 1000000));
	c.setup = s->setup_ns >= 0 ? wmem_strdup_printf(pool, "%.3f", (double)s->setup_ns / 1e9) : "";
	c.ike = wmem_strdup_printf(pool, "v%u%s", s->version,
				   s->mode == IKS_EXCH_MAIN ? " MM" : s->mode == IKS_EXCH_AGGRESSIVE ? " AM" : "");
	c.qm = wmem_strdup_printf(pool, "%u/%u", s->qm_done, s->qm_failed);
	c.rekey = s->rekey_of ? wmem_strdup_printf(pool, "#%u", s->rekey_of) : "";
	c.esp = s->esp_out || s->esp_in ? wmem_strdup_printf(pool, "%" PRIu64 "/%" PRIu64, s->esp_out, s->esp_in) : "";
	/* Roles unknown: first sender / its peer, and say so. */
	const char *unsure = s->roles_known ? "" : "?";
	c.ini = wmem_strdup_printf(pool, "%s%s", ikestate_addr_str(pool, &s->initiator, true), unsure);
	c.rsp = wmem_strdup_printf(pool, "%s%s", ikestate_addr_str(pool, &s->responder, true), unsure);
	char v[64];
	iks_verdict vd = iks_summary_verdict(s);
	c.verdict = wmem_strdup(pool, iks_verdict_text(v, sizeof v, &vd));
	c.hint = iks_hint_text(s->hint);
	if (s->pattern) { /* the human summary: one row for the group */
		char buf[240];
		c.hint = wmem_strdup(pool, iks_pattern_text(buf, sizeof buf, s, ikestate_addr_str(pool, &s->initiator, false)));
		c.group_rsp = s->pattern == IKS_P_REFLECTION ? wmem_strdup_printf(pool, "%u responders", s->group_size)
			      : s->pattern == IKS_P_SCAN   ? "several responders"
							   : NULL;
	}
	for (unsigned k = 0; k < 2; k++) {
		char buf[64];
		const char *impl = iks_impl_str(&s->impl[k], buf, sizeof buf);
		c.impl[k] = impl ? wmem_strdup(pool, impl) : "";
	}
	return c;
}

/* The -z output goes to standard output, as with Wireshark's own command-line taps (ui/cli): printf
 * is what checkAPIs restricts in dissectors, and this is no dissector code. */
static void print_header(bool csv)
{
	if (csv)
		printf("tunnel,attempt,initiator,responder,ike,first_seen,setup_time,asa_state,ios_state,"
		       "qm_completed,qm_failed,retransmissions,rekey_of,esp_out,esp_in,esp_one_way,keepalives,verdict,hint,"
		       "initiator_impl,responder_impl,pattern,group\n");
	else
		printf("%-3s %-3s %-22s %-22s %-5s %-26s %-8s %-13s %-12s %-6s %-5s %-5s %-13s %-22s %-22s %s\n", "#", "Att",
		       "Initiator", "Responder", "IKE", "First seen (UTC)", "Setup", "ASA state", "IOS state", "QM ok/", "Retr",
		       "Rekey", "ESP out/in", "Initiator runs", "Responder runs", "Verdict");
}

static void print_row(bool csv, guint num, const iks_tunnel_summary *s, const summary_row *c)
{
	if (csv) {
		/* Verdicts ("OK, recovered from …"), hints and implementation names hold no double quote:
		 * quoting them is enough for CSV. */
		printf("%u,%u,%s,%s,%s,%s,%s,%s,%s,%u,%u,%u,%u,%" PRIu64 ",%" PRIu64 ",%u,%u,\"%s\",\"%s\",\"%s\",\"%s\",%s,%u\n",
		       num, s->attempt, c->ini, c->rsp, c->ike, c->first, c->setup, or_dash(iks_state_name(s->state)),
		       or_dash(iks_ios_state_name(s->ios_state)), s->qm_done, s->qm_failed, s->retrans, s->rekey_of,
		       s->esp_out, s->esp_in, s->esp_one_way, s->keepalives, c->verdict, c->hint ? c->hint : "", c->impl[0],
		       c->impl[1], s->pattern ? iks_pattern_name(s->pattern) : "", s->group_leader);
		return;
	}
	printf("%-3u %-3u %-22s %-22s %-5s %-26s %-8s %-13s %-12s %-6s %-5u %-5s %-13s %-22s %-22s %s\n", num,
	       s->attempt, c->ini, c->group_rsp ? c->group_rsp : c->rsp, c->ike, c->first, or_dash(c->setup), or_dash(iks_state_name(s->state)),
	       or_dash(iks_ios_state_name(s->ios_state)), c->qm, s->retrans, or_dash(c->rekey), or_dash(c->esp),
	       or_dash(c->impl[0]), or_dash(c->impl[1]), c->verdict);
	if (c->hint)
		printf("      %s\n", c->hint);
}

/* The tunnels whose packets passed the filter, in index order. */
static GArray *tunnels_in_order(GHashTable *tunnels)
{
	GArray *idx = g_array_new(FALSE, FALSE, sizeof(guint));
	GHashTableIter it;
	gpointer key;
	g_hash_table_iter_init(&it, tunnels);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		guint num = GPOINTER_TO_UINT(key);
		g_array_append_val(idx, num);
	}
	g_array_sort(idx, by_index);
	return idx;
}

/* Patterns first (reflections, probes, scans: one line per group), so that the real negotiations
 * stand out. */
static void print_patterns(const iks_fsm *fsm, const GArray *idx, wmem_allocator_t *pool)
{
	bool any = false;
	for (guint i = 0; i < idx->len; i++) {
		iks_tunnel_summary s;
		guint num = g_array_index(idx, guint, i);
		if (!iks_fsm_summary(fsm, num, &s) || !s.pattern || s.group_leader != num)
			continue;
		if (!any)
			printf("Patterns (not negotiations of their own):\n");
		any = true;
		const char *who = ikestate_addr_str(pool, &s.initiator, false);
		if (s.pattern == IKS_P_REFLECTION)
			printf("  reflection: initiator cookie %016" PRIx64 " -> %s answered by %u responders in %.3f s", s.group_ispi,
			       who, s.group_size, (double)s.group_span_ns / 1e9);
		else
			printf("  %s: %s -> %s: %u negotiations in %.3f s, none past the first exchange, no Vendor IDs",
			       iks_pattern_name(s.pattern), who,
			       s.pattern == IKS_P_SCAN ? "several responders" : ikestate_addr_str(pool, &s.responder, false),
			       s.group_size, (double)s.group_span_ns / 1e9);
		printf(" (tunnel %u and %u more)\n", num, s.group_size - 1);
		wmem_free_all(pool);
	}
}

static void summary_draw(void *tapdata)
{
	summary_ctx *ctx = tapdata;
	ikestate_first_pass_over(); /* drawing: every packet has been seen */
	const iks_fsm *fsm = ikestate_view();
	if (!fsm)
		return;
	GArray *idx = tunnels_in_order(ctx->tunnels);
	wmem_allocator_t *pool = wmem_allocator_new(WMEM_ALLOCATOR_BLOCK);
	if (!ctx->csv) {
		printf("==================================================================================\n"
		       "IKE negotiations (ikestate)\n");
		print_patterns(fsm, idx, pool);
	}
	print_header(ctx->csv);
	for (guint i = 0; i < idx->len; i++) {
		iks_tunnel_summary s;
		guint num = g_array_index(idx, guint, i);
		if (!iks_fsm_summary(fsm, num, &s) || (!ctx->csv && s.pattern && s.group_leader != num))
			continue; /* a pattern group has one row, its first tunnel's (CSV: every tunnel, its group named) */
		summary_row c = row_cells(pool, &s);
		print_row(ctx->csv, num, &s, &c);
		wmem_free_all(pool);
	}
	if (!ctx->csv)
		printf("==================================================================================\n");
	wmem_destroy_allocator(pool);
	g_array_free(idx, TRUE);
}

static void summary_finish(void *tapdata)
{
	summary_ctx *ctx = tapdata;
	g_hash_table_destroy(ctx->tunnels);
	g_free(ctx);
}

/* opt_arg: "ikestate,tunnels", then optionally ",csv", then optionally ",FILTER". */
static iks_tap_init_ret summary_init(const char *opt_arg, void *userdata _U_)
{
	const char *rest = opt_arg + strlen("ikestate,tunnels");
	summary_ctx *ctx = g_new0(summary_ctx, 1);
	if (g_str_has_prefix(rest, ",csv")) {
		ctx->csv = true;
		rest += strlen(",csv");
	}
	const char *filter = *rest == ',' ? rest + 1 : NULL;
	ctx->tunnels = g_hash_table_new(g_direct_hash, g_direct_equal);
	GString *err = register_tap_listener("ikestate", ctx, filter, TL_REQUIRES_NOTHING, summary_reset,
					     summary_packet, summary_draw, summary_finish);
	if (err) {
		/* 4.6 lets the init refuse the option; before, the error is printed and the summary left out. */
		fprintf(stderr, "tshark: -z ikestate,tunnels: %s\n", err->str);
		g_string_free(err, TRUE);
		summary_finish(ctx);
		IKS_TAP_INIT_FAIL;
	}
	IKS_TAP_INIT_RETURN;
}

void ikestate_register_summary(void)
{
	static stat_tap_ui ui = {
		REGISTER_STAT_GROUP_GENERIC, "IKE negotiations", "ikestate,tunnels", summary_init, 0, NULL
	};
	register_stat_tap_ui(&ui, NULL);
}
