# Runs the cfnet tool once and checks its exit code and output (a ctest driver; see tools/CMakeLists.txt).
#   cmake -DCFNET=<exe> -DWORK=<dir> -DARGS=<a|b|c> -DEXPECT_EXIT=<code>
#         [-DSTDOUT_REGEX=<re>] [-DSTDERR_REGEX=<re>] [-DCORRUPT=<src>|<dst>] -P run_cli.cmake
# CORRUPT copies the model file <src> to <dst> with one byte appended before the run (a damaged file).
# Every check prints what it saw on failure, so the test log says why.
cmake_minimum_required(VERSION 3.21)
string(REPLACE "|" ";" ARGS "${ARGS}")        # lists arrive with '|' between elements
string(REPLACE "|" ";" CORRUPT "${CORRUPT}")
file(MAKE_DIRECTORY "${WORK}")
if(CORRUPT)
  list(GET CORRUPT 0 _src)
  list(GET CORRUPT 1 _dst)
  file(COPY_FILE "${_src}" "${_dst}")
  file(APPEND "${_dst}" "x")
endif()
execute_process(COMMAND "${CFNET}" ${ARGS}
                WORKING_DIRECTORY "${WORK}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REPLACE ";" " " _shown "${ARGS}")
set(_report "command: cfnet ${_shown}\nexit code: ${rc}\n--- stdout ---\n${out}--- stderr ---\n${err}")
if(NOT "${rc}" STREQUAL "${EXPECT_EXIT}")
  message(FATAL_ERROR "expected exit code ${EXPECT_EXIT}\n${_report}")
endif()
if(NOT "${STDOUT_REGEX}" STREQUAL "" AND NOT out MATCHES "${STDOUT_REGEX}")
  message(FATAL_ERROR "stdout does not match '${STDOUT_REGEX}'\n${_report}")
endif()
if(NOT "${STDERR_REGEX}" STREQUAL "" AND NOT err MATCHES "${STDERR_REGEX}")
  message(FATAL_ERROR "stderr does not match '${STDERR_REGEX}'\n${_report}")
endif()
if(NOT "${EXPECT_EXIT}" STREQUAL "0" AND "${err}" STREQUAL "")
  message(FATAL_ERROR "a failing command must say why on stderr\n${_report}")
endif()
message(STATUS "${_report}")
