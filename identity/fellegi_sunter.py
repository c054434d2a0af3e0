"""The Fellegi-Sunter model of the probabilistic stage, estimated from the data on every run.

Every candidate pair gets one level per comparison (``levels``). The model then has, per level,
``m`` = P(level | same person) and ``u`` = P(level | different persons), and a prior share of
matches among the candidate pairs (``prior``):

* ``u`` comes from random record pairs, which are almost all different persons (``fit_u``);
* ``m`` and the prior come from expectation-maximisation on the candidate pairs with ``u`` held
  (``fit``). The YAML values start the iteration and act as a Dirichlet prior worth
  ``estimation.prior_pairs`` pairs, so no level is driven to 0 or 1 by a small file;
* a pair's match weight is the sum of its levels' ``log2(m/u)``, with ``u`` replaced by the
  agreed value's share on term-frequency levels (``term_frequency_u``), and its match
  probability is the posterior under the prior.

The EM works on the distinct level patterns (a few thousand) weighted by their counts, not on
the millions of pairs, so it takes milliseconds.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd

from identity import compare as cmp
from identity.config import ComparisonLevel, IdentityConfig
from identity.em import exact_weighs_most, fit_u, m_of_joined, run_em

NAME_FIELDS = ("first_name", "last_name")
#: Why a pair is held for review whatever its probability (index = the code :func:`score` gives).
HELD = (
    "",
    "review_level",
    "too_little_evidence",
    "personal_fields_differ",
    "namesakes_at_one_address",
    "contradicted",
    "inexact_evidence",
)
#: Fields that count as one piece of evidence for ``min_agreeing_fields``: a name is a first
#: and a last name, a place is a postcode and its city (agreeing on both is one fact).
EVIDENCE_GROUPS = {"first_name": "name", "last_name": "name", "postcode": "place", "city": "place"}


@dataclass
class LevelParams:
    name: str
    m: float
    u: float
    review: str
    fixed: bool

    @property
    def weight(self) -> float:
        return math.log2(self.m / self.u)


@dataclass
class FittedModel:
    """What one run estimated: saved as JSON, shown in Dagster and by ``cdp resolve --explain``."""

    prior: float
    comparisons: dict[str, list[LevelParams]]
    candidate_pairs: int
    u_sample_pairs: int
    iterations: int
    converged: bool
    estimated: bool
    #: share of full namesakes at one home whose personal fields disagree (set by ``score``)
    namesake_rate: float | None = None
    namesake_pairs: int = 0
    #: share of pairs at one home under one last name but another first name whose personal
    #: fields are known and disagree: households (high) or first names mistyped (low)
    housemate_rate: float | None = None
    housemate_pairs: int = 0
    #: pieces of evidence a pair needs: ``min_agreeing_fields``, or fewer when the file
    #: itself carries fewer (a file of names and birth dates offers two)
    evidence_required: int | None = None
    #: candidate pairs that anchored the EM as known matches: deterministic links, or, in a
    #: file with too few of them, pairs equal on every field they both have
    anchor_pairs: int = 0
    #: records resolved: with ``candidate_pairs`` and ``prior``, the expected duplicates of a
    #: record, which weighs a slip in a file with little evidence (see :func:`score`)
    records: int = 0
    #: per term-frequency field: (records per value, for values held by at least
    #: ``term_frequency_min_count`` records; records with a value), counted when the model was
    #: fitted and kept with it, so a pair scores the same in every run that uses this model
    term_frequencies: dict[str, tuple[pd.Series, int]] | None = None
    #: parameters read from a saved model: :func:`score` keeps its namesake rate
    frozen: bool = False

    def as_dict(self) -> dict:
        return {
            "prior": self.prior,
            "candidate_pairs": self.candidate_pairs,
            "u_sample_pairs": self.u_sample_pairs,
            "iterations": self.iterations,
            "converged": self.converged,
            "estimated": self.estimated,
            "namesake_rate": self.namesake_rate,
            "namesake_pairs": self.namesake_pairs,
            "housemate_rate": self.housemate_rate,
            "housemate_pairs": self.housemate_pairs,
            "evidence_required": self.evidence_required,
            "anchor_pairs": self.anchor_pairs,
            "records": self.records,
            "comparisons": {
                f: [{**asdict(lv), "weight": round(lv.weight, 3)} for lv in levels]
                for f, levels in self.comparisons.items()
            },
        }


def model_from_dict(saved: dict, config: IdentityConfig) -> FittedModel:
    """A model saved by :meth:`FittedModel.as_dict`, frozen, for scoring under ``config``.

    Raises ValueError when its comparisons or levels are not the configuration's (the config
    changed since it was fitted: the caller resolves in full instead).
    """
    comps = {}
    for c in config.probabilistic.comparisons:
        levels_saved = saved["comparisons"].get(c.field)
        if levels_saved is None or [lv["name"] for lv in levels_saved] != [
            lv.name for lv in c.levels
        ]:
            raise ValueError(f"saved model: the levels of {c.field!r} are not the config's")
        comps[c.field] = [
            LevelParams(lv.name, float(s["m"]), float(s["u"]), lv.review, lv.fixed)
            for lv, s in zip(c.levels, levels_saved, strict=True)
        ]
    if set(saved["comparisons"]) != set(comps):
        raise ValueError("saved model: its comparisons are not the config's")
    # every other field as saved (a field added to the model later is read back by name)
    scalars = {f.name for f in fields(FittedModel)} - {"comparisons", "term_frequencies", "frozen"}
    return FittedModel(
        comparisons=comps, frozen=True, **{k: saved[k] for k in scalars if k in saved}
    )


def starting_model(config: IdentityConfig) -> FittedModel:
    """The YAML values as a model (what ``estimation.enabled: false`` uses)."""
    comps = {
        c.field: [LevelParams(lv.name, lv.m, lv.u, lv.review, lv.fixed) for lv in c.levels]
        for c in config.probabilistic.comparisons
    }
    return FittedModel(0.1, comps, 0, 0, 0, True, False)


# ---------------------------------------------------------------------------------------------
# levels of record pairs
# ---------------------------------------------------------------------------------------------
def _weights_of(levels: list[LevelParams], idx: np.ndarray) -> np.ndarray:
    w = np.array([lv.weight for lv in levels] + [0.0])
    return w[idx]


def levels(
    coded: dict[str, cmp.Coded],
    a: np.ndarray,
    b: np.ndarray,
    config: IdentityConfig,
    model: FittedModel,
) -> np.ndarray:
    """Level index per pair and comparison (``len(a) x comparisons``, -1 = a value missing).

    First and last names are also compared crossed (they are swapped in some sources); a
    pair keeps the orientation with the larger weight under ``model``, unless the crossed
    one lands on a review level.
    """
    prob = config.probabilistic
    comps = prob.comparisons
    out = np.full((len(a), len(comps)), -1, dtype=np.int16)
    col_of = {c.field: i for i, c in enumerate(comps)}
    for i, comp in enumerate(comps):
        if comp.field in NAME_FIELDS:
            continue
        c = coded[comp.field]
        col = c.codes[comp.field]
        out[:, i] = cmp.level_index(comp.levels, col[a], col[b], c.space)
    names = [f for f in NAME_FIELDS if f in col_of]
    if not names:
        return out
    coded_names = coded["first_name"]
    for f in names:
        col = coded_names.codes[f]
        out[:, col_of[f]] = cmp.level_index(
            comps[col_of[f]].levels, col[a], col[b], coded_names.space
        )
    if prob.compare_swapped_names and len(names) == 2 and len(a):
        first, last = coded_names.codes["first_name"], coded_names.codes["last_name"]
        fi, li = col_of["first_name"], col_of["last_name"]
        cross_f = cmp.level_index(comps[fi].levels, first[a], last[b], coded_names.space)
        cross_l = cmp.level_index(comps[li].levels, last[a], first[b], coded_names.space)
        fl, ll = model.comparisons["first_name"], model.comparisons["last_name"]
        straight_w = _weights_of(fl, out[:, fi]) + _weights_of(ll, out[:, li])
        cross_w = _weights_of(fl, cross_f) + _weights_of(ll, cross_l)
        review_f = np.array([lv.review != "no" for lv in fl] + [False])
        review_l = np.array([lv.review != "no" for lv in ll] + [False])
        better = (cross_w > straight_w) & ~review_f[cross_f] & ~review_l[cross_l]
        out[better, fi] = cross_f[better]
        out[better, li] = cross_l[better]
    return out


def random_pairs(n: int, size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``size`` random distinct record pairs, or every pair when there are fewer."""
    total = n * (n - 1) // 2
    if total <= size:
        a, b = np.triu_indices(n, k=1)
        return a.astype(np.int64), b.astype(np.int64)
    rng = np.random.default_rng(seed)
    a = rng.integers(0, n, size=size, dtype=np.int64)
    b = rng.integers(0, n, size=size, dtype=np.int64)
    keep = a != b
    return a[keep], b[keep]


