# Downloads MovieLens 100K from GroupLens, verifies the archive and extracts it. Never runs at
# configure or build time: the examples call it (with the path compiled in) only when no local copy
# is found and no --data was given.
#
#   cmake [-DDEST=dir] [-DURL=url] [-DMD5=hex] [-DTIMEOUT=seconds] -P fetch_movielens.cmake
#
#   DEST     directory receiving ml-100k.zip and ml-100k/ (default: ./data)
#   URL      default: https://files.grouplens.org/datasets/movielens/ml-100k.zip
#   MD5      expected MD5 of the archive (default: the official archive's)
#   TIMEOUT  seconds for the whole download (default: 300; the connection attempt gives up after 20 s)
#
# Exit code 0 and DEST/ml-100k/u.data exists on success; otherwise a FATAL_ERROR saying what failed
# and what to do offline (the caller adds its own instructions too). A partial or corrupt download
# is deleted, never extracted.

cmake_minimum_required(VERSION 3.18)  # file(ARCHIVE_EXTRACT)

if(NOT DEFINED DEST OR DEST STREQUAL "")
  set(DEST "${CMAKE_CURRENT_SOURCE_DIR}/data")  # with -P, CMAKE_CURRENT_SOURCE_DIR is the working directory
endif()
if(NOT DEFINED URL OR URL STREQUAL "")
  set(URL "https://files.grouplens.org/datasets/movielens/ml-100k.zip")
endif()
if(NOT DEFINED MD5 OR MD5 STREQUAL "")
  set(MD5 "0e33842e24a9c977be4e0107933c0723")
endif()
if(NOT DEFINED TIMEOUT OR TIMEOUT STREQUAL "")
  set(TIMEOUT 300)
endif()

get_filename_component(DEST "${DEST}" ABSOLUTE)
set(_zip "${DEST}/ml-100k.zip")
set(_part "${DEST}/ml-100k.zip.part")
set(_offline_hint
  "If this machine is offline, download ml-100k.zip elsewhere from "
  "https://files.grouplens.org/datasets/movielens/ml-100k.zip (MD5 0e33842e24a9c977be4e0107933c0723), unzip it and pass its directory "
  "(the one holding u.data and u.item) with --data /path/to/ml-100k, or unzip it into ${DEST} so that "
  "${DEST}/ml-100k/u.data exists. '--data synthetic' runs everything on generated MovieLens-100K-shaped "
  "data without any download.")
string(JOIN "" _offline_hint ${_offline_hint})

if(EXISTS "${DEST}/ml-100k/u.data")
  message(STATUS "cfnet: MovieLens 100K already present in ${DEST}/ml-100k")
  return()
endif()
file(MAKE_DIRECTORY "${DEST}")

# An archive from an earlier run is reused only if its checksum is right.
if(EXISTS "${_zip}")
  file(MD5 "${_zip}" _have)
  if(NOT _have STREQUAL MD5)
    message(STATUS "cfnet: ${_zip} has MD5 ${_have}, expected ${MD5}: downloading it again")
    file(REMOVE "${_zip}")
  endif()
endif()

if(NOT EXISTS "${_zip}")
  message(STATUS "cfnet: downloading ${URL} into ${DEST}")
  file(REMOVE "${_part}")
  file(DOWNLOAD "${URL}" "${_part}" STATUS _status TIMEOUT ${TIMEOUT} INACTIVITY_TIMEOUT 20 TLS_VERIFY ON)
  list(GET _status 0 _code)
  list(GET _status 1 _msg)
  if(NOT _code EQUAL 0)
    file(REMOVE "${_part}")
    message(FATAL_ERROR "cfnet: could not download ${URL}: ${_msg} (error ${_code}).\n${_offline_hint}")
  endif()
  file(MD5 "${_part}" _have)
  if(NOT _have STREQUAL MD5)
    file(REMOVE "${_part}")
    message(FATAL_ERROR "cfnet: the archive downloaded from ${URL} has MD5 ${_have}, expected ${MD5}: "
                        "refusing to use it (deleted).\n${_offline_hint}")
  endif()
  file(RENAME "${_part}" "${_zip}")
endif()

file(ARCHIVE_EXTRACT INPUT "${_zip}" DESTINATION "${DEST}")
if(NOT EXISTS "${DEST}/ml-100k/u.data")
  message(FATAL_ERROR "cfnet: extracted ${_zip} into ${DEST} but ${DEST}/ml-100k/u.data is missing.\n${_offline_hint}")
endif()
message(STATUS "cfnet: MovieLens 100K is ready in ${DEST}/ml-100k")
