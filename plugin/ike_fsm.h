/* ike_fsm.h — IKE negotiation state machine, free of any Wireshark include.
 *
 * The epan glue (packet-ikestate.c) turns every ISAKMP message it sees on the first pass into an
 * iks_msg and feeds it here, in capture order. The machine owns the tunnel table and returns an
 * iks_result: the labels the glue stores as the packet's snapshot and renders on every pass.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IKE_FSM_H
#define IKE_FSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ISAKMP exchange types (RFC 2408 §3.1, RFC 2409, RFC 7296). */
enum {
	IKS_EXCH_MAIN = 2,
	IKS_EXCH_AGGRESSIVE = 4,
	IKS_EXCH_INFO = 5,
	IKS_EXCH_TRANSACTION = 6,
	IKS_EXCH_QUICK = 32,
	IKS_EXCH_IKE_SA_INIT = 34,
	IKS_EXCH_IKE_AUTH = 35,
	IKS_EXCH_CREATE_CHILD_SA = 36,
	IKS_EXCH_INFORMATIONAL = 37,
};

/* IKEv1 header flags. */
#define IKS_FLAG_ENCRYPTED 0x01
#define IKS_FLAG_COMMIT 0x02
/* IKEv2 header flags. */
#define IKS_FLAG_V2_INITIATOR 0x08
#define IKS_FLAG_V2_RESPONSE 0x20

/* IKEv1 payload types that tell messages apart. */
enum {
	IKS_PL_SA = 1,
	IKS_PL_KE = 4,
	IKS_PL_ID = 5,
	IKS_PL_HASH = 8,
	IKS_PL_NONCE = 10,
	IKS_PL_NOTIFY = 11,
	IKS_PL_DELETE = 12,
	IKS_PL_VID = 13,
	IKS_PL_NATD = 20,
	IKS_PL_CISCO_FRAG = 132, /* Cisco IKEv1 fragmentation */
};

/* IKEv2 payload types (RFC 7296 §3.2, RFC 7383). */
enum {
	IKS_PL2_SA = 33,
	IKS_PL2_KE = 34,
	IKS_PL2_IDR = 36,
	IKS_PL2_NOTIFY = 41,
	IKS_PL2_DELETE = 42,
	IKS_PL2_VID = 43,
	IKS_PL2_SK = 46,
	IKS_PL2_EAP = 48,
	IKS_PL2_SKF = 53, /* IKEv2 fragment */
};
#define IKS_EXCH_IKE_INTERMEDIATE 43 /* RFC 9242 */

#define IKS_ISAKMP_HDR_LEN 28
#define IKS_MAX_NOTIFY 8 /* IKE_SA_INIT carries 5 or 6 status notifies before any error */
#define IKS_MAX_SPI 4

typedef struct {
	uint8_t len; /* 4 or 16; 0 = unknown */
	uint8_t bytes[16];
	uint16_t port;
} iks_addr;

/* One observed ISAKMP message. */
typedef struct {
	uint32_t frame;
	int64_t ts_ns; /* absolute capture time */
	iks_addr src, dst;
	uint64_t ispi, rspi;
	uint8_t version; /* major version: 1 or 2 */
	uint8_t exch;
	uint8_t flags;
	uint8_t first_payload;
	uint32_t msgid;
	uint32_t length;     /* header length field */
	uint64_t payloads;   /* bit n set: clear payload of type n (< 64) present; a Delete (12, 42)
			      * only when it deletes the IKE SA itself (protocol 1). The glue sets
			      * those two bits for decrypted Deletes of the IKE SA. */
	uint16_t notify[IKS_MAX_NOTIFY]; /* notify message types seen (clear or decrypted) */
	uint8_t n_notify;
	uint64_t digest; /* content hash of the whole message, length included: retransmission detection */
	/* IKEv2: the SK / SKF payload's next-payload field names the first payload inside it, so
	 * the kind of an encrypted message shows without keys (0: empty, or no SK). */
	uint8_t sk_first;
	uint16_t frag_num, frag_total; /* SKF fragment number / total; 0 = not an IKEv2 fragment */
	/* 4-byte SPIs of the SA proposals, set by the glue when Wireshark decrypted the message (a quick
	 * mode, CREATE_CHILD_SA, IKE_AUTH): each is an inbound ESP SPI of the message's sender. */
	uint32_t spi[IKS_MAX_SPI];
	uint8_t n_spi;
} iks_msg;

