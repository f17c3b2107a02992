/* ike_offers.h — what each side offered and chose in the clear: the proposals of a message (kept
 * per message, for its fields) and of a tunnel (the initiator's offer, the responder's choice),
 * for the mismatch diagnosis. Fed once per placed message, on the first pass. Not part of the API.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IKE_OFFERS_H
#define IKE_OFFERS_H

#include "ike_machine.h"

/* Per tunnel (same index). */
typedef struct {
	const iks_offer *offered; /* the initiator's latest offer (MM1, AM1, IKE_SA_INIT request) */
	const iks_offer *chosen;  /* the responder's choice (MM2, AM2, IKE_SA_INIT response) */
} iks_offer_tunnel;

typedef struct {
	iks_pool tunnels;      /* iks_offer_tunnel by tunnel index */
	GHashTable *by_result; /* iks_result -> its iks_offer (owned, cut after n) */
} iks_offers;

void iks_offers_init(iks_offers *o);
void iks_offers_free(iks_offers *o);
/* One placed message (not a copy or duplicate) with r's labels set. */
void iks_offers_note(iks_offers *o, const iks_tunnel *t, const iks_msg *m, const iks_result *r);
const iks_offer *iks_offers_of(const iks_offers *o, const iks_result *r); /* NULL: none */
const iks_offer_tunnel *iks_offers_tunnel(const iks_offers *o, uint32_t num);

#endif
