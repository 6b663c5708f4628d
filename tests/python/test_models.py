"""The models' Python API: options as keyword arguments, fit (history, callbacks, progress, Ctrl-C, GIL),
predict / recommend (shapes, dtypes, batched == single, implicit's user_items conventions, fold-in),
similar_items, save/load round trips, tune."""
import os
import signal
import threading
import time

import numpy as np
import pytest
import scipy.sparse as sp

import cfnet
from conftest import small_ae, small_ncf


def fitted(model, data, **kw):
    model.fit(data, show_progress=False, **kw)
    return model


ALL = [
    ("ae", lambda: small_ae()),
    ("ae_item", lambda: small_ae(orientation="item_based")),
    ("ncf", lambda: small_ncf()),
    ("ease", lambda: cfnet.Ease(**{"lambda": 50.0})),
    ("vae", lambda: cfnet.MultVAE(hidden=[32], latent=8, epochs=2, batch_size=50)),
    ("bias", lambda: cfnet.BiasBaseline()),
    ("pop", lambda: cfnet.MostPopular()),
]


def test_options_are_keyword_arguments_with_the_cpp_defaults():
    d = cfnet.AutoencoderCF.default_options()
    assert d["hidden"] == [512, 256, 64, 256, 512] and d["epochs"] == 20 and d["batch_size"] == 32
    assert d["learning_rate"] == pytest.approx(1e-3) and d["hidden_activation"] == "relu"
    assert cfnet.AutoencoderCF(epochs=7, hidden=[8]).options["epochs"] == 7
    assert cfnet.AutoencoderCF(preset="autorec").options["solver"] == "lbfgs"
    assert cfnet.NeuralCF().options["hidden"] == [128, 64]  # NeuralCF's file keys carry "options."
    assert cfnet.NeuralCF(preset="implicit_ranking").options["feedback"] == "implicit"
    assert "early_stopping" in cfnet.NeuralCF.__doc__ and "learning_rate = 0.001" in cfnet.AutoencoderCF.__doc__
    assert set(cfnet.MultVAE.presets) == {"vae", "dae"}
    m = cfnet.NeuralCF(early_stopping={"monitor": "val_loss", "patience": 2})
    assert m.options["early_stopping"]["patience"] == 2


@pytest.mark.parametrize("name,make", ALL, ids=[a for a, _ in ALL])
def test_fit_predict_recommend_shapes_and_dtypes(name, make, split, csr):
    data = csr if name in ("ncf", "ease", "pop") else split.train  # both kinds of input
    m = fitted(make(), data)
    assert m.fitted
    n_items = split.train.n_items
    ids, scores = m.recommend(3, N=7)
    assert ids.dtype == np.int32 and scores.dtype == np.float32 and ids.shape == scores.shape == (7,)
    assert np.all(np.diff(scores) <= 0)
    assert not set(ids) & set(split.train.user_items(3))  # filter_already_liked_items
    users = np.array([0, 5, 3])
    bids, bscores = m.recommend(users, N=7)
    assert bids.shape == bscores.shape == (3, 7)
    np.testing.assert_array_equal(bids[2], ids)  # batched == single
    np.testing.assert_array_equal(bscores[2], scores)
    s = m.score_items(users)
    assert s.shape == (3, n_items) and s.dtype == np.float32
    # score_items scores the users as one batch: BLAS may round a row differently with the batch's
    # row count (OpenBLAS on AMD EPYC does for MultVAE), so equal up to float rounding
    np.testing.assert_allclose(s[2][ids], scores, rtol=1e-5, atol=1e-6)
    p = m.predict_pairs([0, 1], [2, 3])
    assert p.shape == (2,) and p.dtype == np.float32
    test = split.test.to_csr() if data is csr else split.test  # a scipy matrix is in index space 0..n-1
    pm = m.predict_matrix(test)
    assert pm.shape == (split.test.nnz,) and pm.dtype == np.float32


