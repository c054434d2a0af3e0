"""Errors on whole fields that only some profiles draw: dates, surnames, postcodes, streets.

Each function takes the field's values, a per-record mask of where to err and the random
stream, and returns the new values with the mask of records that really changed (a swap of
day and month on the 5th of May changes nothing, and is not reported as noise).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EPOCH = np.datetime64("1970-01-01", "D")
STREET_ABBREVIATIONS = (  # (pattern, what people write instead)
    (r"\brue\b", ("r.", "r")),
    (r"\bavenue\b", ("av.", "ave", "av")),
    (r"\bboulevard\b", ("bd", "bld", "boul.")),
    (r"\bplace\b", ("pl.", "pl")),
    (r"\ballée\b", ("all.", "allee")),
    (r"\bchemin\b", ("ch.", "chem.")),
    (r"\bimpasse\b", ("imp.", "imp")),
    (r"\bquai\b", ("q.", "qu.")),
    (r"\bcours\b", ("crs",)),
    (r"\bSaint\b", ("St", "St.")),
    (r"\bSainte\b", ("Ste",)),
    (r"\bGénéral\b", ("Gal", "Gén.")),
    (r"\bMaréchal\b", ("Mal", "Mar.")),
)


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    stamp = pd.DatetimeIndex(EPOCH + days.astype("timedelta64[D]"))
    return stamp.year.to_numpy(), stamp.month.to_numpy(), stamp.day.to_numpy()


def _days(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Day numbers of (year, month, day); a 29 February of a common year becomes the 28th."""
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    day = np.where((month == 2) & (day == 29) & ~leap, 28, day)
    frame = pd.DataFrame({"year": year, "month": month, "day": day})
    return (pd.to_datetime(frame).to_numpy().astype("datetime64[D]") - EPOCH).astype(np.int64)


def day_month_swap(days: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A date typed DD/MM read as MM/DD (or the reverse): only days 1-12 can be swapped."""
    y, m, d = _ymd(days)
    hit = mask & (d <= 12) & (d != m)
    out = days.copy()
    if hit.any():
        out[hit] = _days(y[hit], d[hit], m[hit])
    return out, hit


def year_typo(
    days: np.ndarray, mask: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The two last digits of the year swapped (1985 -> 1958) or one of them off by one."""
    y, m, d = _ymd(days)
    tens, units = (y // 10) % 10, y % 10
    options = np.stack(
        [
            y - 10 * tens - units + 10 * units + tens,  # digits swapped
            y + np.where(units == 9, -1, 1),
            y + np.where(units == 0, 1, -1),
            y + np.where(tens == 9, -10, 10),
        ]
    )
    pick = options[rng.integers(0, 4, days.size), np.arange(days.size)]
    hit = mask & (pick != y) & (pick >= 1900) & (pick <= 2020)
    out = days.copy()
    if hit.any():
        out[hit] = _days(pick[hit], m[hit], d[hit])
    return out, hit


def double_surnames(
    last: np.ndarray,
    mask: np.ndarray,
    rng: np.random.Generator,
    pool: np.ndarray,
    spanish: np.ndarray,
    maiden: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Two surnames where one is expected: Spanish father's and mother's, hyphenated, married.

    Spanish persons write their second surname after a space; a married woman adds her maiden
    name (`Martin-Durand`, `Martin née Durand`); others a second family name with a hyphen.
    """
    n = last.size
    second = pool[rng.integers(0, pool.size, n)]
    married = pd.notna(maiden) & (maiden != last)
    second = np.where(married, maiden, second)
    style = rng.random(n)
    sep = np.where(
        spanish, " ", np.where(married & (style < 0.4), " née ", np.where(style < 0.8, "-", " "))
    )
    hit = mask & pd.notna(last) & (second != last)
    out = last.copy()
    out[hit] = (
        pd.Series(last[hit], dtype=object) + pd.Series(sep[hit]) + pd.Series(second[hit])
    ).to_numpy(dtype=object)
    return out, hit


def postcode_edit(
    postcode: np.ndarray, mask: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """One digit of the postcode off by one, or two neighbouring digits swapped."""
    out = postcode.copy()
    hit = np.zeros(postcode.size, dtype=bool)
    for i in np.flatnonzero(mask & pd.notna(postcode)):
        code = str(postcode[i])
        digits = [j for j, c in enumerate(code) if c.isdigit()]
        if len(digits) < 4:
            continue
        j = digits[int(rng.integers(1, len(digits)))]  # the first digit (department) is kept
        if rng.random() < 0.6 or j + 1 >= len(code) or not code[j + 1].isdigit():
            digit = (int(code[j]) + (1 if rng.random() < 0.5 else 9)) % 10
            new = code[:j] + str(digit) + code[j + 1 :]
        else:
            new = code[:j] + code[j + 1] + code[j] + code[j + 2 :]
        out[i], hit[i] = new, new != code
    return out, hit


def street_abbreviation(
    street: np.ndarray, mask: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Street types and titles abbreviated the way people write them (av., bd, r., St)."""
    rows = np.flatnonzero(mask & pd.notna(street))
    values = pd.Series(street[rows], dtype=object).astype(str)
    for pattern, forms in STREET_ABBREVIATIONS:
        form = rng.integers(0, len(forms), rows.size)
        for k, short in enumerate(forms):
            pick = form == k
            values[pick] = values[pick].str.replace(pattern, short, n=1, regex=True)
    out = street.copy()
    out[rows] = values.to_numpy(dtype=object)
    hit = np.zeros(street.size, dtype=bool)
    hit[rows] = values.to_numpy(dtype=object) != street[rows]
    return out, hit
