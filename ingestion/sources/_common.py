"""Shared machinery of the file-based source packages.

Everything here works on whole Arrow tables: files are parsed by pyarrow (`_readers.py`),
cleaned (`_text.py`: undecodable values, null tokens, control characters), nested structs are
flattened and nested arrays exploded into child tables with Arrow compute, and the result is
handed to dlt as Arrow. dlt does not unnest Arrow tables (it only unnests Python dicts, which is
~200x slower), so the `<parent>__<field>` child tables of the data contract are built here.

Bad input never fails a whole load:
- a row that cannot be parsed or decoded (invalid JSON or UTF-8, wrong column count, an
  unclosed quote and the lines it swallowed, a value that cannot be cast to its declared type
  or to the type an undeclared column was first loaded with, a missing primary key) goes to
  `rejected_rows` with its line number, column, raw text and the reason;
- a note about rows that did load (missing columns, control characters stripped, formulas
  read from their cached value) goes there too, with severity `warn`;
- a file that cannot be read at all (empty, a header that does not read, truncated
  Parquet/xlsx) is logged as a warning naming the file and recorded in `rejected_rows` with
  `line_number` NULL; the other files still load.
"""

from __future__ import annotations

import json
import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import dlt
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from dlt.extract.extractors import ImportFileMeta
from dlt.extract.resource import DltResource

from cdp.pii import value_shape
from ingestion.config import FileSet, TableConfig
from ingestion.sources import _text
from ingestion.sources._job_files import LOAD_ID_COLUMN, JobFiles
from ingestion.sources._model import (
    CAST_ERRORS,
    ChildSpec,
    FileBatch,
    FileProblem,
    ParsedFile,
    Reject,
    TableSpec,
)
from ingestion.sources._readers import (
    bisect_failures,
    read_csv,
    read_jsonl,
    read_parquet,
    rename_schema,
)
from ingestion.sources._row_ids import ROW_ID_COLUMN, add_row_ids, with_row_ids
from ingestion.sources._stale import LoadedVersions, items_of_newer, keep_newer
from ingestion.sources._types import known_types, pin_types
from privacy.ingest_filter import NO_LINKS, drop_suppressed, drop_suppressed_rejects