def _unit(field: str) -> str:
    return EVIDENCE_GROUPS.get(field, field)


def evidence_units(coded: dict[str, cmp.Coded], config: IdentityConfig) -> int:
    """Pieces of evidence this file can offer: the compared fields (e-mail and phone aside,
    they are the deterministic rules' business) that at least ``evidence_min_fill`` of the
    records carry, a name and a place counting once each."""
    prob = config.probabilistic
    units = set()
    for comp in prob.comparisons:
        if comp.levels[0].fixed or comp.field not in coded:
            continue
        col = coded[comp.field].codes[comp.field]
        if len(col) and (col >= 0).mean() >= prob.evidence_min_fill:
            units.add(_unit(comp.field))
    return len(units)


def exact_anchor(g: np.ndarray, config: IdentityConfig, required: int) -> np.ndarray:
    """Pairs equal on every compared field they both have, on at least ``required`` pieces
    of evidence, none of them on a review level: near-certain matches that anchor the EM of a
    file without shared identifiers (with no anchor, the EM may take the largest class of
    candidate pairs, homonyms of a name block, for the matches)."""
    comps = config.probabilistic.comparisons
    ok = np.ones(len(g), dtype=bool)
    units: dict[str, np.ndarray] = {}
    for i, comp in enumerate(comps):
        level = g[:, i]
        ok &= level <= 0
        if not comp.levels[0].fixed:
            unit = _unit(comp.field)
            units[unit] = units.get(unit, np.zeros(len(g), dtype=bool)) | (level == 0)
    agreeing = sum(hit.astype(np.int16) for hit in units.values())
    return ok & (agreeing >= required)


