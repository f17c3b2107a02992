# Build options shared by every target of the project.

option(IKESTATE_WERROR "Treat compiler warnings as errors" ON)
option(IKESTATE_SYSTEM_INSTALL
	"Install into Wireshark's global plugin folder instead of the personal one (~/.local/lib/wireshark/plugins)" OFF)

function(ikestate_warnings target)
	target_compile_options(${target} PRIVATE -Wall -Wextra $<$<BOOL:${IKESTATE_WERROR}>:-Werror>)
	set_target_properties(${target} PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON)
endfunction()

# tshark ignores the personal folder when run as root (wireshark-plugin.md §1.2): install as the
# user who runs Wireshark, or choose the system folder.
if(IKESTATE_SYSTEM_INSTALL)
	set(_dir "${Wireshark_PLUGIN_INSTALL_DIR}/epan")
else()
	set(_dir "$ENV{HOME}/.local/lib/wireshark/plugins/${Wireshark_MAJOR_VERSION}.${Wireshark_MINOR_VERSION}/epan")
endif()
# -DIKESTATE_INSTALL_DIR=... overrides both.
if(IKESTATE_INSTALL_DIR)
	set(_dir "${IKESTATE_INSTALL_DIR}")
endif()
set(IKESTATE_PLUGIN_INSTALL_DIR "${_dir}")
