"""Shared fixtures of the Python package's tests: small seeded data (cfnet's synthetic generator), so that
every test runs without MovieLens and in well under a second or two."""
import os

import numpy as np
import pytest

import cfnet


@pytest.fixture(scope="session")
def ratings():
    return cfnet.synthetic(n_users=120, n_items=200, n_ratings=4000, seed=7)


@pytest.fixture(scope="session")
def split(ratings):
    return cfnet.per_user_holdout(ratings, seed=42)


@pytest.fixture(scope="session")
def csr(split):
    return split.train.to_csr()


def ml100k_dir():
    d = os.environ.get("CFNET_ML100K_DIR", "")
    return d if d and os.path.exists(os.path.join(d, "u.data")) else None


def small_ae(**kw):
    opts = dict(hidden=[32, 16, 32], epochs=3, seed=5)
    opts.update(kw)
    return cfnet.AutoencoderCF(**opts)


def small_ncf(**kw):
    opts = dict(embedding_dim=8, hidden=[16, 8], epochs=2, seed=5, batch_size=256)
    opts.update(kw)
    return cfnet.NeuralCF(**opts)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
