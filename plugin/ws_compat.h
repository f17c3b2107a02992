/* ws_compat.h — the few Wireshark API differences between 4.0, 4.4 and 4.6 that the plugin meets.
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

/* 4.6: a stat_tap_ui's tap_init_cb returns bool (false: option refused); 4.0 and 4.4: void.
 * Declare the callback as `static iks_tap_init_ret f(...)`; end it with IKS_TAP_INIT_RETURN, or
 * IKS_TAP_INIT_FAIL when the option is refused. */
#if IKS_WS_AT_LEAST(4, 6)
typedef bool iks_tap_init_ret;
#define IKS_TAP_INIT_RETURN return true
#define IKS_TAP_INIT_FAIL return false
#else
typedef void iks_tap_init_ret;
#define IKS_TAP_INIT_RETURN return
#define IKS_TAP_INIT_FAIL return
#endif

/* 4.4: conversation filter callbacks take a user_data pointer, given at registration.
 * Declare them as `static iks_conv_bool f(IKS_CONV_FILTER_ARGS)` (gboolean before 4.4). */
#if IKS_WS_AT_LEAST(4, 4)
typedef bool iks_conv_bool;
#define IKS_CONV_FILTER_ARGS packet_info *pinfo, void *user_data _U_
#define iks_register_conversation_filter(proto, name, valid, build) \
	register_conversation_filter(proto, name, valid, build, NULL)
#else
typedef gboolean iks_conv_bool;
#define IKS_CONV_FILTER_ARGS packet_info *pinfo
#define iks_register_conversation_filter register_conversation_filter
#endif

/* 4.4 names an interface by its section of the file too (4.0: one interface table for all). */
#if IKS_WS_AT_LEAST(4, 4)
#define iks_interface_name(pinfo, id) epan_get_interface_name((pinfo)->epan, id, (pinfo)->rec->section_number)
#else
#define iks_interface_name(pinfo, id) epan_get_interface_name((pinfo)->epan, id)
#endif

/* Used by the dissector hooks (ikestate-hooks.c): 4.4 renamed tvb_get_guint8, 4.6
 * dissector_try_uint_new. (4.6 also dropped get_data_source_name: see source_is there.) */
#if !IKS_WS_AT_LEAST(4, 4)
#define tvb_get_uint8 tvb_get_guint8
#endif
#if IKS_WS_AT_LEAST(4, 6)
#define iks_try_uint dissector_try_uint_with_data
#else
#define iks_try_uint dissector_try_uint_new
#endif

/* 4.6 renamed wsutil/pint.h's pntoh16 (big-endian 16 bits from memory) pntohu16. */
#include <wsutil/pint.h>
#if IKS_WS_AT_LEAST(4, 6)
#define iks_pntoh16 pntohu16
#else
#define iks_pntoh16 pntoh16
#endif

#endif
