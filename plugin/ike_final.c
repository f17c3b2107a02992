/* ike_final.c — diagnosis at capture end (ike_diag.h): negotiations that never completed get a stall
 * verdict on their last packet, inferred deletes; and the summary of each tunnel, read from the
 * same state that labels the packets.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ike_diag.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* How long after an IKE SA's last Informational its ESP must go on to show it was no delete. */
#define IKS_ESP_AFTER_NS INT64_C(1000000000)

static void save_verdict(iks_diag *d, iks_result *r)
{
	iks_saved_verdict saved = { r, r->flags, r->failed, r->stalled, r->hint, r->state };
	g_array_append_val(d->finals, saved);
}

static void final_verdict(iks_diag *d, const iks_tunnel *t, iks_result *r, uint8_t stalled)
{
	save_verdict(d, r);
	r->flags |= IKS_R_FINAL | IKS_R_STALL;
	/* "May still go on" only for a stall that rests on the capture's end alone: not once the peer
	 * has refused, nor when resends already established it on this packet. */
	if (!iks_diag_at(d, t->id)->failed && !r->stalled &&
	    d->mc->last_ns - (t->first_ns + r->elapsed_ns) < d->cfg.stall_timeout_ns)
		r->flags |= IKS_R_FINAL_SOON;
	if (!r->stalled)
		r->stalled = stalled;
	if (!r->hint || r->hint == IKS_H_P1_RESET_AFTER_P2 || iks_diag_at(d, t->id)->lost_between)
		r->hint = (uint8_t)iks_diag_stall_hint(d, t, r->stalled);
}

/* Refused, as the way the negotiation ended shows: the side that had to go on stopped. */
static void final_refusal(iks_diag *d, iks_diag_tunnel *dt, iks_result *r, uint16_t code, iks_hint h)
{
	save_verdict(d, r);
	r->flags |= IKS_R_FINAL | IKS_R_REFUSED;
	r->failed = code;
	r->hint = (uint8_t)h;
	dt->final_failed = code;
	dt->final_fail_hint = (uint8_t)h;
}

/* The negotiation is over, whatever the capture's end: a new IKE SA between the peers replaced it,
 * or the capture went on for a stall timeout after `end` (its last packet). */
static bool ended_before_capture(const iks_diag *d, const iks_tunnel *t, int64_t end)
{
	const iks_tunnel *next = iks_diag_tunnel_between(d, &t->ref, &t->peer);
	bool replaced = next && next->id > t->id;
	return replaced || (d->cfg.stall_timeout_ns > 0 && d->mc->last_ns - end >= d->cfg.stall_timeout_ns);
}

/* IKEv1: the IKE SA's last messages are encrypted Informationals from one side that answer nothing,
 * draw no answer and are not a dead-peer run, and then the peers start a new IKE SA or stay silent
 * (ESP of the tunnel included) for a stall timeout: most likely Deletes. */
static bool delete_inferred(const iks_diag *d, const iks_tunnel *t)
{
	const iks_diag_tunnel *dt = iks_diag_at(d, t->id);
	const iks_result *r = t->tail;
	if (t->version != 1 || t->deleted || dt->failed || !r || r->msg != IKS_M_INFO ||
	    !iks_completes_phase1(t->v1.p1_pos) || (!dt->unanswered[0] && !dt->unanswered[1]) || dt->run_answers)
		return false;
	int64_t end = t->first_ns + r->elapsed_ns;
	if ((t->esp ? t->esp->last_ns : 0) > end + IKS_ESP_AFTER_NS)
		return false; /* its ESP went on */
	return ended_before_capture(d, t, end);
}

/* Remote access that ended where only a refusal ends it: IKEv1 transactions (XAUTH, mode-config)
 * after phase 1, then an Informational (a Delete, most likely) or the end, and never a quick mode;
 * IKEv2 IKE_AUTH ending on the gateway's EAP message, the client sending no further round. A
 * refusal only when the end is certain; a capture cut short right after is a stall that may still
 * go on (IKEv2: the stall below). With keys the refusal is read on its packet instead, and what the
 * keys show working (XAUTH OK, an address) is no refusal. */
