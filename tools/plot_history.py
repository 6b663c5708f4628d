#!/usr/bin/python3
"""Plots cfnet training histories and metrics: loss curves and a metrics comparison chart.

Inputs (any number, mixed):
  * the JSON of the notebook pipeline (`notebook_pipeline --json run.json`): both models' loss
    curves (NCF with its val_loss) and the comparison of both models with the baselines;
  * a training history written by cfnet::History::save_json (e.g. `cfnet train --history h.json`):
    one more loss curve, labelled with the file name.

Outputs, in --out-dir (default: the current directory), each as PNG and SVG:
  loss_curves.{png,svg}   training loss per epoch (and validation loss where recorded)
  metrics.{png,svg}       RMSE/MAE and Precision/Recall/NDCG@10 per model (pipeline JSON only)

Needs Python 3 and matplotlib (Debian: apt-get install python3-matplotlib). Run it with
/usr/bin/python3 when another python3 comes first on PATH.

  /usr/bin/python3 tools/plot_history.py run.json --out-dir docs/images
"""

import argparse
import json
import os
import sys

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker
except ImportError:  # pragma: no cover - depends on the machine
    sys.exit("plot_history.py: matplotlib is missing (Debian: apt-get install python3-matplotlib; "
             "then run this script with /usr/bin/python3)")

# Reproducible SVGs (no random ids, no date): re-running on the same JSON gives the same files.
matplotlib.rcParams["svg.hashsalt"] = "cfnet"
METADATA = {"svg": {"Date": None}, "png": {"Software": None}}


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        sys.exit(f"plot_history.py: cannot read {path}: {e.strerror}")
    except json.JSONDecodeError as e:
        sys.exit(f"plot_history.py: {path}:{e.lineno}:{e.colno}: not valid JSON ({e.msg})")


def curves_of(doc, path):
    """[(label, epochs, loss, val_loss or None)] from a pipeline JSON or a History JSON."""
    out = []

    def from_history(label, h):
        if not isinstance(h, dict) or not isinstance(h.get("epochs"), list):
            sys.exit(f"plot_history.py: {path}: '{label}' has no history with an 'epochs' list")
        ep = [e["epoch"] for e in h["epochs"]]
        loss = [e["loss"] for e in h["epochs"]]
        val = [e.get("metrics", {}).get("val_loss") for e in h["epochs"]]
        out.append((label, ep, loss, val if any(v is not None for v in val) else None))

    if "autoencoder" in doc or "neural_cf" in doc:
        for key, label in (("autoencoder", "autoencoder"), ("neural_cf", "neural CF (MLP)")):
            if key in doc:
                from_history(label, doc[key].get("history"))
    elif "epochs" in doc:
        from_history(os.path.splitext(os.path.basename(path))[0], doc)
    else:
        sys.exit(f"plot_history.py: {path}: neither a notebook_pipeline --json file nor a cfnet History JSON")
    return out


def save(fig, out_dir, name):
    paths = []
    for ext in ("png", "svg"):
        p = os.path.join(out_dir, f"{name}.{ext}")
        fig.savefig(p, dpi=110 if ext == "png" else None, metadata=METADATA[ext], bbox_inches="tight")
        paths.append(p)
    plt.close(fig)
    return paths


def plot_losses(curves, out_dir, title):
    n = len(curves)
    fig, axes = plt.subplots(1, n, figsize=(5.2 * n, 3.8), squeeze=False, layout="constrained")
    for ax, (label, ep, loss, val) in zip(axes[0], curves):
        ax.plot(ep, loss, marker="o", ms=3, label="training loss")
        if val is not None:
            ax.plot(ep, [v if v is not None else float("nan") for v in val], marker="s", ms=3,
                    label="validation loss")
        ax.set_title(label)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.set_ylabel("masked MSE" if label == "autoencoder" else "MSE")
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%.2g"))
        ax.yaxis.set_minor_formatter(matplotlib.ticker.FormatStrFormatter("%.2g"))
        ax.tick_params(axis="y", which="minor", labelsize=7)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return save(fig, out_dir, "loss_curves")


def plot_metrics(doc, out_dir, title):
    b = doc["baselines"]
    ae, ncf = doc["autoencoder"], doc["neural_cf"]
    rating_rows = [
        ("global\nmean", b["global_mean"]),
        ("user+item\nbias", b["bias"]["rating"]),
        ("autoencoder\nleak-free", ae["rating"]),
        ("autoencoder LEAKY\n(notebook protocol)", ae["rating_leaky_notebook_protocol"]),
        ("neural CF", ncf["rating"]),
    ]
    rank_rows = [
        ("user+item bias", b["bias"]["ranking"]),
        ("most popular", b["most_popular"]["ranking"]),
        ("autoencoder", ae["ranking"]),
        ("neural CF", ncf["ranking"]),
    ]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(13, 4.4), layout="constrained")

    def bars(ax, rows, keys, labels):
        width = 0.8 / len(keys)
        for j, (key, lab) in enumerate(zip(keys, labels)):
            xs = [i + (j - (len(keys) - 1) / 2) * width for i in range(len(rows))]
            vals = [r[key] for _, r in rows]
            rects = ax.bar(xs, vals, width, label=lab)
            ax.bar_label(rects, fmt="%.3f", fontsize=7, padding=1)
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels([n for n, _ in rows], fontsize=8)
        ax.grid(True, axis="y", alpha=0.3)
        ax.legend(fontsize=8)

    bars(a1, rating_rows, ["rmse", "mae"], ["RMSE", "MAE"])
    a1.set_title("rating prediction (lower is better)")
    a1.set_ylim(0, max(r["rmse"] for _, r in rating_rows) * 1.15)
    bars(a2, rank_rows, ["precision@10", "recall@10", "ndcg@10"], ["Precision@10", "Recall@10", "NDCG@10"])
    users = doc.get("ranking_protocol", {}).get("users", "?")
    a2.set_title(f"top-10 ranking, {users} users (higher is better)")
    a2.set_ylim(0, max(max(r[k] for k in ("precision@10", "recall@10", "ndcg@10")) for _, r in rank_rows) * 1.2)
    if title:
        fig.suptitle(title)
    return save(fig, out_dir, "metrics")


def main(argv=None):
    ap = argparse.ArgumentParser(description="Plot cfnet loss curves and a metrics comparison (PNG and SVG).")
    ap.add_argument("inputs", nargs="+", help="notebook_pipeline --json files and/or cfnet History JSON files")
    ap.add_argument("--out-dir", default=".", help="directory for the images (created if missing)")
    ap.add_argument("--title", default=None, help="figure title (default: data source and split of the first pipeline JSON)")
    args = ap.parse_args(argv)

    os.makedirs(args.out_dir, exist_ok=True)
    curves, pipeline = [], None
    for path in args.inputs:
        doc = load(path)
        if not isinstance(doc, dict):
            sys.exit(f"plot_history.py: {path}: expected a JSON object")
        curves += curves_of(doc, path)
        if pipeline is None and "baselines" in doc:
            pipeline = doc
    title = args.title
    if title is None and pipeline is not None:
        c = pipeline.get("config", {})
        name = "MovieLens 100K" if c.get("variant") == "ml-100k" else c.get("data", "")
        title = f"{name}, split '{c.get('split', '?')}', seed {c.get('seed', '?')}"

    written = plot_losses(curves, args.out_dir, title)
    if pipeline is not None:
        written += plot_metrics(pipeline, args.out_dir, title)
    for p in written:
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())
