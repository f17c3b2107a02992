/* ike_parse.h — the wire: ISAKMP / IKEv2 header facts and the clear payload chain of one message.
 * Stateless; the bottom layer of the core (docs/architecture.md). No Wireshark include.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IKE_PARSE_H
#define IKE_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ISAKMP exchange types (RFC 2408 §3.1, RFC 2409, RFC 7296, RFC 9242). */
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
	IKS_EXCH_IKE_INTERMEDIATE = 43,
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
	IKS_PL_ATTR = 14, /* mode-config / XAUTH attributes (transaction exchange) */
	IKS_PL_NATD = 20,
	IKS_PL_CISCO_FRAG = 132, /* Cisco IKEv1 fragmentation */
};

/* IKEv2 payload types (RFC 7296 §3.2, RFC 7383). */
enum {
	IKS_PL2_SA = 33,
	IKS_PL2_KE = 34,
	IKS_PL2_IDR = 36,
	IKS_PL2_TSI = 44,
	IKS_PL2_TSR = 45,
	IKS_PL2_NOTIFY = 41,
	IKS_PL2_DELETE = 42,
	IKS_PL2_VID = 43,
	IKS_PL2_SK = 46,
	IKS_PL2_CP = 47,
	IKS_PL2_EAP = 48,
	IKS_PL2_SKF = 53, /* IKEv2 fragment */
};

/* Notify message types the rules name (RFC 2408 §3.14.1, RFC 3706, RFC 7296 §3.10.1, RFC 5685). */
enum {
	IKS_N_INVALID_COOKIE = 4,          /* IKEv2: INVALID_IKE_SPI */
	IKS_N_INVALID_MAJOR_VERSION = 5,
	IKS_N_INVALID_SYNTAX = 7,          /* IKEv2 */
	IKS_N_NO_PROPOSAL_CHOSEN = 14,
	IKS_N_PAYLOAD_MALFORMED = 16,
	IKS_N_INVALID_KE_PAYLOAD = 17,     /* IKEv2 (IKEv1: INVALID_KEY_INFORMATION) */
	IKS_N_INVALID_ID_INFORMATION = 18,
	IKS_N_INVALID_HASH_INFORMATION = 23,
	IKS_N_AUTHENTICATION_FAILED = 24,
	IKS_N_INVALID_SIGNATURE = 25,
	IKS_N_SINGLE_PAIR_REQUIRED = 34,   /* IKEv2, 34..38: child SA errors */
	IKS_N_NO_ADDITIONAL_SAS = 35,
	IKS_N_INTERNAL_ADDRESS_FAILURE = 36,
	IKS_N_FAILED_CP_REQUIRED = 37,
	IKS_N_TS_UNACCEPTABLE = 38,
	IKS_N_TEMPORARY_FAILURE = 43,
	IKS_N_CHILD_SA_NOT_FOUND = 44,
	IKS_N_AUTHORIZATION_FAILED = 46,
	IKS_N_ERROR_MAX = 16383,           /* 1..16383: errors; above: status */
	IKS_N_COOKIE = 16390,
	IKS_N_REDIRECT = 16407,
	IKS_N_R_U_THERE_ACK = 36137,       /* IKEv1 DPD */
};

#define IKS_ISAKMP_HDR_LEN 28
#define IKS_MAX_PROPOSALS 8 /* alternatives kept of one SA payload (IKEv1: its transforms) */
#define IKS_MAX_XFORMS 8    /* items kept of one alternative */
#define IKS_MAX_VID 8       /* Vendor ID payloads kept of one message */
#define IKS_MAX_WIRE_PL 16  /* SA and Vendor ID payloads of one message that can be looked up */
#define IKS_VID_PREFIX 20   /* bytes kept of each: an MD5 hash and a version (Windows), a SHA-1 hash */
#define IKS_MAX_NOTIFY 8 /* IKE_SA_INIT carries 5 or 6 status notifies before any error */
#define IKS_MAX_SPI 4

