"""File readers: JSON lines, CSV and Parquet into Arrow, bad rows isolated with their lines.

Row isolation uses bisection: a block that fails to parse or cast is split in halves until the
failing rows are alone, so a file with k bad rows costs O(k log n) Arrow calls instead of
per-row Python.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ingestion.config import FileSet
from ingestion.sources import _text
from ingestion.sources._model import CAST_ERRORS, FileProblem, ParsedFile, Reject

_ROW_SUFFIX = re.compile(r" in row \d+$")  # pyarrow's block-relative row, meaningless here


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
        except CAST_ERRORS as exc:
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
        except CAST_ERRORS as exc:
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
            rejects += _quote_rejects(int(starts[at]), head, swallowed, None)

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
                rejects += _quote_rejects(int(numbers[i]), head, swallowed, name)
                break
    if not keep.all():
        table, numbers = table.filter(pa.array(keep)), numbers[keep]
    note = delimiter_note(names, delimiter)
    return ParsedFile(table, numbers, rejects, raw_text, header_note=note, encoding=encoding)


def _quote_rejects(line: int, head: str, swallowed: list[str], column: str | None) -> list[Reject]:
    """One reject for the row opening an unclosed quote and one per line it swallowed."""
    where = f" in column {column}" if column else ""
    span = f"lines {line + 1}-{line + len(swallowed)}"
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
