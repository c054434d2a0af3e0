"""Pairwise precision / recall / F1 of a linker's output against true ids.

A linker answers either with clusters (``rec_id, cluster``: every pair inside a cluster is
predicted) or with pairs (``left, right``). Pairs in clusters are counted combinatorially from
group sizes (a group of k records holds k*(k-1)/2 pairs), so an over-merged cluster costs no
memory. With a ``source`` column in the truth (two files to link), only pairs across sources
count, predicted and true alike.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from cdp_demo.linkbench.datasets import SOURCE


@dataclass(frozen=True)
class PairwiseScore:
    predicted_pairs: int
    true_pairs: int
    true_positive_pairs: int

    @property
    def precision(self) -> float:
        return self.true_positive_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.true_positive_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {**asdict(self), "precision": self.precision, "recall": self.recall, "f1": self.f1}


def _pairs_within(frame: pd.DataFrame, keys: list[str]) -> int:
    sizes = frame.groupby(keys, sort=False).size().to_numpy(dtype=np.int64)
    return int((sizes * (sizes - 1) // 2).sum())


def _cross_pairs(frame: pd.DataFrame, keys: list[str], link: bool) -> int:
    """Pairs sharing ``keys``; in link mode, minus those that also share a source."""
    total = _pairs_within(frame, keys)
    return total - _pairs_within(frame, [*keys, SOURCE]) if link else total


def _checked_truth(truth: pd.DataFrame) -> pd.DataFrame:
    if truth["rec_id"].duplicated().any():
        raise ValueError("truth: rec_id values must be unique")
    return truth


def score_clusters(clusters: pd.DataFrame, truth: pd.DataFrame) -> PairwiseScore:
    """Score ``clusters`` (``rec_id, cluster``); records absent from it are singletons."""
    truth = _checked_truth(truth)
    link = SOURCE in truth.columns
    unknown = ~clusters["rec_id"].isin(truth["rec_id"])
    if unknown.any():
        raise ValueError(f"{int(unknown.sum())} predicted rec_id values are not in the data set")
    both = truth.merge(clusters[["rec_id", "cluster"]], on="rec_id", how="left")
    missing = both["cluster"].isna()
    both["cluster"] = both["cluster"].astype(object).where(~missing, "__alone__" + both["rec_id"])
    return PairwiseScore(
        predicted_pairs=_cross_pairs(both, ["cluster"], link),
        true_pairs=_cross_pairs(both, ["true_id"], link),
        true_positive_pairs=_cross_pairs(both, ["cluster", "true_id"], link),
    )


def score_pairs(pairs: pd.DataFrame, truth: pd.DataFrame) -> PairwiseScore:
    """Score predicted ``pairs`` (``left, right``); order and repeats do not count twice."""
    truth = _checked_truth(truth)
    link = SOURCE in truth.columns
    known = truth.set_index("rec_id")
    left, right = pairs["left"].astype(str), pairs["right"].astype(str)
    unknown = ~(left.isin(known.index) & right.isin(known.index))
    if unknown.any():
        raise ValueError(f"{int(unknown.sum())} predicted pairs name a rec_id not in the data set")
    lo = np.where(left < right, left, right)
    hi = np.where(left < right, right, left)
    uniq = pd.DataFrame({"lo": lo, "hi": hi}).drop_duplicates()
    uniq = uniq[uniq["lo"] != uniq["hi"]]
    if link:
        uniq = uniq[
            known.loc[uniq["lo"], SOURCE].to_numpy() != known.loc[uniq["hi"], SOURCE].to_numpy()
        ]
    same = (
        known.loc[uniq["lo"], "true_id"].to_numpy() == known.loc[uniq["hi"], "true_id"].to_numpy()
    )
    return PairwiseScore(
        predicted_pairs=len(uniq),
        true_pairs=_cross_pairs(truth, ["true_id"], link),
        true_positive_pairs=int(same.sum()),
    )
