#!/usr/bin/env bash
# Side-by-side training time of the notebook autoencoder: cfnet (AutoencoderCF, exact Adam, and the
# lazy-Adam option) against the PyTorch CPU peer (benchmarks/peers/autoencoder_torch.py), both single
# threaded, 20 epochs on the notebook's MovieLens 100K split, in one run. Prints both times and the
# ratio. Only the training loop is timed on both sides.
#
#   benchmarks/compare_autoencoder.sh [BUILD_DIR] [DATA_DIR]
#
# BUILD_DIR: a build with -DCFNET_BUILD_EXAMPLES=ON (default: build); DATA_DIR: ml-100k
# (default: ../shared/data/ml-100k). Needs /usr/bin/python3 with torch (Debian python3-torch) and jq
# or python3 for reading the JSON results.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="${1:-$root/build}"
data="${2:-$root/../shared/data/ml-100k}"
[[ -d "$data" ]] || { echo "missing the MovieLens 100K directory $data" >&2; exit 1; }
data="$(cd "$data" && pwd)"  # absolute: the PyTorch peer runs from benchmarks/peers
split="$data/../notebook-split/test.tsv"
example="$build/examples/autoencoder_movielens"
[[ -x "$example" ]] || { echo "missing $example: configure with -DCFNET_BUILD_EXAMPLES=ON and build autoencoder_movielens" >&2; exit 1; }
[[ -f "$split" ]] || { echo "missing the notebook split $split" >&2; exit 1; }
/usr/bin/python3 -c "import torch" 2>/dev/null || { echo "/usr/bin/python3 cannot import torch (apt-get install python3-torch)" >&2; exit 1; }

export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
"$example" --data "$data" --split "$split" --seed 42 --json "$tmp/cfnet.json" > /dev/null
"$example" --data "$data" --split "$split" --seed 42 --lazy --json "$tmp/cfnet_lazy.json" > /dev/null
( cd "$here/peers" && /usr/bin/python3 autoencoder_torch.py --data "$data" --test "$split" --seed 42 \
      --epochs 20 --threads 1 --json "$tmp/torch.json" > /dev/null )

/usr/bin/python3 - "$tmp" <<'EOF'
import json, sys, os
d = sys.argv[1]
c = json.load(open(os.path.join(d, "cfnet.json")))
l = json.load(open(os.path.join(d, "cfnet_lazy.json")))
t = json.load(open(os.path.join(d, "torch.json")))
ct, lt, tt = c["seconds"]["train"], l["seconds"]["train"], t["train_seconds"]
print(f"{'':28s} {'train s':>9s} {'RMSE':>8s} {'RMSE leaky':>11s} {'final loss':>11s}")
print(f"{'cfnet (exact Adam)':28s} {ct:9.3f} {c['rmse']:8.4f} {c['rmse_leaky_notebook_protocol']:11.4f} {c['history'][-1]['loss']:11.4f}")
print(f"{'cfnet (lazy Adam)':28s} {lt:9.3f} {l['rmse']:8.4f} {l['rmse_leaky_notebook_protocol']:11.4f} {l['history'][-1]['loss']:11.4f}")
print(f"{'PyTorch ' + t['torch_version'] + ' CPU':28s} {tt:9.3f} {t['rmse']:8.4f} {t['rmse_leaky']:11.4f} {t['history'][-1]:11.4f}")
print(f"speed-up: exact {tt / ct:.2f}x, lazy {tt / lt:.2f}x")
EOF
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
