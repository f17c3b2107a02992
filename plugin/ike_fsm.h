/* ike_fsm.h — the core's API: an IKE negotiation analyser free of any Wireshark include.
 *
 * The epan glue (packet-ikestate.c) turns every ISAKMP message it sees on the first pass into an
 * iks_msg and feeds it here, in capture order. The analyser owns the tunnel table and returns an
 * iks_result: the labels the glue stores as the packet's snapshot and renders on every pass.
 * Layers and what flows where: docs/architecture.md.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IKE_FSM_H
#define IKE_FSM_H

#include "ike_hints.h"
#include "ike_names.h"
#include "ike_parse.h"
#include "ike_registry.h"
#include "ike_track.h"

typedef struct {
	unsigned stall_retransmissions; /* the k-th resend with k >= this establishes a stall */
	int64_t stall_timeout_ns;       /* no progress for longer establishes a stall */
	/* The same bytes at another capture point this close in time (either way: the clocks of two
	 * machines differ) are one transmission seen twice; 0: never. */
	int64_t sighting_window_ns;
	/* An exchange that has seen no message for this long is forgotten (its memory reused): a long
	 * capture's memory follows the live exchanges. A message for it later starts it afresh. 0: never. */
	int64_t exchange_expiry_ns;
} iks_config;

#define IKS_DEFAULT_STALL_RETRANSMISSIONS 2
#define IKS_DEFAULT_STALL_TIMEOUT_S 30
#define IKS_DEFAULT_SIGHTING_WINDOW_MS 2000
/* Longer than the longest gap between two resends of one message known (IBM AIX: 512 s, in
 * ike-scan's back-off patterns; strongSwan's default: 42 s, then 76 s until it gives up). */
#define IKS_DEFAULT_EXCHANGE_EXPIRY_S 600

typedef struct iks_fsm iks_fsm;

/* Where a capture was taken, as one IKE SA's packets show it (ikestate.captured_at): a sender next to
 * the capture point shows an initial IP TTL (64, 128, 255; 32), a sender behind routers a smaller one. */
typedef struct {
	uint8_t at;      /* iks_at */
	uint8_t ttl[2];  /* per sender role (0 initiator): the TTL its messages arrive with; 0 = none seen */
	uint8_t hops[2]; /* per sender role: routers between it and the capture point */
	bool varies[2];  /* per sender role: its TTL was not always the same */
} iks_captured_at;

iks_fsm *iks_fsm_new(const iks_config *cfg); /* NULL: defaults */
void iks_fsm_free(iks_fsm *fsm);

/* Advance the analyser with one message, in capture order. The result is owned by the analyser and
 * stays valid until iks_fsm_free; it may still change later: response_in when the answer comes,
 * and the capture-end verdict of iks_fsm_finish. NULL when the message cannot be tracked. */
iks_result *iks_fsm_feed(iks_fsm *fsm, const iks_msg *m);

/* Before a message with proposals or Vendor IDs is fed: when its SA and Vendor ID bytes were seen
 * before (same version, byte for byte), the number of what they parse into, to go in m->wire_rec
 * instead of parsing them into m->wire; 0: parse them (iks_parse_wire). */
uint32_t iks_fsm_wire_seen(const iks_fsm *fsm, const iks_msg *m);
#define IKS_WIRE_SEEN_MAX 4096 /* distinct byte sets remembered; later ones are parsed every time */

/* A result's id (1-based, in the order results were made; 0: none of this analyser's): 4 bytes
 * where a pointer takes 8, for the glue's frame index. */
uint32_t iks_fsm_result_id(const iks_fsm *fsm, const iks_result *r);
const iks_result *iks_fsm_result(const iks_fsm *fsm, uint32_t id); /* NULL: no such result */

/* An ICMP destination unreachable quoting an ISAKMP header (cookies only are needed). NULL when
 * the cookies belong to no known tunnel. */
iks_result *iks_fsm_icmp(iks_fsm *fsm, int64_t ts_ns, uint64_t ispi, uint64_t rspi);

/* Capture-end verdicts: negotiations that never completed get one on their last packet. Can be
 * called again after more messages were fed (live capture); the previous verdicts are replaced. */
void iks_fsm_finish(iks_fsm *fsm);

uint32_t iks_fsm_tunnel_count(const iks_fsm *fsm);

/* The capture points messages were fed from (bit n: point n, points above 63 as 63). */
uint64_t iks_fsm_points(const iks_fsm *fsm);
/* After iks_fsm_finish: the capture points (bit n: point n < 8) that saw a message of r's tunnel
 * before r and never saw r (IKS_R_MISSING); 0 for none. */
uint8_t iks_fsm_missing_at(const iks_fsm *fsm, const iks_result *r);

/* The proposals a message carries in the clear (the glue set m->wire when it fed it): an offer
 * (MM1, AM1, IKE_SA_INIT request) or a choice (MM2, AM2, IKE_SA_INIT response); NULL for none. */
