"""Postal addresses: street, postcode and city match keys (tables in ``tables/address.yaml``)."""

from __future__ import annotations

import re
from functools import lru_cache

import pandas as pd
from unidecode import unidecode

from cdp.normalize.text import _as_text_series, _clean_text, _map_unique, table

_TABLES = table("address")
#: Street-type abbreviations (French postal usage, plus a few English ones) -> full word.
STREET_ABBREVIATIONS: dict[str, str] = dict(_TABLES["street_abbreviations"])
_REPEATERS = frozenset(_TABLES["repeaters"])
_CITY_ABBREVIATIONS: dict[str, str] = dict(_TABLES["city_abbreviations"])
_ZERO_PADDED = frozenset(_TABLES["zero_padded_postcode_countries"])
#: Expanded words written with their accents and capitals in a display street.
_DISPLAY_WORDS: dict[str, str] = dict(_TABLES["display_words"])
_TOKEN = re.compile(r"\S+")


@lru_cache(maxsize=500_000)
def normalize_street(value: str | None) -> str | None:
    """A street match key: ``"12B, Bd  St-Michel"`` -> ``"12 bis boulevard saint michel"``.

    Only the first line is kept (second lines are "Apt 3", "Bâtiment B", which vary between
    systems for the same address). Accents folded, punctuation removed, abbreviations of street
    types and titles expanded (bd/boul -> boulevard, av -> avenue, r -> rue, chem -> chemin,
    pl -> place, st -> saint ...), house-number repeaters glued or abbreviated (``12b``,
    ``12 B``, ``12bis``) written ``12 bis``.
    """
    text = _clean_text(value)
    if text is None:
        return None
    lines = [ln for ln in re.split(r"[\r\n]+", text) if ln.strip()]
    if not lines:
        return None
    folded = unidecode(lines[0]).lower()
    folded = re.sub(r"(\d+)\s*(bis|ter|quater|b|t|q)\b", r"\1 \2", folded)
    folded = re.sub(r"[^a-z0-9]+", " ", folded)
    tokens = folded.split()
    out: list[str] = []
    for i, tok in enumerate(tokens):
        full = STREET_ABBREVIATIONS.get(tok)
        if full in _REPEATERS:
            # "b"/"t" mean bis/ter only right after the house number
            if i > 0 and tokens[i - 1].isdigit():
                out.append(full)
            else:
                out.append(tok)
        elif full is not None and not (tok == "r" and i > 0 and not tokens[i - 1].isdigit()):
            out.append(full)
        else:
            out.append(tok)
    key = " ".join(out)
    return key or None


def display_street(value: str | None) -> str | None:
    """First street line for display: abbreviations expanded, case and accents kept.

    Uses the abbreviation table and the rules of :func:`normalize_street` (which builds
    the lower-case match key): `12 Bd. St-Michel` -> `12 boulevard Saint-Michel`,
    `3b r. de la Paix` -> `3 bis rue de la Paix`. Further lines (`Apt 3`) are dropped, as in
    the match key; staging keeps them apart as `street_complement`.
    """
    if value is None:
        return None
    lines = [line for line in str(value).splitlines() if line.strip()]
    if not lines:
        return None
    text = re.sub(r"(\d+)\s*(bis|ter|quater|b|t|q)\b", r"\1 \2", lines[0], flags=re.IGNORECASE)
    text = re.sub(r"\s*,\s*", " ", text)
    tokens = _TOKEN.findall(text)
    out: list[str] = []
    for index, token in enumerate(tokens):
        previous_is_number = index > 0 and tokens[index - 1].isdigit()
        # "St-Michel": the abbreviation may be glued to the next word by a hyphen
        head, sep, tail = token.partition("-")
        full = STREET_ABBREVIATIONS.get(head.lower().rstrip("."))
        if full in _REPEATERS:
            full = full if previous_is_number and not sep else None
        elif full == "rue" and index > 0 and not previous_is_number:
            full = None
        if full is None:
            out.append(token)
        else:
            out.append(_DISPLAY_WORDS.get(full, full) + sep + tail)
    return " ".join(out) or None


def normalize_postcode(value: str | None, country: str | None = "FR") -> str | None:
    """A postcode: upper-cased, spaces removed; French (and other 5-digit) codes zero-padded.

    A French code stored as a number loses its leading zero (``1000`` for Bourg-en-Bresse
    ``01000``, ``6000.0`` for Nice): 3-4 digits are padded to 5 for FR/MC and unknown countries.
    """
    text = _clean_text(value)
    if text is None:
        return None
    text = re.sub(r"\.0+$", "", text).upper().replace(" ", "")
    country = (country or "FR").upper()
    if text.isdigit() and country in _ZERO_PADDED and 3 <= len(text) < 5:
        text = text.zfill(5)
    if not re.fullmatch(r"[A-Z0-9-]{2,10}", text):
        return None
    return text


@lru_cache(maxsize=200_000)
def normalize_city(value: str | None) -> str | None:
    """A city match key: ``"ST-DENIS CEDEX 02"`` -> ``"saint denis"``, ``"Paris 2e"`` -> ``"paris"``.

    Accents folded, lower case, hyphens and apostrophes as spaces, ``st``/``ste`` expanded,
    ``CEDEX`` and the routing number after it removed, arrondissement suffixes removed
    (the postcode carries that precision).
    """
    text = _clean_text(value)
    if text is None:
        return None
    folded = unidecode(text).lower()
    folded = re.sub(r"\bcedex\b.*$", "", folded)
    folded = re.sub(r"[^a-z0-9]+", " ", folded)
    folded = re.sub(r"\s\d+\s*(e|er|eme|ieme)?$", "", folded.strip())
    tokens = [_CITY_ABBREVIATIONS.get(t, t) for t in folded.split()]
    key = " ".join(tokens)
    return key or None


# Vectorised wrappers (distinct values only).
def normalize_street_series(values: pd.Series) -> pd.Series:
    return _map_unique(_as_text_series(values), normalize_street)


def normalize_city_series(values: pd.Series) -> pd.Series:
    return _map_unique(_as_text_series(values), normalize_city)


def normalize_postcode_series(values: pd.Series, countries: pd.Series | None = None) -> pd.Series:
    if values.dtype.kind == "f":
        values = values.map(lambda v: None if pd.isna(v) else f"{v:.0f}")
    text = _as_text_series(values.astype(object))
    if countries is None:
        return _map_unique(text, normalize_postcode)
    ctry = _as_text_series(countries).str.upper().fillna("FR")
    keys = text + "\x1f" + ctry
    return _map_unique(keys, lambda k: normalize_postcode(*k.split("\x1f")))
