"""cfnet for Python: collaborative filtering with neural networks, on cfnet's C++ core.

Models (options as keyword arguments with the C++ defaults; help(cfnet.AutoencoderCF) lists them):
AutoencoderCF, AutoencoderEnsemble, NeuralCF, Ease, MultVAE, BiasBaseline, MostPopular (float32), and
AutoencoderCF64, NeuralCF64 (float64). Data: scipy.sparse users x items
matrices or cfnet.RatingMatrix (load_movielens, load_interactions, the splits). See docs/python.md.
"""
from ._cfnet import (  # noqa: F401
    AutoencoderCF,
    AutoencoderCF64,
    AutoencoderEnsemble,
    BiasBaseline,
    Dataset,
    Ease,
    IdMap,
    MostPopular,
    MultVAE,
    NeuralCF,
    NeuralCF64,
    NumericalError,
    RatingMatrix,
    Split,
    UserHoldoutSplit,
    __version__,
    average_precision_at_k,
    hit_rate_at_k,
    kfold,
    leave_one_out,
    load_100k_split,
    load_interactions,
    load_movielens,
    mae,
    ms_recommenders_split,
    ndcg_at_k,
    per_user_holdout,
    precision_at_k,
    random_split,
    ranking_metrics_at_k,
    recall_at_k,
    rmse,
    strong_generalization_data,
    strong_generalization_split,
    stratified_split,
    synthetic,
    to_implicit,
    user_holdout_split,
)
from . import _cfnet

import numpy as _np

MODELS = (AutoencoderCF, AutoencoderEnsemble, NeuralCF, Ease, MultVAE, BiasBaseline, MostPopular)
MODELS64 = (AutoencoderCF64, NeuralCF64)
for _cls in MODELS:
    _cls.dtype = _np.dtype(_np.float32)
for _cls in MODELS64:
    _cls.dtype = _np.dtype(_np.float64)
del _cls

__all__ = [
    "AutoencoderCF", "AutoencoderEnsemble", "NeuralCF", "Ease", "MultVAE", "BiasBaseline", "MostPopular", "MODELS",
    "AutoencoderCF64", "NeuralCF64", "MODELS64",
    "RatingMatrix", "IdMap", "Split", "UserHoldoutSplit", "Dataset", "NumericalError",
    "load_movielens", "load_100k_split", "load_interactions", "synthetic", "to_implicit",
    "per_user_holdout", "random_split", "stratified_split", "leave_one_out", "kfold", "user_holdout_split",
    "ms_recommenders_split", "strong_generalization_data", "strong_generalization_split",
    "rmse", "mae", "precision_at_k", "recall_at_k", "ndcg_at_k", "hit_rate_at_k", "average_precision_at_k",
    "ranking_metrics_at_k", "evaluate_ranking", "evaluate_rating", "evaluate_ms_recommenders",
    "evaluate_strong_generalization", "similar_items",
]


def evaluate_ranking(model, train, test, k=10, threshold=None, exclude_train=True, exclude_unseen_items=False):
    """Top-k metrics of `model` (a cfnet model, or a callable score_fn(user_index) -> scores of every item)
    over held-out `test`, with `train` as the model's input and the candidates' filter (cfnet::evaluate_ranking).
    Relevant = test ratings >= threshold (every test item when None). Returns a dict."""
    if callable(model) and not isinstance(model, MODELS):
        if not isinstance(train, RatingMatrix):
            train = RatingMatrix.from_csr(train)
        if not isinstance(test, RatingMatrix):
            test = RatingMatrix.from_csr(test, user_ids=train.users.ids, item_ids=train.items.ids)
        return _cfnet.evaluate_ranking_fn(train, test, k, model, threshold, exclude_train, exclude_unseen_items)
    return model.evaluate_ranking(test, k=k, threshold=threshold, input=train, exclude_train=exclude_train,
                                  exclude_unseen_items=exclude_unseen_items)


def evaluate_rating(model, train, test):
    """RMSE and MAE of `model` over the ratings of `test`, the model's input being `train` (leak-free)."""
    return model.evaluate_rating(test, input=train)


def evaluate_ms_recommenders(model, split):
    """The Microsoft Recommenders protocol's metrics (k = 10, every test item relevant, training items and
    items without training ratings excluded) of a model fitted on split.train."""
    return model.evaluate_ranking(split.test, k=10, threshold=None, input=split.train, exclude_train=True,
                                  exclude_unseen_items=True)


def evaluate_strong_generalization(model, split, validation=False):
    """Recall@20, Recall@50 and NDCG@100 of a model fitted on split.train over the held-out users."""
    return model.evaluate_strong_generalization(split, validation)


def _item_factors(model):
    """Item representations (n_items x d) of a model that has them, else None: the output layer's weights
    of a user-based AutoencoderCF or of MultVAE's decoder (one vector per item); NeuralCF's item embedding
    tables, each row L2-normalised and the tables concatenated (NeuMF has two, item_mlp and item_gmf: the
    cosine over the concatenation is then the mean of the two towers' cosines, each tower weighing alike)."""
    if isinstance(model, NeuralCF):
        tables = []
        for t in model.item_embeddings():
            norms = _np.linalg.norm(t, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            tables.append(t / norms)
        return _np.concatenate(tables, axis=1)
    if not isinstance(model, (AutoencoderCF, MultVAE)):
        return None
    if isinstance(model, AutoencoderCF) and model.options["orientation"] != "user_based":
        return None
    params = model.parameters()
    n_items = len(model.item_ids)
    names = [k for k in params if k.endswith("weight")]
    last = names[-1]  # parameters() lists the layers in order: the last weight is the output layer's
    w = params[last]
    if w.shape[0] == n_items:
        return w
    if w.shape[1] == n_items:
        return w.T.copy()
    return None


def similar_items(model, itemid, N=10, filter_items=None):
    """implicit's similar_items: the N items most similar to item index `itemid` (itself first), as
    (item indices int32, scores float32). Ease: the learned item-item weights B[itemid] (the item itself,
    whose weight EASE constrains to 0, is put first with score +inf); AutoencoderCF (user-based) and
    MultVAE: cosine similarity of the output layer's item vectors; NeuralCF: cosine similarity of the item
    embeddings (NeuMF: the mean of the cosines in its two embedding tables, GMF's and the MLP's).
    filter_items: item indices never returned."""
    if isinstance(model, Ease):
        kept = list(model.kept_items)
        B = model.weights
        if kept and len(kept) != B.shape[0]:
            raise ValueError("similar_items: this EASE model keeps a subset of items (max_items)")
        scores = B[itemid].astype(_np.float32).copy()
        scores[itemid] = _np.inf
    else:
        factors = _item_factors(model)
        if factors is None:
            raise ValueError(f"similar_items: {type(model).__name__} has no item representations")
        norms = _np.linalg.norm(factors, axis=1)
        norms[norms == 0] = 1.0
        scores = (factors @ factors[itemid]) / (norms * norms[itemid])
        scores = scores.astype(_np.float32)
    if filter_items is not None:
        scores[_np.asarray(filter_items)] = -_np.inf
    order = _np.lexsort((_np.arange(len(scores)), -scores))[:N]
    return order.astype(_np.int32), scores[order]


for _cls in (AutoencoderCF, Ease, MultVAE, NeuralCF):
    _cls.similar_items = similar_items
del _cls
