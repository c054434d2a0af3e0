"""The distinct values of coded fields, and what the comparisons derive from each value.

A comparison level such as "same house number", "same last eight digits" or "one typo in the
e-mail's local part" reads a part of each value (its digits, a slice, the local part and
domain of an address). Stage 3 compares its candidate pairs chunk by chunk, and one value
appears in many chunks: derived per distinct *pair* of a chunk, the parts were recomputed
dozens of times at 1.4M customers (a third of the comparisons' time). A :class:`ValueSpace`
derives each part once per distinct *value*, on first use, and keeps it for the run.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: a derivation: Arrow strings in, one numpy array per named part out (aligned with the input)
Derivation = Callable[[pa.Array], dict[str, np.ndarray]]


def _text(values: pa.Array) -> np.ndarray:
    return np.asarray(values.to_pylist(), dtype=object)


def digits(values: pa.Array) -> dict[str, np.ndarray]:
    """The numbers of each value, in order (a street's house number and its other numbers)."""
    numbers = pc.utf8_trim(pc.replace_substring_regex(values, r"[^0-9]+", " "), " ")
    return {"digits": _text(numbers)}


def lengths(values: pa.Array) -> dict[str, np.ndarray]:
    return {"length": pc.utf8_length(values).to_numpy(zero_copy_only=False)}


def ends(n: int) -> Derivation:
    """The first and the last ``n`` characters."""

    def derive(values: pa.Array) -> dict[str, np.ndarray]:
        return {
            "head": _text(pc.utf8_slice_codeunits(values, 0, n)),
            "tail": _text(pc.utf8_slice_codeunits(values, -n, 2**31 - 1)),
        }

    derive.__name__ = f"ends_{n}"
    return derive


def date_parts(values: pa.Array) -> dict[str, np.ndarray]:
    """An ISO date's digits (``YYYYMMDD``), its year, month and day, and its text after the
    year (``-MM-DD``, the same day and month in another year)."""
    bare = pc.replace_substring(values, "-", "")
    return {
        "bare": _text(bare),
        "bare_length": pc.utf8_length(bare).to_numpy(zero_copy_only=False),
        "year": _text(pc.utf8_slice_codeunits(bare, 0, 4)),
        "month": _text(pc.utf8_slice_codeunits(bare, 4, 6)),
        "day": _text(pc.utf8_slice_codeunits(bare, 6, 8)),
        "after_year": _text(pc.utf8_slice_codeunits(values, 4, 2**31 - 1)),
        "length": pc.utf8_length(values).to_numpy(zero_copy_only=False),
    }


date_parts.text_parts = ("bare",)


def email_parts(values: pa.Array) -> dict[str, np.ndarray]:
    """An address split at its last ``@``: the local part, the domain, the local part without
    separators (``bare``) and without digits either (``letters``), and its first letter."""
    parts = pc.extract_regex(values, r"(?s)^(?P<local>.*)@(?P<domain>[^@]*)$")
    local = pc.struct_field(parts, "local")
    bare = pc.replace_substring_regex(local, r"[._-]", "")
    return {
        "has_at": parts.is_valid().to_numpy(zero_copy_only=False),
        "local": _text(local),
        "domain": _text(pc.struct_field(parts, "domain")),
        "bare": _text(bare),
        "letters": _text(pc.replace_substring_regex(bare, r"[0-9]", "")),
        "first": _text(pc.utf8_slice_codeunits(local, 0, 1)),
    }


email_parts.text_parts = ("local",)


class ValueSpace:
    """Distinct values (``uniques``: str objects) with their derived parts, each computed once
    per value, for the values asked for only (an incremental run compares few pairs)."""

    def __init__(self, uniques: np.ndarray):
        self.uniques = uniques
        self._parts: dict[str, tuple[dict[str, np.ndarray], np.ndarray]] = {}
        self._dictionaries: dict[str, dict] = {}  # per derivation: text -> code
        self._unicode: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.uniques)

    def parts(self, derive: Derivation, used: np.ndarray) -> dict[str, np.ndarray]:
        """``derive``'s parts for every value, filled at least at the positions ``used``.

        A text part comes back as integer codes (equal text, equal code, across the parts of
        one derivation: a month is compared with a day; the tests on pairs are integer
        comparisons), but for those ``derive`` names in ``text_parts``, which
        come back as text (the input of an edit distance)."""
        name = derive.__name__
        if name not in self._parts:
            self._parts[name] = ({}, np.zeros(len(self.uniques), dtype=bool))
        store, done = self._parts[name]
        todo = used[~done[used]]
        if len(todo):
            todo = np.unique(todo)
        if len(todo):
            got = derive(pa.array(self.uniques[todo].tolist(), type=pa.string()))
            for key, values in got.items():
                if values.dtype == object and key not in getattr(derive, "text_parts", ()):
                    words = self._dictionaries.setdefault(name, {})
                    values = np.array([words.setdefault(v, len(words)) for v in values.tolist()])
                if key not in store:
                    store[key] = np.empty(len(self.uniques), dtype=values.dtype)
                store[key][todo] = values
            done[todo] = True
        return store

    def unicode(self) -> np.ndarray:
        """All values as a numpy unicode array (for ``np.char`` tests)."""
        if self._unicode is None:
            self._unicode = np.asarray(self.uniques, dtype=str)
        return self._unicode


def as_space(values: ValueSpace | np.ndarray) -> ValueSpace:
    """A space for ``values`` (a plain array of distinct values gets one of its own)."""
    return values if isinstance(values, ValueSpace) else ValueSpace(values)
