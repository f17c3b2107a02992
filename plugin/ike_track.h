/* ike_track.h — what the tracking layer keeps: a tunnel (IKE SA) and its exchanges, the labels of
 * each message (iks_result), and the per-version steps (ike_v1.c, ike_v2.c) that move them on.
 * The machine (ike_machine.h) finds the tunnel and exchange of a message and calls one step;
 * diagnosis reads all of this as const. Not part of the API.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IKE_TRACK_H
#define IKE_TRACK_H

#include "ike_names.h"
#include "ike_parse.h"

/* Result flags: one finding a bit (rendered as one field and one expert item each). */
#define IKS_R_MID_NEGOTIATION 0x01 /* tunnel first seen here, not at MM1/AM1 */
#define IKS_R_UNEXPECTED 0x02      /* message out of sequence; state kept */
#define IKS_R_PHASE1_DONE 0x04     /* completes phase 1 / IKEv2: IKE_AUTH done, READY (span.setup_ns) */
#define IKS_R_PHASE2_DONE 0x08     /* completes a quick mode / IKEv2: a CREATE_CHILD_SA (span.child_ns) */
#define IKS_R_STALL 0x10           /* a stall is established on this packet (stalled) */
#define IKS_R_FINAL 0x20           /* verdict given at capture end, on the negotiation's last packet:
				    * a stall (IKS_R_STALL) or an inferred delete (IKS_R_DELETE_INFERRED) */
#define IKS_R_FINAL_SOON 0x40      /* ... and the capture ended less than the stall timeout later */
#define IKS_R_REFUSED 0x80         /* the peer refused (failed): notify or ICMP error */
#define IKS_R_DELETED 0x100        /* deletes the IKE SA: a Delete payload seen (clear, decrypted, or the
				    * IKEv2 pattern), or inferred (IKS_R_DELETE_INFERRED) */
#define IKS_R_DELETE_INFERRED 0x200 /* capture end, IKEv1 without keys: the delete is inferred */
#define IKS_R_RESET_AFTER_P2 0x400 /* a new phase 1 right after a phase-2 failure between the peers */
/* Sightings (ike_fsm.c): the same bytes seen again are one transmission, not a message of its own. */
#define IKS_R_COPY 0x800           /* seen before at another capture point (copy_of, span.transit_ns) */
#define IKS_R_DUPLICATE 0x1000     /* seen before at this point within a millisecond: captured twice (copy_of) */
#define IKS_R_MISSING 0x2000       /* capture end: points that saw its tunnel before never saw it */
#define IKS_R_PATTERN 0x4000       /* the first packet of a pattern group (ikestate.pattern: reflection,
				    * probe, scan): its one finding */

/* Per-message labels: the snapshot the glue stores and renders (kept small on purpose). */
typedef struct {
	uint32_t tunnel; /* 1-based; 0 = not tracked */
	uint32_t retrans_of;  /* frame of the original, when retrans > 0 */
	/* A copy or duplicate answers nothing: it repeats a transmission, which holds the pairing. */
	union {
		uint32_t response_to; /* frame of the message this one answers */
		uint32_t copy_of;     /* IKS_R_COPY / IKS_R_DUPLICATE: frame of the sighting it repeats */
	};
	uint32_t response_in; /* filled in later, when the answer is seen */
	int64_t elapsed_ns;   /* since the tunnel's first packet */
	/* One time span, its meaning given by the flags (they never come together on one message). */
	union {
		int64_t setup_ns;      /* IKS_R_PHASE1_DONE: since MM1 / AM1 / IKE_SA_INIT; -1 if not seen */
		int64_t child_ns;      /* IKS_R_PHASE2_DONE: since the quick mode's / CREATE_CHILD_SA's request */
		int64_t unanswered_ns; /* failed PEER_DEAD: since the first unanswered Informational */
		int64_t transit_ns;    /* IKS_R_COPY: since the transmission's first sighting */
	} span;
	uint16_t retrans;     /* k for the k-th resend */
	uint16_t attempt;     /* n-th IKE SA between this pair of addresses */
	uint16_t failed;      /* ISAKMP notify type or IKS_F_* */
	uint16_t flags;       /* IKS_R_* */
	uint8_t msg, role, state, ios_state;
	/* Quick-mode messages: their iks_qm_state (read it with iks_qm_state_of). IKE_AUTH (IKEv2) and
	 * transaction (IKEv1) messages: the round, n-th such exchange of the IKE SA (EAP, XAUTH,
	 * mode-config). A message is never both. */
	union {
		uint8_t qm_state;
		uint8_t round;
	};
	uint8_t stalled;      /* iks_state, or IKS_STALLED_QM(iks_qm_state) */
	uint8_t hint;         /* iks_hint (ike_hints.h) */
	uint8_t seen;         /* a transmission: the capture points 0..7 that saw it (bit n: point n) */
	/* Written by the offers (ike_offers.h), as diagnosis writes its verdict fields: the number of the
	 * interned record of its clear proposals and Vendor IDs; 0 = none. Cheaper than a table from
	 * result to record, in instructions and (a third of messages carry them) in bytes. */
	uint32_t wire_rec;
} iks_result;

