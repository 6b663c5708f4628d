"""Data in and out: scipy.sparse <-> RatingMatrix round trips, original ids, numpy views, the splits, the
loaders (own files with string ids; MovieLens 100K when $CFNET_ML100K_DIR has it)."""
import numpy as np
import pytest
import scipy.sparse as sp

import cfnet
from conftest import ml100k_dir, small_ae


def test_scipy_round_trip_keeps_stored_zeros_and_values(rng):
    dense = rng.integers(0, 6, size=(30, 40)).astype(np.float32)
    dense[dense < 3] = np.nan  # missing
    rows, cols = np.nonzero(~np.isnan(dense))
    vals = dense[rows, cols]
    vals[:5] = 0.0  # a stored zero is an observation, not a missing entry
    csr = sp.csr_matrix((vals, (rows, cols)), shape=dense.shape)
    csr.eliminate_zeros = None  # (never called by cfnet)
    m = cfnet.RatingMatrix.from_csr(csr)
    assert m.shape == (30, 40) and m.nnz == len(vals)
    back = m.to_csr()
    assert back.dtype == np.float32 and back.shape == (30, 40)
    np.testing.assert_array_equal(back.indptr, csr.indptr)
    np.testing.assert_array_equal(back.indices, csr.indices)
    np.testing.assert_array_equal(back.data, csr.data)
    np.testing.assert_array_equal(m.user_ids, np.arange(30))


def test_any_scipy_format_and_unsorted_duplicates_are_canonicalised():
    coo = sp.coo_matrix((np.array([1.0, 2.0, 3.0], dtype=np.float64), (np.array([1, 0, 1]), np.array([2, 1, 0]))),
                        shape=(2, 3))
    m = cfnet.RatingMatrix.from_csr(coo)
    np.testing.assert_array_equal(m.user_items(1), [0, 2])
    np.testing.assert_array_equal(m.user_ratings(1), [3.0, 1.0])
    m2 = cfnet.RatingMatrix.from_csr(coo.tocsc())
    np.testing.assert_array_equal(m2.to_csr().toarray(), coo.toarray())


def test_numpy_views_are_zero_copy_and_read_only(split):
    m = split.train
    ind = m.indices
    assert ind.dtype == np.uint32 and ind.flags.writeable is False and len(ind) == m.nnz
    assert ind.base is not None  # a view over the matrix's own storage
    np.testing.assert_array_equal(m.indptr[1:] - m.indptr[:-1], [m.user_count(u) for u in range(m.n_users)])
    assert m.data.dtype == np.float32


def test_from_arrays_with_original_ids():
    m = cfnet.RatingMatrix.from_arrays([10, 10, 30], [7, 9, 7], [4.0, 5.0, 1.0])
    np.testing.assert_array_equal(m.user_ids, [10, 30])
    np.testing.assert_array_equal(m.item_ids, [7, 9])
    assert m.rating(1, 0) == 1.0 and m.rating(1, 1) is None
    assert m.users.index(30) == 1 and 30 in m.users
    with pytest.raises(ValueError, match="10"):
        cfnet.RatingMatrix.from_arrays([10, 10], [7, 7], [1.0, 2.0])  # duplicate pair, named
    assert cfnet.RatingMatrix.from_arrays([10, 10], [7, 7], [1.0, 3.0], duplicates="mean").rating(0, 0) == 2.0


def test_splits(ratings):
    tr, te = cfnet.per_user_holdout(ratings, seed=1)
    assert tr.nnz + te.nnz == ratings.nnz and tr.same_space(te)
    tr2, te2 = cfnet.per_user_holdout(ratings, seed=1)
    np.testing.assert_array_equal(te.indices, te2.indices)  # same seed, same split
    s = cfnet.stratified_split(ratings, 0.25, seed=3, by="user")
    assert s.train.nnz + s.test.nnz == ratings.nnz
    folds = cfnet.kfold(ratings, 3, seed=2)
    assert len(folds) == 3 and sum(f.test.nnz for f in folds) == ratings.nnz
    ms = cfnet.ms_recommenders_split(ratings, seed=4)
    assert ms.test.nnz == pytest.approx(0.25 * ratings.nnz, rel=0.05)
    imp = cfnet.to_implicit(ratings, at_least=4.0)
    assert set(np.unique(imp.data)) == {1.0} and imp.same_space(ratings)
    sg = cfnet.strong_generalization_split(ratings, seed=5, heldout_users=10)
    assert sg.test_fold_in.n_items == sg.train.n_items
    with pytest.raises(ValueError):
        cfnet.stratified_split(ratings, 0.25, by="diagonal")


def test_load_interactions_with_string_ids(tmp_path):
    f = tmp_path / "events.csv"
    f.write_text("user,item,rating\nalice,apple,5\nbob,apple,3\nalice,pear,4\ncarol,fig,2\nbob,fig,5\n")
    m = cfnet.load_interactions(str(f), user="user", item="item", rating="rating")
    assert m.shape == (3, 3) and m.nnz == 5
    assert sorted(m.user_ids) == ["alice", "bob", "carol"] and m.users.names is not None
    model = cfnet.BiasBaseline()
    model.fit(m)
    assert isinstance(model.predict("alice", "fig"), float)  # Surprise-style, by string id
    with pytest.raises(ValueError, match="dave"):
        model.predict("dave", "fig")
    implicit = cfnet.load_interactions(str(f), user=0, item=1, rating=None)
    assert set(implicit.data) == {1.0}
    with pytest.raises(OSError):
        cfnet.load_interactions(str(tmp_path / "missing.csv"))
    bad = tmp_path / "bad.csv"
    bad.write_text("u,i,r\n1,2,x\n")
    with pytest.raises(OSError, match="bad.csv:2"):  # ParseError names the file and line
        cfnet.load_interactions(str(bad), ids="integer")


@pytest.mark.skipif(ml100k_dir() is None, reason="MovieLens 100K not available ($CFNET_ML100K_DIR)")
def test_movielens_100k():
    d = cfnet.load_movielens(ml100k_dir())
    assert d.variant == "ml-100k" and d.ratings.shape == (943, 1682) and d.ratings.nnz == 100000
    assert d.title(0) == "Toy Story (1995)"
    tr, te = cfnet.load_100k_split(ml100k_dir(), "u1")
    assert tr.nnz == 80000 and te.nnz == 20000