def test_recommend_user_items_conventions(split, csr):
    m = fitted(small_ae(), csr)
    full = m.recommend(np.arange(4), csr, N=5)  # every user's row
    aligned = m.recommend(np.arange(4), csr[:4], N=5)  # implicit: one row per userid
    single = m.recommend(2, csr[2], N=5)
    np.testing.assert_array_equal(full[0], aligned[0])
    np.testing.assert_array_equal(aligned[0][2], single[0])
    fold_in = m.recommend(2, csr[2], N=5, recalculate_user=True)  # fold-in: the row alone
    np.testing.assert_array_equal(fold_in[0], single[0])
    np.testing.assert_allclose(fold_in[1], single[1], rtol=1e-6)
    everything = m.recommend(2, csr[2], N=5, filter_already_liked_items=False)
    assert len(everything[0]) == 5
    # a user with more items in user_items than in training: his input row changes his scores
    row = csr[2].tolil()
    row[0, [0, 1, 2]] = 5.0
    changed = m.recommend(2, row.tocsr(), N=5, recalculate_user=True)
    assert not {0, 1, 2} & set(changed[0])
    with pytest.raises(ValueError, match="rows"):
        m.recommend(np.arange(3), csr[:2], N=5)


def test_fewer_candidates_than_n_pad_the_batch(csr):
    m = fitted(cfnet.MostPopular(), csr)
    n_items = csr.shape[1]
    ids, scores = m.recommend(np.array([0, 1]), N=n_items)
    seen0 = csr[0].nnz
    assert (ids[0] == -1).sum() == seen0 and np.isneginf(scores[0][ids[0] == -1]).all()
    one_ids, _ = m.recommend(0, N=n_items)
    assert len(one_ids) == n_items - seen0


def test_surprise_predict_uses_original_ids(split):
    m = fitted(cfnet.BiasBaseline(), split.train)
    uid, iid = int(split.train.user_ids[4]), int(split.train.item_ids[9])
    assert m.predict(uid, iid) == pytest.approx(float(m.predict_pairs([4], [9])[0]))
    with pytest.raises(ValueError):
        m.predict(10**9, iid)


def test_similar_items(csr):
    for m in (fitted(small_ae(), csr), fitted(cfnet.Ease(**{"lambda": 50.0}), csr),
              fitted(cfnet.MultVAE(hidden=[32], latent=8, epochs=1), csr)):
        ids, scores = m.similar_items(4, N=5)
        assert ids[0] == 4 and len(ids) == 5 and ids.dtype == np.int32
    with pytest.raises(ValueError, match="no item representations"):
        fitted(small_ae(orientation="item_based"), csr).similar_items(4)


@pytest.mark.parametrize("arch", ["mlp", "gmf", "neumf"])
def test_neural_cf_similar_items_is_the_cosine_of_its_item_embeddings(arch, csr):
    m = fitted(small_ncf(architecture=arch), csr)
    tables = m.item_embeddings()
    assert len(tables) == (2 if arch == "neumf" else 1)
    for t in tables:  # which tables they are: tests/models/neural_cf/test_model.cpp
        assert t.dtype == np.float32 and t.shape == (csr.shape[1], 8)
    ids, scores = m.similar_items(4, N=6, filter_items=[7])
    assert ids[0] == 4 and scores[0] == pytest.approx(1.0, abs=1e-6) and 7 not in ids
    # by hand: the mean over the tables of the cosine with item 4
    cos = np.mean([(t @ t[4]) / (np.linalg.norm(t, axis=1) * np.linalg.norm(t[4])) for t in tables], axis=0)
    cos[7] = -np.inf
    np.testing.assert_allclose(scores, np.sort(cos)[::-1][:6], rtol=1e-5)
    np.testing.assert_array_equal(ids[1:], np.argsort(-cos, kind="stable")[1:6])


@pytest.mark.parametrize("name,make", ALL, ids=[a for a, _ in ALL])
def test_save_load_round_trip(name, make, split, tmp_path):
    m = fitted(make(), split.train)
    path = str(tmp_path / f"{name}.cfnet")
    m.save(path)
    cls = type(m)
    again = cls.load(path, split.train)
    np.testing.assert_array_equal(again.predict_matrix(split.test), m.predict_matrix(split.test))
    np.testing.assert_array_equal(again.recommend(np.arange(3), N=5)[0], m.recommend(np.arange(3), N=5)[0])
    if hasattr(m, "options"):
        assert again.options == m.options


def test_history_callbacks_and_stopping(split):
    seen = []
    m = small_ae(epochs=5)
    h = m.fit(split.train, show_progress=False, callback=lambda rec: seen.append(rec) or rec["epoch"] == 2)
    assert [r["epoch"] for r in seen] == [1, 2] and h["epoch"] == [1, 2] and m.stopped_early
    assert set(h) >= {"epoch", "loss", "seconds"} and all(isinstance(x, float) for x in h["loss"])

    class Keras:
        def __init__(self):
            self.calls = []

        def on_train_begin(self, epochs, steps):
            self.calls.append(("begin", epochs))

        def on_batch_end(self, step, loss):
            self.calls.append(("batch", step))

        def on_epoch_end(self, rec):
            self.calls.append(("epoch", rec["epoch"]))

        def on_train_end(self, history):
            self.calls.append(("end", len(history["loss"])))

    k = Keras()
    h = small_ncf().fit(split.train, split.test, show_progress=False, callback=k)
    assert k.calls[0] == ("begin", 2) and k.calls[-1] == ("end", 2)
    assert ("epoch", 1) in k.calls and sum(c[0] == "batch" for c in k.calls) > 2
    assert "val_rmse" in h and len(h["val_rmse"]) == 2