# ---------------------------------------------------------------------------------------------
# estimation
# ---------------------------------------------------------------------------------------------
def fit(
    candidate_levels: np.ndarray,
    random_levels: np.ndarray,
    config: IdentityConfig,
    known: np.ndarray | None = None,
    blocked: tuple[np.ndarray, list[list[int]]] | None = None,
    joined: np.ndarray | None = None,
    counts: np.ndarray | None = None,
) -> FittedModel:
    """m, u and the prior share of matches among candidate pairs (EM with u held).

    ``known`` marks candidate pairs already joined by the deterministic rules: they are
    matches with probability 1 in every iteration (semi-supervised EM), which anchors m to
    what a match looks like in this data rather than to whatever class is largest (a
    household shares a last name and an address, too). The prior is the share of matches
    among the other candidate pairs, the ones the model scores.

    ``joined`` (default ``known``): the known pairs that the model does not score (already
    joined by the deterministic rules), left out of the prior; other known pairs (anchors
    equal on every field) count in it as matches.

    ``blocked`` (pairs x blocking keys: equal on the key?, with the comparisons each key reads,
    :func:`identity.blocking.key_fields`) estimates m as Splink does: one EM per blocking key on the
    pairs equal on it, with the key's own fields left out (they agree by selection, not by
    evidence), each field's m then averaged over the keys that do not read it, weighted by
    pairs. The prior is the mean over the candidate pairs of their match probability in the
    passes of the keys they agree on. A file with fewer than ``min_pass_pairs`` candidate
    pairs gets the plain EM on every field.

    ``counts``: each row (of every argument) stands for that many candidate pairs (the
    distinct rows of the pairs, in the order they first appear, as the engine counts them
    chunk by chunk; the EM then gives what it gives on the pairs themselves).
    """
    if known is None:
        known = np.zeros(len(candidate_levels), dtype=bool)
    if counts is None:
        counts = np.ones(len(candidate_levels))
    comps = config.probabilistic.comparisons
    u = fit_u(random_levels, comps, config.probabilistic.estimation.u_prior_pairs)
    iterations, converged = 0, True
    total = int(counts.sum())
    if blocked is None or total < config.probabilistic.estimation.min_pass_pairs:
        m, prior, iterations, converged, _ = run_em(
            candidate_levels, known, u, config, None, counts
        )
    else:
        same_key, key_fields = blocked
        m_sum = [np.zeros(len(c.levels)) for c in comps]
        weight = np.zeros(len(comps))
        post_sum = np.zeros(len(candidate_levels))
        passes = np.zeros(len(candidate_levels))
        for k, fields in enumerate(key_fields):
            sel = same_key[:, k]
            if counts[sel].sum() < config.probabilistic.estimation.min_pass_pairs:
                continue
            gk = candidate_levels[sel].copy()
            gk[:, fields] = -1
            mk = m_of_joined(gk, sel, joined, counts, config)
            mk, _, it, conv, post = run_em(gk, known[sel], u, config, mk, counts[sel])
            iterations, converged = iterations + it, converged and conv
            post_sum[sel] += post
            passes[sel] += 1
            for i in range(len(comps)):
                if i in fields:
                    continue
                w = float(counts[sel][gk[:, i] >= 0].sum())
                m_sum[i] += w * mk[i]
                weight[i] += w
        m = [
            m_sum[i] / weight[i] if weight[i] else np.array([lv.m for lv in c.levels])
            for i, c in enumerate(comps)
        ]
        # the share of matches: each pair's probability in the passes of the keys it agrees
        # on (from the fields those keys did not choose it for), averaged
        scored = (passes > 0) & ~(known if joined is None else joined)
        if scored.any():
            share = float(np.average(post_sum[scored] / passes[scored], weights=counts[scored]))
            prior = float(np.clip(share, 1e-6, config.probabilistic.estimation.max_prior))
        else:
            _, prior, it, _, _ = run_em(candidate_levels, known, u, config, m, counts)
            iterations += it
    m = [exact_weighs_most(m[i], u[c.field], c) for i, c in enumerate(comps)]
    comparisons = {
        c.field: [
            LevelParams(lv.name, float(m[i][j]), float(u[c.field][j]), lv.review, lv.fixed)
            for j, lv in enumerate(c.levels)
        ]
        for i, c in enumerate(comps)
    }
    return FittedModel(
        prior=prior,
        comparisons=comparisons,
        candidate_pairs=total,
        u_sample_pairs=len(random_levels),
        iterations=iterations,
        converged=converged,
        estimated=True,
    )


