#!/usr/bin/env python3
"""EASE (Steck 2019) with scipy, the peer of cfnet's Ease::fit (benchmarks/compare_ease.sh).

The same computation as cfnet on the same data: X from a CFNETCSR file (bench_ease --dump-ml20m;
every entry 1), G = X^T X through scipy.sparse then dense, lambda added to the diagonal, P = G^-1
through LAPACK's Cholesky in float32 (scipy.linalg.lapack spotrf + spotri: scipy links the same
OpenBLAS here), then B = I - P diag(1/diag P) with diag(B) = 0. The symmetrisation of P and the
scaling are done in place, block by block, so the peer holds one dense matrix besides scipy's
sparse Gram (which it needs to build the dense one).

    OPENBLAS_NUM_THREADS=2 /usr/bin/python3 ease_scipy.py FILE [--lambda 500]

Prints one line of key=value: read_seconds, gram, factor, inverse, weights, fit_seconds (the four
phases: everything after reading), fit_cpu_seconds (user + system time of the fit), peak_rss_mib (resource.getrusage, whole process), checksum.
"""
import argparse
import os
import resource
import time

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack


def cpu_seconds():
    """User + system time of the whole process (all threads), as bench_ease reports it."""
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def read_csr(path):
    with open(path, "rb") as f:
        if f.read(8) != b"CFNETCSR":
            raise SystemExit(f"{path}: not a CFNETCSR file")
        rows, cols, nnz = np.fromfile(f, dtype="<u8", count=3)
        indptr = np.fromfile(f, dtype="<u8", count=int(rows) + 1).astype(np.int64)
        indices = np.fromfile(f, dtype="<u4", count=int(nnz)).astype(np.int32)
    data = np.ones(int(nnz), dtype=np.float32)
    return sp.csr_matrix((data, indices, indptr), shape=(int(rows), int(cols)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csr")
    ap.add_argument("--lambda", dest="lam", type=float, default=500.0)
    ap.add_argument("--block", type=int, default=1024)
    a = ap.parse_args()

    t0 = time.perf_counter()
    X = read_csr(a.csr)
    t1 = time.perf_counter()
    c1 = cpu_seconds()
    n_users, nnz = X.shape[0], X.nnz
    G = (X.T @ X).toarray()  # float32, C order
    del X
    n = G.shape[0]
    G[np.diag_indices(n)] += np.float32(a.lam)
    t2 = time.perf_counter()
    # G.T is the same symmetric matrix in Fortran order: LAPACK works in place, no copy.
    c, info = lapack.spotrf(G.T, lower=0, clean=0, overwrite_a=1)
    if info != 0:
        raise SystemExit(f"spotrf info {info}")
    t3 = time.perf_counter()
    P, info = lapack.spotri(c, lower=0, overwrite_c=1)
    if info != 0:
        raise SystemExit(f"spotri info {info}")
    t4 = time.perf_counter()
    A = P.T  # C order again: LAPACK's upper (Fortran) triangle is the lower one here
    bs = a.block
    for i0 in range(0, n, bs):  # symmetrise in place: lower -> upper, block by block
        i1 = min(i0 + bs, n)
        blk = A[i0:i1, i0:i1]
        blk[np.triu_indices(i1 - i0, 1)] = blk.T[np.triu_indices(i1 - i0, 1)]
        for j0 in range(i1, n, bs):
            j1 = min(j0 + bs, n)
            A[i0:i1, j0:j1] = A[j0:j1, i0:i1].T
    d = np.diag(A).copy()
    A /= -d[None, :]
    A[np.diag_indices(n)] = 0
    t5 = time.perf_counter()
    cpu = cpu_seconds() - c1
    check = float(A.ravel()[(np.arange(1000) * 20108) % A.size].astype(np.float64).sum())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"impl=scipy threads={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')} users={n_users} items={n}"
          f" nnz={nnz} lambda={a.lam:g} read_seconds={t1 - t0:.2f} gram={t2 - t1:.2f} factor={t3 - t2:.2f}"
          f" inverse={t4 - t3:.2f} weights={t5 - t4:.2f} fit_seconds={t5 - t1:.2f} fit_cpu_seconds={cpu:.2f}"
          f" peak_rss_mib={rss:.0f}"
          f" checksum={check:.6g}")

if __name__ == "__main__":
    main()
