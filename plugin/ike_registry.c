/* ike_registry.c — see ike_registry.h. Values and names: IKEv1 from RFC 2409 appendix A and the
 * IANA "Internet Key Exchange (IKE) Attributes" registry; IKEv2 from RFC 7296 §3.3.2 and the IANA
 * "IKEv2 Transform Type 1..4" registries; the group numbers are one registry for both (IANA
 * "Group Description" / "Transform Type 4 - Key Exchange Method"). Names are spelled as in the
 * IANA registries, shortened the way strongSwan and Cisco print them.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ike_registry.h"

#include <stdio.h>
#include <string.h>

typedef struct {
	uint16_t id;
	const char *name;
} id_name;

static const id_name v1_encr[] = {
	{ 1, "DES-CBC" }, { 2, "IDEA-CBC" }, { 3, "BLOWFISH-CBC" }, { 4, "RC5-CBC" }, { 5, "3DES-CBC" },
	{ 6, "CAST-CBC" }, { 7, "AES-CBC" }, { 8, "CAMELLIA-CBC" },
};
static const id_name v1_hash[] = {
	{ 1, "MD5" }, { 2, "SHA1" }, { 3, "TIGER" }, { 4, "SHA2-256" }, { 5, "SHA2-384" }, { 6, "SHA2-512" },
};
/* 64221 and 65001.. are the XAUTH / hybrid values of the IANA registry's private range. */
static const id_name v1_auth[] = {
	{ 1, "PSK" }, { 2, "DSS" }, { 3, "RSA-SIG" }, { 4, "RSA-ENC" }, { 5, "RSA-ENC-REV" },
	{ 9, "ECDSA-256" }, { 10, "ECDSA-384" }, { 11, "ECDSA-521" }, { 64221, "HYBRID-RSA" },
	{ 65001, "XAUTH-PSK" }, { 65002, "XAUTH-PSK-R" }, { 65003, "XAUTH-DSS" }, { 65005, "XAUTH-RSA" },
	{ 65006, "XAUTH-RSA-R" },
};
static const id_name groups[] = {
	{ 1, "MODP-768" }, { 2, "MODP-1024" }, { 3, "EC2N-155" }, { 4, "EC2N-185" }, { 5, "MODP-1536" },
	{ 14, "MODP-2048" }, { 15, "MODP-3072" }, { 16, "MODP-4096" }, { 17, "MODP-6144" }, { 18, "MODP-8192" },
	{ 19, "ECP-256" }, { 20, "ECP-384" }, { 21, "ECP-521" }, { 22, "MODP-1024-160" }, { 23, "MODP-2048-224" },
	{ 24, "MODP-2048-256" }, { 25, "ECP-192" }, { 26, "ECP-224" }, { 27, "BRAINPOOL-224" },
	{ 28, "BRAINPOOL-256" }, { 29, "BRAINPOOL-384" }, { 30, "BRAINPOOL-512" }, { 31, "CURVE25519" },
	{ 32, "CURVE448" },
};
static const id_name v2_encr[] = {
	{ 1, "DES-IV64" }, { 2, "DES" }, { 3, "3DES" }, { 4, "RC5" }, { 5, "IDEA" }, { 6, "CAST" },
	{ 7, "BLOWFISH" }, { 8, "3IDEA" }, { 9, "DES-IV32" }, { 11, "NULL" }, { 12, "AES-CBC" },
	{ 13, "AES-CTR" }, { 14, "AES-CCM-8" }, { 15, "AES-CCM-12" }, { 16, "AES-CCM-16" }, { 18, "AES-GCM-8" },
	{ 19, "AES-GCM-12" }, { 20, "AES-GCM-16" }, { 21, "NULL-AUTH-AES-GMAC" }, { 23, "CAMELLIA-CBC" },
	{ 24, "CAMELLIA-CTR" }, { 25, "CAMELLIA-CCM-8" }, { 26, "CAMELLIA-CCM-12" }, { 27, "CAMELLIA-CCM-16" },
	{ 28, "CHACHA20-POLY1305" },
};
static const id_name v2_prf[] = {
	{ 1, "PRF-HMAC-MD5" }, { 2, "PRF-HMAC-SHA1" }, { 3, "PRF-HMAC-TIGER" }, { 4, "PRF-AES128-XCBC" },
	{ 5, "PRF-HMAC-SHA2-256" }, { 6, "PRF-HMAC-SHA2-384" }, { 7, "PRF-HMAC-SHA2-512" }, { 8, "PRF-AES128-CMAC" },
};
static const id_name v2_integ[] = {
	{ 1, "HMAC-MD5-96" }, { 2, "HMAC-SHA1-96" }, { 3, "DES-MAC" }, { 4, "KPDK-MD5" }, { 5, "AES-XCBC-96" },
	{ 6, "HMAC-MD5-128" }, { 7, "HMAC-SHA1-160" }, { 8, "AES-CMAC-96" }, { 9, "AES-128-GMAC" },
	{ 10, "AES-192-GMAC" }, { 11, "AES-256-GMAC" }, { 12, "HMAC-SHA2-256-128" }, { 13, "HMAC-SHA2-384-192" },
	{ 14, "HMAC-SHA2-512-256" },
};

