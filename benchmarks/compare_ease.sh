#!/usr/bin/env bash
# EASE at scale, side by side: cfnet's Ease<float>::fit (bench_ease --fit-csr) against the scipy peer
# (benchmarks/peers/ease_scipy.py: scipy.sparse Gram, LAPACK spotrf + spotri in float32), on the SAME
# ML-20M-shaped set (synthetic::ml20m_implicit(), 136677 users x 20108 items, ~10M interactions,
# written once as a CSR file), at 1 and 2 OpenBLAS threads, interleaved (cfnet 1, scipy 1, cfnet 2,
# scipy 2). Each line: phases in seconds, fit_seconds, peak_rss_mib. Minutes long: run it on a quiet
# machine.
#
#   benchmarks/compare_ease.sh [BUILD_DIR] [THREADS...]     (default: build, threads 1 2)
#
# Needs bench_ease (configure with -DCFNET_BUILD_BENCHMARKS=ON, build bench_ease) and /usr/bin/python3
# with numpy + scipy (Debian python3-scipy). About 5 GB of free memory (the scipy peer peaked at 4.6 GB) and 50 MB of disk (the CSR
# file, in a temporary directory removed at the end; set CFNET_EASE_CSR to keep/reuse one).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="${1:-$root/build}"
shift || true
threads=("$@")
[[ ${#threads[@]} -gt 0 ]] || threads=(1 2)
bench="$build/benchmarks/bench_ease"
[[ -x "$bench" ]] || { echo "missing $bench: configure with -DCFNET_BUILD_BENCHMARKS=ON and build bench_ease" >&2; exit 1; }
/usr/bin/python3 -c "import scipy, numpy" 2>/dev/null || { echo "/usr/bin/python3 cannot import scipy (apt-get install python3-scipy)" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
csr="${CFNET_EASE_CSR:-$tmp/ml20m_implicit.csr}"
[[ -f "$csr" ]] || "$bench" --dump-ml20m "$csr"
lambda="${CFNET_EASE_LAMBDA:-500}"

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for t in "${threads[@]}"; do
  OPENBLAS_NUM_THREADS="$t" OMP_NUM_THREADS="$t" "$bench" --fit-csr "$csr" --threads "$t" --lambda "$lambda"
  OPENBLAS_NUM_THREADS="$t" OMP_NUM_THREADS="$t" /usr/bin/python3 "$here/peers/ease_scipy.py" "$csr" --lambda "$lambda"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
