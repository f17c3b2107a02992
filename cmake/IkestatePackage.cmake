# The Debian package (`cmake --build build --target package` → build/ikestate-wireshark_<ver>_<arch>.deb)
# and the `uninstall` target of the `cmake --install` route. Included from the top-level
# CMakeLists.txt after the ikestate target and cmake/IkestateProfile.cmake.
#
# Why CPack's DEB generator and not a debian/ folder with dpkg-buildpackage: there is no second
# description of the files to keep in sync with this build (debian/rules, *.install), the build
# already knows the install paths (from Wireshark's CMake config and its tshark), and no
# debhelper / build-dependency machinery is needed: dpkg-dev (dpkg-shlibdeps) is enough.
#
# What the package installs (all system folders, for every user):
#   <Wireshark plugin folder>/epan/ikestate.so   Wireshark_PLUGIN_INSTALL_DIR from WiresharkConfig.cmake
#                                                (Debian 12: /usr/lib/x86_64-linux-gnu/wireshark/plugins/4.0)
#   <data folder>/profiles/IKE-Troubleshooting/  a global profile; IKESTATE_WS_DATA_DIR (tshark -G folders,
#                                                Debian: /usr/share/wireshark)
#   /usr/share/doc/ikestate-wireshark/           README.md, colouring.md, fields.txt (field reference,
#                                                from tshark -G fields), copyright, changelog.gz
#
# These install rules are in component "deb", EXCLUDE_FROM_ALL: a plain `cmake --install` (the
# personal folders, or IKESTATE_SYSTEM_INSTALL / IKESTATE_INSTALL_DIR) does not run them, and CPack
# runs only them (CPACK_INSTALL_CMAKE_PROJECTS below), never the personal-folder rules. Their
# destinations are relative to "/" (CPACK_PACKAGING_INSTALL_PREFIX): they are meant for CPack only.

set(IKESTATE_DEB_NAME ikestate-wireshark)   # like Debian's own libvirt-wireshark
set(IKESTATE_DEB_MAINTAINER "ikestate developers <dev@ikestate.invalid>" CACHE STRING
	"Maintainer field of the Debian package: \"Name <address>\"")
set(_deb_doc "usr/share/doc/${IKESTATE_DEB_NAME}")

if(NOT Wireshark_PLUGIN_INSTALL_DIR)
	message(WARNING "Wireshark was built without plugin support (no Wireshark_PLUGIN_INSTALL_DIR): "
		"no `package` target")