/* Message position within its exchange (ikestate.msg). */
typedef enum {
	IKS_M_NONE = 0,
	IKS_M_UNKNOWN, /* "?" */
	IKS_M_MM1, IKS_M_MM2, IKS_M_MM3, IKS_M_MM4, IKS_M_MM5, IKS_M_MM6,
	IKS_M_AM1, IKS_M_AM2, IKS_M_AM3,
	IKS_M_QM1, IKS_M_QM2, IKS_M_QM3, IKS_M_QM4,
	IKS_M_INFO,
	IKS_M_TXN,
	/* IKEv2: exchange and request / response (R flag). */
	IKS_M_SA_INIT_REQ, IKS_M_SA_INIT_RESP, IKS_M_AUTH_REQ, IKS_M_AUTH_RESP,
	IKS_M_CHILD_REQ, IKS_M_CHILD_RESP, IKS_M_INFO_REQ, IKS_M_INFO_RESP,
	IKS_M_INTER_REQ, IKS_M_INTER_RESP,
	IKS_M__COUNT
} iks_msgpos;

typedef enum { IKS_ROLE_UNKNOWN = 0, IKS_ROLE_INITIATOR, IKS_ROLE_RESPONDER } iks_role;

/* ASA phase-1 states (ikestate.state); IKEv2: the Cisco IKE SA status (§2.5). */
typedef enum {
	IKS_S_NONE = 0,
	IKS_S_MM_WAIT_MSG2, IKS_S_MM_WAIT_MSG3, IKS_S_MM_WAIT_MSG4,
	IKS_S_MM_WAIT_MSG5, IKS_S_MM_WAIT_MSG6, IKS_S_MM_ACTIVE,
	IKS_S_AM_WAIT_MSG2, IKS_S_AM_WAIT_MSG3, IKS_S_AM_ACTIVE,
	IKS_S_IN_NEG, IKS_S_READY, IKS_S_DELETE,
	IKS_S_DELETED, /* IKEv1: the IKE SA was deleted (Delete payload seen, or inferred) */
	IKS_S__COUNT
} iks_state;

/* IOS/PIX display states (ikestate.ios_state). */
typedef enum {
	IKS_IOS_NONE = 0,
	IKS_IOS_MM_NO_STATE, IKS_IOS_MM_SA_SETUP, IKS_IOS_MM_KEY_EXCH,
	IKS_IOS_AG_NO_STATE, IKS_IOS_AG_INIT_EXCH, IKS_IOS_QM_IDLE,
	IKS_IOS__COUNT
} iks_ios_state;

/* Quick-mode states (ikestate.qm_state). */
typedef enum {
	IKS_QM_NONE = 0, IKS_QM_WAIT_MSG2, IKS_QM_WAIT_MSG3, IKS_QM_ACTIVE, IKS_QM__COUNT
} iks_qm_state;

/* Result flags. */
#define IKS_R_MID_NEGOTIATION 0x01 /* tunnel first seen here, not at MM1/AM1 */
#define IKS_R_UNEXPECTED 0x02      /* message out of sequence; state kept */
#define IKS_R_PHASE1_DONE 0x04     /* completes phase 1 / IKEv2: IKE_AUTH done, READY (setup_ns) */
#define IKS_R_PHASE2_DONE 0x08     /* completes a quick mode / IKEv2: a CREATE_CHILD_SA (setup_ns: since its request) */
#define IKS_R_STALL 0x10           /* a stall is established on this packet (stalled) */
#define IKS_R_FINAL 0x20           /* verdict given at capture end, on the negotiation's last packet:
				    * a stall (IKS_R_STALL) or an inferred delete (IKS_R_DELETED) */
#define IKS_R_FINAL_SOON 0x40      /* ... and the capture ended less than the stall timeout later */
#define IKS_R_REFUSED 0x80         /* the peer refused (failed): notify or ICMP error */
#define IKS_R_DELETED 0x100        /* deletes the IKE SA: a Delete payload seen (clear, decrypted, or the
				    * IKEv2 pattern), or inferred at capture end (hint IKS_H_DELETE_INFERRED) */

/* ikestate.failed codes above the notify range (1..16383 are ISAKMP error notify types;
 * IKEv2 notify types, whose names differ, are IKS_F_V2 | type). */
#define IKS_F_V2 0x8000
enum {
	IKS_F_ICMP_UNREACHABLE = 0xff01, /* ICMP unreachable quoting a message of the negotiation */
	IKS_F_PHASE1_REJECTED,           /* encrypted notify answering MM5 / AM2 (PSK or identity) */
	IKS_F_PHASE2_REJECTED,           /* encrypted notify where QM2 was expected */
	IKS_F_PEER_DEAD,                 /* encrypted Informationals (DPD) left unanswered */
	IKS_F_AUTH_REJECTED,             /* IKEv2: IKE_AUTH answered by notifies only (no IDr), no keys */
	IKS_F_CHILD_REJECTED,            /* IKEv2: CREATE_CHILD_SA answered by notifies only, no keys */
};

