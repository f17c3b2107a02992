# The IKE-Troubleshooting configuration profile (profiles/IKE-Troubleshooting), installed by
# `cmake --install` next to the plugin. Included from the top-level CMakeLists.txt after
# find_package(Wireshark) and cmake/IkestateOptions.cmake.
#
# Default: the personal profiles folder of whoever runs `cmake --install`
# (~/.config/wireshark/profiles/IKE-Troubleshooting; HOME is read at install time, as for the plugin).
# IKESTATE_SYSTEM_INSTALL=ON: Wireshark's global profiles folder (<data dir>/profiles, see
# IKESTATE_WS_DATA_DIR below), which lists it for every user. The Debian package
# (cmake/IkestatePackage.cmake) installs it there too, with ikestate_install_profile().
#
# A profile's colorfilters replaces the global rules rather than adding to them, so the IKE rules are
# followed by the installed system's default rules, read at install time (GPL data shipped with
# Wireshark; not committed here). profiles/make-zip.sh does the same for the importable zip.

set(IKESTATE_PROFILE_SRC "${CMAKE_CURRENT_LIST_DIR}/../profiles/IKE-Troubleshooting")
get_filename_component(IKESTATE_PROFILE_SRC "${IKESTATE_PROFILE_SRC}" ABSOLUTE)

# Wireshark's data folder ("Global configuration" in `tshark -G folders`: colorfilters, profiles/).
# Neither WiresharkConfig.cmake nor wireshark.pc names it, so ask the tshark of the Wireshark found
# (its prefix first, then PATH); without a tshark, assume <prefix>/share/wireshark.
if(NOT IKESTATE_WS_DATA_DIR)
	find_program(IKESTATE_TSHARK tshark HINTS "${Wireshark_INSTALL_PREFIX}/bin")
	set(_ikestate_data_dir "${Wireshark_INSTALL_PREFIX}/share/wireshark")
	if(IKESTATE_TSHARK)
		# Unset: a WIRESHARK_DATA_DIR in the environment would move the answer away from the system's.
		execute_process(COMMAND ${CMAKE_COMMAND} -E env --unset=WIRESHARK_DATA_DIR "${IKESTATE_TSHARK}" -G folders
			OUTPUT_VARIABLE _folders ERROR_QUIET RESULT_VARIABLE _rc)
		if(_rc EQUAL 0 AND _folders MATCHES "Global configuration:[ \t]*([^\n]+)")
			string(STRIP "${CMAKE_MATCH_1}" _ikestate_data_dir)
		else()
			message(WARNING "${IKESTATE_TSHARK} -G folders names no global configuration folder: "
				"assuming ${_ikestate_data_dir}")
		endif()
	endif()
	set(IKESTATE_WS_DATA_DIR "${_ikestate_data_dir}" CACHE PATH
		"Wireshark's data folder (global profiles are in its profiles/ subfolder)")
	message(STATUS "ikestate: Wireshark data folder ${IKESTATE_WS_DATA_DIR}")
endif()

set(IKESTATE_WS_COLORFILTERS "${IKESTATE_WS_DATA_DIR}/colorfilters"
	CACHE FILEPATH "Wireshark's default colouring rules, appended to the profile's IKE rules")

# ikestate_install_profile(DEST STAGE [MODES_644] [install() options...]): an install rule that puts
# the profile folder IKE-Troubleshooting into DEST (expanded at install time: it may use \$ENV{HOME}
# or \${CMAKE_INSTALL_PREFIX}). STAGE is a build-tree folder where its colorfilters is assembled
# first; rules that may run at the same time need different ones. MODES_644: files 644 and folders
# 755 whatever the umask (for a package); without it the staged files' modes are kept. Other
# arguments go to install(CODE), e.g. COMPONENT deb EXCLUDE_FROM_ALL.
#
# The colorfilters is assembled in the build folder at install time, then file(INSTALL) copies the
# folder (file(INSTALL) honours DESTDIR; file(WRITE) would not).
function(ikestate_install_profile dest stage)
	cmake_parse_arguments(PARSE_ARGV 2 _p "MODES_644" "" "")
	set(_modes "")
	if(_p_MODES_644)
		set(_modes "FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ DIRECTORY_PERMISSIONS
			OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE")
	endif()
	set(_stage "${stage}/IKE-Troubleshooting")
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
		file(WRITE \"${_stage}/colorfilters\" \"\${_rules}\")
		configure_file(\"${IKESTATE_PROFILE_SRC}/preferences\" \"${_stage}/preferences\" COPYONLY)
		configure_file(\"${IKESTATE_PROFILE_SRC}/recent\" \"${_stage}/recent\" COPYONLY)
		file(INSTALL \"${_stage}\" DESTINATION \"${dest}\" ${_modes})
	" ${_p_UNPARSED_ARGUMENTS})
endfunction()

if(IKESTATE_SYSTEM_INSTALL)
	set(_ikestate_profile_dir "${IKESTATE_WS_DATA_DIR}/profiles")
else()
	# Escaped: expanded when `cmake --install` runs, in the installing user's environment.
	set(_ikestate_profile_dir "\$ENV{HOME}/.config/wireshark/profiles")
endif()
ikestate_install_profile("${_ikestate_profile_dir}" "${CMAKE_CURRENT_BINARY_DIR}/ikestate-profile")
