"""Keys of raw rows: which rows an identity record names, compared in one canonical form.

`Key` says which raw rows an entity's key names, `Reference` which raw column points at an
entity's key; both are declared by the sources' raw schemas (`records` and `references` of
their `TableSpec`s) and gathered by privacy/links.py. Keys are compared in one canonical form
on both sides (`canonical_key`, `canonical_sql`): trimmed, upper-cased, spaces, dots and
dashes removed, and a loyalty card `LC<digits>` padded to eight digits, as the staging models
normalise card ids. This module imports no source, so the ingestion filter can use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class Key:
    """Rows of `table` (`raw_<source>.<table>`) whose `columns` (joined by `#`) hold the key
    of `entity`; for an identity source system, `entity` is its name."""

    entity: str
    table: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Reference:
    """Rows of `table` whose `column` holds a key of `entity` belong to that entity's owner."""

    table: str
    column: str
    entity: str


KIND_PREFIX = "key:"
_STRIP = re.compile(r"[\s.-]")
_CARD = re.compile(r"LC\d{1,8}")
_POINT_ZERO = re.compile(r"\.0+$")


def canonical_key(value: object) -> str | None:
    """The form a key is compared in (None for a missing one); a trailing `.0` goes, so a
    number read as a float matches the integer."""
    if value is None or (isinstance(value, float) and value != value):  # None, NaN
        return None
    text = _STRIP.sub("", _POINT_ZERO.sub("", str(value).strip())).upper()
    if not text:
        return None
    if _CARD.fullmatch(text):
        return "LC" + text[2:].zfill(8)
    return text


def canonical_sql(expr: str) -> str:
    """`canonical_key` in DuckDB, over the SQL expression `expr`."""
    value = f"regexp_replace(trim(CAST({expr} AS VARCHAR)), '\\.0+$', '')"
    text = f"upper(regexp_replace({value}, '[\\s.-]', '', 'g'))"
    return (
        f"CASE WHEN regexp_full_match({text}, 'LC\\d{{1,8}}') "
        f"THEN 'LC' || lpad(substr({text}, 3), 8, '0') ELSE nullif({text}, '') END"
    )


def quoted(column: str) -> str:
    return f'"{column}"'


def key_sql(key: Key) -> str:
    """The canonical key of a row of `key.table`, its columns joined by `#`."""
    return " || '#' || ".join(canonical_sql(quoted(c)) for c in key.columns)


def key_of_values(values: list[object]) -> str | None:
    """The canonical key of one row from its key columns' values (None if one is missing)."""
    parts = [canonical_key(v) for v in values]
    return None if any(p is None for p in parts) else "#".join(parts)  # type: ignore[arg-type]


def record_key(source_key: str, key: Key) -> str | None:
    """The canonical key of an identity record's `source_key` (a composite key is stored as
    `<part>#<part>` by the staging model)."""
    parts = str(source_key).rsplit("#", len(key.columns) - 1)
    return key_of_values(parts) if len(parts) == len(key.columns) else None


#: ASCII whitespace as Python's `str.strip` and `\s` see it (RE2's `\s` lacks \v and \x1c-\x1f)
_ASCII_SPACE = " \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f"


def canonical_arrow(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    """`canonical_key` of every value of an Arrow column, as a string array (null for a
    missing key). Integers and ASCII text are shaped by Arrow kernels; the values Arrow cannot
    shape exactly as Python does (non-ASCII text, floats, other types) go through
    `canonical_key` one by one."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if pa.types.is_integer(column.type):
        text, slow = pc.cast(column, pa.string()), None
    elif pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        text = pc.cast(column, pa.string())
        slow = pc.invert(pc.fill_null(pc.string_is_ascii(text), True))
    else:
        return pa.array([canonical_key(v) for v in column.to_pylist()], pa.string())
    text = pc.ascii_trim(text, characters=_ASCII_SPACE)
    text = pc.replace_substring_regex(text, r"\.0+$", "")
    text = pc.ascii_upper(pc.replace_substring_regex(text, r"[\t\n\x0b\x0c\r\x1c-\x1f .-]", ""))
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    padded = pc.binary_join_element_wise(
        "LC", pc.utf8_lpad(pc.utf8_slice_codeunits(text, 2), width=8, padding="0"), ""
    )
    text = pc.if_else(pc.match_substring_regex(text, r"^LC[0-9]{1,8}$"), padded, text)
    if slow is None or not pc.any(slow).as_py():
        return text
    rows = np.flatnonzero(slow.to_numpy(zero_copy_only=False))
    values = np.array(text.to_pylist(), dtype=object)
    values[rows] = [canonical_key(column[int(i)].as_py()) for i in rows]
    return pa.array(values, pa.string())


def keys_arrow(columns: list[pa.Array | pa.ChunkedArray]) -> pa.Array:
    """`key_of_values` of every row of the key `columns` (null when a part is missing)."""
    parts = [canonical_arrow(c) for c in columns]
    return parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "#")
