"""PyTorch CPU peer of the notebook's NCF/MLP model (cfnet benchmark reference).

User and item embeddings (32, uniform(-0.05, 0.05)) concatenated -> Dense 128 ReLU -> Dense 64 ReLU ->
Dense 1 linear (Glorot-uniform, zero bias), MSE, Keras Adam, batch 1024, 20% of the training pairs held out
for validation (seeded shuffle), training pairs reshuffled every epoch. Also times scoring the full
n_users x n_items matrix after training (score_seconds)."""
import time

import numpy as np
import torch

from common import KerasAdam, glorot_dense, load, parse_args, report, rmse


class NCF(torch.nn.Module):
    def __init__(self, n_users, n_items, dim=32):
        super().__init__()
        self.user, self.item = torch.nn.Embedding(n_users, dim), torch.nn.Embedding(n_items, dim)
        for e in (self.user, self.item):
            torch.nn.init.uniform_(e.weight, -0.05, 0.05)
        self.mlp = torch.nn.Sequential(glorot_dense(2 * dim, 128), torch.nn.ReLU(),
                                       glorot_dense(128, 64), torch.nn.ReLU(), glorot_dense(64, 1))

    def forward(self, u, i):
        return self.mlp(torch.cat([self.user(u), self.item(i)], 1)).squeeze(1)


def main():
    args = parse_args(__doc__, epochs=10)
    n_users, n_items, (tu, ti, tr), (su, si, sr) = load(args.data, args.test)
    gen = torch.Generator().manual_seed(args.seed)
    u, i, r = torch.from_numpy(tu), torch.from_numpy(ti), torch.from_numpy(tr)
    perm = torch.randperm(len(r), generator=gen)
    n_val = int(0.2 * len(r))
    val, fit = perm[:n_val], perm[n_val:]

    model = NCF(n_users, n_items)
    opt = KerasAdam(model.parameters())
    mse = torch.nn.MSELoss()

    history = []
    start = time.perf_counter()
    for epoch in range(args.epochs):
        order = fit[torch.randperm(len(fit), generator=gen)]
        total = 0.0
        for b in range(0, len(order), 1024):
            idx = order[b:b + 1024]
            loss = mse(model(u[idx], i[idx]), r[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        with torch.no_grad():
            val_loss = mse(model(u[val], i[val]), r[val]).item()
        history.append({"loss": total / len(fit), "val_loss": val_loss})
        print(f"epoch {epoch + 1}/{args.epochs} loss {history[-1]['loss']:.4f} val_loss {val_loss:.4f}")
    seconds = time.perf_counter() - start

    with torch.no_grad():
        pred = model(torch.from_numpy(su), torch.from_numpy(si)).numpy()

    # Full scoring: every user against every item, 32 users (53824 pairs) per forward pass.
    items = torch.arange(n_items)
    start = time.perf_counter()
    with torch.no_grad():
        for u0 in range(0, n_users, 32):
            users = torch.arange(u0, min(u0 + 32, n_users))
            model(users.repeat_interleave(n_items), items.repeat(len(users)))
    score_seconds = time.perf_counter() - start
    report(args, dict(model="ncf", train_seconds=seconds, score_seconds=score_seconds, history=history,
                      rmse=rmse(pred, sr)))


if __name__ == "__main__":
    main()
