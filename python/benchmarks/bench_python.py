#!/usr/bin/env python3
"""cfnet from Python vs from C++, side by side in one run (docs/benchmarks.md, "Python package").

    PYTHONPATH=build/python OPENBLAS_NUM_THREADS=1 /usr/bin/python3 python/benchmarks/bench_python.py \\
        --build build --data ../shared/data/ml-100k [--rounds 5] [--torch]

1. The notebook's two models (AutoencoderCF 20 epochs, NeuralCF 10 epochs) on ML-100K's per-user holdout
   (seed 42): the C++ program examples/notebook_pipeline and examples/notebook.py run interleaved,
   `--rounds` rounds of one run each, the order flipping every round (C++ first, then Python first), so
   that a noisy machine (load that comes and goes, frequency changes) affects both sides alike. Reported:
   the medians of each side's training times (each fit alone), and the median of the per-round ratios
   Python/C++ (each ratio from two runs back to back: the figure least affected by drift). The per-epoch
   losses must be identical.
1b. The autoencoder's fit alone, in-process on both sides (tests/python/reference.cpp --bench-fit vs
   AutoencoderCF.fit in this process; each side warmed up by one fit before), interleaved the same way:
   the wall time and the training thread's
   CPU time (CLOCK_THREAD_CPUTIME_ID / time.thread_time(); one OpenBLAS thread, so all the work is in that
   thread). CPU time does not count the time other processes take the core: on a loaded machine it is
   the figure that says whether Python adds work.
2. Scoring every user of ML-100K (top-10, training items excluded): the C++ recommend_batch
   (tests/python/reference.cpp --bench-recommend, which also saves its model) vs model.recommend(all users)
   from Python on that same model file; medians of 7 runs each, alternated.
3. --torch: examples/notebook.py end to end vs the PyTorch re-implementation of the notebook
   (benchmarks/peers/autoencoder_torch.py + ncf_torch.py, one thread), on ML-100K's u1 split, one run each:
   the wall time of the whole processes.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def run(cmd, env=None):
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--data", required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--torch", action="store_true")
    ap.add_argument("--no-notebook", action="store_true", help="skip part 1 (the whole notebook programs)")
    a = ap.parse_args()
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               PYTHONPATH=os.path.join(a.build, "python"))
    tmp = tempfile.mkdtemp(prefix="cfnet-bench-py-")
    py = sys.executable

    # --- 1. the notebook's two models, training time and losses ---
    rows = {"cpp": {"ae": [], "ncf": [], "total": []}, "py": {"ae": [], "ncf": [], "total": []}}
    for r in range(0 if a.no_notebook else a.rounds):
        for side in (("cpp", "py") if r % 2 == 0 else ("py", "cpp")):
            out = os.path.join(tmp, f"{side}{r}.json")
            if side == "cpp":
                cmd = [os.path.join(a.build, "examples", "notebook_pipeline"), "--data", a.data, "--quiet", "--json", out]
            else:
                cmd = [py, os.path.join(ROOT, "examples", "notebook.py"), "--data", a.data, "--quiet", "--plots", "",
                       "--json", out]
            run(cmd, env)
            with open(out) as f:
                j = json.load(f)
            rows[side]["ae"].append(j["seconds"]["autoencoder_train"])
            rows[side]["ncf"].append(j["seconds"]["neural_cf_train"])
            rows[side]["total"].append(j["seconds"]["total"])
            rows[side]["json"] = j
    if a.no_notebook:
        return rest(a, env, tmp, py)
    c, p = rows["cpp"]["json"], rows["py"]["json"]
    ae_c = [e["loss"] for e in c["autoencoder"]["history"]["epochs"]]
    ncf_c = [e["loss"] for e in c["neural_cf"]["history"]["epochs"]]
    # the C++ JSON writes 9 significant digits: compare at that precision
    same_ae = all(float(f"{x:.9g}") == y for x, y in zip(p["autoencoder"]["history"]["loss"], ae_c))
    same_ncf = all(float(f"{x:.9g}") == y for x, y in zip(p["neural_cf"]["history"]["loss"], ncf_c))
    print(f"1. notebook models on ML-100K (per-user holdout, seed 42), {a.rounds} interleaved rounds, medians")
    print(f"{'':28s} {'C++ (s)':>9s} {'Python (s)':>11s} {'ratio of medians':>17s} {'median ratio':>13s}"
          f"  per-round ratios")
    for key, label in (("ae", "autoencoder fit, 20 epochs"), ("ncf", "neural CF fit, 10 epochs"),
                       ("total", "whole notebook")):
        mc, mp = statistics.median(rows["cpp"][key]), statistics.median(rows["py"][key])
        ratios = [p_ / c_ for c_, p_ in zip(rows["cpp"][key], rows["py"][key])]
        print(f"{label:28s} {mc:9.3f} {mp:11.3f} {mp / mc:17.3f} {statistics.median(ratios):13.3f}  "
              + " ".join(f"{x:.3f}" for x in ratios))
    print(f"identical per-epoch losses: autoencoder {same_ae}, neural CF {same_ncf}; "
          f"RMSE C++ {c['autoencoder']['rating']['rmse']:.6f} / {c['neural_cf']['rating']['rmse']:.6f}, "
          f"Python {p['autoencoder']['rating']['rmse']:.6f} / {p['neural_cf']['rating']['rmse']:.6f}")

    return rest(a, env, tmp, py)


def rest(a, env, tmp, py):
    # --- 1b. the autoencoder's fit alone: wall and thread CPU time ---
    import cfnet
    ref = os.path.join(a.build, "python", "tests", "cfnet_py_reference")
    ds = cfnet.load_movielens(a.data)
    train, _ = cfnet.per_user_holdout(ds.ratings, seed=42)
    fit = {"cpp": {"wall": [], "cpu": []}, "py": {"wall": [], "cpu": []}}
    cfnet.AutoencoderCF().fit(train, show_progress=False)  # warm-up (the C++ side does one too)
    for r in range(a.rounds):
        for side in (("cpp", "py") if r % 2 == 0 else ("py", "cpp")):
            if side == "cpp":
                out = subprocess.run([ref, "-", "--bench-fit", a.data], check=True, capture_output=True, text=True,
                                     env=env).stdout.split()
                wall, cpu, cpp_loss = float(out[0]), float(out[1]), [float(x) for x in out[2:]]
            else:
                m = cfnet.AutoencoderCF()
                t, c = time.perf_counter(), time.thread_time()
                h = m.fit(train, show_progress=False)
                wall, cpu = time.perf_counter() - t, time.thread_time() - c
                py_loss = h["loss"]
            fit[side]["wall"].append(wall)
            fit[side]["cpu"].append(cpu)
    same = cpp_loss == py_loss
    print(f"\n1b. autoencoder fit (20 epochs) in-process, {a.rounds} interleaved rounds, medians; identical losses: {same}")
    for key, label in (("wall", "wall time"), ("cpu", "thread CPU time")):
        mc, mp = statistics.median(fit["cpp"][key]), statistics.median(fit["py"][key])
        ratios = [p_ / c_ for c_, p_ in zip(fit["cpp"][key], fit["py"][key])]
        print(f"{label:28s} {mc:9.3f} {mp:11.3f} {mp / mc:17.3f} {statistics.median(ratios):13.3f}  "
              + " ".join(f"{x:.3f}" for x in ratios))

    # --- 2. scoring every user ---
    model_file = os.path.join(tmp, "ae.cfnet")
    cpp_times = []
    py_times = []
    users = np.arange(train.n_users)
    ae = None
    for r in range(7):
        def cpp():
            out = subprocess.run([ref, model_file, "--bench-recommend", a.data, "1"], check=True, capture_output=True,
                                 text=True, env=env).stdout.split()
            cpp_times.append(float(out[0]))

        def python():
            t = time.perf_counter()
            ae.recommend(users, N=10)
            py_times.append(time.perf_counter() - t)

        if ae is None:  # the first C++ run writes the model file
            cpp()
            ae = cfnet.AutoencoderCF.load(model_file, train)
            python()
            continue
        for f in ((cpp, python) if r % 2 == 0 else (python, cpp)):
            f()
    ids, scores = ae.recommend(users, N=10)
    assert ids.shape == (train.n_users, 10)
    mc, mp = statistics.median(cpp_times), statistics.median(py_times)
    print(f"\n2. top-10 for all {train.n_users} users (autoencoder, training items excluded), medians of 7")
    print(f"C++ recommend_batch {1e3 * mc:.1f} ms, Python recommend(all users) {1e3 * mp:.1f} ms, ratio {mp / mc:.3f}")

    # --- 3. end to end vs the PyTorch notebook ---
    if a.torch:
        test = os.path.join(a.data, "u1.test")
        t_cfnet = run([py, os.path.join(ROOT, "examples", "notebook.py"), "--data", a.data, "--split", "u1", "--quiet",
                       "--plots", ""], env)
        peers = os.path.join(ROOT, "benchmarks", "peers")
        t_ae = run(["/usr/bin/python3", os.path.join(peers, "autoencoder_torch.py"), "--data", a.data, "--test", test,
                    "--threads", "1"], env)
        t_ncf = run(["/usr/bin/python3", os.path.join(peers, "ncf_torch.py"), "--data", a.data, "--test", test,
                     "--threads", "1"], env)
        print("\n3. end to end on ML-100K u1 (processes' wall time, one thread, one run each)")
        print(f"cfnet examples/notebook.py (both models, baselines, evaluation, top-10) {t_cfnet:.2f} s")
        print(f"PyTorch peers: autoencoder_torch.py {t_ae:.2f} s + ncf_torch.py {t_ncf:.2f} s = {t_ae + t_ncf:.2f} s"
              f" ({(t_ae + t_ncf) / t_cfnet:.1f}x cfnet's)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
