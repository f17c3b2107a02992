# The IKE-Troubleshooting configuration profile (profiles/IKE-Troubleshooting), installed by
# `cmake --install` next to the plugin. Included from the top-level CMakeLists.txt after
# find_package(Wireshark) and cmake/IkestateOptions.cmake.
#
# Default: the personal profiles folder of whoever runs `cmake --install`
# (~/.config/wireshark/profiles/IKE-Troubleshooting; HOME is read at install time, as for the plugin).
# IKESTATE_SYSTEM_INSTALL=ON: Wireshark's global profiles folder
# (${Wireshark_INSTALL_PREFIX}/share/wireshark/profiles), which lists it for every user.
#
# A profile's colorfilters replaces the global rules rather than adding to them, so the IKE rules are
# followed by the installed system's default rules, read at install time (GPL data shipped with
# Wireshark; not committed here). profiles/make-zip.sh does the same for the importable zip.

set(IKESTATE_PROFILE_SRC "${CMAKE_CURRENT_LIST_DIR}/../profiles/IKE-Troubleshooting")
get_filename_component(IKESTATE_PROFILE_SRC "${IKESTATE_PROFILE_SRC}" ABSOLUTE)
set(IKESTATE_WS_COLORFILTERS "${Wireshark_INSTALL_PREFIX}/share/wireshark/colorfilters"
	CACHE FILEPATH "Wireshark's default colouring rules, appended to the profile's IKE rules")
if(IKESTATE_SYSTEM_INSTALL)
	set(_ikestate_profile_dir "${Wireshark_INSTALL_PREFIX}/share/wireshark/profiles")
else()
	# Escaped: expanded when `cmake --install` runs, in the installing user's environment.
	set(_ikestate_profile_dir "\$ENV{HOME}/.config/wireshark/profiles")
endif()

# The colorfilters is assembled in the build folder at install time, then file(INSTALL) copies the
# folder (file(INSTALL) honours DESTDIR; file(WRITE) would not).
set(_ikestate_profile_stage "${CMAKE_CURRENT_BINARY_DIR}/ikestate-profile/IKE-Troubleshooting")
install(CODE "
	file(READ \"${IKESTATE_PROFILE_SRC}/colorfilters\" _rules)
	if(EXISTS \"${IKESTATE_WS_COLORFILTERS}\")
		file(READ \"${IKESTATE_WS_COLORFILTERS}\" _defaults)
		# Drop its comment lines (the \\\"DO NOT EDIT\\\" header): the rules are copied as they are.
		string(REGEX REPLACE \"(^|\n)#[^\n]*\" \"\" _defaults \"\${_defaults}\")
		string(REGEX REPLACE \"^\n+\" \"\" _defaults \"\${_defaults}\")
		string(APPEND _rules \"# Wireshark's default rules, copied from ${IKESTATE_WS_COLORFILTERS} at install time.\\n\${_defaults}\")
	else()
		message(WARNING \"${IKESTATE_WS_COLORFILTERS} not found: the profile colours IKE traffic only\")
	endif()
	file(WRITE \"${_ikestate_profile_stage}/colorfilters\" \"\${_rules}\")
	configure_file(\"${IKESTATE_PROFILE_SRC}/preferences\" \"${_ikestate_profile_stage}/preferences\" COPYONLY)
	file(INSTALL \"${_ikestate_profile_stage}\" DESTINATION \"${_ikestate_profile_dir}\")
")
