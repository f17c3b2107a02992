/* ike_frames.h — the labels of each frame, found again on later passes: a compact replacement for
 * per-packet proto data (8 bytes per labelled message, a frame number and a 32-bit item such as a
 * result's id, instead of about 40; frames without labels cost one bit test). No Wireshark include.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IKE_FRAMES_H
#define IKE_FRAMES_H

#include <stdbool.h>
#include <stdint.h>

typedef struct iks_frames iks_frames;

iks_frames *iks_frames_new(void);
void iks_frames_free(iks_frames *x);

/* Append the next item (not 0) of `frame`. Frames come in capture order (the first pass); an item
 * for a frame before the last one added is refused (false). Frame 0 and item 0 are refused too. */
bool iks_frames_add(iks_frames *x, uint32_t frame, uint32_t item);

/* The key-th item added for `frame` (0-based), 0 if there is none. Fastest in frame order. */
uint32_t iks_frames_get(iks_frames *x, uint32_t frame, unsigned key);

#endif
