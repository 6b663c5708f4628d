#!/usr/bin/env python3
"""The notebook, end to end, on MovieLens 100K, in Python on cfnet: the same sections as
examples/notebook_pipeline.cpp, plus the figures the notebook would show (matplotlib, saved to files).

    PYTHONPATH=build/python /usr/bin/python3 examples/notebook.py [--data DIR|synthetic] [--split per-user|u1..u5]
        [--seed N] [--epochs-ae N] [--epochs-ncf N] [--json FILE] [--plots DIR] [--quiet]

 1. load the ratings: shape and head              2. count users and items
 3. the per-user 20% holdout (users with >= 5 ratings), with the per-user counts
    + the non-neural reference points: global mean, user+item bias, most popular
 4. the autoencoder (users x items input, read as sparse rows; 512-256-64-256-512 ReLU, linear out)
 5. its training, its RMSE -- leak-free (input = the training ratings) AND the notebook's leaky protocol
    (input = the full matrix, test ratings included), side by side -- and the top-10 titles for user index 0
 6. the neural collaborative filtering model (embeddings 32, MLP 128-64, 20% validation)
 7. its training (loss and val_loss per epoch)   8. its RMSE and top-10 for user index 0
 9. the comparison: RMSE/MAE and Precision/Recall/NDCG@10 of both models next to the baselines, the wall
    time of each stage; the figures: loss curves (autoencoder; neural CF with val_loss) and the metrics.

Ranking protocol (docs/evaluation.md): relevant = held-out rating >= 4, candidates = items the user did
not rate in train, means over users with at least one relevant item. MovieLens 100K is read from --data,
else $CFNET_ML100K_DIR, ./data/ml-100k or ../shared/data/ml-100k; --data synthetic runs on cfnet's
MovieLens-100K-shaped generator (no download).
"""
import argparse
import json
import os
import sys
import time

import numpy as np

import cfnet


def find_data(arg):
    if arg == "synthetic":
        return "synthetic"
    candidates = [arg] if arg else [os.environ.get("CFNET_ML100K_DIR", ""), "data/ml-100k", "../shared/data/ml-100k"]
    for d in candidates:
        if d and os.path.exists(os.path.join(d, "u.data")):
            return d
    sys.exit("notebook.py: MovieLens 100K not found: pass --data /path/to/ml-100k (the directory holding u.data "
             "and u.item) or --data synthetic")


def load(data, split, seed):
    if data == "synthetic":
        ratings = cfnet.synthetic(seed=seed)
        titles, variant = None, "synthetic-ml100k"
    else:
        ds = cfnet.load_movielens(data)
        ratings, titles, variant = ds.ratings, ds.titles, ds.variant
    if split == "per-user":
        tr, te = cfnet.per_user_holdout(ratings, seed=seed)
    elif data != "synthetic" and split in ("u1", "u2", "u3", "u4", "u5"):
        tr, te = cfnet.load_100k_split(data, split)
        ratings = tr  # the shipped splits are their own index space (train + test = u.data)
    else:
        sys.exit(f"notebook.py: unknown split '{split}' (per-user, or u1..u5 with MovieLens data)")
    return ratings, titles, variant, tr, te


def title(titles, m, item):
    iid = int(m.item_ids[item])
    return titles.get(iid, f"Item {iid}") if titles else f"Item {iid}"


def print_top(ids, scores, titles, train):
    out = []
    for k, (i, s) in enumerate(zip(ids, scores)):
        t = title(titles, train, int(i))
        print(f"{k + 1:3d}. {t:<62s} {float(s):7.3f}")
        out.append({"rank": k + 1, "item_id": int(train.item_ids[int(i)]), "title": t, "score": float(s)})
    return out


def row(name, r=None, k=None):
    def num(v):
        return f"{v:8.4f}" if v is not None else f"{'-':>8s}"
    print(f"{name:<34s} {num(r and r['rmse'])} {num(r and r['mae'])} {num(k and k['precision'])} "
          f"{num(k and k['recall'])} {num(k and k['ndcg'])}")


