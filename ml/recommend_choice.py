"""The recommender's choice among its validated options: the simplest one unless a more complex
one is better by a margin the validation can detect.

Why not the highest mean: the options' means differ by less than their noise on a large base
(at 1.4 million persons the co-occurrence and category options were within a few thousandths
and the arg-max flipped between runs). Each option's criterion is a mean over the same buyers
of the validation window (per buyer: (hit@5 + share of the bought products in the top 10) / 2),
so two options are compared *paired*, buyer by buyer: the more complex option replaces the
current choice only when its mean gain exceeds `MARGIN_SE` standard errors of the paired
differences. Options are visited from the simplest (popularity, category affinity, item-item
neighbours, matrix factorisation; candidates of one kind in configuration order), each
candidate by its best blend weight (ties to the lower weight: closer to popularity). The rule
is a pure function of the graded lists: the same data gives the same choice.
"""

from __future__ import annotations

import numpy as np

POPULARITY = "popularity"
# how many standard errors of the paired per-buyer differences a more complex option must gain
MARGIN_SE = 2.0
COMPLEXITY = {
    POPULARITY: 0,
    "category": 1,
    "item_cooccurrence": 2,
    "item_cosine": 2,
    "bm25": 2,
    "als": 3,
}


def per_buyer(hit5: np.ndarray, found10: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Each buyer's share of the criterion: (hit@5 + found@10 / bought) / 2; its mean is the
    mean of hit rate@5 and recall@10 over the buyers."""
    if not len(wanted):
        return np.zeros(0, dtype=np.float32)
    return ((hit5.astype(np.float64) + found10 / wanted) / 2).astype(np.float32)


def paired_gain(new: np.ndarray, old: np.ndarray) -> tuple[float, float]:
    """Mean of the per-buyer differences `new - old` and its standard error."""
    d = new.astype(np.float64) - old.astype(np.float64)
    if len(d) < 2:
        return float(d.mean()) if len(d) else 0.0, float("inf")
    return float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d)))


def choose(
    options: dict[str, tuple[str, int, float]], values: dict[str, np.ndarray]
) -> tuple[str, list[dict]]:
    """`options`: name -> (kind, candidate index, blend weight), with POPULARITY among them;
    `values`: name -> per-buyer criterion (same buyers, same order). Returns the chosen name
    and the record of each comparison (for the model card)."""
    best: dict[tuple[str, int], str] = {}
    for name, (kind, index, a) in options.items():
        if kind == POPULARITY:
            continue
        key = (kind, index)
        old = best.get(key)
        if old is None or (values[name].mean(), -a) > (values[old].mean(), -options[old][2]):
            best[key] = name
    current = POPULARITY
    steps = []
    for key in sorted(best, key=lambda k: (COMPLEXITY.get(k[0], len(COMPLEXITY)), k[1])):
        name = best[key]
        gain, se = paired_gain(values[name], values[current])
        switch = gain > 0 and gain > MARGIN_SE * se
        steps.append(
            {
                "option": name,
                "versus": current,
                "gain": round(gain, 6),
                "standard_error": round(se, 6) if np.isfinite(se) else None,
                "chosen": bool(switch),
            }
        )
        if switch:
            current = name
    return current, steps
