/* ike_registry.c — see ike_registry.h. Values and names: IKEv1 from RFC 2409 appendix A and the
 * IANA "Internet Key Exchange (IKE) Attributes" registry; IKEv2 from RFC 7296 §3.3.2 and the IANA
 * "IKEv2 Transform Type 1..4" registries; the group numbers are one registry for both (IANA
 * "Group Description" / "Transform Type 4 - Key Exchange Method"). Names are spelled as in the
 * IANA registries, shortened the way strongSwan and Cisco print them.
 * Vendor IDs: the facts (hex values and whose they are) from ike-scan's ike-vendor-ids list and
 * Wireshark's ISAKMP dissector's vendor table, written here as prefixes.
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

/* IKEv1 phase 2 (RFC 2407 §4.5, IANA "IPsec Authentication Algorithm", "Encapsulation Mode"; the
 * 614xx values are the NAT-T drafts' UDP modes). Its ESP transform IDs are IKEv2's ENCR numbers. */
static const id_name v1_esp_auth[] = {
	{ 1, "HMAC-MD5" }, { 2, "HMAC-SHA1" }, { 3, "DES-MAC" }, { 4, "KPDK" }, { 5, "HMAC-SHA2-256" },
	{ 6, "HMAC-SHA2-384" }, { 7, "HMAC-SHA2-512" }, { 8, "HMAC-RIPEMD" }, { 9, "AES-XCBC-MAC" },
	{ 10, "SIG-RSA" }, { 11, "AES-128-GMAC" }, { 12, "AES-192-GMAC" }, { 13, "AES-256-GMAC" },
};
static const id_name v1_encap[] = {
	{ 1, "TUNNEL" }, { 2, "TRANSPORT" }, { 3, "UDP-TUNNEL" }, { 4, "UDP-TRANSPORT" },
	{ 61443, "UDP-TUNNEL" }, { 61444, "UDP-TRANSPORT" },
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
	case IKS_X_V1_ESP: *unnamed = "ESP"; return lookup(TABLE(v2_encr), id);
	case IKS_X_V1_ESP_AUTH: *unnamed = "AUTH"; return lookup(TABLE(v1_esp_auth), id);
	case IKS_X_V1_ENCAP: *unnamed = "MODE"; return lookup(TABLE(v1_encap), id);
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

const uint8_t iks_item_order[] = { IKS_X_ENCR, IKS_X_V1_ESP, IKS_X_V1_HASH, IKS_X_INTEG, IKS_X_V1_ESP_AUTH,
				   IKS_X_PRF, IKS_X_DH, IKS_X_V1_AUTH, IKS_X_V1_ENCAP, IKS_X_V1_LIFE_S,
				   IKS_X_V1_LIFE_KB };
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

/* ---------------------------------------------------------------------------------------------
 * Vendor IDs
 */
typedef struct {
	const char *hex;  /* a prefix of the VID */
	const char *name; /* NULL: a capability, no implementation */
	uint8_t rank;     /* the most specific of a side's VIDs names it */
} vid_row;

static const vid_row vids[] = {
	/* Capabilities any implementation may send. */
	{ "afcad71368a1f1c96b8696fc7757", NULL, 0 },     /* Dead Peer Detection (RFC 3706) */
	{ "09002689dfd6b712", NULL, 0 },                 /* XAUTH */
	{ "4a131c81070358455c5728f20e95452f", NULL, 0 }, /* NAT-T (RFC 3947) */
	{ "4df37928e9fc4fd1b3262170d515c662", NULL, 0 }, /* NAT-T drafts */
	{ "4485152d18b6bbcd0be8a8469579ddcc", NULL, 0 },
	{ "16f6ca16e4a4066d83821a0f0aeaa862", NULL, 0 },
	{ "90cb80913ebb696e086381b5ec427b1f", NULL, 0 },
	{ "cd60464335df21f87cfdb2fc68b6a448", NULL, 0 },
	{ "7d9419a65310ca6f2c179d9215529d56", NULL, 0 },
	{ "9909b64eed937c6573de52ace952fa6b", NULL, 0 },
	{ "80d0bb3def54565ee84645d4c85ce3ee", NULL, 0 },
	{ "4d1e0e136deafa34c4f3ea9f02ec7285", NULL, 0 },
	{ "439b59f8ba676c4c7737ae22eab8f582", NULL, 0 },
	{ "8f8d83826d246b6fc7a8a6a428c11de8", NULL, 0 },
	{ "42ea5b6f898d9773a575df26e7dd19e1", NULL, 0 },
	{ "4048b7d56ebce88525e7de7f00d6c2d3", NULL, 0 }, /* IKE fragmentation (Cisco's, also others') */
	{ "8db7a41811221660", NULL, 0 },                 /* heartbeats draft */
	/* Implementations. */
	{ "12f5f28c457168a9702d9fe274cc", "Cisco (Unity)", 1 },
	{ "1f07f70eaa6514d3b0fa96542a50", "Cisco VPN 3000 / ASA", 2 },
	{ "bdb41038a7ec5e5534dd004d0f91f927", "Cisco IOS", 2 },
	{ "434953434f", "Cisco", 2 }, /* "CISCO..." in ASCII: IKEv2 (COPYRIGHT, GRE-MODE, ...) */
	{ "882fe56d6fd20dbc2251613b2ebe5beb", "strongSwan", 2 },
	{ "4f45", "Openswan / libreswan", 2 }, /* "OE" and an encoded version */
	{ "1e2b516905991c7d7c96fcbfb587e46100000002", "Windows 2000", 3 },
	{ "1e2b516905991c7d7c96fcbfb587e46100000003", "Windows XP SP1", 3 },
	{ "1e2b516905991c7d7c96fcbfb587e46100000004", "Windows 2003 / XP SP2", 3 },
	{ "1e2b516905991c7d7c96fcbfb587e46100000005", "Windows Vista", 3 },
	{ "1e2b516905991c7d7c96fcbfb587e46100000006", "Windows 2008", 3 },
	{ "1e2b516905991c7d7c96fcbfb587e46100000007", "Windows 7", 3 },
	{ "1e2b516905991c7d7c96fcbfb587e46100000008", "Windows 2008 R2", 3 },
	{ "1e2b516905991c7d7c96fcbfb587e46100000009", "Windows 8", 3 },
	{ "1e2b516905991c7d7c96fcbfb587e46100000010", "Windows 2012", 3 },
	{ "1e2b516905991c7d7c96fcbfb587e461", "Windows (MS NT5 ISAKMPOAKLEY)", 2 },
	{ "299ee8289f40a897", "Juniper / NetScreen", 2 }, /* ScreenOS, one VID per model and release */
	{ "3a15e1f3cf2a6358", "Juniper / NetScreen", 2 },
	{ "47d2b126bfcd8348", "Juniper / NetScreen", 2 },
	{ "4a4340b543e02b84", "Juniper / NetScreen", 2 },
	{ "64405f46f03b7660", "Juniper / NetScreen", 2 },
	{ "699369228741c6d4", "Juniper / NetScreen", 2 },
	{ "8c0dc6cf62a0ef1b", "Juniper / NetScreen", 2 },
	{ "92d27a9ecb31d992", "Juniper / NetScreen", 2 },
	{ "9b096d9ac3275a7d", "Juniper / NetScreen", 2 },
	{ "bf03746108d746c9", "Juniper / NetScreen", 2 },
	{ "c2e80500f4cc5fbf", "Juniper / NetScreen", 2 },
	{ "c8660a62b03b1b61", "Juniper / NetScreen", 2 },
	{ "f885da40b1e7a9ab", "Juniper / NetScreen", 2 },
	{ "2a2bcac19b8e91b4", "Juniper / NetScreen", 2 },
	{ "166f932d55eb64d8", "Juniper / NetScreen", 2 },
	{ "a35bfd05ca1ac0b3", "Juniper / NetScreen", 2 },
	{ "9436e8d67174ef9a", "Juniper / NetScreen", 2 },
	{ "1d6e178f6c2c0be284985465450fe9d4", "Fortinet FortiGate", 2 },
	{ "f4ed19e0c114eb516faaac0ee37daf2807b4381f", "Check Point", 2 },
	{ "5b362bc820f6", "SonicWall", 2 },
	{ "5b362bc820f7", "SonicWall", 2 },
	{ "404bf439522ca3f6", "SonicWall", 2 },
	{ "da8e937880010000", "SonicWall", 2 },
	{ "7003cbc1097dbe9c2600ba6983bc8b35", "KAME / racoon", 2 },
};

#define N_VIDS (sizeof vids / sizeof vids[0])

static int hex_nibble(char c)
{
	return c <= '9' ? c - '0' : c - 'a' + 10;
}

/* The rows decoded once, chained by their first byte: a message's VIDs are looked up on every
 * MM1 / IKE_SA_INIT of a flood, and decoding the hex of each row per VID was most of the cost. */
static struct {
	uint8_t bytes[20];  /* the longest row, Check Point's */
	uint8_t len;
	int16_t next;  /* next row with the same first byte, -1: none */
} dec[N_VIDS];
static int16_t first_row[256];

static void decode_rows(void)
{
	static bool done;
	if (done)
		return;
	memset(first_row, 0xff, sizeof first_row);   /* -1 */
	for (size_t r = N_VIDS; r-- > 0;) {           /* backwards: each chain in table order */
		size_t n = strlen(vids[r].hex) / 2;
		if (n > sizeof dec[r].bytes)
			n = sizeof dec[r].bytes;
		dec[r].len = (uint8_t)n;
		for (size_t i = 0; i < n; i++)
			dec[r].bytes[i] = (uint8_t)(hex_nibble(vids[r].hex[2 * i]) << 4 | hex_nibble(vids[r].hex[2 * i + 1]));
		dec[r].next = first_row[dec[r].bytes[0]];
		first_row[dec[r].bytes[0]] = (int16_t)r;
	}
	done = true;
}

/* The table's row for a VID, -1 for none: the first row in table order whose prefix it has. */
static int vid_row_of(const uint8_t *vid, size_t len)
{
	if (!len)
		return -1;
	decode_rows();
	for (int r = first_row[vid[0]]; r >= 0; r = dec[r].next)
		if (dec[r].len <= len && !memcmp(dec[r].bytes, vid, dec[r].len))
			return r;
	return -1;
}

iks_impl iks_impl_of(const iks_wire *w)
{
	iks_impl impl = { 0, 0, { 0 } };
	unsigned best = 0;
	for (unsigned i = 0; i < w->n_vid; i++) {
		int r = vid_row_of(w->vid[i], w->vid_len[i]);
		if (r >= 0 && vids[r].name && vids[r].rank > best) {
			best = vids[r].rank;
			impl.vendor = (uint8_t)(r + 1);
		} else if (r < 0 && !impl.n_unknown) {
			impl.n_unknown = w->vid_len[i] < sizeof impl.unknown ? w->vid_len[i] : sizeof impl.unknown;
			memcpy(impl.unknown, w->vid[i], impl.n_unknown);
		}
	}
	return impl;
}

const char *iks_impl_str(const iks_impl *i, char *buf, size_t len)
{
	if (i->vendor && i->vendor <= N_VIDS)
		return vids[i->vendor - 1].name;
	if (!i->n_unknown)
		return NULL;
	char hex[2 * sizeof i->unknown + 1];
	for (unsigned k = 0; k < i->n_unknown; k++)
		snprintf(hex + 2 * k, 3, "%02x", i->unknown[k]);
	snprintf(buf, len, "unknown (VID %s…)", hex);
	return buf;
}

/* ---------------------------------------------------------------------------------------------
 * Remote access: EAP (IANA "Extensible Authentication Protocol (EAP) Registry", Method Types) and
 * configuration payload types (draft-dukes-ike-mode-cfg, RFC 7296 §3.15)
 */
static const struct {
	uint8_t type;
	const char *name;
} eap_methods[] = {
	{ 1, "Identity" }, { 2, "Notification" }, { 3, "Nak" }, { 4, "MD5" }, { 5, "OTP" }, { 6, "GTC" },
	{ 13, "TLS" }, { 17, "LEAP" }, { 18, "SIM" }, { 21, "TTLS" }, { 23, "AKA" }, { 25, "PEAP" },
	{ 26, "MSCHAPv2" }, { 43, "FAST" }, { 49, "IKEv2" }, { 50, "AKA'" }, { 52, "pwd" }, { 55, "TEAP" },
};

const char *iks_eap_str(const iks_ra *ra, char *buf, size_t len)
{
	static const char *const codes[] = { NULL, "Request", "Response", "Success", "Failure" };
	if (!ra->eap_code || ra->eap_code >= sizeof codes / sizeof codes[0])
		return NULL;
	if (ra->eap_code > IKS_EAP_RESPONSE || !ra->eap_type) {
		snprintf(buf, len, "%s", codes[ra->eap_code]);
		return buf;
	}
	for (size_t i = 0; i < sizeof eap_methods / sizeof eap_methods[0]; i++) {
		if (eap_methods[i].type == ra->eap_type) {
			snprintf(buf, len, "%s %s", codes[ra->eap_code], eap_methods[i].name);
			return buf;
		}
	}
	snprintf(buf, len, "%s method %u", codes[ra->eap_code], ra->eap_type);
	return buf;
}

const char *iks_cfg_str(unsigned version, const iks_ra *ra, char *buf, size_t len)
{
	static const char *const types[] = { NULL, "REQUEST", "REPLY", "SET", "ACK" };
	if (!ra->cfg_type || ra->cfg_type >= sizeof types / sizeof types[0])
		return NULL;
	bool xauth = ra->cfg & (IKS_CFG_HAS_XAUTH | IKS_CFG_HAS_XAUTH_OK | IKS_CFG_HAS_XAUTH_FAIL);
	const char *status = ra->cfg_type != IKS_CFG_SET   ? ""
			     : ra->cfg & IKS_CFG_HAS_XAUTH_FAIL ? " status FAIL"
			     : ra->cfg & IKS_CFG_HAS_XAUTH_OK	? " status OK"
								: "";
	const char *addr = ra->cfg & IKS_CFG_HAS_ADDRESS	 ? ", address assigned"
			   : ra->cfg & IKS_CFG_HAS_ADDRESS_ASKED ? ", address asked"
								 : "";
	snprintf(buf, len, "%s %s%s%s", xauth ? "XAUTH" : version == 2 ? "CP" : "MODE-CFG", types[ra->cfg_type], status,
		 addr);
	return buf;
}