/* Hints: one or two sentences each, chosen from state, role and evidence (ike_diag.c). */
typedef enum {
	IKS_H_NONE = 0,
	IKS_H_NO_MM2, IKS_H_NO_MM2_ICMP, IKS_H_MM2_LOST, IKS_H_NO_MM4, IKS_H_NO_MM5, IKS_H_MM5_UNUSABLE, IKS_H_NO_MM6,
	IKS_H_NO_MM6_NATT, IKS_H_NO_AM2, IKS_H_NO_AM3, IKS_H_NO_QM2, IKS_H_NO_QM3,
	IKS_H_P1_NO_PROPOSAL, IKS_H_P2_NO_PROPOSAL, IKS_H_INVALID_COOKIE, IKS_H_P1_AUTH, IKS_H_P1_ID,
	IKS_H_P2_PROXY_ID, IKS_H_NOTIFY, IKS_H_P1_REJECTED_MM5, IKS_H_P1_REJECTED_AM2, IKS_H_P2_REJECTED,
	IKS_H_P1_RESET_AFTER_P2, IKS_H_PEER_DEAD,
	IKS_H_V2_NO_INIT_RESP, IKS_H_V2_INIT_RESP_LOST, IKS_H_V2_NO_AUTH_REQ, IKS_H_V2_RETRY_LOOP,
	IKS_H_V2_INIT_NO_PROPOSAL, IKS_H_V2_MAJOR_VERSION, IKS_H_V2_NO_AUTH_RESP, IKS_H_V2_NO_AUTH_RESP_NATT,
	IKS_H_V2_NO_AUTH_RESP_IKEFRAG, IKS_H_V2_NO_AUTH_RESP_BIG, IKS_H_V2_AUTH_RESP_LOST, IKS_H_V2_AUTH_FAILED,
	IKS_H_V2_AUTH_REJECTED, IKS_H_V2_TS, IKS_H_V2_CHILD_NO_PROPOSAL, IKS_H_V2_CHILD_REJECTED, IKS_H_V2_CP,
	IKS_H_V2_REDIRECT, IKS_H_V2_SYNTAX, IKS_H_V2_INVALID_SPI, IKS_H_V2_PEER_DEAD,
	IKS_H_ESP_ONE_WAY, IKS_H_DELETE_INFERRED,
	IKS_H__COUNT
} iks_hint;

/* Per-message labels: the snapshot the glue stores and renders (kept small on purpose). */
typedef struct {
	uint32_t tunnel; /* 1-based; 0 = not tracked */
	uint32_t retrans_of;  /* frame of the original, when retrans > 0 */
	uint32_t response_to; /* frame of the message this one answers */
	uint32_t response_in; /* filled in later, when the answer is seen */
	int64_t elapsed_ns;   /* since the tunnel's first packet */
	int64_t setup_ns;     /* with IKS_R_PHASE1/2_DONE; -1 if the start was not seen. With failed
			       * PEER_DEAD: time since the first unanswered Informational */
	uint16_t retrans;     /* k for the k-th resend */
	uint16_t attempt;     /* n-th IKE SA between this pair of addresses */
	uint16_t failed;      /* ISAKMP notify type or IKS_F_* */
	uint16_t flags;       /* IKS_R_* */
	uint8_t msg, role, state, ios_state, qm_state;
	uint8_t stalled;      /* iks_state, or IKS_S__COUNT + iks_qm_state */
	uint8_t hint;         /* iks_hint */
} iks_result;

typedef struct {
	unsigned stall_retransmissions; /* the k-th resend with k >= this establishes a stall */
	int64_t stall_timeout_ns;       /* no progress for longer establishes a stall */
} iks_config;

#define IKS_DEFAULT_STALL_RETRANSMISSIONS 2
#define IKS_DEFAULT_STALL_TIMEOUT_S 30

typedef struct iks_fsm iks_fsm;

iks_fsm *iks_fsm_new(const iks_config *cfg); /* NULL: defaults */
void iks_fsm_free(iks_fsm *fsm);

/* Advance the machine with one message, in capture order. The result is owned by the machine and
 * stays valid until iks_fsm_free; it may still change later: response_in when the answer comes,
 * and the capture-end verdict of iks_fsm_finish. NULL when the message cannot be tracked. */
iks_result *iks_fsm_feed(iks_fsm *fsm, const iks_msg *m);

/* An ICMP destination unreachable quoting an ISAKMP header (cookies only are needed). NULL when
 * the cookies belong to no known tunnel. */
iks_result *iks_fsm_icmp(iks_fsm *fsm, int64_t ts_ns, uint64_t ispi, uint64_t rspi);

/* Capture-end verdicts: negotiations that never completed get one on their last packet. Can be
 * called again after more messages were fed (live capture); the previous verdicts are replaced. */
void iks_fsm_finish(iks_fsm *fsm);

