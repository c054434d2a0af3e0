"""Vectorised noise: name typos, accents, nicknames, case, e-mail variants, phone formats.

Noise on names is applied through variant tables: every distinct value gets a small row of
pre-computed variants (a Python loop over distinct values only, a few hundred), then each
record picks its variant with one `numpy.take`. Rates are parameters, and the variant chosen
for each record is returned so the generator can report measured rates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from unidecode import unidecode

from ingestion.generator.names import DOMAIN_TYPOS, NICKNAMES

# name variant codes
EXACT, NO_ACCENT, SWAP, DROP, DOUBLE, UPPER, LOWER, NICK, SPACES = range(9)
NAME_VARIANTS = (
    "exact",
    "no_accent",
    "typo_swap",
    "typo_drop",
    "typo_double",
    "upper",
    "lower",
    "nickname",
    "whitespace",
)


def _typo(value: str, kind: int, rng: np.random.Generator) -> str:
    letters = [i for i, c in enumerate(value) if c.isalpha()]
    if len(letters) < 4:
        return value
    pos = letters[int(rng.integers(1, len(letters) - 1))]
    if kind == SWAP and pos + 1 < len(value) and value[pos + 1].isalpha():
        return value[:pos] + value[pos + 1] + value[pos] + value[pos + 2 :]
    if kind == DROP:
        return value[:pos] + value[pos + 1 :]
    return value[:pos] + value[pos] + value[pos:]


def variant_table(uniques: np.ndarray, rng: np.random.Generator, nicknames: bool) -> np.ndarray:
    """One row of variants per distinct value, columns indexed by the variant codes."""
    table = np.empty((len(uniques), len(NAME_VARIANTS)), dtype=object)
    for i, value in enumerate(uniques):
        value = str(value)
        table[i, EXACT] = value
        table[i, NO_ACCENT] = unidecode(value)
        table[i, SWAP] = _typo(value, SWAP, rng)
        table[i, DROP] = _typo(value, DROP, rng)
        table[i, DOUBLE] = _typo(value, DOUBLE, rng)
        table[i, UPPER] = value.upper()
        table[i, LOWER] = value.lower()
        table[i, NICK] = NICKNAMES.get(value, value) if nicknames else value
        table[i, SPACES] = f" {value}  " if i % 2 else value.replace(" ", "  ") + " "
    return table


def draw_codes(n: int, rng: np.random.Generator, probs: dict[int, float]) -> np.ndarray:
    """A variant code per record; codes not listed keep the remaining mass on EXACT."""
    p = np.zeros(len(NAME_VARIANTS))
    for code, prob in probs.items():
        p[code] = prob
    p[EXACT] = 1.0 - p.sum()
    return rng.choice(len(NAME_VARIANTS), size=n, p=p).astype(np.int8)


def apply_variants(
    values: np.ndarray, codes: np.ndarray, rng: np.random.Generator, nicknames: bool = False
) -> np.ndarray:
    """Noisy copy of `values` (object array, may hold None) following `codes`."""
    out = np.array(values, dtype=object)
    valid = pd.notna(out)
    idx, uniques = pd.factorize(out[valid], sort=True)
    table = variant_table(np.asarray(uniques, dtype=object), rng, nicknames)
    out[valid] = table[idx, codes[valid]]
    return out


def fold(values: np.ndarray) -> np.ndarray:
    """ASCII, lower-case, alphanumerics only: the e-mail local-part form of a name."""
    idx, uniques = pd.factorize(np.asarray(values, dtype=object), sort=True)
    folded = np.array(
        ["".join(c for c in unidecode(str(u)).lower() if c.isalnum()) for u in uniques],
        dtype=object,
    )
    return folded[idx]


# e-mail variant codes
E_EXACT, E_CASE, E_UPPER, E_PLUS, E_DOTS, E_DOMAIN_TYPO, E_ALT, E_MISSING, E_SPACES = range(9)
EMAIL_VARIANTS = (
    "exact",
    "mixed_case",
    "upper",
    "plus_addressing",
    "gmail_dots",
    "domain_typo",
    "other_address",
    "missing",
    "whitespace",
)


def email_variants(email: np.ndarray, alt: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Apply e-mail variant codes (vectorised with pandas string methods)."""
    s = pd.Series(email, dtype=object)
    out = s.copy()
    local = s.str.split("@").str[0]
    domain = s.str.split("@").str[1]
    m = codes == E_CASE
    out[m] = local[m].str.capitalize() + "@" + domain[m].str.capitalize()
    m = codes == E_UPPER
    out[m] = s[m].str.upper()
    m = codes == E_PLUS
    out[m] = local[m] + "+horizon@" + domain[m]
    m = (codes == E_DOTS) & (domain == "gmail.com").to_numpy()
    loc = local[m]
    has_dot = loc.str.contains(".", regex=False)
    undotted = loc.str.replace(".", "", regex=False)
    dotted = loc.str.slice(0, 3) + "." + loc.str.slice(3)
    out[m] = undotted.where(has_dot, dotted) + "@gmail.com"
    m = codes == E_DOMAIN_TYPO
    out[m] = local[m] + "@" + domain[m].map(lambda d: DOMAIN_TYPOS.get(d, d + "m"))
    m = codes == E_ALT
    out[m] = pd.Series(alt, dtype=object)[m]
    m = codes == E_MISSING
    out[m] = None
    m = codes == E_SPACES
    out[m] = " " + s[m] + " "
    return out.to_numpy(dtype=object)