static bool remote_access_refused(iks_diag *d, iks_diag_tunnel *dt, const iks_tunnel *t)
{
	iks_result *r = t->tail;
	bool over = r->msg == IKS_M_INFO || ended_before_capture(d, t, t->first_ns + r->elapsed_ns);
	if (t->version == 1 && t->v1.txn && !t->v1.qm_seen && !t->v1.ra_ok && iks_completes_phase1(t->v1.p1_pos)) {
		if (over) {
			final_refusal(d, dt, r, IKS_F_XAUTH_FAILED, IKS_H_RA_NO_QM);
		} else {
			final_verdict(d, t, r, iks_state_after(t->v1.p1_pos));
			dt->final_stalled = r->stalled;
		}
		return true;
	}
	if (t->version == 2 && t->v2.state == IKS_S_IN_NEG && t->v2.eap_last && r->msg == IKS_M_AUTH_RESP && over) {
		final_refusal(d, dt, r, IKS_F_EAP_FAILURE, IKS_H_EAP_ENDED);
		return true;
	}
	return false;
}

/* Undo the previous call's verdicts, newest first (a packet may be saved twice): more packets may
 * have come since (live capture). */
static void undo_finals(iks_diag *d)
{
	for (guint i = d->finals->len; i-- > 0;) {
		iks_saved_verdict *s = &g_array_index(d->finals, iks_saved_verdict, i);
		s->res->stalled = s->stalled;
		s->res->hint = s->hint;
		s->res->flags = s->flags;
		s->res->failed = s->failed;
		s->res->state = s->state;
	}
	g_array_set_size(d->finals, 0);
}

static void finish_tunnel(iks_diag *d, const iks_tunnel *t)
{
	iks_diag_tunnel *dt = iks_diag_at(d, t->id);
	dt->final_stalled = dt->qm_stall = 0;
	dt->qm_failed = 0;
	dt->final_failed = 0;
	dt->final_fail_hint = 0;
	dt->deleted_inferred = delete_inferred(d, t);
	if (dt->deleted_inferred) {
		iks_result *r = t->tail;
		save_verdict(d, r);
		r->flags |= IKS_R_DELETED | IKS_R_DELETE_INFERRED | IKS_R_FINAL;
		r->state = IKS_S_DELETED;
		r->hint = IKS_H_DELETE_INFERRED;
	}
	/* A refusal that stands ends the negotiation: refused, not also stalled; a reflection is none. */
	if (dt->failed || iks_diag_pattern(d, t) || !t->tail || remote_access_refused(d, dt, t))
		return;
	if (t->v1.mode && t->v1.p1_pos && !iks_completes_phase1(t->v1.p1_pos)) {
		final_verdict(d, t, t->tail, iks_state_after(t->v1.p1_pos));
		dt->final_stalled = t->tail->stalled;
	} else if (t->version == 2 && t->v2.state == IKS_S_IN_NEG) {
		final_verdict(d, t, t->tail, IKS_S_IN_NEG); /* never READY */
		dt->final_stalled = t->tail->stalled;
	}
}

static int by_last_packet(gconstpointer a, gconstpointer b)
{
	const iks_exchange *x = *(const iks_exchange *const *)a, *y = *(const iks_exchange *const *)b;
	int64_t tx = x->tail ? x->tail->elapsed_ns : -1, ty = y->tail ? y->tail->elapsed_ns : -1;
	if (x->tunnel != y->tunnel)
		return x->tunnel < y->tunnel ? -1 : 1;
	if (tx != ty)
		return tx < ty ? -1 : 1;
	return x->msgid < y->msgid ? -1 : x->msgid > y->msgid;
}

/* Unfinished quick modes in the order they last moved, so that a tunnel's summary names its
 * latest one, not whichever the hash table yields last. */
static void finish_quick_modes(iks_diag *d)
{
	GPtrArray *open_qm = g_ptr_array_new();
	GHashTableIter it;
	gpointer k, v;
	g_hash_table_iter_init(&it, d->mc->exchanges);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		const iks_exchange *e = v;
		if (e->exch == IKS_EXCH_QUICK && (e->step == IKS_M_QM1 || e->step == IKS_M_QM2))
			g_ptr_array_add(open_qm, v);
	}
	g_ptr_array_sort(open_qm, by_last_packet);
	for (guint i = 0; i < open_qm->len; i++) {
		const iks_exchange *e = g_ptr_array_index(open_qm, i);
		iks_diag_tunnel *dt = iks_diag_at(d, e->tunnel);
		uint8_t stall = IKS_STALLED_QM(e->step == IKS_M_QM1 ? IKS_QM_WAIT_MSG2 : IKS_QM_WAIT_MSG3);
		dt->qm_failed++; /* counted here so that a summary costs O(1) per tunnel */
		if (iks_diag_refused(d, e))
			continue; /* refused, not also stalled */
		dt->qm_stall = stall;
		if (e->tail)
			final_verdict(d, iks_tunnel_at(d->mc, e->tunnel), e->tail, stall);
	}
	g_ptr_array_free(open_qm, TRUE);
}

