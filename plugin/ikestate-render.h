/* ikestate-render.h — the fields, the Info suffix and the expert items (ikestate-render.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IKESTATE_RENDER_H
#define IKESTATE_RENDER_H

#include <epan/packet.h>
#include <epan/prefs.h>

#include "ike_fsm.h"

void ikestate_render_register(int proto); /* fields, subtree and expert items of the protocol */
void ikestate_render_register_prefs(module_t *prefs); /* its own: which vocabulary the Info column speaks */
void ikestate_render_init(void);          /* at file open */
void ikestate_render(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, const iks_fsm *fsm, const iks_result *r);
/* Returns the bytes claimed: 0 when nothing was added. */
int ikestate_render_esp(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, const iks_esp_sa *sa);

#endif
