#!/usr/bin/env bash
# Builds cfnet's libFuzzer targets (tests/fuzz, clang + ASan + UBSan) in build-fuzz/ and runs each
# for a bounded time, starting from the committed corpus (tests/fuzz/corpus/<target>, read only:
# new inputs go to a scratch corpus) with the target's dictionary. Any crash, sanitizer report or
# contract violation fails the run; the input is saved as build-fuzz/findings/<target>/crash-*.
#   scripts/fuzz.sh                 every target, CFNET_FUZZ_SECONDS (default 15) each
#   scripts/fuzz.sh model_file 600  one target, 10 minutes
# docs/reliability.md describes the targets and what each asserts.
set -euo pipefail
cd "$(dirname "$0")/.."

"./scripts/setup.sh"

targets=(delimited movielens interactions items heldout model_file cli_args)
seconds="${CFNET_FUZZ_SECONDS:-15}"
if [ $# -ge 1 ]; then targets=("$1"); fi
if [ $# -ge 2 ]; then seconds="$2"; fi
cxx="${CFNET_FUZZ_CXX:-clang++-14}"
jobs=$(nproc 2>/dev/null || echo 2)

start=$(date +%s)
cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE= -DCFNET_BUILD_FUZZ=ON \
  -DCFNET_BUILD_TESTS=OFF -DCFNET_BUILD_EXAMPLES=OFF -DCFNET_BUILD_BENCHMARKS=OFF -DCFNET_INSTALL=OFF \
  -DCFNET_WERROR="${CFNET_WERROR:-ON}" >/dev/null
if [ ${#targets[@]} -eq 1 ]; then
  cmake --build build-fuzz -j "$jobs" --target "fuzz_${targets[0]}"
else
  cmake --build build-fuzz -j "$jobs"  # all of them, in parallel (the build holds only the fuzz targets)
fi
built=$(date +%s)
echo "fuzz: built ${#targets[@]} targets in $((built - start)) s"

status=0
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export OPENBLAS_NUM_THREADS=1
for t in "${targets[@]}"; do
  dict=tests/fuzz/dict/text.dict
  [ -f "tests/fuzz/dict/$t.dict" ] && dict="tests/fuzz/dict/$t.dict"  # model_file, cli_args
  work="build-fuzz/corpus/$t"
  findings="build-fuzz/findings/$t"
  mkdir -p "$work" "$findings"
  log="build-fuzz/fuzz_$t.log"
  # -rss_limit_mb / -malloc_limit_mb: a load that asks for more than 1 GB is a finding (resource limits).
  if ./build-fuzz/tests/fuzz/fuzz_"$t" "$work" "tests/fuzz/corpus/$t" -dict="$dict" -max_total_time="$seconds" \
       -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 -max_len=4096 -print_final_stats=1 \
       -artifact_prefix="$findings/" >"$log" 2>&1; then
    echo "fuzz: $t: $(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}') executions in ${seconds} s, no finding"
  else
    status=1
    echo "fuzz: $t: FINDING (log: $log; input: $(ls "$findings" | head -1))" >&2
    grep -E "ERROR|contract violated|runtime error|SUMMARY" "$log" | head -5 >&2 || true
  fi
done
echo "fuzz: total $(( $(date +%s) - start )) s"
exit $status