# ---------------------------------------------------------------------------------------------
# scoring
# ---------------------------------------------------------------------------------------------
def _value_counts(
    c: cmp.Coded, field_name: str, model: FittedModel, min_count: int
) -> tuple[np.ndarray, int]:
    """(records per value of ``c.uniques``, records with a value) of one field: the model's
    own counts when it has them, else counted here and kept in the model. Values held by
    fewer than ``min_count`` records weigh as if unseen, so only the others are kept."""
    if model.term_frequencies is not None and field_name in model.term_frequencies:
        table, n_known = model.term_frequencies[field_name]
        counts = pd.Series(c.uniques).map(table).fillna(0.0).to_numpy(dtype=float)
        return counts, n_known
    col = c.codes[field_name]
    known = col[col >= 0]
    counts = np.bincount(known, minlength=len(c.uniques)).astype(float)
    n_known = max(len(known), 1)
    frequent = counts >= min_count
    if model.term_frequencies is None:
        model.term_frequencies = {}
    model.term_frequencies[field_name] = (
        pd.Series(counts[frequent], index=pd.Index(np.asarray(c.uniques)[frequent], dtype=object)),
        n_known,
    )
    return counts, n_known


def term_frequency_u(
    coded: dict[str, cmp.Coded], a: np.ndarray, g: np.ndarray, config: IdentityConfig,
    model: FittedModel,
) -> dict[int, np.ndarray]:  # fmt: skip
    """Per comparison with a term-frequency level: u of each pair on that level.

    u is the agreed value's share of the records that have one, floored at a tenth of the
    level's u; values held by fewer than ``term_frequency_min_count`` records never weigh
    less than the level's u (in a small file every value looks frequent).
    """
    prob = config.probabilistic
    out: dict[int, np.ndarray] = {}
    for i, comp in enumerate(prob.comparisons):
        for j, lv in enumerate(comp.levels):
            if not lv.term_frequency:
                continue
            c = coded[comp.field]
            col = c.codes[comp.field]
            counts, n_known = _value_counts(c, comp.field, model, prob.term_frequency_min_count)
            level_u = model.comparisons[comp.field][j].u
            share = np.maximum(counts, prob.term_frequency_min_count) / n_known
            high = np.where(counts >= prob.term_frequency_min_count, np.maximum(share, level_u),
                            level_u)  # fmt: skip
            value_u = np.minimum(np.maximum(share, level_u / 10), high)
            hit = g[:, i] == j
            pair_u = np.full(len(a), level_u)
            pair_u[hit] = value_u[col[a[hit]]]
            out[i] = pair_u
    return out


