"""Candidate pairs generated, compared and scored chunk by chunk (stage 3 in bounded memory).

The blocking keys give a number of candidate pairs that grows with the square of the blocks'
sizes: 2.5 million at 100,000 customers, hundreds of millions at 1.4 million. The engine never
holds them at once. Records are cut into ranges, in record order, of about
:data:`PAIRS_PER_CHUNK` pairs each; a chunk holds every candidate pair whose smaller record is
in its range, so the chunks taken in order give the pairs in the order ``a * n + b`` of the
whole sorted list (what is summed over them adds up in the same order as before).

* pass 1 compares a chunk's pairs (``fellegi_sunter.levels``), keeps one integer per pair that
  the rules did not join (its row in the table of distinct level patterns, a few thousand), and
  counts the chunk into the EM's patterns (level pattern, blocking keys agreed on, joined by
  the deterministic rules, equal on every field): the EM then runs on those counts, as it ran
  on the pairs (``fellegi_sunter.fit`` with ``counts``);
* pass 2, with the fitted model, regenerates each chunk's pairs, scores them from their level
  pattern and keeps those that can be a link or a review pair (match probability at least the
  review band's). The file's namesake rate, which ``fellegi_sunter.score`` counts over every
  scored pair, is summed over the chunks and the kept pairs held again under it. Memory
  grows with the candidate pairs by two bytes a pair (the pattern numbers) and with the kept
  pairs, not with the candidate pairs' comparisons.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator

import numpy as np
import pandas as pd

from identity import compare as cmp
from identity import fellegi_sunter as fs
from identity.blocking import Blocks
from identity.config import IdentityConfig
from identity.pairs import sorted_unique

#: candidate pairs per chunk (before the pairs found by several keys are merged): the
#: working memory of stage 3 is about 200 bytes per pair of a chunk
PAIRS_PER_CHUNK = 1_000_000
#: the ``fellegi_sunter.HELD`` code of pairs held for too little evidence
TOO_LITTLE_EVIDENCE = fs.HELD.index("too_little_evidence")


class PairChunks:
    """The candidate pairs of ``blocks`` (used blocks only), by ranges of records.

    Per key, the records of the used blocks sorted by (block, place), the place being the
    record itself or, with a window, its rank in the neighbourhood order: a record's pairs of
    one key are the members after it in its block (or, in a block larger than the window, the
    ``window - 1`` members on either side of it). Each record's position in that order and
    each block's first and last positions are kept, so a chunk finds its partners by
    lookups, not binary searches. No pair is materialised before its chunk is asked for.
    """

    def __init__(
        self,
        blocks: Blocks,
        groups: np.ndarray | None = None,
        pairs_per_chunk: int | None = None,
        only: np.ndarray | None = None,
    ):
        """``only``: the records that take part (a mask; default all), in blocks whose use
        was decided on all of them."""
        pairs_per_chunk = pairs_per_chunk or PAIRS_PER_CHUNK
        self.blocks = blocks
        self.only = only
        self.n = n = len(blocks.codes[0]) if blocks.codes else 0
        self.groups = groups
        self.window = blocks.window
        self.rank = blocks.rank if blocks.window is not None else None
        self.record_at = None
        if self.rank is not None:
            self.record_at = np.empty(n, dtype=np.int64)
            self.record_at[self.rank] = np.arange(n)
        small = np.int32 if n < 2**31 else np.int64
        #: per key: the place of each member in (block, place) order, the position of each
        #: place in that order, and the first and the end positions of each block
        self.member_place: list[np.ndarray] = []
        self.position: list[np.ndarray] = []
        self.block_start: list[np.ndarray] = []
        self.block_end: list[np.ndarray] = []
        later = np.zeros(n, dtype=np.int64)  # pairs each record starts (repeats across keys)
        for k in range(len(blocks.codes)):
            recs, codes = blocks.members(k)
            if only is not None:
                recs, codes = recs[only[recs]], codes[only[recs]]
            place = recs if self.rank is None else self.rank[recs]
            members = np.sort(codes.astype(np.int64) * n + place)
            block, member_place = members // n, (members % n).astype(small)
            position = np.full(n, -1, dtype=small)
            position[member_place] = np.arange(len(members), dtype=small)
            new = np.flatnonzero(np.concatenate(([True], block[1:] != block[:-1])))[: len(block)]
            first_of = np.zeros(len(blocks.usable[k]), dtype=small)
            end_of = np.zeros(len(blocks.usable[k]), dtype=small)
            first_of[block[new]] = new
            end_of[block[new]] = np.append(new[1:], len(members))
            self.member_place.append(member_place)
            self.position.append(position)
            self.block_start.append(first_of)
            self.block_end.append(end_of)
            begin, end = self._span(k, block, member_place)
            here = member_place if self.record_at is None else self.record_at[member_place]
            # a pair is counted from both of its records in a window: half each
            later[here] += (end - begin - 1) // (1 if self.window is None else 2)
        cumulative = np.cumsum(later)
        total = int(cumulative[-1]) if n else 0
        cuts = np.searchsorted(
            cumulative, np.arange(pairs_per_chunk, total, pairs_per_chunk), side="right"
        )
        self.bounds = np.unique(np.concatenate(([0], cuts, [n]))).tolist()

    def _span(self, k: int, block: np.ndarray, place: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The positions ``begin..end-1`` (in key ``k``'s member order) of the partners of
        the members at ``place`` in ``block``, their own position included (``begin``,
        without a window)."""
        at = self.position[k][place].astype(np.int64)
        end = self.block_end[k][block].astype(np.int64)
        if self.window is None:
            return at, end
        start = self.block_start[k][block].astype(np.int64)
        return np.maximum(start, at - self.window + 1), np.minimum(end, at + self.window)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Each chunk's unique pairs ``(a, b)``, a < b, sorted by ``a * n + b``."""
        for lo, hi in zip(self.bounds[:-1], self.bounds[1:], strict=True):
            yield self.pairs(lo, hi)

    def pairs(self, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        """The unique candidate pairs whose smaller record is in ``lo..hi-1``."""
        n = self.n
        parts = []
        for k, member_place in enumerate(self.member_place):
            code = self.blocks.codes[k][lo:hi]
            inside = np.flatnonzero(code >= 0)
            inside = inside[self.blocks.usable[k][code[inside]]]
            if self.only is not None:
                inside = inside[self.only[lo + inside]]
            a = lo + inside
            place = a if self.rank is None else self.rank[a]
            begin, end = self._span(k, code[inside], place)
            count = end - begin
            total = int(count.sum())
            if total == 0:
                continue
            offsets = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
            b = member_place[np.repeat(begin, count) + offsets].astype(np.int64)
            if self.record_at is not None:
                b = self.record_at[b]
            a = np.repeat(a, count)
            later = b > a  # each pair from its smaller record (and not the record itself)
            parts.append(a[later] * n + b[later])
        if not parts:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        pairs = sorted_unique(np.concatenate(parts))
        pa, pb = pairs // n, pairs % n
        if self.groups is not None:
            other = self.groups[pa] != self.groups[pb]
            pa, pb = pa[other], pb[other]
        return pa, pb


class _Distinct:
    """Distinct int64 keys in the order they first appear, with how often each appeared."""

    def __init__(self) -> None:
        self.index = pd.Index(np.empty(0, np.int64))
        self.counts = np.zeros(0)

    def add(self, keys: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Count ``keys`` in (each ``weights`` times, default once); the row of each key."""
        codes, uniques = pd.factorize(keys)
        rows = self.index.get_indexer(uniques)
        new = np.flatnonzero(rows < 0)
        if len(new):
            rows[new] = len(self.index) + np.arange(len(new))
            self.index = self.index.append(pd.Index(uniques[new]))
            self.counts = np.concatenate([self.counts, np.zeros(len(new))])
        self.counts += np.bincount(rows[codes], weights=weights, minlength=len(self.index))
        return rows[codes]


class LevelPatterns:
    """The distinct level patterns (rows of ``fellegi_sunter.levels``) of the pairs seen."""

    def __init__(self, config: IdentityConfig):
        comps = config.probabilistic.comparisons
        self.bits = max(len(c.levels) for c in comps).bit_length() + 1 if comps else 1
        if self.bits * len(comps) > 62:
            raise ValueError("identity config: too many comparison levels to encode a pattern")
        self.width = len(comps)
        self.table = _Distinct()
        self.rows: list[np.ndarray] = []

    def add(self, g: np.ndarray) -> np.ndarray:
        """The pattern number of each row of ``g``."""
        key = np.zeros(len(g), dtype=np.int64)
        for j in range(self.width):
            key = (key << self.bits) | (g[:, j].astype(np.int64) + 1)
        before = len(self.table.index)
        rows = self.table.add(key)
        if len(self.table.index) > before:
            fresh = np.flatnonzero(rows >= before)
            _, first = np.unique(rows[fresh], return_index=True)
            self.rows.append(g[fresh[first]])
        return rows

    def levels(self, rows: np.ndarray) -> np.ndarray:
        """The level pattern of each pattern number."""
        table = np.concatenate(self.rows) if self.rows else np.zeros((0, self.width), np.int16)
        return table[rows]


def _compact(rows: np.ndarray) -> np.ndarray:
    """Pattern numbers in the smallest unsigned type that holds them (kept per pair)."""
    return rows.astype(np.uint16 if len(rows) == 0 or rows.max() < 2**16 else np.uint32)


def key_mask(blocks: Blocks, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bit ``k`` set when the pair is equal on blocking key ``k`` (used block or not)."""
    mask = np.zeros(len(a), dtype=np.int64)
    for k, code in enumerate(blocks.codes):
        ca = code[a]
        mask |= ((ca >= 0) & (ca == code[b])).astype(np.int64) << k
    return mask


@dataclasses.dataclass
class Compared:
    """What pass 1 leaves: the level pattern of every pair the rules did not join (per chunk),
    the EM's pattern counts and the number of candidate pairs."""

    patterns: LevelPatterns
    fresh_rows: list[np.ndarray]
    em: _Distinct
    candidates: int
    joined: int
    #: the record pairs the rules did not join (those scored)
    fresh: int = 0


def compare_chunks(
    chunks: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]],
    coded: dict[str, cmp.Coded],
    det_labels: np.ndarray,
    config: IdentityConfig,
    blocks: Blocks,
    required: int,
    estimate: bool,
) -> Compared:
    """Pass 1: levels of every candidate pair (orientation of crossed names under the
    configuration's weights), counted for the EM when ``estimate``. ``chunks`` gives pairs
    ``(a, b)`` with the record pairs each stands for (``identity/profiles.py``)."""
    start = fs.starting_model(config)
    patterns = LevelPatterns(config)
    em = _Distinct()
    n_keys = len(blocks.codes)
    if n_keys > 40:
        raise ValueError("identity config: more than 40 blocking keys")
    fresh_rows: list[np.ndarray] = []
    candidates = joined_count = fresh_count = 0
    for pa, pb, weight in chunks:
        joined = det_labels[pa] == det_labels[pb]
        candidates += int(weight.sum())
        joined_count += int(weight[joined].sum())
        fresh_count += int(weight[~joined].sum())
        if not estimate:  # only the pairs to score are compared
            pa, pb, weight = pa[~joined], pb[~joined], weight[~joined]
            joined = joined[~joined]
        g = fs.levels(coded, pa, pb, config, start)
        rows = patterns.add(g)
        fresh_rows.append(_compact(rows[~joined]))
        if estimate:
            anchor = fs.exact_anchor(g, config, required)
            key = (rows.astype(np.int64) << (n_keys + 2)) | (key_mask(blocks, pa, pb) << 2)
            em.add(key | (joined.astype(np.int64) << 1) | anchor.astype(np.int64), weight)
    return Compared(patterns, fresh_rows, em, candidates, joined_count, fresh_count)