else()
	# Relative to "/": the absolute folders without their leading slash.
	string(REGEX REPLACE "^/+" "" _deb_plugin_dir "${Wireshark_PLUGIN_INSTALL_DIR}/epan")
	string(REGEX REPLACE "^/+" "" _deb_data_dir "${IKESTATE_WS_DATA_DIR}")

	# 644 like Debian's own Wireshark plugins: a plugin is loaded, never executed.
	install(TARGETS ikestate LIBRARY DESTINATION "${_deb_plugin_dir}" COMPONENT deb EXCLUDE_FROM_ALL
		PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ NAMELINK_SKIP)
	# Stripped as Debian's dh_strip strips a shared object (CPACK_STRIP_FILES runs a plain `strip`,
	# which keeps the .comment and .note sections).
	install(CODE "
		execute_process(COMMAND \"${CMAKE_STRIP}\" --remove-section=.comment --remove-section=.note
			--strip-unneeded \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${_deb_plugin_dir}/$<TARGET_FILE_NAME:ikestate>\"
			RESULT_VARIABLE _rc)
		if(NOT _rc EQUAL 0)
			message(FATAL_ERROR \"strip of the packaged ikestate.so failed\")
		endif()
	" COMPONENT deb EXCLUDE_FROM_ALL)
	ikestate_install_profile("\${CMAKE_INSTALL_PREFIX}/${_deb_data_dir}/profiles"
		"${CMAKE_CURRENT_BINARY_DIR}/ikestate-deb-profile" MODES_644 COMPONENT deb EXCLUDE_FROM_ALL)
	install(FILES README.md docs/colouring.md packaging/copyright DESTINATION "${_deb_doc}"
		COMPONENT deb EXCLUDE_FROM_ALL)

	# Generated at package time only (a normal build does not run tshark): the field reference from
	# what the built plugin registers, and the Debian changelog compressed as Debian policy wants it
	# (gzip -9, no name or timestamp: -n). The changelog's version must be the project's.
	set(_deb_stage "${CMAKE_CURRENT_BINARY_DIR}/ikestate-deb-doc")
	install(CODE "
		file(STRINGS \"${PROJECT_SOURCE_DIR}/packaging/changelog\" _top LIMIT_COUNT 1)
		if(NOT _top MATCHES \"^${IKESTATE_DEB_NAME} \\\\(${PROJECT_VERSION}\\\\) \")
			message(FATAL_ERROR \"packaging/changelog starts with '\${_top}': add an entry for \"
				\"${IKESTATE_DEB_NAME} (${PROJECT_VERSION}), the version in CMakeLists.txt\")
		endif()
		file(MAKE_DIRECTORY \"${_deb_stage}\")
		execute_process(COMMAND gzip -9 -n -c \"${PROJECT_SOURCE_DIR}/packaging/changelog\"
			OUTPUT_FILE \"${_deb_stage}/changelog.gz\" RESULT_VARIABLE _rc)
		if(NOT _rc EQUAL 0)
			message(FATAL_ERROR \"gzip of packaging/changelog failed\")
		endif()
		execute_process(COMMAND \"${PROJECT_SOURCE_DIR}/packaging/field-reference.sh\"
			\"$<TARGET_FILE:ikestate>\" \"${PROJECT_VERSION}\"
			OUTPUT_FILE \"${_deb_stage}/fields.txt\" RESULT_VARIABLE _rc)
		if(NOT _rc EQUAL 0)
			message(FATAL_ERROR \"packaging/field-reference.sh failed: no field reference\")
		endif()
		file(INSTALL \"${_deb_stage}/changelog.gz\" \"${_deb_stage}/fields.txt\"
			DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${_deb_doc}\"
			FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
	" COMPONENT deb EXCLUDE_FROM_ALL)

	set(CPACK_GENERATOR DEB)
	set(CPACK_PACKAGE_NAME "${IKESTATE_DEB_NAME}")
	set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
	set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Wireshark plugin showing IKE negotiation states")
	# Lines shorter than 80 characters (lintian); CPack indents them, an empty line becomes " .".
	string(JOIN "\n" CPACK_PACKAGE_DESCRIPTION
		"ikestate is a post-dissector for Wireshark and tshark. On every IKEv1 and"
		"IKEv2 packet it shows which negotiation (tunnel) the packet belongs to,"
		"which message of the exchange it is, who sent it, and the Cisco ASA / IOS"
		"state the sender is in right after sending it, from header facts alone, so"
		"it also works on the encrypted part of the exchange. It flags"
		"retransmissions, stalled and refused negotiations with a hint on what to"
		"check, and ESP that flows one way only."
		""
		"This package installs the plugin for the packaged Wireshark and the"
		"IKE-Troubleshooting configuration profile (colouring rules and columns)"
		"for every user.")
	set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${IKESTATE_DEB_MAINTAINER}")
	set(CPACK_DEBIAN_PACKAGE_SECTION net)
	set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
	# Depends from the plugin's ELF dependencies: libwireshark<soversion> pins the Wireshark ABI the
	# plugin was built for (its folder is plugins/<major.minor>). Needs dpkg-shlibdeps (dpkg-dev).
	set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
	set(CPACK_DEBIAN_PACKAGE_ENHANCES "wireshark, tshark")
	set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)   # <name>_<version>_<arch>.deb
	set(CPACK_PACKAGING_INSTALL_PREFIX "/")
	# Only component "deb" (build dir; project; component; subdirectory).
	set(CPACK_INSTALL_CMAKE_PROJECTS "${CMAKE_BINARY_DIR};${PROJECT_NAME};deb;/")
	# Read by cpack: without dpkg-shlibdeps CPackDeb silently writes no Depends at all; refuse instead.
	set(CPACK_PROJECT_CONFIG_FILE "${CMAKE_CURRENT_LIST_DIR}/IkestateCPackChecks.cmake")
	include(CPack)
endif()

# `cmake --build build --target uninstall`: removes what the last `cmake --install` of this build
# folder installed (install_manifest.txt), for the package route see `apt remove`.
add_custom_target(uninstall
	COMMAND ${CMAKE_COMMAND} -D "MANIFEST=${CMAKE_BINARY_DIR}/install_manifest.txt"
		-P "${CMAKE_CURRENT_LIST_DIR}/IkestateUninstall.cmake"
	COMMENT "Removing the files listed in ${CMAKE_BINARY_DIR}/install_manifest.txt"
	VERBATIM)
