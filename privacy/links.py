"""Which raw rows belong to a person when they carry no e-mail or phone.

A till receipt names a loyalty card, a web event an anonymous id or a shop customer id, an
order line its order. The identity graph says which source records (`<entity>:<key>`) are the
person's; `KEYS` says which raw rows each entity's key names, `REFERENCES` which raw columns
point at an entity's key (the rows are the entity owner's). Both are read from the sources'
raw schemas, where each table declares them once (`records` and `references` of its
`TableSpec`, `owner` of a `ChildSpec`: ingestion/sources/<source>/__init__.py), so a new
source or a new linking column is declared beside its columns. Erasure follows them from the person's records
to every row that belongs to them (privacy/erase.py), and puts the keys on the suppression
list (kind `key:<entity>`) so that a re-load drops those rows at ingestion
(privacy/ingest_filter.py, which gets each table's links from the loader), before any raw copy.
The canonical form keys compare in is privacy/keys.py's.
"""

from __future__ import annotations

from ingestion.sources.specs import SOURCES, source_specs
from privacy.keys import (
    KIND_PREFIX,
    Key,
    Reference,
    canonical_key,
    canonical_sql,
    key_of_values,
    key_sql,
    quoted,
    record_key,
)

__all__ = [
    "KEYS",
    "KIND_PREFIX",
    "REFERENCES",
    "Key",
    "Reference",
    "by_table",
    "canonical_key",
    "canonical_sql",
    "key_of_values",
    "key_sql",
    "quoted",
    "record_key",
]

_DECLARED = [
    links
    for source in SOURCES
    for spec in source_specs(source)
    for links in spec.links(source).values()
]
KEYS: tuple[Key, ...] = tuple(k for keys, _ in _DECLARED for k in keys)
REFERENCES: tuple[Reference, ...] = tuple(r for _, refs in _DECLARED for r in refs)


def by_table() -> dict[str, tuple[list[Key], list[Reference]]]:
    """For each raw table (`raw_<source>.<table>`): its keys and its references."""
    out: dict[str, tuple[list[Key], list[Reference]]] = {}
    for k in KEYS:
        out.setdefault(k.table, ([], []))[0].append(k)
    for r in REFERENCES:
        out.setdefault(r.table, ([], []))[1].append(r)
    return out