static inline uint8_t iks_qm_state_of(const iks_result *r)
{
	return r->msg >= IKS_M_QM1 && r->msg <= IKS_M_QM4 ? r->qm_state : 0;
}

/* IKE_AUTH or transaction messages carry a round. */
static inline bool iks_has_round(const iks_result *r)
{
	return r->msg == IKS_M_AUTH_REQ || r->msg == IKS_M_AUTH_RESP || r->msg == IKS_M_TXN_REQ || r->msg == IKS_M_TXN_RESP;
}

enum { DIR_REF = 0, DIR_OTHER = 1 }; /* direction relative to the tunnel's first sender */
enum { ROLES_UNKNOWN = 0, INIT_IS_REF, INIT_IS_OTHER };

typedef struct {
	uint64_t digest;  /* its length included (iks_parse) */
	uint32_t frame;   /* of the original */
	uint16_t count;   /* resends seen of it */
	iks_result *res;  /* its labels */
} iks_last;

/* One exchange: the phase-1 exchange of a tunnel, or one message ID after it. */
typedef struct {
	uint32_t tunnel;
	uint32_t msgid;
	uint8_t exch;
	uint8_t qm_init_dir; /* direction of the quick-mode initiator */
	uint8_t step;        /* last quick-mode position (IKS_M_QM1..QM4), IKS_M_UNKNOWN if lost */
	bool commit : 1;
	bool v2_delete : 1;  /* IKEv2 INFORMATIONAL request opening with a Delete (or VID) payload */
	uint32_t v2;         /* iks_v2_last[2] (per direction) in the machine's v2 pool, 0 until needed */
	int64_t start_ns, progress_ns;
	iks_result *tail;    /* last packet, resends included */
	iks_last last[2];    /* per direction */
} iks_exchange;

/* IKEv1 phase 1 and quick modes. */
typedef struct {
	iks_exchange *p1;         /* main / aggressive mode, allocated with its first message */
	iks_exchange *pending_qm; /* quick mode waiting for QM2 */
	uint8_t mode;             /* IKS_EXCH_MAIN / IKS_EXCH_AGGRESSIVE, 0 = not seen */
	uint8_t p1_pos;           /* furthest phase-1 position seen */
	uint8_t side_pos[2];      /* per role (0 initiator, 1 responder): position that sets its state */
	uint8_t pending_dir;      /* mid-capture: direction of the first KE/encrypted main-mode message */
	uint8_t pending_kind;     /* 0, IKS_PL_KE or IKS_FLAG_ENCRYPTED */
	uint8_t txn;              /* transaction exchanges (XAUTH, mode-config) so far */
	bool qm_seen : 1;         /* a quick mode was seen */
	bool addr_asked : 1;      /* keys: a mode-config request asked for an internal address */
	bool ra_ok : 1;           /* keys: XAUTH_STATUS OK or an address assigned */
} iks_v1_tunnel;

/* IKEv2 IKE SA setup (16 bytes: its IKE_AUTH round count is in iks_tunnel's tail). */
typedef struct {
	iks_result *ready;        /* the answer that made it READY: not final when another round follows */
	uint32_t auth_done;       /* IKE_AUTH answers that made the SA READY (each carries a child SA) */
	uint8_t state;            /* IKS_S_IN_NEG / READY / DELETE; 0 until a message is placed */
	uint8_t pos;              /* furthest IKE SA setup message (SA_INIT_REQ..AUTH_RESP) of the latest round */
	uint8_t retries;          /* IKE_SA_INIT answered with COOKIE / INVALID_KE_PAYLOAD */
	bool retry_pending : 1;   /* the initiator's next different SA_INIT request is the retry */
	bool auth_frag : 1;       /* IKE_AUTH request sent as IKEv2 fragments (SKF) */
	bool auth_big : 1;        /* IKE_AUTH request large enough to be IP-fragmented */
	bool resp_resent : 1;     /* the responder re-sent its SA_INIT / AUTH response */
	bool eap_last : 1;        /* the latest IKE_AUTH answer carried EAP: another round was due */
} iks_v2_tunnel;

