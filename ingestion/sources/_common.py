"""Shared machinery of the file-based source packages.

Everything here works on whole Arrow tables: files are parsed by pyarrow (JSON lines, CSV,
Parquet), nested structs are flattened and nested arrays exploded into child tables with Arrow
compute, and the result is handed to dlt as Arrow. dlt does not unnest Arrow tables (it only
unnests Python dicts, which is ~200x slower), so the `<parent>__<field>` child tables of the
data contract are built here.

Bad input never fails a whole load:
- a row that cannot be parsed (invalid JSON, wrong column count, a value that cannot be cast to
  its declared type, a missing primary key) goes to `rejected_rows` with its line number, raw
  text and the reason;
- a file that cannot be read at all (empty, wrong encoding, truncated Parquet/xlsx) is logged as
  a warning naming the file and recorded in `rejected_rows` with `line_number` NULL; the other
  files still load.

Row isolation uses bisection: a block that fails to parse or cast is split in halves until the
failing rows are alone, so a file with k bad rows costs O(k log n) Arrow calls instead of
per-row Python.
"""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import dlt
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from dlt.extract.resource import DltResource

from ingestion.config import FileSet, TableConfig
from ingestion.sources import _text

logger = logging.getLogger("ingestion")

REJECTED_TABLE = "rejected_rows"
REJECTED_SCHEMA = pa.schema(
    [
        ("table_name", pa.string()),
        ("source_file", pa.string()),
        ("line_number", pa.int64()),
        ("raw_record", pa.string()),
        ("reason", pa.string()),
        ("column_name", pa.string()),
        ("severity", pa.string()),
    ]
)
SOURCE_FILE_COLUMN = "_source_file"

# The dlt schema contract of every source: new tables and new columns are accepted, a column
# never silently changes type. Declared columns are cast by `coerce_table` (rows that cannot be
# cast go to rejected_rows), so `freeze` only fires for an undeclared column that changes type.
SCHEMA_CONTRACT = {"tables": "evolve", "columns": "evolve", "data_type": "freeze"}

_COLUMN_REASON = re.compile(r"(?:column|missing primary key) (\w+)")
_ROW_SUFFIX = re.compile(r" in row \d+$")  # pyarrow's block-relative row, meaningless here
_CAST_ERRORS = (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError)


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


@dataclass(frozen=True)
class TableSpec:
    """What a source package declares about one raw table.

    `schema` lists the canonical columns with their types (nested types included for JSON);
    columns not declared are loaded as found (schema evolution).
    """

    name: str
    schema: pa.Schema
    description: str
    children: tuple[ChildSpec, ...] = ()
    cursor: str | None = "updated_at"
    reader: Callable[[Path, FileSet, TableSpec, TableConfig], ParsedFile] | None = None


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


# --------------------------------------------------------------------------- bisection


def bisect_failures(
    length: int, attempt: Callable[[int, int], Any]
) -> tuple[list[tuple[int, int, Any]], list[tuple[int, str]]]:
    """Run `attempt(lo, hi)` on [0, length); split failing ranges until single rows.

    Returns the successful ranges with their results (in order) and the failing row indices
    with the error message.
    """
    good: list[tuple[int, int, Any]] = []
    bad: list[tuple[int, str]] = []

    def solve(lo: int, hi: int) -> None:
        if lo >= hi:
            return
        try:
            good.append((lo, hi, attempt(lo, hi)))
        except _CAST_ERRORS as exc:
            if hi - lo == 1:
                bad.append((lo, str(exc).splitlines()[0]))
                return
            mid = (lo + hi) // 2
            solve(lo, mid)
            solve(mid, hi)

    solve(0, length)
    return good, bad


# --------------------------------------------------------------------------- readers


def rename_schema(schema: pa.Schema, mapping: dict[str, str]) -> pa.Schema:
    """The declared (canonical) schema expressed with the file's own field names."""
    inverse = {canonical: original for original, canonical in mapping.items()}
    return pa.schema([f.with_name(inverse.get(f.name, f.name)) for f in schema])


