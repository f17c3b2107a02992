/* ike_hints.h — the hints: one or two sentences each, likely causes first, then what to check.
 * Chosen by the diagnosis (ike_diag.c) from state, role and evidence.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IKE_HINTS_H
#define IKE_HINTS_H

#include <stddef.h>

/* Hints: one or two sentences each, chosen from state, role and evidence. */
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
	IKS_H_ESP_ONE_WAY, IKS_H_DELETE_INFERRED, IKS_H_P1_CHOICE_REFUSED, IKS_H_PEER_ALIVE,
	IKS_H_P1_KEYS_DIFFER, IKS_H_MM2_NO_MM3, IKS_H_AM2_NO_AM3, IKS_H_LOST_BETWEEN_POINTS,
	IKS_H_XAUTH_FAILED, IKS_H_RA_NO_QM, IKS_H_RA_UNFINISHED, IKS_H_CFG_NO_ADDRESS, IKS_H_EAP_FAILURE, IKS_H_EAP_ENDED,
	IKS_H_EAP_REJECTED, IKS_H_EAP_NO_ANSWER,
	/* The same stalls, said from where the capture was taken (ikestate.captured_at). */
	IKS_H_MM2_AT_INITIATOR, IKS_H_MM2_AT_RESPONDER, IKS_H_AM2_AT_INITIATOR, IKS_H_AM2_AT_RESPONDER,
	IKS_H_MM3_AT_INITIATOR, IKS_H_MM3_AT_RESPONDER, IKS_H_V2_INIT_AT_INITIATOR, IKS_H_V2_INIT_AT_RESPONDER,
	IKS_H_V2_AUTH_AT_INITIATOR, IKS_H_V2_AUTH_AT_RESPONDER,
	IKS_H__COUNT
} iks_hint;

const char *iks_hint_text(unsigned h); /* NULL for IKS_H_NONE and unknown values */
/* The length of a hint's first clause (up to its first ':' or '.'), for expert items: Wireshark
 * cuts labels at 240 characters, and the full hint is the ikestate.hint field next to them. */
size_t iks_hint_clause(const char *hint);

#endif
