#!/usr/bin/env bash
# Two builds of bench_neural_cf side by side: ROUNDS alternating runs of the notebook model's
# 10-epoch training (BM_ncf_notebook_train_10_epochs, 3 fits per run) and full 943 x 1682 scoring
# (BM_ncf_notebook_full_scoring), then each build's median over the rounds and the median of the
# per-round ratios NEW / OLD, the figure to trust on a shared machine whose speed drifts.
#
#   benchmarks/ab_neural_cf.sh OLD_BINARY NEW_BINARY [ROUNDS]   (ROUNDS: default 8)
#
# Copy the old binary aside before rebuilding (it is the same path in both builds), e.g.
#   cp build/benchmarks/bench_neural_cf /tmp/old && <change, rebuild> &&
#   benchmarks/ab_neural_cf.sh /tmp/old build/benchmarks/bench_neural_cf
set -euo pipefail
old="${1:?usage: ab_neural_cf.sh OLD_BINARY NEW_BINARY [ROUNDS]}"
new="${2:?usage: ab_neural_cf.sh OLD_BINARY NEW_BINARY [ROUNDS]}"
rounds="${3:-8}"
for b in "$old" "$new"; do [[ -x "$b" ]] || { echo "not an executable: $b" >&2; exit 1; }; done
export OPENBLAS_NUM_THREADS=1
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
results="$(mktemp)"
trap 'rm -f "$results"' EXIT
for ((i = 1; i <= rounds; ++i)); do
    for which in old new; do
        bin="$old"; [[ $which == new ]] && bin="$new"
        # real time (ms) of each benchmark, in the order of the filter's matches: train, then scoring
        "$bin" --benchmark_filter='BM_ncf_notebook_(train_10_epochs|full_scoring)' 2>/dev/null |
            awk -v w="$which" '/^BM_ncf_notebook_train/ {t = $2} /^BM_ncf_notebook_full_scoring/ {s = $2}
                               END {print w, t, s}' >> "$results"
    done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 - "$results" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
for col, name in ((1, "train 10 epochs"), (2, "full scoring")):
    old = [float(r[col]) for r in rows if r[0] == "old"]
    new = [float(r[col]) for r in rows if r[0] == "new"]
    ratio = statistics.median(n / o for o, n in zip(old, new))
    print(f"{name:15}  old {statistics.median(old):7.1f} ms  new {statistics.median(new):7.1f} ms  "
          f"(new rounds {min(new):.1f}-{max(new):.1f})  median ratio new/old {ratio:.3f}")
PY
