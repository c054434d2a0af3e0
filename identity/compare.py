"""Pairwise comparisons on integer-coded fields, computed once per distinct value pair.

Every field is factorised once into per-record integer codes (-1 = missing) and its distinct
values. A comparison of millions of record pairs then needs string work only for the distinct
(value_a, value_b) pairs among them (``np.unique`` on ``code_a * U + code_b``): first names,
postcodes and cities repeat enormously, so this divides the rapidfuzz and Python-level work by
large factors. Exact agreement is an integer comparison.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA, DamerauLevenshtein, JaroWinkler, Levenshtein
from rapidfuzz.process import cpdist

from cdp import normalize as nz
from identity import value_space as vs
from identity.config import ComparisonLevel
from identity.value_space import ValueSpace, as_space

#: Endings that turn a first name into its other-gender form (Louis/Louise, Julien/Julie,
#: Daniel/Danielle, Jean/Jeanne, Paul/Paula/Pauline): a household, never a typo.
GENDER_SUFFIXES = frozenset({"e", "n", "ne", "le", "te", "tte", "ette", "a", "ine", "nne", "enne"})

_SCORERS = {
    "jaro_winkler": JaroWinkler.normalized_similarity,
    "levenshtein": Levenshtein.normalized_similarity,
}


@dataclass
class Coded:
    """Integer codes per record (-1 missing) for one or more fields sharing one value space."""

    codes: dict[str, np.ndarray]
    space: ValueSpace  # the distinct values (str objects), with their derived parts

    @property
    def uniques(self) -> np.ndarray:
        return self.space.uniques


def encode(norm: pd.DataFrame, fields: list[str]) -> Coded:
    """Factorise ``fields`` of ``norm`` into one shared code space."""
    stacked = pd.concat([norm[f] for f in fields], ignore_index=True)
    codes, uniques = pd.factorize(stacked, use_na_sentinel=True)
    n = len(norm)
    per_field = {f: codes[i * n : (i + 1) * n].astype(np.int32) for i, f in enumerate(fields)}
    values = np.asarray(uniques, dtype=object).astype(str).astype(object)
    return Coded(per_field, ValueSpace(values))


def encode_fields(norm: pd.DataFrame) -> dict[str, Coded]:
    """Integer codes of every comparable field (first and last names share one code space)."""
    names = encode(norm, ["first_name", "last_name"])
    coded = {"first_name": names, "last_name": names}
    for f in ("birth_date", "street", "postcode", "city", "email", "phone", "personal_id"):
        coded[f] = encode(norm, [f])
    return coded


class PairValues:
    """The distinct value pairs behind aligned code arrays, with cached similarities; the
    parts of values a level reads (digits, slices, e-mail parts) come from the value space,
    derived once per value for the run (``value_space.py``)."""

    def __init__(self, ca: np.ndarray, cb: np.ndarray, values: ValueSpace | np.ndarray):
        self.space = as_space(values)
        uniques = self.space.uniques
        size = max(len(uniques), 1)
        keys = ca.astype(np.int64) * size + cb
        inverse, ukeys = pd.factorize(keys)  # hash-based: faster than np.unique's sort
        self.ukeys, self.inverse = np.asarray(ukeys, dtype=np.int64), inverse
        self.ia = self.ukeys // size
        self.ib = self.ukeys % size
        self.uniques = uniques
        self.va = uniques[self.ia]
        self.vb = uniques[self.ib]
        self._sims: dict[str, np.ndarray] = {}

    def parts(self, derive: vs.Derivation) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
        """``derive``'s parts of every value, and the value positions of the pairs' sides."""
        return self.space.parts(derive, np.concatenate([self.ia, self.ib])), self.ia, self.ib

    def similarity(self, kind: str) -> np.ndarray:
        if kind not in self._sims:
            a, b = self.va.tolist(), self.vb.tolist()
            if kind == "token_set":
                sim = cpdist(a, b, scorer=fuzz.token_set_ratio, workers=-1) / 100.0
            else:
                sim = cpdist(a, b, scorer=_SCORERS[kind], workers=-1)
            self._sims[kind] = np.asarray(sim, dtype=np.float64)
        return self._sims[kind]

    def condition(self, level: ComparisonLevel) -> np.ndarray:
        """Whether ``level`` holds, per distinct pair."""
        kind = level.kind
        if kind == "else":
            return np.ones(len(self.ukeys), dtype=bool)
        if kind == "exact":
            return self.ia == self.ib
        if kind in ("jaro_winkler", "token_set", "levenshtein"):
            hold = self.similarity(kind) >= (level.threshold or 0.0)
            if level.same_numbers:
                got, ia, ib = self.parts(vs.digits)
                hold &= got["digits"][ia] == got["digits"][ib]
            return hold
        if kind == "damerau_levenshtein":
            return self.distance("damerau_levenshtein") <= (level.max_distance or 1)
        if kind in ("prefix", "suffix"):
            n = level.length or 1
            got, ia, ib = self.parts(vs.ends(n))
            end = got["head" if kind == "prefix" else "tail"]
            return (self.parts(vs.lengths)[0]["length"][ia] >= n) & (end[ia] == end[ib])
        if kind == "contains":
            short, long_ = self.short_long()
            found = np.char.find(long_, short) >= 0
            return found & (np.char.str_len(short) >= (level.length or 1))
        if kind == "initial":
            return self.initial()
        if kind == "nickname":
            return nz.is_nickname_pair(pd.Series(self.va), pd.Series(self.vb))
        if kind == "gender_variant":
            return self.gender_variant()
        if kind == "date_typo":
            got, ia, ib = self.parts(vs.date_parts)
            return _date_typo(got, ia, got, ib)
        if kind == "date_close":
            got, ia, ib = self.parts(vs.date_parts)
            bare = got["bare"]
            dist = cpdist(bare[ia].tolist(), bare[ib].tolist(), scorer=OSA.distance, workers=-1)
            return np.asarray(dist) <= (level.max_distance or 1)
        if kind == "local_part_typo":
            return self.local_part_typo()
        if kind == "date_year":
            got, ia, ib = self.parts(vs.date_parts)
            after = got["after_year"]
            return (got["length"][ia] == 10) & (after[ia] == after[ib])
        raise ValueError(f"unknown comparison kind {kind!r}")

    def distance(self, kind: str) -> np.ndarray:
        if kind not in self._sims:
            a, b = self.va.tolist(), self.vb.tolist()
            dist = cpdist(a, b, scorer=DamerauLevenshtein.distance, workers=-1)
            self._sims[kind] = np.asarray(dist, dtype=np.int64)
        return self._sims[kind]

    def short_long(self) -> tuple[np.ndarray, np.ndarray]:
        """The shorter and the longer value of each distinct pair (numpy unicode arrays)."""
        text = self.space.unicode()
        a, b = text[self.ia], text[self.ib]
        a_short = np.char.str_len(a) <= np.char.str_len(b)
        return np.where(a_short, a, b), np.where(a_short, b, a)

    def local_part_typo(self) -> np.ndarray:
        """E-mails on one domain whose local parts (before the last ``@``) differ by one
        typo; each address split once for the run, not once per pair.

        Not a typo, but another mailbox of the household or of a namesake: local parts that
        differ only by separators (``marie.d`` / ``marie_d``) or only by digits
        (``jeanrobert`` / ``jeanrobert2``), or in their first letter (``e.willems`` /
        ``l.willems``: Emma and Louise)."""
        got, ia, ib = self.parts(vs.email_parts)
        maybe = np.flatnonzero(
            got["has_at"][ia]
            & got["has_at"][ib]
            & (got["domain"][ia] == got["domain"][ib])
            & (got["bare"][ia] != got["bare"][ib])
            & (got["letters"][ia] != got["letters"][ib])
            & (got["first"][ia] == got["first"][ib])
        )
        out = np.zeros(len(ia), dtype=bool)
        if len(maybe):
            local = got["local"]
            a, b = local[ia[maybe]].tolist(), local[ib[maybe]].tolist()
            dist = cpdist(a, b, scorer=DamerauLevenshtein.distance, workers=-1)
            out[maybe] = np.asarray(dist) <= 1
        return out

    def initial(self) -> np.ndarray:
        got, ia, ib = self.parts(vs.ends(1))
        length = self.parts(vs.lengths)[0]["length"]
        one = (length[ia] == 1) | (length[ib] == 1)
        return one & (got["head"][ia] == got["head"][ib])

    def truncation(self, min_length: int = 3) -> np.ndarray:
        """One name cut short of the other: Isa/Isabelle, Chris/Christophe, Alex/Alejandro
        (at least ``min_length`` letters; the other-gender forms are :meth:`gender_variant`)."""
        short, long_ = self.short_long()
        cut = np.char.str_len(short) >= min_length
        return cut & (short != long_) & np.char.startswith(long_, short)

    def gender_variant(self) -> np.ndarray:
        """One stem, two gender endings: Louis/Louise, Julien/Julie, Julien/Juliette, Jean/
        Jeanne (the stem, their common prefix, at least two letters)."""
        short, long_ = self.short_long()
        out = np.zeros(len(short), dtype=bool)
        # a stem of two letters at least: only pairs that share their first two need the loop
        maybe = (short != long_) & (short.astype("U2") == long_.astype("U2"))
        maybe &= np.char.str_len(short) >= 2
        for i in np.flatnonzero(maybe).tolist():
            x, y = str(short[i]), str(long_[i])
            stem = next((k for k, (p, q) in enumerate(zip(x, y, strict=False)) if p != q), len(x))
            out[i] = (
                stem >= 2
                and x != y
                and (x[stem:] in GENDER_SUFFIXES or x[stem:] == "")
                and (y[stem:] in GENDER_SUFFIXES or y[stem:] == "")
            )
        return out


def _date_typo(
    pa_: dict[str, np.ndarray], ia: np.ndarray, pb_: dict[str, np.ndarray], ib: np.ndarray
) -> np.ndarray:
    """Dates (``value_space.date_parts``) differing by a day/month swap, one digit, or two
    adjacent digits swapped."""
    if len(ia) == 0:
        return np.zeros(0, dtype=bool)
    a, b = pa_["bare"][ia], pb_["bare"][ib]
    dist = np.asarray(cpdist(a.tolist(), b.tolist(), scorer=OSA.distance, workers=-1))
    swap = (
        (pa_["bare_length"][ia] == 8)
        & (pa_["year"][ia] == pb_["year"][ib])
        & (pa_["month"][ia] == pb_["day"][ib])
        & (pa_["day"][ia] == pb_["month"][ib])
    )
    return (dist == 1) | swap


def date_typo(va: np.ndarray, vb: np.ndarray) -> np.ndarray:
    """ISO dates differing by a day/month swap, one digit, or two adjacent digits swapped."""
    whole = np.arange(len(va))
    parts_a = vs.date_parts(pa.array(list(va), type=pa.string()))
    parts_b = vs.date_parts(pa.array(list(vb), type=pa.string()))
    return _date_typo(parts_a, whole, parts_b, whole)


def level_index(
    levels: list[ComparisonLevel], ca: np.ndarray, cb: np.ndarray, values: ValueSpace | np.ndarray
) -> np.ndarray:
    """Index of the first level that holds for each pair; -1 where a value is missing."""
    idx = np.full(len(ca), -1, dtype=np.int16)
    present = np.flatnonzero((ca >= 0) & (cb >= 0))
    if len(present) == 0:
        return idx
    pv = PairValues(ca[present], cb[present], values)
    todo_u = np.ones(len(pv.ukeys), dtype=bool)
    level_u = np.full(len(pv.ukeys), -1, dtype=np.int16)
    for i, level in enumerate(levels):
        if not todo_u.any():
            break
        hold = todo_u & pv.condition(level)
        level_u[hold] = i
        todo_u &= ~hold
    idx[present] = level_u[pv.inverse]
    return idx


def first_names_compatible(
    first: np.ndarray,
    last: np.ndarray,
    values: ValueSpace | np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    threshold: float,
    crossed: bool,
    learned: np.ndarray | None = None,
) -> np.ndarray:
    """Guard of guarded rules: may records ``a`` and ``b`` be the same person, by first name?

    Compatible when a first name is missing, equal, a nickname of the other, an initial of the
    other, the other cut short (Isa/Isabelle), or close (Jaro-Winkler >= ``threshold``),
    without being its other-gender form (Julien/Julie, Jean/Jeanne). With ``crossed``, a pair
    whose first and last names are swapped is also compatible when both crossed names are
    close. ``learned``: first-name pairs the file itself shows as one person's
    (:func:`variant_keys` of their codes, see ``deterministic.learned_name_variants``).
    """
    fa, fb = first[a], first[b]
    ok = (fa < 0) | (fb < 0) | (fa == fb)
    todo = np.flatnonzero(~ok)
    if len(todo) == 0:
        return ok
    pv = PairValues(fa[todo], fb[todo], values)
    sim_ok = (pv.similarity("jaro_winkler") >= threshold) | pv.initial() | pv.truncation()
    nick = nz.is_nickname_pair(pd.Series(pv.va), pd.Series(pv.vb))
    good_u = nick | (sim_ok & ~pv.gender_variant())
    good = good_u[pv.inverse]
    if learned is not None and len(learned):
        good |= np.isin(variant_keys(fa[todo], fb[todo], len(values)), learned)
    if crossed:
        la, lb = last[a][todo], last[b][todo]
        both = (la >= 0) & (lb >= 0)
        cross = np.zeros(len(todo), dtype=bool)
        sel = np.flatnonzero(both)
        if len(sel):
            p1 = PairValues(fa[todo][sel], lb[sel], values)
            p2 = PairValues(la[sel], fb[todo][sel], values)
            s1 = (p1.similarity("jaro_winkler") >= threshold)[p1.inverse]
            s2 = (p2.similarity("jaro_winkler") >= threshold)[p2.inverse]
            cross[sel] = s1 & s2
        good |= cross
    ok[todo] = good
    return ok


def variant_keys(fa: np.ndarray, fb: np.ndarray, n_uniques: int) -> np.ndarray:
    """One integer per unordered pair of name codes (the key of a learned name variant)."""
    lo, hi = np.minimum(fa, fb).astype(np.int64), np.maximum(fa, fb).astype(np.int64)
    return lo * (n_uniques + 1) + hi
