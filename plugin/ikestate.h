/* ikestate.h — what the glue files share.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IKESTATE_H
#define IKESTATE_H

#include "ike_frames.h"
#include "ike_fsm.h"

void proto_register_ikestate(void);
void proto_reg_handoff_ikestate(void);

/* The first pass is over: computes the capture-end verdicts once (a no-op when they are in). Taps
 * that draw after tshark's single pass call it: Wireshark's post-sequential cleanup comes later. */
void ikestate_first_pass_over(void);

/* The open capture's analyser once its first pass is over (capture-end verdicts in), read-only;
 * NULL before that and when nothing is tracked. The taps read it: the "ikestate" tap carries one
 * const iks_result per tracked message, on every pass. */
const iks_fsm *ikestate_view(void);

/* -z ikestate,tunnels[,csv][,FILTER] (ikestate-summary.c). */
void ikestate_register_summary(void);

/* Statistics › IKE negotiations, -z ikestate,tree (ikestate-stats.c). */
void ikestate_register_stats_tree(void);

#endif
