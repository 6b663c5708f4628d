"""PyTorch CPU peer of the notebook's autoencoder (cfnet benchmark reference).

Input: each user's rating vector over all items (0 = unrated). Dense n_items-512-256-64-256-512-n_items,
ReLU hidden, linear output, Glorot-uniform/zero-bias, masked MSE (per sample: squared error over observed
entries / observed count; batch mean), Keras Adam, batch 32, shuffled every epoch."""
import time

import numpy as np
import torch

from common import KerasAdam, glorot_dense, load, parse_args, report, rmse


def masked_loss(pred, target):
    mask = (target != 0).to(pred.dtype)
    per_sample = ((pred - target) ** 2 * mask).sum(1) / mask.sum(1).clamp(min=1)  # 0 if nothing observed
    return per_sample.mean()


def main():
    args = parse_args(__doc__, epochs=20)
    n_users, n_items, (tu, ti, tr), (su, si, sr) = load(args.data, args.test)
    train = torch.zeros(n_users, n_items)
    train[tu, ti] = torch.from_numpy(tr)
    full = train.clone()
    full[su, si] = torch.from_numpy(sr)

    sizes = [n_items, 512, 256, 64, 256, 512, n_items]
    layers = []
    for k in range(len(sizes) - 1):
        layers.append(glorot_dense(sizes[k], sizes[k + 1]))
        if k < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = KerasAdam(model.parameters())
    gen = torch.Generator().manual_seed(args.seed)

    history = []
    start = time.perf_counter()
    for epoch in range(args.epochs):
        order = torch.randperm(n_users, generator=gen)
        total = 0.0
        for b in range(0, n_users, 32):
            x = train[order[b:b + 32]]
            loss = masked_loss(model(x), x)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(x)
        history.append(total / n_users)
        print(f"epoch {epoch + 1}/{args.epochs} loss {history[-1]:.4f}")
    seconds = time.perf_counter() - start

    with torch.no_grad():
        pred_free = model(train)[su, si].numpy()   # leak-free: the held-out ratings are not in the input
        pred_leaky = model(full)[su, si].numpy()   # notebook protocol: full matrix (incl. test) as input
    report(args, dict(model="autoencoder", train_seconds=seconds, history=history,
                      rmse=rmse(pred_free, sr), rmse_leaky=rmse(pred_leaky, sr)))


if __name__ == "__main__":
    main()
