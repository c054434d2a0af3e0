"""Work done once per distinct value gives what the work per row or per pair gave.

Three shortcuts of the engine at scale: the normalisers run on the distinct values of a column
(``distinct.per_distinct``), the parts a comparison level reads are derived once per value for
the run (``value_space.ValueSpace``), and attribute profiles are grouped by one hash of the
record's codes (``profiles._grouped``), checked exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdp import normalize as nz
from identity import load_config
from identity import profiles as pr
from identity import value_space as vs
from identity.compare import PairValues, level_index
from identity.distinct import per_distinct


def _exact_groups(columns: list[np.ndarray]) -> np.ndarray:
    rows = list(zip(*(c.tolist() for c in columns), strict=True))
    number: dict[tuple, int] = {}
    return np.array([number.setdefault(r, len(number)) for r in rows], dtype=np.int64)


def test_profiles_grouped_by_hash_are_the_exact_groups():
    rng = np.random.default_rng(7)
    columns = [rng.integers(-1, k, 20_000) for k in (3, 5, 40, 2, 7)]
    assert (pr._grouped(columns, 20_000) == _exact_groups(columns)).all()


def test_a_hash_collision_falls_back_to_exact_grouping(monkeypatch):
    """Every row hashed alike: the check sees columns that differ inside a group."""
    rng = np.random.default_rng(8)
    columns = [rng.integers(-1, k, 5_000) for k in (4, 9)]
    monkeypatch.setattr(pr.pd.util, "hash_array", lambda v: np.zeros(len(v), np.uint64))
    assert (pr._grouped(columns, 5_000) == _exact_groups(columns)).all()


def test_normalisers_on_distinct_values_equal_the_row_by_row_result():
    emails = pd.Series(["Marie+promo@GMAIL.com", None, "bad", "marie+promo@gmail.com", "bad"] * 3)
    phones = pd.Series(["06 12 34 56 78", "612345678", None, "06 12 34 56 78", "+41 79 123 45 67"])
    countries = pd.Series(["FR", "FR", "CH", "CH", None])
    assert per_distinct(nz.email_match_key_series, emails).tolist() == (
        nz.email_match_key_series(emails).tolist()
    )
    assert per_distinct(nz.normalize_phone_series, phones, countries).tolist() == (
        nz.normalize_phone_series(phones, countries).tolist()
    )


def test_value_space_parts_are_derived_for_the_values_asked_only():
    """Parts are derived on first use of a value, coded consistently across uses (equal
    text, equal code), and kept as text where an edit distance reads them."""
    space = vs.ValueSpace(
        np.array(["12 rue a", "3 bd b", "12 bis rue c", "x", "3 av"], dtype=object)
    )
    digits = space.parts(vs.digits, np.array([0, 2]))["digits"]
    assert digits[0] == digits[2]
    _store, done = space._parts["digits"]
    assert done.tolist() == [True, False, True, False, False]
    digits = space.parts(vs.digits, np.array([1, 3, 4]))["digits"]
    assert digits[1] == digits[4] and len({digits[0], digits[1], digits[3]}) == 3
    mails = vs.ValueSpace(np.array(["jean.m@x.fr", "jean_m@x.fr"], dtype=object))
    got = mails.parts(vs.email_parts, np.array([0, 1]))
    assert got["local"].tolist() == ["jean.m", "jean_m"]
    assert got["bare"][0] == got["bare"][1] and got["domain"][0] == got["domain"][1]


@pytest.mark.parametrize(
    "field,pairs",
    [
        ("street", [("16 rue de la paix", "16 rue de la paix"), ("16 rue paix", "18 rue paix")]),
        ("phone", [("+33612345678", "+33712345678"), ("+33612345678", "+41612345678")]),
        ("birth_date", [("1985-03-12", "1985-12-03"), ("1985-03-12", "1986-03-12")]),
        ("email", [("jean.martin@gmail.com", "jean.matrin@gmail.com"), ("a@x.fr", "b@x.fr")]),
        ("first_name", [("m", "marie"), ("marie", "marie claire")]),
    ],
)
def test_one_space_shared_by_many_chunks_gives_each_chunk_its_own_levels(field, pairs):
    """A space that already derived other values' parts, and one made fresh, give the same
    levels (what stage 3's chunks do with the run's one space)."""
    comparison = next(c for c in load_config().probabilistic.comparisons if c.field == field)
    values = np.array(sorted({v for p in pairs for v in p}), dtype=object)
    code = {v: i for i, v in enumerate(values.tolist())}
    ca = np.array([code[a] for a, _ in pairs])
    cb = np.array([code[b] for _, b in pairs])
    shared = vs.ValueSpace(values)
    for i in range(len(pairs)):  # chunk by chunk, one pair each
        level_index(comparison.levels, ca[i : i + 1], cb[i : i + 1], shared)
    fresh = level_index(comparison.levels, ca, cb, values)
    assert (level_index(comparison.levels, ca, cb, shared) == fresh).all()
    assert PairValues(ca, cb, shared).space is shared


def test_group_modes_are_the_most_frequent_value_and_the_smallest_on_a_tie():
    """The conflict check's mode of a group (``clusters._atom_modes``) on integer codes:
    the most frequent value, the smallest of equally frequent ones (a pandas count sorted by
    an unstable sort chose one by chance), none for a group without a value."""
    from identity import clusters

    values = pd.Series(
        ["+33683562977", "+32485006828", "1985-01-02", "1985-01-02", "1984-12-31", None, None]
    )
    labels = np.array([0, 0, 1, 1, 1, 2, 2])
    attribute = clusters._Attribute(values)
    modes = clusters._atom_modes(labels, attribute)
    assert attribute.values[modes[:2]].tolist() == ["+32485006828", "1985-01-02"]
    assert modes[2] == -1
    clash = clusters._conflicting(modes[[0]], modes[[1]], attribute, dates=False)
    assert clash.tolist() == [True]


@pytest.mark.parametrize("ordered", [True, False])
def test_smallest_record_of_each_cluster_by_position_or_by_value(ordered):
    """Records in record id order (the engine's): the first of each cluster, found on
    positions; in any other order, the smallest id by comparing the ids."""
    from identity.person_ids import _smallest_record

    ids = ["a:0", "a:1", "b:2", "c:3", "c:4"]
    labels = np.array([1, 0, 1, 0, 2])
    if not ordered:
        ids, labels = ids[::-1], labels[::-1]
    got = _smallest_record(pd.Series(ids, dtype="str"), labels)
    assert got.index.name == "cluster"
    assert got.to_dict() == {0: "a:1", 1: "a:0", 2: "c:4"}
