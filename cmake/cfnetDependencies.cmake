# cfnet's own build: find the dependencies and fail at configure time with a clear message when one
# is missing or is a version cfnet cannot build with. (The installed cfnetConfig.cmake does the same
# checks with find_dependency, see cfnetConfig.cmake.in.)
set(_cfnet_apt_hint "On Debian/Ubuntu run scripts/setup.sh, or: apt-get install libxtensor-dev libxtensor-blas-dev libopenblas-dev")

find_package(xtensor CONFIG QUIET)
if(NOT xtensor_FOUND)
  message(FATAL_ERROR "cfnet: xtensor was not found. ${_cfnet_apt_hint}")
endif()
# 0.26 moved the headers into subfolders and 0.27 requires C++20; cfnet includes xtensor only from
# include/cfnet/tensor.hpp and supports the flat-header 0.24/0.25 series.
if(xtensor_VERSION VERSION_LESS 0.24 OR xtensor_VERSION VERSION_GREATER_EQUAL 0.26)
  message(FATAL_ERROR "cfnet: xtensor ${xtensor_VERSION} found in ${xtensor_DIR}; cfnet needs 0.24.x or 0.25.x "
                      "(0.26 moved its headers, 0.27 needs C++20).")
endif()

set(BLA_VENDOR OpenBLAS)   # xtensor-blas' config calls find_dependency(BLAS): make it OpenBLAS
find_package(xtensor-blas CONFIG QUIET)
if(NOT xtensor-blas_FOUND)
  message(FATAL_ERROR "cfnet: xtensor-blas was not found. ${_cfnet_apt_hint}")
endif()
if(xtensor-blas_VERSION VERSION_LESS 0.20 OR xtensor-blas_VERSION VERSION_GREATER_EQUAL 0.22)
  message(FATAL_ERROR "cfnet: xtensor-blas ${xtensor-blas_VERSION} found; cfnet needs 0.20.x or 0.21.x.")
endif()

find_package(BLAS QUIET)
if(NOT TARGET BLAS::BLAS)
  message(FATAL_ERROR "cfnet: OpenBLAS was not found. ${_cfnet_apt_hint}")
endif()
