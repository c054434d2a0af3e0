"""Person names: match keys, display form, full-name splitting, nicknames (``tables/names.yaml``)."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd
from unidecode import unidecode

from cdp.normalize.text import _as_text_series, _clean_text, _map_unique, table

_TABLES = table("names")
#: Name particles (``tables/names.yaml``): lower case inside a display name, ignored in match keys.
NAME_PARTICLES = frozenset(_TABLES["particles"])
#: Civil titles dropped from the start of a free-text full name (``tables/names.yaml``).
_TITLE = re.compile(r"(?i)^(" + "|".join(_TABLES["civil_titles"]) + r")\s+")


@lru_cache(maxsize=1)
def nickname_canon() -> dict[str, str]:
    """First-name key -> the name it is a diminutive or a foreign form of.

    From the general multilingual list of the ``corp-names`` package (English nicknames,
    international forms, diminutives of several languages: Alex -> Alexander, Adrien ->
    Adrian, Sasha -> Alexander), keyed like :func:`first_name_key`. Deliberately not a table of our
    own: the demo generator has its own diminutives, and a matcher that carries the
    generator's table measures that overlap, not its recall.
    """
    raw = json.loads((resources.files("corp_names") / "data" / "nicknames.json").read_text())
    out: dict[str, str] = {}
    for name, entry in raw.items():
        canonical = entry.get("canonical")
        key, canon = first_name_key(name), first_name_key(canonical)
        if key and canon and key != canon:
            out[key] = canon
    return out


def is_nickname_pair(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Vectorised: True where first-name keys ``a`` and ``b`` differ but stand for one name.

    One is the diminutive or foreign form of the other, or both are forms of a third name
    (Sasha and Alex, both Alexander).
    """
    # looked up once per distinct value: candidate pairs repeat a few thousand first names
    codes, uniques = pd.factorize(pd.concat([a, b], ignore_index=True).astype(object))
    names = pd.Series(uniques, dtype=object)
    canon, _ = pd.factorize(names.map(nickname_canon()).fillna(names))
    canon = np.append(canon, -1)  # code -1 (missing) reads this last slot
    ca, cb = codes[: len(a)], codes[len(a) :]
    known = (ca >= 0) & (cb >= 0)
    return known & (ca != cb) & (canon[ca] == canon[cb])


_NON_ALNUM = re.compile(r"[^a-z0-9 ]+")
_SPACES = re.compile(r"\s+")


@lru_cache(maxsize=500_000)
def fold_name(value: str | None) -> str | None:
    """The match form of a name: ``"  Hélène   D'ARCY-Lefèvre "`` -> ``"helene d arcy lefevre"``.

    Case-folded, accents and ligatures transliterated with unidecode (``Œ`` -> ``oe``,
    ``ß`` -> ``ss``), hyphens, apostrophes and dots turned into spaces, everything else that is
    not a letter or digit removed, whitespace collapsed. Two spellings a person would consider
    "the same name" fold to the same string, which is what blocking and exact-match levels
    need. Display values keep their accents (see :func:`display_name`).
    """
    text = _clean_text(value)
    if text is None:
        return None
    folded = unidecode(text).lower()
    folded = _NON_ALNUM.sub(" ", folded.replace("'", " ").replace("-", " "))
    folded = _SPACES.sub(" ", folded).strip()
    return folded or None


@lru_cache(maxsize=500_000)
def name_key(value: str | None) -> str | None:
    """A compact last-name key: :func:`fold_name` with the spaces removed.

    ``"de la Fontaine"`` and ``"Delafontaine"`` give ``"delafontaine"``, ``"Le Gall"`` and
    ``"LEGALL"`` give ``"legall"``, ``"Dupont-Martin"`` gives ``"dupontmartin"``: particles and
    compound names are glued or split at will by whoever types them, so the key ignores the
    separators but keeps the letters (dropping particles would make ``Le Gall`` differ from
    ``Legall``).
    """
    folded = fold_name(value)
    if folded is None:
        return None
    return folded.replace(" ", "") or None


