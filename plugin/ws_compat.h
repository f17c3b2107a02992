/* ws_compat.h — the few Wireshark API differences between 4.0, 4.4 and 4.6 that the plugin meets.
 * (../shared/reference/wireshark-versions.md has the list found by compiling.)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef IKESTATE_WS_COMPAT_H
#define IKESTATE_WS_COMPAT_H

#include <wireshark.h>

#define IKS_WS_AT_LEAST(maj, min) \
	(WIRESHARK_VERSION_MAJOR > (maj) || (WIRESHARK_VERSION_MAJOR == (maj) && WIRESHARK_VERSION_MINOR >= (min)))

/* 4.4 added the optional plugin_describe() export; without it -G plugins shows the type "unknown". */
#if IKS_WS_AT_LEAST(4, 4)
#include <wsutil/plugins.h>
#define IKS_HAVE_PLUGIN_DESCRIBE 1
#endif

#endif