uint32_t iks_fsm_tunnel_count(const iks_fsm *fsm);

/* ESP data plane (issue #9): one direction of an IPsec SA as the wire shows it. */
typedef struct {
	iks_addr src, dst; /* ports cleared: NAT-T moves them */
	uint32_t spi;      /* 0: NAT-T keepalives between these addresses (RFC 3948 §2.3) */
	uint32_t tunnel;   /* IKE SA that negotiated the SPI (decrypted), else the one up between the two
			    * addresses at its first packet; 0 = none seen */
	uint32_t negotiated_in; /* frame of the decrypted message that announced the SPI; 0 = unknown */
	uint8_t role;      /* sender's iks_role in that IKE SA */
	bool udp;          /* ESP-in-UDP (NAT-T) */
	bool one_way;      /* iks_fsm_finish: IKS_ESP_ONE_WAY_MIN packets or more, and no ESP came back */
	uint32_t packets;
	uint64_t bytes;
	int64_t first_ns, last_ns;
	uint32_t first_frame, last_frame;
} iks_esp_sa;

#define IKS_ESP_ONE_WAY_MIN 4

/* Count one ESP packet (spi != 0) or NAT-T keepalive (spi 0), in capture order with the ISAKMP
 * messages. The SA is owned by the machine and stays valid until iks_fsm_free. */
const iks_esp_sa *iks_fsm_esp(iks_fsm *fsm, uint32_t frame, int64_t ts_ns, const iks_addr *src, const iks_addr *dst,
			      uint32_t spi, uint32_t len, bool udp);

/* The SA a later pass finds for an ESP packet; NULL if never fed. */
const iks_esp_sa *iks_fsm_esp_sa(const iks_fsm *fsm, const iks_addr *src, const iks_addr *dst, uint32_t spi);

/* The IKE SA that tunnel `index` replaces: the previous one between the same peers, still up when
 * this one started (phase 1 complete / READY, not refused); 0 = none. Fixed at its first packet. */
uint32_t iks_fsm_rekey_of(const iks_fsm *fsm, uint32_t index);

/* One IKE SA as `show crypto isakmp sa` would summarise it, from the same machine that labels the
 * packets. Call iks_fsm_finish first: stall and failed quick modes are capture-end facts. */
typedef struct {
	uint16_t attempt;
	uint8_t version;       /* 1 or 2 */
	uint8_t mode;          /* IKS_EXCH_MAIN / IKS_EXCH_AGGRESSIVE / 0 (always 0 for IKEv2) */
	bool roles_known;      /* else initiator/responder are first sender / its peer */
	iks_addr initiator, responder; /* latest address:port seen (after the NAT-T float) */
	int64_t first_ns;      /* absolute */
	int64_t setup_ns;      /* phase-1 setup time, -1 if not seen complete from MM1/AM1 (v2: IKE_SA_INIT) */
	uint8_t state, ios_state; /* where phase 1 got to: state of the sender of its furthest message;
				   * IKEv2: IN-NEG / READY / DELETE, no IOS state */
	uint32_t qm_done, qm_failed, retrans; /* IKEv2: child SAs created / refused */
	uint8_t stalled;       /* iks_stalled_name(); 0 = none */
	uint16_t failed;       /* iks_failed_name(); 0 = none */
	uint8_t hint;          /* iks_hint_text() */
	uint32_t rekey_of;     /* iks_fsm_rekey_of() */
	bool deleted;          /* a Delete of the IKE SA was seen (IKEv2, or decrypted), or inferred */
	uint64_t esp_out, esp_in; /* ESP packets sent by the initiator / by the responder */
	uint32_t esp_one_way;  /* ESP SAs flagged one-way */
	uint32_t keepalives;   /* NAT-T keepalives between the peers */
} iks_tunnel_summary;

/* index: 1..iks_fsm_tunnel_count(). False for an unknown index. */
bool iks_fsm_summary(const iks_fsm *fsm, uint32_t index, iks_tunnel_summary *out);

/* Fill the header facts of *m from the raw ISAKMP message (first byte = initiator cookie).
 * caplen = bytes available. Returns false when there is no complete ISAKMP header. Walks the
 * clear payload chain of unencrypted messages (bounded, tolerant of garbage). */
bool iks_parse(const uint8_t *buf, size_t caplen, iks_msg *m);

const char *iks_msg_name(unsigned m);
const char *iks_role_name(unsigned r);
const char *iks_state_name(unsigned s);
const char *iks_ios_state_name(unsigned s);
const char *iks_qm_state_name(unsigned s);
const char *iks_stalled_name(unsigned s);
const char *iks_failed_name(unsigned f); /* NULL for 0; "NOTIFY_<n>" style for unnamed types */
const char *iks_hint_text(unsigned h);

#endif
