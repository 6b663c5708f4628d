"""AutoencoderEnsemble from Python: members as AutoencoderCF models or option dicts, the autorec_ensemble
preset, fit (one history per member), predict = the weighted average of the members' predictions (clamped),
recommend, save/load of the ensemble files, errors. Equality with the C++ library: test_cpp_equality.py."""
import numpy as np
import pytest

import cfnet
from conftest import small_ae

MEMBERS = [dict(hidden=[32, 16, 32], epochs=2, seed=5), dict(orientation="item_based", hidden=[16], epochs=2, seed=6)]


def small_ensemble(**kw):
    return cfnet.AutoencoderEnsemble(MEMBERS, [0.6, 0.4], **kw)


def test_construction_members_weights_preset():
    e = small_ensemble(clamp=(1, 5))
    assert len(e) == 2 and e.weights == [0.6, 0.4] and e.clamp == (1.0, 5.0) and not e.fitted
    assert e.options[1]["orientation"] == "item_based" and e.options[0]["hidden"] == [32, 16, 32]
    same = cfnet.AutoencoderEnsemble([small_ae(epochs=2, hidden=[32, 16, 32]), MEMBERS[1]])
    assert same.options[0] == e.options[0] and same.weights == [1.0, 1.0] and same.clamp is None
    p = cfnet.AutoencoderEnsemble()  # = preset="autorec_ensemble"
    q = cfnet.AutoencoderEnsemble(preset="autorec_ensemble")
    assert p.weights == q.weights == [0.55, 0.25, 0.2] and p.options == q.options
    assert [o["orientation"] for o in p.options] == ["item_based", "user_based", "item_based"]
    assert p.options[0]["solver"] == "lbfgs" and cfnet.AutoencoderEnsemble.presets == ["autorec_ensemble"]
    autorec = cfnet.AutoencoderEnsemble([dict(preset="autorec", epochs=7)])
    assert autorec.options[0]["solver"] == "lbfgs" and autorec.options[0]["epochs"] == 7
    assert isinstance(e, cfnet.MODELS)


def test_errors(split):
    with pytest.raises(ValueError, match="members but"):
        cfnet.AutoencoderEnsemble(MEMBERS, [1.0])
    with pytest.raises(ValueError, match="weight 1"):
        cfnet.AutoencoderEnsemble(MEMBERS, [1.0, -1.0])
    with pytest.raises(ValueError, match="no option 'hiden'"):
        cfnet.AutoencoderEnsemble([dict(hiden=[3])])
    with pytest.raises(ValueError, match="unknown preset"):
        cfnet.AutoencoderEnsemble(preset="big")
    with pytest.raises(ValueError, match="member 0"):
        cfnet.AutoencoderEnsemble([3])
    with pytest.raises(ValueError, match="lo <= hi"):
        small_ensemble(clamp=(5, 1))
    with pytest.raises(ValueError, match="not fitted"):
        small_ensemble().predict_pairs([0], [0], input=split.train)


def test_fit_predict_is_the_weighted_average_of_the_members(split):
    e = small_ensemble(clamp=(1, 5))
    h = e.fit(split.train, show_progress=False)
    assert isinstance(h, list) and len(h) == 2 and h[0]["epoch"] == [1, 2] and e.history == h
    p = e.predict_matrix(split.test)
    assert p.dtype == np.float32 and p.shape == (split.test.nnz,)
    a, b = (m.predict_matrix(split.test, input=split.train).astype(np.float64) for m in e.members)
    np.testing.assert_allclose(p, np.clip(0.6 * a + 0.4 * b, 1, 5), rtol=1e-6)
    ids, scores = e.recommend(3, N=5)
    assert ids.shape == (5,) and not set(ids) & set(split.train.user_items(3))
    bids, _ = e.recommend(np.array([0, 3]), N=5)
    np.testing.assert_array_equal(bids[1], ids)
    assert set(e.evaluate_rating(split.test)) >= {"rmse", "mae"}
    with pytest.raises(ValueError, match="recalculate"):
        e.recommend(0, split.train.to_csr()[:1], recalculate_user=True)


def test_from_members_and_save_load(split, tmp_path):
    a = small_ae(epochs=1, seed=3)
    a.fit(split.train, show_progress=False)
    b = small_ae(epochs=1, seed=4)
    b.fit(split.train, show_progress=False)
    e = cfnet.AutoencoderEnsemble.from_members([a, b], [1.0, 3.0], clamp=(1, 5))
    assert e.fitted
    np.testing.assert_allclose(e.predict_matrix(split.test),
                               np.clip(0.25 * a.predict_matrix(split.test).astype(np.float64)
                                       + 0.75 * b.predict_matrix(split.test), 1, 5), rtol=1e-6)
    path = tmp_path / "ens.cfnet"
    e.save(str(path))
    assert (tmp_path / "ens.cfnet.member0").exists() and (tmp_path / "ens.cfnet.member1").exists()
    again = cfnet.AutoencoderEnsemble.load(str(path), split.train)
    assert again.weights == [1.0, 3.0] and again.clamp == (1.0, 5.0)
    np.testing.assert_array_equal(again.predict_matrix(split.test), e.predict_matrix(split.test))
    member = cfnet.AutoencoderCF.load(str(tmp_path / "ens.cfnet.member1"), split.train)  # each member is a model file
    np.testing.assert_array_equal(member.predict_matrix(split.test), b.predict_matrix(split.test))
    with pytest.raises(ValueError, match="fitted AutoencoderCF"):
        cfnet.AutoencoderEnsemble.from_members([a, cfnet.Ease()])
    with pytest.raises(OSError):
        cfnet.AutoencoderEnsemble.load(str(tmp_path / "ens.cfnet.member0"))  # a member is not a manifest
