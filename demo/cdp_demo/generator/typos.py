"""The generator's own error model: how people and machines mistype a value.

Nothing here is shared with the matcher (cdp/normalize.py): typos come from keyboard
neighbours (AZERTY and QWERTY), spelling by ear (French and Spanish sound-alikes), OCR
confusions and plain edits; diminutives come from `diminutives.csv`; e-mail domain typos are
edits of the domain itself. Each function takes one value and the generator's random stream
and returns one noisy value (or the value itself when no error of that kind applies), so
noise.py can build per-value variant tables.
"""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path

import numpy as np

DIMINUTIVES_CSV = Path(__file__).with_name("diminutives.csv")

# Keyboard rows, left to right; each row is shifted half a key right of the one above.
LAYOUTS = {
    "azerty": ("1234567890", "azertyuiop", "qsdfghjklm", "wxcvbn"),
    "qwerty": ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm"),
}


def _neighbours(rows: tuple[str, ...]) -> dict[str, str]:
    """Keys touching each key: same row left/right, row above (i, i+1), row below (i-1, i)."""
    out: dict[str, str] = {}
    for r, row in enumerate(rows):
        for i, key in enumerate(row):
            near = [row[j] for j in (i - 1, i + 1) if 0 <= j < len(row)]
            if r > 0:
                near += [rows[r - 1][j] for j in (i, i + 1) if j < len(rows[r - 1])]
            if r + 1 < len(rows):
                near += [rows[r + 1][j] for j in (i - 1, i) if 0 <= j < len(rows[r + 1])]
            out[key] = "".join(near)
    return out


KEYBOARD = {name: _neighbours(rows) for name, rows in LAYOUTS.items()}

# Spelling by ear (French and Spanish): (written, heard-as) pairs. SOUND_ALIKE applies in
# either direction, HEARD_AS only one way; a silent initial h is dropped separately.
SOUND_ALIKE = (
    ("ph", "f"),
    ("y", "i"),
    ("ss", "s"),
    ("qu", "k"),
    ("c", "k"),
    ("b", "v"),
    ("th", "t"),
    ("ai", "é"),
    ("é", "è"),
    ("en", "an"),
    ("tion", "sion"),
    ("z", "s"),
    ("in", "ain"),
    ("on", "om"),
)
HEARD_AS = (
    ("ç", "ss"),
    ("ss", "c"),
    ("eau", "o"),
    ("au", "o"),
    ("ll", "y"),
    ("ë", "e"),
    ("ï", "i"),
    ("é", "e"),
    ("gu", "g"),
    ("x", "ks"),
    ("ard", "ar"),
)
# What a scanner or a form reader sees instead of the printed characters.
OCR = (
    ("rn", "m"),
    ("m", "rn"),
    ("l", "1"),
    ("I", "l"),
    ("i", "1"),
    ("O", "0"),
    ("o", "0"),
    ("cl", "d"),
    ("d", "cl"),
    ("vv", "w"),
    ("w", "vv"),
    ("e", "c"),
    ("h", "b"),
    ("S", "5"),
)


def _letters(value: str) -> list[int]:
    return [i for i, c in enumerate(value) if c.isalpha()]


def _match_case(new: str, old: str) -> str:
    return new.upper() if old.isupper() and len(old) == 1 else new


def keyboard(value: str, rng: np.random.Generator, first: int = 1, shortest: int = 4) -> str:
    """One letter replaced by, or doubled with, a key next to it (fat finger).

    The first `first` characters are kept (people check the start of what they type).
    """
    pos = [i for i in _letters(value)[first:] if value[i].lower() in KEYBOARD["qwerty"]]
    if len(value) < shortest or not pos:
        return value
    layout = "azerty" if rng.random() < 0.7 else "qwerty"
    i = pos[int(rng.integers(len(pos)))]
    near = KEYBOARD[layout].get(value[i].lower(), "")
    near = "".join(c for c in near if c.isalpha()) or near
    if not near:
        return value
    key = _match_case(near[int(rng.integers(len(near)))], value[i])
    if rng.random() < 0.7:
        return value[:i] + key + value[i + 1 :]
    return value[: i + 1] + key + value[i + 1 :]