def test_a_callback_error_propagates(split):
    def boom(rec):
        raise RuntimeError("from the callback")

    with pytest.raises(RuntimeError, match="from the callback"):
        small_ae().fit(split.train, show_progress=False, callback=boom)


def test_progress_goes_through_sys_stdout(split, capsys):
    # capsys replaces sys.stdout by a Python object: only text written through sys.stdout reaches it
    # (a C-level printf would go to file descriptor 1, which capsys does not see)
    small_ae(epochs=2).fit(split.train, show_progress=True)
    out = capsys.readouterr().out
    assert "[AutoencoderCF] Epoch 1/2" in out and "Epoch 2/2" in out and "loss:" in out
    small_ae(epochs=1).fit(split.train, show_progress=False)
    assert capsys.readouterr().out == ""
    with pytest.raises(ValueError, match="show_progress"):
        small_ae(epochs=1).fit(split.train, show_progress="bar")


def test_progress_live_bar_is_throttled(split, monkeypatch):
    import io
    import cfnet._progress as progress

    class Tty(io.StringIO):
        def isatty(self):
            return True

    out = Tty()
    monkeypatch.setattr("sys.stdout", out)
    calls = []
    orig = progress.ProgressBar.on_batch_end
    monkeypatch.setattr(progress.ProgressBar, "on_batch_end", lambda self, step, loss: calls.append(step) or orig(self, step, loss))
    m = small_ae(epochs=2, batch_size=4)
    m.fit(split.train, show_progress=True)
    steps = -(-split.train.n_users // 4)
    text = out.getvalue()
    assert f"\r{steps}/{steps} [{'=' * 30}] done" in text and "Epoch 2/2" in text
    # at most one redraw per 100 ms, plus each epoch's last step: far fewer calls than steps
    assert calls.count(steps) == 2 and len(calls) <= 2 + 2 + 20 * sum(m.history["seconds"])


def test_progress_with_tqdm(split, capsys):
    pytest.importorskip("tqdm")
    small_ae(epochs=2).fit(split.train, show_progress="tqdm")
    out = capsys.readouterr().out
    assert "Epoch 2/2" in out


def test_ctrl_c_stops_training_between_steps(split):
    m = small_ae(epochs=100000, batch_size=8)
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    start = time.time()
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        m.fit(split.train, show_progress=False)
    timer.join()
    assert time.time() - start < 30
    assert m.fitted  # the weights of the last completed step are kept and usable
    assert np.isfinite(m.predict_matrix(split.test)).all()


def test_fit_releases_the_gil(split):
    m = small_ae(epochs=40, batch_size=4)
    counter = [0]
    done = threading.Event()

    def spin():
        while not done.is_set():
            counter[0] += 1

    t = threading.Thread(target=spin)
    t.start()
    m.fit(split.train, show_progress=False)
    done.set()
    t.join()
    assert counter[0] > 1000  # the other thread ran while C++ trained


def test_tune_on_training_data_only(split):
    r = cfnet.AutoencoderCF.tune(split.train, {"learning_rate": [1e-3, 1e-2], "hidden": [[16], [8, 8]]},
                                 epochs=2, seed=3)
    assert len(r["trials"]) == 4 and r["objective"] == "rmse" and r["higher_is_better"] is False
    best = r["trials"][r["best"]]
    assert best["score"] == min(t["score"] for t in r["trials"])
    assert r["best_params"] == best["params"] and isinstance(r["best_params"]["hidden"], list)
    assert r["model"].fitted and r["best_options"]["epochs"] == 2
    r = cfnet.Ease.tune(split.train, {"lambda": [10.0, 100.0]}, folds=2, refit=False)
    assert r["objective"] == "ndcg" and r["model"] is None and len(r["trials"][0]["fold_scores"]) == 2
    with pytest.raises(ValueError, match="no option"):
        cfnet.AutoencoderCF.tune(split.train, {"nope": [1]})
