/* ike_names.c — see ike_names.h. The ASA / IOS state of each message is the sender's state right
 * after sending it (libreswan's convention, and what the ASA names encode): docs/states.md.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ike_names.h"

#include <stddef.h>

#define N_OF(table) (sizeof(table) / sizeof((table)[0]))
#define NAME_OF(table, i) ((i) < N_OF(table) ? (table)[i] : NULL)

static const char *const msg_names[IKS_M__COUNT] = {
	[IKS_M_NONE] = NULL, [IKS_M_UNKNOWN] = "?",
	[IKS_M_MM1] = "MM1", [IKS_M_MM2] = "MM2", [IKS_M_MM3] = "MM3",
	[IKS_M_MM4] = "MM4", [IKS_M_MM5] = "MM5", [IKS_M_MM6] = "MM6",
	[IKS_M_AM1] = "AM1", [IKS_M_AM2] = "AM2", [IKS_M_AM3] = "AM3",
	[IKS_M_QM1] = "QM1", [IKS_M_QM2] = "QM2", [IKS_M_QM3] = "QM3", [IKS_M_QM4] = "QM4",
	[IKS_M_INFO] = "INFO", [IKS_M_TXN_REQ] = "TXN_REQ", [IKS_M_TXN_RESP] = "TXN_RESP",
	[IKS_M_SA_INIT_REQ] = "SA_INIT_REQ", [IKS_M_SA_INIT_RESP] = "SA_INIT_RESP",
	[IKS_M_AUTH_REQ] = "AUTH_REQ", [IKS_M_AUTH_RESP] = "AUTH_RESP",
	[IKS_M_CHILD_REQ] = "CHILD_REQ", [IKS_M_CHILD_RESP] = "CHILD_RESP",
	[IKS_M_INFO_REQ] = "INFO_REQ", [IKS_M_INFO_RESP] = "INFO_RESP",
	[IKS_M_INTER_REQ] = "INTER_REQ", [IKS_M_INTER_RESP] = "INTER_RESP", [IKS_M_FRAG] = "FRAG",
};
static const char *const role_names[] = { NULL, "initiator", "responder" };
static const char *const state_names[IKS_S__COUNT] = {
	NULL, "MM_WAIT_MSG2", "MM_WAIT_MSG3", "MM_WAIT_MSG4", "MM_WAIT_MSG5", "MM_WAIT_MSG6",
	"MM_ACTIVE", "AM_WAIT_MSG2", "AM_WAIT_MSG3", "AM_ACTIVE",
	"IN-NEG", "READY", "DELETE", "DELETED",
};
static const char *const ios_names[IKS_IOS__COUNT] = {
	NULL, "MM_NO_STATE", "MM_SA_SETUP", "MM_KEY_EXCH", "AG_NO_STATE", "AG_INIT_EXCH", "QM_IDLE",
};
static const char *const qm_names[IKS_QM__COUNT] = {
	NULL, "QM_WAIT_MSG2", "QM_WAIT_MSG3", "QM_ACTIVE",
};

const char *iks_msg_name(unsigned m) { return NAME_OF(msg_names, m); }
const char *iks_role_name(unsigned r) { return NAME_OF(role_names, r); }
const char *iks_state_name(unsigned s) { return NAME_OF(state_names, s); }
const char *iks_ios_state_name(unsigned s) { return NAME_OF(ios_names, s); }
const char *iks_qm_state_name(unsigned s) { return NAME_OF(qm_names, s); }

/* pluto names a state after the last message sent ("sent Main Mode R1" = STATE_MAIN_R1), per role. */
static const char *const libreswan_names[IKS_M__COUNT] = {
	[IKS_M_MM1] = "STATE_MAIN_I1", [IKS_M_MM2] = "STATE_MAIN_R1", [IKS_M_MM3] = "STATE_MAIN_I2",
	[IKS_M_MM4] = "STATE_MAIN_R2", [IKS_M_MM5] = "STATE_MAIN_I3", [IKS_M_MM6] = "STATE_MAIN_R3",
	[IKS_M_AM1] = "STATE_AGGR_I1", [IKS_M_AM2] = "STATE_AGGR_R1", [IKS_M_AM3] = "STATE_AGGR_I2",
	[IKS_M_QM1] = "STATE_QUICK_I1", [IKS_M_QM2] = "STATE_QUICK_R1", [IKS_M_QM3] = "STATE_QUICK_I2",
	[IKS_M_SA_INIT_REQ] = "STATE_V2_IKE_SA_INIT_I", [IKS_M_SA_INIT_RESP] = "STATE_V2_IKE_SA_INIT_R",
	[IKS_M_AUTH_REQ] = "STATE_V2_IKE_AUTH_I",
};

