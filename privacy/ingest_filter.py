"""Suppressed persons are dropped at ingestion, before any raw copy is written.

`load` reads the suppression list (salted hashes) from the warehouse once per load, with a
connection closed before dlt opens its own. `drop_suppressed` then removes every row of a
parsed file whose e-mail or phone column, normalised and hashed, is on the list, and counts
them in `DROPPED` (source table -> rows). `drop_suppressed_rejects` does the same for the
rows a source rejects (`rejected_rows`, copied to `quality.quarantine_rows`) before they are
written: a rejected row's raw text may not parse, so it is cut into fields and every field
that reads as a suppressed e-mail, phone or (for the row's table) erased key drops the row.
With an empty list nothing is hashed and no salt is needed.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from privacy.keys import KIND_PREFIX, Key, Reference, canonical_key, keys_arrow
from privacy.schema import SUPPRESSIONS
from privacy.subjects import IDENTIFIER_COLUMNS, hash_sql, identifier_hash, matches, salt

#: what separates the fields of a raw record: CSV and sheet delimiters, JSON punctuation
_FIELD_BREAK = re.compile(r'[,;|\t"{}\[\]:\\\r\n]')

_ACTIVE: dict[str, set[str]] = {}
_SALT: list[str] = []
DROPPED: Counter[str] = Counter()


def load(warehouse: Path) -> int:
    """Read the suppression list for the loads that follow; returns its size."""
    _ACTIVE.clear()
    _SALT.clear()
    if not Path(warehouse).exists():
        return 0
    from cdp.warehouse import connect as duckdb_connect

    with duckdb_connect(str(warehouse), read_only=True) as con:
        known = con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'privacy' AND table_name = 'suppressions'"
        ).fetchall()[0][0]
        rows = (
            con.execute(f"SELECT identifier_kind, identifier_hash FROM {SUPPRESSIONS}").fetchall()
            if known
            else []
        )
    for kind, digest in rows:
        _ACTIVE.setdefault(kind, set()).add(digest)
    if rows:
        _SALT.append(salt())  # a list to apply needs the salt: missing -> the load stops
    return len(rows)


#: the keys a table's rows hold and the references they make (`TableSpec.links`)
TableLinks = tuple[list[Key], list[Reference]]
NO_LINKS: TableLinks = ([], [])


def drop_suppressed(
    table: pa.Table, name: str, links_of: TableLinks = NO_LINKS
) -> tuple[pa.Table, np.ndarray]:
    """`table` without the rows of suppressed persons, and the mask of the rows kept: rows
    with a suppressed e-mail or phone, and rows whose key or reference (`links_of` the table,
    privacy/links.py) names an erased person's record."""
    keep = np.ones(table.num_rows, dtype=bool)
    if not _ACTIVE or not table.num_rows:
        return table, keep
    for column in table.column_names:
        for kind, pattern in IDENTIFIER_COLUMNS:
            field = table.schema.field(column)
            if kind in _ACTIVE and pattern.search(column) and pa.types.is_string(field.type):
                keep &= ~matches(table.column(column).to_pylist(), kind, _SALT[0], _ACTIVE[kind])
    keep &= ~_linked(table, links_of)
    dropped = int((~keep).sum())
    if dropped:
        DROPPED[name] += dropped
        table = table.filter(pa.array(keep))
    return table, keep


def _linked(table: pa.Table, links_of: TableLinks) -> np.ndarray:
    """Rows whose key or reference hashes into a `key:<entity>` suppression: the canonical
    keys shaped in Arrow, each distinct key hashed once by DuckDB (`hash_sql`)."""
    hit = np.zeros(table.num_rows, dtype=bool)
    keys, refs = links_of
    checks = [(k.entity, list(k.columns)) for k in keys]
    checks += [(r.entity, [r.column]) for r in refs]
    for entity, columns in checks:
        kind = KIND_PREFIX + entity
        if kind not in _ACTIVE or not all(c in table.column_names for c in columns):
            continue
        values = keys_arrow([table.column(c) for c in columns])
        erased = _erased(pc.unique(values.drop_null()), kind)
        if len(erased):
            hit |= pc.fill_null(pc.is_in(values, value_set=erased), False).to_numpy(
                zero_copy_only=False
            )
    return hit


def _erased(distinct: pa.Array, kind: str) -> pa.Array:
    """The keys among `distinct` whose salted hash is on the `kind` suppression list."""
    from cdp.warehouse import connect as duckdb_connect

    if not len(distinct):
        return distinct
    with duckdb_connect() as con:
        con.register("candidate_keys", pa.table({"k": distinct}))
        digests = (
            con.sql(f"SELECT {hash_sql(kind, 'k')} AS h FROM candidate_keys", params=[_SALT[0]])
            .to_arrow_table()
            .column("h")
        )
    listed = pc.is_in(digests, value_set=pa.array(sorted(_ACTIVE[kind]), pa.string()))
    return distinct.filter(listed)


def drop_suppressed_rejects(rejects: pa.Table, links_of: dict[str, TableLinks]) -> pa.Table:
    """`rejects` (`rejected_rows` of one file or batch) without the rows of suppressed persons,
    counted in `DROPPED` under their table. A raw record is cut at `_FIELD_BREAK` into fields;
    a row goes when one field normalises and hashes into a suppressed e-mail or phone (any
    field: a bad row's columns cannot be trusted), or into an erased key of an entity its
    table holds or references (single-column keys; `links_of` each table by name)."""
    if not _ACTIVE or not rejects.num_rows:
        return rejects
    owner: list[int] = []
    fields: list[str] = []
    for i, raw in enumerate(rejects.column("raw_record").to_pylist()):
        for part in _FIELD_BREAK.split(raw or ""):
            if part.strip():
                owner.append(i)
                fields.append(part.strip())
    hit = np.zeros(len(fields), dtype=bool)
    for kind in ("email", "phone"):
        if kind in _ACTIVE and fields:
            hit |= matches(fields, kind, _SALT[0], _ACTIVE[kind])
    tables = rejects.column("table_name").to_pylist()
    for j, value in enumerate(fields):
        if not hit[j]:
            hit[j] = _names_erased_key(links_of.get(tables[owner[j]], NO_LINKS), value)
    drop = np.zeros(rejects.num_rows, dtype=bool)
    drop[np.asarray(owner, dtype=np.int64)[hit]] = True
    if not drop.any():
        return rejects
    for i in np.flatnonzero(drop):
        DROPPED[tables[i]] += 1
    return rejects.filter(pa.array(~drop))


def _names_erased_key(links_of: TableLinks, value: str) -> bool:
    """`value` is, in canonical form, an erased key of an entity the table holds or references."""
    keys, refs = links_of
    entities = {k.entity for k in keys if len(k.columns) == 1} | {r.entity for r in refs}
    active = [e for e in entities if KIND_PREFIX + e in _ACTIVE]
    key = canonical_key(value) if active else None
    return key is not None and any(
        identifier_hash(KIND_PREFIX + e, key, _SALT[0]) in _ACTIVE[KIND_PREFIX + e] for e in active
    )
