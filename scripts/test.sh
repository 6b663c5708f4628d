#!/usr/bin/env bash
# Builds cfnet's test suite and runs it through ctest. Installs missing Debian packages first.
#   scripts/test.sh              Release build in build/, all tests
#   scripts/test.sh --sanitize   AddressSanitizer + UBSan build in build-sanitize/, all tests
# Extra arguments after the options are passed to ctest (e.g. -R data).
# MovieLens 100K is read from $CFNET_ML100K_DIR, default ../shared/data/ml-100k.
set -euo pipefail
cd "$(dirname "$0")/.."

"./scripts/setup.sh"

build=build
flags=(-DCMAKE_BUILD_TYPE=Release -DCFNET_BUILD_PYTHON=ON)   # + the Python package and its pytest suite
if [ "${1:-}" = "--sanitize" ]; then
  shift
  build=build-sanitize
  flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCFNET_SANITIZE=ON -DCFNET_BUILD_BENCHMARKS=OFF -DCFNET_BUILD_PYTHON=OFF)
fi
if [ -n "${CFNET_ML100K_DIR:-}" ]; then
  flags+=("-DCFNET_ML100K_DIR=${CFNET_ML100K_DIR}")
elif [ ! -f ../shared/data/ml-100k/u.data ] && [ ! -f data/ml-100k/u.data ]; then
  # The data tests need MovieLens 100K (never committed: its licence forbids redistribution).
  echo "cfnet tests: MovieLens 100K not found; fetching it into ./data (set CFNET_ML100K_DIR to use a local copy)"
  cmake -DDEST="$(pwd)/data" -P cmake/fetch_movielens.cmake ||
    echo "cfnet tests: could not fetch MovieLens 100K: the tests that need it will fail and say so" >&2
fi
if [ -n "${CFNET_WERROR:-}" ]; then
  flags+=("-DCFNET_WERROR=${CFNET_WERROR}")
fi

jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B "$build" -DCFNET_BUILD_TESTS=ON "${flags[@]}"
cmake --build "$build" -j "$jobs"
ctest --test-dir "$build" --output-on-failure -j "$jobs" "$@"