typedef struct {
	uint8_t len; /* 4 or 16; 0 = unknown */
	uint8_t bytes[16];
	uint16_t port;
} iks_addr;

/* One item of a proposal: kinds 1..5 are IKEv2's transform types (RFC 7296 §3.3.2, IANA "Transform
 * Type Values"); IKEv1's SA attributes (RFC 2409 appendix A) map encryption and group to the same
 * kinds, and add what IKEv2 has no transform for. */
enum {
	IKS_X_ENCR = 1,
	IKS_X_PRF = 2,
	IKS_X_INTEG = 3,
	IKS_X_DH = 4,
	IKS_X_ESN = 5,
	IKS_X_V1_HASH = 16,
	IKS_X_V1_AUTH,
	IKS_X_V1_LIFE_S,  /* lifetime in seconds */
	IKS_X_V1_LIFE_KB, /* lifetime in kilobytes */
	/* IKEv1 phase 2 (RFC 2407 §4.4.4, §4.5): the ESP transform ID (the numbers IKEv2's ENCR
	 * registry took over), the authentication algorithm, the encapsulation mode. Its PFS group is
	 * IKS_X_DH, its lifetimes the phase-1 kinds. */
	IKS_X_V1_ESP,
	IKS_X_V1_ESP_AUTH,
	IKS_X_V1_ENCAP,
};

typedef struct {
	uint32_t id;      /* the registry's value (a lifetime: its duration) */
	uint16_t key_len; /* ENCR: key length attribute in bits, 0 = none */
	uint8_t kind;     /* IKS_X_* */
} iks_xform;

/* One alternative: an IKEv2 proposal, or one transform of an IKEv1 phase-1 proposal (each is a
 * complete choice: encryption, hash, authentication, group, lifetime). */
typedef struct {
	iks_xform x[IKS_MAX_XFORMS];
	uint8_t n;
	uint8_t cut; /* items left out past IKS_MAX_XFORMS */
} iks_proposal;

/* The proposals of a clear SA payload of the IKE SA itself (IKEv1 protocol ISAKMP, IKEv2 IKE);
 * only the first n of p are filled (stored copies are cut there). */
typedef struct {
	uint8_t version;
	uint8_t n;
	uint8_t cut; /* alternatives left out past IKS_MAX_PROPOSALS */
	iks_proposal p[IKS_MAX_PROPOSALS];
} iks_offer;

/* A traffic selector: an IKEv2 TS (RFC 7296 §3.13.1) or an IKEv1 quick-mode identity (RFC 2407
 * §4.6.2); an address, subnet or range is kept as its first and last address. */
typedef struct {
	uint8_t lo[16], hi[16];
	uint16_t port_lo, port_hi; /* 0..65535: any */
	uint8_t af;                /* 4 or 6 */
	uint8_t proto;             /* IP protocol, 0 = any */
} iks_ts;

#define IKS_MAX_TS 4 /* selectors kept per side */

/* The child SA a decrypted message negotiates (IKEv1 quick mode, IKEv2 IKE_AUTH / CREATE_CHILD_SA):
 * its ESP / AH proposals, and the selectors of each side — [0] the exchange initiator's (IDci, TSi),
 * [1] the responder's (IDcr, TSr). */
typedef struct {
	iks_ts ts[2][IKS_MAX_TS];
	uint8_t n_ts[2];
	uint8_t cut_ts; /* selectors left out past IKS_MAX_TS */
	bool has_ts;    /* IKEv1: ID payloads, IKEv2: TS payloads seen (IKEv1 without: the peers themselves) */
	iks_offer offer; /* n = 0: no child SA proposal. Last: stored copies are cut after offer.n */
} iks_child;

