#!/usr/bin/env bash
# Line coverage of the parsers by the fuzz corpora: builds the corpus-replay programs with clang's
# source-based coverage in build-fuzzcov/, replays each target's corpora, and prints llvm-cov's line
# coverage of the files that target's parser lives in (docs/reliability.md, "Coverage").
#   scripts/fuzz_coverage.sh                       the committed corpora (tests/fuzz/corpus/<target>)
#   scripts/fuzz_coverage.sh DIR                   plus DIR/<target> (e.g. a long run's corpora)
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-}"
cxx="${CFNET_FUZZ_CXX:-clang++-14}"
profdata="${LLVM_PROFDATA:-llvm-profdata-14}"
cov="${LLVM_COV:-llvm-cov-14}"
out=build-fuzzcov

declare -A files=(
  [delimited]="include/cfnet/data/io.hpp"
  [movielens]="include/cfnet/data/movielens.hpp include/cfnet/data/io.hpp"
  [interactions]="include/cfnet/data/interactions.hpp"
  [items]="include/cfnet/data/movielens.hpp include/cfnet/data/interactions.hpp"
  [heldout]="include/cfnet/data/movielens.hpp"
  [model_file]="include/cfnet/serialize.hpp include/cfnet/detail/model_file_bytes.hpp include/cfnet/models/autoencoder/io.hpp include/cfnet/models/neural_cf/io.hpp include/cfnet/models/ease/io.hpp include/cfnet/models/mult_vae/io.hpp include/cfnet/baselines.hpp include/cfnet/ensemble.hpp"
  [cli_args]="tools/cfnet/cli.hpp tools/cfnet/cmd_train.hpp tools/cfnet/cmd_tune.hpp"
)
targets=(delimited movielens interactions items heldout model_file cli_args)

cmake -S . -B "$out" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE= \
  -DCMAKE_CXX_FLAGS="-O1 -fprofile-instr-generate -fcoverage-mapping" -DCFNET_BUILD_TESTS=ON \
  -DCFNET_BUILD_EXAMPLES=OFF -DCFNET_BUILD_BENCHMARKS=OFF -DCFNET_BUILD_PYTHON=OFF -DCFNET_WITH_MPI=OFF \
  -DCFNET_INSTALL=OFF -DCFNET_WERROR=OFF >/dev/null
cmake --build "$out" -j "$(nproc)" --target $(printf 'cfnet_fuzz_replay_%s ' "${targets[@]}") >/dev/null
printf '%-13s %9s %8s  %s\n' target inputs lines "files (line coverage of the parser's headers, all functions instantiated)"
for t in "${targets[@]}"; do
  dirs=("tests/fuzz/corpus/$t")
  [ -n "$extra" ] && [ -d "$extra/$t" ] && dirs+=("$extra/$t")
  rm -f "$out/$t".profraw
  LLVM_PROFILE_FILE="$out/$t.profraw" OPENBLAS_NUM_THREADS=1 "$out/tests/fuzz/cfnet_fuzz_replay_$t" "${dirs[@]}" \
    >/dev/null 2>"$out/$t.replay.log"
  n=$(grep -c '^replay: ' "$out/$t.replay.log" || true)
  "$profdata" merge -sparse "$out/$t.profraw" -o "$out/$t.profdata"
  # shellcheck disable=SC2086
  total=$("$cov" report "$out/tests/fuzz/cfnet_fuzz_replay_$t" -instr-profile="$out/$t.profdata" ${files[$t]} |
          awk '/^TOTAL/ {print $(NF-3)}')
  printf '%-13s %9s %8s  %s\n' "$t" "$n" "$total" "${files[$t]}"
done
