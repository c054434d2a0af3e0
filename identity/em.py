"""The EM primitives of the Fellegi-Sunter estimation (``fellegi_sunter.fit`` composes them):
u from random pairs, m and the share of matches by expectation-maximisation on distinct level
patterns weighted by their counts, m read off the pairs the deterministic rules joined.

Plain NumPy on level codes (-1 = a value missing on either side); no model objects, so the
model module can import these without a cycle.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from identity.config import Comparison, IdentityConfig


def level_counts(g: np.ndarray, n_levels: int, weights: np.ndarray | None = None) -> np.ndarray:
    present = g >= 0
    return np.bincount(g[present], weights=None if weights is None else weights[present],
                       minlength=n_levels).astype(float)  # fmt: skip


def fit_u(
    random_levels: np.ndarray, comps: list[Comparison], prior_pairs: float
) -> dict[str, np.ndarray]:
    """u per level from the level frequencies of random pairs, smoothed by the YAML u."""
    out = {}
    for i, comp in enumerate(comps):
        u0 = np.array([lv.u for lv in comp.levels])
        counts = level_counts(random_levels[:, i], len(u0))
        total = counts.sum()
        u = (counts + prior_pairs * u0) / (total + prior_pairs)
        if total:
            u = np.maximum(u, 0.5 / total)
        fixed = np.array([lv.fixed for lv in comp.levels])
        u[fixed] = u0[fixed]
        out[comp.field] = u / u.sum() if not fixed.any() else u
    return out


def level_patterns(
    g: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct rows of ``g``, their counts (each row counting ``weights``, default 1), and
    the distinct row of each row of ``g``."""
    if len(g) == 0:
        return g, np.zeros(0), np.zeros(0, dtype=np.int64)
    shifted = g.astype(np.int64) + 1
    radix = int(shifted.max()) + 1
    key = np.zeros(len(g), dtype=np.int64)
    for j in range(g.shape[1]):
        key = key * radix + shifted[:, j]
    codes, uniques = pd.factorize(key)
    counts = np.bincount(codes, weights=weights).astype(float)
    first = np.zeros(len(uniques), dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes))[::-1]
    return g[first], counts, codes


def run_em(
    g: np.ndarray,
    known: np.ndarray,
    u: dict[str, np.ndarray],
    config: IdentityConfig,
    m_fixed: list[np.ndarray] | None = None,
    counts: np.ndarray | None = None,
) -> tuple[list[np.ndarray], float, int, bool, np.ndarray]:
    """EM with u held: (m per comparison, share of matches among the unknown pairs,
    iterations, converged, match probability of each pair). ``known`` pairs are matches in
    every iteration. With ``m_fixed``, only the share is estimated. With ``counts``, each row
    of ``g`` stands for that many pairs."""
    est = config.probabilistic.estimation
    comps = config.probabilistic.comparisons
    m0 = [np.array([lv.m for lv in c.levels]) for c in comps]
    m = [x.copy() for x in (m_fixed or m0)]
    flagged = np.column_stack([g, known.astype(np.int16)])
    pat, counts, row_pattern = level_patterns(flagged, counts)
    is_known = pat[:, -1] == 1 if len(pat) else np.zeros(0, dtype=bool)
    pat = pat[:, :-1]
    prior = float(np.clip(0.1, 1e-6, est.max_prior))
    log_u = np.zeros(len(pat))
    for i, c in enumerate(comps):
        log_u += np.log(np.append(u[c.field], 1.0))[pat[:, i]]
    iterations, converged = 0, len(pat) == 0
    post = np.zeros(len(pat))
    while not converged and iterations < est.max_iterations:
        iterations += 1
        log_m = np.zeros(len(pat))
        for i in range(len(comps)):
            log_m += np.log(np.append(m[i], 1.0))[pat[:, i]]
        logit = math.log(prior) - math.log1p(-prior) + log_m - log_u
        post = 1.0 / (1.0 + np.exp(-np.clip(logit, -60, 60)))
        post[is_known] = 1.0
        weighted = post * counts
        new_m = m
        if m_fixed is None:
            new_m = []
            for i in range(len(comps)):
                hits = level_counts(pat[:, i], len(m0[i]), weighted)
                new_m.append(smoothed_m(hits, comps[i], est.prior_pairs))
        unknown = counts[~is_known].sum()
        share = weighted[~is_known].sum() / unknown if unknown else 0.1
        new_prior = float(np.clip(share, 1e-6, est.max_prior))
        delta = max(float(np.abs(a - b).max()) for a, b in zip(new_m, m, strict=True))
        delta = max(delta, abs(new_prior - prior))
        m, prior = new_m, new_prior
        converged = delta < est.tolerance
    return m, prior, iterations, converged, post[row_pattern]


def m_of_joined(
    gk: np.ndarray,
    sel: np.ndarray,
    joined: np.ndarray | None,
    counts: np.ndarray,
    config: IdentityConfig,
) -> list[np.ndarray] | None:
    """m of one blocking key's pass read off its pairs joined by the deterministic rules, or
    None (the EM estimates it) when the pass has fewer than ``min_joined_pairs`` of them.

    Those pairs are the same person by a shared e-mail, phone or account, and their names,
    birth dates and addresses differ as a match's do. The EM alone takes whatever class of
    the pass is largest for the matches: in a large file the pairs of one key that are not
    joined are mostly housemates and namesakes (same last name and address, or same name and
    town), and at 1.4M customers it made "same town" the match class (m of an equal first name
    0.32, prior at its bound) and linked namesakes born the same day.
    """
    est = config.probabilistic.estimation
    if joined is None:
        return None
    jk = joined[sel]
    weights = counts[sel][jk]
    if weights.sum() < est.min_joined_pairs:
        return None
    return [
        smoothed_m(level_counts(gk[jk, i], len(comp.levels), weights), comp, est.prior_pairs)
        for i, comp in enumerate(config.probabilistic.comparisons)
    ]


def smoothed_m(hits: np.ndarray, comp: Comparison, prior_pairs: float) -> np.ndarray:
    """m of one comparison from its level counts among matches, the YAML m a Dirichlet prior
    worth ``prior_pairs`` pairs, within [1e-6, 1]; ``fixed`` levels keep their YAML m."""
    m0 = np.array([lv.m for lv in comp.levels])
    m = np.clip((hits + prior_pairs * m0) / (hits.sum() + prior_pairs), 1e-6, 1.0)
    fixed = np.array([lv.fixed for lv in comp.levels])
    m[fixed] = m0[fixed]
    return m


def exact_weighs_most(m: np.ndarray, u: np.ndarray, comp: Comparison) -> np.ndarray:
    """m with the exact level weighing at least as much as any other level.

    A value typed identically is never weaker evidence than the same value with a typo. The EM
    can conclude otherwise when a file's duplicates carry exactly one error each (the pairs of
    one blocking key then differ, by selection, on the fields the key does not read): the exact
    level's m is then raised to the best other level's likelihood ratio, and m renormalised
    (which moves every weight by the same amount, so their order holds).
    """
    if comp.levels[0].kind != "exact" or comp.levels[0].fixed or len(m) < 2:
        return m
    ratio = m[1:] / u[1:]
    best = float(ratio.max())
    if m[0] / u[0] >= best:
        return m
    out = m.copy()
    out[0] = u[0] * best
    return out / out.sum()
