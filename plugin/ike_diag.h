/* ike_diag.h — diagnosis: where a negotiation hangs or was refused, why it usually does there, and
 * on which packet to say so. It reads the machine's state as const and writes only its own record
 * per tunnel and the verdict fields of a result (failed, stalled, hint, the verdict flags).
 * Per message: ike_diag.c; capture end and the summary: ike_final.c. Not part of the API.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IKE_DIAG_H
#define IKE_DIAG_H

#include "ike_machine.h"

/* What the diagnosis keeps per tunnel (same index). Fields by size, 1-bit flags last. */
typedef struct {
	int64_t unanswered_ns; /* when the current run of unanswered Informationals began */
	uint32_t rekey_of;     /* index of the IKE SA it replaces (up when this one started), 0 = none */
	uint32_t qm_failed;    /* capture end: quick modes never completed */
	uint32_t child_failed; /* IKEv2: child SAs refused */
	uint32_t auth_child_refused; /* IKEv2: IKE_AUTH answers that made the SA READY but refused its child */
	uint16_t failed;       /* the refusal that stands (ikestate.failed): the first one since the last
				* completion; a completion after a refusal moves it to recovered_from */
	uint16_t recovered_from; /* the refusal the negotiation went past (it completed afterwards) */
	uint8_t fail_hint;     /* and its hint */
	uint16_t final_failed; /* capture end: a refusal inferred from how the negotiation ended */
	uint8_t final_fail_hint; /* and its hint */
	uint8_t final_stalled; /* capture end: the stall on the tunnel's last packet */
	uint8_t qm_stall;      /* capture end: stall of its latest unfinished quick mode */
	uint8_t unanswered[2]; /* per direction: encrypted Informationals since the other side last spoke */
	bool run_answers : 1;  /* the unanswered run began right after an Informational of the other side (DPD ACK) */
	bool deleted_inferred : 1; /* capture end: IKEv1, from the last Informationals and what follows */
	bool p2_failed : 1;    /* a quick mode was refused */
	bool reset_after_p2 : 1; /* started right after a phase-2 failure between the same peers */
	uint8_t decrypt_ok : 2;  /* per sender role (bit 0 initiator): an encrypted phase-1 message decrypted */
	uint8_t decrypt_bad : 2; /* ... decrypted into garbage with the loaded key */
	bool lost_between : 1;   /* a message of it missing at a capture point: known once the sighting
				  * window passed without it (first pass), or at capture end (IKS_R_MISSING) */
	uint8_t ttl_varies : 2;  /* per sender role (bit 0 initiator): its TTL was not always the same */
	uint8_t pattern;         /* iks_pattern: not a negotiation of its own (reflection) */
	uint8_t ttl[2];          /* per sender role: the IP TTL its messages arrive with at the tunnel's
				  * capture point; 0 = none seen */
} iks_diag_tunnel;

typedef struct {
	iks_result *res;
	uint16_t flags, failed;
	uint8_t stalled, hint, state;
} iks_saved_verdict;

/* Answers to one initiator cookie from different responders, none of whose requests is in the
 * capture: reflection when there are enough of them (ike_diag.c). */
typedef struct {
	uint64_t ispi;
	iks_addr target;    /* where the answers went */
	uint32_t leader;    /* its first tunnel */
	uint32_t responders;
	int64_t first_ns, last_ns;
	iks_result *early[3]; /* the first answers, until it is known to be a reflection */
	bool reflection;
} iks_answers_group;

/* Negotiations from one initiator that look like probes: the first message carries no Vendor ID
 * (IKEv1) or no Vendor ID and no Notify (IKEv2), and the initiator never went past the first
 * exchange (ike_diag.c). */
