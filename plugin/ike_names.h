/* ike_names.h — the labels' vocabulary: message positions, roles, the ASA / IOS / IKEv2 state
 * names, refusal codes, and their names. Tables only; any layer of the core may use them.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IKE_NAMES_H
#define IKE_NAMES_H

#include <stdbool.h>
#include <stdint.h>

/* Message position within its exchange (ikestate.msg). */
typedef enum {
	IKS_M_NONE = 0,
	IKS_M_UNKNOWN, /* "?" */
	IKS_M_MM1, IKS_M_MM2, IKS_M_MM3, IKS_M_MM4, IKS_M_MM5, IKS_M_MM6,
	IKS_M_AM1, IKS_M_AM2, IKS_M_AM3,
	IKS_M_QM1, IKS_M_QM2, IKS_M_QM3, IKS_M_QM4,
	IKS_M_INFO,
	IKS_M_TXN_REQ, IKS_M_TXN_RESP, /* transaction exchange (XAUTH, mode-config): first and second message */
	/* IKEv2: exchange and request / response (R flag). */
	IKS_M_SA_INIT_REQ, IKS_M_SA_INIT_RESP, IKS_M_AUTH_REQ, IKS_M_AUTH_RESP,
	IKS_M_CHILD_REQ, IKS_M_CHILD_RESP, IKS_M_INFO_REQ, IKS_M_INFO_RESP,
	IKS_M_INTER_REQ, IKS_M_INTER_RESP,
	IKS_M_FRAG, /* IKEv1: a piece of a fragmented message (Cisco's fragmentation payload) */
	IKS_M__COUNT
} iks_msgpos;

typedef enum { IKS_ROLE_UNKNOWN = 0, IKS_ROLE_INITIATOR, IKS_ROLE_RESPONDER } iks_role;

/* ASA phase-1 states (ikestate.state); IKEv2: the Cisco IKE SA status (`show crypto ikev2 sa`). */
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

/* ikestate.stalled: an iks_state, or IKS_S__COUNT + an iks_qm_state. */
#define IKS_STALLED_QM(qm) ((uint8_t)(IKS_S__COUNT + (qm)))

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
	IKS_F_XAUTH_FAILED,              /* IKEv1: XAUTH_STATUS FAIL, or no quick mode after the transactions */
	IKS_F_EAP_FAILURE,               /* IKEv2: EAP Failure, or the EAP rounds ended without AUTH */
	IKS_F_NO_ADDRESS,                /* IKEv1: a mode-config answer without the address asked for */
};

/* What a tunnel is when it is no negotiation of its own (ikestate.pattern). */
typedef enum { IKS_P_NONE = 0, IKS_P_REFLECTION, IKS_P_PROBE, IKS_P_SCAN } iks_pattern;
const char *iks_pattern_name(unsigned p);

/* Where a capture was taken (ikestate.captured_at). */
typedef enum { IKS_AT_UNKNOWN = 0, IKS_AT_INITIATOR, IKS_AT_RESPONDER, IKS_AT_PATH } iks_at;

const char *iks_at_name(unsigned at);
const char *iks_msg_name(unsigned m);
const char *iks_role_name(unsigned r);
const char *iks_state_name(unsigned s);
const char *iks_ios_state_name(unsigned s);
const char *iks_qm_state_name(unsigned s);
const char *iks_stalled_name(unsigned s);
const char *iks_failed_name(unsigned f); /* NULL for 0; "ERROR_NOTIFY" style for unnamed types */

/* The same moment in libreswan's words (pluto's state after sending msg: STATE_MAIN_I1…, STATE_QUICK_R1,
 * STATE_V2_IKE_SA_INIT_I…; state is the ASA / IKEv2 one, refused a message that refuses): NULL where
 * pluto has no state of its own for it (Informational, transaction, a refusal). */
const char *iks_libreswan_name(unsigned msg, unsigned state, bool refused);
/* strongSwan's IKE_SA state (swanctl --list-sas) for an ASA / IKEv2 state: CONNECTING, ESTABLISHED,
 * DELETING; NULL for none. */
const char *iks_strongswan_name(unsigned state);

/* Sender's ASA / IOS state right after sending phase-1 message pos (MM1..MM6, AM1..AM3). */
uint8_t iks_state_after(uint8_t pos);
uint8_t iks_ios_after(uint8_t pos);

#endif