def plots(directory, ae_hist, ncf_hist, table):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(directory, exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    axes[0].plot(ae_hist["epoch"], ae_hist["loss"], marker="o", label="train loss (masked MSE)")
    axes[0].set_title("Autoencoder")
    axes[1].plot(ncf_hist["epoch"], ncf_hist["loss"], marker="o", label="loss")
    if "val_loss" in ncf_hist:
        axes[1].plot(ncf_hist["epoch"], ncf_hist["val_loss"], marker="o", label="val_loss")
    axes[1].set_title("Neural CF")
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    loss_png = os.path.join(directory, "loss_curves.png")
    fig.savefig(loss_png, dpi=100)
    plt.close(fig)

    names = [n for n, _, k in table if k]
    fig, ax = plt.subplots(figsize=(9, 4))
    width = 0.25
    x = np.arange(len(names))
    for j, metric in enumerate(("precision", "recall", "ndcg")):
        ax.bar(x + (j - 1) * width, [k[metric] for _, _, k in table if k], width, label=f"{metric}@10")
    ax.set_xticks(x)
    ax.set_xticklabels(names, rotation=15)
    ax.legend()
    ax.set_title("Top-10 ranking (relevant: held-out rating >= 4)")
    fig.tight_layout()
    metrics_png = os.path.join(directory, "metrics.png")
    fig.savefig(metrics_png, dpi=100)
    plt.close(fig)
    return [loss_png, metrics_png]


def main():
    ap = argparse.ArgumentParser(description="cfnet: the MovieLens 100K notebook pipeline in Python")
    ap.add_argument("--data", default="", help="MovieLens 100K directory, or 'synthetic'")
    ap.add_argument("--split", default="per-user", help="per-user (the notebook's) or u1..u5")
    ap.add_argument("--seed", type=int, default=42, help="seed of every random choice (split, weights, shuffles)")
    ap.add_argument("--epochs-ae", type=int, default=20, help="autoencoder epochs (the notebook: 20)")
    ap.add_argument("--epochs-ncf", type=int, default=10, help="neural CF epochs (the notebook: 10)")
    ap.add_argument("--json", default="", help="write the configuration, histories, metrics and times to FILE")
    ap.add_argument("--plots", default="notebook_plots", help="directory of the figures ('' = none)")
    ap.add_argument("--quiet", action="store_true", help="no training progress (the results are still printed)")
    a = ap.parse_args()

    seconds = {}
    t_start = time.perf_counter()

    # ---- 1-2. Data ------------------------------------------------------------------------------
    t = time.perf_counter()
    data = find_data(a.data)
    ratings, titles, variant, train, test = load(data, a.split, a.seed)
    seconds["load_split"] = time.perf_counter() - t
    print(f"== 1. Ratings ({data}, {variant})")
    print(f"ratings shape: ({ratings.nnz}, {4 if len(ratings.timestamps) else 3})")
    print("   user_id  item_id  rating")
    for u in range(2):
        for i, r in list(zip(ratings.user_items(u), ratings.user_ratings(u)))[:3]:
            print(f"{int(ratings.user_ids[u]):10d} {int(ratings.item_ids[int(i)]):8d} {float(r):7.1f}")
    print(f"\n== 2. {ratings.n_users} users, {ratings.n_items} items, density {100 * ratings.density:.2f}%")

    # ---- 3. Split -------------------------------------------------------------------------------
    test_counts = np.diff(test.indptr.astype(np.int64))
    train_counts = np.diff(train.indptr.astype(np.int64))
    in_test = test_counts > 0
    print(f"\n== 3. Split '{a.split}' (seed {a.seed})")
    print(f"train ratings: {train.nnz}, test ratings: {test.nnz}")
    print(f"users with held-out ratings: {int(in_test.sum())} ({test_counts[in_test].min()} to "
          f"{test_counts[in_test].max()} each), users kept whole in train: {int(((~in_test) & (train_counts > 0)).sum())}")
    print("   user_id   total   train    test")
    for u in range(min(5, train.n_users)):
        print(f"{int(train.user_ids[u]):10d}{train_counts[u] + test_counts[u]:8d}{train_counts[u]:8d}{test_counts[u]:8d}")

    # ---- Baselines ------------------------------------------------------------------------------
    t = time.perf_counter()
    mean = float(train.mean())
    r_mean = {"rmse": cfnet.rmse(np.full(test.nnz, mean), test.data), "mae": cfnet.mae(np.full(test.nnz, mean), test.data)}
    bias = cfnet.BiasBaseline()
    bias.fit(train)
    pop = cfnet.MostPopular()
    pop.fit(train)
    r_bias = bias.evaluate_rating(test)
    k_bias = bias.evaluate_ranking(test, k=10, threshold=4.0)
    k_pop = pop.evaluate_ranking(test, k=10, threshold=4.0)
    seconds["baselines"] = time.perf_counter() - t
    print(f"\nbaselines (fitted on train): global mean RMSE {r_mean['rmse']:.4f}, user+item bias RMSE "
          f"{r_bias['rmse']:.4f}, most popular P@10 {k_pop['precision']:.4f}")

    # ---- 4-5. Autoencoder -----------------------------------------------------------------------
    ae = cfnet.AutoencoderCF(epochs=a.epochs_ae, seed=a.seed)
    o = ae.options
    print(f"\n== 4. Autoencoder: input {train.n_users} users x {train.n_items} items (sparse rows, never a dense "
          f"matrix)\nlayers: {train.n_items} -> {' -> '.join(map(str, o['hidden']))} -> {train.n_items} "
          f"({o['hidden_activation']} hidden, {o['output_activation']} output), masked MSE, Adam lr "
          f"{o['learning_rate']:g}, batch {o['batch_size']}")
    print(f"\n== 5. Autoencoder training ({a.epochs_ae} epochs)")
    t = time.perf_counter()
    ae_hist = ae.fit(train, show_progress=not a.quiet)
    seconds["autoencoder_train"] = time.perf_counter() - t
    for e, loss, s in zip(ae_hist["epoch"], ae_hist["loss"], ae_hist["seconds"]):
        if e == 1 or e % 5 == 0 or e == a.epochs_ae:
            print(f"autoencoder epoch {e:3d}  loss {loss:.4f}  ({s:.3f} s)")
    t = time.perf_counter()
    r_ae = ae.evaluate_rating(test)  # input = the training matrix: leak-free
    r_ae_leaky = ae.evaluate_rating(test, input=ratings) if a.split == "per-user" else None
    k_ae = ae.evaluate_ranking(test, k=10, threshold=4.0)
    seconds["autoencoder_evaluate"] = time.perf_counter() - t
    print(f"autoencoder RMSE, leak-free (input = training ratings):                    {r_ae['rmse']:.4f}")
    if r_ae_leaky:
        print(f"autoencoder RMSE, LEAKY (notebook protocol: input = full matrix incl. test): {r_ae_leaky['rmse']:.4f}")
    print(f"\ntop-10 for user index 0 (user id {int(train.user_ids[0])}), autoencoder, unrated items:")
    ae_top = print_top(*ae.recommend(0, N=10), titles, train)

    # ---- 6-8. Neural collaborative filtering ----------------------------------------------------
    ncf = cfnet.NeuralCF(epochs=a.epochs_ncf, seed=a.seed)
    o = ncf.options
    print(f"\n== 6. Neural CF: {train.nnz} training pairs, embeddings {o['embedding_dim']}, MLP "
          f"{' '.join(map(str, o['hidden']))}, MSE, Adam lr {o['learning_rate']:g}, batch {o['batch_size']}, "
          f"{100 * o['validation_fraction']:g}% of the pairs for validation")
    print(f"\n== 7. Neural CF training ({a.epochs_ncf} epochs)")
    t = time.perf_counter()
    ncf_hist = ncf.fit(train, show_progress=not a.quiet)
    seconds["neural_cf_train"] = time.perf_counter() - t
    if a.quiet:
        for e, loss, vl, s in zip(ncf_hist["epoch"], ncf_hist["loss"], ncf_hist.get("val_loss", []), ncf_hist["seconds"]):
            print(f"neural_cf epoch {e:3d}  loss {loss:.4f}  val_loss {vl:.4f}  ({s:.3f} s)")
    print("\n== 8. Neural CF evaluation")
    t = time.perf_counter()
    r_ncf = ncf.evaluate_rating(test)
    k_ncf = ncf.evaluate_ranking(test, k=10, threshold=4.0)
    seconds["neural_cf_evaluate"] = time.perf_counter() - t
    print(f"neural_cf RMSE: {r_ncf['rmse']:.4f}")
    print(f"\ntop-10 for user index 0 (user id {int(train.user_ids[0])}), neural CF, unrated items:")
    ncf_top = print_top(*ncf.recommend(0, N=10), titles, train)

    # ---- 9. Summary -----------------------------------------------------------------------------
    seconds["total"] = time.perf_counter() - t_start
    print(f"\n== 9. Summary (split '{a.split}', {test.nnz} held-out ratings; ranking: {k_pop['users_evaluated']} "
          f"users with a held-out rating >= 4, unrated items only)")
    print(f"{'model':<34s} {'RMSE':>8s} {'MAE':>8s} {'P@10':>8s} {'R@10':>8s} {'NDCG@10':>8s}")
    table = [("global mean", r_mean, None), ("user+item bias", r_bias, k_bias), ("most popular", None, k_pop),
             ("autoencoder (leak-free)", r_ae, k_ae)]
    if r_ae_leaky:
        table.append(("autoencoder (LEAKY, notebook)", r_ae_leaky, None))
    table.append(("neural CF (MLP)", r_ncf, k_ncf))
    for name, r, k in table:
        row(name, r, k)
    print(f"\nwall time: load + split {seconds['load_split']:.2f} s, baselines {seconds['baselines']:.2f} s, "
          f"autoencoder train {seconds['autoencoder_train']:.2f} s + evaluate {seconds['autoencoder_evaluate']:.2f} s, "
          f"neural CF train {seconds['neural_cf_train']:.2f} s + evaluate {seconds['neural_cf_evaluate']:.2f} s, "
          f"total {seconds['total']:.2f} s")

    if a.plots:
        for f in plots(a.plots, ae_hist, ncf_hist, table):
            print(f"figure: {f}")
    if a.json:
        out = {
            "config": {"data": data, "variant": variant, "split": a.split, "seed": a.seed,
                       "epochs_ae": a.epochs_ae, "epochs_ncf": a.epochs_ncf},
            "data": {"ratings": ratings.nnz, "users": ratings.n_users, "items": ratings.n_items,
                     "train": train.nnz, "test": test.nnz},
            "baselines": {"global_mean": r_mean, "bias": {"rating": r_bias, "ranking": k_bias},
                          "most_popular": {"ranking": k_pop}},
            "autoencoder": {"history": ae_hist, "rating": r_ae, "rating_leaky_notebook_protocol": r_ae_leaky,
                            "ranking": k_ae, "top10_user0": ae_top},
            "neural_cf": {"history": ncf_hist, "rating": r_ncf, "ranking": k_ncf, "top10_user0": ncf_top},
            "seconds": seconds,
        }
        with open(a.json, "w") as f:
            json.dump(out, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
