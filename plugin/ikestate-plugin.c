/* ikestate-plugin.c — the plugin's entry: registers the protocol (packet-ikestate.c) and its taps
 * (the summary, the stats tree), which only read.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_BUILD_DLL
#include "ws_compat.h"

#include <epan/packet.h>

#include "ikestate.h"

WS_DLL_PUBLIC_DEF const char plugin_version[] = PLUGIN_VERSION;
WS_DLL_PUBLIC_DEF const int plugin_want_major = WIRESHARK_VERSION_MAJOR;
WS_DLL_PUBLIC_DEF const int plugin_want_minor = WIRESHARK_VERSION_MINOR;
WS_DLL_PUBLIC void plugin_register(void);
#ifdef IKS_HAVE_PLUGIN_DESCRIBE
WS_DLL_PUBLIC uint32_t plugin_describe(void);
uint32_t plugin_describe(void) { return WS_PLUGIN_DESC_DISSECTOR; }
#endif

static void register_protoinfo(void)
{
	proto_register_ikestate();
	ikestate_register_summary();
}

static void register_handoff(void)
{
	proto_reg_handoff_ikestate();
	ikestate_register_stats_tree();
}

void plugin_register(void)
{
	static proto_plugin plug;
	plug.register_protoinfo = register_protoinfo;
	plug.register_handoff = register_handoff;
	proto_register_plugin(&plug);
}
