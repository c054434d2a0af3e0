"""Normalisation of customer attributes: display values and match keys.

Two families of functions live here:

* **scalar** functions (``normalize_email``, ``normalize_phone``, ``fold_name``, ...) that take
  one value and return one value. They are the reference behaviour, they are registered as
  DuckDB UDFs by dbt (``normalize_phone``, ``normalize_email``, ``fold_name`` keep exactly these
  names and ``str | None -> str | None`` signatures), and they are ``lru_cache``d.
* **vectorised** functions (``*_series``) used by the identity engine on millions of rows. They
  work on a pandas Series, do the cheap string work with Arrow-backed ``.str`` methods, and
  run the expensive per-value work (phonenumbers, unidecode) once per *distinct* value
  (``_map_unique``), never once per row.

Every function is idempotent: feeding it its own output returns the same output, so the engine
can be given raw or already normalised records.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd
import phonenumbers
from rapidfuzz.distance import OSA
from unidecode import unidecode

_MISSING_TOKENS = frozenset({"", "nan", "none", "null", "n/a", "na", "nat", "-", "--", "?"})


def _clean_text(value: object) -> str | None:
    """Text of a cell, or None for missing values (None, NaN, '', 'null', 'N/A', ...)."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    text = str(value).strip()
    if text.lower() in _MISSING_TOKENS:
        return None
    return text


def _map_unique(series: pd.Series, func: Callable[[str], object]) -> pd.Series:
    """Apply ``func`` once per distinct non-missing value of ``series``.

    Customer columns repeat a lot (cities, first names, the same e-mail in five systems), so
    deduplicating first divides the Python-level work by the repetition factor.
    """
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    mapped = np.array([func(v) for v in uniques] + [None], dtype=object)
    # code -1 (missing) indexes the trailing None
    return pd.Series(mapped[codes], index=series.index, dtype=object)


def _as_text_series(series: pd.Series) -> pd.Series:
    """A Series of stripped text with missing tokens turned into NA (Arrow-backed strings)."""
    if series.dtype != "str" and series.dtype != object:
        series = series.astype(object)
    s = series.astype("str").str.strip()
    missing = s.str.lower().isin(list(_MISSING_TOKENS))
    return s.mask(missing)


# ---------------------------------------------------------------------------------------------
# E-mail
# ---------------------------------------------------------------------------------------------
# Deliberately simple: one @, a local part of the usual characters without leading/trailing or
# double dots, a domain with at least one dot and an alphabetic TLD. Anything else (blank, "non",
# "x@x", "jean.dupont@gmail") cannot be used to reach the person nor to link records.
_EMAIL_RE = (
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,24}"
)
_EMAIL_PATTERN = re.compile(_EMAIL_RE)

#: Mailbox providers most retail customers use, in Europe and beyond. A domain one keystroke
#: away (an edit or a swap of two adjacent letters) from exactly one of them is taken as a
#: typo of it for the *match key* (``gmial.com``, ``hotmail.con``, ``yahooo.fr``); the contact
#: value itself is never rewritten. A rule over a list of real providers, not a list of typos.
MAILBOX_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "hotmail.com", "hotmail.fr", "hotmail.es",
        "hotmail.it", "hotmail.de", "hotmail.co.uk", "outlook.com", "outlook.fr",
        "outlook.es", "live.com", "live.fr", "msn.com", "yahoo.com", "yahoo.fr", "yahoo.es",
        "yahoo.it", "yahoo.de", "yahoo.co.uk", "ymail.com", "icloud.com", "me.com", "mac.com",
        "aol.com", "orange.fr", "wanadoo.fr", "free.fr", "sfr.fr", "neuf.fr", "laposte.net",
        "bbox.fr", "numericable.fr", "gmx.fr", "gmx.de", "gmx.net", "web.de", "t-online.de",
        "protonmail.com", "proton.me", "telefonica.net", "movistar.es", "libero.it",
        "virgilio.it", "tiscali.it", "skynet.be", "telenet.be", "bluewin.ch", "gmx.ch",
    }
)  # fmt: skip
#: One service under two names (and a Google domain that does not exist).
MAILBOX_ALIASES = {"googlemail.com": "gmail.com", "gmail.fr": "gmail.com"}


