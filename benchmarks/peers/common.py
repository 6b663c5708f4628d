"""Shared helpers for the PyTorch peer benchmarks: data loading, Keras-style init and Adam, CLI, JSON."""
import argparse
import json
import math
import os

import numpy as np
import torch


def parse_args(description, epochs):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--data", required=True, help="ml-100k directory containing u.data")
    p.add_argument("--test", required=True, help="held-out 'user item rating' lines; train = u.data minus these pairs")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument("--threads", type=int, default=1,
                   help="torch.set_num_threads(N); also export OMP_NUM_THREADS/OPENBLAS_NUM_THREADS=N")
    p.add_argument("--json", help="write the results to this file")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(args.threads)
    torch.manual_seed(args.seed)
    return args


def load(data_dir, test_file):
    """Returns (n_users, n_items, train, test): train/test are int64 arrays of (user_idx, item_idx) and
    float32 ratings. Indices are positions in the sorted unique ids of u.data (index 0 = smallest id)."""
    full = np.loadtxt(os.path.join(data_dir, "u.data"), dtype=np.int64, usecols=(0, 1, 2))
    test = np.loadtxt(test_file, dtype=np.int64, usecols=(0, 1, 2)).reshape(-1, 3)
    users, items = np.unique(full[:, 0]), np.unique(full[:, 1])
    key = lambda a: a[:, 0] * 1_000_000 + a[:, 1]
    in_test = np.isin(key(full), key(test))
    assert in_test.sum() == len(test), "every test pair must be a rating in u.data"

    def encode(a):
        return (np.searchsorted(users, a[:, 0]), np.searchsorted(items, a[:, 1]), a[:, 2].astype(np.float32))

    return len(users), len(items), encode(full[~in_test]), encode(test)


def glorot_dense(n_in, n_out):
    """nn.Linear with Keras defaults: Glorot-uniform kernel, zero bias."""
    layer = torch.nn.Linear(n_in, n_out)
    torch.nn.init.xavier_uniform_(layer.weight)  # U(-sqrt(6/(in+out)), +sqrt(6/(in+out)))
    torch.nn.init.zeros_(layer.bias)
    return layer


class KerasAdam(torch.optim.Optimizer):
    """Adam with Keras' update rule (not PyTorch's):
        m = b1*m + (1-b1)*g;  v = b2*v + (1-b2)*g^2
        lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t)
        p -= lr_t * m / (sqrt(v) + eps)
    i.e. eps is added to sqrt(v), not to sqrt(v_hat) as in torch.optim.Adam. Keras defaults."""

    def __init__(self, params, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-7):
        super().__init__(params, dict(lr=lr, beta1=beta1, beta2=beta2, eps=eps))
        self.t = 0

    @torch.no_grad()
    def step(self):
        self.t += 1
        for g in self.param_groups:
            b1, b2 = g["beta1"], g["beta2"]
            lr_t = g["lr"] * math.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
            for p in g["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st["m"], st["v"] = torch.zeros_like(p), torch.zeros_like(p)
                m, v = st["m"], st["v"]
                m.mul_(b1).add_(p.grad, alpha=1 - b1)
                v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                p.addcdiv_(m, v.sqrt().add_(g["eps"]), value=-lr_t)


def rmse(pred, truth):
    d = np.asarray(pred, dtype=np.float64) - np.asarray(truth, dtype=np.float64)
    return float(np.sqrt(np.mean(d * d)))


def report(args, result):
    result.update(epochs=args.epochs, seconds_per_epoch=result["train_seconds"] / max(args.epochs, 1),
                  torch_version=torch.__version__, threads=args.threads)
    print(json.dumps({k: v for k, v in result.items() if k != "history"}))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
