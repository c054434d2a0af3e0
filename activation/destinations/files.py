"""Shared CSV writing for file destinations: UTF-8 without BOM, header row, atomic names."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buf.getvalue().encode("utf-8")  # plain utf-8: no BOM


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