@lru_cache(maxsize=100_000)
def mailbox_domain(domain: str) -> str:
    """The provider a domain stands for: itself, an alias's target, or the one near miss."""
    if domain in MAILBOX_ALIASES:
        return MAILBOX_ALIASES[domain]
    if domain in MAILBOX_DOMAINS:
        return domain
    near = [d for d in MAILBOX_DOMAINS if OSA.distance(domain, d, score_cutoff=1) <= 1]
    if len(near) == 1:
        return MAILBOX_ALIASES.get(near[0], near[0])
    return domain


_GMAIL_DOMAINS = frozenset({"gmail.com"})


@lru_cache(maxsize=200_000)
def normalize_email(value: str | None) -> str | None:
    """The contactable form of an e-mail address, or None when it is not a valid address.

    Trimmed, lower-cased (the local part is case-insensitive at every mainstream provider),
    a leading ``mailto:`` and surrounding ``<>`` removed. Invalid addresses return None rather
    than a half-cleaned value so that downstream code never tries to send to them or link on
    them. Placeholders such as ``noemail@x.fr`` are valid addresses: the blocklist in
    ``config/identity.yaml`` deals with them, not this function.
    """
    text = _clean_text(value)
    if text is None:
        return None
    text = re.sub(r"[<>\s]", "", text.lower())
    text = re.sub(r"^mailto:", "", text)
    if not _EMAIL_PATTERN.fullmatch(text):
        return None
    return text


@lru_cache(maxsize=200_000)
def email_match_key(value: str | None, gmail_dots: bool = True) -> str | None:
    """The key two e-mail addresses must share to be considered the same mailbox.

    On top of :func:`normalize_email`: plus-addressing removed (``marie+promo@`` delivers to
    ``marie@`` at Gmail, Outlook, iCloud, Orange...), dots removed from Gmail local parts
    (Gmail ignores them; ``googlemail.com`` is the same service; ``gmail_dots=False`` keeps
    them, see ``email_ignore_gmail_dots`` in config/identity.yaml) and domain typos of the
    big mailbox providers corrected (:func:`mailbox_domain`), because the same customer types
    their address slightly differently at the till, online and on a sign-up sheet.
    """
    email = normalize_email(value)
    if email is None:
        return None
    local, _, domain = email.rpartition("@")
    domain = mailbox_domain(domain)
    local = local.split("+", 1)[0]
    if gmail_dots and domain in _GMAIL_DOMAINS:
        local = local.replace(".", "")
    if not local:
        return None
    return f"{local}@{domain}"


def normalize_email_series(values: pd.Series) -> pd.Series:
    """Vectorised :func:`normalize_email` (Arrow regex, no Python per row)."""
    s = _as_text_series(values).str.lower().str.replace(r"[<>\s]", "", regex=True)
    s = s.str.replace(r"^mailto:", "", regex=True)
    valid = s.str.fullmatch(_EMAIL_RE).fillna(False).astype(bool)
    return s.where(valid).astype(object).where(valid, None)


def email_match_key_series(values: pd.Series, gmail_dots: bool = True) -> pd.Series:
    """Vectorised :func:`email_match_key`."""
    email = normalize_email_series(values).astype("str")
    local = email.str.replace(r"@[^@]*$", "", regex=True)
    domain = email.str.replace(r"^.*@", "", regex=True)
    domain = _map_unique(domain, mailbox_domain).astype("str")
    local = local.str.replace(r"\+.*$", "", regex=True)
    is_gmail = domain.isin(list(_GMAIL_DOMAINS)) & gmail_dots
    local = local.where(~is_gmail, local.str.replace(".", "", regex=False))
    key = local + "@" + domain
    ok = email.notna() & local.fillna("").str.len().gt(0)
    return key.astype(object).where(ok, None)


# ---------------------------------------------------------------------------------------------
# Phone
# ---------------------------------------------------------------------------------------------
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
        reg = _as_text_series(regions).str.upper().fillna(default_region)
        reg = reg.where(reg.str.fullmatch(r"[A-Z]{2}").fillna(False).astype(bool), default_region)
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


