"""Phone numbers: E.164 from whatever people and systems typed (phonenumbers metadata)."""

from __future__ import annotations

import math
import re
from functools import lru_cache

import numpy as np
import pandas as pd
import phonenumbers

from cdp.normalize.text import _as_text_series, _clean_text, _map_unique

_PHONE_JUNK = re.compile(r"[^\d+]")


def _phone_candidate(value: object) -> str | None:
    """Digits of a phone value with the international prefix made explicit (or None)."""
    if isinstance(value, float):
        if math.isnan(value):
            return None
        value = str(int(value)) if value.is_integer() else str(value)
    text = _clean_text(value)
    if text is None:
        return None
    # spreadsheet numbers come back as "612345678.0"; extensions ("poste 12", "x12") are dropped
    text = re.sub(r"\.0+$", "", text)
    text = re.split(r"(?i)(?:ext|poste|x)\s*\.?\s*\d+$", text)[0]
    text = _PHONE_JUNK.sub("", text)
    if not text:
        return None
    if text.startswith("+"):
        text = "+" + text[1:].replace("+", "")
    elif text.startswith("00"):
        text = "+" + text[2:]
    return text


@lru_cache(maxsize=500_000)
def _parse_phone(candidate: str, region: str) -> str | None:
    region = (region or "FR").upper()
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and _plausible(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not candidate.startswith("+"):
        # A number stored as a spreadsheet number loses its leading zero: 612345678.
        meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
        prefix = meta.national_prefix if meta is not None else None
        if prefix and not candidate.startswith(prefix):
            return _parse_phone(prefix + candidate, region)
        # "33612345678": the international form typed without "+".
        if meta is not None and candidate.startswith(str(meta.country_code)):
            return _parse_phone("+" + candidate, region)
    return None


def _plausible(number: phonenumbers.PhoneNumber) -> bool:
    """Valid, or of a possible length and shape for its country (see :func:`normalize_phone`)."""
    if phonenumbers.is_valid_number(number):
        return True
    if not phonenumbers.is_possible_number(number):
        return False
    region = phonenumbers.region_code_for_country_code(number.country_code)
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if meta is None or meta.general_desc is None or not meta.general_desc.national_number_pattern:
        return False
    nsn = phonenumbers.national_significant_number(number)
    return re.fullmatch(meta.general_desc.national_number_pattern, nsn) is not None


def phone_region(region: object, default_region: str = "FR") -> str:
    """The region a number without a country code is read in: the row's ISO country code,
    upper-cased; ``default_region`` when it is missing or not two letters."""
    text = _clean_text(region)
    text = text.upper() if text is not None else None
    return text if text is not None and re.fullmatch(r"[A-Z]{2}", text) else default_region


def normalize_phone(value: str | None, default_region: str = "FR") -> str | None:
    """A phone number in E.164 (``+33612345678``), or None when it is not a valid number.

    Accepts the formats people and systems actually produce: ``06 12 34 56 78``,
    ``06.12.34.56.78``, ``+33 6 12 34 56 78``, ``+33 (0)6...``, ``0033 6...``, ``33612345678``, and
    numbers that lost their leading zero in a spreadsheet (``612345678``, ``612345678.0``).
    ``default_region`` (ISO country code) is used for numbers written without a country code;
    pass the record's country when known. A number is kept when phonenumbers finds it valid or,
    failing that, of a possible length and general shape for its country (``06 39 ...`` is outside
    the ranges assigned today but is still one customer's number typed the same way in every
    system; ranges also change over time). ``12345``, ``06 12`` or ``00 00 ...`` return None.
    E.164 is the one form that is both dialable by SMS providers and comparable across systems.
    """
    candidate = _phone_candidate(value)
    if candidate is None:
        return None
    return _parse_phone(candidate, (default_region or "FR").upper())


def _fast_phone_patterns(region: str) -> tuple[str, str, str] | None:
    """(country code, national prefix, regex of plausible national numbers) for a region.

    Plausible = the region's general number shape at one of its possible lengths, which is what
    :func:`_plausible` accepts for numbers of that country.
    """
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if meta is None or not meta.national_prefix or meta.general_desc is None:
        return None
    general = meta.general_desc.national_number_pattern
    lengths = meta.general_desc.possible_length
    if not general or not lengths:
        return None
    length_re = "|".join(rf"\d{{{n}}}" for n in lengths)
    pattern = f"(?=(?:{length_re})$)(?:{general})"
    return str(meta.country_code), meta.national_prefix, pattern


def normalize_phone_series(
    values: pd.Series, regions: pd.Series | str | None = "FR", default_region: str = "FR"
) -> pd.Series:
    """Vectorised :func:`normalize_phone`.

    ``regions`` is one region for all rows or a per-row Series of ISO country codes (missing
    entries use ``default_region``). Cheap clean-up is done with Arrow string functions; the
    frequent well-formed national numbers of each region are validated with the region's own
    phonenumbers range regexes in one vectorised pass, and only what remains goes through
    ``phonenumbers.parse`` once per distinct (value, region).
    """
    n = len(values)
    if isinstance(regions, pd.Series):
        reg = _map_unique(regions, lambda r: phone_region(r, default_region))
        reg = reg.fillna(default_region).astype("str")
        reg = reg.reindex(values.index) if not reg.index.equals(values.index) else reg
    else:
        reg = pd.Series([(regions or default_region).upper()] * n, index=values.index, dtype="str")
    if values.dtype.kind == "f":
        raw = values.map(lambda v: None if pd.isna(v) else (f"{v:.0f}" if v == int(v) else str(v)))
    else:
        raw = values
    s = _as_text_series(raw)
    s = s.str.replace(r"\.0+$", "", regex=True).str.replace(r"[^\d+]", "", regex=True)
    s = s.str.replace(r"^00", "+", regex=True)
    s = s.mask(s.fillna("").str.len().eq(0))
    out = pd.Series([None] * n, index=values.index, dtype=object)
    done = pd.Series(False, index=values.index)
    for region in reg.dropna().unique():
        fast = _fast_phone_patterns(region)
        if fast is None:
            continue
        cc, prefix, pattern = fast
        in_region = reg.eq(region) & s.notna()
        national = s.where(in_region)
        national = national.str.replace(rf"^\+{cc}0?", "", regex=True)
        national = national.str.replace(rf"^{prefix}", "", regex=True)
        well_formed = in_region & (
            s.str.fullmatch(rf"\+{cc}0?\d+").fillna(False).astype(bool)
            | s.str.fullmatch(rf"{prefix}[1-9]\d*").fillna(False).astype(bool)
        )
        ok = well_formed & national.str.fullmatch(pattern).fillna(False).astype(bool)
        out = out.where(~ok, "+" + cc + national)
        done = done | ok
    rest = ~done & s.notna()
    if rest.any():
        pairs = pd.DataFrame({"v": raw[rest].astype(object), "r": reg[rest]})
        keys = pairs["v"].astype("str") + "\x1f" + pairs["r"]
        parsed = _map_unique(
            keys, lambda k: normalize_phone(k.split("\x1f")[0], k.split("\x1f")[1])
        )
        out = out.where(~rest, parsed)
    return out.where(out.notna(), None)


def is_mobile_series(e164: pd.Series) -> np.ndarray:
    """True for E.164 numbers in their country's mobile ranges (phonenumbers metadata).

    Vectorised per country code present. A mobile belongs to one person, unlike a household
    landline, which is what the engine's phone conflict check relies on.
    """
    s = _as_text_series(e164.astype(object))
    out = np.zeros(len(s), dtype=bool)
    present = s.notna().to_numpy()
    if not present.any():
        return out
    prefixes = set()
    for width in (2, 3, 4):
        prefixes |= set(s[present].str.slice(1, width).dropna().unique().tolist())
    for cc_text in sorted(prefixes):
        if not cc_text.isdigit() or int(cc_text) not in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            continue
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE[int(cc_text)]
        patterns = []
        for region in regions:
            meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
            if meta is not None and meta.mobile is not None and meta.mobile.national_number_pattern:
                patterns.append(meta.mobile.national_number_pattern)
        if not patterns:
            continue
        start = s.str.startswith("+" + cc_text).fillna(False).to_numpy(dtype=bool)
        nsn = s.where(start).str.slice(1 + len(cc_text))
        hit = nsn.str.fullmatch("|".join(f"(?:{p})" for p in patterns)).fillna(False)
        out |= start & hit.to_numpy(dtype=bool)
    return out