def _rewrite(value: str, pairs: list[tuple[str, str]], rng: np.random.Generator) -> str:
    """Apply one applicable (a -> b) rule at one of its places.

    Matching ignores case; the first letter changes only for another letter (Ph -> F, not
    S -> Ss) and stays upper case.
    """
    lower = value.lower()
    options = [
        (m.start(), a, b)
        for a, b in pairs
        for m in re.finditer(re.escape(a.lower()), lower)
        if m.start() > 0 or b[:1] != a[:1]
    ]
    if not options:
        return value
    at, a, b = options[int(rng.integers(len(options)))]
    if at == 0 and value[:1].isupper():
        b = b[:1].upper() + b[1:]
    return value[:at] + b + value[at + len(a) :]


_PHONETIC = [*SOUND_ALIKE, *((b, a) for a, b in SOUND_ALIKE), *HEARD_AS]


def phonetic(value: str, rng: np.random.Generator) -> str:
    """A sound-alike spelling (Stéphanie -> Stefanie, Beaumont -> Bomont, Yvan -> Ivan)."""
    if len(value) < 3:
        return value
    if value[0] in "Hh" and len(value) > 3 and rng.random() < 0.3:
        return value[1].upper() + value[2:]  # silent h
    return _rewrite(value, _PHONETIC, rng)


def ocr(value: str, rng: np.random.Generator) -> str:
    """A scanning confusion (Bernard -> Bemard, Claude -> Daude, Olivier -> 0livier)."""
    if len(value) < 3:
        return value
    if value[0] == "O" and rng.random() < 0.2:
        return "0" + value[1:]
    if value[:2] == "Cl" and rng.random() < 0.3:
        return "D" + value[2:]
    return _rewrite(value, list(OCR), rng)


def edit(value: str, rng: np.random.Generator, kind: str) -> str:
    """Transposition, deletion or doubling of one inner letter (`swap`, `drop`, `double`)."""
    letters = _letters(value)
    if len(letters) < 4:
        return value
    pos = letters[int(rng.integers(1, len(letters) - 1))]
    if kind == "swap" and pos + 1 < len(value) and value[pos + 1].isalpha():
        return value[:pos] + value[pos + 1] + value[pos] + value[pos + 2 :]
    if kind == "drop":
        return value[:pos] + value[pos + 1 :]
    return value[:pos] + value[pos] + value[pos:]


def any_typo(value: str, rng: np.random.Generator) -> str:
    """One error of any kind above, for values typed with no particular habit (e-mails)."""
    kind = int(rng.integers(5))
    if kind == 0:
        return keyboard(value, rng)
    if kind == 1:
        return phonetic(value, rng)
    return edit(value, rng, ("swap", "drop", "double")[kind - 2])


@cache
def diminutives() -> dict[str, tuple[str, ...]]:
    """Given name -> the diminutives people write instead (diminutives.csv)."""
    table: dict[str, list[str]] = {}
    with DIMINUTIVES_CSV.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            table.setdefault(row["given_name"], []).append(row["diminutive"])
    return {name: tuple(values) for name, values in table.items()}


def diminutive(value: str, rng: np.random.Generator) -> str:
    options = diminutives().get(value)
    return options[int(rng.integers(len(options)))] if options else value


def domain_typo(domain: str, rng: np.random.Generator, real: frozenset[str]) -> str:
    """The domain with one keyboard or edit error in its name or its suffix.

    Never another real domain (that would hand the address to someone else), and always a
    well-formed domain (letters, digits, hyphens and the dot kept).
    """
    name, dot, suffix = domain.rpartition(".")
    if not dot:
        return domain + "m"
    for _ in range(8):
        if rng.random() < 0.25:
            new = f"{name}.{keyboard(suffix, rng, first=0, shortest=2)}"
        else:
            label = any_typo(name, rng) if rng.random() < 0.5 else keyboard(name, rng)
            new = f"{label}.{suffix}"
        if new != domain and new not in real and re.fullmatch(r"[a-z0-9.-]+", new.lower()):
            return new.lower()
    return f"{name}.{suffix}{suffix[-1]}"
