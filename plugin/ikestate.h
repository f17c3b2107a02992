/* ikestate.h — what the glue files share.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IKESTATE_H
#define IKESTATE_H

#include "ike_fsm.h"

/* The machine of the open capture, with its capture-end verdicts up to date; NULL if none. */
iks_fsm *ikestate_finished_fsm(void);

/* The "ikestate" tap: one iks_result per tracked message, on every pass. */
extern int ikestate_tap;

/* -z ikestate,tunnels[,csv][,FILTER] (ikestate-summary.c). */
void ikestate_register_summary(void);

#endif