/* ---------------------------------------------------------------------------------------------
 * Loss between capture points
 */
typedef struct {
	iks_diag *d;
	uint8_t *before; /* per tunnel: the points that saw one of its transmissions so far */
} loss_walk;

static void note_missing(iks_result *r, void *data)
{
	loss_walk *lw = data;
	if (!r->seen) /* copies, duplicates, ICMP errors: no transmission */
		return;
	uint8_t missing = lw->before[r->tunnel] & (uint8_t)~r->seen;
	lw->before[r->tunnel] |= r->seen;
	if (!missing)
		return;
	save_verdict(lw->d, r);
	r->flags |= IKS_R_MISSING;
	g_hash_table_insert(lw->d->missing, r, GUINT_TO_POINTER(missing));
	iks_diag_at(lw->d, r->tunnel)->lost_between = true;
}

/* A transmission is missing at a capture point that saw an earlier transmission of its tunnel and
 * not this one. "Earlier" is by transmission order, which the clocks of the points do not change;
 * a point whose capture began later than the negotiation blames nothing before its first
 * sighting. A point whose capture ended early shows the rest missing: the points' capture ends
 * tell that apart. */
static void find_losses(iks_diag *d)
{
	for (uint32_t i = 1; i <= d->tunnels.n; i++)
		iks_diag_at(d, i)->lost_between = false;
	if (d->missing)
		g_hash_table_remove_all(d->missing);
	if (!(d->mc->points & (d->mc->points - 1)))
		return; /* one point */
	if (!d->missing)
		d->missing = g_hash_table_new(g_direct_hash, g_direct_equal);
	loss_walk lw = { d, g_new0(uint8_t, (size_t)d->mc->tunnel_pool.n + 1) };
	iks_results_foreach(d->mc, note_missing, &lw);
	g_free(lw.before);
}

uint8_t iks_diag_missing_at(const iks_diag *d, const iks_result *r)
{
	if (!(r->flags & IKS_R_MISSING) || !d->missing)
		return 0;
	return (uint8_t)GPOINTER_TO_UINT(g_hash_table_lookup(d->missing, r));
}

void iks_diag_finish(iks_diag *d)
{
	undo_finals(d);
	find_losses(d);
	for (uint32_t i = 1; i <= d->mc->tunnel_pool.n; i++)
		finish_tunnel(d, iks_tunnel_at(d->mc, i));
	finish_quick_modes(d);
}

/* ---------------------------------------------------------------------------------------------
 * Summary
 */
static void summary_esp(const iks_tunnel *t, iks_tunnel_summary *out)
{
	if (!t->esp)
		return;
	out->esp_out = t->esp->packets[0];
	out->esp_in = t->esp->packets[1];
	out->esp_one_way = t->esp->one_way;
	out->keepalives = t->esp->keepalives;
}

static void summary_state(const iks_tunnel *t, iks_tunnel_summary *out)
{
	if (t->version == 1 && t->v1.p1_pos) {
		out->state = iks_state_after(t->v1.p1_pos);
		out->ios_state = iks_ios_after(t->v1.p1_pos);
	}
	if (t->version == 2)
		out->state = t->v2.state;
	else if (out->deleted)
		out->state = IKS_S_DELETED;
}

