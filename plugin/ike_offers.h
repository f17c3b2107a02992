/* ike_offers.h — what each side offered and chose in the clear, and which implementation it runs
 * (its Vendor IDs): kept per message, for its fields, and per tunnel (the initiator's offer, the
 * responder's choice, each role's implementation), for the summary and the mismatch diagnosis. Fed once per placed message, on the first pass. Not part of the API.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IKE_OFFERS_H
#define IKE_OFFERS_H

#include "ike_machine.h"

/* Per tunnel. */
typedef struct {
	const iks_offer *offered; /* the initiator's latest offer (MM1, AM1, IKE_SA_INIT request) */
	const iks_offer *chosen;  /* the responder's choice (MM2, AM2, IKE_SA_INIT response) */
	iks_impl impl[2];         /* per role (0 initiator, 1 responder) */
	uint16_t ke_group;        /* IKEv2: the KE group of the initiator's latest IKE_SA_INIT */
} iks_offer_tunnel;

/* What one message carries (owned; its offer cut after offer.n). */
typedef struct {
	iks_impl impl;
	iks_offer offer;
} iks_wire_rec;

typedef struct {
	iks_pool tunnels;      /* iks_offer_tunnel by tunnel index, up to the last tunnel with proposals or
				* Vendor IDs in the clear */
	GHashTable *interned;  /* one copy of each distinct iks_wire_rec (owned) -> its number: peers
				* send the same offer and Vendor IDs in every attempt and resend (a
				* flood: in every MM1) */
	GPtrArray *recs;       /* the interned records by number - 1 (iks_result.wire_rec) */
	GHashTable *by_digest; /* iks_msg.wire_digest -> the SA and Vendor ID bytes it was taken of and
				* the number of the record they parse into (owned): the next message with
				* those bytes is not parsed (two thirds of the cost of a message with
				* proposals). At most IKS_WIRE_SEEN_MAX: a capture's peer configurations
				* are a few dozen, a flood of random offers would keep every one */
	GHashTable *mismatch;  /* iks_result -> what its refusal is compared with (owned); the text is
				* written when first asked for */
	GHashTable *accepted;  /* iks_accepted by responder address, version and what: its latest choice
				* of an IKE SA proposal and of a child SA (any peer, and per peer), and
				* the child SA it last asked a peer for itself; a later refusal by the
				* same side is compared with them. (What a side offered for an IKE SA
				* is found through the earlier tunnels between the two addresses: no
				* record per initiator address, which a spoofed flood has millions of.) */
	GHashTable *children;  /* iks_result -> its decrypted child SA (owned iks_child); NULL until the
				* first: only keyed captures pay */
	GHashTable *child_req; /* tunnel number -> its latest child SA request (iks_child_req); created
				* with children */
} iks_offers;

void iks_offers_init(iks_offers *o);
void iks_offers_free(iks_offers *o);
/* The number of the record m's SA and Vendor ID bytes parse into, when a message with the same
 * bytes (and version) was parsed and noted before; 0: parse them (iks_parse_wire). */
uint32_t iks_offers_seen(const iks_offers *o, const iks_msg *m);
/* One placed message (not a copy or duplicate) with r's labels set: its record is m->wire's, else
 * m->wire_rec (iks_offers_seen). */
void iks_offers_note(iks_offers *o, const iks_tunnel *t, const iks_msg *m, iks_result *r);
/* After iks_offers_note: a phase-1 NO_PROPOSAL_CHOSEN gets the initiator's offer as its text and,
 * when the same responder chose a proposal earlier in the capture (for this peer or another), what
 * that was and which items of it the refused offer lacks, else when it offered proposals itself to
 * this peer in an earlier tunnel, the closest of them and what differs; an IKEv1 Informational that refuses phase 1
 * after the choice (MM5, AM3) the authentication method chosen when its sender's own offer has
 * none like it (a PSK side and a certificate side: implementations that do not match the method at
 * MM1 fail at MM5); an IKEv2 INVALID_KE_PAYLOAD the group
 * asked for against the KE sent and the groups offered. With keys, the same for a child SA refused
 * (NO_PROPOSAL_CHOSEN: its ESP / AH proposals; INVALID_ID_INFORMATION, TS_UNACCEPTABLE: its
 * selectors, against those the refusing side accepted from this peer or asked it for itself). */
void iks_offers_explain(iks_offers *o, const iks_machine *mc, const iks_tunnel *t, const iks_msg *m,
			const iks_result *r);
const char *iks_offers_mismatch(const iks_offers *o, const iks_result *r); /* NULL: none; written on first ask */
const iks_wire_rec *iks_offers_of(const iks_offers *o, const iks_result *r); /* NULL: none */
const iks_offer_tunnel *iks_offers_tunnel(const iks_offers *o, uint32_t num); /* NULL: none */
const iks_child *iks_offers_child(const iks_offers *o, const iks_result *r);    /* NULL: none */

#endif