__all__ = ["ChildSpec", "FileProblem", "ParsedFile", "Reject", "TableSpec"]

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
        except CAST_ERRORS:
            _, bad = bisect_failures(
                n, lambda lo, hi, a=array, t=target.type: pc.cast(a.slice(lo, hi - lo), t)
            )
            mask = np.zeros(n, dtype=bool)
            for i, _ in bad:
                mask[i] = True
                reasons.setdefault(i, []).append(
                    f"column {target.name}: cannot read {value_shape(array[i].as_py())} "
                    f"as {target.type}"
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


def unique_key(table: pa.Table, keys: list[str]) -> bool:
    """No key repeats in `table` (keys are not null here: rows without one were rejected).

    A one-column key in strictly increasing order (an export sorted by id) is unique by a
    comparison of neighbours; otherwise by counting distinct values (a hash table of the keys,
    cheaper than grouping the rows, which is done only when a key does repeat)."""
    n = table.num_rows
    if len(keys) == 1:
        column = table.column(keys[0]).combine_chunks()
        if not column.null_count:
            try:
                if pc.all(pc.less(column.slice(0, n - 1), column.slice(1))).as_py():
                    return True
            except pa.ArrowNotImplementedError:  # a type without an order: count instead
                pass
        return len(pc.unique(column)) == n
    return table.select(keys).group_by(keys, use_threads=False).aggregate([]).num_rows == n


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
    if n < 2 or unique_key(table, keys):
        return np.arange(n), []
    index = pa.array(np.arange(n, dtype=np.int64))
    groups = table.select(keys).append_column("__row", index).group_by(keys, use_threads=False)
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


def parse_file(
    path: Path, fileset: FileSet, spec: TableSpec, cfg: TableConfig, source: str | None = None
) -> FileBatch:
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
    parsed.table, undecodable = _text.invalid_text_rows(parsed.table, parsed.encoding)
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
    links_of = spec.links(source)[spec.name] if source else NO_LINKS
    table, unsuppressed = drop_suppressed(table, spec.name, links_of)  # erased persons never land
    kept = kept[unsuppressed]
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


# Files each resource read in the current run, by source and table: errors of a failed load
# name these instead of dlt's internal job files. Cleared by the pipeline before each run.
FILES_READ: dict[str, dict[str, list[str]]] = {}


def _type_rejects(
    table_name: str, source_file: str, batch: FileBatch, reasons: dict[int, list[str]]
) -> pa.Table:
    rows = [
        Reject(
            int(batch.lines[i]),
            _row_as_json(batch.table, i),
            "; ".join(why),
            ", ".join(m.group(1) for r in why if (m := _COLUMN_REASON.match(r))) or None,
        )
        for i, why in sorted(reasons.items())
    ]
    return rejects_table(table_name, source_file, rows)


def rejected_hints() -> Any:
    return dlt.mark.make_hints(
        table_name=REJECTED_TABLE,
        write_disposition="append",
        primary_key=[],
        columns=ROW_ID_COLUMN,
    )


def run_disposition(
    spec: TableSpec, to_read: Sequence[str], state: dict[str, str], dedup_sort: str
) -> Any:
    """The hints of one run of an `append_only` table (None for the other tables: merge).

    Files seen the first time are appended: their keys are new by the table's declaration,
    so dlt's staging dataset and delete/insert on the key would change nothing. When the run
    re-reads a file already loaded (its fingerprint changed), its keys are in the table: the
    whole run merges on the key, newest first by the column `dedup_sort`, exactly as
    the other tables do. dlt warns about a `dedup_sort` left on an appended table: unset.
    """
    if not spec.append_only:
        return None
    reread = any(key in state for key in to_read)
    return dlt.mark.make_hints(
        write_disposition="merge" if reread else "append",
        columns={dedup_sort: {"name": dedup_sort, "dedup_sort": "desc" if reread else None}},
    )


def first_load_hints(never_loaded: bool, files: JobFiles, dedup_sort: str | None = None) -> Any:
    """Append hints for the first load of a merged table whose keys do not repeat in the run
    (None otherwise: merge). The table holds nothing yet and no key comes twice, so dlt's
    staging copy and delete/insert on the key would change nothing; the later runs, whose
    keys may be in the table, merge. Only when the run's rows go out in one file (`files`
    handed none to dlt yet): the hints ride on the first. dlt warns about a `dedup_sort` left
    on an appended table: unset for this run."""
    keys = files.keys_read() if never_loaded and not files.files_out else None
    if keys is None or not keys.num_rows or not unique_key(keys, keys.column_names):
        return None
    columns = {dedup_sort: {"name": dedup_sort, "dedup_sort": None}} if dedup_sort else None
    return dlt.mark.make_hints(write_disposition="append", columns=columns)


def with_first_hints(items: Iterator[Any], hints: Any) -> Iterator[Any]:
    """`items` with `hints` on the first imported file (dlt reads a run's write disposition
    on the table's first item)."""
    for item in items:
        if hints is not None and isinstance(getattr(item, "meta", None), ImportFileMeta):
            item.meta.hints, hints = hints, None
        yield item


class ParsedFiles:
    """The files of one table parsed in this run, shared by its parent and child resources.

    dlt takes one item from each resource in turn, and each reads one file per item (its rows
    go to the run's job files, so after each file it yields None, on which dlt moves to the
    next resource), so the parent and its children move through the files in step: the first
    to reach a file parses
    it, the others take the same batch instead of parsing the JSON again. A batch is dropped
    once every reader took it, and at most `keep` are held (a reader that falls behind parses
    for itself, as without this)."""

    def __init__(self, readers: int, keep: int = 2) -> None:
        self.readers, self.keep = readers, keep
        self._batches: OrderedDict[tuple[str, str], list[Any]] = OrderedDict()

    def get(self, key: tuple[str, str], parse: Callable[[], FileBatch]) -> FileBatch:
        entry = self._batches.get(key)
        if entry is None:
            batch = parse()
            if self.readers > 1:
                self._batches[key] = [batch, self.readers - 1]
                while len(self._batches) > self.keep:
                    self._batches.popitem(last=False)
            return batch
        entry[1] -= 1
        if not entry[1]:
            del self._batches[key]
        return entry[0]


def file_table_resource(
    source_name: str,
    spec: TableSpec,
    cfg: TableConfig,
    base_dir: Path,
    child: ChildSpec | None = None,
    parsed: ParsedFiles | None = None,
) -> DltResource:
    """A dlt resource loading one raw table from the files of `cfg`, incrementally by file.

    The resource state keeps `files: {relative path: "size:mtime_ns"}`; a file whose
    fingerprint is unchanged is skipped, a new or changed file is read again and merged on the
    primary key (newest `updated_at` wins inside one load, and a row older than the version
    already loaded is left out: `_stale.py`). An `append_only` table is appended instead in a
    run that reads only files seen the first time (`run_disposition`). The parent resource
    also writes the rejected rows and the unreadable-file records; a child resource reads the
    same files and yields only its `<parent>__<field>` table.
    """
    table_name = f"{spec.name}__{child.field}" if child else spec.name
    primary_key = list(child.primary_key) if child else list(cfg.primary_key)
    # Inside one load the newest version of a key wins: by `updated_at` where the table has
    # one, otherwise (and for child tables) by file name (monthly files sort chronologically).
    parent_cursor = bool(spec.cursor and spec.cursor in spec.schema.names)
    dedup_sort = spec.cursor if child is None and parent_cursor else SOURCE_FILE_COLUMN
    columns: dict[str, Any] = {
        dedup_sort: {"dedup_sort": "desc"},
        **ROW_ID_COLUMN,
        **LOAD_ID_COLUMN,
    }

    declared = {SOURCE_FILE_COLUMN, *flatten_structs(spec.schema.empty_table()).column_names}
    shared = parsed or ParsedFiles(readers=1)

    def load_files() -> Iterator[Any]:
        state = dlt.current.resource_state().setdefault("files", {})
        # the versions already loaded, read once per run (a late file's older rows left out)
        versions = (
            LoadedVersions(spec.name, [cfg.primary_key[0]] if child else primary_key, spec.cursor)
            if parent_cursor
            else None
        )
        seen: dict[str, pa.DataType] = {}  # undeclared columns' types met earlier in this run
        todo: list[tuple[Path, FileSet, str, str]] = []  # new and changed files
        for path, fileset in list_files(base_dir, cfg.files):
            key, stamp = path.relative_to(base_dir).as_posix(), fingerprint(path)
            if state.get(key) != stamp:
                todo.append((path, fileset, key, stamp))
        # the run's write disposition rides on the table's first item (dlt reads it there)
        first_hints = run_disposition(spec, [k for _, _, k, _ in todo], state, dedup_sort)

        if not todo:
            return
        never_loaded = not state  # no file of this table loaded before
        # the keys of a merged table are kept to tell whether its first load may append
        files = JobFiles(table_name, key=None if spec.append_only else primary_key)

        def own(items: Iterator[Any]) -> Iterator[Any]:
            nonlocal first_hints
            for item in items:
                if first_hints is not None and isinstance(
                    getattr(item, "meta", None), ImportFileMeta
                ):
                    item.meta.hints, first_hints = first_hints, None
                yield item

        try:
            yield from own(read_todo(todo, state, versions, seen, files))
            if first_hints is None:  # a merged table: its first load may append
                first_hints = first_load_hints(never_loaded, files, dedup_sort)
            yield from own(files.close())
        finally:
            files.discard()

    def read_todo(
        todo: list[tuple[Path, FileSet, str, str]],
        state: dict[str, str],
        versions: LoadedVersions | None,
        seen: dict[str, pa.DataType],
        files: JobFiles,
    ) -> Iterator[Any]:
        """Parse each new or changed file; its rows go to `files`, its rejects to dlt."""
        for path, fileset, key, stamp in todo:
            try:
                batch = shared.get(
                    (key, stamp), partial(parse_file, path, fileset, spec, cfg, source_name)
                )
            except (FileProblem, OSError, pa.ArrowException, ValueError) as exc:
                problem = f"unreadable file: {exc}"
                if child is None:
                    logger.warning("%s.%s: %s: %s", source_name, spec.name, path, problem)
                    yield dlt.mark.with_hints(
                        rejects_table(spec.name, path.name, [(None, None, problem)]),
                        rejected_hints(),
                        create_table_variant=True,
                    )
                state[key] = stamp
                continue
            FILES_READ.setdefault(source_name, {}).setdefault(table_name, []).append(path.name)
            if child is None:
                if batch.table.num_rows:
                    table, bad = pin_types(batch.table, declared, known_types(table_name, seen))
                    if bad:
                        batch.rejects = pa.concat_tables(
                            [batch.rejects, _type_rejects(spec.name, path.name, batch, bad)]
                        )
                        keep = np.ones(table.num_rows, dtype=bool)
                        keep[list(bad)] = False
                        table = table.filter(pa.array(keep))
                    seen.update({f.name: f.type for f in table.schema if f.name not in declared})
                    if versions is not None:  # a late file never puts back an older version
                        table = keep_newer(versions, table, path.name)
                    yield from files.add(add_row_ids(table))
                # erased persons' bad rows are not quarantined either
                batch.rejects = drop_suppressed_rejects(batch.rejects, spec.links(source_name))
                if batch.rejects.num_rows:
                    logger.warning(
                        "%s.%s: %s: %d row(s) rejected",
                        source_name,
                        spec.name,
                        path.name,
                        batch.rejects.num_rows,
                    )
                    yield dlt.mark.with_hints(
                        batch.rejects, rejected_hints(), create_table_variant=True
                    )
            else:
                child_table = batch.children.get(table_name)
                if child_table is not None and child_table.num_rows and versions is not None:
                    child_table = items_of_newer(
                        child_table, child.parent_key, batch.table, versions
                    )
                if child_table is not None and child_table.num_rows:
                    yield from files.add(add_row_ids(child_table))
            state[key] = stamp
            if shared.readers > 1:
                yield None  # dlt moves on to the table's other resources: they take this batch

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
        with_row_ids(load_files),
        name=table_name,
        table_name=table_name,
        write_disposition="append" if spec.append_only else "merge",
        primary_key=primary_key,
        columns=columns,
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
        parsed = ParsedFiles(readers=1 + len(spec.children))
        resources.append(file_table_resource(source_name, spec, cfg, base_dir, parsed=parsed))
        for child in spec.children:
            resources.append(
                file_table_resource(source_name, spec, cfg, base_dir, child, parsed=parsed)
            )
    return resources


def file_source(name: str, specs: Sequence[TableSpec], what: str) -> Any:
    """The dlt source `name` of a file source package: its enabled `specs` under `base_dir`
    (`what` the files are, for its docstring).

    Each file source package declares its tables and calls this once, so the signature the
    pipeline calls (`base_dir`, `tables`: the `sources.<name>.tables` section of
    config/sources.yaml) and the config section (`sources.<name>`) are the same for all.
    """

    def source(base_dir: Path, tables: dict[str, TableConfig]) -> list[DltResource]:
        return file_source_resources(name, specs, tables, Path(base_dir))

    source.__name__ = source.__qualname__ = name
    source.__doc__ = f"{what} under `base_dir` (default `<landing>/{name}`)."
    return dlt.source(name=name, section=name, schema_contract=SCHEMA_CONTRACT)(source)
