"""The rows an erasure links by key, found in Arrow and DuckDB (`ingest_filter._linked`), are
exactly those the row-by-row version found: on a file with erased persons (every key shape
the sources have: integers, padded loyalty cards, keys typed with spaces, dots, dashes, a
trailing `.0`, non-ASCII text, composite keys, NULLs) and on arbitrary text (hypothesis)."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.json as pa_json
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from privacy import ingest_filter
from privacy.keys import KIND_PREFIX, Key, Reference, key_of_values
from privacy.subjects import identifier_hash

from .conftest import SALT

LINKS = (
    [Key("pos_card", "raw_pos.t", ("card_id",)), Key("sheet", "raw_x.t", ("file", "row"))],
    [Reference("raw_pos.t", "customer_id", "shop_customer")],
)
ERASED = {  # entity -> canonical keys on the suppression list
    "pos_card": ["LC00000042", "ÉCOLE7", "X1"],
    "sheet": ["LISTE.XLSX#12", "LISTEXLSX#3"],
    "shop_customer": ["1001", "77"],
}


def _row_by_row(table: pa.Table, links_of: ingest_filter.TableLinks) -> np.ndarray:
    """`_linked` as it was: every row's key made and hashed in Python."""
    hit = np.zeros(table.num_rows, dtype=bool)
    keys, refs = links_of
    checks = [(k.entity, list(k.columns)) for k in keys]
    checks += [(r.entity, [r.column]) for r in refs]
    for entity, columns in checks:
        kind = KIND_PREFIX + entity
        if kind not in ingest_filter._ACTIVE or not all(c in table.column_names for c in columns):
            continue
        parts = [table.column(c).to_pylist() for c in columns]
        values = [key_of_values(list(row)) for row in zip(*parts, strict=True)]
        active = ingest_filter._ACTIVE[kind]
        hit |= np.array(
            [v is not None and identifier_hash(kind, v, SALT) in active for v in values],
            dtype=bool,
        )
    return hit


@pytest.fixture
def erased(monkeypatch: pytest.MonkeyPatch) -> None:
    active = {
        KIND_PREFIX + entity: {identifier_hash(KIND_PREFIX + entity, k, SALT) for k in keys}
        for entity, keys in ERASED.items()
    }
    monkeypatch.setattr(ingest_filter, "_ACTIVE", active)
    monkeypatch.setattr(ingest_filter, "_SALT", [SALT])


ROWS = [
    {"card_id": "LC42", "file": "liste.xlsx", "row": 12, "customer_id": 5},
    {"card_id": " lc-0000042 ", "file": "Liste.xlsx", "row": 3, "customer_id": 1001},
    {"card_id": "LC000000042", "file": "liste.xlsx", "row": None, "customer_id": 77},
    {"card_id": "école 7", "file": "LISTE.xlsx ", "row": 12, "customer_id": None},
    {"card_id": "x1.0", "file": None, "row": 12, "customer_id": 1002},
    {"card_id": "\x1cx.1\x0b", "file": "autre.csv", "row": 1, "customer_id": 100},
    {"card_id": "X\u00a01", "file": "liste.xlsx", "row": 120, "customer_id": 1001},
    {"card_id": None, "file": "", "row": 0, "customer_id": 7},
    {"card_id": "", "file": "liste.xlsx", "row": 12, "customer_id": 1001},
    {"card_id": "LC1234567890", "file": "Liste.Xlsx", "row": 12, "customer_id": 78},
]


def test_same_rows_as_row_by_row_on_a_file_with_erased_persons(erased, tmp_path) -> None:
    path = tmp_path / "cards.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS * 50), encoding="utf-8")
    table = pa_json.read_json(path)
    old = _row_by_row(table, LINKS)
    assert old.sum() == 50 * 8  # the file does hold erased persons' rows (and others)
    assert np.array_equal(ingest_filter._linked(table, LINKS), old)
    dictionary = table.set_column(0, "card_id", table.column("card_id").dictionary_encode())
    assert np.array_equal(ingest_filter._linked(dictionary, LINKS), old)
    floats = table.set_column(3, "customer_id", table.column("customer_id").cast(pa.float64()))
    assert np.array_equal(ingest_filter._linked(floats, LINKS), old)


def test_no_erasure_of_the_entity_links_nothing(erased) -> None:
    table = pa.table({"other": ["LC42"]})
    assert not ingest_filter._linked(table, LINKS).any()


KEY_TEXT = st.text(
    alphabet=st.sampled_from(list("lcLC0123456789xX .-_#\t\n\x0b\x1c\x1féÉ\u00a0\u2003ß")),
    max_size=14,
)


@given(cards=st.lists(st.one_of(st.none(), KEY_TEXT), min_size=1, max_size=40))
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_same_rows_as_row_by_row_on_any_text(erased, cards: list[str | None]) -> None:
    table = pa.table({"card_id": pa.array([*cards, "LC42", "x1"], pa.string())})
    assert np.array_equal(ingest_filter._linked(table, LINKS), _row_by_row(table, LINKS))