/* What the second parse of a message with a clear SA or Vendor ID payload finds (iks_parse_wire). */
typedef struct {
	iks_offer offer; /* n = 0: no proposal of the IKE SA */
	uint8_t vid[IKS_MAX_VID][IKS_VID_PREFIX];
	uint8_t vid_len[IKS_MAX_VID]; /* bytes kept of each */
	uint8_t n_vid;
} iks_wire;

/* EAP codes (RFC 3748 §4). */
enum { IKS_EAP_REQUEST = 1, IKS_EAP_RESPONSE, IKS_EAP_SUCCESS, IKS_EAP_FAILURE };
/* Configuration payload types: IKEv1 transaction attributes (draft-dukes-ike-mode-cfg), IKEv2 CP
 * (RFC 7296 §3.15; SET and ACK are IKEv1 only). */
enum { IKS_CFG_REQUEST = 1, IKS_CFG_REPLY, IKS_CFG_SET, IKS_CFG_ACK };
#define IKS_CFG_HAS_XAUTH 0x01      /* XAUTH attributes (types 16520-16531): user name, password… */
#define IKS_CFG_HAS_XAUTH_OK 0x02   /* XAUTH_STATUS OK (1) */
#define IKS_CFG_HAS_XAUTH_FAIL 0x04 /* XAUTH_STATUS FAIL (0) */
#define IKS_CFG_HAS_ADDRESS 0x08    /* an internal IPv4 / IPv6 address with a value: one assigned */
#define IKS_CFG_HAS_ADDRESS_ASKED 0x10 /* an internal IPv4 / IPv6 address attribute (empty in a request) */

/* Remote access: the EAP payload (IKEv2) and the configuration attributes (IKEv1 transaction,
 * IKEv2 CP) of a decrypted message. All zero: none. */
typedef struct {
	uint8_t eap_code; /* IKS_EAP_* */
	uint8_t eap_type; /* the method of an EAP Request / Response (IANA "EAP Method Types") */
	uint8_t cfg_type; /* IKS_CFG_REQUEST..IKS_CFG_ACK */
	uint8_t cfg;      /* IKS_CFG_HAS_* */
} iks_ra;

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
	uint8_t decryption; /* iks_decryption, set by the glue */
	uint16_t point;     /* capture point: the pcapng interface it was captured on, set by the glue */
	uint16_t ke_group;  /* IKEv2: the DH group of its clear KE payload, 0 = none */
	uint16_t ke_wanted; /* IKEv2: the group a clear INVALID_KE_PAYLOAD asks for (its notify data) */
	iks_ra ra;          /* set by the glue from decrypted payloads (keys loaded) */
	uint8_t ttl;        /* the carrying packet's IP TTL / hop limit, set by the glue; 0 = unknown */
	const iks_wire *wire; /* its proposals and vendor IDs, when the glue parsed them; else NULL */
	/* What iks_parse_wire reads: the SA and Vendor ID payloads its walk meets, in order (iks_parse
	 * notes where they are in raw). A peer sends the same bytes in every resend, attempt and tunnel,
	 * so what they parse into can be looked up: by their hash (with the version), then compared
	 * byte by byte (the hash is fast, not collision-proof). Digest 0: none, or more than
	 * IKS_MAX_WIRE_PL (then they are always parsed). */
	uint64_t wire_digest;
	struct {
		uint16_t off, len;
		uint8_t type;
	} wire_pl[IKS_MAX_WIRE_PL];
	uint8_t n_wire_pl;
	const uint8_t *raw; /* the bytes iks_parse read: valid as long as the caller's buffer */
	/* Set by the glue (iks_fsm_wire_seen): the offers' record of these bytes, seen before, instead of
	 * wire; 0: none. */
	uint32_t wire_rec;
	const iks_child *child; /* its decrypted child SA proposals and selectors (iks_parse_inner); else NULL */
} iks_msg;

