/* ike_frames.c — see ike_frames.h. Items sit in fixed blocks (no reallocation, no slack beyond the
 * last block), sorted by frame since they arrive in capture order; a bitmap over frame numbers
 * answers "any label?" for the frames without, which are almost all of them.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "ike_frames.h"

#include <glib.h>
#include <string.h>

#define BLOCK 4096

typedef struct {
	uint32_t frame;
	uint32_t item;
} entry;

struct iks_frames {
	GPtrArray *blocks; /* entry[BLOCK] each */
	size_t n;
	uint8_t *bits;     /* bit f: frame f has items */
	size_t bits_len;   /* bytes */
	size_t cursor;     /* first entry of the frame looked up last */
};

iks_frames *iks_frames_new(void)
{
	iks_frames *x = g_new0(iks_frames, 1);
	x->blocks = g_ptr_array_new_with_free_func(g_free);
	return x;
}

void iks_frames_free(iks_frames *x)
{
	if (!x)
		return;
	g_ptr_array_free(x->blocks, TRUE);
	g_free(x->bits);
	g_free(x);
}

static const entry *at(const iks_frames *x, size_t i)
{
	return &((const entry *)g_ptr_array_index(x->blocks, i / BLOCK))[i % BLOCK];
}

bool iks_frames_add(iks_frames *x, uint32_t frame, uint32_t item)
{
	if (frame == 0 || item == 0 || (x->n && at(x, x->n - 1)->frame > frame))
		return false;
	if (x->n % BLOCK == 0)
		g_ptr_array_add(x->blocks, g_new(entry, BLOCK));
	((entry *)g_ptr_array_index(x->blocks, x->n / BLOCK))[x->n % BLOCK] = (entry){ frame, item };
	x->n++;
	size_t byte = frame / 8;
	if (byte >= x->bits_len) {
		size_t len = x->bits_len ? x->bits_len : 4096;
		while (len <= byte)
			len *= 2;
		x->bits = g_realloc(x->bits, len);
		memset(x->bits + x->bits_len, 0, len - x->bits_len);
		x->bits_len = len;
	}
	x->bits[byte] |= (uint8_t)(1u << (frame % 8));
	return true;
}

/* Index of the first entry with frame >= `frame`. Passes read frames in order and the first pass
 * reads what it just added, so a few steps on from the last answer usually find it (a binary
 * search over all entries cost ~300 instructions per ISAKMP message); else binary search. */
static size_t first_at_or_after(iks_frames *x, uint32_t frame)
{
	size_t c = x->cursor;
	if (c < x->n && at(x, c)->frame <= frame) {
		for (unsigned step = 0; step < 8 && c < x->n; step++, c++)
			if (at(x, c)->frame >= frame)
				return c;
	}
	size_t lo = 0, hi = x->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (at(x, mid)->frame < frame)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

uint32_t iks_frames_get(iks_frames *x, uint32_t frame, unsigned key)
{
	size_t byte = frame / 8;
	if (byte >= x->bits_len || !(x->bits[byte] & (1u << (frame % 8))))
		return 0;
	size_t first = x->cursor = first_at_or_after(x, frame);
	size_t i = first + key;
	return i < x->n && at(x, i)->frame == frame ? at(x, i)->item : 0;
}