#define TABLE(t) t, sizeof(t) / sizeof((t)[0])

static const char *lookup(const id_name *t, size_t n, uint32_t id)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].id == id)
			return t[i].name;
	return NULL;
}

/* The table of a kind and what an unnamed id of it is called. */
static const char *item_name(unsigned version, unsigned kind, uint32_t id, const char **unnamed)
{
	bool v1 = version == 1;
	switch (kind) {
	case IKS_X_ENCR: *unnamed = "ENCR"; return v1 ? lookup(TABLE(v1_encr), id) : lookup(TABLE(v2_encr), id);
	case IKS_X_PRF: *unnamed = "PRF"; return lookup(TABLE(v2_prf), id);
	case IKS_X_INTEG: *unnamed = "INTEG"; return lookup(TABLE(v2_integ), id);
	case IKS_X_DH: *unnamed = "GROUP"; return lookup(TABLE(groups), id);
	case IKS_X_V1_HASH: *unnamed = "HASH"; return lookup(TABLE(v1_hash), id);
	case IKS_X_V1_AUTH: *unnamed = "AUTH"; return lookup(TABLE(v1_auth), id);
	case IKS_X_ESN: *unnamed = "ESN"; return id == 0 ? "NO-ESN" : id == 1 ? "ESN" : NULL;
	}
	*unnamed = "ITEM";
	return NULL;
}

const char *iks_item_str(unsigned version, const iks_xform *x, char *buf, size_t len)
{
	if (x->kind == IKS_X_V1_LIFE_S || x->kind == IKS_X_V1_LIFE_KB) {
		snprintf(buf, len, "lifetime %u %s", x->id, x->kind == IKS_X_V1_LIFE_S ? "s" : "KB");
		return buf;
	}
	const char *unnamed, *name = item_name(version, x->kind, x->id, &unnamed);
	if (!name)
		snprintf(buf, len, "%s#%u", unnamed, x->id);
	else if (x->key_len)
		snprintf(buf, len, "%s-%u", name, x->key_len);
	else
		snprintf(buf, len, "%s", name);
	return buf;
}

const uint8_t iks_item_order[] = { IKS_X_ENCR, IKS_X_V1_HASH, IKS_X_INTEG, IKS_X_PRF, IKS_X_DH, IKS_X_V1_AUTH,
				   IKS_X_V1_LIFE_S, IKS_X_V1_LIFE_KB };
const unsigned iks_item_order_n = sizeof iks_item_order;

static void put(char *buf, size_t len, size_t *at, const char *s)
{
	int n = snprintf(buf + *at, len - *at, "%s", s);
	if (n > 0)
		*at = *at + (size_t)n < len ? *at + (size_t)n : len - 1;
}

const char *iks_proposal_str(unsigned version, const iks_proposal *pr, char *buf, size_t len)
{
	size_t at = 0;
	buf[0] = '\0';
	if (!len)
		return buf;
	for (unsigned k = 0; k < iks_item_order_n; k++) {
		unsigned kind = iks_item_order[k];
		bool first = true;
		for (unsigned i = 0; i < pr->n; i++) {
			if (pr->x[i].kind != kind)
				continue;
			char item[40];
			bool life = kind == IKS_X_V1_LIFE_S || kind == IKS_X_V1_LIFE_KB;
			put(buf, len, &at, !first ? "|" : at == 0 ? "" : life ? " " : "/");
			put(buf, len, &at, iks_item_str(version, &pr->x[i], item, sizeof item));
			first = false;
		}
	}
	if (pr->cut)
		put(buf, len, &at, " …");
	return buf;
}
