"""The double-precision models (AutoencoderCF64, NeuralCF64): the same options as the float classes, float64
parameters and outputs, bit-identical to the C++ library's <double> models for the same seed (the C++ side is
tests/python/reference.cpp), files in both directions, and the float and double models are different
computations (the double one really runs in float64)."""
import os
import subprocess

import numpy as np
import pytest

import cfnet

REFERENCE = os.environ.get("CFNET_PY_REFERENCE")
needs_reference = pytest.mark.skipif(not REFERENCE, reason="CFNET_PY_REFERENCE not set (run through ctest)")

AE = dict(hidden=[32, 16, 32], epochs=3, seed=5)
NCF = dict(embedding_dim=8, hidden=[16, 8], epochs=2, seed=5, batch_size=256)


@pytest.fixture(scope="module")
def cpp_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("cpp64")
    subprocess.run([REFERENCE, str(d)], check=True)
    return d


def read(d, name):
    return np.loadtxt(d / name, dtype=np.float64, ndmin=1)


def test_options_dtypes_and_shapes(split):
    assert cfnet.AutoencoderCF64.default_options() == cfnet.AutoencoderCF.default_options()
    assert cfnet.NeuralCF64.default_options("accurate") == cfnet.NeuralCF.default_options("accurate")
    assert cfnet.AutoencoderCF64.dtype == np.float64 and cfnet.AutoencoderCF.dtype == np.float32
    m = cfnet.AutoencoderCF64(**AE)
    assert m.options["hidden"] == [32, 16, 32] and not m.fitted
    h = m.fit(split.train, show_progress=False)
    assert h["epoch"] == [1, 2, 3]
    assert all(p.dtype == np.float64 for p in m.parameters().values())
    p = m.predict_matrix(split.test)
    assert p.dtype == np.float64 and p.shape == (split.test.nnz,)
    assert m.score_items(3).dtype == np.float64 and m.score_items([0, 3]).shape == (2, split.train.n_items)
    ids, scores = m.recommend(3, N=5)
    assert ids.dtype == np.int32 and scores.dtype == np.float64 and ids.shape == (5,)
    assert not set(ids) & set(split.train.user_items(3))
    np.testing.assert_array_equal(m.recommend([0, 3], N=5)[0][1], ids)
    np.testing.assert_array_equal(m.predict_pairs([3], [ids[0]]), [scores[0]])
    assert m.evaluate_rating(split.test)["count"] == split.test.nnz
    with pytest.raises(ValueError, match="no option"):
        cfnet.NeuralCF64(hiden=3)


def test_float64_is_really_used(split):
    """The weights hold values float32 cannot represent, and the losses differ from the float model's
    (same seed, same data): the arithmetic is double, not float widened at the end."""
    m64 = cfnet.AutoencoderCF64(**AE)
    h64 = m64.fit(split.train, show_progress=False)
    m32 = cfnet.AutoencoderCF(**AE)
    h32 = m32.fit(split.train, show_progress=False)
    w = m64.parameters()
    w = w[next(iter(w))]
    assert np.mean(w != w.astype(np.float32).astype(np.float64)) > 0.9
    assert h64["loss"] != h32["loss"]
    np.testing.assert_allclose(h64["loss"], h32["loss"], rtol=1e-3)  # the same model otherwise
    n64 = cfnet.NeuralCF64(**NCF)
    n64.fit(split.train, show_progress=False)
    e = np.concatenate([p.ravel() for p in n64.parameters().values()])
    assert e.dtype == np.float64 and np.mean(e != e.astype(np.float32).astype(np.float64)) > 0.9


@needs_reference
def test_same_losses_and_predictions_as_the_cpp_double_models(cpp_dir, split):
    ae = cfnet.AutoencoderCF64(**AE)
    h = ae.fit(split.train, show_progress=False)
    np.testing.assert_array_equal(np.array(h["loss"]), read(cpp_dir, "ae64_loss.txt"))
    np.testing.assert_array_equal(ae.predict_matrix(split.test), read(cpp_dir, "ae64_pred.txt"))
    assert not np.array_equal(np.array(h["loss"]), read(cpp_dir, "ae_loss.txt"))  # not the float model's
    ncf = cfnet.NeuralCF64(**NCF)
    h = ncf.fit(split.train, show_progress=False)
    np.testing.assert_array_equal(np.array(h["loss"]), read(cpp_dir, "ncf64_loss.txt"))
    np.testing.assert_array_equal(ncf.predict_matrix(split.test), read(cpp_dir, "ncf64_pred.txt"))


@needs_reference
def test_double_files_cross_the_boundary(cpp_dir, split, tmp_path):
    loaded = cfnet.AutoencoderCF64.load(str(cpp_dir / "ae64_cpp.cfnet"), split.train)
    np.testing.assert_array_equal(loaded.predict_matrix(split.test), read(cpp_dir, "ae64_pred.txt"))
    with pytest.raises(ValueError):
        cfnet.AutoencoderCF.load(str(cpp_dir / "ae64_cpp.cfnet"))  # a double file is not a float model
    path = str(tmp_path / "ae64.cfnet")
    loaded.save(path)
    again = cfnet.AutoencoderCF64.load(path, split.train)
    np.testing.assert_array_equal(again.predict_matrix(split.test), loaded.predict_matrix(split.test))
