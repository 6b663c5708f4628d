"""Mult-VAE / Mult-DAE (Liang et al. 2018) in PyTorch, faithful to the paper's code (dawenl/vae_cf):
the speed (and accuracy) reference of cfnet's MultVAE.

Architecture I -> 600 -> 200 (-> 600 -> I): the input row is L2-normalised, then dropped out
(keep 0.5, inverted), tanh after every layer but the last encoder layer ([mu | logvar], VAE) and the
output. Loss per batch: -mean_u sum_i x_ui log_softmax(logits_u)_i + beta * KL (VAE; KL = mean_u
0.5 sum(-logvar + exp(logvar) + mu^2 - 1)), + lam * sum ||W||^2 (DAE: lam = 0.01 / batch). z = mu +
eps * exp(logvar / 2) in training, mu when scoring. beta = min(cap, updates / anneal_steps). Adam
lr 1e-3, eps 1e-8 (torch.optim.Adam: PyTorch's own fastest path), batch 500, users reshuffled each
epoch. Weights Xavier-uniform, biases N(0, 0.001^2) truncated at 2 sd. Each batch is densified from
the sparse training rows, as the paper's code does.

Data: the implicit interactions of u.data (every rating an interaction) minus the --test pairs;
user/item index = position in the sorted unique ids of u.data (as cfnet). Reports P@10, R@10,
NDCG@10 on the test pairs (train items excluded, every test item relevant, users with a test item),
and the training loop's time only (`train_seconds`).

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 mult_vae_torch.py \
        --data ../../../shared/data/ml-100k --test test.tsv --epochs 200 --threads 1 --json out.json
"""
import time

import numpy as np
import torch
import torch.nn.functional as F

from common import load, parse_args, report


class MultVAE(torch.nn.Module):
    def __init__(self, n_items, hidden=600, latent=200, variational=True, dropout=0.5):
        super().__init__()
        self.variational, self.latent, self.dropout = variational, latent, dropout
        self.enc = torch.nn.ModuleList([torch.nn.Linear(n_items, hidden),
                                        torch.nn.Linear(hidden, 2 * latent if variational else latent)])
        self.dec = torch.nn.ModuleList([torch.nn.Linear(latent, hidden), torch.nn.Linear(hidden, n_items)])
        for layer in list(self.enc) + list(self.dec):
            torch.nn.init.xavier_uniform_(layer.weight)
            torch.nn.init.trunc_normal_(layer.bias, std=0.001, a=-0.002, b=0.002)

    def forward(self, x):
        h = F.dropout(F.normalize(x, dim=1), p=self.dropout, training=self.training)
        h = torch.tanh(self.enc[0](h))
        h = self.enc[1](h)
        kl = torch.zeros((), dtype=h.dtype)
        if self.variational:
            mu, logvar = h[:, :self.latent], h[:, self.latent:]
            kl = (0.5 * (-logvar + logvar.exp() + mu * mu - 1)).sum(1).mean()
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        else:
            z = torch.tanh(h)
        return self.dec[1](torch.tanh(self.dec[0](z))), kl


def main():
    p_extra = {"--dae": dict(action="store_true"), "--batch": dict(type=int, default=500),
               "--anneal-steps": dict(type=int, default=200000), "--anneal-cap": dict(type=float, default=0.2)}
    import sys
    extra = {}
    argv = sys.argv[1:]
    for k, spec in p_extra.items():  # parse_args knows the shared options only: peel ours off first
        if k in argv:
            i = argv.index(k)
            if spec.get("action") == "store_true":
                extra[k] = True
                del argv[i]
            else:
                extra[k] = spec["type"](argv[i + 1])
                del argv[i:i + 2]
        else:
            extra[k] = spec.get("default", False)
    sys.argv[1:] = argv
    args = parse_args("Mult-VAE / Mult-DAE PyTorch peer", epochs=200)
    dae, batch, anneal_steps, cap = extra["--dae"], extra["--batch"], extra["--anneal-steps"], extra["--anneal-cap"]
    n_users, n_items, (tu, ti, _), (su, si, _) = load(args.data, args.test)
    train = np.zeros((n_users, n_items), dtype=np.float32)  # 943 x 1682: small; batches are slices of it
    train[tu, ti] = 1.0
    rows = np.flatnonzero(train.sum(1) > 0)
    model = MultVAE(n_items, variational=not dae)
    lam = 0.01 / batch if dae else 0.0
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-8)
    rng = np.random.default_rng(args.seed)
    X = torch.from_numpy(train)
    history, update = [], 0
    t0, c0 = time.perf_counter(), time.process_time()
    for epoch in range(args.epochs):
        model.train()
        order = rng.permutation(rows)
        total, seen = 0.0, 0
        for b0 in range(0, len(order), batch):
            idx = torch.from_numpy(order[b0:b0 + batch])
            x = X[idx]
            beta = min(cap, update / anneal_steps) if anneal_steps > 0 else cap
            logits, kl = model(x)
            nll = -(F.log_softmax(logits, 1) * x).sum(1).mean()
            loss = nll + (0.0 if dae else beta) * kl
            if lam > 0:
                loss = loss + lam * sum((l.weight ** 2).sum() for l in list(model.enc) + list(model.dec))
            opt.zero_grad()
            loss.backward()
            opt.step()
            update += 1
            total += loss.item() * len(idx)
            seen += len(idx)
        history.append(total / seen)
    train_seconds = time.perf_counter() - t0
    train_cpu_seconds = time.process_time() - c0

    # P@10 / R@10 / NDCG@10: train items excluded, every test item relevant
    model.eval()
    with torch.no_grad():
        scores = model(X)[0].numpy()
    scores[train > 0] = -np.inf
    test = {}
    for u, i in zip(su, si):
        test.setdefault(int(u), set()).add(int(i))
    k, P, R, N = 10, [], [], []
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    for u, rel in test.items():
        top = np.argsort(-scores[u], kind="stable")[:k]
        hits = np.array([1.0 if int(i) in rel else 0.0 for i in top])
        P.append(hits.sum() / k)
        R.append(hits.sum() / len(rel))
        N.append((hits * disc).sum() / disc[:min(len(rel), k)].sum())
    report(args, dict(model="Mult-DAE" if dae else "Mult-VAE", train_seconds=train_seconds, train_cpu_seconds=train_cpu_seconds, history=history,
                      precision_at_10=float(np.mean(P)), recall_at_10=float(np.mean(R)),
                      ndcg_at_10=float(np.mean(N)), users=len(test), batch=batch, anneal_steps=anneal_steps,
                      anneal_cap=cap))


if __name__ == "__main__":
    main()
