#!/bin/sh
# NeuralCF (notebook configuration, 10 epochs, MovieLens 100K notebook split) side by side with the
# PyTorch CPU peer benchmarks/peers/ncf_torch.py, both on one thread, in one run; prints the ratio.
#
#   benchmarks/compare_neural_cf.sh [BUILD_DIR] [ML100K_DIR] [HELDOUT_FILE]
#
# BUILD_DIR must hold benchmarks/bench_neural_cf (configure with -DCFNET_BUILD_BENCHMARKS=ON).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build-bench}
data=${2:-$here/../../shared/data/ml-100k}
heldout=${3:-$data/../notebook-split/test.tsv}
py=/usr/bin/python3
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

NCF_NOTEBOOK_SPLIT="$heldout" "$build/benchmarks/bench_neural_cf" --benchmark_filter='notebook' \
    --benchmark_format=json > "$tmp/cfnet.json"
"$py" "$here/peers/ncf_torch.py" --data "$data" --test "$heldout" --seed 42 --epochs 10 --threads 1 \
    --json "$tmp/torch.json" > /dev/null

"$py" - "$tmp/cfnet.json" "$tmp/torch.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); t = json.load(open(sys.argv[2]))
b = {x["name"].split("/")[0]: x for x in c["benchmarks"]}
train = b["BM_ncf_notebook_train_10_epochs"]; score = b["BM_ncf_notebook_full_scoring"]
ms = lambda x, k: x[k] / 1e3 if x["time_unit"] == "ms" else x[k]
print(f"{'':34s} {'cfnet':>10s} {'PyTorch':>10s} {'ratio':>8s}")
ct, cc = ms(train, "real_time"), ms(train, "cpu_time")
print(f"{'train 10 epochs, wall s':34s} {ct:10.3f} {t['train_seconds']:10.3f} {t['train_seconds']/ct:7.2f}x")
print(f"{'train 10 epochs, cfnet CPU s':34s} {cc:10.3f}")
cs = ms(score, "real_time")
print(f"{'full 943x1682 scoring, wall s':34s} {cs:10.3f} {t['score_seconds']:10.3f} {t['score_seconds']/cs:7.2f}x")
print(f"{'test RMSE':34s} {train['rmse']:10.4f} {t['rmse']:10.4f}")
print(f"(torch {t['torch_version']}, load average at start {c['context'].get('load_avg')})")
PY