def _one_slip(level: ComparisonLevel) -> bool:
    """A level that means one keystroke: a date typo or one edit."""
    return level.kind == "date_typo" or (
        level.kind == "damerau_levenshtein" and level.max_distance == 1
    )


def _namesake_odds(
    model: FittedModel, config: IdentityConfig, tf_u: dict[int, np.ndarray], ratio: np.ndarray
) -> np.ndarray:
    """Odds that a namesake whose personal field shows one slip is the same person.

    Among the records that bear one full name, a record's duplicate competes with the
    strangers of that name: ``duplicates per record / expected namesakes x m/u of the slip``,
    the namesakes counted from the names' frequencies (``n x share(first) x share(last)``,
    at least one). A rare name with a mistyped birth date is one person; a common one may be
    another person born a few days apart.
    """
    comps = config.probabilistic.comparisons
    n = max(model.records, 1)
    namesakes = np.full(len(ratio), float(n))
    for i, comp in enumerate(comps):
        if comp.field in NAME_FIELDS:
            namesakes *= tf_u[i] if i in tf_u else model.comparisons[comp.field][0].u
    return _duplicates_per_record(model) / np.maximum(namesakes, 1.0) * ratio


def _near(level: ComparisonLevel) -> bool:
    """An exact value or one typo away (what a person's own records show)."""
    return level.kind == "exact" or (
        level.kind == "damerau_levenshtein" and level.max_distance == 1
    )


def _duplicates_per_record(model: FittedModel) -> float:
    """How many other records of its person a record has, on average (each pair: two)."""
    return 2 * model.prior * model.candidate_pairs / max(model.records, 1)


def _share(
    among: np.ndarray, hit: np.ndarray, weights: np.ndarray | None = None
) -> tuple[int, float | None]:
    """(pairs, share of them that ``hit``; None when there are none), each row counting
    ``weights`` pairs (default 1)."""
    if weights is None:
        n, hits = int(among.sum()), int((among & hit).sum())
    else:
        n, hits = int(weights[among].sum()), int(weights[among & hit].sum())
    return n, (float(hits / n) if n else None)