typedef struct {
	iks_addr initiator, first_responder;
	uint32_t leader;       /* its first tunnel */
	uint32_t negotiations;
	int64_t first_ns, last_ns;
	iks_result *first;     /* the first probe's latest packet when the second came: the group's finding */
	uint8_t pattern;       /* IKS_P_PROBE (one responder) / IKS_P_SCAN (several); 0 until two, and
				* for good once one of them goes past the first exchange (no scanner) */
	bool negotiates : 1;   /* one of them went past the first exchange */
} iks_probe_group;

typedef struct {
	const iks_machine *mc;
	iks_config cfg;
	iks_pool tunnels;  /* iks_diag_tunnel by tunnel index */
	GArray *finals;    /* iks_saved_verdict: what iks_diag_finish changed, to undo it */
	GHashTable *refused; /* keys of exchanges (quick modes) a refusal answered: no stall at capture end */
	GHashTable *missing; /* capture end: result -> the points it is missing at; NULL with one point */
	GHashTable *recent;  /* two capture points or more: tunnel -> its latest transmissions (first pass) */
	GHashTable *answers; /* initiator cookie -> iks_answers_group, for tunnels that start with an
			      * answer; NULL until the first */
	GHashTable *probes;  /* initiator address -> iks_probe_group, from the second negotiation that starts
			      * like a probe; NULL until then */
	GHashTable *probe_first; /* hash of an initiator address -> its first probe-like tunnel: 32 bytes
				  * an initiator, a group only from its second */
} iks_diag;

void iks_diag_init(iks_diag *d, const iks_machine *mc, const iks_config *cfg);
void iks_diag_free(iks_diag *d);
iks_diag_tunnel *iks_diag_at(const iks_diag *d, uint32_t num);

/* A tunnel's first message: what it replaces (rekey_of) or follows (a phase-2 failure). */
void iks_diag_new_tunnel(iks_diag *d, const iks_tunnel *t, const iks_msg *m);
/* One placed message's verdicts, before the machine settles it (t->tail is still the previous one). */
void iks_diag_message(iks_diag *d, const iks_step *s, const iks_msg *m, iks_result *r);
void iks_diag_icmp(iks_diag *d, const iks_tunnel *t, iks_result *r);

/* A refusal answered this exchange (a quick mode): it waits for nothing. */
bool iks_diag_refused(const iks_diag *d, const iks_exchange *e);
/* The IKE SA that traffic between a and b belongs to: the latest one up between them (a failed
 * re-negotiation does not take the ESP of the SA still up), else the latest one. */
const iks_tunnel *iks_diag_tunnel_between(const iks_diag *d, const iks_addr *a, const iks_addr *b);
/* The hint for a stall in `stalled` (the refusal's, when the peer said why). */
iks_hint iks_diag_stall_hint(const iks_diag *d, const iks_tunnel *t, uint8_t stalled);

/* Capture end (ike_final.c): verdicts on the last packets of unfinished negotiations, inferred
 * deletes; undoes the previous call's first. */
void iks_diag_finish(iks_diag *d);
/* After iks_diag_finish: the capture points (bit n: point n < 8) that saw r's tunnel before r and
 * never saw r. */
uint8_t iks_diag_missing_at(const iks_diag *d, const iks_result *r);
bool iks_diag_summary(const iks_diag *d, uint32_t num, iks_tunnel_summary *out);

/* The reflection group of tunnel t, NULL when it is in none. */
const iks_answers_group *iks_diag_reflection(const iks_diag *d, const iks_tunnel *t);
/* The probe / scan group of tunnel t, NULL when it is in none. */
const iks_probe_group *iks_diag_probes(const iks_diag *d, const iks_tunnel *t);
/* iks_pattern of tunnel t: reflection, probe, scan; 0 for a negotiation of its own. */
uint8_t iks_diag_pattern(const iks_diag *d, const iks_tunnel *t);

/* Where the capture was taken, from the TTL evidence of both sides (ike_diag.c). */
iks_captured_at iks_diag_captured_at(const iks_diag *d, const iks_tunnel *t);

#endif
