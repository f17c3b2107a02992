/* ikestate-hooks.h — what the hooks in front of isakmp, udpencap, esp, icmp and icmpv6 note for
 * the post-dissector, and the private Wireshark API the glue needs (ikestate-hooks.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IKESTATE_HOOKS_H
#define IKESTATE_HOOKS_H

#include <epan/packet.h>

#include "ike_fsm.h"

/* What the hooks saw in the frame being dissected (first pass only), in dissection order. The
 * tvbs live until the end of this frame's dissection; the post-dissector, which runs at that end,
 * consumes and clears the list. Dissection is single-threaded. */
#define IKS_MAX_SEEN 8
typedef struct {
	guint32 frame;
	guint n;
	tvbuff_t *tvb[IKS_MAX_SEEN];
	bool decrypted[IKS_MAX_SEEN]; /* isakmp decrypted it (keys in its tables): IKEv1 */
	tvbuff_t *inner[IKS_MAX_SEEN]; /* its decrypted payloads (IKEv1, IKEv2 SK); NULL: none */
	bool reassembled[IKS_MAX_SEEN]; /* inner: the payloads of all its IKEv2 fragments, reassembled */
	guint32 icmp_frame; /* frame whose ICMP/ICMPv6 error is being dissected */
	int icmp_type;      /* its type; -1 for none */
	bool icmp_v6;
	bool quoted; /* tvb[0] is an ISAKMP header quoted by that ICMP error */
} ikestate_seen;

/* The frame's ESP packet or NAT-T keepalive (spi 0), noted on every pass: ESP frames keep no
 * per-packet data, a later pass finds the SA again by its addresses and SPI. */
typedef struct {
	guint32 frame; /* 0: none */
	guint32 spi, len;
	bool udp;
	iks_addr src, dst; /* outer addresses: after a decrypted ESP, pinfo's are the inner packet's */
	guint32 icmp_frame; /* frame whose ICMP error is being dissected: its quoted ESP is not counted */
} ikestate_esp_seen;

/* Put the hooks in place (handoff); false when isakmp could not be hooked (then nothing is tracked). */
bool ikestate_hooks_install(int proto_ikestate);
/* Notes are taken only while a capture is tracked (set at file open, cleared at close); with_keys:
 * isakmp has keys, so whether it decrypted each message is noted too. */
void ikestate_hooks_track(bool on, bool with_keys);

/* The ISAKMP messages of frame `num` (NULL when the hooks saw none), and forgetting them. */
const ikestate_seen *ikestate_hooks_messages(guint32 num);
void ikestate_hooks_clear(void);
/* The ESP packet or keepalive of frame `num`, NULL for none. */
const ikestate_esp_seen *ikestate_hooks_esp(guint32 num);

/* In the GUI, at the end of its first pass: filter the packet list again once the capture-end
 * verdicts are in, when the display filter names an ikestate field. A no-op elsewhere. */
void ikestate_gui_refilter(void);

/* An IKE decryption table (UAT) of isakmp has entries: isakmp will decrypt. */
bool ikestate_decryption_configured(void);

#endif