# ---------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------
#: Name particles written in lower case inside a display name and ignored in match keys
#: ("de La Fontaine", "Van der Berg" and "Lafontaine" / "Vanderberg" are typed interchangeably).
NAME_PARTICLES = frozenset(
    {"de", "du", "des", "d", "la", "le", "les", "l", "van", "von", "der", "den", "di", "da", "del"}
)


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
    canon = nickname_canon()
    a, b = a.astype(object), b.astype(object)
    ca = a.map(canon).fillna(a)
    cb = b.map(canon).fillna(b)
    same = (ca == cb) & ca.notna() & (a != b)
    return same.to_numpy(dtype=bool)


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
    text = re.sub(
        r"(?i)^(m\.|mr\.?|mrs\.?|ms\.?|mme\.?|mlle\.?|melle\.?|dr\.?|monsieur|madame|mademoiselle)\s+",
        "",
        text,
    )
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


# ---------------------------------------------------------------------------------------------
# Addresses
# ---------------------------------------------------------------------------------------------
#: Street-type abbreviations (French postal usage, plus a few English ones) -> full word.
STREET_ABBREVIATIONS: dict[str, str] = {
    "bd": "boulevard",
    "bld": "boulevard",
    "blvd": "boulevard",
    "boul": "boulevard",
    "boulv": "boulevard",
    "av": "avenue",
    "ave": "avenue",
    "avn": "avenue",
    "r": "rue",
    "chem": "chemin",
    "ch": "chemin",
    "che": "chemin",
    "pl": "place",
    "imp": "impasse",
    "all": "allee",
    "ale": "allee",
    "rte": "route",
    "fbg": "faubourg",
    "fg": "faubourg",
    "sq": "square",
    "qu": "quai",
    "qua": "quai",
    "crs": "cours",
    "pass": "passage",
    "pas": "passage",
    "res": "residence",
    "resid": "residence",
    "lot": "lotissement",
    "lt": "lotissement",
    "ham": "hameau",
    "vla": "villa",
    "st": "saint",
    "ste": "sainte",
    "gal": "general",
    "gen": "general",
    "mal": "marechal",
    "pdt": "president",
    "prof": "professeur",
    "dr": "docteur",
    "str": "strasse",
    "rd": "road",
    "ln": "lane",
    "b": "bis",
    "t": "ter",
    "q": "quater",
}
_REPEATERS = {"bis", "ter", "quater"}


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
    if text.isdigit() and country in ("FR", "MC", "DE", "IT", "ES") and 3 <= len(text) < 5:
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
    tokens = [{"st": "saint", "ste": "sainte"}.get(t, t) for t in folded.split()]
    key = " ".join(tokens)
    return key or None


# ---------------------------------------------------------------------------------------------
# Birth dates
# ---------------------------------------------------------------------------------------------
_EXCEL_EPOCH = dt.date(1899, 12, 30)
MIN_BIRTH_DATE = dt.date(1900, 1, 2)  # 1900-01-01 is a classic "unknown" placeholder
MIN_AGE_YEARS = 10


@lru_cache(maxsize=100_000)
def parse_birth_date(value: str | None, today: dt.date | None = None) -> dt.date | None:
    """A birth date from the formats source systems produce, or None if absent/implausible.

    Accepted: ISO ``1985-03-12`` (optionally with a time part), ``12/03/1985``, ``12-03-1985``,
    ``12.03.1985`` (day first: French sources), ``19850312``, Excel serial day numbers
    (``31118`` or ``31118.0``). Rejected (None): unparseable text, dates before 1900-01-02
    (``1900-01-01`` and ``0001-01-01`` are "unknown" placeholders) and dates that make the person
    younger than ten years old or born in the future, because a wrong birth date is worse than
    none for matching.
    """
    text = _clean_text(value)
    if text is None:
        return None
    today = today or dt.date.today()
    parsed: dt.date | None = None
    try:
        m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?", text)
        if m:
            parsed = dt.date(int(m[1]), int(m[2]), int(m[3]))
        elif m := re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:\s.*)?", text):
            parsed = dt.date(int(m[3]), int(m[2]), int(m[1]))
        elif (m := re.fullmatch(r"(\d{4})/(\d{1,2})/(\d{1,2})", text)) or (
            m := re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
        ):
            parsed = dt.date(int(m[1]), int(m[2]), int(m[3]))
        elif m := re.fullmatch(r"(\d{1,5})(?:\.0+)?", text):
            parsed = _EXCEL_EPOCH + dt.timedelta(days=int(m[1]))
    except (ValueError, OverflowError):
        return None
    if parsed is None or parsed < MIN_BIRTH_DATE:
        return None
    latest = dt.date(today.year - MIN_AGE_YEARS, today.month, min(today.day, 28))
    if parsed > latest:
        return None
    return parsed


