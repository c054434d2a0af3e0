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
