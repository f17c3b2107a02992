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

static const char *addr_str(const iks_addr *a, char *buf, size_t len)
{
	address ad;
	set_address(&ad, a->len == 16 ? AT_IPv6 : AT_IPv4, a->len, a->bytes);
	if (a->len != 4 && a->len != 16)
		return g_strlcpy(buf, "?", len), buf;
	char *s = address_to_str(NULL, &ad);
	g_snprintf(buf, (gulong)len, a->len == 16 ? "[%s]:%u" : "%s:%u", s, a->port);
	wmem_free(NULL, s);
	return buf;
}

const char *ikestate_verdict(char *buf, size_t len, unsigned failed, unsigned stalled, bool placed, bool esp_one_way)
{
	if (failed)
		g_snprintf(buf, (gulong)len, "FAILED: %s", iks_failed_name(failed));
	else if (stalled)
		g_snprintf(buf, (gulong)len, "STALLED in %s", iks_stalled_name(stalled));
	else if (esp_one_way)
		g_strlcpy(buf, "ESP ONE-WAY", len);
	else if (!placed)
		g_strlcpy(buf, "?", len); /* no message of it could be placed */
	else
		g_strlcpy(buf, "OK", len);
	return buf;
}

static const char *or_dash(const char *s) { return s && *s ? s : "-"; }

static gint by_index(gconstpointer a, gconstpointer b)
{
	guint x = *(const guint *)a, y = *(const guint *)b;
	return x < y ? -1 : x > y;
}

static void summary_draw(void *tapdata)
{
	summary_ctx *ctx = tapdata;
	iks_fsm *fsm = ikestate_finished_fsm();
	if (!fsm)
		return;
	GArray *idx = g_array_new(FALSE, FALSE, sizeof(guint));
	GHashTableIter it;
	gpointer key;
	g_hash_table_iter_init(&it, ctx->tunnels);
	while (g_hash_table_iter_next(&it, &key, NULL)) {
		guint index = GPOINTER_TO_UINT(key);
		g_array_append_val(idx, index);
	}
	g_array_sort(idx, by_index);
	if (ctx->csv)
		printf("tunnel,attempt,initiator,responder,ike,first_seen,setup_time,asa_state,ios_state,"
		       "qm_completed,qm_failed,retransmissions,rekey_of,esp_out,esp_in,esp_one_way,keepalives,verdict,hint\n");
	else
		printf("==================================================================================\n"
		       "IKE negotiations (ikestate)\n"
		       "%-3s %-3s %-22s %-22s %-5s %-26s %-8s %-13s %-12s %-6s %-5s %-5s %-13s %s\n",
		       "#", "Att", "Initiator", "Responder", "IKE", "First seen (UTC)", "Setup", "ASA state",
		       "IOS state", "QM ok/", "Retr", "Rekey", "ESP out/in", "Verdict");
	for (guint i = 0; i < idx->len; i++) {
		iks_tunnel_summary s;
		guint index = g_array_index(idx, guint, i);
		if (!iks_fsm_summary(fsm, index, &s))
			continue;
		char ini[64], rsp[64], first[40], setup[24] = "", ike[8], v[64], qm[24], rekey[16] = "", esp[48] = "";
		time_t secs = (time_t)(s.first_ns / 1000000000);
		struct tm tm;
		strftime(first, sizeof first, "%Y-%m-%d %H:%M:%S", gmtime_r(&secs, &tm));
		g_snprintf(first + strlen(first), (gulong)(sizeof first - strlen(first)), ".%03d",
			   (int)(s.first_ns % 1000000000 / 1000000));
		if (s.setup_ns >= 0)
			g_snprintf(setup, sizeof setup, "%.3f", (double)s.setup_ns / 1e9);
		g_snprintf(ike, sizeof ike, "v%u%s", s.version,
			   s.mode == IKS_EXCH_MAIN ? " MM" : s.mode == IKS_EXCH_AGGRESSIVE ? " AM" : "");
		g_snprintf(qm, sizeof qm, "%u/%u", s.qm_done, s.qm_failed);
		if (s.rekey_of)
			g_snprintf(rekey, sizeof rekey, "#%u", s.rekey_of);
		if (s.esp_out || s.esp_in)
			g_snprintf(esp, sizeof esp, "%" PRIu64 "/%" PRIu64, s.esp_out, s.esp_in);
		addr_str(&s.initiator, ini, sizeof ini);
		addr_str(&s.responder, rsp, sizeof rsp);
		if (!s.roles_known) { /* first sender / its peer: say so */
			g_strlcat(ini, "?", sizeof ini);
			g_strlcat(rsp, "?", sizeof rsp);
		}
		ikestate_verdict(v, sizeof v, s.failed, s.stalled, s.state || s.qm_done, s.esp_one_way > 0);
		const char *hint = iks_hint_text(s.hint);
		if (ctx->csv) {
			/* The hints hold no double quote, so quoting them is enough for CSV. */
			printf("%u,%u,%s,%s,%s,%s,%s,%s,%s,%u,%u,%u,%u,%" PRIu64 ",%" PRIu64 ",%u,%u,%s,\"%s\"\n", index,
			       s.attempt, ini, rsp, ike, first, setup, or_dash(iks_state_name(s.state)),
			       or_dash(iks_ios_state_name(s.ios_state)), s.qm_done, s.qm_failed, s.retrans, s.rekey_of,
			       s.esp_out, s.esp_in, s.esp_one_way, s.keepalives, v, hint ? hint : "");
		} else {
			printf("%-3u %-3u %-22s %-22s %-5s %-26s %-8s %-13s %-12s %-6s %-5u %-5s %-13s %s\n", index,
			       s.attempt, ini, rsp, ike, first, or_dash(setup), or_dash(iks_state_name(s.state)),
			       or_dash(iks_ios_state_name(s.ios_state)), qm, s.retrans, or_dash(rekey), or_dash(esp), v);
			if (hint)
				printf("      %s\n", hint);
		}
	}
	if (!ctx->csv)
		printf("==================================================================================\n");
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
		fprintf(stderr, "tshark: -z ikestate,tunnels: %s\n", err->str);
		g_string_free(err, TRUE);
		summary_finish(ctx);
		exit(1);
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
