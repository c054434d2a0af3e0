"""Vectorised noise: name typos, accents, diminutives, case, e-mail variants, phone formats.

Noise on names is applied through variant tables: every distinct value gets a small row of
pre-computed variants (a Python loop over distinct values only, a few hundred), then each
record picks its variant with one `numpy.take`. Rates are parameters, and the variant chosen
for each record is returned so the generator can report measured rates. The errors themselves
come from the generator's own model (typos.py), not from the matcher's tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from unidecode import unidecode

from cdp_demo.generator import typos as T
from cdp_demo.generator.names import CORPORATE_DOMAINS, PERSONAL_DOMAINS

# name variant codes (the last four are drawn only by profiles that ask for them)
EXACT, NO_ACCENT, SWAP, DROP, DOUBLE, UPPER, LOWER, NICK, SPACES = range(9)
KEYBOARD, PHONETIC, OCR, UPPER_PLAIN = range(9, 13)
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
    "typo_keyboard",
    "typo_phonetic",
    "typo_ocr",
    "upper_no_accent",
)
_EXTRA = {
    KEYBOARD: T.keyboard,
    PHONETIC: T.phonetic,
    OCR: T.ocr,
    UPPER_PLAIN: lambda value, rng: unidecode(value).upper(),
}


def variant_table(
    uniques: np.ndarray, rng: np.random.Generator, nicknames: bool, extra: frozenset = frozenset()
) -> np.ndarray:
    """One row of variants per distinct value, columns indexed by the variant codes.

    The `extra` codes are computed only when asked for, so a profile that does not draw them
    leaves the random stream as it was.
    """
    table = np.empty((len(uniques), len(NAME_VARIANTS)), dtype=object)
    for i, value in enumerate(uniques):
        value = str(value)
        table[i, :] = value
        table[i, NO_ACCENT] = unidecode(value)
        table[i, SWAP] = T.edit(value, rng, "swap")
        table[i, DROP] = T.edit(value, rng, "drop")
        table[i, DOUBLE] = T.edit(value, rng, "double")
        table[i, UPPER] = value.upper()
        table[i, LOWER] = value.lower()
        table[i, NICK] = T.diminutive(value, rng) if nicknames else value
        table[i, SPACES] = f" {value}  " if i % 2 else value.replace(" ", "  ") + " "
        for code in sorted(extra):
            table[i, code] = _EXTRA[code](value, rng)
    return table


def draw_codes(n: int, rng: np.random.Generator, probs: dict[int, float]) -> np.ndarray:
    """A variant code per record; codes not listed keep the remaining mass on EXACT."""
    p = np.zeros(_N_CODES)
    for code, prob in probs.items():
        p[code] = prob
    p[EXACT] = 1.0 - p.sum()
    return rng.choice(_N_CODES, size=n, p=p).astype(np.int8)


def apply_variants(
    values: np.ndarray, codes: np.ndarray, rng: np.random.Generator, nicknames: bool = False
) -> np.ndarray:
    """Noisy copy of `values` (object array, may hold None) following `codes`."""
    out = np.array(values, dtype=object)
    valid = pd.notna(out)
    idx, uniques = pd.factorize(out[valid], sort=True)
    extra = frozenset(int(c) for c in np.unique(codes[valid])) & frozenset(_EXTRA)
    table = variant_table(np.asarray(uniques, dtype=object), rng, nicknames, extra)
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
E_LOCAL_TYPO = 9
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
    "local_part_typo",
)
# name and e-mail codes are drawn over one range (zero weights draw nothing, and appending a
# kind leaves the draws of the others unchanged)
_N_CODES = max(len(NAME_VARIANTS), len(EMAIL_VARIANTS))
REAL_DOMAINS = frozenset(PERSONAL_DOMAINS) | frozenset(CORPORATE_DOMAINS)


def _choose(codes: np.ndarray, variants: list[pa.Array]) -> np.ndarray:
    """Per row, the variant named by its code (one Arrow `choose`, no Python loop)."""
    out = pc.choose(pa.array(np.asarray(codes, dtype=np.int8)), *variants)
    return out.to_numpy(zero_copy_only=False)


def _join(*parts, sep: str = "") -> pa.Array:
    return pc.binary_join_element_wise(*parts, sep)


def _typed(values: pa.Array, rows: np.ndarray, rng: np.random.Generator, typo) -> pa.Array:
    """`values` with `typo(value, rng)` applied on `rows` only (a loop over those rows)."""
    out = values.to_numpy(zero_copy_only=False).copy()
    for i in np.flatnonzero(rows & pd.notna(out)):
        out[i] = typo(out[i], rng)
    return pa.array(out, pa.string(), from_pandas=True)


def email_variants(
    email: np.ndarray, alt: np.ndarray, codes: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Apply e-mail variant codes; the variants are Arrow string kernels, except the typos.

    Domain and local-part typos are drawn from the generator's own error model on the rows
    that ask for them; a typo never yields a domain that exists (it would be someone else's).
    """
    codes = np.asarray(codes, dtype=np.int8)
    e = pa.array(np.asarray(email, dtype=object), pa.string(), from_pandas=True)
    n = len(e)
    parts = pc.split_pattern(e, "@", max_splits=1)
    local = pc.list_element(parts, 0)
    domain = pc.list_element(parts, 1)
    gmail = pc.equal(domain, "gmail.com")
    dotted = pc.if_else(
        pc.match_substring(local, "."),
        pc.replace_substring(local, ".", ""),
        _join(pc.utf8_slice_codeunits(local, 0, 3), pc.utf8_slice_codeunits(local, 3), sep="."),
    )
    real = REAL_DOMAINS | frozenset(pc.unique(domain).drop_null().to_pylist())
    typo_dom = _typed(domain, codes == E_DOMAIN_TYPO, rng, lambda d, r: T.domain_typo(d, r, real))
    typo_local = _typed(local, codes == E_LOCAL_TYPO, rng, T.any_typo)
    variants = [
        e,
        _join(pc.utf8_capitalize(local), pc.utf8_capitalize(domain), sep="@"),
        pc.utf8_upper(e),
        _join(local, domain, sep="+horizon@"),
        pc.if_else(gmail, _join(dotted, domain, sep="@"), e),
        _join(local, typo_dom, sep="@"),
        pa.array(np.asarray(alt, dtype=object), pa.string(), from_pandas=True),
        pa.nulls(n, pa.string()),
        _join(" ", e, " "),
        _join(typo_local, domain, sep="@"),
    ]
    return _choose(codes, variants)