/* What Wireshark's own decryption (keys in its IKE decryption tables) made of an encrypted message. */
typedef enum {
	IKS_DECRYPT_NONE = 0, /* not tried: clear, or no key for this SA */
	IKS_DECRYPT_OK,       /* decrypted into a well-formed message */
	IKS_DECRYPT_GARBAGE,  /* decrypted into a malformed one: the key is not the sender's */
} iks_decryption;

/* Fill the header facts of *m from the raw ISAKMP message (first byte = initiator cookie).
 * caplen = bytes available. Returns false when there is no complete ISAKMP header. Walks the
 * clear payload chain of unencrypted messages (bounded, tolerant of garbage). */
/* Equal bytes give equal hashes (retransmission digests, interned records): eight bytes a step. */
uint64_t iks_content_hash(const uint8_t *buf, size_t len);
/* "192.0.2.11", "2001:db8::1" (RFC 5952), "?" for an unknown address. Returns buf. */
const char *iks_addr_text(const iks_addr *a, char *buf, size_t len);
bool iks_parse(const uint8_t *buf, size_t caplen, iks_msg *m);

static inline bool iks_has_payload(const iks_msg *m, unsigned type)
{
	return type < 64 && (m->payloads & (UINT64_C(1) << type));
}

/* The second, rarer parse: the proposals and Vendor IDs of a clear message (only worth it when
 * iks_wants_wire(m)). Bounded by caplen and the header length; caps as in iks_wire. False when there
 * is nothing of either. */
bool iks_parse_wire(const uint8_t *buf, size_t caplen, const iks_msg *m, iks_wire *w);

/* The decrypted payloads of m (keys loaded): buf holds the inner payload chain, whose first payload
 * type is `first` (IKEv1: the header's next payload; IKEv2: the SK payload's); padding after the
 * chain is ignored. Adds to m what only they show: notify types, a Delete of the IKE SA (its
 * payload bit), 4-byte SPIs (proposals, notifies), the EAP and configuration facts (m->ra), and
 * IKS_DECRYPT_GARBAGE for an IKS_DECRYPT_OK message whose chain runs past its end (decrypted with
 * a key that is not the sender's). Fills the child SA facts: its ESP / AH proposals and the
 * selectors; false when there is neither. */
bool iks_parse_inner(const uint8_t *buf, size_t len, unsigned first, iks_msg *m, iks_child *c);
/* "198.51.100.0/24", "10.1.0.5-10.1.0.9[udp/500]", "2001:db8::/64[tcp]". Returns buf. */
const char *iks_ts_str(const iks_ts *ts, char *buf, size_t len);
bool iks_ts_eq(const iks_ts *a, const iks_ts *b);

static inline bool iks_wants_wire(const iks_msg *m)
{
	unsigned sa = m->version == 1 ? IKS_PL_SA : IKS_PL2_SA, vid = m->version == 1 ? IKS_PL_VID : IKS_PL2_VID;
	return iks_has_payload(m, sa) || iks_has_payload(m, vid);
}

bool iks_has_notify(const iks_msg *m, unsigned type);

/* IKEv2 errors that refuse a child SA but leave the IKE SA up (RFC 7296 §1.2, §2.21.2). */
bool iks_v2_child_error(unsigned type);

/* Which notifies of a message count, for iks_first_notify. */
typedef enum {
	IKS_NF_ERROR,          /* any error type (1..16383) */
	IKS_NF_V2_IKE_FATAL,   /* an IKEv2 error that is not a child SA error */
	IKS_NF_V2_REFUSAL,     /* an IKEv2 error that refuses (not the retry asks INVALID_KE_PAYLOAD and
				* TEMPORARY_FAILURE), or a gateway's REDIRECT */
	IKS_NF_V2_RETRY,       /* COOKIE or INVALID_KE_PAYLOAD: the initiator is asked to try again */
} iks_notify_filter;

/* The first notify type of m that the filter takes, 0 for none. */
unsigned iks_first_notify(const iks_msg *m, iks_notify_filter f);

#endif
