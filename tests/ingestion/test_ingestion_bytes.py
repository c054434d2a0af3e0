"""The byte screens of the text checks never hide a finding of the string kernels."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.sources import _bytes, _text

VALUES = [
    "plain-id-001",
    "with space",
    " lead",
    "trail\u00a0",
    "tab\tinside",
    "multi\nline",
    "bell\x07",
    "del\x7f",
    "c1\x85",
    "« guillemets »",
    "café",
    "bad \ufffd byte",
    "",
    "N/A",
    "  null  ",
    None,
]


def _column(values: list[str | None], large: bool = False) -> pa.ChunkedArray:
    kind = pa.large_string() if large else pa.string()
    half = len(values) // 2
    return pa.chunked_array([pa.array(values[:half], kind), pa.array(values[half:], kind)])


def test_screens_agree_with_the_kernels_on_every_value() -> None:
    for large in (False, True):
        for value in VALUES:
            column = _column(["id-1", value, "id-2"], large)
            controls = bool(re.search(_text.CONTROL_CHARACTERS, value or ""))
            assert _bytes.may_hold_control(column) == controls, value
            if _text.REPLACEMENT in (value or ""):
                assert _bytes.may_hold_replacement(column), value
            if _bytes.printable_ascii(column):
                assert not controls and (value or "").isascii(), value


def test_screens_look_at_the_values_of_a_slice_only() -> None:
    column = pa.chunked_array([pa.array(["bell\x07", "clean", "also clean"]).slice(1)])
    assert _bytes.printable_ascii(column)
    assert not _bytes.may_hold_control(column)


def test_token_candidates_hold_every_value_that_trims_to_a_token() -> None:
    tokens = ["", "N/A", "null"]
    column = _column(VALUES)
    candidates = _bytes.token_candidates(column, max(len(t) for t in tokens))
    trimmed = pc.utf8_trim_whitespace(column)
    hits = np.asarray(pc.fill_null(pc.is_in(trimmed, pa.array(tokens)), False).to_numpy())
    assert not (hits & ~candidates).any()
    assert hits.sum() == 3  # "", "N/A", "  null  "
    table = _text.apply_null_tokens(pa.table({"v": column}), tokens)
    assert table["v"].null_count == column.null_count + 3
