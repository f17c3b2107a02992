# Read by cpack (CPACK_PROJECT_CONFIG_FILE, cmake/IkestatePackage.cmake) before it makes the package.
# CPackDeb with CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON but no dpkg-shlibdeps writes a package without
# any Depends (no libwireshark pin): stop instead.
if(CPACK_GENERATOR STREQUAL "DEB")
	find_program(_ikestate_shlibdeps dpkg-shlibdeps)
	if(NOT _ikestate_shlibdeps)
		message(FATAL_ERROR "dpkg-shlibdeps not found: the package's Depends would be empty "
			"(apt-get install dpkg-dev)")
	endif()
endif()
