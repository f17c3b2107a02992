/* ikestate.h — what the glue files share.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IKESTATE_H
#define IKESTATE_H

#include "ike_fsm.h"
#include "ike_frames.h"

/* The machine of the open capture, with its capture-end verdicts up to date; NULL if none. */
iks_fsm *ikestate_finished_fsm(void);

/* True once a later pass has begun (GUI after loading, tshark -2): capture-end verdicts exist. Taps
 * cannot use PINFO_FD_VISITED for that: it is already set when they run. */
bool ikestate_first_pass_done(void);

/* The "ikestate" tap: one iks_result per tracked message, on every pass. */
extern int ikestate_tap;

/* -z ikestate,tunnels[,csv][,FILTER] (ikestate-summary.c). */
void ikestate_register_summary(void);

/* Statistics › IKE negotiations, -z ikestate,tree (ikestate-stats.c). */
void ikestate_register_stats_tree(void);

/* The verdict column of the summary and the stats tree: OK, STALLED in <state>, FAILED: <reason>,
 * ESP ONE-WAY, "?" when none of its messages could be placed. */
const char *ikestate_verdict(char *buf, size_t len, unsigned failed, unsigned stalled, bool placed, bool esp_one_way);

#endif
