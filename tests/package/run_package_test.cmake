# Installs cfnet into a fresh prefix, then configures, builds and runs tests/package against it.
file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")

function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message("${out}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGV}\n${err}")
  endif()
endfunction()

run(${CMAKE_COMMAND} --install "${CFNET_BINARY_DIR}" --prefix "${prefix}")
if(NOT EXISTS "${prefix}/share/cmake/cfnet/cfnetConfig.cmake")
  message(FATAL_ERROR "cfnetConfig.cmake was not installed under ${prefix}/share/cmake/cfnet")
endif()
run(${CMAKE_COMMAND} -S "${CONSUMER_SOURCE_DIR}" -B "${WORK_DIR}/build"
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}
    -DEXPECT_MPI=${EXPECT_MPI})
run(${CMAKE_COMMAND} --build "${WORK_DIR}/build")
run("${WORK_DIR}/build/consumer")
if(EXPECT_MPI)
  run("${WORK_DIR}/build/consumer_mpi")   # one process, no mpirun: MPI_Init works as a singleton
endif()