/* A tunnel's ESP (ike_esp.c), allocated with its first ESP packet or NAT-T keepalive. */
typedef struct {
	uint64_t packets[2]; /* sent by the initiator / the responder (first sender / peer if unknown) */
	int64_t last_ns;
	uint32_t one_way, keepalives;
} iks_tunnel_esp;

/* Fields by size (no padding), 1-bit flags last. */
typedef struct {
	uint64_t ispi, rspi; /* ispi first: it is the hash key */
	iks_result *tail;         /* last packet, resends included */
	iks_tunnel_esp *esp;      /* NULL until ESP is seen */
	iks_addr *role_own;       /* [2], see role_at */
	int64_t first_ns, p1_start_ns, progress_ns;
	int64_t setup_ns;      /* phase-1 setup time, -1 until seen */
	iks_v1_tunnel v1;
	iks_v2_tunnel v2;
	uint32_t id;             /* 1-based, in order of first appearance (ikestate.tunnel) */
	uint32_t next_same_ispi; /* tunnels by index, 0 = none: 4 bytes a link */
	uint32_t prev_same_pair; /* the IKE SA before it between the same addresses */
	uint32_t retrans, qm_done;
	iks_addr ref;          /* address of the first sender seen: direction reference */
	iks_addr peer;         /* the other address */
	uint16_t role_port[2]; /* per role (0 initiator, 1 responder): latest port (after NAT-T) */
	uint16_t attempt;      /* n-th IKE SA between ref and peer */
	uint16_t point;        /* capture point of its first message: where ref and peer are its addresses */
	uint8_t version;
	uint8_t roles;         /* ROLES_* */
	uint8_t role_at[2];    /* per role: its latest address is ref's, peer's or in role_own (NAT, MOBIKE) */
	uint8_t auth_round;    /* IKEv2: IKE_AUTH exchanges so far (here, not in v2: no padding) */
	bool deleted : 1;      /* a Delete of the IKE SA was seen (IKEv1 or IKEv2) */
	bool p1_start_seen : 1;
	bool natt : 1;         /* a message on UDP 4500 */
	bool icmp : 1;         /* an ICMP unreachable quoted one of its messages */
	uint8_t resent : 2;    /* per sender role (bit 0 initiator, bit 1 responder): it re-sent a message */
} iks_tunnel;

static inline iks_role iks_role_of(const iks_tunnel *t, unsigned dir)
{
	if (t->roles == ROLES_UNKNOWN)
		return IKS_ROLE_UNKNOWN;
	return (dir == DIR_REF) == (t->roles == INIT_IS_REF) ? IKS_ROLE_INITIATOR : IKS_ROLE_RESPONDER;
}

static inline void iks_set_sender_role(iks_tunnel *t, unsigned dir, iks_role r)
{
	if (t->roles == ROLES_UNKNOWN)
		t->roles = (dir == DIR_REF) == (r == IKS_ROLE_INITIATOR) ? INIT_IS_REF : INIT_IS_OTHER;
}

/* IKEv2: more than one IKE_AUTH round, EAP (or multiple authentication). */
static inline bool iks_eap_rounds(const iks_tunnel *t)
{
	return t->auth_round > 1;
}

static inline bool iks_completes_phase1(uint8_t pos)
{
	return pos == IKS_M_MM6 || pos == IKS_M_AM3;
}

/* The IKE SA is up: IKEv1 phase 1 complete, IKEv2 READY (refusals are diagnosis: see is_up there). */
static inline bool iks_established(const iks_tunnel *t)
{
	return t->version == 1 ? iks_completes_phase1(t->v1.p1_pos) : t->v2.state == IKS_S_READY;
}

/* The step of one message that is neither a resend nor a fragment: labels in r; true when it moved
 * the negotiation on. */
bool iks_v1_step(iks_tunnel *t, iks_exchange *e, const iks_msg *m, unsigned dir, bool new_exchange,
		 bool new_tunnel, iks_result *r);
bool iks_v2_step(iks_tunnel *t, iks_exchange *e, const iks_msg *m, unsigned dir, bool new_exchange, iks_result *r);
/* A later IKEv2 fragment of a message (labels copied from its first): what its reassembled content
 * (keys loaded) changes. */
void iks_v2_fragment(iks_tunnel *t, const iks_msg *m, iks_result *r);

#endif