bool iks_diag_summary(const iks_diag *d, uint32_t num, iks_tunnel_summary *out)
{
	if (num == 0 || num > d->mc->tunnel_pool.n)
		return false;
	const iks_tunnel *t = iks_tunnel_at(d->mc, num);
	const iks_diag_tunnel *dt = iks_diag_at(d, num);
	memset(out, 0, sizeof *out);
	out->attempt = t->attempt;
	out->version = t->version;
	out->mode = t->v1.mode;
	out->roles_known = t->roles != ROLES_UNKNOWN;
	out->initiator = out->roles_known ? iks_role_addr(t, 0) : t->ref;
	out->responder = out->roles_known ? iks_role_addr(t, 1) : t->peer;
	out->first_ns = t->first_ns;
	out->setup_ns = t->setup_ns;
	/* IKEv2: IKE_AUTH carries the first child SA, unless its answer refused it. */
	out->qm_done = t->qm_done + t->v2.auth_done - dt->auth_child_refused;
	out->retrans = t->retrans;
	out->failed = dt->failed ? dt->failed : dt->final_failed;
	out->recovered_from = dt->recovered_from;
	out->rekey_of = dt->rekey_of;
	out->deleted = t->deleted || dt->deleted_inferred;
	summary_esp(t, out);
	summary_state(t, out);
	const iks_answers_group *g = iks_diag_reflection(d, t);
	const iks_probe_group *p = iks_diag_probes(d, t);
	if (g) {
		out->pattern = IKS_P_REFLECTION;
		out->group_leader = g->leader;
		out->group_size = g->responders;
		out->group_span_ns = g->last_ns - g->first_ns;
		out->group_ispi = g->ispi;
	} else if (p) {
		out->pattern = p->pattern;
		out->group_leader = p->leader;
		out->group_size = p->negotiations;
		out->group_span_ns = p->last_ns - p->first_ns;
	}
	out->qm_failed = dt->qm_failed + dt->child_failed; /* IKEv2: child SAs refused */
	out->stalled = dt->final_stalled ? dt->final_stalled : dt->qm_stall; /* what its last packet says */
	if (out->stalled || out->failed)
		out->hint = (uint8_t)(dt->fail_hint		? dt->fail_hint
				      : dt->final_fail_hint ? dt->final_fail_hint
							    : iks_diag_stall_hint(d, t, out->stalled));
	else if (t->esp && t->esp->one_way)
		out->hint = IKS_H_ESP_ONE_WAY;
	return true;
}

const char *iks_verdict_text(char *buf, size_t len, const iks_verdict *v)
{
	const char *pattern = v->pattern == IKS_P_REFLECTION ? "REFLECTION" : v->pattern == IKS_P_SCAN ? "SCAN" : "PROBE";
	if (v->pattern && v->failed)
		snprintf(buf, len, "%s, FAILED: %s", pattern, iks_failed_name(v->failed));
	else if (v->pattern)
		snprintf(buf, len, "%s", pattern);
	else if (v->failed)
		snprintf(buf, len, "FAILED: %s", iks_failed_name(v->failed));
	else if (v->stalled)
		snprintf(buf, len, "STALLED in %s", iks_stalled_name(v->stalled));
	else if (v->esp_one_way)
		snprintf(buf, len, "ESP ONE-WAY");
	else if (!v->placed)
		snprintf(buf, len, "?");
	else if (v->recovered_from)
		snprintf(buf, len, "OK, recovered from %s", iks_failed_name(v->recovered_from));
	else
		snprintf(buf, len, "OK");
	return buf;
}

const char *iks_pattern_text(char *buf, size_t len, const iks_tunnel_summary *s, const char *who)
{
	double span = (double)s->group_span_ns / 1e9;
	if (s->pattern == IKS_P_REFLECTION)
		snprintf(buf, len,
			 "Initiator cookie %016" PRIx64 " answered by %u responders in %.3f s; %s sent none of the requests: "
			 "spoofed requests, reflection / amplification aimed at it.",
			 s->group_ispi, s->group_size, span, who);
	else if (s->pattern == IKS_P_PROBE || s->pattern == IKS_P_SCAN)
		snprintf(buf, len,
			 "%u negotiations from %s in %.3f s%s, none past the first exchange, no Vendor IDs: a scanner "
			 "(ike-scan and the like), not a broken tunnel.",
			 s->group_size, who, span, s->pattern == IKS_P_SCAN ? " to several responders" : "");
	else
		return NULL;
	return buf;
}

iks_verdict iks_summary_verdict(const iks_tunnel_summary *s)
{
	iks_verdict v = { s->failed, s->recovered_from, s->stalled, s->state || s->qm_done, s->esp_one_way > 0, s->pattern };
	return v;
}
