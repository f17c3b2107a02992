/* ike_fsm_int.h — the state machine's tables, shared by the tracking (ike_fsm.c) and the
 * diagnosis (ike_diag.c). Not part of the API.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IKE_FSM_INT_H
#define IKE_FSM_INT_H

#include "ike_fsm.h"

#include <glib.h>

enum { DIR_REF = 0, DIR_OTHER = 1 }; /* direction relative to the tunnel's first sender */
enum { ROLES_UNKNOWN = 0, INIT_IS_REF, INIT_IS_OTHER };
enum { ROLE_AT_NONE = 0, ROLE_AT_REF, ROLE_AT_PEER, ROLE_AT_OWN }; /* iks_tunnel.role_at */

typedef struct {
	uint64_t digest;  /* its length included (iks_parse) */
	uint32_t frame;   /* of the original */
	uint16_t count;   /* resends seen of it */
	iks_result *res;  /* its labels */
} iks_last;

/* IKEv2 looks further back, for the resends of fragments and the packets captured twice. Most
 * exchanges need none of it: allocated with the first message that does (v2_last in ike_fsm.c). */
typedef struct {
	uint8_t frag_copies[16]; /* SKF: copies seen per fragment number (mod 16) */
	uint64_t prev_digest;    /* the latest packet in this direction, to spot capture */
	int64_t prev_ns;         /* duplicates (same bytes within 1 ms: no peer resends that fast) */
} iks_v2_last;

/* IKEv2 exchanges are keyed with this bit on the exchange type when the original responder
 * started them: both sides count message IDs from 0 (a responder's INFORMATIONAL can be ID 0). */
#define IKS_EXCH_BY_RESPONDER 0x80

/* An Informational this soon after one of the other side answers it (DPD R-U-THERE-ACK). */
#define IKS_ANSWER_NS INT64_C(1000000000)

/* One exchange: the phase-1 exchange of a tunnel, or one message ID after it. */
typedef struct {
	uint32_t tunnel;
	uint32_t msgid;
	uint8_t exch;
	uint8_t qm_init_dir; /* direction of the quick-mode initiator */
	uint8_t step;        /* last quick-mode position (IKS_M_QM1..QM4), IKS_M_UNKNOWN if lost */
	bool commit : 1;
	bool v2_delete : 1;  /* IKEv2 INFORMATIONAL request opening with a Delete (or VID) payload */
	uint32_t v2;         /* iks_v2_last[2] (per direction) in fsm->v2_pool, 0 until needed */
	int64_t start_ns, progress_ns;
	iks_result *tail;    /* last packet, resends included */
	iks_last last[2];    /* per direction */
} iks_exchange;

/* A tunnel's ESP (ike_esp.c), allocated with its first ESP packet or NAT-T keepalive. */
typedef struct {
	uint64_t packets[2]; /* sent by the initiator / the responder (first sender / peer if unknown) */
	int64_t last_ns;
	uint32_t one_way, keepalives;
} iks_tunnel_esp;

/* Fields by size (issue #6: no padding), 1-bit flags last. */
typedef struct {
	uint64_t ispi, rspi; /* ispi first: it is the hash key */
	iks_exchange *p1;         /* main / aggressive mode, allocated with its first message (IKEv2: none) */
	iks_exchange *pending_qm; /* quick mode waiting for QM2 */
	iks_result *tail;         /* last packet, resends included */
	iks_tunnel_esp *esp;      /* NULL until ESP is seen */
	iks_addr *role_own;       /* [2], see role_at */
	int64_t first_ns, p1_start_ns, progress_ns;
	int64_t setup_ns;      /* phase-1 setup time, -1 until seen */
	int64_t unanswered_ns; /* when the current run of unanswered Informationals began */
	uint32_t index;
	uint32_t next_same_ispi; /* tunnels by index (iks_tunnel_at), 0 = none: 4 bytes a link */
	uint32_t prev_same_pair; /* the IKE SA before it between the same addresses */
	uint32_t rekey_of;     /* index of the IKE SA it replaces (up when this one started), 0 = none */
	uint32_t retrans, qm_done;
	uint32_t qm_failed;    /* iks_fsm_finish: quick modes never completed */
	uint32_t child_failed;
	iks_addr ref;          /* address of the first sender seen: direction reference */
	iks_addr peer;         /* the other address */
	uint16_t role_port[2]; /* per role (0 initiator, 1 responder): latest port (after NAT-T) */
	uint16_t attempt;
	uint16_t failed;       /* first refusal seen (ikestate.failed) */
	uint8_t fail_hint;     /* and its hint */
	uint8_t final_stalled; /* set by iks_fsm_finish */
	uint8_t qm_stall;      /* iks_fsm_finish: stall of one of its unfinished quick modes */
	uint8_t unanswered[2]; /* per direction: encrypted Informationals since the other side last spoke */
	uint8_t version;
	uint8_t roles;         /* ROLES_* */
	uint8_t mode;          /* IKS_EXCH_MAIN / IKS_EXCH_AGGRESSIVE, 0 = not seen */
	uint8_t p1_pos;        /* furthest phase-1 position seen */
	uint8_t side_pos[2];   /* per role (0 initiator, 1 responder): position that sets its state */
	uint8_t role_at[2];    /* per role: its latest address is ref's, peer's or in role_own (NAT, MOBIKE) */
	uint8_t pending_dir;   /* mid-capture: direction of the first KE/encrypted main-mode message */
	uint8_t pending_kind;  /* 0, IKS_PL_KE or IKS_FLAG_ENCRYPTED */
	uint8_t v2_state;      /* IKEv2: IKS_S_IN_NEG / READY / DELETE; 0 until a message is placed */
	uint8_t v2_pos;        /* IKEv2: furthest IKE SA setup message (SA_INIT_REQ..AUTH_RESP) */
	uint8_t v2_retries;    /* IKE_SA_INIT answered with COOKIE / INVALID_KE_PAYLOAD */
	bool run_answers : 1;  /* the unanswered run began right after an Informational of the other side (DPD ACK) */
	bool deleted : 1;      /* a Delete of the IKE SA was seen (IKEv1 or IKEv2) */
	bool deleted_inferred : 1; /* iks_fsm_finish: IKEv1, from the last Informationals and what follows */
	bool p1_start_seen : 1;
	bool natt : 1;         /* a message on UDP 4500 */
	bool icmp : 1;         /* an ICMP unreachable quoted one of its messages */
	bool p2_failed : 1;    /* a quick mode was refused */
	bool reset_after_p2 : 1; /* started right after a phase-2 failure between the same peers */
	bool v2_retry_pending : 1; /* the initiator's next different SA_INIT request is the retry (v2_retries) */
	bool v2_auth_frag : 1; /* IKE_AUTH request sent as IKEv2 fragments (SKF) */
	bool v2_auth_big : 1;  /* IKE_AUTH request large enough to be IP-fragmented */
	bool v2_resp_resent : 1; /* the responder re-sent its SA_INIT / AUTH response */
} iks_tunnel;