_NUMERIC_DATE = re.compile(r"(\d{1,2})([/.-])(\d{1,2})[/.-](\d{4}|\d{2})(\s.*)?")


def detect_date_order(values: pd.Series) -> str:
    """``day_first`` or ``month_first`` for the ``NN/NN/YYYY`` dates of a column.

    A first number above 12 proves day-first (31/12/1985), a second number above 12 proves
    month-first (12/31/1985); the side with more proofs wins and day-first is the default
    (European sources), so a column of only ambiguous dates is read as DD/MM.
    """
    text = _as_text_series(values.astype(object)).dropna().drop_duplicates()
    parts = text.astype(object).str.extract("^" + _NUMERIC_DATE.pattern).dropna(subset=[0, 2])
    if parts.empty:
        return "day_first"
    first, second = parts[0].astype(int), parts[2].astype(int)
    month_first = int(((second > 12) & (first <= 12)).sum())
    day_first = int(((first > 12) & (second <= 12)).sum())
    return "month_first" if month_first > day_first else "day_first"


def _to_day_first(value: str, month_first: bool, today: dt.date) -> str:
    """``MM/DD/YYYY`` -> ``DD/MM/YYYY`` when ``month_first``; two-digit years get a century."""
    m = _NUMERIC_DATE.fullmatch(value)
    if not m:
        return value
    a, sep, b, year = m[1], m[2], m[3], m[4]
    if len(year) == 2:
        yy = int(year)
        year = str(2000 + yy if 2000 + yy <= today.year - MIN_AGE_YEARS else 1900 + yy)
    day, month = (b, a) if month_first else (a, b)
    return f"{day}{sep}{month}{sep}{year}"


def parse_birth_date_series(values: pd.Series, order: str = "day_first") -> pd.Series:
    """Vectorised :func:`parse_birth_date`: ISO strings (``YYYY-MM-DD``) or None per row.

    ``order`` says how ``NN/NN/YYYY`` is read (see :func:`detect_date_order`); two-digit years
    (``12/03/85``) take the century that makes the person at least ten years old.
    """
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        values = values.dt.strftime("%Y-%m-%d")
    elif values.dtype.kind == "f":
        values = values.map(lambda v: None if pd.isna(v) else f"{v:.0f}")
    month_first = order == "month_first"
    today = dt.date.today()

    def parse(v: str) -> str | None:
        d = parse_birth_date(_to_day_first(v, month_first, today))
        return d.isoformat() if d is not None else None

    return _map_unique(_as_text_series(values.astype(object)), parse)


def normalize_identifier_series(values: pd.Series) -> pd.Series:
    """A personal number typed by hand (social security, passport, member number): upper
    case, letters and digits only, ``.0`` of a spreadsheet number removed; None when empty."""
    text = _as_text_series(values.astype(object)).str.upper()
    text = text.str.replace(r"\.0+$", "", regex=True).str.replace(r"[^0-9A-Z]+", "", regex=True)
    return text.astype(object).where(text.fillna("").str.len().gt(0), None)


# Vectorised wrappers for the name, street and city keys (distinct values only).
def fold_name_series(values: pd.Series) -> pd.Series:
    return _map_unique(_as_text_series(values), fold_name)


def name_key_series(values: pd.Series) -> pd.Series:
    return _map_unique(_as_text_series(values), name_key)


def first_name_key_series(values: pd.Series) -> pd.Series:
    return _map_unique(_as_text_series(values), first_name_key)


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