def _rare(rate: float | None, pairs: int, config: IdentityConfig) -> bool:
    """A rate of the file at most ``namesake_rate_max``, over ``namesake_min_pairs`` pairs."""
    prob = config.probabilistic
    return rate is not None and pairs >= prob.namesake_min_pairs and rate <= prob.namesake_rate_max


def namesakes_rare(model: FittedModel, config: IdentityConfig) -> bool:
    """Does this file show namesakes at one home to be rare? Of its pairs with one full name
    at one home whose personal fields are known, at most ``namesake_rate_max`` disagree,
    over at least ``namesake_min_pairs`` pairs (``model.namesake_rate``, set by :func:`score`).
    """
    return _rare(model.namesake_rate, model.namesake_pairs, config)


def score(
    g: np.ndarray,
    model: FittedModel,
    config: IdentityConfig,
    tf_u: dict[int, np.ndarray],
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(match weight in bits, match probability, why held: a ``HELD`` index, 0 = not held).
    ``weights``: the record pairs each row stands for (``identity/profiles.py``), in the
    file's namesake and housemate rates.

    A pair is held for review, whatever its probability:
    * when fewer than ``model.evidence_required`` fields agree (weigh more than one bit),
      first and last name counting as one and postcode and city as one: a name and a town are
      never enough, homonyms live there too (``min_agreeing_fields``, or fewer when the file
      carries fewer pieces of evidence, see :func:`evidence_units`);
    * when at least ``personal_disagreements`` of the ``personal_fields`` (fields a household
      does not share: birth date, e-mail, phone) differ and none agrees: namesakes at one
      address with their own e-mails and phones;
    * when last name, street and place agree but no personal field does: namesakes at one
      address (a father and his son, a mother and her daughter) look exactly like one person
      typed twice, and only a birth date, an e-mail or a phone tells them apart. Unless the
      file itself shows that namesakes at one home are rare: of the pairs with the same first
      and last name at one home whose personal fields are known on both sides, the share that
      disagree (``model.namesake_rate``, an upper bound: a mistyped birth date counts too) is
      at most ``namesake_rate_max`` over at least ``namesake_min_pairs`` pairs;
    * at one address (street and place agree) with no personal field agreeing, when the last
      names are more than one typo apart: housemates with close names share the home, not an
      identity (held under the same reason, whatever the file's namesake rate);
    * on an ``if_contradicted`` level, unless a personal field agrees and at most one other
      field differs (a first name replaced, or both names, at one address on one birth date)
      and the pair's weight reaches the match odds from the prior of two random records of
      the file, not only of the candidate pairs (a common first name, a birth date and a big
      city are a coincidence in a large file).
    Two pieces of evidence are enough when one is personal, no field differs and the weight
    reaches the odds from the prior of two random records; an e-mail or phone near miss is a
    piece. Where the file's namesake rate is low (:func:`namesakes_rare`), a personal field
    that differs is weighed, not held (``personal_fields_differ``, namesakes, a lone
    contradiction); where its housemate rate is low, one more field may differ.
    A personal field agrees when its weight reaches ``personal_min_weight`` bits: a birth date
    that a form fills in for thousands is not a fingerprint.
    E-mail and phone agreement weighs nothing here (``fixed``: it is the deterministic rules'
    business) and never counts as agreeing, but their disagreement counts.
    """
    comps = config.probabilistic.comparisons
    weight = np.zeros(len(g))
    always = np.zeros(len(g), dtype=bool)
    held = np.zeros(len(g), dtype=np.int16)
    held_names = np.zeros(len(g), dtype=np.int16)
    held_personal = np.zeros(len(g), dtype=np.int16)
    disagree = np.zeros(len(g), dtype=np.int16)
    agree = np.zeros(len(g), dtype=np.int16)
    grouped = {group: np.zeros(len(g), dtype=bool) for group in set(EVIDENCE_GROUPS.values())}
    personal = np.zeros(len(g), dtype=bool)
    personal_agree = np.zeros(len(g), dtype=np.int16)
    personal_disagree = np.zeros(len(g), dtype=np.int16)
    personal_fields = set(config.probabilistic.personal_fields)
    street_agrees = last_agrees = first_agrees = last_far = np.zeros(len(g), dtype=bool)
    first_held = np.zeros(len(g), dtype=bool)
    agree_exact = np.zeros(len(g), dtype=np.int16)
    personal_exact = np.zeros(len(g), dtype=bool)
    personal_slips = np.zeros(len(g), dtype=np.int16)
    slip_ratio = np.zeros(len(g))
    other_inexact = np.zeros(len(g), dtype=bool)
    grouped_exact = {group: np.zeros(len(g), dtype=bool) for group in grouped}
    for i, comp in enumerate(comps):
        params = model.comparisons[comp.field]
        w = np.array([lv.weight for lv in params] + [0.0])
        pair_w = w[g[:, i]]
        for j, level in enumerate(comp.levels):
            if level.term_frequency and i in tf_u:
                hit = g[:, i] == j
                pair_w[hit] = np.log2(params[j].m / tf_u[i][hit])
        weight += pair_w
        kinds = np.array([lv.review for lv in comp.levels] + ["no"])[g[:, i]]
        always |= kinds == "always"
        held += kinds == "if_contradicted"
        if comp.field in NAME_FIELDS:
            held_names += kinds == "if_contradicted"
        if comp.field == "first_name":
            first_held = kinds == "if_contradicted"
        if comp.field in personal_fields:
            held_personal += kinds == "if_contradicted"
        differs = g[:, i] == len(comp.levels) - 1
        disagree += differs & (kinds == "no")
        if comp.field in personal_fields:
            # in a small file every weight is small: a personal field agrees from
            # personal_min_weight bits, or from 3 bits under its own exact level's weight
            bar = max(1.0, min(config.probabilistic.personal_min_weight, params[0].weight - 3))
            agrees = pair_w >= bar
            personal |= agrees
            personal_exact |= agrees & (g[:, i] == 0)
            personal_agree += agrees
            personal_disagree += differs
            if len(comp.levels) > 1 and _one_slip(comp.levels[1]):
                slipped = agrees & (g[:, i] == 1)
                personal_slips += slipped
                slip_ratio[slipped] = params[1].m / params[1].u
        elif not comp.levels[0].fixed:
            other_inexact |= g[:, i] > 0
        if comp.levels[0].fixed:
            # the same e-mail or phone is the deterministic rules' business, but a near miss
            # (one typo, the same last digits) is evidence no rule has used: a piece of its own
            if comp.field in personal_fields:
                agree += agrees & (g[:, i] > 0)
            continue
        if comp.field == "street":
            street_agrees = pair_w > 1
        if comp.field == "last_name":
            last_agrees = pair_w > 1
            near = np.array([_near(lv) for lv in comp.levels] + [True])[g[:, i]]
            last_far = (g[:, i] >= 0) & ~near
        if comp.field == "first_name":
            first_agrees = g[:, i] == 0
        exact = (pair_w > 1) & (g[:, i] == 0)
        if comp.field in EVIDENCE_GROUPS:
            grouped[EVIDENCE_GROUPS[comp.field]] |= pair_w > 1
            grouped_exact[EVIDENCE_GROUPS[comp.field]] |= exact
        else:
            agree += pair_w > 1
            agree_exact += exact
    for group, hits in grouped.items():
        agree += hits
        agree_exact += grouped_exact[group]
    same_home = grouped["place"] & street_agrees & last_agrees
    required = model.evidence_required or config.probabilistic.min_agreeing_fields
    match_odds = config.probabilistic.match_probability / (
        1 - config.probabilistic.match_probability
    )
    # the match odds from the prior of two random records of the file, not only of the
    # candidate pairs: what a pair must reach on evidence rare in the whole file
    random_odds = max(_duplicates_per_record(model) / max(model.records, 1), 1e-300)
    rare_enough = weight + math.log2(random_odds) >= math.log2(match_odds)
    # two pieces of evidence, one of them personal (a birth date, a mistyped e-mail: a
    # fingerprint, not a town), nothing that differs, and a weight the whole file's prior
    # cannot explain by chance: a name and a birth date of one person in two sources
    fingerprint = (agree >= 2) & personal & (disagree == 0) & (personal_disagree == 0)
    too_few = (agree < required) & ~(fingerprint & (held == 0) & rare_enough)
    # in a file with fewer kinds of evidence than min_agreeing_fields, each must be exact (for
    # a name, one of its parts) and one must be personal: a common name and a mistyped birth
    # date go to review, and a name and a town are never enough
    # ... unless the only inexact piece is one slip of a personal field (a birth date with one
    # digit mistyped or day and month swapped), every other field is exact, and the name is
    # rare enough that none of its namesakes is likely to show that slip by chance
    one_slip = (personal_slips == 1) & ~personal_exact & ~other_inexact
    one_slip &= agree_exact >= required - 1
    one_slip &= _namesake_odds(model, config, tf_u, slip_ratio) >= match_odds
    inexact = (
        (required < config.probabilistic.min_agreeing_fields)
        & ((agree_exact < required) | ~personal_exact)
        & ~one_slip
    )
    known = personal | (personal_disagree > 0)
    told_apart = same_home & first_agrees & known
    at_home = same_home & first_held & known
    if not model.frozen:  # a saved model keeps the rates of the run that fitted it
        model.namesake_pairs, model.namesake_rate = _share(told_apart, ~personal, weights)
        model.housemate_pairs, model.housemate_rate = _share(at_home, ~personal, weights)
    rare_namesakes = namesakes_rare(model, config)
    strangers = (personal_disagree >= config.probabilistic.personal_disagreements) & (
        personal_disagree > personal_agree
    )
    # both names replaced (a name written in another order, a misfiled form) with the birth
    # date and everything else equal is one change, not two
    # ... and in a file without households (pairs at one home under one last name with
    # another first name rarely disagree on a personal field: a first name mistyped, not a
    # spouse), one more field that differs is a second typo, not another person; in a file
    # whose namesakes at one home are rare, a personal field that differs is weighed, not a
    # contradiction when it is the only one
    tolerated = int(_rare(model.housemate_rate, model.housemate_pairs, config))
    personal_ok = personal | (rare_namesakes & (held_personal == held))
    contradicted = (held > 0) & (
        ((held > 1) & (held > held_names)) | (disagree > tolerated) | ~personal_ok
    )
    if rare_namesakes:
        strangers[:] = False
    # a name that differs is outweighed only by evidence rare in the whole file, not just
    # among the candidate pairs: the pair's weight must reach the match odds from the prior
    # of two random records (a married name with a common first name, a birth date and a big
    # city is a coincidence at 100,000 customers)
    contradicted |= (held > 0) & ~rare_enough
    namesakes = same_home & ~personal
    # two people of one home whose last names are more than one typo apart (Léa Gerber and
    # Lena Weber, Isabelle Martin and Isabelle Marie): the home is what they share
    housemates = grouped["place"] & street_agrees & last_far & ~personal
    if rare_namesakes:
        namesakes[:] = False
    # the first reason that holds, in this order (0: none)
    reason = np.select(
        [always, too_few, strangers, namesakes | housemates, contradicted, inexact],
        [1, 2, 3, 4, 5, 6],
        default=0,
    ).astype(np.int8)
    prior_bits = math.log2(model.prior / (1 - model.prior))
    probability = 1.0 / (1.0 + np.exp2(-np.clip(weight + prior_bits, -200, 200)))
    return weight, probability, reason
