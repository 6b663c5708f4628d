#!/usr/bin/env bash
# Two builds of bench_autoencoder side by side: ROUNDS alternating runs of BM_ae_fit_notebook (exact
# and lazy Adam, each the median of 3 fits), then each build's median over the rounds and the median
# of the per-round ratios NEW / OLD, the figure to trust on a shared machine whose speed drifts.
#
#   benchmarks/ab_autoencoder.sh OLD_BINARY NEW_BINARY [ROUNDS]   (ROUNDS: default 8)
#
# Copy the old binary aside before rebuilding (it is the same path in both builds), e.g.
#   cp build-bench/benchmarks/bench_autoencoder /tmp/old && <change, rebuild> &&
#   benchmarks/ab_autoencoder.sh /tmp/old build-bench/benchmarks/bench_autoencoder
set -euo pipefail
old="${1:?usage: ab_autoencoder.sh OLD_BINARY NEW_BINARY [ROUNDS]}"
new="${2:?usage: ab_autoencoder.sh OLD_BINARY NEW_BINARY [ROUNDS]}"
rounds="${3:-8}"
for b in "$old" "$new"; do [[ -x "$b" ]] || { echo "not an executable: $b" >&2; exit 1; }; done
export OPENBLAS_NUM_THREADS=1
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
results="$(mktemp)"
trap 'rm -f "$results"' EXIT
for ((i = 1; i <= rounds; ++i)); do
    for which in old new; do
        bin="$old"; [[ $which == new ]] && bin="$new"
        "$bin" --benchmark_filter=fit_notebook --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
            2>/dev/null | awk -v w="$which" '/_median/ {v[++n] = $4} END {print w, v[1], v[2]}' >> "$results"
    done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 - "$results" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
for col, name in ((1, "exact"), (2, "lazy")):
    old = [float(r[col]) for r in rows if r[0] == "old"]
    new = [float(r[col]) for r in rows if r[0] == "new"]
    ratio = statistics.median(n / o for o, n in zip(old, new))
    print(f"{name:5}  old {statistics.median(old):6.0f} ms  new {statistics.median(new):6.0f} ms  "
          f"(new rounds {min(new):.0f}-{max(new):.0f})  median ratio new/old {ratio:.3f}")
PY
