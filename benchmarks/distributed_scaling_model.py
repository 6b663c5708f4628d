#!/usr/bin/env python3
"""The scaling model of docs/distributed.md, section 5: the item-partitioned AutoencoderCF epoch
(notebook network 512-256-64-256-512, lazy Adam) predicted for N ranks on a 10 and a 100 Gbit/s
network, from one-rank measurements of the full ML-25M-shaped epoch.

Inputs (measured on one core, OPENBLAS_NUM_THREADS=1, quiet machine, 2026-12-02):
    OPENBLAS_NUM_THREADS=1 build/tests/distributed/mpi/cfnet_distributed_measure ml25m 1 0 B lazy-both
for B = 32 and 256: the training compute of the epoch (report.compute_seconds) and the mean
per-step middle part (report.replicated_seconds / steps), with the middle layers replicated and
split by rows. Pass other measurements with --measured B,steps,total_rep,mid_rep,total_split,mid_split.

Model, per epoch: compute = (total - middle) / N + middle (replicated) or middle / N (split);
communication per step: allreduce of S bytes = 2 log2(N) alpha + 2 (N-1)/N S / bandwidth;
reduce-scatter or allgather of S bytes in all = log2(N) alpha + (N-1)/N S / bandwidth (the
large-message ring algorithms); replicated: 2 allreduces of 4 B 512 bytes + 1 of 8; split: 2
reduce-scatters and 2 allgathers of 4 B 512 bytes, an allreduce of the middle gradients (4 x
296,000 bytes) and one of 8. alpha = 20 us at 10 Gbit/s (TCP), 5 us at 100 Gbit/s (RDMA). The 10x
set (1.6M users x 600K items, the same ratings per user) is ML-25M's per-row cost x 10 rows.
"""
import argparse
import math

MEASURED = {  # B: (steps, total compute replicated, middle s/step replicated, total split, middle s/step split)
    32: (5080, 28.55, 0.0006, 31.99, 0.0006),
    256: (635, 17.17, 0.0029, 17.14, 0.0036),
}
WIDTH, P_MID = 512, 296000
NETWORKS = {"10 Gbit/s": (20e-6, 1.25e9), "100 Gbit/s": (5e-6, 12.5e9)}


def collective(kind, size, n, alpha, bandwidth):
    if n == 1:
        return 0.0
    hops = math.log2(n)
    if kind == "allreduce":
        return 2 * hops * alpha + 2 * (n - 1) / n * size / bandwidth
    return hops * alpha + (n - 1) / n * size / bandwidth  # reduce-scatter or allgather


def epoch(b, measured, n, split, alpha, bandwidth, rows_scale=1.0):
    steps, total_rep, mid_rep, total_split, mid_split = measured
    steps *= rows_scale
    s = 4 * b * WIDTH
    if split:
        middle = mid_split * steps
        compute = (total_split * rows_scale - middle) / n + middle / n
        per_step = (2 * collective("rs", s, n, alpha, bandwidth) + 2 * collective("ag", s, n, alpha, bandwidth) +
                    collective("allreduce", 4 * P_MID, n, alpha, bandwidth) + collective("allreduce", 8, n, alpha, bandwidth))
    else:
        middle = mid_rep * steps
        compute = (total_rep * rows_scale - middle) / n + middle
        per_step = 2 * collective("allreduce", s, n, alpha, bandwidth) + collective("allreduce", 8, n, alpha, bandwidth)
    return compute, per_step * steps


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--measured", action="append", default=[], help="B,steps,total_rep,mid_rep,total_split,mid_split")
    ap.add_argument("--ranks", default="1,2,8,64")
    args = ap.parse_args()
    for m in args.measured:
        b, *rest = m.split(",")
        MEASURED[int(b)] = (int(rest[0]), *map(float, rest[1:]))
    ranks = [int(r) for r in args.ranks.split(",")]
    print("| shape | B | middle layers | N | compute | comm @ 10 / 100 Gbit/s | epoch @ 10 / 100 Gbit/s |")
    print("|---|---|---|---|---|---|---|")
    for scale, shape in ((1.0, "ML-25M"), (10.0, "10x (1.6M x 600K)")):
        for b in sorted(MEASURED):
            for split in (False, True):
                for n in ranks:
                    c, m10 = epoch(b, MEASURED[b], n, split, *NETWORKS["10 Gbit/s"], scale)
                    _, m100 = epoch(b, MEASURED[b], n, split, *NETWORKS["100 Gbit/s"], scale)
                    print(f"| {shape} | {b} | {'split' if split else 'replicated'} | {n} | {c:.1f} s | "
                          f"{m10:.1f} / {m100:.1f} s | **{c + m10:.1f} / {c + m100:.1f} s** |")


if __name__ == "__main__":
    main()
