"""Top-N lists of a block of persons as NumPy arrays, and their hit rate / recall.

Why arrays: a frame of persons x candidate products (strings, merges, sorts) cost most of the
recommender's time and memory; here a block of persons is a dense persons x products matrix
of blended scores (bounded by `BATCH_CELLS` in `ml/recommend.py`), the filters are boolean masks
and the lists are integer codes into the recommender's catalogue. The rules are those of
`Recommender.recommend`: personal products first (positive blended score, in stock, not
excluded; highest score first, ties by SKU), then the popular products the person has not been
offered and may be offered, in popularity order, up to `top_n`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp


@dataclass(frozen=True)
class Catalogue:
    """The products a recommender can name, with the filters that do not depend on the person."""

    items: pd.Index  # sorted SKUs: the model's products and the popular ones
    model_cols: np.ndarray  # catalogue code of each column of the model's scores
    popular: np.ndarray  # codes of the allowed popular products, most popular first
    popular_scores: np.ndarray  # their popularity shares (the score of a fallback row)
    blocked: np.ndarray | None  # bool per code: not allowed (out of stock); None = all allowed


@dataclass
class Lists:
    """Row i = the i-th person of a block; `top_n` columns, rank = column + 1."""

    items: np.ndarray  # int64 codes into `Catalogue.items`, -1 where the list is shorter
    scores: np.ndarray  # float64, NaN where empty
    personal: np.ndarray  # bool: a personal pick (else a popular fill or empty)

    @property
    def filled(self) -> np.ndarray:
        return self.items >= 0


def pair_matrix(
    pairs: pd.DataFrame | None, persons: pd.Index, items: pd.Index
) -> sp.csr_matrix | None:
    """Boolean persons x items matrix of the `(customer_id, sku)` rows of `pairs` (rows of
    other persons or unknown products dropped)."""
    if pairs is None or not len(pairs):
        return None
    rows, cols = _codes(persons, pairs["customer_id"]), _codes(items, pairs["sku"])
    keep = (rows >= 0) & (cols >= 0)
    out = sp.csr_matrix(
        (np.ones(int(keep.sum()), dtype=bool), (rows[keep], cols[keep])),
        shape=(len(persons), len(items)),
    )
    out.sum_duplicates()
    return out


def _codes(index: pd.Index, values: pd.Series) -> np.ndarray:
    """Positions in `index` of `values` (-1 when absent); a categorical column is looked up
    once per category, then by its integer codes."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        at = index.get_indexer(values.cat.categories)
        codes = values.cat.codes.to_numpy()
        return np.where(codes >= 0, at[codes], -1)
    return index.get_indexer(values)


def best(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Codes and values of each row's `k` highest scores, highest first, ties by the lower
    code (the SKU order): the first `k` of a full sort by (score desc, code), without it."""
    n, m = scores.shape
    k = min(k, m)
    if k < m:
        kth = np.partition(scores, m - k, axis=1)[:, m - k : m - k + 1]  # the k-th highest
        pick = scores > kth
        tie = scores == kth
        room = k - pick.sum(axis=1)
        crowded = tie.sum(axis=1) > room  # more ties at the k-th value than places left
        pick |= tie
        if crowded.any():
            t = tie[crowded]
            pick[crowded] = (scores[crowded] > kth[crowded]) | (
                t & (np.cumsum(t, axis=1) <= room[crowded, None])
            )
        codes = np.nonzero(pick)[1].reshape(n, k)
    else:
        codes = np.broadcast_to(np.arange(m), (n, m)).copy()
    values = np.take_along_axis(scores, codes, axis=1)
    order = np.lexsort((codes, -values), axis=-1)
    return np.take_along_axis(codes, order, axis=1), np.take_along_axis(values, order, axis=1)


def top_lists(
    personal: np.ndarray | None,
    known: np.ndarray,
    n: int,
    excluded: np.ndarray | None,
    cat: Catalogue,
    top_n: int,
) -> Lists:
    """Lists of a block of `n` persons. `personal`: blended scores (rows = the persons at
    positions `known` in the block, columns = the model's products) or None; `excluded`: dense
    boolean block x catalogue (bought in the exclusion window) or None."""
    n_cat = len(cat.items)
    items = np.full((n, top_n), -1, dtype=np.int64)
    scores = np.full((n, top_n), np.nan)
    mine = np.zeros((n, top_n), dtype=bool)
    taken = np.zeros((n, n_cat), dtype=bool) if excluded is None else excluded.copy()
    count = np.zeros(n, dtype=np.int64)
    if personal is not None and len(known):
        s = np.full((len(known), n_cat), -np.inf)
        s[:, cat.model_cols] = personal
        if cat.blocked is not None:
            s[:, cat.blocked] = -np.inf
        if excluded is not None:
            s[excluded[known]] = -np.inf
        s[~(s > 0)] = -np.inf  # a personal pick has a positive score
        codes, values = best(s, top_n)
        ok = np.isfinite(values)  # a prefix of each row (sorted highest first)
        k = codes.shape[1]
        items[known, :k] = np.where(ok, codes, -1)
        scores[known, :k] = np.where(ok, values, np.nan)
        mine[known, :k] = ok
        count[known] = ok.sum(axis=1)
        r, c = np.nonzero(ok)
        taken[known[r], codes[r, c]] = True
    # the popular products not offered yet, in popularity order, up to top_n: among the
    # first top_n + (most exclusions of a person) of them there are always enough
    most = 0 if excluded is None else int(excluded.sum(axis=1).max(initial=0))
    free = ~taken[:, cat.popular[: top_n + most]]
    rank = np.cumsum(free, axis=1)
    fill = free & (rank <= (top_n - count)[:, None])
    r, c = np.nonzero(fill)
    at = count[r] + rank[r, c] - 1
    items[r, at] = cat.popular[c]
    scores[r, at] = cat.popular_scores[c]
    return Lists(items, scores, mine)


def hits(lists: Lists, bought: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per person: a bought product in the first 5 (bool) and the number of bought products
    in the first 10; `bought` is dense boolean block x catalogue."""
    if not bought.shape[1]:  # an empty catalogue: nothing recommended
        return np.zeros(len(bought), dtype=bool), np.zeros(len(bought), dtype=np.int64)
    got = np.take_along_axis(bought, np.clip(lists.items, 0, None), axis=1) & lists.filled
    return got[:, :5].any(axis=1), got[:, :10].sum(axis=1)


def rates(hit5: np.ndarray, found10: np.ndarray, wanted: np.ndarray) -> dict[str, float]:
    """Hit rate@5 and recall@10 (mean share of each buyer's bought products in the top 10)."""
    if not len(wanted):
        return {"hit_rate_at_5": float("nan"), "recall_at_10": float("nan"), "n": 0}
    return {
        "hit_rate_at_5": float(hit5.mean()),
        "recall_at_10": float((found10 / wanted).mean()),
        "n": len(wanted),
    }
