"""Stage 3 of the identity engine: probabilistic edges.

Candidate pairs from blocking keys (``blocking.py``), a Fellegi-Sunter model estimated on them
(``fellegi_sunter.py``), a match-probability threshold, guards that hold pairs for review.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from identity import compare as cmp
from identity import fellegi_sunter as fs
from identity.blocking import Blocks, key_fields
from identity.config import IdentityConfig
from identity.pair_chunks import compare_chunks, fit_counted, score_chunks
from identity.pairs import components
from identity.profiles import ProfilePairs, expand, profiles_of


def ignore_dropped_values(
    norm: pd.DataFrame, coded: dict[str, cmp.Coded], report: list[dict]
) -> None:
    """Blank (in place) the e-mails and phones the deterministic stage dropped.

    Placeholder and shared values say nothing about a person: the comparisons ignore them.
    """
    for field_name in ("email", "phone"):
        dropped = [
            r["value"]
            for r in report
            if r["kind"] in ("blocklist", "frequency_cap") and r["id_type"] == field_name
        ]
        if dropped:
            norm[field_name] = norm[field_name].where(~norm[field_name].isin(dropped), None)
            coded[field_name] = cmp.encode(norm, [field_name])


def _probabilistic(
    norm: pd.DataFrame,
    coded: dict[str, cmp.Coded],
    det: pd.DataFrame,
    config: IdentityConfig,
    groups: np.ndarray | None,
    blocks: Blocks,
    fixed: fs.FittedModel | None = None,
) -> tuple[fs.FittedModel, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Fit the model on the candidate pairs, then score those not already linked: (model,
    a, b, match probability, why held) of the pairs that can be a link or a review pair, and
    the number of pairs scored.

    The EM sees every candidate pair, those the deterministic rules joined included: they are
    mostly true matches and teach m what a match looks like in this data. A ``fixed`` model
    (saved by an earlier run) is used as it is: no estimation. The pairs are compared and
    scored chunk by chunk (``pair_chunks.py``): memory does not grow with their number; and
    once per pair of attribute profiles (``profiles.py``), not per pair of their records.
    """
    n = len(norm)
    prob = config.probabilistic
    det_labels = components(n, det["a"].to_numpy(), det["b"].to_numpy())
    profiles = profiles_of(coded, blocks, det_labels, groups)
    chunks = ProfilePairs(blocks, profiles, groups)
    est = prob.estimation
    estimate = fixed is None and est.enabled
    required = min(prob.min_agreeing_fields, max(2, fs.evidence_units(coded, config)))
    compared = compare_chunks(chunks, coded, det_labels, config, blocks, required, estimate)
    model = fixed or fs.starting_model(config)
    if fixed is None:
        anchors = compared.joined
        if estimate and compared.candidates:
            ra, rb = fs.random_pairs(n, est.u_sample_pairs, est.seed)
            if groups is not None:
                keep = groups[ra] != groups[rb]
                ra, rb = ra[keep], rb[keep]
            rg = fs.levels(coded, ra, rb, config, model)
            model, anchors = fit_counted(compared, rg, config, key_fields(config))
        model.evidence_required = required
        model.records = n
        model.anchor_pairs = anchors
    pa, pb, probability, held = score_chunks(chunks, compared, coded, det_labels, config, model)
    pa, pb, source = expand(profiles, pa, pb)
    return model, pa, pb, probability[source], held[source], compared.fresh


def score_pairs(
    coded: dict[str, cmp.Coded],
    pa: np.ndarray,
    pb: np.ndarray,
    config: IdentityConfig,
    model: fs.FittedModel,
) -> tuple[fs.FittedModel, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Score pairs under a given model: (model, a, b, match probability, why held).

    The orientation of crossed names is chosen under the configuration's starting weights, as
    the estimating run chooses it, so that a pair scores the same in every run of one model.
    """
    g = fs.levels(coded, pa, pb, config, fs.starting_model(config))
    tf_u = fs.term_frequency_u(coded, pa, g, config, model)
    _weight, probability, held = fs.score(g, model, config, tf_u)
    return model, pa, pb, probability, held


def probabilistic_edges(
    scored: tuple | None,
    config: IdentityConfig,
    model: fs.FittedModel | None = None,
) -> tuple[fs.FittedModel, pd.DataFrame, pd.DataFrame, int]:
    """(model, matched edges ``a, b, rule, score``, pairs for review ``a, b, score, reason``,
    number of candidate pairs scored) from what :func:`_probabilistic` or
    :func:`score_pairs` scored (None: nothing scored; the model is then ``model`` or the
    configuration's starting one). A sixth element of ``scored`` is the number of pairs
    scored, when only some of them were kept."""
    prob_edges = pd.DataFrame({"a": [], "b": [], "rule": [], "score": []})
    possible = pd.DataFrame({"a": [], "b": [], "score": [], "reason": []})
    model = model or fs.starting_model(config)
    n_candidates = 0
    if scored is not None:
        model, pa, pb, probability, held = scored[:5]
        n_candidates = scored[5] if len(scored) > 5 else len(pa)
        prob = config.probabilistic
        match = (probability >= prob.match_probability) & (held == 0)
        prob_edges = pd.DataFrame({"a": pa[match], "b": pb[match], "rule": "probabilistic"})
        prob_edges["score"] = probability[match]
        # the review list: probable pairs that a rule held back, and pairs in the band, but not
        # pairs with too little evidence (a name and a town: homonyms by the thousand)
        band = ~match & (probability >= prob.review_probability) & (held != 2)
        reasons = np.array(["below_threshold", *fs.HELD[1:]], dtype=object)
        possible = pd.DataFrame(
            {
                "a": pa[band],
                "b": pb[band],
                "score": probability[band],
                "reason": reasons[held[band]],
            }
        )
    return model, prob_edges, possible, n_candidates
