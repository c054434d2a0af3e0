"""Stage 3a: candidate pairs for the probabilistic model, from blocking keys.

Records equal on every field of one key become candidate pairs; keys may use the derived
fields of :func:`blocking_fields` (phonetic codes, birth year, e-mail local part, phone
suffix, names in either order). Oversized blocks are skipped and reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import jellyfish
import numpy as np
import pandas as pd

from cdp import normalize as nz
from identity import compare as cmp
from identity.config import IdentityConfig
from identity.distinct import in_value_order, per_distinct
from identity.pairs import finding, sorted_unique


def blocking_fields(norm: pd.DataFrame) -> pd.DataFrame:
    """Derived keys that blocking may use besides the fields (see ``Probabilistic``), each
    derived once per distinct value of its field."""

    def sound(values: pd.Series) -> pd.Series:
        return nz._map_unique(values, lambda v: jellyfish.metaphone(v) or None)

    def text(derive):
        return lambda values: derive(values.astype("str"))

    return pd.DataFrame(
        {
            "first_name_sound": sound(norm["first_name"]),
            "last_name_sound": sound(norm["last_name"]),
            "birth_year": per_distinct(text(lambda v: v.str.slice(0, 4)), norm["birth_date"]),
            "email_local": per_distinct(
                text(lambda v: v.str.replace(r"@.*$", "", regex=True)), norm["email"]
            ),
            "phone_last8": per_distinct(text(lambda v: v.str.slice(-8)), norm["phone"]),
        },
        index=norm.index,
    )


#: the record field a derived blocking field is read from
BASE_FIELD = {
    "first_name_sound": ("first_name",),
    "last_name_sound": ("last_name",),
    "birth_year": ("birth_date",),
    "email_local": ("email",),
    "phone_last8": ("phone",),
    "names_any_order": ("first_name", "last_name"),
}


class _ColumnCodes:
    """Integer codes (-1: missing) and value hashes of the record fields, each factorised
    once for all the keys that read it (joining the fields of each key as text and
    factorising that took most of the blocking stage); a field the comparisons coded
    already (``coded``) is not factorised again."""

    def __init__(self, norm: pd.DataFrame, coded: dict[str, cmp.Coded] | None = None):
        self.norm = norm
        self.coded = coded or {}
        self.done: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.values: dict[str, np.ndarray] = {}

    def __call__(self, col: str) -> tuple[np.ndarray, np.ndarray]:
        if col not in self.done:
            if col in self.coded:
                codes, values = self.coded[col].codes[col], self.coded[col].uniques
            else:
                codes, uniques = pd.factorize(self.norm[col])
                values = np.asarray(uniques, dtype=object).astype(str).astype(object)
            hashes = pd.util.hash_array(values) if len(values) else np.empty(0, np.uint64)
            self.done[col] = (codes.astype(np.int64), hashes)
            self.values[col] = values
        return self.done[col]

    def sorted_codes(self, col: str) -> np.ndarray:
        """Codes in the order of the values (-1: missing), the values sorted once."""
        codes, _ = self(col)
        return in_value_order(codes, self.values[col])[0]


def _key_codes(
    columns: _ColumnCodes, cols: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(records carrying every field of the key, their block code, a record of each block,
    a hash of each block's values)."""
    parts = [columns(c) for c in cols]
    present = np.logical_and.reduce([codes >= 0 for codes, _ in parts])
    recs = np.flatnonzero(present)
    combined = parts[0][0][recs]
    for codes, hashes in parts[1:]:
        combined, _ = pd.factorize(combined * (len(hashes) + 1) + codes[recs])
    block, _ = pd.factorize(combined)
    block = block.astype(np.int64)
    first = np.full(int(block.max()) + 1 if len(block) else 0, len(recs), dtype=np.int64)
    np.minimum.at(first, block, np.arange(len(recs)))
    rep = recs[first]
    with np.errstate(over="ignore"):
        hashed = np.zeros(len(rep), dtype=np.uint64)
        for codes, hashes in parts:
            hashed = hashed * np.uint64(1_000_003) + hashes[codes[rep]]
    return recs, block, rep, hashed.view(np.int64)


def key_fields(config: IdentityConfig) -> list[list[int]]:
    """The comparisons each blocking key reads (by their index in ``comparisons``).

    Candidate pairs were chosen for agreeing on their keys: on the pairs of one key, that
    key's fields are no evidence, which the EM has to know (see ``fellegi_sunter.fit``).
    """
    col_of = {c.field: i for i, c in enumerate(config.probabilistic.comparisons)}
    return [
        sorted({col_of[f] for c in key for f in BASE_FIELD.get(c, (c,)) if f in col_of})
        for key in config.probabilistic.blocking_keys
    ]