# phone format codes
P_SPACED, P_INTL_SPACED, P_0033, P_DOTS, P_COMPACT, P_E164, P_MISSING, P_INTL_TRUNK = range(8)
PHONE_FORMATS = (
    "spaced",
    "intl_spaced",
    "00_prefix",
    "dotted",
    "compact",
    "e164",
    "missing",
    "intl_trunk_zero",
)


def format_phones(cc: np.ndarray, nsn: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Format (country code, national significant number) pairs in the requested styles.

    French numbers get national styles (`06 12 34 56 78`, `06.12.34.56.78`, `0612345678`);
    other countries get the international styles only. `+33 (0)6 12 34 56 78` keeps the
    trunk zero the way business cards print it.
    """
    c = pa.array(np.asarray(cc, dtype=object), pa.string(), from_pandas=True)
    num = pa.array(np.asarray(nsn, dtype=object), pa.string(), from_pandas=True)
    fr = pc.equal(c, "33").to_numpy(zero_copy_only=False)
    head = pc.utf8_slice_codeunits(num, 0, 1)
    pairs = [pc.utf8_slice_codeunits(num, i, i + 2) for i in range(1, 9, 2)]
    plus = _join("+", c)
    intl = pc.if_else(
        pa.array(fr),
        _join(plus, head, *pairs, sep=" "),
        _join(plus, pc.utf8_slice_codeunits(num, 0, 3), pc.utf8_slice_codeunits(num, 3), sep=" "),
    )
    variants = [
        _join(_join("0", head), *pairs, sep=" "),  # P_SPACED
        intl,  # P_INTL_SPACED
        _join("00", c, num),  # P_0033
        _join(_join("0", head), *pairs, sep="."),  # P_DOTS
        _join("0", num),  # P_COMPACT
        _join(plus, num),  # P_E164
        pa.nulls(len(num), pa.string()),  # P_MISSING
        pc.if_else(  # P_INTL_TRUNK
            pa.array(fr),
            _join(plus, _join("(0)", head), *pairs, sep=" "),
            _join(plus, _join("(0)", num), sep=" "),
        ),
    ]
    codes = np.asarray(codes).copy()
    national = (codes == P_SPACED) | (codes == P_DOTS) | (codes == P_COMPACT)
    codes[national & ~fr] = P_INTL_SPACED
    return _choose(codes, variants)
