#!/usr/bin/env bash
# The main job: installs missing Debian packages, builds cfnet's examples in Release and runs the
# MovieLens 100K notebook pipeline. Arguments are passed to the pipeline (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."

"./scripts/setup.sh"

jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCFNET_BUILD_EXAMPLES=ON >/dev/null
cmake --build build -j "$jobs" --target notebook_pipeline
exec ./build/examples/notebook_pipeline "$@"
