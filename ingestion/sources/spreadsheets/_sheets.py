"""Reading hand-kept sheets: every sheet of a workbook, cached formula values, merged cells.

Spreadsheets are small files kept by hand, so cells are read row by row (openpyxl, the csv
module); the caller turns the rows into one Arrow table per file.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingestion.config import FileSet
from ingestion.sources._common import FileProblem, Reject
from ingestion.sources._text import decode, detect_encoding

Row = tuple[int, list[Any]]


@dataclass
class Sheet:
    """One sheet's rows as (line, cells) with what reading it found."""

    name: str | None
    rows: list[Row]
    encoding: str = "utf-8"
    notes: list[Reject] = field(default_factory=list)  # warn: about rows that loaded
    rejects: dict[int, str] = field(default_factory=dict)  # line -> why its row is rejected


def _note(sheet: str, text: str) -> Reject:
    return Reject(None, None, f"sheet {sheet}: {text}", None, "warn")


def _expand_merged(worksheet: Any, mode: str) -> tuple[dict[int, str], int]:
    """Expand merged data cells in place; returns the rejected lines and the expanded count.

    A range inside one column (one value typed for several rows, e.g. the event name) is
    copied to every row, or its rows rejected when the file set says `merged_cells: reject`.
    A range over several columns and rows mixes fields: its rows are rejected. A range in one
    row (a title or header spanning columns) is left alone: the header finder skips gaps.
    """
    rejects: dict[int, str] = {}
    expanded = 0
    for merged in list(worksheet.merged_cells.ranges):
        if merged.min_row == merged.max_row:
            continue
        span = merged.coord
        if merged.min_col != merged.max_col or mode == "reject":
            for line in range(merged.min_row, merged.max_row + 1):
                rejects[line] = f"merged cells {span}: the value belongs to no single row"
            continue
        value = worksheet.cell(merged.min_row, merged.min_col).value
        worksheet.unmerge_cells(span)
        for line in range(merged.min_row, merged.max_row + 1):
            worksheet.cell(line, merged.min_col).value = value
        expanded += 1
    return rejects, expanded


def xlsx_sheets(path: Path, fileset: FileSet) -> list[Sheet]:
    """Every configured sheet (default: all), from cached values, formulas reported.

    Excel saves the last computed value of a formula with it; that value is read and the
    formulas are counted in a note. A formula with no cached value (a file written by a
    program that never computed it) rejects its row: the value is unknown.
    """
    from openpyxl import load_workbook

    try:
        values = load_workbook(path, data_only=True)
        formulas = load_workbook(path, data_only=False)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException ...
        raise FileProblem(f"cannot open as xlsx: {type(exc).__name__}: {exc}") from exc
    missing = [name for name in fileset.sheets if name not in values.sheetnames]
    if missing:
        raise FileProblem(f"sheet(s) {missing} not found (sheets: {values.sheetnames})")
    sheets = []
    for name in fileset.sheets or values.sheetnames:
        worksheet = values[name]
        rejects, expanded = _expand_merged(worksheet, fileset.merged_cells)
        sheet = Sheet(name, [], rejects=rejects)
        cached = 0
        rows = worksheet.iter_rows(values_only=True)
        for line, (row, raw) in enumerate(zip(rows, formulas[name].iter_rows(), strict=False), 1):
            cells = list(row)
            for k, cell in enumerate(raw):
                if cell.data_type != "f" or k >= len(cells):
                    continue
                if cells[k] is None:
                    rejects[line] = f"formula in {cell.coordinate} has no cached value"
                else:
                    cached += 1
            sheet.rows.append((line, cells))
        if cached:
            sheet.notes.append(_note(name, f"{cached} formula cell(s) read as their cached value"))
        if expanded:
            sheet.notes.append(_note(name, f"{expanded} merged range(s) copied to every row"))
        sheets.append(sheet)
    return sheets


def csv_sheet(path: Path, fileset: FileSet) -> Sheet:
    """A `;` CSV export as one sheet, in the encoding detected for the file."""
    data = path.read_bytes()
    if not data.strip():
        raise FileProblem("empty file")
    encoding = detect_encoding(data, fileset.encoding)
    text = decode(data, encoding).lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=fileset.delimiter)
    rows: list[Row] = []
    start = 1
    for row in reader:
        rows.append((start, row))
        start = reader.line_num + 1
    return Sheet(None, rows, encoding=encoding)