#: the neighbourhood order of the records inside a block larger than ``block_window``: by
#: these fields in turn (the key's own fields are equal there), so that the records of one
#: person, which agree on some of them, sit next to each other
NEIGHBOURHOOD = ("birth_date", "email", "last_name", "first_name", "postcode", "street", "phone",
                 "city", "personal_id")  # fmt: skip


@dataclass
class Blocks:
    """Per blocking key: each record's block code (-1: a field of the key missing), whether
    each block is used (2 to ``max_block_size`` records) and a hash of each block's value
    (the blocks skipped as oversized are kept by hash for the next incremental run). With a
    ``window``, each record's place in the neighbourhood order (``rank``)."""

    names: list[str]
    codes: list[np.ndarray]
    usable: list[np.ndarray]
    hashes: list[np.ndarray]
    oversized: list[np.ndarray]
    window: int | None = None
    rank: np.ndarray | None = None

    def members(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(records in a used block of key ``k``, their block codes)."""
        code = self.codes[k]
        recs = np.flatnonzero(code >= 0)
        recs = recs[self.usable[k][code[recs]]]
        return recs, code[recs]


def block_codes(
    norm: pd.DataFrame,
    config: IdentityConfig,
    report: list[dict],
    coded: dict[str, cmp.Coded] | None = None,
) -> Blocks:
    """The blocks of every blocking key; oversized blocks are reported (and not used).
    ``coded``: the comparisons' codes of the fields (read instead of factorising again)."""
    n = len(norm)
    prob = config.probabilistic
    blocks = Blocks([], [], [], [], [])
    columns = _ColumnCodes(norm, coded)
    for key in prob.blocking_keys:
        cols = list(key)
        recs, codes, rep, hashed = _key_codes(columns, cols)
        per_record = np.full(n, -1, dtype=np.int32)  # 4 bytes a record and key
        per_record[recs] = codes
        size = np.bincount(codes, minlength=len(rep))
        over = np.flatnonzero(size > prob.max_block_size)
        if len(over):
            report.append(
                finding(
                    "block_size_cap",
                    len(over),
                    f"{len(over)} blocks over max_block_size {prob.max_block_size} "
                    f"skipped ({int(size[over].sum())} records); largest: "
                    + ", ".join(
                        "|".join(str(norm[c].iat[rep[b]]) for c in cols) + f" ({size[b]})"
                        for b in over[np.argsort(-size[over], kind="stable")][:5]
                    ),
                    rule="probabilistic",
                    id_type="+".join(cols),
                )
            )
        blocks.names.append("+".join(cols))
        blocks.codes.append(per_record)
        blocks.usable.append((size >= 2) & (size <= prob.max_block_size))
        blocks.hashes.append(hashed)
        blocks.oversized.append(over)
    if prob.block_window is not None:
        blocks.window = prob.block_window
        blocks.rank = neighbourhood_rank(norm, columns)
    return blocks


def neighbourhood_rank(norm: pd.DataFrame, columns: _ColumnCodes | None = None) -> np.ndarray:
    """Each record's place when the records are sorted by the values of ``NEIGHBOURHOOD``
    (missing values first, ties in record order)."""
    columns = columns or _ColumnCodes(norm)
    keys = [columns.sorted_codes(f) for f in reversed(NEIGHBOURHOOD) if f in norm.columns]
    order = np.lexsort(keys) if keys else np.arange(len(norm))
    rank = np.empty(len(norm), dtype=np.int64)
    rank[order] = np.arange(len(norm))
    return rank


def still_candidates(blocks: Blocks, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Are the pairs ``a, b`` equal on some blocking key whose block is used?"""
    out = np.zeros(len(a), dtype=bool)
    for k in range(len(blocks.codes)):
        ca, cb = blocks.codes[k][a], blocks.codes[k][b]
        same = (ca >= 0) & (ca == cb)
        out[same] |= blocks.usable[k][ca[same]]
    return out


def encode_pairs(parts: list[np.ndarray], n: int) -> np.ndarray:
    """Unique pairs ``a * n + b`` (a < b) of the ``(a, b)`` arrays in ``parts``, a != b."""
    encoded = [
        np.minimum(a, b) * n + np.maximum(a, b)
        for a, b in zip(parts[::2], parts[1::2], strict=True)
    ]
    if not encoded:
        return np.empty(0, np.int64)
    allpairs = np.concatenate(encoded)
    allpairs = allpairs[allpairs // n != allpairs % n]
    return sorted_unique(allpairs)