def read_jsonl(path: Path, schema: pa.Schema, mapping: dict[str, str]) -> ParsedFile:
    """JSON lines → Arrow with the declared types; bad lines isolated by bisection."""
    import pyarrow.json as pj

    data = path.read_bytes().removeprefix(_text.UTF8_BOM)
    if not data.strip():
        raise FileProblem("empty file")
    invalid: list[Reject] = []
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        # JSON is UTF-8 (RFC 8259): a line with an invalid byte is rejected, the rest loads.
        lines = data.split(b"\n")
        for i, line in enumerate(lines):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                invalid.append(
                    Reject(
                        i + 1,
                        line.decode("utf-8", "replace"),
                        f"invalid UTF-8 byte 0x{line[exc.start]:02x} at position {exc.start}",
                    )
                )
                lines[i] = b""
        data = b"\n".join(lines)
    options = pj.ParseOptions(
        explicit_schema=rename_schema(schema, mapping), unexpected_field_behavior="infer"
    )
    try:
        table = pj.read_json(io.BytesIO(data), parse_options=options)
    except pa.ArrowInvalid:
        table = None
    complete = table is not None and not invalid
    if complete and table.num_rows == data.count(b"\n") + (not data.endswith(b"\n")):
        numbers = np.arange(1, table.num_rows + 1, dtype=np.int64)
        return ParsedFile(table, numbers)
    # Slow path (bad lines or blank lines): keep physical line numbers, isolate failures.
    lines = data.split(b"\n")
    numbered = [(i + 1, line) for i, line in enumerate(lines) if line.strip()]

    def parse(lo: int, hi: int) -> pa.Table:
        chunk = b"\n".join(line for _, line in numbered[lo:hi])
        return pj.read_json(io.BytesIO(chunk), parse_options=options)

    good, bad = bisect_failures(len(numbered), parse)
    tables = [t for _, _, t in good]
    numbers = np.concatenate(
        [np.array([numbered[i][0] for i in range(lo, hi)], dtype=np.int64) for lo, hi, _ in good]
        or [np.array([], dtype=np.int64)]
    )
    rejects = invalid + [
        Reject(
            numbered[i][0],
            numbered[i][1].decode("utf-8", "replace"),
            "unparsable JSON line: " + _ROW_SUFFIX.sub("", msg),
        )
        for i, msg in bad
    ]
    if tables:
        try:
            table = pa.concat_tables(tables, promote_options="permissive")
        except _CAST_ERRORS as exc:
            raise FileProblem(f"inconsistent types between lines: {exc}") from exc
    else:
        table = rename_schema(schema, mapping).empty_table()
    return ParsedFile(table, numbers, rejects)


_DELIMITERS = (",", ";", "\t", "|")


def delimiter_note(names: Sequence[str], delimiter: str) -> str | None:
    """Why a CSV header of one column looks split with the wrong delimiter, else None."""
    if len(names) != 1:
        return None
    found = [d for d in _DELIMITERS if d != delimiter and d in names[0]]
    if not found:
        return None
    return (
        f"the header is one column containing {found[0]!r}: wrong delimiter? "
        f"(configured {delimiter!r})"
    )


