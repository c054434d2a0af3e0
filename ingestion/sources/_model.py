"""The shapes shared by the file readers and the loader: specs, parsed files, rejects."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa

from ingestion.config import FileSet, TableConfig
from privacy.keys import Key, Reference

#: per table (`<name>` or `<name>__<field>`): the keys its rows hold and the references to
#: other tables' keys they make (privacy/keys.py)
Links = dict[str, tuple[list[Key], list[Reference]]]

#: the column types the file sources declare: text, and money (decimal, cents)
TEXT = pa.string()
MONEY = pa.decimal128(12, 2)

CAST_ERRORS = (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError)


class FileProblem(Exception):
    """A file that cannot be read at all; the message says why."""


class Reject(NamedTuple):
    """One row of `rejected_rows` before the file name is known.

    `severity` error: the row was not loaded. warn: a note about rows that did load (a
    missing column, control characters stripped, a formula's cached value used).
    """

    line: int | None
    raw: str | None
    reason: str
    column: str | None = None
    severity: str = "error"


@dataclass(frozen=True)
class ChildSpec:
    """A nested array of the parent that becomes the table `<parent>__<field>`."""

    field: str
    parent_key: str
    primary_key: tuple[str, ...]
    owner: str | None = None  # the entity whose key `parent_key` holds (privacy/links.py)


@dataclass(frozen=True)
class TableSpec:
    """What a source package declares about one raw table.

    `schema` lists the canonical columns with their types (nested types included for JSON);
    columns not declared are loaded as found (schema evolution). `key` is the primary key
    the source system itself declares, where the spec also describes how its tables are
    created (the till database); the merge key of the raw table is `config/sources.yaml`'s.
    `records` says which identity records (`<entity>:<key>`, the `source_system` of the identity
    models) a row is, by the columns holding the key; `references` which columns hold another
    record's key (`(column, entity)`): erasure follows both to the rows that belong to a
    person but carry no e-mail or phone, and ingestion drops them once erased (privacy/links.py).
    `append_only` says the rows never change once written and a key never appears in two files
    (events): a file seen the first time is appended (no staging dataset, no delete/insert on
    the key); a run that re-reads a changed file merges on the key as the other tables do.
    """

    name: str
    schema: pa.Schema
    description: str
    children: tuple[ChildSpec, ...] = ()
    cursor: str | None = "updated_at"
    reader: Callable[[Path, FileSet, TableSpec, TableConfig], ParsedFile] | None = None
    key: tuple[str, ...] = ()
    records: tuple[tuple[str, tuple[str, ...]], ...] = ()
    references: tuple[tuple[str, str], ...] = ()
    append_only: bool = False

    def links(self, source: str) -> Links:
        """The keys and references of this table and of its child tables, by table name."""
        schema = f"raw_{source}"

        def refs(table: str, pairs: tuple[tuple[str, str], ...]) -> list[Reference]:
            return [Reference(f"{schema}.{table}", column, entity) for column, entity in pairs]

        out: Links = {
            self.name: (
                [Key(entity, f"{schema}.{self.name}", cols) for entity, cols in self.records],
                refs(self.name, self.references),
            )
        }
        for child in self.children:
            name = f"{self.name}__{child.field}"
            owned = ((child.parent_key, child.owner),) if child.owner else ()
            out[name] = ([], refs(name, owned))
        return out


@dataclass
class ParsedFile:
    """One file parsed into Arrow: good rows, their line numbers and the rejected rows."""

    table: pa.Table
    line_numbers: np.ndarray
    rejects: list[tuple[int | None, str | None, str]] = field(default_factory=list)
    raw_text: Callable[[int], str] | None = None
    header_note: str | None = None  # e.g. "wrong delimiter?" when a CSV header looks wrong
    notes: list[Reject] = field(default_factory=list)  # warn-level, about rows that loaded
    encoding: str = "utf-8"  # as detected, named in the reasons of undecodable rows


@dataclass
class FileBatch:
    """A file ready for dlt: the parent table, its child tables and the rejected rows."""

    table: pa.Table
    children: dict[str, pa.Table]
    rejects: pa.Table
    lines: np.ndarray  # line number of each row of `table`
