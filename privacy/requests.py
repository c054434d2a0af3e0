"""`privacy.requests`: every data-subject request, its deadline and the outcome of each step.

A request holds the salted hashes of the subject's identifiers (privacy/subjects.py), never
the values. Due 30 days after receipt (GDPR art. 12(3)); an open request past its due date
fails the `privacy_requests_on_time` check. Requests come from `cdp privacy request` and from
CSV files a service desk drops in `<landing>/privacy_requests/` (columns `kind`, `email`,
`phone`, `person_id`, optional `received_at`); such a file is deleted once its rows are
recorded, since it holds the identifiers in clear.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from privacy.schema import REQUESTS, ensure_schema
from privacy.subjects import Subject, salt

TABLE = REQUESTS
KINDS = ("access", "erase", "suppress", "unsuppress")
OPEN = ("pending", "failed")  # failed steps are tried again on the next run
DUE_AFTER = dt.timedelta(days=30)
LANDING_FOLDER = "privacy_requests"
LANDING_COLUMNS = ("kind", "email", "phone", "person_id", "received_at")


@dataclass
class Request:
    request_id: str
    kind: str
    subject: Subject
    received_at: dt.datetime
    status: str = "pending"
    steps: dict[str, Any] | None = None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def record(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    subject: Subject | None,
    source: str,
    received_at: dt.datetime | None = None,
    request_id: str | None = None,
    note: str | None = None,
) -> str:
    """Insert one request (idempotent on `request_id`); a None subject records it rejected."""
    if kind not in KINDS and subject is not None:
        raise ValueError(f"unknown request kind {kind!r}; one of {', '.join(KINDS)}")
    ensure_schema(con)
    request_id = request_id or f"req-{uuid.uuid4().hex[:16]}"
    received = received_at or _now()
    con.execute(
        f"""INSERT INTO {TABLE} SELECT ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?
            WHERE NOT EXISTS (SELECT 1 FROM {TABLE} WHERE request_id = ?)""",
        [
            request_id,
            kind,
            subject.stored() if subject else [],
            source,
            received,
            received + DUE_AFTER,
            "pending" if subject else "rejected",
            None if subject else _now(),
            note,
            request_id,
        ],
    ).fetchall()
    return request_id


def open_requests(con: duckdb.DuckDBPyConnection) -> list[Request]:
    ensure_schema(con)
    rows = con.execute(
        f"""SELECT request_id, kind, subject, received_at, status, steps FROM {TABLE}
            WHERE status IN {OPEN} ORDER BY received_at, request_id"""
    ).fetchall()
    return [
        Request(r[0], r[1], Subject.from_stored(list(r[2])), r[3], r[4], json.loads(r[5] or "{}"))
        for r in rows
    ]


def finish(con: duckdb.DuckDBPyConnection, request_id: str, steps: dict[str, Any]) -> str:
    """Store the steps' outcomes; the request is done when every step is."""
    ok = all(s.get("status") == "done" for s in steps.values())
    status = "done" if ok else "failed"
    con.execute(
        f"UPDATE {TABLE} SET steps = ?, status = ?, completed_at = ? WHERE request_id = ?",
        [json.dumps(steps), status, _now() if ok else None, request_id],
    ).fetchall()
    return status


def overdue(con: duckdb.DuckDBPyConnection, now: dt.datetime | None = None) -> pd.DataFrame:
    """Open requests past their due date (request ids and dates only)."""
    ensure_schema(con)
    return con.execute(
        f"""SELECT request_id, kind, received_at, due_at, status FROM {TABLE}
            WHERE status IN {OPEN} AND due_at < ? ORDER BY due_at""",
        [now or _now()],
    ).df()


def listing(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    ensure_schema(con)
    return con.execute(
        f"""SELECT request_id, kind, source, received_at, due_at, status, completed_at, note
            FROM {TABLE} ORDER BY received_at DESC"""
    ).df()


def _received(value: Any, fallback: dt.datetime) -> dt.datetime:
    if value is None or pd.isna(value) or not str(value).strip():
        return fallback
    stamp = pd.Timestamp(str(value))
    return (stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp).to_pydatetime()


def take_landing(con: duckdb.DuckDBPyConnection, landing_dir: Path) -> dict[str, int]:
    """Record the rows of every `privacy_requests/*.csv`, then delete the file.

    A row without a valid identifier or kind is recorded `rejected` with the reason (no value
    in it), so the service desk sees it in `cdp privacy requests`. Returns counts.
    """
    counts = {"files": 0, "recorded": 0, "rejected": 0}
    folder = landing_dir / LANDING_FOLDER
    if not folder.is_dir():
        return counts
    secret = salt()
    for path in sorted(folder.glob("*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        unknown = sorted(set(frame.columns) - set(LANDING_COLUMNS))
        file_received = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
        for i, row in enumerate(frame.to_dict(orient="records")):
            line = i + 2  # the header is line 1
            source = f"landing:{path.name}:{line}"
            request_id = "req-" + hashlib.sha256(f"{secret}|{source}".encode()).hexdigest()[:16]
            kind = str(row.get("kind", "")).strip().lower()
            try:
                if unknown:
                    raise ValueError(f"unknown column(s) {', '.join(unknown)}")
                if kind not in KINDS:
                    raise ValueError(f"kind must be one of {', '.join(KINDS)}")
                subject = Subject.from_values(
                    row.get("email") or None,
                    row.get("phone") or None,
                    row.get("person_id") or None,
                    secret,
                )
                received = _received(row.get("received_at"), file_received)
            except ValueError as exc:
                record(con, kind or "unknown", None, source, request_id=request_id, note=str(exc))
                counts["rejected"] += 1
                continue
            record(con, kind, subject, source, received, request_id)
            counts["recorded"] += 1
        path.unlink()
        counts["files"] += 1
    return counts