def read_csv(path: Path, fileset: FileSet, expected: Sequence[str] = ()) -> ParsedFile:
    """CSV -> Arrow, every column as text, in the encoding detected for this file.

    A header that does not read cleanly in that encoding (or names none of `expected`)
    rejects the file. Rows with a wrong column count are rejected; a field opened by an
    unclosed quote is rejected together with one reject per line it swallowed.
    """
    import csv

    import pyarrow.csv as pcsv

    data = path.read_bytes()
    if not data.strip():
        raise FileProblem("empty file (no header line)")
    encoding = _text.detect_encoding(data, fileset.encoding)
    text = _text.decode(data, encoding).lstrip("\ufeff")
    first = text.split("\n", 1)[0].rstrip("\r")
    names = next(csv.reader([first], delimiter=fileset.delimiter))
    problem = _text.header_problem(names, encoding, expected)
    if problem:
        note = delimiter_note(names, fileset.delimiter)
        raise FileProblem(f"{problem}: {note}" if note else problem)
    invalid: list[tuple[int, str]] = []  # (record number, text) of rows with a wrong width

    def on_invalid(row: Any) -> str:
        invalid.append((row.number if row.number is not None else 1 << 62, row.text))
        return "skip"

    try:
        table = pcsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            read_options=pcsv.ReadOptions(use_threads=False, column_names=names, skip_rows=1),
            parse_options=pcsv.ParseOptions(
                delimiter=fileset.delimiter, invalid_row_handler=on_invalid, newlines_in_values=True
            ),
            convert_options=pcsv.ConvertOptions(
                column_types={name: pa.string() for name in names},
                null_values=[],
                strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        raise FileProblem(f"cannot read as {encoding} CSV: {exc}") from exc
    # Records in file order (good and invalid interleaved) -> first physical line of each.
    invalid.sort()
    total = table.num_rows + len(invalid)
    invalid_at = np.array([min(n, total + 1) - 2 for n, _ in invalid], dtype=np.int64)
    good_at = np.setdiff1d(np.arange(total, dtype=np.int64), invalid_at)[: table.num_rows]
    newlines = np.zeros(total, dtype=np.int64)
    newlines[good_at] = _text.newlines_per_row(table)
    newlines[invalid_at] = [t.count("\n") for _, t in invalid]
    starts = _text.record_lines(newlines)
    numbers = starts[good_at]
    delimiter = fileset.delimiter
    rejects: list[Reject] = []
    for (_, row_text), at in zip(invalid, invalid_at, strict=True):
        swallowed = _text.swallowed_lines(row_text, delimiter, len(names))
        head = row_text.split("\n", 1)[0]
        if swallowed is None:
            width = len(next(csv.reader([row_text], delimiter=delimiter), []))
            rejects.append(
                Reject(
                    int(starts[at]),
                    row_text,
                    f"wrong column count: expected {len(names)}, got {width}",
                )
            )
        else:
            rejects += _quote_rejects(int(starts[at]), head, swallowed, None, to_end=True)

    def raw_text(i: int) -> str:
        row = table.slice(i, 1).to_pylist()[0]
        return delimiter.join("" if v is None else str(v) for v in row.values())

    keep = np.ones(table.num_rows, dtype=bool)
    multi = np.flatnonzero(newlines[good_at] > 0)
    for i in multi:
        row = table.slice(int(i), 1).to_pylist()[0]
        for name, value in row.items():
            swallowed = _text.swallowed_lines(value or "", delimiter, len(names))
            if swallowed is not None:
                keep[i] = False
                head = raw_text(int(i)).split("\n", 1)[0]
                rejects += _quote_rejects(int(numbers[i]), head, swallowed, name, to_end=False)
                break
    if not keep.all():
        table, numbers = table.filter(pa.array(keep)), numbers[keep]
    note = delimiter_note(names, delimiter)
    return ParsedFile(table, numbers, rejects, raw_text, header_note=note, encoding=encoding)


def _quote_rejects(
    line: int, head: str, swallowed: list[str], column: str | None, to_end: bool
) -> list[Reject]:
    """One reject for the row opening an unclosed quote and one per line it swallowed."""
    where = f" in column {column}" if column else ""
    span = "to the end of the file" if to_end else f"through line {line + len(swallowed)}"
    opening = Reject(
        line,
        head,
        f"unclosed quote{where} swallows {len(swallowed)} following line(s) ({span})",
        column,
    )
    return [opening] + [
        Reject(line + k, text, f"line swallowed by an unclosed quote opened on line {line}", column)
        for k, text in enumerate(swallowed, start=1)
    ]


def read_parquet(path: Path) -> ParsedFile:
    import pyarrow.parquet as pq

    if path.stat().st_size == 0:
        raise FileProblem("empty file")
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise FileProblem(f"cannot read as Parquet: {exc}") from exc
    return ParsedFile(table, np.arange(1, table.num_rows + 1, dtype=np.int64))


# --------------------------------------------------------------------------- shaping


def rename_columns(table: pa.Table, mapping: dict[str, str]) -> pa.Table:
    if not mapping:
        return table
    return table.rename_columns([mapping.get(name, name) for name in table.column_names])


def _row_as_json(table: pa.Table, i: int) -> str:
    return json.dumps(table.slice(i, 1).to_pylist()[0], default=str, ensure_ascii=False)


def _is_nested(arrow_type: pa.DataType) -> bool:
    return pa.types.is_nested(arrow_type)


def coerce_table(
    parsed: ParsedFile,
    schema: pa.Schema,
    primary_key: Sequence[str],
    reasons: dict[int, list[str]] | None = None,
) -> tuple[pa.Table, list[Reject], np.ndarray]:
    """Cast declared columns to their types; rows that cannot be cast or lack a key are rejected.

    `reasons` holds rows already found bad (e.g. undecodable text), by index. Returns the kept
    rows, the rejected ones and the indices (in `parsed.table`) of the kept.
    """
    table = parsed.table
    n = table.num_rows
    reasons = dict(reasons or {})
    for target in schema:
        if target.name not in table.column_names:
            continue
        column = table.column(target.name)
        if column.type == target.type or (_is_nested(column.type) and _is_nested(target.type)):
            # nested values were typed by the JSON reader; a cast would drop new sub-fields
            continue
        array = column.combine_chunks()
        if pa.types.is_string(array.type) and not pa.types.is_string(target.type):
            array = pc.utf8_trim_whitespace(array)
            array = pc.if_else(pc.equal(array, ""), pa.scalar(None, array.type), array)
        try:
            cast = pc.cast(array, target.type)
        except _CAST_ERRORS:
            _, bad = bisect_failures(
                n, lambda lo, hi, a=array, t=target.type: pc.cast(a.slice(lo, hi - lo), t)
            )
            mask = np.zeros(n, dtype=bool)
            for i, msg in bad:
                mask[i] = True
                value = array[i].as_py()
                reasons.setdefault(i, []).append(
                    f"column {target.name}: cannot read {value!r} as {target.type} ({msg})"
                )
            cleaned = pc.if_else(pa.array(mask), pa.scalar(None, array.type), array)
            cast = pc.cast(cleaned, target.type)
        table = table.set_column(table.column_names.index(target.name), target.name, cast)
    for key in primary_key:
        if key not in table.column_names:
            note = f": {parsed.header_note}" if parsed.header_note else ""
            raise FileProblem(f"primary key column {key!r} not found in the file{note}")
        missing = np.asarray(pc.is_null(table.column(key)).to_numpy(zero_copy_only=False))
        for i in np.flatnonzero(missing):
            reasons.setdefault(int(i), []).append(f"missing primary key {key}")
    rejects: list[Reject] = []
    if reasons:
        raw = parsed.raw_text or (lambda i: _row_as_json(parsed.table, i))
        for i in sorted(reasons):
            named = [m.group(1) for r in reasons[i] if (m := _COLUMN_REASON.match(r))]
            rejects.append(
                Reject(
                    int(parsed.line_numbers[i]),
                    raw(i),
                    "; ".join(reasons[i]),
                    ", ".join(dict.fromkeys(named)) or None,
                )
            )
        keep = np.ones(n, dtype=bool)
        keep[list(reasons)] = False
        table = table.filter(pa.array(keep))
        return table, rejects, np.flatnonzero(keep)
    return table, rejects, np.arange(n)


def missing_columns(table: pa.Table, schema: pa.Schema) -> list[str]:
    """Declared columns the file does not have (JSON lines get them all from the schema)."""
    return [name for name in schema.names if name not in table.column_names]


def drop_superseded(
    table: pa.Table, keys: Sequence[str], cursor: str | None
) -> tuple[np.ndarray, list[tuple[int, int, str]]]:
    """Rows of one file that repeat a primary key: only the newest version is kept.

    Newest = highest `cursor` (e.g. `updated_at`) when the table has one, then the later
    line, as dlt's `dedup_sort` would pick. An older version (lower cursor) is an edit, dropped
    as a merge across files would drop it; a version that ties with the kept one (same cursor,
    or no cursor) is a real duplicate and is returned as (its index, the index of the version
    kept, the reason) for `rejected_rows`. Returns the indices kept and those duplicates.
    """
    n = table.num_rows
    keys = list(keys)
    if n < 2:
        return np.arange(n), []
    index = pa.array(np.arange(n, dtype=np.int64))
    groups = table.select(keys).append_column("__row", index).group_by(keys, use_threads=False)
    if groups.aggregate([]).num_rows == n:
        return np.arange(n), []
    rows = groups.aggregate([("__row", "list")])
    lengths = np.asarray(pc.list_value_length(rows["__row_list"]).to_numpy(zero_copy_only=False))
    duplicated = rows.filter(pa.array(lengths > 1))
    order = table.column(cursor).to_pylist() if cursor and cursor in table.column_names else None
    drop = np.zeros(n, dtype=bool)
    superseded: list[tuple[int, int, str]] = []
    for group in duplicated.to_pylist():
        members = group["__row_list"]
        if order is None:
            winner = max(members)
        else:
            winner = max(members, key=lambda i: (0, i) if order[i] is None else (1, order[i], i))
        key_text = ", ".join(f"{k}={group[k]}" for k in keys)
        for i in members:
            if i != winner:
                drop[i] = True
                if order is None or order[i] == order[winner]:
                    superseded.append((i, winner, f"duplicate primary key {key_text}"))
    return np.flatnonzero(~drop), sorted(superseded)


def _join_string_lists(table: pa.Table) -> pa.Table:
    """Arrays of strings (e.g. address `street` lines) become one text joined with newlines."""
    for i, f in enumerate(table.schema):
        is_list = pa.types.is_list(f.type) or pa.types.is_large_list(f.type)
        if is_list and (
            pa.types.is_string(f.type.value_type) or pa.types.is_large_string(f.type.value_type)
        ):
            table = table.set_column(i, f.name, pc.binary_join(table.column(i), "\n"))
    return table


def flatten_structs(table: pa.Table) -> pa.Table:
    """Nested structs become `parent__child` columns (dlt's naming for flattened objects)."""
    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten()
    table = table.rename_columns([name.replace(".", "__") for name in table.column_names])
    return _join_string_lists(table)


def explode_child(
    parent: pa.Table, child: ChildSpec, parent_pk: str
) -> tuple[pa.Table, np.ndarray] | None:
    """Explode the list column `child.field` into its own table keyed by the parent key.

    Returns the child table and, per child row, the index of its parent row.
    """
    if child.field not in parent.column_names:
        return None
    lists = parent.column(child.field).combine_chunks()
    if not (pa.types.is_list(lists.type) or pa.types.is_large_list(lists.type)):
        return None
    indices = pc.list_parent_indices(lists)
    values = pc.list_flatten(lists)
    if pa.types.is_struct(values.type):
        table = pa.Table.from_struct_array(values)
    elif pa.types.is_null(values.type):
        return None
    else:
        table = pa.table({"value": values})
    table = flatten_structs(table)
    keys = parent.column(parent_pk).take(indices)
    return table.add_column(0, child.parent_key, keys), np.asarray(indices.to_numpy())


def require_keys(table: pa.Table, keys: Sequence[str]) -> pa.Table:
    """Mark the (null-free) primary-key fields non-nullable, as dlt declares them."""
    fields = [f.with_nullable(False) if f.name in keys else f for f in table.schema]
    return table.cast(pa.schema(fields, metadata=table.schema.metadata))


def rejects_table(table_name: str, source_file: str, rows: Sequence[tuple]) -> pa.Table:
    """`rejected_rows` rows of one file; `rows` are `Reject`s or (line, raw, reason) tuples."""
    rejects = [Reject(*r) for r in rows]
    return pa.table(
        {
            "table_name": pa.array([table_name] * len(rejects), pa.string()),
            "source_file": pa.array([source_file] * len(rejects), pa.string()),
            "line_number": pa.array([r.line for r in rejects], pa.int64()),
            "raw_record": pa.array([r.raw for r in rejects], pa.string()),
            "reason": pa.array([r.reason for r in rejects], pa.string()),
            "column_name": pa.array([r.column for r in rejects], pa.string()),
            "severity": pa.array([r.severity for r in rejects], pa.string()),
        },
        schema=REJECTED_SCHEMA,
    )


def _strip_controls(table: pa.Table, what: str, notes: list[Reject]) -> pa.Table:
    table, counts = _text.strip_control_characters(table)
    if counts:
        notes.append(Reject(None, None, f"{what}: {_text.control_note(counts)}", None, "warn"))
    return table


def parse_file(path: Path, fileset: FileSet, spec: TableSpec, cfg: TableConfig) -> FileBatch:
    """Read one file into the parent table, its child tables and the rejected rows."""
    if spec.reader is not None:
        parsed = spec.reader(path, fileset, spec, cfg)
    elif fileset.format == "jsonl":
        parsed = read_jsonl(path, spec.schema, cfg.column_mapping)
    elif fileset.format == "csv":
        parsed = read_csv(path, fileset, rename_schema(spec.schema, cfg.column_mapping).names)
    elif fileset.format == "parquet":
        parsed = read_parquet(path)
    else:
        raise FileProblem(f"format {fileset.format!r} is not supported for table {spec.name}")
    parsed.table = rename_columns(parsed.table, cfg.column_mapping)
    undecodable = _text.invalid_text_rows(parsed.table, parsed.encoding)
    parsed.table = _text.apply_null_tokens(parsed.table, cfg.null_tokens or ())
    table, type_rejects, kept = coerce_table(parsed, spec.schema, cfg.primary_key, undecodable)
    file_notes: list[Reject] = list(parsed.notes)
    absent = missing_columns(parsed.table, spec.schema)
    if absent:
        # Loaded anyway (the other columns are good), but never silently: one file-level row.
        file_notes.append(
            Reject(
                None,
                None,
                f"missing column(s) {', '.join(absent)}: rows loaded without them",
                ", ".join(absent),
                "warn",
            )
        )
    keep, superseded = drop_superseded(table, cfg.primary_key, spec.cursor)
    if superseded:
        raw = parsed.raw_text or (lambda i: _row_as_json(parsed.table, i))
        lines = parsed.line_numbers[kept]
        type_rejects += [
            (int(lines[i]), raw(int(kept[i])), f"{why}, superseded by line {int(lines[w])}")
            for i, w, why in superseded
        ]
        table = table.take(pa.array(keep))
        kept = kept[keep]
    numbers = parsed.line_numbers[kept]
    rejects: list[pa.Table] = []
    children: dict[str, pa.Table] = {}
    for child in spec.children:
        exploded = explode_child(table, child, cfg.primary_key[0])
        if exploded is None:
            continue
        child_table, parents = exploded
        name = f"{spec.name}__{child.field}"
        missing = np.zeros(child_table.num_rows, dtype=bool)
        for key in child.primary_key:
            if key not in child_table.column_names:
                raise FileProblem(f"primary key {key!r} of {name} not found in the file")
            missing |= np.asarray(
                pc.is_null(child_table.column(key)).to_numpy(zero_copy_only=False)
            )
        if missing.any():
            rows = [
                (
                    int(numbers[parents[i]]),
                    _row_as_json(child_table, int(i)),
                    f"missing primary key {', '.join(child.primary_key)}",
                )
                for i in np.flatnonzero(missing)
            ]
            rejects.append(rejects_table(name, path.name, rows))
            child_table = child_table.filter(pa.array(~missing))
        child_table = _strip_controls(child_table, name, file_notes)
        child_table = child_table.append_column(
            SOURCE_FILE_COLUMN, pa.array([path.name] * child_table.num_rows, pa.string())
        )
        children[name] = require_keys(child_table, child.primary_key)
    table = table.drop_columns([c.field for c in spec.children if c.field in table.column_names])
    table = _strip_controls(flatten_structs(table), spec.name, file_notes)
    table = table.append_column(
        SOURCE_FILE_COLUMN, pa.array([path.name] * table.num_rows, pa.string())
    )
    table = require_keys(table, cfg.primary_key)
    own = rejects_table(spec.name, path.name, [*file_notes, *parsed.rejects, *type_rejects])
    return FileBatch(table, children, pa.concat_tables([own, *rejects]), numbers)


# --------------------------------------------------------------------------- dlt resources


def fingerprint(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def list_files(base_dir: Path, filesets: Sequence[FileSet]) -> list[tuple[Path, FileSet]]:
    """Files matching the file sets, sorted by name (monthly files load oldest first)."""
    seen: dict[Path, FileSet] = {}
    for fileset in filesets:
        for path in sorted(base_dir.glob(fileset.glob)):
            if path.is_file() and path not in seen:
                seen[path] = fileset
    return sorted(seen.items(), key=lambda item: (item[0].name, str(item[0])))


def _rejected_hints() -> Any:
    return dlt.mark.make_hints(
        table_name=REJECTED_TABLE,
        write_disposition="append",
        primary_key=[],
        columns={},
    )


def file_table_resource(
    source_name: str,
    spec: TableSpec,
    cfg: TableConfig,
    base_dir: Path,
    child: ChildSpec | None = None,
) -> DltResource:
    """A dlt resource loading one raw table from the files of `cfg`, incrementally by file.

    The resource state keeps `files: {relative path: "size:mtime_ns"}`; a file whose
    fingerprint is unchanged is skipped, a new or changed file is read again and merged on the
    primary key (newest `updated_at` wins inside one load). The parent resource also writes the
    rejected rows and the unreadable-file records; a child resource reads the same files and
    yields only its `<parent>__<field>` table.
    """
    table_name = f"{spec.name}__{child.field}" if child else spec.name
    primary_key = list(child.primary_key) if child else list(cfg.primary_key)
    columns: dict[str, Any] = {}
    # Inside one load the newest version of a key wins: by `updated_at` where the table has
    # one, otherwise (and for child tables) by file name (monthly files sort chronologically).
    has_cursor = child is None and spec.cursor and spec.cursor in spec.schema.names
    columns[spec.cursor if has_cursor else SOURCE_FILE_COLUMN] = {"dedup_sort": "desc"}

    def load_files() -> Iterator[Any]:
        state = dlt.current.resource_state().setdefault("files", {})
        for path, fileset in list_files(base_dir, cfg.files):
            key = path.relative_to(base_dir).as_posix()
            stamp = fingerprint(path)
            if state.get(key) == stamp:
                continue
            try:
                batch = parse_file(path, fileset, spec, cfg)
            except (FileProblem, OSError, pa.ArrowException, ValueError) as exc:
                problem = f"unreadable file: {exc}"
                if child is None:
                    logger.warning("%s.%s: %s: %s", source_name, spec.name, path, problem)
                    yield dlt.mark.with_hints(
                        rejects_table(spec.name, path.name, [(None, None, problem)]),
                        _rejected_hints(),
                        create_table_variant=True,
                    )
                state[key] = stamp
                continue
            if child is None:
                if batch.table.num_rows:
                    yield batch.table
                if batch.rejects.num_rows:
                    logger.warning(
                        "%s.%s: %s: %d row(s) rejected",
                        source_name,
                        spec.name,
                        path.name,
                        batch.rejects.num_rows,
                    )
                    yield dlt.mark.with_hints(
                        batch.rejects, _rejected_hints(), create_table_variant=True
                    )
            else:
                child_table = batch.children.get(table_name)
                if child_table is not None and child_table.num_rows:
                    yield child_table
            state[key] = stamp

    load_files.__doc__ = (
        spec.description
        if child is None
        else (
            f"Items of `{spec.name}.{child.field}`, one row per element, keyed by "
            f"`{child.parent_key}` (the parent's `{cfg.primary_key[0]}`)."
        )
    )
    load_files.__name__ = table_name
    return dlt.resource(
        load_files,
        name=table_name,
        table_name=table_name,
        write_disposition="merge",
        primary_key=primary_key,
        columns=columns or None,
    )


def file_source_resources(
    source_name: str,
    specs: Sequence[TableSpec],
    tables: dict[str, TableConfig],
    base_dir: Path,
) -> list[DltResource]:
    """Parent and child resources for every enabled table of a file source."""
    resources: list[DltResource] = []
    by_name = {spec.name: spec for spec in specs}
    for name, cfg in tables.items():
        if not cfg.enabled:
            continue
        spec = by_name[name]
        resources.append(file_table_resource(source_name, spec, cfg, base_dir))
        for child in spec.children:
            resources.append(file_table_resource(source_name, spec, cfg, base_dir, child))
    return resources
