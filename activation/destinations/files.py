"""Shared CSV writing for file destinations: UTF-8 without BOM, header row, atomic names.

Text cells that a spreadsheet would run as a formula (starting with `= + - @`, a tab or a
carriage return) are written with a leading `'` (OWASP CSV injection); a plain number such as
an E.164 phone `+33612345678` or `-12.5` cannot be a formula and is kept as it is.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else neutralise(v) for v in row])
    return buf.getvalue().encode("utf-8")  # plain utf-8: no BOM


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


def neutralise(value: Any) -> Any:
    """A text cell a spreadsheet would evaluate gets a leading quote; numbers pass."""
    formula = isinstance(value, str) and value.startswith(_FORMULA_START)
    return "'" + value if formula and not _PLAIN_NUMBER.fullmatch(value) else value


def cell(value: Any) -> Any:
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def batch_file_name(prefix: str, batch_id: str, kind: str) -> str:
    """One file per journal batch: a batch sent again (a retry, the resume of an
    interrupted run) rewrites the same file instead of dropping a second copy."""
    return f"{prefix}_{batch_id}_{kind}.csv"


def temporary_name(name: str) -> str:
    """Where a batch's file is written before it is renamed into place."""
    return f".{name}.tmp"


def receipt_name(name: str) -> str:
    """The drop's receipt, written after the temporary file and before the rename.

    A file drop cannot be asked what it holds: its reader may already have taken and deleted
    the file. The receipt and the temporary file tell it instead. Receipt present and temporary
    file gone: the rename happened, so the file was delivered (and perhaps consumed) and a
    resumed batch must not be dropped again. Anything else: the rename did not happen, so the
    batch is written again under the same name. The receipt is deleted once the warehouse has
    recorded the batch (`Destination.committed`); it holds no personal data.
    """
    return f".{name}.sent"


def receipt_text(batch_id: str, rows: int) -> bytes:
    return f"batch {batch_id}: {rows} rows\n".encode()


def drop_kind(op: str, upsert_kind: str) -> str:
    """The file kind a journal operation is written as (`remove` files list removals)."""
    return "remove" if op == "remove" else upsert_kind
