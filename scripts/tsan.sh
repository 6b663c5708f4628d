#!/usr/bin/env bash
# ThreadSanitizer over the tests that run cfnet's own threads (detail/threads.hpp: scoring,
# evaluation, recommend_batch and the protocols at 1, 2 and 3 threads, every model), in
# build-tsan/. OpenBLAS is held at one thread: its own thread pool is not instrumented, so with 2
# OpenBLAS threads TSan reports the hand-off of a product's result between OpenBLAS's threads and
# ours as a race it cannot see the synchronisation of (docs/distributed.md, section 8).
# Any report fails the run (halt_on_error).
set -euo pipefail
cd "$(dirname "$0")/.."
"./scripts/setup.sh"
targets=(cfnet_test_detail_threads cfnet_test_distributed_evaluation)
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCFNET_BUILD_TESTS=ON -DCFNET_BUILD_PYTHON=OFF \
  -DCFNET_BUILD_BENCHMARKS=OFF -DCFNET_BUILD_EXAMPLES=OFF -DCFNET_WITH_MPI=OFF \
  -DCMAKE_CXX_FLAGS="-fsanitize=thread" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" ${CFNET_WERROR:+-DCFNET_WERROR=$CFNET_WERROR}
cmake --build build-tsan -j "$(nproc 2>/dev/null || echo 2)" --target "${targets[@]}"
for t in "${targets[@]}"; do
  echo "tsan: $t"
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" OPENBLAS_NUM_THREADS=1 "build-tsan/tests/$t"
done
