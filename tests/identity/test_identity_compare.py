"""Comparison levels of the shipped config on value pairs written by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from identity import load_config
from identity.compare import level_index

CONFIG = Path(__file__).resolve().parents[2] / "config" / "identity.yaml"


def _levels_of(field: str, pairs: list[tuple[str, str]]) -> list[str]:
    comparison = next(c for c in load_config(CONFIG).probabilistic.comparisons if c.field == field)
    values = sorted({v for pair in pairs for v in pair})
    code = {v: i for i, v in enumerate(values)}
    ca = np.array([code[a] for a, _ in pairs], dtype=np.int64)
    cb = np.array([code[b] for _, b in pairs], dtype=np.int64)
    idx = level_index(comparison.levels, ca, cb, np.array(values, dtype=object))
    return [comparison.levels[i].name for i in idx]


def test_street_typos_keep_the_number_and_fall_below_same():
    pairs = [
        ("16 wilshire street erinsvale", "16 erinsvale wilshire street"),  # order
        ("16 wilshiredstreet erinsavle", "16 wilshire street erinsvale"),  # run together, swap
        ("2 lambrigg treet craigie ela garden", "2 lambrigg street craigie lea garden"),
        ("16 wilshiredstreet erinsavle", "18 wilshire street erinsvale"),  # another number
        ("16 wilshire street erinsvale", "7 ferguson circuit crown allotment"),
    ]
    assert _levels_of("street", pairs) == ["same", "typo", "same", "different", "different"]


def test_an_email_typo_is_not_another_mailbox_of_the_home():
    pairs = [
        ("jean.martin@gmail.com", "jean.martin@gmail.com"),
        ("jean.martin@gmail.com", "jean.matrin@gmail.com"),  # letters swapped
        ("jean.martin@gmail.com", "jean.marti@gmail.com"),  # one dropped
        ("jean.martin@gmail.com", "jean.matrin@orange.fr"),  # another domain
        ("marie.d@gmail.com", "marie_d@gmail.com"),  # separators only
        ("jeanrobert@gmail.com", "jeanrobert2@gmail.com"),  # digits only
        ("e.willems@outlook.com", "l.willems@outlook.com"),  # Emma and Louise
    ]
    levels = _levels_of("email", pairs)
    assert levels == ["same", "one_typo", "one_typo"] + ["different"] * 4


def test_birth_date_levels():
    pairs = [
        ("1985-03-12", "1985-03-12"),
        ("1985-03-12", "1985-12-03"),  # day and month swapped
        ("1985-03-12", "1985-03-13"),  # one digit
        ("1985-03-12", "1985-03-21"),  # two adjacent digits swapped
        ("1985-03-12", "1991-03-12"),  # same day and month, another year
        ("1985-03-12", "1985-04-22"),  # two digits
        ("1985-03-12", "1962-11-30"),
    ]
    levels = _levels_of("birth_date", pairs)
    assert levels == ["exact", "typo", "typo", "typo", "same_day_month", "two_digits", "different"]


def test_phone_and_name_prefix_levels():
    phones = [("+33612345678", "+33712345678"), ("+33612345678", "+33612345679")]
    assert _levels_of("phone", phones) == ["last_digits", "one_typo"]
    names = [("m", "marie"), ("marie", "marie claire"), ("marie", "mraie")]
    assert _levels_of("first_name", names) == ["initial", "compound", "one_edit"]
