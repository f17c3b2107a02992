# Build options shared by every target of the project.

option(IKESTATE_WERROR "Treat compiler warnings as errors" ON)
option(IKESTATE_SYSTEM_INSTALL
	"Install into Wireshark's global plugin folder instead of the personal one (~/.local/lib/wireshark/plugins)" OFF)

function(ikestate_warnings target)
	target_compile_options(${target} PRIVATE -Wall -Wextra -Wshadow $<$<BOOL:${IKESTATE_WERROR}>:-Werror>)
	set_target_properties(${target} PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON)
endfunction()

# Default: the personal plugin folder ~/.local/lib/wireshark/plugins/<major.minor>/epan of the user
# who runs `cmake --install` (tshark and Wireshark ignore it when run as root).
# IKESTATE_SYSTEM_INSTALL=ON: Wireshark's global plugin folder. IKESTATE_INSTALL_DIR: any folder.
set(IKESTATE_PLUGIN_INSTALL_DIR "")
if(IKESTATE_SYSTEM_INSTALL)
	set(IKESTATE_PLUGIN_INSTALL_DIR "${Wireshark_PLUGIN_INSTALL_DIR}/epan")
endif()
if(IKESTATE_INSTALL_DIR)
	set(IKESTATE_PLUGIN_INSTALL_DIR "${IKESTATE_INSTALL_DIR}")
endif()
