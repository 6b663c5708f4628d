#!/usr/bin/env bash
# Side-by-side training time of Mult-VAE (and Mult-DAE with --dae): cfnet (MultVAE, bench_mult_vae's
# protocol mode) against the PyTorch peer (benchmarks/peers/mult_vae_torch.py), both single threaded,
# the paper's configuration (I-600-200-600-I, tanh, dropout 0.5, batch 500, Adam 1e-3, beta annealed
# over 200000 updates to 0.2), 200 epochs on the training part of the Microsoft Recommenders split of
# MovieLens 100K (every rating an interaction; 75/25 stratified by user, seed 42), in one run. Only the
# training loop is timed on both sides; both report P@10 / NDCG@10 on the test part.
#
#   benchmarks/compare_mult_vae.sh [BUILD_DIR] [DATA_DIR] [--dae] [--epochs N]
#
# BUILD_DIR: a build with bench_mult_vae (default: build); DATA_DIR: ml-100k (default:
# ../shared/data/ml-100k). Needs /usr/bin/python3 with torch (Debian python3-torch).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="$root/build"
data="$root/../shared/data/ml-100k"
mode=vae
epochs=200
pos=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dae) mode=dae; shift ;;
    --epochs) epochs="$2"; shift 2 ;;
    *) if [[ $pos -eq 0 ]]; then build="$1"; else data="$1"; fi; pos=$((pos + 1)); shift ;;
  esac
done
[[ -d "$data" ]] || { echo "missing the MovieLens 100K directory $data" >&2; exit 1; }
data="$(cd "$data" && pwd)"  # absolute: the PyTorch peer runs from benchmarks/peers
bench="$build/benchmarks/bench_mult_vae"
[[ -x "$bench" ]] || { echo "missing $bench: build the bench_mult_vae target" >&2; exit 1; }
/usr/bin/python3 -c "import torch" 2>/dev/null || { echo "/usr/bin/python3 cannot import torch (apt-get install python3-torch)" >&2; exit 1; }

export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
peer_flags=()
[[ $mode == dae ]] && peer_flags+=(--dae)

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
"$bench" --protocol "$data" --mode "$mode" --seed 42 --epochs "$epochs" --batch 500 --anneal 200000 0.2 \
    --write-test "$tmp/test.tsv" --json "$tmp/cfnet.json"
( cd "$here/peers" && /usr/bin/python3 mult_vae_torch.py --data "$data" --test "$tmp/test.tsv" --seed 42 \
      --epochs "$epochs" --threads 1 "${peer_flags[@]}" --json "$tmp/torch.json" > /dev/null )

/usr/bin/python3 - "$tmp" <<'PY'
import json, sys, os
d = sys.argv[1]
c = json.load(open(os.path.join(d, "cfnet.json")))
t = json.load(open(os.path.join(d, "torch.json")))
ct, tt = c["train_seconds"], t["train_seconds"]
cc, tc = c["train_cpu_seconds"], t["train_cpu_seconds"]
print(f"{'':28s} {'train s':>9s} {'CPU s':>9s} {'s/epoch':>8s} {'P@10':>7s} {'NDCG@10':>8s} {'final loss':>11s}")
print(f"{'cfnet ' + c['model']:28s} {ct:9.3f} {cc:9.3f} {ct / c['epochs']:8.4f} {c['precision_at_10']:7.4f} {c['ndcg_at_10']:8.4f} {c['final_loss']:11.3f}")
print(f"{'PyTorch ' + t['torch_version'] + ' CPU':28s} {tt:9.3f} {tc:9.3f} {tt / t['epochs']:8.4f} {t['precision_at_10']:7.4f} {t['ndcg_at_10']:8.4f} {t['history'][-1]:11.3f}")
print(f"speed-up: wall {tt / ct:.2f}x, CPU time {tc / cc:.2f}x (CPU time is the fairer figure on a loaded machine)")
PY
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