const iks_offer *iks_fsm_offer(const iks_fsm *fsm, const iks_result *r);
/* The child SA a decrypted message negotiates (the glue set m->child): quick mode, IKE_AUTH or
 * CREATE_CHILD_SA request (offer) or answer (choice); NULL for none. */
const iks_child *iks_fsm_child(const iks_fsm *fsm, const iks_result *r);
/* What differs, on a phase-1 NO_PROPOSAL_CHOSEN (the initiator's offer) or an IKEv2
 * INVALID_KE_PAYLOAD (the group asked for, the KE sent), and with keys on a child SA's
 * NO_PROPOSAL_CHOSEN (its proposals) or INVALID_ID_INFORMATION / TS_UNACCEPTABLE (its selectors),
 * against what the refusing side accepted or asked for itself earlier; NULL for none. */
const char *iks_fsm_mismatch(const iks_fsm *fsm, const iks_result *r);
/* iks_pattern of tunnel num: no negotiation of its own (a reflection); 0 = a negotiation. */
uint8_t iks_fsm_pattern(const iks_fsm *fsm, uint32_t num);
/* Where the capture was taken, for tunnel num (1-based); false for no such tunnel. */
bool iks_fsm_captured_at(const iks_fsm *fsm, uint32_t num, iks_captured_at *out);
/* Keys loaded: the EAP / configuration payload r's message carried; false when it had none. */
bool iks_fsm_ra(const iks_fsm *fsm, const iks_result *r, iks_ra *out);
/* The sender's implementation, from the Vendor IDs of this message; NULL when it has none. */
const iks_impl *iks_fsm_impl(const iks_fsm *fsm, const iks_result *r);

/* ESP data plane: one direction of an IPsec SA as the wire shows it. */
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
 * messages. The SA is owned by the analyser and stays valid until iks_fsm_free. */
const iks_esp_sa *iks_fsm_esp(iks_fsm *fsm, uint32_t frame, int64_t ts_ns, const iks_addr *src, const iks_addr *dst,
			      uint32_t spi, uint32_t len, bool udp);

/* The SA a later pass finds for an ESP packet; NULL if never fed. */
const iks_esp_sa *iks_fsm_esp_sa(const iks_fsm *fsm, const iks_addr *src, const iks_addr *dst, uint32_t spi);

/* The IKE SA that tunnel `index` replaces: the previous one between the same peers, still up when
 * this one started (phase 1 complete / READY, not refused); 0 = none. Fixed at its first packet. */
uint32_t iks_fsm_rekey_of(const iks_fsm *fsm, uint32_t num);

/* One IKE SA as `show crypto isakmp sa` would summarise it, from the same analyser that labels the
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
	uint16_t recovered_from; /* a refusal the negotiation completed after (failed is then 0) */
	uint8_t hint;          /* iks_hint_text() */
	uint32_t rekey_of;     /* iks_fsm_rekey_of() */
	bool deleted;          /* a Delete of the IKE SA was seen (IKEv2, or decrypted), or inferred */
	uint64_t esp_out, esp_in; /* ESP packets sent by the initiator / by the responder */
	uint32_t esp_one_way;  /* ESP SAs flagged one-way */
	uint32_t keepalives;   /* NAT-T keepalives between the peers */
	iks_impl impl[2];      /* the initiator's, the responder's implementation (Vendor IDs); only
				* when the roles are known */
	uint8_t pattern;       /* iks_pattern_name(): no negotiation of its own; 0 = a negotiation */
	uint32_t group_leader; /* reflection: the group's first tunnel (its one summary row) */
	uint32_t group_size;   /* reflection: the IKE SAs (responders) answering the one initiator cookie */
	int64_t group_span_ns; /* reflection: from the first answer to the last */
	uint64_t group_ispi;   /* reflection: the initiator cookie */
} iks_tunnel_summary;

/* index: 1..iks_fsm_tunnel_count(). False for an unknown index. */
bool iks_fsm_summary(const iks_fsm *fsm, uint32_t num, iks_tunnel_summary *out);

/* What a negotiation's verdict is made of (the summary's, or what its packets said so far). */
typedef struct {
	uint16_t failed, recovered_from;
	uint8_t stalled;
	bool placed;      /* one of its messages could be placed */
	bool esp_one_way;
	uint8_t pattern;  /* iks_pattern: no negotiation of its own */
} iks_verdict;

/* "REFLECTION" (a pattern), "FAILED: <reason>", "STALLED in <state>", "ESP ONE-WAY", "?" when none
 * of its messages could be placed, "OK, recovered from <reason>", "OK". The summary and the stats tree print it. */
const char *iks_verdict_text(char *buf, size_t len, const iks_verdict *v);
/* What a pattern group (reflection, probe, scan) is, its initiator written as `who`: the summary's
 * hint and the group's expert item. NULL for none. */
const char *iks_pattern_text(char *buf, size_t len, const iks_tunnel_summary *s, const char *who);
/* The verdict of a summary. */
iks_verdict iks_summary_verdict(const iks_tunnel_summary *s);

#endif
