"""The Python package computes what the C++ library computes: the same data, options and seed give the same
per-epoch losses and the same predictions (bit for bit: the module runs the library's own code), and model
files cross the language boundary both ways. The C++ side is tests/python/reference.cpp (its path comes
from ctest in $CFNET_PY_REFERENCE)."""
import os
import subprocess

import numpy as np
import pytest

import cfnet
from conftest import small_ae, small_ncf

REFERENCE = os.environ.get("CFNET_PY_REFERENCE")
pytestmark = pytest.mark.skipif(not REFERENCE, reason="CFNET_PY_REFERENCE not set (run through ctest)")


@pytest.fixture(scope="module")
def cpp_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("cpp")
    subprocess.run([REFERENCE, str(d)], check=True)
    return d


def read(d, name):
    return np.loadtxt(d / name, dtype=np.float64, ndmin=1)


def top5(model, n_users=5):
    out = []
    for u in range(n_users):
        ids, scores = model.recommend(u, N=5)
        for i, s in zip(ids, scores):
            out += [float(i), float(s)]
    return np.array(out)


def test_autoencoder_same_losses_and_predictions(cpp_dir, split):
    m = small_ae()
    h = m.fit(split.train, show_progress=False)
    np.testing.assert_array_equal(np.array(h["loss"]), read(cpp_dir, "ae_loss.txt"))
    np.testing.assert_array_equal(m.predict_matrix(split.test).astype(np.float64), read(cpp_dir, "ae_pred.txt"))
    np.testing.assert_array_equal(top5(m), read(cpp_dir, "ae_top5.txt"))


def test_neural_cf_same_losses_and_predictions(cpp_dir, split):
    m = small_ncf()
    h = m.fit(split.train, show_progress=False)
    np.testing.assert_array_equal(np.array(h["loss"]), read(cpp_dir, "ncf_loss.txt"))
    np.testing.assert_array_equal(m.predict_matrix(split.test).astype(np.float64), read(cpp_dir, "ncf_pred.txt"))
    np.testing.assert_array_equal(top5(m), read(cpp_dir, "ncf_top5.txt"))


def small_ensemble():
    return cfnet.AutoencoderEnsemble([dict(hidden=[32, 16, 32], epochs=2, seed=5),
                                      dict(orientation="item_based", hidden=[16], epochs=2, seed=6)],
                                     [0.6, 0.4], clamp=(1, 5))


def test_ensemble_same_losses_predictions_and_files(cpp_dir, split):
    e = small_ensemble()
    h = e.fit(split.train, show_progress=False)
    np.testing.assert_array_equal(np.concatenate([m["loss"] for m in h]), read(cpp_dir, "ens_loss.txt"))
    np.testing.assert_array_equal(e.predict_matrix(split.test).astype(np.float64), read(cpp_dir, "ens_pred.txt"))
    np.testing.assert_array_equal(top5(e), read(cpp_dir, "ens_top5.txt"))
    loaded = cfnet.AutoencoderEnsemble.load(str(cpp_dir / "ens_cpp.cfnet"), split.train)
    assert loaded.weights == [0.6, 0.4] and loaded.clamp == (1.0, 5.0)
    np.testing.assert_array_equal(loaded.predict_matrix(split.test).astype(np.float64), read(cpp_dir, "ens_pred.txt"))


def test_models_saved_in_cpp_load_in_python(cpp_dir, split):
    ae = cfnet.AutoencoderCF.load(str(cpp_dir / "ae_cpp.cfnet"), split.train)
    np.testing.assert_array_equal(ae.predict_matrix(split.test).astype(np.float64), read(cpp_dir, "ae_pred.txt"))
    assert ae.options["hidden"] == [32, 16, 32] and ae.options["seed"] == 5
    ncf = cfnet.NeuralCF.load(str(cpp_dir / "ncf_cpp.cfnet"), split.train)
    np.testing.assert_array_equal(ncf.predict_matrix(split.test).astype(np.float64), read(cpp_dir, "ncf_pred.txt"))


def test_models_saved_in_python_load_in_cpp(cpp_dir, split):
    ae = small_ae(epochs=2, seed=11)
    ae.fit(split.train, show_progress=False)
    ae.save(str(cpp_dir / "ae_py.cfnet"))
    ncf = small_ncf(epochs=1, seed=11)
    ncf.fit(split.train, show_progress=False)
    ncf.save(str(cpp_dir / "ncf_py.cfnet"))
    ens = cfnet.AutoencoderEnsemble([dict(hidden=[8], epochs=1, seed=11), dict(orientation="item_based", hidden=[8],
                                                                               epochs=1, seed=12)], [2.0, 1.0])
    ens.fit(split.train, show_progress=False)
    ens.save(str(cpp_dir / "ens_py.cfnet"))
    subprocess.run([REFERENCE, str(cpp_dir), "--check"], check=True)
    np.testing.assert_array_equal(read(cpp_dir, "ae_py_pred_by_cpp.txt"),
                                  ae.predict_matrix(split.test).astype(np.float64))
    np.testing.assert_array_equal(read(cpp_dir, "ncf_py_pred_by_cpp.txt"),
                                  ncf.predict_matrix(split.test).astype(np.float64))
    np.testing.assert_array_equal(read(cpp_dir, "ens_py_pred_by_cpp.txt"),
                                  ens.predict_matrix(split.test).astype(np.float64))