def fit_counted(
    compared: Compared,
    random_levels: np.ndarray,
    config: IdentityConfig,
    key_fields: list[list[int]],
) -> tuple[fs.FittedModel, int]:
    """The model fitted on the EM's pattern counts (as ``fellegi_sunter.fit`` on the pairs),
    and the number of pairs that anchored it."""
    est = config.probabilistic.estimation
    n_keys = len(key_fields)
    keys = compared.em.index.to_numpy(dtype=np.int64)
    counts = compared.em.counts
    joined = ((keys >> 1) & 1).astype(bool)
    anchors = joined
    if compared.joined < est.min_anchor_pairs and compared.candidates >= est.min_pass_pairs:
        anchors = joined | (keys & 1).astype(bool)
    mask = keys >> 2
    same_key = ((mask[:, None] >> np.arange(n_keys)) & 1).astype(bool)
    g = compared.patterns.levels(keys >> (n_keys + 2))
    model = fs.fit(
        g, random_levels, config, known=anchors, blocked=(same_key, key_fields), joined=joined,
        counts=counts,
    )  # fmt: skip
    return model, int(counts[anchors].sum())


def score_chunks(
    chunks: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]],
    compared: Compared,
    coded: dict[str, cmp.Coded],
    det_labels: np.ndarray,
    config: IdentityConfig,
    model: fs.FittedModel,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pass 2: (a, b, match probability, why held) of the pairs the rules did not join whose
    probability reaches the review band or the match threshold and that are not held for too
    little evidence; the others cannot be a link or a review pair. The model's namesake and
    housemate rates are counted over every pair scored, as ``fellegi_sunter.score`` counts them
    on all of them at once."""
    prob = config.probabilistic
    floor = min(prob.review_probability, prob.match_probability)
    kept: list[tuple[np.ndarray, ...]] = []
    # the file's rates (namesakes, housemates): (pairs, those that disagree) summed over chunks
    rates = {"namesake": [0, 0], "housemate": [0, 0]}
    for (pa, pb, weight), rows in zip(chunks, compared.fresh_rows, strict=True):
        fresh = det_labels[pa] != det_labels[pb]
        pa, pb = pa[fresh], pb[fresh]
        g = compared.patterns.levels(rows)
        tf_u = fs.term_frequency_u(coded, pa, g, config, model)
        part = dataclasses.replace(model)  # score counts this chunk's namesakes on it
        _weight, probability, held = fs.score(g, part, config, tf_u, weight[fresh])
        for name, counted in rates.items():
            n, rate = getattr(part, f"{name}_pairs"), getattr(part, f"{name}_rate")
            if not model.frozen and n:
                counted[0] += n
                counted[1] += round(rate * n)
        # held for too little evidence: never a link nor a review pair, whatever the file's
        # namesake rate (that reason comes before the namesakes' in ``score``)
        keep = (probability >= floor) & (held != TOO_LITTLE_EVIDENCE)
        kept.append((pa[keep], pb[keep], probability[keep], held[keep], rows[keep]))
    pa, pb, probability, held, rows = (
        (np.concatenate(column) for column in zip(*kept, strict=True))
        if kept
        else (np.empty(0, np.int64),) * 2 + (np.empty(0),) + (np.empty(0, np.int8),) * 2
    )
    if model.frozen:
        return pa, pb, probability, held
    for name, (pairs, told) in rates.items():
        setattr(model, f"{name}_pairs", pairs)
        setattr(model, f"{name}_rate", float(told / pairs) if pairs else None)
    # the kept pairs held again under the rate of the whole file
    g = compared.patterns.levels(rows.astype(np.int64))
    tf_u = fs.term_frequency_u(coded, pa, g, config, model)
    model.frozen = True
    try:
        _weight, probability, held = fs.score(g, model, config, tf_u)
    finally:
        model.frozen = False
    return pa, pb, probability, held
