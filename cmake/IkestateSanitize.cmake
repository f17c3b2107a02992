# IKESTATE_SANITIZE=ON: ASan + UBSan build, for test/robustness (sanitize sweep, mutation fuzzing).
# Applies to every target defined after this include (ike_fsm, the plugin, unit tests, ikegen).
# tshark itself is not instrumented, so the ASan runtime must be LD_PRELOADed into it:
# test/tshark-plugin.sh does that when the plugin needs libasan (or IKESTATE_PRELOAD is set).
option(IKESTATE_SANITIZE "Build with -fsanitize=address,undefined (run tshark with libasan preloaded)" OFF)
if(IKESTATE_SANITIZE)
	# Undefined behaviour must stop the run, not print and continue, so a sweep cannot miss it.
	set(_ikestate_san -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
	add_compile_options(${_ikestate_san})
	add_link_options(${_ikestate_san})
	# Line numbers in sanitizer reports.
	if(NOT CMAKE_BUILD_TYPE)
		set(CMAKE_BUILD_TYPE RelWithDebInfo CACHE STRING "" FORCE)
	endif()
	execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=libasan.so
		OUTPUT_VARIABLE IKESTATE_ASAN_RUNTIME OUTPUT_STRIP_TRAILING_WHITESPACE)
	message(STATUS "ikestate: sanitized build; tshark needs LD_PRELOAD=${IKESTATE_ASAN_RUNTIME}")
endif()