typedef struct {
	iks_result *res;
	uint16_t flags;
	uint8_t stalled, hint, state;
} iks_saved_verdict;

/* Items of one size in blocks, found by their 1-based index (0: none): 4 bytes where a pointer
 * takes 8. They live as long as the machine. */
typedef struct {
	GPtrArray *blocks;
	uint32_t n; /* items so far */
	uint32_t size;
} iks_pool;

struct iks_fsm {
	iks_config cfg;
	GHashTable *tunnels;   /* ispi -> first iks_tunnel with that ispi */
	GHashTable *exchanges; /* (tunnel, msgid, exch) -> iks_exchange */
	GHashTable *pairs;     /* the latest iks_tunnel between each two addresses (ike_diag.c) */
	iks_pool tunnel_pool;  /* iks_tunnel, by index (iks_tunnel_at) */
	iks_pool v2_pool;      /* iks_v2_last[2] (iks_exchange.v2) */
	GSList *blocks;        /* iks_result[RESULTS_PER_BLOCK] */
	unsigned used;         /* results used in the head block */
	GSList *arena;         /* blocks of iks_alloc, the newest first */
	size_t arena_left;     /* bytes left in the newest */
	int64_t last_ns;       /* newest packet time: the capture end for final verdicts */
	GArray *finals;        /* iks_saved_verdict: what iks_fsm_finish changed, to undo it */
	GHashTable *esp_sas;   /* iks_esp_sa (src, dst, spi) -> itself; created with the first ESP packet */
	GHashTable *esp_pairs; /* iks_esp_sa (src, dst, 0): ESP went from src to dst */
	GHashTable *esp_spis;  /* iks_esp_sa (0, receiver, spi) announced in a decrypted message: tunnel, frame */
	iks_esp_sa *esp_last;  /* SA of the latest ESP packet */
};

bool iks_addr_eq(const iks_addr *a, const iks_addr *b);
guint iks_addr_pair_hash(guint seed, const iks_addr *a, const iks_addr *b);
bool iks_has_notify(const iks_msg *m, unsigned type);
bool iks_completes_phase1(uint8_t pos);
bool iks_v2_child_error(unsigned type);
uint8_t iks_state_after(uint8_t pos);
uint8_t iks_ios_after(uint8_t pos);
iks_result *iks_new_result(iks_fsm *fsm);
void *iks_alloc(iks_fsm *fsm, size_t size);
iks_tunnel *iks_tunnel_at(const iks_fsm *fsm, uint32_t index);
iks_role iks_role_of(const iks_tunnel *t, unsigned dir);
iks_addr iks_role_addr(const iks_tunnel *t, unsigned role);

/* Diagnosis (ike_diag.c), called by the tracking. */
void iks_diag_new_tunnel(iks_fsm *fsm, iks_tunnel *t, const iks_msg *m);
void iks_diag_message(iks_fsm *fsm, iks_tunnel *t, iks_exchange *e, const iks_msg *m, unsigned dir,
		      bool progressed, iks_result *r);
void iks_diag_free(iks_fsm *fsm);
iks_hint iks_v2_stall_hint(const iks_tunnel *t);
const iks_tunnel *iks_diag_tunnel_between(const iks_fsm *fsm, const iks_addr *a, const iks_addr *b);

/* ESP data plane (ike_esp.c). */
void iks_esp_finish(iks_fsm *fsm);
void iks_esp_note_spis(iks_fsm *fsm, const iks_msg *m, const iks_result *r);
void iks_esp_free(iks_fsm *fsm);

#endif
