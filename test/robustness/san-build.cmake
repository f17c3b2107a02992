# cmake -DSRC=CHECKOUT -DOUT=DIR -P san-build.cmake — the ASan+UBSan build of the plugin into DIR
# (test/robustness/common.sh finds it through IKESTATE_SAN_BUILD).
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SRC} -B ${OUT} -DIKESTATE_SANITIZE=ON -DIKESTATE_WERROR=OFF
	-DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo COMMAND_ERROR_IS_FATAL ANY OUTPUT_QUIET)
cmake_host_system_information(RESULT _n QUERY NUMBER_OF_LOGICAL_CORES)
execute_process(COMMAND ${CMAKE_COMMAND} --build ${OUT} --target ikestate -j${_n} COMMAND_ERROR_IS_FATAL ANY
	OUTPUT_QUIET)