@lru_cache(maxsize=200_000)
def first_name_key(value: str | None) -> str | None:
    """A first-name match key: folded, compound names joined.

    ``"Jean-Pierre"`` and ``"Jean Pierre"`` -> ``"jeanpierre"``, ``"Éloïse"`` -> ``"eloise"``.
    Nicknames keep their own key (``"Alex"`` -> ``"alex"``): the engine's ``nickname``
    comparison level relates them to their names through :func:`nickname_canon`.
    """
    folded = fold_name(value)
    if folded is None:
        return None
    return folded.replace(" ", "") or None


_UPPER_PARTICLES_KEEP = frozenset({"d", "l"})


@lru_cache(maxsize=500_000)
def display_name(value: str | None) -> str | None:
    """A name as it should be printed on a letter: accents kept, sensible capitalisation.

    Whitespace trimmed and collapsed; each word and each hyphenated part capitalised
    (``JEAN-PIERRE`` -> ``Jean-Pierre``, ``o'neil`` -> ``O'Neil``); particles other than the first
    word in lower case (``Charles DE GAULLE`` -> ``Charles de Gaulle``). Names typed in mixed case
    on purpose (``McAllister``, ``DiCaprio``) are kept as typed.
    """
    text = _clean_text(value)
    if text is None:
        return None
    text = _SPACES.sub(" ", text)

    def cap(word: str) -> str:
        return "-".join(
            "'".join(p[:1].upper() + p[1:].lower() for p in part.split("'"))
            for part in word.split("-")
        )

    words = text.split(" ")
    out = []
    for i, word in enumerate(words):
        low = word.lower()
        if i > 0 and low in NAME_PARTICLES:
            out.append(low)
        elif i > 0 and re.match(r"^[dl]'", low):
            out.append(low[:2] + cap(word[2:]))
        elif _typed_with_care(word):
            out.append(word)
        else:
            out.append(cap(word))
    return " ".join(out)


def _typed_with_care(word: str) -> bool:
    """True for words already in deliberate mixed case (``McAllister``, ``Jean-Luc``)."""
    parts = [p for p in re.split(r"[-']", word) if p]
    return (
        bool(parts)
        and all(p[0].isupper() for p in parts)
        and any(c.islower() for c in word)
        and not word.isupper()
    )


def split_full_name(value: str | None) -> tuple[str | None, str | None]:
    """(first name, last name) from one free-text name field.

    Handles ``"Last, First"``, ``"DUPONT Marie"`` / ``"Marie DUPONT"`` (the all-capitals words
    are the last name) and, otherwise, ``"First Last ..."`` (first word = first name). Titles
    (M., Mme, Mr, Mrs, Dr ...) are dropped. The engine also compares names crossed (first vs
    last) for records whose name came from this function, because the order is a guess.
    """
    text = _clean_text(value)
    if text is None:
        return None, None
    text = _SPACES.sub(" ", text)
    text = _TITLE.sub("", text)
    if "," in text:
        last, _, first = text.partition(",")
        return (first.strip() or None), (last.strip() or None)
    words = text.split(" ")
    if len(words) == 1:
        return None, words[0]
    upper = [w for w in words if len(w) > 1 and w.isupper()]
    if upper and len(upper) < len(words):
        last = " ".join(w for w in words if len(w) > 1 and w.isupper())
        first = " ".join(w for w in words if not (len(w) > 1 and w.isupper()))
        return first or None, last or None
    return words[0], " ".join(words[1:])


# Vectorised wrappers (distinct values only).
def fold_name_series(values: pd.Series) -> pd.Series:
    return _map_unique(_as_text_series(values), fold_name)


def name_key_series(values: pd.Series) -> pd.Series:
    return _map_unique(_as_text_series(values), name_key)


def first_name_key_series(values: pd.Series) -> pd.Series:
    return _map_unique(_as_text_series(values), first_name_key)
