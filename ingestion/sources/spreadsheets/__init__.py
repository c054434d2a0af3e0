"""Event sign-up lists kept by hand: xlsx workbooks and Latin-1 `;` CSV exports.

Raw table `raw_spreadsheets.event_signups`: the canonical columns `last_name, first_name,
email, phone, birth_date, postcode, city, event_name, event_date` (all text), plus
`source_file` and `source_row` (1-based data row after the header; the primary key).

The header row is found among the first rows of the sheet by matching the configured
`column_mapping` (case, accents and punctuation ignored), so a title row above the header
(often a merged cell) is skipped and columns may come in any order. Header cells left empty by
a merged range are ignored; unknown headers are kept as extra snake_case columns (schema
evolution). Excel dates become `YYYY-MM-DD`, numbers stored as numbers become their digits.
Spreadsheets are small hand-kept files, so cells are read row by row (openpyxl read-only, the
csv module) and turned into one Arrow table per file.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import dlt
import numpy as np
import pyarrow as pa
from dlt.extract.resource import DltResource

from ingestion.config import FileSet, TableConfig, normalise_header
from ingestion.sources._common import (
    SCHEMA_CONTRACT,
    FileProblem,
    ParsedFile,
    TableSpec,
    file_source_resources,
)

CANONICAL = (
    "last_name",
    "first_name",
    "email",
    "phone",
    "birth_date",
    "postcode",
    "city",
    "event_name",
    "event_date",
)
HEADER_SCAN_ROWS = 20


def _cell_text(value: Any) -> str | None:
    """One cell as text: dates ISO, integral numbers without `.0`, blanks as NULL."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def _xlsx_rows(path: Path, sheet: str | None) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException ...
        raise FileProblem(f"cannot open as xlsx: {type(exc).__name__}: {exc}") from exc
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise FileProblem(f"sheet {sheet!r} not found (sheets: {workbook.sheetnames})")
        worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
        worksheet.reset_dimensions()
        for number, row in enumerate(worksheet.iter_rows(values_only=True), start=1):
            yield number, list(row)
    finally:
        workbook.close()


def _csv_rows(path: Path, fileset: FileSet) -> Iterator[tuple[int, list[Any]]]:
    if path.stat().st_size == 0:
        raise FileProblem("empty file")
    try:
        with path.open(encoding=fileset.encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=fileset.delimiter)
            start = 1
            for row in reader:
                yield start, row
                start = reader.line_num + 1
    except UnicodeDecodeError as exc:
        raise FileProblem(f"not valid {fileset.encoding}: {exc}") from exc


def _snake(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", normalise_header(text)).strip("_")


def read_signups(path: Path, fileset: FileSet, spec: TableSpec, cfg: TableConfig) -> ParsedFile:
    """Read one sign-up sheet (xlsx or CSV) into the canonical columns."""
    rows = _xlsx_rows(path, fileset.sheet) if fileset.format == "xlsx" else _csv_rows(path, fileset)
    wanted = {normalise_header(k): v for k, v in cfg.column_mapping.items()}
    wanted.update({normalise_header(c): c for c in CANONICAL})
    head = list(islice(rows, HEADER_SCAN_ROWS))
    if not head:
        raise FileProblem("empty file")
    scores = [sum(normalise_header(c) in wanted for c in row if c is not None) for _, row in head]
    best = int(np.argmax(scores))
    if scores[best] == 0:
        raise FileProblem(
            f"no header row found in the first {HEADER_SCAN_ROWS} rows "
            f"(expected headers such as {sorted(cfg.column_mapping)[:3]})"
        )
    _, header = head[best]
    names: list[str | None] = []
    for cell in header:
        text = _cell_text(cell)
        names.append(None if text is None else wanted.get(normalise_header(text), _snake(text)))
    width = len(names)
    columns: dict[str, list[str | None]] = {n: [] for n in names if n}
    for name in CANONICAL:
        columns.setdefault(name, [])
    source_rows: list[int] = []
    numbers: list[int] = []
    rejects: list[tuple[int | None, str | None, str]] = []
    data_row = 0
    for line, row in [*head[best + 1 :], *rows]:
        data_row += 1
        cells = [_cell_text(v) for v in row]
        if not any(cells):
            continue
        extra = [c for c in cells[width:] if c is not None]
        if extra and fileset.format == "csv":
            rejects.append(
                (
                    line,
                    fileset.delimiter.join(c or "" for c in cells),
                    f"wrong column count: expected {width}, got {len(cells)}",
                )
            )
            continue
        cells = (cells + [None] * width)[:width]
        for name in columns:
            columns[name].append(None)
        for name, value in zip(names, cells, strict=True):
            if name:
                columns[name][-1] = value
        source_rows.append(data_row)
        numbers.append(line)
    table = pa.table(
        {
            **{name: pa.array(values, pa.string()) for name, values in columns.items()},
            "source_file": pa.array([path.name] * len(source_rows), pa.string()),
            "source_row": pa.array(source_rows, pa.int64()),
        }
    )
    return ParsedFile(table, np.array(numbers, dtype=np.int64), rejects)


EVENT_SIGNUPS = TableSpec(
    name="event_signups",
    description="Hand-kept event sign-up rows, keyed by (`source_file`, `source_row`).",
    schema=pa.schema(
        [(name, pa.string()) for name in CANONICAL]
        + [("source_file", pa.string()), ("source_row", pa.int64())]
    ),
    cursor=None,
    reader=read_signups,
)

TABLES = (EVENT_SIGNUPS,)


@dlt.source(name="spreadsheets", schema_contract=SCHEMA_CONTRACT)
def spreadsheets(base_dir: Path, tables: dict[str, TableConfig]) -> list[DltResource]:
    """The sign-up workbooks and CSV exports under `base_dir` (default `<landing>/spreadsheets`)."""
    return file_source_resources("spreadsheets", TABLES, tables, Path(base_dir))