const char *iks_libreswan_name(unsigned msg, unsigned state, bool refused)
{
	if (refused || msg >= IKS_M__COUNT)
		return NULL;
	if (msg == IKS_M_AUTH_RESP) /* only the answer that completes IKE_AUTH */
		return state == IKS_S_READY ? "STATE_V2_ESTABLISHED_IKE_SA" : NULL;
	return libreswan_names[msg];
}

const char *iks_strongswan_name(unsigned state)
{
	switch (state) {
	case IKS_S_NONE:
		return NULL;
	case IKS_S_MM_ACTIVE:
	case IKS_S_AM_ACTIVE:
	case IKS_S_READY:
		return "ESTABLISHED";
	case IKS_S_DELETE:
	case IKS_S_DELETED:
		return "DELETING";
	default:
		return "CONNECTING";
	}
}

const char *iks_stalled_name(unsigned s)
{
	return s < IKS_S__COUNT ? iks_state_name(s) : iks_qm_state_name(s - IKS_S__COUNT);
}

static const uint8_t state_after[IKS_M__COUNT] = {
	[IKS_M_MM1] = IKS_S_MM_WAIT_MSG2, [IKS_M_MM2] = IKS_S_MM_WAIT_MSG3,
	[IKS_M_MM3] = IKS_S_MM_WAIT_MSG4, [IKS_M_MM4] = IKS_S_MM_WAIT_MSG5,
	[IKS_M_MM5] = IKS_S_MM_WAIT_MSG6, [IKS_M_MM6] = IKS_S_MM_ACTIVE,
	[IKS_M_AM1] = IKS_S_AM_WAIT_MSG2, [IKS_M_AM2] = IKS_S_AM_WAIT_MSG3,
	[IKS_M_AM3] = IKS_S_AM_ACTIVE,
};
static const uint8_t ios_after[IKS_M__COUNT] = {
	[IKS_M_MM1] = IKS_IOS_MM_NO_STATE, [IKS_M_MM2] = IKS_IOS_MM_SA_SETUP,
	[IKS_M_MM3] = IKS_IOS_MM_SA_SETUP, [IKS_M_MM4] = IKS_IOS_MM_KEY_EXCH,
	[IKS_M_MM5] = IKS_IOS_MM_KEY_EXCH, [IKS_M_MM6] = IKS_IOS_QM_IDLE,
	[IKS_M_AM1] = IKS_IOS_AG_NO_STATE, [IKS_M_AM2] = IKS_IOS_AG_INIT_EXCH,
	[IKS_M_AM3] = IKS_IOS_QM_IDLE,
};

uint8_t iks_state_after(uint8_t pos) { return pos < N_OF(state_after) ? state_after[pos] : IKS_S_NONE; }
uint8_t iks_ios_after(uint8_t pos) { return pos < N_OF(ios_after) ? ios_after[pos] : IKS_IOS_NONE; }