# phone format codes
P_SPACED, P_INTL_SPACED, P_0033, P_DOTS, P_COMPACT, P_E164, P_MISSING = range(7)
PHONE_FORMATS = ("spaced", "intl_spaced", "00_prefix", "dotted", "compact", "e164", "missing")


def format_phones(cc: np.ndarray, nsn: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Format (country code, national significant number) pairs in the requested styles.

    French numbers get national styles (`06 12 34 56 78`, `06.12.34.56.78`, `0612345678`);
    other countries get the international styles only.
    """
    cc_s = pd.Series(cc, dtype=object).astype(str)
    n = pd.Series(nsn, dtype=object).astype(str)
    fr = (cc_s == "33").to_numpy()
    pairs = [n.str.slice(i, i + 2) for i in range(1, 9, 2)]
    head = n.str.slice(0, 1)
    spaced_nat = "0" + head + " " + pairs[0] + " " + pairs[1] + " " + pairs[2] + " " + pairs[3]
    dotted_nat = "0" + head + "." + pairs[0] + "." + pairs[1] + "." + pairs[2] + "." + pairs[3]
    intl_fr = (
        "+" + cc_s + " " + head + " " + pairs[0] + " " + pairs[1] + " " + pairs[2] + " " + pairs[3]
    )
    intl_other = "+" + cc_s + " " + n.str.slice(0, 3) + " " + n.str.slice(3)
    intl_spaced = intl_fr.where(fr, intl_other)
    e164 = "+" + cc_s + n
    out = e164.copy()
    out[codes == P_INTL_SPACED] = intl_spaced[codes == P_INTL_SPACED]
    out[codes == P_0033] = ("00" + cc_s + n)[codes == P_0033]
    m = (codes == P_SPACED) & fr
    out[m] = spaced_nat[m]
    m = (codes == P_DOTS) & fr
    out[m] = dotted_nat[m]
    m = (codes == P_COMPACT) & fr
    out[m] = ("0" + n)[m]
    m = ((codes == P_SPACED) | (codes == P_DOTS) | (codes == P_COMPACT)) & ~fr
    out[m] = intl_spaced[m]
    out[codes == P_MISSING] = None
    res = out.to_numpy(dtype=object)
    res[pd.isna(nsn)] = None
    return res
