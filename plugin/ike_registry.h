/* ike_registry.h — names from the IANA registries for what a proposal offers (IKEv1 "IPsec/IKE
 * attributes", IKEv2 "Transform Type" values), and the text of a proposal. Tables only, like
 * ike_names.h; any layer of the core may use them.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IKE_REGISTRY_H
#define IKE_REGISTRY_H

#include "ike_parse.h"

/* One item as text: "AES-CBC-128", "SHA2-256", "MODP-2048", "PSK", "lifetime 28800 s"; an id the
 * table does not name as "ENCR#99". Returns buf. */
const char *iks_item_str(unsigned version, const iks_xform *x, char *buf, size_t len);

/* One alternative as text, its items in a fixed order joined by '/': IKEv1 encryption / hash /
 * group / authentication, then " lifetime 28800 s"; IKEv2 encryption / integrity / PRF / group,
 * alternatives of one type joined by '|'. Returns buf. */
const char *iks_proposal_str(unsigned version, const iks_proposal *pr, char *buf, size_t len);

/* The implementation a side runs, from its Vendor IDs: a vendor of the table, else the first bytes
 * of its first VID that the table does not know. Capability VIDs (DPD, NAT-T, XAUTH, IKE
 * fragmentation, heartbeats) name no implementation and are skipped. */
typedef struct {
	uint8_t vendor;    /* 1-based row of the vendor table; 0 = none */
	uint8_t n_unknown; /* bytes in unknown (0: no unknown VID) */
	uint8_t unknown[4];
} iks_impl;

iks_impl iks_impl_of(const iks_wire *w);
/* "Cisco VPN 3000 / ASA", "unknown (VID 1a2b3c4d…)"; NULL when i knows nothing. */
const char *iks_impl_str(const iks_impl *i, char *buf, size_t len);
static inline bool iks_impl_known(const iks_impl *i)
{
	return i->vendor || i->n_unknown;
}

/* A decrypted EAP payload as text: "Request MSCHAPv2", "Success"; NULL for none. Returns buf. */
const char *iks_eap_str(const iks_ra *ra, char *buf, size_t len);
/* A decrypted configuration payload: "XAUTH SET status FAIL", "MODE-CFG REPLY, address assigned",
 * "CP REQUEST, address asked"; NULL for none. Returns buf. */
const char *iks_cfg_str(unsigned version, const iks_ra *ra, char *buf, size_t len);

/* The order items are printed and compared in. */
extern const uint8_t iks_item_order[];
extern const unsigned iks_item_order_n;

#endif