/* ISAKMP notify types (RFC 2408 §3.14.1). */
static const char *const notify_names[] = {
	[1] = "INVALID_PAYLOAD_TYPE", [2] = "DOI_NOT_SUPPORTED", [3] = "SITUATION_NOT_SUPPORTED",
	[4] = "INVALID_COOKIE", [5] = "INVALID_MAJOR_VERSION", [6] = "INVALID_MINOR_VERSION",
	[7] = "INVALID_EXCHANGE_TYPE", [8] = "INVALID_FLAGS", [9] = "INVALID_MESSAGE_ID",
	[10] = "INVALID_PROTOCOL_ID", [11] = "INVALID_SPI", [12] = "INVALID_TRANSFORM_ID",
	[13] = "ATTRIBUTES_NOT_SUPPORTED", [14] = "NO_PROPOSAL_CHOSEN", [15] = "BAD_PROPOSAL_SYNTAX",
	[16] = "PAYLOAD_MALFORMED", [17] = "INVALID_KEY_INFORMATION", [18] = "INVALID_ID_INFORMATION",
	[19] = "INVALID_CERT_ENCODING", [20] = "INVALID_CERTIFICATE", [21] = "CERT_TYPE_UNSUPPORTED",
	[22] = "INVALID_CERT_AUTHORITY", [23] = "INVALID_HASH_INFORMATION", [24] = "AUTHENTICATION_FAILED",
	[25] = "INVALID_SIGNATURE", [26] = "ADDRESS_NOTIFICATION", [27] = "NOTIFY_SA_LIFETIME",
	[28] = "CERTIFICATE_UNAVAILABLE", [29] = "UNSUPPORTED_EXCHANGE_TYPE", [30] = "UNEQUAL_PAYLOAD_LENGTHS",
};

/* IKEv2 notify types (RFC 7296 §3.10.1, IANA) where the name differs from IKEv1's. */
static const char *v2_notify_name(unsigned t)
{
	static const char *const errors[] = {
		[1] = "UNSUPPORTED_CRITICAL_PAYLOAD", [4] = "INVALID_IKE_SPI", [5] = "INVALID_MAJOR_VERSION",
		[7] = "INVALID_SYNTAX", [9] = "INVALID_MESSAGE_ID", [11] = "INVALID_SPI",
		[14] = "NO_PROPOSAL_CHOSEN", [17] = "INVALID_KE_PAYLOAD", [24] = "AUTHENTICATION_FAILED",
		[34] = "SINGLE_PAIR_REQUIRED", [35] = "NO_ADDITIONAL_SAS", [36] = "INTERNAL_ADDRESS_FAILURE",
		[37] = "FAILED_CP_REQUIRED", [38] = "TS_UNACCEPTABLE", [39] = "INVALID_SELECTORS",
		[40] = "UNACCEPTABLE_ADDRESSES", [41] = "UNEXPECTED_NAT_DETECTED", [42] = "USE_ASSIGNED_HoA",
		[43] = "TEMPORARY_FAILURE", [44] = "CHILD_SA_NOT_FOUND", [45] = "INVALID_GROUP_ID",
		[46] = "AUTHORIZATION_FAILED", [47] = "STATE_NOT_FOUND",
	};
	if (t < N_OF(errors) && errors[t])
		return errors[t];
	switch (t) {
	case 16390: return "COOKIE";
	case 16407: return "REDIRECT";
	}
	return t < 8192 ? "ERROR_NOTIFY" : t < 16384 ? "PRIVATE_ERROR_NOTIFY" : "STATUS_NOTIFY";
}

const char *iks_failed_name(unsigned f)
{
	switch (f) {
	case 0: return NULL;
	case IKS_F_ICMP_UNREACHABLE: return "ICMP_UNREACHABLE";
	case IKS_F_PHASE1_REJECTED: return "PHASE1_REJECTED";
	case IKS_F_PHASE2_REJECTED: return "PHASE2_REJECTED";
	case IKS_F_PEER_DEAD: return "PEER_DEAD";
	case IKS_F_AUTH_REJECTED: return "AUTH_REJECTED";
	case IKS_F_CHILD_REJECTED: return "CHILD_REJECTED";
	case IKS_F_XAUTH_FAILED: return "XAUTH_FAILED";
	case IKS_F_EAP_FAILURE: return "EAP_FAILURE";
	case IKS_F_NO_ADDRESS: return "NO_ADDRESS";
	}
	if ((f & IKS_F_V2) && f < IKS_F_ICMP_UNREACHABLE)
		return v2_notify_name(f & ~IKS_F_V2);
	if (f < N_OF(notify_names) && notify_names[f])
		return notify_names[f];
	return f < 8192 ? "ERROR_NOTIFY" : "PRIVATE_ERROR_NOTIFY";
}

const char *iks_at_name(unsigned at)
{
	static const char *const names[] = { "unknown", "initiator", "responder", "path" };
	return NAME_OF(names, at);
}

const char *iks_pattern_name(unsigned p)
{
	static const char *const names[] = { NULL, "reflection", "probe", "scan" };
	return NAME_OF(names, p);
}
