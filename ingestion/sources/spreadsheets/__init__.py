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

import datetime as dt
import re
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from ingestion.config import FileSet, TableConfig, normalise_header
from ingestion.sources._common import (
    FileProblem,
    ParsedFile,
    Reject,
    TableSpec,
    file_source,
)
from ingestion.sources._text import header_problem
from ingestion.sources.spreadsheets._sheets import Row, csv_sheet, xlsx_sheets

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


def _snake(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", normalise_header(text)).strip("_")


def _find_header(rows: list[Row], wanted: dict[str, str]) -> int | None:
    head = rows[:HEADER_SCAN_ROWS]
    scores = [sum(normalise_header(c) in wanted for c in row if c is not None) for _, row in head]
    if not scores or max(scores) == 0:
        return None
    return int(np.argmax(scores))


class _Columns:
    """The canonical columns being filled, row by row, from one or more sheets."""

    def __init__(self) -> None:
        self.values: dict[str, list[str | None]] = {name: [] for name in CANONICAL}
        self.files: list[str] = []
        self.rows: list[int] = []
        self.lines: list[int] = []

    def add(self, names: list[str | None], cells: list[str | None], label: str, row: int) -> None:
        for name in names:
            if name and name not in self.values:
                self.values[name] = [None] * len(self.rows)
        for values in self.values.values():
            values.append(None)
        for name, value in zip(names, cells, strict=True):
            if name:
                self.values[name][-1] = value
        self.files.append(label)
        self.rows.append(row)

    def table(self) -> pa.Table:
        return pa.table(
            {
                **{n: pa.array(v, pa.string()) for n, v in self.values.items()},
                "source_file": pa.array(self.files, pa.string()),
                "source_row": pa.array(self.rows, pa.int64()),
            }
        )


def read_signups(path: Path, fileset: FileSet, spec: TableSpec, cfg: TableConfig) -> ParsedFile:
    """Read one sign-up file (every sheet of a workbook, or a CSV) into the canonical columns.

    Rows of a workbook's second and later sheets carry `<file>!<sheet>` (Excel's notation) in
    `source_file`, so the key (`source_file`, `source_row`) stays unique. A sheet without a
    header row (notes, a pivot) is skipped with a note; a file without any is rejected.
    """
    wanted = {normalise_header(k): v for k, v in cfg.column_mapping.items()}
    wanted.update({normalise_header(c): c for c in CANONICAL})
    sheets = xlsx_sheets(path, fileset) if fileset.format == "xlsx" else [csv_sheet(path, fileset)]
    out = _Columns()
    rejects: list[Reject] = []
    notes: list[Reject] = []
    read = 0
    for sheet in sheets:
        best = _find_header(sheet.rows, wanted)
        if best is None:
            if sheet.rows and len(sheets) > 1:
                notes.append(
                    Reject(None, None, f"sheet {sheet.name}: no header row, not read", None, "warn")
                )
            continue
        header = [_cell_text(c) for c in sheet.rows[best][1]]
        problem = header_problem([h or "" for h in header], sheet.encoding, ())
        if problem:
            raise FileProblem(f"sheet {sheet.name}: {problem}" if sheet.name else problem)
        notes += sheet.notes
        label = f"{path.name}!{sheet.name}" if read else path.name
        read += 1
        names = [None if h is None else wanted.get(normalise_header(h), _snake(h)) for h in header]
        width = len(names)
        for data_row, (line, row) in enumerate(sheet.rows[best + 1 :], start=1):
            cells = [_cell_text(v) for v in row]
            if not any(cells):
                continue
            raw = fileset.delimiter.join(c or "" for c in cells)
            if line in sheet.rejects:
                where = f"sheet {sheet.name}: " if len(sheets) > 1 else ""
                rejects.append(Reject(line, raw, where + sheet.rejects[line]))
                continue
            if fileset.format == "csv" and any(c is not None for c in cells[width:]):
                reason = f"wrong column count: expected {width}, got {len(cells)}"
                rejects.append(Reject(line, raw, reason))
                continue
            out.add(names, (cells + [None] * width)[:width], label, data_row)
            out.lines.append(line)
    if not read:
        if not any(s.rows for s in sheets):
            raise FileProblem("empty file")
        raise FileProblem(
            f"no header row found in the first {HEADER_SCAN_ROWS} rows "
            f"(expected headers such as {sorted(cfg.column_mapping)[:3]})"
        )
    lines = np.array(out.lines, dtype=np.int64)
    return ParsedFile(out.table(), lines, rejects, encoding=sheets[0].encoding, notes=notes)


EVENT_SIGNUPS = TableSpec(
    name="event_signups",
    description="Hand-kept event sign-up rows, keyed by (`source_file`, `source_row`).",
    schema=pa.schema(
        [(name, pa.string()) for name in CANONICAL]
        + [("source_file", pa.string()), ("source_row", pa.int64())]
    ),
    cursor=None,
    reader=read_signups,
    records=(("spreadsheet", ("source_file", "source_row")),),
)

TABLES = (EVENT_SIGNUPS,)


spreadsheets = file_source("spreadsheets", TABLES, "The sign-up workbooks and CSV exports")
