# ctest driver for an example that trains and prints a held-out RMSE (examples/CMakeLists.txt):
# runs it and fails unless it exits with 0, prints "Epoch k/EPOCHS ... loss: <number>" for every
# epoch k = 1..EPOCHS (when EPOCHS is given), and prints "RMSE ...: <number>" with a finite number
# below MAX_RMSE.
#
#   cmake -DPROGRAM=<exe> [-DARGS=a;b] [-DEPOCHS=N] -DMAX_RMSE=X -P check_example.cmake
foreach(v PROGRAM MAX_RMSE)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "check_example: -D${v}=... is required")
  endif()
endforeach()
execute_process(COMMAND "${PROGRAM}" ${ARGS} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
message("${out}")
if(NOT rc STREQUAL "0")
  message(FATAL_ERROR "check_example: ${PROGRAM} exited with '${rc}':\n${err}")
endif()
set(num "[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?")
if(DEFINED EPOCHS)
  foreach(k RANGE 1 ${EPOCHS})
    if(NOT out MATCHES "Epoch ${k}/${EPOCHS} [^\n]*loss: ${num}\n")
      message(FATAL_ERROR "check_example: no finite loss printed for epoch ${k}/${EPOCHS}")
    endif()
  endforeach()
endif()
if(NOT out MATCHES "RMSE[^\n]*: (${num})\n")
  message(FATAL_ERROR "check_example: no finite 'RMSE ...: <number>' line in the output (nan or inf?)")
endif()
set(rmse "${CMAKE_MATCH_1}")
if(NOT rmse LESS MAX_RMSE)
  message(FATAL_ERROR "check_example: RMSE ${rmse} is not below ${MAX_RMSE}")
endif()
message(STATUS "ok: RMSE ${rmse} < ${MAX_RMSE}")
